/* `ccompose push [SERVICE...]`: pushes the image: of each service that has a build section (the
 * others are skipped, as docker compose push does); see cli/images.c. */
#include "cli/commands.h"
#include "cli/run.h"

static int push_run(struct cli_context *ctx, int argc, char **argv)
{
    return cli_transfer_run(ctx, argc, argv, SCHED_ENSURE_PUSH);
}

const struct cli_command cli_cmd_push = {
    .name = "push",
    .summary = "Push service images",
    .run = push_run,
    .no_dry_run = true,
};
