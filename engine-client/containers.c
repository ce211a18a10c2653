/* Container calls. Bodies are built by callers; this file only knows the engine's paths. */
#include <stdio.h>

#include "engine-client/engine-internal.h"

/* Stops wait up to the grace period, then the engine kills: give the request that long and more.
 * Without a period (the container's own), allow ten minutes. */
static long stop_timeout_ms(int timeout_s)
{
    return timeout_s >= 0 ? (timeout_s + 60) * 1000L : 600 * 1000L;
}

struct engine_request *engine_container_list(struct engine_client *c, bool all, json_t *filters,
                                             engine_cb cb, void *data, struct cc_error *reterr)
{
    return engine_list_call_flag(c, "/containers/json", all ? "all" : NULL, filters, cb, data,
                                 reterr);
}

struct engine_request *engine_container_create(struct engine_client *c, const char *name,
                                               json_t *body, engine_cb cb, void *data,
                                               struct cc_error *reterr)
{
    if (!body)
        return cc_error_set(reterr, CC_ERR_USAGE, "no container body given"), NULL;
    struct buf path = BUF_INIT;
    buf_adds(&path, "/containers/create");
    if (name && *name)
        engine_query_add(&path, "name", name);
    return engine_call_json(c, "POST", &path, body, 0, cb, data, reterr);
}

/* The calls that are "VERB /containers/{id}/SUFFIX" with nothing else. */
static struct engine_request *container_call(struct engine_client *c, const char *method,
                                             const char *id, const char *suffix, long timeout_ms,
                                             engine_cb cb, void *data, struct cc_error *reterr)
{
    if (engine_check_id(id, "container", reterr) < 0)
        return NULL;
    struct buf path = BUF_INIT;
    engine_path_id(&path, "/containers/", id, suffix);
    return engine_call_json(c, method, &path, NULL, timeout_ms, cb, data, reterr);
}

struct engine_request *engine_container_inspect(struct engine_client *c, const char *id,
                                                engine_cb cb, void *data, struct cc_error *reterr)
{
    return container_call(c, "GET", id, "/json", 0, cb, data, reterr);
}

struct engine_request *engine_container_start(struct engine_client *c, const char *id, engine_cb cb,
                                              void *data, struct cc_error *reterr)
{
    return container_call(c, "POST", id, "/start", 0, cb, data, reterr);
}

struct engine_request *engine_container_pause(struct engine_client *c, const char *id, engine_cb cb,
                                              void *data, struct cc_error *reterr)
{
    return container_call(c, "POST", id, "/pause", 0, cb, data, reterr);
}

struct engine_request *engine_container_unpause(struct engine_client *c, const char *id,
                                                engine_cb cb, void *data, struct cc_error *reterr)
{
    return container_call(c, "POST", id, "/unpause", 0, cb, data, reterr);
}

static struct engine_request *stop_like(struct engine_client *c, const char *id, const char *suffix,
                                        int timeout_s, engine_cb cb, void *data,
                                        struct cc_error *reterr)
{
    char query[32] = "";
    if (timeout_s >= 0)
        snprintf(query, sizeof(query), "?t=%d", timeout_s);
    struct buf suf = BUF_INIT;
    buf_printf(&suf, "%s%s", suffix, query);
    struct engine_request *r =
        container_call(c, "POST", id, buf_str(&suf), stop_timeout_ms(timeout_s), cb, data, reterr);
    buf_release(&suf);
    return r;
}

struct engine_request *engine_container_stop(struct engine_client *c, const char *id, int timeout_s,
                                             engine_cb cb, void *data, struct cc_error *reterr)
{
    return stop_like(c, id, "/stop", timeout_s, cb, data, reterr);
}

struct engine_request *engine_container_restart(struct engine_client *c, const char *id,
                                                int timeout_s, engine_cb cb, void *data,
                                                struct cc_error *reterr)
{
    return stop_like(c, id, "/restart", timeout_s, cb, data, reterr);
}

/* "VERB /containers/{id}/SUFFIX?KEY=VALUE", the query left out when value is NULL or empty. */
static struct engine_request *container_call_query(struct engine_client *c, const char *method,
                                                   const char *id, const char *suffix,
                                                   const char *key, const char *value, engine_cb cb,
                                                   void *data, struct cc_error *reterr)
{
    if (engine_check_id(id, "container", reterr) < 0)
        return NULL;
    struct buf path = BUF_INIT;
    engine_path_id(&path, "/containers/", id, suffix);
    if (value && *value)
        engine_query_add(&path, key, value);
    return engine_call_json(c, method, &path, NULL, 0, cb, data, reterr);
}

struct engine_request *engine_container_kill(struct engine_client *c, const char *id,
                                             const char *signal, engine_cb cb, void *data,
                                             struct cc_error *reterr)
{
    return container_call_query(c, "POST", id, "/kill", "signal", signal, cb, data, reterr);
}

struct engine_request *engine_container_top(struct engine_client *c, const char *id,
                                            const char *ps_args, engine_cb cb, void *data,
                                            struct cc_error *reterr)
{
    return container_call_query(c, "GET", id, "/top", "ps_args", ps_args, cb, data, reterr);
}

struct engine_request *engine_container_rename(struct engine_client *c, const char *id,
                                               const char *name, engine_cb cb, void *data,
                                               struct cc_error *reterr)
{
    if (!name || !*name)
        return cc_error_set(reterr, CC_ERR_USAGE, "renaming a container needs a new name"), NULL;
    return container_call_query(c, "POST", id, "/rename", "name", name, cb, data, reterr);
}

struct engine_request *engine_container_remove(struct engine_client *c, const char *id, bool force,
                                               bool volumes, engine_cb cb, void *data,
                                               struct cc_error *reterr)
{
    if (engine_check_id(id, "container", reterr) < 0)
        return NULL;
    struct buf path = BUF_INIT;
    engine_path_id(&path, "/containers/", id, "");
    if (force)
        engine_query_add_bool(&path, "force", true);
    if (volumes)
        engine_query_add_bool(&path, "v", true);
    return engine_call_json(c, "DELETE", &path, NULL, 0, cb, data, reterr);
}

struct engine_request *engine_container_healthcheck(struct engine_client *c, const char *id,
                                                    long timeout_ms, engine_cb cb, void *data,
                                                    struct cc_error *reterr)
{
    if (engine_check_id(id, "container", reterr) < 0)
        return NULL;
    if (engine_client_kind(c) != ENGINE_PODMAN)
        return cc_error_set(reterr, CC_ERR_UNSUPPORTED,
                            "only Podman runs a container's health check on request"),
               NULL;
    struct buf path = BUF_INIT;
    /* Libpod's own API, with its own version prefix, beside the Docker-compatible one. */
    engine_path_id(&path, "/v4.0.0/libpod/containers/", id, "/healthcheck");
    struct engine_call call = {
        .method = "GET",
        .path = buf_str(&path),
        .unversioned = true,
        .mode = ENGINE_RESP_JSON,
        .timeout_ms = timeout_ms,
    };
    struct engine_request *r = engine_call_submit(c, &call, cb, data, reterr);
    buf_release(&path);
    return r;
}

struct engine_request *engine_container_wait(struct engine_client *c, const char *id,
                                             const char *condition, engine_cb cb, void *data,
                                             struct cc_error *reterr)
{
    if (engine_check_id(id, "container", reterr) < 0)
        return NULL;
    struct buf path = BUF_INIT;
    engine_path_id(&path, "/containers/", id, "/wait");
    if (condition && *condition)
        engine_query_add(&path, "condition", condition);
    struct engine_call call = {
        .method = "POST",
        .path = buf_str(&path),
        .mode = ENGINE_RESP_JSON,
        .streaming = true,
    };
    struct engine_request *r = engine_call_submit(c, &call, cb, data, reterr);
    buf_release(&path);
    return r;
}

/* Logs and attach deliver output: multiplexed frames, or raw bytes from a TTY. */
static struct engine_request *output_call(struct engine_client *c, const char *method,
                                          struct buf *path, bool tty, engine_output_cb on_output,
                                          engine_cb cb, void *data, struct cc_error *reterr)
{
    struct engine_call call = {
        .method = method,
        .path = buf_str(path),
        .mode = tty ? ENGINE_RESP_RAW : ENGINE_RESP_MULTIPLEXED,
        .on_output = on_output,
        .streaming = true,
    };
    struct engine_request *r = engine_call_submit(c, &call, cb, data, reterr);
    buf_release(path);
    return r;
}

struct engine_request *engine_container_logs(struct engine_client *c, const char *id,
                                             const struct engine_logs_options *opts,
                                             engine_output_cb on_output, engine_cb cb, void *data,
                                             struct cc_error *reterr)
{
    if (engine_check_id(id, "container", reterr) < 0)
        return NULL;
    static const struct engine_logs_options defaults;
    if (!opts)
        opts = &defaults;
    bool both = !opts->stdout_ && !opts->stderr_;
    struct buf path = BUF_INIT;
    engine_path_id(&path, "/containers/", id, "/logs");
    engine_query_add_bool(&path, "stdout", both || opts->stdout_);
    engine_query_add_bool(&path, "stderr", both || opts->stderr_);
    if (opts->follow)
        engine_query_add_bool(&path, "follow", true);
    if (opts->timestamps)
        engine_query_add_bool(&path, "timestamps", true);
    if (opts->tail)
        engine_query_add(&path, "tail", opts->tail);
    if (opts->since)
        engine_query_add(&path, "since", opts->since);
    if (opts->until)
        engine_query_add(&path, "until", opts->until);
    return output_call(c, "GET", &path, opts->tty, on_output, cb, data, reterr);
}

struct engine_request *engine_container_attach(struct engine_client *c, const char *id, bool tty,
                                               engine_output_cb on_output, engine_cb cb, void *data,
                                               struct cc_error *reterr)
{
    if (engine_check_id(id, "container", reterr) < 0)
        return NULL;
    struct buf path = BUF_INIT;
    engine_path_id(&path, "/containers/", id, "/attach?stream=1&stdout=1&stderr=1");
    return output_call(c, "POST", &path, tty, on_output, cb, data, reterr);
}

/* ---- Exec ---------------------------------------------------------------------------------- */

struct engine_request *engine_exec_create(struct engine_client *c, const char *container_id,
                                          json_t *body, engine_cb cb, void *data,
                                          struct cc_error *reterr)
{
    if (engine_check_id(container_id, "container", reterr) < 0)
        return NULL;
    if (!body)
        return cc_error_set(reterr, CC_ERR_USAGE, "no exec body given"), NULL;
    struct buf path = BUF_INIT;
    engine_path_id(&path, "/containers/", container_id, "/exec");
    return engine_call_json(c, "POST", &path, body, 0, cb, data, reterr);
}

struct engine_request *engine_exec_start(struct engine_client *c, const char *exec_id, bool detach,
                                         bool tty, engine_output_cb on_output, engine_cb cb,
                                         void *data, struct cc_error *reterr)
{
    if (engine_check_id(exec_id, "exec instance", reterr) < 0)
        return NULL;
    struct buf path = BUF_INIT;
    engine_path_id(&path, "/exec/", exec_id, "/start");
    json_t *body = json_pack("{s:b, s:b}", "Detach", detach, "Tty", tty);
    struct engine_request *r;
    if (detach) {
        r = engine_call_json(c, "POST", &path, body, 0, cb, data, reterr);
    } else {
        struct engine_call call = {
            .method = "POST",
            .path = buf_str(&path),
            .body = body,
            .mode = tty ? ENGINE_RESP_RAW : ENGINE_RESP_MULTIPLEXED,
            .on_output = on_output,
            .streaming = true,
        };
        r = engine_call_submit(c, &call, cb, data, reterr);
        buf_release(&path);
    }
    json_decref(body);
    return r;
}

struct engine_request *engine_exec_inspect(struct engine_client *c, const char *exec_id,
                                           engine_cb cb, void *data, struct cc_error *reterr)
{
    if (engine_check_id(exec_id, "exec instance", reterr) < 0)
        return NULL;
    struct buf path = BUF_INIT;
    engine_path_id(&path, "/exec/", exec_id, "/json");
    return engine_call_json(c, "GET", &path, NULL, 0, cb, data, reterr);
}

static struct engine_request *resize_call(struct engine_client *c, const char *prefix,
                                          const char *id, const char *what, unsigned rows,
                                          unsigned cols, engine_cb cb, void *data,
                                          struct cc_error *reterr)
{
    if (engine_check_id(id, what, reterr) < 0)
        return NULL;
    struct buf path = BUF_INIT;
    char n[16];
    engine_path_id(&path, prefix, id, "/resize");
    snprintf(n, sizeof(n), "%u", rows);
    engine_query_add(&path, "h", n);
    snprintf(n, sizeof(n), "%u", cols);
    engine_query_add(&path, "w", n);
    return engine_call_json(c, "POST", &path, NULL, 0, cb, data, reterr);
}

struct engine_request *engine_exec_resize(struct engine_client *c, const char *exec_id,
                                          unsigned rows, unsigned cols, engine_cb cb, void *data,
                                          struct cc_error *reterr)
{
    return resize_call(c, "/exec/", exec_id, "exec instance", rows, cols, cb, data, reterr);
}

struct engine_request *engine_container_resize(struct engine_client *c, const char *id,
                                               unsigned rows, unsigned cols, engine_cb cb,
                                               void *data, struct cc_error *reterr)
{
    return resize_call(c, "/containers/", id, "container", rows, cols, cb, data, reterr);
}

/* "/containers/ID/archive?path=PATH", or NULL with *reterr when id or path is missing. */
static bool archive_path(struct buf *out, const char *id, const char *path, struct cc_error *reterr)
{
    if (engine_check_id(id, "container", reterr) < 0)
        return false;
    if (!path || !*path) {
        cc_error_set(reterr, CC_ERR_USAGE, "no path in the container given");
        return false;
    }
    engine_path_id(out, "/containers/", id, "/archive");
    engine_query_add(out, "path", path);
    return true;
}

struct engine_request *engine_container_stat_path(struct engine_client *c, const char *id,
                                                  const char *path, engine_cb cb, void *data,
                                                  struct cc_error *reterr)
{
    struct buf p = BUF_INIT;
    if (!archive_path(&p, id, path, reterr))
        return buf_release(&p), NULL;
    struct engine_call call = {.method = "HEAD", .path = buf_str(&p), .path_stat = true};
    struct engine_request *r = engine_call_submit(c, &call, cb, data, reterr);
    buf_release(&p);
    return r;
}

struct engine_request *engine_container_archive_get(struct engine_client *c, const char *id,
                                                    const char *path, engine_chunk_cb on_chunk,
                                                    engine_cb cb, void *data,
                                                    struct cc_error *reterr)
{
    struct buf p = BUF_INIT;
    if (!archive_path(&p, id, path, reterr))
        return buf_release(&p), NULL;
    struct engine_call call = {
        .method = "GET",
        .path = buf_str(&p),
        .mode = ENGINE_RESP_RAW,
        .on_chunk = on_chunk,
        /* As large as the tree is: no overall limit. */
        .streaming = true,
    };
    struct engine_request *r = engine_call_submit(c, &call, cb, data, reterr);
    buf_release(&p);
    return r;
}

struct engine_request *engine_container_archive_put(struct engine_client *c, const char *id,
                                                    const char *dir, bool copy_uidgid,
                                                    engine_body_read_cb read_body, void *read_data,
                                                    engine_cb cb, void *data,
                                                    struct cc_error *reterr)
{
    struct buf p = BUF_INIT;
    if (!archive_path(&p, id, dir, reterr))
        return buf_release(&p), NULL;
    engine_query_add(&p, "noOverwriteDirNonDir", "true");
    if (copy_uidgid)
        engine_query_add(&p, "copyUIDGID", "true");
    struct engine_call call = {
        .method = "PUT",
        .path = buf_str(&p),
        .read_body = read_body,
        .read_data = read_data,
        .content_type = "application/x-tar",
        .mode = ENGINE_RESP_JSON,
        .streaming = true,
    };
    struct engine_request *r = engine_call_submit(c, &call, cb, data, reterr);
    buf_release(&p);
    return r;
}
