/* Failure messages that say why: a dependency that exits, turns unhealthy or cannot start fails
 * its dependents with a message naming its container, its state and exit code, its last health
 * check's output and the last lines of its log, so that nobody has to run `docker logs`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/sched-test.h"

static void assert_has(const char *haystack, const char *needle)
{
    if (!haystack || !strstr(haystack, needle))
        fail_msg("'%s' not in:\n%s", needle, haystack ? haystack : "(null)");
}

static void test_exit_names_container_code_and_log(void **state)
{
    struct st_fixture *f = *state;
    struct compose_project *p = f->p;
    struct compose_service *init = mb_service_add(p, "init", TEST_IMAGE);
    mb_command(p, init, "sh", "-c",
               /* One stream: stdout and stderr lines are copied apart, their order is loose. */
               "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo noise-$i >&2; done; "
               "echo 'migrate: connection refused' >&2; exit 3",
               NULL);
    mb_depends_on(p, st_sleeper(p, "app"), "init", COMPOSE_COND_COMPLETED_SUCCESSFULLY);
    mb_project_done(p);
    struct st_run r;
    st_run_init(&r);
    st_up(&f->env, p, NULL, &r);
    assert_int_equal(r.err.kind, CC_ERR_FAILED);
    char *initn = st_cname(p, "init", 1);
    char *first = xasprintf("service 'app' cannot start: dependency 'init' container '%s' exited "
                            "with code 3\n",
                            initn);
    assert_true(!strncmp(r.err.message, first, strlen(first)));
    assert_has(r.err.message, "\nstate: exited, exit code 3\n");
    assert_has(r.err.message, "\nlast log lines:\n");
    /* The last lines (of stderr here), and not the first ones. */
    assert_has(r.err.message, "\n  migrate: connection refused");
    assert_has(r.err.message, "\n  noise-12\n");
    assert_null(strstr(r.err.message, "noise-2\n"));
    /* The dependent's own event says the same. */
    st_event_at(&r, "app-1 Error cannot start: dependency 'init'");
    assert_has(buf_str(&r.events), "  migrate: connection refused");
    free(first);
    free(initn);
    st_run_release(&r);
}

static void test_unhealthy_names_health_output(void **state)
{
    struct st_fixture *f = *state;
    struct compose_project *p = f->p;
    struct compose_service *db = mb_service_add(p, "db", TEST_IMAGE);
    mb_command(p, db, "sh", "-c", "echo db booting; " ST_SLEEPER, NULL);
    struct compose_healthcheck *h =
        mb_healthcheck(p, db, "CMD-SHELL", "echo probe says no: port 5432 closed; exit 1", NULL);
    h->interval = 200000000;
    h->retries = 1;
    mb_depends_on(p, st_sleeper(p, "web"), "db", COMPOSE_COND_HEALTHY);
    mb_project_done(p);
    struct st_run r;
    st_run_init(&r);
    st_up(&f->env, p, NULL, &r);
    assert_int_equal(r.err.kind, CC_ERR_FAILED);
    char *dbn = st_cname(p, "db", 1);
    char *first = xasprintf("service 'web' cannot start: dependency 'db' container '%s' is "
                            "unhealthy\n",
                            dbn);
    assert_true(!strncmp(r.err.message, first, strlen(first)));
    assert_has(r.err.message, "\nstate: running, unhealthy\n");
    assert_has(r.err.message,
               "\nlast health check: exit code 1: probe says no: port 5432 closed\n");
    assert_has(r.err.message, "\nlast log lines:\n  db booting");
    free(first);
    free(dbn);
    st_run_release(&r);
}

static void test_start_failure_names_state(void **state)
{
    struct st_fixture *f = *state;
    struct compose_project *p = f->p;
    struct compose_service *bad = mb_service_add(p, "bad", TEST_IMAGE);
    mb_command(p, bad, "/no/such/binary", NULL);
    mb_depends_on(p, st_sleeper(p, "app"), "bad", COMPOSE_COND_STARTED);
    mb_project_done(p);
    struct st_run r;
    st_run_init(&r);
    st_up(&f->env, p, NULL, &r);
    assert_int_equal(r.err.kind != CC_ERR_NONE, true);
    char *badn = st_cname(p, "bad", 1);
    char *first = xasprintf("%s: ", badn);
    assert_true(!strncmp(r.err.message, first, strlen(first)));
    assert_has(r.err.message, "/no/such/binary");
    /* The engine's state of it: never ran, with the runtime's error and exit code. */
    /* Podman leaves the exit code of a start that failed at 0, where Docker says 127. */
    assert_has(r.err.message, tl_engine_is_podman() ? "\nstate: created, exit code 0"
                                                    : "\nstate: created, exit code 127");
    assert_has(r.err.message, "\nno log output");
    char *dep = xasprintf("app-1 Error cannot start: dependency 'bad' container '%s' failed to "
                          "start: ",
                          badn);
    st_event_at(&r, dep);
    free(dep);
    free(first);
    free(badn);
    st_run_release(&r);
}

static void test_wait_names_exited_container(void **state)
{
    struct st_fixture *f = *state;
    struct compose_project *p = f->p;
    struct compose_service *job = mb_service_add(p, "job", TEST_IMAGE);
    mb_command(p, job, "sh", "-c", "echo 'fatal: config missing'; exit 2", NULL);
    /* --wait waits for its health, and sees it exit instead. */
    mb_healthcheck(p, job, "CMD-SHELL", "true", NULL)->interval = 10000000000LL;
    mb_project_done(p);
    struct st_run r;
    st_run_init(&r);
    struct sched_up_options o = {.wait = true, .wait_timeout_ms = 60000, .stop_timeout_s = -1};
    st_up(&f->env, p, &o, &r);
    assert_int_equal(r.err.kind, CC_ERR_FAILED);
    char *jobn = st_cname(p, "job", 1);
    char *first = xasprintf("container '%s' exited with code 2\n", jobn);
    assert_true(!strncmp(r.err.message, first, strlen(first)));
    assert_has(r.err.message, "\nstate: exited, exit code 2\n");
    assert_has(r.err.message, "\nlast log lines:\n  fatal: config missing");
    free(first);
    free(jobn);
    st_run_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exit_names_container_code_and_log, st_setup,
                                        st_teardown),
        cmocka_unit_test_setup_teardown(test_unhealthy_names_health_output, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_start_failure_names_state, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_wait_names_exited_container, st_setup, st_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
