/* engine-client: a typed, asynchronous client for the Docker Engine API (and engines that speak
 * it), on one libuv loop, over libcurl's multi interface.
 *
 * Every call is asynchronous. It returns a request handle at once (or NULL with *reterr filled
 * when the arguments are unusable, in which case the callback is never called) and calls its
 * callback exactly once, later, from the loop. Many requests may be in flight; connections are
 * reused. The first request triggers API version negotiation (GET /_ping); requests made before
 * it finishes wait for it and are then sent with the negotiated /vX.Y prefix.
 *
 * Ownership: results handed to callbacks are *borrowed* for the duration of the callback (take a
 * json_incref() to keep one). Bodies given to calls are *borrowed* unless the parameter says
 * *steals*. Request handles are owned by the client and are valid until the callback returns.
 *
 * engine-client knows nothing of compose files: callers build create bodies themselves. */
#ifndef CC_ENGINE_H
#define CC_ENGINE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <uv.h>

#include "common/error.h"

/* The API versions ccompose speaks: it uses the lower of the engine's and ENGINE_API_MAX. */
#define ENGINE_API_MIN "1.41"
#define ENGINE_API_MAX "1.45"

struct engine_client;
struct engine_request;

struct engine_options {
    const char *host; /* "unix:///path" or "tcp://host:port"; NULL: DOCKER_HOST, else default */
    long connect_timeout_ms; /* 0: a few seconds */
    /* A call that is not a stream must be answered within this, whole (an engine that takes the
     * connection and then never answers must not hang ccompose); calls that wait on purpose (stop
     * with its grace period) take longer of their own accord. 0: 120 s. */
    long request_timeout_ms;
    /* Calls in flight at most, whatever their kind (streams, which last as long as what they
     * follow, left out); the others wait in submission order. 0: no limit. */
    int max_in_flight;
};

enum engine_kind { ENGINE_DOCKER = 0, ENGINE_PODMAN };

/* Creates a client on loop. A tcp:// host speaks TLS as the docker CLI does (DOCKER_TLS_VERIFY,
 * DOCKER_TLS, DOCKER_CERT_PATH). Fails (CC_ERR_USAGE) only on an unusable host string or a TLS
 * file that is required and cannot be read; an engine that
 * does not answer shows up as CC_ERR_UNREACHABLE on the first request. *ret_client is new:
 * release it with engine_client_free(). */
int engine_client_new(uv_loop_t *loop, const struct engine_options *opts,
                      struct engine_client **ret_client, struct cc_error *reterr);

/* Cancels every request in flight and closes the client. The cancelled requests' callbacks run
 * with CC_ERR_CANCELLED from the loop, after this returns; then the client's handles close and its
 * memory goes. So run the loop (uv_run(loop, UV_RUN_DEFAULT)) after this, before
 * uv_loop_close(). Safe to call from inside any callback of this client. NULL is fine. */
void engine_client_free(struct engine_client *c);

/* With a max_in_flight limit: the calls that count against it in flight now, and (ret_held, may
 * be NULL) how many wait behind it. Without a limit both are 0. */
int engine_client_in_flight(const struct engine_client *c, int *ret_held);

/* The address used, e.g. "unix:///var/run/docker.sock"; borrowed. */
const char *engine_client_host(const struct engine_client *c);
/* The negotiated API version ("1.41"), or NULL before negotiation finished; borrowed. */
const char *engine_client_api_version(const struct engine_client *c);
enum engine_kind engine_client_kind(const struct engine_client *c);

/* Compares "1.41"-style API versions: <0, 0, >0. */
int engine_version_compare(const char *a, const char *b);

/* ---- Completion callbacks ---------------------------------------------------------------- */

/* The one completion callback of every call. On success err is NULL and result is the decoded
 * JSON body (NULL when the engine sends none, e.g. 204); on failure err is set and result NULL.
 * err->http_status and err->engine_message carry the engine's answer when there was one. */
typedef void (*engine_cb)(json_t *result, const struct cc_error *err, void *data);

/* Streams deliver items as they arrive, before the completion callback. */

/* One decoded JSON value of a newline-delimited JSON stream (events, build, pull, push). */
typedef void (*engine_json_item_cb)(json_t *item, void *data);

enum engine_stream_fd { ENGINE_STDIN = 0, ENGINE_STDOUT = 1, ENGINE_STDERR = 2, ENGINE_RAW = 3 };
/* A chunk of container output. With multiplexed streams, one call per frame payload (or part of
 * one: a frame may be delivered in several calls, each with the same fd); with a TTY's raw stream,
 * fd is ENGINE_RAW and chunks are as they arrived. */
typedef void (*engine_output_cb)(enum engine_stream_fd fd, const char *buf, size_t len, void *data);

/* Streams an upload body (build context). Fill at most len bytes of buf and return the count,
 * 0 at the end, or -1 to abort the request (its callback then gets CC_ERR_IO). Must not block. */
typedef ssize_t (*engine_body_read_cb)(char *buf, size_t len, void *data);

/* A chunk of a download that the receiver may refuse for now: return true when it took the bytes;
 * false leaves them, the transfer pauses, and the same bytes come again (maybe in other pieces)
 * after engine_request_resume(). */
typedef bool (*engine_chunk_cb)(const char *buf, size_t len, void *data);

/* What an engine_body_read_cb returns when it has nothing yet (a pipe that is empty for now): the
 * upload pauses until engine_request_resume(). */
#define ENGINE_BODY_PAUSE (-2)

/* Lets a paused transfer go on (a refused chunk is delivered again, a paused upload asks for more).
 * Does nothing on a request that is not paused or has ended. Runs from the loop, never inside the
 * call. */
void engine_request_resume(struct engine_request *req);

/* Cancels a request: its callback runs once, from the loop, with CC_ERR_CANCELLED (unless it had
 * already completed, in which case this does nothing). Safe to call from inside any callback. */
void engine_request_cancel(struct engine_request *req);

/* ---- System ------------------------------------------------------------------------------- */

/* GET /_ping. result: {"ApiVersion": "1.41", "Engine": "docker"|"podman", "OSType": ...}. */
struct engine_request *engine_ping(struct engine_client *c, engine_cb cb, void *data,
                                   struct cc_error *reterr);
/* GET /version and GET /info: the engine's own JSON. */
struct engine_request *engine_version(struct engine_client *c, engine_cb cb, void *data,
                                      struct cc_error *reterr);
struct engine_request *engine_info(struct engine_client *c, engine_cb cb, void *data,
                                   struct cc_error *reterr);

/* GET /events, streamed until cancelled. filters is the engine's filter map, e.g.
 * {"type":["container"],"label":["com.docker.compose.project=x"]} (borrowed, may be NULL);
 * since/until are engine timestamps (seconds, or "secs.nanos"), NULL for none. */
struct engine_request *engine_events(struct engine_client *c, json_t *filters, const char *since,
                                     const char *until, engine_json_item_cb on_event, engine_cb cb,
                                     void *data, struct cc_error *reterr);

/* ---- Containers --------------------------------------------------------------------------- */

/* GET /containers/json?all=&filters=. result: the array. filters borrowed, may be NULL. */
struct engine_request *engine_container_list(struct engine_client *c, bool all, json_t *filters,
                                             engine_cb cb, void *data, struct cc_error *reterr);
/* POST /containers/create?name=. body borrowed. result: {"Id": ..., "Warnings": [...]}. */
struct engine_request *engine_container_create(struct engine_client *c, const char *name,
                                               json_t *body, engine_cb cb, void *data,
                                               struct cc_error *reterr);
struct engine_request *engine_container_inspect(struct engine_client *c, const char *id,
                                                engine_cb cb, void *data, struct cc_error *reterr);
struct engine_request *engine_container_start(struct engine_client *c, const char *id, engine_cb cb,
                                              void *data, struct cc_error *reterr);
/* timeout_s < 0: the container's own StopTimeout (the query parameter is left out). */
struct engine_request *engine_container_stop(struct engine_client *c, const char *id, int timeout_s,
                                             engine_cb cb, void *data, struct cc_error *reterr);
struct engine_request *engine_container_restart(struct engine_client *c, const char *id,
                                                int timeout_s, engine_cb cb, void *data,
                                                struct cc_error *reterr);
/* signal: "SIGKILL", "TERM", "9", or NULL for the engine's default (SIGKILL). */
struct engine_request *engine_container_kill(struct engine_client *c, const char *id,
                                             const char *signal, engine_cb cb, void *data,
                                             struct cc_error *reterr);
struct engine_request *engine_container_remove(struct engine_client *c, const char *id, bool force,
                                               bool volumes, engine_cb cb, void *data,
                                               struct cc_error *reterr);
/* POST /containers/{id}/rename?name=. Fails with CC_ERR_CONFLICT when the name is taken. */
struct engine_request *engine_container_rename(struct engine_client *c, const char *id,
                                               const char *name, engine_cb cb, void *data,
                                               struct cc_error *reterr);
struct engine_request *engine_container_pause(struct engine_client *c, const char *id, engine_cb cb,
                                              void *data, struct cc_error *reterr);
struct engine_request *engine_container_unpause(struct engine_client *c, const char *id,
                                                engine_cb cb, void *data, struct cc_error *reterr);
/* GET /containers/{id}/top?ps_args=. ps_args: the ps options ("-ef" when NULL, the engine's
 * default). result: {"Titles": ["UID", "PID", ...], "Processes": [["root", "1", ...], ...]}.
 * Fails with CC_ERR_CONFLICT when the container is not running. */
struct engine_request *engine_container_top(struct engine_client *c, const char *id,
                                            const char *ps_args, engine_cb cb, void *data,
                                            struct cc_error *reterr);
/* GET /v4.0.0/libpod/containers/{id}/healthcheck: runs the container's health check now, on
 * Podman only (engine_client_kind() must say ENGINE_PODMAN, so negotiation must have finished;
 * elsewhere CC_ERR_UNSUPPORTED at once). The engine applies the check's timeout, retries and
 * start period. result: {"Status": "starting"|"healthy"|"unhealthy", "FailingStreak", "Log"}.
 * A container that is not running fails (CC_ERR_CONFLICT or CC_ERR_SERVER), one without a check
 * too. timeout_ms: the request's own limit (0: the default). */
struct engine_request *engine_container_healthcheck(struct engine_client *c, const char *id,
                                                    long timeout_ms, engine_cb cb, void *data,
                                                    struct cc_error *reterr);
/* POST /containers/{id}/wait?condition= ("not-running", "next-exit", "removed"; NULL: default).
 * result: {"StatusCode": N, "Error": ...}. Waits as long as the container runs. */
struct engine_request *engine_container_wait(struct engine_client *c, const char *id,
                                             const char *condition, engine_cb cb, void *data,
                                             struct cc_error *reterr);

struct engine_logs_options {
    bool follow;
    bool timestamps;
    bool stdout_; /* both false means both true */
    bool stderr_;
    const char *tail;  /* "all" or a number; NULL: all */
    const char *since; /* engine timestamp or NULL */
    const char *until;
    bool tty; /* the container has a TTY: its stream is raw, not multiplexed */
};
/* GET /containers/{id}/logs: output chunks to on_output, then cb(NULL, NULL) at the end. */
struct engine_request *engine_container_logs(struct engine_client *c, const char *id,
                                             const struct engine_logs_options *opts,
                                             engine_output_cb on_output, engine_cb cb, void *data,
                                             struct cc_error *reterr);
/* POST /containers/{id}/attach?stream=1&stdout=1&stderr=1 (logs=0): the output from now on, until
 * the container stops or the request is cancelled. tty as in engine_logs_options. */
struct engine_request *engine_container_attach(struct engine_client *c, const char *id, bool tty,
                                               engine_output_cb on_output, engine_cb cb, void *data,
                                               struct cc_error *reterr);

/* ---- Archives (cp) ------------------------------------------------------------------------ */

/* HEAD /containers/{id}/archive?path=: what is at path in the container (running or not), from
 * the X-Docker-Container-Path-Stat header. result: {"name", "size", "mode" (Go's os.FileMode:
 * permission bits, 1<<31 a directory, 1<<27 a symlink), "mtime", "linkTarget"}. A path that is
 * not there fails with CC_ERR_NOT_FOUND. */
struct engine_request *engine_container_stat_path(struct engine_client *c, const char *id,
                                                  const char *path, engine_cb cb, void *data,
                                                  struct cc_error *reterr);
/* GET /containers/{id}/archive?path=: path as a tar stream (its entries named from path's base
 * name), chunks to on_chunk, which may refuse them for back-pressure; then cb(NULL, NULL). */
struct engine_request *engine_container_archive_get(struct engine_client *c, const char *id,
                                                    const char *path, engine_chunk_cb on_chunk,
                                                    engine_cb cb, void *data,
                                                    struct cc_error *reterr);
/* PUT /containers/{id}/archive?path=DIR&noOverwriteDirNonDir=true[&copyUIDGID=true]: the tar
 * stream from read_body (which may return ENGINE_BODY_PAUSE) extracted into the container's
 * directory dir, which must exist; copy_uidgid keeps the entries' owners (else root owns them). */
struct engine_request *engine_container_archive_put(struct engine_client *c, const char *id,
                                                    const char *dir, bool copy_uidgid,
                                                    engine_body_read_cb read_body, void *read_data,
                                                    engine_cb cb, void *data,
                                                    struct cc_error *reterr);

/* ---- Exec --------------------------------------------------------------------------------- */

/* POST /containers/{id}/exec. body borrowed ({"Cmd": [...], "AttachStdout": true, ...}).
 * result: {"Id": ...}. */
struct engine_request *engine_exec_create(struct engine_client *c, const char *container_id,
                                          json_t *body, engine_cb cb, void *data,
                                          struct cc_error *reterr);
/* POST /exec/{id}/start. detach: result NULL at once. Otherwise the output is streamed to on_output
 * until the process ends (tty: raw stream). */
struct engine_request *engine_exec_start(struct engine_client *c, const char *exec_id, bool detach,
                                         bool tty, engine_output_cb on_output, engine_cb cb,
                                         void *data, struct cc_error *reterr);
/* GET /exec/{id}/json. result includes "ExitCode" and "Running". */
struct engine_request *engine_exec_inspect(struct engine_client *c, const char *exec_id,
                                           engine_cb cb, void *data, struct cc_error *reterr);

/* POST /exec/{id}/resize?h=&w= and POST /containers/{id}/resize?h=&w=: a TTY's size. */
struct engine_request *engine_exec_resize(struct engine_client *c, const char *exec_id,
                                          unsigned rows, unsigned cols, engine_cb cb, void *data,
                                          struct cc_error *reterr);
struct engine_request *engine_container_resize(struct engine_client *c, const char *id,
                                               unsigned rows, unsigned cols, engine_cb cb,
                                               void *data, struct cc_error *reterr);

/* ---- Hijacked streams (stdin, stdout and stderr both ways) ---------------------------------- */

/* A bidirectional stream on a connection of its own: the request is sent with "Connection:
 * Upgrade, Upgrade: tcp"; once the engine answers 101 (or 200), the socket carries the process's
 * input one way and its output the other (raw with a TTY, else multiplexed frames), until the
 * engine closes it when the process ends. Driven by the client's loop; nothing blocks.
 *
 * on_open (may be NULL) runs once the stream is upgraded: writes may start. on_output gets the
 * output as engine_container_logs() does. on_drain (may be NULL) runs when the write queue
 * empties after a write. cb runs exactly once, from the loop, after everything else: err NULL when
 * the engine closed the stream, the engine's error when it refused the request (kind from the
 * status, as every call), CC_ERR_CANCELLED after engine_hijack_cancel(), CC_ERR_UNREACHABLE or
 * CC_ERR_IO on connection failures. CC_ERR_UNREACHABLE also when the connection is not made
 * within the client's connect timeout, or the engine sends no answer within answer_timeout_ms (a
 * hung engine). The handle is valid until cb returns. The stream does not belong to the client:
 * cancel it before engine_client_free() if it still runs. */
struct engine_hijack;

struct engine_hijack_options {
    bool tty;               /* the process has a TTY: output is raw */
    unsigned rows, cols;    /* exec with a TTY: its size from the start (API 1.42+); 0: none */
    long answer_timeout_ms; /* the engine's answer must come within this once connected; 0: 30 s */
    engine_output_cb on_output;
    void (*on_open)(void *data);
    void (*on_drain)(void *data);
    engine_cb cb;
    void *data;
};

/* POST /exec/{id}/start with {"Detach": false, "Tty": tty}, hijacked. The exec must have been
 * created with AttachStdin for writes to reach it. */
struct engine_hijack *engine_exec_attach(struct engine_client *c, const char *exec_id,
                                         const struct engine_hijack_options *opts,
                                         struct cc_error *reterr);
/* POST /containers/{id}/attach?stream=1&stdin=1&stdout=1&stderr=1, hijacked: attach before
 * starting the container to see all of its output (docker run's order). */
struct engine_hijack *engine_container_attach_stdin(struct engine_client *c, const char *id,
                                                    const struct engine_hijack_options *opts,
                                                    struct cc_error *reterr);
/* Queues len bytes of input (copied). Returns the bytes now queued (for back-pressure: stop
 * reading and wait for on_drain past a limit), or -1 when the stream is not open for writing
 * (before on_open, after engine_hijack_close_write(), or once it ended). */
ssize_t engine_hijack_write(struct engine_hijack *h, const char *buf, size_t len);
/* Ends the input once the queued bytes are sent (the process reads end of file); the output goes
 * on until the engine closes the stream. */
void engine_hijack_close_write(struct engine_hijack *h);
/* Ends the stream: cb then runs from the loop with CC_ERR_CANCELLED (unless it had ended). Safe
 * from inside its callbacks. */
void engine_hijack_cancel(struct engine_hijack *h);

/* ---- Networks ----------------------------------------------------------------------------- */

struct engine_request *engine_network_list(struct engine_client *c, json_t *filters, engine_cb cb,
                                           void *data, struct cc_error *reterr);
/* POST /networks/create. body borrowed ({"Name": ..., "Driver": ..., "Labels": {...}}). */
struct engine_request *engine_network_create(struct engine_client *c, json_t *body, engine_cb cb,
                                             void *data, struct cc_error *reterr);
struct engine_request *engine_network_inspect(struct engine_client *c, const char *id, engine_cb cb,
                                              void *data, struct cc_error *reterr);
struct engine_request *engine_network_remove(struct engine_client *c, const char *id, engine_cb cb,
                                             void *data, struct cc_error *reterr);
/* POST /networks/{id}/connect. body borrowed ({"Container": id, "EndpointConfig": {...}}). */
struct engine_request *engine_network_connect(struct engine_client *c, const char *network_id,
                                              json_t *body, engine_cb cb, void *data,
                                              struct cc_error *reterr);
struct engine_request *engine_network_disconnect(struct engine_client *c, const char *network_id,
                                                 const char *container_id, bool force, engine_cb cb,
                                                 void *data, struct cc_error *reterr);

/* ---- Volumes ------------------------------------------------------------------------------ */

/* GET /volumes. result: {"Volumes": [...], "Warnings": ...}. */
struct engine_request *engine_volume_list(struct engine_client *c, json_t *filters, engine_cb cb,
                                          void *data, struct cc_error *reterr);
struct engine_request *engine_volume_create(struct engine_client *c, json_t *body, engine_cb cb,
                                            void *data, struct cc_error *reterr);
struct engine_request *engine_volume_inspect(struct engine_client *c, const char *name,
                                             engine_cb cb, void *data, struct cc_error *reterr);
struct engine_request *engine_volume_remove(struct engine_client *c, const char *name, bool force,
                                            engine_cb cb, void *data, struct cc_error *reterr);

/* ---- Images ------------------------------------------------------------------------------- */

struct engine_request *engine_image_list(struct engine_client *c, json_t *filters, engine_cb cb,
                                         void *data, struct cc_error *reterr);
struct engine_request *engine_image_inspect(struct engine_client *c, const char *name, engine_cb cb,
                                            void *data, struct cc_error *reterr);
/* DELETE /images/{name}?force=&noprune=. result: the engine's array of Untagged/Deleted. */
struct engine_request *engine_image_remove(struct engine_client *c, const char *name, bool force,
                                           engine_cb cb, void *data, struct cc_error *reterr);
/* POST /images/{name}/tag?repo=&tag=. */
struct engine_request *engine_image_tag(struct engine_client *c, const char *name, const char *repo,
                                        const char *tag, engine_cb cb, void *data,
                                        struct cc_error *reterr);

/* POST /images/create?fromImage=&tag=. Progress items to on_progress. auth is the
 * X-Registry-Auth header value (base64url JSON), or NULL. A progress item carrying "error" makes
 * the request fail with that message. */
struct engine_request *engine_image_pull(struct engine_client *c, const char *image,
                                         const char *auth, engine_json_item_cb on_progress,
                                         engine_cb cb, void *data, struct cc_error *reterr);
/* POST /images/{name}/push?tag=. As pull. */
struct engine_request *engine_image_push(struct engine_client *c, const char *image,
                                         const char *auth, engine_json_item_cb on_progress,
                                         engine_cb cb, void *data, struct cc_error *reterr);

struct engine_build_options {
    const char *tag;        /* t= */
    const char *dockerfile; /* path inside the context; NULL: Dockerfile */
    const char *target;
    json_t *buildargs;   /* {"K": "V"}, borrowed, may be NULL */
    json_t *labels;      /* borrowed, may be NULL */
    json_t *extra_hosts; /* array of "host:ip", borrowed, may be NULL */
    json_t *cache_from;  /* array, borrowed, may be NULL */
    const char *network;
    long long shm_size; /* bytes, 0: default */
    const char *isolation;
    json_t *ulimits; /* [{"Name", "Soft", "Hard"}], borrowed, may be NULL */
    bool nocache;
    bool pull;
    bool quiet;
    bool forcerm;            /* remove intermediate containers even when a step fails */
    const char *auth_config; /* X-Registry-Config header value, or NULL */
};
/* POST /build with the context tar streamed from read_body (Content-Type application/x-tar).
 * Progress items ({"stream": ...}, {"aux": {"ID": ...}}) to on_progress; an item with "error"
 * fails the request with that message. result on success: {"ID": "sha256:..."} when the engine
 * reported the image ID, else NULL. */
struct engine_request *engine_image_build(struct engine_client *c,
                                          const struct engine_build_options *opts,
                                          engine_body_read_cb read_body, void *read_data,
                                          engine_json_item_cb on_progress, engine_cb cb, void *data,
                                          struct cc_error *reterr);

/* ---- Swarm -------------------------------------------------------------------------------- */

/* Swarm-mode calls answer only on a manager: elsewhere they fail with CC_ERR_SERVER (503) and the
 * engine's "This node is not a swarm manager..." in err->engine_message. Whether the engine is in
 * a swarm at all is engine_info()'s Swarm.LocalNodeState ("active", "inactive", ...). Overlay
 * networks are made with engine_network_create() ({"Driver": "overlay", "Attachable": ...}).
 * Bodies are the engine's own specs (ServiceSpec, SecretSpec, ConfigSpec), built by callers. */

/* GET /swarm. result: {"ID", "Version": {"Index"}, "Spec", "JoinTokens", ...}. */
struct engine_request *engine_swarm_inspect(struct engine_client *c, engine_cb cb, void *data,
                                            struct cc_error *reterr);

/* GET /services?filters=&status=. status: each service also carries "ServiceStatus"
 * ({"RunningTasks", "DesiredTasks"}). filters borrowed, may be NULL ({"label": [...],
 * "name": [...], "id": [...], "mode": [...]}). result: the array. */
struct engine_request *engine_service_list(struct engine_client *c, json_t *filters, bool status,
                                           engine_cb cb, void *data, struct cc_error *reterr);
/* POST /services/create. spec (a ServiceSpec) borrowed; auth the X-Registry-Auth value or NULL.
 * result: {"ID": ..., "Warnings": [...]}. A name in use fails with CC_ERR_CONFLICT. */
struct engine_request *engine_service_create(struct engine_client *c, json_t *spec,
                                             const char *auth, engine_cb cb, void *data,
                                             struct cc_error *reterr);
/* GET /services/{id or name}. result includes "ID", "Version": {"Index"}, "Spec",
 * "PreviousSpec", "UpdateStatus". */
struct engine_request *engine_service_inspect(struct engine_client *c, const char *id, engine_cb cb,
                                              void *data, struct cc_error *reterr);
/* POST /services/{id}/update?version=. spec replaces the service's whole spec (borrowed); version
 * is the Version.Index of the inspect it was based on: a stale one fails (CC_ERR_SERVER or
 * CC_ERR_BAD_REQUEST, "update out of sequence"). result: {"Warnings": [...]} or NULL. */
struct engine_request *engine_service_update(struct engine_client *c, const char *id,
                                             unsigned long long version, json_t *spec,
                                             const char *auth, engine_cb cb, void *data,
                                             struct cc_error *reterr);
/* DELETE /services/{id}. The service's tasks go afterwards, asynchronously. */
struct engine_request *engine_service_remove(struct engine_client *c, const char *id, engine_cb cb,
                                             void *data, struct cc_error *reterr);

/* GET /distribution/{image}/json: the registry's view of image, through the engine.
 * result: {"Descriptor": {"digest": "sha256:...", ...}, "Platforms": [...]}. auth as in
 * engine_image_pull. An image no registry answers for fails (CC_ERR_NOT_FOUND, CC_ERR_SERVER,
 * CC_ERR_FAILED...). */
struct engine_request *engine_distribution_inspect(struct engine_client *c, const char *image,
                                                   const char *auth, engine_cb cb, void *data,
                                                   struct cc_error *reterr);

/* GET /tasks?filters= ({"service": [...], "label": [...], "desired-state": ["running"], ...}).
 * result: the array; each task has "ServiceID", "Slot" (replicated), "NodeID", "DesiredState",
 * "Status": {"State", "Message", "Err", "ContainerStatus"}. */
struct engine_request *engine_task_list(struct engine_client *c, json_t *filters, engine_cb cb,
                                        void *data, struct cc_error *reterr);

/* Secrets and configs: GET /secrets?filters=, POST /secrets/create with {"Name", "Labels",
 * "Data": base64} (result {"ID"}), GET and DELETE /secrets/{id or name}; the same for configs.
 * Their data cannot change: a new content needs a new name. */
struct engine_request *engine_secret_list(struct engine_client *c, json_t *filters, engine_cb cb,
                                          void *data, struct cc_error *reterr);
struct engine_request *engine_secret_create(struct engine_client *c, json_t *spec, engine_cb cb,
                                            void *data, struct cc_error *reterr);
struct engine_request *engine_secret_inspect(struct engine_client *c, const char *id, engine_cb cb,
                                             void *data, struct cc_error *reterr);
struct engine_request *engine_secret_remove(struct engine_client *c, const char *id, engine_cb cb,
                                            void *data, struct cc_error *reterr);
struct engine_request *engine_config_list(struct engine_client *c, json_t *filters, engine_cb cb,
                                          void *data, struct cc_error *reterr);
struct engine_request *engine_config_create(struct engine_client *c, json_t *spec, engine_cb cb,
                                            void *data, struct cc_error *reterr);
struct engine_request *engine_config_inspect(struct engine_client *c, const char *id, engine_cb cb,
                                             void *data, struct cc_error *reterr);
struct engine_request *engine_config_remove(struct engine_client *c, const char *id, engine_cb cb,
                                            void *data, struct cc_error *reterr);

#endif
