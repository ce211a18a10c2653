/* `ccompose wait`: blocks until the named services' containers stop; exits with the code of the
 * first that stopped. --down-project takes the project down once one has. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/run.h"

struct wait_cmd {
    size_t pending;
    int first_code; /* -1 until one stopped */
    struct cc_error err;
    struct engine_request **reqs;
    size_t n_reqs;
    bool down;
};

struct wait_one {
    struct wait_cmd *w;
    size_t i;
};

static void on_waited(json_t *result, const struct cc_error *err, void *data)
{
    struct wait_one *o = data;
    struct wait_cmd *w = o->w;
    w->pending--;
    w->reqs[o->i] = NULL;
    if (err && err->kind != CC_ERR_CANCELLED && w->err.kind == CC_ERR_NONE)
        cc_error_copy(&w->err, err);
    if (!err && w->first_code < 0) {
        w->first_code = (int)json_integer_value(json_object_get(result, "StatusCode"));
        /* --down-project: the others need not be waited for. */
        for (size_t i = 0; w->down && i < w->n_reqs; i++)
            engine_request_cancel(w->reqs[i]);
    }
}

struct down_ctx {
    struct cli_context *ctx;
    struct engine_client *c;
    const char *project;
    const struct compose_project *model;
};

static struct sched_op *start_down(struct cli_wait *cw, void *data, struct cc_error *reterr)
{
    struct down_ctx *d = data;
    struct sched_down_options o = {.stop_timeout_s = -1, .parallel = d->ctx->g.parallel};
    return sched_down(d->ctx->loop, d->c, d->project, d->model, &o, cli_on_event, cli_on_done, cw,
                      reterr);
}

static void usage(FILE *out)
{
    fprintf(out, "Usage:  ccompose wait SERVICE [SERVICE...] [OPTIONS]\n\n"
                 "Block until containers of all (or specified) services stop.\n\n"
                 "Options:\n"
                 "      --down-project   Drops project when the first container stops\n");
}

static int wait_run(struct cli_context *ctx, int argc, char **argv)
{
    struct wait_cmd w = {.first_code = -1, .err = CC_ERROR_INIT};
    const char *project = NULL;
    struct compose_project *model = NULL;
    struct engine_client *client = NULL;
    struct sched_observed *observed = NULL;
    struct wait_one *ones = NULL;
    int code = cli_bool_flag_parse(argc, argv, "down-project", &w.down, usage);
    if (code >= 0)
        goto out;
    code = CLI_EXIT_OK;
    if (w.down && ctx->g.dry_run) {
        /* Waiting changes nothing, taking the project down does: refused as main() refuses the
         * commands that have no dry-run of their own. */
        code = cli_dry_run_refused("wait --down-project");
        goto out;
    }
    char *const *services = argv + optind;
    int n_services = argc - optind;
    if (n_services < 1) {
        fprintf(stderr, "error: wait needs at least one service\n");
        code = CLI_EXIT_USAGE;
        goto out;
    }
    if ((code = cli_project_resolve(ctx, services, n_services, false, &project, &model)) ||
        (code = cli_engine_open(ctx, &client)) ||
        (code = cli_observe_containers(ctx, client, project, &observed)))
        goto out;
    w.reqs = xcalloc(observed->n_containers + 1, sizeof(*w.reqs));
    ones = xcalloc(observed->n_containers + 1, sizeof(*ones));
    for (size_t i = 0; i < observed->n_containers; i++) {
        const struct sched_observed_container *ct = &observed->containers[i];
        if (ct->oneoff || !cli_service_selected(ct->service, services, n_services))
            continue;
        ones[w.n_reqs] = (struct wait_one){&w, w.n_reqs};
        w.reqs[w.n_reqs] = engine_container_wait(client, ct->id, "not-running", on_waited,
                                                 &ones[w.n_reqs], &w.err);
        if (!w.reqs[w.n_reqs])
            break;
        w.n_reqs++;
        w.pending++;
    }
    if (!w.n_reqs && w.err.kind == CC_ERR_NONE) {
        fprintf(stderr, "error: no containers for the services given\n");
        code = CLI_EXIT_FAILURE;
        goto out;
    }
    while (w.pending && uv_run(ctx->loop, UV_RUN_ONCE))
        ;
    if (w.err.kind != CC_ERR_NONE) {
        cli_error_print(&w.err);
        code = cli_exit_for_error(&w.err);
        goto out;
    }
    code = w.first_code < 0 ? CLI_EXIT_FAILURE : w.first_code;
    if (w.down) {
        struct down_ctx d = {ctx, client, project, model};
        int down_code = cli_run_op(ctx, start_down, &d);
        if (down_code)
            code = down_code;
    }
out:
    sched_observed_free(observed);
    engine_client_free(client);
    uv_run(ctx->loop, UV_RUN_DEFAULT);
    compose_project_free(model);
    cc_error_release(&w.err);
    free(w.reqs);
    free(ones);
    return code;
}

const struct cli_command cli_cmd_wait = {
    .name = "wait",
    .summary = "Block until containers of all (or specified) services stop",
    .run = wait_run,
};
