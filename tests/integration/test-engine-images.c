/* Image calls against the real engine: list, inspect, tag, remove, build (a context tar made in
 * memory and streamed in small pieces), and push/pull against a registry on loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/engine-test.h"
#include "tests/lib/registry.h"

static struct tl_registry registry;

static char *image_id(struct tl_env *env, const char *ref)
{
    struct tl_result r;
    tl_result_init(&r);
    TL_RUN(*env, r, engine_image_inspect(env->c, ref, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    char *id = xstrdup(json_string_value(json_object_get(r.json, "Id")));
    tl_result_release(&r);
    return id;
}

static void assert_image_gone(struct tl_env *env, const char *ref)
{
    struct tl_result r;
    tl_result_init(&r);
    TL_RUN(*env, r, engine_image_inspect(env->c, ref, tl_on_done, &r, &err));
    tl_assert_fails(&r, CC_ERR_NOT_FOUND);
    tl_result_release(&r);
}

static void test_image_list_inspect(void **state)
{
    (void)state;
    struct tl_env env;
    struct tl_result r;
    tl_env_init(&env);
    tl_result_init(&r);
    json_t *filters = json_pack("{s:[s]}", "reference", TEST_IMAGE);
    TL_RUN(env, r, engine_image_list(env.c, filters, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    assert_int_equal(json_array_size(r.json), 1);
    json_t *tags = json_object_get(json_array_get(r.json, 0), "RepoTags");
    assert_string_equal(json_string_value(json_array_get(tags, 0)), TEST_IMAGE);
    char *listed = xstrdup(json_string_value(json_object_get(json_array_get(r.json, 0), "Id")));
    char *id = image_id(&env, TEST_IMAGE);
    assert_string_equal(listed, id);
    assert_int_equal(strncmp(id, "sha256:", 7), 0);
    json_decref(filters);
    free(listed);
    free(id);
    tl_result_release(&r);
    tl_env_release(&env);
}

static void test_image_tag_remove(void **state)
{
    (void)state;
    struct tl_env env;
    struct tl_result r;
    tl_env_init(&env);
    tl_result_init(&r);
    char *repo = tl_unique("tagged");
    char *ref = xasprintf("%s:v1", repo);
    TL_RUN(env, r, engine_image_tag(env.c, TEST_IMAGE, repo, "v1", tl_on_done, &r, &err));
    tl_assert_ok(&r);
    tl_cleanup_image(ref);
    tl_result_release(&r);
    char *orig = image_id(&env, TEST_IMAGE);
    char *tagged = image_id(&env, ref);
    assert_string_equal(orig, tagged);

    TL_RUN(env, r, engine_image_remove(env.c, ref, false, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    assert_string_equal(json_string_value(json_object_get(json_array_get(r.json, 0), "Untagged")),
                        ref);
    assert_image_gone(&env, ref);
    free(image_id(&env, TEST_IMAGE)); /* the original stays */

    tl_result_release(&r);
    free(orig);
    free(tagged);
    free(ref);
    free(repo);
    tl_env_release(&env);
}

/* ---- Build -------------------------------------------------------------------------------- */

static la_ssize_t on_archive_write(struct archive *a, void *data, const void *buf, size_t len)
{
    (void)a;
    buf_add(data, buf, len);
    return (la_ssize_t)len;
}

static void tar_add(struct archive *a, const char *name, const char *content)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_size(e, (la_int64_t)strlen(content));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
    assert_int_equal(archive_write_data(a, content, strlen(content)), (la_ssize_t)strlen(content));
    archive_entry_free(e);
}

/* A tar of a Dockerfile and one file, in memory. */
static void make_context(struct buf *tar, const char *dockerfile)
{
    struct archive *a = archive_write_new();
    assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
    assert_int_equal(archive_write_open2(a, tar, NULL, on_archive_write, NULL, NULL), ARCHIVE_OK);
    tar_add(a, "Dockerfile", dockerfile);
    tar_add(a, "hello.txt", "hello from context\n");
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

struct context_reader {
    struct buf tar;
    size_t off;
    int reads;
};

/* Hands the context out 100 bytes at most at a time, so the upload spans many calls. */
static ssize_t read_context(char *buf, size_t len, void *data)
{
    struct context_reader *cr = data;
    size_t n = cr->tar.len - cr->off;
    if (n > len)
        n = len;
    if (n > 100)
        n = 100;
    memcpy(buf, cr->tar.data + cr->off, n);
    cr->off += n;
    cr->reads++;
    return (ssize_t)n;
}

struct build_progress {
    struct tl_result r;
    int stream_items;
};

static void on_build_progress(json_t *item, void *data)
{
    struct build_progress *p = data;
    tl_on_item(item, &p->r);
    if (json_string_value(json_object_get(item, "stream")))
        p->stream_items++;
}

static void run_build(struct tl_env *env, const char *dockerfile,
                      const struct engine_build_options *opts, struct build_progress *p,
                      struct context_reader *cr)
{
    buf_init(&cr->tar);
    cr->off = 0;
    cr->reads = 0;
    make_context(&cr->tar, dockerfile);
    tl_result_init(&p->r);
    p->stream_items = 0;
    TL_RUN(
        *env, p->r,
        engine_image_build(env->c, opts, read_context, cr, on_build_progress, tl_on_done, p, &err));
}

static const char multi_stage[] = "FROM " TEST_IMAGE " AS base\n"
                                  "ARG GREETING=unset\n"
                                  "COPY hello.txt /hello.txt\n"
                                  "RUN echo \"$GREETING\" > /greeting && cat /hello.txt\n"
                                  "FROM base AS final\n"
                                  "RUN echo final > /stage\n";

static void test_image_build(void **state)
{
    (void)state;
    struct tl_env env;
    struct build_progress p;
    struct context_reader cr;
    tl_env_init(&env);
    char *tag = tl_unique("built");
    char *ref = xasprintf("%s:latest", tag);
    tl_cleanup_image(ref);
    json_t *args = json_pack("{s:s}", "GREETING", "hi-arg");
    json_t *labels = json_pack("{s:s}", "ccompose.test", tag);
    struct engine_build_options opts = {
        .tag = ref, .target = "base", .buildargs = args, .labels = labels, .nocache = true};
    run_build(&env, multi_stage, &opts, &p, &cr);
    tl_assert_ok(&p.r);
    assert_true(cr.reads > 3);
    assert_int_equal(cr.off, cr.tar.len);
    assert_true(p.stream_items > 0);
    const char *built = json_string_value(json_object_get(p.r.json, "ID"));
    assert_non_null(built);
    char *id = image_id(&env, ref);
    assert_string_equal(built, id);

    struct tl_result r;
    tl_result_init(&r);
    TL_RUN(env, r, engine_image_inspect(env.c, ref, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    assert_string_equal(json_string_value(tl_json_at(r.json, "Config/Labels/ccompose.test")), tag);
    tl_result_release(&r);

    /* The build arg reached RUN, COPY brought the file, and the target stopped before "final". */
    json_t *body =
        tl_sh_body("cat /greeting /hello.txt; test -e /stage && echo has-stage; true", NULL);
    json_object_set_new(body, "Image", json_string(ref));
    char *cid = tl_container_run(&env, "built-run", body);
    assert_int_equal(tl_container_wait(&env, cid, NULL), 0);
    TL_RUN(env, r, engine_container_logs(env.c, cid, NULL, tl_on_output, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    assert_string_equal(buf_str(&r.out), "hi-arg\nhello from context\n");

    tl_result_release(&r);
    json_decref(body);
    json_decref(args);
    json_decref(labels);
    buf_release(&cr.tar);
    tl_result_release(&p.r);
    free(cid);
    free(id);
    free(ref);
    free(tag);
    tl_env_release(&env);
}

static void test_image_build_fails(void **state)
{
    (void)state;
    struct tl_env env;
    struct build_progress p;
    struct context_reader cr;
    tl_env_init(&env);
    char *tag = tl_unique("build-fails");
    tl_cleanup_image(tag);
    /* forcerm: the failed step's container goes too (the engine keeps it otherwise). */
    struct engine_build_options opts = {.tag = tag, .forcerm = true};
    run_build(&env, "FROM " TEST_IMAGE "\nRUN echo failing-step; exit 9\n", &opts, &p, &cr);
    tl_assert_fails(&p.r, CC_ERR_FAILED);
    if (!strstr(p.r.err.message, "returned a non-zero code: 9"))
        fail_msg("unexpected build error: %s", p.r.err.message);
    assert_image_gone(&env, tag);
    buf_release(&cr.tar);
    tl_result_release(&p.r);
    free(tag);
    tl_env_release(&env);
}

/* ---- Push and pull ------------------------------------------------------------------------ */

static void test_push_pull(void **state)
{
    (void)state;
    struct tl_env env;
    struct tl_result r;
    tl_env_init(&env);
    tl_result_init(&r);
    char *name = tl_unique("push");
    char *repo = xasprintf("%s/%s", registry.addr, name);
    char *ref = xasprintf("%s:t1", repo);
    TL_RUN(env, r, engine_image_tag(env.c, TEST_IMAGE, repo, "t1", tl_on_done, &r, &err));
    tl_assert_ok(&r);
    tl_cleanup_image(ref);
    tl_result_release(&r);

    TL_RUN(env, r, engine_image_push(env.c, ref, NULL, tl_on_item, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    assert_true(r.items > 0);
    tl_result_release(&r);

    TL_RUN(env, r, engine_image_remove(env.c, ref, false, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    tl_result_release(&r);
    assert_image_gone(&env, ref);

    TL_RUN(env, r, engine_image_pull(env.c, ref, NULL, tl_on_item, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    assert_true(r.items > 0);
    tl_result_release(&r);
    char *pulled = image_id(&env, ref);
    char *orig = image_id(&env, TEST_IMAGE);
    assert_string_equal(pulled, orig);

    free(pulled);
    free(orig);
    free(ref);
    free(repo);
    free(name);
    tl_env_release(&env);
}

static void test_pull_missing_name(void **state)
{
    (void)state;
    struct tl_env env;
    struct tl_result r;
    tl_env_init(&env);
    tl_result_init(&r);
    char *name = tl_unique("never-pushed");
    char *ref = xasprintf("%s/%s:t1", registry.addr, name);
    tl_cleanup_image(ref);
    TL_RUN(env, r, engine_image_pull(env.c, ref, NULL, tl_on_item, tl_on_done, &r, &err));
    assert_true(r.err.kind != CC_ERR_NONE);
    if (!strstr(r.err.message, "not found") && !strstr(r.err.message, "manifest unknown"))
        fail_msg("unclear pull error: %s", r.err.message);
    assert_non_null(strstr(r.err.message, name));
    free(ref);
    free(name);
    tl_result_release(&r);
    tl_env_release(&env);
}

static void test_pull_no_registry(void **state)
{
    (void)state;
    struct tl_env env;
    struct tl_result r;
    tl_env_init(&env);
    tl_result_init(&r);
    int port = tl_free_port(&env.loop);
    char *ref = xasprintf("127.0.0.1:%d/ccit-nowhere:t1", port);
    tl_cleanup_image(ref);
    TL_RUN(env, r, engine_image_pull(env.c, ref, NULL, tl_on_item, tl_on_done, &r, &err));
    assert_true(r.err.kind != CC_ERR_NONE);
    char *addr = xasprintf("127.0.0.1:%d", port);
    if (!strstr(r.err.message, addr))
        fail_msg("pull error does not name the registry: %s", r.err.message);
    free(addr);
    free(ref);
    tl_result_release(&r);
    tl_env_release(&env);
}

static int setup(void **state)
{
    (void)state;
    tl_registry_start(&registry);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tl_cleanup_run();
    tl_registry_stop(&registry);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_image_list_inspect), cmocka_unit_test(test_image_tag_remove),
        cmocka_unit_test(test_image_build),        cmocka_unit_test(test_image_build_fails),
        cmocka_unit_test(test_push_pull),          cmocka_unit_test(test_pull_missing_name),
        cmocka_unit_test(test_pull_no_registry),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
