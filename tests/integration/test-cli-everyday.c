/* The everyday commands of the ccompose binary on a project made by the scheduler (-p NAME, no
 * compose file): kill, pause, unpause, rm, top, port, images and ls, checked against the engine;
 * --dry-run checked to leave it untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/cli-test.h"
#include "tests/lib/sched-test.h"

/* web (exits 42 on SIGUSR1, publishes 80 on a free host port) and db. */
static void up_pair(struct st_fixture *f)
{
    struct compose_project *p = f->p;
    struct compose_service *web = mb_service_add(p, "web", TEST_IMAGE);
    mb_command(p, web, "sh", "-c", "trap 'exit 42' USR1; trap 'exit 0' TERM; sleep 3600 & wait",
               NULL);
    mb_port_add(p, web, 80, "", "127.0.0.1", NULL);
    st_sleeper(p, "db");
    mb_project_done(p);
    struct st_run r;
    st_run_init(&r);
    st_up(&f->env, p, NULL, &r);
    st_assert_ok(&r);
    st_run_release(&r);
}

static void assert_status(struct st_fixture *f, const char *service, const char *want)
{
    char *name = st_cname(f->p, service, 1);
    char *s = st_state(&f->env, name, "Status");
    if (strcmp(s, want))
        fail_msg("%s is %s, not %s", name, s, want);
    free(s);
    free(name);
}

/* "container NAME-SERVICE-1: VERB\n" for each service given, in order (new). */
static char *dry_lines(struct st_fixture *f, const char *verb, ...)
{
    struct buf b = BUF_INIT;
    buf_adds(&b, "");
    va_list ap;
    va_start(ap, verb);
    for (const char *s; (s = va_arg(ap, const char *));)
        buf_printf(&b, "container %s-%s-1: %s\n", f->p->name, s, verb);
    va_end(ap);
    return buf_detach(&b);
}

static void test_pause_unpause(void **state)
{
    struct st_fixture *f = *state;
    up_pair(f);
    const char *name = f->p->name;
    struct cb_result r;
    cb_run(&r, NULL, "--dry-run", "-p", name, "pause", NULL);
    cb_assert_status(&r, 0);
    char *want = dry_lines(f, "pause", "db", "web", NULL);
    assert_string_equal(buf_str(&r.out), want);
    free(want);
    cb_result_release(&r);
    assert_status(f, "web", "running");
    assert_status(f, "db", "running");

    cb_run(&r, NULL, "--progress", "plain", "-p", name, "pause", "web", NULL);
    cb_assert_status(&r, 0);
    char *web = st_cname(f->p, "web", 1);
    char *line = xasprintf("Container %s  Paused\n", web);
    cb_assert_contains(buf_str(&r.err), line);
    free(line);
    cb_result_release(&r);
    assert_status(f, "web", "paused");
    assert_status(f, "db", "running");

    /* Only paused containers can be resumed: the dry run names web alone. */
    cb_run(&r, NULL, "--dry-run", "-p", name, "unpause", NULL);
    cb_assert_status(&r, 0);
    want = dry_lines(f, "unpause", "web", NULL);
    assert_string_equal(buf_str(&r.out), want);
    free(want);
    cb_result_release(&r);
    assert_status(f, "web", "paused");

    cb_run(&r, NULL, "--progress", "plain", "-p", name, "unpause", NULL);
    cb_assert_status(&r, 0);
    line = xasprintf("Container %s  Unpaused\n", web);
    cb_assert_contains(buf_str(&r.err), line);
    free(line);
    cb_result_release(&r);
    assert_status(f, "web", "running");
    free(web);
}

static void test_kill(void **state)
{
    struct st_fixture *f = *state;
    up_pair(f);
    const char *name = f->p->name;
    struct cb_result r;
    cb_run(&r, NULL, "--dry-run", "-p", name, "kill", NULL);
    cb_assert_status(&r, 0);
    char *want = dry_lines(f, "kill", "db", "web", NULL);
    assert_string_equal(buf_str(&r.out), want);
    free(want);
    cb_result_release(&r);
    assert_status(f, "web", "running");
    assert_status(f, "db", "running");

    /* The signal given reaches the process: web's trap exits 42. */
    cb_run(&r, NULL, "--progress", "plain", "-p", name, "kill", "-s", "SIGUSR1", "web", NULL);
    cb_assert_status(&r, 0);
    char *web = st_cname(f->p, "web", 1);
    char *line = xasprintf("Container %s  Killed\n", web);
    cb_assert_contains(buf_str(&r.err), line);
    free(line);
    cb_result_release(&r);
    cb_run(&r, NULL, "-p", name, "wait", "web", NULL);
    cb_assert_status(&r, 42);
    cb_result_release(&r);
    assert_status(f, "db", "running");

    /* SIGKILL by default: 128 + 9. */
    cb_run(&r, NULL, "-p", name, "kill", NULL);
    cb_assert_status(&r, 0);
    cb_result_release(&r);
    cb_run(&r, NULL, "-p", name, "wait", "db", NULL);
    cb_assert_status(&r, 137);
    cb_result_release(&r);

    cb_run(&r, NULL, "-p", name, "kill", NULL);
    cb_assert_status(&r, 0);
    cb_assert_contains(buf_str(&r.err), "No container to kill");
    cb_result_release(&r);

    cb_run(&r, NULL, "-p", name, "kill", "--bogus", NULL);
    cb_assert_status(&r, 2);
    cb_result_release(&r);
    free(web);
}

static void test_rm(void **state)
{
    struct st_fixture *f = *state;
    up_pair(f);
    const char *name = f->p->name;
    char *web = st_cname(f->p, "web", 1), *db = st_cname(f->p, "db", 1);
    struct cb_result r;
    cb_run(&r, NULL, "-p", name, "rm", NULL);
    cb_assert_status(&r, 0);
    cb_assert_contains(buf_str(&r.err), "No stopped containers");
    cb_result_release(&r);

    cb_run(&r, NULL, "-p", name, "stop", "-t", "5", "web", NULL);
    cb_assert_status(&r, 0);
    cb_result_release(&r);

    /* No terminal and no answer: docker compose's message, no newline, and nothing removed. */
    cb_run(&r, NULL, "-p", name, "rm", NULL);
    cb_assert_status(&r, 0);
    char *msg = xasprintf("Going to remove %s", web);
    assert_string_equal(buf_str(&r.out), msg);
    cb_result_release(&r);
    assert_int_equal(st_count(&f->env, name, "container"), 2);

    /* -s in a dry run: the running one would be stopped first; nothing changes. */
    cb_run(&r, NULL, "--dry-run", "-p", name, "rm", "-s", NULL);
    cb_assert_status(&r, 0);
    char *want = xasprintf("container %s: stop, remove\ncontainer %s: remove\n", db, web);
    assert_string_equal(buf_str(&r.out), want);
    free(want);
    cb_result_release(&r);
    assert_int_equal(st_count(&f->env, name, "container"), 2);
    assert_status(f, "db", "running");

    /* Answered yes on stdin: only the stopped container goes. */
    const char *args[] = {"--progress", "plain", "-p", name, "rm"};
    cb_runv_input(&r, NULL, "y\n", 2, args, 5);
    cb_assert_status(&r, 0);
    assert_string_equal(buf_str(&r.out), msg);
    char *line = xasprintf("Container %s  Removed\n", web);
    cb_assert_contains(buf_str(&r.err), line);
    free(line);
    cb_result_release(&r);
    json_t *gone = st_inspect(&f->env, web);
    assert_null(gone);
    assert_int_equal(st_count(&f->env, name, "container"), 1);
    assert_status(f, "db", "running");

    /* -f -s: stopped, then removed without a question. */
    cb_run(&r, NULL, "-p", name, "rm", "-f", "-s", "-v", NULL);
    cb_assert_status(&r, 0);
    free(msg);
    msg = xasprintf("Going to remove %s\n", db);
    assert_string_equal(buf_str(&r.out), msg);
    cb_result_release(&r);
    assert_int_equal(st_count(&f->env, name, "container"), 0);
    free(msg);
    free(web);
    free(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pause_unpause, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_kill, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_rm, st_setup, st_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
