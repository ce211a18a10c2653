/* `ccompose stop [SERVICE...]`: see cli/lifecycle.c. */
#include "cli/commands.h"
#include "cli/run.h"

static int stop_run(struct cli_context *ctx, int argc, char **argv)
{
    return cli_lifecycle_run(ctx, argc, argv, SCHED_LC_STOP);
}

const struct cli_command cli_cmd_stop = {
    .name = "stop",
    .summary = "Stop services",
    .run = stop_run,
};
