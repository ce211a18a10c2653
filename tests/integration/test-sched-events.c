/* The scheduler's event stream survives the engine ending it: it subscribes again from the time
 * of the last event it saw, and skips the replay of what it already handed on. The engine is
 * made to end the stream every few hundred milliseconds (until=, the events_window_ms knob), and
 * the events the op saw are compared with what one plain subscription, never ended, saw over the
 * same span. (Not with the engine's buffer asked afterwards: it keeps the last 256 events of the
 * whole engine, so on a busy engine the oldest of the span may be gone by then.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scheduler/op-internal.h"
#include "scheduler/scheduler-internal.h"
#include "tests/lib/sched-test.h"

struct seen {
    struct buf lines; /* "id action timeNano\n" per event, in order */
    bool done;
    struct cc_error err;
};

static void add_line(struct buf *b, json_t *ev)
{
    buf_printf(b, "%s %s %lld\n", json_string_value(json_object_get(ev, "id")),
               json_string_value(json_object_get(ev, "Action")),
               (long long)json_integer_value(json_object_get(ev, "timeNano")));
}

static void on_op_event(struct sched_op *op, json_t *ev)
{
    add_line(&((struct seen *)op->data)->lines, ev);
}

static void on_op_done(const struct cc_error *err, void *data)
{
    struct seen *s = data;
    s->done = true;
    if (err)
        cc_error_copy(&s->err, err);
}

static void release_nothing(struct sched_op *op)
{
    (void)op;
}

static void on_truth_item(json_t *ev, void *data)
{
    struct tl_result *r = data;
    add_line(&r->out, ev);
    r->items++;
}

static int count_destroys(const struct buf *b)
{
    int n = 0;
    for (const char *at = buf_str(b); (at = strstr(at, " destroy ")); at++)
        n++;
    return n;
}

static char *time_arg(long long ns)
{
    return xasprintf("%lld.%09lld", ns / 1000000000LL, ns % 1000000000LL);
}

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Runs a labelled one-shot container through create, start, exit and removal. */
static void cycle(struct tl_env *env, const char *project, int i)
{
    json_t *body = tl_sh_body("exit 0", NULL);
    json_object_set_new(body, "Labels", json_pack("{s:s}", SCHED_LABEL_PROJECT, project));
    char what[32];
    snprintf(what, sizeof(what), "ev%d", i);
    char *id = tl_container_new(env, what, body, NULL);
    tl_container_start(env, id);
    assert_int_equal(tl_container_wait(env, id, NULL), 0);
    struct tl_result r;
    tl_result_init(&r);
    TL_RUN(*env, r, engine_container_remove(env->c, id, true, false, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    tl_result_release(&r);
    free(id);
    json_decref(body);
}

static void test_resubscribes_without_missing_or_repeating(void **state)
{
    struct st_fixture *f = *state;
    struct seen seen = {.lines = BUF_INIT, .err = CC_ERROR_INIT};
    long long start = now_ns();
    /* The reference: one subscription from the same time, left open until the end. */
    char *since = time_arg(start);
    json_t *filters = sched_project_filters(f->p->name, "container");
    struct tl_result truth;
    tl_result_init(&truth);
    struct cc_error terr = CC_ERROR_INIT;
    struct engine_request *treq =
        engine_events(f->env.c, filters, since, NULL, on_truth_item, tl_on_done, &truth, &terr);
    assert_non_null(treq);
    struct cc_error operr = CC_ERROR_INIT;
    struct sched_op *op = op_new(&f->env.loop, f->env.c, f->p->name, 0, true, 250, &operr);
    assert_non_null(op);
    op->on_container_event = on_op_event;
    op->release = release_nothing;
    op->done = on_op_done;
    op->data = &seen;

    for (int i = 0; i < 6; i++)
        cycle(&f->env, f->p->name, i);
    /* Until the op has seen the last removal (destroy is the last event of a container). */
    while (count_destroys(&seen.lines) < 6 && !seen.done)
        uv_run(&f->env.loop, UV_RUN_ONCE);
    assert_false(seen.done);
    while (count_destroys(&truth.out) < 6 && !truth.done)
        uv_run(&f->env.loop, UV_RUN_ONCE);
    assert_false(truth.done);
    engine_request_cancel(treq);
    int subscriptions = op->subscriptions;
    sched_op_cancel(op);
    while (!seen.done)
        uv_run(&f->env.loop, UV_RUN_ONCE);
    assert_int_equal(seen.err.kind, CC_ERR_CANCELLED);
    /* The stream was ended under it several times while the containers came and went. */
    if (subscriptions < 3)
        fail_msg("only %d subscriptions", subscriptions);

    while (!truth.done)
        uv_run(&f->env.loop, UV_RUN_ONCE);
    assert_string_equal(buf_str(&seen.lines), buf_str(&truth.out));

    tl_result_release(&truth);
    json_decref(filters);
    free(since);
    cc_error_release(&terr);
    buf_release(&seen.lines);
    cc_error_release(&seen.err);
    cc_error_release(&operr);
}

/* A health wait that spans several ends of the stream still sees the dependency turn healthy. */
static void test_up_waits_across_stream_ends(void **state)
{
    struct st_fixture *f = *state;
    struct compose_project *p = f->p;
    struct compose_service *db = mb_service_add(p, "db", TEST_IMAGE);
    mb_command(p, db, "sh", "-c",
               "trap 'exit 0' TERM; sleep 2; touch /tmp/ready; sleep 3600 & wait", NULL);
    struct compose_healthcheck *h = mb_healthcheck(p, db, "CMD-SHELL", "test -f /tmp/ready", NULL);
    h->interval = 300000000;
    h->retries = 50;
    mb_depends_on(p, st_sleeper(p, "web"), "db", COMPOSE_COND_HEALTHY);
    mb_project_done(p);
    struct st_run r;
    st_run_init(&r);
    struct sched_up_options o = {
        .wait = true, .wait_timeout_ms = 120000, .stop_timeout_s = -1, .events_window_ms = 200};
    st_up(&f->env, p, &o, &r);
    st_assert_ok(&r);
    assert_true(st_event_at(&r, "db-1 Healthy") < st_event_at(&r, "web-1 Starting"));
    /* Handed on once, replays skipped. */
    const char *first = strstr(buf_str(&r.events), "db-1 Healthy");
    assert_null(strstr(first + 1, "db-1 Healthy"));
    st_run_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_resubscribes_without_missing_or_repeating, st_setup,
                                        st_teardown),
        cmocka_unit_test_setup_teardown(test_up_waits_across_stream_ends, st_setup, st_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
