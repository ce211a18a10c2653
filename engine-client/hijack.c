/* Hijacked streams: exec start and attach with stdin, on a connection of their own.
 *
 * libcurl's multi interface reads responses but cannot write a request body that never ends while
 * it reads, so these calls speak HTTP/1.1 themselves over a libuv stream (a uv_pipe_t on the unix
 * socket, a uv_tcp_t for tcp:// hosts): one request with "Connection: Upgrade", the status line
 * and headers of the answer, then raw bytes both ways. The output goes through the same decoders
 * as every other stream (stream.h). Over TLS (a tcp:// host with DOCKER_TLS_VERIFY or DOCKER_TLS)
 * OpenSSL runs on memory BIOs between the socket and those bytes, with the files and checks
 * libcurl uses for every other call; ending the input half-closes the TCP connection under the TLS
 * session, as the docker CLI does (dockerd reads that as the end of the input). Every ending goes
 * through hj_finish(), which closes the socket; the user's callback runs from the close callback,
 * then the struct is freed, so the callback never runs inside one of the caller's calls and never
 * before queued writes are done with. */
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "engine-client/engine-internal.h"
#include "engine-client/stream.h"

#define MAX_ERROR_BODY (1024u * 1024)
/* The engine writes the answer's head before it starts the process, so it comes at once; an engine
 * that accepted the connection and says nothing for this long is hung. */
#define DEFAULT_ANSWER_TIMEOUT_MS (30 * 1000L)

enum hj_state { HJ_CONNECTING, HJ_HANDSHAKE, HJ_HEADERS, HJ_ERROR_BODY, HJ_STREAM, HJ_CLOSING };

static const char *const hj_state_names[] = {"connecting", "TLS handshake", "headers",
                                             "error body", "stream",        "closing"};

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
    /* TLS only: the session, reading the engine's bytes from tls_in and writing ours to tls_out
     * (both owned by ssl); the host and the certificates' directory, for messages. */
    SSL *ssl;
    BIO *tls_in, *tls_out;
    char *tls_host, *tls_dir;
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
    SSL_free(h->ssl);
    free(h->tls_host);
    free(h->tls_dir);
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

/* The connection ended (UV_EOF) or broke (another negative status). */
static void hj_eof(struct engine_hijack *h, int status)
{
    if (h->state == HJ_STREAM && status == UV_EOF) {
        engine_mux_finish(&h->mux, &h->err);
        hj_finish(h, NULL);
    } else if (h->state == HJ_ERROR_BODY && status == UV_EOF) {
        hj_error_done(h);
    } else if (h->state == HJ_HANDSHAKE && status == UV_EOF) {
        hj_fail(h, CC_ERR_UNREACHABLE, "%s: cannot reach the engine over TLS: %s",
                "the engine closed the connection during the handshake");
    } else if (h->state != HJ_CLOSING) {
        hj_fail(h, CC_ERR_IO, "%s: the connection to the engine broke: %s", uv_strerror(status));
    }
}

/* Bytes of the answer (after TLS, when it is on). */
static void hj_input(struct engine_hijack *h, const char *data, size_t len)
{
    switch (h->state) {
    case HJ_HEADERS: {
        struct engine_http_head hd;
        struct cc_error err = CC_ERROR_INIT;
        buf_add(&h->in, data, len);
        int rc = engine_http_head_parse(h->in.data, h->in.len, h->what, &hd, &err);
        if (rc > 0)
            hj_headers_done(h, &hd);
        else if (rc < 0)
            hj_finish(h, &err);
        cc_error_release(&err);
        break;
    }
    case HJ_ERROR_BODY:
        buf_add(&h->in, data, len);
        if (error_body_complete(h) || h->in.len > MAX_ERROR_BODY)
            hj_error_done(h);
        break;
    case HJ_STREAM:
        hj_output(h, data, len);
        break;
    case HJ_CONNECTING:
    case HJ_HANDSHAKE:
    case HJ_CLOSING:
        break;
    }
}

/* Queues len bytes for the socket; plain_len is what they stand for in h->queued's terms (the
 * input bytes they carry, 0 for the request and TLS's own records). */
static int hj_write_raw(struct engine_hijack *h, const char *data, size_t len, size_t plain_len,
                        uv_write_cb cb)
{
    struct hj_write *w = xmalloc(sizeof(*w) + len);
    w->h = h;
    w->len = plain_len;
    memcpy(w->data, data, len);
    uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
    int rc = uv_write(&w->req, &h->sock.stream, &b, 1, cb);
    if (rc < 0)
        free(w);
    return rc;
}

static void on_request_written(uv_write_t *req, int status);

/* Sends what the TLS session wrote to tls_out (records of its own, or data it encrypted). */
static int tls_flush(struct engine_hijack *h, size_t plain_len, uv_write_cb cb)
{
    size_t pending = BIO_ctrl_pending(h->tls_out);
    if (!pending)
        return 0;
    char *data = xmalloc(pending);
    int n = BIO_read(h->tls_out, data, (int)pending);
    int rc = n > 0 ? hj_write_raw(h, data, (size_t)n, plain_len, cb) : 0;
    free(data);
    return rc;
}

/* Writes len bytes as the connection carries them: encrypted with TLS, else as they are. */
static int hj_send(struct engine_hijack *h, const char *data, size_t len, uv_write_cb cb)
{
    if (!h->ssl)
        return hj_write_raw(h, data, len, len, cb);
    ERR_clear_error();
    /* A memory BIO takes everything: SSL_write() writes it all at once or fails. */
    if (SSL_write(h->ssl, data, (int)len) <= 0)
        return UV_EPROTO;
    return tls_flush(h, len, cb);
}

/* Why the TLS session failed, in OpenSSL's words (the certificate check's, when that failed). */
static const char *tls_why(const struct engine_hijack *h)
{
    long vr = SSL_get_verify_result(h->ssl);
    if (vr != X509_V_OK)
        return X509_verify_cert_error_string(vr);
    unsigned long e = ERR_peek_last_error();
    const char *why = e ? ERR_reason_error_string(e) : NULL;
    return why ? why : "the engine ended the TLS session";
}

static void tls_fail(struct engine_hijack *h)
{
    struct cc_error err = CC_ERROR_INIT;
    cc_error_set(&err, CC_ERR_UNREACHABLE, "%s: cannot reach the engine at %s over TLS: %s",
                 h->what, h->tls_host, tls_why(h));
    cc_error_hint(&err,
                  "check that DOCKER_CERT_PATH (%s) holds the engine's CA as ca.pem and a client "
                  "certificate it trusts as cert.pem and key.pem",
                  h->tls_dir ? h->tls_dir : "unset");
    hj_finish(h, &err);
    cc_error_release(&err);
}

static void hj_send_request(struct engine_hijack *h);

/* Feeds the engine's bytes to the TLS session: first to finish the handshake, then to read the
 * answer out of it. */
static void tls_input(struct engine_hijack *h, const char *data, size_t len)
{
    BIO_write(h->tls_in, data, (int)len);
    if (h->state == HJ_HANDSHAKE) {
        ERR_clear_error();
        int rc = SSL_do_handshake(h->ssl);
        int e = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(h->ssl, rc);
        if (e != SSL_ERROR_NONE && e != SSL_ERROR_WANT_READ) {
            tls_fail(h);
            return;
        }
        if (tls_flush(h, 0, on_request_written) < 0) {
            hj_fail(h, CC_ERR_IO, "%s: sending the TLS handshake failed: %s",
                    uv_strerror(UV_EPIPE));
            return;
        }
        if (e == SSL_ERROR_WANT_READ)
            return;
        hj_send_request(h);
    }
    char plain[16 * 1024];
    while (h->state != HJ_CLOSING && h->state != HJ_HANDSHAKE) {
        ERR_clear_error();
        int n = SSL_read(h->ssl, plain, sizeof(plain));
        if (n > 0) {
            hj_input(h, plain, (size_t)n);
            continue;
        }
        int e = SSL_get_error(h->ssl, n);
        if (e == SSL_ERROR_ZERO_RETURN) {
            hj_eof(h, UV_EOF); /* the engine's close_notify */
        } else if (e != SSL_ERROR_WANT_READ) {
            /* An engine refusing our certificate says so after a TLS 1.3 handshake, here. */
            if (h->state == HJ_HEADERS)
                tls_fail(h);
            else
                hj_fail(h, CC_ERR_IO, "%s: the TLS session with the engine broke: %s", tls_why(h));
        }
        break;
    }
    /* Reading may have made records to send (a key update's answer). */
    if (h->state != HJ_CLOSING)
        tls_flush(h, 0, on_request_written);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct engine_hijack *h = stream->data;
    if (nread < 0)
        hj_eof(h, (int)nread);
    else if (nread > 0 && h->ssl)
        tls_input(h, buf->base, (size_t)nread);
    else if (nread > 0)
        hj_input(h, buf->base, (size_t)nread);
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

/* Connected (and, with TLS, through the handshake): the request, then the wait for its answer. */
static void hj_send_request(struct engine_hijack *h)
{
    hj_set_state(h, HJ_HEADERS);
    uv_timer_start(&h->timer, on_timeout, (uint64_t)h->answer_timeout_ms, 0);
    int rc = hj_send(h, h->request, strlen(h->request), on_request_written);
    if (rc < 0)
        hj_fail(h, CC_ERR_IO, "%s: cannot use the connection: %s", uv_strerror(rc));
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
    int rc = uv_read_start(&h->sock.stream, on_alloc, on_read);
    if (rc < 0) {
        hj_fail(h, CC_ERR_IO, "%s: cannot use the connection: %s", uv_strerror(rc));
        return;
    }
    if (!h->ssl) {
        hj_send_request(h);
        return;
    }
    /* The connect timer goes on bounding the handshake. */
    hj_set_state(h, HJ_HANDSHAKE);
    ERR_clear_error();
    int hs = SSL_do_handshake(h->ssl);
    if (hs != 1 && SSL_get_error(h->ssl, hs) != SSL_ERROR_WANT_READ)
        tls_fail(h);
    else if (tls_flush(h, 0, on_request_written) < 0)
        hj_fail(h, CC_ERR_IO, "%s: cannot use the connection: %s", uv_strerror(UV_EPIPE));
}

/* The "HOST:PORT" of a base URL ("http://HOST:PORT" or "https://HOST:PORT"). */
static const char *url_host_port(const char *base_url)
{
    const char *sep = strstr(base_url, "://");
    return sep ? sep + 3 : base_url;
}

/* "HOST:PORT" to an address, and HOST (without brackets) to ret_host: numeric hosts and localhost
 * only (no resolver on the loop). */
static int tcp_addr(const char *hp, struct sockaddr_storage *ss, char *ret_host, size_t host_size)
{
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
    snprintf(ret_host, host_size, "%s", host);
    if (!strcmp(host, "localhost"))
        snprintf(host, sizeof(host), "127.0.0.1");
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0)
        return 0;
    return uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss) == 0 ? 0 : -1;
}

/* A TLS session for host as libcurl makes them for the other calls (client.c): the engine's
 * certificate checked against ca.pem and for the host with DOCKER_TLS_VERIFY, the client
 * certificate sent when there is one. The certificates were found readable when the client was
 * made; one that OpenSSL cannot use fails here. */
static int tls_open(struct engine_hijack *h, struct engine_client *c, const char *host,
                    struct cc_error *reterr)
{
    struct engine_tls_settings t;
    engine_client_tls_settings(c, &t);
    h->tls_host = xstrdup(t.host);
    h->tls_dir = t.dir ? xstrdup(t.dir) : NULL;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        goto fail;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    const char *bad = NULL;
    ERR_clear_error();
    if (t.verify && SSL_CTX_load_verify_locations(ctx, t.ca, NULL) != 1)
        bad = t.ca;
    else if (t.cert && SSL_CTX_use_certificate_chain_file(ctx, t.cert) != 1)
        bad = t.cert;
    else if (t.cert && t.key && SSL_CTX_use_PrivateKey_file(ctx, t.key, SSL_FILETYPE_PEM) != 1)
        bad = t.key;
    if (bad) {
        unsigned long e = ERR_peek_last_error();
        cc_error_set(reterr, CC_ERR_USAGE, "cannot use the TLS file '%s' for %s: %s", bad, t.host,
                     e && ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "unreadable");
        cc_error_hint(reterr, "set DOCKER_CERT_PATH to the directory holding the engine's CA as "
                              "ca.pem and a client certificate as cert.pem and key.pem (PEM)");
        SSL_CTX_free(ctx);
        return -1;
    }
    SSL_CTX_set_verify(ctx, t.verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    h->ssl = SSL_new(ctx);
    SSL_CTX_free(ctx); /* the session holds its own reference */
    if (!h->ssl)
        goto fail;
    /* An address is checked against the certificate's IP names, a name against its DNS names
     * (and sent as SNI). */
    struct in6_addr a6;
    bool numeric = inet_pton(AF_INET, host, &a6) == 1 || inet_pton(AF_INET6, host, &a6) == 1;
    if (numeric && t.verify)
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(h->ssl), host);
    else if (!numeric) {
        SSL_set_tlsext_host_name(h->ssl, host);
        if (t.verify)
            SSL_set1_host(h->ssl, host);
    }
    h->tls_in = BIO_new(BIO_s_mem());
    h->tls_out = BIO_new(BIO_s_mem());
    /* Nothing buffered yet is "try again", not the end of the stream. */
    BIO_set_mem_eof_return(h->tls_in, -1);
    SSL_set_bio(h->ssl, h->tls_in, h->tls_out);
    SSL_set_connect_state(h->ssl);
    return 0;
fail:
    cc_error_set(reterr, CC_ERR_IO, "cannot set up TLS for %s: %s", t.host,
                 ERR_reason_error_string(ERR_peek_last_error()));
    return -1;
}

static struct engine_hijack *hijack_start(struct engine_client *c, const char *path, json_t *body,
                                          const struct engine_hijack_options *opts,
                                          struct cc_error *reterr)
{
    uv_loop_t *loop = engine_client_loop(c);
    const char *unix_path = engine_client_unix_path(c);
    const char *base = engine_client_base_url(c);
    struct sockaddr_storage ss;
    char host[256] = "";
    if (!unix_path && tcp_addr(url_host_port(base), &ss, host, sizeof(host)) < 0) {
        cc_error_set(reterr, CC_ERR_UNSUPPORTED,
                     "cannot attach through %s: give the engine's "
                     "address as an IP address",
                     base);
        return NULL;
    }
    struct engine_hijack *h = xcalloc(1, sizeof(*h));
    if (!unix_path && engine_client_tls(c) && tls_open(h, c, host, reterr) < 0) {
        SSL_free(h->ssl);
        free(h->tls_host);
        free(h->tls_dir);
        free(h);
        return NULL;
    }
    h->o = *opts;
    buf_init(&h->in);
    engine_mux_init(&h->mux, on_mux_output, h);
    const char *version = engine_client_api_version(c);
    char *vpath = version ? xasprintf("/v%s%s", version, path) : xstrdup(path);
    char *json = body ? json_dumps(body, JSON_COMPACT) : xstrdup("");
    const char *host_hdr = unix_path ? "localhost" : url_host_port(base);
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
    if (hj_send(h, buf, len, on_input_written) < 0)
        return -1;
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
