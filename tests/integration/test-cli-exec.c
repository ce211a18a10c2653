/* `ccompose exec` against the real engine: exit codes passed through, stdout and stderr kept
 * apart, stdin reaching the command (a 10 MB payload byte-exact), -e/-w/-u, -d, --index, a
 * service that is not running, and a terminal driven through tmux (prompt, typed input, the size
 * seen by `stty size`, a resize). Every project is removed by its label at teardown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/cli-test.h"
#include "tests/lib/compose-test.h"
#include "tests/lib/sched-test.h"

static const char stack[] = "services:\n"
                            "  svc:\n"
                            "    image: " TEST_IMAGE "\n"
                            "    command: [\"sh\", \"-c\", \"trap 'exit 0' TERM; sleep 3600 & "
                            "wait\"]\n"
                            "    scale: 2\n";

static int setup(void **state)
{
    cb_fx_setup(state);
    struct cb_fx *f = *state;
    ct_put(f->dir, "compose.yaml", stack);
    struct cb_result r;
    cb_run(&r, f->dir, "-p", f->project, "up", "-d", NULL);
    cb_assert_status(&r, 0);
    cb_result_release(&r);
    return 0;
}


static int teardown(void **state)
{
    /* The terminal test's tmux, if it failed before killing it. */
    cb_sh("tmux -L ccit-ex-%d kill-server 2>/dev/null", (int)getpid());
    return cb_fx_teardown(state);
}

/* Runs ccompose -p PROJECT exec ARGS... in the fixture's directory with input on stdin. */
static void ex_run(struct cb_fx *f, struct cb_result *r, const char *input, size_t len, ...)
{
    const char *prefix[] = {"-p", f->project, "exec"};
    va_list ap;
    va_start(ap, len);
    cb_vrun_input(r, f->dir, input, len, prefix, CC_ARRAY_LEN(prefix), ap);
    va_end(ap);
}

static void test_exit_code_and_streams(void **state)
{
    struct cb_fx *f = *state;
    struct cb_result r;
    ex_run(f, &r, NULL, 0, "-T", "svc", "sh", "-c", "echo out; echo err >&2; exit 3", NULL);
    cb_assert_status(&r, 3);
    assert_string_equal(buf_str(&r.out), "out\n");
    cb_assert_contains(buf_str(&r.err), "err\n");
    cb_result_release(&r);

    ex_run(f, &r, NULL, 0, "-T", "svc", "true", NULL);
    cb_assert_status(&r, 0);
    cb_result_release(&r);

    /* A command that does not exist: the engine's 126/127 as docker compose passes it on. */
    ex_run(f, &r, NULL, 0, "-T", "svc", "no-such-command", NULL);
    assert_true(r.status == 126 || r.status == 127);
    cb_result_release(&r);
}

static void test_stdin_reaches_command(void **state)
{
    struct cb_fx *f = *state;
    struct cb_result r;
    ex_run(f, &r, "data\n", 5, "-T", "svc", "cat", NULL);
    cb_assert_status(&r, 0);
    assert_string_equal(buf_str(&r.out), "data\n");
    cb_result_release(&r);

    /* 10 MB of every byte value comes back byte-exact. */
    size_t len = 10u * 1024 * 1024;
    char *payload = cb_payload(len);
    ex_run(f, &r, payload, len, "-T", "svc", "cat", NULL);
    cb_assert_status(&r, 0);
    assert_int_equal(r.out.len, len);
    assert_memory_equal(r.out.data, payload, len);
    cb_result_release(&r);
    free(payload);
}

static void test_env_workdir_user_index(void **state)
{
    struct cb_fx *f = *state;
    struct cb_result r;
    setenv("CCIT_FROM_HOST", "hostvalue", 1);
    ex_run(f, &r, NULL, 0, "-T", "-e", "FOO=bar", "-e", "CCIT_FROM_HOST", "-w", "/tmp", "-u",
           "1234", "svc", "sh", "-c", "echo $FOO $CCIT_FROM_HOST $(pwd) $(id -u)", NULL);
    cb_assert_status(&r, 0);
    assert_string_equal(buf_str(&r.out), "bar hostvalue /tmp 1234\n");
    cb_result_release(&r);

    ex_run(f, &r, NULL, 0, "-T", "--index", "2", "svc", "hostname", NULL);
    cb_assert_status(&r, 0);
    char *second = xasprintf("%s-svc-2", f->project);
    char *id = st_id(&f->env, second);
    assert_memory_equal(buf_str(&r.out), id, 12);
    cb_result_release(&r);
    free(id);
    free(second);

    ex_run(f, &r, NULL, 0, "-T", "--index", "3", "svc", "true", NULL);
    cb_assert_status(&r, 1);
    cb_assert_contains(buf_str(&r.err), "service 'svc' is not running");
    cb_result_release(&r);
}

static void test_detach(void **state)
{
    struct cb_fx *f = *state;
    struct cb_result r;
    ex_run(f, &r, NULL, 0, "-d", "svc", "sh", "-c", "echo made > /tmp/detached", NULL);
    cb_assert_status(&r, 0);
    assert_string_equal(buf_str(&r.out), "");
    cb_result_release(&r);
    /* The detached process finishes on its own; wait for its file. */
    ex_run(f, &r, NULL, 0, "-T", "svc", "sh", "-c",
           "while [ ! -s /tmp/detached ]; do sleep 0.1; done; cat /tmp/detached", NULL);
    cb_assert_status(&r, 0);
    assert_string_equal(buf_str(&r.out), "made\n");
    cb_result_release(&r);
}

static void test_not_running(void **state)
{
    struct cb_fx *f = *state;
    struct cb_result r;
    ex_run(f, &r, NULL, 0, "-T", "nosuch", "true", NULL);
    cb_assert_status(&r, 1);
    cb_result_release(&r);
    ex_run(f, &r, NULL, 0, "svc", NULL);
    cb_assert_status(&r, 2);
    cb_result_release(&r);
}

static char *pane(const char *sock)
{
    return cb_tmux_pane(sock, false);
}

/* Polls the pane until it shows needle (30 s at most; the machine may be loaded); returns the pane
 * (new). */
static char *pane_until(const char *sock, const char *needle)
{
    for (int i = 0; i < 600; i++) {
        char *text = pane(sock);
        if (strstr(text, needle))
            return text;
        free(text);
        usleep(50 * 1000);
    }
    char *text = pane(sock);
    fail_msg("'%s' never showed in the terminal:\n%s", needle, text);
    return text;
}

/* Types `keys` Enter, again every second until the pane shows needle (30 s at most): for what
 * reaches the process asynchronously (a resize goes to the engine on its own connection, so a
 * command typed at once may still see the size before). */
static void type_until(const char *sock, const char *keys, const char *needle)
{
    for (int i = 0; i < 30; i++) {
        cb_sh("tmux -L %s send-keys '%s' Enter", sock, keys);
        for (int k = 0; k < 20; k++) {
            char *text = pane(sock);
            bool seen = strstr(text, needle) != NULL;
            free(text);
            if (seen)
                return;
            usleep(50 * 1000);
        }
    }
    char *text = pane(sock);
    fail_msg("'%s' never showed in the terminal after typing '%s':\n%s", needle, keys, text);
    free(text);
}

static void test_terminal(void **state)
{
    struct cb_fx *f = *state;
    if (cb_sh("command -v tmux >/dev/null") != 0)
        skip();
    char *sock = xasprintf("ccit-ex-%d", (int)getpid());
    char *abs = cb_bin_path();
    assert_int_equal(cb_sh("cd %s && tmux -L %s new-session -d -x 100 -y 30 "
                        "'%s -p %s exec svc sh; echo EXIT=$?; sleep 60'",
                        f->dir, sock, abs, f->project),
                     0);
    free(pane_until(sock, "/ #"));
    /* Typed input reaches the shell and its output comes back: the pane shows the result, not
     * only the echoed line. */
    cb_sh("tmux -L %s send-keys 'echo typed-$((40+2))' Enter", sock);
    free(pane_until(sock, "typed-42"));
    /* The terminal's size (30x100) reaches the process, then a resize to 20x80. */
    type_until(sock, "stty size", "30 100");
    cb_sh("tmux -L %s resize-window -x 80 -y 20", sock);
    type_until(sock, "stty size", "20 80");
    cb_sh("tmux -L %s send-keys 'exit 5' Enter", sock);
    free(pane_until(sock, "EXIT=5"));
    cb_sh("tmux -L %s kill-server", sock);
    free(abs);
    free(sock);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exit_code_and_streams, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stdin_reaches_command, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_workdir_user_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detach, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_running, setup, teardown),
        cmocka_unit_test_setup_teardown(test_terminal, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, tl_group_teardown);
}
