/* Inside engine-client: the one generic call that every typed call in engine-client/ is built on,
 * and the helpers to build request paths. Nothing outside engine-client/ includes this. */
#ifndef CC_ENGINE_INTERNAL_H
#define CC_ENGINE_INTERNAL_H

#include "common/buf.h"
#include "engine-client/engine.h"

/* How a response body is read. */
enum engine_resp_mode {
    ENGINE_RESP_JSON = 0,    /* whole body decoded as one JSON value (empty body: NULL result) */
    ENGINE_RESP_JSON_LINES,  /* newline-delimited JSON, each item to on_item */
    ENGINE_RESP_MULTIPLEXED, /* 8-byte framed stdout/stderr, payloads to on_output */
    ENGINE_RESP_RAW,         /* bytes as they come to on_output (fd ENGINE_RAW) */
};

struct engine_call {
    const char *method;            /* "GET", "POST", "DELETE", ... */
    const char *path;              /* path and query without the version prefix; copied at submit */
    bool unversioned;              /* send path as is (only /_ping) */
    json_t *body;                  /* borrowed; serialised at submit; NULL: no JSON body */
    engine_body_read_cb read_body; /* streamed upload instead of body, or NULL */
    void *read_data;
    const char *content_type; /* for read_body, e.g. "application/x-tar" */
    const char *headers[4];   /* extra "Name: value" header lines, NULL-terminated */
    enum engine_resp_mode mode;
    engine_json_item_cb on_item; /* ENGINE_RESP_JSON_LINES */
    engine_output_cb on_output;  /* ENGINE_RESP_MULTIPLEXED, ENGINE_RESP_RAW */
    engine_chunk_cb on_chunk;    /* ENGINE_RESP_RAW with back-pressure, instead of on_output */
    bool path_stat;              /* result: the X-Docker-Container-Path-Stat header, decoded */
    bool item_errors; /* JSON_LINES: an item with "error"/"errorDetail" fails the request */
    bool streaming;   /* no overall time limit (events, logs -f, attach, wait, build) */
    long timeout_ms;  /* overall limit when not streaming; 0: the client's request timeout */
};

/* The default of engine_options' request_timeout_ms. */
#define ENGINE_DEFAULT_TIMEOUT_MS (120 * 1000L)

/* Submits a call. Returns NULL with *reterr set (the callback is never called) only when the
 * call itself is malformed. Error responses (status >= 400) complete with an error whose kind
 * follows the status (404 not found, 409 conflict, 400 bad request, 5xx server error) and whose
 * engine_message is the body's "message". For streamed modes the completion callback runs after
 * the last item, with result NULL on success. */
struct engine_request *engine_call_submit(struct engine_client *c, const struct engine_call *call,
                                          engine_cb cb, void *data, struct cc_error *reterr);

/* Appends s percent-encoded for a path segment. '/', ':' and '@' stay as they are, because image
 * references ("repo/name:tag", "name@sha256:...") are matched as one path tail by the engine. */
void engine_buf_add_escaped(struct buf *b, const char *s);
/* Appends "?key=value" (first) or "&key=value", value percent-encoded. Looks at b to decide. */
void engine_query_add(struct buf *path, const char *key, const char *value);
/* As engine_query_add, with value serialised as compact JSON (filters, buildargs, labels). */
void engine_query_add_json(struct buf *path, const char *key, json_t *value);
void engine_query_add_bool(struct buf *path, const char *key, bool value);

/* Builds "PREFIX<escaped id>SUFFIX" into path (which it resets), e.g. ("/containers/", id,
 * "/start"). */
void engine_path_id(struct buf *path, const char *prefix, const char *id, const char *suffix);
/* A plain JSON call: path is released whatever happens; body borrowed. */
struct engine_request *engine_call_json(struct engine_client *c, const char *method,
                                        struct buf *path, json_t *body, long timeout_ms,
                                        engine_cb cb, void *data, struct cc_error *reterr);
/* The error kind of an HTTP error status: 404 not found, 409 conflict, 400 bad request, 5xx server
 * error, else failed. */
enum cc_error_kind engine_status_kind(long status);

/* What a hijacked stream (hijack.c) needs to open its own connection: the loop, the unix socket
 * path (NULL for tcp), the base URL ("http://localhost", "http://HOST:PORT" or, with TLS,
 * "https://HOST:PORT"); all borrowed. */
uv_loop_t *engine_client_loop(const struct engine_client *c);
const char *engine_client_unix_path(const struct engine_client *c);
const char *engine_client_base_url(const struct engine_client *c);
/* Whether requests go over TLS (a tcp:// host with DOCKER_TLS_VERIFY or DOCKER_TLS). */
bool engine_client_tls(const struct engine_client *c);
/* A TLS client's settings (engine_client_tls()), for a connection made outside libcurl: whether
 * the engine's certificate is checked, the files (each NULL when not used), the directory they
 * were looked for in and the host as given (for messages); all borrowed. */
struct engine_tls_settings {
    bool verify;
    const char *ca, *cert, *key;
    const char *dir, *host;
};
void engine_client_tls_settings(const struct engine_client *c, struct engine_tls_settings *ret);
/* engine_options' connect_timeout_ms, or the default. */
long engine_client_connect_timeout_ms(const struct engine_client *c);

/* Fails with CC_ERR_USAGE when id is NULL or empty, naming what. */
int engine_check_id(const char *id, const char *what, struct cc_error *reterr);

/* The shapes most typed calls take: "GET BASE?filters=" (filters borrowed, may be NULL);
 * "POST PATH" with a body (borrowed; NULL fails with CC_ERR_USAGE naming what); and
 * "METHOD PREFIX<id>SUFFIX" (an empty id fails naming what; body borrowed, may be NULL). */
struct engine_request *engine_list_call(struct engine_client *c, const char *base, json_t *filters,
                                        engine_cb cb, void *data, struct cc_error *reterr);
/* The same with the boolean query parameter flag set (NULL: none), as "all" or "status". */
struct engine_request *engine_list_call_flag(struct engine_client *c, const char *base,
                                             const char *flag, json_t *filters, engine_cb cb,
                                             void *data, struct cc_error *reterr);
struct engine_request *engine_create_call(struct engine_client *c, const char *path_s, json_t *body,
                                          const char *what, engine_cb cb, void *data,
                                          struct cc_error *reterr);
struct engine_request *engine_id_call(struct engine_client *c, const char *method,
                                      const char *prefix, const char *id, const char *suffix,
                                      const char *what, json_t *body, engine_cb cb, void *data,
                                      struct cc_error *reterr);

/* ---- Podman (podman.c): its answers made Docker's, used only when the engine is Podman ------- */

/* The status Docker would have answered: 409 for Podman's 500s whose "cause" is a conflict (a
 * name in use, a container in the wrong state, a resource in use). body borrowed, may be NULL. */
long engine_podman_error_status(long status, json_t *body);
/* Rewrites the decoded answer to "METHOD PATH" (path without the version prefix) in place:
 * short image names, no empty State.Health, "exited" for "stopped". result borrowed. */
void engine_podman_fix_result(const char *method, const char *path, json_t *result);
/* A container create body with Docker's default StopTimeout added when it has none, and a
 * ["CMD", ...] health check whose arguments Podman would split at spaces turned into CMD-SHELL:
 * new, or NULL when body is to be sent as it is. */
char *engine_podman_fix_create(const char *path, const char *body);
/* Rewrites one event in place as Docker would have sent it; false: Docker would have sent none
 * (the event is to be dropped). health_seen is the stream's own {"id": "last health status"},
 * borrowed and updated. */
bool engine_podman_fix_event(json_t *health_seen, json_t *ev);
/* An /events path with a Unix-time until= made one that Podman answers in full: without until,
 * with stream=false (*until_ns then says when; events after it are to be dropped, see
 * engine_podman_event_after()). New, or NULL (and *until_ns 0) when path is to be sent as it is. */
char *engine_podman_fix_events_path(const char *path, long long *until_ns);
/* Whether ev happened after until_ns (ns since the epoch; 0: no limit). ev borrowed. */
bool engine_podman_event_after(json_t *ev, long long until_ns);
/* Rewrites one item of a build's output in place with Docker's step lines. item borrowed. */
void engine_podman_fix_build_item(json_t *item);
/* One item of a pull's progress (POST /images/create, path without the version prefix) made
 * Docker's. Podman sends "Pulling fs layer", "Downloading", "Already exists" and "Download
 * complete" for each blob (its config too) and ends with a second "Download complete" for the
 * image's ID; that end is turned into Docker's "Pull complete" for each layer downloaded and its
 * image-wide "Status: ..." line. done is the stream's own {"blob id": true}, borrowed and
 * updated. Returns the items to deliver instead of item (new array), or NULL to deliver item. */
json_t *engine_podman_fix_pull_item(json_t *done, const char *path, json_t *item);
/* The kind of a pull's failure that Podman reports inside its progress stream (after a 200)
 * where Docker answers 404 first: CC_ERR_NOT_FOUND for an unknown image, else CC_ERR_FAILED. */
enum cc_error_kind engine_podman_pull_error_kind(const char *msg);
/* name without "localhost/", "docker.io/library/" or "docker.io/" in front: borrowed from name. */
const char *engine_image_name_short(const char *name);

#endif
