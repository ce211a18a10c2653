/* `ccompose unpause [SERVICE...]`: see cli/cmd-pause.c. */
#include "cli/commands.h"
#include "cli/run.h"

static int unpause_run(struct cli_context *ctx, int argc, char **argv)
{
    return cli_pause_run(ctx, argc, argv, false);
}

const struct cli_command cli_cmd_unpause = {
    .name = "unpause",
    .summary = "Unpause services",
    .run = unpause_run,
};
