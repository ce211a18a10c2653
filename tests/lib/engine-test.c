/* Integration-test helpers: one loop per test, synchronous waits on async calls, and cleanup. */
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

bool tl_engine_is_podman(void)
{
    const char *e = getenv("CCOMPOSE_TEST_ENGINE");
    return e && !strcmp(e, "podman");
}

double tl_slowdown(void)
{
    const char *v = getenv("CCOMPOSE_TEST_SLOWDOWN");
    char *end;
    double x = v ? strtod(v, &end) : 1;
    if (v && (end == v || *end || x < 1))
        fail_msg("CCOMPOSE_TEST_SLOWDOWN=%s: say a number, 1 or more", v);
    return x;
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
}

void tl_env_init(struct tl_env *env)
{
    struct cc_error err = CC_ERROR_INIT;
    assert_int_equal(uv_loop_init(&env->loop), 0);
    assert_int_equal(uv_timer_init(&env->loop, &env->tick), 0);
    assert_int_equal(uv_timer_start(&env->tick, on_tick, 20, 20), 0);
    uv_unref((uv_handle_t *)&env->tick);
    if (engine_client_new(&env->loop, NULL, &env->c, &err) < 0)
        fail_msg("engine client: %s", err.message);
}

void tl_env_release(struct tl_env *env)
{
    engine_client_free(env->c);
    env->c = NULL;
    uv_timer_stop(&env->tick);
    uv_close((uv_handle_t *)&env->tick, NULL);
    uv_run(&env->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&env->loop), 0);
}

void tl_result_init(struct tl_result *r)
{
    memset(r, 0, sizeof(*r));
    buf_init(&r->out);
    buf_init(&r->err_out);
    for (size_t i = 0; i < CC_ARRAY_LEN(r->by_fd); i++)
        buf_init(&r->by_fd[i]);
}

void tl_result_release(struct tl_result *r)
{
    json_decref(r->json);
    cc_error_release(&r->err);
    buf_release(&r->out);
    buf_release(&r->err_out);
    for (size_t i = 0; i < CC_ARRAY_LEN(r->by_fd); i++)
        buf_release(&r->by_fd[i]);
    tl_result_init(r);
}

void tl_on_done(json_t *result, const struct cc_error *err, void *data)
{
    struct tl_result *r = data;
    assert_false(r->done); /* a callback runs exactly once */
    r->done = true;
    if (err)
        cc_error_copy(&r->err, err);
    else
        r->json = json_incref(result);
}

void tl_on_item(json_t *item, void *data)
{
    struct tl_result *r = data;
    assert_non_null(item);
    r->items++;
}

void tl_on_output(enum engine_stream_fd fd, const char *buf, size_t len, void *data)
{
    struct tl_result *r = data;
    assert_true(len > 0);
    r->items++;
    buf_add(&r->out, buf, len);
    if (fd == ENGINE_STDERR)
        buf_add(&r->err_out, buf, len);
    assert_in_range(fd, ENGINE_STDIN, ENGINE_RAW);
    buf_add(&r->by_fd[fd], buf, len);
}

void tl_wait(struct tl_env *env, struct engine_request *req, struct tl_result *r,
             const struct cc_error *reterr)
{
    if (!req)
        fail_msg("call refused: %s", reterr && reterr->message ? reterr->message : "?");
    /* The engine client's own timeouts end a stuck call; a loop with nothing left to run and no
     * answer means a callback was lost, which would otherwise spin here until the runner's
     * per-binary timeout. */
    while (!r->done)
        if (uv_run(&env->loop, UV_RUN_ONCE) == 0 && !r->done)
            fail_msg("the loop has nothing left to run and the call never finished");
}

void tl_assert_ok(const struct tl_result *r)
{
    assert_true(r->done);
    if (r->err.kind != CC_ERR_NONE)
        fail_msg("expected success, got %s: %s", cc_error_kind_name(r->err.kind),
                 r->err.message ? r->err.message : "");
}

void tl_assert_fails(const struct tl_result *r, enum cc_error_kind kind)
{
    assert_true(r->done);
    if (r->err.kind != kind)
        fail_msg("expected '%s', got '%s': %s", cc_error_kind_name(kind),
                 cc_error_kind_name(r->err.kind), r->err.message ? r->err.message : "");
    assert_null(r->json);
}

char *tl_unique(const char *what)
{
    static int n;
    return xasprintf("ccit-%ld-%d-%s", (long)getpid(), ++n, what);
}

enum tl_kind { TL_CONTAINER, TL_NETWORK, TL_VOLUME, TL_IMAGE };

struct tl_item {
    enum tl_kind kind;
    char *name;
    struct tl_item *next;
};

static struct tl_item *cleanup_list;

static void record(enum tl_kind kind, const char *name)
{
    struct tl_item *it = xcalloc(1, sizeof(*it));
    it->kind = kind;
    it->name = xstrdup(name);
    it->next = cleanup_list;
    cleanup_list = it;
}

void tl_cleanup_container(const char *id)
{
    record(TL_CONTAINER, id);
}

void tl_cleanup_network(const char *id)
{
    record(TL_NETWORK, id);
}

void tl_cleanup_volume(const char *name)
{
    record(TL_VOLUME, name);
}

void tl_cleanup_image(const char *name)
{
    record(TL_IMAGE, name);
}

/* Containers go first (they hold networks, volumes and images), in the reverse order of their
 * making; anything already gone is fine. */
void tl_cleanup_run(void)
{
    static const enum tl_kind order[] = {TL_CONTAINER, TL_NETWORK, TL_VOLUME, TL_IMAGE};
    struct tl_env env;
    tl_env_init(&env);
    for (size_t k = 0; k < CC_ARRAY_LEN(order); k++) {
        for (struct tl_item *it = cleanup_list; it; it = it->next) {
            if (it->kind != order[k])
                continue;
            struct tl_result r;
            tl_result_init(&r);
            struct cc_error err = CC_ERROR_INIT;
            struct engine_request *req = NULL;
            switch (it->kind) {
            case TL_CONTAINER:
                req = engine_container_remove(env.c, it->name, true, true, tl_on_done, &r, &err);
                break;
            case TL_NETWORK:
                req = engine_network_remove(env.c, it->name, tl_on_done, &r, &err);
                break;
            case TL_VOLUME:
                req = engine_volume_remove(env.c, it->name, true, tl_on_done, &r, &err);
                break;
            case TL_IMAGE:
                req = engine_image_remove(env.c, it->name, true, tl_on_done, &r, &err);
                break;
            }
            tl_wait(&env, req, &r, &err);
            if (r.err.kind != CC_ERR_NONE && r.err.kind != CC_ERR_NOT_FOUND)
                fprintf(stderr, "cleanup: could not remove %s: %s\n", it->name, r.err.message);
            tl_result_release(&r);
            cc_error_release(&err);
        }
    }
    tl_env_release(&env);
    while (cleanup_list) {
        struct tl_item *next = cleanup_list->next;
        free(cleanup_list->name);
        free(cleanup_list);
        cleanup_list = next;
    }
}

/* ---- Shortcuts ---------------------------------------------------------------------------- */

json_t *tl_json_at(json_t *v, const char *path)
{
    struct buf key = BUF_INIT;
    while (v && *path) {
        size_t n = strcspn(path, "/");
        buf_reset(&key);
        buf_add(&key, path, n);
        v = json_object_get(v, buf_str(&key));
        path += path[n] ? n + 1 : n;
    }
    buf_release(&key);
    return v;
}

json_t *tl_sh_body(const char *script, const char *label)
{
    json_t *body = json_pack("{s:s, s:[s, s, s], s:{s:s}}", "Image", TEST_IMAGE, "Cmd", "sh", "-c",
                             script, "HostConfig", "NetworkMode", "none");
    if (label)
        json_object_set_new(body, "Labels", json_pack("{s:s}", "ccompose.test", label));
    return body;
}

char *tl_container_new(struct tl_env *env, const char *what, json_t *body, char **ret_name)
{
    struct tl_result r;
    tl_result_init(&r);
    char *name = tl_unique(what);
    TL_RUN(*env, r, engine_container_create(env->c, name, body, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    const char *id = json_string_value(json_object_get(r.json, "Id"));
    assert_non_null(id);
    tl_cleanup_container(id);
    char *ret = xstrdup(id);
    tl_result_release(&r);
    if (ret_name)
        *ret_name = name;
    else
        free(name);
    return ret;
}

void tl_container_start(struct tl_env *env, const char *id)
{
    struct tl_result r;
    tl_result_init(&r);
    TL_RUN(*env, r, engine_container_start(env->c, id, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    tl_result_release(&r);
}

char *tl_container_run(struct tl_env *env, const char *what, json_t *body)
{
    char *id = tl_container_new(env, what, body, NULL);
    tl_container_start(env, id);
    return id;
}

json_t *tl_container_inspect(struct tl_env *env, const char *id)
{
    struct tl_result r;
    tl_result_init(&r);
    TL_RUN(*env, r, engine_container_inspect(env->c, id, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    json_t *ret = json_incref(r.json);
    tl_result_release(&r);
    assert_non_null(ret);
    return ret;
}

long long tl_container_wait(struct tl_env *env, const char *id, const char *condition)
{
    struct tl_result r;
    tl_result_init(&r);
    TL_RUN(*env, r, engine_container_wait(env->c, id, condition, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    json_t *code = json_object_get(r.json, "StatusCode");
    assert_true(json_is_integer(code));
    long long ret = json_integer_value(code);
    tl_result_release(&r);
    return ret;
}

void tl_logs_until(struct tl_env *env, const char *id, const char *needle)
{
    struct tl_result r;
    struct cc_error err = CC_ERROR_INIT;
    struct engine_logs_options opts = {.follow = true};
    tl_result_init(&r);
    struct engine_request *req =
        engine_container_logs(env->c, id, &opts, tl_on_output, tl_on_done, &r, &err);
    if (!req)
        fail_msg("logs refused: %s", err.message);
    while (!r.done && !strstr(buf_str(&r.out), needle))
        uv_run(&env->loop, UV_RUN_ONCE);
    if (!r.done)
        engine_request_cancel(req);
    while (!r.done)
        uv_run(&env->loop, UV_RUN_ONCE);
    if (!strstr(buf_str(&r.out), needle))
        fail_msg("container %.12s ended without saying '%s'; it said: %s", id, needle,
                 buf_str(&r.out));
    tl_result_release(&r);
    cc_error_release(&err);
}

int tl_group_teardown(void **state)
{
    (void)state;
    tl_cleanup_run();
    return 0;
}

char *tl_exec_new(struct tl_env *env, const char *id, const char *script, bool tty)
{
    struct tl_result r;
    tl_result_init(&r);
    json_t *body = json_pack("{s:[s, s, s], s:b, s:b, s:b}", "Cmd", "sh", "-c", script,
                             "AttachStdout", 1, "AttachStderr", 1, "Tty", tty);
    TL_RUN(*env, r, engine_exec_create(env->c, id, body, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    const char *exec_id = json_string_value(json_object_get(r.json, "Id"));
    assert_non_null(exec_id);
    char *ret = xstrdup(exec_id);
    json_decref(body);
    tl_result_release(&r);
    return ret;
}
