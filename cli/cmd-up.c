/* `ccompose up`: images first (sched_ensure_images), then converge (sched_up), then, unless
 * detached, follow the services' logs until their containers exit or Ctrl-C stops them (a second
 * Ctrl-C kills them). --dry-run prints the plan and changes nothing. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "cli/run.h"
#include "common/buf.h"

enum up_phase { UP_IMAGES = 0, UP_CONVERGING, UP_ATTACHED, UP_STOPPING, UP_DONE };

struct up_cmd {
    struct cli_context *ctx;
    enum up_phase phase;
    struct engine_client *c;
    const char *project_name;
    struct compose_project *p;
    char *const *services;
    int n_services;
    struct sched_up_options up;
    struct sched_ensure_options ensure;
    struct sched_scale *scale;
    bool detach;
    bool quiet_pull;
    bool abort_on_exit;
    bool abort_on_failure; /* --abort-on-container-failure: only an exit with a code other than 0 */
    bool aborted;
    const char *exit_code_from;
    struct cli_logs_options logs_opts;
    /* while running */
    struct cli_wait w;
    struct sched_ensure *ensure_op;
    struct sched_op *op;
    struct cli_logs *logs;
    int exit_code; /* attached: the code up ends with (--exit-code-from, an abort) */
    bool interrupted;
    struct followed *followed; /* attached: the containers whose logs are followed */
    size_t n_followed;
    struct sched_op *watch; /* attached: restarts on unhealthy (x-ccompose), when a service asks */
    bool watch_done;
    int restarts_pending; /* the watch said Restarting, and not yet Restarted */
    struct cli_interrupt *intr;
};

struct followed {
    char *id;
    char *name;
    char *label;
    char *service;
};

static void up_set_phase(struct up_cmd *u, enum up_phase phase)
{
    if (u->ctx->g.verbose)
        fprintf(stderr, "up: phase %d -> %d\n", u->phase, phase);
    u->phase = phase;
}

/* --quiet-pull leaves pull progress out; everything else goes to the display. */
static void on_event(const struct sched_event *ev, void *data)
{
    struct up_cmd *u = data;
    if (u->quiet_pull && ev->kind == SCHED_RES_IMAGE &&
        (ev->state == SCHED_PULLING || ev->state == SCHED_PULLED))
        return;
    cli_on_event(ev, &u->w);
}

static void on_done(const struct cc_error *err, void *data)
{
    struct up_cmd *u = data;
    u->ensure_op = NULL;
    u->op = NULL;
    cli_on_done(err, &u->w);
}

static void on_kill_done(json_t *result, const struct cc_error *err, void *data)
{
    (void)result;
    (void)err;
    (void)data;
}

static void kill_all(struct up_cmd *u)
{
    for (size_t i = 0; i < u->n_followed; i++)
        engine_container_kill(u->c, u->followed[i].id, NULL, on_kill_done, NULL, NULL);
}

static void on_interrupt(int count, void *data)
{
    struct up_cmd *u = data;
    u->interrupted = true;
    switch (u->phase) {
    case UP_IMAGES:
        if (u->ensure_op)
            sched_ensure_cancel(u->ensure_op);
        break;
    case UP_CONVERGING:
        if (u->op)
            sched_op_cancel(u->op);
        break;
    case UP_ATTACHED:
        fprintf(stderr, "Gracefully stopping... (press Ctrl+C again to force)\n");
        cli_logs_cancel(u->logs);
        break;
    case UP_STOPPING:
        if (count > 1)
            kill_all(u);
        break;
    case UP_DONE:
        break;
    }
}

static int parse_scale(struct up_cmd *u, const char *arg)
{
    const char *eq = strchr(arg, '=');
    int n;
    if (!eq || eq == arg) {
        fprintf(stderr, "error: --scale takes SERVICE=NUM, not '%s'\n", arg);
        return -1;
    }
    if (cli_parse_count("--scale", eq + 1, 10000, &n) < 0)
        return -1;
    size_t k = u->up.plan.n_scale;
    u->scale = xrealloc(u->scale, (k + 1) * sizeof(*u->scale));
    u->scale[k].service = xstrndup(arg, (size_t)(eq - arg)); /* freed with u->scale */
    u->scale[k].replicas = n;
    u->up.plan.scale = u->scale;
    u->up.plan.n_scale = k + 1;
    return 0;
}

static int dry_run(struct up_cmd *u)
{
    struct sched_observed *o = NULL;
    struct sched_plan *plan = NULL;
    struct cc_error err = CC_ERROR_INIT;
    int code = cli_observe(u->ctx, u->c, u->project_name, u->p, &o);
    if (code)
        return code;
    if (sched_plan_build(u->p, o, &u->up.plan, &plan, &err) < 0) {
        cli_error_print(&err);
        code = cli_exit_for_error(&err);
    } else {
        struct buf b = BUF_INIT;
        sched_plan_render(plan, &b);
        fputs(b.data ? b.data : "", stdout);
        buf_release(&b);
    }
    sched_plan_free(plan);
    sched_observed_free(o);
    cc_error_release(&err);
    return code;
}

/* Runs one phase's operation to its end; returns the exit code it ends with. */
static int finish_phase(struct up_cmd *u)
{
    cli_wait_run(u->ctx->loop, &u->w);
    cli_progress_free(u->w.progress);
    u->w.progress = NULL;
    int code = CLI_EXIT_OK;
    if (u->w.err.kind != CC_ERR_NONE) {
        if (u->w.err.kind != CC_ERR_CANCELLED)
            cli_error_print(&u->w.err);
        code = u->w.err.kind == CC_ERR_FAILED ? CLI_EXIT_SERVICE : cli_exit_for_error(&u->w.err);
    }
    cc_error_release(&u->w.err);
    u->w.done = false;
    return code;
}

static void on_container_exit(const char *label, const char *service, int exit_code, void *data)
{
    struct up_cmd *u = data;
    if (exit_code < 0 || u->phase != UP_ATTACHED)
        return;
    cli_logs_note(u->logs, "%s exited with code %d", label, exit_code);
    if (u->exit_code_from && !strcmp(u->exit_code_from, service))
        u->exit_code = exit_code;
    if (u->abort_on_exit || (u->abort_on_failure && exit_code != 0)) {
        u->aborted = true;
        if (!u->exit_code_from)
            u->exit_code = exit_code;
        fprintf(stderr, "Aborting on container exit...\n");
        cli_logs_cancel(u->logs);
    }
}

/* The watch's events among the logs; a restarted container's logs are followed again from now. */
static void on_watch_event(const struct sched_event *ev, void *data)
{
    struct up_cmd *u = data;
    if (ev->kind != SCHED_RES_CONTAINER || !u->logs)
        return;
    cli_logs_note(u->logs, "%s  %s%s%s", ev->name, sched_state_name(ev->state),
                  ev->text ? "  " : "", ev->text ? ev->text : "");
    if (ev->state == SCHED_RESTARTING)
        u->restarts_pending++;
    if (ev->state != SCHED_RESTARTED && ev->state != SCHED_ERROR)
        return;
    if (u->restarts_pending > 0)
        u->restarts_pending--;
    for (size_t i = 0; i < u->n_followed; i++) {
        struct followed *fw = &u->followed[i];
        if (strcmp(fw->name, ev->name) != 0 || cli_logs_streaming(u->logs, fw->id))
            continue;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        char now[64];
        snprintf(now, sizeof(now), "%lld.%09ld", (long long)ts.tv_sec - 1, ts.tv_nsec);
        struct cc_error err = CC_ERROR_INIT;
        if (!cli_logs_add(u->logs, fw->id, fw->label, fw->service, now, &err))
            cli_error_print(&err);
        cc_error_release(&err);
    }
}

static void on_watch_done(const struct cc_error *err, void *data)
{
    struct up_cmd *u = data;
    u->watch = NULL;
    u->watch_done = true;
    if (err && err->kind != CC_ERR_CANCELLED)
        cli_error_print(err);
}

/* Starts the watch when some service opts in to restarts on unhealthy. */
static void watch_start(struct up_cmd *u)
{
    bool wanted = false;
    for (size_t i = 0; i < u->p->n_services; i++)
        wanted |= u->p->services[i].x_ccompose.restart_on_unhealthy;
    if (!wanted)
        return;
    struct sched_watch_options wo = {.parallel = u->ctx->g.parallel,
                                     .stop_timeout_s = u->up.stop_timeout_s};
    struct cc_error err = CC_ERROR_INIT;
    u->watch = sched_watch(u->ctx->loop, u->c, u->p, &wo, on_watch_event, on_watch_done, u, &err);
    if (!u->watch)
        cli_error_print(&err);
    cc_error_release(&err);
}

static void watch_stop(struct up_cmd *u)
{
    if (!u->watch)
        return;
    sched_op_cancel(u->watch);
    while (!u->watch_done && uv_run(u->ctx->loop, UV_RUN_ONCE))
        ;
}

/* Whether ct's logs are shown: a selected service's, unless it says `attach: false` (as docker
 * compose, even when named on the command line). */
static bool attached(const struct up_cmd *u, const struct sched_observed_container *ct)
{
    if (ct->oneoff || !cli_service_selected(ct->service, u->services, u->n_services))
        return false;
    const struct compose_service *s = ct->service ? compose_project_service(u->p, ct->service)
                                                  : NULL;
    return !s || s->attach != COMPOSE_TRI_FALSE;
}

/* Follows the logs of the selected services' containers from when up began. */
static int attach(struct up_cmd *u, const char *since)
{
    struct sched_observed *o = NULL;
    int code = cli_observe(u->ctx, u->c, u->project_name, NULL, &o);
    if (code)
        return code;
    u->logs_opts.follow = true;
    u->logs_opts.since = since;
    u->logs = cli_logs_new(u->c, stdout, &u->logs_opts, on_container_exit, NULL, u);
    /* Containers that start later (restarted by their policy or the watch, recreated by another
     * up) are followed too; subscribed before the first stream, so no start is missed. */
    struct cc_error werr = CC_ERROR_INIT;
    if (cli_logs_watch(u->logs, u->ctx->loop, u->project_name, u->services, u->n_services, &werr) <
        0) {
        cli_error_print(&werr);
        code = cli_exit_for_error(&werr);
    }
    cc_error_release(&werr);
    struct buf names = BUF_INIT;
    u->followed = xcalloc(o->n_containers + 1, sizeof(*u->followed));
    for (size_t i = 0; i < o->n_containers; i++) {
        const struct sched_observed_container *ct = &o->containers[i];
        if (!attached(u, ct))
            continue;
        char *label = cli_container_label(u->project_name, ct);
        cli_logs_reserve(u->logs, label);
        buf_printf(&names, "%s%s", names.len ? ", " : "", label);
        free(label);
    }
    printf("Attaching to %s\n", names.data ? names.data : "");
    fflush(stdout);
    buf_release(&names);
    size_t streams = 0;
    for (size_t i = 0; i < o->n_containers && !code; i++) {
        const struct sched_observed_container *ct = &o->containers[i];
        if (!attached(u, ct))
            continue;
        char *label = cli_container_label(u->project_name, ct);
        struct cc_error err = CC_ERROR_INIT;
        if (cli_logs_add(u->logs, ct->id, label, ct->service, NULL, &err)) {
            streams++;
            struct followed *fw = &u->followed[u->n_followed++];
            fw->id = xstrdup(ct->id);
            fw->name = xstrdup(ct->name);
            fw->label = xstrdup(label);
            fw->service = xstrdup(ct->service ? ct->service : label);
        } else {
            cli_error_print(&err);
            code = cli_exit_for_error(&err);
        }
        cc_error_release(&err);
        free(label);
    }
    sched_observed_free(o);
    up_set_phase(u, UP_ATTACHED);
    if (!code && streams > 0)
        watch_start(u);
    /* A container the watch is restarting is followed again once it has restarted: until then
     * nothing may be in flight, so Ctrl-C's handle keeps the loop alive meanwhile. */
    uv_ref((uv_handle_t *)&u->intr->sig);
    while (!code && streams > 0 &&
           (!cli_logs_idle(u->logs) || (u->restarts_pending && !u->interrupted)) &&
           uv_run(u->ctx->loop, UV_RUN_ONCE))
        ;
    uv_unref((uv_handle_t *)&u->intr->sig);
    watch_stop(u);
    return code;
}

/* After attached mode: the containers stopped (Ctrl-C, --abort-on-container-exit). */
static int stop_all(struct up_cmd *u)
{
    up_set_phase(u, UP_STOPPING);
    struct sched_lifecycle_options lo = {
        .action = SCHED_LC_STOP,
        .services = (const char *const *)u->services,
        .n_services = (size_t)u->n_services,
        .stop_timeout_s = u->up.stop_timeout_s,
        .parallel = u->ctx->g.parallel,
    };
    u->w.progress = cli_progress_new(u->ctx);
    u->op = sched_lifecycle(u->ctx->loop, u->c, u->project_name, u->p, &lo, on_event, on_done, u,
                            &u->w.err);
    if (!u->op)
        u->w.done = true;
    return finish_phase(u);
}

static void usage(FILE *out)
{
    fprintf(
        out,
        "Usage:  ccompose up [OPTIONS] [SERVICE...]\n\n"
        "Create and start containers\n\n"
        "Options:\n"
        "      --abort-on-container-exit   Stops all containers if any container was stopped.\n"
        "                                  Incompatible with -d\n"
        "      --abort-on-container-failure Stops all containers if any container exited with\n"
        "                                  failure. Incompatible with -d\n"
        "      --build                     Build images before starting containers\n"
        "  -d, --detach                    Detached mode: Run containers in the background\n"
        "      --exit-code-from string     Return the exit code of the selected service\n"
        "                                  container. Implies --abort-on-container-exit\n"
        "      --no-build                  Don't build an image, even if it's policy\n"
        "      --no-color                  Produce monochrome output\n"
        "      --no-log-prefix             Don't print prefix in logs\n"
        "      --pull string               Pull image before running "
        "(\"always\"|\"missing\"|\"never\")\n"
        "      --quiet-pull                Pull without printing progress information\n"
        "      --remove-orphans            Remove containers for services not defined in the\n"
        "                                  Compose file\n"
        "      --scale scale               Scale SERVICE to NUM instances. Overrides the scale\n"
        "                                  setting in the Compose file if present\n"
        "  -t, --timeout int               Use this timeout in seconds for container shutdown\n"
        "                                  when attached or when containers are already "
        "running\n"
        "      --wait                      Wait for services to be running|healthy. Implies\n"
        "                                  detached mode\n"
        "      --wait-timeout int          Maximum duration to wait for the project to be\n"
        "                                  running|healthy\n");
}

enum {
    OPT_ABORT = 256,
    OPT_ABORT_FAILURE,
    OPT_BUILD,
    OPT_EXIT_CODE_FROM,
    OPT_NO_BUILD,
    OPT_NO_COLOR,
    OPT_NO_PREFIX,
    OPT_PULL,
    OPT_QUIET_PULL,
    OPT_REMOVE_ORPHANS,
    OPT_SCALE,
    OPT_WAIT,
    OPT_WAIT_TIMEOUT,
};

static const struct option up_options[] = {
    {"abort-on-container-exit", no_argument, NULL, OPT_ABORT},
    {"abort-on-container-failure", no_argument, NULL, OPT_ABORT_FAILURE},
    {"build", no_argument, NULL, OPT_BUILD},
    {"detach", no_argument, NULL, 'd'},
    {"exit-code-from", required_argument, NULL, OPT_EXIT_CODE_FROM},
    {"no-build", no_argument, NULL, OPT_NO_BUILD},
    {"no-color", no_argument, NULL, OPT_NO_COLOR},
    {"no-log-prefix", no_argument, NULL, OPT_NO_PREFIX},
    {"pull", required_argument, NULL, OPT_PULL},
    {"quiet-pull", no_argument, NULL, OPT_QUIET_PULL},
    {"remove-orphans", no_argument, NULL, OPT_REMOVE_ORPHANS},
    {"scale", required_argument, NULL, OPT_SCALE},
    {"timeout", required_argument, NULL, 't'},
    {"wait", no_argument, NULL, OPT_WAIT},
    {"wait-timeout", required_argument, NULL, OPT_WAIT_TIMEOUT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Flags into u; scales are kept as argv strings until the project is loaded. */
static int parse_flags(struct up_cmd *u, int argc, char **argv, const char ***scales, int *n_scales)
{
    int c, wait_timeout = 0;
    bool build = false, no_build = false;
    const char *env = getenv("COMPOSE_REMOVE_ORPHANS");
    u->up.plan.remove_orphans = env && (!strcmp(env, "1") || !strcasecmp(env, "true"));
    u->up.stop_timeout_s = -1;
    u->up.parallel = u->ctx->g.parallel;
    u->ensure.parallel = u->ctx->g.parallel; /* 0: builds and pulls four at a time */
    while ((c = cli_getopt_long(argc, argv, "dt:h", up_options, NULL)) != -1) {
        switch (c) {
        case OPT_ABORT:
            u->abort_on_exit = true;
            break;
        case OPT_ABORT_FAILURE:
            u->abort_on_failure = true;
            break;
        case OPT_BUILD:
            build = true;
            break;
        case 'd':
            u->detach = true;
            break;
        case OPT_EXIT_CODE_FROM:
            u->exit_code_from = optarg;
            u->abort_on_exit = true;
            break;
        case OPT_NO_BUILD:
            no_build = true;
            break;
        case OPT_NO_COLOR:
            u->logs_opts.no_color = true;
            break;
        case OPT_NO_PREFIX:
            u->logs_opts.no_prefix = true;
            break;
        case OPT_PULL:
            if (strcmp(optarg, "always") && strcmp(optarg, "missing") && strcmp(optarg, "never")) {
                fprintf(stderr, "error: --pull takes always, missing or never, not '%s'\n", optarg);
                return CLI_EXIT_USAGE;
            }
            u->ensure.pull = optarg;
            break;
        case OPT_QUIET_PULL:
            u->quiet_pull = true;
            break;
        case OPT_REMOVE_ORPHANS:
            u->up.plan.remove_orphans = true;
            break;
        case OPT_SCALE:
            *scales = xrealloc(*scales, (size_t)(*n_scales + 1) * sizeof(**scales));
            (*scales)[(*n_scales)++] = optarg;
            break;
        case 't':
            if (cli_parse_count("--timeout", optarg, 86400, &u->up.stop_timeout_s) < 0)
                return CLI_EXIT_USAGE;
            break;
        case OPT_WAIT:
            u->up.wait = true;
            break;
        case OPT_WAIT_TIMEOUT:
            if (cli_parse_count("--wait-timeout", optarg, 86400 * 365, &wait_timeout) < 0)
                return CLI_EXIT_USAGE;
            u->up.wait_timeout_ms = (int64_t)wait_timeout * 1000;
            break;
        case 'h':
            usage(stdout);
            return -1;
        default:
            return CLI_EXIT_USAGE;
        }
    }
    if (build && no_build) {
        fprintf(stderr, "error: --build and --no-build are incompatible\n");
        return CLI_EXIT_USAGE;
    }
    u->ensure.build = build      ? SCHED_ENSURE_BUILD_ALWAYS
                      : no_build ? SCHED_ENSURE_BUILD_NEVER
                                 : SCHED_ENSURE_BUILD_POLICY;
    if (u->up.wait)
        u->detach = true; /* --wait implies detached mode */
    if (u->abort_on_failure && u->abort_on_exit) {
        fprintf(stderr, "error: --abort-on-container-failure cannot be combined with "
                        "--abort-on-container-exit or --exit-code-from\n");
        return CLI_EXIT_USAGE;
    }
    if (u->detach && (u->abort_on_exit || u->abort_on_failure)) {
        fprintf(stderr, "error: --abort-on-container-exit, --abort-on-container-failure and "
                        "--exit-code-from are incompatible with --detach and --wait\n");
        return CLI_EXIT_USAGE;
    }
    if (u->up.wait_timeout_ms && !u->up.wait) {
        fprintf(stderr, "error: --wait-timeout needs --wait\n");
        return CLI_EXIT_USAGE;
    }
    u->services = argv + optind;
    u->n_services = argc - optind;
    u->up.plan.services = (const char *const *)u->services;
    u->up.plan.n_services = (size_t)u->n_services;
    u->ensure.services = u->up.plan.services;
    u->ensure.n_services = u->up.plan.n_services;
    return 0;
}

static int up_run(struct cli_context *ctx, int argc, char **argv)
{
    struct up_cmd u = {.ctx = ctx, .w = {.err = CC_ERROR_INIT}};
    u.logs_opts.no_color = !cli_color_enabled(ctx, stdout);
    const char **scales = NULL;
    int n_scales = 0;
    struct cli_interrupt intr;
    bool intr_on = false;
    char since[64];
    int code = parse_flags(&u, argc, argv, &scales, &n_scales);
    if (code)
        goto out;
    if ((code = cli_project_resolve(ctx, u.services, u.n_services, true, &u.project_name, &u.p)))
        goto out;
    for (int i = 0; i < n_scales; i++)
        if (parse_scale(&u, scales[i]) < 0) {
            code = CLI_EXIT_USAGE;
            goto out;
        }
    if (u.exit_code_from && !compose_project_service(u.p, u.exit_code_from)) {
        fprintf(stderr, "error: no such service: '%s' (given to --exit-code-from)\n",
                u.exit_code_from);
        code = CLI_EXIT_USAGE;
        goto out;
    }
    if ((code = cli_engine_open(ctx, &u.c)))
        goto out;
    if (ctx->g.dry_run) {
        code = dry_run(&u);
        goto out;
    }
    cli_interrupt_start(ctx->loop, &intr, on_interrupt, &u);
    intr_on = true;
    u.intr = &intr;

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(since, sizeof(since), "%lld.%09ld", (long long)ts.tv_sec, ts.tv_nsec);

    up_set_phase(&u, UP_IMAGES);
    u.w.progress = cli_progress_new(ctx);
    u.ensure_op =
        sched_ensure_images(ctx->loop, u.c, u.p, &u.ensure, on_event, on_done, &u, &u.w.err);
    if (!u.ensure_op)
        u.w.done = true;
    if ((code = finish_phase(&u)))
        goto out;

    up_set_phase(&u, UP_CONVERGING);
    u.w.progress = cli_progress_new(ctx);
    u.op = sched_up(ctx->loop, u.c, u.p, &u.up, NULL, on_event, on_done, &u, &u.w.err);
    if (!u.op)
        u.w.done = true;
    if ((code = finish_phase(&u)) || u.detach)
        goto out;

    if ((code = attach(&u, since)))
        goto out;
    if (u.interrupted || u.abort_on_exit || u.aborted) {
        bool interrupted = u.interrupted;
        code = stop_all(&u);
        if (!code)
            code = interrupted ? CLI_EXIT_INTERRUPTED : u.exit_code;
    } else {
        code = u.exit_code;
    }
out:
    if (u.interrupted && code != CLI_EXIT_USAGE)
        code = CLI_EXIT_INTERRUPTED;
    up_set_phase(&u, UP_DONE);
    if (intr_on)
        cli_interrupt_stop(&intr);
    cli_logs_free(u.logs);
    engine_client_free(u.c);
    uv_run(ctx->loop, UV_RUN_DEFAULT);
    for (size_t i = 0; i < u.n_followed; i++) {
        free(u.followed[i].id);
        free(u.followed[i].name);
        free(u.followed[i].label);
        free(u.followed[i].service);
    }
    free(u.followed);
    for (size_t i = 0; i < u.up.plan.n_scale; i++)
        free((char *)u.scale[i].service);
    free(u.scale);
    free(scales);
    cc_error_release(&u.w.err);
    compose_project_free(u.p);
    return code == -1 ? CLI_EXIT_OK : code;
}

const struct cli_command cli_cmd_up = {
    .name = "up",
    .summary = "Create and start containers",
    .run = up_run,
};
