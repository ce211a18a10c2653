/* Running the ccompose binary from tests: in the foreground through compose-test's ct_run(), or
 * in the background with its output on a pipe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/cli-test.h"
#include "tests/lib/compose-test.h"
#include "tests/lib/sched-test.h"

static const char *binary(void)
{
    const char *b = getenv("CCOMPOSE_BIN");
    return b && *b ? b : "build/ccompose";
}

void cb_runv(struct cb_result *r, const char *cwd, const char *const *args, size_t n_args)
{
    cb_runv_input(r, cwd, NULL, 0, args, n_args);
}

void cb_runv_input(struct cb_result *r, const char *cwd, const char *input, size_t input_len,
                   const char *const *args, size_t n_args)
{
    memset(r, 0, sizeof(*r));
    buf_init(&r->out);
    buf_init(&r->err);
    buf_adds(&r->out, "");
    buf_adds(&r->err, "");
    int out[2], err[2], in[2];
    assert_int_equal(pipe(out), 0);
    assert_int_equal(pipe(err), 0);
    assert_int_equal(pipe(in), 0);
    char **argv = xcalloc(n_args + 2, sizeof(*argv));
    argv[0] = (char *)binary();
    for (size_t i = 0; i < n_args; i++)
        argv[i + 1] = (char *)args[i];
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(err[0]);
        close(out[1]);
        close(err[1]);
        if (cwd && chdir(cwd) < 0)
            _exit(126);
        execv(argv[0], argv);
        _exit(127);
    }
    free(argv);
    close(out[1]);
    close(err[1]);
    close(in[0]);
    /* The input is written as the child reads it, while its output is read: a large input must
     * not wait for a child that waits for us to read. */
    size_t sent = 0;
    signal(SIGPIPE, SIG_IGN);
    struct pollfd fds[3] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}, {in[1], POLLOUT, 0}};
    struct buf *bufs[2] = {&r->out, &r->err};
    int open_fds = 2;
    if (!input || input_len == 0) {
        close(in[1]);
        fds[2].fd = -1;
    }
    while (open_fds > 0) {
        if (poll(fds, 3, -1) < 0) {
            assert_int_equal(errno, EINTR);
            continue;
        }
        if (fds[2].fd >= 0 && fds[2].revents) {
            ssize_t n = (fds[2].revents & POLLOUT)
                            ? write(fds[2].fd, input + sent,
                                    input_len - sent > 65536 ? 65536 : input_len - sent)
                            : -1;
            if (n > 0)
                sent += (size_t)n;
            if (n < 0 || sent == input_len) {
                close(fds[2].fd);
                fds[2].fd = -1;
            }
        }
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !fds[i].revents)
                continue;
            char chunk[4096];
            ssize_t n = read(fds[i].fd, chunk, sizeof(chunk));
            if (n > 0) {
                buf_add(bufs[i], chunk, (size_t)n);
            } else {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            }
        }
    }
    if (fds[2].fd >= 0)
        close(fds[2].fd);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The arguments of a variadic call up to a NULL, at most 64. */
#define ARGS_MAX 64
static size_t va_args(va_list ap, const char **args)
{
    size_t n = 0;
    for (const char *a; n < ARGS_MAX && (a = va_arg(ap, const char *));)
        args[n++] = a;
    return n;
}

void cb_vrun_input(struct cb_result *r, const char *cwd, const char *input, size_t input_len,
                   const char *const *prefix, size_t n_prefix, va_list ap)
{
    const char *args[ARGS_MAX];
    assert_true(n_prefix <= ARGS_MAX);
    memcpy(args, prefix, n_prefix * sizeof(*args));
    size_t n = n_prefix;
    for (const char *a; n < ARGS_MAX && (a = va_arg(ap, const char *));)
        args[n++] = a;
    cb_runv_input(r, cwd, input, input_len, args, n);
}

void cb_run(struct cb_result *r, const char *cwd, ...)
{
    const char *args[ARGS_MAX];
    va_list ap;
    va_start(ap, cwd);
    size_t n = va_args(ap, args);
    va_end(ap);
    cb_runv(r, cwd, args, n);
}

/* cmocka cuts a failure's message at a few kilobytes: a failure prints the whole output first,
 * then a short message. */
static void print_output(const struct cb_result *r)
{
    print_message("--- stdout:\n%s--- stderr:\n%s", buf_str(&r->out), buf_str(&r->err));
}

/* Fails the test unless r exited want and, need not NULL, said need; releases r. */
static void expect_done(struct cb_result *r, int want, const char *need)
{
    cb_assert_status(r, want);
    if (need && !strstr(buf_str(&r->out), need) && !strstr(buf_str(&r->err), need)) {
        print_output(r);
        fail_msg("'%s' not in the output above", need);
    }
    cb_result_release(r);
}

void cb_expect(int want, const char *need, const char *cwd, ...)
{
    const char *args[ARGS_MAX];
    va_list ap;
    va_start(ap, cwd);
    size_t n = va_args(ap, args);
    va_end(ap);
    struct cb_result r;
    cb_runv(&r, cwd, args, n);
    expect_done(&r, want, need);
}

/* -p PROJECT and the arguments of ap, in args; how many. */
static size_t fx_args(const struct cb_fx *f, va_list ap, const char **args)
{
    args[0] = "-p";
    args[1] = f->project;
    return 2 + va_args(ap, args + 2);
}

void cb_fx_run(struct cb_result *r, const struct cb_fx *f, ...)
{
    const char *args[ARGS_MAX + 2];
    va_list ap;
    va_start(ap, f);
    size_t n = fx_args(f, ap, args);
    va_end(ap);
    cb_runv(r, f->dir, args, n);
}

void cb_fx_expect(const struct cb_fx *f, int want, const char *need, ...)
{
    const char *args[ARGS_MAX + 2];
    va_list ap;
    va_start(ap, need);
    size_t n = fx_args(f, ap, args);
    va_end(ap);
    struct cb_result r;
    cb_runv(&r, f->dir, args, n);
    expect_done(&r, want, need);
}

char *cb_fx_cname(const struct cb_fx *f, const char *service, int n)
{
    return xasprintf("%s-%s-%d", f->project, service, n);
}

char *cb_payload(size_t len)
{
    char *p = xmalloc(len ? len : 1);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (char)(x & 0xff);
    }
    return p;
}

void cb_result_release(struct cb_result *r)
{
    buf_release(&r->out);
    buf_release(&r->err);
}

void cb_assert_status(const struct cb_result *r, int want)
{
    if (r->status != want) {
        print_output(r);
        fail_msg("ccompose exited %d, not %d (its output above)", r->status, want);
    }
}

void cb_assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle)) {
        print_message("%s\n", haystack);
        fail_msg("'%s' not found in the output above", needle);
    }
}

void cb_spawn(struct cb_proc *p, const char *cwd, ...)
{
    char *argv[64];
    size_t n = 0;
    argv[n++] = (char *)binary();
    va_list ap;
    va_start(ap, cwd);
    const char *a;
    while ((a = va_arg(ap, const char *)) && n < CC_ARRAY_LEN(argv) - 1)
        argv[n++] = (char *)a;
    va_end(ap);
    argv[n] = NULL;
    memset(p, 0, sizeof(*p));
    buf_init(&p->out);
    buf_adds(&p->out, "");
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        if (cwd && chdir(cwd) < 0)
            _exit(126);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    p->pid = pid;
    p->out_fd = fds[0];
}

static bool read_some(struct cb_proc *p)
{
    char chunk[4096];
    ssize_t n;
    do
        n = read(p->out_fd, chunk, sizeof(chunk));
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return false;
    buf_add(&p->out, chunk, (size_t)n);
    return true;
}

size_t cb_read_until_from(struct cb_proc *p, size_t from, const char *needle)
{
    const char *at;
    while (!(at = from <= p->out.len ? strstr(buf_str(&p->out) + from, needle) : NULL)) {
        if (!read_some(p)) {
            print_message("%s\n", buf_str(&p->out));
            fail_msg("output ended without '%s' (the output above)", needle);
        }
    }
    return (size_t)(at - buf_str(&p->out));
}

void cb_read_until(struct cb_proc *p, const char *needle)
{
    cb_read_until_from(p, 0, needle);
}

int cb_finish(struct cb_proc *p)
{
    while (read_some(p))
        ;
    close(p->out_fd);
    int status;
    assert_int_equal(waitpid(p->pid, &status, 0), p->pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int cb_fx_setup(void **state)
{
    struct cb_fx *f = xcalloc(1, sizeof(*f));
    tl_env_init(&f->env);
    f->dir = ct_tmpdir();
    f->project = tl_unique("cli");
    *state = f;
    return 0;
}

int cb_fx_teardown(void **state)
{
    struct cb_fx *f = *state;
    tl_env_release(&f->env);
    st_cleanup(f->project);
    ct_rmdir(f->dir);
    free(f->dir);
    free(f->project);
    free(f);
    return 0;
}

int cb_sh(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *cmd = xvasprintf(fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    free(cmd);
    return rc;
}

char *cb_tmux_pane(const char *sock, bool join)
{
    char *cmd = xasprintf("tmux -L %s capture-pane -p%s", sock, join ? " -J" : "");
    FILE *p = popen(cmd, "r");
    free(cmd);
    assert_non_null(p);
    struct buf b = BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
        buf_add(&b, chunk, n);
    pclose(p);
    buf_adds(&b, "");
    return buf_detach(&b);
}

char *cb_bin_path(void)
{
    const char *bin = getenv("CCOMPOSE_BIN");
    char *abs = realpath(bin && *bin ? bin : "build/ccompose", NULL);
    assert_non_null(abs);
    return abs;
}
