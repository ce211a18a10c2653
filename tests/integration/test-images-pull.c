/* Pulling against the real engine from a registry of our own: Debian's docker-registry started on
 * a free 127.0.0.1 port for this process (the engine trusts loopback registries without TLS). An
 * image built for the test is pushed there, removed locally and pulled back with per-layer
 * progress; a missing image fails with its name and registry. Everything made is removed in the
 * group teardown: the registry stopped, its storage deleted, the tags and images gone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/buf.h"
#include "scheduler/images.h"
#include "tests/lib/engine-test.h"
#include "tests/lib/model-builder.h"

#define REGISTRY_BIN "/usr/bin/docker-registry"

struct registry {
    struct tl_env env; /* one loop for the registry's output and every call of the tests */
    uv_process_t proc;
    uv_pipe_t err_pipe;
    bool listening, exited, closed_proc, closed_pipe;
    struct buf log;
    char *dir;
    char *addr; /* "127.0.0.1:PORT" */
    char *made[16];
    size_t n_made;
};

static struct registry reg;

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    socklen_t len = sizeof(sa);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

static void on_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
    (void)h;
    buf->base = xmalloc(size);
    buf->len = size;
}

/* The registry's log: kept for failures, and its "listening on" line says it is ready. */
static void on_registry_output(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)s;
    if (n > 0) {
        buf_add(&reg.log, buf->base, (size_t)n);
        if (strstr(buf_str(&reg.log), "listening on "))
            reg.listening = true;
    }
    free(buf->base);
}

static void on_registry_exit(uv_process_t *p, int64_t status, int sig)
{
    (void)p;
    (void)status;
    (void)sig;
    reg.exited = true;
}

static void on_closed(uv_handle_t *h)
{
    if (h == (uv_handle_t *)&reg.proc)
        reg.closed_proc = true;
    else
        reg.closed_pipe = true;
}

static int group_setup(void **state)
{
    (void)state;
    tl_env_init(&reg.env);
    reg.dir = xstrdup("/tmp/ccit-registry-XXXXXX");
    assert_non_null(mkdtemp(reg.dir));
    reg.addr = xasprintf("127.0.0.1:%d", free_port());
    char *cfg = xasprintf("%s/config.yml", reg.dir);
    FILE *f = fopen(cfg, "w");
    assert_non_null(f);
    fprintf(f,
            "version: 0.1\n"
            "log:\n  level: info\n  accesslog:\n    disabled: true\n"
            "storage:\n  filesystem:\n    rootdirectory: %s/data\n"
            "http:\n  addr: %s\n  secret: ccompose-test\n",
            reg.dir, reg.addr);
    fclose(f);

    assert_int_equal(uv_pipe_init(&reg.env.loop, &reg.err_pipe, 0), 0);
    char *args[] = {REGISTRY_BIN, "serve", cfg, NULL};
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_IGNORE},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&reg.err_pipe},
    };
    uv_process_options_t o = {
        .file = REGISTRY_BIN,
        .args = args,
        .exit_cb = on_registry_exit,
        .stdio = stdio,
        .stdio_count = 3,
    };
    int rc = uv_spawn(&reg.env.loop, &reg.proc, &o);
    free(cfg);
    if (rc != 0)
        fail_msg("cannot start %s: %s", REGISTRY_BIN, uv_strerror(rc));
    assert_int_equal(uv_read_start((uv_stream_t *)&reg.err_pipe, on_alloc, on_registry_output), 0);
    while (!reg.listening && !reg.exited)
        uv_run(&reg.env.loop, UV_RUN_ONCE);
    if (!reg.listening)
        fail_msg("the registry did not start:\n%s", buf_str(&reg.log));
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    for (size_t k = reg.n_made; k-- > 0;) {
        struct tl_result r;
        tl_result_init(&r);
        TL_RUN(reg.env, r,
               engine_image_remove(reg.env.c, reg.made[k], false, tl_on_done, &r, &err));
        if (r.err.kind != CC_ERR_NONE && r.err.kind != CC_ERR_NOT_FOUND)
            fprintf(stderr, "teardown: cannot remove %s: %s\n", reg.made[k], r.err.message);
        tl_result_release(&r);
        free(reg.made[k]);
    }
    if (!reg.exited)
        uv_process_kill(&reg.proc, SIGTERM);
    while (!reg.exited)
        uv_run(&reg.env.loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&reg.proc, on_closed);
    uv_close((uv_handle_t *)&reg.err_pipe, on_closed);
    tl_env_release(&reg.env);
    assert_true(reg.closed_proc && reg.closed_pipe);
    char *cmd = xasprintf("rm -rf '%s'", reg.dir);
    if (system(cmd) != 0)
        fprintf(stderr, "teardown: cannot remove %s\n", reg.dir);
    free(cmd);
    free(reg.dir);
    free(reg.addr);
    buf_release(&reg.log);
    return 0;
}

struct op_run {
    bool done;
    struct cc_error err;
    int layer_items, downloading, complete, image_items;
    bool sizes_seen;
    const struct sched_build_result *unused;
    char *image_id;
};

static void on_built(const struct sched_build_result *res, const struct cc_error *err, void *data)
{
    struct op_run *r = data;
    r->done = true;
    if (err)
        cc_error_copy(&r->err, err);
    else
        r->image_id = xstrdup(res->image_id);
}

static void on_pull_progress(const struct sched_pull_progress *p, void *data)
{
    struct op_run *r = data;
    assert_non_null(p->status);
    if (!p->layer) {
        r->image_items++;
        return;
    }
    r->layer_items++;
    r->downloading += strcmp(p->status, "Downloading") == 0;
    r->complete += strcmp(p->status, "Pull complete") == 0;
    if (p->total > 0 && p->current > 0 && p->current <= p->total)
        r->sizes_seen = true;
}

static void on_pulled(const char *image, const struct cc_error *err, void *data)
{
    struct op_run *r = data;
    assert_non_null(image);
    r->done = true;
    if (err)
        cc_error_copy(&r->err, err);
}

static void wait_op(struct op_run *r)
{
    while (!r->done)
        uv_run(&reg.env.loop, UV_RUN_ONCE);
}

static void record(const char *name)
{
    reg.made[reg.n_made++] = xstrdup(name);
}

/* An image only this test has (its own layer), pushed to our registry and removed here, then
 * pulled back: layer progress with sizes, and the same image as was pushed. */
static void test_pull_with_progress(void **state)
{
    (void)state;
    char *dir = xstrdup("/tmp/ccit-pull-ctx-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char *token = tl_unique("pull");
    char *image = xasprintf("%s/%s/app:t1", reg.addr, token);
    record(image);
    struct compose_project *p = mb_project_new(token, dir);
    struct compose_service *s = mb_service_add(p, "app", image);
    s->build = arena_alloc(&p->arena, sizeof(*s->build));
    memset(s->build, 0, sizeof(*s->build));
    s->build->context = arena_strdup(&p->arena, dir);
    s->build->dockerfile_inline = arena_printf(
        &p->arena,
        "FROM " TEST_IMAGE "\nRUN head -c 3000000 /dev/urandom > /blob && echo %s > /token\n",
        token);
    struct op_run b = {0};
    struct cc_error berr = CC_ERROR_INIT;
    assert_non_null(sched_build_service(reg.env.c, p, s, NULL, NULL, on_built, &b, &berr));
    wait_op(&b);
    assert_int_equal(b.err.kind, CC_ERR_NONE);

    struct tl_result r;
    tl_result_init(&r);
    TL_RUN(reg.env, r, engine_image_push(reg.env.c, image, NULL, tl_on_item, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    tl_result_release(&r);
    /* Gone locally (the only tag: the image and its own layers go with it). */
    tl_result_init(&r);
    TL_RUN(reg.env, r, engine_image_remove(reg.env.c, image, false, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    tl_result_release(&r);
    tl_result_init(&r);
    TL_RUN(reg.env, r, engine_image_inspect(reg.env.c, image, tl_on_done, &r, &err));
    tl_assert_fails(&r, CC_ERR_NOT_FOUND);
    tl_result_release(&r);

    struct op_run pl = {0};
    assert_non_null(sched_pull_image(reg.env.c, image, on_pull_progress, on_pulled, &pl, &berr));
    wait_op(&pl);
    if (pl.err.kind != CC_ERR_NONE)
        fail_msg("pull failed: %s", pl.err.message);
    assert_true(pl.layer_items > 0);
    assert_true(pl.image_items > 0);
    assert_true(pl.complete >= 1); /* our own layer came over the wire */
    /* Podman reports a blob's bytes once a second while it comes, so a pull from a registry on
     * this machine (well under a second) shows none. */
    if (!tl_engine_is_podman())
        assert_true(pl.sizes_seen);
    tl_result_init(&r);
    TL_RUN(reg.env, r, engine_image_inspect(reg.env.c, image, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    assert_string_equal(json_string_value(json_object_get(r.json, "Id")), b.image_id);
    tl_result_release(&r);

    cc_error_release(&b.err);
    free(b.image_id);
    compose_project_free(p);
    free(image);
    free(token);
    char *cmd = xasprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(dir);
}

static void test_pull_missing(void **state)
{
    (void)state;
    char *token = tl_unique("missing");
    char *image = xasprintf("%s/%s/nothing:here", reg.addr, token);
    struct op_run pl = {0};
    struct cc_error err = CC_ERROR_INIT;
    assert_non_null(sched_pull_image(reg.env.c, image, on_pull_progress, on_pulled, &pl, &err));
    wait_op(&pl);
    assert_int_equal(pl.err.kind, CC_ERR_NOT_FOUND);
    char *want = xasprintf("cannot pull image '%s' from registry '%s': ", image, reg.addr);
    if (strncmp(pl.err.message, want, strlen(want)) != 0)
        fail_msg("unexpected message: %s", pl.err.message);
    assert_non_null(pl.err.engine_message);
    assert_non_null(pl.err.hint);
    free(want);
    cc_error_release(&pl.err);

    /* A registry nobody runs: the same shape of message, naming that registry. */
    char *nowhere = xasprintf("127.0.0.1:%d/%s/x:1", free_port(), token);
    struct op_run pl2 = {0};
    assert_non_null(sched_pull_image(reg.env.c, nowhere, NULL, on_pulled, &pl2, &err));
    wait_op(&pl2);
    assert_int_not_equal(pl2.err.kind, CC_ERR_NONE);
    assert_non_null(strstr(pl2.err.message, nowhere));
    assert_non_null(strstr(pl2.err.message, "from registry '127.0.0.1:"));
    cc_error_release(&pl2.err);
    free(nowhere);
    free(image);
    free(token);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pull_with_progress),
        cmocka_unit_test(test_pull_missing),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
