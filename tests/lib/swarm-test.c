/* Swarm test helpers: see swarm-test.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/swarm-test.h"

static void on_pause(uv_timer_t *t)
{
    *(bool *)t->data = true;
}

static void on_pause_closed(uv_handle_t *h)
{
    (void)h;
}

void sw_pause(struct tl_env *env, int ms)
{
    uv_timer_t t;
    bool fired = false;
    t.data = &fired;
    uv_timer_init(&env->loop, &t);
    uv_timer_start(&t, on_pause, (uint64_t)ms, 0);
    while (!fired)
        uv_run(&env->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, on_pause_closed);
    uv_run(&env->loop, UV_RUN_NOWAIT);
}

json_t *sw_list(struct tl_env *env, sw_list_fn list, json_t *filters)
{
    struct tl_result r;
    tl_result_init(&r);
    TL_RUN(*env, r, list(env->c, filters, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    json_t *ret = json_incref(r.json);
    tl_result_release(&r);
    return ret;
}

json_t *sw_tasks(struct tl_env *env, const char *service)
{
    json_t *f = json_pack("{s:[s], s:[s]}", "service", service, "desired-state", "running");
    json_t *tasks = sw_list(env, engine_task_list, f);
    json_decref(f);
    return tasks;
}

static size_t count_running(json_t *tasks)
{
    size_t i, n = 0;
    json_t *t;
    json_array_foreach(tasks, i, t)
    {
        const char *st = json_string_value(tl_json_at(t, "Status/State"));
        n += st && !strcmp(st, "running");
    }
    return n;
}

size_t sw_running(struct tl_env *env, const char *service)
{
    json_t *tasks = sw_tasks(env, service);
    size_t n = count_running(tasks);
    json_decref(tasks);
    return n;
}

/* "state (error)" of each task, for failure messages; new. */
static char *describe(json_t *tasks)
{
    struct buf b = BUF_INIT;
    size_t i;
    json_t *t;
    json_array_foreach(tasks, i, t)
    {
        const char *st = json_string_value(tl_json_at(t, "Status/State"));
        const char *e = json_string_value(tl_json_at(t, "Status/Err"));
        buf_printf(&b, "%s%s%s%s%s", i ? ", " : "", st ? st : "?", e ? " (" : "", e ? e : "",
                   e ? ")" : "");
    }
    return buf_detach(&b);
}

void sw_wait_running(struct tl_env *env, const char *service, size_t n, int timeout_s)
{
    for (int waited = 0;; waited += 200) {
        json_t *tasks = sw_tasks(env, service);
        if (count_running(tasks) == n && json_array_size(tasks) == n) {
            json_decref(tasks);
            return;
        }
        if (waited >= timeout_s * 1000) {
            char *d = describe(tasks);
            fail_msg("service %s: wanted %zu tasks running, have: %s", service, n, d);
        }
        json_decref(tasks);
        sw_pause(env, 200);
    }
}

/* The engine refuses a "service" task filter naming a removed service: tasks are matched here. */
void sw_wait_no_tasks(struct tl_env *env, const char *service_id, int timeout_s)
{
    for (int waited = 0;; waited += 200) {
        json_t *tasks = sw_list(env, engine_task_list, NULL), *t;
        size_t i, n = 0;
        json_array_foreach(tasks, i, t)
        {
            const char *sid = json_string_value(json_object_get(t, "ServiceID"));
            n += sid && !strcmp(sid, service_id);
        }
        json_decref(tasks);
        if (!n)
            break;
        if (waited >= timeout_s * 1000)
            fail_msg("service %s: %zu tasks still there after %ds", service_id, n, timeout_s);
        sw_pause(env, 200);
    }
}

json_t *sw_service(struct tl_env *env, const char *name)
{
    struct tl_result r;
    tl_result_init(&r);
    TL_RUN(*env, r, engine_service_inspect(env->c, name, tl_on_done, &r, &err));
    if (r.err.kind == CC_ERR_NOT_FOUND) {
        tl_result_release(&r);
        return NULL;
    }
    tl_assert_ok(&r);
    json_t *ret = json_incref(r.json);
    tl_result_release(&r);
    return ret;
}

json_t *sw_label_filter(const char *value)
{
    char *l = xasprintf("%s=%s", SW_LABEL, value);
    json_t *f = json_pack("{s:[s]}", "label", l);
    free(l);
    return f;
}

typedef struct engine_request *(*sw_remove_fn)(struct engine_client *, const char *, engine_cb,
                                               void *, struct cc_error *);

/* Removes what list finds with filters, by "ID" (networks: "Id"). */
static void remove_listed(struct tl_env *env, sw_list_fn list, sw_remove_fn remove, json_t *f)
{
    struct tl_result r;
    tl_result_init(&r);
    TL_RUN(*env, r, list(env->c, f, tl_on_done, &r, &err));
    json_t *items = json_incref(r.json);
    tl_result_release(&r);
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        const char *id = json_string_value(json_object_get(it, "ID"));
        if (!id)
            id = json_string_value(json_object_get(it, "Id"));
        TL_RUN(*env, r, remove(env->c, id, tl_on_done, &r, &err));
        if (r.err.kind != CC_ERR_NONE && r.err.kind != CC_ERR_NOT_FOUND)
            fprintf(stderr, "cleanup: could not remove %s: %s\n", id, r.err.message);
        tl_result_release(&r);
    }
    json_decref(items);
}

static struct engine_request *service_list_plain(struct engine_client *c, json_t *filters,
                                                 engine_cb cb, void *data, struct cc_error *reterr)
{
    return engine_service_list(c, filters, false, cb, data, reterr);
}

void sw_cleanup(const char *value)
{
    struct tl_env env;
    tl_env_init(&env);
    json_t *f = sw_label_filter(value);
    remove_listed(&env, service_list_plain, engine_service_remove, f);
    remove_listed(&env, engine_secret_list, engine_secret_remove, f);
    remove_listed(&env, engine_config_list, engine_config_remove, f);
    /* A network goes once the tasks on it are gone: its removal may fail until then. */
    remove_listed(&env, engine_network_list, engine_network_remove, f);
    json_decref(f);
    tl_env_release(&env);
}
