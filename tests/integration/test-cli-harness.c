/* The worked example of docs/harness.md (examples/harness/ci.sh) run as CI would run it: it
 * passes, leaves nothing behind, and a failing test makes it fail with the test's code and the
 * logs shown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/cli-test.h"
#include "tests/lib/compose-test.h"
#include "tests/lib/sched-test.h"

static void test_harness_example(void **state)
{
    (void)state;
    struct tl_env env;
    tl_env_init(&env);
    char *what = xasprintf("ccit-ex-%d-h", (int)getpid());
    char *project = tl_unique(what);
    const char *bin = getenv("CCOMPOSE_BIN");
    char *abs = realpath(bin && *bin ? bin : "build/ccompose", NULL);
    assert_non_null(abs);
    setenv("CCOMPOSE", abs, 1);
    setenv("COMPOSE_PROJECT_NAME", project, 1);
    const char *argv[] = {"/bin/sh", "examples/harness/ci.sh", NULL};
    char *out = NULL, *err = NULL;
    int rc = ct_run(".", argv, NULL, &out, &err);
    if (rc != 0)
        fail_msg("ci.sh exited %d\n--- stdout:\n%s--- stderr:\n%s", rc, out, err);
    cb_assert_contains(out, "tests passed");
    assert_int_equal(st_count(&env, project, "container"), 0);
    assert_int_equal(st_count(&env, project, "network"), 0);
    st_cleanup(project);
    unsetenv("COMPOSE_PROJECT_NAME");
    unsetenv("CCOMPOSE");
    free(out);
    free(err);
    free(abs);
    free(project);
    free(what);
    tl_env_release(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_harness_example),
    };
    return cmocka_run_group_tests(tests, NULL, tl_group_teardown);
}
