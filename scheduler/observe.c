/* Observe: what the engine holds of a project. One container list (all), one network list and one
 * volume list, each filtered by the project label (the container list alone for commands that act
 * on containers only: the other two cost the engine as much as the first); with a model, an inspect
 * of each service's image and of each network/volume the model names (found by name even without
 * our label: an existing network is reused, an external one must exist), and an inspect of each
 * container whose config hash differs from the model's, so the plan can say which fields differ.
 * Every call goes out at once through the queue; the op finishes when the last answers. */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "scheduler/run-internal.h"
#include "scheduler/scheduler-internal.h"

enum obs_state { OBS_RUNNING = 0, OBS_DONE };

struct sched_observe {
    enum obs_state state;
    struct sched_queue *q;
    bool owns_queue;
    const struct compose_project *model;
    struct sched_observed *o;
    int pending;
    struct cc_error err;
    sched_observe_cb cb;
    void *data;
};

/* One answer: what it was for. */
struct obs_call {
    struct sched_observe *op;
    enum sched_call_kind kind;
    size_t index; /* model service/network/volume; containers: in o->containers */
};

static void obs_set_state(struct sched_observe *op, enum obs_state state)
{
    log_debug("%s: %s: %d -> %d", __func__, op->o->project, op->state, state);
    op->state = state;
}

void sched_observed_free(struct sched_observed *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n_containers; i++) {
        struct sched_observed_container *c = &o->containers[i];
        free(c->id);
        free(c->name);
        free(c->service);
        free(c->state);
        free(c->config_hash);
        free(c->image_id);
        free(c->depends_on);
        json_decref(c->summary);
        json_decref(c->inspect);
    }
    for (size_t i = 0; i < o->n_networks; i++) {
        free(o->networks[i].name);
        free(o->networks[i].id);
    }
    for (size_t i = 0; i < o->n_volumes; i++) {
        free(o->volumes[i].name);
        free(o->volumes[i].id);
    }
    for (size_t i = 0; i < o->n_images; i++) {
        free(o->images[i].service);
        free(o->images[i].id);
        json_decref(o->images[i].config);
    }
    free(o->containers);
    free(o->networks);
    free(o->volumes);
    free(o->images);
    free(o->project);
    free(o);
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static int cmp_container(const void *a, const void *b)
{
    const struct sched_observed_container *x = a, *y = b;
    int c = strcmp(x->service ? x->service : "", y->service ? y->service : "");
    return c ? c : x->number - y->number;
}

static void add_containers(struct sched_observed *o, json_t *list)
{
    size_t i;
    json_t *it;
    o->containers = xcalloc(json_array_size(list) + 1, sizeof(*o->containers));
    json_array_foreach(list, i, it)
    {
        json_t *labels = json_object_get(it, "Labels");
        struct sched_observed_container *c = &o->containers[o->n_containers++];
        const char *name = json_string_value(json_array_get(json_object_get(it, "Names"), 0));
        if (name && *name == '/')
            name++;
        c->id = dup_or_null(sched_json_str(it, "Id"));
        c->name = xstrdup(name ? name : "");
        c->service = dup_or_null(sched_json_str(labels, SCHED_LABEL_SERVICE));
        c->state = dup_or_null(sched_json_str(it, "State"));
        c->config_hash = dup_or_null(sched_json_str(labels, SCHED_LABEL_CONFIG_HASH));
        c->image_id = dup_or_null(sched_json_str(it, "ImageID"));
        c->depends_on = dup_or_null(sched_json_str(labels, SCHED_LABEL_DEPENDS_ON));
        const char *num = sched_json_str(labels, SCHED_LABEL_NUMBER);
        c->number = num ? atoi(num) : 0;
        const char *oneoff = sched_json_str(labels, SCHED_LABEL_ONEOFF);
        c->oneoff = oneoff && !strcasecmp(oneoff, "true");
        c->summary = json_incref(it);
    }
    qsort(o->containers, o->n_containers, sizeof(*o->containers), cmp_container);
}

static struct sched_observed_resource *find_res(struct sched_observed_resource *v, size_t n,
                                                const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i].name, name))
            return &v[i];
    return NULL;
}

/* A network or volume, from a list (labeled) or an inspect by name (labeled when its project
 * label names us). The same one seen twice is kept once; two networks of one name (the engine
 * lets them be) are two, so that down removes both. */
static void add_res(struct sched_observed_resource **v, size_t *n, const char *project, json_t *it,
                    bool external)
{
    const char *name = sched_json_str(it, "Name");
    if (!name)
        return;
    const char *rid = sched_json_str(it, "Id");
    struct sched_observed_resource *r = NULL;
    for (size_t i = 0; rid && i < *n; i++)
        if (!strcmp((*v)[i].id, rid))
            r = &(*v)[i];
    if (!rid)
        r = find_res(*v, *n, name);
    if (!r) {
        *v = xrealloc(*v, (*n + 1) * sizeof(**v));
        r = &(*v)[(*n)++];
        memset(r, 0, sizeof(*r));
        r->name = xstrdup(name);
        const char *id = sched_json_str(it, "Id");
        r->id = xstrdup(id ? id : name);
        const char *label = sched_json_str(json_object_get(it, "Labels"), SCHED_LABEL_PROJECT);
        r->labeled = label && !strcmp(label, project);
    }
    r->external |= external;
}

static void obs_finish(struct sched_observe *op)
{
    obs_set_state(op, OBS_DONE);
    struct sched_observed *o = NULL;
    if (op->err.kind == CC_ERR_NONE) {
        o = op->o;
        op->o = NULL;
    }
    op->cb(o, o ? NULL : &op->err, op->data);
    if (op->owns_queue)
        sched_queue_free(op->q);
    sched_observed_free(op->o);
    cc_error_release(&op->err);
    free(op);
}

static void ask(struct sched_observe *op, enum sched_call_kind kind, const char *id, json_t *body,
                size_t index);

/* The containers whose config hash is not the model's: what they were made with, for the plan's
 * reasons (one inspect each, only for those that up would recreate). */
static void inspect_diverged(struct sched_observe *op)
{
    const struct compose_project *m = op->model;
    char **hashes = xcalloc(m->n_services + 1, sizeof(*hashes));
    for (size_t i = 0; i < op->o->n_containers; i++) {
        const struct sched_observed_container *c = &op->o->containers[i];
        const struct compose_service *s =
            c->service && !c->oneoff ? compose_project_service(m, c->service) : NULL;
        if (!s)
            continue;
        size_t si = (size_t)(s - m->services);
        if (!hashes[si])
            hashes[si] = sched_config_hash(m, s);
        if (hashes[si] && (!c->config_hash || strcmp(c->config_hash, hashes[si])))
            ask(op, SCHED_CALL_CONTAINER_INSPECT, c->id, NULL, i);
    }
    for (size_t i = 0; i < m->n_services; i++)
        free(hashes[i]);
    free(hashes);
}

static void on_answer(json_t *result, const struct cc_error *err, void *data)
{
    struct obs_call *call = data;
    struct sched_observe *op = call->op;
    struct sched_observed *o = op->o;
    const struct compose_project *m = op->model;
    op->pending--;
    /* Inspects by name answer 404 for what does not exist: that is an observation. A network
     * name that is ambiguous has several networks, which the list by label shows. */
    bool ambiguous = err && call->kind == SCHED_CALL_NETWORK_INSPECT && err->message &&
                     strstr(err->message, "is ambiguous");
    if (err && !ambiguous &&
        !(err->kind == CC_ERR_NOT_FOUND && call->kind != SCHED_CALL_CONTAINER_LIST &&
          call->kind != SCHED_CALL_NETWORK_LIST && call->kind != SCHED_CALL_VOLUME_LIST)) {
        if (op->err.kind == CC_ERR_NONE)
            cc_error_copy(&op->err, err);
    } else if (!err) {
        size_t i;
        json_t *it;
        switch (call->kind) {
        case SCHED_CALL_CONTAINER_LIST:
            add_containers(o, result);
            if (m)
                inspect_diverged(op);
            break;
        case SCHED_CALL_CONTAINER_INSPECT:
            o->containers[call->index].inspect = json_incref(result);
            break;
        case SCHED_CALL_NETWORK_LIST:
            json_array_foreach(result, i, it)
                add_res(&o->networks, &o->n_networks, o->project, it, false);
            break;
        case SCHED_CALL_VOLUME_LIST:
            json_array_foreach(json_object_get(result, "Volumes"), i, it)
                add_res(&o->volumes, &o->n_volumes, o->project, it, false);
            break;
        case SCHED_CALL_NETWORK_INSPECT:
            add_res(&o->networks, &o->n_networks, o->project, result,
                    m->networks[call->index].external);
            break;
        case SCHED_CALL_VOLUME_INSPECT:
            add_res(&o->volumes, &o->n_volumes, o->project, result,
                    m->volumes[call->index].external);
            break;
        case SCHED_CALL_IMAGE_INSPECT:
            o->images[call->index].id = dup_or_null(sched_json_str(result, "Id"));
            o->images[call->index].config = json_incref(json_object_get(result, "Config"));
            break;
        default:
            break;
        }
    }
    free(call);
    if (op->pending == 0)
        obs_finish(op);
}

static void ask(struct sched_observe *op, enum sched_call_kind kind, const char *id, json_t *body,
                size_t index)
{
    struct obs_call *call = xcalloc(1, sizeof(*call));
    call->op = op;
    call->kind = kind;
    call->index = index;
    op->pending++;
    sched_queue_call(op->q, kind, id, body, 0, true, on_answer, call);
}

/* containers_only: the container list alone (model must then be NULL). */
static struct sched_observe *observe_start(struct sched_queue *q, const char *project_name,
                                           const struct compose_project *model,
                                           bool containers_only, sched_observe_cb cb, void *data)
{
    struct sched_observe *op = xcalloc(1, sizeof(*op));
    op->q = q;
    op->model = model;
    op->cb = cb;
    op->data = data;
    op->o = xcalloc(1, sizeof(*op->o));
    op->o->project = xstrdup(project_name);
    cc_error_init(&op->err);
    ask(op, SCHED_CALL_CONTAINER_LIST, NULL, sched_project_filters(project_name, NULL), 0);
    if (containers_only)
        return op;
    ask(op, SCHED_CALL_NETWORK_LIST, NULL, sched_project_filters(project_name, NULL), 0);
    ask(op, SCHED_CALL_VOLUME_LIST, NULL, sched_project_filters(project_name, NULL), 0);
    if (model) {
        op->o->n_images = model->n_services;
        op->o->images = xcalloc(model->n_services + 1, sizeof(*op->o->images));
        for (size_t i = 0; i < model->n_services; i++) {
            op->o->images[i].service = xstrdup(model->services[i].name);
            char *image = sched_image_name(model, &model->services[i]);
            ask(op, SCHED_CALL_IMAGE_INSPECT, image, NULL, i);
            free(image);
        }
        for (size_t i = 0; i < model->n_networks; i++)
            ask(op, SCHED_CALL_NETWORK_INSPECT, sched_network_name(&model->networks[i]), NULL, i);
        for (size_t i = 0; i < model->n_volumes; i++)
            ask(op, SCHED_CALL_VOLUME_INSPECT, sched_volume_name(&model->volumes[i]), NULL, i);
    }
    return op;
}

struct sched_observe *sched_observe_on(struct sched_queue *q, const char *project_name,
                                       const struct compose_project *model, sched_observe_cb cb,
                                       void *data)
{
    return observe_start(q, project_name, model, false, cb, data);
}

struct sched_observe *sched_observe(uv_loop_t *loop, struct engine_client *c,
                                    const char *project_name, const struct compose_project *model,
                                    const struct sched_observe_options *opts, sched_observe_cb cb,
                                    void *data, struct cc_error *reterr)
{
    if (!loop || !c || !project_name || !*project_name || !cb)
        return cc_error_set(reterr, CC_ERR_USAGE,
                            "observe needs a loop, a client, a project "
                            "name and a callback"),
               NULL;
    struct sched_queue *q = sched_queue_new(loop, c, opts ? opts->parallel : 0);
    bool containers_only = opts && opts->containers_only;
    struct sched_observe *op =
        observe_start(q, project_name, containers_only ? NULL : model, containers_only, cb, data);
    op->owns_queue = true;
    return op;
}
