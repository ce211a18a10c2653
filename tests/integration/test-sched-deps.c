/* Dependency conditions against the real engine: service_healthy (the dependent starts after the
 * dependency's health turned healthy, and --wait returns once it is), service_completed_
 * successfully (after the one-shot exited 0), a failing dependency failing its dependent with a
 * message naming it, and an optional one that only warns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/sched-test.h"

static struct compose_service *one_shot(struct compose_project *p, const char *name,
                                        const char *script)
{
    struct compose_service *s = mb_service_add(p, name, TEST_IMAGE);
    mb_command(p, s, "sh", "-c", script, NULL);
    return s;
}

/* When the container turned healthy: the time of its "health_status: healthy" event, replayed
 * from since_s to now. Not the probe log in its inspect: the engine keeps only its last five
 * probes there, and the checks go on every 300 ms while up waits for the others, so on a loaded
 * machine the first passing probe is gone from it before up returns. */
struct healthy_at {
    struct tl_result r;
    long long ns;
};

static void on_health_event(json_t *ev, void *data)
{
    struct healthy_at *h = data;
    const char *action = json_string_value(json_object_get(ev, "Action"));
    if (!h->ns && action && !strcmp(action, "health_status: healthy"))
        h->ns = (long long)json_integer_value(json_object_get(ev, "timeNano"));
}

static long long healthy_once(struct tl_env *env, const char *name, long long since_s)
{
    struct healthy_at h = {.ns = 0};
    tl_result_init(&h.r);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    char *since = xasprintf("%lld", since_s);
    char *until = xasprintf("%lld.%09ld", (long long)now.tv_sec, now.tv_nsec);
    json_t *filters = json_pack("{s:[s], s:[s]}", "type", "container", "container", name);
    TL_RUN(*env, h.r, engine_events(env->c, filters, since, until, on_health_event, tl_on_done, &h,
                                    &err));
    tl_assert_ok(&h.r);
    json_decref(filters);
    free(since);
    free(until);
    tl_result_release(&h.r);
    return h.ns;
}

/* On Podman the events file is cut to its second half when it outgrows its limit, and a whole
 * check run's worth of events can miss the replay: then the first passing probe in the health
 * log, which stays whole (the probes are the ones ccompose ran, which stop when it returns). */
static long long first_pass_in_log(struct tl_env *env, const char *name)
{
    json_t *j = st_inspect(env, name);
    json_t *log = json_object_get(json_object_get(json_object_get(j, "State"), "Health"), "Log");
    long long first = 0;
    size_t i;
    json_t *e;
    json_array_foreach(log, i, e)
    {
        long long end = st_time_ns(json_string_value(json_object_get(e, "End")));
        if (json_integer_value(json_object_get(e, "ExitCode")) == 0 && end &&
            (!first || end < first))
            first = end;
    }
    if (!first) {
        char *text = json_dumps(log, JSON_COMPACT | JSON_ENCODE_ANY);
        print_message("no passing probe in %s's health log: %s\n", name, text ? text : "null");
        free(text);
    }
    json_decref(j);
    return first;
}

/* Podman writes its events file in batches up to a few hundred ms after the fact, and up may
 * have seen db healthy from a probe run before then: the replay is asked again for up to 10 s
 * until the event is in it. */
static long long healthy_since(struct tl_env *env, const char *name, long long since_s)
{
    long long ns = 0;
    for (int i = 0; i < 40 && !(ns = healthy_once(env, name, since_s)); i++)
        usleep(250000);
    if (!ns && tl_engine_is_podman())
        ns = first_pass_in_log(env, name);
    assert_true(ns > 0);
    return ns;
}

/* On Podman ccompose runs db's checks itself and acts on the answer of the passing run; Podman
 * logs its health_status event after that answer, so the event can be dated a little after web's
 * start. Docker acts first and sends the event, which ccompose waits for: no lag. */
static long long podman_lag_ns(void)
{
    return tl_engine_is_podman() ? 1000000000LL : 0;
}

static void test_service_healthy_orders_and_wait_waits(void **state)
{
    struct st_fixture *f = *state;
    struct compose_project *p = f->p;
    struct compose_service *db =
        one_shot(p, "db", "trap 'exit 0' TERM; sleep 1; touch /tmp/ready; sleep 3600 & wait");
    struct compose_healthcheck *h = mb_healthcheck(p, db, "CMD-SHELL", "test -f /tmp/ready", NULL);
    h->interval = 300000000;
    h->retries = 50;
    mb_depends_on(p, st_sleeper(p, "web"), "db", COMPOSE_COND_HEALTHY);
    struct compose_service *api = st_sleeper(p, "api");
    mb_healthcheck(p, api, "CMD-SHELL", "true", NULL)->interval = 300000000;
    mb_project_done(p);

    struct st_run r;
    st_run_init(&r);
    struct sched_up_options o = {.wait = true, .wait_timeout_ms = 120000, .stop_timeout_s = -1};
    long long since_s = (long long)time(NULL) - 1;
    st_up(&f->env, p, &o, &r);
    st_assert_ok(&r);
    assert_true(st_event_at(&r, "db-1 Healthy") < st_event_at(&r, "web-1 Starting"));
    st_event_at(&r, "web-1 Waiting waiting for 'db' to be healthy");
    char *dbn = st_cname(p, "db", 1), *webn = st_cname(p, "web", 1), *apin = st_cname(p, "api", 1);
    char *web_started = st_state(&f->env, webn, "StartedAt");
    assert_true(st_time_ns(web_started) > healthy_since(&f->env, dbn, since_s) - podman_lag_ns());
    /* --wait came back with the api healthy too. */
    json_t *j = st_inspect(&f->env, apin);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(j, "State"), "Health"), "Status")),
                        "healthy");
    json_decref(j);
    free(web_started);
    free(dbn);
    free(webn);
    free(apin);
    st_run_release(&r);
}

static void test_service_completed_successfully(void **state)
{
    struct st_fixture *f = *state;
    struct compose_project *p = f->p;
    one_shot(p, "init", "sleep 1; exit 0");
    mb_depends_on(p, st_sleeper(p, "app"), "init", COMPOSE_COND_COMPLETED_SUCCESSFULLY);
    mb_project_done(p);
    struct st_run r;
    st_run_init(&r);
    struct sched_up_options o = {
        .wait = true, .wait_timeout_ms = 120000, .stop_timeout_s = -1, .parallel = 1};
    st_up(&f->env, p, &o, &r);
    st_assert_ok(&r);
    assert_true(st_event_at(&r, "init-1 Exited exited with code 0") <
                st_event_at(&r, "app-1 Starting"));
    char *initn = st_cname(p, "init", 1), *appn = st_cname(p, "app", 1);
    char *finished = st_state(&f->env, initn, "FinishedAt");
    char *started = st_state(&f->env, appn, "StartedAt");
    assert_true(st_time_ns(started) > st_time_ns(finished));
    free(finished);
    free(started);
    free(initn);
    free(appn);
    st_run_release(&r);
}

static void test_failing_dependency_fails_dependent(void **state)
{
    struct st_fixture *f = *state;
    struct compose_project *p = f->p;
    one_shot(p, "init", "exit 3");
    mb_depends_on(p, st_sleeper(p, "app"), "init", COMPOSE_COND_COMPLETED_SUCCESSFULLY);
    st_sleeper(p, "other");
    mb_project_done(p);
    struct st_run r;
    st_run_init(&r);
    st_up(&f->env, p, NULL, &r);
    assert_int_equal(r.err.kind, CC_ERR_FAILED);
    char *initn = st_cname(p, "init", 1), *appn = st_cname(p, "app", 1);
    char *want = xasprintf("service 'app' cannot start: dependency 'init' container '%s' exited "
                           "with code 3",
                           initn);
    /* The first line names the dependency's container; what follows says why (test-sched-diag). */
    assert_true(!strncmp(r.err.message, want, strlen(want)));
    assert_int_equal(r.err.message[strlen(want)], '\n');
    st_event_at(&r, "app-1 Error cannot start: dependency 'init'");
    /* The dependent was never made; what does not depend on it runs. */
    json_t *j = st_inspect(&f->env, appn);
    assert_null(j);
    st_event_at(&r, "other-1 Started");
    free(want);
    free(initn);
    free(appn);
    st_run_release(&r);
}

static void test_optional_dependency_only_warns(void **state)
{
    struct st_fixture *f = *state;
    struct compose_project *p = f->p;
    one_shot(p, "init", "exit 1");
    struct compose_service *app = st_sleeper(p, "app");
    mb_depends_on(p, app, "init", COMPOSE_COND_COMPLETED_SUCCESSFULLY)->required = false;
    mb_depends_on(p, app, "ghost", COMPOSE_COND_STARTED)->required = false;
    mb_project_done(p);
    struct st_run r;
    st_run_init(&r);
    st_up(&f->env, p, NULL, &r);
    st_assert_ok(&r);
    st_event_at(&r, "Warning service 'app' depends on undefined service 'ghost' (required: false), "
                    "ignoring");
    assert_true(st_event_at(&r, "app Warning optional dependency 'init' container") <
                st_event_at(&r, "app-1 Started"));
    st_run_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_service_healthy_orders_and_wait_waits, st_setup,
                                        st_teardown),
        cmocka_unit_test_setup_teardown(test_service_completed_successfully, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_failing_dependency_fails_dependent, st_setup,
                                        st_teardown),
        cmocka_unit_test_setup_teardown(test_optional_dependency_only_warns, st_setup, st_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
