/* Hijacked streams: exec start and attach with stdin, on a connection of their own.
 *
 * libcurl's multi interface reads responses but cannot write a request body that never ends while
 * it reads, so these calls speak HTTP/1.1 themselves over a libuv stream (a uv_pipe_t on the unix
 * socket, a uv_tcp_t for tcp:// hosts): one request with "Connection: Upgrade", the status line
 * and headers of the answer, then raw bytes both ways. The output goes through the same decoders
 * as every other stream (stream.h). Every ending goes through hj_finish(), which closes the
 * socket; the user's callback runs from the close callback, then the struct is freed, so the
 * callback never runs inside one of the caller's calls and never before queued writes are done
 * with. */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "engine-client/engine-internal.h"
#include "engine-client/stream.h"

#define MAX_ERROR_BODY (1024u * 1024)
/* The engine writes the answer's head before it starts the process, so it comes at once; an engine
 * that accepted the connection and says nothing for this long is hung. */
#define DEFAULT_ANSWER_TIMEOUT_MS (30 * 1000L)

enum hj_state { HJ_CONNECTING, HJ_HEADERS, HJ_ERROR_BODY, HJ_STREAM, HJ_CLOSING };

static const char *const hj_state_names[] = {"connecting", "headers", "error body", "stream",
                                             "closing"};

struct engine_hijack {
    enum hj_state state;
    union {
        uv_pipe_t pipe;
        uv_tcp_t tcp;
        uv_stream_t stream;
        uv_handle_t handle;
    } sock;
    uv_connect_t connect;
    uv_timer_t timer; /* bounds the connect, then the wait for the answer's head */
    int open_handles; /* sock and timer, until their close callbacks ran */
    char *request;    /* the request as sent */
    char *what;       /* "POST /exec/ID/start", for messages */
    struct engine_hijack_options o;
    struct buf in;     /* the answer's headers, then an error body */
    long status;       /* HTTP status */
    long content_len;  /* error body: -1 when not given */
    bool chunked;      /* error body: Transfer-Encoding chunked */
    bool write_closed; /* close_write asked, or the stream ended */
    size_t queued;     /* bytes written but not yet sent */
    struct engine_mux_decoder mux;
    struct cc_error err;
    bool cancelled;
    long connect_timeout_ms, answer_timeout_ms;
};

struct hj_write {
    uv_write_t req;
    struct engine_hijack *h;
    size_t len;
    char data[];
};

static void hj_set_state(struct engine_hijack *h, enum hj_state state)
{
    log_debug("%s: %s: %s -> %s", __func__, h->what, hj_state_names[h->state],
              hj_state_names[state]);
    h->state = state;
}

static void on_handle_closed(uv_handle_t *handle)
{
    struct engine_hijack *h = handle->data;
    if (--h->open_handles > 0)
        return;
    if (h->o.cb)
        h->o.cb(NULL, h->err.kind != CC_ERR_NONE ? &h->err : NULL, h->o.data);
    engine_mux_release(&h->mux);
    buf_release(&h->in);
    cc_error_release(&h->err);
    free(h->request);
    free(h->what);
    free(h);
}

/* Ends the stream with err (NULL: success; the first error wins). */
static void hj_finish(struct engine_hijack *h, const struct cc_error *err)
{
    if (h->state == HJ_CLOSING)
        return;
    if (err && h->err.kind == CC_ERR_NONE)
        cc_error_copy(&h->err, err);
    hj_set_state(h, HJ_CLOSING);
    h->write_closed = true;
    uv_timer_stop(&h->timer);
    uv_close((uv_handle_t *)&h->timer, on_handle_closed);
    uv_close(&h->sock.handle, on_handle_closed);
}

static void hj_fail(struct engine_hijack *h, enum cc_error_kind kind, const char *fmt,
                    const char *detail)
{
    struct cc_error err = CC_ERROR_INIT;
    cc_error_set(&err, kind, fmt, h->what, detail);
    hj_finish(h, &err);
    cc_error_release(&err);
}

static void on_mux_output(enum engine_stream_fd fd, const char *buf, size_t len, void *data)
{
    struct engine_hijack *h = data;
    if (h->state == HJ_STREAM && h->o.on_output)
        h->o.on_output(fd, buf, len, h->o.data);
}

static void hj_output(struct engine_hijack *h, const char *buf, size_t len)
{
    if (!len)
        return;
    if (h->o.tty) {
        if (h->o.on_output)
            h->o.on_output(ENGINE_RAW, buf, len, h->o.data);
        return;
    }
    if (engine_mux_feed(&h->mux, buf, len, &h->err) < 0)
        hj_finish(h, NULL);
}

/* The engine's refusal: kind from the status, message from the body (see engine_http_error). */
static void hj_error_done(struct engine_hijack *h)
{
    struct buf body = BUF_INIT;
    const char *data = h->in.data;
    size_t len = h->in.len;
    if (h->chunked) {
        engine_http_dechunk(h->in.data, h->in.len, &body);
        data = body.data;
        len = body.len;
    } else if (h->content_len >= 0 && len > (size_t)h->content_len) {
        len = (size_t)h->content_len;
    }
    struct cc_error err = CC_ERROR_INIT;
    engine_http_error(h->status, data, len, h->what, &err);
    hj_finish(h, &err);
    cc_error_release(&err);
    buf_release(&body);
}

static bool error_body_complete(const struct engine_hijack *h)
{
    if (h->chunked) {
        struct buf tmp = BUF_INIT;
        int rc = engine_http_dechunk(h->in.data, h->in.len, &tmp);
        buf_release(&tmp);
        return rc != 0;
    }
    if (h->content_len >= 0)
        return h->in.len >= (size_t)h->content_len;
    /* Neither length nor chunks: the body ends with the connection. */
    return false;
}

/* The answer's head is complete in h->in (hd). */
static void hj_headers_done(struct engine_hijack *h, const struct engine_http_head *hd)
{
    h->status = hd->status;
    h->content_len = hd->content_length;
    h->chunked = hd->chunked;
    size_t rest = h->in.len - hd->len;
    /* The first stream bytes may have come with the head; multiplexed frames hold NUL bytes. */
    char *tail = NULL;
    if (rest) {
        tail = xmalloc(rest);
        memcpy(tail, h->in.data + hd->len, rest);
    }
    buf_reset(&h->in);
    uv_timer_stop(&h->timer);
    if (h->status == 101 || h->status == 200) {
        hj_set_state(h, HJ_STREAM);
        if (h->o.on_open)
            h->o.on_open(h->o.data);
        if (h->state == HJ_STREAM && tail)
            hj_output(h, tail, rest);
    } else {
        hj_set_state(h, HJ_ERROR_BODY);
        if (tail)
            buf_add(&h->in, tail, rest);
        if (error_body_complete(h))
            hj_error_done(h);
    }
    free(tail);
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    (void)handle;
    (void)suggested;
    buf->base = xmalloc(64 * 1024);
    buf->len = 64 * 1024;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct engine_hijack *h = stream->data;
    if (nread < 0) {
        if (h->state == HJ_STREAM && nread == UV_EOF) {
            engine_mux_finish(&h->mux, &h->err);
            hj_finish(h, NULL);
        } else if (h->state == HJ_ERROR_BODY && nread == UV_EOF) {
            hj_error_done(h);
        } else if (h->state != HJ_CLOSING) {
            hj_fail(h, CC_ERR_IO, "%s: the connection to the engine broke: %s",
                    uv_strerror((int)nread));
        }
    } else if (nread > 0) {
        switch (h->state) {
        case HJ_HEADERS: {
            struct engine_http_head hd;
            struct cc_error err = CC_ERROR_INIT;
            buf_add(&h->in, buf->base, (size_t)nread);
            int rc = engine_http_head_parse(h->in.data, h->in.len, h->what, &hd, &err);
            if (rc > 0)
                hj_headers_done(h, &hd);
            else if (rc < 0)
                hj_finish(h, &err);
            cc_error_release(&err);
            break;
        }
        case HJ_ERROR_BODY:
            buf_add(&h->in, buf->base, (size_t)nread);
            if (error_body_complete(h) || h->in.len > MAX_ERROR_BODY)
                hj_error_done(h);
            break;
        case HJ_STREAM:
            hj_output(h, buf->base, (size_t)nread);
            break;
        case HJ_CONNECTING:
        case HJ_CLOSING:
            break;
        }
    }
    free(buf->base);
}

static void on_request_written(uv_write_t *req, int status)
{
    struct hj_write *w = (struct hj_write *)req;
    struct engine_hijack *h = w->h;
    if (status < 0 && h->state != HJ_CLOSING)
        hj_fail(h, CC_ERR_IO, "%s: sending the request failed: %s", uv_strerror(status));
    free(w);
}

static void on_timeout(uv_timer_t *t)
{
    struct engine_hijack *h = t->data;
    struct cc_error err = CC_ERROR_INIT;
    if (h->state == HJ_CONNECTING)
        cc_error_set(&err, CC_ERR_UNREACHABLE,
                     "%s: cannot reach the engine: no connection after %.1f s", h->what,
                     (double)h->connect_timeout_ms / 1000);
    else
        cc_error_set(&err, CC_ERR_UNREACHABLE, "%s: the engine did not answer within %.1f s",
                     h->what, (double)h->answer_timeout_ms / 1000);
    cc_error_hint(&err, "check that the engine is running and not hung (docker info), or set "
                        "DOCKER_HOST to the right address");
    hj_finish(h, &err);
    cc_error_release(&err);
}

static void on_connected(uv_connect_t *req, int status)
{
    struct engine_hijack *h = req->data;
    if (h->state == HJ_CLOSING)
        return;
    if (status < 0) {
        hj_fail(h, CC_ERR_UNREACHABLE, "%s: cannot reach the engine: %s", uv_strerror(status));
        return;
    }
    hj_set_state(h, HJ_HEADERS);
    uv_timer_start(&h->timer, on_timeout, (uint64_t)h->answer_timeout_ms, 0);
    size_t len = strlen(h->request);
    struct hj_write *w = xmalloc(sizeof(*w) + len);
    w->h = h;
    w->len = len;
    memcpy(w->data, h->request, len);
    uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
    int rc = uv_write(&w->req, &h->sock.stream, &b, 1, on_request_written);
    if (rc == 0)
        rc = uv_read_start(&h->sock.stream, on_alloc, on_read);
    if (rc < 0)
        hj_fail(h, CC_ERR_IO, "%s: cannot use the connection: %s", uv_strerror(rc));
}

/* "http://HOST:PORT" to an address: numeric hosts and localhost only (no resolver on the loop). */
static int tcp_addr(const char *base_url, struct sockaddr_storage *ss)
{
    const char *hp = base_url + strlen("http://");
    const char *colon = strrchr(hp, ':');
    int port = colon ? atoi(colon + 1) : 80;
    char host[256];
    size_t n = colon ? (size_t)(colon - hp) : strlen(hp);
    if (n >= sizeof(host))
        return -1;
    memcpy(host, hp, n);
    host[n] = '\0';
    if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
        memmove(host, host + 1, n - 2);
        host[n - 2] = '\0';
    }
    if (!strcmp(host, "localhost"))
        snprintf(host, sizeof(host), "127.0.0.1");
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0)
        return 0;
    return uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss) == 0 ? 0 : -1;
}

static struct engine_hijack *hijack_start(struct engine_client *c, const char *path, json_t *body,
                                          const struct engine_hijack_options *opts,
                                          struct cc_error *reterr)
{
    uv_loop_t *loop = engine_client_loop(c);
    const char *unix_path = engine_client_unix_path(c);
    const char *base = engine_client_base_url(c);
    struct sockaddr_storage ss;
    if (engine_client_tls(c)) {
        /* This connection is ours, not curl's, and speaks plain HTTP only. */
        cc_error_set(reterr, CC_ERR_UNSUPPORTED,
                     "cannot attach to a container's input over TLS (%s) yet", base);
        cc_error_hint(reterr, "use the engine's unix socket, or run without stdin (-T, -d)");
        return NULL;
    }
    if (!unix_path && tcp_addr(base, &ss) < 0) {
        cc_error_set(reterr, CC_ERR_UNSUPPORTED,
                     "cannot attach through %s: give the engine's "
                     "address as an IP address",
                     base);
        return NULL;
    }
    struct engine_hijack *h = xcalloc(1, sizeof(*h));
    h->o = *opts;
    buf_init(&h->in);
    engine_mux_init(&h->mux, on_mux_output, h);
    const char *version = engine_client_api_version(c);
    char *vpath = version ? xasprintf("/v%s%s", version, path) : xstrdup(path);
    char *json = body ? json_dumps(body, JSON_COMPACT) : xstrdup("");
    const char *host_hdr = unix_path ? "localhost" : base + strlen("http://");
    h->what = xasprintf("POST %s", path);
    h->request = xasprintf("POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: ccompose/%s\r\n"
                           "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                           "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n%s",
                           vpath, host_hdr, CCOMPOSE_VERSION, strlen(json), json);
    free(vpath);
    free(json);
    h->connect.data = h;
    h->connect_timeout_ms = engine_client_connect_timeout_ms(c);
    h->answer_timeout_ms =
        opts->answer_timeout_ms > 0 ? opts->answer_timeout_ms : DEFAULT_ANSWER_TIMEOUT_MS;
    uv_timer_init(loop, &h->timer);
    h->timer.data = h;
    h->open_handles = 2;
    uv_timer_start(&h->timer, on_timeout, (uint64_t)h->connect_timeout_ms, 0);
    if (unix_path) {
        uv_pipe_init(loop, &h->sock.pipe, 0);
        h->sock.handle.data = h;
        uv_pipe_connect(&h->connect, &h->sock.pipe, unix_path, on_connected);
    } else {
        uv_tcp_init(loop, &h->sock.tcp);
        h->sock.handle.data = h;
        int rc = uv_tcp_connect(&h->connect, &h->sock.tcp, (struct sockaddr *)&ss, on_connected);
        if (rc < 0)
            hj_fail(h, CC_ERR_UNREACHABLE, "%s: cannot reach the engine: %s", uv_strerror(rc));
    }
    return h;
}

struct engine_hijack *engine_exec_attach(struct engine_client *c, const char *exec_id,
                                         const struct engine_hijack_options *opts,
                                         struct cc_error *reterr)
{
    if (engine_check_id(exec_id, "exec instance", reterr) < 0)
        return NULL;
    struct buf path = BUF_INIT;
    engine_path_id(&path, "/exec/", exec_id, "/start");
    json_t *body = json_pack("{s:b, s:b}", "Detach", 0, "Tty", opts->tty);
    const char *version = engine_client_api_version(c);
    if (opts->tty && opts->rows && opts->cols && version &&
        engine_version_compare(version, "1.42") >= 0)
        json_object_set_new(body, "ConsoleSize", json_pack("[i, i]", opts->rows, opts->cols));
    struct engine_hijack *h = hijack_start(c, buf_str(&path), body, opts, reterr);
    json_decref(body);
    buf_release(&path);
    return h;
}

struct engine_hijack *engine_container_attach_stdin(struct engine_client *c, const char *id,
                                                    const struct engine_hijack_options *opts,
                                                    struct cc_error *reterr)
{
    if (engine_check_id(id, "container", reterr) < 0)
        return NULL;
    struct buf path = BUF_INIT;
    engine_path_id(&path, "/containers/", id, "/attach?stream=1&stdin=1&stdout=1&stderr=1");
    struct engine_hijack *h = hijack_start(c, buf_str(&path), NULL, opts, reterr);
    buf_release(&path);
    return h;
}

static void on_input_written(uv_write_t *req, int status)
{
    struct hj_write *w = (struct hj_write *)req;
    struct engine_hijack *h = w->h;
    h->queued -= w->len;
    if (status < 0 && h->state != HJ_CLOSING) {
        /* The process may have ended and closed its input: its output still decides. */
        log_debug("%s: %s: %s, ignoring", __func__, h->what, uv_strerror(status));
    } else if (h->queued == 0 && h->state == HJ_STREAM && h->o.on_drain) {
        h->o.on_drain(h->o.data);
    }
    free(w);
}

ssize_t engine_hijack_write(struct engine_hijack *h, const char *buf, size_t len)
{
    if (h->state != HJ_STREAM || h->write_closed)
        return -1;
    if (!len)
        return (ssize_t)h->queued;
    struct hj_write *w = xmalloc(sizeof(*w) + len);
    w->h = h;
    w->len = len;
    memcpy(w->data, buf, len);
    uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
    if (uv_write(&w->req, &h->sock.stream, &b, 1, on_input_written) < 0) {
        free(w);
        return -1;
    }
    h->queued += len;
    return (ssize_t)h->queued;
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    if (status < 0 && status != UV_ECANCELED)
        log_debug("%s: %s, ignoring", __func__, uv_strerror(status));
    free(req);
}

void engine_hijack_close_write(struct engine_hijack *h)
{
    if (h->state != HJ_STREAM || h->write_closed)
        return;
    h->write_closed = true;
    uv_shutdown_t *req = xcalloc(1, sizeof(*req));
    if (uv_shutdown(req, &h->sock.stream, on_shutdown) < 0)
        free(req);
}

void engine_hijack_cancel(struct engine_hijack *h)
{
    if (!h || h->state == HJ_CLOSING)
        return;
    struct cc_error err = CC_ERROR_INIT;
    cc_error_set(&err, CC_ERR_CANCELLED, "%s cancelled", h->what);
    hj_finish(h, &err);
    cc_error_release(&err);
}
