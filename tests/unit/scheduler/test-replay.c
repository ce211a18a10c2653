/* sched_replay: which events of a stream subscribed again are replays. What up's health waits
 * rest on: an event dropped as a replay when it was not one is a health change or an exit lost
 * for good (up then waits for ever). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "scheduler/replay.h"

#define S 1000000000LL

/* Whether the event (id, action, at ns) is taken as a replay. */
static bool seen(struct sched_replay *r, const char *id, const char *action, long long ns)
{
    json_t *ev =
        json_pack("{s:s, s:s, s:I}", "id", id, "Action", action, "timeNano", (json_int_t)ns);
    bool replay = sched_replay_check(r, ev);
    json_decref(ev);
    return replay;
}

/* Docker 20.10 stamps an event before it queues it: two stamped microseconds apart come in
 * either order, and the older one is new all the same. */
static void test_out_of_order_is_not_a_replay(void **state)
{
    (void)state;
    struct sched_replay r = {0};
    long long t = 1796255400 * S;
    assert_false(seen(&r, "db", "exec_die", t + 2000000));
    assert_false(seen(&r, "redis", "health_status: healthy", t + 1000000));
    assert_false(seen(&r, "db", "exec_create", t));
    assert_true(r.last_ns == t + 2000000);
    sched_replay_release(&r);
}

/* A subscription from the latest time repeats what was at that time, and may repeat what was
 * a little before it (an engine that rounds since= to the second): none is handed on twice, and
 * an event of the same time from another container or action is new. */
static void test_repeats_are_replays(void **state)
{
    (void)state;
    struct sched_replay r = {0};
    long long t = 1796255400 * S;
    assert_false(seen(&r, "web", "start", t - S / 2));
    assert_false(seen(&r, "db", "health_status: healthy", t));
    assert_true(seen(&r, "web", "start", t - S / 2));
    assert_true(seen(&r, "db", "health_status: healthy", t));
    assert_false(seen(&r, "db", "die", t));
    assert_false(seen(&r, "web", "health_status: healthy", t));
    /* Far older than anything the window keeps: from an earlier subscription's replay. */
    assert_true(seen(&r, "old", "start", t - SCHED_REPLAY_WINDOW_NS - 1));
    /* Without a time, nothing tells a replay: it is handed on. */
    json_t *ev = json_pack("{s:s, s:s}", "id", "db", "Action", "start");
    assert_false(sched_replay_check(&r, ev));
    assert_false(sched_replay_check(&r, ev));
    json_decref(ev);
    sched_replay_release(&r);
}

/* A long stream: what is older than the window is forgotten (the array stays small), what is
 * within it is still recognised. */
static void test_window_on_a_long_stream(void **state)
{
    (void)state;
    struct sched_replay r = {0};
    long long t0 = 1796255400 * S;
    char id[32];
    /* 100 events a second for a minute. */
    for (int i = 0; i < 6000; i++) {
        snprintf(id, sizeof(id), "c%d", i % 7);
        assert_false(seen(&r, id, "exec_die", t0 + (long long)i * (S / 100)));
    }
    long long last = t0 + 5999LL * (S / 100);
    assert_true(r.last_ns == last);
    assert_true(r.n <= 2 * (size_t)(SCHED_REPLAY_WINDOW_NS / (S / 100)) + 16);
    snprintf(id, sizeof(id), "c%d", 5999 % 7);
    assert_true(seen(&r, id, "exec_die", last));
    snprintf(id, sizeof(id), "c%d", 5000 % 7);
    assert_true(seen(&r, id, "exec_die", t0 + 5000LL * (S / 100)));
    /* Within the window but never seen: an out-of-order event, new. */
    assert_false(seen(&r, "c0", "die", last - S));
    sched_replay_release(&r);
    assert_true(r.n == 0 && r.seen == NULL && r.last_ns == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_out_of_order_is_not_a_replay),
        cmocka_unit_test(test_repeats_are_replays),
        cmocka_unit_test(test_window_on_a_long_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
