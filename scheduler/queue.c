/* The bounded call queue: one limit on engine calls in flight for a whole operation, whatever the
 * kind of call. Submissions and completions only start a 0 ms timer; the timer sends what the
 * limit allows, so callbacks never run from inside sched_queue_call(). */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "scheduler/images.h"
#include "scheduler/run-internal.h"

enum qcall_state { QCALL_PENDING = 0, QCALL_IN_FLIGHT, QCALL_CANCELLED };

struct qcall {
    struct sched_queue *q;
    enum qcall_state state;
    enum sched_call_kind kind;
    char *id;
    json_t *body;
    int timeout_s;
    bool flag;
    engine_cb cb;
    void *data;
    struct engine_request *req;
    struct buf out;                   /* logs: the output so far */
    struct buf bytes;                 /* ARCHIVE_PUT: the tar stream, secrets in it */
    struct sched_bytes_reader reader; /* over bytes */
    struct qcall *prev, *next;
};

struct sched_queue {
    uv_timer_t kick;
    struct engine_client *c;
    int limit;
    int in_flight;
    struct qcall *head, *tail; /* pending and in flight, in submission order */
};

static void qcall_unlink(struct qcall *qc)
{
    struct sched_queue *q = qc->q;
    if (qc->prev)
        qc->prev->next = qc->next;
    else
        q->head = qc->next;
    if (qc->next)
        qc->next->prev = qc->prev;
    else
        q->tail = qc->prev;
}

static void qcall_free(struct qcall *qc)
{
    buf_release(&qc->out);
    sched_bytes_wipe(&qc->bytes);
    free(qc->id);
    json_decref(qc->body);
    free(qc);
}

static void on_kick(uv_timer_t *t);

static void kick(struct sched_queue *q)
{
    uv_timer_start(&q->kick, on_kick, 0, 0);
}

static void on_call_done(json_t *result, const struct cc_error *err, void *data)
{
    struct qcall *qc = data;
    struct sched_queue *q = qc->q;
    q->in_flight--;
    qcall_unlink(qc);
    qc->cb(result, err, qc->data);
    qcall_free(qc);
    kick(q);
}

static void on_logs_output(enum engine_stream_fd fd, const char *buf, size_t len, void *data)
{
    (void)fd;
    struct qcall *qc = data;
    buf_add(&qc->out, buf, len);
}

/* The swarm calls that may carry registry credentials (flag set: `stack deploy
 * --with-registry-auth`): X-Registry-Auth for the image's registry, from the docker config, as
 * docker sends it, so that the engine resolves the digest and every node pulls with them. */
static struct engine_request *with_auth(struct engine_client *c, struct qcall *qc, const char *id,
                                        struct cc_error *err)
{
    json_t *spec =
        qc->kind == SCHED_CALL_SERVICE_UPDATE ? json_object_get(qc->body, "Spec") : qc->body;
    const char *image =
        qc->kind == SCHED_CALL_DISTRIBUTION_INSPECT
            ? id
            : json_string_value(json_object_get(
                  json_object_get(json_object_get(spec, "TaskTemplate"), "ContainerSpec"),
                  "Image"));
    char *auth = qc->flag && image ? sched_registry_auth(image) : NULL;
    struct engine_request *req;
    if (qc->kind == SCHED_CALL_DISTRIBUTION_INSPECT)
        req = engine_distribution_inspect(c, id, auth, on_call_done, qc, err);
    else if (qc->kind == SCHED_CALL_SERVICE_CREATE)
        req = engine_service_create(c, spec, auth, on_call_done, qc, err);
    else
        req = engine_service_update(
            c, id, (unsigned long long)json_integer_value(json_object_get(qc->body, "Version")),
            spec, auth, on_call_done, qc, err);
    free(auth);
    return req;
}

/* The output, not UTF-8 checked: logs are bytes, and callers only read them back. */
static void on_logs_done(json_t *result, const struct cc_error *err, void *data)
{
    (void)result;
    struct qcall *qc = data;
    json_t *out = err ? NULL : json_stringn_nocheck(qc->out.data ? qc->out.data : "", qc->out.len);
    on_call_done(out, err, qc);
    json_decref(out);
}

static struct engine_request *submit_logs(struct engine_client *c, struct qcall *qc,
                                          struct cc_error *err)
{
    char tail[24];
    snprintf(tail, sizeof(tail), "%d", qc->timeout_s);
    struct engine_logs_options o = {.tail = tail, .tty = qc->flag};
    return engine_container_logs(c, qc->id, &o, on_logs_output, on_logs_done, qc, err);
}

static struct engine_request *submit(struct engine_client *c, struct qcall *qc,
                                     struct cc_error *err)
{
    const char *id = qc->id;
    switch (qc->kind) {
    case SCHED_CALL_CONTAINER_LIST:
        return engine_container_list(c, qc->flag, qc->body, on_call_done, qc, err);
    case SCHED_CALL_CONTAINER_INSPECT:
        return engine_container_inspect(c, id, on_call_done, qc, err);
    case SCHED_CALL_CONTAINER_CREATE:
        return engine_container_create(c, id, qc->body, on_call_done, qc, err);
    case SCHED_CALL_CONTAINER_START:
        return engine_container_start(c, id, on_call_done, qc, err);
    case SCHED_CALL_CONTAINER_STOP:
        return engine_container_stop(c, id, qc->timeout_s, on_call_done, qc, err);
    case SCHED_CALL_CONTAINER_RESTART:
        return engine_container_restart(c, id, qc->timeout_s, on_call_done, qc, err);
    case SCHED_CALL_CONTAINER_REMOVE:
        return engine_container_remove(c, id, qc->flag, false, on_call_done, qc, err);
    case SCHED_CALL_CONTAINER_RENAME:
        return engine_container_rename(c, id, json_string_value(qc->body), on_call_done, qc, err);
    case SCHED_CALL_NETWORK_LIST:
        return engine_network_list(c, qc->body, on_call_done, qc, err);
    case SCHED_CALL_NETWORK_INSPECT:
        return engine_network_inspect(c, id, on_call_done, qc, err);
    case SCHED_CALL_NETWORK_CREATE:
        return engine_network_create(c, qc->body, on_call_done, qc, err);
    case SCHED_CALL_NETWORK_CONNECT:
        return engine_network_connect(c, id, qc->body, on_call_done, qc, err);
    case SCHED_CALL_NETWORK_REMOVE:
        return engine_network_remove(c, id, on_call_done, qc, err);
    case SCHED_CALL_VOLUME_LIST:
        return engine_volume_list(c, qc->body, on_call_done, qc, err);
    case SCHED_CALL_VOLUME_INSPECT:
        return engine_volume_inspect(c, id, on_call_done, qc, err);
    case SCHED_CALL_VOLUME_CREATE:
        return engine_volume_create(c, qc->body, on_call_done, qc, err);
    case SCHED_CALL_VOLUME_REMOVE:
        return engine_volume_remove(c, id, qc->flag, on_call_done, qc, err);
    case SCHED_CALL_IMAGE_INSPECT:
        return engine_image_inspect(c, id, on_call_done, qc, err);
    case SCHED_CALL_CONTAINER_ARCHIVE_PUT:
        qc->reader = (struct sched_bytes_reader){.data = qc->bytes.data, .len = qc->bytes.len};
        return engine_container_archive_put(c, id, "/", qc->flag, sched_bytes_read, &qc->reader,
                                            on_call_done, qc, err);
    case SCHED_CALL_CONTAINER_LOGS:
        return submit_logs(c, qc, err);
    case SCHED_CALL_EXEC_CREATE:
        return engine_exec_create(c, id, qc->body, on_call_done, qc, err);
    case SCHED_CALL_EXEC_START:
        return engine_exec_start(c, id, false, false, on_logs_output, on_logs_done, qc, err);
    case SCHED_CALL_EXEC_INSPECT:
        return engine_exec_inspect(c, id, on_call_done, qc, err);
    case SCHED_CALL_INFO:
        return engine_info(c, on_call_done, qc, err);
    case SCHED_CALL_DISTRIBUTION_INSPECT:
        return with_auth(c, qc, id, err);
    case SCHED_CALL_SERVICE_LIST:
        return engine_service_list(c, qc->body, qc->flag, on_call_done, qc, err);
    case SCHED_CALL_SERVICE_CREATE:
    case SCHED_CALL_SERVICE_UPDATE:
        return with_auth(c, qc, id, err);
    case SCHED_CALL_SERVICE_REMOVE:
        return engine_service_remove(c, id, on_call_done, qc, err);
    case SCHED_CALL_TASK_LIST:
        return engine_task_list(c, qc->body, on_call_done, qc, err);
    case SCHED_CALL_SECRET_LIST:
        return engine_secret_list(c, qc->body, on_call_done, qc, err);
    case SCHED_CALL_SECRET_CREATE:
        return engine_secret_create(c, qc->body, on_call_done, qc, err);
    case SCHED_CALL_SECRET_REMOVE:
        return engine_secret_remove(c, id, on_call_done, qc, err);
    case SCHED_CALL_CONFIG_LIST:
        return engine_config_list(c, qc->body, on_call_done, qc, err);
    case SCHED_CALL_CONFIG_CREATE:
        return engine_config_create(c, qc->body, on_call_done, qc, err);
    case SCHED_CALL_CONFIG_REMOVE:
        return engine_config_remove(c, id, on_call_done, qc, err);
    }
    return NULL;
}

/* Fails a call that never reached the engine (cancelled while queued, or refused). */
static void fail_now(struct qcall *qc, const struct cc_error *err)
{
    qcall_unlink(qc);
    qc->cb(NULL, err, qc->data);
    qcall_free(qc);
}

static void on_kick(uv_timer_t *t)
{
    struct sched_queue *q = t->data;
    struct qcall *qc = q->head;
    while (qc) {
        struct qcall *next = qc->next;
        struct cc_error err = CC_ERROR_INIT;
        if (qc->state == QCALL_CANCELLED) {
            cc_error_set(&err, CC_ERR_CANCELLED, "cancelled");
            fail_now(qc, &err);
        } else if (qc->state == QCALL_PENDING && q->in_flight < q->limit) {
            qc->req = submit(q->c, qc, &err);
            if (qc->req) {
                qc->state = QCALL_IN_FLIGHT;
                q->in_flight++;
            } else {
                fail_now(qc, &err);
            }
        }
        cc_error_release(&err);
        qc = next;
    }
    log_debug("%s: %d in flight", __func__, q->in_flight);
}

struct sched_queue *sched_queue_new(uv_loop_t *loop, struct engine_client *c, int limit)
{
    struct sched_queue *q = xcalloc(1, sizeof(*q));
    uv_timer_init(loop, &q->kick);
    q->kick.data = q;
    q->c = c;
    q->limit = limit > 0 ? limit : SCHED_DEFAULT_PARALLEL;
    return q;
}

static void on_queue_closed(uv_handle_t *h)
{
    free(h->data);
}

void sched_queue_free(struct sched_queue *q)
{
    if (!q)
        return;
    assert(q->head == NULL);
    uv_close((uv_handle_t *)&q->kick, on_queue_closed);
}

static struct qcall *enqueue(struct sched_queue *q, enum sched_call_kind kind, const char *id,
                             engine_cb cb, void *data)
{
    struct qcall *qc = xcalloc(1, sizeof(*qc));
    qc->q = q;
    qc->kind = kind;
    qc->id = id ? xstrdup(id) : NULL;
    qc->cb = cb;
    qc->data = data;
    qc->prev = q->tail;
    if (q->tail)
        q->tail->next = qc;
    else
        q->head = qc;
    q->tail = qc;
    kick(q);
    return qc;
}

void sched_queue_call(struct sched_queue *q, enum sched_call_kind kind, const char *id,
                      json_t *body, int timeout_s, bool flag, engine_cb cb, void *data)
{
    struct qcall *qc = enqueue(q, kind, id, cb, data);
    qc->body = body;
    qc->timeout_s = timeout_s;
    qc->flag = flag;
}

void sched_queue_put_archive(struct sched_queue *q, const char *id, struct buf *tar,
                             bool keep_owner, engine_cb cb, void *data)
{
    struct qcall *qc = enqueue(q, SCHED_CALL_CONTAINER_ARCHIVE_PUT, id, cb, data);
    qc->bytes = *tar;
    *tar = (struct buf)BUF_INIT;
    qc->flag = keep_owner;
}

void sched_queue_cancel_all(struct sched_queue *q)
{
    for (struct qcall *qc = q->head; qc; qc = qc->next) {
        if (qc->state == QCALL_PENDING)
            qc->state = QCALL_CANCELLED;
        else if (qc->state == QCALL_IN_FLIGHT)
            engine_request_cancel(qc->req);
    }
    kick(q);
}
