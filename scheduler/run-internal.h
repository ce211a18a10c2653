/* Inside scheduler/: the bounded call queue every operation talks to the engine through, the
 * dependency graph, and small helpers shared by observe, plan, up and down. */
#ifndef CC_SCHEDULER_RUN_INTERNAL_H
#define CC_SCHEDULER_RUN_INTERNAL_H

#include "scheduler/scheduler.h"

#define SCHED_DEFAULT_PARALLEL 16

/* ---- The queue ------------------------------------------------------------------------------

 * A small queue in front of the engine client: at most `limit` calls in flight, the rest wait in
 * submission order. Callbacks always run from the loop (never from sched_queue_call), once. */

enum sched_call_kind {
    SCHED_CALL_CONTAINER_LIST = 0,
    SCHED_CALL_CONTAINER_INSPECT,
    SCHED_CALL_CONTAINER_CREATE,
    SCHED_CALL_CONTAINER_START,
    SCHED_CALL_CONTAINER_STOP,
    SCHED_CALL_CONTAINER_RESTART,
    SCHED_CALL_CONTAINER_REMOVE,
    SCHED_CALL_CONTAINER_RENAME, /* body: the new name as a JSON string */
    SCHED_CALL_NETWORK_LIST,
    SCHED_CALL_NETWORK_INSPECT,
    SCHED_CALL_NETWORK_CREATE,
    SCHED_CALL_NETWORK_CONNECT,
    SCHED_CALL_NETWORK_REMOVE,
    SCHED_CALL_VOLUME_LIST,
    SCHED_CALL_VOLUME_INSPECT,
    SCHED_CALL_VOLUME_CREATE,
    SCHED_CALL_VOLUME_REMOVE,
    SCHED_CALL_IMAGE_INSPECT,
    /* PUT /containers/{id}/archive at "/": queued with sched_queue_put_archive() only. */
    SCHED_CALL_CONTAINER_ARCHIVE_PUT,
    SCHED_CALL_CONTAINER_LOGS, /* the last timeout_s lines (flag: the container has a TTY); the
                                * result is a JSON string of the output, stdout and stderr
                                * interleaved, not checked for UTF-8 (read it as bytes) */
    /* Exec (hooks): CREATE's id is the container, body the exec config; START's id the exec,
     * run attached to its end, the result its output as CONTAINER_LOGS's; INSPECT's id the exec,
     * the result with "ExitCode". */
    SCHED_CALL_EXEC_CREATE,
    SCHED_CALL_EXEC_START,
    SCHED_CALL_EXEC_INSPECT,
    /* Swarm (stack): lists take their filters as body; SERVICE_LIST's flag asks for task counts;
     * SERVICE_UPDATE's body is {"Version": index, "Spec": spec}. */
    SCHED_CALL_INFO,
    SCHED_CALL_DISTRIBUTION_INSPECT,
    SCHED_CALL_SERVICE_LIST,
    SCHED_CALL_SERVICE_CREATE,
    SCHED_CALL_SERVICE_UPDATE,
    SCHED_CALL_SERVICE_REMOVE,
    SCHED_CALL_TASK_LIST,
    SCHED_CALL_SECRET_LIST,
    SCHED_CALL_SECRET_CREATE,
    SCHED_CALL_SECRET_REMOVE,
    SCHED_CALL_CONFIG_LIST,
    SCHED_CALL_CONFIG_CREATE,
    SCHED_CALL_CONFIG_REMOVE,
};

struct sched_queue;

/* new; free with sched_queue_free() once nothing is in flight (its timer closes on the loop). */
struct sched_queue *sched_queue_new(uv_loop_t *loop, struct engine_client *c, int limit);
void sched_queue_free(struct sched_queue *q);
/* Queues a call. id: container/network/volume/image id or name (copied; the create name for
 * CONTAINER_CREATE); body: *steals* (lists: the filters); timeout_s: stop/restart; flag: list all,
 * remove force. */
void sched_queue_call(struct sched_queue *q, enum sched_call_kind kind, const char *id,
                      json_t *body, int timeout_s, bool flag, engine_cb cb, void *data);
/* Queues the tar stream tar (*steals* its bytes, wiped once sent) to be extracted at "/" in
 * container id; keep_owner sends copyUIDGID. */
void sched_queue_put_archive(struct sched_queue *q, const char *id, struct buf *tar,
                             bool keep_owner, engine_cb cb, void *data);
/* Cancels everything queued or in flight: each callback then runs with CC_ERR_CANCELLED. */
void sched_queue_cancel_all(struct sched_queue *q);

/* ---- The dependency graph ------------------------------------------------------------------ */

struct sched_dep {
    size_t service; /* index in the project's services */
    enum compose_condition condition;
    bool required;
    bool restart;
};

struct sched_graph {
    size_t n;                /* the project's services */
    struct sched_dep **deps; /* deps[i]: what service i needs (defined services only) */
    size_t *n_deps;
};

/* Builds the graph of project: depends_on, links, volumes_from and network_mode/ipc/pid
 * `service:X`. Fails (CC_ERR_INVALID_CONFIG) on a cycle ("dependency cycle: a -> b -> a") or a
 * required dependency that is not defined; optional undefined ones are appended to warnings
 * (new strings, *n_warnings grows). *ret_graph is new. */
int sched_graph_build(const struct compose_project *p, struct sched_graph **ret_graph,
                      char ***warnings, size_t *n_warnings, struct cc_error *reterr);
void sched_graph_free(struct sched_graph *g);

/* ---- Observing on a queue ------------------------------------------------------------------ */

/* sched_observe() on a caller's queue: cb once, from the loop; the handle lives until then. */
struct sched_observe *sched_observe_on(struct sched_queue *q, const char *project_name,
                                       const struct compose_project *model, sched_observe_cb cb,
                                       void *data);

/* ---- Helpers ------------------------------------------------------------------------------- */

/* {"label": ["com.docker.compose.project=NAME"]} (new), plus {"type": [type]} when type. */
json_t *sched_project_filters(const char *project, const char *type);
/* An engine timestamp ("2006-01-02T15:04:05.999999999Z07:00") in nanoseconds since the epoch;
 * 0 when it cannot be read. */
long long sched_time_ns(const char *rfc3339);
/* The string of key in an object, or NULL; borrowed. */
const char *sched_json_str(json_t *o, const char *key);
void sched_strv_push(char ***v, size_t *n, char *s); /* steals s */

/* Why a container failed, as lines (new, no final newline): "state: exited, exit code 3" (with
 * its health, out-of-memory kill and engine error when there are), "last health check: exit code
 * 1: OUTPUT" from the last State.Health.Log entry, and "last log lines:" with the last lines of
 * logs indented (or "no log output"; nothing when logs is NULL). inspect is the container's
 * inspect (borrowed, may be NULL); logs are bytes, not NUL-terminated. */
char *sched_diag_format(json_t *inspect, const char *logs, size_t logs_len);

#endif
