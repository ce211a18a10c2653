/* The container calls against the real engine: each call, then the engine's own view of the
 * container (inspect, logs, list) to show the call did what it says. */
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

static bool json_is_true_at(json_t *v, const char *path)
{
    return json_is_true(tl_json_at(v, path));
}

static bool array_has_string(json_t *array, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(array, i, v)
    {
        if (json_string_value(v) && !strcmp(json_string_value(v), s))
            return true;
    }
    return false;
}

/* The IDs of the containers carrying label ccompose.test=label, as engine_container_list sees. */
static json_t *list_ids(struct tl_env *env, bool all, const char *label)
{
    struct tl_result r;
    tl_result_init(&r);
    char *filter = xasprintf("ccompose.test=%s", label);
    json_t *filters = json_pack("{s:[s]}", "label", filter);
    TL_RUN(*env, r, engine_container_list(env->c, all, filters, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    assert_true(json_is_array(r.json));
    json_t *ids = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(r.json, i, v)
    {
        json_array_append(ids, json_object_get(v, "Id"));
    }
    json_decref(filters);
    free(filter);
    tl_result_release(&r);
    return ids;
}

static void test_list_by_label(void **state)
{
    (void)state;
    struct tl_env env;
    tl_env_init(&env);
    char *label = tl_unique("list");
    json_t *body = tl_sh_body(TL_IDLE_SCRIPT, label);
    char *running = tl_container_run(&env, "list-running", body);
    char *created = tl_container_new(&env, "list-created", body, NULL);

    json_t *all = list_ids(&env, true, label);
    assert_int_equal(json_array_size(all), 2);
    assert_true(array_has_string(all, running));
    assert_true(array_has_string(all, created));
    json_t *up = list_ids(&env, false, label);
    assert_int_equal(json_array_size(up), 1);
    assert_true(array_has_string(up, running));

    json_decref(all);
    json_decref(up);
    json_decref(body);
    free(running);
    free(created);
    free(label);
    tl_env_release(&env);
}

/* Every part of the body reaches the engine: inspect shows it, and the process sees its env. */
static void test_create_body_applied(void **state)
{
    (void)state;
    struct tl_env env;
    tl_env_init(&env);
    json_t *body = json_pack(
        "{s:s, s:[s, s, s], s:[s, s], s:{s:s, s:s}, s:s, s:{s:s, s:b, s:[s], s:{s:s, s:i}, s:I}}",
        "Image", TEST_IMAGE, "Cmd", "sh", "-c", "echo \"$GREETING/$COUNT\"", "Env",
        "GREETING=two words", "COUNT=3", "Labels", "ccompose.test", "create", "com.example.k", "v",
        "WorkingDir", "/tmp", "HostConfig", "NetworkMode", "none", "ReadonlyRootfs", 1,
        "ExtraHosts", "db.test:10.9.8.7", "RestartPolicy", "Name", "on-failure",
        "MaximumRetryCount", 2, "ShmSize", (json_int_t)8 * 1024 * 1024);
    char *name = NULL;
    char *id = tl_container_new(&env, "create", body, &name);

    json_t *ins = tl_container_inspect(&env, id);
    char *slash_name = xasprintf("/%s", name);
    assert_string_equal(json_string_value(tl_json_at(ins, "Name")), slash_name);
    assert_string_equal(json_string_value(tl_json_at(ins, "Id")), id);
    assert_string_equal(json_string_value(tl_json_at(ins, "State/Status")), "created");
    assert_true(array_has_string(tl_json_at(ins, "Config/Env"), "GREETING=two words"));
    assert_true(array_has_string(tl_json_at(ins, "Config/Env"), "COUNT=3"));
    assert_string_equal(json_string_value(tl_json_at(ins, "Config/Labels/com.example.k")), "v");
    assert_string_equal(json_string_value(tl_json_at(ins, "Config/WorkingDir")), "/tmp");
    json_t *cmd = tl_json_at(ins, "Config/Cmd");
    assert_int_equal(json_array_size(cmd), 3);
    assert_string_equal(json_string_value(json_array_get(cmd, 2)), "echo \"$GREETING/$COUNT\"");
    assert_true(json_is_true_at(ins, "HostConfig/ReadonlyRootfs"));
    assert_true(array_has_string(tl_json_at(ins, "HostConfig/ExtraHosts"), "db.test:10.9.8.7"));
    assert_string_equal(json_string_value(tl_json_at(ins, "HostConfig/RestartPolicy/Name")),
                        "on-failure");
    assert_int_equal(json_integer_value(tl_json_at(ins, "HostConfig/RestartPolicy/"
                                                        "MaximumRetryCount")),
                     2);
    assert_int_equal(json_integer_value(tl_json_at(ins, "HostConfig/ShmSize")), 8 * 1024 * 1024);

    tl_container_start(&env, id);
    assert_int_equal(tl_container_wait(&env, id, NULL), 0);
    struct tl_result logs;
    tl_result_init(&logs);
    TL_RUN(env, logs,
           engine_container_logs(env.c, id, NULL, tl_on_output, tl_on_done, &logs, &err));
    tl_assert_ok(&logs);
    assert_string_equal(buf_str(&logs.out), "two words/3\n");

    tl_result_release(&logs);
    json_decref(ins);
    json_decref(body);
    free(slash_name);
    free(name);
    free(id);
    tl_env_release(&env);
}

static void test_name_conflict(void **state)
{
    (void)state;
    struct tl_env env;
    struct tl_result r;
    tl_env_init(&env);
    tl_result_init(&r);
    json_t *body = tl_sh_body("true", NULL);
    char *name = NULL;
    char *id = tl_container_new(&env, "conflict", body, &name);
    TL_RUN(env, r, engine_container_create(env.c, name, body, tl_on_done, &r, &err));
    if (r.json) /* made after all: clean it up before failing */
        tl_cleanup_container(json_string_value(json_object_get(r.json, "Id")));
    tl_assert_fails(&r, CC_ERR_CONFLICT);
    assert_int_equal(r.err.http_status, 409);
    assert_non_null(r.err.engine_message);
    assert_non_null(strstr(r.err.engine_message, name));
    tl_result_release(&r);
    json_decref(body);
    free(name);
    free(id);
    tl_env_release(&env);
}

/* Start makes it run; a stop with a timeout ends a container that obeys SIGTERM at once, with the
 * exit code its trap chose. */
static void test_start_stop(void **state)
{
    (void)state;
    struct tl_env env;
    struct tl_result r;
    tl_env_init(&env);
    tl_result_init(&r);
    json_t *body = tl_sh_body("trap 'exit 42' TERM; " TL_IDLE_SCRIPT, NULL);
    char *id = tl_container_new(&env, "stop", body, NULL);
    tl_container_start(&env, id);
    json_t *ins = tl_container_inspect(&env, id);
    assert_true(json_is_true_at(ins, "State/Running"));
    assert_string_equal(json_string_value(tl_json_at(ins, "State/Status")), "running");
    json_decref(ins);
    tl_logs_until(&env, id, "ready");

    uint64_t t0 = uv_now(&env.loop);
    TL_RUN(env, r, engine_container_stop(env.c, id, 30, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    uv_update_time(&env.loop);
    assert_true(uv_now(&env.loop) - t0 < 20 * 1000); /* by TERM, not by the kill after 30 s */
    ins = tl_container_inspect(&env, id);
    assert_false(json_is_true_at(ins, "State/Running"));
    assert_string_equal(json_string_value(tl_json_at(ins, "State/Status")), "exited");
    assert_int_equal(json_integer_value(tl_json_at(ins, "State/ExitCode")), 42);

    json_decref(ins);
    json_decref(body);
    tl_result_release(&r);
    free(id);
    tl_env_release(&env);
}

/* A container that ignores SIGTERM is killed when the stop timeout runs out. */
static void test_stop_kills_after_timeout(void **state)
{
    (void)state;
    struct tl_env env;
    struct tl_result r;
    tl_env_init(&env);
    tl_result_init(&r);
    json_t *body = tl_sh_body("trap '' TERM; " TL_IDLE_SCRIPT, NULL);
    char *id = tl_container_run(&env, "stop-kill", body);
    tl_logs_until(&env, id, "ready");

    uv_update_time(&env.loop);
    uint64_t t0 = uv_now(&env.loop);
    TL_RUN(env, r, engine_container_stop(env.c, id, 2, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    uv_update_time(&env.loop);
    assert_true(uv_now(&env.loop) - t0 >= 1900);
    json_t *ins = tl_container_inspect(&env, id);
    assert_false(json_is_true_at(ins, "State/Running"));
    assert_int_equal(json_integer_value(tl_json_at(ins, "State/ExitCode")), 137);

    json_decref(ins);
    json_decref(body);
    tl_result_release(&r);
    free(id);
    tl_env_release(&env);
}

static void test_restart(void **state)
{
    (void)state;
    struct tl_env env;
    struct tl_result r;
    tl_env_init(&env);
    tl_result_init(&r);
    json_t *body = tl_sh_body("trap 'exit 0' TERM; " TL_IDLE_SCRIPT, NULL);
    char *id = tl_container_run(&env, "restart", body);
    json_t *before = tl_container_inspect(&env, id);
    tl_logs_until(&env, id, "ready");
    TL_RUN(env, r, engine_container_restart(env.c, id, 10, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    json_t *after = tl_container_inspect(&env, id);
    assert_true(json_is_true_at(after, "State/Running"));
    assert_string_not_equal(json_string_value(tl_json_at(before, "State/StartedAt")),
                            json_string_value(tl_json_at(after, "State/StartedAt")));
    assert_int_not_equal(json_integer_value(tl_json_at(before, "State/Pid")),
                         json_integer_value(tl_json_at(after, "State/Pid")));

    json_decref(before);
    json_decref(after);
    json_decref(body);
    tl_result_release(&r);
    free(id);
    tl_env_release(&env);
}

/* The signal given is the one delivered (the container says so); no signal means SIGKILL. */
static void test_kill_signal(void **state)
{
    (void)state;
    struct tl_env env;
    struct tl_result r;
    tl_env_init(&env);
    tl_result_init(&r);
    json_t *body = tl_sh_body("trap 'echo got USR1' USR1; " TL_IDLE_SCRIPT, NULL);
    char *id = tl_container_run(&env, "kill", body);
    tl_logs_until(&env, id, "ready");
    TL_RUN(env, r, engine_container_kill(env.c, id, "SIGUSR1", tl_on_done, &r, &err));
    tl_assert_ok(&r);
    tl_logs_until(&env, id, "got USR1");
    json_t *ins = tl_container_inspect(&env, id);
    assert_true(json_is_true_at(ins, "State/Running")); /* trapped, so still running */
    json_decref(ins);

    tl_result_release(&r);
    TL_RUN(env, r, engine_container_kill(env.c, id, NULL, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    assert_int_equal(tl_container_wait(&env, id, NULL), 137);
    ins = tl_container_inspect(&env, id);
    assert_false(json_is_true_at(ins, "State/Running"));

    json_decref(ins);
    json_decref(body);
    tl_result_release(&r);
    free(id);
    tl_env_release(&env);
}

static void test_pause_unpause(void **state)
{
    (void)state;
    struct tl_env env;
    struct tl_result r;
    tl_env_init(&env);
    tl_result_init(&r);
    json_t *body = tl_sh_body(TL_IDLE_SCRIPT, NULL);
    char *id = tl_container_run(&env, "pause", body);
    TL_RUN(env, r, engine_container_pause(env.c, id, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    json_t *ins = tl_container_inspect(&env, id);
    assert_true(json_is_true_at(ins, "State/Paused"));
    assert_string_equal(json_string_value(tl_json_at(ins, "State/Status")), "paused");
    json_decref(ins);

    tl_result_release(&r);
    TL_RUN(env, r, engine_container_unpause(env.c, id, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    ins = tl_container_inspect(&env, id);
    assert_false(json_is_true_at(ins, "State/Paused"));
    assert_true(json_is_true_at(ins, "State/Running"));

    json_decref(ins);
    json_decref(body);
    tl_result_release(&r);
    free(id);
    tl_env_release(&env);
}

/* Removing a running container needs force; with volumes, its anonymous volume goes too. */
static void test_remove_force_volumes(void **state)
{
    (void)state;
    struct tl_env env;
    struct tl_result r;
    tl_env_init(&env);
    tl_result_init(&r);
    json_t *body = tl_sh_body(TL_IDLE_SCRIPT, NULL);
    json_object_set_new(body, "Volumes", json_pack("{s:{}}", "/data"));
    char *id = tl_container_run(&env, "remove", body);
    json_t *ins = tl_container_inspect(&env, id);
    const char *volume =
        json_string_value(tl_json_at(json_array_get(tl_json_at(ins, "Mounts"), 0), "Name"));
    assert_non_null(volume);
    tl_cleanup_volume(volume);

    TL_RUN(env, r, engine_container_remove(env.c, id, false, true, tl_on_done, &r, &err));
    tl_assert_fails(&r, CC_ERR_CONFLICT);
    assert_int_equal(r.err.http_status, 409);
    tl_result_release(&r);

    TL_RUN(env, r, engine_container_remove(env.c, id, true, true, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    tl_result_release(&r);
    TL_RUN(env, r, engine_container_inspect(env.c, id, tl_on_done, &r, &err));
    tl_assert_fails(&r, CC_ERR_NOT_FOUND);
    tl_result_release(&r);
    TL_RUN(env, r, engine_volume_inspect(env.c, volume, tl_on_done, &r, &err));
    tl_assert_fails(&r, CC_ERR_NOT_FOUND);

    json_decref(ins);
    json_decref(body);
    tl_result_release(&r);
    free(id);
    tl_env_release(&env);
}

static void test_wait_exit_code(void **state)
{
    (void)state;
    struct tl_env env;
    tl_env_init(&env);
    json_t *body = tl_sh_body("exit 3", NULL);
    char *id = tl_container_run(&env, "wait", body);
    assert_int_equal(tl_container_wait(&env, id, NULL), 3);
    json_t *ins = tl_container_inspect(&env, id);
    assert_int_equal(json_integer_value(tl_json_at(ins, "State/ExitCode")), 3);
    json_decref(ins);
    json_decref(body);
    free(id);
    tl_env_release(&env);
}

/* "not-running" is met at once by a running container's opposite; "next-exit" waits for the next
 * exit even though the container is running now. */
static void test_wait_next_exit(void **state)
{
    TL_SKIP_ON_PODMAN("Podman answers a wait on a never-started container with StatusCode 0 once "
                      "and -1 after that, and this test waits on one first");
    (void)state;
    struct tl_env env;
    struct tl_result next, r;
    tl_env_init(&env);
    tl_result_init(&next);
    tl_result_init(&r);
    json_t *body = tl_sh_body("trap 'exit 5' USR1; " TL_IDLE_SCRIPT, NULL);
    char *created = tl_container_new(&env, "wait-created", body, NULL);
    assert_int_equal(tl_container_wait(&env, created, "not-running"), 0);

    char *id = tl_container_run(&env, "wait-next", body);
    tl_logs_until(&env, id, "ready");
    struct cc_error e = CC_ERROR_INIT;
    assert_non_null(engine_container_wait(env.c, id, "next-exit", tl_on_done, &next, &e));
    /* A round trip after it, so the engine has surely taken the wait in. */
    TL_RUN(env, r, engine_container_inspect(env.c, id, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    assert_false(next.done);
    tl_result_release(&r);
    /* The round trip shows the engine has the request, not that its handler has registered the
     * waiter (requests on two connections run concurrently); an exit before that is not the
     * "next" one and the wait would never answer. Give the handler a moment on a busy machine,
     * and bound the wait so that a miss fails in a minute instead of hanging the run. */
    uint64_t settle = uv_now(&env.loop) + 500;
    while (!next.done && uv_now(&env.loop) < settle)
        uv_run(&env.loop, UV_RUN_ONCE);
    assert_false(next.done);
    TL_RUN(env, r, engine_container_kill(env.c, id, "USR1", tl_on_done, &r, &err));
    tl_assert_ok(&r);
    uint64_t deadline = uv_now(&env.loop) + 60000;
    while (!next.done && uv_now(&env.loop) < deadline)
        uv_run(&env.loop, UV_RUN_ONCE);
    if (!next.done)
        fail_msg("the next-exit wait did not answer within 60 s of the container's exit");
    tl_assert_ok(&next);
    assert_int_equal(json_integer_value(json_object_get(next.json, "StatusCode")), 5);

    json_decref(body);
    tl_result_release(&next);
    tl_result_release(&r);
    free(created);
    free(id);
    tl_env_release(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_by_label),
        cmocka_unit_test(test_create_body_applied),
        cmocka_unit_test(test_name_conflict),
        cmocka_unit_test(test_start_stop),
        cmocka_unit_test(test_stop_kills_after_timeout),
        cmocka_unit_test(test_restart),
        cmocka_unit_test(test_kill_signal),
        cmocka_unit_test(test_pause_unpause),
        cmocka_unit_test(test_remove_force_volumes),
        cmocka_unit_test(test_wait_exit_code),
        cmocka_unit_test(test_wait_next_exit),
    };
    return cmocka_run_group_tests(tests, NULL, tl_group_teardown);
}
