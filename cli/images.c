/* build, pull and push: the project loaded, the named services checked, then one
 * sched_ensure_images() in the command's mode run to its end with the progress display. Build
 * output goes to stderr as it comes, each line prefixed with its service ("[web] Step 1/3 : ..."),
 * when the display is plain; on a terminal the display shows each service's current step and, when
 * a build fails, the failing step's output is printed after it. Ctrl-C cancels. pull and push
 * share their flags here too. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/run.h"
#include "common/buf.h"

struct step_output {
    char *service;
    struct buf lines; /* the current step's output */
    bool failed;
};

struct images_cmd {
    struct cli_context *ctx;
    struct cli_wait w;
    bool quiet;
    bool plain; /* build lines printed as they come */
    struct step_output *outs;
    size_t n_outs;
    struct sched_ensure *op;
};

static struct step_output *step_output(struct images_cmd *ic, const char *service)
{
    for (size_t i = 0; i < ic->n_outs; i++)
        if (!strcmp(ic->outs[i].service, service))
            return &ic->outs[i];
    ic->outs = xrealloc(ic->outs, (ic->n_outs + 1) * sizeof(*ic->outs));
    struct step_output *o = &ic->outs[ic->n_outs++];
    o->service = xstrdup(service);
    buf_init(&o->lines);
    o->failed = false;
    return o;
}

static void on_build_line(const char *service, const char *line, void *data)
{
    struct images_cmd *ic = data;
    if (ic->quiet)
        return;
    if (ic->plain) {
        fprintf(stderr, "[%s] %s\n", service, line);
        return;
    }
    struct step_output *o = step_output(ic, service);
    if (!strncmp(line, "Step ", 5))
        buf_reset(&o->lines);
    buf_printf(&o->lines, "%s\n", line);
}

static void on_event(const struct sched_event *ev, void *data)
{
    struct images_cmd *ic = data;
    if (ev->kind == SCHED_RES_IMAGE && ev->state == SCHED_ERROR && ev->service)
        step_output(ic, ev->service)->failed = true;
    /* Plain: the build's own lines say which step runs. */
    if (ic->quiet || (ic->plain && ev->state == SCHED_BUILDING && ev->text))
        return;
    cli_on_event(ev, &ic->w);
}

static void on_done(const struct cc_error *err, void *data)
{
    struct images_cmd *ic = data;
    ic->op = NULL;
    cli_on_done(err, &ic->w);
}

static void on_interrupt(int count, void *data)
{
    (void)count;
    struct images_cmd *ic = data;
    if (ic->op)
        sched_ensure_cancel(ic->op);
}

int cli_images_ensure(struct cli_context *ctx, struct engine_client *c,
                      const struct compose_project *p, struct sched_ensure_options *opts,
                      bool quiet)
{
    struct images_cmd ic = {.ctx = ctx, .w = {.err = CC_ERROR_INIT}, .quiet = quiet};
    struct cli_interrupt intr;
    opts->on_build_line = on_build_line;
    if (!quiet) {
        ic.w.progress = cli_progress_new(ctx);
        const char *mode = ctx->g.progress ? ctx->g.progress : getenv("COMPOSE_PROGRESS");
        ic.plain = !cli_progress_is_tty(ic.w.progress) &&
                   !(mode && (!strcmp(mode, "json") || !strcmp(mode, "quiet")));
    }
    cli_interrupt_start(ctx->loop, &intr, on_interrupt, &ic);
    /* Builds and pulls are streams, which the client's bound leaves out: bound them here. */
    if (!opts->parallel)
        opts->parallel = ctx->g.parallel;
    ic.op = sched_ensure_images(ctx->loop, c, p, opts, on_event, on_done, &ic, &ic.w.err);
    if (ic.op)
        cli_wait_run(ctx->loop, &ic.w);
    cli_progress_free(ic.w.progress);
    ic.w.progress = NULL;
    for (size_t i = 0; i < ic.n_outs; i++)
        if (ic.outs[i].failed && ic.outs[i].lines.len && !quiet)
            fprintf(stderr, "[%s] output of the failed step:\n%s", ic.outs[i].service,
                    buf_str(&ic.outs[i].lines));
    int code = cli_wait_exit(&ic.w);
    if (intr.count > 0)
        code = CLI_EXIT_INTERRUPTED;
    cli_interrupt_stop(&intr);
    uv_run(ctx->loop, UV_RUN_NOWAIT);
    for (size_t i = 0; i < ic.n_outs; i++) {
        free(ic.outs[i].service);
        buf_release(&ic.outs[i].lines);
    }
    free(ic.outs);
    cc_error_release(&ic.w.err);
    return code;
}

int cli_images_run(struct cli_context *ctx, char *const *services, int n_services,
                   struct sched_ensure_options *opts, bool quiet)
{
    struct compose_project *p = NULL;
    struct engine_client *c = NULL;
    int code = cli_project_load(ctx, (const char *const *)services, (size_t)n_services, &p);
    if (code || (code = cli_services_check(p, services, n_services)))
        goto out;
    if ((code = cli_engine_open(ctx, &c)))
        goto out;
    opts->services = (const char *const *)services;
    opts->n_services = (size_t)n_services;
    code = cli_images_ensure(ctx, c, p, opts, quiet);
out:
    engine_client_free(c);
    uv_run(ctx->loop, UV_RUN_DEFAULT);
    compose_project_free(p);
    return code;
}

static void transfer_usage(FILE *out, bool push)
{
    const char *verb = push ? "push" : "pull", *Verb = push ? "Push" : "Pull";
    fprintf(out,
            "Usage:  ccompose %s [OPTIONS] [SERVICE...]\n\n"
            "%s service images\n\n"
            "Options:\n"
            "      --ignore-%s-failures   %s what it can and ignores images with %s\n"
            "                               failures\n"
            "      --include-deps           Also %s the images of services declared as\n"
            "                               dependencies\n"
            "  -q, --quiet                  %s without printing progress information\n",
            verb, Verb, verb, Verb, verb, verb, Verb);
}

int cli_transfer_run(struct cli_context *ctx, int argc, char **argv, enum sched_ensure_mode mode)
{
    enum { OPT_IGNORE = 256, OPT_INCLUDE_DEPS };
    bool push = mode == SCHED_ENSURE_PUSH;
    const struct option options[] = {
        {push ? "ignore-push-failures" : "ignore-pull-failures", no_argument, NULL, OPT_IGNORE},
        {"include-deps", no_argument, NULL, OPT_INCLUDE_DEPS},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct sched_ensure_options eo = {.mode = mode};
    bool quiet = false;
    int c;
    while ((c = cli_getopt_long(argc, argv, "qh", options, NULL)) != -1) {
        switch (c) {
        case OPT_IGNORE:
            eo.ignore_failures = true;
            break;
        case OPT_INCLUDE_DEPS:
            eo.include_deps = true;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            transfer_usage(stdout, push);
            return CLI_EXIT_OK;
        default:
            return CLI_EXIT_USAGE;
        }
    }
    return cli_images_run(ctx, argv + optind, argc - optind, &eo, quiet);
}
