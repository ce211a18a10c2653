/* The less common service keys reach the engine: a compose file using them is loaded, its
 * container created from sched_container_body() and inspected HostConfig field by field. Where
 * this kernel cannot apply a setting the engine says so in the create's Warnings (blkio weights
 * on cgroup v1 without CFQ, cpu_percent on Linux); the test accepts that answer and nothing else.
 * gpus cannot run without a GPU: the DeviceRequests must be stored, and start must fail naming
 * the missing device driver. credential_spec is Windows-only: the engine's refusal is checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scheduler/scheduler-internal.h"
#include "scheduler/scheduler.h"
#include "tests/lib/compose-test.h"
#include "tests/lib/engine-test.h"

static char *dir;

/* A block device of this machine (new), or NULL when there is none to name. */
static char *block_device(void)
{
    DIR *d = opendir("/sys/block");
    char *found = NULL;
    for (struct dirent *e; d && !found && (e = readdir(d));) {
        if (e->d_name[0] == '.' || !strncmp(e->d_name, "loop", 4) ||
            !strncmp(e->d_name, "ram", 3))
            continue;
        char path[300];
        struct stat st;
        snprintf(path, sizeof(path), "/dev/%s", e->d_name);
        if (stat(path, &st) == 0 && S_ISBLK(st.st_mode))
            found = strdup(path);
    }
    if (d)
        closedir(d);
    return found;
}

static struct compose_project *load(const char *text, struct ct_load *r)
{
    ct_put(dir, "compose.yaml", text);
    char *file = NULL;
    if (asprintf(&file, "%s/compose.yaml", dir) < 0)
        fail();
    const char *files[] = {file};
    char *name = tl_unique("keys");
    struct compose_load_options o = {.files = files, .n_files = 1, .project_name = name};
    ct_load(r, &o);
    free(name);
    free(file);
    ct_assert_ok(r);
    return r->p;
}

static json_t *create(struct tl_env *env, const struct compose_project *p, char **ret_id,
                      struct tl_result *r)
{
    const struct compose_service *s = &p->services[0];
    struct cc_error berr = CC_ERROR_INIT;
    json_t *body = sched_container_body(p, s, 1, NULL, &berr);
    if (!body)
        fail_msg("body: %s", berr.message);
    char *cname = sched_container_name(p, s, 1);
    tl_cleanup_container(cname);
    tl_result_init(r);
    TL_RUN(*env, *r, engine_container_create(env->c, cname, body, tl_on_done, r, &err));
    free(cname);
    *ret_id = r->json ? xstrdup(json_string_value(json_object_get(r->json, "Id"))) : NULL;
    return body;
}

static bool warned(json_t *created, const char *needle)
{
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(created, "Warnings"), i, w)
        if (strstr(json_string_value(w), needle))
            return true;
    return false;
}

static void test_keys_reach_engine(void **state)
{
    TL_SKIP_ON_PODMAN("Podman's compat API drops or rewrites several host settings this test "
                      "reads back (CpuCount, CpuPercent, device cgroup rules, GPU requests)");
    (void)state;
    struct tl_env env;
    tl_env_init(&env);
    char *dev = block_device();
    ct_put(dir, "app.labels", "com.example.from-file=yes\ncom.example.both=file\n");
    char text[2048];
    snprintf(text, sizeof(text),
             "services:\n"
             "  app:\n"
             "    image: " TEST_IMAGE "\n"
             "    command: [sleep, '3600']\n"
             "    network_mode: none\n"
             "    cpu_count: 2\n"
             "    cpu_percent: 50\n"
             "    cpu_rt_period: 1ms\n"
             "    cpu_rt_runtime: 0\n"
             "    mem_swappiness: 10\n"
             "    device_cgroup_rules: ['c 1:3 mr', 'a 7:* rmw']\n"
             "    isolation: default\n"
             "    runtime: runc\n"
             "    uts: host\n"
             "    label_file: ./app.labels\n"
             "    labels: {com.example.both: labels}\n"
             "    gpus: all\n"
             "    deploy:\n"
             "      resources:\n"
             "        reservations:\n"
             "          devices: [{driver: nvidia, device_ids: ['0'], capabilities: [gpu, "
             "compute]}]\n"
             "%s%s%s%s%s%s%s%s%s%s%s%s%s",
             dev ? "    blkio_config:\n      weight: 300\n      weight_device: [{path: " : "",
             dev ? dev : "", dev ? ", weight: 400}]\n      device_read_bps: [{path: " : "",
             dev ? dev : "", dev ? ", rate: 1mb}]\n      device_write_bps: [{path: " : "",
             dev ? dev : "", dev ? ", rate: 2048}]\n      device_read_iops: [{path: " : "",
             dev ? dev : "", dev ? ", rate: 100}]\n      device_write_iops: [{path: " : "",
             dev ? dev : "", dev ? ", rate: 200}]\n" : "", "", "");
    struct ct_load lr;
    const struct compose_project *p = load(text, &lr);

    struct tl_result r;
    char *id = NULL;
    json_t *body = create(&env, p, &id, &r);
    tl_assert_ok(&r);
    json_t *created = json_incref(r.json);
    tl_result_release(&r);
    json_t *c = tl_container_inspect(&env, id);
    json_t *hc = json_object_get(c, "HostConfig");

    assert_int_equal(json_integer_value(json_object_get(hc, "CpuCount")), 2);
    /* Linux has no CPU percent: the engine drops it and says so. */
    if (json_integer_value(json_object_get(hc, "CpuPercent")) != 50)
        assert_true(warned(created, "CPU percent"));
    assert_int_equal(json_integer_value(json_object_get(hc, "CpuRealtimePeriod")), 1000);
    assert_int_equal(json_integer_value(json_object_get(hc, "CpuRealtimeRuntime")), 0);
    assert_int_equal(json_integer_value(json_object_get(hc, "MemorySwappiness")), 10);
    json_t *rules = json_object_get(hc, "DeviceCgroupRules");
    assert_int_equal(json_array_size(rules), 2);
    assert_string_equal(json_string_value(json_array_get(rules, 0)), "c 1:3 mr");
    assert_string_equal(json_string_value(json_array_get(rules, 1)), "a 7:* rmw");
    assert_string_equal(json_string_value(json_object_get(hc, "Isolation")), "default");
    assert_string_equal(json_string_value(json_object_get(hc, "Runtime")), "runc");
    assert_string_equal(json_string_value(json_object_get(hc, "UTSMode")), "host");
    json_t *labels = tl_json_at(c, "Config/Labels");
    assert_string_equal(json_string_value(json_object_get(labels, "com.example.from-file")),
                        "yes");
    assert_string_equal(json_string_value(json_object_get(labels, "com.example.both")), "labels");

    /* gpus: all, then the reservation: the engine stores both requests as sent. */
    json_t *reqs = json_object_get(hc, "DeviceRequests");
    assert_int_equal(json_array_size(reqs), 2);
    json_t *g = json_array_get(reqs, 0), *d = json_array_get(reqs, 1);
    assert_int_equal(json_integer_value(json_object_get(g, "Count")), -1);
    json_t *gcaps = json_array_get(json_object_get(g, "Capabilities"), 0);
    assert_string_equal(json_string_value(json_array_get(gcaps, 0)), "gpu");
    assert_string_equal(json_string_value(json_object_get(d, "Driver")), "nvidia");
    assert_int_equal(json_integer_value(json_object_get(d, "Count")), 0);
    assert_string_equal(json_string_value(json_array_get(json_object_get(d, "DeviceIDs"), 0)),
                        "0");
    json_t *caps = json_array_get(json_object_get(d, "Capabilities"), 0);
    assert_int_equal(json_array_size(caps), 2);
    assert_string_equal(json_string_value(json_array_get(caps, 1)), "compute");

    if (dev) {
        if (json_integer_value(json_object_get(hc, "BlkioWeight")) != 300)
            assert_true(warned(created, "Weight discarded"));
        json_t *wd = json_object_get(hc, "BlkioWeightDevice");
        if (json_array_size(wd)) {
            assert_string_equal(json_string_value(tl_json_at(json_array_get(wd, 0), "Path")), dev);
            assert_int_equal(json_integer_value(tl_json_at(json_array_get(wd, 0), "Weight")),
                             400);
        } else {
            assert_true(warned(created, "Weight-device discarded"));
        }
        static const struct {
            const char *key;
            long long rate;
        } rates[] = {{"BlkioDeviceReadBps", 1 << 20},
                     {"BlkioDeviceWriteBps", 2048},
                     {"BlkioDeviceReadIOps", 100},
                     {"BlkioDeviceWriteIOps", 200}};
        for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
            json_t *e = json_array_get(json_object_get(hc, rates[i].key), 0);
            if (!e)
                fail_msg("%s not stored", rates[i].key);
            assert_string_equal(json_string_value(json_object_get(e, "Path")), dev);
            assert_int_equal(json_integer_value(json_object_get(e, "Rate")), rates[i].rate);
        }
    }

    /* No GPU here: start fails, and the engine names what is missing. */
    tl_result_init(&r);
    TL_RUN(env, r, engine_container_start(env.c, id, tl_on_done, &r, &err));
    tl_assert_fails(&r, r.err.kind);
    assert_non_null(strstr(r.err.message, "could not select device driver"));
    tl_result_release(&r);

    json_decref(c);
    json_decref(created);
    json_decref(body);
    free(id);
    free(dev);
    ct_release(&lr);
    tl_env_release(&env);
}

/* credential_spec is for Windows containers: a Linux engine refuses the option, clearly. */
static void test_credential_spec_refused(void **state)
{
    (void)state;
    struct tl_env env;
    tl_env_init(&env);
    struct ct_load lr;
    const struct compose_project *p = load("services:\n"
                                           "  app:\n"
                                           "    image: " TEST_IMAGE "\n"
                                           "    network_mode: none\n"
                                           "    credential_spec: {file: spec.json}\n",
                                           &lr);
    struct tl_result r;
    char *id = NULL;
    json_t *body = create(&env, p, &id, &r);
    json_t *opts = tl_json_at(body, "HostConfig/SecurityOpt");
    assert_string_equal(json_string_value(json_array_get(opts, 0)),
                        "credentialspec=file://spec.json");
    tl_assert_fails(&r, r.err.kind);
    assert_non_null(strstr(r.err.message, "credentialspec=file://spec.json"));
    tl_result_release(&r);
    free(id);
    json_decref(body);
    ct_release(&lr);
    tl_env_release(&env);
}

static int setup(void **state)
{
    (void)state;
    dir = ct_tmpdir();
    return 0;
}

static int teardown(void **state)
{
    tl_group_teardown(state);
    ct_rmdir(dir);
    free(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_reach_engine),
        cmocka_unit_test(test_credential_spec_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
