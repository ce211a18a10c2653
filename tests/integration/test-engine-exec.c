/* Exec against the real engine: output captured by stream, exit codes, detach and TTY modes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
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

/* A hijacked stream: input written in pieces reaches the process, its end closes the process's
 * stdin, the output comes back by stream, and the callback runs once at the end. */
struct hj_test {
    struct tl_result r;
    struct engine_hijack *h;
    bool opened;
};

static void on_hj_open(void *data)
{
    struct hj_test *t = data;
    t->opened = true;
    assert_int_equal(engine_hijack_write(t->h, "hello ", 6), 6);
    assert_true(engine_hijack_write(t->h, "world\n", 6) > 0);
    engine_hijack_close_write(t->h);
    assert_int_equal(engine_hijack_write(t->h, "late", 4), -1);
}

static void test_exec_hijack_stdin(void **state)
{
    (void)state;
    struct tl_env env;
    struct hj_test t = {0};
    tl_env_init(&env);
    tl_result_init(&t.r);
    char *id = idle_container(&env, "hijack");
    json_t *body = json_pack("{s:b, s:b, s:b, s:[s, s, s]}", "AttachStdin", 1, "AttachStdout", 1,
                             "AttachStderr", 1, "Cmd", "sh", "-c", "cat; echo done >&2; exit 4");
    struct tl_result cr;
    tl_result_init(&cr);
    TL_RUN(env, cr, engine_exec_create(env.c, id, body, tl_on_done, &cr, &err));
    tl_assert_ok(&cr);
    char *exec_id = xstrdup(json_string_value(json_object_get(cr.json, "Id")));
    tl_result_release(&cr);
    json_decref(body);
    struct engine_hijack_options o = {
        .on_output = tl_on_output, .on_open = on_hj_open, .cb = tl_on_done, .data = &t.r};
    struct cc_error err = CC_ERROR_INIT;
    /* on_open gets the struct through data: tl_result is its first member. */
    t.h = engine_exec_attach(env.c, exec_id, &o, &err);
    assert_non_null(t.h);
    while (!t.r.done && uv_run(&env.loop, UV_RUN_ONCE))
        ;
    tl_assert_ok(&t.r);
    assert_true(t.opened);
    assert_string_equal(buf_str(&t.r.by_fd[ENGINE_STDOUT]), "hello world\n");
    assert_string_equal(buf_str(&t.r.by_fd[ENGINE_STDERR]), "done\n");
    json_t *ins = exec_inspect(&env, exec_id);
    assert_int_equal(json_integer_value(json_object_get(ins, "ExitCode")), 4);
    json_decref(ins);

    /* An exec that does not exist: the engine's 404 through the hijack path. */
    struct hj_test t2 = {0};
    tl_result_init(&t2.r);
    o.data = &t2.r;
    t2.h = engine_exec_attach(env.c, "no-such-exec", &o, &err);
    assert_non_null(t2.h);
    while (!t2.r.done && uv_run(&env.loop, UV_RUN_ONCE))
        ;
    tl_assert_fails(&t2.r, CC_ERR_NOT_FOUND);
    assert_false(t2.opened);
    tl_result_release(&t2.r);

    cc_error_release(&err);
    free(exec_id);
    free(id);
    tl_result_release(&t.r);
    tl_env_release(&env);
}

/* A listening socket on 127.0.0.1 that never accepts: it stands for a hung engine. Its port goes
 * to *ret_port. */
static int silent_listener(int backlog, int *ret_port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, backlog), 0);
    socklen_t len = sizeof(sa);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *ret_port = ntohs(sa.sin_port);
    return fd;
}

/* Runs an exec attach against host and returns how it failed. */
static void hijack_against(const char *host, long answer_timeout_ms, struct tl_result *r)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct engine_options eo = {.host = host, .connect_timeout_ms = 400};
    struct engine_client *c = NULL;
    struct cc_error err = CC_ERROR_INIT;
    assert_int_equal(engine_client_new(&loop, &eo, &c, &err), 0);
    struct engine_hijack_options o = {.on_output = tl_on_output,
                                      .cb = tl_on_done,
                                      .data = r,
                                      .answer_timeout_ms = answer_timeout_ms};
    uint64_t start = uv_hrtime();
    assert_non_null(engine_exec_attach(c, "0123456789ab", &o, &err));
    while (!r->done && uv_run(&loop, UV_RUN_ONCE))
        ;
    /* Bounded by the timeouts, not by the kernel's own retries (minutes). */
    assert_true(uv_hrtime() - start < 5 * 1000000000ull);
    engine_client_free(c);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    cc_error_release(&err);
}

/* A hung engine: the connection is accepted (by the kernel) but no answer comes; and one whose
 * backlog is full, so the connection is never made. Both fail as unreachable, saying which. */
static void test_hijack_timeouts(void **state)
{
    (void)state;
    int port;
    int fd = silent_listener(16, &port);
    char host[64];
    snprintf(host, sizeof(host), "tcp://127.0.0.1:%d", port);
    struct tl_result r;
    tl_result_init(&r);
    hijack_against(host, 300, &r);
    tl_assert_fails(&r, CC_ERR_UNREACHABLE);
    assert_non_null(strstr(r.err.message, ": the engine did not answer within 0.3 s"));
    tl_result_release(&r);
    close(fd);

    /* Backlog 0 holds one connection; a second one fills the queue, so the next SYN is dropped. */
    fd = silent_listener(0, &port);
    snprintf(host, sizeof(host), "tcp://127.0.0.1:%d", port);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                             .sin_port = htons((uint16_t)port)};
    int fillers[2];
    for (int i = 0; i < 2; i++) {
        fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fillers[i], (struct sockaddr *)&sa, sizeof(sa));
    }
    tl_result_init(&r);
    hijack_against(host, 10000, &r);
    tl_assert_fails(&r, CC_ERR_UNREACHABLE);
    assert_non_null(strstr(r.err.message, ": cannot reach the engine: no connection after 0.4 s"));
    tl_result_release(&r);
    for (int i = 0; i < 2; i++)
        close(fillers[i]);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exec_output_and_exit_code),
        cmocka_unit_test(test_exec_detach),
        cmocka_unit_test(test_exec_tty),
        cmocka_unit_test(test_exec_hijack_stdin),
        cmocka_unit_test(test_hijack_timeouts),
    };
    return cmocka_run_group_tests(tests, NULL, tl_group_teardown);
}
