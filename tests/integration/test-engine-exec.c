/* Exec against the real engine: output captured by stream, exit codes, detach and TTY modes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/engine-test.h"

static json_t *exec_inspect(struct tl_env *env, const char *exec_id)
{
    struct tl_result r;
    tl_result_init(&r);
    TL_RUN(*env, r, engine_exec_inspect(env->c, exec_id, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    json_t *ret = json_incref(r.json);
    tl_result_release(&r);
    return ret;
}

static char *idle_container(struct tl_env *env, const char *what)
{
    json_t *body = tl_sh_body(TL_IDLE_SCRIPT, NULL);
    char *id = tl_container_run(env, what, body);
    json_decref(body);
    return id;
}

/* Output arrives split by stream; the exit code is the process's. */
static void test_exec_output_and_exit_code(void **state)
{
    (void)state;
    struct tl_env env;
    struct tl_result r;
    tl_env_init(&env);
    tl_result_init(&r);
    char *id = idle_container(&env, "exec");
    char *exec_id = tl_exec_new(&env, id, "echo out; echo err >&2; echo out2; exit 7", false);
    TL_RUN(env, r,
           engine_exec_start(env.c, exec_id, false, false, tl_on_output, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    assert_string_equal(buf_str(&r.by_fd[ENGINE_STDOUT]), "out\nout2\n");
    assert_string_equal(buf_str(&r.by_fd[ENGINE_STDERR]), "err\n");
    json_t *ins = exec_inspect(&env, exec_id);
    assert_int_equal(json_integer_value(json_object_get(ins, "ExitCode")), 7);
    assert_false(json_is_true(json_object_get(ins, "Running")));
    assert_string_equal(json_string_value(json_object_get(ins, "ContainerID")), id);

    json_decref(ins);
    tl_result_release(&r);
    free(exec_id);
    free(id);
    tl_env_release(&env);
}

/* Detached, the call returns at once with no output; the process still runs: it writes to the
 * container's own stdout, which its logs show. */
static void test_exec_detach(void **state)
{
    (void)state;
    struct tl_env env;
    struct tl_result r;
    tl_env_init(&env);
    tl_result_init(&r);
    char *id = idle_container(&env, "exec-detach");
    tl_logs_until(&env, id, "ready");
    char *exec_id = tl_exec_new(&env, id, "echo detached-exec-ran > /proc/1/fd/1", false);
    TL_RUN(env, r,
           engine_exec_start(env.c, exec_id, true, false, tl_on_output, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    assert_null(r.json);
    assert_int_equal(r.items, 0);
    tl_logs_until(&env, id, "detached-exec-ran");

    tl_result_release(&r);
    free(exec_id);
    free(id);
    tl_env_release(&env);
}

/* With a TTY the output is one raw stream from a terminal. */
static void test_exec_tty(void **state)
{
    (void)state;
    struct tl_env env;
    struct tl_result r;
    tl_env_init(&env);
    tl_result_init(&r);
    char *id = idle_container(&env, "exec-tty");
    char *exec_id = tl_exec_new(&env, id, "tty; echo to-stderr >&2", true);
    TL_RUN(env, r,
           engine_exec_start(env.c, exec_id, false, true, tl_on_output, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    assert_int_equal(r.by_fd[ENGINE_STDOUT].len + r.by_fd[ENGINE_STDERR].len, 0);
    const char *raw = buf_str(&r.by_fd[ENGINE_RAW]);
    assert_non_null(strstr(raw, "/dev/pts/"));
    assert_non_null(strstr(raw, "to-stderr\r\n"));
    json_t *ins = exec_inspect(&env, exec_id);
    assert_int_equal(json_integer_value(json_object_get(ins, "ExitCode")), 0);

    json_decref(ins);
    tl_result_release(&r);
    free(exec_id);
    free(id);
    tl_env_release(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exec_output_and_exit_code),
        cmocka_unit_test(test_exec_detach),
        cmocka_unit_test(test_exec_tty),
    };
    return cmocka_run_group_tests(tests, NULL, tl_group_teardown);
}
