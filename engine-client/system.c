/* System calls: ping (version negotiation), version, info, and the event stream. */
#include "engine-client/engine-internal.h"

struct engine_request *engine_ping(struct engine_client *c, engine_cb cb, void *data,
                                   struct cc_error *reterr)
{
    struct engine_call call = {.method = "GET", .path = "/_ping", .unversioned = true};
    return engine_call_submit(c, &call, cb, data, reterr);
}

struct engine_request *engine_version(struct engine_client *c, engine_cb cb, void *data,
                                      struct cc_error *reterr)
{
    struct buf path = BUF_INIT;
    buf_adds(&path, "/version");
    return engine_call_json(c, "GET", &path, NULL, 0, cb, data, reterr);
}

struct engine_request *engine_info(struct engine_client *c, engine_cb cb, void *data,
                                   struct cc_error *reterr)
{
    struct buf path = BUF_INIT;
    buf_adds(&path, "/info");
    return engine_call_json(c, "GET", &path, NULL, 0, cb, data, reterr);
}

struct engine_request *engine_events(struct engine_client *c, json_t *filters, const char *since,
                                     const char *until, engine_json_item_cb on_event, engine_cb cb,
                                     void *data, struct cc_error *reterr)
{
    struct buf path = BUF_INIT;
    buf_adds(&path, "/events");
    if (since)
        engine_query_add(&path, "since", since);
    if (until)
        engine_query_add(&path, "until", until);
    if (filters)
        engine_query_add_json(&path, "filters", filters);
    struct engine_call call = {
        .method = "GET",
        .path = buf_str(&path),
        .mode = ENGINE_RESP_JSON_LINES,
        .on_item = on_event,
        .streaming = true,
    };
    struct engine_request *r = engine_call_submit(c, &call, cb, data, reterr);
    buf_release(&path);
    return r;
}
