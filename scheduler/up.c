/* Up: subscribe, observe, plan, then run the plan on the loop.
 *
 * Networks and volumes first (all at once); then scale-down and orphan removals, and each service
 * as soon as every dependency meets its condition: started (its containers started), healthy
 * (every container's health_status healthy), completed successfully (every container died with
 * exit code 0). Conditions move on the project's container events (subscribed before observing)
 * and on one inspect of each awaited container right after it started. Everything ready runs at
 * once; the queue bounds the calls in flight.
 *
 * A container task walks: create -> connect the other networks -> [stop old -> remove old ->
 * rename (recreate)] -> start -> started, or start / restart -> started, or kept as it is. As
 * docker compose v2 does, a recreate creates the new container under a temporary name
 * ("<old id's first 12>_<name>") first, then stops and removes the old one and gives the new one
 * its name: a create the engine refuses leaves the old container running. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "scheduler/hooks.h"
#include "scheduler/op-internal.h"
#include "scheduler/scheduler-internal.h"

enum ctr_state {
    CTR_BLOCKED = 0,
    CTR_CREATING,
    CTR_ADOPTING,       /* the name was taken meanwhile: looking at who took it */
    CTR_REMOVING_STALE, /* a container the engine cannot start any more, removed to be made anew */
    CTR_INJECTING,      /* created; secrets and configs that are copied go in */
    CTR_CONNECTING,
    CTR_STOPPING_OLD, /* recreate: the new container exists under its temporary name */
    CTR_REMOVING_OLD,
    CTR_RENAMING,
    CTR_STARTING,
    CTR_HOOKING, /* started; its post_start hooks run */
    CTR_STARTED,
    CTR_STOPPING, /* scale down, orphan */
    CTR_REMOVING,
    CTR_DONE, /* removed, or an orphan left alone */
    CTR_FAILED,
};

enum health { HEALTH_NONE = 0, HEALTH_STARTING, HEALTH_HEALTHY, HEALTH_UNHEALTHY };

/* A failure is reported once the container has been looked at (diag.c), so the message says why. */
enum diag { DIAG_NONE = 0, DIAG_RUNNING, DIAG_DONE };

struct ctr {
    struct up *up;
    size_t action; /* index in the plan */
    size_t service;
    enum ctr_state state;
    char *id;
    size_t next_network; /* the next network to connect before start */
    struct buf inject;   /* the secrets and configs to copy in after create (sched_inject_tar) */
    bool exited;
    int exit_code;
    enum health health;
    enum diag diag;
    int exits;                 /* die events seen */
    int diag_exits;            /* exits when the look started: a later exit makes it stale */
    char *details;             /* sched_diag_format() of the container, once DIAG_DONE */
    char *hash;                /* the config-hash label of the container being created */
    int retries;               /* calls made again (ctr_retry_ambiguous) */
    bool stale_removed;        /* removed once to be made anew (CTR_REMOVING_STALE) */
    int adoptions;             /* name conflicts looked into (bounded: a name taken and freed
                                * again and again is a conflict) */
    struct cc_error start_err; /* a start the engine refused, failed once diagnosed */
    bool replaced;             /* recreate: the old container is gone, the new one renamed */
};

enum svc_state { SVC_IDLE = 0, SVC_BLOCKED, SVC_RUNNING, SVC_STARTED, SVC_FAILED };

struct svc {
    enum svc_state state;
    bool awaited; /* some dependent waits for health or completion, or --wait */
    bool needs_completion;
    char *failure; /* why it failed, for its dependents */
    char *waiting_for;
    bool *warned; /* per dependency: the optional-failure warning was given */
};

struct up {
    struct sched_op *op;
    const struct compose_project *p;
    struct sched_up_options opts;
    struct sched_plan *plan;
    struct ctr *ctrs; /* one per container action of the plan */
    size_t n_ctrs;
    struct svc *svcs;
    size_t n_svcs; /* the project's services, for up_release() */
    int resources_pending;
    void (*on_plan)(const struct sched_plan *plan, void *data);
    /* --wait failed or ran out of time: every container that is not ready is being looked at for
     * the report, and what is seen is kept even when it is not a failure. */
    bool reporting;
    bool timed_out;
    char **dup_networks; /* names observed on more than one of the project's networks */
    size_t n_dup_networks;
};

static bool strv_has(char **v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i], s))
            return true;
    return false;
}

static void pump(struct up *up);

static void ctr_set_state(struct ctr *t, enum ctr_state state)
{
    log_debug("%s: %s: %d -> %d", __func__, t->up->plan->actions[t->action].name, t->state, state);
    t->state = state;
}

static const struct sched_action *ctr_action(const struct ctr *t)
{
    return &t->up->plan->actions[t->action];
}

static const struct compose_service *ctr_service(const struct ctr *t)
{
    return &t->up->p->services[t->service];
}

static void ctr_report(struct ctr *t, enum sched_state state, const char *text)
{
    const struct sched_action *a = ctr_action(t);
    op_report(t->up->op, SCHED_RES_CONTAINER, a->name, a->service, state, text ? "%s" : NULL, text);
}

static bool has_healthcheck(const struct compose_service *s)
{
    return s->healthcheck.set && !s->healthcheck.disable;
}

/* "\n" and the container's details, or "" when there are none; borrowed from t. */
static const char *ctr_details(const struct ctr *t)
{
    return t->details && *t->details ? t->details : "";
}

/* Fails a container task and its service; the op goes on for what does not depend on it. */
static void ctr_fail(struct ctr *t, const struct cc_error *err)
{
    struct up *up = t->up;
    const struct sched_action *a = ctr_action(t);
    const char *details = ctr_details(t), *sep = *details ? "\n" : "";
    /* The engine's refusal is usually the container's State.Error too: say it once. */
    char *said = err->message ? xasprintf(", error: %s", err->message) : NULL;
    char *twice = said ? strstr(t->details ? t->details : "", said) : NULL;
    if (twice && (twice[strlen(said)] == '\n' || !twice[strlen(said)]))
        memmove(twice, twice + strlen(said), strlen(twice + strlen(said)) + 1);
    free(said);
    ctr_set_state(t, CTR_FAILED);
    char *msg =
        xasprintf("%s: %s%s%s", a->name, err->message ? err->message : "failed", sep, details);
    ctr_report(t, SCHED_ERROR, msg + strlen(a->name) + 2);
    if (a->kind != SCHED_ACT_SCALE_DOWN && a->kind != SCHED_ACT_ORPHAN) {
        struct svc *sv = &up->svcs[t->service];
        if (sv->state != SVC_FAILED) {
            sv->state = SVC_FAILED;
            free(sv->failure);
            sv->failure = xasprintf("container '%s' failed to start: %s%s%s", a->name,
                                    err->message ? err->message : "failed", sep, details);
        }
    }
    if (up->op->err.kind == CC_ERR_NONE) {
        cc_error_copy(&up->op->err, err);
        free(up->op->err.message);
        up->op->err.message = msg;
        msg = NULL;
    }
    free(msg);
}

/* Whether the container's restart policy brings it back from the exit its inspect shows: the
 * engine says so (State.Restarting, or running again), or the policy would. Podman 4.3 has no
 * restarting state: the container shows "exited" until its cleanup process starts it again a
 * moment later. on-failure stops bringing it back after MaximumRetryCount restarts (0: never). */
static bool restarted_by_policy(json_t *inspect)
{
    json_t *st = json_object_get(inspect, "State");
    if (json_is_true(json_object_get(st, "Restarting")) ||
        json_is_true(json_object_get(st, "Running")))
        return true;
    json_t *rp = json_object_get(json_object_get(inspect, "HostConfig"), "RestartPolicy");
    const char *name = json_string_value(json_object_get(rp, "Name"));
    if (!name)
        return false;
    if (!strcmp(name, "always") || !strcmp(name, "unless-stopped"))
        return true;
    json_int_t max = json_integer_value(json_object_get(rp, "MaximumRetryCount"));
    json_int_t count = json_integer_value(json_object_get(inspect, "RestartCount"));
    return !strcmp(name, "on-failure") && json_integer_value(json_object_get(st, "ExitCode")) &&
           (max <= 0 || count < max);
}

static void on_diagnosed(struct sched_op *op, char *details, json_t *inspect, void *data)
{
    struct ctr *t = data;
    if (!details)
        goto out;
    t->diag = DIAG_DONE;
    free(t->details);
    t->details = details;
    if (t->start_err.kind != CC_ERR_NONE) {
        struct cc_error err = CC_ERROR_INIT;
        cc_error_move(&err, &t->start_err);
        ctr_fail(t, &err);
        cc_error_release(&err);
        goto pump;
    }
    if (t->exits != t->diag_exits) {
        /* It exited again while being looked at: what was seen is stale; look again. */
        t->diag = DIAG_NONE;
        free(t->details);
        t->details = NULL;
        goto pump;
    }
    json_t *st = json_object_get(inspect, "State");
    const char *status = sched_json_str(st, "Status");
    int code = (int)json_integer_value(json_object_get(st, "ExitCode"));
    if (t->exited && status && (!strcmp(status, "exited") || !strcmp(status, "stopped")) &&
        code != t->exit_code) {
        /* The look is newer than every event handled: the container ran again since the exit
         * looked at and ended otherwise (on-failure: its last run succeeded). Seen on Podman,
         * whose events come late and in batches. */
        char text[48];
        snprintf(text, sizeof(text), "exited with code %d", code);
        t->exit_code = code;
        ctr_report(t, SCHED_EXITED, text);
    }
    if (t->exited && restarted_by_policy(inspect)) {
        /* Its restart policy brings it back: not a failure yet (docker compose sees it
         * "restarting", not "exited", too). Its next start and exit come as events. */
        char text[64];
        snprintf(text, sizeof(text), "exited with code %d, restarted by its restart policy",
                 t->exit_code);
        t->exited = false;
        ctr_report(t, SCHED_RESTARTING, text);
    }
    if (!t->exited && t->health != HEALTH_UNHEALTHY && !t->up->reporting) {
        /* The failure went away while being looked at: the next one is looked at afresh. */
        t->diag = DIAG_NONE;
        free(t->details);
        t->details = NULL;
    }
pump:
    pump(t->up);
out:
    op_check(op);
}

/* Whether t's failure has been looked at; starts looking when it has not. A failure waits for
 * this (a few milliseconds) so that its message can say why. */
static bool ctr_diagnosed(struct ctr *t)
{
    if (t->diag == DIAG_NONE && t->id) {
        t->diag = DIAG_RUNNING;
        t->diag_exits = t->exits;
        op_diagnose(t->up->op, t->id, on_diagnosed, t);
    }
    return t->diag == DIAG_DONE || !t->id;
}

static struct ctr *ctr_by_id(struct up *up, const char *id)
{
    for (size_t i = 0; id && i < up->n_ctrs; i++)
        if (up->ctrs[i].id && !strcmp(up->ctrs[i].id, id))
            return &up->ctrs[i];
    return NULL;
}

static void set_health(struct ctr *t, const char *status)
{
    enum health h = !status                        ? HEALTH_NONE
                    : !strcmp(status, "healthy")   ? HEALTH_HEALTHY
                    : !strcmp(status, "unhealthy") ? HEALTH_UNHEALTHY
                                                   : HEALTH_STARTING;
    if (h == t->health)
        return;
    t->health = h;
    if (h == HEALTH_HEALTHY)
        ctr_report(t, SCHED_HEALTHY, NULL);
    else if (h == HEALTH_UNHEALTHY)
        ctr_report(t, SCHED_ERROR, "unhealthy");
}

static void set_exited(struct ctr *t, int code)
{
    if (t->exited)
        return;
    t->exited = true;
    t->exits++;
    t->exit_code = code;
    char text[48];
    snprintf(text, sizeof(text), "exited with code %d", code);
    ctr_report(t, SCHED_EXITED, text);
}

/* ---- Events and the one inspect ------------------------------------------------------------ */

static void on_container_event(struct sched_op *op, json_t *ev)
{
    struct up *up = op->impl;
    const char *action = sched_json_str(ev, "Action");
    struct ctr *t = ctr_by_id(up, sched_json_str(ev, "id"));
    /* Only the containers this run started are tracked; our own stops are not exits. */
    if (!t || !action || t->state != CTR_STARTED)
        return;
    if (!strcmp(action, "start")) {
        t->exited = false;
        t->health = HEALTH_NONE;
        /* A restart: a later failure is looked at afresh. */
        if (t->diag == DIAG_DONE) {
            t->diag = DIAG_NONE;
            free(t->details);
            t->details = NULL;
        }
    } else if (!strcmp(action, "die")) {
        const char *code =
            sched_json_str(json_object_get(json_object_get(ev, "Actor"), "Attributes"), "exitCode");
        set_exited(t, code ? atoi(code) : -1);
    } else if (!strncmp(action, "health_status: ", 15)) {
        set_health(t, action + 15);
    }
    pump(up);
}

static void on_inspected(json_t *result, const struct cc_error *err, void *data)
{
    struct ctr *t = data;
    struct up *up = t->up;
    struct sched_op *op = up->op;
    op->outstanding--;
    if (!err && op->state != OP_DRAINING) {
        json_t *st = json_object_get(result, "State");
        set_health(t, sched_json_str(json_object_get(st, "Health"), "Status"));
        op_health_watch(op, t->id, result);
        const char *status = sched_json_str(st, "Status");
        if (status && (!strcmp(status, "exited") || !strcmp(status, "dead")))
            set_exited(t, (int)json_integer_value(json_object_get(st, "ExitCode")));
        pump(up);
    }
    op_check(op);
}

/* t is where the plan wants it: started (or, with no_start, created) and followed from now on. */
static void ctr_started(struct ctr *t, enum sched_state state, const char *text)
{
    ctr_set_state(t, CTR_STARTED);
    if (state != SCHED_CREATED || text)
        ctr_report(t, state, text);
    /* The events say what happens next; this one look closes the race with what already did. */
    if (t->up->svcs[t->service].awaited && !t->up->opts.plan.no_start)
        op_call(t->up->op, SCHED_CALL_CONTAINER_INSPECT, t->id, NULL, 0, false, on_inspected, t);
}

/* The stream came back after a failure: the one look again, at every awaited started container. */
static void on_resync(struct sched_op *op)
{
    struct up *up = op->impl;
    for (size_t i = 0; i < up->n_ctrs; i++) {
        struct ctr *t = &up->ctrs[i];
        if (t->state == CTR_STARTED && up->svcs[t->service].awaited)
            op_call(op, SCHED_CALL_CONTAINER_INSPECT, t->id, NULL, 0, false, on_inspected, t);
    }
}

/* ---- Container tasks ----------------------------------------------------------------------- */

static void ctr_step(struct ctr *t);

/* The container counts as started once its post_start hooks have run; a failed hook fails it. */
static void on_post_start_done(struct sched_op *op, const struct cc_error *err, void *data)
{
    struct ctr *t = data;
    if (op->state != OP_DRAINING) {
        if (err)
            ctr_fail(t, err);
        else
            ctr_started(t, SCHED_STARTED, NULL);
        pump(t->up);
    }
    op_check(op);
}

static void on_adopt_inspected(json_t *result, const struct cc_error *err, void *data);

/* A call of a container task issued again a little later. */
struct ctr_retry {
    uv_timer_t timer;
    struct ctr *t;
};

static void on_retry_closed(uv_handle_t *h)
{
    free(h->data);
}

static void on_retry(uv_timer_t *timer)
{
    struct ctr_retry *r = timer->data;
    struct ctr *t = r->t;
    struct sched_op *op = t->up->op;
    uv_close((uv_handle_t *)timer, on_retry_closed);
    op->outstanding--;
    if (op->state != OP_DRAINING)
        ctr_step(t);
    op_check(op);
}

/* Two runs of the project creating its networks at the same time may both succeed (the engine's
 * duplicate check is not atomic); each removes the one it made that is not the first
 * (on_networks_listed). Until then the name is ambiguous: the call is made again shortly. */
static bool ctr_retry_ambiguous(struct ctr *t, const struct cc_error *err)
{
    if ((t->state != CTR_CREATING && t->state != CTR_CONNECTING && t->state != CTR_STARTING) ||
        t->retries >= 20 || !err->message || !strstr(err->message, "is ambiguous"))
        return false;
    t->retries++;
    struct ctr_retry *r = xcalloc(1, sizeof(*r));
    r->t = t;
    uv_timer_init(t->up->op->loop, &r->timer);
    r->timer.data = r;
    t->up->op->outstanding++;
    uv_timer_start(&r->timer, on_retry, 250, 0);
    return true;
}

static void on_cleanup_answer(json_t *result, const struct cc_error *err, void *data)
{
    (void)result;
    (void)err; /* nothing more to do about it: the failure that caused it is reported */
    struct sched_op *op = data;
    op->outstanding--;
    op_check(op);
}

/* A recreate failed before the old container was replaced: its half-made successor goes, so that
 * the old one is all there is, as before. */
static void ctr_drop_successor(struct ctr *t)
{
    if (ctr_action(t)->kind != SCHED_ACT_RECREATE || t->replaced || !t->id ||
        t->state == CTR_CREATING || t->state == CTR_RENAMING)
        return;
    op_call(t->up->op, SCHED_CALL_CONTAINER_REMOVE, t->id, NULL, 0, true, on_cleanup_answer,
            t->up->op);
}

static void ctr_ready(struct ctr *t);

static void on_ctr_answer(json_t *result, const struct cc_error *err, void *data)
{
    struct ctr *t = data;
    struct up *up = t->up;
    struct sched_op *op = up->op;
    op->outstanding--;
    if (op->state == OP_DRAINING)
        goto out;
    if (err && ctr_retry_ambiguous(t, err))
        goto out;
    /* An engine killed while it started a container may come back with the container "created"
     * and its runtime task left over: every start is refused ("task ...: already exists"). It never
     * ran, so it is removed and made anew, once. */
    if (err && t->state == CTR_STARTING && t->id && !t->stale_removed && err->message &&
        strstr(err->message, "already exists") && strstr(err->message, "task ")) {
        t->stale_removed = true;
        ctr_set_state(t, CTR_REMOVING_STALE);
        ctr_report(t, SCHED_RECREATE, "the engine cannot start it (it stopped while starting it)");
        op_call(op, SCHED_CALL_CONTAINER_REMOVE, t->id, NULL, 0, true, on_ctr_answer, t);
        goto out;
    }
    /* A refused start is failed once the container has been looked at (its log may say why). */
    if (err && t->state == CTR_STARTING && t->id && err->kind != CC_ERR_CANCELLED) {
        cc_error_copy(&t->start_err, err);
        if (ctr_diagnosed(t)) {
            cc_error_release(&t->start_err);
            ctr_fail(t, err);
            pump(up);
        }
        goto out;
    }
    /* Another run of the same project (a second `up` at the same time) created it first. */
    if (err && err->kind == CC_ERR_CONFLICT && t->state == CTR_CREATING &&
        ctr_action(t)->kind == SCHED_ACT_CREATE && t->adoptions++ < 3) {
        ctr_set_state(t, CTR_ADOPTING);
        op_call(op, SCHED_CALL_CONTAINER_INSPECT, ctr_action(t)->name, NULL, 0, false,
                on_adopt_inspected, t);
        goto out;
    }
    /* Stopping or removing what is already gone is done. */
    if (err && !(err->kind == CC_ERR_NOT_FOUND &&
                 (t->state == CTR_STOPPING_OLD || t->state == CTR_REMOVING_OLD ||
                  t->state == CTR_REMOVING_STALE || t->state == CTR_STOPPING ||
                  t->state == CTR_REMOVING))) {
        ctr_drop_successor(t);
        ctr_fail(t, err);
        pump(up);
        goto out;
    }
    switch (t->state) {
    case CTR_STOPPING_OLD:
        ctr_set_state(t, CTR_REMOVING_OLD);
        break;
    case CTR_REMOVING_OLD:
        ctr_set_state(t, CTR_RENAMING);
        break;
    case CTR_REMOVING_STALE:
        ctr_set_state(t, CTR_CREATING);
        break;
    case CTR_RENAMING:
        t->replaced = true;
        ctr_report(t, SCHED_RECREATED, NULL);
        ctr_ready(t);
        goto out;
    case CTR_CREATING:
        free(t->id);
        t->id = xstrdup(sched_json_str(result, "Id"));
        if (ctr_action(t)->kind != SCHED_ACT_RECREATE)
            ctr_report(t, SCHED_CREATED, NULL);
        t->next_network = 1;
        if (t->inject.len) {
            ctr_set_state(t, CTR_INJECTING);
            op_put_archive(op, t->id, &t->inject, false, on_ctr_answer, t);
            goto out;
        }
        ctr_set_state(t, CTR_CONNECTING);
        break;
    case CTR_INJECTING:
        ctr_set_state(t, CTR_CONNECTING);
        break;
    case CTR_CONNECTING:
        t->next_network++;
        break;
    case CTR_STARTING:
        if (ctr_service(t)->n_post_start) {
            const struct compose_service *s = ctr_service(t);
            ctr_set_state(t, CTR_HOOKING);
            sched_hooks_run(op, t->id, ctr_action(t)->name, "post_start", s->post_start,
                            s->n_post_start, on_post_start_done, t);
            goto out;
        }
        ctr_started(t, SCHED_STARTED, NULL);
        pump(up);
        goto out;
    case CTR_STOPPING:
        ctr_report(t, SCHED_STOPPED, NULL);
        ctr_set_state(t, CTR_REMOVING);
        ctr_report(t, SCHED_REMOVING, NULL);
        break;
    case CTR_REMOVING:
        ctr_set_state(t, CTR_DONE);
        ctr_report(t, SCHED_REMOVED, NULL);
        pump(up);
        goto out;
    default:
        break;
    }
    ctr_step(t);
out:
    op_check(op);
}

/* The name of the container being created is taken. When the container holding it is the very one
 * this run would have made (same project, service, number and config-hash), another `up` of the
 * project made it at the same time: it is taken over and started (its creator connects its
 * networks; starting a started container does nothing), so both runs converge on one container.
 * Anything else is a real conflict, said with what holds the name. */
static void on_adopt_inspected(json_t *result, const struct cc_error *err, void *data)
{
    struct ctr *t = data;
    struct up *up = t->up;
    struct sched_op *op = up->op;
    const struct sched_action *a = ctr_action(t);
    op->outstanding--;
    if (op->state == OP_DRAINING)
        goto out;
    struct cc_error cerr = CC_ERROR_INIT;
    if (err) {
        /* Gone again already (the other run removed it): create it after all. */
        if (err->kind == CC_ERR_NOT_FOUND) {
            ctr_set_state(t, CTR_CREATING);
            ctr_step(t);
            goto out;
        }
        ctr_set_state(t, CTR_CREATING);
        ctr_fail(t, err);
        pump(up);
        goto out;
    }
    json_t *labels = json_object_get(json_object_get(result, "Config"), "Labels");
    const char *project = sched_json_str(labels, SCHED_LABEL_PROJECT);
    const char *service = sched_json_str(labels, SCHED_LABEL_SERVICE);
    const char *number = sched_json_str(labels, SCHED_LABEL_NUMBER);
    const char *hash = sched_json_str(labels, SCHED_LABEL_CONFIG_HASH);
    const char *id = sched_json_str(result, "Id");
    char want_number[16];
    snprintf(want_number, sizeof(want_number), "%d", a->number);
    bool same = project && !strcmp(project, up->p->name) && service &&
                !strcmp(service, ctr_service(t)->name) && number && !strcmp(number, want_number);
    if (same && id && hash && t->hash && !strcmp(hash, t->hash)) {
        free(t->id);
        t->id = xstrdup(id);
        ctr_report(t, SCHED_CREATED, "created at the same time by another run of this project");
        ctr_set_state(t, CTR_STARTING);
        ctr_report(t, SCHED_STARTING, NULL);
        op_call(op, SCHED_CALL_CONTAINER_START, t->id, NULL, 0, false, on_ctr_answer, t);
        goto out;
    }
    ctr_set_state(t, CTR_CREATING);
    if (same) {
        cc_error_set(&cerr, CC_ERR_CONFLICT,
                     "another run of project '%s' created '%s' at the same time from a different "
                     "configuration",
                     up->p->name, a->name);
        cc_error_hint(&cerr, "run 'ccompose up' again once the other run has finished");
    } else {
        cc_error_set(&cerr, CC_ERR_CONFLICT,
                     "the name '%s' is taken by a container that is not service '%s' of project "
                     "'%s'",
                     a->name, ctr_service(t)->name, up->p->name);
        cc_error_hint(&cerr, "remove or rename that container ('docker rm -f %s')", a->name);
    }
    ctr_fail(t, &cerr);
    cc_error_release(&cerr);
    pump(up);
out:
    op_check(op);
}

/* The new container mounts the old one's anonymous volumes at their targets: the service's
 * anonymous mount there takes the old volume as its source, and an image's volume gets a mount of
 * its own. */
static void inherit_volumes(json_t *body, json_t *inherit)
{
    json_t *hc = json_object_get(body, "HostConfig");
    json_t *mounts = json_object_get(hc, "Mounts");
    if (!mounts) {
        mounts = json_array();
        json_object_set_new(hc, "Mounts", mounts);
    }
    json_t *old, *m;
    size_t i, k;
    json_array_foreach(inherit, i, old)
    {
        const char *target = sched_json_str(old, "Target");
        bool found = false;
        json_array_foreach(mounts, k, m)
        {
            const char *t = sched_json_str(m, "Target"), *type = sched_json_str(m, "Type");
            if (t && !strcmp(t, target) && type && !strcmp(type, "volume") &&
                !sched_json_str(m, "Source")) {
                json_object_set(m, "Source", json_object_get(old, "Source"));
                found = true;
            }
        }
        if (!found)
            json_array_append_new(mounts,
                                  json_pack("{s:s, s:O, s:s}", "Type", "volume", "Source",
                                            json_object_get(old, "Source"), "Target", target));
    }
}

static void ctr_create(struct ctr *t)
{
    struct up *up = t->up;
    const struct sched_action *a = ctr_action(t);
    struct cc_error err = CC_ERROR_INIT;
    json_t *body = sched_container_body(up->p, ctr_service(t), a->number,
                                        up->plan->image_ids[t->service], &err);
    if (!body) {
        ctr_fail(t, &err);
        cc_error_release(&err);
        pump(up);
        return;
    }
    /* Checked before create, so that a variable not set leaves no container behind. */
    sched_bytes_wipe(&t->inject);
    if (sched_inject_tar(up->p, ctr_service(t), &t->inject, &err) < 0) {
        json_decref(body);
        ctr_fail(t, &err);
        cc_error_release(&err);
        pump(up);
        return;
    }
    if (a->inherit)
        inherit_volumes(body, a->inherit);
    free(t->hash);
    const char *hash = sched_json_str(json_object_get(body, "Labels"), SCHED_LABEL_CONFIG_HASH);
    t->hash = hash ? xstrdup(hash) : NULL;
    if (a->kind == SCHED_ACT_CREATE)
        ctr_report(t, SCHED_CREATING, a->reason);
    char *tmp = NULL;
    if (a->kind == SCHED_ACT_RECREATE) {
        /* docker compose's label naming what the new container replaces, and its temporary name
         * while the old one still holds the real one. */
        json_t *labels = json_object_get(body, "Labels");
        if (!labels) {
            labels = json_object();
            json_object_set_new(body, "Labels", labels);
        }
        json_object_set_new(labels, SCHED_LABEL_REPLACE, json_string(a->id));
        tmp = xasprintf("%.12s_%s", a->id, a->name);
    }
    op_call(up->op, SCHED_CALL_CONTAINER_CREATE, tmp ? tmp : a->name, body, 0, false, on_ctr_answer,
            t);
    free(tmp);
}

/* Created and connected: a recreate replaces the old container now; then start, unless
 * no_start. */
static void ctr_ready(struct ctr *t)
{
    struct up *up = t->up;
    if (ctr_action(t)->kind == SCHED_ACT_RECREATE && !t->replaced) {
        ctr_set_state(t, CTR_STOPPING_OLD);
        ctr_step(t);
        return;
    }
    if (up->opts.plan.no_start) {
        ctr_started(t, SCHED_CREATED, NULL); /* Created (Recreated) was said already */
        pump(up);
        return;
    }
    ctr_set_state(t, CTR_STARTING);
    ctr_report(t, SCHED_STARTING, NULL);
    op_call(up->op, SCHED_CALL_CONTAINER_START, t->id, NULL, 0, false, on_ctr_answer, t);
}

/* Issues the call of the task's current state. */
static void ctr_step(struct ctr *t)
{
    struct up *up = t->up;
    const struct sched_action *a = ctr_action(t);
    const struct compose_service *s;
    switch (t->state) {
    case CTR_STOPPING_OLD:
    case CTR_STOPPING:
        op_call(up->op, SCHED_CALL_CONTAINER_STOP, a->id, NULL, up->opts.stop_timeout_s, false,
                on_ctr_answer, t);
        break;
    case CTR_REMOVING_OLD:
    case CTR_REMOVING:
        op_call(up->op, SCHED_CALL_CONTAINER_REMOVE, a->id, NULL, 0, true, on_ctr_answer, t);
        break;
    case CTR_RENAMING:
        op_call(up->op, SCHED_CALL_CONTAINER_RENAME, t->id, json_string(a->name), 0, false,
                on_ctr_answer, t);
        break;
    case CTR_CREATING:
        ctr_create(t);
        break;
    case CTR_CONNECTING:
        s = ctr_service(t);
        if (t->next_network < s->n_networks) {
            const struct compose_network *n =
                compose_project_network(up->p, s->networks[t->next_network].key);
            json_t *body = sched_network_connect_body(up->p, s, t->next_network, t->id, a->number);
            op_call(up->op, SCHED_CALL_NETWORK_CONNECT, n ? sched_network_name(n) : "", body, 0,
                    false, on_ctr_answer, t);
            break;
        }
        ctr_ready(t);
        break;
    case CTR_STARTING: /* again (ctr_retry_ambiguous) */
        op_call(up->op, SCHED_CALL_CONTAINER_START, t->id, NULL, 0, false, on_ctr_answer, t);
        break;
    default:
        break;
    }
}

/* Starts a service's container task once its dependencies are met. */
static void ctr_run(struct ctr *t)
{
    struct up *up = t->up;
    const struct sched_action *a = ctr_action(t);
    switch (a->kind) {
    case SCHED_ACT_CREATE:
        ctr_set_state(t, CTR_CREATING);
        break;
    case SCHED_ACT_RECREATE:
        ctr_report(t, SCHED_RECREATE, a->reason);
        ctr_set_state(t, CTR_CREATING);
        break;
    case SCHED_ACT_START:
        ctr_set_state(t, CTR_STARTING);
        ctr_report(t, SCHED_STARTING, a->reason);
        op_call(up->op, SCHED_CALL_CONTAINER_START, t->id, NULL, 0, false, on_ctr_answer, t);
        return;
    case SCHED_ACT_RESTART:
        ctr_set_state(t, CTR_STARTING);
        ctr_report(t, SCHED_STARTING, a->reason);
        op_call(up->op, SCHED_CALL_CONTAINER_RESTART, t->id, NULL, up->opts.stop_timeout_s, false,
                on_ctr_answer, t);
        return;
    case SCHED_ACT_KEEP:
        ctr_started(t, a->stopped ? SCHED_CREATED : SCHED_RUNNING, a->reason);
        return;
    case SCHED_ACT_SCALE_DOWN:
        ctr_set_state(t, CTR_STOPPING);
        ctr_report(t, SCHED_STOPPING, a->reason);
        break;
    case SCHED_ACT_ORPHAN:
        if (!a->remove) {
            ctr_set_state(t, CTR_DONE);
            ctr_report(t, SCHED_WARNING, a->reason);
            return;
        }
        ctr_set_state(t, CTR_STOPPING);
        ctr_report(t, SCHED_STOPPING, a->reason);
        break;
    default:
        return;
    }
    ctr_step(t);
}

/* ---- Conditions ---------------------------------------------------------------------------- */

enum cond { COND_PENDING = 0, COND_MET, COND_FAILED };

/* Whether service si meets condition; *why (new) says how it failed, or what is awaited. */
static enum cond condition_of(struct up *up, size_t si, enum compose_condition condition,
                              char **why)
{
    const struct compose_service *s = &up->p->services[si];
    struct svc *sv = &up->svcs[si];
    if (sv->state == SVC_FAILED) {
        *why = xstrdup(sv->failure);
        return COND_FAILED;
    }
    /* Nothing runs with no_start: a dependency only has to be created first. */
    if (up->opts.plan.no_start) {
        if (sv->state == SVC_STARTED)
            return COND_MET;
        *why = xstrdup("to be created");
        return COND_PENDING;
    }
    if (condition == COMPOSE_COND_HEALTHY && !has_healthcheck(s)) {
        *why = xstrdup("has no healthcheck");
        return COND_FAILED;
    }
    if (sv->state != SVC_STARTED) {
        *why = xstrdup("to start");
        return COND_PENDING;
    }
    for (size_t i = 0; i < up->n_ctrs; i++) {
        struct ctr *t = &up->ctrs[i];
        if (t->service != si || t->state != CTR_STARTED)
            continue;
        const char *name = ctr_action(t)->name;
        bool failed =
            (condition == COMPOSE_COND_HEALTHY && (t->health == HEALTH_UNHEALTHY || t->exited)) ||
            (condition == COMPOSE_COND_COMPLETED_SUCCESSFULLY && t->exited && t->exit_code != 0);
        if (failed && !ctr_diagnosed(t)) {
            *why = NULL; /* failed, but not yet said why */
            return COND_PENDING;
        }
        const char *details = ctr_details(t), *sep = *details ? "\n" : "";
        if (condition == COMPOSE_COND_HEALTHY) {
            if (t->health == HEALTH_UNHEALTHY) {
                *why = xasprintf("container '%s' is unhealthy%s%s", name, sep, details);
                return COND_FAILED;
            }
            if (t->exited) {
                *why = xasprintf("container '%s' exited with code %d%s%s", name, t->exit_code, sep,
                                 details);
                return COND_FAILED;
            }
            if (t->health != HEALTH_HEALTHY) {
                *why = xstrdup("to be healthy");
                return COND_PENDING;
            }
        } else if (condition == COMPOSE_COND_COMPLETED_SUCCESSFULLY) {
            if (t->exited && t->exit_code != 0) {
                *why = xasprintf("container '%s' exited with code %d%s%s", name, t->exit_code, sep,
                                 details);
                return COND_FAILED;
            }
            if (!t->exited) {
                *why = xstrdup("to complete");
                return COND_PENDING;
            }
        }
    }
    return COND_MET;
}

static void service_fail(struct up *up, size_t si, char *why)
{
    struct svc *sv = &up->svcs[si];
    const char *name = up->p->services[si].name;
    sv->state = SVC_FAILED;
    free(sv->failure);
    sv->failure = why;
    for (size_t i = 0; i < up->n_ctrs; i++)
        if (up->ctrs[i].service == si && up->ctrs[i].state == CTR_BLOCKED) {
            ctr_set_state(&up->ctrs[i], CTR_FAILED);
            ctr_report(&up->ctrs[i], SCHED_ERROR, why);
        }
    if (up->op->err.kind == CC_ERR_NONE)
        cc_error_set(&up->op->err, CC_ERR_FAILED, "service '%s' %s", name, why);
}

/* Decides for one blocked service: run it, keep it waiting, or fail it. */
static void consider(struct up *up, size_t si)
{
    const struct sched_graph *g = up->plan->graph;
    struct svc *sv = &up->svcs[si];
    char *waiting = NULL;
    bool looking = false; /* a dependency failed and is being looked at */
    for (size_t k = 0; k < g->n_deps[si]; k++) {
        const struct sched_dep *d = &g->deps[si][k];
        const char *dname = up->p->services[d->service].name;
        char *why = NULL;
        /* --no-deps: what was left out is not waited for. */
        if (!up->plan->selected[d->service])
            continue;
        enum cond c = condition_of(up, d->service, d->condition, &why);
        if (c == COND_FAILED && d->required) {
            service_fail(up, si, xasprintf("cannot start: dependency '%s' %s", dname, why));
            free(why);
            free(waiting);
            return;
        }
        if (c == COND_FAILED && !sv->warned[k]) {
            sv->warned[k] = true;
            op_report(up->op, SCHED_RES_CONTAINER, up->p->services[si].name,
                      up->p->services[si].name, SCHED_WARNING,
                      "optional dependency '%s' %s, ignoring", dname, why);
        }
        if (c == COND_PENDING && !why)
            looking = true;
        else if (c == COND_PENDING && !waiting)
            waiting = xasprintf("waiting for '%s' %s", dname, why);
        free(why);
    }
    if (looking && !waiting)
        return;
    if (waiting) {
        if (!sv->waiting_for || strcmp(sv->waiting_for, waiting)) {
            for (size_t i = 0; i < up->n_ctrs; i++)
                if (up->ctrs[i].service == si)
                    ctr_report(&up->ctrs[i], SCHED_WAITING, waiting);
            free(sv->waiting_for);
            sv->waiting_for = waiting;
        } else {
            free(waiting);
        }
        return;
    }
    sv->state = SVC_RUNNING;
    for (size_t i = 0; i < up->n_ctrs; i++)
        if (up->ctrs[i].service == si && ctr_action(&up->ctrs[i])->kind != SCHED_ACT_ORPHAN &&
            ctr_action(&up->ctrs[i])->kind != SCHED_ACT_SCALE_DOWN)
            ctr_run(&up->ctrs[i]);
}

/* With --wait: what keeps t from being ready ("waiting to be healthy", ...), NULL when it is. */
static const char *not_ready_why(struct up *up, const struct ctr *t)
{
    const struct sched_action *a = ctr_action(t);
    if (a->kind == SCHED_ACT_ORPHAN || a->kind == SCHED_ACT_SCALE_DOWN ||
        !up->plan->selected[t->service])
        return NULL;
    if (t->state == CTR_FAILED)
        return "failed to start";
    if (t->state != CTR_STARTED && t->state != CTR_DONE)
        return "not started";
    if (t->exited)
        return t->exit_code == 0 ? NULL : "exited";
    if (t->health == HEALTH_UNHEALTHY)
        return "unhealthy";
    if (up->svcs[t->service].needs_completion)
        return "waiting to complete";
    if (has_healthcheck(ctr_service(t)) && t->health != HEALTH_HEALTHY)
        return "waiting to be healthy";
    return NULL;
}

/* The --wait failure's report: head, then every other container that is not ready, each with its
 * state, last health check and last log lines. Fails the op with kind once all were looked at;
 * false while some still are. */
static bool fail_with_report(struct up *up, const struct ctr *except, enum cc_error_kind kind,
                             const char *head)
{
    up->reporting = true;
    bool pending = false;
    for (size_t i = 0; i < up->n_ctrs; i++) {
        struct ctr *t = &up->ctrs[i];
        if (t != except && not_ready_why(up, t) && !ctr_diagnosed(t))
            pending = true;
    }
    if (pending)
        return false;
    struct buf msg = BUF_INIT;
    buf_adds(&msg, head);
    for (size_t i = 0; i < up->n_ctrs; i++) {
        const struct ctr *t = &up->ctrs[i];
        const char *why = t != except ? not_ready_why(up, t) : NULL;
        if (!why)
            continue;
        const char *details = ctr_details(t);
        buf_printf(&msg, "\ncontainer '%s' is not ready: %s%s%s", ctr_action(t)->name, why,
                   *details ? "\n" : "", details);
    }
    cc_error_set(&up->op->err, kind, "%s", buf_str(&msg));
    buf_release(&msg);
    return true;
}

/* With --wait: whether every selected service is where it should be; fails the op otherwise. */
static enum cond wait_state(struct up *up)
{
    for (size_t i = 0; i < up->n_ctrs; i++) {
        struct ctr *t = &up->ctrs[i];
        const struct sched_action *a = ctr_action(t);
        if (a->kind == SCHED_ACT_ORPHAN || a->kind == SCHED_ACT_SCALE_DOWN)
            continue;
        bool failed = (t->exited && t->exit_code != 0) || t->health == HEALTH_UNHEALTHY;
        if (failed && !ctr_diagnosed(t))
            return COND_PENDING;
        const char *details = ctr_details(t), *sep = *details ? "\n" : "";
        char *head = NULL;
        if (t->exited && t->exit_code != 0)
            head = xasprintf("container '%s' exited with code %d%s%s", a->name, t->exit_code, sep,
                             details);
        else if (t->health == HEALTH_UNHEALTHY)
            head = xasprintf("container '%s' is unhealthy%s%s", a->name, sep, details);
        if (head) {
            bool done = fail_with_report(up, t, CC_ERR_FAILED, head);
            free(head);
            return done ? COND_FAILED : COND_PENDING;
        }
    }
    for (size_t i = 0; i < up->n_ctrs; i++)
        if (not_ready_why(up, &up->ctrs[i]))
            return COND_PENDING;
    return COND_MET;
}

static bool service_all_started(struct up *up, size_t si)
{
    for (size_t i = 0; i < up->n_ctrs; i++)
        if (up->ctrs[i].service == si && up->ctrs[i].state != CTR_STARTED &&
            ctr_action(&up->ctrs[i])->kind != SCHED_ACT_SCALE_DOWN)
            return false;
    return true;
}

/* --wait-timeout ran out: fails the op once every container that is not ready was looked at;
 * false until then. */
static bool timeout_report(struct up *up)
{
    char *head = xasprintf("services did not converge within %.1f s",
                           (double)up->opts.wait_timeout_ms / 1000);
    bool done = fail_with_report(up, NULL, CC_ERR_TIMEOUT, head);
    free(head);
    return done;
}

/* Moves everything that can move, and ends the op when nothing is left to do. */
static void pump(struct up *up)
{
    struct sched_op *op = up->op;
    if (op->state != OP_CONTAINERS && op->state != OP_WAITING)
        return;
    if (up->timed_out) {
        if (timeout_report(up))
            op_finish(op, NULL);
        return;
    }
    const struct compose_project *p = up->p;
    /* A service that started may unblock others, which may start at once (kept containers, no
     * replicas): go round until nothing changes. */
    for (bool again = true; again;) {
        again = false;
        for (size_t si = 0; si < p->n_services; si++) {
            struct svc *sv = &up->svcs[si];
            if (sv->state == SVC_RUNNING && service_all_started(up, si)) {
                sv->state = SVC_STARTED;
                again = true;
            } else if (sv->state == SVC_BLOCKED) {
                consider(up, si);
                again |= sv->state != SVC_BLOCKED;
            }
        }
    }
    for (size_t i = 0; i < up->n_ctrs; i++) {
        enum ctr_state st = up->ctrs[i].state;
        if (st != CTR_STARTED && st != CTR_DONE && st != CTR_FAILED)
            return;
    }
    for (size_t si = 0; si < p->n_services; si++)
        if (up->svcs[si].state == SVC_BLOCKED || up->svcs[si].state == SVC_RUNNING)
            return;
    if (op->err.kind != CC_ERR_NONE) {
        op_finish(op, NULL);
        return;
    }
    if (!up->opts.wait) {
        op_finish(op, NULL);
        return;
    }
    if (op->state != OP_WAITING) {
        op_set_state(op, OP_WAITING);
        for (size_t i = 0; i < up->n_ctrs; i++)
            if (up->ctrs[i].state == CTR_STARTED && has_healthcheck(ctr_service(&up->ctrs[i])) &&
                up->ctrs[i].health != HEALTH_HEALTHY && !up->ctrs[i].exited)
                ctr_report(&up->ctrs[i], SCHED_WAITING, "waiting to be healthy");
    }
    if (wait_state(up) != COND_PENDING)
        op_finish(op, NULL);
}

/* ---- Networks and volumes ------------------------------------------------------------------ */

static void start_containers(struct up *up)
{
    op_set_state(up->op, OP_CONTAINERS);
    for (size_t i = 0; i < up->n_ctrs; i++) {
        enum sched_action_kind k = ctr_action(&up->ctrs[i])->kind;
        if (k == SCHED_ACT_SCALE_DOWN || k == SCHED_ACT_ORPHAN)
            ctr_run(&up->ctrs[i]);
    }
    for (size_t si = 0; si < up->p->n_services; si++)
        if (up->plan->selected[si])
            up->svcs[si].state = SVC_BLOCKED;
    pump(up);
}

struct res_call {
    struct up *up;
    size_t action;
};

static void resource_done(struct up *up, size_t action)
{
    const struct sched_action *a = &up->plan->actions[action];
    if (a->kind == SCHED_ACT_NETWORK_CREATE || a->kind == SCHED_ACT_VOLUME_CREATE)
        op_report(up->op,
                  a->kind == SCHED_ACT_NETWORK_CREATE ? SCHED_RES_NETWORK : SCHED_RES_VOLUME,
                  a->name, NULL, SCHED_CREATED, NULL);
    if (--up->resources_pending == 0)
        start_containers(up);
}

/* Removing the duplicates of one network: the answers still awaited, and what to do after. */
struct dedupe {
    struct up *up;
    size_t action;
    char *first_id; /* the one kept, unless another proves to be in use */
    int pending;
    bool in_use;      /* a duplicate could not be removed: another run's containers are on it */
    bool first_tried; /* the kept one was offered up for it */
};

static void dedupe_remove(struct dedupe *d, const char *id);

static void dedupe_free(struct dedupe *d)
{
    free(d->first_id);
    free(d);
}

static void on_duplicate_removed(json_t *result, const struct cc_error *err, void *data)
{
    (void)result;
    struct dedupe *d = data;
    struct sched_op *op = d->up->op;
    op->outstanding--;
    if (err && err->kind != CC_ERR_NOT_FOUND)
        d->in_use = true;
    if (--d->pending > 0)
        goto out;
    if (op->state != OP_DRAINING) {
        /* A duplicate in use is another run's choice (it listed before this run's network was
         * visible): this run gives up the one it would have kept, so that one network of the
         * name is left. Both stay only when the kept one is in use too (a third run chose it). */
        if (d->in_use && !d->first_tried && d->first_id[0]) {
            d->first_tried = true;
            dedupe_remove(d, d->first_id);
            goto out;
        }
        resource_done(d->up, d->action);
    }
    dedupe_free(d);
out:
    op_check(op);
}

static void dedupe_remove(struct dedupe *d, const char *id)
{
    d->pending++;
    op_call(d->up->op, SCHED_CALL_NETWORK_REMOVE, id, NULL, 0, false, on_duplicate_removed, d);
}

/* Whether network a was created before b (ties: the lower ID), so that every run picks the same
 * one of duplicates. */
static bool network_first(json_t *a, json_t *b)
{
    const char *ca = sched_json_str(a, "Created"), *cb = sched_json_str(b, "Created");
    long long ta = sched_time_ns(ca), tb = sched_time_ns(cb);
    if (ta != tb)
        return ta < tb;
    const char *ia = sched_json_str(a, "Id"), *ib = sched_json_str(b, "Id");
    return strcmp(ia ? ia : "", ib ? ib : "") < 0;
}

/* The engine's duplicate check is not atomic: two runs creating the same network at once may
 * both succeed, and containers would then name an ambiguous network. Every run keeps the first
 * made of the project's networks of that name and removes the others; a run that listed before
 * the others' networks were visible keeps its own and puts containers on it, and the run that
 * finds that network in use gives up its choice instead (on_duplicate_removed). */
static void on_networks_listed(json_t *result, const struct cc_error *err, void *data)
{
    struct res_call *rc = data;
    struct up *up = rc->up;
    struct sched_op *op = up->op;
    const struct sched_action *a = &up->plan->actions[rc->action];
    op->outstanding--;
    if (op->state == OP_DRAINING || err) {
        if (op->state != OP_DRAINING)
            resource_done(up, rc->action);
        free(rc);
        goto out;
    }
    json_t *n, *first = NULL;
    size_t i;
    json_array_foreach(result, i, n)
    {
        const char *name = sched_json_str(n, "Name");
        if (name && !strcmp(name, a->name) && sched_json_str(n, "Id") &&
            (!first || network_first(n, first)))
            first = n;
    }
    struct dedupe *d = xcalloc(1, sizeof(*d));
    d->up = up;
    d->action = rc->action;
    d->first_id = xstrdup(first ? sched_json_str(first, "Id") : "");
    d->pending = 1; /* held until every removal is out */
    free(rc);
    json_array_foreach(result, i, n)
    {
        const char *name = sched_json_str(n, "Name"), *id = sched_json_str(n, "Id");
        if (n != first && name && !strcmp(name, a->name) && id)
            dedupe_remove(d, id);
    }
    if (--d->pending == 0) {
        resource_done(up, d->action);
        dedupe_free(d);
    }
out:
    op_check(op);
}

/* Lists the project's networks of rc's name and keeps only the first (on_networks_listed).
 * rc: steals. */
static void dedupe_network(struct up *up, struct res_call *rc)
{
    json_t *filters = sched_project_filters(up->p->name, NULL);
    json_object_set_new(filters, "name", json_pack("[s]", up->plan->actions[rc->action].name));
    op_call(up->op, SCHED_CALL_NETWORK_LIST, NULL, filters, 0, false, on_networks_listed, rc);
}

static void on_resource_created(json_t *result, const struct cc_error *err, void *data)
{
    (void)result;
    struct res_call *rc = data;
    struct up *up = rc->up;
    struct sched_op *op = up->op;
    const struct sched_action *a = &up->plan->actions[rc->action];
    bool net = a->kind == SCHED_ACT_NETWORK_CREATE;
    enum sched_resource kind = net ? SCHED_RES_NETWORK : SCHED_RES_VOLUME;
    op->outstanding--;
    if (op->state == OP_DRAINING)
        goto out;
    /* A conflict: another run of the project created the network first; it is used as it is. */
    if (err && !(net && err->kind == CC_ERR_CONFLICT)) {
        op_report(op, kind, a->name, NULL, SCHED_ERROR, "%s", err->message);
        op_fail(op, err->kind, "cannot create %s '%s': %s", sched_resource_name(kind), a->name,
                err->message);
        goto out;
    }
    if (net) {
        dedupe_network(up, rc);
        rc = NULL;
        goto out;
    }
    resource_done(up, rc->action);
out:
    free(rc);
    op_check(op);
}

static void create_resources(struct up *up)
{
    op_set_state(up->op, OP_RESOURCES);
    up->resources_pending = 1; /* held until every call is out */
    for (size_t i = 0; i < up->plan->n_actions; i++) {
        const struct sched_action *a = &up->plan->actions[i];
        bool net = a->kind == SCHED_ACT_NETWORK_CREATE || a->kind == SCHED_ACT_NETWORK_KEEP;
        bool vol = a->kind == SCHED_ACT_VOLUME_CREATE || a->kind == SCHED_ACT_VOLUME_KEEP;
        enum sched_resource kind = net ? SCHED_RES_NETWORK : SCHED_RES_VOLUME;
        if (!net && !vol)
            continue;
        if (a->warning)
            op_report(up->op, kind, a->name, NULL, SCHED_WARNING, "%s", a->reason);
        if (a->kind == SCHED_ACT_NETWORK_KEEP &&
            strv_has(up->dup_networks, up->n_dup_networks, a->name)) {
            /* Left twice by an earlier race (or made so by hand): one is kept. */
            struct res_call *rc = xcalloc(1, sizeof(*rc));
            rc->up = up;
            rc->action = i;
            up->resources_pending++;
            dedupe_network(up, rc);
            continue;
        }
        if (a->kind != SCHED_ACT_NETWORK_CREATE && a->kind != SCHED_ACT_VOLUME_CREATE)
            continue;
        struct res_call *rc = xcalloc(1, sizeof(*rc));
        rc->up = up;
        rc->action = i;
        up->resources_pending++;
        op_report(up->op, kind, a->name, NULL, SCHED_CREATING, NULL);
        if (net)
            op_call(up->op, SCHED_CALL_NETWORK_CREATE, NULL,
                    sched_network_body(up->p, &up->p->networks[a->index]), 0, false,
                    on_resource_created, rc);
        else
            op_call(up->op, SCHED_CALL_VOLUME_CREATE, NULL,
                    sched_volume_body(up->p, &up->p->volumes[a->index]), 0, false,
                    on_resource_created, rc);
    }
    if (--up->resources_pending == 0)
        start_containers(up);
}

/* ---- Observe, plan, run -------------------------------------------------------------------- */

static void on_wait_timeout(uv_timer_t *timer)
{
    struct sched_op *op = timer->data;
    struct up *up = op->impl;
    up->timed_out = true;
    if (op->state != OP_CONTAINERS && op->state != OP_WAITING) {
        /* Still observing or making networks: no container to say anything about. */
        op_fail(op, CC_ERR_TIMEOUT, "services did not converge within %.1f s",
                (double)up->opts.wait_timeout_ms / 1000);
    } else {
        pump(up);
    }
    op_check(op);
}

static void setup_tasks(struct up *up)
{
    const struct sched_plan *plan = up->plan;
    const struct sched_graph *g = plan->graph;
    up->ctrs = xcalloc(plan->n_actions + 1, sizeof(*up->ctrs));
    for (size_t i = 0; i < plan->n_actions; i++) {
        const struct sched_action *a = &plan->actions[i];
        if (!a->service)
            continue;
        struct ctr *t = &up->ctrs[up->n_ctrs++];
        t->up = up;
        t->action = i;
        t->service = a->kind == SCHED_ACT_ORPHAN ? (size_t)-1 : a->index;
        t->id = a->id ? xstrdup(a->id) : NULL;
    }
    for (size_t si = 0; si < up->p->n_services; si++) {
        up->svcs[si].warned = xcalloc(g->n_deps[si] + 1, sizeof(bool));
        up->svcs[si].awaited |= up->opts.wait && plan->selected[si];
        for (size_t k = 0; k < g->n_deps[si]; k++) {
            const struct sched_dep *d = &g->deps[si][k];
            if (d->condition != COMPOSE_COND_STARTED)
                up->svcs[d->service].awaited = true;
            if (d->condition == COMPOSE_COND_COMPLETED_SUCCESSFULLY && plan->selected[si])
                up->svcs[d->service].needs_completion = true;
        }
    }
}

static void on_observed(struct sched_observed *observed, const struct cc_error *err, void *data)
{
    struct up *up = data;
    struct sched_op *op = up->op;
    struct cc_error perr = CC_ERROR_INIT;
    op->outstanding--;
    if (op->state == OP_DRAINING)
        goto out;
    if (err) {
        op_finish(op, err);
        goto out;
    }
    if (sched_plan_build(up->p, observed, &up->opts.plan, &up->plan, &perr) < 0) {
        op_finish(op, &perr);
        goto out;
    }
    if (up->on_plan)
        up->on_plan(up->plan, op->data);
    for (size_t i = 0; i < up->plan->n_warnings; i++)
        op_report(op, SCHED_RES_CONTAINER, up->p->name, NULL, SCHED_WARNING, "%s",
                  up->plan->warnings[i]);
    setup_tasks(up);
    for (size_t i = 0; i < observed->n_networks; i++)
        for (size_t k = i + 1; k < observed->n_networks; k++)
            if (observed->networks[i].labeled && observed->networks[k].labeled &&
                !strcmp(observed->networks[i].name, observed->networks[k].name) &&
                !strv_has(up->dup_networks, up->n_dup_networks, observed->networks[i].name))
                sched_strv_push(&up->dup_networks, &up->n_dup_networks,
                                xstrdup(observed->networks[i].name));
    if (up->opts.wait && up->opts.wait_timeout_ms > 0)
        uv_timer_start(&op->timer, on_wait_timeout, (uint64_t)up->opts.wait_timeout_ms, 0);
    create_resources(up);
out:
    sched_observed_free(observed);
    cc_error_release(&perr);
    op_check(op);
}

static void up_release(struct sched_op *op)
{
    struct up *up = op->impl;
    for (size_t i = 0; i < up->n_ctrs; i++) {
        free(up->ctrs[i].id);
        free(up->ctrs[i].details);
        free(up->ctrs[i].hash);
        sched_bytes_wipe(&up->ctrs[i].inject);
        cc_error_release(&up->ctrs[i].start_err);
    }
    /* Not up->p->n_services: release runs in a close callback, after done, when the caller may
     * already have freed the model it lent. */
    for (size_t si = 0; si < up->n_svcs; si++) {
        free(up->svcs[si].failure);
        free(up->svcs[si].waiting_for);
        free(up->svcs[si].warned);
    }
    for (size_t i = 0; i < up->n_dup_networks; i++)
        free(up->dup_networks[i]);
    free(up->dup_networks);
    free(up->ctrs);
    free(up->svcs);
    sched_plan_free(up->plan);
    free(up);
}

struct sched_op *sched_up(uv_loop_t *loop, struct engine_client *c,
                          const struct compose_project *project,
                          const struct sched_up_options *opts,
                          void (*on_plan)(const struct sched_plan *plan, void *data),
                          sched_event_cb on_event, sched_done_cb done, void *data,
                          struct cc_error *reterr)
{
    if (!loop || !c || !project || !project->name || !done)
        return cc_error_set(reterr, CC_ERR_USAGE,
                            "up needs a loop, a client, a project and a "
                            "done callback"),
               NULL;
    static const struct sched_up_options defaults = {.stop_timeout_s = -1};
    struct sched_op *op = op_new(loop, c, project->name, opts ? opts->parallel : 0, true,
                                 opts ? opts->events_window_ms : 0, reterr);
    if (!op)
        return NULL;
    struct up *up = xcalloc(1, sizeof(*up));
    up->op = op;
    up->p = project;
    up->opts = opts ? *opts : defaults;
    up->on_plan = on_plan;
    up->svcs = xcalloc(project->n_services + 1, sizeof(*up->svcs));
    up->n_svcs = project->n_services;
    op->impl = up;
    op->on_event = on_event;
    op->done = done;
    op->data = data;
    op->on_container_event = on_container_event;
    op->on_resync = on_resync;
    op->release = up_release;
    op_set_state(op, OP_OBSERVING);
    op->outstanding++;
    sched_observe_on(op->q, project->name, project, on_observed, up);
    return op;
}
