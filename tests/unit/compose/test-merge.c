/* Merging compose trees: each key category of the Compose Specification's merge rules and
 * compose-go's special cases, !reset and !override, unicity, and merge errors with positions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "compose/assemble-internal.h"

static struct arena A;

static int setup(void **state)
{
    (void)state;
    arena_init(&A);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    arena_release(&A);
    return 0;
}

/* A compact flow rendering of a tree, for exact comparisons. */
static void dump(struct buf *b, const struct cnode *n)
{
    if (n->kind == CNODE_SCALAR) {
        buf_adds(b, cnode_is_null(n) ? "~" : n->value);
    } else if (n->kind == CNODE_MAPPING) {
        buf_adds(b, "{");
        for (size_t i = 0; i < n->npairs; i++) {
            buf_printf(b, "%s%s: ", i ? ", " : "", n->pairs[i].key->value);
            dump(b, n->pairs[i].value);
        }
        buf_adds(b, "}");
    } else {
        buf_adds(b, "[");
        for (size_t i = 0; i < n->nitems; i++) {
            buf_adds(b, i ? ", " : "");
            dump(b, n->items[i]);
        }
        buf_adds(b, "]");
    }
}

static struct cnode *parse(const char *name, const char *yaml)
{
    struct cnode_file *f;
    struct cc_error err = CC_ERROR_INIT;
    assert_int_equal(cnode_load_buffer(&A, name, yaml, strlen(yaml), &f, &err), 0);
    assert_int_equal(f->ndocs, 1);
    return f->docs[0];
}

/* Merges base and over, unicity applied, and checks the service `s` renders as want. */
static void check(const char *base, const char *over, const char *want)
{
    struct cnode *root;
    struct cc_error err = CC_ERROR_INIT;
    assert_int_equal(
        asm_merge_root(
            &A, asm_merge_root(&A, NULL, parse("a.yaml", base), &root, &err) == 0 ? root : NULL,
            parse("b.yaml", over), &root, &err),
        0);
    root = asm_unique(&A, root);
    struct buf b = BUF_INIT;
    dump(&b, cnode_get(cnode_get(root, "services"), "s"));
    assert_string_equal(buf_str(&b), want);
    buf_release(&b);
    cc_error_release(&err);
}

static void test_scalars_and_mappings(void **state)
{
    (void)state;
    check("services: {s: {image: a, user: root, healthcheck: {interval: 5s, retries: 3}}}",
          "services: {s: {image: b, healthcheck: {retries: 5}, init: true}}",
          "{image: b, user: root, healthcheck: {interval: 5s, retries: 5}, init: true}");
    /* A null over a value keeps it, as compose-go. */
    check("services: {s: {image: a}}", "services: {s: {image: ~}}", "{image: a}");
}

static void test_replaced(void **state)
{
    (void)state;
    check("services: {s: {command: [echo, a], entrypoint: sh, healthcheck: {test: [CMD, a]}}}",
          "services: {s: {command: [echo, b], entrypoint: [bash], healthcheck: {test: [CMD, b]}}}",
          "{command: [echo, b], entrypoint: [bash], healthcheck: {test: [CMD, b]}}");
    check("services: {s: {ulimits: {nofile: {soft: 1, hard: 2}, nproc: 5}}}",
          "services: {s: {ulimits: {nofile: {soft: 3}}}}",
          "{ulimits: {nofile: {soft: 3}, nproc: 5}}");
}

static void test_by_key(void **state)
{
    (void)state;
    check("services: {s: {environment: [A=1, B=2, C], labels: {x: '1'}}}",
          "services: {s: {environment: {B: 3, D: 4}, labels: [y=2, x=3]}}",
          "{environment: {A: 1, B: 3, C: ~, D: 4}, labels: {x: 3, y: 2}}");
    check("services: {s: {build: {context: ., args: [V=1]}, sysctls: [a=1]}}",
          "services: {s: {build: {args: {V: 2, W: 3}}, sysctls: {b: 2}}}",
          "{build: {context: ., args: {V: 2, W: 3}}, sysctls: {a: 1, b: 2}}");
    check("services: {s: {extra_hosts: ['db:10.0.0.1', 'x=10.0.0.9']}}",
          "services: {s: {extra_hosts: {db: 10.0.0.2}}}",
          "{extra_hosts: {db: 10.0.0.2, x: 10.0.0.9}}");
}

static void test_forms(void **state)
{
    (void)state;
    check("services: {s: {build: ./app}}", "services: {s: {build: {target: dev}}}",
          "{build: {context: ./app, target: dev}}");
    check("services: {s: {depends_on: [db, cache]}}",
          "services: {s: {depends_on: {db: {condition: service_healthy}}}}",
          "{depends_on: {db: {condition: service_healthy, required: true}, cache: {condition: "
          "service_started, required: true}}}");
    check("services: {s: {networks: [front]}}",
          "services: {s: {networks: {front: {aliases: [a]}, back: ~}}}",
          "{networks: {front: {aliases: [a]}, back: ~}}");
    check("services: {s: {dns: 1.1.1.1, tmpfs: /run}}",
          "services: {s: {dns: [8.8.8.8, 1.1.1.1], tmpfs: [/tmp]}}",
          "{dns: [1.1.1.1, 8.8.8.8], tmpfs: [/run, /tmp]}");
    check("services: {s: {logging: {driver: json-file, options: {max-size: 1m}}}}",
          "services: {s: {logging: {driver: syslog, options: {tag: x}}}}",
          "{logging: {driver: syslog, options: {tag: x}}}");
    check("services: {s: {logging: {driver: json-file, options: {max-size: 1m}}}}",
          "services: {s: {logging: {options: {max-file: '3'}}}}",
          "{logging: {driver: json-file, options: {max-size: 1m, max-file: 3}}}");
}

static void test_unique_sequences(void **state)
{
    (void)state;
    check("services: {s: {ports: ['8080:80', '443'], volumes: [data:/data, ./a:/a]}}",
          "services: {s: {ports: [{target: 80, published: 8080}, '9000:90/udp'], volumes: "
          "[other:/data, {type: bind, source: ./b, target: /b}]}}",
          "{ports: [{target: 80, published: 8080}, 443, 9000:90/udp], volumes: [other:/data, "
          "./a:/a, {type: bind, source: ./b, target: /b}]}");
    check("services: {s: {secrets: [a, {source: b, target: /x}], configs: [c], expose: [80]}}",
          "services: {s: {secrets: [{source: a, mode: 0400}, {source: z, target: /x}], configs: "
          "[{source: c, target: /c}], expose: ['80', 81]}}",
          "{secrets: [{source: a, mode: 0400}, {source: z, target: /x}], configs: [{source: c, "
          "target: /c}], expose: [80, 81]}");
    check("services: {s: {cap_add: [NET_ADMIN], security_opt: [a], profiles: [x], devices: "
          "['/dev/a:/dev/a']}}",
          "services: {s: {cap_add: [NET_ADMIN, SYS_TIME], security_opt: [a], profiles: [x, y], "
          "devices: ['/dev/b:/dev/a:r']}}",
          "{cap_add: [NET_ADMIN, SYS_TIME], security_opt: [a, a], profiles: [x, y], devices: "
          "[/dev/b:/dev/a:r]}");
}

static void test_reset_override(void **state)
{
    (void)state;
    check("services: {s: {image: a, ports: ['80:80'], environment: {FOO: bar, X: y}}}",
          "services: {s: {ports: !reset [], environment: {FOO: !reset null}}}",
          "{image: a, environment: {X: y}}");
    check("services: {s: {ports: ['80:80'], environment: {A: 1}}}",
          "services: {s: {ports: !override ['443:443'], environment: !override {B: 2}}}",
          "{ports: [443:443], environment: {B: 2}}");
    /* !reset in a layer with nothing under it just disappears. */
    check("services: {s: {image: a}}", "services: {s: {user: !reset x, ports: [!reset '1:1']}}",
          "{image: a, ports: []}");
}

static void test_x_keys_replaced(void **state)
{
    (void)state;
    check("services: {s: {x-a: {k: 1}, labels: {a: b}}}", "services: {s: {x-a: {j: 2}}}",
          "{x-a: {j: 2}, labels: {a: b}}");
}

static void test_cannot_merge(void **state)
{
    (void)state;
    struct cnode *root;
    struct cc_error err = CC_ERROR_INIT;
    struct cnode *a = parse("a.yaml", "services:\n  s:\n    volumes: [a:/a]\n");
    struct cnode *b = parse("b.yaml", "services:\n  s:\n    volumes:\n      a: b\n");
    assert_int_equal(asm_merge_root(&A, a, b, &root, &err), -1);
    assert_int_equal(err.kind, CC_ERR_INVALID_CONFIG);
    assert_string_equal(err.file, "b.yaml");
    assert_int_equal(err.line, 4);
    assert_int_equal(err.col, 7);
    assert_string_equal(err.message, "'services.s.volumes' is a mapping here but a sequence in "
                                     "'a.yaml' (line 3), which cannot be merged");
    assert_string_equal(err.hint, "write it as a sequence like the earlier file, or tag it "
                                  "!override to replace the earlier value");
    cc_error_release(&err);
}

static void test_kv_positions(void **state)
{
    (void)state;
    struct cnode *root;
    struct cc_error err = CC_ERROR_INIT;
    struct cnode *a = parse("a.yaml", "services:\n  s:\n    environment: {A: 1}\n");
    struct cnode *b = parse("b.yaml", "services:\n  s:\n    environment:\n      - B=two\n");
    assert_int_equal(asm_merge_root(&A, a, b, &root, &err), 0);
    const struct cnode *env = cnode_get(cnode_get(cnode_get(root, "services"), "s"), "environment");
    const struct cnode *v = cnode_get(env, "B");
    assert_string_equal(v->file, "b.yaml");
    assert_int_equal(v->line, 4);
    assert_int_equal(v->col, 11);
    assert_int_equal(cnode_resolve(v).type, CNODE_TYPE_STRING);
    cc_error_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_scalars_and_mappings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_by_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unique_sequences, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_override, setup, teardown),
        cmocka_unit_test_setup_teardown(test_x_keys_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cannot_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kv_positions, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
