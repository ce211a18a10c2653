/* The log multiplexer: several containers' output on one stream, line by line, each line prefixed
 * with the container's label ("web-1  | "), aligned and colored per service as docker compose
 * does. Each container's stream is an inspect (for its TTY setting), then the logs request; with
 * follow, an inspect at the end gives its exit code. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/run.h"
#include "common/buf.h"
#include "common/log.h"

enum src_state { SRC_INSPECTING = 0, SRC_STREAMING, SRC_EXITING, SRC_DONE };

struct src {
    struct cli_logs *logs;
    enum src_state state;
    char *id;
    char *label;
    char *service;
    char *since;           /* NULL: the options' */
    const char *color;     /* SGR parameters, or NULL */
    struct buf partial[4]; /* an unfinished line per stream */
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

static void src_end(struct src *s, const struct cc_error *err)
{
    struct cli_logs *l = s->logs;
    src_set_state(s, SRC_DONE);
    s->req = NULL;
    flush_partial(s);
    if (err && err->kind != CC_ERR_CANCELLED && err->kind != CC_ERR_NOT_FOUND &&
        l->err.kind == CC_ERR_NONE)
        cc_error_copy(&l->err, err);
    if (--l->active > 0)
        return;
    if (l->freeing)
        logs_destroy(l);
    else if (l->on_idle)
        l->on_idle(l->data);
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
    if (!err && l->on_exit && !l->freeing)
        l->on_exit(s->label, s->service, code, l->data);
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

bool cli_logs_add(struct cli_logs *l, const char *id, const char *label, const char *service,
                  const char *since, struct cc_error *reterr)
{
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
    return true;
}

bool cli_logs_streaming(const struct cli_logs *l, const char *id)
{
    for (size_t i = 0; i < l->n_srcs; i++)
        if (!strcmp(l->srcs[i]->id, id) && l->srcs[i]->state != SRC_DONE)
            return true;
    return false;
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
    for (size_t i = 0; i < l->n_srcs; i++)
        if (l->srcs[i]->req)
            engine_request_cancel(l->srcs[i]->req);
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
    if (l->active == 0)
        logs_destroy(l);
    else
        cli_logs_cancel(l);
}

static void logs_destroy(struct cli_logs *l)
{
    for (size_t i = 0; i < l->n_srcs; i++) {
        struct src *s = l->srcs[i];
        free(s->since);
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
    cc_error_release(&l->err);
    free(l);
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
