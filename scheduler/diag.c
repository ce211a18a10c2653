/* Why a container failed, in words the user can act on without running `docker logs`: its state
 * and exit code, the output of its last health check (State.Health.Log), and the last lines of its
 * log. One inspect and one logs call through the operation's queue; the text is built here. */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "scheduler/op-internal.h"

#define DIAG_LOG_LINES    10  /* the log lines asked of the engine */
#define DIAG_HEALTH_LINES 5   /* the health check output's last lines kept */
#define DIAG_LINE_MAX     300 /* bytes of one line kept, the rest marked with "..." */

/* Appends s[0..len) as lines (the last max_lines of them, trailing blanks trimmed), each after
 * indent, control bytes but tab shown as '?', "\r" dropped. Returns how many lines it added. */
static size_t add_lines(struct buf *out, const char *s, size_t len, size_t max_lines,
                        const char *indent)
{
    while (len && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' '))
        len--;
    if (!len)
        return 0;
    size_t total = 1;
    for (size_t i = 0; i < len; i++)
        total += s[i] == '\n';
    size_t skip = total > max_lines ? total - max_lines : 0, start = 0;
    while (skip && start < len)
        skip -= s[start++] == '\n';
    size_t added = 0;
    for (size_t i = start; i < len;) {
        const char *nl = memchr(s + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - s) : len;
        size_t n = end - i;
        buf_adds(out, indent);
        size_t kept = n > DIAG_LINE_MAX ? DIAG_LINE_MAX : n;
        for (size_t k = 0; k < kept; k++) {
            unsigned char ch = (unsigned char)s[i + k];
            if (ch == '\r')
                continue;
            buf_addc(out, ch < 0x20 && ch != '\t' ? '?' : (char)ch);
        }
        if (kept < n)
            buf_adds(out, "...");
        buf_addc(out, '\n');
        added++;
        i = end + 1;
    }
    return added;
}

char *sched_diag_format(json_t *inspect, const char *logs, size_t logs_len)
{
    struct buf out = BUF_INIT;
    json_t *st = json_object_get(inspect, "State");
    const char *status = sched_json_str(st, "Status");
    const char *health = sched_json_str(json_object_get(st, "Health"), "Status");
    if (status) {
        buf_printf(&out, "state: %s", status);
        if (strcmp(status, "running") && strcmp(status, "paused") && strcmp(status, "restarting"))
            buf_printf(&out, ", exit code %lld",
                       (long long)json_integer_value(json_object_get(st, "ExitCode")));
        /* The engine keeps the last health status of a stopped container: meaningless then. */
        if (health && strcmp(health, "none") && !strcmp(status, "running"))
            buf_printf(&out, ", %s", health);
        if (json_is_true(json_object_get(st, "OOMKilled")))
            buf_adds(&out, ", killed: out of memory");
        const char *error = sched_json_str(st, "Error");
        if (error && *error)
            buf_printf(&out, ", error: %s", error);
        buf_addc(&out, '\n');
    }
    json_t *log = json_object_get(json_object_get(st, "Health"), "Log");
    json_t *last = json_array_get(log, json_array_size(log) ? json_array_size(log) - 1 : 0);
    if (last) {
        const char *output = sched_json_str(last, "Output");
        size_t olen = output ? strlen(output) : 0;
        while (olen && (output[olen - 1] == '\n' || output[olen - 1] == ' '))
            olen--;
        buf_printf(&out, "last health check: exit code %lld",
                   (long long)json_integer_value(json_object_get(last, "ExitCode")));
        if (olen && !memchr(output, '\n', olen) && olen <= DIAG_LINE_MAX) {
            buf_printf(&out, ": %.*s\n", (int)olen, output);
        } else if (olen) {
            buf_adds(&out, ", output:\n");
            add_lines(&out, output, olen, DIAG_HEALTH_LINES, "  ");
        } else {
            buf_adds(&out, ", no output\n");
        }
    }
    if (logs) {
        struct buf lines = BUF_INIT;
        if (add_lines(&lines, logs, logs_len, DIAG_LOG_LINES, "  ")) {
            buf_adds(&out, "last log lines:\n");
            buf_add(&out, lines.data, lines.len);
        } else {
            buf_adds(&out, "no log output\n");
        }
        buf_release(&lines);
    }
    if (out.len && out.data[out.len - 1] == '\n')
        out.data[--out.len] = '\0';
    return buf_detach(&out);
}

struct diag {
    struct sched_op *op;
    char *id;
    json_t *inspect;
    op_diag_cb cb;
    void *data;
};

static void diag_end(struct diag *d, const char *logs, size_t logs_len)
{
    struct sched_op *op = d->op;
    char *details = NULL;
    op->outstanding--;
    if (op->state != OP_DRAINING)
        details = sched_diag_format(d->inspect, logs, logs_len);
    op_diag_cb cb = d->cb;
    void *data = d->data;
    json_t *inspect = d->inspect;
    free(d->id);
    free(d);
    cb(op, details, details ? inspect : NULL, data);
    json_decref(inspect);
}

static void on_diag_logs(json_t *result, const struct cc_error *err, void *data)
{
    struct diag *d = data;
    if (err)
        log_debug("%s: %s: %s, ignoring", __func__, d->id, err->message);
    diag_end(d, json_string_value(result), json_string_length(result));
}

static void on_diag_inspect(json_t *result, const struct cc_error *err, void *data)
{
    struct diag *d = data;
    if (err) {
        log_debug("%s: %s: %s, ignoring", __func__, d->id, err->message);
    } else {
        d->inspect = json_incref(result);
    }
    if (d->op->state == OP_DRAINING || (err && err->kind == CC_ERR_NOT_FOUND)) {
        diag_end(d, NULL, 0);
        return;
    }
    bool tty = json_is_true(json_object_get(json_object_get(result, "Config"), "Tty"));
    sched_queue_call(d->op->q, SCHED_CALL_CONTAINER_LOGS, d->id, NULL, DIAG_LOG_LINES, tty,
                     on_diag_logs, d);
}

void op_diagnose(struct sched_op *op, const char *id, op_diag_cb cb, void *data)
{
    struct diag *d = xcalloc(1, sizeof(*d));
    d->op = op;
    d->id = xstrdup(id);
    d->cb = cb;
    d->data = data;
    op->outstanding++;
    sched_queue_call(op->q, SCHED_CALL_CONTAINER_INSPECT, id, NULL, 0, false, on_diag_inspect, d);
}
