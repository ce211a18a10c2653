/* Restart policies reach the engine: `restart:` (no, always, on-failure[:N], unless-stopped) and
 * deploy.restart_policy (condition none|on-failure|any, max_attempts) become HostConfig.
 * RestartPolicy, and the engine then restarts (or does not restart) containers that exit, which
 * the test follows on the project's event stream: no polling, no sleeping. Down takes containers
 * that the engine keeps restarting away too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scheduler/scheduler-internal.h"
#include "tests/lib/sched-test.h"

/* What the test expects of one service's container. */
struct expect {
    const char *service;
    int dies;   /* > 0: it settles (exited, not restarting) after this many exits */
    int starts; /* > 0: done once the engine started it this many times */
    long long restart_count;
    const char *policy; /* HostConfig.RestartPolicy.Name */
    long long max_retries;
    /* seen */
    int n_dies, n_starts;
    bool done;
};

struct follow {
    struct tl_env *env;
    struct expect *ex;
    size_t n;
    int inspects;
    bool ended;
    bool timed_out;
};

struct inspect_call {
    struct follow *fw;
    struct expect *e;
};

static void on_inspected(json_t *result, const struct cc_error *err, void *data)
{
    struct inspect_call *ic = data;
    struct expect *e = ic->e;
    ic->fw->inspects--;
    free(ic);
    if (err)
        fail_msg("inspect of '%s': %s", e->service, err->message);
    json_t *st = json_object_get(result, "State");
    json_t *rp = json_object_get(json_object_get(result, "HostConfig"), "RestartPolicy");
    const char *name = json_string_value(json_object_get(rp, "Name"));
    if (!name || strcmp(name, e->policy))
        fail_msg("'%s': restart policy '%s', expected '%s'", e->service, name ? name : "",
                 e->policy);
    assert_int_equal(json_integer_value(json_object_get(rp, "MaximumRetryCount")), e->max_retries);
    long long count = json_integer_value(json_object_get(result, "RestartCount"));
    if (e->dies) {
        /* The engine decides before it reports the exit: settled means exited for good. */
        const char *status = json_string_value(json_object_get(st, "Status"));
        if (strcmp(status, "exited") || json_is_true(json_object_get(st, "Restarting")))
            fail_msg("'%s' is %s after %d exits, expected exited", e->service, status, e->dies);
        if (count != e->restart_count)
            fail_msg("'%s' restarted %lld times, expected %lld", e->service, count,
                     e->restart_count);
    } else if (count < e->restart_count) {
        fail_msg("'%s' restarted %lld times, expected at least %lld", e->service, count,
                 e->restart_count);
    }
    e->done = true;
}

static void on_event(json_t *ev, void *data)
{
    struct follow *fw = data;
    json_t *attrs = json_object_get(json_object_get(ev, "Actor"), "Attributes");
    const char *service = json_string_value(json_object_get(attrs, SCHED_LABEL_SERVICE));
    const char *action = json_string_value(json_object_get(ev, "Action"));
    const char *id = json_string_value(json_object_get(json_object_get(ev, "Actor"), "ID"));
    for (size_t i = 0; service && action && i < fw->n; i++) {
        struct expect *e = &fw->ex[i];
        if (strcmp(e->service, service) || e->done)
            continue;
        bool settle = false;
        if (!strcmp(action, "die")) {
            e->n_dies++;
            if (e->dies && e->n_dies > e->dies)
                fail_msg("'%s' exited %d times, expected %d", service, e->n_dies, e->dies);
            settle = e->n_dies == e->dies;
        } else if (!strcmp(action, "start")) {
            e->n_starts++;
            settle = e->starts && e->n_starts == e->starts;
        }
        if (settle) {
            struct inspect_call *ic = xcalloc(1, sizeof(*ic));
            ic->fw = fw;
            ic->e = e;
            fw->inspects++;
            struct cc_error err = CC_ERROR_INIT;
            if (!engine_container_inspect(fw->env->c, id, on_inspected, ic, &err))
                fail_msg("inspect refused: %s", err.message);
            cc_error_release(&err);
        }
    }
}

static void on_events_end(json_t *result, const struct cc_error *err, void *data)
{
    (void)result;
    (void)err;
    struct follow *fw = data;
    fw->ended = true;
}

static void on_guard(uv_timer_t *t)
{
    struct follow *fw = t->data;
    fw->timed_out = true;
}

static bool all_done(const struct follow *fw)
{
    for (size_t i = 0; i < fw->n; i++)
        if (!fw->ex[i].done)
            return false;
    return fw->inspects == 0;
}

static void test_policies_restart_or_not(void **state)
{
    struct st_fixture *f = *state;
    struct compose_project *p = f->p;
    struct compose_service *s;
    s = mb_service_add(p, "never", TEST_IMAGE);
    mb_command(p, s, "sh", "-c", "exit 1", NULL);
    s->restart = "no";
    s = mb_service_add(p, "twice", TEST_IMAGE);
    mb_command(p, s, "sh", "-c", "exit 1", NULL);
    s->restart = "on-failure:2";
    s = mb_service_add(p, "clean", TEST_IMAGE);
    mb_command(p, s, "sh", "-c", "exit 0", NULL);
    s->restart = "on-failure";
    s = mb_service_add(p, "always", TEST_IMAGE);
    mb_command(p, s, "sh", "-c", "exit 0", NULL);
    s->restart = "always";
    s = mb_service_add(p, "unless", TEST_IMAGE);
    mb_command(p, s, "sh", "-c", "exit 0", NULL);
    s->restart = "unless-stopped";
    /* deploy.restart_policy wins over restart:, as in docker compose. */
    s = mb_service_add(p, "deployonce", TEST_IMAGE);
    mb_command(p, s, "sh", "-c", "exit 1", NULL);
    s->restart = "always";
    s->deploy.set = true;
    s->deploy.restart_policy.condition = "on-failure";
    s->deploy.restart_policy.max_attempts = 1;
    s = mb_service_add(p, "deployany", TEST_IMAGE);
    mb_command(p, s, "sh", "-c", "exit 0", NULL);
    s->deploy.set = true;
    s->deploy.restart_policy.condition = "any";
    s = mb_service_add(p, "deploynone", TEST_IMAGE);
    mb_command(p, s, "sh", "-c", "exit 1", NULL);
    s->restart = "always";
    s->deploy.set = true;
    s->deploy.restart_policy.condition = "none";
    mb_project_done(p);

    struct expect ex[] = {
        {.service = "never", .dies = 1, .restart_count = 0, .policy = "no"},
        {.service = "twice",
         .dies = 3,
         .restart_count = 2,
         .policy = "on-failure",
         .max_retries = 2},
        {.service = "clean", .dies = 1, .restart_count = 0, .policy = "on-failure"},
        {.service = "always", .starts = 2, .restart_count = 1, .policy = "always"},
        {.service = "unless", .starts = 2, .restart_count = 1, .policy = "unless-stopped"},
        {.service = "deployonce",
         .dies = 2,
         .restart_count = 1,
         .policy = "on-failure",
         .max_retries = 1},
        {.service = "deployany", .starts = 2, .restart_count = 1, .policy = "always"},
        {.service = "deploynone", .dies = 1, .restart_count = 0, .policy = "no"},
    };
    struct follow fw = {.env = &f->env, .ex = ex, .n = CC_ARRAY_LEN(ex)};

    /* Subscribed before anything exists, from a second before (the engine's clock). */
    char since[32];
    snprintf(since, sizeof(since), "%lld", (long long)time(NULL) - 1);
    char *label = xasprintf("%s=%s", SCHED_LABEL_PROJECT, p->name);
    json_t *filters = json_pack("{s:[s], s:[s]}", "type", "container", "label", label);
    struct cc_error err = CC_ERROR_INIT;
    struct engine_request *events =
        engine_events(f->env.c, filters, since, NULL, on_event, on_events_end, &fw, &err);
    assert_non_null(events);

    struct st_run r;
    st_run_init(&r);
    st_up(&f->env, p, NULL, &r);
    st_assert_ok(&r);

    uv_timer_t guard;
    uv_timer_init(&f->env.loop, &guard);
    guard.data = &fw;
    uv_timer_start(&guard, on_guard, 180000, 0); /* the engine backs off between restarts */
    while (!all_done(&fw) && !fw.timed_out && !fw.ended)
        uv_run(&f->env.loop, UV_RUN_ONCE);
    for (size_t i = 0; i < fw.n; i++)
        if (!ex[i].done)
            fail_msg("'%s' not settled: %d exits, %d starts (%s)", ex[i].service, ex[i].n_dies,
                     ex[i].n_starts, fw.ended ? "event stream ended" : "timed out");
    engine_request_cancel(events);
    while (!fw.ended)
        uv_run(&f->env.loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&guard, NULL);

    /* Down stops what the engine keeps restarting, and leaves nothing. */
    struct st_run d;
    st_run_init(&d);
    struct sched_down_options dopts = {.stop_timeout_s = 1};
    st_down(&f->env, p->name, p, &dopts, &d);
    st_assert_ok(&d);
    assert_int_equal(st_count(&f->env, p->name, "container"), 0);

    st_run_release(&d);
    st_run_release(&r);
    json_decref(filters);
    free(label);
    cc_error_release(&err);
}

/* A dependency that exits non-zero but that its restart policy brings back has not failed yet:
 * its dependent waits for the run that completes. It fails four times first: the engine waits
 * 100, 200, 400, then 800 ms before restarting it, so the look at some exit comes while the
 * engine is about to restart it (the path under test) whatever the machine's load. */
static void test_dependency_restarted_by_policy_is_waited_for(void **state)
{
    struct st_fixture *f = *state;
    struct compose_project *p = f->p;
    struct compose_service *init = mb_service_add(p, "init", TEST_IMAGE);
    mb_command(p, init, "sh", "-c",
               "n=$(($(cat /tmp/runs 2>/dev/null || echo 0) + 1)); echo $n >/tmp/runs; "
               "if [ $n -ge 5 ]; then echo done; exit 0; fi; exit 1",
               NULL);
    init->restart = "on-failure";
    mb_depends_on(p, st_sleeper(p, "app"), "init", COMPOSE_COND_COMPLETED_SUCCESSFULLY);
    mb_project_done(p);
    struct st_run r;
    st_run_init(&r);
    st_up(&f->env, p, NULL, &r);
    st_assert_ok(&r);
    size_t completed = st_event_at(&r, "init-1 Exited exited with code 0");
    /* Podman can send the exits in one late batch after the last run ended: the look at the
     * first exit then shows the container completed already, and no restart is reported. */
    const char *restarting =
        strstr(buf_str(&r.events),
               "init-1 Restarting exited with code 1, restarted by its restart policy");
    if (restarting || !tl_engine_is_podman())
        assert_true(st_event_at(&r, "init-1 Restarting exited with code 1, restarted by its "
                                    "restart policy") < completed);
    assert_true(completed < st_event_at(&r, "app-1 Started"));
    char *initn = st_cname(p, "init", 1);
    json_t *j = st_inspect(&f->env, initn);
    assert_int_equal(json_integer_value(json_object_get(j, "RestartCount")), 4);
    json_decref(j);
    free(initn);
    st_run_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_policies_restart_or_not, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_dependency_restarted_by_policy_is_waited_for, st_setup,
                                        st_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
