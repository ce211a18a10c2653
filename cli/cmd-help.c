/* `ccompose help`: the same text as `ccompose --help`. */
#include "cli/commands.h"

static int help_run(struct cli_context *ctx, int argc, char **argv)
{
    (void)ctx;
    (void)argv;
    if (argc > 1) {
        fprintf(stderr, "error: 'help' takes no arguments; run 'ccompose COMMAND --help'\n");
        return CLI_EXIT_USAGE;
    }
    cli_usage(stdout);
    return CLI_EXIT_OK;
}

const struct cli_command cli_cmd_help = {
    .name = "help",
    .summary = "Show the commands and global options",
    .run = help_run,
};
