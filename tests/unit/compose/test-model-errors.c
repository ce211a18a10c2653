/* Files the model rejects, each error with its exact file:line:col and words, reported all at
 * once in file order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "tests/lib/compose-test.h"

static void test_unknown_keys(void **state)
{
    (void)state;
    struct ct_load r;
    ct_load_text(&r,
                 "services:\n"
                 "  web:\n"
                 "    image: x\n"
                 "    imgae: y\n"
                 "    x-note: fine\n"
                 "    healthcheck:\n"
                 "      tset: [CMD, true]\n"
                 "servces: {}\n"
                 "x-top: fine\n",
                 NULL);
    ct_assert_error(&r, 0, 4, 5, "unknown key 'imgae' in service 'web'");
    assert_string_equal(r.diag.errors[0].key_path, "services.web.imgae");
    assert_non_null(strstr(r.diag.errors[0].hint, "x-"));
    ct_assert_error(&r, 1, 7, 7, "unknown key 'tset' in healthcheck");
    ct_assert_error(&r, 2, 8, 1, "unknown key 'servces' in the top level");
    assert_int_equal(r.diag.n_errors, 3);
    assert_string_equal(r.diag.errors[0].file, "-");
    /* The returned error is the first one. */
    assert_int_equal(r.err.line, 4);
    ct_release(&r);
}

static void test_wrong_types(void **state)
{
    (void)state;
    static const struct ct_want want[] = {
        {3, 12, "'services.web.image' must be a string, not a sequence"},
        {4, 17, "'services.web.privileged' must be a boolean, not 'maybe'"},
        {5, 12, "'services.web.scale' must be a whole number, not 'two'"},
        {7, 9, "invalid port '70000:80'"},
        {8, 24, "'services.web.stop_grace_period' is not a valid duration"},
        {9, 16, "'services.web.mem_limit' is not a valid size"},
        {10, 14, "'services.web.cap_add' must be a list, not a string"},
        {11, 20, "'services.web.oom_score_adj' is 2000, out of range"},
    };
    ct_expect_errors("services:\n"
                     "  web:\n"
                     "    image: [x]\n"
                     "    privileged: maybe\n"
                     "    scale: two\n"
                     "    ports:\n"
                     "      - \"70000:80\"\n"
                     "    stop_grace_period: soon\n"
                     "    mem_limit: lots\n"
                     "    cap_add: NET_ADMIN\n"
                     "    oom_score_adj: 2000\n",
                     want, CC_ARRAY_LEN(want));
}

static void test_references(void **state)
{
    (void)state;
    struct ct_load r;
    ct_load_text(&r,
                 "services:\n"
                 "  web:\n"
                 "    image: x\n"
                 "    depends_on:\n"
                 "      - db\n"
                 "    networks: [front]\n"
                 "    volumes:\n"
                 "      - data:/data\n"
                 "    secrets: [token]\n"
                 "  side:\n"
                 "    image: x\n"
                 "    network_mode: service:nothere\n"
                 "    links: [ghost]\n",
                 NULL);
    ct_assert_error(&r, 0, 5, 9, "'db' in services.web.depends_on is not a service");
    assert_string_equal(r.diag.errors[0].hint,
                        "define 'db' under services, or remove it from depends_on");
    ct_assert_error(&r, 1, 6, 16, "service 'web' uses network 'front', which is not declared");
    ct_assert_error(&r, 2, 8, 9, "service 'web' uses volume 'data', which is not declared");
    ct_assert_error(&r, 3, 9, 15, "service 'web' uses secret 'token', which is not declared");
    ct_assert_error(&r, 4, 10, 3, "'ghost' in services.side.links is not a service");
    ct_assert_error(&r, 5, 10, 3, "'nothere' in services.side.network_mode is not a service");
    assert_int_equal(r.diag.n_errors, 6);
    ct_release(&r);
}

static void test_cycle_and_names(void **state)
{
    (void)state;
    static const struct ct_want want[] = {
        {10, 18, "dependency cycle: a -> b -> c -> a"},
        {12, 3, "services 'c' and 'd' have the same container_name 'same'"},
        {15, 3, "service 'e' has container_name 'one' and 2 replicas"},
    };
    ct_expect_errors("services:\n"
                     "  a:\n"
                     "    image: x\n"
                     "    depends_on: [b]\n"
                     "  b:\n"
                     "    image: x\n"
                     "    depends_on: [c]\n"
                     "  c:\n"
                     "    image: x\n"
                     "    depends_on: [a]\n"
                     "    container_name: same\n"
                     "  d:\n"
                     "    image: x\n"
                     "    container_name: same\n"
                     "  e:\n"
                     "    image: x\n"
                     "    container_name: one\n"
                     "    deploy:\n"
                     "      replicas: 2\n",
                     want, CC_ARRAY_LEN(want));
}

static void test_profiles_dependency(void **state)
{
    (void)state;
    static const char *const text = "services:\n"
                                    "  web:\n"
                                    "    image: x\n"
                                    "    depends_on:\n"
                                    "      tools:\n"
                                    "        condition: service_started\n"
                                    "  tools:\n"
                                    "    image: x\n"
                                    "    profiles: [debug]\n";
    struct ct_load r;
    ct_load_text(&r, text, NULL);
    ct_assert_error(&r, 0, 5, 7,
                    "service 'web' depends on 'tools', which is not enabled by any profile");
    ct_release(&r);

    /* Optional: the dependency is dropped. */
    ct_load_text(&r,
                 "services:\n"
                 "  web:\n"
                 "    image: x\n"
                 "    depends_on:\n"
                 "      tools:\n"
                 "        condition: service_started\n"
                 "        required: false\n"
                 "  tools:\n"
                 "    image: x\n"
                 "    profiles: [debug]\n",
                 NULL);
    ct_assert_ok(&r);
    assert_int_equal(compose_project_service(r.p, "web")->n_depends_on, 0);
    ct_release(&r);
}

static void test_bad_forms(void **state)
{
    (void)state;
    static const struct ct_want want[] = {
        {4, 14, "'services.web.restart' is not a restart policy: 'sometimes'"},
        {7, 20, "is not a condition: 'service_ready'"},
        {9, 9, "'services.web.volumes[0]' has no source"},
        {12, 13, "must start with CMD, CMD-SHELL or NONE"},
        {14, 33,
         "'services.web.ports[0].published' is not a port or a port "
         "range: '99999'"},
        {18, 7, "unknown key 'contxt' in build"},
        {20, 5, "service 'nothing' has neither an image nor a build context"},
    };
    ct_expect_errors("services:\n"
                     "  web:\n"
                     "    image: x\n"
                     "    restart: sometimes\n"
                     "    depends_on:\n"
                     "      db:\n"
                     "        condition: service_ready\n"
                     "    volumes:\n"
                     "      - type: bind\n"
                     "        target: /x\n"
                     "    healthcheck:\n"
                     "      test: [RUN, x]\n"
                     "    ports:\n"
                     "      - {target: 80, published: 99999}\n"
                     "  db:\n"
                     "    build:\n"
                     "      dockerfile: 3\n"
                     "      contxt: .\n"
                     "  nothing:\n"
                     "    restart: always\n",
                     want, CC_ARRAY_LEN(want));
}

static void test_resources(void **state)
{
    (void)state;
    static const struct ct_want want[] = {
        {7, 5, "network 'ext' is external and cannot set 'driver'"},
        {10, 5, "unknown key 'drivr' in volume 'v'"},
        {12, 3, "secret 's' needs exactly one source"},
        {15, 3, "secret 't' cannot take content:"},
        {18, 3, "config 'c' needs exactly one source"},
    };
    ct_expect_errors("services:\n"
                     "  web:\n"
                     "    image: x\n"
                     "networks:\n"
                     "  ext:\n"
                     "    external: true\n"
                     "    driver: bridge\n"
                     "volumes:\n"
                     "  v:\n"
                     "    drivr: local\n"
                     "secrets:\n"
                     "  s:\n"
                     "    file: ./a\n"
                     "    environment: B\n"
                     "  t:\n"
                     "    content: x\n"
                     "configs:\n"
                     "  c: {}\n"
                     "  d:\n"
                     "    driver: vault\n",
                     want, CC_ARRAY_LEN(want));
}

static void test_consistency(void **state)
{
    (void)state;
    static const struct ct_want want[] = {
        {2, 3, "service 'web' sets different values in mem_limit and deploy"},
        {4, 7, "service 'web' sets both dockerfile and dockerfile_inline"},
        {6, 17, "service 'web' uses build secret 'npm', which is not declared"},
        {11, 3, "service 'db' sets scale: 2 and deploy.replicas: 3"},
    };
    ct_expect_errors("services:\n"
                     "  web:\n"
                     "    build:\n"
                     "      dockerfile: Dockerfile\n"
                     "      dockerfile_inline: FROM scratch\n"
                     "      secrets: [npm]\n"
                     "    mem_limit: 1g\n"
                     "    deploy:\n"
                     "      resources: {limits: {memory: 2g}}\n"
                     "    scale: 2\n"
                     "  db:\n"
                     "    image: x\n"
                     "    scale: 2\n"
                     "    deploy: {replicas: 3}\n",
                     want, CC_ARRAY_LEN(want));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_keys),        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_references),          cmocka_unit_test(test_cycle_and_names),
        cmocka_unit_test(test_profiles_dependency), cmocka_unit_test(test_bad_forms),
        cmocka_unit_test(test_resources),           cmocka_unit_test(test_consistency),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
