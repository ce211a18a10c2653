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
    &cli_cmd_create,
    &cli_cmd_down,
    &cli_cmd_events,
    &cli_cmd_exec,
    &cli_cmd_help,
    &cli_cmd_logs,
    &cli_cmd_ps,
    &cli_cmd_pull,
    &cli_cmd_push,
    &cli_cmd_restart,
    &cli_cmd_run,
    &cli_cmd_scale,
    &cli_cmd_stack,
    &cli_cmd_start,
    &cli_cmd_stop,
    &cli_cmd_up,
    &cli_cmd_version,
    &cli_cmd_wait,
};
/* clang-format on */

void cli_usage(FILE *out)
{
    fprintf(out, "Usage:  ccompose [OPTIONS] COMMAND\n\n"
                 "Define and run multi-container applications with a Docker-compatible engine.\n\n"
                 "Options:\n"
                 "  -f, --file FILE               compose configuration files\n"
                 "  -p, --project-name NAME       project name\n"
                 "      --project-directory DIR   alternate working directory (default: the\n"
                 "                                directory of the first compose file)\n"
                 "      --env-file FILE           alternate environment file\n"
                 "      --profile PROFILE         a profile to enable\n"
                 "  -H, --host HOST               engine address (unix:// or tcp://)\n"
                 "      --ansi never|always|auto  control characters (default auto)\n"
                 "      --progress TYPE           auto, tty, plain, json or quiet\n"
                 "      --parallel N              engine calls in flight at most\n"
                 "      --dry-run                 execute the command in dry-run mode\n"
                 "      --verbose                 show debug output\n"
                 "  -v, --version                 show the ccompose version and quit\n"
                 "  -h, --help                    show this help\n\n"
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
static int parse_globals(int argc, char **argv, struct cli_globals *g, int *ret_exit)
{
    int c;
    opterr = 1;
    while ((c = getopt_long(argc, argv, "+f:p:H:vh", global_options, NULL)) != -1) {
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
        case OPT_PARALLEL: {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > 1024) {
                fprintf(stderr, "error: --parallel takes a number from 1 to 1024, not '%s'\n",
                        optarg);
                *ret_exit = CLI_EXIT_USAGE;
                return -1;
            }
            g->parallel = (int)n;
            break;
        }
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
            fprintf(stderr, "Run 'ccompose --help' for usage.\n");
            *ret_exit = CLI_EXIT_USAGE;
            return -1;
        }
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

    const struct cli_command *cmd = NULL;
    for (size_t i = 0; i < CC_ARRAY_LEN(commands); i++)
        if (strcmp(commands[i]->name, argv[at]) == 0)
            cmd = commands[i];
    if (!cmd) {
        fprintf(stderr, "error: unknown command '%s'\nRun 'ccompose --help' for usage.\n",
                argv[at]);
        exit_code = CLI_EXIT_USAGE;
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
