/* `ccompose help [COMMAND]`: the same text as `ccompose --help`, or as `ccompose COMMAND --help`.
 */
#include <getopt.h>
#include <string.h>

#include "cli/commands.h"

static int help_run(struct cli_context *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = cli_getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (c != 'h')
            return CLI_EXIT_USAGE;
        printf("Usage:  ccompose help [COMMAND]\n\n"
               "Show the commands and global options, or a command's help\n");
        return CLI_EXIT_OK;
    }
    if (argc - optind > 1) {
        fprintf(stderr, "error: 'help' takes one COMMAND at most\n");
        return CLI_EXIT_USAGE;
    }
    if (argc == optind) {
        cli_usage(stdout);
        return CLI_EXIT_OK;
    }
    const struct cli_command *cmd = cli_command_find(argv[optind]);
    if (!cmd) {
        fprintf(stderr, "error: unknown command '%s'\n", argv[optind]);
        cli_suggest_command(argv[optind]);
        return CLI_EXIT_USAGE;
    }
    char *help_argv[] = {(char *)cmd->name, (char *)"--help", NULL};
    optind = 0;
    return cmd->run(ctx, 2, help_argv);
}

const struct cli_command cli_cmd_help = {
    .name = "help",
    .summary = "Show the commands and global options, or a command's help",
    .run = help_run,
};
