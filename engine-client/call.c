/* Helpers shared by the typed calls: paths with escaped ids, and the plain JSON request. */
#include "engine-client/engine-internal.h"

void engine_path_id(struct buf *path, const char *prefix, const char *id, const char *suffix)
{
    buf_reset(path);
    buf_adds(path, prefix);
    engine_buf_add_escaped(path, id);
    buf_adds(path, suffix);
}

struct engine_request *engine_call_json(struct engine_client *c, const char *method,
                                        struct buf *path, json_t *body, long timeout_ms,
                                        engine_cb cb, void *data, struct cc_error *reterr)
{
    struct engine_call call = {
        .method = method,
        .path = buf_str(path),
        .body = body,
        .mode = ENGINE_RESP_JSON,
        .timeout_ms = timeout_ms,
    };
    struct engine_request *r = engine_call_submit(c, &call, cb, data, reterr);
    buf_release(path);
    return r;
}

int engine_check_id(const char *id, const char *what, struct cc_error *reterr)
{
    if (id && *id)
        return 0;
    return cc_error_set(reterr, CC_ERR_USAGE, "no %s given", what);
}

struct engine_request *engine_list_call_flag(struct engine_client *c, const char *base,
                                             const char *flag, json_t *filters, engine_cb cb,
                                             void *data, struct cc_error *reterr)
{
    struct buf path = BUF_INIT;
    buf_adds(&path, base);
    if (flag)
        engine_query_add_bool(&path, flag, true);
    if (filters)
        engine_query_add_json(&path, "filters", filters);
    return engine_call_json(c, "GET", &path, NULL, 0, cb, data, reterr);
}

struct engine_request *engine_list_call(struct engine_client *c, const char *base, json_t *filters,
                                        engine_cb cb, void *data, struct cc_error *reterr)
{
    return engine_list_call_flag(c, base, NULL, filters, cb, data, reterr);
}

struct engine_request *engine_create_call(struct engine_client *c, const char *path_s, json_t *body,
                                          const char *what, engine_cb cb, void *data,
                                          struct cc_error *reterr)
{
    if (!body)
        return cc_error_set(reterr, CC_ERR_USAGE, "no %s body given", what), NULL;
    struct buf path = BUF_INIT;
    buf_adds(&path, path_s);
    return engine_call_json(c, "POST", &path, body, 0, cb, data, reterr);
}

struct engine_request *engine_id_call(struct engine_client *c, const char *method,
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
