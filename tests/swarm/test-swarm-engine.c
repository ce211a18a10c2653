/* Swarm-mode engine calls against the private single-node swarm that tests/swarm/private-swarm.sh
 * makes (scripts/run-tests.sh runs every tests/swarm binary inside it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/swarm-test.h"

static void test_swarm_inspect(void **state)
{
    (void)state;
    struct tl_env env;
    struct tl_result r;
    tl_env_init(&env);
    tl_result_init(&r);
    TL_RUN(env, r, engine_swarm_inspect(env.c, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    const char *id = json_string_value(json_object_get(r.json, "ID"));
    assert_non_null(id);
    assert_true(strlen(id) > 0);
    assert_true(json_integer_value(tl_json_at(r.json, "Version/Index")) > 0);
    tl_result_release(&r);

    TL_RUN(env, r, engine_info(env.c, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    assert_string_equal(json_string_value(tl_json_at(r.json, "Swarm/LocalNodeState")), "active");
    assert_true(json_is_true(tl_json_at(r.json, "Swarm/ControlAvailable")));
    tl_result_release(&r);
    tl_env_release(&env);
}

/* A ServiceSpec running the idle script in the test image, labelled with label. */
static json_t *service_spec(const char *name, const char *label, int replicas, const char *env_kv)
{
    return json_pack("{s:s, s:{s:s}, s:{s:{s:s, s:[s, s, s], s:[s], s:{s:s}}, s:{s:[s]}},"
                     " s:{s:{s:i}}}",
                     "Name", name, "Labels", SW_LABEL, label, "TaskTemplate", "ContainerSpec",
                     "Image", TEST_IMAGE, "Command", "sh", "-c", TL_IDLE_SCRIPT, "Env", env_kv,
                     "Labels", "ccompose.test.container", label, "Placement", "Constraints",
                     "node.role==manager", "Mode", "Replicated", "Replicas", replicas);
}

static void test_service_lifecycle(void **state)
{
    (void)state;
    struct tl_env env;
    struct tl_result r;
    tl_env_init(&env);
    tl_result_init(&r);
    char *name = tl_unique("svc");
    json_t *spec = service_spec(name, name, 2, "COLOR=red");

    TL_RUN(env, r, engine_service_create(env.c, spec, NULL, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    char *id = xstrdup(json_string_value(json_object_get(r.json, "ID")));
    tl_result_release(&r);

    /* The same name again is a conflict. */
    TL_RUN(env, r, engine_service_create(env.c, spec, NULL, tl_on_done, &r, &err));
    tl_assert_fails(&r, CC_ERR_CONFLICT);
    tl_result_release(&r);

    /* Listed by label, with its task counts when asked. */
    json_t *f = sw_label_filter(name);
    TL_RUN(env, r, engine_service_list(env.c, f, true, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    assert_int_equal(json_array_size(r.json), 1);
    json_t *listed = json_array_get(r.json, 0);
    assert_string_equal(json_string_value(json_object_get(listed, "ID")), id);
    assert_int_equal(json_integer_value(tl_json_at(listed, "ServiceStatus/DesiredTasks")), 2);
    tl_result_release(&r);

    sw_wait_running(&env, id, 2, 60);
    json_t *tasks = sw_tasks(&env, name);
    assert_int_equal(json_array_size(tasks), 2);
    assert_string_equal(json_string_value(tl_json_at(json_array_get(tasks, 0), "ServiceID")), id);
    json_decref(tasks);

    /* Update with the inspected version: the version moves on and the tasks are replaced with
     * ones carrying the new environment. */
    json_t *ins = sw_service(&env, name);
    json_int_t v1 = json_integer_value(tl_json_at(ins, "Version/Index"));
    assert_string_equal(
        json_string_value(json_array_get(tl_json_at(ins, "Spec/TaskTemplate/ContainerSpec/Env"), 0)),
        "COLOR=red");
    json_decref(ins);
    json_t *spec2 = service_spec(name, name, 1, "COLOR=blue");
    TL_RUN(env, r,
           engine_service_update(env.c, id, (unsigned long long)v1, spec2, NULL, tl_on_done, &r,
                                 &err));
    tl_assert_ok(&r);
    tl_result_release(&r);
    ins = sw_service(&env, id);
    assert_true(json_integer_value(tl_json_at(ins, "Version/Index")) > v1);
    assert_string_equal(
        json_string_value(json_array_get(tl_json_at(ins, "Spec/TaskTemplate/ContainerSpec/Env"), 0)),
        "COLOR=blue");
    assert_int_equal(json_integer_value(tl_json_at(ins, "Spec/Mode/Replicated/Replicas")), 1);
    assert_string_equal(
        json_string_value(json_array_get(tl_json_at(ins, "PreviousSpec/TaskTemplate/ContainerSpec/Env"), 0)),
        "COLOR=red");
    json_decref(ins);

    /* The old version is out of sequence now. */
    TL_RUN(env, r,
           engine_service_update(env.c, id, (unsigned long long)v1, spec2, NULL, tl_on_done, &r,
                                 &err));
    assert_true(r.done);
    assert_int_not_equal(r.err.kind, CC_ERR_NONE);
    assert_non_null(strstr(r.err.engine_message, "out of sequence"));
    tl_result_release(&r);

    sw_wait_running(&env, id, 1, 60);

    TL_RUN(env, r, engine_service_remove(env.c, id, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    tl_result_release(&r);
    assert_null(sw_service(&env, id));
    sw_wait_no_tasks(&env, id, 60);
    TL_RUN(env, r, engine_service_remove(env.c, id, tl_on_done, &r, &err));
    tl_assert_fails(&r, CC_ERR_NOT_FOUND);
    tl_result_release(&r);

    json_decref(f);
    json_decref(spec2);
    json_decref(spec);
    free(id);
    sw_cleanup(name);
    free(name);
    tl_env_release(&env);
}

typedef struct engine_request *(*create_fn)(struct engine_client *, json_t *, engine_cb, void *,
                                            struct cc_error *);
typedef struct engine_request *(*id_fn)(struct engine_client *, const char *, engine_cb, void *,
                                        struct cc_error *);

/* Create, list by label, inspect by name, remove: secrets and configs behave the same. */
static void file_object_lifecycle(create_fn create, sw_list_fn list, id_fn inspect, id_fn remove,
                                  const char *what)
{
    struct tl_env env;
    struct tl_result r;
    tl_env_init(&env);
    tl_result_init(&r);
    char *name = tl_unique(what);
    /* "hello\n" */
    json_t *spec =
        json_pack("{s:s, s:s, s:{s:s}}", "Name", name, "Data", "aGVsbG8K", "Labels", SW_LABEL, name);
    TL_RUN(env, r, create(env.c, spec, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    char *id = xstrdup(json_string_value(json_object_get(r.json, "ID")));
    tl_result_release(&r);

    TL_RUN(env, r, create(env.c, spec, tl_on_done, &r, &err));
    tl_assert_fails(&r, CC_ERR_CONFLICT);
    tl_result_release(&r);

    json_t *f = sw_label_filter(name);
    json_t *items = sw_list(&env, list, f);
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "ID")), id);
    json_decref(items);

    TL_RUN(env, r, inspect(env.c, name, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    assert_string_equal(json_string_value(tl_json_at(r.json, "ID")), id);
    assert_string_equal(json_string_value(tl_json_at(r.json, "Spec/Name")), name);
    tl_result_release(&r);

    TL_RUN(env, r, remove(env.c, id, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    tl_result_release(&r);
    items = sw_list(&env, list, f);
    assert_int_equal(json_array_size(items), 0);
    json_decref(items);
    TL_RUN(env, r, inspect(env.c, id, tl_on_done, &r, &err));
    tl_assert_fails(&r, CC_ERR_NOT_FOUND);
    tl_result_release(&r);

    json_decref(f);
    json_decref(spec);
    free(id);
    free(name);
    tl_env_release(&env);
}

static void test_secret_lifecycle(void **state)
{
    (void)state;
    file_object_lifecycle(engine_secret_create, engine_secret_list, engine_secret_inspect,
                          engine_secret_remove, "secret");
}

static void test_config_lifecycle(void **state)
{
    (void)state;
    file_object_lifecycle(engine_config_create, engine_config_list, engine_config_inspect,
                          engine_config_remove, "config");
}

/* An attachable overlay network: swarm-scoped, and a plain container may join it. */
static void test_overlay_network(void **state)
{
    (void)state;
    struct tl_env env;
    struct tl_result r;
    tl_env_init(&env);
    tl_result_init(&r);
    char *name = tl_unique("overlay");
    json_t *body = json_pack("{s:s, s:s, s:b, s:b, s:{s:s}}", "Name", name, "Driver", "overlay",
                             "Attachable", 1, "CheckDuplicate", 1, "Labels", SW_LABEL, name);
    TL_RUN(env, r, engine_network_create(env.c, body, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    char *id = xstrdup(json_string_value(json_object_get(r.json, "Id")));
    tl_cleanup_network(id);
    tl_result_release(&r);

    /* The swarm's allocator fills the driver state (and IPAM) in a moment after create. */
    for (int waited = 0;; waited += 100) {
        TL_RUN(env, r, engine_network_inspect(env.c, name, tl_on_done, &r, &err));
        tl_assert_ok(&r);
        const char *driver = json_string_value(tl_json_at(r.json, "Driver"));
        if ((driver && *driver) || waited >= 30000)
            break;
        tl_result_release(&r);
        sw_pause(&env, 100);
    }
    assert_string_equal(json_string_value(tl_json_at(r.json, "Id")), id);
    assert_string_equal(json_string_value(tl_json_at(r.json, "Driver")), "overlay");
    assert_string_equal(json_string_value(tl_json_at(r.json, "Scope")), "swarm");
    assert_true(json_is_true(tl_json_at(r.json, "Attachable")));
    tl_result_release(&r);

    json_t *cbody = tl_sh_body("echo joined", NULL);
    json_object_set_new(tl_json_at(cbody, "HostConfig"), "NetworkMode", json_string(name));
    char *cid = tl_container_run(&env, "overlay-member", cbody);
    assert_int_equal(tl_container_wait(&env, cid, NULL), 0);

    json_decref(cbody);
    json_decref(body);
    free(cid);
    free(id);
    free(name);
    tl_env_release(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_swarm_inspect),
        cmocka_unit_test(test_service_lifecycle),
        cmocka_unit_test(test_secret_lifecycle),
        cmocka_unit_test(test_config_lifecycle),
        cmocka_unit_test(test_overlay_network),
    };
    return cmocka_run_group_tests(tests, NULL, tl_group_teardown);
}
