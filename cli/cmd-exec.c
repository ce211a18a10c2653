/* `ccompose exec`: a command in a service's running container, through the exec endpoints, with
 * our stdin, stdout and stderr joined to it (cli/attach.c); its exit code becomes ours. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/run.h"

static void on_interrupt(int count, void *data)
{
    (void)count;
    cli_attach_cancel(data);
}

static void usage(FILE *out)
{
    fprintf(out, "Usage:  ccompose exec [OPTIONS] SERVICE COMMAND [ARGS...]\n\n"
                 "Execute a command in a running container\n\n"
                 "Options:\n"
                 "  -d, --detach              Detached mode: Run command in the background\n"
                 "  -e, --env stringArray     Set environment variables\n"
                 "      --index int           Index of the container if service has multiple\n"
                 "                            replicas (default 1)\n"
                 "  -i, --interactive         Keep STDIN open even if not attached (default\n"
                 "                            true)\n"
                 "  -T, --no-TTY              Disable pseudo-TTY allocation (default:\n"
                 "                            auto-detected)\n"
                 "      --privileged          Give extended privileges to the process\n"
                 "  -t, --tty                 Allocate a pseudo-TTY (default: auto-detected)\n"
                 "  -u, --user string         Run the command as this user\n"
                 "  -w, --workdir string      Path to workdir directory for this command\n");
}

static int exec_run(struct cli_context *ctx, int argc, char **argv)
{
    enum { OPT_INDEX = 256, OPT_PRIVILEGED };
    static const struct option options[] = {
        {"detach", no_argument, NULL, 'd'},
        {"env", required_argument, NULL, 'e'},
        {"index", required_argument, NULL, OPT_INDEX},
        {"no-TTY", no_argument, NULL, 'T'},
        {"no-tty", no_argument, NULL, 'T'},
        {"privileged", no_argument, NULL, OPT_PRIVILEGED},
        {"user", required_argument, NULL, 'u'},
        {"workdir", required_argument, NULL, 'w'},
        {"interactive", no_argument, NULL, 'i'},
        {"tty", no_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool detach = false, no_tty = !isatty(STDIN_FILENO), privileged = false;
    const char *user = NULL, *workdir = NULL, *project = NULL;
    int index = 1, c, code = CLI_EXIT_OK;
    json_t *env = json_array(), *body = NULL;
    struct compose_project *model = NULL;
    struct engine_client *client = NULL;
    struct sched_observed *observed = NULL;
    struct cli_call w = {0};
    struct cli_attach a;
    memset(&a, 0, sizeof(a));
    struct cli_interrupt intr;
    bool intr_on = false, attached = false;
    while ((c = cli_getopt_long(argc, argv, "+de:Tu:w:ith", options, NULL)) != -1) {
        switch (c) {
        case 'd':
            detach = true;
            break;
        case 'e':
            cli_env_add(env, optarg);
            break;
        case OPT_INDEX:
            if (cli_parse_count("--index", optarg, 1 << 20, &index) < 0 || index < 1) {
                code = CLI_EXIT_USAGE;
                goto out;
            }
            break;
        case 'T':
            no_tty = true;
            break;
        case OPT_PRIVILEGED:
            privileged = true;
            break;
        case 'u':
            user = optarg;
            break;
        case 'w':
            workdir = optarg;
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
    if (argc - optind < 2) {
        fprintf(stderr, "error: exec needs a service and a command\n");
        usage(stderr);
        code = CLI_EXIT_USAGE;
        goto out;
    }
    char *service = argv[optind];
    /* As docker compose's exec: the project's name only; a service it does not have is "not
     * running" below. */
    if ((code = cli_project_resolve(ctx, NULL, 0, false, &project, &model)) ||
        (code = cli_engine_open(ctx, &client)) ||
        (code = cli_observe_containers(ctx, client, project, &observed)))
        goto out;
    const struct sched_observed_container *ct = cli_find_container(observed, service, index);
    if (!ct || strcmp(ct->state, "running") != 0) {
        fprintf(stderr, "error: service '%s' is not running%s\n", service,
                index > 1 && !ct ? " (no container with that index)" : "");
        code = CLI_EXIT_FAILURE;
        goto out;
    }
    bool tty = !no_tty && !detach;
    json_t *cmd = json_array();
    for (int i = optind + 1; i < argc; i++)
        json_array_append_new(cmd, json_string(argv[i]));
    body =
        json_pack("{s:b, s:b, s:b, s:b, s:o, s:b}", "AttachStdin", !detach, "AttachStdout", !detach,
                  "AttachStderr", !detach, "Tty", tty, "Cmd", cmd, "Privileged", privileged);
    if (json_array_size(env))
        json_object_set(body, "Env", env);
    if (user)
        json_object_set_new(body, "User", json_string(user));
    if (workdir)
        json_object_set_new(body, "WorkingDir", json_string(workdir));
    if ((code = cli_call_run(
             ctx->loop, engine_exec_create(client, ct->id, body, cli_call_done, &w, &w.err), &w)))
        goto out;
    char *exec_id = xstrdup(json_string_value(json_object_get(w.result, "Id")));
    cli_call_release(&w);
    if (detach) {
        code = cli_call_run(
            ctx->loop,
            engine_exec_start(client, exec_id, true, false, NULL, cli_call_done, &w, &w.err), &w);
        free(exec_id);
        goto out;
    }
    a.loop = ctx->loop;
    a.c = client;
    a.tty = tty;
    a.stdin_on = true;
    a.exec_id = exec_id;
    attached = true;
    if ((code = cli_attach_start(&a))) {
        free(exec_id);
        goto out;
    }
    cli_interrupt_start(ctx->loop, &intr, on_interrupt, &a);
    intr_on = true;
    cli_attach_wait(&a);
    if (a.err.kind == CC_ERR_CANCELLED) {
        code = CLI_EXIT_INTERRUPTED;
    } else if (a.err.kind != CC_ERR_NONE) {
        cli_error_print(&a.err);
        code = cli_exit_for_error(&a.err);
    } else if (!(code = cli_call_run(
                     ctx->loop, engine_exec_inspect(client, exec_id, cli_call_done, &w, &w.err),
                     &w))) {
        code = (int)json_integer_value(json_object_get(w.result, "ExitCode"));
    }
    free(exec_id);
out:
    if (attached)
        cli_attach_release(&a);
    if (intr_on)
        cli_interrupt_stop(&intr);
    cli_call_release(&w);
    json_decref(body);
    json_decref(env);
    sched_observed_free(observed);
    engine_client_free(client);
    uv_run(ctx->loop, UV_RUN_DEFAULT);
    compose_project_free(model);
    return code;
}

const struct cli_command cli_cmd_exec = {
    .name = "exec",
    .summary = "Execute a command in a running container",
    .run = exec_run,
    .no_dry_run = true,
};
