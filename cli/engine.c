/* The engine connection every command opens, running a scheduler operation to its end, and
 * Ctrl-C. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/run.h"
#include "compose/parse.h"

/* COMPOSE_HTTP_TIMEOUT: seconds each engine answer may take (as docker-compose's read timeout);
 * 0 (the client's default) when unset or unusable. Read when the engine is opened, after the
 * project's .env has been applied. */
static long http_timeout_ms(void)
{
    const char *v = getenv("COMPOSE_HTTP_TIMEOUT");
    if (!v || !*v)
        return 0;
    char *end;
    long s = strtol(v, &end, 10);
    if (*end || s < 1 || s > 86400) {
        fprintf(stderr,
                "WARN[0000] COMPOSE_HTTP_TIMEOUT '%s' is not a number of seconds from 1 to 86400, "
                "ignoring\n",
                v);
        return 0;
    }
    return s * 1000;
}

int cli_engine_open(struct cli_context *ctx, struct engine_client **ret)
{
    struct cc_error err = CC_ERROR_INIT;
    /* The one bound on calls in flight for the whole command, whatever operation makes them. */
    struct engine_options opts = {.host = ctx->g.host,
                                  .request_timeout_ms = http_timeout_ms(),
                                  .max_in_flight =
                                      ctx->g.parallel > 0 ? ctx->g.parallel : CLI_DEFAULT_PARALLEL};
    if (engine_client_new(ctx->loop, &opts, ret, &err) < 0) {
        cli_error_print(&err);
        int code = cli_exit_for_error(&err);
        cc_error_release(&err);
        return code;
    }
    return 0;
}

const char *cli_project_name(const struct cli_context *ctx)
{
    if (ctx->g.project_name && *ctx->g.project_name)
        return ctx->g.project_name;
    const char *env = getenv("COMPOSE_PROJECT_NAME");
    return env && *env ? env : NULL;
}

bool cli_env_true(const char *name)
{
    const char *v = getenv(name);
    return v && (!strcmp(v, "1") || !strcasecmp(v, "t") || !strcasecmp(v, "true"));
}

int cli_parse_count(const char *flag, const char *value, int max, int *ret)
{
    char *end;
    long n = strtol(value, &end, 10);
    if (!*value || *end || n < 0 || n > max) {
        fprintf(stderr, "error: %s takes a number from 0 to %d, not '%s'\n", flag, max, value);
        return -1;
    }
    *ret = (int)n;
    return 0;
}

int cli_parse_format(const char *value, bool *ret_json)
{
    if (strcmp(value, "json") && strcmp(value, "table")) {
        fprintf(stderr, "error: --format takes 'table' or 'json', not '%s'\n", value);
        return -1;
    }
    *ret_json = !strcmp(value, "json");
    return 0;
}

void cli_on_done(const struct cc_error *err, void *data)
{
    struct cli_wait *w = data;
    w->done = true;
    if (err)
        cc_error_copy(&w->err, err);
}

void cli_on_event(const struct sched_event *ev, void *data)
{
    struct cli_wait *w = data;
    cli_progress_event(ev, w->progress);
}

void cli_wait_run(uv_loop_t *loop, struct cli_wait *w)
{
    while (!w->done && uv_run(loop, UV_RUN_ONCE))
        ;
}

int cli_wait_exit(const struct cli_wait *w)
{
    if (w->err.kind == CC_ERR_NONE)
        return CLI_EXIT_OK;
    cli_error_print(&w->err);
    return cli_exit_for_error(&w->err);
}

static void on_sigint(uv_signal_t *sig, int signum)
{
    (void)signum;
    struct cli_interrupt *in = sig->data;
    in->count++;
    in->on_interrupt(in->count, in->data);
}

void cli_interrupt_start(uv_loop_t *loop, struct cli_interrupt *in,
                         void (*on_interrupt)(int count, void *data), void *data)
{
    memset(in, 0, sizeof(*in));
    in->on_interrupt = on_interrupt;
    in->data = data;
    uv_signal_init(loop, &in->sig);
    in->sig.data = in;
    uv_signal_start(&in->sig, on_sigint, SIGINT);
    uv_unref((uv_handle_t *)&in->sig);
}

void cli_interrupt_stop(struct cli_interrupt *in)
{
    uv_signal_stop(&in->sig);
    uv_close((uv_handle_t *)&in->sig, NULL);
}

/* Whether a compose file is there to load: -f, COMPOSE_FILE, or one found from the current
 * directory upwards as the loader finds it. */
static bool compose_file_present(const struct cli_context *ctx)
{
    const char *env = getenv("COMPOSE_FILE");
    if (ctx->g.n_files > 0 || (env && *env))
        return true;
    struct arena a;
    arena_init(&a);
    const char **files = NULL;
    size_t n = 0;
    bool found =
        parse_find_compose_files(&a, ctx->g.project_directory ? ctx->g.project_directory : ".",
                                 &files, &n, NULL) == 0;
    arena_release(&a);
    return found;
}

int cli_project_resolve(struct cli_context *ctx, char *const *services, int n_services,
                        bool need_model, const char **ret_name, struct compose_project **ret_model)
{
    *ret_model = NULL;
    const char *name = cli_project_name(ctx);
    /* With a name and no compose file around, the labels are enough (`-p NAME down`). */
    if (!need_model && name && !compose_file_present(ctx)) {
        *ret_name = name;
        return 0;
    }
    int code = cli_project_load(ctx, (const char *const *)services, (size_t)n_services, ret_model);
    if (code)
        return code;
    if ((code = cli_services_check(*ret_model, services, n_services))) {
        compose_project_free(*ret_model);
        *ret_model = NULL;
        return code;
    }
    *ret_name = (*ret_model)->name;
    return 0;
}

int cli_services_check(const struct compose_project *p, char *const *services, int n_services)
{
    for (int k = 0; k < n_services; k++) {
        if (!compose_project_service(p, services[k])) {
            fprintf(stderr, "error: no such service: '%s'\n", services[k]);
            return CLI_EXIT_FAILURE;
        }
    }
    return 0;
}

struct observe_wait {
    bool done;
    struct sched_observed *o;
    struct cc_error err;
};

static void on_observed(struct sched_observed *observed, const struct cc_error *err, void *data)
{
    struct observe_wait *w = data;
    w->done = true;
    w->o = observed;
    if (err)
        cc_error_copy(&w->err, err);
}

static int observe(struct cli_context *ctx, struct engine_client *c, const char *project,
                   const struct compose_project *model, bool containers_only,
                   struct sched_observed **ret)
{
    struct observe_wait w = {.err = CC_ERROR_INIT};
    struct sched_observe_options opts = {.parallel = ctx->g.parallel,
                                         .containers_only = containers_only};
    int code = 0;
    if (!sched_observe(ctx->loop, c, project, model, &opts, on_observed, &w, &w.err))
        goto out;
    while (!w.done && uv_run(ctx->loop, UV_RUN_ONCE))
        ;
out:
    if (w.err.kind != CC_ERR_NONE) {
        cli_error_print(&w.err);
        code = cli_exit_for_error(&w.err);
        sched_observed_free(w.o);
    } else {
        *ret = w.o;
    }
    cc_error_release(&w.err);
    return code;
}

int cli_observe(struct cli_context *ctx, struct engine_client *c, const char *project,
                const struct compose_project *model, struct sched_observed **ret)
{
    return observe(ctx, c, project, model, false, ret);
}

int cli_observe_containers(struct cli_context *ctx, struct engine_client *c, const char *project,
                           struct sched_observed **ret)
{
    return observe(ctx, c, project, NULL, true, ret);
}

int cli_run_op(struct cli_context *ctx, cli_op_start_fn start, void *data)
{
    struct cli_wait w = {.err = CC_ERROR_INIT, .progress = cli_progress_new(ctx)};
    if (start(&w, data, &w.err))
        cli_wait_run(ctx->loop, &w);
    cli_progress_free(w.progress);
    int code = cli_wait_exit(&w);
    cc_error_release(&w.err);
    return code;
}
