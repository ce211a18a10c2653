/* `ccompose stack`: compose files deployed to a swarm, as `docker stack` does it.
 *
 *   stack deploy -c FILE [-c FILE...] [--prune] [--resolve-image always|changed|never]
 *                [--detach=false | --wait] [--wait-timeout SECONDS] STACK
 *   stack ls | services STACK | ps STACK | rm STACK
 *
 * The files are loaded with the stack's name as the project name (so resources are named
 * "<stack>_<key>"); the scheduler does the work (sched_stack_*) and reports through callbacks,
 * which the shared progress display renders (cli/render.c); tables go to stdout. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/run.h"
#include "compose/compose.h"
#include "engine-client/engine.h"
#include "scheduler/scheduler.h"

static const char usage[] =
    "Usage:  ccompose stack COMMAND\n\n"
    "Manage stacks on a swarm.\n\n"
    "Commands:\n"
    "  deploy -c FILE [-c FILE...] [OPTIONS] STACK   deploy a new stack or update one\n"
    "      --prune                  remove services that are no longer in the files\n"
    "      --resolve-image MODE     always (default), changed or never: pin images to their\n"
    "                               registry digest\n"
    "      --detach=false, --wait   wait until every service runs what it wants\n"
    "      --wait-timeout SECONDS   give up waiting after this long\n"
    "  ls                           list stacks\n"
    "  services STACK               list the services of a stack\n"
    "  ps STACK                     list the tasks of a stack\n"
    "  rm STACK                     remove a stack (waits until its tasks are gone)\n";

/* A query's end: its rows. */
struct stack_rows {
    struct cli_wait w;
    json_t *rows;
};

static void on_rows(json_t *rows, const struct cc_error *err, void *data)
{
    struct stack_rows *r = data;
    cli_on_done(err, &r->w);
    if (rows)
        r->rows = json_incref(rows);
}

/* Prints rows (objects) as a table of the given keys under the given headings. */
static void print_table(json_t *rows, const char *const *keys, const char *const *heads,
                        size_t n)
{
    size_t width[8] = {0};
    json_t *cells = json_array();
    for (size_t k = 0; k < n; k++)
        width[k] = strlen(heads[k]);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        json_t *line = json_array();
        for (size_t k = 0; k < n; k++) {
            json_t *v = json_object_get(row, keys[k]);
            char *text = json_is_string(v) ? xstrdup(json_string_value(v))
                         : json_is_integer(v)
                             ? xasprintf("%lld", (long long)json_integer_value(v))
                             : xstrdup("");
            if (strlen(text) > width[k])
                width[k] = strlen(text);
            json_array_append_new(line, json_string(text));
            free(text);
        }
        json_array_append_new(cells, line);
    }
    for (size_t k = 0; k < n; k++)
        printf("%-*s%s", k + 1 < n ? (int)width[k] : 0, heads[k], k + 1 < n ? "   " : "\n");
    json_array_foreach(cells, i, row)
        for (size_t k = 0; k < n; k++)
            printf("%-*s%s", k + 1 < n ? (int)width[k] : 0,
                   json_string_value(json_array_get(row, k)), k + 1 < n ? "   " : "\n");
    json_decref(cells);
}

static int query(struct cli_context *ctx, enum sched_stack_query what, const char *stack)
{
    struct engine_client *c = NULL;
    int code = cli_engine_open(ctx, &c);
    if (code)
        return code;
    struct stack_rows r = {.w = {.err = CC_ERROR_INIT}};
    if (sched_stack_query(ctx->loop, c, what, stack, on_rows, &r, &r.w.err))
        cli_wait_run(ctx->loop, &r.w);
    if (!(code = cli_wait_exit(&r.w))) {
        json_t *rows = r.rows;
        static const char *const ls_keys[] = {"Name", "Services"};
        static const char *const ls_heads[] = {"NAME", "SERVICES"};
        static const char *const svc_keys[] = {"ID", "Name", "Mode", "Replicas", "Image", "Ports"};
        static const char *const svc_heads[] = {"ID", "NAME", "MODE", "REPLICAS", "IMAGE",
                                                "PORTS"};
        static const char *const ps_keys[] = {"ID",           "Name",         "Image", "Node",
                                              "DesiredState", "CurrentState", "Error"};
        static const char *const ps_heads[] = {"ID",     "NAME",          "IMAGE", "NODE",
                                               "DESIRED STATE", "CURRENT STATE", "ERROR"};
        size_t i;
        json_t *row;
        switch (what) {
        case SCHED_STACK_LS:
            print_table(rows, ls_keys, ls_heads, 2);
            break;
        case SCHED_STACK_SERVICES:
            json_array_foreach(rows, i, row)
            {
                char *rep = xasprintf(
                    "%lld/%lld", (long long)json_integer_value(json_object_get(row, "Running")),
                    (long long)json_integer_value(json_object_get(row, "Desired")));
                json_object_set_new(row, "Replicas", json_string(rep));
                free(rep);
            }
            print_table(rows, svc_keys, svc_heads, 6);
            break;
        case SCHED_STACK_PS:
            print_table(rows, ps_keys, ps_heads, 7);
            break;
        }
    }
    json_decref(r.rows);
    cc_error_release(&r.w.err);
    engine_client_free(c);
    return code;
}

/* Deploy (project set) or rm (project NULL) with the progress display. A deploy whose services do
 * not converge exits 5, as a service that failed to start. */
static int run_op(struct cli_context *ctx, const struct compose_project *project, const char *stack,
                  const struct sched_stack_options *o)
{
    struct engine_client *c = NULL;
    int code = cli_engine_open(ctx, &c);
    if (code)
        return code;
    struct cli_wait w = {.err = CC_ERROR_INIT, .progress = cli_progress_new(ctx)};
    struct sched_op *op =
        project ? sched_stack_deploy(ctx->loop, c, project, o, cli_on_event, cli_on_done, &w, &w.err)
                : sched_stack_rm(ctx->loop, c, stack, o, cli_on_event, cli_on_done, &w, &w.err);
    if (op)
        cli_wait_run(ctx->loop, &w);
    cli_progress_free(w.progress);
    code = cli_wait_exit(&w);
    if (op && w.err.kind == CC_ERR_FAILED)
        code = CLI_EXIT_SERVICE;
    cc_error_release(&w.err);
    engine_client_free(c);
    /* The client's cancelled requests and handles close on the loop before the model goes. */
    uv_run(ctx->loop, UV_RUN_DEFAULT);
    return code;
}

static int rm(struct cli_context *ctx, const char *stack)
{
    struct sched_stack_options o = {.parallel = ctx->g.parallel};
    return run_op(ctx, NULL, stack, &o);
}

enum { OPT_PRUNE = 256, OPT_RESOLVE, OPT_DETACH, OPT_WAIT, OPT_WAIT_TIMEOUT };

static int deploy(struct cli_context *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"compose-file", required_argument, NULL, 'c'},
        {"prune", no_argument, NULL, OPT_PRUNE},
        {"resolve-image", required_argument, NULL, OPT_RESOLVE},
        {"detach", optional_argument, NULL, OPT_DETACH},
        {"wait", no_argument, NULL, OPT_WAIT},
        {"wait-timeout", required_argument, NULL, OPT_WAIT_TIMEOUT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct sched_stack_options o = {.parallel = ctx->g.parallel};
    const char **files = xcalloc((size_t)argc + 1, sizeof(*files));
    int n_files = 0, opt, code = CLI_EXIT_USAGE;
    while ((opt = cli_getopt_as("stack deploy", argc, argv, "c:h", options, NULL)) != -1) {
        switch (opt) {
        case 'c':
            files[n_files++] = optarg;
            break;
        case OPT_PRUNE:
            o.prune = true;
            break;
        case OPT_RESOLVE:
            if (!strcmp(optarg, "always")) {
                o.resolve_image = SCHED_RESOLVE_ALWAYS;
            } else if (!strcmp(optarg, "changed")) {
                o.resolve_image = SCHED_RESOLVE_CHANGED;
            } else if (!strcmp(optarg, "never")) {
                o.resolve_image = SCHED_RESOLVE_NEVER;
            } else {
                fprintf(stderr, "error: --resolve-image takes always, changed or never, not "
                                "'%s'\n",
                        optarg);
                goto out;
            }
            break;
        case OPT_DETACH:
            if (optarg && strcmp(optarg, "true") && strcmp(optarg, "false")) {
                fprintf(stderr, "error: --detach takes true or false, not '%s'\n", optarg);
                goto out;
            }
            o.wait = optarg && !strcmp(optarg, "false");
            break;
        case OPT_WAIT:
            o.wait = true;
            break;
        case OPT_WAIT_TIMEOUT: {
            char *end;
            long s = strtol(optarg, &end, 10);
            if (*end || s < 0) {
                fprintf(stderr, "error: --wait-timeout takes whole seconds, not '%s'\n", optarg);
                goto out;
            }
            o.wait_timeout_ms = (int64_t)s * 1000;
            break;
        }
        case 'h':
            fputs(usage, stdout);
            code = CLI_EXIT_OK;
            goto out;
        default:
            goto out;
        }
    }
    if (optind + 1 != argc || !n_files) {
        fprintf(stderr, "error: stack deploy needs -c FILE and one STACK\n");
        goto out;
    }
    /* The stack is the project: its name names everything, as docker's namespace does. */
    struct cli_context sctx = *ctx;
    sctx.g.files = files;
    sctx.g.n_files = n_files;
    sctx.g.project_name = argv[optind];
    struct compose_project *p = NULL;
    if ((code = cli_project_load(&sctx, NULL, 0, &p)))
        goto out;
    code = run_op(ctx, p, NULL, &o);
    compose_project_free(p);
out:
    free(files);
    return code;
}

static int stack_run(struct cli_context *ctx, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL;
    if (!sub || !strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        fputs(usage, sub ? stdout : stderr);
        return sub ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    }
    if (!strcmp(sub, "deploy") || !strcmp(sub, "up"))
        return deploy(ctx, argc - 1, argv + 1);
    if (!strcmp(sub, "ls") || !strcmp(sub, "list")) {
        if (argc != 2) {
            fprintf(stderr, "error: stack ls takes no arguments\n");
            return CLI_EXIT_USAGE;
        }
        return query(ctx, SCHED_STACK_LS, NULL);
    }
    bool services = !strcmp(sub, "services"), ps = !strcmp(sub, "ps");
    bool remove = !strcmp(sub, "rm") || !strcmp(sub, "remove") || !strcmp(sub, "down");
    if (!services && !ps && !remove) {
        static const char *const subs[] = {"deploy", "ls", "services", "ps", "rm"};
        static const char *const flags[] = {"help"};
        bool flag = !strncmp(sub, "--", 2);
        const char *best = flag ? cli_closest(sub + 2, flags, 1)
                                : cli_closest(sub, subs, CC_ARRAY_LEN(subs));
        fprintf(stderr, "error: unknown %s '%s'\n", flag ? "flag" : "stack command", sub);
        if (best)
            fprintf(stderr, "did you mean '%s%s'?\n", flag ? "--" : "", best);
        fprintf(stderr, "See 'ccompose stack --help'.\n");
        return CLI_EXIT_USAGE;
    }
    if (argc != 3) {
        fprintf(stderr, "error: stack %s needs one STACK\n", sub);
        return CLI_EXIT_USAGE;
    }
    if (remove)
        return rm(ctx, argv[2]);
    return query(ctx, services ? SCHED_STACK_SERVICES : SCHED_STACK_PS, argv[2]);
}

const struct cli_command cli_cmd_stack = {
    .name = "stack",
    .summary = "Deploy compose files to a swarm and manage the stacks there",
    .run = stack_run,
};
