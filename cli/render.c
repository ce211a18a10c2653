/* The progress display of scheduler events, as docker compose v2 shows it: on a terminal a
 * "[+] Running n/m" header and one line per resource, redrawn in place at most every 100 ms;
 * elsewhere one plain line per event; or one JSON object per event, or nothing (quiet). */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli/run.h"
#include "common/buf.h"

enum progress_mode { PROGRESS_PLAIN = 0, PROGRESS_TTY, PROGRESS_JSON, PROGRESS_QUIET };

struct entry {
    char *id;     /* "Container p-web-1" */
    char *status; /* "Started" */
    char *text;
    uint64_t started_ms;
    uint64_t ended_ms; /* 0 while in progress */
    bool error;
};

struct cli_progress {
    enum progress_mode mode;
    bool color;
    FILE *out;
    uv_loop_t *loop;
    uv_timer_t *timer; /* tty: the redraw tick; freed in its close callback */
    bool dirty;
    int drawn; /* lines drawn last time, to move back over them */
    unsigned frame;
    struct entry *entries;
    size_t n_entries;
};

static const char *env_or(const char *flag, const char *var)
{
    if (flag && *flag)
        return flag;
    const char *v = getenv(var);
    return v && *v ? v : NULL;
}

bool cli_color_enabled(const struct cli_context *ctx, FILE *f)
{
    const char *ansi = env_or(ctx->g.ansi, "COMPOSE_ANSI");
    if (ansi && !strcmp(ansi, "never"))
        return false;
    const char *no_color = getenv("NO_COLOR");
    if (no_color && *no_color)
        return false;
    if (ansi && !strcmp(ansi, "always"))
        return true;
    return isatty(fileno(f));
}

static enum progress_mode pick_mode(const struct cli_context *ctx)
{
    const char *progress = env_or(ctx->g.progress, "COMPOSE_PROGRESS");
    const char *ansi = env_or(ctx->g.ansi, "COMPOSE_ANSI");
    bool no_ansi = ansi && !strcmp(ansi, "never");
    if (progress && !strcmp(progress, "plain"))
        return PROGRESS_PLAIN;
    if (progress && !strcmp(progress, "json"))
        return PROGRESS_JSON;
    if (progress && !strcmp(progress, "quiet"))
        return PROGRESS_QUIET;
    if (progress && !strcmp(progress, "tty"))
        return no_ansi ? PROGRESS_PLAIN : PROGRESS_TTY;
    if (no_ansi)
        return PROGRESS_PLAIN;
    if (ansi && !strcmp(ansi, "always"))
        return PROGRESS_TTY;
    return isatty(STDERR_FILENO) && isatty(STDOUT_FILENO) ? PROGRESS_TTY : PROGRESS_PLAIN;
}

static bool is_final(enum sched_state s)
{
    switch (s) {
    case SCHED_CREATED:
    case SCHED_RECREATED:
    case SCHED_STARTED:
    case SCHED_RUNNING:
    case SCHED_HEALTHY:
    case SCHED_EXITED:
    case SCHED_STOPPED:
    case SCHED_REMOVED:
    case SCHED_WARNING:
    case SCHED_ERROR:
    case SCHED_RESTARTED:
    case SCHED_PULLED:
    case SCHED_BUILT:
    case SCHED_UPDATED:
    case SCHED_PUSHED:
    case SCHED_SKIPPED:
        return true;
    default:
        return false;
    }
}

static int term_width(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 80;
}

static void paint(struct buf *b, bool color, const char *sgr, const char *s)
{
    if (color)
        buf_printf(b, "\033[%sm%s\033[0m", sgr, s);
    else
        buf_adds(b, s);
}

/* Columns of the first n bytes of UTF-8 s (a code point a column), and the bytes of its longest
 * prefix of at most max columns. */
static size_t columns(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

static size_t prefix_bytes(const char *s, size_t max)
{
    size_t i = 0, c = 0;
    for (; s[i]; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80 && c++ == max)
            break;
    }
    return i;
}

/* One resource's line in width columns: the mark, the id, the state, then the text where it fits,
 * the elapsed time at the right edge. Too narrow: the text goes first, then the id is shortened
 * ("…"), so that the state always shows. */
static void draw_entry(struct cli_progress *p, struct buf *b, const struct entry *e, int width,
                       uint64_t now)
{
    static const char *const spinner[] = {"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"};
    char elapsed[32];
    uint64_t end = e->ended_ms ? e->ended_ms : now;
    snprintf(elapsed, sizeof(elapsed), "%.1fs", (double)(end - e->started_ms) / 1000.0);
    int room = width - 3 - 1 - (int)strlen(elapsed);
    if (room < 10)
        room = 10;
    size_t id_cols = columns(e->id, strlen(e->id)), st_cols = columns(e->status, strlen(e->status));
    struct buf line = BUF_INIT;
    if ((int)(id_cols + 2 + st_cols) > room) {
        int keep = room - 2 - (int)st_cols - 1;
        buf_add(&line, e->id, prefix_bytes(e->id, keep > 1 ? (size_t)keep : 1));
        buf_printf(&line, "…  %s", e->status);
    } else {
        buf_printf(&line, "%s  %s", e->id, e->status);
        int left = room - (int)(id_cols + 2 + st_cols) - 2;
        if (e->text && left > 0) {
            /* One line: a multi-line text (an error's details) shows its first. */
            size_t n = prefix_bytes(e->text, (size_t)left), first = strcspn(e->text, "\r\n");
            buf_adds(&line, "  ");
            buf_add(&line, e->text, n < first ? n : first);
        }
    }
    int used = (int)columns(line.data, line.len);
    buf_adds(b, " ");
    if (e->error)
        paint(b, p->color, "31", "✘");
    else if (e->ended_ms)
        paint(b, p->color, "32", "✔");
    else
        paint(b, p->color, "34", spinner[p->frame % CC_ARRAY_LEN(spinner)]);
    buf_adds(b, " ");
    if (e->error)
        paint(b, p->color, "31", line.data);
    else
        buf_adds(b, line.data);
    buf_printf(b, "%*s", room - used + 1 + (int)strlen(elapsed), elapsed);
    buf_release(&line);
}

static void draw(struct cli_progress *p)
{
    uint64_t now = uv_now(p->loop);
    int width = term_width();
    struct buf b = BUF_INIT;
    if (p->drawn > 0)
        buf_printf(&b, "\033[%dA", p->drawn);
    size_t done = 0;
    for (size_t i = 0; i < p->n_entries; i++)
        done += p->entries[i].ended_ms != 0;
    char header[64];
    snprintf(header, sizeof(header), "[+] Running %zu/%zu", done, p->n_entries);
    buf_adds(&b, "\r\033[2K");
    paint(&b, p->color, "34", header);
    buf_adds(&b, "\n");
    for (size_t i = 0; i < p->n_entries; i++) {
        buf_adds(&b, "\r\033[2K");
        draw_entry(p, &b, &p->entries[i], width, now);
        buf_adds(&b, "\n");
    }
    fwrite(b.data, 1, b.len, p->out);
    fflush(p->out);
    p->drawn = (int)p->n_entries + 1;
    p->dirty = false;
    buf_release(&b);
}

static void on_tick(uv_timer_t *t)
{
    struct cli_progress *p = t->data;
    p->frame++;
    if (p->n_entries > 0)
        draw(p);
}

struct cli_progress *cli_progress_new(struct cli_context *ctx)
{
    struct cli_progress *p = xcalloc(1, sizeof(*p));
    p->mode = pick_mode(ctx);
    p->out = stderr;
    p->loop = ctx->loop;
    p->color = p->mode == PROGRESS_TTY && cli_color_enabled(ctx, stderr);
    if (p->mode == PROGRESS_TTY) {
        p->timer = xcalloc(1, sizeof(*p->timer));
        uv_timer_init(p->loop, p->timer);
        p->timer->data = p;
        uv_timer_start(p->timer, on_tick, 100, 100);
        uv_unref((uv_handle_t *)p->timer);
    }
    return p;
}

bool cli_progress_is_tty(const struct cli_progress *p)
{
    return p->mode == PROGRESS_TTY;
}

static struct entry *find_entry(struct cli_progress *p, const char *id)
{
    for (size_t i = 0; i < p->n_entries; i++)
        if (!strcmp(p->entries[i].id, id))
            return &p->entries[i];
    p->entries = xrealloc(p->entries, (p->n_entries + 1) * sizeof(*p->entries));
    struct entry *e = &p->entries[p->n_entries++];
    memset(e, 0, sizeof(*e));
    e->id = xstrdup(id);
    e->started_ms = uv_now(p->loop);
    return e;
}

static void report_json(struct cli_progress *p, const char *id, const char *status,
                        const char *text, bool done, bool error)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    json_t *o = json_pack("{s:s, s:s, s:b, s:b, s:f}", "id", id, "status", status, "done", done,
                          "error", error, "time", (double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
    /* A multi-line text (a failure's state, health check and log lines): its first line is the
     * text, the rest the details. */
    size_t first = text ? strcspn(text, "\n") : 0;
    if (text)
        json_object_set_new(o, "text", json_stringn(text, first));
    if (text && text[first] && text[first + 1])
        json_object_set_new(o, "details", json_string(text + first + 1));
    char *s = json_dumps(o, JSON_COMPACT);
    fprintf(p->out, "%s\n", s);
    fflush(p->out);
    free(s);
    json_decref(o);
}

void cli_progress_report(struct cli_progress *p, const char *kind, const char *name,
                         const char *status, const char *text, bool done, bool error)
{
    char *id = xasprintf("%s %s", kind, name);
    switch (p->mode) {
    case PROGRESS_QUIET:
        break;
    case PROGRESS_JSON:
        report_json(p, id, status, text, done, error);
        break;
    case PROGRESS_PLAIN:
        fprintf(p->out, "%s  %s%s%s\n", id, status, text ? "  " : "", text ? text : "");
        fflush(p->out);
        break;
    case PROGRESS_TTY: {
        struct entry *e = find_entry(p, id);
        free(e->status);
        free(e->text);
        e->status = xstrdup(status);
        e->text = text ? xstrdup(text) : NULL;
        e->error = error;
        e->ended_ms = done ? uv_now(p->loop) : 0;
        if (done && e->ended_ms == e->started_ms)
            e->ended_ms++;
        p->dirty = true;
        if (p->drawn == 0)
            draw(p);
        break;
    }
    }
    free(id);
}

void cli_progress_event(const struct sched_event *ev, void *data)
{
    static const char *const kinds[] = {[SCHED_RES_NETWORK] = "Network",
                                        [SCHED_RES_VOLUME] = "Volume",
                                        [SCHED_RES_CONTAINER] = "Container",
                                        [SCHED_RES_IMAGE] = "Image",
                                        [SCHED_RES_SERVICE] = "Service",
                                        [SCHED_RES_SECRET] = "Secret",
                                        [SCHED_RES_CONFIG] = "Config",
                                        [SCHED_RES_TASK] = "Task"};
    cli_progress_report(data, kinds[ev->kind], ev->name, sched_state_name(ev->state), ev->text,
                        is_final(ev->state), ev->state == SCHED_ERROR);
}

static void on_timer_closed(uv_handle_t *h)
{
    free(h);
}

void cli_progress_free(struct cli_progress *p)
{
    if (!p)
        return;
    if (p->timer) {
        if (p->n_entries > 0 && (p->dirty || p->drawn))
            draw(p);
        uv_timer_stop(p->timer);
        uv_close((uv_handle_t *)p->timer, on_timer_closed);
    }
    for (size_t i = 0; i < p->n_entries; i++) {
        free(p->entries[i].id);
        free(p->entries[i].status);
        free(p->entries[i].text);
    }
    free(p->entries);
    free(p);
}
