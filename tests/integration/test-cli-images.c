/* `ccompose build`, `pull`, `push` and `up --build` end to end against the real engine: images
 * named <project>-<service> unless image: names them, labelled with the project and service,
 * --build-arg, --no-cache, -q, --parallel, a failing step naming the service, the step and the
 * engine's words; pull and push through Debian's docker-registry on loopback (one plain, one with
 * htpasswd auth and credentials from DOCKER_CONFIG); up --build recreating only the service whose
 * image changed. Every container, image and tag a test made is removed by the project label at
 * teardown, whatever happened; the registries are stopped and their storage removed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/cli-test.h"
#include "tests/lib/compose-test.h"
#include "tests/lib/registry.h"
#include "tests/lib/sched-test.h"

/* "ccit" with the password "ccit-secret" (bcrypt, cost 4). */
#define HTPASSWD "ccit:$2b$04$IfNa6NUSxyTnM9fHhN0FcOuVezarbZTb5ljoRgR/K34tiN5QHGN3W"
#define HTAUTH   "Y2NpdDpjY2l0LXNlY3JldA==" /* base64("ccit:ccit-secret") */

struct img_fx {
    struct tl_env env;
    char *dir;
    char *project;
    struct tl_registry reg; /* started by the registry tests, stopped at teardown */
    bool reg_on;
};

static int seq;

static int setup(void **state)
{
    struct img_fx *f = xcalloc(1, sizeof(*f));
    tl_env_init(&f->env);
    f->dir = ct_tmpdir();
    f->project = xasprintf("ccit-img-%d-%d", (int)getpid(), ++seq);
    *state = f;
    return 0;
}

/* Removes every image labelled with the project (every tag of it goes with it). */
static void remove_images(struct tl_env *env, const char *project)
{
    char *label = xasprintf("com.docker.compose.project=%s", project);
    json_t *filters = json_pack("{s:[s]}", "label", label);
    struct tl_result r;
    tl_result_init(&r);
    TL_RUN(*env, r, engine_image_list(env->c, filters, tl_on_done, &r, &err));
    size_t i;
    json_t *it;
    json_array_foreach(r.json, i, it)
    {
        struct tl_result x;
        tl_result_init(&x);
        const char *id = json_string_value(json_object_get(it, "Id"));
        TL_RUN(*env, x, engine_image_remove(env->c, id, true, tl_on_done, &x, &err));
        if (x.err.kind != CC_ERR_NONE && x.err.kind != CC_ERR_NOT_FOUND)
            fprintf(stderr, "teardown: cannot remove image %s: %s\n", id, x.err.message);
        tl_result_release(&x);
    }
    tl_result_release(&r);
    json_decref(filters);
    free(label);
}

static int teardown(void **state)
{
    struct img_fx *f = *state;
    unsetenv("DOCKER_CONFIG");
    if (f->reg_on)
        tl_registry_stop(&f->reg);
    st_cleanup(f->project);
    remove_images(&f->env, f->project);
    tl_env_release(&f->env);
    ct_rmdir(f->dir);
    free(f->dir);
    free(f->project);
    free(f);
    return 0;
}

#define RUN(f, r, ...) cb_run(&(r), (f)->dir, "-p", (f)->project, __VA_ARGS__, NULL)

/* The image's inspect (new), or NULL when it is not there. */
static json_t *image_inspect(struct img_fx *f, const char *name)
{
    struct tl_result r;
    tl_result_init(&r);
    TL_RUN(f->env, r, engine_image_inspect(f->env.c, name, tl_on_done, &r, &err));
    json_t *j = r.err.kind == CC_ERR_NONE ? json_incref(r.json) : NULL;
    tl_result_release(&r);
    return j;
}

static const char *image_label(json_t *j, const char *key)
{
    return json_string_value(json_object_get(tl_json_at(j, "Config/Labels"), key));
}

static void remove_image(struct img_fx *f, const char *name)
{
    struct tl_result r;
    tl_result_init(&r);
    TL_RUN(f->env, r, engine_image_remove(f->env.c, name, false, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    tl_result_release(&r);
}

static void test_build_names_labels_args(void **state)
{
    struct img_fx *f = *state;
    ct_put(f->dir, "a/Dockerfile",
           "FROM " TEST_IMAGE "\nARG MSG=none\nLABEL msg=$MSG\n"
           "RUN echo built > /built\n");
    ct_put(f->dir, "b/Dockerfile", "FROM " TEST_IMAGE "\nRUN echo b > /b\n");
    char *bimage = xasprintf("%s-named:v1", f->project);
    char *yaml = xasprintf("services:\n"
                           "  a:\n    build:\n      context: a\n      args:\n        MSG: file\n"
                           "  b:\n    build: b\n    image: %s\n"
                           "  c:\n    image: " TEST_IMAGE "\n",
                           bimage);
    ct_put(f->dir, "compose.yaml", yaml);
    struct cb_result r;
    RUN(f, r, "--progress", "plain", "build", "--build-arg", "MSG=flag");
    cb_assert_status(&r, 0);
    /* Plain progress: the build's lines, each with its service. */
    cb_assert_contains(buf_str(&r.err), "[a] Step 1/");
    cb_assert_contains(buf_str(&r.err), "[b] Step 1/");
    char *built = xasprintf("Image %s-a  Built", f->project);
    cb_assert_contains(buf_str(&r.err), built);
    assert_null(strstr(buf_str(&r.err), TEST_IMAGE "  ")); /* c has nothing to build */
    cb_result_release(&r);

    char *aimage = xasprintf("%s-a", f->project);
    json_t *a = image_inspect(f, aimage), *b = image_inspect(f, bimage);
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(image_label(a, "com.docker.compose.project"), f->project);
    assert_string_equal(image_label(a, "com.docker.compose.service"), "a");
    assert_string_equal(image_label(b, "com.docker.compose.service"), "b");
    assert_string_equal(image_label(a, "msg"), "flag"); /* --build-arg beats build.args */
    json_decref(a);
    json_decref(b);

    /* Again: everything from the cache; -q prints nothing at all. */
    RUN(f, r, "--progress", "plain", "build", "a");
    cb_assert_status(&r, 0);
    cb_assert_contains(buf_str(&r.err), "[a]  ---> Using cache");
    assert_null(strstr(buf_str(&r.err), "[b]"));
    cb_result_release(&r);
    RUN(f, r, "--progress", "plain", "build", "--no-cache", "a");
    cb_assert_status(&r, 0);
    assert_null(strstr(buf_str(&r.err), "Using cache"));
    cb_result_release(&r);
    RUN(f, r, "build", "-q", "b");
    cb_assert_status(&r, 0);
    assert_int_equal(r.out.len, 0);
    assert_int_equal(r.err.len, 0);
    cb_result_release(&r);

    /* A service that is not in the file. */
    RUN(f, r, "build", "nope");
    cb_assert_status(&r, 1);
    cb_assert_contains(buf_str(&r.err), "no such service: 'nope'");
    cb_result_release(&r);
    free(built);
    free(aimage);
    free(yaml);
    free(bimage);
}

static void test_build_failure_names_step(void **state)
{
    struct img_fx *f = *state;
    ct_put(f->dir, "bad/Dockerfile", "FROM " TEST_IMAGE "\nRUN echo boom-output; exit 3\n");
    ct_put(f->dir, "compose.yaml", "services:\n  bad:\n    build: bad\n");
    struct cb_result r;
    /* On a terminal-less tty display the failing step's output comes after the display. */
    RUN(f, r, "--progress", "tty", "build");
    cb_assert_status(&r, 1);
    cb_assert_contains(buf_str(&r.err),
                       "error: service 'bad' failed to build at step 2/4 'RUN echo boom-output; "
                       "exit 3': ");
    cb_assert_contains(buf_str(&r.err), "returned a non-zero code: 3");
    cb_assert_contains(buf_str(&r.err), "[bad] output of the failed step:");
    cb_assert_contains(buf_str(&r.err), "boom-output");
    cb_result_release(&r);
    char *name = xasprintf("%s-bad", f->project);
    json_t *j = image_inspect(f, name);
    assert_null(j);
    free(name);
}

/* Whether the two builds overlapped: each one's Building line came before the other's Built. */
static bool builds_overlap(const char *e, const char *project)
{
    char *xs = xasprintf("Image %s-x  Building\n", project);
    char *xe = xasprintf("Image %s-x  Built\n", project);
    char *ys = xasprintf("Image %s-y  Building\n", project);
    char *ye = xasprintf("Image %s-y  Built\n", project);
    const char *a = strstr(e, xs), *b = strstr(e, xe), *c = strstr(e, ys), *d = strstr(e, ye);
    if (!a || !b || !c || !d)
        fail_msg("a build is missing:\n%s", e);
    bool overlap = a < d && c < b;
    free(xs);
    free(xe);
    free(ys);
    free(ye);
    return overlap;
}

/* --parallel 1 builds one after the other; 2 lets both run at once (each build's step takes two
 * seconds, so that the second starts while the first runs). */
static void test_build_parallel(void **state)
{
    struct img_fx *f = *state;
    ct_put(f->dir, "x/Dockerfile", "FROM " TEST_IMAGE "\nRUN sleep 2; echo x > /x\n");
    ct_put(f->dir, "y/Dockerfile", "FROM " TEST_IMAGE "\nRUN sleep 2; echo y > /y\n");
    ct_put(f->dir, "compose.yaml", "services:\n  x:\n    build: x\n  y:\n    build: y\n");
    struct cb_result r;
    RUN(f, r, "--progress", "plain", "build", "--no-cache", "--parallel", "1");
    cb_assert_status(&r, 0);
    if (builds_overlap(buf_str(&r.err), f->project))
        fail_msg("--parallel 1 built at once:\n%s", buf_str(&r.err));
    cb_result_release(&r);
    RUN(f, r, "--progress", "plain", "build", "--no-cache", "--parallel", "2");
    cb_assert_status(&r, 0);
    if (!builds_overlap(buf_str(&r.err), f->project))
        fail_msg("--parallel 2 built one after the other:\n%s", buf_str(&r.err));
    cb_result_release(&r);
}

/* up --build after one of two contexts changed: only that service's container is recreated. */
static void test_up_build_recreates_changed(void **state)
{
    TL_SKIP_ON_PODMAN("Podman's build API reuses no cached layer for an unchanged context sent "
                      "again, so the unchanged service gets a new image and is recreated too");
    struct img_fx *f = *state;
    static const char dockerfile[] = "FROM " TEST_IMAGE "\nCOPY f /f\n"
                                     "CMD [\"sh\", \"-c\", \"" ST_SLEEPER "\"]\n";
    ct_put(f->dir, "one/Dockerfile", dockerfile);
    ct_put(f->dir, "one/f", "1\n");
    ct_put(f->dir, "two/Dockerfile", dockerfile);
    ct_put(f->dir, "two/f", "2\n");
    ct_put(f->dir, "compose.yaml", "services:\n  one:\n    build: one\n  two:\n    build: two\n");
    struct cb_result r;
    RUN(f, r, "up", "-d");
    cb_assert_status(&r, 0);
    cb_result_release(&r);
    char *one = xasprintf("%s-one-1", f->project), *two = xasprintf("%s-two-1", f->project);
    char *one_id = st_id(&f->env, one), *two_id = st_id(&f->env, two);

    ct_put(f->dir, "one/f", "1 changed\n");
    RUN(f, r, "--progress", "plain", "up", "-d", "--build");
    cb_assert_status(&r, 0);
    char *recreated = xasprintf("Container %s  Recreated", one);
    cb_assert_contains(buf_str(&r.err), recreated);
    cb_result_release(&r);
    char *one_again = st_id(&f->env, one), *two_again = st_id(&f->env, two);
    assert_string_not_equal(one_id, one_again);
    assert_string_equal(two_id, two_again);

    RUN(f, r, "down", "-t", "1");
    cb_assert_status(&r, 0);
    cb_result_release(&r);
    free(recreated);
    free(one_again);
    free(two_again);
    free(one_id);
    free(two_id);
    free(one);
    free(two);
}

/* push, then pull back through a loopback registry: skips, failures, --ignore-*-failures,
 * --include-deps. */
static void test_push_pull_registry(void **state)
{
    struct img_fx *f = *state;
    struct tl_registry *reg = &f->reg;
    tl_registry_start(reg);
    f->reg_on = true;
    int dead_port = tl_free_port(&f->env.loop);
    ct_put(f->dir, "ctx/Dockerfile", "FROM " TEST_IMAGE "\nRUN echo pushed > /p\n");
    char *app = xasprintf("%s/%s/app:1", reg->addr, f->project);
    char *far = xasprintf("127.0.0.1:%d/%s/far:1", dead_port, f->project);
    char *gone = xasprintf("%s/%s/gone:1", reg->addr, f->project);
    char *yaml = xasprintf("services:\n"
                           "  app:\n    build: ctx\n    image: %s\n"
                           "  only:\n    build: ctx\n"
                           "  gone:\n    image: %s\n    depends_on: [app]\n",
                           app, gone);
    ct_put(f->dir, "compose.yaml", yaml);
    struct cb_result r;
    RUN(f, r, "build", "-q");
    cb_assert_status(&r, 0);
    cb_result_release(&r);

    RUN(f, r, "--progress", "plain", "push");
    cb_assert_status(&r, 0);
    char *line = xasprintf("Image %s  Pushed", app);
    cb_assert_contains(buf_str(&r.err), line);
    free(line);
    line = xasprintf("Image %s-only  Skipped", f->project);
    cb_assert_contains(buf_str(&r.err), line);
    free(line);
    cb_result_release(&r);

    /* Gone here, back from the registry. */
    remove_image(f, app);
    assert_null(image_inspect(f, app));
    RUN(f, r, "--progress", "plain", "pull", "app", "only");
    cb_assert_status(&r, 0);
    line = xasprintf("Image %s  Pulled", app);
    cb_assert_contains(buf_str(&r.err), line);
    free(line);
    cb_assert_contains(buf_str(&r.err), "Skipped  No image to be pulled");
    cb_result_release(&r);
    json_t *j = image_inspect(f, app);
    assert_non_null(j);
    assert_string_equal(image_label(j, "com.docker.compose.service"), "app");
    json_decref(j);

    /* An image the registry does not have: named with its registry, exit 1. */
    RUN(f, r, "pull", "gone");
    cb_assert_status(&r, 1);
    line = xasprintf("cannot pull image '%s' from registry '%s'", gone, reg->addr);
    cb_assert_contains(buf_str(&r.err), line);
    free(line);
    cb_result_release(&r);
    /* --include-deps brings app along; the failure of gone is ignored. */
    remove_image(f, app);
    RUN(f, r, "pull", "--include-deps", "--ignore-pull-failures", "gone");
    cb_assert_status(&r, 0);
    cb_result_release(&r);
    j = image_inspect(f, app);
    assert_non_null(j);
    json_decref(j);

    /* A registry nobody runs: push fails naming it, unless failures are ignored. */
    char *yaml2 = xasprintf("%s  far:\n    build: ctx\n    image: %s\n", yaml, far);
    ct_put(f->dir, "compose.yaml", yaml2);
    RUN(f, r, "build", "-q", "far");
    cb_assert_status(&r, 0);
    cb_result_release(&r);
    RUN(f, r, "push", "far");
    cb_assert_status(&r, 1);
    line = xasprintf("cannot push image '%s' to registry '127.0.0.1:%d'", far, dead_port);
    cb_assert_contains(buf_str(&r.err), line);
    free(line);
    cb_result_release(&r);
    RUN(f, r, "push", "--ignore-push-failures");
    cb_assert_status(&r, 0);
    cb_result_release(&r);

    free(yaml2);
    free(yaml);
    free(app);
    free(far);
    free(gone);
}

/* A registry with htpasswd auth: push refused without credentials, accepted with the auths entry
 * of $DOCKER_CONFIG/config.json; pull likewise. */
static void test_registry_auth(void **state)
{
    struct img_fx *f = *state;
    struct tl_registry *reg = &f->reg;
    tl_registry_start_auth(reg, HTPASSWD);
    f->reg_on = true;
    ct_put(f->dir, "ctx/Dockerfile", "FROM " TEST_IMAGE "\nRUN echo secret > /s\n");
    char *app = xasprintf("%s/%s/app:1", reg->addr, f->project);
    char *yaml = xasprintf("services:\n  app:\n    build: ctx\n    image: %s\n", app);
    ct_put(f->dir, "compose.yaml", yaml);
    char *cfgdir = xasprintf("%s/docker-config", f->dir);
    char *empty = xasprintf("%s/empty-config", f->dir);
    char *cfg = xasprintf("{\"auths\": {\"http://%s\": {\"auth\": \"" HTAUTH "\"}}}\n", reg->addr);
    ct_put(f->dir, "docker-config/config.json", cfg);
    ct_put(f->dir, "empty-config/config.json", "{}\n");
    struct cb_result r;
    RUN(f, r, "build", "-q");
    cb_assert_status(&r, 0);
    cb_result_release(&r);

    setenv("DOCKER_CONFIG", empty, 1);
    RUN(f, r, "push");
    cb_assert_status(&r, 1);
    cb_assert_contains(buf_str(&r.err), "cannot push image");
    cb_result_release(&r);

    setenv("DOCKER_CONFIG", cfgdir, 1);
    RUN(f, r, "--progress", "plain", "push");
    cb_assert_status(&r, 0);
    cb_result_release(&r);
    remove_image(f, app);
    RUN(f, r, "pull");
    cb_assert_status(&r, 0);
    cb_result_release(&r);
    json_t *j = image_inspect(f, app);
    assert_non_null(j);
    json_decref(j);

    free(cfg);
    free(cfgdir);
    free(empty);
    free(yaml);
    free(app);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_build_names_labels_args, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build_failure_names_step, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build_parallel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_up_build_recreates_changed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_push_pull_registry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registry_auth, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
