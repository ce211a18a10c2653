/* `ccompose down [SERVICE...]`: stop and remove the project's containers (or the named services'
 * and their dependents'), then its networks (and with -v its named volumes, with --rmi its
 * images) unless a container still uses them. Works from the labels alone: `ccompose -p NAME
 * down` needs no compose file. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/run.h"

struct down_cmd {
    struct cli_context *ctx;
    struct engine_client *c;
    const char *project;
    struct compose_project *model;
    struct sched_down_options opts;
    const char *rmi; /* NULL, "local" or "all" */
    char **images;   /* to remove after down */
    size_t n_images;
};

static struct sched_op *start_down(struct cli_wait *w, void *data, struct cc_error *reterr)
{
    struct down_cmd *d = data;
    return sched_down(d->ctx->loop, d->c, d->project, d->model, &d->opts, cli_on_event, cli_on_done,
                      w, reterr);
}

static void add_image(struct down_cmd *d, const char *name)
{
    if (!name || !strncmp(name, "sha256:", 7))
        return;
    for (size_t i = 0; i < d->n_images; i++)
        if (!strcmp(d->images[i], name))
            return;
    d->images = xrealloc(d->images, (d->n_images + 1) * sizeof(*d->images));
    d->images[d->n_images++] = xstrdup(name);
}

/* --rmi local: the images ccompose names itself ("<project>-<service>"); all: also the images the
 * containers were made from. */
static int collect_images(struct down_cmd *d)
{
    struct sched_observed *o = NULL;
    int code = cli_observe_containers(d->ctx, d->c, d->project, &o);
    if (code)
        return code;
    for (size_t i = 0; i < o->n_containers; i++) {
        const struct sched_observed_container *ct = &o->containers[i];
        if (ct->service) {
            char *own = xasprintf("%s-%s", d->project, ct->service);
            add_image(d, own);
            free(own);
        }
        if (!strcmp(d->rmi, "all"))
            add_image(d, json_string_value(json_object_get(ct->summary, "Image")));
    }
    sched_observed_free(o);
    return 0;
}

struct rmi_call {
    struct down_cmd *d;
    struct cli_progress *progress;
    const char *image;
    int *pending;
    int *failed;
};

static void on_image_removed(json_t *result, const struct cc_error *err, void *data)
{
    (void)result;
    struct rmi_call *r = data;
    if (!err)
        cli_progress_report(r->progress, "Image", r->image, "Removed", NULL, true, false);
    else if (err->kind != CC_ERR_NOT_FOUND) {
        cli_progress_report(r->progress, "Image", r->image, "Error", err->message, true, true);
        (*r->failed)++;
    }
    (*r->pending)--;
    free(r);
}

static int remove_images(struct down_cmd *d)
{
    int pending = 0, failed = 0;
    struct cli_progress *progress = cli_progress_new(d->ctx);
    for (size_t i = 0; i < d->n_images; i++) {
        struct rmi_call *r = xcalloc(1, sizeof(*r));
        *r = (struct rmi_call){d, progress, d->images[i], &pending, &failed};
        struct cc_error err = CC_ERROR_INIT;
        if (engine_image_remove(d->c, d->images[i], false, on_image_removed, r, &err)) {
            pending++;
            cli_progress_report(progress, "Image", d->images[i], "Removing", NULL, false, false);
        } else {
            free(r);
            failed++;
        }
        cc_error_release(&err);
    }
    while (pending > 0 && uv_run(d->ctx->loop, UV_RUN_ONCE))
        ;
    cli_progress_free(progress);
    return failed ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
}

static void usage(FILE *out)
{
    fprintf(out, "Usage:  ccompose down [OPTIONS] [SERVICES]\n\n"
                 "Stop and remove containers, networks\n\n"
                 "Options:\n"
                 "      --remove-orphans   Remove containers for services not defined in the\n"
                 "                         Compose file\n"
                 "      --rmi string       Remove images used by services. \"local\" remove\n"
                 "                         only images that don't have a custom tag\n"
                 "                         (\"local\"|\"all\")\n"
                 "  -t, --timeout int      Specify a shutdown timeout in seconds\n"
                 "  -v, --volumes          Remove named volumes declared in the \"volumes\"\n"
                 "                         section of the Compose file and anonymous volumes\n"
                 "                         attached to containers\n");
}

static int down_run(struct cli_context *ctx, int argc, char **argv)
{
    enum { OPT_REMOVE_ORPHANS = 256, OPT_RMI };
    static const struct option options[] = {
        {"remove-orphans", no_argument, NULL, OPT_REMOVE_ORPHANS},
        {"rmi", required_argument, NULL, OPT_RMI},
        {"timeout", required_argument, NULL, 't'},
        {"volumes", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct down_cmd d = {.ctx = ctx, .opts = {.stop_timeout_s = -1, .parallel = ctx->g.parallel}};
    d.opts.remove_orphans = cli_env_true("COMPOSE_REMOVE_ORPHANS");
    int c;
    while ((c = cli_getopt_long(argc, argv, "t:vh", options, NULL)) != -1) {
        switch (c) {
        case OPT_REMOVE_ORPHANS:
            d.opts.remove_orphans = true;
            break;
        case OPT_RMI:
            if (strcmp(optarg, "local") && strcmp(optarg, "all")) {
                fprintf(stderr, "error: --rmi takes 'local' or 'all', not '%s'\n", optarg);
                return CLI_EXIT_USAGE;
            }
            d.rmi = optarg;
            break;
        case 't':
            if (cli_parse_count("--timeout", optarg, 86400, &d.opts.stop_timeout_s) < 0)
                return CLI_EXIT_USAGE;
            break;
        case 'v':
            d.opts.volumes = true;
            break;
        case 'h':
            usage(stdout);
            return CLI_EXIT_OK;
        default:
            return CLI_EXIT_USAGE;
        }
    }
    d.opts.services = (const char *const *)(argv + optind);
    d.opts.n_services = (size_t)(argc - optind);
    int code = cli_project_resolve(ctx, argv + optind, argc - optind, false, &d.project, &d.model);
    if (code)
        return code;
    if ((code = cli_engine_open(ctx, &d.c)))
        goto out;
    if (ctx->g.dry_run) {
        code = cli_dry_run_lifecycle(ctx, d.c, d.project, argv + optind, argc - optind, "down",
                                     d.opts.volumes);
        goto out;
    }
    if (d.rmi && (code = collect_images(&d)))
        goto out;
    code = cli_run_op(ctx, start_down, &d);
    if (!code && d.n_images)
        code = remove_images(&d);
out:
    engine_client_free(d.c);
    uv_run(ctx->loop, UV_RUN_DEFAULT);
    for (size_t i = 0; i < d.n_images; i++)
        free(d.images[i]);
    free(d.images);
    compose_project_free(d.model);
    return code;
}

const struct cli_command cli_cmd_down = {
    .name = "down",
    .summary = "Stop and remove containers, networks",
    .run = down_run,
};
