/* Network and volume calls. */
#include "engine-client/engine-internal.h"

static struct engine_request *list_call(struct engine_client *c, const char *base, json_t *filters,
                                        engine_cb cb, void *data, struct cc_error *reterr)
{
    struct buf path = BUF_INIT;
    buf_adds(&path, base);
    if (filters)
        engine_query_add_json(&path, "filters", filters);
    return engine_call_json(c, "GET", &path, NULL, 0, cb, data, reterr);
}

static struct engine_request *create_call(struct engine_client *c, const char *path_s, json_t *body,
                                          const char *what, engine_cb cb, void *data,
                                          struct cc_error *reterr)
{
    if (!body)
        return cc_error_set(reterr, CC_ERR_USAGE, "no %s body given", what), NULL;
    struct buf path = BUF_INIT;
    buf_adds(&path, path_s);
    return engine_call_json(c, "POST", &path, body, 0, cb, data, reterr);
}

static struct engine_request *id_call(struct engine_client *c, const char *method,
                                      const char *prefix, const char *id, const char *suffix,
                                      const char *what, json_t *body, engine_cb cb, void *data,
                                      struct cc_error *reterr)
{
    if (engine_check_id(id, what, reterr) < 0)
        return NULL;
    struct buf path = BUF_INIT;
    engine_path_id(&path, prefix, id, suffix);
    return engine_call_json(c, method, &path, body, 0, cb, data, reterr);
}

struct engine_request *engine_network_list(struct engine_client *c, json_t *filters, engine_cb cb,
                                           void *data, struct cc_error *reterr)
{
    return list_call(c, "/networks", filters, cb, data, reterr);
}

struct engine_request *engine_network_create(struct engine_client *c, json_t *body, engine_cb cb,
                                             void *data, struct cc_error *reterr)
{
    return create_call(c, "/networks/create", body, "network", cb, data, reterr);
}

struct engine_request *engine_network_inspect(struct engine_client *c, const char *id, engine_cb cb,
                                              void *data, struct cc_error *reterr)
{
    return id_call(c, "GET", "/networks/", id, "", "network", NULL, cb, data, reterr);
}

struct engine_request *engine_network_remove(struct engine_client *c, const char *id, engine_cb cb,
                                             void *data, struct cc_error *reterr)
{
    return id_call(c, "DELETE", "/networks/", id, "", "network", NULL, cb, data, reterr);
}

struct engine_request *engine_network_connect(struct engine_client *c, const char *network_id,
                                              json_t *body, engine_cb cb, void *data,
                                              struct cc_error *reterr)
{
    if (!body)
        return cc_error_set(reterr, CC_ERR_USAGE, "no network connect body given"), NULL;
    return id_call(c, "POST", "/networks/", network_id, "/connect", "network", body, cb, data,
                   reterr);
}

struct engine_request *engine_network_disconnect(struct engine_client *c, const char *network_id,
                                                 const char *container_id, bool force, engine_cb cb,
                                                 void *data, struct cc_error *reterr)
{
    if (engine_check_id(container_id, "container", reterr) < 0)
        return NULL;
    json_t *body = json_pack("{s:s, s:b}", "Container", container_id, "Force", force);
    struct engine_request *r = id_call(c, "POST", "/networks/", network_id, "/disconnect",
                                       "network", body, cb, data, reterr);
    json_decref(body);
    return r;
}

struct engine_request *engine_volume_list(struct engine_client *c, json_t *filters, engine_cb cb,
                                          void *data, struct cc_error *reterr)
{
    return list_call(c, "/volumes", filters, cb, data, reterr);
}

struct engine_request *engine_volume_create(struct engine_client *c, json_t *body, engine_cb cb,
                                            void *data, struct cc_error *reterr)
{
    return create_call(c, "/volumes/create", body, "volume", cb, data, reterr);
}

struct engine_request *engine_volume_inspect(struct engine_client *c, const char *name,
                                             engine_cb cb, void *data, struct cc_error *reterr)
{
    return id_call(c, "GET", "/volumes/", name, "", "volume", NULL, cb, data, reterr);
}

struct engine_request *engine_volume_remove(struct engine_client *c, const char *name, bool force,
                                            engine_cb cb, void *data, struct cc_error *reterr)
{
    return id_call(c, "DELETE", "/volumes/", name, force ? "?force=1" : "", "volume", NULL, cb,
                   data, reterr);
}
