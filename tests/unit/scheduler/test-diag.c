/* sched_diag_format(): the words a failure message adds about a container, from its inspect and
 * the tail of its log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/run-internal.h"

static char *format(const char *inspect_json, const char *logs)
{
    json_t *j = inspect_json ? json_loads(inspect_json, 0, NULL) : NULL;
    if (inspect_json)
        assert_non_null(j);
    char *s = sched_diag_format(j, logs, logs ? strlen(logs) : 0);
    json_decref(j);
    return s;
}

static void test_exited_with_log_tail(void **state)
{
    (void)state;
    char *s = format("{\"State\": {\"Status\": \"exited\", \"ExitCode\": 3, \"Error\": \"\","
                     " \"Health\": {\"Status\": \"unhealthy\"}}}",
                     "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\r\n12\n\n");
    assert_string_equal(s, "state: exited, exit code 3\n"
                           "last log lines:\n  3\n  4\n  5\n  6\n  7\n  8\n  9\n  10\n  11\n  12");
    free(s);
}

static void test_running_unhealthy_with_health_log(void **state)
{
    (void)state;
    char *s = format("{\"State\": {\"Status\": \"running\", \"ExitCode\": 0, \"Health\": "
                     "{\"Status\": \"unhealthy\", \"Log\": [{\"ExitCode\": 0, \"Output\": \"ok\"},"
                     " {\"ExitCode\": 1, \"Output\": \"refused\\n\"}]}}}",
                     "");
    assert_string_equal(s, "state: running, unhealthy\n"
                           "last health check: exit code 1: refused\n"
                           "no log output");
    free(s);
}

static void test_multiline_health_oom_and_control_bytes(void **state)
{
    (void)state;
    char *s = format("{\"State\": {\"Status\": \"exited\", \"ExitCode\": 137, \"OOMKilled\": true,"
                     " \"Health\": {\"Status\": \"unhealthy\", \"Log\": [{\"ExitCode\": 2,"
                     " \"Output\": \"a\\nb\\nc\\nd\\ne\\nf\\n\"}]}}}",
                     "bell\a here\n");
    assert_string_equal(s, "state: exited, exit code 137, killed: out of memory\n"
                           "last health check: exit code 2, output:\n  b\n  c\n  d\n  e\n  f\n"
                           "last log lines:\n  bell? here");
    free(s);
}

static void test_long_line_cut_and_nothing_known(void **state)
{
    (void)state;
    char line[1000];
    memset(line, 'x', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    char *s = format(NULL, line);
    assert_int_equal(strlen(s), strlen("last log lines:\n  ") + 300 + 3);
    assert_string_equal(s + strlen(s) - 4, "x...");
    free(s);
    s = format(NULL, NULL);
    assert_string_equal(s, "");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exited_with_log_tail),
        cmocka_unit_test(test_running_unhealthy_with_health_log),
        cmocka_unit_test(test_multiline_health_oom_and_control_bytes),
        cmocka_unit_test(test_long_line_cut_and_nothing_known),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
