/* Building services' images against the real engine: multi-stage with target and args, Dockerfiles
 * outside the context and inline, a streamed context with a symlink and a 50 MB file, the build
 * cache, a failing step, two builds at once. Every image made (tags, final and stage images) is
 * removed in each test's teardown, whatever happened. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "scheduler/build-context.h"
#include "scheduler/images.h"
#include "scheduler/scheduler-internal.h"
#include "tests/lib/engine-test.h"
#include "tests/lib/model-builder.h"

/* What this test made: tags and image IDs, removed in teardown; and temporary directories. */
static char *made[128];
static size_t n_made;
static char *dirs[8];
static size_t n_dirs;

static void record_image(const char *name)
{
    for (size_t k = 0; k < n_made; k++)
        if (strcmp(made[k], name) == 0)
            return;
    assert_true(n_made < CC_ARRAY_LEN(made));
    made[n_made++] = xstrdup(name);
}

static char *make_tmpdir(void)
{
    char *d = xstrdup("/tmp/ccit-images-XXXXXX");
    assert_non_null(mkdtemp(d));
    dirs[n_dirs++] = d; /* teardown removes and frees it */
    return d;
}

static void write_file(const char *dir, const char *rel, const char *content)
{
    char *path = xasprintf("%s/%s", dir, rel);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
    free(path);
}

/* Removes what the test made without force, so nothing anyone else holds goes: tags first, then
 * the images they pointed at, children before parents (a few passes), and among the IDs seen in
 * build output only untagged ones (the FROM step shows the shared base image's ID). */
static int teardown(void **state)
{
    (void)state;
    struct tl_env env;
    tl_env_init(&env);
    for (int pass = 0; pass < 4; pass++) {
        for (size_t k = n_made; k-- > 0;) {
            if (!made[k])
                continue;
            struct tl_result r;
            tl_result_init(&r);
            if (strncmp(made[k], "sha256:", 7) == 0 || strchr(made[k], ':') == NULL) {
                TL_RUN(env, r, engine_image_inspect(env.c, made[k], tl_on_done, &r, &err));
                bool tagged = r.json && json_array_size(json_object_get(r.json, "RepoTags")) > 0;
                bool ours_by_name = strchr(made[k], '-') != NULL; /* "ccit-..." tags */
                tl_result_release(&r);
                tl_result_init(&r);
                if (tagged && !ours_by_name) {
                    tl_result_release(&r);
                    continue;
                }
            }
            TL_RUN(env, r, engine_image_remove(env.c, made[k], false, tl_on_done, &r, &err));
            if (r.err.kind == CC_ERR_NONE || r.err.kind == CC_ERR_NOT_FOUND) {
                free(made[k]);
                made[k] = NULL;
            } else if (pass == 3) {
                fprintf(stderr, "teardown: cannot remove %s: %s\n", made[k], r.err.message);
            }
            tl_result_release(&r);
        }
    }
    for (size_t k = 0; k < n_made; k++)
        free(made[k]);
    n_made = 0;
    tl_env_release(&env);
    for (size_t k = 0; k < n_dirs; k++) {
        char *cmd = xasprintf("rm -rf '%s'", dirs[k]);
        if (system(cmd) != 0)
            fprintf(stderr, "teardown: cannot remove %s\n", dirs[k]);
        free(cmd);
        free(dirs[k]);
    }
    n_dirs = 0;
    return 0;
}

static int seq; /* orders events across builds */

struct build_run {
    bool done;
    char *image;
    char *image_id;
    struct cc_error err;
    struct buf lines;
    int cached;
    int steps;
    bool step_instruction_seen;
    uint64_t context_bytes;
    size_t high_water;
    int first_progress, finished;
    const char *service;
};

static void on_progress(const struct sched_build_progress *p, void *data)
{
    struct build_run *r = data;
    assert_string_equal(p->service, r->service);
    if (!r->first_progress)
        r->first_progress = ++seq;
    buf_printf(&r->lines, "%s\n", p->line);
    r->cached += p->cached;
    if (p->steps > r->steps)
        r->steps = p->steps;
    if (p->step > 0 && p->instruction && strncmp(p->line, "Step ", 5) == 0)
        r->step_instruction_seen = true;
    /* " ---> 0123456789ab": an image this build made or used; teardown sorts out which. Docker
     * shows 12 hex digits, Buildah 11 (a failed build's last committed step is only there). */
    const char *l = p->line;
    size_t n = strlen(l);
    if (strncmp(l, " ---> ", 6) == 0 && (n == 17 || n == 18)) {
        bool hex = true;
        for (size_t k = 6; k < n; k++)
            hex = hex && isxdigit((unsigned char)l[k]);
        if (hex)
            record_image(l + 6);
    }
}

static void on_built(const struct sched_build_result *res, const struct cc_error *err, void *data)
{
    struct build_run *r = data;
    r->done = true;
    r->finished = ++seq;
    if (err) {
        cc_error_copy(&r->err, err);
        return;
    }
    r->image = xstrdup(res->image);
    r->image_id = xstrdup(res->image_id);
    r->context_bytes = res->context_bytes;
    r->high_water = res->context_high_water;
    record_image(res->image_id);
}

static void run_release(struct build_run *r)
{
    free(r->image);
    free(r->image_id);
    cc_error_release(&r->err);
    buf_release(&r->lines);
    memset(r, 0, sizeof(*r));
}

static void start_build(struct tl_env *env, struct compose_project *p, struct compose_service *s,
                        const struct sched_build_options *o, struct build_run *r)
{
    memset(r, 0, sizeof(*r));
    r->service = s->name;
    char *tag = sched_image_name(p, s);
    record_image(tag);
    free(tag);
    struct cc_error err = CC_ERROR_INIT;
    struct sched_build *b = sched_build_service(env->c, p, s, o, on_progress, on_built, r, &err);
    if (!b)
        fail_msg("build did not start: %s", err.message);
}

static void wait_build(struct tl_env *env, struct build_run *r)
{
    while (!r->done)
        uv_run(&env->loop, UV_RUN_ONCE);
    if (r->err.kind == CC_ERR_NONE)
        return;
    fprintf(stderr, "build output:\n%s", buf_str(&r->lines));
}

static void build(struct tl_env *env, struct compose_project *p, struct compose_service *s,
                  const struct sched_build_options *o, struct build_run *r)
{
    start_build(env, p, s, o, r);
    wait_build(env, r);
}

static json_t *inspect(struct tl_env *env, const char *name)
{
    struct tl_result r;
    tl_result_init(&r);
    TL_RUN(*env, r, engine_image_inspect(env->c, name, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    json_t *j = json_incref(r.json);
    tl_result_release(&r);
    return j;
}

static const char *label(json_t *image, const char *key)
{
    return json_string_value(
        json_object_get(json_object_get(json_object_get(image, "Config"), "Labels"), key));
}

/* A service with a build section on context dir, in a project named for this test. */
static struct compose_service *buildable(struct compose_project **ret_p, const char *what,
                                         const char *dir)
{
    char *name = tl_unique(what);
    struct compose_project *p = mb_project_new(name, dir);
    free(name);
    struct compose_service *s = mb_service_add(p, "app", NULL);
    s->build = arena_alloc(&p->arena, sizeof(*s->build));
    memset(s->build, 0, sizeof(*s->build));
    s->build->context = arena_strdup(&p->arena, dir);
    s->build->shm_size = COMPOSE_UNSET;
    *ret_p = p;
    return s;
}

/* A test's one buildable service on an engine of its own: a temporary directory whose Dockerfile
 * starts FROM the test image with a LABEL token=<unique> (so its images are the test's own), then
 * has steps. Release with bfx_release(). */
struct build_fx {
    struct tl_env env;
    char *dir; /* teardown removes it */
    char *token;
    struct compose_project *p;
    struct compose_service *s;
};

static void bfx_init(struct build_fx *b, const char *what, const char *steps)
{
    tl_env_init(&b->env);
    b->dir = make_tmpdir();
    b->token = tl_unique(what);
    char *df = xasprintf("FROM " TEST_IMAGE "\nLABEL token=%s\n%s", b->token, steps);
    write_file(b->dir, "Dockerfile", df);
    free(df);
    b->s = buildable(&b->p, what, b->dir);
}

static void bfx_release(struct build_fx *b)
{
    compose_project_free(b->p);
    free(b->token);
    tl_env_release(&b->env);
}

/* sched_build_service() refuses s before anything is sent, with an error of kind whose message
 * says what. */
static void assert_refused(struct build_fx *b, enum cc_error_kind kind, const char *what)
{
    struct build_run r = {0};
    struct cc_error err = CC_ERROR_INIT;
    assert_null(sched_build_service(b->env.c, b->p, b->s, NULL, on_progress, on_built, &r, &err));
    assert_int_equal(err.kind, kind);
    assert_non_null(strstr(err.message, what));
    assert_non_null(err.hint);
    cc_error_release(&err);
}

/* Multi-stage: target picks the stage, build.args and --build-arg reach ARGs (the override wins,
 * a bare --build-arg KEY takes the environment), labels carry the compose ones. */
static void test_multistage_target_args(void **state)
{
    TL_SKIP_ON_PODMAN("Buildah builds only the stages the target needs and numbers their steps its "
                      "own way, so fewer steps are reported than the test counts");
    (void)state;
    struct tl_env env;
    tl_env_init(&env);
    char *dir = make_tmpdir();
    write_file(dir, "Dockerfile",
               "FROM " TEST_IMAGE " AS base\n"
               "ARG TOKEN\n"
               "LABEL token=$TOKEN\n"
               "RUN echo \"$TOKEN\" > /token\n"
               "FROM base AS final\n"
               "ARG GREETING=hello\n"
               "ARG FROM_ENV=unset\n"
               "LABEL stage=final greeting=$GREETING from_env=$FROM_ENV\n"
               "RUN test \"$(cat /token)\" = \"$TOKEN\" || true\n"
               "FROM base AS other\n"
               "LABEL stage=other\n");
    struct compose_project *p;
    struct compose_service *s = buildable(&p, "multi", dir);
    char *token = tl_unique("token");
    mb_kv_set(p, &s->build->args, "TOKEN", token);
    mb_kv_set(p, &s->build->args, "GREETING", "from-model");
    mb_kv_set(p, &s->build->labels, "org.example.team", "images");
    s->build->target = "final";
    setenv("CCIT_FROM_ENV", "env-value", 1);
    const char *args[] = {"GREETING=from-cli", "FROM_ENV=x", "CCIT_FROM_ENV"};
    struct sched_build_options o = {.build_args = args, .n_build_args = 3};
    struct build_run r;
    build(&env, p, s, &o, &r);
    assert_int_equal(r.err.kind, CC_ERR_NONE);
    assert_string_equal(r.image, p->name[0] ? r.image : "");
    char *want_tag = xasprintf("%s-app", p->name);
    assert_string_equal(r.image, want_tag);
    assert_int_equal(strncmp(r.image_id, "sha256:", 7), 0);
    assert_true(r.steps >= 8);
    assert_true(r.step_instruction_seen);
    json_t *img = inspect(&env, want_tag);
    assert_string_equal(json_string_value(json_object_get(img, "Id")), r.image_id);
    assert_string_equal(label(img, "stage"), "final");
    assert_string_equal(label(img, "token"), token);
    assert_string_equal(label(img, "greeting"), "from-cli");
    assert_string_equal(label(img, "from_env"), "x");
    assert_string_equal(label(img, "org.example.team"), "images");
    assert_string_equal(label(img, "com.docker.compose.project"), p->name);
    assert_string_equal(label(img, "com.docker.compose.service"), "app");
    json_decref(img);
    unsetenv("CCIT_FROM_ENV");
    free(want_tag);
    free(token);
    run_release(&r);
    compose_project_free(p);
    tl_env_release(&env);
}

/* A Dockerfile outside the context and an inline one are sent under a generated name, and the
 * engine leaves that name out of what COPY sees. */
static void test_dockerfile_outside_and_inline(void **state)
{
    (void)state;
    struct tl_env env;
    tl_env_init(&env);
    char *ctx = make_tmpdir(), *other = make_tmpdir();
    char *token = tl_unique("outside");
    write_file(ctx, "data.txt", "payload\n");
    char *df = xasprintf("FROM " TEST_IMAGE "\nLABEL token=%s\nCOPY . /ctx/\n"
                         "RUN grep -q payload /ctx/data.txt && ! ls -a /ctx | grep dockerfile\n",
                         token);
    write_file(other, "app.Dockerfile", df);
    struct compose_project *p;
    struct compose_service *s = buildable(&p, "outside", ctx);
    s->build->dockerfile = arena_printf(&p->arena, "%s/app.Dockerfile", other);
    struct build_run r;
    build(&env, p, s, NULL, &r);
    assert_int_equal(r.err.kind, CC_ERR_NONE);
    json_t *img = inspect(&env, r.image);
    assert_string_equal(label(img, "token"), token);
    json_decref(img);
    run_release(&r);
    compose_project_free(p);

    /* Inline, with an `image:` name. */
    s = buildable(&p, "inline", ctx);
    s->image = arena_printf(&p->arena, "%s-named:v1", p->name);
    char *inl = xasprintf("FROM " TEST_IMAGE "\nLABEL token=%s-inline\nCOPY . /ctx/\n"
                          "RUN grep -q payload /ctx/data.txt && ! ls -a /ctx | grep dockerfile\n",
                          token);
    s->build->dockerfile_inline = arena_strdup(&p->arena, inl);
    build(&env, p, s, NULL, &r);
    assert_int_equal(r.err.kind, CC_ERR_NONE);
    assert_string_equal(r.image, s->image);
    img = inspect(&env, s->image);
    char *want = xasprintf("%s-inline", token);
    assert_string_equal(label(img, "token"), want);
    json_decref(img);
    free(want);
    free(inl);
    run_release(&r);
    compose_project_free(p);
    free(df);
    free(token);
    tl_env_release(&env);
}

/* 50 MB and a symlink, sent streamed: the link arrives as a link, the file whole, and the
 * context never sat in memory. */
static void test_large_context_streamed(void **state)
{
    (void)state;
    struct build_fx b;
    bfx_init(&b, "large",
             "COPY . /ctx/\n"
             "RUN test -L /ctx/link && test \"$(readlink /ctx/link)\" = big.bin && "
             "test \"$(wc -c < /ctx/big.bin)\" -eq 52428800\n");
    char *big = xasprintf("%s/big.bin", b.dir);
    FILE *f = fopen(big, "w");
    assert_non_null(f);
    static char block[65536];
    for (size_t k = 0; k < sizeof(block); k++)
        block[k] = (char)(k * 31);
    for (int k = 0; k < 800; k++)
        assert_int_equal(fwrite(block, 1, sizeof(block), f), sizeof(block));
    fclose(f);
    char *link = xasprintf("%s/link", b.dir);
    assert_int_equal(symlink("big.bin", link), 0);
    struct build_run r;
    build(&b.env, b.p, b.s, NULL, &r);
    assert_int_equal(r.err.kind, CC_ERR_NONE);
    assert_true(r.context_bytes > 50u * 1024 * 1024);
    assert_true(r.high_water <= BUILD_CONTEXT_CHUNK + 4096);
    run_release(&r);
    free(link);
    free(big);
    bfx_release(&b);
}

/* Nothing changed: the same image, from the cache. A file changed: a new image. */
static void test_cache(void **state)
{
    TL_SKIP_ON_PODMAN("Podman's build API reuses no cached layer for a context sent again, so the "
                      "second build makes a new image");
    (void)state;
    struct build_fx b;
    bfx_init(&b, "cache",
             "COPY data.txt /data.txt\n"
             "RUN cat /data.txt > /copy.txt\n");
    write_file(b.dir, "data.txt", "one\n");
    struct build_run r1, r2, r3;
    build(&b.env, b.p, b.s, NULL, &r1);
    assert_int_equal(r1.err.kind, CC_ERR_NONE);
    assert_int_equal(r1.cached, 0);
    build(&b.env, b.p, b.s, NULL, &r2);
    assert_int_equal(r2.err.kind, CC_ERR_NONE);
    assert_string_equal(r2.image_id, r1.image_id);
    /* Every step after FROM, the compose labels' own LABEL steps included. */
    assert_int_equal(r2.cached, r2.steps - 1);
    assert_non_null(strstr(buf_str(&r2.lines), "Using cache"));
    write_file(b.dir, "data.txt", "two\n");
    build(&b.env, b.p, b.s, NULL, &r3);
    assert_int_equal(r3.err.kind, CC_ERR_NONE);
    assert_string_not_equal(r3.image_id, r1.image_id);
    assert_int_equal(r3.cached, 1); /* only the LABEL before the COPY */
    /* --no-cache: nothing from the cache. */
    struct sched_build_options o = {.no_cache = true};
    struct build_run r4;
    build(&b.env, b.p, b.s, &o, &r4);
    assert_int_equal(r4.err.kind, CC_ERR_NONE);
    assert_int_equal(r4.cached, 0);
    run_release(&r1);
    run_release(&r2);
    run_release(&r3);
    run_release(&r4);
    bfx_release(&b);
}

static void test_failing_step(void **state)
{
    (void)state;
    struct build_fx b;
    bfx_init(&b, "fail",
             "RUN echo about-to-fail && exit 3\n"
             "RUN echo never\n");
    struct build_run r;
    build(&b.env, b.p, b.s, NULL, &r);
    assert_int_equal(r.err.kind, CC_ERR_FAILED);
    assert_string_equal(r.err.message,
                        "service 'app' failed to build at step 3/6 'RUN echo about-to-fail && "
                        "exit 3': The command '/bin/sh -c echo about-to-fail && exit 3' returned "
                        "a non-zero code: 3");
    assert_non_null(strstr(r.err.engine_message, "returned a non-zero code: 3"));
    assert_non_null(strstr(buf_str(&r.lines), "about-to-fail"));
    assert_null(strstr(buf_str(&r.lines), "Step 4/6"));
    /* The failed step's container was removed (forcerm): none runs the last good layer. Buildah
     * says nothing of its intermediate containers, so this part is Docker's only. */
    if (!tl_engine_is_podman()) {
        const char *last = strstr(buf_str(&r.lines), "Removing intermediate container");
        assert_non_null(last);
        last = strstr(last, " ---> ");
        assert_non_null(last);
        char *layer = xasprintf("sha256:%.12s", last + 6);
        struct tl_result cl;
        tl_result_init(&cl);
        TL_RUN(b.env, cl, engine_container_list(b.env.c, true, NULL, tl_on_done, &cl, &err));
        tl_assert_ok(&cl);
        size_t ci;
        json_t *ct;
        json_array_foreach(cl.json, ci, ct)
        {
            const char *image_id = json_string_value(json_object_get(ct, "ImageID"));
            assert_false(image_id && strncmp(image_id, layer, strlen(layer)) == 0);
        }
        tl_result_release(&cl);
        free(layer);
    }
    run_release(&r);
    compose_project_free(b.p);

    /* A Dockerfile that is not there fails before anything is sent. */
    b.s = buildable(&b.p, "nofile", b.dir);
    b.s->build->dockerfile = "missing.Dockerfile";
    assert_refused(&b, CC_ERR_NOT_FOUND, "missing.Dockerfile");
    bfx_release(&b);
}

/* build.ulimits and build.isolation reach /build: the RUN step sees the limits. BuildKit's
 * additional_contexts is refused before anything is sent, at the build section. */
static void test_ulimits_isolation_contexts(void **state)
{
    TL_SKIP_ON_PODMAN("Podman's build API refuses this test's isolation and ulimits options");
    (void)state;
    struct build_fx b;
    bfx_init(&b, "ulimits", "RUN echo nofile=$(ulimit -Sn)/$(ulimit -Hn)\n");
    b.s->build->isolation = "default";
    b.s->build->ulimits = arena_alloc(&b.p->arena, sizeof(*b.s->build->ulimits));
    b.s->build->ulimits[0] = (struct compose_ulimit){"nofile", 1234, 2345};
    b.s->build->n_ulimits = 1;
    struct build_run r;
    build(&b.env, b.p, b.s, NULL, &r);
    assert_int_equal(r.err.kind, CC_ERR_NONE);
    assert_non_null(strstr(buf_str(&r.lines), "nofile=1234/2345"));
    run_release(&r);

    mb_kv_set(b.p, &b.s->build->additional_contexts, "base", b.dir);
    assert_refused(&b, CC_ERR_UNSUPPORTED, "build.additional_contexts needs BuildKit");
    bfx_release(&b);
}

/* Two builds on one loop at once: both run, interleaved, and both finish. */
static void test_parallel(void **state)
{
    (void)state;
    struct tl_env env;
    tl_env_init(&env);
    char *d1 = make_tmpdir(), *d2 = make_tmpdir();
    char *token = tl_unique("parallel");
    char *df1 = xasprintf("FROM " TEST_IMAGE "\nLABEL token=%s-1\nRUN echo one\n", token);
    char *df2 = xasprintf("FROM " TEST_IMAGE "\nLABEL token=%s-2\nRUN echo two\n", token);
    write_file(d1, "Dockerfile", df1);
    write_file(d2, "Dockerfile", df2);
    struct compose_project *p;
    struct compose_service *a = buildable(&p, "parallel", d1);
    struct compose_service *b = mb_service_add(p, "worker", NULL);
    b->build = arena_alloc(&p->arena, sizeof(*b->build));
    memset(b->build, 0, sizeof(*b->build));
    b->build->context = arena_strdup(&p->arena, d2);
    struct build_run ra, rb;
    start_build(&env, p, a, NULL, &ra);
    start_build(&env, p, b, NULL, &rb);
    wait_build(&env, &ra);
    wait_build(&env, &rb);
    assert_int_equal(ra.err.kind, CC_ERR_NONE);
    assert_int_equal(rb.err.kind, CC_ERR_NONE);
    assert_string_not_equal(ra.image_id, rb.image_id);
    /* Each started before the other finished. */
    assert_true(ra.first_progress < rb.finished);
    assert_true(rb.first_progress < ra.finished);
    json_t *img = inspect(&env, rb.image);
    assert_string_equal(label(img, "com.docker.compose.service"), "worker");
    json_decref(img);
    run_release(&ra);
    run_release(&rb);
    compose_project_free(p);
    free(df1);
    free(df2);
    free(token);
    tl_env_release(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_multistage_target_args, teardown),
        cmocka_unit_test_teardown(test_dockerfile_outside_and_inline, teardown),
        cmocka_unit_test_teardown(test_large_context_streamed, teardown),
        cmocka_unit_test_teardown(test_cache, teardown),
        cmocka_unit_test_teardown(test_failing_step, teardown),
        cmocka_unit_test_teardown(test_ulimits_isolation_contexts, teardown),
        cmocka_unit_test_teardown(test_parallel, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
