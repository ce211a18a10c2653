/* The convergence core end to end, through the binary against the real engine: one bound on
 * engine calls in flight (--parallel, COMPOSE_PARALLEL_LIMIT), docker-compose 1.29 on the same
 * projects, and logs (logs -f, attached up) that follow containers across restarts and
 * recreations. Every project is removed by its
 * label at teardown, whatever happened. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/lib/cli-test.h"
#include "tests/lib/compose-test.h"
#include "tests/lib/sched-test.h"

static int teardown(void **state)
{
    unsetenv("COMPOSE_PARALLEL_LIMIT");
    return cb_fx_teardown(state);
}

/* Runs ccompose -p PROJECT ARGS... in the fixture's directory. */
#define CV_RUN(f, r, ...) cb_run(&(r), (f)->dir, "-p", (f)->project, __VA_ARGS__, NULL)

/* Writes compose.yaml and brings it up detached. */
static void up_detached(struct cb_fx *f, const char *yaml)
{
    ct_put(f->dir, "compose.yaml", yaml);
    struct cb_result r;
    CV_RUN(f, r, "up", "-d");
    cb_assert_status(&r, 0);
    cb_result_release(&r);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Ignores SIGTERM, so each stop takes its whole timeout. */
#define STUBBORN "[\"sh\", \"-c\", \"trap '' TERM; echo started; while :; do sleep 1; done\"]"

static const char three_stubborn[] = "services:\n"
                                     "  a:\n"
                                     "    image: " TEST_IMAGE "\n"
                                     "    command: " STUBBORN "\n"
                                     "  b:\n"
                                     "    image: " TEST_IMAGE "\n"
                                     "    command: " STUBBORN "\n"
                                     "  c:\n"
                                     "    image: " TEST_IMAGE "\n"
                                     "    command: " STUBBORN "\n";

/* COMPOSE_PARALLEL_LIMIT=1: the three independent stops (3 s each) go one after the other;
 * --parallel 3 wins over it and they go together; a bad value is a usage error. */
static void test_parallel_limit(void **state)
{
    TL_SKIP_ON_PODMAN("Podman's service carries out these stops one after the other (three 3 s "
                      "stops take 6 s or more), so the timing this test measures is Podman's, "
                      "not --parallel's");
    struct cb_fx *f = *state;
    up_detached(f, three_stubborn);
    struct cb_result r;

    setenv("COMPOSE_PARALLEL_LIMIT", "1", 1);
    double t0 = now_s();
    CV_RUN(f, r, "stop", "-t", "3");
    double serial = now_s() - t0;
    cb_assert_status(&r, 0);
    cb_result_release(&r);
    if (serial < 8.9)
        fail_msg("three 3 s stops with COMPOSE_PARALLEL_LIMIT=1 took %.2f s", serial);

    CV_RUN(f, r, "start");
    cb_assert_status(&r, 0);
    cb_result_release(&r);
    t0 = now_s();
    cb_run(&r, f->dir, "-p", f->project, "--parallel", "3", "stop", "-t", "3", NULL);
    double together = now_s() - t0;
    cb_assert_status(&r, 0);
    cb_result_release(&r);
    /* 3 s and the time to start and stop the processes, which a loaded machine stretches, and
     * valgrind more (tl_slowdown()). Once that bound is loose enough to let three stops in a row
     * through, the serial run above tells them apart: it paid the same start-up and 6 s more. */
    double slow = tl_slowdown();
    if (together > 3.0 + 3.0 * slow)
        fail_msg("three 3 s stops with --parallel 3 took %.2f s", together);
    if (slow > 1 && together > serial - 4.0)
        fail_msg("three 3 s stops with --parallel 3 took %.2f s, one after the other took %.2f s",
                 together, serial);

    setenv("COMPOSE_PARALLEL_LIMIT", "many", 1);
    CV_RUN(f, r, "ps");
    cb_assert_status(&r, 2);
    cb_assert_contains(buf_str(&r.err), "COMPOSE_PARALLEL_LIMIT takes a number");
    cb_result_release(&r);
    setenv("COMPOSE_PARALLEL_LIMIT", "-1", 1); /* no limit, as docker compose */
    CV_RUN(f, r, "down", "-t", "0");
    cb_assert_status(&r, 0);
    cb_result_release(&r);
}

/* Runs Debian's docker-compose 1.29 with ARGS... in dir; returns its exit status, its output in
 * *ret_out (new). */
static int dc_run(const char *dir, char **ret_out, ...)
{
    const char *argv[16] = {"/usr/bin/timeout", "120", "/usr/bin/docker-compose"};
    size_t n = 3;
    va_list ap;
    va_start(ap, ret_out);
    for (const char *a; n < CC_ARRAY_LEN(argv) - 1 && (a = va_arg(ap, const char *));)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    char *err = NULL;
    int status = ct_run(dir, argv, NULL, ret_out, &err);
    if (status != 0)
        fprintf(stderr, "docker-compose exit %d:\n%s%s", status, *ret_out, err);
    free(err);
    return status;
}

static const char two_services[] = "services:\n"
                                   "  db:\n"
                                   "    image: " TEST_IMAGE "\n"
                                   "    command: " STUBBORN "\n"
                                   "  web:\n"
                                   "    image: " TEST_IMAGE "\n"
                                   "    command: " STUBBORN "\n"
                                   "    depends_on: [db]\n";

/* docker-compose 1.29 takes a project ccompose made as its own (ps lists it, down removes it),
 * and ccompose one that 1.29 made (ps from the labels alone, without the file; down). 1.29 needs
 * its file next to it, names containers p_db_1 and sets no depends_on label. */
static void test_interop_docker_compose_1_29(void **state)
{
    struct cb_fx *f = *state;
    up_detached(f, two_services);
    struct cb_result r;
    char *out = NULL;
    assert_int_equal(dc_run(f->dir, &out, "-p", f->project, "ps", NULL), 0);
    char *db = xasprintf("%s-db-1", f->project), *web = xasprintf("%s-web-1", f->project);
    cb_assert_contains(out, db);
    cb_assert_contains(out, web);
    cb_assert_contains(out, "Up");
    free(out);
    assert_int_equal(dc_run(f->dir, &out, "-p", f->project, "down", "-t", "0", NULL), 0);
    free(out);
    assert_int_equal(st_count(&f->env, f->project, "container"), 0);
    assert_int_equal(st_count(&f->env, f->project, "network"), 0);

    /* The other way round: 1.29 makes it, ccompose finds it by the labels. */
    assert_int_equal(dc_run(f->dir, &out, "-p", f->project, "up", "-d", NULL), 0);
    free(out);
    char *db29 = xasprintf("%s_db_1", f->project), *web29 = xasprintf("%s_web_1", f->project);
    cb_run(&r, "/", "-p", f->project, "ps", "--format", "json", NULL);
    cb_assert_status(&r, 0);
    cb_assert_contains(buf_str(&r.out), db29);
    cb_assert_contains(buf_str(&r.out), web29);
    cb_assert_contains(buf_str(&r.out), "\"Service\":\"web\"");
    cb_assert_contains(buf_str(&r.out), "\"State\":\"running\"");
    cb_result_release(&r);
    cb_run(&r, "/", "-p", f->project, "down", "-t", "0", NULL);
    cb_assert_status(&r, 0);
    char *removed = xasprintf("Container %s  Removed", web29);
    cb_assert_contains(buf_str(&r.err), removed);
    cb_result_release(&r);
    assert_int_equal(st_count(&f->env, f->project, "container"), 0);
    assert_int_equal(st_count(&f->env, f->project, "network"), 0);
    free(removed);
    free(db29);
    free(web29);
    free(db);
    free(web);
}

/* Counts its runs in a file the container keeps across restarts, says which run it is, exits 3. */
static const char crashing[] =
    "services:\n"
    "  crash:\n"
    "    image: " TEST_IMAGE "\n"
    "    restart: always\n"
    "    command: [\"sh\", \"-c\", \"n=$$(cat /n 2>/dev/null || echo 0); n=$$((n + 1)); "
    "echo $$n >/n; echo run $$n; sleep 1; exit 3\"]\n";

/* Reads p's output until a run two after the first one seen has been printed: at least one
 * restart was followed. */
static void read_two_runs_more(struct cb_proc *p)
{
    size_t at = cb_read_until_from(p, 0, "crash-1  | run ");
    int first = atoi(buf_str(&p->out) + at + strlen("crash-1  | run "));
    char *want = xasprintf("crash-1  | run %d\n", first + 2);
    cb_read_until_from(p, at, want);
    free(want);
    cb_read_until(p, "crash-1 exited with code 3");
}

/* logs -f keeps following a container its restart policy restarts, and so does attached up. */
static void test_follow_restarts(void **state)
{
    struct cb_fx *f = *state;
    up_detached(f, crashing);
    struct cb_proc p;
    cb_spawn(&p, f->dir, "-p", f->project, "logs", "-f", "--no-color", NULL);
    read_two_runs_more(&p);
    kill(p.pid, SIGINT);
    int status = cb_finish(&p);
    if (status != 0)
        fail_msg("logs -f exit %d:\n%s", status, buf_str(&p.out));
    buf_release(&p.out);

    cb_spawn(&p, f->dir, "-p", f->project, "up", "--no-color", "-t", "0", NULL);
    read_two_runs_more(&p);
    kill(p.pid, SIGINT);
    status = cb_finish(&p);
    if (status != 130)
        fail_msg("up exit %d:\n%s", status, buf_str(&p.out));
    buf_release(&p.out);
}

static const char *versioned(const char *version)
{
    static char yaml[512];
    snprintf(yaml, sizeof(yaml),
             "services:\n"
             "  web:\n"
             "    image: " TEST_IMAGE "\n"
             "    environment: {V: %s}\n"
             "    command: [\"sh\", \"-c\", \"echo version $$V; trap 'exit 0' TERM; "
             "sleep 3600 & wait\"]\n",
             version);
    return yaml;
}

/* A running logs -f picks up the container another up recreates (a new container, same name). */
static void test_follow_recreated(void **state)
{
    TL_SKIP_ON_PODMAN("Podman sends no stop event for a stopped container, so logs -f cannot tell "
                      "the recreate's stop from an exit and ends with the old container");
    struct cb_fx *f = *state;
    up_detached(f, versioned("one"));
    struct cb_proc p;
    cb_spawn(&p, f->dir, "-p", f->project, "logs", "-f", "--no-color", "web", NULL);
    cb_read_until(&p, "web-1  | version one");
    up_detached(f, versioned("two"));
    cb_read_until(&p, "web-1  | version two");
    kill(p.pid, SIGINT);
    cb_finish(&p);
    buf_release(&p.out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_parallel_limit, cb_fx_setup, teardown),
        cmocka_unit_test_setup_teardown(test_interop_docker_compose_1_29, cb_fx_setup, teardown),
        cmocka_unit_test_setup_teardown(test_follow_restarts, cb_fx_setup, teardown),
        cmocka_unit_test_setup_teardown(test_follow_recreated, cb_fx_setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
