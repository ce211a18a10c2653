/* `ccompose start [SERVICE...]`: see cli/lifecycle.c. */
#include "cli/commands.h"
#include "cli/run.h"

static int start_run(struct cli_context *ctx, int argc, char **argv)
{
    return cli_lifecycle_run(ctx, argc, argv, SCHED_LC_START);
}

const struct cli_command cli_cmd_start = {
    .name = "start",
    .summary = "Start services",
    .run = start_run,
};
