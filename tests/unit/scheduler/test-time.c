/* Engine timestamps (sched_time_ns): what picks the first of two networks made at once, so every
 * run must read them alike, whatever their fraction's length or time zone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "scheduler/run-internal.h"

static void test_fractions_and_zones(void **state)
{
    (void)state;
    /* 2026-12-02T23:50:00Z is 1796255400 s after the epoch. */
    assert_true(sched_time_ns("2026-12-02T23:50:00Z") == 1796255400LL * 1000000000LL);
    assert_true(sched_time_ns("2026-12-02T23:50:00.5Z") == 1796255400LL * 1000000000LL + 500000000);
    assert_true(sched_time_ns("2026-12-02T23:50:00.123456789Z") ==
                1796255400LL * 1000000000LL + 123456789);
    /* The engine trims trailing zeros: ".1" is earlier than ".12", though it sorts after it. */
    assert_true(sched_time_ns("2026-12-02T23:50:00.1Z") < sched_time_ns("2026-12-02T23:50:00.12Z"));
    /* The same instant in another zone. */
    assert_true(sched_time_ns("2026-12-03T01:50:00.5+02:00") ==
                sched_time_ns("2026-12-02T23:50:00.5Z"));
    assert_true(sched_time_ns("2026-12-02T21:20:00-02:30") ==
                sched_time_ns("2026-12-02T23:50:00Z"));
}

static void test_unreadable(void **state)
{
    (void)state;
    assert_true(sched_time_ns(NULL) == 0);
    assert_true(sched_time_ns("") == 0);
    assert_true(sched_time_ns("yesterday") == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fractions_and_zones),
        cmocka_unit_test(test_unreadable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
