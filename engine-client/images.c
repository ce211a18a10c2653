/* Image calls: list, inspect, remove, tag, and the streamed ones (pull, push, build). */
#include <string.h>

#include "engine-client/engine-internal.h"

struct engine_request *engine_image_list(struct engine_client *c, json_t *filters, engine_cb cb,
                                         void *data, struct cc_error *reterr)
{
    struct buf path = BUF_INIT;
    buf_adds(&path, "/images/json");
    if (filters)
        engine_query_add_json(&path, "filters", filters);
    return engine_call_json(c, "GET", &path, NULL, 0, cb, data, reterr);
}

struct engine_request *engine_image_inspect(struct engine_client *c, const char *name, engine_cb cb,
                                            void *data, struct cc_error *reterr)
{
    if (engine_check_id(name, "image", reterr) < 0)
        return NULL;
    struct buf path = BUF_INIT;
    engine_path_id(&path, "/images/", name, "/json");
    return engine_call_json(c, "GET", &path, NULL, 0, cb, data, reterr);
}

struct engine_request *engine_image_remove(struct engine_client *c, const char *name, bool force,
                                           engine_cb cb, void *data, struct cc_error *reterr)
{
    if (engine_check_id(name, "image", reterr) < 0)
        return NULL;
    struct buf path = BUF_INIT;
    engine_path_id(&path, "/images/", name, "");
    if (force)
        engine_query_add_bool(&path, "force", true);
    return engine_call_json(c, "DELETE", &path, NULL, 0, cb, data, reterr);
}

struct engine_request *engine_image_tag(struct engine_client *c, const char *name, const char *repo,
                                        const char *tag, engine_cb cb, void *data,
                                        struct cc_error *reterr)
{
    if (engine_check_id(name, "image", reterr) < 0 ||
        engine_check_id(repo, "repository", reterr) < 0)
        return NULL;
    struct buf path = BUF_INIT;
    engine_path_id(&path, "/images/", name, "/tag");
    engine_query_add(&path, "repo", repo);
    if (tag && *tag)
        engine_query_add(&path, "tag", tag);
    return engine_call_json(c, "POST", &path, NULL, 0, cb, data, reterr);
}

/* Splits "host:5000/repo/name:tag" into name and tag: the tag is after the last ':' that comes
 * after the last '/' (a ':' before it belongs to a registry port). Digests stay in the name. */
static void split_tag(const char *image, struct buf *name, const char **tag)
{
    const char *slash = strrchr(image, '/');
    const char *colon = strrchr(slash ? slash : image, ':');
    buf_reset(name);
    if (colon && !strchr(image, '@')) {
        buf_add(name, image, (size_t)(colon - image));
        *tag = colon + 1;
    } else {
        buf_adds(name, image);
        *tag = NULL;
    }
}

static struct engine_request *progress_call(struct engine_client *c, struct buf *path,
                                            const char *auth, engine_json_item_cb on_progress,
                                            engine_cb cb, void *data, struct cc_error *reterr)
{
    char *auth_header = auth ? xasprintf("X-Registry-Auth: %s", auth) : NULL;
    struct engine_call call = {
        .method = "POST",
        .path = buf_str(path),
        .mode = ENGINE_RESP_JSON_LINES,
        .on_item = on_progress,
        .item_errors = true,
        .streaming = true,
        .headers = {auth_header},
    };
    struct engine_request *r = engine_call_submit(c, &call, cb, data, reterr);
    free(auth_header);
    buf_release(path);
    return r;
}

struct engine_request *engine_image_pull(struct engine_client *c, const char *image,
                                         const char *auth, engine_json_item_cb on_progress,
                                         engine_cb cb, void *data, struct cc_error *reterr)
{
    if (engine_check_id(image, "image", reterr) < 0)
        return NULL;
    struct buf name = BUF_INIT, path = BUF_INIT;
    const char *tag;
    split_tag(image, &name, &tag);
    buf_adds(&path, "/images/create");
    engine_query_add(&path, "fromImage", buf_str(&name));
    engine_query_add(&path, "tag", tag ? tag : "latest");
    buf_release(&name);
    return progress_call(c, &path, auth, on_progress, cb, data, reterr);
}

struct engine_request *engine_image_push(struct engine_client *c, const char *image,
                                         const char *auth, engine_json_item_cb on_progress,
                                         engine_cb cb, void *data, struct cc_error *reterr)
{
    if (engine_check_id(image, "image", reterr) < 0)
        return NULL;
    struct buf name = BUF_INIT, path = BUF_INIT;
    const char *tag;
    split_tag(image, &name, &tag);
    engine_path_id(&path, "/images/", buf_str(&name), "/push");
    if (tag)
        engine_query_add(&path, "tag", tag);
    buf_release(&name);
    /* The engine refuses a push without the header, even to a registry needing no login. */
    return progress_call(c, &path, auth ? auth : "e30=", on_progress, cb, data, reterr);
}

/* A build reports the image's ID in an "aux" item; the completion hands it to the caller. */
struct build_ctx {
    engine_json_item_cb on_progress;
    engine_cb cb;
    void *data;
    char *image_id;
};

static void on_build_item(json_t *item, void *data)
{
    struct build_ctx *b = data;
    const char *id = json_string_value(json_object_get(json_object_get(item, "aux"), "ID"));
    if (id) {
        free(b->image_id);
        b->image_id = xstrdup(id);
    }
    if (b->on_progress)
        b->on_progress(item, b->data);
}

static void on_build_done(json_t *result, const struct cc_error *err, void *data)
{
    struct build_ctx *b = data;
    (void)result;
    json_t *res = !err && b->image_id ? json_pack("{s:s}", "ID", b->image_id) : NULL;
    b->cb(res, err, b->data);
    json_decref(res);
    free(b->image_id);
    free(b);
}

static void add_json_param(struct buf *path, const char *key, json_t *v)
{
    if (v)
        engine_query_add_json(path, key, v);
}

struct engine_request *engine_image_build(struct engine_client *c,
                                          const struct engine_build_options *opts,
                                          engine_body_read_cb read_body, void *read_data,
                                          engine_json_item_cb on_progress, engine_cb cb, void *data,
                                          struct cc_error *reterr)
{
    if (!read_body)
        return cc_error_set(reterr, CC_ERR_USAGE, "no build context given"), NULL;
    static const struct engine_build_options defaults;
    if (!opts)
        opts = &defaults;
    struct buf path = BUF_INIT;
    buf_adds(&path, "/build");
    if (opts->tag)
        engine_query_add(&path, "t", opts->tag);
    if (opts->dockerfile)
        engine_query_add(&path, "dockerfile", opts->dockerfile);
    if (opts->target)
        engine_query_add(&path, "target", opts->target);
    if (opts->network)
        engine_query_add(&path, "networkmode", opts->network);
    add_json_param(&path, "buildargs", opts->buildargs);
    add_json_param(&path, "labels", opts->labels);
    add_json_param(&path, "cachefrom", opts->cache_from);
    add_json_param(&path, "ulimits", opts->ulimits);
    if (opts->isolation)
        engine_query_add(&path, "isolation", opts->isolation);
    if (opts->extra_hosts && json_array_size(opts->extra_hosts)) {
        /* The engine takes extra hosts as one comma-separated string. */
        struct buf hosts = BUF_INIT;
        size_t i;
        json_t *h;
        json_array_foreach(opts->extra_hosts, i, h)
        {
            if (i)
                buf_addc(&hosts, ',');
            buf_adds(&hosts, json_string_value(h) ? json_string_value(h) : "");
        }
        engine_query_add(&path, "extrahosts", buf_str(&hosts));
        buf_release(&hosts);
    }
    if (opts->shm_size > 0)
        buf_printf(&path, "&shmsize=%lld", opts->shm_size);
    if (opts->nocache)
        engine_query_add_bool(&path, "nocache", true);
    if (opts->pull)
        engine_query_add_bool(&path, "pull", true);
    if (opts->quiet)
        engine_query_add_bool(&path, "q", true);
    /* Remove intermediate containers, as docker build does by default. */
    engine_query_add_bool(&path, "rm", true);
    if (opts->forcerm)
        engine_query_add_bool(&path, "forcerm", true);

    struct build_ctx *b = xcalloc(1, sizeof(*b));
    b->on_progress = on_progress;
    b->cb = cb;
    b->data = data;
    char *config_header =
        opts->auth_config ? xasprintf("X-Registry-Config: %s", opts->auth_config) : NULL;
    struct engine_call call = {
        .method = "POST",
        .path = buf_str(&path),
        .read_body = read_body,
        .read_data = read_data,
        .content_type = "application/x-tar",
        .mode = ENGINE_RESP_JSON_LINES,
        .on_item = on_build_item,
        .item_errors = true,
        .streaming = true,
        .headers = {config_header},
    };
    struct engine_request *r = engine_call_submit(c, &call, on_build_done, b, reterr);
    if (!r)
        free(b);
    free(config_header);
    buf_release(&path);
    return r;
}
