/* A service's post_start or pre_stop hooks run in one container, one after the other, as docker
 * compose v2 runs them: each an exec (command, user, privileged, working_dir, environment)
 * started attached to its end, then inspected for its exit code; a non-zero code fails the
 * hooks with the exec's output in the message. Every call goes through the op's queue. */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "scheduler/body.h"
#include "scheduler/hooks.h"
#include "scheduler/scheduler-internal.h"

enum hook_step { HOOK_CREATE = 0, HOOK_START, HOOK_INSPECT };

struct sched_hooks {
    struct sched_op *op;
    char *container_id;
    char *container_name;
    const char *which; /* "post_start" or "pre_stop" */
    const struct compose_hook *hooks;
    size_t n, next;
    enum hook_step step;
    char *exec_id;
    char *output;
    sched_hooks_cb cb;
    void *data;
};

static void hooks_free(struct sched_hooks *h)
{
    free(h->container_id);
    free(h->container_name);
    free(h->exec_id);
    free(h->output);
    free(h);
}

/* Calls the callback once and frees; the caller's callback ends with op_check(). */
static void hooks_finish(struct sched_hooks *h, const struct cc_error *err)
{
    sched_hooks_cb cb = h->cb;
    void *data = h->data;
    struct sched_op *op = h->op;
    hooks_free(h);
    cb(op, err, data);
}

static void hooks_step(struct sched_hooks *h);

static void on_hook_answer(json_t *result, const struct cc_error *err, void *data)
{
    struct sched_hooks *h = data;
    h->op->outstanding--;
    if (h->op->state == OP_DRAINING || err) {
        struct cc_error cancelled = CC_ERROR_INIT;
        if (!err)
            cc_error_set(&cancelled, CC_ERR_CANCELLED, "cancelled");
        hooks_finish(h, err ? err : &cancelled);
        cc_error_release(&cancelled);
        return;
    }
    switch (h->step) {
    case HOOK_CREATE:
        free(h->exec_id);
        h->exec_id = xstrdup(sched_json_str(result, "Id"));
        h->step = HOOK_START;
        break;
    case HOOK_START:
        free(h->output);
        h->output = xstrdup(json_string_value(result) ? json_string_value(result) : "");
        h->step = HOOK_INSPECT;
        break;
    case HOOK_INSPECT: {
        json_int_t code = json_integer_value(json_object_get(result, "ExitCode"));
        if (code != 0) {
            struct cc_error e = CC_ERROR_INIT;
            size_t len = strlen(h->output);
            while (len && (h->output[len - 1] == '\n' || h->output[len - 1] == '\r'))
                h->output[--len] = '\0';
            cc_error_set(&e, CC_ERR_FAILED, "%s hook %zu of container '%s' exited with code %lld%s%s",
                         h->which, h->next + 1, h->container_name, (long long)code,
                         len ? ": " : "", h->output);
            const struct compose_pos *pos = &h->hooks[h->next].pos;
            if (pos->file)
                cc_error_where(&e, pos->file, pos->line, pos->col);
            cc_error_hint(&e, "fix the hook's command, or remove it from %s", h->which);
            hooks_finish(h, &e);
            cc_error_release(&e);
            return;
        }
        h->next++;
        h->step = HOOK_CREATE;
        break;
    }
    }
    hooks_step(h);
}

static void hooks_step(struct sched_hooks *h)
{
    if (h->next == h->n) {
        hooks_finish(h, NULL);
        return;
    }
    const struct compose_hook *hk = &h->hooks[h->next];
    switch (h->step) {
    case HOOK_CREATE: {
        json_t *body = json_pack("{s:o, s:b, s:b, s:b}", "Cmd", sched_json_strv(&hk->command),
                                 "AttachStdout", 1, "AttachStderr", 1, "Privileged",
                                 hk->privileged);
        sched_json_put_str(body, "User", hk->user);
        sched_json_put_str(body, "WorkingDir", hk->working_dir);
        if (hk->environment.n)
            json_object_set_new(body, "Env", sched_json_env(&hk->environment));
        log_debug("%s: %s hook %zu in '%s'", __func__, h->which, h->next + 1, h->container_name);
        op_call(h->op, SCHED_CALL_EXEC_CREATE, h->container_id, body, 0, false, on_hook_answer,
                h);
        break;
    }
    case HOOK_START:
        op_call(h->op, SCHED_CALL_EXEC_START, h->exec_id, NULL, 0, false, on_hook_answer, h);
        break;
    case HOOK_INSPECT:
        op_call(h->op, SCHED_CALL_EXEC_INSPECT, h->exec_id, NULL, 0, false, on_hook_answer, h);
        break;
    }
}

void sched_hooks_run(struct sched_op *op, const char *container_id, const char *container_name,
                     const char *which, const struct compose_hook *hooks, size_t n,
                     sched_hooks_cb cb, void *data)
{
    struct sched_hooks *h = xcalloc(1, sizeof(*h));
    h->op = op;
    h->container_id = xstrdup(container_id);
    h->container_name = xstrdup(container_name ? container_name : container_id);
    h->which = which;
    h->hooks = hooks;
    h->n = n;
    h->cb = cb;
    h->data = data;
    hooks_step(h);
}
