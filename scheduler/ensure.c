/* Images before up, and the build, pull and push commands: each selected service's image is
 * inspected, then built, pulled or pushed as the mode, pull_policy and the command's --build /
 * --no-build / --pull say, a few at once. One image name is handled once even when several
 * services use it. */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "scheduler/images.h"
#include "scheduler/run-internal.h"
#include "scheduler/scheduler-internal.h"

#define ENSURE_DEFAULT_PARALLEL 4

enum ensure_state { ENSURE_INSPECTING = 0, ENSURE_FETCHING, ENSURE_DONE };

enum img_state { IMG_INSPECTING = 0, IMG_QUEUED, IMG_RUNNING, IMG_DONE };

struct img {
    struct sched_ensure *e;
    const struct compose_service *s;
    char *name;
    enum img_state state;
    enum sched_image_action action;
    bool push;
    const char *skip; /* why nothing is done for it (static text), or NULL */
    int step;         /* the build step last reported */
    struct engine_request *inspect;
    struct sched_build *build;
    struct sched_pull *pull;
};

struct sched_ensure {
    enum ensure_state state;
    uv_loop_t *loop;
    struct engine_client *c;
    const struct compose_project *p;
    struct sched_ensure_options opts;
    struct img *imgs;
    size_t n_imgs;
    size_t pending; /* images not done */
    int running;
    bool cancelled;
    struct cc_error err;
    uv_timer_t timer; /* defers done to the loop; its close frees */
    sched_event_cb on_event;
    sched_done_cb done;
    void *data;
};

static void ensure_pump(struct sched_ensure *e);

static void ensure_set_state(struct sched_ensure *e, enum ensure_state state)
{
    log_debug("%s: %d -> %d", __func__, e->state, state);
    e->state = state;
}

static void img_set_state(struct img *m, enum img_state state)
{
    log_debug("%s: %s: %d -> %d", __func__, m->name, m->state, state);
    m->state = state;
}

static void report(struct img *m, enum sched_state state, const char *text)
{
    if (!m->e->on_event)
        return;
    struct sched_event ev = {SCHED_RES_IMAGE, m->name, m->s->name, state, text};
    m->e->on_event(&ev, m->e->data);
}

static void on_closed(uv_handle_t *h)
{
    struct sched_ensure *e = h->data;
    for (size_t i = 0; i < e->n_imgs; i++)
        free(e->imgs[i].name);
    free(e->imgs);
    cc_error_release(&e->err);
    free(e);
}

static void on_finish_timer(uv_timer_t *t)
{
    struct sched_ensure *e = t->data;
    e->done(e->err.kind == CC_ERR_NONE ? NULL : &e->err, e->data);
    uv_close((uv_handle_t *)&e->timer, on_closed);
}

/* Whether a failure of m leaves the whole operation successful: --ignore-*-failures, and pulls of
 * images that can be built (docker compose pull only warns about those). */
static bool failure_ignored(const struct img *m, const struct cc_error *err)
{
    if (!err || err->kind == CC_ERR_CANCELLED || m->e->cancelled)
        return false;
    return m->e->opts.ignore_failures ||
           (m->e->opts.mode == SCHED_ENSURE_PULL && m->s && m->s->build);
}

/* The last image done: done runs from the loop, never from inside a call that started it. */
static void img_done(struct img *m, const struct cc_error *err)
{
    struct sched_ensure *e = m->e;
    img_set_state(m, IMG_DONE);
    if (err && e->err.kind == CC_ERR_NONE && !failure_ignored(m, err))
        cc_error_copy(&e->err, err);
    if (--e->pending == 0) {
        ensure_set_state(e, ENSURE_DONE);
        uv_timer_start(&e->timer, on_finish_timer, 0, 0);
        return;
    }
    ensure_pump(e);
}

/* An operation's end for one image: Error, or Warning when the failure is ignored. */
static void report_end(struct img *m, enum sched_state ok, const struct cc_error *err)
{
    if (!err)
        report(m, ok, NULL);
    else if (err->kind != CC_ERR_CANCELLED)
        report(m, failure_ignored(m, err) ? SCHED_WARNING : SCHED_ERROR, err->message);
}

static void on_build_progress(const struct sched_build_progress *p, void *data)
{
    struct img *m = data;
    if (m->e->opts.on_build_line && p->line)
        m->e->opts.on_build_line(p->service, p->line, m->e->data);
    if (p->step == 0 || p->step == m->step)
        return;
    m->step = p->step;
    char *text = xasprintf("step %d/%d%s%s", p->step, p->steps, p->instruction ? ": " : "",
                           p->instruction ? p->instruction : "");
    report(m, SCHED_BUILDING, text);
    free(text);
}

static void on_built(const struct sched_build_result *res, const struct cc_error *err, void *data)
{
    (void)res;
    struct img *m = data;
    m->build = NULL;
    m->e->running--;
    report_end(m, SCHED_BUILT, err);
    img_done(m, err);
}

static void on_pulled(const char *image, const struct cc_error *err, void *data)
{
    (void)image;
    struct img *m = data;
    m->pull = NULL;
    m->e->running--;
    report_end(m, m->push ? SCHED_PUSHED : SCHED_PULLED, err);
    img_done(m, err);
}

static void img_run(struct img *m)
{
    struct sched_ensure *e = m->e;
    struct cc_error err = CC_ERROR_INIT;
    img_set_state(m, IMG_RUNNING);
    e->running++;
    if (m->action == SCHED_IMAGE_BUILD) {
        report(m, SCHED_BUILDING, NULL);
        m->build = sched_build_service(e->c, e->p, m->s, e->opts.build_opts, on_build_progress,
                                       on_built, m, &err);
        if (!m->build)
            on_built(NULL, &err, m);
    } else if (m->push) {
        report(m, SCHED_PUSHING, NULL);
        m->pull = sched_push_image(e->c, m->name, NULL, on_pulled, m, &err);
        if (!m->pull)
            on_pulled(m->name, &err, m);
    } else {
        report(m, SCHED_PULLING, NULL);
        m->pull = sched_pull_image(e->c, m->name, NULL, on_pulled, m, &err);
        if (!m->pull)
            on_pulled(m->name, &err, m);
    }
    cc_error_release(&err);
}

static void ensure_pump(struct sched_ensure *e)
{
    int limit = e->opts.parallel > 0 ? e->opts.parallel : ENSURE_DEFAULT_PARALLEL;
    for (size_t i = 0; i < e->n_imgs && e->running < limit && !e->cancelled; i++)
        if (e->imgs[i].state == IMG_QUEUED)
            img_run(&e->imgs[i]);
    if (e->cancelled)
        for (size_t i = 0; i < e->n_imgs; i++)
            if (e->imgs[i].state == IMG_QUEUED)
                img_done(&e->imgs[i], NULL);
}

/* `pull`, `push` and `build`: what docker compose's commands do with each service. */
static int decide_command(struct img *m, bool exists, struct cc_error *reterr)
{
    const struct compose_service *s = m->s;
    const char *policy = s->pull_policy ? s->pull_policy : "";
    switch (m->e->opts.mode) {
    case SCHED_ENSURE_BUILD:
        m->action = SCHED_IMAGE_BUILD;
        break;
    case SCHED_ENSURE_PULL:
        m->action = SCHED_IMAGE_PULL;
        if (!s->image)
            m->skip = "No image to be pulled";
        else if (!strcmp(policy, "never") || !strcmp(policy, "build"))
            m->skip = "pull_policy does not pull it";
        else if (exists && (!strcmp(policy, "missing") || !strcmp(policy, "if_not_present")))
            m->skip = "Image is already present locally";
        break;
    case SCHED_ENSURE_PUSH:
        m->action = SCHED_IMAGE_PULL;
        m->push = true;
        if (!s->build || !s->image) {
            m->skip = "No image to be pushed";
        } else if (!exists) {
            cc_error_set(reterr, CC_ERR_NOT_FOUND,
                         "cannot push image '%s' of service '%s': it is not on the engine", m->name,
                         s->name);
            cc_error_hint(reterr, "build it first: ccompose build %s", s->name);
            return -1;
        }
        break;
    case SCHED_ENSURE_UP:
        break;
    }
    return 0;
}

/* What the flags make of the policy's answer. */
static int decide(struct img *m, bool exists, struct cc_error *reterr)
{
    const struct sched_ensure_options *o = &m->e->opts;
    if (o->mode != SCHED_ENSURE_UP)
        return decide_command(m, exists, reterr);
    struct compose_service s = *m->s;
    if (o->pull)
        s.pull_policy = !strcmp(o->pull, "never") && !exists && s.build ? "build" : o->pull;
    if (o->pull && !strcmp(o->pull, "always") && s.build)
        s.pull_policy = exists ? "missing" : "build"; /* a built image has nothing to pull */
    enum sched_image_action a;
    if (sched_image_action(&s, exists, -1, &a, reterr) < 0)
        return -1;
    if (o->build == SCHED_ENSURE_BUILD_ALWAYS && m->s->build)
        a = SCHED_IMAGE_BUILD;
    else if (o->build == SCHED_ENSURE_BUILD_NEVER && a == SCHED_IMAGE_BUILD)
        a = SCHED_IMAGE_USE;
    m->action = a;
    return 0;
}

static void on_inspected(json_t *result, const struct cc_error *err, void *data)
{
    (void)result;
    struct img *m = data;
    m->inspect = NULL;
    if (m->e->cancelled || (err && err->kind != CC_ERR_NOT_FOUND)) {
        img_done(m, err);
        return;
    }
    struct cc_error e = CC_ERROR_INIT;
    if (decide(m, err == NULL, &e) < 0) {
        report_end(m, SCHED_ERROR, &e);
        img_done(m, &e);
    } else if (m->skip) {
        report(m, SCHED_SKIPPED, m->skip);
        img_done(m, NULL);
    } else if (m->action == SCHED_IMAGE_USE) {
        img_done(m, NULL);
    } else {
        img_set_state(m, IMG_QUEUED);
        ensure_set_state(m->e, ENSURE_FETCHING);
        ensure_pump(m->e);
    }
    cc_error_release(&e);
}

/* Marks service i and what it depends on (depends_on only: that is what up brings along). */
static void select_with_deps(const struct compose_project *p, size_t i, bool *sel)
{
    if (sel[i])
        return;
    sel[i] = true;
    const struct compose_service *s = &p->services[i];
    for (size_t k = 0; k < s->n_depends_on; k++)
        for (size_t j = 0; j < p->n_services; j++)
            if (!strcmp(p->services[j].name, s->depends_on[k].service))
                select_with_deps(p, j, sel);
}

struct sched_ensure *sched_ensure_images(uv_loop_t *loop, struct engine_client *c,
                                         const struct compose_project *project,
                                         const struct sched_ensure_options *opts,
                                         sched_event_cb on_event, sched_done_cb done, void *data,
                                         struct cc_error *reterr)
{
    static const struct sched_ensure_options defaults = {0};
    if (!loop || !c || !project || !done)
        return cc_error_set(reterr, CC_ERR_USAGE,
                            "ensuring images needs a loop, a client, a project and a done "
                            "callback"),
               NULL;
    if (!opts)
        opts = &defaults;
    bool *sel = xcalloc(project->n_services + 1, sizeof(*sel));
    for (size_t i = 0; i < project->n_services; i++) {
        bool named = opts->n_services == 0;
        for (size_t k = 0; k < opts->n_services && !named; k++)
            named = !strcmp(opts->services[k], project->services[i].name);
        if (!named)
            continue;
        if ((opts->mode == SCHED_ENSURE_UP && !opts->no_deps) || opts->include_deps)
            select_with_deps(project, i, sel);
        else
            sel[i] = true;
    }
    struct sched_ensure *e = xcalloc(1, sizeof(*e));
    e->loop = loop;
    e->c = c;
    e->p = project;
    e->opts = *opts;
    e->on_event = on_event;
    e->done = done;
    e->data = data;
    cc_error_init(&e->err);
    uv_timer_init(loop, &e->timer);
    e->timer.data = e;
    e->imgs = xcalloc(project->n_services + 1, sizeof(*e->imgs));
    for (size_t i = 0; i < project->n_services; i++) {
        if (!sel[i] || (opts->mode == SCHED_ENSURE_BUILD && !project->services[i].build))
            continue;
        char *name = sched_image_name(project, &project->services[i]);
        bool seen = false;
        for (size_t k = 0; k < e->n_imgs && !seen; k++)
            seen = !strcmp(e->imgs[k].name, name);
        if (seen) {
            free(name);
            continue;
        }
        struct img *m = &e->imgs[e->n_imgs++];
        m->e = e;
        m->s = &project->services[i];
        m->name = name;
    }
    free(sel);
    e->pending = e->n_imgs + 1; /* held until every inspect is sent */
    for (size_t i = 0; i < e->n_imgs; i++) {
        struct img *m = &e->imgs[i];
        struct cc_error err = CC_ERROR_INIT;
        m->inspect = engine_image_inspect(c, m->name, on_inspected, m, &err);
        if (!m->inspect)
            img_done(m, &err);
        cc_error_release(&err);
    }
    struct img hold = {.e = e, .name = (char *)"(all)"};
    img_done(&hold, NULL);
    return e;
}

void sched_ensure_cancel(struct sched_ensure *e)
{
    if (e->state == ENSURE_DONE || e->cancelled)
        return;
    e->cancelled = true;
    if (e->err.kind == CC_ERR_NONE)
        cc_error_set(&e->err, CC_ERR_CANCELLED, "cancelled");
    for (size_t i = 0; i < e->n_imgs; i++) {
        struct img *m = &e->imgs[i];
        if (m->inspect)
            engine_request_cancel(m->inspect);
        if (m->build)
            sched_build_cancel(m->build);
        if (m->pull)
            sched_pull_cancel(m->pull);
    }
    ensure_pump(e);
}
