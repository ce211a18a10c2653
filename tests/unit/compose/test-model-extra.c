/* The less common keys (compose/model-extra.c and friends): each one parsed into the model, wrong
 * types and values rejected at file:line:col, the warnings for what the engine cannot apply, and
 * `config` printing them so that they load again to the same text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/compose-test.h"

static const char *const keys_text =
    "services:\n"
    "  web:\n"
    "    image: nginx\n"
    "    attach: false\n"
    "    cpu_count: 2\n"
    "    cpu_percent: 50\n"
    "    cpu_rt_period: 1400us\n"
    "    cpu_rt_runtime: 400\n"
    "    mem_swappiness: 10\n"
    "    blkio_config:\n"
    "      weight: 300\n"
    "      weight_device: [{path: /dev/sda, weight: 400}]\n"
    "      device_read_bps: [{path: /dev/sda, rate: 12mb}]\n"
    "      device_write_bps: [{path: /dev/sda, rate: 1024}]\n"
    "      device_read_iops: [{path: /dev/sda, rate: 120}]\n"
    "      device_write_iops: [{path: /dev/sdb, rate: 30}]\n"
    "    device_cgroup_rules: ['c 1:3 mr', 'a 7:* rmw']\n"
    "    gpus:\n"
    "      - driver: nvidia\n"
    "        count: 2\n"
    "        options: {virtualization: 'false'}\n"
    "      - device_ids: ['0', '3']\n"
    "    isolation: default\n"
    "    runtime: runc\n"
    "    uts: host\n"
    "    credential_spec: {file: spec.json}\n"
    "    post_start:\n"
    "      - command: echo started\n"
    "        user: root\n"
    "        privileged: true\n"
    "        working_dir: /tmp\n"
    "        environment: [A=1]\n"
    "    pre_stop:\n"
    "      - command: [sh, -c, 'echo bye']\n"
    "    deploy:\n"
    "      resources:\n"
    "        reservations:\n"
    "          devices:\n"
    "            - capabilities: [gpu, utility]\n"
    "              count: all\n"
    "              driver: nvidia\n"
    "          generic_resources:\n"
    "            - discrete_resource_spec: {kind: SSD, value: 2}\n"
    "    build:\n"
    "      context: .\n"
    "      isolation: process\n"
    "      ulimits: {nofile: {soft: 10, hard: 20}, nproc: 5}\n"
    "      additional_contexts: {base: ./base, img: 'docker-image://alpine'}\n"
    "      privileged: false\n"
    "      provenance: false\n"
    "      sbom: 'false'\n";

static void test_service_keys(void **state)
{
    (void)state;
    struct ct_load r;
    ct_load_text(&r, keys_text, NULL);
    ct_assert_ok(&r);
    const struct compose_service *s = &r.p->services[0];
    assert_int_equal(s->attach, COMPOSE_TRI_FALSE);
    assert_int_equal(s->cpu_count, 2);
    assert_int_equal(s->cpu_percent, 50);
    assert_int_equal(s->cpu_rt_period, 1400);
    assert_int_equal(s->cpu_rt_runtime, 400);
    assert_int_equal(s->mem_swappiness, 10);
    const struct compose_blkio *b = &s->blkio_config;
    assert_true(b->set);
    assert_int_equal(b->weight, 300);
    assert_int_equal(b->weight_device.n, 1);
    assert_string_equal(b->weight_device.v[0].path, "/dev/sda");
    assert_int_equal(b->weight_device.v[0].value, 400);
    assert_int_equal(b->device_read_bps.v[0].value, 12 * 1024 * 1024);
    assert_int_equal(b->device_write_bps.v[0].value, 1024);
    assert_int_equal(b->device_read_iops.v[0].value, 120);
    assert_string_equal(b->device_write_iops.v[0].path, "/dev/sdb");
    assert_int_equal(b->device_write_iops.v[0].value, 30);
    assert_int_equal(s->device_cgroup_rules.n, 2);
    assert_string_equal(s->device_cgroup_rules.v[1], "a 7:* rmw");
    assert_int_equal(s->n_gpus, 2);
    assert_false(s->gpus_all);
    assert_string_equal(s->gpus[0].driver, "nvidia");
    assert_int_equal(s->gpus[0].count, 2);
    assert_string_equal(compose_kvv_get(&s->gpus[0].options, "virtualization"), "false");
    assert_int_equal(s->gpus[1].count, COMPOSE_UNSET);
    assert_string_equal(s->gpus[1].device_ids.v[1], "3");
    assert_string_equal(s->isolation, "default");
    assert_string_equal(s->runtime, "runc");
    assert_string_equal(s->uts, "host");
    assert_string_equal(s->credential_spec.file, "spec.json");
    assert_null(s->credential_spec.registry);
    assert_int_equal(s->n_post_start, 1);
    assert_string_equal(s->post_start[0].command.v[1], "started");
    assert_string_equal(s->post_start[0].user, "root");
    assert_true(s->post_start[0].privileged);
    assert_string_equal(s->post_start[0].working_dir, "/tmp");
    assert_string_equal(compose_kvv_get(&s->post_start[0].environment, "A"), "1");
    assert_int_equal(s->n_pre_stop, 1);
    assert_string_equal(s->pre_stop[0].command.v[2], "echo bye");
    const struct compose_resources *res = &s->deploy.reservations;
    assert_int_equal(res->n_devices, 1);
    assert_true(res->devices[0].count_all);
    assert_string_equal(res->devices[0].capabilities.v[1], "utility");
    assert_int_equal(res->n_generic_resources, 1);
    assert_string_equal(res->generic_resources[0].kind, "SSD");
    assert_int_equal(res->generic_resources[0].value, 2);
    const struct compose_build *bd = s->build;
    assert_string_equal(bd->isolation, "process");
    assert_int_equal(bd->n_ulimits, 2);
    assert_string_equal(bd->ulimits[0].name, "nofile");
    assert_int_equal(bd->ulimits[0].hard, 20);
    assert_int_equal(bd->ulimits[1].soft, 5);
    assert_string_equal(compose_kvv_get(&bd->additional_contexts, "base"), "/srv/app/base");
    assert_string_equal(compose_kvv_get(&bd->additional_contexts, "img"),
                        "docker-image://alpine");
    assert_false(bd->privileged);
    assert_string_equal(bd->provenance, "false");
    /* Only generic_resources warns here: the BuildKit keys are all off. */
    assert_int_equal(r.diag.n_warnings, 1);
    assert_non_null(strstr(r.diag.warnings[0].message, "generic_resources"));
    ct_release(&r);
}

static void test_gpus_all_and_unset(void **state)
{
    (void)state;
    struct ct_load r;
    ct_load_text(&r, "services:\n  a:\n    image: x\n    gpus: all\n  b:\n    image: x\n", NULL);
    ct_assert_ok(&r);
    const struct compose_service *a = compose_project_service(r.p, "a");
    assert_true(a->gpus_all);
    assert_int_equal(a->n_gpus, 1);
    assert_true(a->gpus[0].count_all);
    const struct compose_service *b = compose_project_service(r.p, "b");
    assert_int_equal(b->n_gpus, 0);
    assert_int_equal(b->attach, COMPOSE_TRI_UNSET);
    assert_int_equal(b->cpu_count, COMPOSE_UNSET);
    assert_int_equal(b->mem_swappiness, COMPOSE_UNSET);
    assert_int_equal(b->blkio_config.weight, COMPOSE_UNSET);
    assert_false(b->blkio_config.set);
    ct_release(&r);
}

static void test_wrong_types(void **state)
{
    (void)state;
    static const struct ct_want want[] = {
        {4, 13, "'services.web.attach' must be a boolean, not 'maybe'"},
        {5, 18, "'services.web.cpu_percent' is 150, out of range"},
        {6, 20, "'services.web.cpu_rt_period' is not a valid duration"},
        {7, 21, "'services.web.mem_swappiness' is -1, out of range"},
        {8, 28, "'services.web.blkio_config.weight' is 5, out of range"},
        {9, 26, "'services.web.device_cgroup_rules' must be a list"},
        {10, 11, "'services.web.gpus' must be 'all' or a list, not 'some'"},
        {11, 14, "'services.web.runtime' must be a string, not a sequence"},
        {12, 22,
         "'services.web.credential_spec' must set exactly one of config, file and "
         "registry"},
        {13, 18, "'services.web.post_start[0]' has no command"},
        {14, 15, "'services.web.pre_stop' must be a list, not a mapping"},
    };
    ct_expect_errors("services:\n"
                     "  web:\n"
                     "    image: x\n"
                     "    attach: maybe\n"
                     "    cpu_percent: 150\n"
                     "    cpu_rt_period: soon\n"
                     "    mem_swappiness: -1\n"
                     "    blkio_config: {weight: 5}\n"
                     "    device_cgroup_rules: 'c 1:3 mr'\n"
                     "    gpus: some\n"
                     "    runtime: [runc]\n"
                     "    credential_spec: {file: a, registry: b}\n"
                     "    post_start: [{user: root}]\n"
                     "    pre_stop: {command: x}\n",
                     want, CC_ARRAY_LEN(want));
}

static void test_wrong_nested(void **state)
{
    (void)state;
    static const struct ct_want want[] = {
        {4, 20, "'services.web.gpus[0].count' must be a whole number"},
        {4, 27, "'services.web.gpus[1]' sets both count and device_ids"},
        {4, 59, "unknown key 'colour' in a device request"},
        {7, 18, "unknown key 'devices' in deploy.resources.limits"},
        {9, 21, "'services.web.deploy.resources.reservations.devices[0]' has no capabilities"},
        {10, 31, "must be a mapping with one `discrete_resource_spec:` key"},
        {11, 43, "ulimit 'nofile' needs soft and hard"},
        {11, 66, "'services.web.build.isolation' must be a string"},
        {12, 23, "'services.web.develop.watch[0]' needs path and action"},
        {12, 56, "'services.web.develop.watch[1].action' is not a watch action"},
    };
    ct_expect_errors("services:\n"
                     "  web:\n"
                     "    image: x\n"
                     "    gpus: [{count: many}, {count: 1, device_ids: ['0']}, {colour: red}]\n"
                     "    deploy:\n"
                     "      resources:\n"
                     "        limits: {devices: [{capabilities: [gpu]}]}\n"
                     "        reservations:\n"
                     "          devices: [{count: 1}]\n"
                     "          generic_resources: [{kind: x}]\n"
                     "    build: {context: ., ulimits: {nofile: {soft: 1}}, isolation: [a]}\n"
                     "    develop: {watch: [{path: ./src}, {path: x, action: jump}]}\n",
                     want, CC_ARRAY_LEN(want));
}

static void test_warnings(void **state)
{
    (void)state;
    struct ct_load r;
    ct_load_text(&r,
                 "services:\n"
                 "  a:\n"
                 "    image: x\n"
                 "    develop:\n"
                 "      watch: [{path: ./src, action: sync, target: /app, ignore: [node_modules]}]\n"
                 "    build: {context: ., privileged: true, sbom: true, entitlements: [network.host]}\n"
                 "  b:\n"
                 "    image: x\n"
                 "    develop: {watch: [{path: /abs, action: rebuild}]}\n",
                 NULL);
    ct_assert_ok(&r);
    /* develop once for the project; each BuildKit key that asks for something. */
    assert_int_equal(r.diag.n_warnings, 4);
    assert_non_null(strstr(r.diag.warnings[0].message, "'develop' is not supported"));
    assert_int_equal(r.diag.warnings[0].line, 5);
    assert_non_null(strstr(r.diag.warnings[1].message, "'services.a.build.privileged' needs BuildKit"));
    assert_non_null(strstr(r.diag.warnings[2].message, "'services.a.build.sbom' needs BuildKit"));
    assert_non_null(
        strstr(r.diag.warnings[3].message, "'services.a.build.entitlements' needs BuildKit"));
    const struct compose_service *a = compose_project_service(r.p, "a");
    assert_true(a->has_develop);
    assert_int_equal(a->n_develop_watch, 1);
    assert_string_equal(a->develop_watch[0].path, "/srv/app/src");
    assert_string_equal(a->develop_watch[0].action, "sync");
    assert_string_equal(a->develop_watch[0].target, "/app");
    assert_string_equal(a->develop_watch[0].ignore.v[0], "node_modules");
    assert_true(a->build->privileged);
    assert_string_equal(a->build->sbom, "true");
    ct_release(&r);
}

static void test_label_file(void **state)
{
    (void)state;
    char *dir = ct_tmpdir();
    ct_put(dir, "compose.yaml",
           "services:\n"
           "  web:\n"
           "    image: x\n"
           "    label_file: [./a.labels, {path: ./missing.labels, required: false}]\n"
           "    labels: {shared: from-labels}\n");
    ct_put(dir, "a.labels", "# labels\ncom.example.team=core\nshared=from-file\n");
    char *file = NULL;
    if (asprintf(&file, "%s/compose.yaml", dir) < 0)
        fail();
    const char *files[] = {file};
    struct compose_load_options o = {.files = files, .n_files = 1, .project_name = "lf"};
    struct ct_load r;
    ct_load(&r, &o);
    ct_assert_ok(&r);
    const struct compose_service *s = &r.p->services[0];
    assert_string_equal(compose_kvv_get(&s->labels, "com.example.team"), "core");
    assert_string_equal(compose_kvv_get(&s->labels, "shared"), "from-labels");
    assert_int_equal(s->label_files.n, 2);
    char *abs = NULL;
    if (asprintf(&abs, "%s/a.labels", dir) < 0)
        fail();
    assert_string_equal(s->label_files.v[0], abs);
    free(abs);
    ct_release(&r);

    /* A required file that is missing is an error at its entry. */
    ct_put(dir, "compose.yaml", "services:\n  web:\n    image: x\n    label_file: ./nope\n");
    ct_load(&r, &o);
    assert_int_equal(r.rc, -1);
    assert_int_equal(r.err.line, 4);
    assert_int_equal(r.err.col, 17);
    assert_non_null(strstr(r.err.message, "cannot be read"));
    ct_release(&r);
    free(file);
    ct_rmdir(dir);
    free(dir);
}

static char *dump(const struct compose_project *p, enum compose_dump_format f)
{
    char *text = NULL;
    struct cc_error err = CC_ERROR_INIT;
    assert_int_equal(compose_project_dump(p, f, 0, &text, &err), 0);
    cc_error_release(&err);
    return text;
}

/* config prints every key, and what it prints loads again to the same text. */
static void test_config_fixpoint(void **state)
{
    (void)state;
    static const char *const extra =
        "    develop:\n"
        "      watch:\n"
        "        - {path: ./src, action: sync+exec, target: /app, exec: {command: kill -HUP 1}}\n"
        "  other:\n"
        "    image: x\n"
        "    gpus: all\n"
        "    credential_spec: {registry: my-spec}\n";
    size_t len = strlen(keys_text) + strlen(extra) + 1;
    char *text = malloc(len);
    snprintf(text, len, "%s%s", keys_text, extra);
    struct ct_load r, again;
    ct_load_text(&r, text, NULL);
    ct_assert_ok(&r);
    char *first = dump(r.p, COMPOSE_DUMP_YAML);
    ct_load_text(&again, first, NULL);
    if (again.rc != 0)
        print_message("%s", first);
    ct_assert_ok(&again);
    char *second = dump(again.p, COMPOSE_DUMP_YAML);
    assert_string_equal(first, second);
    static const char *const expect[] = {
        "    attach: false\n",
        "    cpu_count: 2\n",
        "    cpu_percent: 50\n",
        "    cpu_rt_period: 1400\n",
        "    cpu_rt_runtime: 400\n",
        "    mem_swappiness: 10\n",
        "      weight: 300\n",
        "      device_read_bps:\n      - path: /dev/sda\n        rate: 12582912\n",
        "      weight_device:\n      - path: /dev/sda\n        weight: 400\n",
        "    device_cgroup_rules:\n    - c 1:3 mr\n",
        "    gpus:\n    - count: 2\n      driver: nvidia\n",
        "    - device_ids:\n      - \"0\"\n",
        "    gpus: all\n",
        "    isolation: default\n",
        "    runtime: runc\n",
        "    uts: host\n",
        "    credential_spec:\n      file: spec.json\n",
        "    credential_spec:\n      registry: my-spec\n",
        "    post_start:\n    - command:\n      - echo\n      - started\n",
        "      privileged: true\n      user: root\n      working_dir: /tmp\n",
        "    pre_stop:\n    - command:\n      - sh\n",
        "          - capabilities:\n            - gpu\n            - utility\n            count: all\n",
        "          generic_resources:\n          - discrete_resource_spec:\n              kind: SSD\n",
        "      additional_contexts:\n        base: /srv/app/base\n",
        "      isolation: process\n",
        "      ulimits:\n        nofile:\n          hard: 20\n          soft: 10\n        nproc: 5\n",
        "      provenance: \"false\"\n",
        "    develop:\n      watch:\n      - action: sync+exec\n",
        "        path: /srv/app/src\n",
    };
    for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
        if (!strstr(first, expect[i]))
            fail_msg("expect[%zu] missing from config:\n%s", i, first);
    /* JSON says the same and loads again too. */
    char *json = dump(r.p, COMPOSE_DUMP_JSON);
    struct ct_load fromjson;
    ct_load_text(&fromjson, json, NULL);
    ct_assert_ok(&fromjson);
    char *third = dump(fromjson.p, COMPOSE_DUMP_YAML);
    assert_string_equal(first, third);
    free(third);
    ct_release(&fromjson);
    free(json);
    free(first);
    free(second);
    ct_release(&again);
    ct_release(&r);
    free(text);
}

/* Resource keys newer than API 1.41 or swarm's: modelled, printed, warned about. */
static void test_resource_keys(void **state)
{
    (void)state;
    static const char text[] =
        "services:\n"
        "  web:\n"
        "    image: x\n"
        "    networks:\n"
        "      front: {gw_priority: 5, interface_name: eth7}\n"
        "    volumes:\n"
        "      - {type: image, source: alpine, target: /img, image: {subpath: etc}}\n"
        "    secrets: [s]\n"
        "networks:\n"
        "  front: {enable_ipv4: false}\n"
        "secrets:\n"
        "  s: {environment: S, driver: vault, driver_opts: {a: b}, template_driver: golang}\n"
        "models:\n"
        "  llm: {model: ai/smollm2, context_size: 1024, runtime_flags: [--verbose]}\n";
    struct ct_load r, again;
    ct_load_text(&r, text, NULL);
    ct_assert_ok(&r);
    const struct compose_service *s = &r.p->services[0];
    assert_int_equal(s->networks[0].gw_priority, 5);
    assert_string_equal(s->networks[0].interface_name, "eth7");
    assert_int_equal(s->volumes[0].type, COMPOSE_MOUNT_IMAGE);
    assert_string_equal(s->volumes[0].image_subpath, "etc");
    assert_int_equal(compose_project_network(r.p, "front")->enable_ipv4, COMPOSE_TRI_FALSE);
    assert_string_equal(r.p->secrets[0].driver, "vault");
    assert_string_equal(compose_kvv_get(&r.p->secrets[0].driver_opts, "a"), "b");
    assert_string_equal(r.p->secrets[0].template_driver, "golang");
    assert_int_equal(r.p->n_models, 1);
    assert_string_equal(r.p->models[0].model, "ai/smollm2");
    assert_int_equal(r.p->models[0].context_size, 1024);
    assert_int_equal(r.diag.n_warnings, 7);
    char *first = dump(r.p, COMPOSE_DUMP_YAML);
    ct_load_text(&again, first, NULL);
    ct_assert_ok(&again);
    char *second = dump(again.p, COMPOSE_DUMP_YAML);
    assert_string_equal(first, second);
    assert_non_null(strstr(first, "models:\n  llm:\n    context_size: 1024\n"));
    assert_non_null(strstr(first, "    enable_ipv4: false\n"));
    assert_non_null(strstr(first, "        gw_priority: 5\n        interface_name: eth7\n"));
    assert_non_null(strstr(first, "    - image:\n        subpath: etc\n"));
    assert_non_null(strstr(first, "    template_driver: golang\n"));
    free(first);
    free(second);
    ct_release(&again);
    ct_release(&r);

    ct_load_text(&r, "services:\n  a:\n    image: x\nmodels:\n  m: {context_size: big}\n", NULL);
    assert_int_equal(r.rc, -1);
    ct_assert_error(&r, 0, 5, 21, "'models.m.context_size' must be a whole number, not 'big'");
    ct_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_service_keys),    cmocka_unit_test(test_gpus_all_and_unset),
        cmocka_unit_test(test_wrong_types),     cmocka_unit_test(test_wrong_nested),
        cmocka_unit_test(test_warnings),        cmocka_unit_test(test_label_file),
        cmocka_unit_test(test_config_fixpoint), cmocka_unit_test(test_resource_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
