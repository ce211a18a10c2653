/* Stacks on the private single-node swarm (tests/swarm/private-swarm.sh): deploy a two-service
 * stack from a model, update it, prune, query, remove; a service whose tasks keep failing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/sched-test.h"
#include "tests/lib/swarm-test.h"

#define WAIT_MS (120 * 1000)

struct rows {
    bool done;
    json_t *rows;
    struct cc_error err;
};

static void on_rows(json_t *rows, const struct cc_error *err, void *data)
{
    struct rows *r = data;
    r->done = true;
    if (err)
        cc_error_copy(&r->err, err);
    else
        r->rows = json_incref(rows);
}

/* The rows of a stack query (new); fails the test on error. */
static json_t *query(struct tl_env *env, enum sched_stack_query what, const char *stack)
{
    struct rows r = {false, NULL, CC_ERROR_INIT};
    struct cc_error err = CC_ERROR_INIT;
    struct sched_op *op = sched_stack_query(&env->loop, env->c, what, stack, on_rows, &r, &err);
    if (!op)
        fail_msg("query refused: %s", err.message);
    while (!r.done)
        uv_run(&env->loop, UV_RUN_ONCE);
    if (r.err.kind != CC_ERR_NONE)
        fail_msg("query failed: %s", r.err.message);
    return r.rows;
}

/* A secret file with content, removed by the caller. */
static char secret_path[] = "/tmp/ccompose-stack-secret-XXXXXX";

/* The stack: web (replicas, COLOR, a label on the service and one on its containers, on the
 * front network with an alias, the token secret) and, with_worker, worker on the default network. */
static struct compose_project *model(const char *stack, const char *color, bool with_worker,
                                     int replicas)
{
    struct compose_project *p = mb_project_new(stack, "/tmp");
    struct compose_service *web = mb_service_add(p, "web", TEST_IMAGE);
    mb_command(p, web, "sh", "-c", ST_SLEEPER, NULL);
    mb_kv_set(p, &web->environment, "COLOR", color);
    mb_kv_set(p, &web->labels, "ccompose.test.container", "web");
    mb_kv_set(p, &web->deploy.labels, "ccompose.test.service", "web");
    web->deploy.set = true;
    web->deploy.replicas = replicas;
    web->deploy.update_config.set = true;
    web->deploy.update_config.parallelism = 1;
    web->deploy.update_config.order = "start-first";
    web->stop_grace_period = 2000000000;
    mb_network_add(p, "front");
    struct compose_service_network *sn = mb_service_network(p, web, "front");
    mb_strv_add(p, &sn->aliases, "www");
    mb_secret_add(p, "token", secret_path);
    mb_service_secret(p, web, "token", NULL);
    if (with_worker) {
        struct compose_service *worker = mb_service_add(p, "worker", TEST_IMAGE);
        mb_command(p, worker, "sh", "-c", ST_SLEEPER, NULL);
        mb_depends_on(p, worker, "web", COMPOSE_COND_STARTED);
        worker->stop_grace_period = 2000000000;
    }
    mb_project_done(p);
    return p;
}

static const char *env_of(json_t *spec)
{
    return json_string_value(json_array_get(tl_json_at(spec, "TaskTemplate/ContainerSpec/Env"), 0));
}

/* The output of `sh -c script` in one running container of the service (new). */
static char *exec_in_service(struct tl_env *env, const char *service, const char *script)
{
    char *label = xasprintf("com.docker.swarm.service.name=%s", service);
    json_t *f = json_pack("{s:[s]}", "label", label);
    free(label);
    struct tl_result r;
    tl_result_init(&r);
    TL_RUN(*env, r, engine_container_list(env->c, false, f, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    assert_true(json_array_size(r.json) > 0);
    char *id = tl_exec_new(env, json_string_value(tl_json_at(json_array_get(r.json, 0), "Id")),
                           script, false);
    tl_result_release(&r);
    TL_RUN(*env, r, engine_exec_start(env->c, id, false, false, tl_on_output, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    char *out = xstrdup(buf_str(&r.out));
    tl_result_release(&r);
    free(id);
    json_decref(f);
    return out;
}

static void test_stack_lifecycle(void **state)
{
    (void)state;
    struct tl_env env;
    tl_env_init(&env);
    int fd = mkstemp(secret_path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "s3cret", 6), 6);
    close(fd);
    char *stack = tl_unique("stack");
    char *web = xasprintf("%s_web", stack), *worker = xasprintf("%s_worker", stack);
    char *front = xasprintf("%s_front", stack);
    struct sched_stack_options o = {.resolve_image = SCHED_RESOLVE_NEVER,
                                    .wait = true,
                                    .wait_timeout_ms = WAIT_MS};

    /* Deploy: networks and the secret first, then both services, waited for. */
    struct compose_project *p = model(stack, "red", true, 2);
    struct st_run r;
    st_run_init(&r);
    st_stack_deploy(&env, p, &o, &r);
    st_assert_ok(&r);
    char *needle = xasprintf("network %s Created", front);
    size_t net = st_event_at(&r, needle);
    free(needle);
    needle = xasprintf("service %s Creating", web);
    assert_true(net < st_event_at(&r, needle));
    free(needle);
    needle = xasprintf("service %s Created", web);
    st_event_at(&r, needle);
    free(needle);
    needle = xasprintf("service %s Running 2/2 tasks running", web);
    st_event_at(&r, needle);
    free(needle);
    st_event_at(&r, "depends_on: not supported in swarm mode, ignoring");
    assert_int_equal(sw_running(&env, web), 2);
    assert_int_equal(sw_running(&env, worker), 1);

    json_t *ins = sw_service(&env, web);
    assert_non_null(ins);
    assert_string_equal(json_string_value(tl_json_at(ins, "Spec/Labels/com.docker.stack.namespace")),
                        stack);
    assert_string_equal(json_string_value(tl_json_at(ins, "Spec/Labels/ccompose.test.service")),
                        "web");
    assert_string_equal(json_string_value(tl_json_at(
                            ins, "Spec/TaskTemplate/ContainerSpec/Labels/ccompose.test.container")),
                        "web");
    assert_int_equal(json_integer_value(tl_json_at(ins, "Spec/Mode/Replicated/Replicas")), 2);
    assert_string_equal(env_of(tl_json_at(ins, "Spec")), "COLOR=red");
    json_int_t v1 = json_integer_value(tl_json_at(ins, "Version/Index"));
    json_decref(ins);

    /* The overlay network, labelled; the secret reaches the containers. */
    struct tl_result tr;
    tl_result_init(&tr);
    json_t *nf = json_pack("{s:[s]}", "name", front);
    json_t *nets = sw_list(&env, engine_network_list, nf);
    assert_int_equal(json_array_size(nets), 1);
    assert_string_equal(json_string_value(tl_json_at(json_array_get(nets, 0), "Driver")), "overlay");
    assert_string_equal(json_string_value(tl_json_at(json_array_get(nets, 0),
                                                     "Labels/com.docker.stack.namespace")),
                        stack);
    json_decref(nets);
    json_decref(nf);
    char *out = exec_in_service(&env, web, "cat /run/secrets/token; echo; nslookup www 2>&1 | "
                                           "grep -c Address || true");
    assert_non_null(strstr(out, "s3cret"));
    free(out);

    /* Queries. */
    json_t *rows = query(&env, SCHED_STACK_LS, NULL);
    bool listed = false;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
        if (!strcmp(json_string_value(json_object_get(row, "Name")), stack)) {
            listed = true;
            assert_int_equal(json_integer_value(json_object_get(row, "Services")), 2);
        }
    assert_true(listed);
    json_decref(rows);
    rows = query(&env, SCHED_STACK_SERVICES, stack);
    assert_int_equal(json_array_size(rows), 2);
    assert_string_equal(json_string_value(tl_json_at(json_array_get(rows, 0), "Name")), web);
    assert_int_equal(json_integer_value(tl_json_at(json_array_get(rows, 0), "Running")), 2);
    assert_int_equal(json_integer_value(tl_json_at(json_array_get(rows, 0), "Desired")), 2);
    json_decref(rows);
    rows = query(&env, SCHED_STACK_PS, stack);
    assert_int_equal(json_array_size(rows), 3);
    char *slot1 = xasprintf("%s.1", web);
    assert_string_equal(json_string_value(tl_json_at(json_array_get(rows, 0), "Name")), slot1);
    assert_string_equal(json_string_value(tl_json_at(json_array_get(rows, 0), "CurrentState")),
                        "running");
    free(slot1);
    json_decref(rows);
    compose_project_free(p);
    st_run_release(&r);

    /* Update: a new environment bumps the version and replaces the tasks. */
    p = model(stack, "blue", true, 2);
    st_run_init(&r);
    st_stack_deploy(&env, p, &o, &r);
    st_assert_ok(&r);
    needle = xasprintf("service %s Updated", web);
    st_event_at(&r, needle);
    free(needle);
    ins = sw_service(&env, web);
    assert_true(json_integer_value(tl_json_at(ins, "Version/Index")) > v1);
    assert_string_equal(env_of(tl_json_at(ins, "Spec")), "COLOR=blue");
    assert_string_equal(env_of(tl_json_at(ins, "PreviousSpec")), "COLOR=red");
    json_decref(ins);
    json_t *tasks = sw_tasks(&env, web);
    assert_int_equal(json_array_size(tasks), 2);
    json_array_foreach(tasks, i, row)
        assert_string_equal(
            json_string_value(json_array_get(tl_json_at(row, "Spec/ContainerSpec/Env"), 0)),
            "COLOR=blue");
    json_decref(tasks);
    out = exec_in_service(&env, web, "echo $COLOR");
    assert_string_equal(out, "blue\n");
    free(out);
    compose_project_free(p);
    st_run_release(&r);

    /* Scale: three replicas of web, waited for. */
    p = model(stack, "blue", true, 3);
    st_run_init(&r);
    st_stack_deploy(&env, p, &o, &r);
    st_assert_ok(&r);
    needle = xasprintf("service %s Running 3/3 tasks running", web);
    st_event_at(&r, needle);
    free(needle);
    assert_int_equal(sw_running(&env, web), 3);
    compose_project_free(p);
    st_run_release(&r);

    /* A task's container killed: swarm replaces the task, and a deploy waits for it. */
    tasks = sw_tasks(&env, web);
    const char *cid =
        json_string_value(tl_json_at(json_array_get(tasks, 0), "Status/ContainerStatus/ContainerID"));
    assert_non_null(cid);
    TL_RUN(env, tr, engine_container_kill(env.c, cid, "SIGKILL", tl_on_done, &tr, &err));
    tl_assert_ok(&tr);
    tl_result_release(&tr);
    /* Swarm notices the death in a moment: wait until three tasks run and none is the old. */
    bool replaced = false;
    for (int waited = 0; !replaced && waited < 60000; waited += 200) {
        json_t *after = sw_tasks(&env, web);
        size_t n = 0;
        replaced = true;
        json_array_foreach(after, i, row)
        {
            const char *st = json_string_value(tl_json_at(row, "Status/State"));
            const char *c = json_string_value(tl_json_at(row, "Status/ContainerStatus/ContainerID"));
            n += st && !strcmp(st, "running");
            replaced &= !c || strcmp(c, cid) != 0;
        }
        replaced &= n == 3;
        json_decref(after);
        if (!replaced)
            sw_pause(&env, 200);
    }
    assert_true(replaced);
    json_decref(tasks);

    /* Without worker in the file: kept without --prune, removed with it. */
    p = model(stack, "blue", false, 3);
    st_run_init(&r);
    st_stack_deploy(&env, p, &o, &r);
    st_assert_ok(&r);
    ins = sw_service(&env, worker);
    assert_non_null(ins);
    json_decref(ins);
    st_run_release(&r);
    o.prune = true;
    st_run_init(&r);
    st_stack_deploy(&env, p, &o, &r);
    st_assert_ok(&r);
    needle = xasprintf("service %s Removed", worker);
    st_event_at(&r, needle);
    free(needle);
    assert_null(sw_service(&env, worker));
    assert_non_null((ins = sw_service(&env, web)));
    json_decref(ins);
    compose_project_free(p);
    st_run_release(&r);

    /* rm leaves nothing with the stack's label, and no task. */
    st_run_init(&r);
    st_stack_rm(&env, stack, &o, &r);
    st_assert_ok(&r);
    needle = xasprintf("network %s Removed", front);
    st_event_at(&r, needle);
    free(needle);
    st_run_release(&r);
    char *label = xasprintf("com.docker.stack.namespace=%s", stack);
    json_t *f = json_pack("{s:[s]}", "label", label);
    free(label);
    json_t *left = sw_list(&env, engine_secret_list, f);
    assert_int_equal(json_array_size(left), 0);
    json_decref(left);
    left = sw_list(&env, engine_network_list, f);
    assert_int_equal(json_array_size(left), 0);
    json_decref(left);
    rows = query(&env, SCHED_STACK_SERVICES, stack);
    assert_int_equal(json_array_size(rows), 0);
    json_decref(rows);
    rows = query(&env, SCHED_STACK_PS, stack);
    assert_int_equal(json_array_size(rows), 0);
    json_decref(rows);
    json_decref(f);

    /* Removing it again finds nothing. */
    st_run_init(&r);
    st_stack_rm(&env, stack, &o, &r);
    assert_int_equal(r.err.kind, CC_ERR_NOT_FOUND);
    st_run_release(&r);

    unlink(secret_path);
    free(front);
    free(worker);
    free(web);
    free(stack);
    tl_env_release(&env);
}

/* A service whose containers exit at once: each failed task is reported with its error, and the
 * deploy gives up instead of waiting for ever. */
static void test_failing_service(void **state)
{
    (void)state;
    struct tl_env env;
    tl_env_init(&env);
    char *stack = tl_unique("failing");
    struct compose_project *p = mb_project_new(stack, "/tmp");
    struct compose_service *s = mb_service_add(p, "crash", TEST_IMAGE);
    mb_command(p, s, "sh", "-c", "exit 3", NULL);
    s->deploy.restart_policy.condition = "any";
    s->deploy.restart_policy.delay = 100000000;
    mb_project_done(p);
    struct sched_stack_options o = {.resolve_image = SCHED_RESOLVE_NEVER,
                                    .wait = true,
                                    .wait_timeout_ms = WAIT_MS};
    struct st_run r;
    st_run_init(&r);
    st_stack_deploy(&env, p, &o, &r);
    assert_int_equal(r.err.kind, CC_ERR_FAILED);
    assert_non_null(strstr(r.err.message, "non-zero exit (3)"));
    char *needle = xasprintf("task %s_crash.1 Error failed: task: non-zero exit (3)", stack);
    st_event_at(&r, needle);
    free(needle);
    st_run_release(&r);

    st_run_init(&r);
    st_stack_rm(&env, stack, &o, &r);
    st_assert_ok(&r);
    st_run_release(&r);
    compose_project_free(p);
    free(stack);
    tl_env_release(&env);
}

/* What swarm cannot take is refused before anything is made. */
static void test_invalid_model(void **state)
{
    (void)state;
    struct tl_env env;
    tl_env_init(&env);
    struct compose_project *p = mb_project_new("ccit-invalid", "/tmp");
    struct compose_service *s = mb_service_add(p, "g", TEST_IMAGE);
    s->deploy.mode = "global";
    s->deploy.replicas = 2;
    mb_project_done(p);
    struct cc_error err = CC_ERROR_INIT;
    assert_null(sched_stack_deploy(&env.loop, env.c, p, NULL, NULL, NULL, NULL, &err));
    assert_int_equal(err.kind, CC_ERR_INVALID_CONFIG);
    assert_string_equal(err.key_path, "services.g.deploy.replicas");
    cc_error_release(&err);
    compose_project_free(p);
    tl_env_release(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stack_lifecycle),
        cmocka_unit_test(test_failing_service),
        cmocka_unit_test(test_invalid_model),
    };
    return cmocka_run_group_tests(tests, NULL, tl_group_teardown);
}
