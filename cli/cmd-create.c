/* `ccompose create [SERVICE...]`: up's images and convergence without starting anything (up
 * --no-start), with create's flags; see cli/cmd-up.c. */
#include "cli/commands.h"
#include "cli/run.h"

static int create_run(struct cli_context *ctx, int argc, char **argv)
{
    return cli_up_run(ctx, argc, argv, CLI_UP_CREATE);
}

const struct cli_command cli_cmd_create = {
    .name = "create",
    .summary = "Creates containers for a service",
    .run = create_run,
};
