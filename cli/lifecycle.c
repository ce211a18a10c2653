/* start, stop and restart: nearly the same flags ([-t N] [SERVICE...]; start --wait, restart
 * --no-deps) and the same scheduler call (sched_lifecycle), in dependency order (stop in
 * reverse). start --wait runs the project's existing containers through up's convergence
 * instead (sched_up with existing_only), which honours the dependency conditions and waits as
 * up --wait does. */
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
    struct sched_up_options wait; /* start --wait */
};

static struct sched_op *start_waiting(struct cli_wait *w, void *data, struct cc_error *reterr)
{
    struct lifecycle_cmd *l = data;
    return sched_up(l->ctx->loop, l->c, l->model, &l->wait, NULL, cli_on_event, cli_on_done, w,
                    reterr);
}

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

/* The dependency of service through which it is restarted (one of sel[0..n) with `restart:
 * true`), from the model; NULL without one. */
static const char *restarted_through(const struct compose_project *model, const char *service,
                                     const char *const *sel, size_t n)
{
    const struct compose_service *s = model ? compose_project_service(model, service) : NULL;
    for (size_t k = 0; s && k < s->n_depends_on; k++)
        for (size_t i = 0; s->depends_on[k].restart && i < n; i++)
            if (!strcmp(sel[i], s->depends_on[k].service))
                return sel[i];
    return NULL;
}

/* restart --dry-run: the containers restart would restart, the named services' and then, unless
 * --no-deps, those of their `restart: true` dependents (sched_restart_dependents(), which
 * sched_lifecycle() restarts by), each dependent with why. */
static int dry_run_restart(struct lifecycle_cmd *l, char *const *services, int n_services)
{
    struct sched_observed *o = NULL;
    int code = cli_observe_containers(l->ctx, l->c, l->project, &o);
    if (code)
        return code;
    const char **sel = NULL;
    size_t n = (size_t)n_services;
    if (n && !l->opts.no_deps)
        n = sched_restart_dependents(l->model, o, (const char *const *)services, n, &sel);
    for (size_t i = 0; i < o->n_containers && !n; i++)
        if (!o->containers[i].oneoff)
            printf("container %s: restart\n", o->containers[i].name);
    for (size_t k = 0; k < n; k++) {
        const char *svc = sel ? sel[k] : services[k];
        const char *dep = k >= (size_t)n_services
                              ? restarted_through(l->model, svc, (const char *const *)sel, k)
                              : NULL;
        for (size_t i = 0; i < o->n_containers; i++) {
            const struct sched_observed_container *ct = &o->containers[i];
            if (ct->oneoff || !ct->service || strcmp(ct->service, svc))
                continue;
            if (k < (size_t)n_services)
                printf("container %s: restart\n", ct->name);
            else if (dep)
                printf("container %s: restart (depends on '%s' with restart: true)\n", ct->name,
                       dep);
            else
                printf("container %s: restart (a dependent with restart: true)\n", ct->name);
        }
    }
    free(sel);
    sched_observed_free(o);
    return CLI_EXIT_OK;
}

static void usage(FILE *out, enum sched_lifecycle_action action)
{
    static const char *const what[] = {[SCHED_LC_START] = "Start services",
                                       [SCHED_LC_STOP] = "Stop services",
                                       [SCHED_LC_RESTART] = "Restart service containers"};
    fprintf(out, "Usage:  ccompose %s [OPTIONS] [SERVICE...]\n\n%s\n\nOptions:\n",
            action_names[action], what[action]);
    if (action == SCHED_LC_START)
        fprintf(out, "      --wait               Wait for services to be running|healthy\n"
                     "      --wait-timeout int   Maximum duration in seconds to wait for the\n"
                     "                           project to be running|healthy\n");
    else
        fprintf(out, "  -t, --timeout int   Specify a shutdown timeout in seconds\n");
    if (action == SCHED_LC_RESTART)
        fprintf(out, "      --no-deps       Don't restart dependent services\n");
}

enum { OPT_WAIT = 256, OPT_WAIT_TIMEOUT, OPT_NO_DEPS };

static const struct option start_options[] = {
    {"wait", no_argument, NULL, OPT_WAIT},
    {"wait-timeout", required_argument, NULL, OPT_WAIT_TIMEOUT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const struct option stop_options[] = {
    {"timeout", required_argument, NULL, 't'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const struct option restart_options[] = {
    {"timeout", required_argument, NULL, 't'},
    {"no-deps", no_argument, NULL, OPT_NO_DEPS},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int cli_lifecycle_run(struct cli_context *ctx, int argc, char **argv,
                      enum sched_lifecycle_action action)
{
    static const struct option *const tables[] = {[SCHED_LC_START] = start_options,
                                                  [SCHED_LC_STOP] = stop_options,
                                                  [SCHED_LC_RESTART] = restart_options};
    struct lifecycle_cmd l = {
        .ctx = ctx,
        .opts = {.action = action, .stop_timeout_s = -1, .parallel = ctx->g.parallel},
    };
    int c, wait_timeout = 0;
    bool wait = false;
    const char *shorts = action == SCHED_LC_START ? "h" : "t:h";
    while ((c = cli_getopt_long(argc, argv, shorts, tables[action], NULL)) != -1) {
        switch (c) {
        case 't':
            if (cli_parse_count("--timeout", optarg, 86400, &l.opts.stop_timeout_s) < 0)
                return CLI_EXIT_USAGE;
            break;
        case OPT_WAIT:
            wait = true;
            break;
        case OPT_WAIT_TIMEOUT:
            if (cli_parse_count("--wait-timeout", optarg, 86400 * 365, &wait_timeout) < 0)
                return CLI_EXIT_USAGE;
            break;
        case OPT_NO_DEPS:
            l.opts.no_deps = true;
            break;
        case 'h':
            usage(stdout, action);
            return CLI_EXIT_OK;
        default:
            return CLI_EXIT_USAGE;
        }
    }
    if (wait_timeout && !wait) {
        fprintf(stderr, "error: --wait-timeout needs --wait\n");
        return CLI_EXIT_USAGE;
    }
    l.opts.services = (const char *const *)(argv + optind);
    l.opts.n_services = (size_t)(argc - optind);
    /* start --wait goes through up's convergence, which needs the model. */
    l.wait = (struct sched_up_options){
        .plan = {.services = l.opts.services,
                 .n_services = l.opts.n_services,
                 .no_deps = true,
                 .existing_only = true},
        .parallel = ctx->g.parallel,
        .wait = true,
        .wait_timeout_ms = (int64_t)wait_timeout * 1000,
        .stop_timeout_s = -1,
    };
    int code = cli_project_resolve(ctx, argv + optind, argc - optind, wait, &l.project, &l.model);
    if (code)
        return code;
    if ((code = cli_engine_open(ctx, &l.c)) == 0) {
        if (ctx->g.dry_run && action == SCHED_LC_RESTART)
            code = dry_run_restart(&l, argv + optind, argc - optind);
        else if (ctx->g.dry_run)
            code = cli_dry_run_lifecycle(ctx, l.c, l.project, argv + optind, argc - optind,
                                         action_names[action], false);
        else
            code = cli_run_op(ctx, wait ? start_waiting : start_lifecycle, &l);
    }
    engine_client_free(l.c);
    uv_run(ctx->loop, UV_RUN_DEFAULT);
    compose_project_free(l.model);
    return code;
}
