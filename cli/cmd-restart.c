/* `ccompose restart [SERVICE...]`: see cli/lifecycle.c. */
#include "cli/commands.h"
#include "cli/run.h"

static int restart_run(struct cli_context *ctx, int argc, char **argv)
{
    return cli_lifecycle_run(ctx, argc, argv, SCHED_LC_RESTART);
}

const struct cli_command cli_cmd_restart = {
    .name = "restart",
    .summary = "Restart service containers",
    .run = restart_run,
};
