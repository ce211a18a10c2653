/* `ccompose kill [-s SIGNAL] [--remove-orphans] [SERVICE...]`: sends a signal (SIGKILL by default)
 * to the project's running containers, one-off ones included, all at once as docker compose
 * does. With a compose file, containers of services it does not define are left alone unless
 * --remove-orphans (or COMPOSE_REMOVE_ORPHANS) says to signal them too. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/commands.h"
#include "cli/run.h"

static struct engine_request *kill_call(struct engine_client *c, const char *id, void *arg,
                                        engine_cb cb, void *data, struct cc_error *reterr)
{
    return engine_container_kill(c, id, arg, cb, data, reterr);
}

static void usage(FILE *out)
{
    fprintf(out, "Usage:  ccompose kill [OPTIONS] [SERVICE...]\n\n"
                 "Force stop service containers\n\n"
                 "Options:\n"
                 "      --remove-orphans   Remove containers for services not defined in the\n"
                 "                         Compose file\n"
                 "  -s, --signal string    SIGNAL to send to the container (default\n"
                 "                         \"SIGKILL\")\n");
}

static int kill_run(struct cli_context *ctx, int argc, char **argv)
{
    enum { OPT_REMOVE_ORPHANS = 256 };
    static const struct option options[] = {
        {"signal", required_argument, NULL, 's'},
        {"remove-orphans", no_argument, NULL, OPT_REMOVE_ORPHANS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    /* What docker lists without --all: paused ones are signalled too. */
    static const char *const running[] = {"running", "paused", NULL};
    const char *env = getenv("COMPOSE_REMOVE_ORPHANS");
    bool orphans = env && (!strcmp(env, "1") || !strcasecmp(env, "true"));
    const char *signal = "SIGKILL";
    int c;
    while ((c = cli_getopt_long(argc, argv, "s:h", options, NULL)) != -1) {
        switch (c) {
        case 's':
            signal = optarg;
            break;
        case OPT_REMOVE_ORPHANS:
            orphans = true;
            break;
        default:
            return cli_usage_exit(c, usage);
        }
    }
    struct cli_view v;
    struct sched_observed_container **cts = NULL;
    int code = cli_view_open(ctx, argv + optind, argc - optind, &v);
    if (code)
        goto out;
    size_t n = 0;
    cts = cli_select_containers(&v, v.services, v.n_services, true, orphans, running, &n);
    if (n == 0) {
        fprintf(stderr, "No container to kill\n");
        goto out;
    }
    struct cli_each each = {"kill", "Killing", "Killed", kill_call, (void *)signal};
    code =
        cli_each_container(ctx, v.c, (const struct sched_observed_container *const *)cts, n, &each);
out:
    free(cts);
    cli_view_release(ctx, &v);
    return code;
}

const struct cli_command cli_cmd_kill = {
    .name = "kill",
    .summary = "Force stop service containers",
    .run = kill_run,
};
