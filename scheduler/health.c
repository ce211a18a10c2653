/* Health checks where the engine runs none: Podman schedules a container's checks as systemd
 * timers, so on a machine without systemd a container with a check stays "starting" for ever (and
 * docker compose's `depends_on: service_healthy` hangs there). ccompose then runs the checks
 * itself, for the containers an op waits on and for as long as it waits: each has a timer that
 * asks the engine to run the check (engine_container_healthcheck(), Podman's libpod endpoint) at
 * the check's interval; the engine applies the check's timeout, retries and start period to the
 * result and reports it, which reaches the op as a container event ("health_status: healthy"),
 * as when the engine runs the checks itself.
 *
 * CCOMPOSE_HEALTHCHECKS decides (docs/podman.md): "engine" never runs them, "ccompose" always
 * does on Podman, "auto" (the default) does on Podman when its cgroup driver is not systemd (what
 * /info says: Podman needs systemd to schedule the checks). Docker runs its own: nothing here. */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "scheduler/op-internal.h"

/* Docker's defaults when the check gives none. */
#define DEFAULT_INTERVAL_MS (30 * 1000LL)
#define DEFAULT_TIMEOUT_MS  (30 * 1000LL)

enum mode { MODE_UNKNOWN = 0, MODE_ASKING, MODE_ENGINE, MODE_CCOMPOSE };

/* One container whose check ccompose runs. Freed in its timer's close callback. */
struct probe {
    struct sched_health *h;
    struct probe *next;
    char *id;
    json_t *attrs; /* the container's labels and name, as its events carry them */
    int64_t interval_ms, timeout_ms;
    uv_timer_t timer;
    struct engine_request *req; /* the check running now */
    bool gone;                  /* removed, or the op ends: no next run */
    bool closing;               /* its timer is closing: p goes in the close callback */
};

struct sched_health {
    struct sched_op *op;
    enum mode mode;
    struct probe *probes;
};

static void probe_run(uv_timer_t *t);

static void on_probe_closed(uv_handle_t *hd)
{
    struct probe *p = hd->data;
    json_decref(p->attrs);
    free(p->id);
    free(p);
}

/* Takes p off the list and closes its timer once no check of it runs. Called again (a result
 * handed on may end the op, which ends every probe) it does nothing. */
static void probe_end(struct probe *p)
{
    p->gone = true;
    if (p->req || p->closing)
        return;
    p->closing = true;
    struct probe **pp = &p->h->probes;
    while (*pp && *pp != p)
        pp = &(*pp)->next;
    if (*pp)
        *pp = p->next;
    uv_timer_stop(&p->timer);
    uv_close((uv_handle_t *)&p->timer, on_probe_closed);
}

static void on_probed(json_t *result, const struct cc_error *err, void *data)
{
    struct probe *p = data;
    struct sched_health *h = p->h;
    struct sched_op *op = h->op;
    p->req = NULL;
    op->outstanding--;
    const char *status = json_string_value(json_object_get(result, "Status"));
    log_debug("%s: %s: %s", __func__, p->id, err ? err->message : status ? status : "?");
    if (err && err->kind == CC_ERR_NOT_FOUND)
        p->gone = true; /* removed: nothing left to check */
    /* Only a pass is taken from the run: Podman answers "unhealthy" for one failed run while the
     * container is still "starting" (its retries not used up); the container's own state comes
     * with its events. */
    if (!p->gone && op->state != OP_DRAINING && status && strcmp(status, "healthy") == 0 &&
        op->on_container_event) {
        /* Podman reports the result in its events too, a little later; the status now lets
         * whatever waits on it go on at once (a repeated status changes nothing). */
        char *action = xasprintf("health_status: %s", status);
        json_t *ev = json_pack("{s:s, s:s, s:s, s:{s:s, s:O}}", "Type", "container", "id", p->id,
                               "Action", action, "Actor", "ID", p->id, "Attributes", p->attrs);
        op->on_container_event(op, ev);
        json_decref(ev);
        free(action);
    }
    if (p->gone || p->closing || op->state == OP_DRAINING)
        probe_end(p);
    else
        uv_timer_start(&p->timer, probe_run, (uint64_t)p->interval_ms, 0);
    op_check(op);
}

static void probe_run(uv_timer_t *t)
{
    struct probe *p = t->data;
    struct sched_op *op = p->h->op;
    struct cc_error err = CC_ERROR_INIT;
    /* The engine's own limit is the check's timeout: give the request that and a margin. */
    p->req =
        engine_container_healthcheck(op->c, p->id, (long)p->timeout_ms + 30000, on_probed, p, &err);
    if (p->req) {
        op->outstanding++;
    } else {
        log_debug("%s: %s: %s, ignoring", __func__, p->id, err.message);
        probe_end(p);
    }
    cc_error_release(&err);
}

static void probe_start(struct probe *p)
{
    /* Docker runs the first check one interval after the start; so does this. */
    uv_timer_start(&p->timer, probe_run, (uint64_t)p->interval_ms, 0);
}

static void on_info(json_t *result, const struct cc_error *err, void *data)
{
    struct sched_health *h = data;
    struct sched_op *op = h->op;
    op->outstanding--;
    const char *driver = json_string_value(json_object_get(result, "CgroupDriver"));
    /* Without an answer, running the checks is the safe side: Podman runs each on request. */
    h->mode = !err && driver && !strcmp(driver, "systemd") ? MODE_ENGINE : MODE_CCOMPOSE;
    log_debug("%s: cgroup driver %s: %s runs health checks", __func__, driver ? driver : "?",
              h->mode == MODE_ENGINE ? "the engine" : "ccompose");
    for (struct probe *p = h->probes, *next; p; p = next) {
        next = p->next;
        if (h->mode == MODE_CCOMPOSE && !p->gone && op->state != OP_DRAINING)
            probe_start(p);
        else
            probe_end(p);
    }
    op_check(op);
}

bool op_health_may_run(const struct sched_op *op)
{
    const char *env = getenv("CCOMPOSE_HEALTHCHECKS");
    return engine_client_kind(op->c) == ENGINE_PODMAN && !(env && !strcmp(env, "engine"));
}

/* Decides from the engine and CCOMPOSE_HEALTHCHECKS; MODE_ASKING while /info is asked. */
static void decide(struct sched_health *h)
{
    struct sched_op *op = h->op;
    const char *env = getenv("CCOMPOSE_HEALTHCHECKS");
    if (!op_health_may_run(op)) {
        h->mode = MODE_ENGINE;
    } else if (env && !strcmp(env, "ccompose")) {
        h->mode = MODE_CCOMPOSE;
    } else {
        struct cc_error err = CC_ERROR_INIT;
        if (engine_info(op->c, on_info, h, &err)) {
            h->mode = MODE_ASKING;
            op->outstanding++;
        } else {
            h->mode = MODE_CCOMPOSE;
        }
        cc_error_release(&err);
    }
}

static int64_t ns_to_ms(json_t *v, int64_t dflt)
{
    json_int_t ns = json_integer_value(v);
    return ns > 0 ? (int64_t)(ns / 1000000) : dflt;
}

void op_health_watch(struct sched_op *op, const char *id, json_t *inspect)
{
    json_t *hc = json_object_get(json_object_get(inspect, "Config"), "Healthcheck");
    json_t *test = json_object_get(hc, "Test");
    const char *first = json_string_value(json_array_get(test, 0));
    if (!id || op->state == OP_DRAINING || !first || !strcmp(first, "NONE"))
        return;
    if (!op->health) {
        op->health = xcalloc(1, sizeof(*op->health));
        op->health->op = op;
    }
    struct sched_health *h = op->health;
    if (h->mode == MODE_UNKNOWN)
        decide(h);
    if (h->mode == MODE_ENGINE)
        return;
    for (struct probe *p = h->probes; p; p = p->next)
        if (!strcmp(p->id, id))
            return;
    struct probe *p = xcalloc(1, sizeof(*p));
    p->h = h;
    p->id = xstrdup(id);
    json_t *labels = json_object_get(json_object_get(inspect, "Config"), "Labels");
    p->attrs = json_is_object(labels) ? json_copy(labels) : json_object();
    const char *name = json_string_value(json_object_get(inspect, "Name"));
    if (name)
        json_object_set_new(p->attrs, "name", json_string(name + (*name == '/')));
    p->interval_ms = ns_to_ms(json_object_get(hc, "Interval"), DEFAULT_INTERVAL_MS);
    p->timeout_ms = ns_to_ms(json_object_get(hc, "Timeout"), DEFAULT_TIMEOUT_MS);
    uv_timer_init(op->loop, &p->timer);
    p->timer.data = p;
    p->next = h->probes;
    h->probes = p;
    log_debug("%s: %s: every %lld ms", __func__, id, (long long)p->interval_ms);
    if (h->mode == MODE_CCOMPOSE)
        probe_start(p);
}

void op_health_stop(struct sched_op *op)
{
    struct sched_health *h = op->health;
    if (!h)
        return;
    for (struct probe *p = h->probes, *next; p; p = next) {
        next = p->next;
        if (p->req)
            engine_request_cancel(p->req);
        probe_end(p);
    }
}

void op_health_free(struct sched_op *op)
{
    /* Every probe ended with the op (op_health_stop(), and no call left outstanding). */
    free(op->health);
    op->health = NULL;
}
