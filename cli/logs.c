/* The log multiplexer: several containers' output on one stream, line by line, each line prefixed
 * with the container's label ("web-1  | "), aligned and colored per service as docker compose
 * does. Each container's stream is an inspect (for its TTY setting), then the logs request; with
 * follow, an inspect at the end gives its exit code.
 *
 * Watching (cli_logs_watch) follows the project's container events too: a container that starts
 * (restarted by its policy or by ccompose, recreated by another up, scaled up) is followed from
 * that moment, and the multiplexer is idle only once no followed container runs or restarts. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/run.h"
#include "common/buf.h"
#include "common/log.h"

/* SRC_AWAITING: it exited and its restart policy brings it back; its start event resumes it.
 * SRC_DYING: its stream ended, but the engine still said it runs (the engine ends the log stream
 * before it records the exit): its die event says how it ended, and ends it. */
enum src_state {
    SRC_INSPECTING = 0,
    SRC_STREAMING,
    SRC_EXITING,
    SRC_AWAITING,
    SRC_DYING,
    SRC_DONE
};

struct src {
    struct cli_logs *logs;
    enum src_state state;
    char *id;
    char *label;
    char *service;
    char *since;        /* NULL: the options' */
    char *resume_since; /* a start event came while this run was still streamed: resume here */
    bool died;          /* a die event came for this run: die_code is its exit code */
    int die_code;
    long long die_ns;      /* the last die event's time: the next run's output comes after it */
    const char *color;     /* SGR parameters, or NULL */
    struct buf partial[4]; /* an unfinished line per stream */
    bool stopped;          /* stopped by a request (kill or stop events), not ended by itself */
    bool graced;           /* an idle check waited for its successor already */
    struct engine_request *req;
};

struct color {
    char *service;
    const char *sgr;
};

struct cli_logs {
    struct engine_client *c;
    FILE *out;
    struct cli_logs_options opts;
    cli_logs_exit_cb on_exit;
    cli_logs_idle_cb on_idle;
    void *data;
    int width; /* the longest label */
    struct src **srcs;
    size_t n_srcs;
    size_t active;
    struct color *colors;
    size_t n_colors;
    struct cc_error err;
    bool freeing; /* cli_logs_free() was called: go once the last stream has ended */
    /* Watching: the project's events, what they are for, and the look at the project that
     * decides whether an end of the last stream is the end. */
    uv_loop_t *loop;
    struct sched_op *events;
    char *project;
    char **services;
    int n_services;
    double watch_since; /* when watching began (Unix seconds) */
    bool checking;      /* the container list of the idle check is in flight */
    bool cancelled;     /* cli_logs_cancel(): nothing is resumed any more */
    bool idle;          /* on_idle said so, and nothing was followed since */
    bool waiting;       /* the last look found a container that runs or is about to, not followed */
    bool recheck;       /* an event came while the look was in flight: it may be stale */
    /* A followed container was stopped by a request (a recreation, a stop, a down): ccompose and
     * docker compose v2 create the successor first, but docker-compose 1.29 (and a stop then an
     * up by hand) stop the old container before creating the new one, so a create may follow; the
     * end waits that long for it. */
    struct grace *grace;
};

static void logs_destroy(struct cli_logs *l);

static void src_set_state(struct src *s, enum src_state state)
{
    log_debug("%s: %s: %d -> %d", __func__, s->label, s->state, state);
    s->state = state;
}

char *cli_container_label(const char *project, const struct sched_observed_container *c)
{
    size_t n = strlen(project);
    if (c->service && c->number > 0 && !strncmp(c->name, project, n) && c->name[n] == '-') {
        char *expect = xasprintf("%s-%d", c->service, c->number);
        bool same = !strcmp(c->name + n + 1, expect);
        if (same)
            return expect;
        free(expect);
    }
    return xstrdup(c->name);
}

bool cli_service_selected(const char *service, char *const *services, int n)
{
    for (int i = 0; i < n; i++)
        if (service && !strcmp(services[i], service))
            return true;
    return n == 0;
}

struct cli_logs *cli_logs_new(struct engine_client *c, FILE *out,
                              const struct cli_logs_options *opts, cli_logs_exit_cb on_exit,
                              cli_logs_idle_cb on_idle, void *data)
{
    struct cli_logs *l = xcalloc(1, sizeof(*l));
    l->c = c;
    l->out = out;
    l->opts = *opts;
    l->on_exit = on_exit;
    l->on_idle = on_idle;
    l->data = data;
    cc_error_init(&l->err);
    return l;
}

void cli_logs_reserve(struct cli_logs *l, const char *label)
{
    if ((int)strlen(label) > l->width)
        l->width = (int)strlen(label);
}

/* docker compose's palette: the six basic colors, then their bright forms. */
static const char *service_color(struct cli_logs *l, const char *service)
{
    static const char *const palette[] = {"36", "33", "32", "35", "34", "31",
                                          "96", "93", "92", "95", "94", "91"};
    if (l->opts.no_color)
        return NULL;
    for (size_t i = 0; i < l->n_colors; i++)
        if (!strcmp(l->colors[i].service, service))
            return l->colors[i].sgr;
    l->colors = xrealloc(l->colors, (l->n_colors + 1) * sizeof(*l->colors));
    l->colors[l->n_colors].service = xstrdup(service);
    l->colors[l->n_colors].sgr = palette[l->n_colors % CC_ARRAY_LEN(palette)];
    return l->colors[l->n_colors++].sgr;
}

static void write_prefix(struct cli_logs *l, const char *label, const char *color)
{
    if (l->opts.no_prefix)
        return;
    if (color)
        fprintf(l->out, "\033[%sm%-*s  |\033[0m ", color, l->width, label);
    else
        fprintf(l->out, "%-*s  | ", l->width, label);
}

static void write_line(struct src *s, const char *line, size_t len)
{
    write_prefix(s->logs, s->label, s->color);
    fwrite(line, 1, len, s->logs->out);
    fputc('\n', s->logs->out);
}

static void on_output(enum engine_stream_fd fd, const char *data, size_t len, void *arg)
{
    struct src *s = arg;
    struct buf *part = &s->partial[fd & 3];
    buf_add(part, data, len);
    size_t start = 0;
    for (size_t i = 0; i < part->len; i++) {
        if (part->data[i] != '\n')
            continue;
        size_t end = i;
        if (end > start && part->data[end - 1] == '\r')
            end--;
        write_line(s, part->data + start, end - start);
        start = i + 1;
    }
    buf_consume(part, start);
    fflush(s->logs->out);
}

static void flush_partial(struct src *s)
{
    for (size_t i = 0; i < CC_ARRAY_LEN(s->partial); i++) {
        if (s->partial[i].len)
            write_line(s, s->partial[i].data, s->partial[i].len);
        buf_reset(&s->partial[i]);
    }
    fflush(s->logs->out);
}

static void idle_check(struct cli_logs *l);

/* How long the stop of a followed container waits for a successor before the end. */
#define REMOVAL_GRACE_MS 3000

/* Heap-held, since its timer must outlive the multiplexer until closed. */
struct grace {
    uv_timer_t timer;
    struct cli_logs *logs; /* NULL once the multiplexer has gone */
};

static void on_grace_closed(uv_handle_t *h)
{
    free(h->data);
}

static void grace_stop(struct cli_logs *l)
{
    if (!l->grace)
        return;
    l->grace->logs = NULL;
    uv_close((uv_handle_t *)&l->grace->timer, on_grace_closed);
    l->grace = NULL;
}

static void become_idle(struct cli_logs *l)
{
    l->idle = true;
    if (l->on_idle)
        l->on_idle(l->data);
}
static bool src_resume(struct src *s, const char *since);

/* The multiplexer is gone once nothing stands on it: no stream, no event subscription, no look. */
static void maybe_destroy(struct cli_logs *l)
{
    if (l->freeing && l->active == 0 && !l->events && !l->checking) {
        grace_stop(l);
        logs_destroy(l);
    }
}

static void src_end(struct src *s, const struct cc_error *err)
{
    struct cli_logs *l = s->logs;
    s->req = NULL;
    flush_partial(s);
    /* Started again while the last run was still being read: follow the new run. */
    if (!err && s->resume_since && !l->cancelled && !l->freeing) {
        char *since = s->resume_since;
        s->resume_since = NULL;
        bool ok = src_resume(s, since);
        free(since);
        if (ok)
            return;
    }
    src_set_state(s, SRC_DONE);
    if (err && err->kind != CC_ERR_CANCELLED && err->kind != CC_ERR_NOT_FOUND &&
        l->err.kind == CC_ERR_NONE)
        cc_error_copy(&l->err, err);
    if (--l->active > 0)
        return;
    if (l->freeing)
        maybe_destroy(l);
    else if (l->events && !l->cancelled)
        idle_check(l);
    else
        become_idle(l);
}

static void on_exit_inspected(json_t *result, const struct cc_error *err, void *data)
{
    struct src *s = data;
    struct cli_logs *l = s->logs;
    s->req = NULL;
    json_t *state = json_object_get(result, "State");
    int code = -1;
    if (!err && !json_is_true(json_object_get(state, "Running")))
        code = (int)json_integer_value(json_object_get(state, "ExitCode"));
    else if (!err && s->died)
        code = s->die_code; /* restarted already: the exit its die event told */
    /* The stream ended before the engine recorded the exit: the die event comes, with the code. */
    if (!err && l->events && !l->cancelled && !l->freeing && !s->resume_since && !s->died &&
        json_is_true(json_object_get(state, "Running")) &&
        !json_is_true(json_object_get(state, "Restarting"))) {
        flush_partial(s);
        src_set_state(s, SRC_DYING);
        return;
    }
    s->died = false;
    if (!err && l->on_exit && !l->freeing)
        l->on_exit(s->label, s->service, code, l->data);
    /* Its restart policy brings it back: its start event resumes it. */
    if (!err && l->events && !l->cancelled && !s->resume_since &&
        json_is_true(json_object_get(state, "Restarting"))) {
        flush_partial(s);
        src_set_state(s, SRC_AWAITING);
        return;
    }
    src_end(s, NULL);
}

static void on_logs_end(json_t *result, const struct cc_error *err, void *data)
{
    (void)result;
    struct src *s = data;
    s->req = NULL;
    if (err || !s->logs->opts.follow || s->logs->freeing) {
        src_end(s, err);
        return;
    }
    src_set_state(s, SRC_EXITING);
    flush_partial(s);
    struct cc_error e = CC_ERROR_INIT;
    s->req = engine_container_inspect(s->logs->c, s->id, on_exit_inspected, s, &e);
    if (!s->req)
        src_end(s, &e);
    cc_error_release(&e);
}

static void on_inspected(json_t *result, const struct cc_error *err, void *data)
{
    struct src *s = data;
    struct cli_logs *l = s->logs;
    s->req = NULL;
    if (err) {
        src_end(s, err);
        return;
    }
    struct engine_logs_options o = {
        .follow = l->opts.follow,
        .timestamps = l->opts.timestamps,
        .tail = l->opts.tail,
        .since = s->since ? s->since : l->opts.since,
        .until = l->opts.until,
        .tty = json_is_true(json_object_get(json_object_get(result, "Config"), "Tty")),
    };
    src_set_state(s, SRC_STREAMING);
    struct cc_error e = CC_ERROR_INIT;
    s->req = engine_container_logs(l->c, s->id, &o, on_output, on_logs_end, s, &e);
    if (!s->req)
        src_end(s, &e);
    cc_error_release(&e);
}

static struct src *src_find(const struct cli_logs *l, const char *id)
{
    for (size_t i = 0; i < l->n_srcs; i++)
        if (!strcmp(l->srcs[i]->id, id))
            return l->srcs[i];
    return NULL;
}

/* A new run of a container already known: its stream again from since. */
static bool src_resume(struct src *s, const char *since)
{
    struct cc_error e = CC_ERROR_INIT;
    free(s->since);
    s->since = since ? xstrdup(since) : NULL;
    s->stopped = s->graced = false;
    src_set_state(s, SRC_INSPECTING);
    s->req = engine_container_inspect(s->logs->c, s->id, on_inspected, s, &e);
    cc_error_release(&e);
    return s->req != NULL;
}

bool cli_logs_add(struct cli_logs *l, const char *id, const char *label, const char *service,
                  const char *since, struct cc_error *reterr)
{
    struct src *known = src_find(l, id);
    if (known) {
        /* Followed already; a run that has ended is followed again from since. */
        if (known->state == SRC_AWAITING || known->state == SRC_DYING) {
            return src_resume(known, since) ||
                   (cc_error_set(reterr, CC_ERR_FAILED, "cannot follow '%s' again", label), false);
        }
        if (known->state != SRC_DONE)
            return true;
        if (!src_resume(known, since))
            return cc_error_set(reterr, CC_ERR_FAILED, "cannot follow '%s' again", label), false;
        l->active++;
        l->idle = false;
        return true;
    }
    struct src *s = xcalloc(1, sizeof(*s));
    s->logs = l;
    s->since = since ? xstrdup(since) : NULL;
    s->id = xstrdup(id);
    s->label = xstrdup(label);
    s->service = xstrdup(service ? service : label);
    s->color = service_color(l, s->service);
    for (size_t i = 0; i < CC_ARRAY_LEN(s->partial); i++)
        buf_init(&s->partial[i]);
    s->req = engine_container_inspect(l->c, id, on_inspected, s, reterr);
    if (!s->req) {
        free(s->since);
        free(s->id);
        free(s->label);
        free(s->service);
        free(s);
        return false;
    }
    cli_logs_reserve(l, label);
    l->srcs = xrealloc(l->srcs, (l->n_srcs + 1) * sizeof(*l->srcs));
    l->srcs[l->n_srcs++] = s;
    l->active++;
    l->idle = false;
    return true;
}

bool cli_logs_streaming(const struct cli_logs *l, const char *id)
{
    const struct src *s = src_find(l, id);
    return s && s->state != SRC_DONE && s->state != SRC_AWAITING && s->state != SRC_DYING;
}

void cli_logs_note(struct cli_logs *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(l->out, fmt, ap);
    va_end(ap);
    fputc('\n', l->out);
    fflush(l->out);
}

void cli_logs_cancel(struct cli_logs *l)
{
    l->cancelled = true;
    if (l->grace) {
        grace_stop(l);
        if (l->active == 0 && !l->checking && !l->freeing)
            become_idle(l);
    }
    if (l->events)
        sched_op_cancel(l->events);
    for (size_t i = 0; i < l->n_srcs; i++) {
        struct src *s = l->srcs[i];
        if (s->req)
            engine_request_cancel(s->req);
        else if (s->state == SRC_AWAITING || s->state == SRC_DYING)
            src_end(s, NULL);
    }
}

bool cli_logs_idle(const struct cli_logs *l)
{
    return l->idle;
}

const struct cc_error *cli_logs_error(const struct cli_logs *l)
{
    return &l->err;
}

void cli_logs_free(struct cli_logs *l)
{
    if (!l)
        return;
    l->freeing = true;
    cli_logs_cancel(l);
    maybe_destroy(l);
}

static void logs_destroy(struct cli_logs *l)
{
    for (size_t i = 0; i < l->n_srcs; i++) {
        struct src *s = l->srcs[i];
        free(s->since);
        free(s->resume_since);
        free(s->id);
        free(s->label);
        free(s->service);
        for (size_t k = 0; k < CC_ARRAY_LEN(s->partial); k++)
            buf_release(&s->partial[k]);
        free(s);
    }
    for (size_t i = 0; i < l->n_colors; i++)
        free(l->colors[i].service);
    free(l->colors);
    free(l->srcs);
    for (int i = 0; i < l->n_services; i++)
        free(l->services[i]);
    free(l->services);
    free(l->project);
    cc_error_release(&l->err);
    free(l);
}

/* ---- Watching ---------------------------------------------------------------------------------
 */

static const char *attr(json_t *ev, const char *key)
{
    return json_string_value(
        json_object_get(json_object_get(json_object_get(ev, "Actor"), "Attributes"), key));
}

static void on_watch_event(json_t *ev, void *data)
{
    struct cli_logs *l = data;
    const char *action = json_string_value(json_object_get(ev, "Action"));
    const char *id = json_string_value(json_object_get(ev, "id"));
    const char *service = attr(ev, "com.docker.compose.service");
    const char *oneoff = attr(ev, "com.docker.compose.oneoff");
    if (l->cancelled || l->freeing || !action || !id || !service ||
        (oneoff && !strcmp(oneoff, "True")) ||
        !cli_service_selected(service, l->services, l->n_services))
        return;
    struct src *s = src_find(l, id);
    /* A new run's first lines may be logged before its start event is: a known container is
     * resumed from its last exit, a new one from its beginning (or the options' since). */
    long long ns = json_integer_value(json_object_get(ev, "timeNano"));
    if (s && s->die_ns && s->die_ns < ns && !strcmp(action, "start"))
        ns = s->die_ns;
    char since[48];
    snprintf(since, sizeof(since), "%lld.%09lld", ns / 1000000000LL, ns % 1000000000LL);
    if ((!strcmp(action, "kill") || !strcmp(action, "stop")) && s) {
        s->stopped = true;
    }
    if (!strcmp(action, "die") && s) {
        const char *code = attr(ev, "exitCode");
        s->died = true;
        s->die_code = code ? atoi(code) : -1;
        s->die_ns = ns;
        if (s->state == SRC_DYING) {
            s->died = false;
            if (l->on_exit)
                l->on_exit(s->label, s->service, s->die_code, l->data);
            src_end(s, NULL);
        }
    } else if (!strcmp(action, "start")) {
        if (s && s->state != SRC_DONE && s->state != SRC_AWAITING && s->state != SRC_DYING) {
            /* Its last run is still being read: the new one follows it. */
            free(s->resume_since);
            s->resume_since = xstrdup(since);
            return;
        }
        const char *name = attr(ev, "name");
        const char *number = attr(ev, "com.docker.compose.container-number");
        struct sched_observed_container c = {
            .name = (char *)(name ? name : id),
            .service = (char *)service,
            .number = number ? atoi(number) : 0,
        };
        char *label = cli_container_label(l->project, &c);
        struct cc_error err = CC_ERROR_INIT;
        if (!cli_logs_add(l, id, label, service, s ? since : NULL, &err) &&
            l->err.kind == CC_ERR_NONE)
            cc_error_copy(&l->err, &err);
        cc_error_release(&err);
        free(label);
    } else if (!strcmp(action, "create") && l->grace) {
        /* The successor of a stopped one: the look counts it (created since we watch). */
        grace_stop(l);
        if (l->active == 0 && !l->checking)
            idle_check(l);
    }
    if ((!strcmp(action, "destroy") || !strcmp(action, "stop")) && s &&
        (s->state == SRC_AWAITING || s->state == SRC_DYING)) {
        src_end(s, NULL); /* stopped or removed while it waited for its restart or its exit */
    }
    /* The last look saw a container that ran (or was about to) and is not followed: whether it
     * still does is for another look to say, since its end comes only as an event. */
    bool ends = !strcmp(action, "die") || !strcmp(action, "destroy") ||
                !strcmp(action, "stop") || !strcmp(action, "rename") ||
                (!strcmp(action, "create") && !l->grace);
    if (ends && l->checking)
        l->recheck = true;
    else if (ends && l->waiting && l->active == 0 && !l->grace)
        idle_check(l);
}

static void on_grace(uv_timer_t *t);

static void on_checked(json_t *result, const struct cc_error *err, void *data)
{
    struct cli_logs *l = data;
    l->checking = false;
    l->waiting = false;
    bool again = l->recheck;
    l->recheck = false;
    bool more = false;
    size_t i;
    json_t *c;
    json_array_foreach(err ? NULL : result, i, c)
    {
        json_t *labels = json_object_get(c, "Labels");
        const char *service =
            json_string_value(json_object_get(labels, "com.docker.compose.service"));
        const char *oneoff =
            json_string_value(json_object_get(labels, "com.docker.compose.oneoff"));
        const char *state = json_string_value(json_object_get(c, "State"));
        if (!service || (oneoff && !strcmp(oneoff, "True")) || !state ||
            !cli_service_selected(service, l->services, l->n_services))
            continue;
        /* Running or restarting: its start event is on its way (or came); created since we
         * watch: an up is making it, and will start it. */
        more |= !strcmp(state, "running") || !strcmp(state, "restarting") ||
                (!strcmp(state, "created") &&
                 (double)json_integer_value(json_object_get(c, "Created")) >= l->watch_since - 1);
    }
    /* A followed container stopped by someone (up recreating it: its successor comes; or a stop,
     * a down) rather than ended by itself. */
    bool stopped = false;
    for (size_t k = 0; k < l->n_srcs; k++) {
        struct src *s = l->srcs[k];
        if (s->stopped && !s->graced && s->state == SRC_DONE)
            stopped = s->graced = true;
    }
    if (l->freeing) {
        maybe_destroy(l);
        return;
    }
    if (l->active != 0)
        return;
    if (l->cancelled) {
        become_idle(l);
        return;
    }
    if (more) {
        l->waiting = true;
        if (again)
            idle_check(l); /* an event came meanwhile: what was seen may be gone already */
        return;
    }
    if (stopped && !l->grace) {
        l->grace = xcalloc(1, sizeof(*l->grace));
        l->grace->logs = l;
        uv_timer_init(l->loop, &l->grace->timer);
        l->grace->timer.data = l->grace;
        uv_timer_start(&l->grace->timer, on_grace, REMOVAL_GRACE_MS, 0);
        return;
    }
    become_idle(l);
}

static void on_grace(uv_timer_t *t)
{
    struct grace *g = t->data;
    struct cli_logs *l = g->logs;
    if (!l)
        return;
    grace_stop(l);
    if (l->active == 0 && !l->checking && !l->cancelled && !l->freeing)
        idle_check(l);
}

/* The last followed stream ended: idle, unless a container of the selection still runs or is
 * about to. */
static void idle_check(struct cli_logs *l)
{
    char *label = xasprintf("com.docker.compose.project=%s", l->project);
    json_t *f = json_pack("{s:[s]}", "label", label);
    free(label);
    struct cc_error err = CC_ERROR_INIT;
    l->checking = engine_container_list(l->c, true, f, on_checked, l, &err) != NULL;
    json_decref(f);
    cc_error_release(&err);
    if (!l->checking)
        become_idle(l);
}

/* The engine came back after a failure and may have forgotten starts: follow what runs. */
static void on_resync(void *data)
{
    struct cli_logs *l = data;
    if (!l->checking && l->active == 0 && !l->cancelled)
        idle_check(l);
}

static void on_events_done(const struct cc_error *err, void *data)
{
    struct cli_logs *l = data;
    l->events = NULL;
    if (err && err->kind != CC_ERR_CANCELLED && l->err.kind == CC_ERR_NONE)
        cc_error_copy(&l->err, err);
    if (l->freeing)
        maybe_destroy(l);
    else if (l->active == 0 && !l->checking)
        become_idle(l);
}

int cli_logs_watch(struct cli_logs *l, uv_loop_t *loop, const char *project,
                   const char *const *services, int n_services, struct cc_error *reterr)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    l->loop = loop;
    l->watch_since = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    l->project = xstrdup(project);
    l->services = xcalloc((size_t)n_services + 1, sizeof(*l->services));
    for (int i = 0; i < n_services; i++)
        l->services[i] = xstrdup(services[i]);
    l->n_services = n_services;
    l->events =
        sched_events(loop, l->c, project, on_watch_event, on_resync, on_events_done, l, reterr);
    return l->events ? 0 : -1;
}

/* Go's durations as docker takes them for --since/--until: "42m", "1h30m", "1.5h", "10s". */
static int parse_duration(const char *s, double *ret)
{
    static const struct {
        const char *unit;
        double secs;
    } units[] = {{"ns", 1e-9}, {"us", 1e-6}, {"µs", 1e-6}, {"ms", 1e-3},
                 {"s", 1},     {"m", 60},    {"h", 3600}};
    double total = 0;
    if (!*s)
        return -1;
    while (*s) {
        char *end;
        double v = strtod(s, &end);
        if (end == s || v < 0)
            return -1;
        size_t best = 0, best_len = 0;
        for (size_t i = 0; i < CC_ARRAY_LEN(units); i++) {
            size_t n = strlen(units[i].unit);
            if (!strncmp(end, units[i].unit, n) && n > best_len) {
                best = i;
                best_len = n;
            }
        }
        if (!best_len)
            return -1;
        total += v * units[best].secs;
        s = end + best_len;
    }
    *ret = total;
    return 0;
}

char *cli_log_time(const char *value)
{
    char *end;
    strtod(value, &end);
    if (*value && !*end)
        return xstrdup(value); /* a Unix timestamp already */
    double ago;
    if (parse_duration(value, &ago) == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        double t = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 - ago;
        return xasprintf("%.9f", t);
    }
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *rest = strptime(value, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!rest) {
        memset(&tm, 0, sizeof(tm));
        rest = strptime(value, "%Y-%m-%d", &tm);
    }
    if (!rest)
        return NULL;
    double frac = 0;
    if (*rest == '.') {
        frac = strtod(rest, &end);
        rest = end;
    }
    long offset = 0;
    if (*rest == '+' || *rest == '-') {
        int hh = 0, mm = 0;
        if (sscanf(rest + 1, "%2d:%2d", &hh, &mm) != 2)
            return NULL;
        offset = (hh * 3600L + mm * 60L) * (*rest == '-' ? -1 : 1);
        rest += 6;
    } else if (*rest == 'Z') {
        rest++;
    } else if (*rest) {
        return NULL;
    }
    if (*rest)
        return NULL;
    time_t t = timegm(&tm) - offset;
    return xasprintf("%lld.%09ld", (long long)t, (long)(frac * 1e9));
}
