/* Building one service's image: the context streamed from scheduler/build-context.c into
 * POST /build, the engine's output turned into step progress, then the extra build.tags. One
 * struct sched_build per build, moved through op_set_state(), ended by op_finish(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "scheduler/build-context.h"
#include "scheduler/images.h"
#include "scheduler/scheduler-internal.h"

enum build_state { BUILD_SENDING, BUILD_TAGGING, BUILD_DONE };

static const char *const build_state_names[] = {"sending", "tagging", "done"};

struct sched_build {
    enum build_state state;
    struct engine_client *c;
    char *service;
    char *image;
    struct build_context *ctx;
    struct engine_request *req;
    sched_build_progress_cb on_progress;
    sched_build_cb cb;
    void *data;

    struct buf partial; /* output not yet ended by a newline */
    int step, steps;
    char *instruction;
    char *image_id;
    char **tags; /* build.tags still to apply */
    size_t n_tags, i_tag;
};

static void op_set_state(struct sched_build *b, enum build_state s)
{
    log_debug("%s: build of '%s': %s -> %s", __func__, b->service, build_state_names[b->state],
              build_state_names[s]);
    b->state = s;
}

static void build_free(struct sched_build *b)
{
    build_context_free(b->ctx);
    buf_release(&b->partial);
    free(b->instruction);
    free(b->image_id);
    for (size_t k = 0; k < b->n_tags; k++)
        free(b->tags[k]);
    free(b->tags);
    free(b->service);
    free(b->image);
    free(b);
}

static void op_finish(struct sched_build *b, const struct cc_error *err)
{
    op_set_state(b, BUILD_DONE);
    struct sched_build_result res = {
        .service = b->service,
        .image = b->image,
        .image_id = b->image_id,
        .context_bytes = build_context_bytes(b->ctx),
        .context_high_water = build_context_high_water(b->ctx),
    };
    b->cb(err ? NULL : &res, err, b->data);
    build_free(b);
}

/* One line of output: "Step 2/5 : RUN make" starts a step; " ---> Using cache" marks it cached. */
static void on_line(struct sched_build *b, const char *line)
{
    int step, steps, off = 0;
    if (sscanf(line, "Step %d/%d : %n", &step, &steps, &off) == 2 && off > 0) {
        b->step = step;
        b->steps = steps;
        free(b->instruction);
        b->instruction = xstrdup(line + off);
    }
    if (!b->on_progress)
        return;
    struct sched_build_progress p = {
        .service = b->service,
        .step = b->step,
        .steps = b->steps,
        .instruction = b->instruction,
        .line = line,
        .cached = strcmp(line, " ---> Using cache") == 0,
    };
    b->on_progress(&p, b->data);
}

static void flush_lines(struct sched_build *b, bool all)
{
    char *nl;
    while ((nl = memchr(b->partial.data, '\n', b->partial.len))) {
        size_t n = (size_t)(nl - b->partial.data);
        char *line = xstrndup(b->partial.data, n && nl[-1] == '\r' ? n - 1 : n);
        buf_consume(&b->partial, n + 1);
        on_line(b, line);
        free(line);
    }
    if (all && b->partial.len) {
        char *line = buf_detach(&b->partial);
        on_line(b, line);
        free(line);
    }
}

static void on_build_item(json_t *item, void *data)
{
    struct sched_build *b = data;
    const char *text = json_string_value(json_object_get(item, "stream"));
    if (text) {
        buf_adds(&b->partial, text);
        flush_lines(b, false);
    }
}

static void tag_next(struct sched_build *b);

static void on_tagged(json_t *result, const struct cc_error *err, void *data)
{
    (void)result;
    struct sched_build *b = data;
    if (err) {
        struct cc_error e = CC_ERROR_INIT;
        cc_error_set(&e, err->kind, "cannot tag the image of service '%s' as '%s': %s", b->service,
                     b->tags[b->i_tag], err->message);
        op_finish(b, &e);
        cc_error_release(&e);
        return;
    }
    b->i_tag++;
    tag_next(b);
}

/* Splits "repo:tag" at the last ':' after the last '/'. */
static void tag_next(struct sched_build *b)
{
    if (b->i_tag == b->n_tags) {
        op_finish(b, NULL);
        return;
    }
    char *repo = xstrdup(b->tags[b->i_tag]);
    char *slash = strrchr(repo, '/'), *colon = strrchr(slash ? slash : repo, ':');
    if (colon)
        *colon++ = '\0';
    struct cc_error err = CC_ERROR_INIT;
    b->req = engine_image_tag(b->c, b->image_id, repo, colon, on_tagged, b, &err);
    free(repo);
    if (!b->req) {
        op_finish(b, &err);
        cc_error_release(&err);
    }
}

static void on_build_done(json_t *result, const struct cc_error *err, void *data)
{
    struct sched_build *b = data;
    b->req = NULL;
    flush_lines(b, true);
    struct cc_error e = CC_ERROR_INIT;
    const char *id = json_string_value(json_object_get(result, "ID"));
    if (err && build_context_error(b->ctx)) {
        cc_error_set(&e, build_context_error(b->ctx)->kind,
                     "cannot send the build context of service '%s': %s", b->service,
                     build_context_error(b->ctx)->message);
    } else if (err && err->kind == CC_ERR_FAILED && b->instruction) {
        cc_error_set(&e, CC_ERR_FAILED, "service '%s' failed to build at step %d/%d '%s': %s",
                     b->service, b->step, b->steps, b->instruction, err->message);
        e.engine_message = xstrdup(err->message);
        cc_error_hint(&e, "the step's output is in the build progress (--progress plain)");
    } else if (err) {
        cc_error_copy(&e, err);
        free(e.message);
        e.message = xasprintf("cannot build service '%s': %s", b->service, err->message);
    } else if (!id) {
        cc_error_set(&e, CC_ERR_PROTOCOL, "the engine built service '%s' without naming the image",
                     b->service);
    }
    if (e.kind != CC_ERR_NONE) {
        op_finish(b, &e);
        cc_error_release(&e);
        return;
    }
    b->image_id = xstrdup(id);
    op_set_state(b, BUILD_TAGGING);
    tag_next(b);
}

/* build.args with the --build-arg overrides; new. */
static json_t *build_args(const struct compose_build *bd, const struct sched_build_options *o)
{
    json_t *args = json_object();
    for (size_t k = 0; k < bd->args.n; k++)
        if (bd->args.v[k].value)
            json_object_set_new(args, bd->args.v[k].key, json_string(bd->args.v[k].value));
    for (size_t k = 0; o && k < o->n_build_args; k++) {
        const char *a = o->build_args[k], *eq = strchr(a, '=');
        char *key = eq ? xstrndup(a, (size_t)(eq - a)) : xstrdup(a);
        const char *value = eq ? eq + 1 : getenv(key);
        if (value)
            json_object_set_new(args, key, json_string(value));
        else
            json_object_del(args, key);
        free(key);
    }
    return args;
}

static json_t *strv_json(const struct compose_strv *sv)
{
    json_t *a = json_array();
    for (size_t k = 0; k < sv->n; k++)
        json_array_append_new(a, json_string(sv->v[k]));
    return a;
}

struct sched_build *sched_build_service(struct engine_client *c, const struct compose_project *p,
                                        const struct compose_service *s,
                                        const struct sched_build_options *opts,
                                        sched_build_progress_cb on_progress, sched_build_cb cb,
                                        void *data, struct cc_error *reterr)
{
    const struct compose_build *bd = s->build;
    if (!bd || !bd->context)
        return cc_error_set(reterr, CC_ERR_USAGE, "service '%s' has no build section", s->name),
               NULL;
    if (strstr(bd->context, "://") || strncmp(bd->context, "git@", 4) == 0) {
        cc_error_set(reterr, CC_ERR_UNSUPPORTED,
                     "service '%s': building from the URL '%s' is not supported yet", s->name,
                     bd->context);
        cc_error_hint(reterr, "clone it and give build.context as a directory");
        return NULL;
    }
    if (bd->additional_contexts.n) {
        cc_error_set(reterr, CC_ERR_UNSUPPORTED,
                     "service '%s': build.additional_contexts needs BuildKit, which the engine's "
                     "/build API does not offer",
                     s->name);
        cc_error_where(reterr, bd->pos.file, bd->pos.line, bd->pos.col);
        cc_error_hint(reterr, "build the image with `docker buildx bake` or `docker compose "
                              "build`, or copy what the Dockerfile needs into the context");
        return NULL;
    }
    struct build_context_options co = {
        .context = bd->context,
        .dockerfile = bd->dockerfile,
        .dockerfile_inline = bd->dockerfile_inline,
        .chunk_size = opts ? opts->chunk_size : 0,
    };
    struct build_context *ctx = NULL;
    if (build_context_new(&co, &ctx, reterr) < 0)
        return NULL;

    struct sched_build *b = xcalloc(1, sizeof(*b));
    b->c = c;
    b->service = xstrdup(s->name);
    b->image = sched_image_name(p, s);
    b->ctx = ctx;
    b->on_progress = on_progress;
    b->cb = cb;
    b->data = data;
    b->tags = xcalloc(bd->tags.n + 1, sizeof(*b->tags));
    for (size_t k = 0; k < bd->tags.n; k++)
        b->tags[b->n_tags++] = xstrdup(bd->tags.v[k]);

    json_t *args = build_args(bd, opts), *labels = json_object();
    for (size_t k = 0; k < bd->labels.n; k++)
        if (bd->labels.v[k].value)
            json_object_set_new(labels, bd->labels.v[k].key, json_string(bd->labels.v[k].value));
    json_object_set_new(labels, SCHED_LABEL_PROJECT, json_string(p->name));
    json_object_set_new(labels, SCHED_LABEL_SERVICE, json_string(s->name));
    json_t *hosts = bd->extra_hosts.n ? strv_json(&bd->extra_hosts) : NULL;
    json_t *cache_from = bd->cache_from.n ? strv_json(&bd->cache_from) : NULL;
    json_t *ulimits = bd->n_ulimits ? json_array() : NULL;
    for (size_t k = 0; k < bd->n_ulimits; k++)
        json_array_append_new(ulimits, json_pack("{s:s, s:I, s:I}", "Name", bd->ulimits[k].name,
                                                 "Soft", (json_int_t)bd->ulimits[k].soft, "Hard",
                                                 (json_int_t)bd->ulimits[k].hard));
    struct engine_build_options eo = {
        .tag = b->image,
        .dockerfile = build_context_dockerfile(ctx),
        .target = bd->target,
        .buildargs = args,
        .labels = labels,
        .extra_hosts = hosts,
        .cache_from = cache_from,
        .network = bd->network,
        .shm_size = bd->shm_size > 0 ? bd->shm_size : 0,
        .isolation = bd->isolation,
        .ulimits = ulimits,
        .nocache = bd->no_cache || (opts && opts->no_cache),
        .pull = bd->pull || (opts && opts->pull),
        /* A failed step leaves no stopped container behind. */
        .forcerm = true,
    };
    b->req = engine_image_build(c, &eo, build_context_read, ctx, on_build_item, on_build_done, b,
                                reterr);
    json_decref(args);
    json_decref(labels);
    json_decref(hosts);
    json_decref(cache_from);
    json_decref(ulimits);
    if (!b->req) {
        build_free(b);
        return NULL;
    }
    log_debug("%s: building '%s' as '%s'", __func__, b->service, b->image);
    return b;
}

void sched_build_cancel(struct sched_build *b)
{
    if (b && b->req)
        engine_request_cancel(b->req);
}
