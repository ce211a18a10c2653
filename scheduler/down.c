/* Down: the project's containers stopped in reverse dependency order (a service stops once every
 * service depending on it has stopped; independent ones in parallel), each removed after it
 * stops; then the project's networks, then (when asked) its named volumes, never external ones.
 * The order comes from the model's graph when there is a model, else from the depends_on labels
 * the containers carry, so `-p NAME down` works from the engine alone.
 *
 * start, stop and restart (sched_lifecycle) walk the same containers in the same way: stop in
 * reverse order, start and restart forwards (a service once every service it depends on is
 * done), and end there. */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "scheduler/hooks.h"
#include "scheduler/op-internal.h"
#include "scheduler/scheduler-internal.h"

enum dctr_state {
    DCTR_WAITING = 0,
    DCTR_HOOKING, /* its pre_stop hooks run before the stop */
    DCTR_STOPPING,
    DCTR_STARTING,
    DCTR_REMOVING,
    DCTR_DONE,
};

/* What each container goes through: down stops and removes. */
enum down_mode { DOWN_REMOVE = 0, DOWN_STOP, DOWN_START, DOWN_RESTART };

struct dctr {
    struct down *down;
    const struct sched_observed_container *c;
    size_t service; /* index in down->services */
    enum dctr_state state;
};

struct down {
    struct sched_op *op;
    const struct compose_project *model;
    struct sched_down_options opts;
    enum down_mode mode;
    const char *const *selected; /* lifecycle: only these services; borrowed from the caller */
    size_t n_selected;
    bool no_deps;            /* restart: the `restart: true` dependents are left alone */
    const char **dependents; /* restart: selected plus those dependents (the array is ours) */
    struct sched_observed *o;
    const char **services; /* borrowed from o */
    size_t n_services;
    bool *dep; /* dep[a * n + b]: a depends on b */
    struct dctr *ctrs;
    size_t n_ctrs;
    int resources_pending;
};

static void down_pump(struct down *d);
static struct sched_op *down_new(uv_loop_t *loop, struct engine_client *c, const char *project_name,
                                 const struct compose_project *model,
                                 const struct sched_down_options *opts, enum down_mode mode,
                                 const char *const *services, size_t n_services,
                                 sched_event_cb on_event, sched_done_cb done, void *data,
                                 struct cc_error *reterr);

static void dctr_set_state(struct dctr *t, enum dctr_state state)
{
    log_debug("%s: %s: %d -> %d", __func__, t->c->name, t->state, state);
    t->state = state;
}

static void dctr_report(struct dctr *t, enum sched_state state, const char *text)
{
    op_report(t->down->op, SCHED_RES_CONTAINER, t->c->name, t->c->service, state,
              text ? "%s" : NULL, text);
}

static size_t service_slot(struct down *d, const char *name)
{
    for (size_t i = 0; i < d->n_services; i++)
        if (!strcmp(d->services[i], name))
            return i;
    d->services = xrealloc(d->services, (d->n_services + 1) * sizeof(*d->services));
    d->services[d->n_services] = name;
    return d->n_services++;
}

static ssize_t find_service(struct down *d, const char *name, size_t len)
{
    for (size_t i = 0; i < d->n_services; i++)
        if (strlen(d->services[i]) == len && !strncmp(d->services[i], name, len))
            return (ssize_t)i;
    return -1;
}

/* a depends on b: from the model's graph, else from each container's depends_on label
 * ("svc:condition:restart,..."). */
static void build_order(struct down *d)
{
    size_t n = d->n_services;
    d->dep = xcalloc(n * n + 1, sizeof(bool));
    struct sched_graph *g = NULL;
    char **warnings = NULL;
    size_t n_warnings = 0;
    if (d->model && sched_graph_build(d->model, &g, &warnings, &n_warnings, NULL) == 0) {
        for (size_t i = 0; i < g->n; i++) {
            ssize_t a =
                find_service(d, d->model->services[i].name, strlen(d->model->services[i].name));
            for (size_t k = 0; a >= 0 && k < g->n_deps[i]; k++) {
                const char *bn = d->model->services[g->deps[i][k].service].name;
                ssize_t b = find_service(d, bn, strlen(bn));
                if (b >= 0)
                    d->dep[(size_t)a * n + (size_t)b] = true;
            }
        }
    }
    for (size_t i = 0; i < n_warnings; i++)
        free(warnings[i]);
    free(warnings);
    sched_graph_free(g);
    for (size_t i = 0; i < d->n_ctrs; i++) {
        const char *s = d->ctrs[i].c->depends_on;
        while (s && *s) {
            size_t len = strcspn(s, ":,");
            ssize_t b = find_service(d, s, len);
            if (b >= 0 && (size_t)b != d->ctrs[i].service)
                d->dep[d->ctrs[i].service * n + (size_t)b] = true;
            s += strcspn(s, ",");
            s += *s == ',';
        }
    }
}

struct dres {
    struct down *down;
    enum sched_resource kind;
    const char *name; /* borrowed from o */
};

/* The engine refuses to remove a volume in use with 409, a network with endpoints with 403 and
 * "has active endpoints". */
static bool resource_in_use(const struct cc_error *err)
{
    return err->kind == CC_ERR_CONFLICT ||
           (err->engine_message && strstr(err->engine_message, "active endpoints"));
}

static void on_res_removed(json_t *result, const struct cc_error *err, void *data)
{
    (void)result;
    struct dres *r = data;
    struct down *d = r->down;
    struct sched_op *op = d->op;
    op->outstanding--;
    if (op->state != OP_DRAINING) {
        if (err && resource_in_use(err)) {
            /* Another service's (or project's) container still uses it, as after `down web`:
             * kept, as docker compose keeps it. */
            op_report(op, r->kind, r->name, NULL, SCHED_WARNING, "Resource is still in use");
        } else if (err && err->kind != CC_ERR_NOT_FOUND) {
            op_report(op, r->kind, r->name, NULL, SCHED_ERROR, "%s", err->message);
            if (op->err.kind == CC_ERR_NONE)
                cc_error_set(&op->err, err->kind, "cannot remove %s '%s': %s",
                             sched_resource_name(r->kind), r->name, err->message);
        } else {
            op_report(op, r->kind, r->name, NULL, SCHED_REMOVED, NULL);
        }
        if (--d->resources_pending == 0)
            op_finish(op, NULL);
    }
    free(r);
    op_check(op);
}

static bool model_external(const struct down *d, bool network, const char *name)
{
    if (!d->model)
        return false;
    if (network) {
        for (size_t i = 0; i < d->model->n_networks; i++)
            if (d->model->networks[i].external &&
                !strcmp(sched_network_name(&d->model->networks[i]), name))
                return true;
    } else {
        for (size_t i = 0; i < d->model->n_volumes; i++)
            if (d->model->volumes[i].external &&
                !strcmp(sched_volume_name(&d->model->volumes[i]), name))
                return true;
    }
    return false;
}

static void remove_resource(struct down *d, enum sched_resource kind,
                            const struct sched_observed_resource *r)
{
    struct dres *x = xcalloc(1, sizeof(*x));
    x->down = d;
    x->kind = kind;
    x->name = r->name;
    d->resources_pending++;
    op_report(d->op, kind, r->name, NULL, SCHED_REMOVING, NULL);
    op_call(d->op, kind == SCHED_RES_NETWORK ? SCHED_CALL_NETWORK_REMOVE : SCHED_CALL_VOLUME_REMOVE,
            r->id, NULL, 0, false, on_res_removed, x);
}

/* Only what carries our label goes; external ones never. */
static void remove_resources(struct down *d)
{
    op_set_state(d->op, OP_RESOURCES);
    d->resources_pending = 1;
    for (size_t i = 0; i < d->o->n_networks; i++)
        if (d->o->networks[i].labeled && !model_external(d, true, d->o->networks[i].name))
            remove_resource(d, SCHED_RES_NETWORK, &d->o->networks[i]);
    for (size_t i = 0; d->opts.volumes && i < d->o->n_volumes; i++)
        if (d->o->volumes[i].labeled && !model_external(d, false, d->o->volumes[i].name))
            remove_resource(d, SCHED_RES_VOLUME, &d->o->volumes[i]);
    if (--d->resources_pending == 0)
        op_finish(d->op, NULL);
}

static void on_dctr_answer(json_t *result, const struct cc_error *err, void *data)
{
    (void)result;
    struct dctr *t = data;
    struct down *d = t->down;
    struct sched_op *op = d->op;
    op->outstanding--;
    if (op->state == OP_DRAINING)
        goto out;
    if (err && err->kind != CC_ERR_NOT_FOUND) {
        static const char *const verbs[] = {[DOWN_REMOVE] = "stop",
                                            [DOWN_STOP] = "stop",
                                            [DOWN_START] = "start",
                                            [DOWN_RESTART] = "restart"};
        dctr_report(t, SCHED_ERROR, err->message);
        if (op->err.kind == CC_ERR_NONE)
            cc_error_set(&op->err, err->kind, "cannot %s container '%s': %s",
                         t->state == DCTR_REMOVING ? "remove" : verbs[d->mode], t->c->name,
                         err->message);
        dctr_set_state(t, DCTR_DONE);
    } else if (t->state == DCTR_STARTING) {
        dctr_set_state(t, DCTR_DONE);
        dctr_report(t, SCHED_STARTED, NULL);
    } else if (t->state == DCTR_STOPPING && d->mode == DOWN_STOP) {
        dctr_set_state(t, DCTR_DONE);
        dctr_report(t, SCHED_STOPPED, NULL);
    } else if (t->state == DCTR_STOPPING) {
        dctr_report(t, SCHED_STOPPED, NULL);
        dctr_set_state(t, DCTR_REMOVING);
        dctr_report(t, SCHED_REMOVING, NULL);
        op_call(op, SCHED_CALL_CONTAINER_REMOVE, t->c->id, NULL, 0, true, on_dctr_answer, t);
    } else {
        dctr_set_state(t, DCTR_DONE);
        dctr_report(t, SCHED_REMOVED, NULL);
    }
    down_pump(d);
out:
    op_check(op);
}

/* Service b is through when none of its containers is waiting, stopping or starting. */
static bool service_stopped(const struct down *d, size_t b)
{
    for (size_t i = 0; i < d->n_ctrs; i++)
        if (d->ctrs[i].service == b &&
            (d->ctrs[i].state == DCTR_WAITING || d->ctrs[i].state == DCTR_HOOKING ||
             d->ctrs[i].state == DCTR_STOPPING || d->ctrs[i].state == DCTR_STARTING))
            return false;
    return true;
}

/* Stopping waits for the dependents, starting for the dependencies. */
static bool dctr_ready(const struct down *d, const struct dctr *t)
{
    size_t n = d->n_services;
    bool forward = d->mode == DOWN_START || d->mode == DOWN_RESTART;
    for (size_t a = 0; a < n; a++) {
        if (a == t->service)
            continue;
        if (forward ? d->dep[t->service * n + a] : d->dep[a * n + t->service])
            if (!service_stopped(d, a))
                return false;
    }
    return true;
}

static void dctr_stop(struct down *d, struct dctr *t)
{
    dctr_set_state(t, DCTR_STOPPING);
    dctr_report(t, SCHED_STOPPING, NULL);
    op_call(d->op, SCHED_CALL_CONTAINER_STOP, t->c->id, NULL, d->opts.stop_timeout_s, false,
            on_dctr_answer, t);
}

/* A failed pre_stop hook is reported and fails the command, but the container is stopped all
 * the same: down and stop must not leave it running. */
static void on_pre_stop_done(struct sched_op *op, const struct cc_error *err, void *data)
{
    struct dctr *t = data;
    struct down *d = t->down;
    if (op->state != OP_DRAINING) {
        if (err) {
            dctr_report(t, SCHED_ERROR, err->message);
            if (op->err.kind == CC_ERR_NONE)
                cc_error_copy(&op->err, err);
        }
        dctr_stop(d, t);
    }
    op_check(op);
}

/* The model's pre_stop hooks of a running container's service, or NULL. */
static const struct compose_service *pre_stop_of(const struct down *d, const struct dctr *t)
{
    if (!d->model || !t->c->service || !t->c->state || strcmp(t->c->state, "running") != 0)
        return NULL;
    const struct compose_service *s = compose_project_service(d->model, t->c->service);
    return s && s->n_pre_stop ? s : NULL;
}

static void dctr_go(struct down *d, struct dctr *t)
{
    const struct compose_service *s;
    switch (d->mode) {
    case DOWN_START:
        dctr_set_state(t, DCTR_STARTING);
        dctr_report(t, SCHED_STARTING, NULL);
        op_call(d->op, SCHED_CALL_CONTAINER_START, t->c->id, NULL, 0, false, on_dctr_answer, t);
        break;
    case DOWN_RESTART:
        dctr_set_state(t, DCTR_STARTING);
        dctr_report(t, SCHED_RESTARTING, NULL);
        op_call(d->op, SCHED_CALL_CONTAINER_RESTART, t->c->id, NULL, d->opts.stop_timeout_s, false,
                on_dctr_answer, t);
        break;
    case DOWN_REMOVE:
    case DOWN_STOP:
        if ((s = pre_stop_of(d, t))) {
            dctr_set_state(t, DCTR_HOOKING);
            sched_hooks_run(d->op, t->c->id, t->c->name, "pre_stop", s->pre_stop, s->n_pre_stop,
                            on_pre_stop_done, t);
            break;
        }
        dctr_stop(d, t);
        break;
    }
}

static void down_pump(struct down *d)
{
    bool all_done = true;
    for (size_t i = 0; i < d->n_ctrs; i++) {
        struct dctr *t = &d->ctrs[i];
        all_done &= t->state == DCTR_DONE;
        if (t->state == DCTR_WAITING && dctr_ready(d, t))
            dctr_go(d, t);
    }
    if (!all_done || d->op->state != OP_CONTAINERS)
        return;
    if (d->mode == DOWN_REMOVE)
        remove_resources(d);
    else
        op_finish(d->op, NULL); /* a container's failure is already in op->err */
}

static bool selected(const struct down *d, const char *service)
{
    for (size_t i = 0; i < d->n_selected; i++)
        if (!strcmp(d->selected[i], service))
            return true;
    return d->n_selected == 0;
}

static bool listed(const char *const *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i], name))
            return true;
    return false;
}

/* Whether a depends_on label ("svc:condition:restart,...") names dep with restart true. */
static bool label_restarts_with(const char *label, const char *dep)
{
    size_t len = strlen(dep);
    for (const char *s = label; s && *s;) {
        size_t n = strcspn(s, ",");
        if (n > len && !strncmp(s, dep, len) && s[len] == ':') {
            const char *last = memrchr(s, ':', n);
            if (last && (size_t)(s + n - last - 1) == 4 && !strncmp(last + 1, "true", 4))
                return true;
        }
        s += n + (s[n] == ',');
    }
    return false;
}

size_t sched_restart_dependents(const struct compose_project *model,
                                const struct sched_observed *o, const char *const *named,
                                size_t n, const char ***ret)
{
    const char **sel =
        xcalloc(n + o->n_containers + (model ? model->n_services : 0) + 1, sizeof(*sel));
    if (n)
        memcpy(sel, named, n * sizeof(*sel));
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; model && i < model->n_services; i++) {
            const struct compose_service *s = &model->services[i];
            for (size_t k = 0; k < s->n_depends_on && !listed(sel, n, s->name); k++)
                if (s->depends_on[k].restart && listed(sel, n, s->depends_on[k].service)) {
                    sel[n++] = s->name;
                    changed = true;
                }
        }
        for (size_t i = 0; !model && i < o->n_containers; i++) {
            const struct sched_observed_container *c = &o->containers[i];
            if (c->oneoff || !c->service || listed(sel, n, c->service))
                continue;
            for (size_t k = 0; k < n && !listed(sel, n, c->service); k++)
                if (label_restarts_with(c->depends_on, sel[k])) {
                    sel[n++] = c->service;
                    changed = true;
                }
        }
    }
    *ret = sel;
    return n;
}

/* restart SERVICE: what depends on a restarted service with `restart: true` is restarted too. */
static void add_restart_dependents(struct down *d)
{
    const char **sel = NULL;
    d->n_selected = sched_restart_dependents(d->model, d->o, d->selected, d->n_selected, &sel);
    d->dependents = sel;
    d->selected = sel;
}

/* Every service named must have a container to act on. */
static int check_selection(struct down *d)
{
    for (size_t i = 0; i < d->n_selected; i++) {
        bool found = false;
        for (size_t k = 0; k < d->o->n_containers && !found; k++)
            found = !d->o->containers[k].oneoff && d->o->containers[k].service &&
                    !strcmp(d->o->containers[k].service, d->selected[i]);
        if (!found) {
            op_fail(d->op, CC_ERR_NOT_FOUND, "service '%s' has no container in project '%s'",
                    d->selected[i], d->op->project_name);
            return -1;
        }
    }
    return 0;
}

/* down SERVICE...: the named services and, transitively, the services that depend on them (as
 * docker compose's WithRootNodesAndDown); what they depend on is left running. The others'
 * containers are marked done before anything starts. */
static void select_for_down(struct down *d)
{
    size_t n = d->n_services;
    bool *want = xcalloc(n + 1, sizeof(bool));
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < d->n_selected; k++)
            want[i] |= !strcmp(d->services[i], d->selected[k]);
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t a = 0; a < n; a++)
            for (size_t b = 0; b < n && !want[a]; b++)
                if (want[b] && d->dep[a * n + b])
                    changed = want[a] = true;
    }
    for (size_t i = 0; i < d->n_ctrs; i++)
        if (!want[d->ctrs[i].service] && !(d->ctrs[i].c->oneoff && d->opts.remove_orphans))
            d->ctrs[i].state = DCTR_DONE;
    free(want);
}

static void on_down_observed(struct sched_observed *observed, const struct cc_error *err,
                             void *data)
{
    struct down *d = data;
    struct sched_op *op = d->op;
    op->outstanding--;
    if (op->state == OP_DRAINING || err) {
        op_finish(op, err);
        sched_observed_free(observed);
        goto out;
    }
    d->o = observed;
    if (d->mode != DOWN_REMOVE && check_selection(d) < 0)
        goto out;
    if (d->mode == DOWN_RESTART && d->n_selected && !d->no_deps)
        add_restart_dependents(d);
    d->ctrs = xcalloc(observed->n_containers + 1, sizeof(*d->ctrs));
    for (size_t i = 0; i < observed->n_containers; i++) {
        const struct sched_observed_container *c = &observed->containers[i];
        const char *svc = c->service ? c->service : "";
        if (d->mode != DOWN_REMOVE && (c->oneoff || !selected(d, svc)))
            continue;
        /* down SERVICE...: one-off containers only with --remove-orphans, as docker compose. */
        if (d->mode == DOWN_REMOVE && d->n_selected && c->oneoff && !d->opts.remove_orphans)
            continue;
        if (d->mode == DOWN_REMOVE && d->model && !c->oneoff &&
            !compose_project_service(d->model, svc) && !d->opts.remove_orphans) {
            op_report(op, SCHED_RES_CONTAINER, c->name, svc, SCHED_WARNING,
                      "orphan container (service '%s' is not in the project); run with "
                      "--remove-orphans to remove it",
                      svc);
            continue;
        }
        struct dctr *t = &d->ctrs[d->n_ctrs++];
        t->down = d;
        t->c = c;
        t->service = service_slot(d, svc);
    }
    /* A service with no container still links its dependents to its dependencies. */
    for (size_t i = 0; d->model && d->n_selected && i < d->model->n_services; i++)
        service_slot(d, d->model->services[i].name);
    build_order(d);
    if (d->mode == DOWN_REMOVE && d->n_selected)
        select_for_down(d);
    op_set_state(op, OP_CONTAINERS);
    down_pump(d);
out:
    op_check(op);
}

static void down_release(struct sched_op *op)
{
    struct down *d = op->impl;
    free(d->dependents);
    free(d->services);
    free(d->dep);
    free(d->ctrs);
    sched_observed_free(d->o);
    free(d);
}

struct sched_op *sched_down(uv_loop_t *loop, struct engine_client *c, const char *project_name,
                            const struct compose_project *model,
                            const struct sched_down_options *opts, sched_event_cb on_event,
                            sched_done_cb done, void *data, struct cc_error *reterr)
{
    if (!loop || !c || !project_name || !*project_name || !done)
        return cc_error_set(reterr, CC_ERR_USAGE,
                            "down needs a loop, a client, a project name "
                            "and a done callback"),
               NULL;
    static const struct sched_down_options defaults = {.stop_timeout_s = -1};
    if (!opts)
        opts = &defaults;
    return down_new(loop, c, project_name, model, opts, DOWN_REMOVE, opts->services,
                    opts->n_services, on_event, done, data, reterr);
}

struct sched_op *sched_lifecycle(uv_loop_t *loop, struct engine_client *c, const char *project_name,
                                 const struct compose_project *model,
                                 const struct sched_lifecycle_options *opts,
                                 sched_event_cb on_event, sched_done_cb done, void *data,
                                 struct cc_error *reterr)
{
    if (!loop || !c || !project_name || !*project_name || !done || !opts)
        return cc_error_set(reterr, CC_ERR_USAGE,
                            "start, stop and restart need a loop, a client, a project name, "
                            "options and a done callback"),
               NULL;
    static const enum down_mode modes[] = {[SCHED_LC_START] = DOWN_START,
                                           [SCHED_LC_STOP] = DOWN_STOP,
                                           [SCHED_LC_RESTART] = DOWN_RESTART};
    struct sched_down_options dopts = {.stop_timeout_s = opts->stop_timeout_s,
                                       .parallel = opts->parallel};
    struct sched_op *op = down_new(loop, c, project_name, model, &dopts, modes[opts->action],
                                   opts->services, opts->n_services, on_event, done, data, reterr);
    if (op)
        ((struct down *)op->impl)->no_deps = opts->no_deps;
    return op;
}

static struct sched_op *down_new(uv_loop_t *loop, struct engine_client *c, const char *project_name,
                                 const struct compose_project *model,
                                 const struct sched_down_options *opts, enum down_mode mode,
                                 const char *const *services, size_t n_services,
                                 sched_event_cb on_event, sched_done_cb done, void *data,
                                 struct cc_error *reterr)
{
    struct sched_op *op = op_new(loop, c, project_name, opts->parallel, false, 0, reterr);
    struct down *d = xcalloc(1, sizeof(*d));
    d->op = op;
    d->model = model;
    d->opts = *opts;
    d->mode = mode;
    d->selected = services;
    d->n_selected = n_services;
    op->impl = d;
    op->on_event = on_event;
    op->done = done;
    op->data = data;
    op->release = down_release;
    op_set_state(op, OP_OBSERVING);
    op->outstanding++;
    sched_observe_on(op->q, project_name, NULL, on_down_observed, d);
    return op;
}
