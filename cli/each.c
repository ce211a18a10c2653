/* One engine call per container, for the commands that act on a project's containers one by one
 * and in no particular order (kill, pause, unpause, rm): the calls run side by side (at most
 * --parallel in flight), each container's progress is shown as docker compose shows it
 * ("Container p-web-1  Killing", then "Killed"), and --dry-run prints what would be done. */
#include <stdlib.h>
#include <string.h>

#include "cli/run.h"

struct each_run {
    struct cli_context *ctx;
    struct engine_client *c;
    const struct cli_each *each;
    const struct sched_observed_container *const *cts;
    size_t n, next, pending;
    struct cli_progress *progress;
    struct cc_error err; /* the first failure */
};

struct each_one {
    struct each_run *r;
    const struct sched_observed_container *ct;
};

static void each_pump(struct each_run *r);

static void on_each_done(json_t *result, const struct cc_error *err, void *data)
{
    (void)result;
    struct each_one *o = data;
    struct each_run *r = o->r;
    r->pending--;
    if (err) {
        cli_progress_report(r->progress, "Container", o->ct->name, "Error", err->message, true,
                            true);
        if (r->err.kind == CC_ERR_NONE)
            cc_error_copy(&r->err, err);
    } else {
        cli_progress_report(r->progress, "Container", o->ct->name, r->each->done, NULL, true,
                            false);
    }
    free(o);
    each_pump(r);
}

/* Sends calls while the limit allows; the first that cannot be made ends the sending. */
static void each_pump(struct each_run *r)
{
    size_t limit = r->ctx->g.parallel > 0 ? (size_t)r->ctx->g.parallel : r->n;
    while (r->next < r->n && r->pending < limit && r->err.kind == CC_ERR_NONE) {
        struct each_one *o = xmalloc(sizeof(*o));
        *o = (struct each_one){r, r->cts[r->next++]};
        if (r->each->doing)
            cli_progress_report(r->progress, "Container", o->ct->name, r->each->doing, NULL, false,
                                false);
        if (!r->each->call(r->c, o->ct->id, r->each->arg, on_each_done, o, &r->err)) {
            cli_progress_report(r->progress, "Container", o->ct->name, "Error", r->err.message,
                                true, true);
            free(o);
            return;
        }
        r->pending++;
    }
}

int cli_each_container(struct cli_context *ctx, struct engine_client *c,
                       const struct sched_observed_container *const *cts, size_t n,
                       const struct cli_each *each)
{
    if (ctx->g.dry_run) {
        for (size_t i = 0; i < n; i++)
            printf("container %s: %s\n", cts[i]->name, each->verb);
        return CLI_EXIT_OK;
    }
    struct each_run r = {
        .ctx = ctx,
        .c = c,
        .each = each,
        .cts = cts,
        .n = n,
        .progress = cli_progress_new(ctx),
        .err = CC_ERROR_INIT,
    };
    each_pump(&r);
    while (r.pending && uv_run(ctx->loop, UV_RUN_ONCE))
        ;
    cli_progress_free(r.progress);
    int code = CLI_EXIT_OK;
    if (r.err.kind != CC_ERR_NONE) {
        cli_error_print(&r.err);
        code = cli_exit_for_error(&r.err);
    }
    cc_error_release(&r.err);
    return code;
}

int cli_view_open(struct cli_context *ctx, char *const *services, int n_services,
                  struct cli_view *v)
{
    memset(v, 0, sizeof(*v));
    v->services = services;
    v->n_services = n_services;
    int code;
    if ((code = cli_project_resolve(ctx, services, n_services, false, &v->project, &v->model)) ||
        (code = cli_engine_open(ctx, &v->c)))
        return code;
    return cli_observe_containers(ctx, v->c, v->project, &v->observed);
}

void cli_view_release(struct cli_context *ctx, struct cli_view *v)
{
    sched_observed_free(v->observed);
    engine_client_free(v->c);
    uv_run(ctx->loop, UV_RUN_DEFAULT);
    compose_project_free(v->model);
    memset(v, 0, sizeof(*v));
}

struct sched_observed_container **cli_select_containers(const struct cli_view *v,
                                                        char *const *services, int n_services,
                                                        bool oneoff, bool orphans,
                                                        const char *const *states, size_t *ret_n)
{
    const struct sched_observed *o = v->observed;
    struct sched_observed_container **sel = xcalloc(o->n_containers + 1, sizeof(*sel));
    size_t n = 0;
    for (size_t i = 0; i < o->n_containers; i++) {
        struct sched_observed_container *ct = &o->containers[i];
        if ((ct->oneoff && !oneoff) || !cli_service_selected(ct->service, services, n_services))
            continue;
        if (v->model && !orphans &&
            (!ct->service || !compose_project_service(v->model, ct->service)))
            continue;
        bool state_ok = !states;
        for (size_t k = 0; states && states[k]; k++)
            state_ok |= ct->state && !strcmp(ct->state, states[k]);
        if (state_ok)
            sel[n++] = ct;
    }
    *ret_n = n;
    return sel;
}
