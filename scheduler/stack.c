/* Stacks on a swarm: deploy, rm, and the ls/services/ps queries, as docker stack does them.
 *
 * Each is a sched_op (op.c: finish once, drain, free) run in phases: a phase queues its calls,
 * each answer is handled as it comes, and when the last one is back the next phase starts
 * (stack->next). Swarm has no event for "N tasks run" or "the tasks are gone", so the waits
 * re-read the swarm's state on a timer (POLL_MS) until it is there or the op's timer runs out. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "scheduler/op-internal.h"
#include "scheduler/scheduler-internal.h"
#include "scheduler/stack-internal.h"

#define POLL_MS 500
/* A service whose tasks failed this many times since the deploy began will not converge. */
#define MAX_TASK_FAILURES 3
/* Converged means so for this long: a task that exits at once is "running" for a moment. */
#define STABLE_MS 3000
/* Network removal waits for the task endpoints to go; it is retried this many times. */
#define MAX_REMOVE_TRIES 40

enum stack_kind { STACK_DEPLOY = 0, STACK_RM, STACK_QUERY };

struct stack {
    enum stack_kind kind;
    struct sched_op *op;
    const struct compose_project *p; /* deploy */
    struct sched_stack_options opts;
    int pending;                      /* calls of the current phase not back yet */
    void (*next)(struct stack *st);   /* the phase after them */
    void (*parked)(struct stack *st); /* the phase the poll timer starts */
    uv_timer_t poll;
    json_t *warnings; /* from the specs, reported once the op runs */
    json_t *services, *networks, *secrets, *configs, *tasks; /* observed (engine lists) */
    json_t *ids;        /* {"secrets": {name: ID}, "configs": {...}} */
    json_t *images;     /* deploy: {service: image to send} */
    json_t *seen_tasks; /* {task ID: true}: known failures and old tasks */
    json_t *failures;   /* {service: count} */
    json_t *progress;   /* {service: "n/m"}, last reported */
    json_t *removed;    /* rm: {service ID: name} */
    json_t *leftover;   /* rm: networks to remove again */
    int tries;
    uint64_t converged_since; /* deploy: loop time the services were first seen converged, or 0 */
    /* query */
    enum sched_stack_query what;
    sched_stack_rows_cb rows_cb;
    void *rows_data;
    json_t *rows;
};

/* One call of a phase: the stack and what the answer is about. */
struct scall {
    struct stack *st;
    char *name;
    void (*handle)(struct stack *st, const char *name, json_t *result, const struct cc_error *err);
};

static void on_poll_closed(uv_handle_t *h)
{
    struct stack *st = h->data;
    json_decref(st->warnings);
    json_decref(st->services);
    json_decref(st->networks);
    json_decref(st->secrets);
    json_decref(st->configs);
    json_decref(st->tasks);
    json_decref(st->ids);
    json_decref(st->images);
    json_decref(st->seen_tasks);
    json_decref(st->failures);
    json_decref(st->progress);
    json_decref(st->removed);
    json_decref(st->leftover);
    json_decref(st->rows);
    free(st);
}

static void stack_release(struct sched_op *op)
{
    struct stack *st = op->impl;
    uv_close((uv_handle_t *)&st->poll, on_poll_closed);
}

static bool running(const struct stack *st)
{
    return st->op->state != OP_DRAINING;
}

/* Starts the next phase once the current one's calls are all back. */
static void advance(struct stack *st)
{
    while (running(st) && st->pending == 0 && st->next) {
        void (*next)(struct stack *) = st->next;
        st->next = NULL;
        next(st);
    }
}

static void on_scall(json_t *result, const struct cc_error *err, void *data)
{
    struct scall *sc = data;
    struct stack *st = sc->st;
    struct sched_op *op = st->op;
    op->outstanding--;
    st->pending--;
    if (running(st))
        sc->handle(st, sc->name, result, err);
    free(sc->name);
    free(sc);
    advance(st);
    op_check(op);
}

/* Queues a call of the current phase. body: steals. */
static void call(struct stack *st, enum sched_call_kind kind, const char *id, json_t *body,
                 bool flag, const char *name,
                 void (*handle)(struct stack *, const char *, json_t *, const struct cc_error *))
{
    struct scall *sc = xcalloc(1, sizeof(*sc));
    sc->st = st;
    sc->name = name ? xstrdup(name) : NULL;
    sc->handle = handle;
    st->pending++;
    op_call(st->op, kind, id, body, 0, flag, on_scall, sc);
}

/* Fails the op with the engine's error, prefixed with what was being done. */
static void fail_with(struct stack *st, const struct cc_error *err, const char *fmt, ...)
    CC_PRINTF(3, 4);

static void fail_with(struct stack *st, const struct cc_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *what = xvasprintf(fmt, ap);
    va_end(ap);
    struct cc_error e = CC_ERROR_INIT;
    cc_error_copy(&e, err);
    free(e.message);
    e.message = xasprintf("%s: %s", what,
                          err->engine_message ? err->engine_message
                          : err->message      ? err->message
                                              : "failed");
    op_finish(st->op, &e);
    cc_error_release(&e);
    free(what);
}

static json_t *namespace_filter(const char *stack)
{
    char *l = stack ? xasprintf("%s=%s", SCHED_STACK_LABEL_NAMESPACE, stack)
                    : xstrdup(SCHED_STACK_LABEL_NAMESPACE);
    json_t *f = json_pack("{s:[s]}", "label", l);
    free(l);
    return f;
}

static const char *stack_name(const struct stack *st)
{
    return st->op->project_name;
}

/* The element of an engine list whose Spec.Name (networks: Name) is name; borrowed. */
static json_t *by_name(json_t *list, const char *name)
{
    size_t i;
    json_t *it;
    json_array_foreach(list, i, it)
    {
        const char *n = sched_json_str(json_object_get(it, "Spec"), "Name");
        if (!n)
            n = sched_json_str(it, "Name");
        if (n && !strcmp(n, name))
            return it;
    }
    return NULL;
}

static const char *id_of(json_t *it)
{
    const char *id = sched_json_str(it, "ID");
    return id ? id : sched_json_str(it, "Id");
}

/* ---- Phases shared by deploy and rm ---------------------------------------------------------- */

static void on_info(struct stack *st, const char *name, json_t *result, const struct cc_error *err)
{
    (void)name;
    if (err) {
        fail_with(st, err, "cannot ask the engine whether it is a swarm manager");
        return;
    }
    json_t *swarm = json_object_get(result, "Swarm");
    const char *state = sched_json_str(swarm, "LocalNodeState");
    if (state && !strcmp(state, "active") &&
        json_is_true(json_object_get(swarm, "ControlAvailable")))
        return;
    struct cc_error e = CC_ERROR_INIT;
    cc_error_set(&e, CC_ERR_UNSUPPORTED, "the engine at %s is not a swarm manager (swarm: %s)",
                 engine_client_host(st->op->c), state ? state : "unknown");
    cc_error_hint(&e, "run `docker swarm init` on it, or point DOCKER_HOST at a manager");
    op_finish(st->op, &e);
    cc_error_release(&e);
}

static void store_list(json_t **slot, json_t *result)
{
    json_decref(*slot);
    *slot = json_incref(result);
}

static void on_listed(struct stack *st, const char *name, json_t *result,
                      const struct cc_error *err)
{
    if (err) {
        fail_with(st, err, "cannot list the stack's %s", name);
        return;
    }
    if (!strcmp(name, "services"))
        store_list(&st->services, result);
    else if (!strcmp(name, "networks"))
        store_list(&st->networks, result);
    else if (!strcmp(name, "secrets"))
        store_list(&st->secrets, result);
    else if (!strcmp(name, "configs"))
        store_list(&st->configs, result);
    else
        store_list(&st->tasks, result);
}

/* Lists what the stack has. Deploy lists every network, secret and config (external ones are
 * found by name); rm only the stack's. */
static void observe(struct stack *st, bool everything)
{
    json_t *f = namespace_filter(stack_name(st));
    call(st, SCHED_CALL_SERVICE_LIST, NULL, json_incref(f), false, "services", on_listed);
    call(st, SCHED_CALL_NETWORK_LIST, NULL, everything ? NULL : json_incref(f), false, "networks",
         on_listed);
    call(st, SCHED_CALL_SECRET_LIST, NULL, everything ? NULL : json_incref(f), false, "secrets",
         on_listed);
    call(st, SCHED_CALL_CONFIG_LIST, NULL, everything ? NULL : json_incref(f), false, "configs",
         on_listed);
    call(st, SCHED_CALL_TASK_LIST, NULL, json_incref(f), false, "tasks", on_listed);
    json_decref(f);
}

static void on_poll(uv_timer_t *t)
{
    struct stack *st = t->data;
    if (!running(st))
        return;
    st->next = st->parked;
    st->parked = NULL;
    advance(st);
    op_check(st->op);
}

/* Runs phase after POLL_MS (not at once, as next would). */
static void again(struct stack *st, void (*phase)(struct stack *))
{
    st->parked = phase;
    uv_timer_start(&st->poll, on_poll, POLL_MS, 0);
}

static void finish(struct stack *st)
{
    op_finish(st->op, NULL);
}

static void on_timeout(uv_timer_t *t)
{
    struct sched_op *op = t->data;
    op_fail(op, CC_ERR_TIMEOUT, "stack '%s' did not converge in time", op->project_name);
    op_check(op);
}

static void start_timeout(struct stack *st)
{
    if (st->opts.wait_timeout_ms > 0)
        uv_timer_start(&st->op->timer, on_timeout, (uint64_t)st->opts.wait_timeout_ms, 0);
}

/* ---- Deploy -------------------------------------------------------------------------------- */

static void report_warnings(struct stack *st)
{
    size_t i;
    json_t *w;
    json_array_foreach(st->warnings, i, w) op_report(
        st->op, SCHED_RES_SERVICE, stack_name(st), NULL, SCHED_WARNING, "%s", json_string_value(w));
}

static void on_network_created(struct stack *st, const char *name, json_t *result,
                               const struct cc_error *err)
{
    (void)result;
    if (err) {
        fail_with(st, err, "cannot create network '%s'", name);
        return;
    }
    op_report(st->op, SCHED_RES_NETWORK, name, NULL, SCHED_CREATED, NULL);
}

static void on_file_created(struct stack *st, const char *name, json_t *result,
                            const struct cc_error *err)
{
    /* name is "secrets/NAME" or "configs/NAME". */
    const char *slash = strchr(name, '/');
    char *kind = xstrndup(name, (size_t)(slash - name));
    bool secret = !strcmp(kind, "secrets");
    if (err) {
        fail_with(st, err, "cannot create %s '%s'", secret ? "secret" : "config", slash + 1);
    } else {
        json_object_set_new(json_object_get(st->ids, kind), slash + 1,
                            json_string(sched_json_str(result, "ID")));
        op_report(st->op, secret ? SCHED_RES_SECRET : SCHED_RES_CONFIG, slash + 1, NULL,
                  SCHED_CREATED, NULL);
    }
    free(kind);
}

/* Secrets or configs: existing ones are kept (their data cannot change), external ones must
 * exist, the others are created. */
static int file_resources(struct stack *st, const struct compose_file_def *defs, size_t n,
                          json_t *observed, const char *kind)
{
    bool secret = !strcmp(kind, "secrets");
    enum sched_resource res = secret ? SCHED_RES_SECRET : SCHED_RES_CONFIG;
    for (size_t i = 0; i < n; i++) {
        const struct compose_file_def *d = &defs[i];
        json_t *have = by_name(observed, d->name);
        if (have) {
            json_object_set_new(json_object_get(st->ids, kind), d->name, json_string(id_of(have)));
            op_report(st->op, res, d->name, NULL, SCHED_RUNNING, "exists");
            continue;
        }
        if (d->external) {
            op_fail(st->op, CC_ERR_NOT_FOUND, "%s '%s' is external, but could not be found",
                    secret ? "secret" : "config", d->name);
            return -1;
        }
        struct cc_error err = CC_ERROR_INIT;
        json_t *spec = sched_stack_file_spec(st->p, d, &err);
        if (!spec) {
            op_finish(st->op, &err);
            cc_error_release(&err);
            return -1;
        }
        op_report(st->op, res, d->name, NULL, SCHED_CREATING, NULL);
        char *name = xasprintf("%s/%s", kind, d->name);
        call(st, secret ? SCHED_CALL_SECRET_CREATE : SCHED_CALL_CONFIG_CREATE, NULL, spec, false,
             name, on_file_created);
        free(name);
    }
    return 0;
}

static void deploy_images(struct stack *st);

static void deploy_resources(struct stack *st)
{
    const struct compose_project *p = st->p;
    report_warnings(st);
    /* Tasks there before the deploy are not this deploy's failures. */
    size_t i;
    json_t *t;
    json_array_foreach(st->tasks, i, t) json_object_set_new(st->seen_tasks, id_of(t), json_true());
    for (size_t k = 0; k < p->n_networks; k++) {
        const struct compose_network *n = &p->networks[k];
        if (!n->used)
            continue;
        if (by_name(st->networks, n->name)) {
            op_report(st->op, SCHED_RES_NETWORK, n->name, NULL, SCHED_RUNNING, "exists");
            continue;
        }
        if (n->external) {
            op_fail(st->op, CC_ERR_NOT_FOUND, "network '%s' is external, but could not be found",
                    n->name);
            return;
        }
        op_report(st->op, SCHED_RES_NETWORK, n->name, NULL, SCHED_CREATING, NULL);
        call(st, SCHED_CALL_NETWORK_CREATE, NULL, sched_stack_network_spec(p, n), false, n->name,
             on_network_created);
    }
    if (file_resources(st, p->secrets, p->n_secrets, st->secrets, "secrets") < 0 ||
        file_resources(st, p->configs, p->n_configs, st->configs, "configs") < 0)
        return;
    st->next = deploy_images;
}

static void on_distribution(struct stack *st, const char *name, json_t *result,
                            const struct cc_error *err)
{
    const char *image = sched_json_str(st->images, name);
    const char *digest = sched_json_str(json_object_get(result, "Descriptor"), "digest");
    if (err || !digest) {
        op_report(st->op, SCHED_RES_SERVICE, name, NULL, SCHED_WARNING,
                  "image %s could not be accessed on a registry to record its digest; each node "
                  "will access it independently, ignoring",
                  image);
        return;
    }
    /* "name:tag@sha256:..." as docker pins it: the tag stays for people to read. */
    char *pinned = xasprintf("%s@%s", image, digest);
    json_object_set_new(st->images, name, json_string(pinned));
    free(pinned);
}

static void deploy_services(struct stack *st);

/* The image each service gets: as written, pinned to its registry digest (--resolve-image
 * always, or changed when it differs from the deployed one), or the deployed one kept (changed,
 * and the file still names the same image). */
static void deploy_images(struct stack *st)
{
    const struct compose_project *p = st->p;
    for (size_t i = 0; i < p->n_services; i++) {
        const struct compose_service *s = &p->services[i];
        char *name = sched_stack_service_name(p, s);
        json_t *have = by_name(st->services, name);
        const char *deployed = sched_json_str(
            json_object_get(json_object_get(json_object_get(have, "Spec"), "TaskTemplate"),
                            "ContainerSpec"),
            "Image");
        const char *was = sched_json_str(json_object_get(json_object_get(have, "Spec"), "Labels"),
                                         SCHED_STACK_LABEL_IMAGE);
        json_object_set_new(st->images, name, json_string(s->image));
        if (st->opts.resolve_image == SCHED_RESOLVE_CHANGED && deployed && was &&
            !strcmp(was, s->image)) {
            json_object_set_new(st->images, name, json_string(deployed));
        } else if (st->opts.resolve_image != SCHED_RESOLVE_NEVER && !strchr(s->image, '@')) {
            call(st, SCHED_CALL_DISTRIBUTION_INSPECT, s->image, NULL, st->opts.with_registry_auth,
                 name, on_distribution);
        }
        free(name);
    }
    st->next = deploy_services;
}

static void on_service_written(struct stack *st, const char *name, json_t *result,
                               const struct cc_error *err)
{
    /* name is "create/NAME" or "update/NAME". */
    bool create = name[0] == 'c';
    const char *svc = strchr(name, '/') + 1;
    if (err) {
        fail_with(st, err, "cannot %s service '%s'", create ? "create" : "update", svc);
        return;
    }
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(result, "Warnings"), i, w)
        op_report(st->op, SCHED_RES_SERVICE, svc, NULL, SCHED_WARNING, "%s", json_string_value(w));
    op_report(st->op, SCHED_RES_SERVICE, svc, NULL, create ? SCHED_CREATED : SCHED_UPDATED, NULL);
}

static void on_service_removed(struct stack *st, const char *name, json_t *result,
                               const struct cc_error *err)
{
    (void)result;
    if (err && err->kind != CC_ERR_NOT_FOUND) {
        fail_with(st, err, "cannot remove service '%s'", name);
        return;
    }
    op_report(st->op, SCHED_RES_SERVICE, name, NULL, SCHED_REMOVED, NULL);
}

static bool in_model(const struct stack *st, const char *service_name)
{
    for (size_t i = 0; i < st->p->n_services; i++) {
        char *n = sched_stack_service_name(st->p, &st->p->services[i]);
        bool same = !strcmp(n, service_name);
        free(n);
        if (same)
            return true;
    }
    return false;
}

static void deploy_wait(struct stack *st);

static void deploy_services(struct stack *st)
{
    const struct compose_project *p = st->p;
    for (size_t i = 0; i < p->n_services; i++) {
        const struct compose_service *s = &p->services[i];
        struct cc_error err = CC_ERROR_INIT;
        json_t *spec = sched_stack_service_spec(p, s, st->ids, NULL, &err);
        if (!spec) {
            op_finish(st->op, &err);
            cc_error_release(&err);
            return;
        }
        const char *name = sched_json_str(spec, "Name");
        json_t *cs = json_object_get(json_object_get(spec, "TaskTemplate"), "ContainerSpec");
        json_object_set(cs, "Image", json_object_get(st->images, name));
        json_t *have = by_name(st->services, name);
        char *tag = xasprintf("%s/%s", have ? "update" : "create", name);
        if (have) {
            op_report(st->op, SCHED_RES_SERVICE, name, s->name, SCHED_UPDATING, NULL);
            json_t *body =
                json_pack("{s:O, s:o}", "Version",
                          json_object_get(json_object_get(have, "Version"), "Index"), "Spec", spec);
            call(st, SCHED_CALL_SERVICE_UPDATE, id_of(have), body, st->opts.with_registry_auth, tag,
                 on_service_written);
        } else {
            op_report(st->op, SCHED_RES_SERVICE, name, s->name, SCHED_CREATING, NULL);
            call(st, SCHED_CALL_SERVICE_CREATE, NULL, spec, st->opts.with_registry_auth, tag,
                 on_service_written);
        }
        free(tag);
    }
    size_t i;
    json_t *have;
    json_array_foreach(st->services, i, have)
    {
        const char *name = sched_json_str(json_object_get(have, "Spec"), "Name");
        if (!st->opts.prune || !name || in_model(st, name))
            continue;
        op_report(st->op, SCHED_RES_SERVICE, name, NULL, SCHED_REMOVING, "not in the stack file");
        call(st, SCHED_CALL_SERVICE_REMOVE, id_of(have), NULL, false, name, on_service_removed);
    }
    st->next = st->opts.wait ? deploy_wait : finish;
}

/* ---- Deploy: waiting until the services converge ------------------------------------------- */

static void deploy_poll(struct stack *st);

static void deploy_check(struct stack *st);

static void deploy_wait(struct stack *st)
{
    start_timeout(st);
    deploy_poll(st);
}

static void deploy_poll(struct stack *st)
{
    json_t *f = namespace_filter(stack_name(st));
    call(st, SCHED_CALL_SERVICE_LIST, NULL, json_incref(f), true, "services", on_listed);
    call(st, SCHED_CALL_TASK_LIST, NULL, f, false, "tasks", on_listed);
    st->next = deploy_check;
}

/* "<service>.<slot>" (global: "<service>.<node>") of a task; new. */
/* The service (as listed) that task belongs to; NULL when gone. */
static json_t *task_service(json_t *services, json_t *task)
{
    const char *sid = sched_json_str(task, "ServiceID");
    size_t i;
    json_t *s;
    json_array_foreach(services, i, s)
        if (sid && !strcmp(id_of(s), sid))
            return s;
    return NULL;
}

static char *task_name(json_t *services, json_t *task)
{
    json_t *s = task_service(services, task);
    const char *svc = s ? sched_json_str(json_object_get(s, "Spec"), "Name")
                        : sched_json_str(task, "ServiceID");
    json_t *slot = json_object_get(task, "Slot");
    if (json_integer_value(slot) > 0)
        return xasprintf("%s.%lld", svc ? svc : "?", (long long)json_integer_value(slot));
    return xasprintf("%s.%s", svc ? svc : "?", sched_json_str(task, "NodeID"));
}

/* Reports tasks that failed since the deploy began, once each; fails the op when a service's
 * tasks failed MAX_TASK_FAILURES times. A failure starts the stability wait anew. */
static void check_failed_tasks(struct stack *st)
{
    size_t i;
    json_t *t;
    json_array_foreach(st->tasks, i, t)
    {
        const char *id = id_of(t);
        json_t *status = json_object_get(t, "Status");
        const char *state = sched_json_str(status, "State");
        if (!id || !state || json_object_get(st->seen_tasks, id) ||
            (strcmp(state, "failed") && strcmp(state, "rejected")))
            continue;
        json_object_set_new(st->seen_tasks, id, json_true());
        st->converged_since = 0;
        char *name = task_name(st->services, t);
        const char *why = sched_json_str(status, "Err");
        if (!why)
            why = sched_json_str(status, "Message");
        op_report(st->op, SCHED_RES_TASK, name, NULL, SCHED_ERROR, "%s: %s", state,
                  why ? why : "no reason given");
        char *svc = xstrndup(name, (size_t)(strrchr(name, '.') - name));
        json_int_t n = json_integer_value(json_object_get(st->failures, svc)) + 1;
        json_object_set_new(st->failures, svc, json_integer(n));
        if (n >= MAX_TASK_FAILURES && running(st)) {
            struct cc_error e = CC_ERROR_INIT;
            cc_error_set(&e, CC_ERR_FAILED,
                         "service '%s' does not converge: %lld of its tasks failed, the last "
                         "with: %s",
                         svc, (long long)n, why ? why : "no reason given");
            cc_error_hint(&e, "`ccompose stack ps %s` lists its tasks and their errors",
                          stack_name(st));
            op_finish(st->op, &e);
            cc_error_release(&e);
        }
        free(svc);
        free(name);
    }
}

/* Whether the service runs what it wants; reports its progress when it changed. Fails the op
 * when its update paused or rolled back. */
static bool service_converged(struct stack *st, const char *name)
{
    json_t *s = by_name(st->services, name);
    if (!s)
        return false;
    const char *update = sched_json_str(json_object_get(s, "UpdateStatus"), "State");
    if (update && (!strcmp(update, "paused") || !strcmp(update, "rollback_completed") ||
                   !strcmp(update, "rollback_paused"))) {
        op_fail(st->op, CC_ERR_FAILED, "service '%s': update %s: %s", name, update,
                sched_json_str(json_object_get(s, "UpdateStatus"), "Message"));
        return false;
    }
    json_t *status = json_object_get(s, "ServiceStatus");
    json_int_t run = json_integer_value(json_object_get(status, "RunningTasks"));
    json_int_t want = json_integer_value(json_object_get(status, "DesiredTasks"));
    bool updating = update && strcmp(update, "completed");
    char *now =
        xasprintf("%lld/%lld%s", (long long)run, (long long)want, updating ? " (updating)" : "");
    const char *before = sched_json_str(st->progress, name);
    bool done = run == want && !updating;
    if (!before || strcmp(before, now)) {
        op_report(st->op, SCHED_RES_SERVICE, name, NULL, done ? SCHED_RUNNING : SCHED_WAITING,
                  "%s tasks running", now);
        json_object_set_new(st->progress, name, json_string(now));
    }
    free(now);
    return done;
}

static void deploy_check(struct stack *st)
{
    check_failed_tasks(st);
    bool all = true;
    for (size_t i = 0; i < st->p->n_services && running(st); i++) {
        char *name = sched_stack_service_name(st->p, &st->p->services[i]);
        all &= service_converged(st, name);
        free(name);
    }
    if (!running(st))
        return;
    uint64_t now = uv_now(st->op->loop);
    if (!all)
        st->converged_since = 0;
    else if (!st->converged_since)
        st->converged_since = now;
    if (all && now - st->converged_since >= STABLE_MS)
        op_finish(st->op, NULL);
    else
        again(st, deploy_poll);
}

static struct stack *stack_new(struct sched_op *op, enum stack_kind kind,
                               const struct sched_stack_options *opts)
{
    struct stack *st = xcalloc(1, sizeof(*st));
    st->kind = kind;
    st->op = op;
    if (opts)
        st->opts = *opts;
    uv_timer_init(op->loop, &st->poll);
    st->poll.data = st;
    st->warnings = json_array();
    st->ids = json_pack("{s:{}, s:{}}", "secrets", "configs");
    st->images = json_object();
    st->seen_tasks = json_object();
    st->failures = json_object();
    st->progress = json_object();
    st->removed = json_object();
    st->leftover = json_array();
    op->impl = st;
    op->release = stack_release;
    return st;
}

static void deploy_observe(struct stack *st)
{
    observe(st, true);
    st->next = deploy_resources;
}

/* Every spec, with placeholder IDs for the secrets and configs, so that a model swarm cannot take
 * fails before anything is made; the warnings are kept for the op to report. */
static int validate(const struct compose_project *p, json_t *warnings, struct cc_error *reterr)
{
    json_t *ids = json_pack("{s:{}, s:{}}", "secrets", "configs");
    for (size_t i = 0; i < p->n_secrets; i++)
        json_object_set_new(json_object_get(ids, "secrets"), p->secrets[i].name, json_string("-"));
    for (size_t i = 0; i < p->n_configs; i++)
        json_object_set_new(json_object_get(ids, "configs"), p->configs[i].name, json_string("-"));
    int rc = 0;
    for (size_t i = 0; i < p->n_services && rc == 0; i++) {
        json_t *spec = sched_stack_service_spec(p, &p->services[i], ids, warnings, reterr);
        rc = spec ? 0 : -1;
        json_decref(spec);
    }
    json_decref(ids);
    return rc;
}

struct sched_op *sched_stack_deploy(uv_loop_t *loop, struct engine_client *c,
                                    const struct compose_project *project,
                                    const struct sched_stack_options *opts, sched_event_cb on_event,
                                    sched_done_cb done, void *data, struct cc_error *reterr)
{
    if (!project || !project->name)
        return cc_error_set(reterr, CC_ERR_USAGE, "no stack given"), NULL;
    json_t *warnings = json_array();
    if (validate(project, warnings, reterr) < 0) {
        json_decref(warnings);
        return NULL;
    }
    struct sched_op *op =
        op_new(loop, c, project->name, opts ? opts->parallel : 0, false, 0, reterr);
    if (!op) {
        json_decref(warnings);
        return NULL;
    }
    op->on_event = on_event;
    op->done = done;
    op->data = data;
    struct stack *st = stack_new(op, STACK_DEPLOY, opts);
    st->p = project;
    json_decref(st->warnings);
    st->warnings = warnings;
    op_set_state(op, OP_OBSERVING);
    call(st, SCHED_CALL_INFO, NULL, NULL, false, NULL, on_info);
    st->next = deploy_observe;
    return op;
}

/* ---- rm ------------------------------------------------------------------------------------ */

static void rm_wait_tasks(struct stack *st);

static void rm_services(struct stack *st)
{
    if (!json_array_size(st->services) && !json_array_size(st->networks) &&
        !json_array_size(st->secrets) && !json_array_size(st->configs)) {
        op_fail(st->op, CC_ERR_NOT_FOUND, "nothing found in stack '%s'", stack_name(st));
        return;
    }
    size_t i;
    json_t *s;
    json_array_foreach(st->services, i, s)
    {
        const char *name = sched_json_str(json_object_get(s, "Spec"), "Name");
        json_object_set_new(st->removed, id_of(s), json_string(name));
        op_report(st->op, SCHED_RES_SERVICE, name, NULL, SCHED_REMOVING, NULL);
        call(st, SCHED_CALL_SERVICE_REMOVE, id_of(s), NULL, false, name, on_service_removed);
    }
    st->next = rm_wait_tasks;
}

static void rm_count_tasks(struct stack *st);

static void rm_wait_tasks(struct stack *st)
{
    start_timeout(st);
    rm_count_tasks(st);
}

static void rm_rest(struct stack *st);

static void on_tasks_left(struct stack *st, const char *name, json_t *result,
                          const struct cc_error *err)
{
    (void)name;
    if (err) {
        fail_with(st, err, "cannot list tasks");
        return;
    }
    size_t i, n = 0;
    json_t *t;
    json_array_foreach(result, i, t) n +=
        json_object_get(st->removed, sched_json_str(t, "ServiceID")) != NULL;
    if (!n) {
        st->next = rm_rest;
        return;
    }
    char *now = xasprintf("%zu", n);
    const char *before = sched_json_str(st->progress, "tasks");
    if (!before || strcmp(before, now))
        op_report(st->op, SCHED_RES_TASK, stack_name(st), NULL, SCHED_WAITING,
                  "%zu tasks still there", n);
    json_object_set_new(st->progress, "tasks", json_string(now));
    free(now);
    again(st, rm_count_tasks);
}

/* All tasks: the engine refuses a service filter naming a removed service. */
static void rm_count_tasks(struct stack *st)
{
    if (!json_object_size(st->removed)) {
        st->next = rm_rest;
        return;
    }
    call(st, SCHED_CALL_TASK_LIST, NULL, NULL, false, NULL, on_tasks_left);
}

static void on_resource_removed(struct stack *st, const char *name, json_t *result,
                                const struct cc_error *err)
{
    (void)result;
    const char *slash = strchr(name, '/');
    enum sched_resource res = name[0] == 'n'   ? SCHED_RES_NETWORK
                              : name[1] == 'e' ? SCHED_RES_SECRET
                                               : SCHED_RES_CONFIG;
    if (err && err->kind != CC_ERR_NOT_FOUND) {
        /* A network goes once the last endpoint of the removed tasks is released. */
        if (res == SCHED_RES_NETWORK && st->tries < MAX_REMOVE_TRIES) {
            json_array_append_new(st->leftover, json_string(slash + 1));
            return;
        }
        fail_with(st, err, "cannot remove %s '%s'", sched_resource_name(res), slash + 1);
        return;
    }
    op_report(st->op, res, slash + 1, NULL, SCHED_REMOVED, NULL);
}

static void remove_all(struct stack *st, json_t *list, enum sched_call_kind kind,
                       const char *prefix)
{
    size_t i;
    json_t *it;
    json_array_foreach(list, i, it)
    {
        const char *name = json_is_string(it) ? json_string_value(it)
                           : sched_json_str(json_object_get(it, "Spec"), "Name")
                               ? sched_json_str(json_object_get(it, "Spec"), "Name")
                               : sched_json_str(it, "Name");
        char *tag = xasprintf("%s/%s", prefix, name);
        if (!json_is_string(it))
            op_report(st->op,
                      kind == SCHED_CALL_NETWORK_REMOVE  ? SCHED_RES_NETWORK
                      : kind == SCHED_CALL_SECRET_REMOVE ? SCHED_RES_SECRET
                                                         : SCHED_RES_CONFIG,
                      name, NULL, SCHED_REMOVING, NULL);
        call(st, kind, json_is_string(it) ? name : id_of(it), NULL, false, tag,
             on_resource_removed);
        free(tag);
    }
}

static void rm_leftover(struct stack *st);

static void rm_check_leftover(struct stack *st)
{
    if (!json_array_size(st->leftover)) {
        finish(st);
        return;
    }
    st->tries++;
    again(st, rm_leftover);
}

static void rm_leftover(struct stack *st)
{
    json_t *left = st->leftover;
    st->leftover = json_array();
    remove_all(st, left, SCHED_CALL_NETWORK_REMOVE, "networks");
    json_decref(left);
    st->next = rm_check_leftover;
}

static void rm_rest(struct stack *st)
{
    remove_all(st, st->networks, SCHED_CALL_NETWORK_REMOVE, "networks");
    remove_all(st, st->secrets, SCHED_CALL_SECRET_REMOVE, "secrets");
    remove_all(st, st->configs, SCHED_CALL_CONFIG_REMOVE, "configs");
    st->next = rm_check_leftover;
}

static void rm_observe(struct stack *st)
{
    observe(st, false);
    st->next = rm_services;
}

struct sched_op *sched_stack_rm(uv_loop_t *loop, struct engine_client *c, const char *stack,
                                const struct sched_stack_options *opts, sched_event_cb on_event,
                                sched_done_cb done, void *data, struct cc_error *reterr)
{
    if (!stack || !*stack)
        return cc_error_set(reterr, CC_ERR_USAGE, "no stack given"), NULL;
    struct sched_op *op = op_new(loop, c, stack, opts ? opts->parallel : 0, false, 0, reterr);
    if (!op)
        return NULL;
    op->on_event = on_event;
    op->done = done;
    op->data = data;
    struct stack *st = stack_new(op, STACK_RM, opts);
    op_set_state(op, OP_OBSERVING);
    call(st, SCHED_CALL_INFO, NULL, NULL, false, NULL, on_info);
    st->next = rm_observe;
    return op;
}

/* ---- Queries ------------------------------------------------------------------------------- */

static int cmp_rows(const void *a, const void *b)
{
    json_t *ra = *(json_t *const *)a, *rb = *(json_t *const *)b;
    int c = strcmp(sched_json_str(ra, "Name"), sched_json_str(rb, "Name"));
    if (c)
        return c;
    /* Newest first: engine timestamps in one format compare as strings. */
    const char *ta = sched_json_str(ra, "CreatedAt"), *tb = sched_json_str(rb, "CreatedAt");
    return ta && tb ? strcmp(tb, ta) : 0;
}

static json_t *sorted(json_t *rows)
{
    size_t n = json_array_size(rows);
    json_t **v = xcalloc(n ? n : 1, sizeof(*v));
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(rows, i));
    qsort(v, n, sizeof(*v), cmp_rows);
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++) {
        json_object_del(v[i], "CreatedAt");
        json_array_append_new(out, v[i]);
    }
    free(v);
    json_decref(rows);
    return out;
}

static json_t *ls_rows(json_t *services)
{
    json_t *count = json_object();
    size_t i;
    json_t *s;
    json_array_foreach(services, i, s)
    {
        const char *ns = sched_json_str(json_object_get(json_object_get(s, "Spec"), "Labels"),
                                        SCHED_STACK_LABEL_NAMESPACE);
        if (ns)
            json_object_set_new(count, ns,
                                json_integer(json_integer_value(json_object_get(count, ns)) + 1));
    }
    json_t *rows = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(count, k, v)
        json_array_append_new(rows, json_pack("{s:s, s:O}", "Name", k, "Services", v));
    json_decref(count);
    return sorted(rows);
}

/* Ports as docker prints them: a service's "*:8080->80/tcp, ..." (ingress ports only, host-mode
 * ones are per task), a task's "*:32768->81/tcp,..." (each binding, IPv4 and IPv6 alike). */
static char *ports_text(json_t *ports, bool of_service)
{
    struct buf b = BUF_INIT;
    size_t i;
    json_t *pt;
    json_array_foreach(ports, i, pt)
    {
        const char *mode = sched_json_str(pt, "PublishMode");
        if (of_service && mode && strcmp(mode, "ingress"))
            continue;
        buf_printf(&b, "%s*:%lld->%lld/%s", !b.len ? "" : of_service ? ", " : ",",
                   (long long)json_integer_value(json_object_get(pt, "PublishedPort")),
                   (long long)json_integer_value(json_object_get(pt, "TargetPort")),
                   sched_json_str(pt, "Protocol") ? sched_json_str(pt, "Protocol") : "tcp");
    }
    return buf_detach(&b);
}

static json_t *services_rows(json_t *services)
{
    json_t *rows = json_array();
    size_t i;
    json_t *s;
    json_array_foreach(services, i, s)
    {
        json_t *spec = json_object_get(s, "Spec");
        json_t *status = json_object_get(s, "ServiceStatus");
        json_t *cs = json_object_get(json_object_get(spec, "TaskTemplate"), "ContainerSpec");
        bool global = json_object_get(json_object_get(spec, "Mode"), "Global") != NULL;
        char *ports = ports_text(json_object_get(json_object_get(s, "Endpoint"), "Ports"), true);
        json_t *labels = json_object_get(spec, "Labels");
        json_array_append_new(
            rows, json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:o}", "ID", id_of(s), "Name",
                            sched_json_str(spec, "Name"), "Mode", global ? "global" : "replicated",
                            "Running", json_integer_value(json_object_get(status, "RunningTasks")),
                            "Desired", json_integer_value(json_object_get(status, "DesiredTasks")),
                            "Image", sched_json_str(cs, "Image"), "Ports", ports, "Labels",
                            labels ? json_incref(labels) : json_object()));
        free(ports);
    }
    return sorted(rows);
}

static json_t *ps_rows(json_t *services, json_t *tasks)
{
    json_t *rows = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(tasks, i, t)
    {
        json_t *status = json_object_get(t, "Status");
        char *name = task_name(services, t);
        const char *err = sched_json_str(status, "Err");
        /* Host-mode ports are the task's own (ingress ones are the service's). */
        char *ports = ports_text(json_object_get(json_object_get(status, "PortStatus"), "Ports"), false);
        json_t *row = json_pack(
            "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", id_of(t), "Name", name, "Image",
            sched_json_str(json_object_get(json_object_get(t, "Spec"), "ContainerSpec"), "Image"),
            "Node", sched_json_str(t, "NodeID") ? sched_json_str(t, "NodeID") : "", "DesiredState",
            sched_json_str(t, "DesiredState"), "CurrentState", sched_json_str(status, "State"),
            "Error", err ? err : "", "CreatedAt",
            sched_json_str(t, "CreatedAt") ? sched_json_str(t, "CreatedAt") : "", "Ports", ports);
        /* The engine filters tasks by label on their service's labels: so does the cli. */
        json_t *labels = json_object_get(json_object_get(task_service(services, t), "Spec"),
                                         "Labels");
        json_object_set_new(row, "Labels", labels ? json_incref(labels) : json_object());
        json_array_append_new(rows, row);
        free(ports);
        free(name);
    }
    return sorted(rows);
}

static void query_rows(struct stack *st)
{
    switch (st->what) {
    case SCHED_STACK_LS:
        st->rows = ls_rows(st->services);
        break;
    case SCHED_STACK_SERVICES:
        st->rows = services_rows(st->services);
        break;
    case SCHED_STACK_PS:
        st->rows = ps_rows(st->services, st->tasks);
        break;
    }
    finish(st);
}

static void on_query_done(const struct cc_error *err, void *data)
{
    struct stack *st = data;
    st->rows_cb(err ? NULL : st->rows, err, st->rows_data);
}

struct sched_op *sched_stack_query(uv_loop_t *loop, struct engine_client *c,
                                   enum sched_stack_query what, const char *stack,
                                   sched_stack_rows_cb cb, void *data, struct cc_error *reterr)
{
    if (what != SCHED_STACK_LS && (!stack || !*stack))
        return cc_error_set(reterr, CC_ERR_USAGE, "no stack given"), NULL;
    struct sched_op *op = op_new(loop, c, stack ? stack : "", 0, false, 0, reterr);
    if (!op)
        return NULL;
    struct stack *st = stack_new(op, STACK_QUERY, NULL);
    st->what = what;
    st->rows_cb = cb;
    st->rows_data = data;
    op->done = on_query_done;
    op->data = st;
    op_set_state(op, OP_OBSERVING);
    json_t *f = namespace_filter(what == SCHED_STACK_LS ? NULL : stack);
    call(st, SCHED_CALL_SERVICE_LIST, NULL, json_incref(f), true, "services", on_listed);
    if (what == SCHED_STACK_PS)
        call(st, SCHED_CALL_TASK_LIST, NULL, json_incref(f), false, "tasks", on_listed);
    json_decref(f);
    st->next = query_rows;
    return op;
}
