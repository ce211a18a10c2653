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

void tl_env_init(struct tl_env *env)
{
    struct cc_error err = CC_ERROR_INIT;
    assert_int_equal(uv_loop_init(&env->loop), 0);
    if (engine_client_new(&env->loop, NULL, &env->c, &err) < 0)
        fail_msg("engine client: %s", err.message);
}

void tl_env_release(struct tl_env *env)
{
    engine_client_free(env->c);
    env->c = NULL;
    uv_run(&env->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&env->loop), 0);
}

void tl_result_init(struct tl_result *r)
{
    memset(r, 0, sizeof(*r));
    buf_init(&r->out);
    buf_init(&r->err_out);
}

void tl_result_release(struct tl_result *r)
{
    json_decref(r->json);
    cc_error_release(&r->err);
    buf_release(&r->out);
    buf_release(&r->err_out);
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
}

void tl_wait(struct tl_env *env, struct engine_request *req, struct tl_result *r,
             const struct cc_error *reterr)
{
    if (!req)
        fail_msg("call refused: %s", reterr && reterr->message ? reterr->message : "?");
    while (!r->done)
        uv_run(&env->loop, UV_RUN_ONCE);
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
