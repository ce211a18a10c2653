/* Watch: ccompose's restart on unhealthy (the `x-ccompose: {restart_on_unhealthy: true}` service
 * extension; docs/compose-extensions.md). docker compose never restarts an unhealthy container;
 * a service that opts in has its container restarted when it turns unhealthy, after a delay that
 * doubles with each restart that did not make it healthy again (capped), and then the containers of
 * the services that depend on it with `restart: true`.
 *
 * Driven by the project's container events (health_status), with one list of the containers
 * already unhealthy right after subscribing, so none is missed. Runs until cancelled. */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "scheduler/op-internal.h"
#include "scheduler/scheduler-internal.h"

#define WATCH_BACKOFF_MS     1000
#define WATCH_BACKOFF_MAX_MS 30000

enum wctr_state { WCTR_IDLE = 0, WCTR_LOOKING, WCTR_DUE, WCTR_RESTARTING };

/* A container of a service that restarts on unhealthy, once it has been unhealthy. */
struct wctr {
    struct watch *w;
    char *id;
    char *name;
    size_t service;
    enum wctr_state state;
    int restarts; /* in a row without turning healthy */
    uint64_t due; /* loop time (ms) of the restart */
    bool restarted;
};

struct watch {
    struct sched_op *op;
    const struct compose_project *p;
    struct sched_watch_options opts;
    struct sched_graph *graph;
    struct wctr **ctrs;
    size_t n_ctrs;
    uv_timer_t timer; /* the next due restart; its close frees the watch */
};

struct dep_restart {
    struct watch *w;
    char *id;
    char *name;
    char *service;
};

static void watch_arm(struct watch *w);

static struct wctr *wctr_find(struct watch *w, const char *id)
{
    for (size_t i = 0; id && i < w->n_ctrs; i++)
        if (!strcmp(w->ctrs[i]->id, id))
            return w->ctrs[i];
    return NULL;
}

static void wctr_report(struct wctr *t, enum sched_state state, const char *text)
{
    op_report(t->w->op, SCHED_RES_CONTAINER, t->name, t->w->p->services[t->service].name, state,
              text ? "%s" : NULL, text);
}

/* The service index of a container event's or list entry's labels, when it is one of the model's
 * services that restart on unhealthy; else -1. */
static ssize_t watched_service(struct watch *w, json_t *labels)
{
    const char *name = sched_json_str(labels, SCHED_LABEL_SERVICE);
    for (size_t i = 0; name && i < w->p->n_services; i++)
        if (!strcmp(w->p->services[i].name, name))
            return w->p->services[i].x_ccompose.restart_on_unhealthy ? (ssize_t)i : -1;
    return -1;
}

/* ---- Restarting the dependents ------------------------------------------------------------- */

static void on_dependent_restarted(json_t *result, const struct cc_error *err, void *data)
{
    (void)result;
    struct dep_restart *d = data;
    struct sched_op *op = d->w->op;
    op->outstanding--;
    if (op->state != OP_DRAINING) {
        if (err)
            op_report(op, SCHED_RES_CONTAINER, d->name, d->service, SCHED_ERROR,
                      "cannot restart: %s", err->message);
        else
            op_report(op, SCHED_RES_CONTAINER, d->name, d->service, SCHED_RESTARTED, NULL);
    }
    free(d->id);
    free(d->name);
    free(d->service);
    free(d);
    op_check(op);
}

static void on_dependents_listed(json_t *result, const struct cc_error *err, void *data)
{
    struct dep_restart *list = data;
    struct watch *w = list->w;
    struct sched_op *op = w->op;
    op->outstanding--;
    if (op->state == OP_DRAINING)
        goto out;
    if (err) {
        op_report(op, SCHED_RES_CONTAINER, list->name, list->service, SCHED_ERROR,
                  "cannot list the dependents to restart: %s", err->message);
        goto out;
    }
    size_t i;
    json_t *c;
    json_array_foreach(result, i, c)
    {
        const char *name = json_string_value(json_array_get(json_object_get(c, "Names"), 0));
        struct dep_restart *d = xcalloc(1, sizeof(*d));
        d->w = w;
        d->id = xstrdup(sched_json_str(c, "Id"));
        d->name = xstrdup(name ? name + (*name == '/') : d->id);
        d->service = xstrdup(list->service);
        op_report(op, SCHED_RES_CONTAINER, d->name, d->service, SCHED_RESTARTING,
                  "dependency '%s' was restarted", list->name);
        op_call(op, SCHED_CALL_CONTAINER_RESTART, d->id, NULL, w->opts.stop_timeout_s, false,
                on_dependent_restarted, d);
    }
out:
    free(list->name);
    free(list->service);
    free(list);
    op_check(op);
}

/* The running containers of every service that depends on t's with `restart: true`. */
static void restart_dependents(struct wctr *t)
{
    struct watch *w = t->w;
    const char *restarted = w->p->services[t->service].name;
    for (size_t si = 0; si < w->graph->n; si++) {
        for (size_t k = 0; k < w->graph->n_deps[si]; k++) {
            const struct sched_dep *d = &w->graph->deps[si][k];
            if (d->service != t->service || !d->restart)
                continue;
            struct dep_restart *list = xcalloc(1, sizeof(*list));
            list->w = w;
            list->name = xstrdup(restarted);
            list->service = xstrdup(w->p->services[si].name);
            json_t *f = sched_project_filters(w->op->project_name, NULL);
            char *label = xasprintf("%s=%s", SCHED_LABEL_SERVICE, w->p->services[si].name);
            json_array_append_new(json_object_get(f, "label"), json_string(label));
            free(label);
            op_call(w->op, SCHED_CALL_CONTAINER_LIST, NULL, f, 0, false, on_dependents_listed,
                    list);
            break;
        }
    }
}

/* ---- Restarting the unhealthy ------------------------------------------------------------- */

static void on_restarted(json_t *result, const struct cc_error *err, void *data)
{
    (void)result;
    struct wctr *t = data;
    struct sched_op *op = t->w->op;
    op->outstanding--;
    if (op->state == OP_DRAINING)
        goto out;
    t->state = WCTR_IDLE;
    if (err) {
        char *text = xasprintf("cannot restart: %s", err->message);
        wctr_report(t, SCHED_ERROR, text);
        free(text);
        goto out;
    }
    t->restarted = true;
    wctr_report(t, SCHED_RESTARTED, NULL);
    restart_dependents(t);
out:
    op_check(op);
}

static void on_watch_timer(uv_timer_t *timer)
{
    struct watch *w = timer->data;
    if (w->op->state == OP_DRAINING)
        return;
    uint64_t now = uv_now(w->op->loop);
    for (size_t i = 0; i < w->n_ctrs; i++) {
        struct wctr *t = w->ctrs[i];
        if (t->state != WCTR_DUE || t->due > now)
            continue;
        t->state = WCTR_RESTARTING;
        op_call(w->op, SCHED_CALL_CONTAINER_RESTART, t->id, NULL, w->opts.stop_timeout_s, false,
                on_restarted, t);
    }
    watch_arm(w);
}

/* Arms the timer for the earliest due restart. */
static void watch_arm(struct watch *w)
{
    uint64_t now = uv_now(w->op->loop), next = UINT64_MAX;
    for (size_t i = 0; i < w->n_ctrs; i++)
        if (w->ctrs[i]->state == WCTR_DUE && w->ctrs[i]->due < next)
            next = w->ctrs[i]->due;
    if (next == UINT64_MAX)
        uv_timer_stop(&w->timer);
    else
        uv_timer_start(&w->timer, on_watch_timer, next > now ? next - now : 0, 0);
}

static void on_looked_at(struct sched_op *op, char *details, json_t *inspect, void *data)
{
    (void)inspect;
    struct wctr *t = data;
    struct watch *w = t->w;
    if (!details)
        goto out;
    /* Turned healthy again (or went away) while being looked at: nothing to do. */
    if (t->state != WCTR_LOOKING)
        goto out;
    uint64_t delay = (uint64_t)w->opts.backoff_ms << (t->restarts < 16 ? t->restarts : 16);
    if (delay > (uint64_t)w->opts.backoff_max_ms)
        delay = (uint64_t)w->opts.backoff_max_ms;
    t->restarts++;
    t->state = WCTR_DUE;
    t->due = uv_now(op->loop) + delay;
    char *text = xasprintf("unhealthy, restart %d in %llu ms%s%s", t->restarts,
                           (unsigned long long)delay, *details ? "\n" : "", details);
    wctr_report(t, SCHED_RESTARTING, text);
    free(text);
    watch_arm(w);
out:
    free(details);
    op_check(op);
}

static void on_unhealthy(struct watch *w, const char *id, const char *name, size_t service)
{
    struct wctr *t = wctr_find(w, id);
    if (!t) {
        t = xcalloc(1, sizeof(*t));
        t->w = w;
        t->id = xstrdup(id);
        t->name = xstrdup(name ? name : id);
        t->service = service;
        w->ctrs = xrealloc(w->ctrs, (w->n_ctrs + 1) * sizeof(*w->ctrs));
        w->ctrs[w->n_ctrs++] = t;
    }
    if (t->state != WCTR_IDLE)
        return;
    t->state = WCTR_LOOKING;
    op_diagnose(w->op, t->id, on_looked_at, t);
}

/* ---- Health checks where the engine runs none (health.c) ------------------------------------ */

static void on_probe_inspected(json_t *result, const struct cc_error *err, void *data)
{
    struct sched_op *op = data;
    op->outstanding--;
    if (!err)
        op_health_watch(op, sched_json_str(result, "Id"), result);
    op_check(op);
}

static void probe_container(struct sched_op *op, const char *id)
{
    if (op_health_may_run(op))
        op_call(op, SCHED_CALL_CONTAINER_INSPECT, id, NULL, 0, false, on_probe_inspected, op);
}

static void on_listed_running(json_t *result, const struct cc_error *err, void *data)
{
    struct watch *w = data;
    struct sched_op *op = w->op;
    op->outstanding--;
    size_t i;
    json_t *c;
    if (!err && op->state != OP_DRAINING)
        json_array_foreach(result, i, c)
        {
            if (watched_service(w, json_object_get(c, "Labels")) >= 0)
                probe_container(op, sched_json_str(c, "Id"));
        }
    op_check(op);
}

static void on_container_event(struct sched_op *op, json_t *ev)
{
    struct watch *w = op->impl;
    const char *action = sched_json_str(ev, "Action");
    json_t *attrs = json_object_get(json_object_get(ev, "Actor"), "Attributes");
    const char *id = sched_json_str(ev, "id");
    if (!action || !id)
        return;
    ssize_t si = watched_service(w, attrs);
    if (si < 0)
        return;
    struct wctr *t = wctr_find(w, id);
    if (!strcmp(action, "start")) {
        probe_container(op, id);
    } else if (!strcmp(action, "health_status: unhealthy")) {
        on_unhealthy(w, id, sched_json_str(attrs, "name"), (size_t)si);
    } else if (!strcmp(action, "health_status: healthy") && t) {
        /* Healthy again: the next time starts the backoff afresh. */
        if (t->state == WCTR_LOOKING || t->state == WCTR_DUE)
            t->state = WCTR_IDLE;
        t->restarts = 0;
        if (t->restarted)
            wctr_report(t, SCHED_HEALTHY, NULL);
        watch_arm(w);
    } else if (!strcmp(action, "destroy") && t && t->state != WCTR_RESTARTING &&
               t->state != WCTR_LOOKING) {
        /* Gone: whatever was due is dropped (kept while a call still stands on it). */
        t->state = WCTR_IDLE;
        t->restarts = 0;
        watch_arm(w);
    }
}

static void on_listed(json_t *result, const struct cc_error *err, void *data)
{
    struct watch *w = data;
    struct sched_op *op = w->op;
    op->outstanding--;
    if (op->state == OP_DRAINING)
        goto out;
    /* A failed look after a resync is not fatal: the events go on, and the next resync looks. */
    if (err && op->state == OP_WAITING)
        goto out;
    if (err) {
        op_finish(op, err);
        goto out;
    }
    op_set_state(op, OP_WAITING);
    /* Where ccompose runs the checks (the engine is known by now): the running containers that
     * restart on unhealthy get theirs. */
    if (op_health_may_run(op))
        op_call(op, SCHED_CALL_CONTAINER_LIST, NULL, sched_project_filters(op->project_name, NULL),
                0, false, on_listed_running, w);
    size_t i;
    json_t *c;
    json_array_foreach(result, i, c)
    {
        ssize_t si = watched_service(w, json_object_get(c, "Labels"));
        const char *name = json_string_value(json_array_get(json_object_get(c, "Names"), 0));
        if (si >= 0)
            on_unhealthy(w, sched_json_str(c, "Id"), name ? name + (*name == '/') : NULL,
                         (size_t)si);
    }
out:
    op_check(op);
}

/* After subscribing, and again after the stream came back from a failure: the containers that
 * are unhealthy already. */
static void list_unhealthy(struct sched_op *op)
{
    json_t *f = sched_project_filters(op->project_name, NULL);
    json_object_set_new(f, "health", json_pack("[s]", "unhealthy"));
    op_call(op, SCHED_CALL_CONTAINER_LIST, NULL, f, 0, false, on_listed, op->impl);
}

static void on_watch_closed(uv_handle_t *h)
{
    struct watch *w = h->data;
    for (size_t i = 0; i < w->n_ctrs; i++) {
        free(w->ctrs[i]->id);
        free(w->ctrs[i]->name);
        free(w->ctrs[i]);
    }
    free(w->ctrs);
    sched_graph_free(w->graph);
    free(w);
}

static void watch_release(struct sched_op *op)
{
    struct watch *w = op->impl;
    uv_close((uv_handle_t *)&w->timer, on_watch_closed);
}

struct sched_op *sched_watch(uv_loop_t *loop, struct engine_client *c,
                             const struct compose_project *project,
                             const struct sched_watch_options *opts, sched_event_cb on_event,
                             sched_done_cb done, void *data, struct cc_error *reterr)
{
    if (!loop || !c || !project || !project->name || !done)
        return cc_error_set(reterr, CC_ERR_USAGE,
                            "watch needs a loop, a client, a project and a done callback"),
               NULL;
    struct sched_graph *graph = NULL;
    char **warnings = NULL;
    size_t n_warnings = 0;
    if (sched_graph_build(project, &graph, &warnings, &n_warnings, reterr) < 0)
        return NULL;
    for (size_t i = 0; i < n_warnings; i++)
        free(warnings[i]);
    free(warnings);
    struct sched_op *op =
        op_new(loop, c, project->name, opts ? opts->parallel : 0, true, 0, reterr);
    if (!op) {
        sched_graph_free(graph);
        return NULL;
    }
    struct watch *w = xcalloc(1, sizeof(*w));
    w->op = op;
    w->p = project;
    w->graph = graph;
    if (opts)
        w->opts = *opts;
    else
        w->opts.stop_timeout_s = -1;
    if (w->opts.backoff_ms <= 0)
        w->opts.backoff_ms = WATCH_BACKOFF_MS;
    if (w->opts.backoff_max_ms <= 0)
        w->opts.backoff_max_ms = WATCH_BACKOFF_MAX_MS;
    uv_timer_init(loop, &w->timer);
    w->timer.data = w;
    op->impl = w;
    op->on_event = on_event;
    op->done = done;
    op->data = data;
    op->on_container_event = on_container_event;
    op->release = watch_release;
    op->on_resync = list_unhealthy;
    op_set_state(op, OP_OBSERVING);
    list_unhealthy(op);
    return op;
}
