/* sched_replay: the events handed on lately, pruned when the array fills, so that each event
 * costs O(1) amortised and the array holds about a window's worth. */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "scheduler/replay.h"
#include "scheduler/run-internal.h"

struct sched_replay_seen {
    long long ns;
    char *key; /* "id action" */
};

/* Forgets the events too old to come again. */
static void prune(struct sched_replay *r)
{
    size_t kept = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (r->seen[i].ns < r->last_ns - SCHED_REPLAY_WINDOW_NS)
            free(r->seen[i].key);
        else
            r->seen[kept++] = r->seen[i];
    }
    r->n = kept;
}

bool sched_replay_check(struct sched_replay *r, json_t *ev)
{
    long long t = (long long)json_integer_value(json_object_get(ev, "timeNano"));
    if (!t)
        return false;
    if (t < r->last_ns - SCHED_REPLAY_WINDOW_NS)
        return true;
    const char *id = sched_json_str(ev, "id"), *action = sched_json_str(ev, "Action");
    char *key = xasprintf("%s %s", id ? id : "", action ? action : "");
    for (size_t i = 0; i < r->n; i++)
        if (r->seen[i].ns == t && !strcmp(r->seen[i].key, key)) {
            free(key);
            return true;
        }
    if (t > r->last_ns)
        r->last_ns = t;
    if (r->n == r->cap) {
        prune(r);
        if (!r->cap || r->n * 2 > r->cap) {
            r->cap = r->cap ? r->cap * 2 : 16;
            r->seen = xrealloc(r->seen, r->cap * sizeof(*r->seen));
        }
    }
    r->seen[r->n++] = (struct sched_replay_seen){t, key};
    return false;
}

void sched_replay_release(struct sched_replay *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->seen[i].key);
    free(r->seen);
    *r = (struct sched_replay){0};
}
