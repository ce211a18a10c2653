/* The fault-injecting proxy (fault-proxy.h): a libuv loop in its own thread, a listening pipe, and
 * per accepted connection a pipe to the engine. Client bytes are read request by request so that a
 * rule can hold them back; the engine's bytes pass through, counted when the rule cuts. Rules and
 * commands cross from the test's thread under one mutex; uv_async wakes the loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <uv.h>

#include "common/buf.h"
#include "common/util.h"
#include "tests/lib/fault-proxy.h"

#define FP_MAX_RULES 8

struct fp_rule {
    char *match;
    enum fp_action action;
    long arg;
    int times; /* left; -1: unbounded */
    int matched;
};

enum conn_state { CONN_HEADER = 0, CONN_BODY, CONN_HELD, CONN_RAW };

struct conn {
    struct fp_proxy *p;
    struct conn *next;
    uv_pipe_t client, upstream;
    uv_timer_t timer; /* FP_DELAY */
    int open_handles;
    bool closing;
    enum conn_state state;
    struct buf hdr;     /* the request header being read */
    struct buf held;    /* client bytes held back (FP_DELAY, FP_HANG) */
    struct buf pending; /* client bytes read before the engine connection was up */
    bool upstream_up;
    long long body_left;
    char *line;        /* the current request line */
    long cut_after;    /* -1: no cut; else answer bytes still let through */
    bool replay;       /* the next request is a delayed one, passed on now */
    long slow_ms;      /* FP_SLOW: the answer is held this long once it begins; 0: not */
    bool slowing;      /* the answer is being held (its timer runs) */
    struct buf answer; /* the answer bytes held meanwhile */
};

struct fp_proxy {
    uv_thread_t thread;
    uv_loop_t loop;
    uv_pipe_t server;
    uv_async_t wake;
    uv_mutex_t mu;
    uv_sem_t done; /* a command carried out */
    char *path, *host, *upstream;
    struct fp_rule rules[FP_MAX_RULES];
    int n_rules;
    struct conn *conns;
    /* The command for the loop thread, under mu. */
    char *cut_match;
    int cut_count;
    bool stopping;
};

static void conn_on_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    if (--c->open_handles > 0)
        return;
    struct fp_proxy *p = c->p;
    for (struct conn **at = &p->conns; *at; at = &(*at)->next)
        if (*at == c) {
            *at = c->next;
            break;
        }
    buf_release(&c->hdr);
    buf_release(&c->held);
    buf_release(&c->pending);
    buf_release(&c->answer);
    free(c->line);
    free(c);
}

static void conn_close(struct conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    uv_close((uv_handle_t *)&c->client, conn_on_closed);
    uv_close((uv_handle_t *)&c->upstream, conn_on_closed);
    uv_close((uv_handle_t *)&c->timer, conn_on_closed);
}

static void on_written(uv_write_t *w, int status)
{
    (void)status;
    free(w->data);
    free(w);
}

static void send_to(uv_pipe_t *to, const char *data, size_t len)
{
    if (!len || uv_is_closing((uv_handle_t *)to))
        return;
    uv_write_t *w = xcalloc(1, sizeof(*w));
    char *copy = xmalloc(len);
    memcpy(copy, data, len);
    w->data = copy;
    uv_buf_t b = uv_buf_init(copy, (unsigned)len);
    if (uv_write(w, (uv_stream_t *)to, &b, 1, on_written) < 0) {
        free(copy);
        free(w);
    }
}

static void to_upstream(struct conn *c, const char *data, size_t len)
{
    if (c->upstream_up)
        send_to(&c->upstream, data, len);
    else
        buf_add(&c->pending, data, len);
}

static void on_alloc(uv_handle_t *h, size_t size, uv_buf_t *b)
{
    (void)h;
    b->base = xmalloc(size);
    b->len = size;
}

/* The rule for a request line, counted as matched; NULL when none applies. Under mu. */
static struct fp_rule *rule_for(struct fp_proxy *p, const char *line)
{
    for (int i = 0; i < p->n_rules; i++) {
        struct fp_rule *r = &p->rules[i];
        if (r->times != 0 && strstr(line, r->match)) {
            r->matched++;
            if (r->times > 0)
                r->times--;
            return r;
        }
    }
    return NULL;
}

static void client_bytes(struct conn *c, const char *data, size_t len);

/* The held bytes go through the reader again, the delayed request passed on without a rule. */
static void on_delay_over(uv_timer_t *t)
{
    struct conn *c = t->data;
    if (c->closing)
        return;
    struct buf held = c->held;
    buf_init(&c->held);
    c->state = CONN_HEADER;
    c->replay = true;
    client_bytes(c, buf_str(&held), held.len);
    buf_release(&held);
}

/* A whole request header has been read: decide what happens to it. */
static void request_seen(struct conn *c)
{
    const char *h = buf_str(&c->hdr);
    const char *eol = strstr(h, "\r\n");
    free(c->line);
    c->line = xstrndup(h, eol ? (size_t)(eol - h) : strlen(h));
    c->body_left = 0;
    bool chunked = false;
    for (const char *at = eol; at && *at; at = strstr(at + 2, "\r\n")) {
        if (!strncasecmp(at + 2, "Content-Length:", 15))
            c->body_left = atoll(at + 17);
        if (!strncasecmp(at + 2, "Transfer-Encoding:", 18) && strstr(at, "chunked"))
            chunked = true;
    }
    uv_mutex_lock(&c->p->mu);
    struct fp_rule *r = c->replay ? NULL : rule_for(c->p, c->line);
    c->replay = false;
    enum fp_action action = r ? r->action : FP_CUT;
    long arg = r ? r->arg : -1;
    uv_mutex_unlock(&c->p->mu);
    c->state = chunked ? CONN_RAW : c->body_left > 0 ? CONN_BODY : CONN_HEADER;
    if (r && (action == FP_DELAY || action == FP_HANG)) {
        buf_add(&c->held, c->hdr.data, c->hdr.len);
        c->state = CONN_HELD;
        if (action == FP_DELAY)
            uv_timer_start(&c->timer, on_delay_over, (uint64_t)arg, 0);
        return;
    }
    to_upstream(c, c->hdr.data, c->hdr.len);
    c->cut_after = r && action == FP_CUT ? arg : -1;
    c->slow_ms = r && action == FP_SLOW ? arg : 0;
}

/* Client bytes: read as requests, so that rules see each request line. */
static void client_bytes(struct conn *c, const char *data, size_t len)
{
    while (len > 0 && !c->closing) {
        switch (c->state) {
        case CONN_HELD:
            buf_add(&c->held, data, len);
            return;
        case CONN_RAW:
            to_upstream(c, data, len);
            return;
        case CONN_BODY: {
            size_t n = (long long)len < c->body_left ? len : (size_t)c->body_left;
            to_upstream(c, data, n);
            c->body_left -= (long long)n;
            data += n;
            len -= n;
            if (c->body_left == 0)
                c->state = CONN_HEADER;
            break;
        }
        case CONN_HEADER: {
            /* One byte at a time up to the blank line: headers are small. */
            buf_addc(&c->hdr, *data++);
            len--;
            if (c->hdr.len >= 4 && !memcmp(c->hdr.data + c->hdr.len - 4, "\r\n\r\n", 4)) {
                request_seen(c);
                c->hdr.len = 0;
            }
            break;
        }
        }
    }
}

static void on_client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct conn *c = s->data;
    if (n > 0)
        client_bytes(c, b->base, (size_t)n);
    else if (n < 0)
        conn_close(c);
    free(b->base);
}

static void on_slow_over(uv_timer_t *t)
{
    struct conn *c = t->data;
    if (c->closing)
        return;
    c->slowing = false;
    send_to(&c->client, buf_str(&c->answer), c->answer.len);
    c->answer.len = 0;
}

static void on_upstream_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct conn *c = s->data;
    if (n > 0 && (c->slow_ms > 0 || c->slowing)) {
        if (!c->slowing) {
            c->slowing = true;
            uv_timer_start(&c->timer, on_slow_over, (uint64_t)c->slow_ms, 0);
            c->slow_ms = 0;
        }
        buf_add(&c->answer, b->base, (size_t)n);
    } else if (n > 0) {
        size_t pass = (size_t)n;
        bool cut = false;
        if (c->cut_after >= 0) {
            if ((long)pass >= c->cut_after) {
                pass = (size_t)c->cut_after;
                cut = true;
            }
            c->cut_after -= (long)pass;
        }
        send_to(&c->client, b->base, pass);
        if (cut)
            conn_close(c);
    } else if (n < 0) {
        conn_close(c);
    }
    free(b->base);
}

static void on_upstream_connected(uv_connect_t *req, int status)
{
    struct conn *c = req->data;
    free(req);
    if (c->closing)
        return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    c->upstream_up = true;
    uv_read_start((uv_stream_t *)&c->upstream, on_alloc, on_upstream_read);
    send_to(&c->upstream, buf_str(&c->pending), c->pending.len);
    c->pending.len = 0;
}

static void on_connection(uv_stream_t *server, int status)
{
    struct fp_proxy *p = server->data;
    if (status < 0)
        return;
    struct conn *c = xcalloc(1, sizeof(*c));
    c->p = p;
    c->cut_after = -1;
    buf_init(&c->hdr);
    buf_init(&c->held);
    buf_init(&c->pending);
    buf_init(&c->answer);
    uv_pipe_init(&p->loop, &c->client, 0);
    uv_pipe_init(&p->loop, &c->upstream, 0);
    uv_timer_init(&p->loop, &c->timer);
    c->client.data = c->upstream.data = c->timer.data = c;
    c->open_handles = 3;
    c->next = p->conns;
    p->conns = c;
    if (uv_accept(server, (uv_stream_t *)&c->client) < 0) {
        conn_close(c);
        return;
    }
    uv_connect_t *req = xcalloc(1, sizeof(*req));
    req->data = c;
    uv_pipe_connect(req, &c->upstream, p->upstream, on_upstream_connected);
    uv_read_start((uv_stream_t *)&c->client, on_alloc, on_client_read);
}

static void close_any(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void on_wake(uv_async_t *a)
{
    struct fp_proxy *p = a->data;
    uv_mutex_lock(&p->mu);
    char *match = p->cut_match;
    bool stopping = p->stopping;
    p->cut_match = NULL;
    uv_mutex_unlock(&p->mu);
    if (match) {
        int n = 0;
        for (struct conn *c = p->conns; c; c = c->next)
            if (!c->closing && c->line && strstr(c->line, match)) {
                conn_close(c);
                n++;
            }
        free(match);
        uv_mutex_lock(&p->mu);
        p->cut_count = n;
        uv_mutex_unlock(&p->mu);
        uv_sem_post(&p->done);
    }
    if (stopping) {
        for (struct conn *c = p->conns; c; c = c->next)
            conn_close(c);
        uv_close((uv_handle_t *)&p->server, NULL);
        uv_close((uv_handle_t *)&p->wake, NULL);
    }
}

static void run_loop(void *arg)
{
    struct fp_proxy *p = arg;
    uv_run(&p->loop, UV_RUN_DEFAULT);
    /* Whatever a close left open. */
    uv_walk(&p->loop, close_any, NULL);
    uv_run(&p->loop, UV_RUN_DEFAULT);
}

struct fp_proxy *fp_start(const char *upstream)
{
    static int seq;
    /* Its clients and the engine close connections at will (a cut is the point): a write to one
     * must fail with EPIPE, not kill the test program. */
    signal(SIGPIPE, SIG_IGN);
    struct fp_proxy *p = xcalloc(1, sizeof(*p));
    p->upstream = xstrdup(upstream);
    p->path = xasprintf("/tmp/ccit-proxy-%d-%d.sock", (int)getpid(), ++seq);
    p->host = xasprintf("unix://%s", p->path);
    unlink(p->path);
    assert_int_equal(uv_loop_init(&p->loop), 0);
    assert_int_equal(uv_mutex_init(&p->mu), 0);
    assert_int_equal(uv_sem_init(&p->done, 0), 0);
    uv_pipe_init(&p->loop, &p->server, 0);
    p->server.data = p;
    if (uv_pipe_bind(&p->server, p->path) < 0 ||
        uv_listen((uv_stream_t *)&p->server, 64, on_connection) < 0)
        fail_msg("the fault proxy cannot listen on %s", p->path);
    uv_async_init(&p->loop, &p->wake, on_wake);
    p->wake.data = p;
    assert_int_equal(uv_thread_create(&p->thread, run_loop, p), 0);
    return p;
}

const char *fp_host(const struct fp_proxy *p)
{
    return p->host;
}

int fp_rule(struct fp_proxy *p, const char *match, enum fp_action action, long arg, int times)
{
    uv_mutex_lock(&p->mu);
    assert_true(p->n_rules < FP_MAX_RULES);
    int n = p->n_rules++;
    p->rules[n] = (struct fp_rule){xstrdup(match), action, arg, times, 0};
    uv_mutex_unlock(&p->mu);
    return n;
}

int fp_matched(struct fp_proxy *p, int rule)
{
    uv_mutex_lock(&p->mu);
    int n = rule >= 0 && rule < FP_MAX_RULES ? p->rules[rule].matched : 0;
    uv_mutex_unlock(&p->mu);
    return n;
}

void fp_clear(struct fp_proxy *p)
{
    uv_mutex_lock(&p->mu);
    for (int i = 0; i < p->n_rules; i++) {
        free(p->rules[i].match);
        p->rules[i].match = NULL;
        p->rules[i].times = 0; /* numbers stay valid for fp_matched() */
    }
    uv_mutex_unlock(&p->mu);
}

int fp_cut_now(struct fp_proxy *p, const char *match)
{
    uv_mutex_lock(&p->mu);
    p->cut_match = xstrdup(match);
    uv_mutex_unlock(&p->mu);
    uv_async_send(&p->wake);
    uv_sem_wait(&p->done);
    uv_mutex_lock(&p->mu);
    int n = p->cut_count;
    uv_mutex_unlock(&p->mu);
    return n;
}

void fp_stop(struct fp_proxy *p)
{
    if (!p)
        return;
    uv_mutex_lock(&p->mu);
    p->stopping = true;
    uv_mutex_unlock(&p->mu);
    uv_async_send(&p->wake);
    uv_thread_join(&p->thread);
    assert_int_equal(uv_loop_close(&p->loop), 0);
    uv_mutex_destroy(&p->mu);
    uv_sem_destroy(&p->done);
    for (int i = 0; i < p->n_rules; i++)
        free(p->rules[i].match);
    unlink(p->path);
    free(p->path);
    free(p->host);
    free(p->upstream);
    free(p);
}
