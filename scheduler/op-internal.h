/* Inside scheduler/: the operation struct shared by up and down, and its lifetime.
 *
 * An op runs until op_finish() (success or the first error); then it drains: the queue and the
 * event stream are cancelled, and once every callback has come back (outstanding == 0, no event
 * stream) op_check() calls done once and frees the op in its timer's close callback. Every
 * handler of an engine answer decrements outstanding, does its work, and ends with op_check(op)
 * (after which op may be gone). */
#ifndef CC_SCHEDULER_OP_INTERNAL_H
#define CC_SCHEDULER_OP_INTERNAL_H

#include "scheduler/replay.h"
#include "scheduler/run-internal.h"

enum op_state { OP_OBSERVING = 0, OP_RESOURCES, OP_CONTAINERS, OP_WAITING, OP_DRAINING };

struct sched_op {
    enum op_state state;
    uv_loop_t *loop;
    struct engine_client *c;
    struct sched_queue *q;
    char *project_name;
    struct engine_request *events; /* the container event stream while subscribed */
    uv_timer_t timer;              /* --wait timeout; its close frees the op */
    /* The event stream is subscribed again when the engine ends it (an engine restart, or the
     * window below), from the time of the last event seen, whose replay is skipped. */
    uv_timer_t resubscribe;     /* the next subscription (capped backoff after failures) */
    int events_failures;        /* failed subscriptions in a row */
    bool events_unexpected_end; /* the engine ended a stream it was not asked to end */
    int subscriptions;          /* how many were made (the first included) */
    int64_t events_window_ms;   /* > 0: each subscription asks the engine to end it this late */
    long long events_first_ns;  /* since= of the first subscription */
    struct sched_replay replay; /* the events handed on lately; since= is its latest */
    int outstanding;     /* queued calls whose callback has not run */
    struct cc_error err; /* the first failure */
    sched_event_cb on_event;
    sched_done_cb done;
    void *data;
    /* The command's own: its container event handler and its state's destructor. */
    void (*on_container_event)(struct sched_op *op, json_t *event);
    /* After the stream came back from a failure (the engine restarted, say, and forgot the
     * events of the gap): look again at what the command waits for. May be NULL. */
    void (*on_resync)(struct sched_op *op);
    void (*release)(struct sched_op *op);
    void *impl;
    struct sched_health *health; /* health.c: the checks ccompose runs for the engine, or NULL */
};

/* NULL with *reterr when the event stream (subscribe) cannot be requested. events_window_ms > 0
 * makes the engine end each subscription after that long (until=), so that the resubscription
 * path runs all the time: for tests; 0 otherwise. */
struct sched_op *op_new(uv_loop_t *loop, struct engine_client *c, const char *project_name,
                        int parallel, bool subscribe, int64_t events_window_ms,
                        struct cc_error *reterr);
void op_set_state(struct sched_op *op, enum op_state state);
/* A call through the queue, counted in outstanding; cb must decrement it. body: steals. */
void op_call(struct sched_op *op, enum sched_call_kind kind, const char *id, json_t *body,
             int timeout_s, bool flag, engine_cb cb, void *data);
/* sched_queue_put_archive() counted as op_call() counts. */
void op_put_archive(struct sched_op *op, const char *id, struct buf *tar, bool keep_owner,
                    engine_cb cb, void *data);
/* Ends the op (err NULL: success; the first error wins) and starts draining. Never frees. */
void op_finish(struct sched_op *op, const struct cc_error *err);
void op_fail(struct sched_op *op, enum cc_error_kind kind, const char *fmt, ...) CC_PRINTF(3, 4);
/* Frees the op when it has drained; true when it is (being) freed. Last thing a handler does. */
bool op_check(struct sched_op *op);
void op_report(struct sched_op *op, enum sched_resource kind, const char *name, const char *service,
               enum sched_state state, const char *fmt, ...) CC_PRINTF(6, 7);

/* Diagnoses container id (diag.c): one inspect and one logs call through op's queue, counted in
 * outstanding while they run. cb is called once, from the loop, with sched_diag_format()'s text
 * (new), or NULL when the op is draining, and the inspect (borrowed; NULL when it failed or when
 * draining); it must end with op_check(op). */
typedef void (*op_diag_cb)(struct sched_op *op, char *details, json_t *inspect, void *data);
void op_diagnose(struct sched_op *op, const char *id, op_diag_cb cb, void *data);

/* Health checks where the engine runs none (health.c; Podman without systemd): runs container
 * id's check at its interval until the op ends, each result handed to on_container_event as a
 * "health_status: STATUS" event. inspect (borrowed) is the container's, for its Config.Healthcheck;
 * a container without a check, an engine that runs its checks itself, or a draining op: nothing.
 * Calls in flight count in outstanding. */
void op_health_watch(struct sched_op *op, const char *id, json_t *inspect);
/* Whether ccompose may have to run checks for this engine (Podman, unless CCOMPOSE_HEALTHCHECKS
 * says "engine"): cheap, for skipping the looks that op_health_watch() needs. */
bool op_health_may_run(const struct sched_op *op);
/* Stops every check (op_finish() does); op_health_free() when the op is freed. */
void op_health_stop(struct sched_op *op);
void op_health_free(struct sched_op *op);

#endif
