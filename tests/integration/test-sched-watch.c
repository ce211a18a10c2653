/* sched_watch(): a container of a service with x-ccompose restart_on_unhealthy is restarted when it
 * is or turns unhealthy, then its `restart: true` dependents; a service without the extension is
 * left unhealthy, as docker compose leaves it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scheduler/run-internal.h"
#include "scheduler/scheduler-internal.h"
#include "tests/lib/sched-test.h"

/* Unhealthy on its first run, healthy once restarted (the container keeps its files). */
#define FLAKY_FIRST_RUN                                                                            \
    "if [ -f /tmp/once ]; then touch /tmp/ok; else touch /tmp/once; echo first run; "              \
    "fi; " ST_SLEEPER
/* Healthy on its first run until 2 s in, then unhealthy; healthy for good once restarted. */
#define FLAKY_LATER                                                                                \
    "touch /tmp/ok; if [ ! -f /tmp/once ]; then touch /tmp/once; (sleep 2; rm /tmp/ok) & "         \
    "fi; " ST_SLEEPER

struct watch_run {
    struct buf events;
    bool done;
    struct cc_error err;
    bool timed_out;
    int unhealthy; /* health_status: unhealthy events seen by the test's own subscription */
};

static void on_event(const struct sched_event *ev, void *data)
{
    struct watch_run *w = data;
    buf_printf(&w->events, "container %s %s%s%s\n", ev->name, sched_state_name(ev->state),
               ev->text ? " " : "", ev->text ? ev->text : "");
}

static void on_done(const struct cc_error *err, void *data)
{
    struct watch_run *w = data;
    w->done = true;
    if (err)
        cc_error_copy(&w->err, err);
}

static void on_guard(uv_timer_t *t)
{
    ((struct watch_run *)t->data)->timed_out = true;
}

static void on_engine_event(json_t *ev, void *data)
{
    const char *action = json_string_value(json_object_get(ev, "Action"));
    if (action && !strcmp(action, "health_status: unhealthy"))
        ((struct watch_run *)data)->unhealthy++;
}

static void on_engine_events_end(json_t *result, const struct cc_error *err, void *data)
{
    (void)result;
    (void)err;
    (void)data;
}

static struct compose_service *flaky(struct compose_project *p, const char *name,
                                     const char *script, bool opt_in)
{
    struct compose_service *s = mb_service_add(p, name, TEST_IMAGE);
    mb_command(p, s, "sh", "-c", script, NULL);
    struct compose_healthcheck *h = mb_healthcheck(p, s, "CMD-SHELL", "test -f /tmp/ok", NULL);
    h->interval = 200000000;
    h->retries = 1;
    s->x_ccompose.restart_on_unhealthy = opt_in;
    return s;
}

static bool has(const struct watch_run *w, const char *needle)
{
    return strstr(buf_str(&w->events), needle) != NULL;
}

/* Runs the loop until every needle is among the watch's events (failing on its guard's timeout or
 * its end), then cancels it and waits for its end. */
static void watch_until(struct st_fixture *f, struct watch_run *w, struct sched_op *op,
                        const char *const *needles, size_t n)
{
    for (size_t i = 0; i < n; i++)
        while (!w->timed_out && !w->done && !has(w, needles[i]))
            uv_run(&f->env.loop, UV_RUN_ONCE);
    if (w->timed_out || w->done)
        fail_msg("%s; events:\n%s", w->done ? w->err.message : "timed out", buf_str(&w->events));
    sched_op_cancel(op);
    while (!w->done)
        uv_run(&f->env.loop, UV_RUN_ONCE);
}

static void test_restarts_unhealthy_and_dependents(void **state)
{
    TL_SKIP_ON_PODMAN("this test waits for the engine's own checks to make a container unhealthy "
                      "before it starts the watch; Podman without systemd runs none until "
                      "ccompose asks");
    struct st_fixture *f = *state;
    struct compose_project *p = f->p;
    flaky(p, "flaky", FLAKY_FIRST_RUN, true);
    flaky(p, "late", FLAKY_LATER, true);
    flaky(p, "plain", FLAKY_FIRST_RUN, false);
    mb_depends_on(p, st_sleeper(p, "app"), "flaky", COMPOSE_COND_STARTED)->restart = true;
    st_sleeper(p, "bystander");
    mb_project_done(p);

    struct watch_run w = {.events = BUF_INIT, .err = CC_ERROR_INIT};
    char since[32];
    snprintf(since, sizeof(since), "%lld", (long long)time(NULL) - 1);
    json_t *filters = sched_project_filters(p->name, "container");
    struct cc_error err = CC_ERROR_INIT;
    struct engine_request *follow = engine_events(f->env.c, filters, since, NULL, on_engine_event,
                                                  on_engine_events_end, &w, &err);
    assert_non_null(follow);

    struct st_run r;
    st_run_init(&r);
    st_up(&f->env, p, NULL, &r);
    st_assert_ok(&r);
    char *plainn = st_cname(p, "plain", 1), *appn = st_cname(p, "app", 1);
    char *plain_started = st_state(&f->env, plainn, "StartedAt");
    char *app_started = st_state(&f->env, appn, "StartedAt");

    uv_timer_t guard;
    uv_timer_init(&f->env.loop, &guard);
    guard.data = &w;
    uv_timer_start(&guard, on_guard, 120000, 0);
    /* flaky and plain unhealthy before watching: the watcher finds flaky by its one list. */
    while (w.unhealthy < 2 && !w.timed_out)
        uv_run(&f->env.loop, UV_RUN_ONCE);
    engine_request_cancel(follow);

    struct sched_watch_options o = {.backoff_ms = 100, .stop_timeout_s = -1};
    struct sched_op *op = sched_watch(&f->env.loop, f->env.c, p, &o, on_event, on_done, &w, &err);
    assert_non_null(op);
    char *flakyn = st_cname(p, "flaky", 1), *laten = st_cname(p, "late", 1);
    char *flaky_healthy = xasprintf("container %s Healthy", flakyn);
    char *late_healthy = xasprintf("container %s Healthy", laten);
    char *app_restarted = xasprintf("container %s Restarted", appn);
    const char *const wanted[] = {flaky_healthy, late_healthy, app_restarted};
    watch_until(f, &w, op, wanted, CC_ARRAY_LEN(wanted));
    assert_int_equal(w.err.kind, CC_ERR_CANCELLED);
    uv_close((uv_handle_t *)&guard, NULL);
    if (getenv("ST_VERBOSE"))
        fprintf(stderr, "%s", buf_str(&w.events));

    /* Restarted, saying why, then healthy; the dependent after it. */
    char *why = xasprintf("container %s Restarting unhealthy, restart 1 in 100 ms\nstate: running, "
                          "unhealthy\nlast health check: exit code 1",
                          flakyn);
    assert_true(has(&w, why));
    assert_true(has(&w, "last log lines:\n  first run"));
    const char *ev = buf_str(&w.events);
    char *flaky_restarted = xasprintf("container %s Restarted", flakyn);
    assert_true(strstr(ev, flaky_restarted) < strstr(ev, app_restarted));
    assert_true(strstr(ev, flaky_restarted) < strstr(ev, flaky_healthy));
    char *app_why = xasprintf("container %s Restarting dependency 'flaky' was restarted", appn);
    assert_true(has(&w, app_why));
    json_t *j = st_inspect(&f->env, flakyn);
    assert_string_equal(json_string_value(tl_json_at(j, "State/Health/Status")), "healthy");
    json_decref(j);
    char *app_now = st_state(&f->env, appn, "StartedAt");
    assert_string_not_equal(app_now, app_started);

    /* Without the extension: still unhealthy, never restarted; nothing said about it. */
    assert_null(strstr(ev, plainn));
    assert_null(strstr(ev, "bystander"));
    j = st_inspect(&f->env, plainn);
    assert_string_equal(json_string_value(tl_json_at(j, "State/Health/Status")), "unhealthy");
    assert_string_equal(json_string_value(tl_json_at(j, "State/StartedAt")), plain_started);
    json_decref(j);

    free(app_now);
    free(app_why);
    free(flaky_restarted);
    free(why);
    free(app_restarted);
    free(late_healthy);
    free(flaky_healthy);
    free(flakyn);
    free(laten);
    free(plain_started);
    free(app_started);
    free(plainn);
    free(appn);
    st_run_release(&r);
    json_decref(filters);
    cc_error_release(&err);
    cc_error_release(&w.err);
    buf_release(&w.events);
}

static void stop_now(struct st_fixture *f, const char *name)
{
    struct tl_result stop;
    tl_result_init(&stop);
    TL_RUN(f->env, stop, engine_container_stop(f->env.c, name, 0, tl_on_done, &stop, &err));
    tl_result_release(&stop);
}

/* A container that never turns healthy is restarted again and again, each time after twice the
 * delay before, up to the cap: 100, 200, then 300 ms for good. */
static void test_backoff_doubles_up_to_the_cap(void **state)
{
    struct st_fixture *f = *state;
    struct compose_project *p = f->p;
    flaky(p, "sick", ST_SLEEPER, true);
    mb_project_done(p);
    struct st_run r;
    st_run_init(&r);
    st_up(&f->env, p, NULL, &r);
    st_assert_ok(&r);

    struct watch_run w = {.events = BUF_INIT, .err = CC_ERROR_INIT};
    struct cc_error err = CC_ERROR_INIT;
    struct sched_watch_options o = {.backoff_ms = 100, .backoff_max_ms = 300, .stop_timeout_s = 0};
    struct sched_op *op = sched_watch(&f->env.loop, f->env.c, p, &o, on_event, on_done, &w, &err);
    assert_non_null(op);
    uv_timer_t guard;
    uv_timer_init(&f->env.loop, &guard);
    guard.data = &w;
    uv_timer_start(&guard, on_guard, 60000, 0);
    char *sick = st_cname(p, "sick", 1);
    char *fifth = xasprintf("container %s Restarting unhealthy, restart 5 in 300 ms", sick);
    const char *const wanted[] = {fifth};
    watch_until(f, &w, op, wanted, 1);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(&f->env.loop, UV_RUN_NOWAIT); /* the guard lives on this stack: let it close */
    static const char *const delays[] = {"1 in 100", "2 in 200", "3 in 300", "4 in 300"};
    size_t at = 0;
    for (size_t i = 0; i < CC_ARRAY_LEN(delays); i++) {
        char *want = xasprintf("container %s Restarting unhealthy, restart %s ms", sick, delays[i]);
        const char *found = strstr(buf_str(&w.events) + at, want);
        if (!found)
            fail_msg("no '%s' after offset %zu in:\n%s", want, at, buf_str(&w.events));
        at = (size_t)(found - buf_str(&w.events));
        free(want);
    }
    assert_null(strstr(buf_str(&w.events), "Healthy"));
    /* A restart the cancelled watch asked for may still be running in the engine, and a removal
     * then fails: a stop waits for it (the engine does one thing at a time with a container). */
    stop_now(f, sick);
    free(fifth);
    free(sick);
    st_run_release(&r);
    cc_error_release(&err);
    cc_error_release(&w.err);
    buf_release(&w.events);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_restarts_unhealthy_and_dependents, st_setup,
                                        st_teardown),
        cmocka_unit_test_setup_teardown(test_backoff_doubles_up_to_the_cap, st_setup, st_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
