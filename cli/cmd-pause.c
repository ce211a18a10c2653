/* `ccompose pause [SERVICE...]` and `ccompose unpause [SERVICE...]`: the project's containers
 * (one-off ones left alone) are paused or resumed all at once, as docker compose does. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/run.h"

static struct engine_request *pause_call(struct engine_client *c, const char *id, void *arg,
                                         engine_cb cb, void *data, struct cc_error *reterr)
{
    (void)arg;
    return engine_container_pause(c, id, cb, data, reterr);
}

static struct engine_request *unpause_call(struct engine_client *c, const char *id, void *arg,
                                           engine_cb cb, void *data, struct cc_error *reterr)
{
    (void)arg;
    return engine_container_unpause(c, id, cb, data, reterr);
}

int cli_pause_run(struct cli_context *ctx, int argc, char **argv, bool pause)
{
    static const struct option options[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    /* What the engine can pause is running; what it can resume is paused. */
    static const char *const running[] = {"running", NULL};
    static const char *const paused[] = {"paused", NULL};
    int c;
    while ((c = cli_getopt_long(argc, argv, "h", options, NULL)) != -1) {
        FILE *out = c == 'h' ? stdout : stderr;
        fprintf(out, "Usage:  ccompose %s [SERVICE...]\n\n%s\n", argv[0],
                pause ? "Pause services" : "Unpause services");
        return c == 'h' ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    }
    struct cli_view v;
    struct sched_observed_container **cts = NULL;
    int code = cli_view_open(ctx, argv + optind, argc - optind, &v);
    if (code)
        goto out;
    size_t n = 0;
    cts = cli_select_containers(&v, v.services, v.n_services, false, false,
                                pause ? running : paused, &n);
    struct cli_each each = pause
                               ? (struct cli_each){"pause", NULL, "Paused", pause_call, NULL}
                               : (struct cli_each){"unpause", NULL, "Unpaused", unpause_call, NULL};
    code =
        cli_each_container(ctx, v.c, (const struct sched_observed_container *const *)cts, n, &each);
out:
    free(cts);
    cli_view_release(ctx, &v);
    return code;
}

static int pause_run(struct cli_context *ctx, int argc, char **argv)
{
    return cli_pause_run(ctx, argc, argv, true);
}

const struct cli_command cli_cmd_pause = {
    .name = "pause",
    .summary = "Pause services",
    .run = pause_run,
};
