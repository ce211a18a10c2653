/* Network and volume calls against the real engine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/engine-test.h"

/* Creates a labelled bridge network and records it; returns its ID (new). */
static char *network_new(struct tl_env *env, const char *name, const char *label, bool internal)
{
    struct tl_result r;
    tl_result_init(&r);
    json_t *body = json_pack("{s:s, s:s, s:b, s:b, s:b, s:{s:s}}", "Name", name, "Driver", "bridge",
                             "Internal", internal, "Attachable", 1, "CheckDuplicate", 1, "Labels",
                             "ccompose.test", label);
    TL_RUN(*env, r, engine_network_create(env->c, body, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    const char *id = json_string_value(json_object_get(r.json, "Id"));
    assert_non_null(id);
    tl_cleanup_network(id);
    char *ret = xstrdup(id);
    json_decref(body);
    tl_result_release(&r);
    return ret;
}

static json_t *label_filter(const char *label)
{
    char *l = xasprintf("ccompose.test=%s", label);
    json_t *f = json_pack("{s:[s]}", "label", l);
    free(l);
    return f;
}

static void test_network_lifecycle(void **state)
{
    (void)state;
    struct tl_env env;
    struct tl_result r;
    tl_env_init(&env);
    tl_result_init(&r);
    char *name = tl_unique("net");
    char *id = network_new(&env, name, name, true);

    json_t *filters = label_filter(name);
    TL_RUN(env, r, engine_network_list(env.c, filters, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    assert_int_equal(json_array_size(r.json), 1);
    assert_string_equal(json_string_value(tl_json_at(json_array_get(r.json, 0), "Id")), id);
    tl_result_release(&r);

    TL_RUN(env, r, engine_network_inspect(env.c, name, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    assert_string_equal(json_string_value(tl_json_at(r.json, "Id")), id);
    assert_string_equal(json_string_value(tl_json_at(r.json, "Driver")), "bridge");
    assert_true(json_is_true(tl_json_at(r.json, "Internal")));
    /* Podman keeps no Attachable (a swarm notion): its networks are always attachable. */
    if (!tl_engine_is_podman())
        assert_true(json_is_true(tl_json_at(r.json, "Attachable")));
    assert_string_equal(json_string_value(tl_json_at(r.json, "Labels/ccompose.test")), name);
    tl_result_release(&r);

    /* Connect with aliases: the container's inspect shows them; disconnect takes it away. */
    /* A container on "none" cannot join another network: it starts on a network of its own. */
    char *home_name = tl_unique("net-home");
    char *home = network_new(&env, home_name, name, false);
    json_t *cbody = tl_sh_body(TL_IDLE_SCRIPT, NULL);
    json_object_set_new(tl_json_at(cbody, "HostConfig"), "NetworkMode", json_string(home_name));
    char *cid = tl_container_run(&env, "net-member", cbody);
    json_t *conn = json_pack("{s:s, s:{s:[s, s]}}", "Container", cid, "EndpointConfig", "Aliases",
                             "alpha", "beta");
    TL_RUN(env, r, engine_network_connect(env.c, id, conn, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    tl_result_release(&r);
    json_t *ins = tl_container_inspect(&env, cid);
    json_t *ep = json_object_get(tl_json_at(ins, "NetworkSettings/Networks"), name);
    assert_non_null(ep);
    json_t *aliases = json_object_get(ep, "Aliases");
    bool alpha = false, beta = false;
    size_t i;
    json_t *a;
    json_array_foreach(aliases, i, a)
    {
        alpha |= json_string_value(a) && !strcmp(json_string_value(a), "alpha");
        beta |= json_string_value(a) && !strcmp(json_string_value(a), "beta");
    }
    assert_true(alpha && beta);
    json_decref(ins);

    TL_RUN(env, r, engine_network_disconnect(env.c, id, cid, false, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    tl_result_release(&r);
    ins = tl_container_inspect(&env, cid);
    assert_null(json_object_get(tl_json_at(ins, "NetworkSettings/Networks"), name));
    json_decref(ins);

    TL_RUN(env, r, engine_network_remove(env.c, id, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    tl_result_release(&r);
    TL_RUN(env, r, engine_network_inspect(env.c, id, tl_on_done, &r, &err));
    tl_assert_fails(&r, CC_ERR_NOT_FOUND);

    json_decref(conn);
    json_decref(cbody);
    json_decref(filters);
    tl_result_release(&r);
    free(cid);
    free(home);
    free(home_name);
    free(id);
    free(name);
    tl_env_release(&env);
}

/* Two containers on one network find each other by alias. */
static void test_network_alias_reachable(void **state)
{
    (void)state;
    struct tl_env env;
    struct tl_result r;
    tl_env_init(&env);
    tl_result_init(&r);
    char *name = tl_unique("net-ping");
    char *id = network_new(&env, name, name, false);
    json_t *body = tl_sh_body(TL_IDLE_SCRIPT, NULL);
    json_object_set_new(tl_json_at(body, "HostConfig"), "NetworkMode", json_string(name));
    json_object_set_new(
        body, "NetworkingConfig",
        json_pack("{s:{s:{s:[s]}}}", "EndpointsConfig", name, "Aliases", "ccit-target"));
    char *target = tl_container_run(&env, "net-target", body);
    json_object_del(body, "NetworkingConfig");
    char *client = tl_container_run(&env, "net-client", body);

    char *exec_id = tl_exec_new(&env, client, "ping -c1 -W5 ccit-target", false);
    TL_RUN(env, r,
           engine_exec_start(env.c, exec_id, false, false, tl_on_output, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    if (!strstr(buf_str(&r.out), "1 packets received"))
        fail_msg("ping by alias failed: %s", buf_str(&r.out));
    tl_result_release(&r);
    TL_RUN(env, r, engine_exec_inspect(env.c, exec_id, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    assert_int_equal(json_integer_value(json_object_get(r.json, "ExitCode")), 0);

    json_decref(body);
    tl_result_release(&r);
    free(exec_id);
    free(target);
    free(client);
    free(id);
    free(name);
    tl_env_release(&env);
}

static void test_volume_lifecycle(void **state)
{
    (void)state;
    struct tl_env env;
    struct tl_result r;
    tl_env_init(&env);
    tl_result_init(&r);
    char *name = tl_unique("vol");
    json_t *vbody = json_pack("{s:s, s:s, s:{s:s}}", "Name", name, "Driver", "local", "Labels",
                              "ccompose.test", name);
    TL_RUN(env, r, engine_volume_create(env.c, vbody, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    tl_cleanup_volume(name);
    assert_string_equal(json_string_value(tl_json_at(r.json, "Name")), name);
    tl_result_release(&r);

    json_t *filters = label_filter(name);
    TL_RUN(env, r, engine_volume_list(env.c, filters, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    json_t *vols = tl_json_at(r.json, "Volumes");
    assert_int_equal(json_array_size(vols), 1);
    assert_string_equal(json_string_value(tl_json_at(json_array_get(vols, 0), "Name")), name);
    tl_result_release(&r);

    TL_RUN(env, r, engine_volume_inspect(env.c, name, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    assert_string_equal(json_string_value(tl_json_at(r.json, "Driver")), "local");
    assert_string_equal(json_string_value(tl_json_at(r.json, "Labels/ccompose.test")), name);
    tl_result_release(&r);

    /* One container writes into it, another reads the file back. */
    char *bind = xasprintf("%s:/data", name);
    json_t *wbody = tl_sh_body("echo kept-in-volume > /data/f", NULL);
    json_object_set_new(tl_json_at(wbody, "HostConfig"), "Binds", json_pack("[s]", bind));
    char *writer = tl_container_run(&env, "vol-writer", wbody);
    assert_int_equal(tl_container_wait(&env, writer, NULL), 0);
    json_t *rbody = tl_sh_body("cat /data/f", NULL);
    json_object_set_new(tl_json_at(rbody, "HostConfig"), "Binds", json_pack("[s]", bind));
    char *reader = tl_container_run(&env, "vol-reader", rbody);
    assert_int_equal(tl_container_wait(&env, reader, NULL), 0);
    TL_RUN(env, r, engine_container_logs(env.c, reader, NULL, tl_on_output, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    assert_string_equal(buf_str(&r.out), "kept-in-volume\n");
    tl_result_release(&r);

    /* In use (by stopped containers too): removing it conflicts. */
    TL_RUN(env, r, engine_volume_remove(env.c, name, false, tl_on_done, &r, &err));
    tl_assert_fails(&r, CC_ERR_CONFLICT);
    assert_int_equal(r.err.http_status, 409);
    tl_result_release(&r);

    const char *users[] = {writer, reader};
    for (size_t i = 0; i < CC_ARRAY_LEN(users); i++) {
        TL_RUN(env, r,
               engine_container_remove(env.c, users[i], false, false, tl_on_done, &r, &err));
        tl_assert_ok(&r);
        tl_result_release(&r);
    }
    TL_RUN(env, r, engine_volume_remove(env.c, name, false, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    tl_result_release(&r);
    TL_RUN(env, r, engine_volume_inspect(env.c, name, tl_on_done, &r, &err));
    tl_assert_fails(&r, CC_ERR_NOT_FOUND);

    json_decref(vbody);
    json_decref(wbody);
    json_decref(rbody);
    json_decref(filters);
    tl_result_release(&r);
    free(bind);
    free(writer);
    free(reader);
    free(name);
    tl_env_release(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_network_lifecycle),
        cmocka_unit_test(test_network_alias_reachable),
        cmocka_unit_test(test_volume_lifecycle),
    };
    return cmocka_run_group_tests(tests, NULL, tl_group_teardown);
}
