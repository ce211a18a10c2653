/* `ccompose events`: the project's container events as the engine reports them, one line each in
 * docker compose's format ("2026-12-02 16:00:00.000000 container start <id> (image=...,
 * name=...)"), or one JSON object a line with --json, until Ctrl-C. The events come through the
 * scheduler's subscription (sched_events), which subscribes again from the last event's time when
 * the engine ends the stream (a restart of dockerd), so none is missed or printed twice. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "cli/run.h"

struct events_cmd {
    bool json;
    char *const *services;
    int n_services;
    bool done;
    struct cc_error err;
    struct sched_op *op;
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void on_event(json_t *ev, void *data)
{
    struct events_cmd *e = data;
    json_t *attrs = json_object_get(json_object_get(ev, "Actor"), "Attributes");
    const char *service = json_string_value(json_object_get(attrs, "com.docker.compose.service"));
    if (!service || !cli_service_selected(service, e->services, e->n_services))
        return;
    const char *action = json_string_value(json_object_get(ev, "Action"));
    const char *id = json_string_value(json_object_get(json_object_get(ev, "Actor"), "ID"));
    long long nanos = json_integer_value(json_object_get(ev, "timeNano"));
    time_t secs = (time_t)(nanos / 1000000000);
    struct tm tm;
    localtime_r(&secs, &tm);
    char when[64];
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
    if (e->json) {
        char iso[64];
        strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S", &tm);
        char *t = xasprintf("%s.%06lld", iso, (nanos % 1000000000) / 1000);
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O}", "time", t, "type", "container",
                              "action", action ? action : "", "id", id ? id : "", "service",
                              service, "attributes", attrs ? attrs : json_object());
        char *line = json_dumps(o, JSON_COMPACT);
        printf("%s\n", line);
        free(line);
        json_decref(o);
        free(t);
    } else {
        size_t n = json_object_size(attrs), k = 0;
        char **kv = xcalloc(n + 1, sizeof(*kv));
        const char *key;
        json_t *v;
        json_object_foreach(attrs, key, v)
        {
            kv[k++] = xasprintf("%s=%s", key, json_string_value(v) ? json_string_value(v) : "");
        }
        qsort(kv, k, sizeof(*kv), cmp_str);
        printf("%s.%06lld container %s %s (", when, (nanos % 1000000000) / 1000,
               action ? action : "", id ? id : "");
        for (size_t i = 0; i < k; i++) {
            printf("%s%s", i ? ", " : "", kv[i]);
            free(kv[i]);
        }
        printf(")\n");
        free(kv);
    }
    fflush(stdout);
}

static void on_end(const struct cc_error *err, void *data)
{
    struct events_cmd *e = data;
    e->done = true;
    e->op = NULL;
    if (err && err->kind != CC_ERR_CANCELLED)
        cc_error_copy(&e->err, err);
}

static void on_interrupt(int count, void *data)
{
    (void)count;
    struct events_cmd *e = data;
    if (e->op)
        sched_op_cancel(e->op);
}

static void usage(FILE *out)
{
    fprintf(out, "Usage:  ccompose events [OPTIONS] [SERVICE...]\n\n"
                 "Receive real time events from containers\n\n"
                 "Options:\n"
                 "      --json   Output events as a stream of json objects\n");
}

static int events_run(struct cli_context *ctx, int argc, char **argv)
{
    struct events_cmd e = {.err = CC_ERROR_INIT};
    const char *project = NULL;
    struct compose_project *model = NULL;
    struct engine_client *client = NULL;
    struct cli_interrupt intr;
    bool intr_on = false;
    int code = cli_bool_flag_parse(argc, argv, "json", &e.json, usage);
    if (code >= 0)
        goto out;
    code = CLI_EXIT_OK;
    e.services = argv + optind;
    e.n_services = argc - optind;
    if ((code = cli_project_resolve(ctx, e.services, e.n_services, false, &project, &model)) ||
        (code = cli_engine_open(ctx, &client)))
        goto out;
    if (!(e.op = sched_events(ctx->loop, client, project, on_event, NULL, on_end, &e, &e.err))) {
        cli_error_print(&e.err);
        code = cli_exit_for_error(&e.err);
        goto out;
    }
    cli_interrupt_start(ctx->loop, &intr, on_interrupt, &e);
    intr_on = true;
    while (!e.done && uv_run(ctx->loop, UV_RUN_ONCE))
        ;
    if (e.err.kind != CC_ERR_NONE) {
        cli_error_print(&e.err);
        code = cli_exit_for_error(&e.err);
    }
out:
    if (intr_on)
        cli_interrupt_stop(&intr);
    engine_client_free(client);
    uv_run(ctx->loop, UV_RUN_DEFAULT);
    compose_project_free(model);
    cc_error_release(&e.err);
    return code;
}

const struct cli_command cli_cmd_events = {
    .name = "events",
    .summary = "Receive real time events from containers",
    .run = events_run,
};
