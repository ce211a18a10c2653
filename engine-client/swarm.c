/* Swarm-mode calls: the swarm itself, services, tasks, secrets and configs. Specs are built by
 * callers; this file only knows the engine's paths and query parameters. */
#include <stdio.h>
#include <stdlib.h>

#include "common/util.h"
#include "engine-client/engine-internal.h"

struct engine_request *engine_swarm_inspect(struct engine_client *c, engine_cb cb, void *data,
                                            struct cc_error *reterr)
{
    return engine_list_call(c, "/swarm", NULL, cb, data, reterr);
}

/* ---- Services ------------------------------------------------------------------------------ */

struct engine_request *engine_service_list(struct engine_client *c, json_t *filters, bool status,
                                           engine_cb cb, void *data, struct cc_error *reterr)
{
    return engine_list_call_flag(c, "/services", status ? "status" : NULL, filters, cb, data,
                                 reterr);
}

/* A call that may carry registry credentials (X-Registry-Auth) for the engine to resolve an
 * image with. path is released whatever happens; body borrowed, may be NULL. */
static struct engine_request *auth_call(struct engine_client *c, const char *method,
                                        struct buf *path, json_t *body, const char *auth,
                                        engine_cb cb, void *data, struct cc_error *reterr)
{
    char *auth_header = auth ? xasprintf("X-Registry-Auth: %s", auth) : NULL;
    struct engine_call call = {
        .method = method,
        .path = buf_str(path),
        .body = body,
        .headers = {auth_header},
        .mode = ENGINE_RESP_JSON,
    };
    struct engine_request *r = engine_call_submit(c, &call, cb, data, reterr);
    free(auth_header);
    buf_release(path);
    return r;
}

static struct engine_request *spec_call(struct engine_client *c, struct buf *path, json_t *spec,
                                        const char *auth, engine_cb cb, void *data,
                                        struct cc_error *reterr)
{
    if (!spec) {
        buf_release(path);
        return cc_error_set(reterr, CC_ERR_USAGE, "no service spec given"), NULL;
    }
    return auth_call(c, "POST", path, spec, auth, cb, data, reterr);
}

struct engine_request *engine_service_create(struct engine_client *c, json_t *spec,
                                             const char *auth, engine_cb cb, void *data,
                                             struct cc_error *reterr)
{
    struct buf path = BUF_INIT;
    buf_adds(&path, "/services/create");
    return spec_call(c, &path, spec, auth, cb, data, reterr);
}

struct engine_request *engine_service_inspect(struct engine_client *c, const char *id, engine_cb cb,
                                              void *data, struct cc_error *reterr)
{
    return engine_id_call(c, "GET", "/services/", id, "", "service", NULL, cb, data, reterr);
}

struct engine_request *engine_service_update(struct engine_client *c, const char *id,
                                             unsigned long long version, json_t *spec,
                                             const char *auth, engine_cb cb, void *data,
                                             struct cc_error *reterr)
{
    if (engine_check_id(id, "service", reterr) < 0)
        return NULL;
    struct buf path = BUF_INIT;
    engine_path_id(&path, "/services/", id, "/update");
    char version_s[32];
    snprintf(version_s, sizeof(version_s), "%llu", version);
    engine_query_add(&path, "version", version_s);
    return spec_call(c, &path, spec, auth, cb, data, reterr);
}

struct engine_request *engine_service_remove(struct engine_client *c, const char *id, engine_cb cb,
                                             void *data, struct cc_error *reterr)
{
    return engine_id_call(c, "DELETE", "/services/", id, "", "service", NULL, cb, data, reterr);
}

struct engine_request *engine_distribution_inspect(struct engine_client *c, const char *image,
                                                   const char *auth, engine_cb cb, void *data,
                                                   struct cc_error *reterr)
{
    if (engine_check_id(image, "image", reterr) < 0)
        return NULL;
    struct buf path = BUF_INIT;
    engine_path_id(&path, "/distribution/", image, "/json");
    return auth_call(c, "GET", &path, NULL, auth, cb, data, reterr);
}

struct engine_request *engine_task_list(struct engine_client *c, json_t *filters, engine_cb cb,
                                        void *data, struct cc_error *reterr)
{
    return engine_list_call(c, "/tasks", filters, cb, data, reterr);
}

/* ---- Secrets and configs ------------------------------------------------------------------- */

struct engine_request *engine_secret_list(struct engine_client *c, json_t *filters, engine_cb cb,
                                          void *data, struct cc_error *reterr)
{
    return engine_list_call(c, "/secrets", filters, cb, data, reterr);
}

struct engine_request *engine_secret_create(struct engine_client *c, json_t *spec, engine_cb cb,
                                            void *data, struct cc_error *reterr)
{
    return engine_create_call(c, "/secrets/create", spec, "secret", cb, data, reterr);
}

struct engine_request *engine_secret_inspect(struct engine_client *c, const char *id, engine_cb cb,
                                             void *data, struct cc_error *reterr)
{
    return engine_id_call(c, "GET", "/secrets/", id, "", "secret", NULL, cb, data, reterr);
}

struct engine_request *engine_secret_remove(struct engine_client *c, const char *id, engine_cb cb,
                                            void *data, struct cc_error *reterr)
{
    return engine_id_call(c, "DELETE", "/secrets/", id, "", "secret", NULL, cb, data, reterr);
}

struct engine_request *engine_config_list(struct engine_client *c, json_t *filters, engine_cb cb,
                                          void *data, struct cc_error *reterr)
{
    return engine_list_call(c, "/configs", filters, cb, data, reterr);
}

struct engine_request *engine_config_create(struct engine_client *c, json_t *spec, engine_cb cb,
                                            void *data, struct cc_error *reterr)
{
    return engine_create_call(c, "/configs/create", spec, "config", cb, data, reterr);
}

struct engine_request *engine_config_inspect(struct engine_client *c, const char *id, engine_cb cb,
                                             void *data, struct cc_error *reterr)
{
    return engine_id_call(c, "GET", "/configs/", id, "", "config", NULL, cb, data, reterr);
}

struct engine_request *engine_config_remove(struct engine_client *c, const char *id, engine_cb cb,
                                            void *data, struct cc_error *reterr)
{
    return engine_id_call(c, "DELETE", "/configs/", id, "", "config", NULL, cb, data, reterr);
}
