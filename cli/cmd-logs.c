/* `ccompose logs`: the output of the project's containers (or the named services'), one line at a
 * time with docker compose's "web-1  | " prefixes, through the log multiplexer (cli/logs.c). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/run.h"

struct logs_cmd {
    struct cli_logs *logs;
    bool done;
};

static void on_exit_note(const char *label, const char *service, int exit_code, void *data)
{
    (void)service;
    struct logs_cmd *l = data;
    if (exit_code >= 0)
        cli_logs_note(l->logs, "%s exited with code %d", label, exit_code);
}

static void on_idle(void *data)
{
    struct logs_cmd *l = data;
    l->done = true;
}

static void on_interrupt(int count, void *data)
{
    (void)count;
    struct logs_cmd *l = data;
    cli_logs_cancel(l->logs);
}

static void usage(FILE *out)
{
    fprintf(out, "Usage:  ccompose logs [OPTIONS] [SERVICE...]\n\n"
                 "View output from containers\n\n"
                 "Options:\n"
                 "  -f, --follow          Follow log output\n"
                 "      --no-color        Produce monochrome output\n"
                 "      --no-log-prefix   Don't print prefix in logs\n"
                 "      --since string    Show logs since timestamp (e.g. 2013-01-02T13:23:37Z)\n"
                 "                        or relative (e.g. 42m for 42 minutes)\n"
                 "  -n, --tail string     Number of lines to show from the end of the logs for\n"
                 "                        each container (default \"all\")\n"
                 "  -t, --timestamps      Show timestamps\n"
                 "      --until string    Show logs before a timestamp (e.g.\n"
                 "                        2013-01-02T13:23:37Z) or relative (e.g. 42m for 42\n"
                 "                        minutes)\n");
}

static int logs_run(struct cli_context *ctx, int argc, char **argv)
{
    enum { OPT_NO_COLOR = 256, OPT_NO_PREFIX, OPT_SINCE, OPT_UNTIL };
    static const struct option options[] = {
        {"follow", no_argument, NULL, 'f'},
        {"no-color", no_argument, NULL, OPT_NO_COLOR},
        {"no-log-prefix", no_argument, NULL, OPT_NO_PREFIX},
        {"since", required_argument, NULL, OPT_SINCE},
        {"tail", required_argument, NULL, 'n'},
        {"timestamps", no_argument, NULL, 't'},
        {"until", required_argument, NULL, OPT_UNTIL},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cli_logs_options lo = {.no_color = !cli_color_enabled(ctx, stdout)};
    char *since = NULL, *until = NULL;
    const char *project = NULL;
    struct compose_project *model = NULL;
    struct engine_client *client = NULL;
    struct sched_observed *observed = NULL;
    struct logs_cmd l = {0};
    struct cli_interrupt intr;
    bool intr_on = false;
    int c, code = CLI_EXIT_OK;
    while ((c = cli_getopt_long(argc, argv, "fn:th", options, NULL)) != -1) {
        switch (c) {
        case 'f':
            lo.follow = true;
            break;
        case OPT_NO_COLOR:
            lo.no_color = true;
            break;
        case OPT_NO_PREFIX:
            lo.no_prefix = true;
            break;
        case OPT_SINCE:
        case OPT_UNTIL: {
            char **slot = c == OPT_SINCE ? &since : &until;
            free(*slot);
            if (!(*slot = cli_log_time(optarg))) {
                fprintf(stderr,
                        "error: %s takes a timestamp (2013-01-02T13:23:37Z) or a "
                        "duration (42m), not '%s'\n",
                        c == OPT_SINCE ? "--since" : "--until", optarg);
                code = CLI_EXIT_USAGE;
                goto out;
            }
            break;
        }
        case 'n': {
            int n;
            if (strcmp(optarg, "all") && cli_parse_count("--tail", optarg, 1 << 30, &n) < 0) {
                code = CLI_EXIT_USAGE;
                goto out;
            }
            lo.tail = optarg;
            break;
        }
        case 't':
            lo.timestamps = true;
            break;
        case 'h':
            usage(stdout);
            goto out;
        default:
            code = CLI_EXIT_USAGE;
            goto out;
        }
    }
    char *const *services = argv + optind;
    int n_services = argc - optind;
    lo.since = since;
    lo.until = until;
    if ((code = cli_project_resolve(ctx, services, n_services, false, &project, &model)) ||
        (code = cli_engine_open(ctx, &client)) ||
        (code = cli_observe_containers(ctx, client, project, &observed)))
        goto out;
    l.logs = cli_logs_new(client, stdout, &lo, on_exit_note, on_idle, &l);
    /* -f follows what starts later too (restarts, recreations): subscribed before the first
     * stream, so no start is missed. */
    if (lo.follow) {
        struct cc_error err = CC_ERROR_INIT;
        if (cli_logs_watch(l.logs, ctx->loop, project, (const char *const *)services,
                           n_services, &err) < 0) {
            cli_error_print(&err);
            code = cli_exit_for_error(&err);
        }
        cc_error_release(&err);
    }
    char **labels = xcalloc(observed->n_containers + 1, sizeof(*labels));
    for (size_t i = 0; i < observed->n_containers; i++) {
        const struct sched_observed_container *ct = &observed->containers[i];
        if (!ct->oneoff && cli_service_selected(ct->service, services, n_services))
            cli_logs_reserve(l.logs, labels[i] = cli_container_label(project, ct));
    }
    size_t streams = 0;
    for (size_t i = 0; i < observed->n_containers && code == 0; i++) {
        struct cc_error err = CC_ERROR_INIT;
        if (!labels[i])
            continue;
        if (cli_logs_add(l.logs, observed->containers[i].id, labels[i],
                         observed->containers[i].service, NULL, &err)) {
            streams++;
        } else {
            cli_error_print(&err);
            code = cli_exit_for_error(&err);
        }
        cc_error_release(&err);
    }
    for (size_t i = 0; i < observed->n_containers; i++)
        free(labels[i]);
    free(labels);
    if (lo.follow) {
        cli_interrupt_start(ctx->loop, &intr, on_interrupt, &l);
        intr_on = true;
    }
    while (streams > 0 && !l.done && uv_run(ctx->loop, UV_RUN_ONCE))
        ;
    if (code == 0 && cli_logs_error(l.logs)->kind != CC_ERR_NONE) {
        cli_error_print(cli_logs_error(l.logs));
        code = cli_exit_for_error(cli_logs_error(l.logs));
    }
out:
    if (intr_on)
        cli_interrupt_stop(&intr);
    cli_logs_free(l.logs);
    sched_observed_free(observed);
    engine_client_free(client);
    uv_run(ctx->loop, UV_RUN_DEFAULT);
    compose_project_free(model);
    free(since);
    free(until);
    return code;
}

const struct cli_command cli_cmd_logs = {
    .name = "logs",
    .summary = "View output from containers",
    .run = logs_run,
};
