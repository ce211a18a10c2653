/* `ccompose up`: images first (sched_ensure_images), then converge (sched_up), then, unless
 * detached, follow the services' logs until their containers exit or Ctrl-C stops them (a second
 * Ctrl-C kills them). --dry-run prints the plan and changes nothing. `create` (up --no-start with
 * create's flags) and `scale` (up -d of the services named with their replica counts) run the
 * same code with their own flags: cli_up_run(). */
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
    enum cli_up_mode mode;
    bool detach;
    bool quiet_pull;
    bool abort_on_exit;
    bool abort_on_failure;
    const char *exit_code_from;
    const char **attach_to; /* --attach; n_attach_to of them */
    int n_attach_to;
    const char **no_attach; /* --no-attach */
    int n_no_attach;
    bool attach_deps;
    bool *attached; /* per model service: its logs are followed */
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
    if (u->abort_on_failure && exit_code != 0) {
        if (!u->exit_code_from)
            u->exit_code = exit_code;
        fprintf(stderr, "Aborting on container failure...\n");
        cli_logs_cancel(u->logs);
    } else if (u->abort_on_exit) {
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

/* Whose logs attached up follows, as docker compose chooses: the --attach services, else the
 * services named (every one when none is) and with --attach-dependencies what they depend on;
 * then less the --no-attach ones. Fails (usage) on an --attach service up does not run. */
static int choose_attached(struct up_cmd *u)
{
    const struct compose_project *p = u->p;
    u->attached = xcalloc(p->n_services + 1, sizeof(*u->attached));
    for (int k = 0; k < u->n_attach_to; k++) {
        const struct compose_service *s = compose_project_service(p, u->attach_to[k]);
        if (!s) {
            fprintf(stderr, "error: cannot attach to services not included in up: %s\n",
                    u->attach_to[k]);
            return CLI_EXIT_USAGE;
        }
        u->attached[s - p->services] = true;
    }
    for (size_t i = 0; !u->n_attach_to && i < p->n_services; i++)
        u->attached[i] = cli_service_selected(p->services[i].name, u->services, u->n_services);
    for (bool changed = u->attach_deps; changed;) {
        changed = false;
        for (size_t i = 0; i < p->n_services; i++) {
            for (size_t k = 0; u->attached[i] && k < p->services[i].n_depends_on; k++) {
                const struct compose_service *d =
                    compose_project_service(p, p->services[i].depends_on[k].service);
                if (d && !u->attached[d - p->services]) {
                    u->attached[d - p->services] = true;
                    changed = true;
                }
            }
        }
    }
    for (int k = 0; k < u->n_no_attach; k++) {
        const struct compose_service *s = compose_project_service(p, u->no_attach[k]);
        if (s)
            u->attached[s - p->services] = false;
    }
    /* `attach: false` in the file: left out unless --attach names it, as docker compose. */
    for (size_t i = 0; !u->n_attach_to && i < p->n_services; i++)
        if (p->services[i].attach == COMPOSE_TRI_FALSE)
            u->attached[i] = false;
    return 0;
}

static bool is_attached(const struct up_cmd *u, const struct sched_observed_container *ct)
{
    const struct compose_service *s =
        ct->service ? compose_project_service(u->p, ct->service) : NULL;
    return !ct->oneoff && s && u->attached[s - u->p->services];
}

/* Follows the logs of the attached services' containers from when up began. */
static int attach(struct up_cmd *u, const char *since)
{
    struct sched_observed *o = NULL;
    int code = cli_observe_containers(u->ctx, u->c, u->project_name, &o);
    if (code)
        return code;
    u->logs_opts.follow = true;
    u->logs_opts.since = since;
    u->logs = cli_logs_new(u->c, stdout, &u->logs_opts, on_container_exit, NULL, u);
    /* Containers that start later (restarted by their policy or the watch, recreated by another
     * up) are followed too; subscribed before the first stream, so no start is missed. */
    /* Only the attached services: one left out (attach: false, --no-attach) that keeps running
     * must not keep up attached. */
    const char **watched = xcalloc(u->p->n_services + 1, sizeof(*watched));
    int n_watched = 0;
    for (size_t i = 0; i < u->p->n_services; i++)
        if (u->attached[i])
            watched[n_watched++] = u->p->services[i].name;
    struct cc_error werr = CC_ERROR_INIT;
    if (n_watched &&
        cli_logs_watch(u->logs, u->ctx->loop, u->project_name, watched, n_watched, &werr) < 0) {
        cli_error_print(&werr);
        code = cli_exit_for_error(&werr);
    }
    free(watched);
    cc_error_release(&werr);
    struct buf names = BUF_INIT;
    u->followed = xcalloc(o->n_containers + 1, sizeof(*u->followed));
    for (size_t i = 0; i < o->n_containers; i++) {
        const struct sched_observed_container *ct = &o->containers[i];
        if (!is_attached(u, ct))
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
        if (!is_attached(u, ct))
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

static void usage(FILE *out, enum cli_up_mode mode)
{
    if (mode == CLI_UP_SCALE) {
        fprintf(out, "Usage:  ccompose scale [OPTIONS] [SERVICE=REPLICAS...]\n\n"
                     "Scale services\n\n"
                     "Options:\n"
                     "      --no-deps   Don't start linked services\n");
        return;
    }
    if (mode == CLI_UP_CREATE) {
        fprintf(out,
                "Usage:  ccompose create [OPTIONS] [SERVICE...]\n\n"
                "Creates containers for a service\n\n"
                "Options:\n"
                "      --build            Build images before starting containers\n"
                "      --force-recreate   Recreate containers even if their configuration and\n"
                "                         image haven't changed\n"
                "      --no-build         Don't build an image, even if it's policy\n"
                "      --no-recreate      If containers already exist, don't recreate them.\n"
                "                         Incompatible with --force-recreate\n"
                "      --pull string      Pull image before running "
                "(\"always\"|\"missing\"|\"never\")\n"
                "      --remove-orphans   Remove containers for services not defined in the\n"
                "                         Compose file\n"
                "      --scale scale      Scale SERVICE to NUM instances. Overrides the scale\n"
                "                         setting in the Compose file if present\n");
        return;
    }
    fprintf(out,
            "Usage:  ccompose up [OPTIONS] [SERVICE...]\n\n"
            "Create and start containers\n\n"
            "Options:\n"
            "      --abort-on-container-exit      Stops all containers if any container was\n"
            "                                     stopped. Incompatible with -d\n"
            "      --abort-on-container-failure   Stops all containers if any container\n"
            "                                     exited with failure. Incompatible with -d\n"
            "      --always-recreate-deps         Recreate dependent containers. Incompatible\n"
            "                                     with --no-recreate\n"
            "      --attach stringArray           Restrict attaching to the specified\n"
            "                                     services (not with --attach-dependencies)\n"
            "      --attach-dependencies          Automatically attach to log output of\n"
            "                                     dependent services\n"
            "      --build                        Build images before starting containers\n"
            "  -d, --detach                       Detached mode: Run containers in the\n"
            "                                     background\n"
            "      --exit-code-from string        Return the exit code of the selected\n"
            "                                     service container (and abort on container\n"
            "                                     exit, as --abort-on-container-exit)\n"
            "      --force-recreate               Recreate containers even if their\n"
            "                                     configuration and image haven't changed\n"
            "      --no-attach stringArray        Do not attach (stream logs) to the\n"
            "                                     specified services\n"
            "      --no-build                     Don't build an image, even if it's policy\n"
            "      --no-color                     Produce monochrome output\n"
            "      --no-deps                      Don't start linked services\n"
            "      --no-log-prefix                Don't print prefix in logs\n"
            "      --no-recreate                  If containers already exist, don't recreate\n"
            "                                     them. Incompatible with --force-recreate\n"
            "      --no-start                     Don't start the services after creating\n"
            "                                     them\n"
            "      --pull string                  Pull image before running\n"
            "                                     (\"always\"|\"missing\"|\"never\")\n"
            "      --quiet-pull                   Pull without printing progress information\n"
            "      --remove-orphans               Remove containers for services not defined\n"
            "                                     in the Compose file\n"
            "  -V, --renew-anon-volumes           Recreate anonymous volumes instead of\n"
            "                                     retrieving data from the previous\n"
            "                                     containers\n"
            "      --scale scale                  Scale SERVICE to NUM instances. Overrides\n"
            "                                     the scale setting in the Compose file if\n"
            "                                     present\n"
            "  -t, --timeout int                  Use this timeout in seconds for container\n"
            "                                     shutdown when attached or when containers\n"
            "                                     are already running\n"
            "      --timestamps                   Show timestamps\n"
            "      --wait                         Wait for services to be running|healthy.\n"
            "                                     Implies detached mode\n"
            "      --wait-timeout int             Maximum duration to wait for the project to\n"
            "                                     be running|healthy\n");
}

enum {
    OPT_ABORT = 256,
    OPT_ABORT_FAILURE,
    OPT_ALWAYS_RECREATE_DEPS,
    OPT_ATTACH,
    OPT_ATTACH_DEPS,
    OPT_BUILD,
    OPT_EXIT_CODE_FROM,
    OPT_FORCE_RECREATE,
    OPT_NO_ATTACH,
    OPT_NO_BUILD,
    OPT_NO_COLOR,
    OPT_NO_DEPS,
    OPT_NO_PREFIX,
    OPT_NO_RECREATE,
    OPT_NO_START,
    OPT_PULL,
    OPT_QUIET_PULL,
    OPT_REMOVE_ORPHANS,
    OPT_SCALE,
    OPT_TIMESTAMPS,
    OPT_WAIT,
    OPT_WAIT_TIMEOUT,
};

static const struct option up_options[] = {
    {"abort-on-container-exit", no_argument, NULL, OPT_ABORT},
    {"abort-on-container-failure", no_argument, NULL, OPT_ABORT_FAILURE},
    {"always-recreate-deps", no_argument, NULL, OPT_ALWAYS_RECREATE_DEPS},
    {"attach", required_argument, NULL, OPT_ATTACH},
    {"attach-dependencies", no_argument, NULL, OPT_ATTACH_DEPS},
    {"build", no_argument, NULL, OPT_BUILD},
    {"detach", no_argument, NULL, 'd'},
    {"exit-code-from", required_argument, NULL, OPT_EXIT_CODE_FROM},
    {"force-recreate", no_argument, NULL, OPT_FORCE_RECREATE},
    {"no-attach", required_argument, NULL, OPT_NO_ATTACH},
    {"no-build", no_argument, NULL, OPT_NO_BUILD},
    {"no-color", no_argument, NULL, OPT_NO_COLOR},
    {"no-deps", no_argument, NULL, OPT_NO_DEPS},
    {"no-log-prefix", no_argument, NULL, OPT_NO_PREFIX},
    {"no-recreate", no_argument, NULL, OPT_NO_RECREATE},
    {"no-start", no_argument, NULL, OPT_NO_START},
    {"pull", required_argument, NULL, OPT_PULL},
    {"quiet-pull", no_argument, NULL, OPT_QUIET_PULL},
    {"remove-orphans", no_argument, NULL, OPT_REMOVE_ORPHANS},
    {"renew-anon-volumes", no_argument, NULL, 'V'},
    {"scale", required_argument, NULL, OPT_SCALE},
    {"timeout", required_argument, NULL, 't'},
    {"timestamps", no_argument, NULL, OPT_TIMESTAMPS},
    {"wait", no_argument, NULL, OPT_WAIT},
    {"wait-timeout", required_argument, NULL, OPT_WAIT_TIMEOUT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* create takes up's create flags only. */
static const struct option create_options[] = {
    {"build", no_argument, NULL, OPT_BUILD},
    {"force-recreate", no_argument, NULL, OPT_FORCE_RECREATE},
    {"no-build", no_argument, NULL, OPT_NO_BUILD},
    {"no-recreate", no_argument, NULL, OPT_NO_RECREATE},
    {"pull", required_argument, NULL, OPT_PULL},
    {"remove-orphans", no_argument, NULL, OPT_REMOVE_ORPHANS},
    {"scale", required_argument, NULL, OPT_SCALE},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const struct option scale_options[] = {
    {"no-deps", no_argument, NULL, OPT_NO_DEPS},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void push_arg(const char ***list, int *n, const char *arg)
{
    *list = xrealloc(*list, (size_t)(*n + 1) * sizeof(**list));
    (*list)[(*n)++] = arg;
}

/* The flags that only matter for how they combine. */
struct up_flags {
    bool build, no_build, force_recreate, no_recreate, always_recreate_deps, remove_orphans;
};

/* Flags as docker compose v2 combines them: the same refusals, in the same words (exit 2, where
 * docker compose exits 1: see docs/cli.md). */
static int check_flags(struct up_cmd *u, const struct up_flags *fl)
{
    struct sched_plan_options *po = &u->up.plan;
    const char *msg = NULL;
    if (u->exit_code_from && !u->abort_on_failure)
        u->abort_on_exit = true;
    if (u->abort_on_exit && u->abort_on_failure)
        msg = "--abort-on-container-failure cannot be combined with --abort-on-container-exit";
    else if (u->up.wait && (u->attach_deps || u->abort_on_exit || u->n_attach_to))
        msg = "--wait cannot be combined with --abort-on-container-exit, --attach or "
              "--attach-dependencies";
    else if (fl->build && fl->no_build)
        msg = "--build and --no-build are incompatible";
    else if ((u->detach || u->up.wait) &&
             (u->attach_deps || u->abort_on_exit || u->abort_on_failure || u->n_attach_to))
        msg = "--detach cannot be combined with --abort-on-container-exit, "
              "--abort-on-container-failure, --attach, --attach-dependencies or --watch";
    else if (po->renew_volumes && fl->no_recreate)
        msg = "--no-recreate and --renew-anon-volumes are incompatible";
    else if (fl->force_recreate && fl->no_recreate)
        msg = "--force-recreate and --no-recreate are incompatible";
    else if (fl->always_recreate_deps && fl->no_recreate)
        msg = "--always-recreate-deps and --no-recreate are incompatible";
    else if (po->ignore_orphans && po->remove_orphans)
        msg = "cannot combine COMPOSE_IGNORE_ORPHANS and --remove-orphans";
    else if (u->n_attach_to && u->attach_deps)
        msg = "cannot combine --attach and --attach-dependencies";
    else if (u->up.wait_timeout_ms && !u->up.wait)
        msg = "--wait-timeout needs --wait";
    if (msg) {
        fprintf(stderr, "error: %s\n", msg);
        return CLI_EXIT_USAGE;
    }
    po->recreate = fl->no_recreate      ? SCHED_RECREATE_NEVER
                   : fl->force_recreate ? SCHED_RECREATE_FORCE
                                        : SCHED_RECREATE_DIVERGED;
    po->recreate_deps = fl->no_recreate            ? SCHED_RECREATE_NEVER
                        : fl->always_recreate_deps ? SCHED_RECREATE_FORCE
                                                   : SCHED_RECREATE_DIVERGED;
    u->ensure.build = fl->build      ? SCHED_ENSURE_BUILD_ALWAYS
                      : fl->no_build ? SCHED_ENSURE_BUILD_NEVER
                                     : SCHED_ENSURE_BUILD_POLICY;
    if (u->up.wait)
        u->detach = true; /* --wait implies detached mode */
    if (po->no_start) {
        /* Nothing runs: nothing to wait for or to follow (docker compose returns after create). */
        u->detach = true;
        u->up.wait = false;
    }
    return 0;
}

/* scale SERVICE=N...: those services (and, unless --no-deps, what they depend on) converged to N
 * replicas and started, as up -d --scale does. */
static int scale_args(struct up_cmd *u, int argc, char **argv, const char ***scales, int *n_scales)
{
    char **names = xcalloc((size_t)argc + 1, sizeof(*names));
    u->services = names;
    for (int i = optind; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        if (!eq || eq == argv[i]) {
            fprintf(stderr, "error: invalid scale specifier '%s': use SERVICE=REPLICAS\n", argv[i]);
            return CLI_EXIT_USAGE;
        }
        push_arg(scales, n_scales, argv[i]);
        names[u->n_services++] = xstrndup(argv[i], (size_t)(eq - argv[i]));
    }
    if (!u->n_services) {
        fprintf(stderr, "error: scale needs at least one SERVICE=REPLICAS\n");
        return CLI_EXIT_USAGE;
    }
    u->detach = true;
    return 0;
}

/* Flags into u; scales are kept as argv strings until the project is loaded. */
static int parse_flags(struct up_cmd *u, int argc, char **argv, const char ***scales, int *n_scales)
{
    static const struct option *const tables[] = {
        [CLI_UP] = up_options, [CLI_UP_CREATE] = create_options, [CLI_UP_SCALE] = scale_options};
    static const char *const shorts[] = {
        [CLI_UP] = "dt:Vh", [CLI_UP_CREATE] = "h", [CLI_UP_SCALE] = "h"};
    int c, wait_timeout = 0;
    struct up_flags fl = {0};
    struct sched_plan_options *po = &u->up.plan;
    u->up.stop_timeout_s = -1;
    u->up.parallel = u->ctx->g.parallel;
    u->ensure.parallel = 0;
    while ((c = cli_getopt_long(argc, argv, shorts[u->mode], tables[u->mode], NULL)) != -1) {
        switch (c) {
        case OPT_ABORT:
            u->abort_on_exit = true;
            break;
        case OPT_ABORT_FAILURE:
            u->abort_on_failure = true;
            break;
        case OPT_ALWAYS_RECREATE_DEPS:
            fl.always_recreate_deps = true;
            break;
        case OPT_ATTACH:
            push_arg(&u->attach_to, &u->n_attach_to, optarg);
            break;
        case OPT_ATTACH_DEPS:
            u->attach_deps = true;
            break;
        case OPT_BUILD:
            fl.build = true;
            break;
        case 'd':
            u->detach = true;
            break;
        case OPT_EXIT_CODE_FROM:
            u->exit_code_from = optarg;
            break;
        case OPT_FORCE_RECREATE:
            fl.force_recreate = true;
            break;
        case OPT_NO_ATTACH:
            push_arg(&u->no_attach, &u->n_no_attach, optarg);
            break;
        case OPT_NO_BUILD:
            fl.no_build = true;
            break;
        case OPT_NO_COLOR:
            u->logs_opts.no_color = true;
            break;
        case OPT_NO_DEPS:
            po->no_deps = true;
            break;
        case OPT_NO_PREFIX:
            u->logs_opts.no_prefix = true;
            break;
        case OPT_NO_RECREATE:
            fl.no_recreate = true;
            break;
        case OPT_NO_START:
            po->no_start = true;
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
            fl.remove_orphans = true;
            break;
        case 'V':
            po->renew_volumes = true;
            break;
        case OPT_SCALE:
            push_arg(scales, n_scales, optarg);
            break;
        case 't':
            if (cli_parse_count("--timeout", optarg, 86400, &u->up.stop_timeout_s) < 0)
                return CLI_EXIT_USAGE;
            break;
        case OPT_TIMESTAMPS:
            u->logs_opts.timestamps = true;
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
            usage(stdout, u->mode);
            return -1;
        default:
            usage(stderr, u->mode);
            return CLI_EXIT_USAGE;
        }
    }
    /* As docker compose, only up reads COMPOSE_REMOVE_ORPHANS (the flag wins) and
     * COMPOSE_IGNORE_ORPHANS. */
    po->remove_orphans =
        fl.remove_orphans || (u->mode == CLI_UP && cli_env_true("COMPOSE_REMOVE_ORPHANS"));
    po->ignore_orphans = u->mode == CLI_UP && cli_env_true("COMPOSE_IGNORE_ORPHANS");
    if (u->mode == CLI_UP_CREATE)
        po->no_start = true;
    int code = check_flags(u, &fl);
    if (code)
        return code;
    if (u->mode == CLI_UP_SCALE) {
        if ((code = scale_args(u, argc, argv, scales, n_scales)))
            return code;
    } else {
        u->services = argv + optind;
        u->n_services = argc - optind;
    }
    u->up.plan.services = (const char *const *)u->services;
    u->up.plan.n_services = (size_t)u->n_services;
    u->ensure.services = u->up.plan.services;
    u->ensure.n_services = u->up.plan.n_services;
    return 0;
}

int cli_up_run(struct cli_context *ctx, int argc, char **argv, enum cli_up_mode mode)
{
    struct up_cmd u = {.ctx = ctx, .mode = mode, .w = {.err = CC_ERROR_INIT}};
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
    if (!u.detach && (code = choose_attached(&u)))
        goto out;
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
    if (u.interrupted || u.abort_on_exit || (u.abort_on_failure && u.exit_code)) {
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
    if (mode == CLI_UP_SCALE && u.services) {
        for (int i = 0; i < u.n_services; i++)
            free(u.services[i]);
        free((char **)u.services);
    }
    free(u.attach_to);
    free(u.no_attach);
    free(u.attached);
    cc_error_release(&u.w.err);
    compose_project_free(u.p);
    return code == -1 ? CLI_EXIT_OK : code;
}

static int up_run(struct cli_context *ctx, int argc, char **argv)
{
    return cli_up_run(ctx, argc, argv, CLI_UP);
}

const struct cli_command cli_cmd_up = {
    .name = "up",
    .summary = "Create and start containers",
    .run = up_run,
};
