/* sched_events: a project's container events for the cli (logs -f, attached up's logs, events),
 * on the op's event subscription, so they get what up and watch get: subscribed again from the
 * last event's time whenever the engine ends the stream, none repeated, and a word when the engine
 * may have forgotten some (it came back from a failure or a restart). */
#include <stdlib.h>

#include "scheduler/op-internal.h"

struct events {
    sched_container_event_cb on_container;
    void (*on_resync)(void *data);
};

static void on_container_event(struct sched_op *op, json_t *ev)
{
    struct events *e = op->impl;
    e->on_container(ev, op->data);
}

static void on_resync(struct sched_op *op)
{
    struct events *e = op->impl;
    if (e->on_resync)
        e->on_resync(op->data);
}

static void events_release(struct sched_op *op)
{
    free(op->impl);
}

struct sched_op *sched_events(uv_loop_t *loop, struct engine_client *c, const char *project_name,
                              sched_container_event_cb on_container, void (*resync)(void *data),
                              sched_done_cb done, void *data, struct cc_error *reterr)
{
    if (!loop || !c || !project_name || !*project_name || !on_container || !done)
        return cc_error_set(reterr, CC_ERR_USAGE,
                            "events need a loop, a client, a project name, an event and a done "
                            "callback"),
               NULL;
    struct sched_op *op = op_new(loop, c, project_name, 0, true, 0, reterr);
    if (!op)
        return NULL;
    struct events *e = xcalloc(1, sizeof(*e));
    e->on_container = on_container;
    e->on_resync = resync;
    op->impl = e;
    op->done = done;
    op->data = data;
    op->on_container_event = on_container_event;
    op->on_resync = on_resync;
    op->release = events_release;
    op_set_state(op, OP_WAITING);
    return op;
}
