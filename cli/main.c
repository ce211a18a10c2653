/* ccompose's entry point: global flags (as docker compose has them), then one command. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "common/log.h"

/* One a line, so that adding a command touches one line. */
/* clang-format off */
static const struct cli_command *const commands[] = {
    &cli_cmd_build,
    &cli_cmd_config,
    &cli_cmd_cp,
    &cli_cmd_convert,
    &cli_cmd_create,
    &cli_cmd_down,
    &cli_cmd_events,
    &cli_cmd_exec,
    &cli_cmd_graph,
    &cli_cmd_help,
    &cli_cmd_images,
    &cli_cmd_kill,
    &cli_cmd_logs,
    &cli_cmd_ls,
    &cli_cmd_pause,
    &cli_cmd_port,
    &cli_cmd_ps,
    &cli_cmd_pull,
    &cli_cmd_push,
    &cli_cmd_restart,
    &cli_cmd_rm,
    &cli_cmd_run,
    &cli_cmd_scale,
    &cli_cmd_stack,
    &cli_cmd_start,
    &cli_cmd_stop,
    &cli_cmd_top,
    &cli_cmd_unpause,
    &cli_cmd_up,
    &cli_cmd_version,
    &cli_cmd_wait,
};
/* clang-format on */

const struct cli_command *cli_command_find(const char *name)
{
    for (size_t i = 0; i < CC_ARRAY_LEN(commands); i++)
        if (!strcmp(commands[i]->name, name))
            return commands[i];
    return NULL;
}

void cli_suggest_command(const char *word)
{
    const char *names[CC_ARRAY_LEN(commands)];
    for (size_t i = 0; i < CC_ARRAY_LEN(commands); i++)
        names[i] = commands[i]->name;
    const char *best = cli_closest(word, names, CC_ARRAY_LEN(commands));
    if (best)
        fprintf(stderr, "did you mean '%s'?\n", best);
}

void cli_usage(FILE *out)
{
    /* docker compose's words, sorted as its --help sorts them; -H, -v and --verbose are the
     * docker CLI's. */
    fprintf(
        out,
        "Usage:  ccompose [OPTIONS] COMMAND\n\n"
        "Define and run multi-container applications with a Docker-compatible engine\n\n"
        "Options:\n"
        "      --ansi string                Control when to print ANSI control characters\n"
        "                                   (\"never\"|\"always\"|\"auto\") (default \"auto\")\n"
        "      --dry-run                    Execute command in dry run mode\n"
        "      --env-file stringArray       Specify an alternate environment file\n"
        "  -f, --file stringArray           Compose configuration files\n"
        "  -h, --help                       Print this help and quit\n"
        "  -H, --host string                Daemon socket to connect to (unix://, tcp://)\n"
        "      --parallel int               Control max parallelism: engine calls in\n"
        "                                   flight at most (default 16)\n"
        "      --profile stringArray        Specify a profile to enable\n"
        "      --progress string            Set type of progress output (auto, tty,\n"
        "                                   plain, json, quiet) (default \"auto\")\n"
        "      --project-directory string   Specify an alternate working directory\n"
        "                                   (default: the path of the, first specified,\n"
        "                                   Compose file)\n"
        "  -p, --project-name string        Project name\n"
        "      --verbose                    Show more output\n"
        "  -v, --version                    Print version information and quit\n\n"
        "Commands:\n");
    for (size_t i = 0; i < CC_ARRAY_LEN(commands); i++)
        fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "\nRun 'ccompose COMMAND --help' for more information on a command.\n");
}

/* Appends to a growing array of borrowed strings. */
static void push(const char ***list, int *n, const char *s)
{
    *list = xrealloc(*list, (size_t)(*n + 1) * sizeof(**list));
    (*list)[(*n)++] = s;
}

static void free_globals(struct cli_globals *g)
{
    free(g->files);
    free(g->env_files);
    free(g->profiles);
}

enum {
    OPT_PROJECT_DIR = 256,
    OPT_ENV_FILE,
    OPT_PROFILE,
    OPT_ANSI,
    OPT_PROGRESS,
    OPT_PARALLEL,
    OPT_DRY_RUN,
    OPT_VERBOSE
};

static const struct option global_options[] = {
    {"file", required_argument, NULL, 'f'},
    {"project-name", required_argument, NULL, 'p'},
    {"project-directory", required_argument, NULL, OPT_PROJECT_DIR},
    {"env-file", required_argument, NULL, OPT_ENV_FILE},
    {"profile", required_argument, NULL, OPT_PROFILE},
    {"host", required_argument, NULL, 'H'},
    {"ansi", required_argument, NULL, OPT_ANSI},
    {"progress", required_argument, NULL, OPT_PROGRESS},
    {"parallel", required_argument, NULL, OPT_PARALLEL},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"version", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Parses the global flags; returns the index of the command in argv, or -1 with *ret_exit set. */
/* --parallel and COMPOSE_PARALLEL_LIMIT: 1 to 1024, or -1 for no limit (as docker compose; 1024
 * in flight is as good as none). */
static int parse_parallel(const char *what, const char *value, int *ret)
{
    char *end;
    long n = strtol(value, &end, 10);
    if (!*value || *end || n == 0 || n < -1 || n > 1024) {
        fprintf(stderr, "error: %s takes a number from 1 to 1024, or -1 for no limit, not '%s'\n",
                what, value);
        return -1;
    }
    *ret = n == -1 ? 1024 : (int)n;
    return 0;
}

static int parse_globals(int argc, char **argv, struct cli_globals *g, int *ret_exit)
{
    int c;
    opterr = 1;
    while ((c = cli_getopt_as(NULL, argc, argv, "+f:p:H:vh", global_options, NULL)) != -1) {
        switch (c) {
        case 'f':
            push(&g->files, &g->n_files, optarg);
            break;
        case 'p':
            g->project_name = optarg;
            break;
        case OPT_PROJECT_DIR:
            g->project_directory = optarg;
            break;
        case OPT_ENV_FILE:
            push(&g->env_files, &g->n_env_files, optarg);
            break;
        case OPT_PROFILE:
            push(&g->profiles, &g->n_profiles, optarg);
            break;
        case 'H':
            g->host = optarg;
            break;
        case OPT_ANSI:
            g->ansi = optarg;
            break;
        case OPT_PROGRESS:
            g->progress = optarg;
            break;
        case OPT_PARALLEL:
            if (parse_parallel("--parallel", optarg, &g->parallel) < 0) {
                *ret_exit = CLI_EXIT_USAGE;
                return -1;
            }
            break;
        case OPT_DRY_RUN:
            g->dry_run = true;
            break;
        case OPT_VERBOSE:
            g->verbose = true;
            break;
        case 'v':
            printf("ccompose version %s\n", CCOMPOSE_VERSION);
            *ret_exit = CLI_EXIT_OK;
            return -1;
        case 'h':
            cli_usage(stdout);
            *ret_exit = CLI_EXIT_OK;
            return -1;
        default:
            *ret_exit = CLI_EXIT_USAGE;
            return -1;
        }
    }
    /* --parallel wins over the environment, as in docker compose. */
    const char *limit = getenv("COMPOSE_PARALLEL_LIMIT");
    if (!g->parallel && limit && *limit &&
        parse_parallel("COMPOSE_PARALLEL_LIMIT", limit, &g->parallel) < 0) {
        *ret_exit = CLI_EXIT_USAGE;
        return -1;
    }
    if (optind >= argc) {
        cli_usage(stderr);
        *ret_exit = CLI_EXIT_USAGE;
        return -1;
    }
    return optind;
}

int main(int argc, char **argv)
{
    struct cli_context ctx;
    memset(&ctx, 0, sizeof(ctx));
    int exit_code = CLI_EXIT_USAGE;

    const char *debug = getenv("CCOMPOSE_DEBUG");
    int at = parse_globals(argc, argv, &ctx.g, &exit_code);
    if (at < 0)
        goto out;
    if (ctx.g.verbose || (debug && *debug && strcmp(debug, "0") != 0))
        log_level = LOG_DEBUG;
    cli_env_file_apply(&ctx);

    const struct cli_command *cmd = cli_command_find(argv[at]);
    if (!cmd) {
        fprintf(stderr, "error: unknown command '%s'\n", argv[at]);
        cli_suggest_command(argv[at]);
        fprintf(stderr, "Run 'ccompose --help' for usage.\n");
        exit_code = CLI_EXIT_USAGE;
        goto out;
    }

    if (ctx.g.dry_run && cmd->no_dry_run) {
        exit_code = cli_dry_run_refused(cmd->name);
        goto out;
    }

    uv_loop_t loop;
    if (uv_loop_init(&loop) != 0) {
        fprintf(stderr, "error: cannot start the event loop\n");
        exit_code = CLI_EXIT_FAILURE;
        goto out;
    }
    ctx.loop = &loop;
    optind = 0; /* commands run their own getopt_long from argv[0] = their name */
    exit_code = cmd->run(&ctx, argc - at, argv + at);
    if (cli_loop_finish(&loop) != 0)
        log_debug("%s: the loop still had open handles at exit", __func__);
out:
    free_globals(&ctx.g);
    return exit_code;
}
