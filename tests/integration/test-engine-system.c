/* The engine client against the real engine: negotiation, system calls, errors, many requests in
 * flight, cancellation, the event stream. A small responder on a unix socket in the same loop
 * stands in for engines this machine does not have (too old, newer than us, Podman) — only the
 * ping's headers differ, which is all negotiation reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/engine-test.h"

static void test_ping_negotiates(void **state)
{
    (void)state;
    struct tl_env env;
    struct tl_result r;
    tl_env_init(&env);
    tl_result_init(&r);
    assert_null(engine_client_api_version(env.c));
    TL_RUN(env, r, engine_ping(env.c, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    assert_string_equal(json_string_value(json_object_get(r.json, "Engine")),
                        tl_engine_is_podman() ? "podman" : "docker");
    const char *engine_api = json_string_value(json_object_get(r.json, "ApiVersion"));
    assert_non_null(engine_api);
    assert_true(engine_version_compare(engine_api, ENGINE_API_MIN) >= 0);
    const char *used = engine_client_api_version(env.c);
    assert_non_null(used);
    assert_true(engine_version_compare(used, engine_api) <= 0);
    assert_true(engine_version_compare(used, ENGINE_API_MAX) <= 0);
    assert_int_equal(engine_client_kind(env.c),
                     tl_engine_is_podman() ? ENGINE_PODMAN : ENGINE_DOCKER);
    tl_result_release(&r);
    tl_env_release(&env);
}

static void test_version_and_info(void **state)
{
    (void)state;
    struct tl_env env;
    struct tl_result v, i;
    tl_env_init(&env);
    tl_result_init(&v);
    tl_result_init(&i);
    TL_RUN(env, v, engine_version(env.c, tl_on_done, &v, &err));
    tl_assert_ok(&v);
    assert_non_null(json_string_value(json_object_get(v.json, "Version")));
    assert_non_null(json_string_value(json_object_get(v.json, "ApiVersion")));
    TL_RUN(env, i, engine_info(env.c, tl_on_done, &i, &err));
    tl_assert_ok(&i);
    assert_true(json_is_integer(json_object_get(i.json, "Containers")));
    assert_non_null(json_string_value(json_object_get(i.json, "ServerVersion")));
    tl_result_release(&v);
    tl_result_release(&i);
    tl_env_release(&env);
}

/* Runs the loop until all n calls are done; with limited (max_in_flight 1), checks on the way
 * that never more than one is in flight. */
static void wait_all(struct tl_env *env, struct tl_result *r, int n, struct engine_client *limited)
{
    for (int done = 0; done < n;) {
        uv_run(&env->loop, UV_RUN_ONCE);
        done = 0;
        for (int k = 0; k < n; k++)
            done += r[k].done;
        if (limited)
            assert_true(engine_client_in_flight(limited, NULL) <= 1);
    }
}

/* Requests made before negotiation wait for it, then all go out at once over the loop. */
static void test_many_in_flight(void **state)
{
    TL_SKIP_ON_PODMAN("Podman's service answers a few hundred concurrent calls too slowly for this "
                      "test's time limit");
    (void)state;
    enum { N = 64 };
    struct tl_env env;
    struct tl_result r[N];
    tl_env_init(&env);
    for (int k = 0; k < N; k++) {
        struct cc_error err = CC_ERROR_INIT;
        tl_result_init(&r[k]);
        struct engine_request *req =
            k % 2 ? engine_version(env.c, tl_on_done, &r[k], &err)
                  : engine_container_list(env.c, true, NULL, tl_on_done, &r[k], &err);
        assert_non_null(req);
    }
    wait_all(&env, r, N, NULL);
    for (int k = 0; k < N; k++) {
        tl_assert_ok(&r[k]);
        assert_true(k % 2 ? json_is_object(r[k].json) : json_is_array(r[k].json));
        tl_result_release(&r[k]);
    }
    tl_env_release(&env);
}

/* max_in_flight: calls over the limit wait, and go in the order they were made; a stream (the
 * event subscription) is not counted. Three stops of containers that ignore SIGTERM take their
 * full second each, so with a limit of one they take three seconds, one after the other. */
static struct buf limit_order = BUF_INIT; /* the calls' indexes, in the order they ended */

static void on_limited_done(json_t *result, const struct cc_error *err, void *data)
{
    struct tl_result *r = data;
    tl_on_done(result, err, data);
    buf_printf(&limit_order, "%d ", r->items);
}

static void test_in_flight_limit(void **state)
{
    (void)state;
    enum { N = 6 };
    struct tl_env env;
    tl_env_init(&env);
    char *ids[3];
    json_t *body = tl_sh_body("trap '' TERM; while :; do sleep 1; done", NULL);
    for (int k = 0; k < 3; k++)
        ids[k] = tl_container_run(&env, "limit", body);
    json_decref(body);
    struct engine_client *c = NULL;
    struct engine_options o = {.max_in_flight = 1};
    struct cc_error err = CC_ERROR_INIT;
    assert_int_equal(engine_client_new(&env.loop, &o, &c, &err), 0);
    struct tl_result events, r[N];
    tl_result_init(&events);
    struct engine_request *ev =
        engine_events(c, NULL, NULL, NULL, tl_on_item, tl_on_done, &events, &err);
    assert_non_null(ev);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int k = 0; k < N; k++) {
        tl_result_init(&r[k]);
        r[k].items = k; /* its index, for on_limited_done */
        struct engine_request *req =
            k % 2 ? engine_version(c, on_limited_done, &r[k], &err)
                  : engine_container_stop(c, ids[k / 2], 1, on_limited_done, &r[k], &err);
        assert_non_null(req);
    }
    while (!engine_client_api_version(c))
        uv_run(&env.loop, UV_RUN_ONCE);
    int held = -1;
    assert_int_equal(engine_client_in_flight(c, &held), 1);
    assert_int_equal(held, N - 1);
    wait_all(&env, r, N, c);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(secs >= 2.9);
    assert_string_equal(buf_str(&limit_order), "0 1 2 3 4 5 ");
    buf_release(&limit_order);
    for (int k = 0; k < N; k++) {
        tl_assert_ok(&r[k]);
        tl_result_release(&r[k]);
    }
    assert_false(events.done);
    engine_request_cancel(ev);
    while (!events.done)
        uv_run(&env.loop, UV_RUN_ONCE);
    tl_result_release(&events);
    engine_client_free(c);
    for (int k = 0; k < 3; k++)
        free(ids[k]);
    cc_error_release(&err);
    tl_env_release(&env);
}

static void test_not_found_carries_engine_answer(void **state)
{
    (void)state;
    struct tl_env env;
    struct tl_result r;
    tl_env_init(&env);
    tl_result_init(&r);
    char *name = tl_unique("missing");
    TL_RUN(env, r, engine_container_inspect(env.c, name, tl_on_done, &r, &err));
    tl_assert_fails(&r, CC_ERR_NOT_FOUND);
    assert_int_equal(r.err.http_status, 404);
    assert_non_null(r.err.engine_message);
    assert_non_null(strstr(r.err.engine_message, name));
    free(name);
    tl_result_release(&r);
    tl_env_release(&env);
}

static void test_unreachable(void **state)
{
    (void)state;
    uv_loop_t loop;
    struct engine_client *c;
    struct cc_error err = CC_ERROR_INIT;
    struct engine_options opts = {.host = "unix:///nonexistent/ccompose-test.sock"};
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(engine_client_new(&loop, &opts, &c, &err), 0);
    struct tl_result a, b;
    tl_result_init(&a);
    tl_result_init(&b);
    assert_non_null(engine_version(c, tl_on_done, &a, &err));
    assert_non_null(engine_info(c, tl_on_done, &b, &err));
    while (!a.done || !b.done)
        uv_run(&loop, UV_RUN_ONCE);
    tl_assert_fails(&a, CC_ERR_UNREACHABLE);
    tl_assert_fails(&b, CC_ERR_UNREACHABLE);
    assert_string_equal(a.err.message, "cannot reach the engine at "
                                       "unix:///nonexistent/ccompose-test.sock: no such socket");
    assert_non_null(strstr(a.err.hint, "DOCKER_HOST"));
    tl_result_release(&a);
    tl_result_release(&b);
    engine_client_free(c);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_bad_host(void **state)
{
    (void)state;
    uv_loop_t loop;
    struct engine_client *c = NULL;
    struct cc_error err = CC_ERROR_INIT;
    struct engine_options opts = {.host = "ftp://example"};
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(engine_client_new(&loop, &opts, &c, &err), -1);
    assert_null(c);
    assert_int_equal(err.kind, CC_ERR_USAGE);
    assert_string_equal(err.message, "cannot use engine address 'ftp://example'");
    cc_error_release(&err);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- Events and cancellation -------------------------------------------------------------- */

struct events_probe {
    struct tl_result r;
    char *container_name;
    bool saw_create;
    struct engine_request *stream;
};

static void on_probe_event(json_t *ev, void *data)
{
    struct events_probe *p = data;
    const char *action = json_string_value(json_object_get(ev, "Action"));
    const char *name = json_string_value(
        json_object_get(json_object_get(json_object_get(ev, "Actor"), "Attributes"), "name"));
    if (action && name && !strcmp(action, "create") && !strcmp(name, p->container_name)) {
        p->saw_create = true;
        engine_request_cancel(p->stream); /* from inside a stream callback */
    }
}

/* The event stream delivers an event for a container we make, and cancelling it from its own
 * callback ends it with CC_ERR_CANCELLED. */
static void test_events_stream_and_cancel(void **state)
{
    (void)state;
    struct tl_env env;
    struct events_probe p = {0};
    tl_env_init(&env);
    tl_result_init(&p.r);
    p.container_name = tl_unique("events");
    char *label = xasprintf("ccompose.test=%s", p.container_name);
    json_t *filters = json_pack("{s:[s], s:[s]}", "type", "container", "label", label);
    struct cc_error e = CC_ERROR_INIT;
    p.stream = engine_events(env.c, filters, NULL, NULL, on_probe_event, tl_on_done, &p.r, &e);
    assert_non_null(p.stream);

    /* Make the container once the subscription is surely in place: after a round trip. */
    struct tl_result ping;
    tl_result_init(&ping);
    TL_RUN(env, ping, engine_ping(env.c, tl_on_done, &ping, &err));
    struct tl_result created;
    tl_result_init(&created);
    json_t *body = json_pack("{s:s, s:[s], s:{s:s}}", "Image", TEST_IMAGE, "Cmd", "true", "Labels",
                             "ccompose.test", p.container_name);
    TL_RUN(env, created,
           engine_container_create(env.c, p.container_name, body, tl_on_done, &created, &err));
    tl_assert_ok(&created);
    tl_cleanup_container(p.container_name);
    while (!p.r.done)
        uv_run(&env.loop, UV_RUN_ONCE);
    assert_true(p.saw_create);
    tl_assert_fails(&p.r, CC_ERR_CANCELLED);

    json_decref(body);
    json_decref(filters);
    free(label);
    tl_result_release(&ping);
    tl_result_release(&created);
    tl_result_release(&p.r);
    tl_env_release(&env);
    free(p.container_name);
}

/* Freeing the client ends a stream still open: its callback runs once, cancelled, and the loop
 * closes cleanly afterwards. */
static void test_free_cancels_stream(void **state)
{
    (void)state;
    struct tl_env env;
    struct tl_result r, ping;
    tl_env_init(&env);
    tl_result_init(&r);
    tl_result_init(&ping);
    struct cc_error e = CC_ERROR_INIT;
    assert_non_null(engine_events(env.c, NULL, NULL, NULL, tl_on_item, tl_on_done, &r, &e));
    TL_RUN(env, ping, engine_ping(env.c, tl_on_done, &ping, &err));
    assert_false(r.done);
    tl_env_release(&env); /* frees the client and runs the loop dry */
    tl_assert_fails(&r, CC_ERR_CANCELLED);
    tl_result_release(&r);
    tl_result_release(&ping);
}

/* A bounded replay (since and until both given) returns the past events of a container made
 * before it, in order, and then the stream ends by itself. */
struct replay {
    struct tl_result r;
    struct buf actions; /* "create start die " */
};

static void on_replay_event(json_t *ev, void *data)
{
    struct replay *rp = data;
    const char *action = json_string_value(json_object_get(ev, "Action"));
    if (action && (!strcmp(action, "create") || !strcmp(action, "start") || !strcmp(action, "die")))
        buf_printf(&rp->actions, "%s ", action);
}

static void test_events_since_until_replay(void **state)
{
    (void)state;
    struct tl_env env;
    struct replay rp;
    tl_env_init(&env);
    tl_result_init(&rp.r);
    buf_init(&rp.actions);
    char *label = tl_unique("replay");
    json_t *body = tl_sh_body("exit 0", label);
    char *since = xasprintf("%lld", (long long)time(NULL) - 1);
    char *id = tl_container_run(&env, "replay", body);
    assert_int_equal(tl_container_wait(&env, id, NULL), 0);
    /* until a second on: the engine's clock may be a little behind ours. */
    char *until = xasprintf("%lld", (long long)time(NULL) + 1);
    char *filter = xasprintf("ccompose.test=%s", label);
    json_t *filters = json_pack("{s:[s], s:[s]}", "type", "container", "label", filter);
    TL_RUN(env, rp.r,
           engine_events(env.c, filters, since, until, on_replay_event, tl_on_done, &rp, &err));
    tl_assert_ok(&rp.r);
    assert_string_equal(buf_str(&rp.actions), "create start die ");

    json_decref(filters);
    json_decref(body);
    free(filter);
    free(until);
    free(since);
    free(id);
    free(label);
    buf_release(&rp.actions);
    tl_result_release(&rp.r);
    tl_env_release(&env);
}

/* ---- A responder for engines we do not have -------------------------------------------------- */

struct responder {
    uv_pipe_t server;
    char path[108];
    const char *ping_headers; /* extra header lines for /_ping answers */
    struct buf requests;      /* request lines seen, one per line */
};

struct responder_conn {
    uv_pipe_t pipe;
    struct responder *rs;
    struct buf in;
};

static void on_conn_closed(uv_handle_t *h)
{
    struct responder_conn *conn = h->data;
    buf_release(&conn->in);
    free(conn);
}

static void on_written(uv_write_t *w, int status)
{
    (void)status;
    free(w->data);
    free(w);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)h;
    b->base = xmalloc(suggested);
    b->len = suggested;
}

/* Answers each complete request (no bodies are sent to it): the ping with its headers, anything
 * else with {"Version": "test"}. */
static void on_conn_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct responder_conn *conn = s->data;
    if (n < 0) {
        free(b->base);
        uv_close((uv_handle_t *)s, on_conn_closed);
        return;
    }
    buf_add(&conn->in, b->base, (size_t)n);
    free(b->base);
    char *end;
    while ((end = strstr(buf_str(&conn->in), "\r\n\r\n"))) {
        size_t line_len = strcspn(conn->in.data, "\r");
        buf_add(&conn->rs->requests, conn->in.data, line_len);
        buf_addc(&conn->rs->requests, '\n');
        bool ping = strncmp(conn->in.data, "GET /_ping ", 11) == 0;
        buf_consume(&conn->in, (size_t)(end + 4 - conn->in.data));
        const char *body = ping ? "OK" : "{\"Version\":\"test\"}";
        char *resp = xasprintf("HTTP/1.1 200 OK\r\n%sContent-Type: %s\r\nContent-Length: "
                               "%zu\r\n\r\n%s",
                               ping ? conn->rs->ping_headers : "",
                               ping ? "text/plain" : "application/json", strlen(body), body);
        uv_write_t *w = xmalloc(sizeof(*w));
        w->data = resp;
        uv_buf_t out = uv_buf_init(resp, (unsigned)strlen(resp));
        uv_write(w, s, &out, 1, on_written);
    }
}

static void on_connection(uv_stream_t *server, int status)
{
    assert_int_equal(status, 0);
    struct responder *rs = server->data;
    struct responder_conn *conn = xcalloc(1, sizeof(*conn));
    conn->rs = rs;
    buf_init(&conn->in);
    uv_pipe_init(server->loop, &conn->pipe, 0);
    conn->pipe.data = conn;
    assert_int_equal(uv_accept(server, (uv_stream_t *)&conn->pipe), 0);
    uv_read_start((uv_stream_t *)&conn->pipe, alloc_cb, on_conn_read);
}

static void responder_start(struct responder *rs, uv_loop_t *loop, const char *ping_headers)
{
    memset(rs, 0, sizeof(*rs));
    snprintf(rs->path, sizeof(rs->path), "/tmp/ccit-%ld-responder.sock", (long)getpid());
    unlink(rs->path);
    rs->ping_headers = ping_headers;
    buf_init(&rs->requests);
    assert_int_equal(uv_pipe_init(loop, &rs->server, 0), 0);
    rs->server.data = rs;
    assert_int_equal(uv_pipe_bind(&rs->server, rs->path), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&rs->server, 16, on_connection), 0);
}

static void responder_stop(struct responder *rs)
{
    uv_close((uv_handle_t *)&rs->server, NULL);
    unlink(rs->path);
}

/* Runs one `version` call against a responder whose ping sends ping_headers. */
static void against_responder(const char *ping_headers, struct tl_result *r, struct buf *requests,
                              enum engine_kind *kind, char *used, size_t used_len)
{
    uv_loop_t loop;
    struct responder rs;
    struct engine_client *c;
    struct cc_error err = CC_ERROR_INIT;
    assert_int_equal(uv_loop_init(&loop), 0);
    responder_start(&rs, &loop, ping_headers);
    char *host = xasprintf("unix://%s", rs.path);
    struct engine_options opts = {.host = host};
    assert_int_equal(engine_client_new(&loop, &opts, &c, &err), 0);
    assert_non_null(engine_version(c, tl_on_done, r, &err));
    while (!r->done)
        uv_run(&loop, UV_RUN_ONCE);
    *kind = engine_client_kind(c);
    const char *v = engine_client_api_version(c);
    snprintf(used, used_len, "%s", v ? v : "");
    engine_client_free(c);
    responder_stop(&rs);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    buf_add(requests, buf_str(&rs.requests), rs.requests.len);
    buf_release(&rs.requests);
    free(host);
}

static void test_engine_too_old(void **state)
{
    (void)state;
    struct tl_result r;
    struct buf reqs = BUF_INIT;
    enum engine_kind kind;
    char used[16];
    tl_result_init(&r);
    against_responder("API-Version: 1.40\r\n", &r, &reqs, &kind, used, sizeof(used));
    tl_assert_fails(&r, CC_ERR_UNSUPPORTED);
    assert_int_equal(strncmp(r.err.message, "the engine at ", 14), 0);
    assert_non_null(strstr(r.err.message, " speaks API 1.40; ccompose needs 1.41 or newer"));
    assert_string_equal(used, "");
    /* Only the ping went out: nothing is sent to an engine we cannot speak to. */
    assert_string_equal(buf_str(&reqs), "GET /_ping HTTP/1.1\n");
    tl_result_release(&r);
    buf_release(&reqs);
}

static void test_newer_engine_is_capped(void **state)
{
    (void)state;
    struct tl_result r;
    struct buf reqs = BUF_INIT;
    enum engine_kind kind;
    char used[16];
    tl_result_init(&r);
    against_responder("API-Version: 1.99\r\n", &r, &reqs, &kind, used, sizeof(used));
    tl_assert_ok(&r);
    assert_string_equal(used, ENGINE_API_MAX);
    assert_string_equal(buf_str(&reqs),
                        "GET /_ping HTTP/1.1\nGET /v" ENGINE_API_MAX "/version HTTP/1.1\n");
    assert_int_equal(kind, ENGINE_DOCKER);
    tl_result_release(&r);
    buf_release(&reqs);
}

static void test_podman_is_recognised(void **state)
{
    (void)state;
    struct tl_result r;
    struct buf reqs = BUF_INIT;
    enum engine_kind kind;
    char used[16];
    tl_result_init(&r);
    against_responder("API-Version: 1.41\r\nLibpod-API-Version: 4.3.1\r\n", &r, &reqs, &kind, used,
                      sizeof(used));
    tl_assert_ok(&r);
    assert_int_equal(kind, ENGINE_PODMAN);
    assert_string_equal(used, "1.41");
    tl_result_release(&r);
    buf_release(&reqs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ping_negotiates),
        cmocka_unit_test(test_version_and_info),
        cmocka_unit_test(test_many_in_flight),
        cmocka_unit_test(test_in_flight_limit),
        cmocka_unit_test(test_not_found_carries_engine_answer),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_bad_host),
        cmocka_unit_test(test_events_stream_and_cancel),
        cmocka_unit_test(test_free_cancels_stream),
        cmocka_unit_test(test_events_since_until_replay),
        cmocka_unit_test(test_engine_too_old),
        cmocka_unit_test(test_newer_engine_is_capped),
        cmocka_unit_test(test_podman_is_recognised),
    };
    return cmocka_run_group_tests(tests, NULL, tl_group_teardown);
}
