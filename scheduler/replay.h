/* Telling a replayed engine event from a new one. An event stream subscribed again from the
 * latest event's time (since=) repeats the events of that very time (of that second, on an
 * engine that rounds), which must not be handed on twice. The engine stamps an event before it
 * queues it, so events stamped at nearly the same time also come in either order on one live
 * stream (seen on Docker 20.10: by up to milliseconds; Podman sends them in late batches): an
 * event older than the latest is not a replay for that alone, and dropping it would lose a health
 * change or an exit for good. An event is a replay when one of the same time, container and
 * action was handed on, or when it is older than the latest by more than SCHED_REPLAY_WINDOW_NS. */
#ifndef CC_SCHEDULER_REPLAY_H
#define CC_SCHEDULER_REPLAY_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define SCHED_REPLAY_WINDOW_NS (10 * 1000000000LL)

/* Zeroed is empty. The events handed on within the window before the latest. */
struct sched_replay {
    long long last_ns; /* the latest timeNano handed on, 0 before any */
    struct sched_replay_seen *seen;
    size_t n, cap;
};

/* Whether event ev (borrowed; timeNano, id, Action) was handed on already; records it when not.
 * An event without timeNano is never a replay. */
bool sched_replay_check(struct sched_replay *r, json_t *ev);
/* Frees what r holds and empties it. */
void sched_replay_release(struct sched_replay *r);

#endif
