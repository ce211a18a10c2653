/* `ccompose up` end to end: compose files in temporary directories, the binary run against the
 * real engine, and the effects checked there: names and labels as docker compose makes them,
 * --wait waiting for health, exit codes (service failure, --wait-timeout, --exit-code-from,
 * Ctrl-C), --scale, --dry-run changing nothing, and down leaving nothing behind. Every project is
 * removed by its label at teardown, whatever happened. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/cli-test.h"
#include "tests/lib/compose-test.h"
#include "tests/lib/sched-test.h"

static const char healthy_stack[] = "services:\n"
                                    "  db:\n"
                                    "    image: " TEST_IMAGE "\n"
                                    "    command: " CB_SLEEPER "\n"
                                    "    healthcheck:\n"
                                    "      test: [\"CMD\", \"true\"]\n"
                                    "      interval: 1s\n"
                                    "  web:\n"
                                    "    image: " TEST_IMAGE "\n"
                                    "    command: " CB_SLEEPER "\n"
                                    "    depends_on:\n"
                                    "      db:\n"
                                    "        condition: service_healthy\n";

static const char *label(json_t *inspect, const char *key)
{
    const char *v = json_string_value(json_object_get(tl_json_at(inspect, "Config/Labels"), key));
    if (!v)
        fail_msg("no label '%s'", key);
    return v;
}

static void test_up_wait_then_down(void **state)
{
    struct cb_fx *f = *state;
    ct_put(f->dir, "compose.yaml", healthy_stack);
    struct cb_result r;
    cb_fx_run(&r, f, "--progress", "plain", "up", "-d", "--wait", NULL);
    cb_assert_status(&r, 0);
    char *db = cb_fx_cname(f, "db", 1), *web = cb_fx_cname(f, "web", 1);
    /* web waited for db to be healthy. */
    char *healthy = xasprintf("Container %s  Healthy", db);
    char *web_created = xasprintf("Container %s  Created", web);
    size_t h = (size_t)(strstr(buf_str(&r.err), healthy) - buf_str(&r.err));
    cb_assert_contains(buf_str(&r.err), healthy);
    cb_assert_contains(buf_str(&r.err), web_created);
    assert_true(h < (size_t)(strstr(buf_str(&r.err), web_created) - buf_str(&r.err)));
    cb_result_release(&r);

    json_t *j = st_inspect(&f->env, db);
    assert_non_null(j);
    assert_string_equal(label(j, "com.docker.compose.project"), f->project);
    assert_string_equal(label(j, "com.docker.compose.service"), "db");
    assert_string_equal(label(j, "com.docker.compose.container-number"), "1");
    assert_string_equal(label(j, "com.docker.compose.oneoff"), "False");
    assert_string_equal(json_string_value(tl_json_at(j, "State/Health/Status")), "healthy");
    /* config --hash prints the hash up stored in the label. */
    cb_fx_run(&r, f, "config", "--hash", "db", NULL);
    cb_assert_status(&r, 0);
    char *line = xasprintf("db %s\n", label(j, "com.docker.compose.config-hash"));
    assert_string_equal(buf_str(&r.out), line);
    free(line);
    cb_result_release(&r);
    json_decref(j);
    char *web_id = st_id(&f->env, web);

    /* With the compose file there, ps names the image as the file does. */
    cb_fx_run(&r, f, "ps", NULL);
    cb_assert_status(&r, 0);
    cb_assert_contains(buf_str(&r.out), TEST_IMAGE);
    /* Podman's list has no health: its ps says "Up 8 seconds" where Docker's adds "(healthy)". */
    if (!tl_engine_is_podman())
        cb_assert_contains(buf_str(&r.out), "(healthy)");
    cb_result_release(&r);

    /* A second up changes nothing. */
    cb_fx_run(&r, f, "up", "-d", NULL);
    cb_assert_status(&r, 0);
    cb_result_release(&r);
    char *again = st_id(&f->env, web);
    assert_string_equal(web_id, again);

    cb_fx_run(&r, f, "down", "-t", "5", NULL);
    cb_assert_status(&r, 0);
    cb_result_release(&r);
    assert_int_equal(st_count(&f->env, f->project, "container"), 0);
    assert_int_equal(st_count(&f->env, f->project, "network"), 0);
    free(again);
    free(web_id);
    free(healthy);
    free(web_created);
    free(db);
    free(web);
}

static void test_dry_run_changes_nothing(void **state)
{
    struct cb_fx *f = *state;
    ct_put(f->dir, "compose.yaml", healthy_stack);
    struct cb_result r;
    cb_run(&r, f->dir, "--dry-run", "-p", f->project, "up", "-d", NULL);
    cb_assert_status(&r, 0);
    char *line = xasprintf("container %s-web-1: create", f->project);
    cb_assert_contains(buf_str(&r.out), line);
    cb_result_release(&r);
    assert_int_equal(st_count(&f->env, f->project, "container"), 0);
    assert_int_equal(st_count(&f->env, f->project, "network"), 0);
    free(line);
}

static void test_attached_exit_code_from(void **state)
{
    struct cb_fx *f = *state;
    ct_put(f->dir, "compose.yaml",
           "services:\n"
           "  once:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: [\"sh\", \"-c\", \"echo hello from once; exit 3\"]\n"
           "  other:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: " CB_SLEEPER "\n");
    struct cb_result r;
    cb_fx_run(&r, f, "up", "--no-color", "--exit-code-from", "once", "-t", "5", NULL);
    cb_assert_status(&r, 3);
    cb_assert_contains(buf_str(&r.out), "Attaching to once-1, other-1\n");
    cb_assert_contains(buf_str(&r.out), "once-1   | hello from once\n");
    cb_assert_contains(buf_str(&r.out), "once-1 exited with code 3\n");
    cb_result_release(&r);
    /* The rest was stopped, not removed. */
    char *other = cb_fx_cname(f, "other", 1);
    char *s = st_state(&f->env, other, "Status");
    assert_string_equal(s, "exited");
    free(s);
    free(other);
}

/* --abort-on-container-failure: an exit with code 0 goes by, the first failure stops everything
 * and its code is up's. */
static void test_abort_on_container_failure(void **state)
{
    struct cb_fx *f = *state;
    ct_put(f->dir, "compose.yaml",
           "services:\n"
           "  good:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: [\"sh\", \"-c\", \"echo all good\"]\n"
           "  bad:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: [\"sh\", \"-c\", \"sleep 2; echo giving up; exit 4\"]\n"
           "  other:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: " CB_SLEEPER "\n");
    struct cb_result r;
    cb_fx_run(&r, f, "up", "--no-color", "--abort-on-container-failure", "-t", "5", NULL);
    cb_assert_status(&r, 4);
    cb_assert_contains(buf_str(&r.out), "good-1 exited with code 0\n");
    cb_assert_contains(buf_str(&r.out), "bad-1 exited with code 4\n");
    /* The good exit came first and did not abort: the failure did. */
    assert_true(strstr(buf_str(&r.out), "good-1 exited") < strstr(buf_str(&r.out), "bad-1 exited"));
    cb_result_release(&r);
    char *other = cb_fx_cname(f, "other", 1);
    char *s = st_state(&f->env, other, "Status");
    assert_string_equal(s, "exited");
    free(s);
    free(other);
    cb_fx_run(&r, f, "up", "--abort-on-container-failure", "--abort-on-container-exit", NULL);
    cb_assert_status(&r, 2);
    cb_result_release(&r);
}

/* attach: false: the service starts, but its logs are not shown, and up does not wait on it. */
static void test_attach_false(void **state)
{
    struct cb_fx *f = *state;
    ct_put(f->dir, "compose.yaml",
           "services:\n"
           "  once:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: [\"sh\", \"-c\", \"echo hello from once\"]\n"
           "  quiet:\n"
           "    image: " TEST_IMAGE "\n"
           "    attach: false\n"
           "    command: [\"sh\", \"-c\", \"echo secret-quiet; trap 'exit 0' TERM; sleep 3600 & "
           "wait\"]\n");
    struct cb_result r;
    cb_fx_run(&r, f, "up", "--no-color", "-t", "2", NULL);
    cb_assert_status(&r, 0);
    cb_assert_contains(buf_str(&r.out), "Attaching to once-1\n");
    cb_assert_contains(buf_str(&r.out), "once-1  | hello from once\n");
    assert_null(strstr(buf_str(&r.out), "secret-quiet"));
    cb_result_release(&r);
    /* It was started all the same. */
    char *quiet = cb_fx_cname(f, "quiet", 1);
    json_t *c = tl_container_inspect(&f->env, quiet);
    assert_non_null(tl_json_at(c, "State/StartedAt"));
    assert_string_not_equal(json_string_value(tl_json_at(c, "State/StartedAt")),
                            "0001-01-01T00:00:00Z");
    json_decref(c);
    free(quiet);
}

/* A --wait that fails says, for the failed service and every other one not ready, its state, its
 * last health check and its last log lines: what a CI log needs to show. */
static void test_unhealthy_service_fails(void **state)
{
    struct cb_fx *f = *state;
    ct_put(f->dir, "compose.yaml",
           "services:\n"
           "  sick:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: [\"sh\", \"-c\", \"echo sick booting; trap 'exit 0' TERM; sleep 3600 & "
           "wait\"]\n"
           "    healthcheck:\n"
           "      test: [\"CMD\", \"sh\", \"-c\", \"echo probe says no; exit 1\"]\n"
           "      interval: 1s\n"
           "      retries: 1\n"
           "  slow:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: " CB_SLEEPER "\n"
           "    healthcheck:\n"
           "      test: [\"CMD\", \"sleep\", \"60\"]\n"
           "      interval: 1s\n"
           "      timeout: 90s\n"
           "  fine:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: " CB_SLEEPER "\n");
    struct cb_result r;
    cb_fx_run(&r, f, "up", "-d", "--wait", NULL);
    cb_assert_status(&r, 5);
    const char *err = buf_str(&r.err);
    char *sick = xasprintf("error: container '%s-sick-1' is unhealthy\n"
                           "state: running, unhealthy\n"
                           "last health check: exit code 1: probe says no\n"
                           "last log lines:\n"
                           "  sick booting\n",
                           f->project);
    cb_assert_contains(err, sick);
    char *slow = xasprintf("container '%s-slow-1' is not ready: waiting to be healthy\n"
                           "state: running, starting\n"
                           "last log lines:\n"
                           "  started",
                           f->project);
    cb_assert_contains(err, slow);
    /* A service that is ready is not in the report. */
    char *fine = xasprintf("container '%s-fine-1' is not ready", f->project);
    assert_null(strstr(err, fine));
    free(fine);
    free(slow);
    free(sick);
    cb_result_release(&r);
}

static void test_wait_timeout(void **state)
{
    struct cb_fx *f = *state;
    ct_put(f->dir, "compose.yaml",
           "services:\n"
           "  slow:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: " CB_SLEEPER "\n"
           "    healthcheck:\n"
           "      test: [\"CMD\", \"sleep\", \"60\"]\n"
           "      interval: 1s\n"
           "      timeout: 90s\n");
    struct cb_result r;
    cb_fx_run(&r, f, "up", "-d", "--wait", "--wait-timeout", "2", NULL);
    cb_assert_status(&r, 6);
    /* What was not ready when time ran out, and why. */
    char *want = xasprintf("error: services did not converge within 2.0 s\n"
                           "container '%s-slow-1' is not ready: waiting to be healthy\n"
                           "state: running, starting\n",
                           f->project);
    cb_assert_contains(buf_str(&r.err), want);
    free(want);
    cb_result_release(&r);
}

static void test_scale(void **state)
{
    struct cb_fx *f = *state;
    ct_put(f->dir, "compose.yaml",
           "services:\n"
           "  web:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: " CB_SLEEPER "\n");
    struct cb_result r;
    cb_fx_run(&r, f, "up", "-d", "--scale", "web=2", NULL);
    cb_assert_status(&r, 0);
    cb_result_release(&r);
    cb_fx_run(&r, f, "ps", "--format", "json", NULL);
    cb_assert_status(&r, 0);
    char *one = xasprintf("\"Name\":\"%s-web-1\"", f->project);
    char *two = xasprintf("\"Name\":\"%s-web-2\"", f->project);
    cb_assert_contains(buf_str(&r.out), one);
    cb_assert_contains(buf_str(&r.out), two);
    cb_result_release(&r);
    cb_fx_run(&r, f, "up", "-d", "--scale", "web=many", NULL);
    cb_assert_status(&r, 2);
    cb_result_release(&r);
    free(one);
    free(two);
}

static void test_ctrl_c_stops_and_exits_130(void **state)
{
    struct cb_fx *f = *state;
    ct_put(f->dir, "compose.yaml", healthy_stack);
    struct cb_proc p;
    cb_spawn(&p, f->dir, "-p", f->project, "up", "--no-color", "-t", "5", NULL);
    cb_read_until(&p, "web-1  | started");
    kill(p.pid, SIGINT);
    int status = cb_finish(&p);
    if (status != 130)
        fail_msg("exit %d:\n%s", status, buf_str(&p.out));
    cb_assert_contains(buf_str(&p.out), "Gracefully stopping");
    buf_release(&p.out);
    char *db = cb_fx_cname(f, "db", 1), *web = cb_fx_cname(f, "web", 1);
    char *s1 = st_state(&f->env, db, "Status"), *s2 = st_state(&f->env, web, "Status");
    assert_string_equal(s1, "exited");
    assert_string_equal(s2, "exited");
    free(s1);
    free(s2);
    free(db);
    free(web);
}

static void test_orphans(void **state)
{
    struct cb_fx *f = *state;
    ct_put(f->dir, "compose.yaml", healthy_stack);
    struct cb_result r;
    cb_fx_run(&r, f, "up", "-d", NULL);
    cb_assert_status(&r, 0);
    cb_result_release(&r);
    /* web leaves the file: its container is an orphan, reported, then removed when asked. */
    ct_put(f->dir, "compose.yaml",
           "services:\n"
           "  db:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: " CB_SLEEPER "\n"
           "    healthcheck:\n"
           "      test: [\"CMD\", \"true\"]\n"
           "      interval: 1s\n");
    cb_fx_run(&r, f, "--progress", "plain", "up", "-d", NULL);
    cb_assert_status(&r, 0);
    cb_assert_contains(buf_str(&r.err), "--remove-orphans");
    cb_result_release(&r);
    assert_int_equal(st_count(&f->env, f->project, "container"), 2);
    cb_fx_run(&r, f, "up", "-d", "--remove-orphans", "-t", "5", NULL);
    cb_assert_status(&r, 0);
    cb_result_release(&r);
    assert_int_equal(st_count(&f->env, f->project, "container"), 1);
}

/* A service with a build section: built when its image is missing, not again unless --build, and
 * removed by down --rmi local. */
static void test_build_and_rmi(void **state)
{
    struct cb_fx *f = *state;
    ct_put(f->dir, "app/Dockerfile", "FROM " TEST_IMAGE "\nRUN echo built > /built\n");
    ct_put(f->dir, "compose.yaml",
           "services:\n"
           "  app:\n"
           "    build: ./app\n"
           "    command: " CB_SLEEPER "\n");
    char *image = xasprintf("%s-app", f->project);
    tl_cleanup_image(image);
    char *built = xasprintf("Image %s  Built", image);
    struct cb_result r;
    cb_fx_run(&r, f, "--progress", "plain", "up", "-d", NULL);
    cb_assert_status(&r, 0);
    cb_assert_contains(buf_str(&r.err), built);
    cb_result_release(&r);
    cb_fx_run(&r, f, "--progress", "plain", "up", "-d", NULL);
    cb_assert_status(&r, 0);
    assert_null(strstr(buf_str(&r.err), "Building"));
    cb_result_release(&r);
    cb_fx_run(&r, f, "--progress", "plain", "up", "-d", "--build", NULL);
    cb_assert_status(&r, 0);
    cb_assert_contains(buf_str(&r.err), built);
    cb_result_release(&r);

    cb_fx_run(&r, f, "--progress", "plain", "down", "--rmi", "local", "-t", "5", NULL);
    cb_assert_status(&r, 0);
    char *removed = xasprintf("Image %s  Removed", image);
    cb_assert_contains(buf_str(&r.err), removed);
    cb_result_release(&r);
    struct tl_result x;
    tl_result_init(&x);
    TL_RUN(f->env, x, engine_image_inspect(f->env.c, image, tl_on_done, &x, &err));
    tl_assert_fails(&x, CC_ERR_NOT_FOUND);
    tl_result_release(&x);
    free(removed);
    free(built);
    free(image);
}

/* x-ccompose restart_on_unhealthy: attached up restarts a container that turns unhealthy, says so
 * among the logs, and follows its output again after the restart. The flag lives on a tmpfs, so
 * each start is healthy for a moment, then not. */
static void test_restart_on_unhealthy(void **state)
{
    struct cb_fx *f = *state;
    ct_put(f->dir, "compose.yaml",
           "services:\n"
           "  flaky:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: [\"sh\", \"-c\", \"echo flaky up; sleep 2; touch /run/flag/sick; "
           "trap 'exit 0' TERM; sleep 3600 & wait\"]\n"
           "    tmpfs: /run/flag\n"
           "    x-ccompose:\n"
           "      restart_on_unhealthy: true\n"
           "    healthcheck:\n"
           "      test: [\"CMD-SHELL\", \"test ! -f /run/flag/sick\"]\n"
           "      interval: 1s\n"
           "      retries: 1\n");
    struct cb_proc p;
    cb_spawn(&p, f->dir, "-p", f->project, "up", "--no-color", "-t", "1", NULL);
    size_t at = cb_read_until_from(&p, 0, "flaky-1  Restarting  unhealthy");
    at = cb_read_until_from(&p, at, "flaky-1  Restarted");
    /* The output after the restart is followed too. */
    cb_read_until_from(&p, at, "flaky-1  | flaky up\n");
    kill(p.pid, SIGINT);
    int status = cb_finish(&p);
    if (status != 130)
        fail_msg("exit %d:\n%s", status, buf_str(&p.out));
    buf_release(&p.out);
}

static void test_invalid_file(void **state)
{
    struct cb_fx *f = *state;
    ct_put(f->dir, "compose.yaml", "services:\n  web:\n    depends_on: [nosuch]\n");
    struct cb_result r;
    cb_fx_run(&r, f, "up", "-d", NULL);
    cb_assert_status(&r, 3);
    cb_result_release(&r);
    assert_int_equal(st_count(&f->env, f->project, "container"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_up_wait_then_down, cb_fx_setup, cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_dry_run_changes_nothing, cb_fx_setup, cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_attached_exit_code_from, cb_fx_setup, cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_abort_on_container_failure, cb_fx_setup,
                                        cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_attach_false, cb_fx_setup, cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_unhealthy_service_fails, cb_fx_setup, cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_wait_timeout, cb_fx_setup, cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_scale, cb_fx_setup, cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_ctrl_c_stops_and_exits_130, cb_fx_setup,
                                        cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_orphans, cb_fx_setup, cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_build_and_rmi, cb_fx_setup, cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_restart_on_unhealthy, cb_fx_setup, cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_invalid_file, cb_fx_setup, cb_fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, tl_group_teardown);
}
