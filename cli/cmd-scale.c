/* `ccompose scale [--no-deps] SERVICE=N...`: the services converged to N replicas each (new ones
 * numbered after the highest, the highest numbers removed first) and started, as up -d --scale;
 * see cli/cmd-up.c. */
#include "cli/commands.h"
#include "cli/run.h"

static int scale_run(struct cli_context *ctx, int argc, char **argv)
{
    return cli_up_run(ctx, argc, argv, CLI_UP_SCALE);
}

const struct cli_command cli_cmd_scale = {
    .name = "scale",
    .summary = "Scale services",
    .run = scale_run,
};
