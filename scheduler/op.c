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
    [SCHED_CREATING] = "Creating",   [SCHED_CREATED] = "Created",   [SCHED_RECREATE] = "Recreate",
    [SCHED_RECREATED] = "Recreated", [SCHED_STARTING] = "Starting", [SCHED_STARTED] = "Started",
    [SCHED_RUNNING] = "Running",     [SCHED_WAITING] = "Waiting",   [SCHED_HEALTHY] = "Healthy",
    [SCHED_EXITED] = "Exited",       [SCHED_STOPPING] = "Stopping", [SCHED_STOPPED] = "Stopped",
    [SCHED_REMOVING] = "Removing",   [SCHED_REMOVED] = "Removed",   [SCHED_WARNING] = "Warning",
    [SCHED_ERROR] = "Error",         [SCHED_UPDATING] = "Updating", [SCHED_UPDATED] = "Updated",
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
    sched_queue_free(op->q);
    cc_error_release(&op->err);
    free(op->project_name);
    free(op);
}

bool op_check(struct sched_op *op)
{
    if (op->state != OP_DRAINING || op->outstanding || op->events)
        return false;
    if (op->done) {
        sched_done_cb done = op->done;
        op->done = NULL;
        done(op->err.kind == CC_ERR_NONE ? NULL : &op->err, op->data);
        uv_close((uv_handle_t *)&op->timer, on_op_closed);
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
    sched_queue_cancel_all(op->q);
    if (op->events)
        engine_request_cancel(op->events);
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

static void on_events_end(json_t *result, const struct cc_error *err, void *data)
{
    (void)result;
    struct sched_op *op = data;
    op->events = NULL;
    if (op->state != OP_DRAINING)
        op_fail(op, err ? err->kind : CC_ERR_PROTOCOL, "the engine's event stream ended: %s",
                err && err->message ? err->message : "no reason given");
    op_check(op);
}

static void on_events_item(json_t *item, void *data)
{
    struct sched_op *op = data;
    if (op->state != OP_DRAINING && op->on_container_event)
        op->on_container_event(op, item);
}

struct sched_op *op_new(uv_loop_t *loop, struct engine_client *c, const char *project_name,
                        int parallel, bool subscribe, struct cc_error *reterr)
{
    struct sched_op *op = xcalloc(1, sizeof(*op));
    op->loop = loop;
    op->c = c;
    op->project_name = xstrdup(project_name);
    cc_error_init(&op->err);
    if (subscribe) {
        /* since= now: whatever happens between this request and the engine accepting it is
         * replayed, so nothing observed afterwards can be missed. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        char since[64];
        snprintf(since, sizeof(since), "%lld.%09ld", (long long)ts.tv_sec, ts.tv_nsec);
        json_t *filters = sched_project_filters(project_name, "container");
        op->events =
            engine_events(c, filters, since, NULL, on_events_item, on_events_end, op, reterr);
        json_decref(filters);
        if (!op->events) {
            free(op->project_name);
            free(op);
            return NULL;
        }
    }
    op->q = sched_queue_new(loop, c, parallel);
    uv_timer_init(loop, &op->timer);
    op->timer.data = op;
    return op;
}
