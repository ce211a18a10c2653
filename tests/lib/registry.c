/* The test registry: spawn, readiness probe over a raw TCP request, stop and clean up. */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "tests/lib/registry.h"

#define REGISTRY_BIN   "/usr/bin/docker-registry"
#define PROBE_EVERY_MS 100
#define PROBE_FOR_MS   20000

static void on_closed_free(uv_handle_t *h)
{
    free(h);
}

int tl_free_port(uv_loop_t *loop)
{
    uv_tcp_t *t = xmalloc(sizeof(*t));
    struct sockaddr_in sa;
    struct sockaddr_storage got;
    int len = sizeof(got);
    assert_int_equal(uv_tcp_init(loop, t), 0);
    assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &sa), 0);
    assert_int_equal(uv_tcp_bind(t, (const struct sockaddr *)&sa, 0), 0);
    assert_int_equal(uv_tcp_getsockname(t, (struct sockaddr *)&got, &len), 0);
    int port = ntohs(((struct sockaddr_in *)&got)->sin_port);
    uv_close((uv_handle_t *)t, on_closed_free);
    uv_run(loop, UV_RUN_NOWAIT);
    return port;
}

/* One probe: connect, send GET /v2/, read the status line. */
struct probe {
    uv_tcp_t tcp;
    uv_connect_t conn;
    uv_write_t wr;
    struct buf in;
    int *result; /* 1: answered 200 (or 401 when auth is on), -1: failed */
    bool auth;
};

static void probe_closed(uv_handle_t *h)
{
    struct probe *p = h->data;
    buf_release(&p->in);
    free(p);
}

static void probe_end(struct probe *p, int result)
{
    if (*p->result == 0)
        *p->result = result;
    if (!uv_is_closing((uv_handle_t *)&p->tcp))
        uv_close((uv_handle_t *)&p->tcp, probe_closed);
}

static void probe_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)h;
    b->base = xmalloc(suggested);
    b->len = suggested;
}

static void probe_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct probe *p = s->data;
    if (n > 0)
        buf_add(&p->in, b->base, (size_t)n);
    free(b->base);
    if (strstr(buf_str(&p->in), "\r\n"))
        probe_end(p, strncmp(buf_str(&p->in), "HTTP/1.1 200", 12) == 0 ||
                             (p->auth && strncmp(buf_str(&p->in), "HTTP/1.1 401", 12) == 0)
                         ? 1
                         : -1);
    else if (n < 0)
        probe_end(p, -1);
}

static void probe_written(uv_write_t *w, int status)
{
    struct probe *p = w->data;
    if (status < 0)
        probe_end(p, -1);
}

static void probe_connected(uv_connect_t *c, int status)
{
    struct probe *p = c->data;
    if (status < 0) {
        probe_end(p, -1);
        return;
    }
    static char req[] = "GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    uv_buf_t b = uv_buf_init(req, sizeof(req) - 1);
    p->wr.data = p;
    uv_read_start((uv_stream_t *)&p->tcp, probe_alloc, probe_read);
    uv_write(&p->wr, (uv_stream_t *)&p->tcp, &b, 1, probe_written);
}

static void probe_start(uv_loop_t *loop, int port, bool auth, int *result)
{
    struct probe *p = xcalloc(1, sizeof(*p));
    p->auth = auth;
    struct sockaddr_in sa;
    buf_init(&p->in);
    p->result = result;
    uv_tcp_init(loop, &p->tcp);
    p->tcp.data = p;
    p->conn.data = p;
    uv_ip4_addr("127.0.0.1", port, &sa);
    uv_tcp_connect(&p->conn, &p->tcp, (const struct sockaddr *)&sa, probe_connected);
}

static void on_registry_exit(uv_process_t *proc, int64_t status, int sig)
{
    (void)status;
    (void)sig;
    struct tl_registry *reg = proc->data;
    reg->exited = true;
    uv_close((uv_handle_t *)proc, NULL);
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
}

static void start(struct tl_registry *reg, const char *htpasswd)
{
    memset(reg, 0, sizeof(*reg));
    if (access(REGISTRY_BIN, X_OK) != 0)
        fail_msg("%s missing: apt-get install docker-registry", REGISTRY_BIN);
    assert_int_equal(uv_loop_init(&reg->loop), 0);
    snprintf(reg->dir, sizeof(reg->dir), "/tmp/ccit-registry-XXXXXX");
    assert_non_null(mkdtemp(reg->dir));
    reg->port = tl_free_port(&reg->loop);
    snprintf(reg->addr, sizeof(reg->addr), "127.0.0.1:%d", reg->port);

    char *config = xasprintf("%s/config.yml", reg->dir);
    FILE *f = fopen(config, "w");
    assert_non_null(f);
    fprintf(f,
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
            "storage:\n  filesystem:\n    rootdirectory: %s/data\n  delete:\n    enabled: true\n"
            "http:\n  addr: %s\n",
            reg->dir, reg->addr);
    if (htpasswd) {
        fprintf(f, "auth:\n  htpasswd:\n    realm: ccompose-test\n    path: %s/htpasswd\n",
                reg->dir);
        char *path = xasprintf("%s/htpasswd", reg->dir);
        FILE *h = fopen(path, "w");
        assert_non_null(h);
        fprintf(h, "%s\n", htpasswd);
        fclose(h);
        free(path);
    }
    fclose(f);

    char *args[] = {REGISTRY_BIN, "serve", config, NULL};
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE}, {.flags = UV_IGNORE}, {.flags = UV_IGNORE}};
    uv_process_options_t opts = {.file = REGISTRY_BIN,
                                 .args = args,
                                 .exit_cb = on_registry_exit,
                                 .stdio_count = 3,
                                 .stdio = stdio};
    reg->proc.data = reg;
    int rc = uv_spawn(&reg->loop, &reg->proc, &opts);
    free(config);
    if (rc != 0)
        fail_msg("cannot start %s: %s", REGISTRY_BIN, uv_strerror(rc));

    /* Probe every PROBE_EVERY_MS until it answers, it dies, or PROBE_FOR_MS pass. */
    uv_timer_t tick;
    uv_timer_init(&reg->loop, &tick);
    uint64_t deadline = uv_now(&reg->loop) + PROBE_FOR_MS;
    int result = 0;
    while (!reg->exited && uv_now(&reg->loop) < deadline) {
        result = 0;
        probe_start(&reg->loop, reg->port, htpasswd != NULL, &result);
        while (result == 0)
            uv_run(&reg->loop, UV_RUN_ONCE);
        if (result == 1)
            break;
        uv_timer_start(&tick, on_tick, PROBE_EVERY_MS, 0);
        uv_run(&reg->loop, UV_RUN_ONCE);
    }
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(&reg->loop, UV_RUN_NOWAIT);
    if (result != 1)
        fail_msg("the registry on %s did not come up%s", reg->addr,
                 reg->exited ? " (it exited)" : "");
}

void tl_registry_start(struct tl_registry *reg)
{
    start(reg, NULL);
}

void tl_registry_start_auth(struct tl_registry *reg, const char *htpasswd)
{
    start(reg, htpasswd);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void tl_registry_stop(struct tl_registry *reg)
{
    if (!reg->exited && reg->proc.pid > 0)
        uv_process_kill(&reg->proc, SIGTERM);
    while (!reg->exited && reg->proc.pid > 0)
        uv_run(&reg->loop, UV_RUN_ONCE);
    uv_run(&reg->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&reg->loop), 0);
    if (reg->dir[0])
        nftw(reg->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
