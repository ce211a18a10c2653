/* compose_project_dump(): the printed project loads again to the same model (printing it twice
 * gives the same text), in YAML and JSON, with docker compose's normal forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/compose-test.h"

static const char *const full =
    "services:\n"
    "  web:\n"
    "    image: nginx:1.25\n"
    "    command: sh -c 'echo \"hi\" $$HOME'\n"
    "    entrypoint: []\n"
    "    environment: [A=1, B=yes, C=012, 'D=two\\nlines', E]\n"
    "    labels: {x: 'true'}\n"
    "    ports: ['127.0.0.1:8080:80/udp', '9000-9001:90-91', {target: 443, mode: host}]\n"
    "    volumes:\n"
    "      - ./data:/data:ro,z\n"
    "      - cache:/cache:nocopy\n"
    "      - /anon\n"
    "      - {type: tmpfs, target: /tmp, tmpfs: {size: 1m, mode: 0700}}\n"
    /* Found by fuzz-compose-load: Windows sources are kept as written in both syntaxes, so the
     * long form printed reads back the same (a drive-relative one was made absolute). */
    "      - d:t/x:/win:ro\n"
    "      - {type: bind, source: 'C:/w', target: /w2}\n"
    "    depends_on:\n"
    "      db: {condition: service_healthy, restart: true}\n"
    "    healthcheck: {test: [CMD, curl, -f, x], interval: 1m30s, timeout: 500ms, retries: 3}\n"
    "    deploy:\n"
    "      replicas: 2\n"
    "      resources: {limits: {cpus: '1.5', memory: 1g}, reservations: {pids: 10}}\n"
    "      restart_policy: {condition: on-failure, max_attempts: 3, delay: 5s}\n"
    "      placement: {constraints: [node.role==manager], preferences: [{spread: a}]}\n"
    "    networks:\n"
    "      front: {aliases: [www], priority: 5}\n"
    "      back:\n"
    "    ulimits: {nofile: {soft: 1, hard: 2}, nproc: 3}\n"
    "    extra_hosts: ['h=1.2.3.4']\n"
    "    secrets: [token, {source: cert, target: /c, mode: 0400}]\n"
    "    configs: [app]\n"
    "    logging: {driver: json-file, options: {max-size: 1m}}\n"
    "    stop_grace_period: 1h\n"
    "    init: false\n"
    "    mem_limit: 1g\n"
    "    cpus: 1.5\n"
    "    devices: ['/dev/fuse']\n"
    "    x-ccompose: {restart_on_unhealthy: true}\n"
    "  db:\n"
    /* Found by fuzz-compose-load: an additional context without a value is printed as "" and
     * must stay empty when read back (it was made the project directory). */
    "    build: {context: ./db, args: {V: '1'}, shm_size: 64m, additional_contexts: {base: }}\n"
    "    profiles: [all]\n"
    "    healthcheck: {disable: true}\n"
    "    network_mode: none\n"
    "networks:\n"
    "  front: {driver: bridge, ipam: {config: [{subnet: 10.5.0.0/16}]}, enable_ipv6: false}\n"
    "  back: {external: true, name: shared}\n"
    "volumes:\n"
    "  cache: {labels: [a=b]}\n"
    "secrets:\n"
    "  token: {file: ./t}\n"
    "  cert: {environment: CERT}\n"
    "configs:\n"
    "  app: {content: 'x: 1'}\n";

static char *dump(const struct compose_project *p, enum compose_dump_format f)
{
    char *text = NULL;
    struct cc_error err = CC_ERROR_INIT;
    assert_int_equal(compose_project_dump(p, f, 0, &text, &err), 0);
    cc_error_release(&err);
    return text;
}

static void test_yaml_fixpoint(void **state)
{
    (void)state;
    static const char *const env[] = {"COMPOSE_PROFILES=all", NULL};
    struct ct_load r, again;
    ct_load_text(&r, full, env);
    ct_assert_ok(&r);
    char *first = dump(r.p, COMPOSE_DUMP_YAML);
    ct_load_text(&again, first, env);
    if (again.rc != 0)
        print_message("%s", first);
    ct_assert_ok(&again);
    char *second = dump(again.p, COMPOSE_DUMP_YAML);
    assert_string_equal(first, second);
    /* docker compose's forms. */
    assert_true(strncmp(first, "name: test\nservices:\n", 21) == 0);
    assert_non_null(strstr(first, "      B: \"yes\"\n"));
    assert_non_null(strstr(first, "      C: \"012\"\n"));
    assert_non_null(strstr(first, "      E: null\n"));
    assert_non_null(strstr(first, "    stop_grace_period: 1h0m0s\n"));
    assert_non_null(strstr(first, "      interval: 1m30s\n"));
    assert_non_null(strstr(first, "      source: /srv/app/data\n"));
    assert_non_null(strstr(first, "      source: d:t/x\n"));
    assert_non_null(strstr(first, "      source: C:/w\n"));
    assert_non_null(strstr(first, "      published: \"8080\"\n"));
    assert_non_null(strstr(first, "    entrypoint: []\n"));
    assert_non_null(strstr(first, "    - echo \"hi\" $$HOME\n"));
    free(first);
    free(second);
    ct_release(&again);
    ct_release(&r);
}

static void test_json_fixpoint(void **state)
{
    (void)state;
    static const char *const env[] = {"COMPOSE_PROFILES=all", NULL};
    struct ct_load r, again;
    ct_load_text(&r, full, env);
    ct_assert_ok(&r);
    char *first = dump(r.p, COMPOSE_DUMP_JSON);
    ct_load_text(&again, first, env); /* JSON is YAML */
    ct_assert_ok(&again);
    char *second = dump(again.p, COMPOSE_DUMP_JSON);
    assert_string_equal(first, second);
    assert_true(strncmp(first, "{\n  \"name\": \"test\",\n  \"services\": {", 34) == 0);
    free(first);
    free(second);
    ct_release(&again);
    ct_release(&r);
}

/* YAML is written section by section without a whole tree; JSON from one: both must say the
 * same, in the same order (sections as docker compose, keys sorted below them). */
static void test_yaml_and_json_agree(void **state)
{
    (void)state;
    static const char *const env[] = {"COMPOSE_PROFILES=all", NULL};
    static const char text[] = "services:\n"
                               "  zeta: {image: z, networks: [back], volumes: ['bb:/b', 'aa:/a']}\n"
                               "  alpha: {image: a, environment: {B: '1', A: '2'}}\n"
                               "volumes: {bb: {}, aa: {}}\n"
                               "networks: {back: {}}\n";
    struct ct_load r, from_yaml, from_json;
    ct_load_text(&r, text, env);
    ct_assert_ok(&r);
    char *yaml = dump(r.p, COMPOSE_DUMP_YAML);
    char *json = dump(r.p, COMPOSE_DUMP_JSON);
    const char *order[] = {"name:", "services:", "  alpha:", "      A:", "      B:", "  zeta:",
                           "networks:", "  back:", "volumes:", "  aa:", "  bb:"};
    const char *at = yaml;
    for (size_t i = 0; i < sizeof(order) / sizeof(*order); i++) {
        const char *next = strstr(at, order[i]);
        if (!next)
            fail_msg("'%s' missing or out of order in:\n%s", order[i], yaml);
        at = next;
    }
    ct_load_text(&from_yaml, yaml, env);
    ct_load_text(&from_json, json, env);
    ct_assert_ok(&from_yaml);
    ct_assert_ok(&from_json);
    char *a = dump(from_yaml.p, COMPOSE_DUMP_YAML), *b = dump(from_json.p, COMPOSE_DUMP_YAML);
    assert_string_equal(a, b);
    assert_string_equal(a, yaml);
    free(a);
    free(b);
    free(yaml);
    free(json);
    ct_release(&from_json);
    ct_release(&from_yaml);
    ct_release(&r);
}

/* `config` writes YAML as it is made (compose_project_write()): the same text as the dump. */
static void test_write_streams_the_dump(void **state)
{
    (void)state;
    static const char *const env[] = {"COMPOSE_PROFILES=all", NULL};
    struct ct_load r;
    ct_load_text(&r, full, env);
    ct_assert_ok(&r);
    char *text = dump(r.p, COMPOSE_DUMP_YAML);
    for (int f = COMPOSE_DUMP_YAML; f <= COMPOSE_DUMP_JSON; f++) {
        char *written = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&written, &len);
        assert_non_null(out);
        struct cc_error err = CC_ERROR_INIT;
        assert_int_equal(compose_project_write(r.p, f, 0, out, &err), 0);
        assert_int_equal(fclose(out), 0);
        char *want = f == COMPOSE_DUMP_YAML ? NULL : dump(r.p, COMPOSE_DUMP_JSON);
        assert_string_equal(written, want ? want : text);
        free(want);
        free(written);
    }
    free(text);
    ct_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yaml_fixpoint),
        cmocka_unit_test(test_json_fixpoint),
        cmocka_unit_test(test_yaml_and_json_agree),
        cmocka_unit_test(test_write_streams_the_dump),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
