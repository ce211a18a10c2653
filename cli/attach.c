/* exec's and run's attached session: our stdin to the process over a hijacked stream, its output
 * to our stdout and stderr, the terminal in raw mode with its size kept in step. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli/run.h"
#include "common/log.h"

/* Input queued beyond this stops reading stdin until the engine has taken it. */
#define MAX_QUEUED (4u * 1024 * 1024)

enum { IN_NONE = 0, IN_STREAM, IN_FILE };

static void on_output(enum engine_stream_fd fd, const char *buf, size_t len, void *data)
{
    (void)data;
    FILE *f = fd == ENGINE_STDERR ? stderr : stdout;
    fwrite(buf, 1, len, f);
    fflush(f);
}

static void on_stream_done(json_t *result, const struct cc_error *err, void *data)
{
    (void)result;
    struct cli_attach *a = data;
    a->h = NULL;
    a->done = true;
    if (err && a->err.kind == CC_ERR_NONE)
        cc_error_copy(&a->err, err);
    if (a->in_open && a->in_kind == IN_STREAM)
        uv_read_stop((uv_stream_t *)&a->in.handle);
}

static void on_resized(json_t *result, const struct cc_error *err, void *data)
{
    (void)result;
    (void)data;
    if (err)
        log_debug("%s: %s, ignoring", __func__, err->message);
}

static bool term_size(struct winsize *ws)
{
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, ws) < 0 && ioctl(STDIN_FILENO, TIOCGWINSZ, ws) < 0)
        return false;
    return ws->ws_row && ws->ws_col;
}

static void send_size(struct cli_attach *a)
{
    struct winsize ws;
    if (!term_size(&ws))
        return;
    struct cc_error err = CC_ERROR_INIT;
    if (a->exec_id)
        engine_exec_resize(a->c, a->exec_id, ws.ws_row, ws.ws_col, on_resized, NULL, &err);
    else
        engine_container_resize(a->c, a->container, ws.ws_row, ws.ws_col, on_resized, NULL, &err);
    cc_error_release(&err);
}

static void on_winch(uv_signal_t *sig, int signum)
{
    (void)signum;
    struct cli_attach *a = sig->data;
    if (!a->done)
        send_size(a);
}

static void in_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    (void)handle;
    (void)suggested;
    buf->base = xmalloc(64 * 1024);
    buf->len = 64 * 1024;
}

static void input_eof(struct cli_attach *a)
{
    a->in_eof = true;
    if (a->h)
        engine_hijack_close_write(a->h);
}

/* Sends a chunk; returns whether reading may go on at once. */
static bool input_chunk(struct cli_attach *a, const char *buf, size_t len)
{
    if (!a->h)
        return false;
    ssize_t queued = engine_hijack_write(a->h, buf, len);
    if (queued < 0)
        return false;
    return (size_t)queued < MAX_QUEUED;
}

static void on_stdin(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct cli_attach *a = stream->data;
    if (nread < 0) {
        uv_read_stop(stream);
        if (nread != UV_EOF)
            log_debug("%s: reading stdin: %s", __func__, uv_strerror((int)nread));
        input_eof(a);
    } else if (nread > 0 && !input_chunk(a, buf->base, (size_t)nread)) {
        uv_read_stop(stream);
        a->in_paused = !a->done;
    }
    free(buf->base);
}

static void file_read_next(struct cli_attach *a);

static void on_file_read(uv_fs_t *req)
{
    struct cli_attach *a = req->data;
    ssize_t n = req->result;
    uv_fs_req_cleanup(req);
    a->fs_busy = false;
    if (a->done)
        return;
    if (n <= 0) {
        input_eof(a);
    } else if (input_chunk(a, a->fs_buf, (size_t)n)) {
        file_read_next(a);
    } else {
        a->in_paused = true;
    }
}

static void file_read_next(struct cli_attach *a)
{
    uv_buf_t b = uv_buf_init(a->fs_buf, sizeof(a->fs_buf));
    a->fs.data = a;
    if (uv_fs_read(a->loop, &a->fs, STDIN_FILENO, &b, 1, -1, on_file_read) == 0)
        a->fs_busy = true;
    else
        input_eof(a);
}

static void input_resume(struct cli_attach *a)
{
    a->in_paused = false;
    if (a->in_kind == IN_STREAM)
        uv_read_start((uv_stream_t *)&a->in.handle, in_alloc, on_stdin);
    else if (a->in_kind == IN_FILE && !a->fs_busy)
        file_read_next(a);
}

static void on_drain(void *data)
{
    struct cli_attach *a = data;
    if (a->in_paused && !a->in_eof && !a->done)
        input_resume(a);
}

/* Opens our stdin as a libuv handle: a terminal, a pipe or socket, or else a file read on the
 * thread pool (regular files and /dev/null never block). */
static void input_open(struct cli_attach *a)
{
    uv_handle_type t = uv_guess_handle(STDIN_FILENO);
    if (t == UV_TTY && uv_tty_init(a->loop, &a->in.tty, STDIN_FILENO, 1) == 0) {
        a->in_kind = IN_STREAM;
        if (a->tty && uv_tty_set_mode(&a->in.tty, UV_TTY_MODE_RAW) == 0)
            a->raw = true;
    } else if ((t == UV_NAMED_PIPE || t == UV_TCP) && uv_pipe_init(a->loop, &a->in.pipe, 0) == 0) {
        if (uv_pipe_open(&a->in.pipe, STDIN_FILENO) != 0) {
            uv_close(&a->in.handle, NULL);
            a->in_kind = IN_FILE;
            return;
        }
        a->in_kind = IN_STREAM;
    } else {
        a->in_kind = IN_FILE;
        return;
    }
    a->in.handle.data = a;
    a->in_open = true;
}

static void on_open(void *data)
{
    struct cli_attach *a = data;
    if (a->tty)
        send_size(a);
    if (a->stdin_on)
        input_resume(a);
    else if (a->h)
        engine_hijack_close_write(a->h);
    if (a->on_open)
        a->on_open(a, a->data);
}

int cli_attach_start(struct cli_attach *a)
{
    cc_error_init(&a->err);
    /* A write to a stream the engine closed (the process ended) must fail with EPIPE, which the
     * stream ignores, not kill us before the exit code is read. */
    signal(SIGPIPE, SIG_IGN);
    struct engine_hijack_options o = {
        .tty = a->tty,
        .on_output = on_output,
        .on_open = on_open,
        .on_drain = on_drain,
        .cb = on_stream_done,
        .data = a,
    };
    struct winsize ws;
    if (a->tty && term_size(&ws)) {
        o.rows = ws.ws_row;
        o.cols = ws.ws_col;
    }
    struct cc_error err = CC_ERROR_INIT;
    if (a->stdin_on)
        input_open(a);
    a->h = a->exec_id ? engine_exec_attach(a->c, a->exec_id, &o, &err)
                      : engine_container_attach_stdin(a->c, a->container, &o, &err);
    if (!a->h) {
        cli_error_print(&err);
        int code = cli_exit_for_error(&err);
        cc_error_release(&err);
        a->done = true;
        return code;
    }
    if (a->tty && isatty(STDOUT_FILENO)) {
        uv_signal_init(a->loop, &a->winch);
        a->winch.data = a;
        uv_signal_start(&a->winch, on_winch, SIGWINCH);
        uv_unref((uv_handle_t *)&a->winch);
        a->winch_on = true;
    }
    return 0;
}

void cli_attach_wait(struct cli_attach *a)
{
    while (!a->done && uv_run(a->loop, UV_RUN_ONCE))
        ;
}

void cli_attach_cancel(struct cli_attach *a)
{
    if (a->h)
        engine_hijack_cancel(a->h);
}

void cli_attach_release(struct cli_attach *a)
{
    cli_attach_cancel(a);
    if (a->in_open) {
        if (a->in_kind == IN_STREAM)
            uv_read_stop((uv_stream_t *)&a->in.handle);
        uv_close(&a->in.handle, NULL);
        a->in_open = false;
    }
    if (a->raw) {
        uv_tty_reset_mode();
        a->raw = false;
    }
    if (a->winch_on) {
        uv_signal_stop(&a->winch);
        uv_close((uv_handle_t *)&a->winch, NULL);
        a->winch_on = false;
    }
    if (a->fs_busy)
        uv_cancel((uv_req_t *)&a->fs);
    cc_error_release(&a->err);
}

const struct sched_observed_container *cli_find_container(const struct sched_observed *observed,
                                                          const char *service, int index)
{
    for (size_t i = 0; i < observed->n_containers; i++) {
        const struct sched_observed_container *ct = &observed->containers[i];
        if (!ct->oneoff && ct->service && !strcmp(ct->service, service) && ct->number == index)
            return ct;
    }
    return NULL;
}

void cli_env_add(json_t *env, const char *arg)
{
    if (strchr(arg, '=')) {
        json_array_append_new(env, json_string(arg));
        return;
    }
    const char *v = getenv(arg);
    if (v) {
        char *kv = xasprintf("%s=%s", arg, v);
        json_array_append_new(env, json_string(kv));
        free(kv);
    }
}

void cli_call_done(json_t *result, const struct cc_error *err, void *data)
{
    struct cli_call *w = data;
    w->done = true;
    w->result = json_incref(result);
    if (err)
        cc_error_copy(&w->err, err);
}

int cli_call_run(uv_loop_t *loop, struct engine_request *req, struct cli_call *w)
{
    if (req)
        while (!w->done && uv_run(loop, UV_RUN_ONCE))
            ;
    if (w->err.kind != CC_ERR_NONE) {
        cli_error_print(&w->err);
        return cli_exit_for_error(&w->err);
    }
    return 0;
}

void cli_call_release(struct cli_call *w)
{
    json_decref(w->result);
    cc_error_release(&w->err);
    memset(w, 0, sizeof(*w));
}
