/* What up and down share: the operation's lifetime (finish once, drain, free in the timer's close
 * callback), the event stream subscription, and reporting. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "scheduler/op-internal.h"
#include "scheduler/scheduler-internal.h"

static const char *const state_names[] = {
    [SCHED_CREATING] = "Creating",     [SCHED_CREATED] = "Created",
    [SCHED_RECREATE] = "Recreate",     [SCHED_RECREATED] = "Recreated",
    [SCHED_STARTING] = "Starting",     [SCHED_STARTED] = "Started",
    [SCHED_RUNNING] = "Running",       [SCHED_WAITING] = "Waiting",
    [SCHED_HEALTHY] = "Healthy",       [SCHED_EXITED] = "Exited",
    [SCHED_STOPPING] = "Stopping",     [SCHED_STOPPED] = "Stopped",
    [SCHED_REMOVING] = "Removing",     [SCHED_REMOVED] = "Removed",
    [SCHED_WARNING] = "Warning",       [SCHED_ERROR] = "Error",
    [SCHED_RESTARTING] = "Restarting", [SCHED_PULLING] = "Pulling",
    [SCHED_PULLED] = "Pulled",         [SCHED_BUILDING] = "Building",
    [SCHED_BUILT] = "Built",           [SCHED_UPDATING] = "Updating",
    [SCHED_UPDATED] = "Updated",       [SCHED_RESTARTED] = "Restarted",
    [SCHED_PUSHING] = "Pushing",       [SCHED_PUSHED] = "Pushed",
    [SCHED_SKIPPED] = "Skipped",
};

const char *sched_state_name(enum sched_state state)
{
    return (size_t)state < CC_ARRAY_LEN(state_names) ? state_names[state] : "?";
}

const char *sched_resource_name(enum sched_resource kind)
{
    switch (kind) {
    case SCHED_RES_NETWORK:
        return "network";
    case SCHED_RES_VOLUME:
        return "volume";
    case SCHED_RES_CONTAINER:
        return "container";
    case SCHED_RES_IMAGE:
        return "image";
    case SCHED_RES_SERVICE:
        return "service";
    case SCHED_RES_SECRET:
        return "secret";
    case SCHED_RES_CONFIG:
        return "config";
    case SCHED_RES_TASK:
        return "task";
    }
    return "?";
}

void op_report(struct sched_op *op, enum sched_resource kind, const char *name, const char *service,
               enum sched_state state, const char *fmt, ...)
{
    char *text = NULL;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        text = xvasprintf(fmt, ap);
        va_end(ap);
    }
    log_debug("%s: %s %s %s %s", __func__, sched_resource_name(kind), name, sched_state_name(state),
              text ? text : "");
    if (op->on_event) {
        struct sched_event ev = {kind, name, service, state, text};
        op->on_event(&ev, op->data);
    }
    free(text);
}

void op_set_state(struct sched_op *op, enum op_state state)
{
    static const char *const names[] = {"observing", "resources", "containers", "waiting",
                                        "draining"};
    log_debug("%s: %s: %s -> %s", __func__, op->project_name, names[op->state], names[state]);
    op->state = state;
}

static void on_op_closed(uv_handle_t *h)
{
    struct sched_op *op = h->data;
    op->release(op);
    op_health_free(op);
    sched_replay_release(&op->replay);
    sched_queue_free(op->q);
    cc_error_release(&op->err);
    free(op->project_name);
    free(op);
}

/* The op's two timers close one after the other; the second one's close frees it. */
static void on_resubscribe_closed(uv_handle_t *h)
{
    struct sched_op *op = h->data;
    uv_close((uv_handle_t *)&op->timer, on_op_closed);
}

bool op_check(struct sched_op *op)
{
    if (op->state != OP_DRAINING || op->outstanding || op->events)
        return false;
    if (op->done) {
        sched_done_cb done = op->done;
        op->done = NULL;
        done(op->err.kind == CC_ERR_NONE ? NULL : &op->err, op->data);
        uv_close((uv_handle_t *)&op->resubscribe, on_resubscribe_closed);
    }
    return true;
}

void op_finish(struct sched_op *op, const struct cc_error *err)
{
    if (op->state == OP_DRAINING)
        return;
    if (err && op->err.kind == CC_ERR_NONE)
        cc_error_copy(&op->err, err);
    op_set_state(op, OP_DRAINING);
    uv_timer_stop(&op->timer);
    uv_timer_stop(&op->resubscribe);
    sched_queue_cancel_all(op->q);
    if (op->events)
        engine_request_cancel(op->events);
    op_health_stop(op);
}

void op_fail(struct sched_op *op, enum cc_error_kind kind, const char *fmt, ...)
{
    struct cc_error err = CC_ERROR_INIT;
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    cc_error_set(&err, kind, "%s", msg);
    free(msg);
    op_finish(op, &err);
    cc_error_release(&err);
}

void sched_op_cancel(struct sched_op *op)
{
    struct cc_error err = CC_ERROR_INIT;
    cc_error_set(&err, CC_ERR_CANCELLED, "cancelled");
    op_finish(op, &err);
    cc_error_release(&err);
    /* Whatever was in flight answers later, from the loop; op_check() runs then. */
}

void op_call(struct sched_op *op, enum sched_call_kind kind, const char *id, json_t *body,
             int timeout_s, bool flag, engine_cb cb, void *data)
{
    op->outstanding++;
    sched_queue_call(op->q, kind, id, body, timeout_s, flag, cb, data);
}

void op_put_archive(struct sched_op *op, const char *id, struct buf *tar, bool keep_owner,
                    engine_cb cb, void *data)
{
    op->outstanding++;
    sched_queue_put_archive(op->q, id, tar, keep_owner, cb, data);
}

/* Failed subscriptions in a row before the op gives up (about a minute, long enough for an engine
 * to restart), and the backoff between them. */
#define EVENTS_MAX_FAILURES 30
#define EVENTS_BACKOFF_MS   100
#define EVENTS_BACKOFF_MAX  2000

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void format_ns(char *out, size_t size, long long ns)
{
    snprintf(out, size, "%lld.%09lld", ns / 1000000000LL, ns % 1000000000LL);
}

static void on_events_item(json_t *item, void *data);
static void on_events_end(json_t *result, const struct cc_error *err, void *data);

/* since= the last event seen (or the op's start): whatever happened between the previous stream
 * and this one being accepted is replayed, so no condition change is missed. */
static struct engine_request *subscribe(struct sched_op *op, struct cc_error *reterr)
{
    char since[48], until[48];
    format_ns(since, sizeof(since), op->replay.last_ns ? op->replay.last_ns : op->events_first_ns);
    if (op->events_window_ms > 0)
        format_ns(until, sizeof(until), now_ns() + op->events_window_ms * 1000000LL);
    json_t *filters = sched_project_filters(op->project_name, "container");
    struct engine_request *r =
        engine_events(op->c, filters, since, op->events_window_ms > 0 ? until : NULL,
                      on_events_item, on_events_end, op, reterr);
    json_decref(filters);
    if (r)
        op->subscriptions++;
    log_debug("%s: %s: since %s (subscription %d)", __func__, op->project_name, since,
              op->subscriptions);
    return r;
}

static void events_failed(struct sched_op *op, const struct cc_error *err);

/* Subscribes again; after failures, the engine may have restarted and forgotten the events of the
 * gap (it keeps them in memory only), so the command looks again at what it waits for. */
static void resubscribe_now(struct sched_op *op)
{
    struct cc_error err = CC_ERROR_INIT;
    bool resync = op->events_failures > 0 || op->events_unexpected_end;
    op->events_unexpected_end = false;
    op->events = subscribe(op, &err);
    op->events_failures = 0;
    if (!op->events)
        op_fail(op, err.kind, "cannot follow the engine's events: %s", err.message);
    else if (resync && op->on_resync)
        op->on_resync(op);
    cc_error_release(&err);
}

/* The engine answers again: subscribe (the stream itself says nothing until an event comes, so a
 * failed stream would not tell an engine still down from one that is back). */
static void on_probe(json_t *result, const struct cc_error *err, void *data)
{
    (void)result;
    struct sched_op *op = data;
    op->outstanding--;
    if (op->state == OP_DRAINING)
        goto out;
    if (err)
        events_failed(op, err);
    else
        resubscribe_now(op);
out:
    op_check(op);
}

static void on_resubscribe(uv_timer_t *t)
{
    struct sched_op *op = t->data;
    if (op->state == OP_DRAINING)
        goto out;
    if (op->events_failures > 0)
        op_call(op, SCHED_CALL_INFO, NULL, NULL, 0, false, on_probe, op);
    else
        resubscribe_now(op);
out:
    op_check(op);
}

/* Capped backoff after a failure; the op fails when the engine stays away too long. */
static void events_failed(struct sched_op *op, const struct cc_error *err)
{
    op->events_failures++;
    if (op->events_failures > EVENTS_MAX_FAILURES) {
        op_fail(op, err->kind, "the engine's event stream ended: %s",
                err->message ? err->message : "no reason given");
        return;
    }
    uint64_t delay = (uint64_t)EVENTS_BACKOFF_MS
                     << (op->events_failures - 1 < 8 ? op->events_failures - 1 : 8);
    if (delay > EVENTS_BACKOFF_MAX)
        delay = EVENTS_BACKOFF_MAX;
    log_debug("%s: %s: %s, again in %llu ms", __func__, op->project_name,
              err->message ? err->message : "failed", (unsigned long long)delay);
    uv_timer_start(&op->resubscribe, on_resubscribe, delay, 0);
}

static void on_events_end(json_t *result, const struct cc_error *err, void *data)
{
    (void)result;
    struct sched_op *op = data;
    op->events = NULL;
    if (op->state == OP_DRAINING)
        goto out;
    /* Only op_finish() cancels the stream, and the client cancels it when it is being freed:
     * then there is nothing to come back to. */
    if (err && err->kind == CC_ERR_CANCELLED) {
        op_finish(op, err);
        goto out;
    }
    /* The engine ended it (until=, or an engine going down), or could not be reached: subscribe
     * again, at once after a clean end, with capped backoff after failures. */
    if (err) {
        events_failed(op, err);
    } else {
        /* Without until=, an engine that ends the stream cleanly is going down. */
        op->events_unexpected_end = op->events_window_ms <= 0;
        log_debug("%s: %s: ended by the engine, again now", __func__, op->project_name);
        uv_timer_start(&op->resubscribe, on_resubscribe, 0, 0);
    }
out:
    op_check(op);
}

static void on_events_item(json_t *item, void *data)
{
    struct sched_op *op = data;
    if (sched_replay_check(&op->replay, item))
        return;
    if (op->state != OP_DRAINING && op->on_container_event)
        op->on_container_event(op, item);
}

struct sched_op *op_new(uv_loop_t *loop, struct engine_client *c, const char *project_name,
                        int parallel, bool subscribe_events, int64_t events_window_ms,
                        struct cc_error *reterr)
{
    struct sched_op *op = xcalloc(1, sizeof(*op));
    op->loop = loop;
    op->c = c;
    op->project_name = xstrdup(project_name);
    cc_error_init(&op->err);
    if (subscribe_events) {
        /* since= now: whatever happens between this request and the engine accepting it is
         * replayed, so nothing observed afterwards can be missed. */
        op->events_window_ms = events_window_ms;
        op->events_first_ns = now_ns();
        op->events = subscribe(op, reterr);
        if (!op->events) {
            free(op->project_name);
            free(op);
            return NULL;
        }
    }
    op->q = sched_queue_new(loop, c, parallel);
    uv_timer_init(loop, &op->timer);
    op->timer.data = op;
    uv_timer_init(loop, &op->resubscribe);
    op->resubscribe.data = op;
    return op;
}
