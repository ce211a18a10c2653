/* start, stop and restart: the same flags ([-t N] [SERVICE...]) and the same scheduler call
 * (sched_lifecycle), in dependency order (stop in reverse). */
#include <getopt.h>
#include <string.h>

#include "cli/run.h"

static const char *const action_names[] = {
    [SCHED_LC_START] = "start", [SCHED_LC_STOP] = "stop", [SCHED_LC_RESTART] = "restart"};

struct lifecycle_cmd {
    struct cli_context *ctx;
    struct engine_client *c;
    const char *project;
    struct compose_project *model;
    struct sched_lifecycle_options opts;
};

static struct sched_op *start_lifecycle(struct cli_wait *w, void *data, struct cc_error *reterr)
{
    struct lifecycle_cmd *l = data;
    return sched_lifecycle(l->ctx->loop, l->c, l->project, l->model, &l->opts, cli_on_event,
                           cli_on_done, w, reterr);
}

int cli_dry_run_lifecycle(struct cli_context *ctx, struct engine_client *c, const char *project,
                          char *const *services, int n_services, const char *verb, bool volumes)
{
    struct sched_observed *o = NULL;
    int code = cli_observe(ctx, c, project, NULL, &o);
    if (code)
        return code;
    bool down = !strcmp(verb, "down");
    for (size_t i = 0; i < o->n_containers; i++) {
        const struct sched_observed_container *ct = &o->containers[i];
        if (ct->oneoff && !down)
            continue;
        if (cli_service_selected(ct->service, services, n_services))
            printf("container %s: %s\n", ct->name, down ? "stop, remove" : verb);
    }
    for (size_t i = 0; down && i < o->n_networks; i++)
        if (o->networks[i].labeled)
            printf("network %s: remove\n", o->networks[i].name);
    for (size_t i = 0; down && volumes && i < o->n_volumes; i++)
        if (o->volumes[i].labeled)
            printf("volume %s: remove\n", o->volumes[i].name);
    sched_observed_free(o);
    return CLI_EXIT_OK;
}

static void usage(FILE *out, enum sched_lifecycle_action action)
{
    static const char *const what[] = {[SCHED_LC_START] = "Start services",
                                       [SCHED_LC_STOP] = "Stop services",
                                       [SCHED_LC_RESTART] = "Restart service containers"};
    fprintf(out, "Usage:  ccompose %s [OPTIONS] [SERVICE...]\n\n%s\n", action_names[action],
            what[action]);
    if (action != SCHED_LC_START)
        fprintf(out, "\nOptions:\n"
                     "  -t, --timeout int   Specify a shutdown timeout in seconds\n");
}

int cli_lifecycle_run(struct cli_context *ctx, int argc, char **argv,
                      enum sched_lifecycle_action action)
{
    static const struct option options[] = {
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct lifecycle_cmd l = {
        .ctx = ctx,
        .opts = {.action = action, .stop_timeout_s = -1, .parallel = ctx->g.parallel},
    };
    int c;
    const char *shorts = action == SCHED_LC_START ? "h" : "t:h";
    while ((c = cli_getopt_long(argc, argv, shorts, action == SCHED_LC_START ? options + 1 : options,
                            NULL)) != -1) {
        switch (c) {
        case 't':
            if (cli_parse_count("--timeout", optarg, 86400, &l.opts.stop_timeout_s) < 0)
                return CLI_EXIT_USAGE;
            break;
        case 'h':
            usage(stdout, action);
            return CLI_EXIT_OK;
        default:
            return CLI_EXIT_USAGE;
        }
    }
    l.opts.services = (const char *const *)(argv + optind);
    l.opts.n_services = (size_t)(argc - optind);
    int code = cli_project_resolve(ctx, argv + optind, argc - optind, false, &l.project, &l.model);
    if (code)
        return code;
    if ((code = cli_engine_open(ctx, &l.c)) == 0)
        code = ctx->g.dry_run ? cli_dry_run_lifecycle(ctx, l.c, l.project, argv + optind,
                                                      argc - optind, action_names[action], false)
                              : cli_run_op(ctx, start_lifecycle, &l);
    engine_client_free(l.c);
    uv_run(ctx->loop, UV_RUN_DEFAULT);
    compose_project_free(l.model);
    return code;
}
