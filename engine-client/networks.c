/* Network and volume calls. Swarm-scoped (overlay) networks are made with
 * engine_network_create() too: {"Driver": "overlay", "Attachable": true, "Scope": "swarm"}. */
#include "engine-client/engine-internal.h"

struct engine_request *engine_network_list(struct engine_client *c, json_t *filters, engine_cb cb,
                                           void *data, struct cc_error *reterr)
{
    return engine_list_call(c, "/networks", filters, cb, data, reterr);
}

struct engine_request *engine_network_create(struct engine_client *c, json_t *body, engine_cb cb,
                                             void *data, struct cc_error *reterr)
{
    return engine_create_call(c, "/networks/create", body, "network", cb, data, reterr);
}

struct engine_request *engine_network_inspect(struct engine_client *c, const char *id, engine_cb cb,
                                              void *data, struct cc_error *reterr)
{
    return engine_id_call(c, "GET", "/networks/", id, "", "network", NULL, cb, data, reterr);
}

struct engine_request *engine_network_remove(struct engine_client *c, const char *id, engine_cb cb,
                                             void *data, struct cc_error *reterr)
{
    return engine_id_call(c, "DELETE", "/networks/", id, "", "network", NULL, cb, data, reterr);
}

struct engine_request *engine_network_connect(struct engine_client *c, const char *network_id,
                                              json_t *body, engine_cb cb, void *data,
                                              struct cc_error *reterr)
{
    if (!body)
        return cc_error_set(reterr, CC_ERR_USAGE, "no network connect body given"), NULL;
    return engine_id_call(c, "POST", "/networks/", network_id, "/connect", "network", body, cb,
                          data, reterr);
}

struct engine_request *engine_network_disconnect(struct engine_client *c, const char *network_id,
                                                 const char *container_id, bool force, engine_cb cb,
                                                 void *data, struct cc_error *reterr)
{
    if (engine_check_id(container_id, "container", reterr) < 0)
        return NULL;
    json_t *body = json_pack("{s:s, s:b}", "Container", container_id, "Force", force);
    struct engine_request *r = engine_id_call(c, "POST", "/networks/", network_id, "/disconnect",
                                              "network", body, cb, data, reterr);
    json_decref(body);
    return r;
}

struct engine_request *engine_volume_list(struct engine_client *c, json_t *filters, engine_cb cb,
                                          void *data, struct cc_error *reterr)
{
    return engine_list_call(c, "/volumes", filters, cb, data, reterr);
}

struct engine_request *engine_volume_create(struct engine_client *c, json_t *body, engine_cb cb,
                                            void *data, struct cc_error *reterr)
{
    return engine_create_call(c, "/volumes/create", body, "volume", cb, data, reterr);
}

struct engine_request *engine_volume_inspect(struct engine_client *c, const char *name,
                                             engine_cb cb, void *data, struct cc_error *reterr)
{
    return engine_id_call(c, "GET", "/volumes/", name, "", "volume", NULL, cb, data, reterr);
}

struct engine_request *engine_volume_remove(struct engine_client *c, const char *name, bool force,
                                            engine_cb cb, void *data, struct cc_error *reterr)
{
    return engine_id_call(c, "DELETE", "/volumes/", name, force ? "?force=1" : "", "volume", NULL,
                          cb, data, reterr);
}
