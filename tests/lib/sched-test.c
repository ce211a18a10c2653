/* Scheduler integration-test helpers: synchronous up/down/plan on a test loop, event lines, and
 * removal of everything a project made, by its label. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scheduler/scheduler-internal.h"
#include "tests/lib/compose-test.h"
#include "tests/lib/sched-test.h"

void st_run_init(struct st_run *r)
{
    memset(r, 0, sizeof(*r));
    cc_error_init(&r->err);
    buf_init(&r->events);
    buf_init(&r->plan);
}

void st_run_release(struct st_run *r)
{
    cc_error_release(&r->err);
    buf_release(&r->events);
    buf_release(&r->plan);
}

static void on_event(const struct sched_event *ev, void *data)
{
    struct st_run *r = data;
    buf_printf(&r->events, "%s %s %s%s%s\n", sched_resource_name(ev->kind), ev->name,
               sched_state_name(ev->state), ev->text ? " " : "", ev->text ? ev->text : "");
}

static void on_done(const struct cc_error *err, void *data)
{
    struct st_run *r = data;
    assert_false(r->done);
    r->done = true;
    if (err)
        cc_error_copy(&r->err, err);
}

static void on_plan(const struct sched_plan *plan, void *data)
{
    struct st_run *r = data;
    sched_plan_render(plan, &r->plan);
}

static void run_until(struct tl_env *env, struct sched_op *op, struct st_run *r,
                      const struct cc_error *err)
{
    if (!op)
        fail_msg("refused: %s", err->message);
    while (!r->done)
        uv_run(&env->loop, UV_RUN_ONCE);
    if (getenv("ST_VERBOSE"))
        fprintf(stderr, "%s%s", buf_str(&r->plan), buf_str(&r->events));
}

void st_up(struct tl_env *env, const struct compose_project *p, const struct sched_up_options *o,
           struct st_run *r)
{
    struct cc_error err = CC_ERROR_INIT;
    struct sched_op *op = sched_up(&env->loop, env->c, p, o, on_plan, on_event, on_done, r, &err);
    run_until(env, op, r, &err);
    cc_error_release(&err);
}

void st_down(struct tl_env *env, const char *project, const struct compose_project *model,
             const struct sched_down_options *o, struct st_run *r)
{
    struct cc_error err = CC_ERROR_INIT;
    struct sched_op *op =
        sched_down(&env->loop, env->c, project, model, o, on_event, on_done, r, &err);
    run_until(env, op, r, &err);
    cc_error_release(&err);
}

struct observed_result {
    bool done;
    struct sched_observed *o;
    struct cc_error err;
};

static void on_observed(struct sched_observed *o, const struct cc_error *err, void *data)
{
    struct observed_result *res = data;
    res->done = true;
    res->o = o;
    if (err)
        cc_error_copy(&res->err, err);
}

char *st_plan(struct tl_env *env, const struct compose_project *p,
              const struct sched_plan_options *o)
{
    struct observed_result res = {false, NULL, CC_ERROR_INIT};
    struct cc_error err = CC_ERROR_INIT;
    if (!sched_observe(&env->loop, env->c, p->name, p, NULL, on_observed, &res, &err))
        fail_msg("observe refused: %s", err.message);
    while (!res.done)
        uv_run(&env->loop, UV_RUN_ONCE);
    if (!res.o)
        fail_msg("observe failed: %s", res.err.message);
    struct sched_plan *plan = NULL;
    if (sched_plan_build(p, res.o, o, &plan, &err) < 0)
        fail_msg("plan failed: %s", err.message);
    struct buf out = BUF_INIT;
    sched_plan_render(plan, &out);
    sched_plan_free(plan);
    sched_observed_free(res.o);
    cc_error_release(&err);
    return buf_detach(&out);
}

json_t *st_inspect(struct tl_env *env, const char *name)
{
    struct tl_result r;
    tl_result_init(&r);
    TL_RUN(*env, r, engine_container_inspect(env->c, name, tl_on_done, &r, &err));
    json_t *j = r.json ? json_incref(r.json) : NULL;
    if (!j && r.err.kind != CC_ERR_NOT_FOUND)
        fail_msg("inspect %s: %s", name, r.err.message);
    tl_result_release(&r);
    return j;
}

size_t st_count(struct tl_env *env, const char *project, const char *kind)
{
    struct tl_result r;
    tl_result_init(&r);
    char *label = xasprintf("%s=%s", SCHED_LABEL_PROJECT, project);
    json_t *f = json_pack("{s:[s]}", "label", label);
    if (!strcmp(kind, "container"))
        TL_RUN(*env, r, engine_container_list(env->c, true, f, tl_on_done, &r, &err));
    else if (!strcmp(kind, "network"))
        TL_RUN(*env, r, engine_network_list(env->c, f, tl_on_done, &r, &err));
    else
        TL_RUN(*env, r, engine_volume_list(env->c, f, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    size_t n = json_is_array(r.json) ? json_array_size(r.json)
                                     : json_array_size(json_object_get(r.json, "Volumes"));
    json_decref(f);
    free(label);
    tl_result_release(&r);
    return n;
}

long long st_time_ns(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    assert_non_null(s);
    const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    assert_non_null(rest);
    long long ns = 0;
    int digits = 0;
    if (*rest == '.')
        for (rest++; *rest >= '0' && *rest <= '9'; rest++, digits++)
            if (digits < 9)
                ns = ns * 10 + (*rest - '0');
    for (; digits < 9; digits++)
        ns *= 10;
    return (long long)timegm(&tm) * 1000000000LL + ns;
}

size_t st_event_at(const struct st_run *r, const char *needle)
{
    const char *at = strstr(buf_str(&r->events), needle);
    if (!at)
        fail_msg("no event '%s' in:\n%s", needle, buf_str(&r->events));
    return (size_t)(at - buf_str(&r->events));
}

struct compose_project *st_project(const char *what)
{
    char *name = tl_unique(what);
    struct compose_project *p = mb_project_new(name, "/tmp");
    free(name);
    return p;
}

/* Containers first: they hold the networks and volumes. */
/* Images too: those the project's builds made carry its label, and a rebuild that moves a tag (or
 * Podman's, which reuses no cache) leaves the old one dangling, which no tag removes. */
void st_cleanup(const char *project)
{
    static const char *const kinds[] = {"container", "network", "volume", "image"};
    struct tl_env env;
    tl_env_init(&env);
    char *label = xasprintf("%s=%s", SCHED_LABEL_PROJECT, project);
    json_t *f = json_pack("{s:[s]}", "label", label);
    for (size_t k = 0; k < CC_ARRAY_LEN(kinds); k++) {
        struct tl_result r;
        tl_result_init(&r);
        if (k == 0)
            TL_RUN(env, r, engine_container_list(env.c, true, f, tl_on_done, &r, &err));
        else if (k == 1)
            TL_RUN(env, r, engine_network_list(env.c, f, tl_on_done, &r, &err));
        else if (k == 2)
            TL_RUN(env, r, engine_volume_list(env.c, f, tl_on_done, &r, &err));
        else
            TL_RUN(env, r, engine_image_list(env.c, f, tl_on_done, &r, &err));
        json_t *list = k == 2 ? json_object_get(r.json, "Volumes") : r.json;
        size_t i;
        json_t *it;
        json_array_foreach(list, i, it)
        {
            struct tl_result x;
            tl_result_init(&x);
            const char *id = json_string_value(json_object_get(it, k == 2 ? "Name" : "Id"));
            if (k == 0)
                TL_RUN(env, x,
                       engine_container_remove(env.c, id, true, true, tl_on_done, &x, &err));
            else if (k == 1)
                TL_RUN(env, x, engine_network_remove(env.c, id, tl_on_done, &x, &err));
            else if (k == 2)
                TL_RUN(env, x, engine_volume_remove(env.c, id, true, tl_on_done, &x, &err));
            else
                TL_RUN(env, x, engine_image_remove(env.c, id, true, tl_on_done, &x, &err));
            if (x.err.kind != CC_ERR_NONE && x.err.kind != CC_ERR_NOT_FOUND)
                fprintf(stderr, "cleanup: %s %s: %s\n", kinds[k], id, x.err.message);
            tl_result_release(&x);
        }
        tl_result_release(&r);
    }
    json_decref(f);
    free(label);
    tl_env_release(&env);
}

int st_setup(void **state)
{
    struct st_fixture *f = xcalloc(1, sizeof(*f));
    tl_env_init(&f->env);
    f->p = st_project("sched");
    *state = f;
    return 0;
}

int st_teardown(void **state)
{
    struct st_fixture *f = *state;
    tl_env_release(&f->env);
    st_cleanup(f->p->name);
    compose_project_free(f->p);
    free(f);
    return 0;
}

struct compose_service *st_sleeper(struct compose_project *p, const char *name)
{
    struct compose_service *s = mb_service_add(p, name, TEST_IMAGE);
    mb_command(p, s, "sh", "-c", ST_SLEEPER, NULL);
    return s;
}

char *st_cname(const struct compose_project *p, const char *service, int n)
{
    return xasprintf("%s-%s-%d", p->name, service, n);
}

char *st_id(struct tl_env *env, const char *name)
{
    json_t *j = st_inspect(env, name);
    if (!j)
        fail_msg("container '%s' does not exist", name);
    char *id = xstrdup(json_string_value(json_object_get(j, "Id")));
    json_decref(j);
    return id;
}

char *st_state(struct tl_env *env, const char *name, const char *field)
{
    json_t *j = st_inspect(env, name);
    if (!j)
        fail_msg("container '%s' does not exist", name);
    const char *v = json_string_value(json_object_get(json_object_get(j, "State"), field));
    char *s = xstrdup(v ? v : "");
    json_decref(j);
    return s;
}

void st_assert_ok(const struct st_run *r)
{
    if (r->err.kind != CC_ERR_NONE)
        fail_msg("failed: %s\nevents:\n%s", r->err.message, buf_str(&r->events));
}

void st_up_ok(struct tl_env *env, const struct compose_project *p)
{
    struct st_run r;
    st_run_init(&r);
    st_up(env, p, NULL, &r);
    st_assert_ok(&r);
    st_run_release(&r);
}

void st_logs_until(struct tl_env *env, const struct compose_project *p, const char *service,
                   const char *text)
{
    char *name = st_cname(p, service, 1);
    char *id = st_id(env, name);
    tl_logs_until(env, id, text);
    free(id);
    free(name);
}

void st_stack_deploy(struct tl_env *env, const struct compose_project *p,
                     const struct sched_stack_options *o, struct st_run *r)
{
    struct cc_error err = CC_ERROR_INIT;
    struct sched_op *op = sched_stack_deploy(&env->loop, env->c, p, o, on_event, on_done, r, &err);
    run_until(env, op, r, &err);
    cc_error_release(&err);
}

void st_stack_rm(struct tl_env *env, const char *stack, const struct sched_stack_options *o,
                 struct st_run *r)
{
    struct cc_error err = CC_ERROR_INIT;
    struct sched_op *op = sched_stack_rm(&env->loop, env->c, stack, o, on_event, on_done, r, &err);
    run_until(env, op, r, &err);
    cc_error_release(&err);
}
