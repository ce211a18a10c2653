/* sched_ensure_images against the real engine: a service with a build section and no image is
 * built, a present image is used as it is, --build rebuilds, --no-build and pull_policy never do
 * not, and a missing image that may not be pulled fails naming it. No registry is reachable, so
 * nothing here pulls. Built images are removed at teardown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/cli-test.h"
#include "tests/lib/compose-test.h"
#include "tests/lib/sched-test.h"

struct ensure_run {
    bool done;
    struct cc_error err;
    struct buf events; /* "image NAME State\n" */
};

static void on_event(const struct sched_event *ev, void *data)
{
    struct ensure_run *r = data;
    assert_int_equal(ev->kind, SCHED_RES_IMAGE);
    buf_printf(&r->events, "image %s %s\n", ev->name, sched_state_name(ev->state));
}

static void on_done(const struct cc_error *err, void *data)
{
    struct ensure_run *r = data;
    assert_false(r->done);
    r->done = true;
    if (err)
        cc_error_copy(&r->err, err);
}

static void ensure(struct st_fixture *f, const struct sched_ensure_options *o, struct ensure_run *r)
{
    memset(r, 0, sizeof(*r));
    buf_init(&r->events);
    buf_adds(&r->events, "");
    struct cc_error err = CC_ERROR_INIT;
    struct sched_ensure *e =
        sched_ensure_images(&f->env.loop, f->env.c, f->p, o, on_event, on_done, r, &err);
    if (!e)
        fail_msg("sched_ensure_images: %s", err.message);
    while (!r->done && uv_run(&f->env.loop, UV_RUN_ONCE))
        ;
    assert_true(r->done);
}

static void release(struct ensure_run *r)
{
    cc_error_release(&r->err);
    buf_release(&r->events);
}

/* "app" builds from a one-line Dockerfile; "plain" uses the test image. */
static char *add_services(struct st_fixture *f)
{
    struct compose_project *p = f->p;
    char *dir = ct_tmpdir();
    ct_put(dir, "Dockerfile", "FROM " TEST_IMAGE "\nRUN echo built > /built\n");
    struct compose_service *app = mb_service_add(p, "app", NULL);
    app->build = arena_alloc(&p->arena, sizeof(*app->build));
    memset(app->build, 0, sizeof(*app->build));
    app->build->context = arena_strdup(&p->arena, dir);
    app->build->shm_size = COMPOSE_UNSET;
    st_sleeper(p, "plain");
    mb_project_done(p);
    char *image = xasprintf("%s-app", p->name);
    tl_cleanup_image(image);
    free(image);
    return dir;
}

static void test_builds_what_is_missing(void **state)
{
    struct st_fixture *f = *state;
    char *dir = add_services(f);
    char *built = xasprintf("image %s-app Built\n", f->p->name);
    struct ensure_run r;
    ensure(f, NULL, &r);
    if (r.err.kind != CC_ERR_NONE)
        fail_msg("%s\n%s", r.err.message, buf_str(&r.events));
    cb_assert_contains(buf_str(&r.events), built);
    assert_null(strstr(buf_str(&r.events), TEST_IMAGE)); /* present: used as it is */
    release(&r);

    /* There now: nothing to do. */
    ensure(f, NULL, &r);
    assert_int_equal(r.err.kind, CC_ERR_NONE);
    assert_string_equal(buf_str(&r.events), "");
    release(&r);

    /* --build builds again; --no-build and --pull never do not. */
    struct sched_ensure_options o = {.build = SCHED_ENSURE_BUILD_ALWAYS};
    ensure(f, &o, &r);
    assert_int_equal(r.err.kind, CC_ERR_NONE);
    cb_assert_contains(buf_str(&r.events), built);
    release(&r);
    o = (struct sched_ensure_options){.build = SCHED_ENSURE_BUILD_NEVER, .pull = "never"};
    ensure(f, &o, &r);
    assert_int_equal(r.err.kind, CC_ERR_NONE);
    assert_string_equal(buf_str(&r.events), "");
    release(&r);

    /* Only the named service (and what it depends on) is looked at. */
    const char *only[] = {"plain"};
    o = (struct sched_ensure_options){
        .build = SCHED_ENSURE_BUILD_ALWAYS, .services = only, .n_services = 1};
    ensure(f, &o, &r);
    assert_int_equal(r.err.kind, CC_ERR_NONE);
    assert_string_equal(buf_str(&r.events), "");
    release(&r);
    free(built);
    ct_rmdir(dir);
    free(dir);
}

static void test_missing_image_that_may_not_be_pulled(void **state)
{
    struct st_fixture *f = *state;
    struct compose_service *s = mb_service_add(f->p, "gone", "ccit-nosuch/image:1");
    s->pull_policy = "never";
    mb_project_done(f->p);
    struct ensure_run r;
    ensure(f, NULL, &r);
    assert_int_equal(r.err.kind, CC_ERR_NOT_FOUND);
    cb_assert_contains(r.err.message, "ccit-nosuch/image:1");
    cb_assert_contains(buf_str(&r.events), "image ccit-nosuch/image:1 Error\n");
    release(&r);

    /* --pull never overrides a policy that would pull. */
    s->pull_policy = NULL;
    struct sched_ensure_options o = {.pull = "never"};
    ensure(f, &o, &r);
    assert_int_equal(r.err.kind, CC_ERR_NOT_FOUND);
    release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_builds_what_is_missing, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_missing_image_that_may_not_be_pulled, st_setup,
                                        st_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, tl_group_teardown);
}
