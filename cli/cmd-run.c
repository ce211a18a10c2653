/* `ccompose run`: a one-off container of a service (labelled oneoff=True, named
 * "<project>-<service>-run-<12 hex>"), its dependencies started first, our stdin, stdout and
 * stderr joined to it as exec does (cli/attach.c); its exit code becomes ours, and with --rm it is
 * removed however it ends. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/run.h"

struct run_cmd {
    struct cli_context *ctx;
    struct engine_client *c;
    const struct compose_project *model;
    const struct compose_service *service;
    const char **deps;
    size_t n_deps;
    char *id;
    struct cc_error start_err;
    bool interrupted;
};

/* Dependencies (or, with --no-deps, none) brought up, and the service's networks and volumes. */
static struct sched_op *start_deps(struct cli_wait *w, void *data, struct cc_error *reterr)
{
    struct run_cmd *r = data;
    struct sched_up_options o = {
        .plan = {.services = r->deps, .n_services = r->n_deps, .resources_of = r->service->name},
        .parallel = r->ctx->g.parallel,
        .wait = r->n_deps > 0,
        .stop_timeout_s = -1,
    };
    return sched_up(r->ctx->loop, r->c, r->model, &o, NULL, cli_on_event, cli_on_done, w, reterr);
}

/* The service's secrets and configs that are copied rather than bind-mounted go into the new
 * one-off before it starts, as up does. */
static int inject_files(struct run_cmd *r)
{
    struct buf tar = BUF_INIT;
    struct cc_error err = CC_ERROR_INIT;
    int code = 0;
    if (sched_inject_tar(r->model, r->service, &tar, &err) < 0) {
        cli_error_print(&err);
        code = cli_exit_for_error(&err);
    } else if (tar.len) {
        struct sched_bytes_reader rd = {.data = tar.data, .len = tar.len};
        struct cli_call w = {0};
        code = cli_call_run(r->ctx->loop,
                            engine_container_archive_put(r->c, r->id, "/", false, sched_bytes_read,
                                                         &rd, cli_call_done, &w, &w.err),
                            &w);
        cli_call_release(&w);
    }
    cc_error_release(&err);
    sched_bytes_wipe(&tar);
    return code;
}

static void on_started(json_t *result, const struct cc_error *err, void *data)
{
    (void)result;
    struct cli_attach *a = data;
    struct run_cmd *r = a->data;
    if (err) {
        cc_error_copy(&r->start_err, err);
        cli_attach_cancel(a);
    }
}

/* The stream is open: the container may start, none of its output is lost. */
static void on_open(struct cli_attach *a, void *data)
{
    struct run_cmd *r = data;
    struct cc_error err = CC_ERROR_INIT;
    if (!engine_container_start(r->c, r->id, on_started, a, &err)) {
        cc_error_copy(&r->start_err, &err);
        cli_attach_cancel(a);
    }
    cc_error_release(&err);
}

static void on_interrupt(int count, void *data)
{
    (void)count;
    struct cli_attach *a = data;
    struct run_cmd *r = a->data;
    r->interrupted = true;
    cli_attach_cancel(a);
}

static void usage(FILE *out)
{
    fprintf(out, "Usage:  ccompose run [OPTIONS] SERVICE [COMMAND] [ARGS...]\n\n"
                 "Run a one-off command on a service\n\n"
                 "Options:\n"
                 "  -d, --detach               Run container in background and print\n"
                 "                             container ID\n"
                 "      --build                Build image before starting container\n"
                 "      --entrypoint string    Override the entrypoint of the image\n"
                 "  -e, --env stringArray      Set environment variables\n"
                 "  -i, --interactive          Keep STDIN open even if not attached (default\n"
                 "                             true)\n"
                 "  -l, --label stringArray    Add or override a label\n"
                 "      --name string          Assign a name to the container\n"
                 "  -T, --no-TTY               Disable pseudo-TTY allocation (default:\n"
                 "                             auto-detected)\n"
                 "      --no-deps              Don't start linked services\n"
                 "  -p, --publish stringArray  Publish a container's port(s) to the host\n"
                 "      --pull string          Pull image before running\n"
                 "                             (\"always\"|\"missing\"|\"never\") (default\n"
                 "                             \"policy\")\n"
                 "      --rm                   Automatically remove the container when it exits\n"
                 "      --service-ports        Run command with all service's ports enabled and\n"
                 "                             mapped to the host\n"
                 "  -t, --tty                  Allocate a pseudo-TTY (default: auto-detected)\n"
                 "      --use-aliases          Use the service's network aliases in the\n"
                 "                             network(s) the container connects to\n"
                 "  -u, --user string          Run as specified username or uid\n"
                 "  -v, --volume stringArray   Bind mount a volume\n"
                 "  -w, --workdir string       Working directory inside the container\n");
}

static void push(const char ***list, size_t *n, const char *s)
{
    *list = xrealloc(*list, (*n + 1) * sizeof(**list));
    (*list)[(*n)++] = s;
}

/* -v with a relative source ("./data:/data"): made absolute from the project directory, as
 * docker compose does with the service's own volumes (the engine only takes absolute paths or
 * volume names); "~" is the home directory. new. */
static char *volume_arg(const char *v, const char *project_dir)
{
    if (v[0] == '~' && (v[1] == '/' || v[1] == ':')) {
        const char *home = getenv("HOME");
        return xasprintf("%s%s", home ? home : "", v + 1);
    }
    if (v[0] != '.')
        return xstrdup(v);
    /* "./x" and "." name the project directory's own paths: drop the "./" so that the engine
     * shows the path as given in the file would be shown. */
    const char *rest = v;
    while (rest[0] == '.' && rest[1] == '/')
        for (rest += 2; *rest == '/'; rest++)
            ;
    if (rest[0] == '.' && (rest[1] == ':' || !rest[1]))
        return xasprintf("%s%s", project_dir, rest + 1);
    return xasprintf("%s/%s", project_dir, rest);
}

static void on_removed(json_t *result, const struct cc_error *err, void *data)
{
    (void)result;
    bool *done = data;
    *done = true;
    if (err && err->kind != CC_ERR_NOT_FOUND)
        cli_error_print(err);
}

static int run_run(struct cli_context *ctx, int argc, char **argv)
{
    enum {
        OPT_ENTRYPOINT = 256,
        OPT_NAME,
        OPT_NO_DEPS,
        OPT_RM,
        OPT_SERVICE_PORTS,
        OPT_ALIASES,
        OPT_BUILD,
        OPT_PULL
    };
    static const struct option options[] = {
        {"build", no_argument, NULL, OPT_BUILD},
        {"detach", no_argument, NULL, 'd'},
        {"entrypoint", required_argument, NULL, OPT_ENTRYPOINT},
        {"env", required_argument, NULL, 'e'},
        {"label", required_argument, NULL, 'l'},
        {"name", required_argument, NULL, OPT_NAME},
        {"no-TTY", no_argument, NULL, 'T'},
        {"no-tty", no_argument, NULL, 'T'},
        {"no-deps", no_argument, NULL, OPT_NO_DEPS},
        {"publish", required_argument, NULL, 'p'},
        {"pull", required_argument, NULL, OPT_PULL},
        {"rm", no_argument, NULL, OPT_RM},
        {"service-ports", no_argument, NULL, OPT_SERVICE_PORTS},
        {"use-aliases", no_argument, NULL, OPT_ALIASES},
        {"user", required_argument, NULL, 'u'},
        {"volume", required_argument, NULL, 'v'},
        {"workdir", required_argument, NULL, 'w'},
        {"interactive", no_argument, NULL, 'i'},
        {"tty", no_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct sched_oneoff o = {.interactive = true};
    struct sched_ensure_options eo = {.mode = SCHED_ENSURE_UP};
    bool detach = false, no_tty = !isatty(STDIN_FILENO), no_deps = false, rm = false;
    bool attached = false, intr_on = false;
    const char **env = NULL, **labels = NULL, **volume_args = NULL, **volumes = NULL;
    const char **ports = NULL;
    size_t n_env = 0, n_labels = 0, n_volumes = 0, n_ports = 0;
    struct compose_project *model = NULL;
    struct run_cmd r = {.ctx = ctx, .start_err = CC_ERROR_INIT};
    struct cli_call w = {0};
    struct cli_attach a;
    memset(&a, 0, sizeof(a));
    struct cli_interrupt intr;
    json_t *body = NULL, *env_args = json_array();
    char *name = NULL;
    int c, code = CLI_EXIT_OK;
    while ((c = cli_getopt_long(argc, argv, "+de:l:Tp:u:v:w:ith", options, NULL)) != -1) {
        switch (c) {
        case OPT_BUILD:
            eo.build = SCHED_ENSURE_BUILD_ALWAYS;
            break;
        case OPT_PULL:
            if (strcmp(optarg, "always") && strcmp(optarg, "missing") && strcmp(optarg, "never") &&
                strcmp(optarg, "policy")) {
                fprintf(stderr, "error: --pull takes always, missing or never, not '%s'\n", optarg);
                code = CLI_EXIT_USAGE;
                goto out;
            }
            eo.pull = strcmp(optarg, "policy") ? optarg : NULL;
            break;
        case 'd':
            detach = true;
            break;
        case OPT_ENTRYPOINT:
            o.entrypoint = optarg;
            break;
        case 'e':
            cli_env_add(env_args, optarg);
            break;
        case 'l':
            push(&labels, &n_labels, optarg);
            break;
        case OPT_NAME:
            o.name = optarg;
            break;
        case 'T':
            no_tty = true;
            break;
        case OPT_NO_DEPS:
            no_deps = true;
            break;
        case 'p':
            push(&ports, &n_ports, optarg);
            break;
        case OPT_RM:
            rm = true;
            break;
        case OPT_SERVICE_PORTS:
            o.service_ports = true;
            break;
        case OPT_ALIASES:
            o.use_aliases = true;
            break;
        case 'u':
            o.user = optarg;
            break;
        case 'v':
            push(&volume_args, &n_volumes, optarg);
            break;
        case 'w':
            o.workdir = optarg;
            break;
        case 'i':
        case 't':
            break; /* docker compose's defaults already */
        case 'h':
            usage(stdout);
            goto out;
        default:
            code = CLI_EXIT_USAGE;
            goto out;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "error: run needs a service\n");
        usage(stderr);
        code = CLI_EXIT_USAGE;
        goto out;
    }
    char *service = argv[optind];
    if ((code = cli_project_load(ctx, (const char *const *)&service, 1, &model)))
        goto out;
    r.model = model;
    if (!(r.service = compose_project_service(model, service))) {
        fprintf(stderr, "error: no such service: '%s'\n", service);
        code = CLI_EXIT_FAILURE; /* docker compose's exit code for it, as every command's */
        goto out;
    }
    for (size_t i = 0; i < n_volumes; i++)
        volumes = xrealloc(volumes, (i + 1) * sizeof(*volumes)),
        volumes[i] = volume_arg(volume_args[i], model->working_dir);
    if ((code = cli_engine_open(ctx, &r.c)))
        goto out;
    /* The service's image and its dependencies' first (built with --build, pulled as --pull and
     * pull_policy say), as docker compose run does. */
    eo.services = (const char *const *)&r.service->name;
    eo.n_services = 1;
    eo.no_deps = no_deps;
    if ((code = cli_images_ensure(ctx, r.c, model, &eo, false)))
        goto out;
    for (size_t i = 0; !no_deps && i < r.service->n_depends_on; i++)
        if (compose_project_service(model, r.service->depends_on[i].service))
            push(&r.deps, &r.n_deps, r.service->depends_on[i].service);
    if ((code = cli_run_op(ctx, start_deps, &r)))
        goto out;

    for (size_t i = 0; i < json_array_size(env_args); i++)
        push(&env, &n_env, json_string_value(json_array_get(env_args, i)));
    o.command = (const char *const *)argv + optind + 1;
    o.n_command = (size_t)(argc - optind - 1);
    o.env = env;
    o.n_env = n_env;
    o.labels = labels;
    o.n_labels = n_labels;
    o.volumes = volumes;
    o.n_volumes = n_volumes;
    o.ports = ports;
    o.n_ports = n_ports;
    o.tty = !no_tty && !detach;
    o.interactive = !detach;
    struct cc_error err = CC_ERROR_INIT;
    if (!(body = sched_oneoff_body(model, r.service, &o, &name, &err))) {
        cli_error_print(&err);
        code = cli_exit_for_error(&err);
        cc_error_release(&err);
        goto out;
    }
    if ((code = cli_call_run(
             ctx->loop, engine_container_create(r.c, name, body, cli_call_done, &w, &w.err), &w)))
        goto out;
    r.id = xstrdup(json_string_value(json_object_get(w.result, "Id")));
    cli_call_release(&w);
    if ((code = inject_files(&r)))
        goto out;

    if (detach) {
        if (!(code = cli_call_run(
                  ctx->loop, engine_container_start(r.c, r.id, cli_call_done, &w, &w.err), &w)))
            printf("%s\n", name);
        goto out;
    }
    a.loop = ctx->loop;
    a.c = r.c;
    a.tty = o.tty;
    a.stdin_on = true;
    a.container = r.id;
    a.on_open = on_open;
    a.data = &r;
    attached = true;
    if ((code = cli_attach_start(&a)))
        goto out;
    cli_interrupt_start(ctx->loop, &intr, on_interrupt, &a);
    intr_on = true;
    cli_attach_wait(&a);
    if (r.start_err.kind != CC_ERR_NONE) {
        cli_error_print(&r.start_err);
        code = cli_exit_for_error(&r.start_err);
    } else if (r.interrupted) {
        code = CLI_EXIT_INTERRUPTED;
    } else if (a.err.kind != CC_ERR_NONE) {
        cli_error_print(&a.err);
        code = cli_exit_for_error(&a.err);
    } else if (!(code = cli_call_run(
                     ctx->loop,
                     engine_container_wait(r.c, r.id, "not-running", cli_call_done, &w, &w.err),
                     &w))) {
        code = (int)json_integer_value(json_object_get(w.result, "StatusCode"));
    }
out:
    if (attached)
        cli_attach_release(&a);
    if (intr_on)
        cli_interrupt_stop(&intr);
    /* --rm: whatever happened once the container exists, Ctrl-C included. */
    if (rm && r.id && !detach) {
        bool removed = false;
        struct cc_error rerr = CC_ERROR_INIT;
        if (engine_container_remove(r.c, r.id, true, true, on_removed, &removed, &rerr))
            while (!removed && uv_run(ctx->loop, UV_RUN_ONCE))
                ;
        cc_error_release(&rerr);
    }
    cli_call_release(&w);
    json_decref(body);
    json_decref(env_args);
    engine_client_free(r.c);
    uv_run(ctx->loop, UV_RUN_DEFAULT);
    compose_project_free(model);
    for (size_t i = 0; volumes && i < n_volumes; i++)
        free((char *)volumes[i]);
    free(volumes);
    free(volume_args);
    free(env);
    free(labels);
    free(ports);
    free(r.deps);
    free(r.id);
    free(name);
    cc_error_release(&r.start_err);
    return code;
}

const struct cli_command cli_cmd_run = {
    .name = "run",
    .summary = "Run a one-off command on a service",
    .run = run_run,
    .no_dry_run = true,
};
