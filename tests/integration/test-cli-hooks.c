/* post_start and pre_stop hooks end to end: `ccompose up` runs post_start in the new container
 * (command, user, working_dir, environment) before counting it started, a failing hook fails up
 * with its exit code and output, and `down` runs pre_stop in the running container before
 * stopping it. The hooks write into a bind-mounted directory, so the test reads their effects
 * from the host. (A privileged exec cannot run in this test machine's nested sandbox, "unable to
 * apply caps", so `privileged:` is not exercised here.) */
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

struct hk_fx {
    char *dir;
    char *project;
};

static int setup(void **state)
{
    struct hk_fx *f = xcalloc(1, sizeof(*f));
    f->dir = ct_tmpdir();
    f->project = tl_unique("hooks");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct hk_fx *f = *state;
    st_cleanup(f->project);
    /* The hooks ran as root in the container: their files are removed from a container too. */
    char *cmd = xasprintf("rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", f->dir);
    free(cmd);
    free(f->dir);
    free(f->project);
    free(f);
    return 0;
}

static char *slurp(const char *dir, const char *name)
{
    char *path = xasprintf("%s/out/%s", dir, name);
    FILE *fp = fopen(path, "r");
    free(path);
    if (!fp)
        return NULL;
    char buf[512];
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    return xstrdup(buf);
}

#define HK_RUN(f, r, ...) cb_run(&(r), (f)->dir, "-p", (f)->project, __VA_ARGS__, NULL)

static void test_post_start_and_pre_stop(void **state)
{
    struct hk_fx *f = *state;
    ct_put(f->dir, "out/.keep", "");
    ct_put(f->dir, "compose.yaml",
           "services:\n"
           "  app:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: [\"sh\", \"-c\", \"trap 'exit 0' TERM; sleep 3600 & wait\"]\n"
           "    volumes: ['./out:/out']\n"
           "    post_start:\n"
           "      - command: [\"sh\", \"-c\", \"echo $$GREETING $$(id -u) $$(pwd) > /out/started\"]\n"
           "        user: '0'\n"
           "        working_dir: /tmp\n"
           "        environment: {GREETING: hello}\n"
           "      - command: sh -c 'echo second >> /out/started'\n"
           "    pre_stop:\n"
           "      - command: sh -c 'echo bye > /out/stopped'\n");
    struct cb_result r;
    HK_RUN(f, r, "up", "-d");
    cb_assert_status(&r, 0);
    cb_result_release(&r);
    char *started = slurp(f->dir, "started");
    assert_non_null(started);
    assert_string_equal(started, "hello 0 /tmp\nsecond\n");
    free(started);
    char *stopped = slurp(f->dir, "stopped");
    assert_null(stopped);

    HK_RUN(f, r, "down", "-t", "5");
    cb_assert_status(&r, 0);
    cb_result_release(&r);
    stopped = slurp(f->dir, "stopped");
    assert_non_null(stopped);
    assert_string_equal(stopped, "bye\n");
    free(stopped);
}

static void test_failing_post_start(void **state)
{
    struct hk_fx *f = *state;
    ct_put(f->dir, "compose.yaml",
           "services:\n"
           "  app:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: [\"sh\", \"-c\", \"trap 'exit 0' TERM; sleep 3600 & wait\"]\n"
           "    post_start:\n"
           "      - command: sh -c 'echo no good; exit 3'\n");
    struct cb_result r;
    HK_RUN(f, r, "up", "-d");
    assert_int_not_equal(r.status, 0);
    cb_assert_contains(buf_str(&r.err), "post_start hook 1 of container '");
    cb_assert_contains(buf_str(&r.err), "exited with code 3: no good");
    cb_result_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_post_start_and_pre_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_post_start, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
