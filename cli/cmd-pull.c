/* `ccompose pull [SERVICE...]`: pulls the services' images as docker compose pull does (services
 * with no image: are skipped, and so are pull_policy never and build); see cli/images.c. */
#include "cli/commands.h"
#include "cli/run.h"

static int pull_run(struct cli_context *ctx, int argc, char **argv)
{
    return cli_transfer_run(ctx, argc, argv, SCHED_ENSURE_PULL);
}

const struct cli_command cli_cmd_pull = {
    .name = "pull",
    .summary = "Pull service images",
    .run = pull_run,
    .no_dry_run = true,
};
