/* pull_policy decisions and registry names, without an engine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/images.h"
#include "tests/lib/model-builder.h"

#define HOUR (3600 * INT64_C(1000000000))

struct policy_case {
    const char *policy;
    bool buildable;
    bool exists;
    int64_t age;
    int rc;
    enum sched_image_action action;
};

static const struct policy_case policy_cases[] = {
    {NULL, false, true, -1, 0, SCHED_IMAGE_USE},
    {NULL, false, false, -1, 0, SCHED_IMAGE_PULL},
    {NULL, true, false, -1, 0, SCHED_IMAGE_BUILD},
    {"missing", true, true, -1, 0, SCHED_IMAGE_USE},
    {"if_not_present", false, false, -1, 0, SCHED_IMAGE_PULL},
    {"always", false, true, -1, 0, SCHED_IMAGE_PULL},
    {"always", true, true, -1, 0, SCHED_IMAGE_PULL},
    {"never", false, true, -1, 0, SCHED_IMAGE_USE},
    {"never", true, false, -1, 0, SCHED_IMAGE_BUILD},
    {"never", false, false, -1, -1, 0},
    {"build", true, true, -1, 0, SCHED_IMAGE_BUILD},
    {"build", false, true, -1, -1, 0},
    {"daily", false, true, 2 * HOUR, 0, SCHED_IMAGE_USE},
    {"daily", false, true, 25 * HOUR, 0, SCHED_IMAGE_PULL},
    {"daily", false, true, -1, 0, SCHED_IMAGE_PULL},
    {"daily", false, false, -1, 0, SCHED_IMAGE_PULL},
    {"weekly", false, true, 100 * HOUR, 0, SCHED_IMAGE_USE},
    {"weekly", false, true, 200 * HOUR, 0, SCHED_IMAGE_PULL},
    {"every_12h", false, true, 11 * HOUR, 0, SCHED_IMAGE_USE},
    {"every_12h", false, true, 12 * HOUR, 0, SCHED_IMAGE_PULL},
    {"every_1h30m", false, true, HOUR, 0, SCHED_IMAGE_USE},
    {"every_x", false, true, HOUR, -1, 0},
    {"sometimes", false, true, HOUR, -1, 0},
};

static void test_pull_policy(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof(policy_cases) / sizeof(policy_cases[0]); k++) {
        const struct policy_case *c = &policy_cases[k];
        struct compose_project *p = mb_project_new("demo", "/srv/demo");
        struct compose_service *s = mb_service_add(p, "web", "example/web:1");
        s->pull_policy = c->policy;
        if (c->buildable) {
            s->build = arena_alloc(&p->arena, sizeof(*s->build));
            memset(s->build, 0, sizeof(*s->build));
            s->build->context = "/srv/demo";
        }
        enum sched_image_action a = 99;
        struct cc_error err = CC_ERROR_INIT;
        int rc = sched_image_action(s, c->exists, c->age, &a, &err);
        if (rc != c->rc || (rc == 0 && a != c->action))
            fail_msg("case %zu (%s): rc %d action %d", k, c->policy ? c->policy : "unset", rc,
                     (int)a);
        if (rc < 0) {
            assert_int_equal(a, 99); /* written only on success */
            assert_non_null(err.message);
            assert_non_null(strstr(err.message, c->policy));
        }
        cc_error_release(&err);
        compose_project_free(p);
    }
}

static void test_policy_messages(void **state)
{
    (void)state;
    struct compose_project *p = mb_project_new("demo", "/srv/demo");
    struct compose_service *s = mb_service_add(p, "web", "example/web:1");
    struct cc_error err = CC_ERROR_INIT;
    enum sched_image_action a;
    s->pull_policy = "never";
    assert_int_equal(sched_image_action(s, false, -1, &a, &err), -1);
    assert_int_equal(err.kind, CC_ERR_NOT_FOUND);
    assert_string_equal(err.message,
                        "image 'example/web:1' of service 'web' is not here and pull_policy is "
                        "'never'");
    s->pull_policy = "sometimes";
    assert_int_equal(sched_image_action(s, true, -1, &a, &err), -1);
    assert_int_equal(err.kind, CC_ERR_INVALID_CONFIG);
    assert_string_equal(err.message, "service 'web' has an invalid pull_policy 'sometimes'");
    cc_error_release(&err);
    compose_project_free(p);
}

static void test_registry(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"busybox", "docker.io"},
        {"library/busybox:1", "docker.io"},
        {"127.0.0.1:5000/x/y:t", "127.0.0.1:5000"},
        {"ghcr.io/o/r@sha256:abc", "ghcr.io"},
        {"localhost/x", "localhost"},
        {"localhostx/x", "docker.io"},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        char *r = sched_image_registry(cases[k][0]);
        assert_string_equal(r, cases[k][1]);
        free(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pull_policy),
        cmocka_unit_test(test_policy_messages),
        cmocka_unit_test(test_registry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
