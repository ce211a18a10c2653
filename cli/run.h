/* What the commands share: the engine connection, running a scheduler operation to its end on the
 * loop, Ctrl-C, the progress display of scheduler events, and the multiplexed log output of
 * containers. Everything here prints (stdout for results and logs, stderr for progress and
 * errors); nothing below cli/ does. */
#ifndef CC_CLI_RUN_H
#define CC_CLI_RUN_H

#include <stdbool.h>
#include <stdio.h>

#include "cli/cli.h"
#include "engine-client/engine.h"
#include "scheduler/scheduler.h"

struct cli_progress;
struct cli_wait;

/* ---- Engine and project (cli/engine.c) ----------------------------------------------------- */

/* Opens the client for -H, else DOCKER_HOST, else the default socket. On failure prints the error
 * and returns its exit code (> 0); 0 on success with *ret (new: engine_client_free()). */
int cli_engine_open(struct cli_context *ctx, struct engine_client **ret);

/* The project name when no compose file is loaded: -p, else COMPOSE_PROJECT_NAME; NULL when
 * neither is set. Borrowed. */
const char *cli_project_name(const struct cli_context *ctx);

/* Finds the project a command acts on: its name, and the loaded model when need_model or when a
 * compose file is there to load (*ret_model NULL otherwise: the command works from the labels).
 * services (may be empty) are the SERVICE arguments: with a model, each must be one of its
 * services ("no such service", exit 1, as docker compose's commands taking SERVICE... say; exec,
 * cp and port name their service without this check, as docker compose's do). On failure prints
 * why and returns the exit code (> 0). *ret_model is new (compose_project_free()); *ret_name is
 * borrowed from it or from the globals. */
int cli_project_resolve(struct cli_context *ctx, char *const *services, int n_services,
                        bool need_model, const char **ret_name, struct compose_project **ret_model);
/* Fails (prints "no such service: 'NAME'" for the first unknown name, returns exit 1) when one
 * of services is not a service of p. */
int cli_services_check(const struct compose_project *p, char *const *services, int n_services);

/* Observes the project on c to the end: what runs, from the labels (with model, may be NULL, also
 * its images, networks and volumes). On failure prints why and returns the exit code (> 0); *ret
 * is new (sched_observed_free()). */
int cli_observe(struct cli_context *ctx, struct engine_client *c, const char *project,
                const struct compose_project *model, struct sched_observed **ret);

/* cli_observe() for a command that acts on the project's containers alone: the container list,
 * no network or volume list. */
int cli_observe_containers(struct cli_context *ctx, struct engine_client *c, const char *project,
                           struct sched_observed **ret);

/* Runs a scheduler operation to its end with the progress display; returns the exit code. start
 * makes the operation with cli_on_event, cli_on_done and w as its callbacks and their data. */
typedef struct sched_op *(*cli_op_start_fn)(struct cli_wait *w, void *data,
                                            struct cc_error *reterr);
int cli_run_op(struct cli_context *ctx, cli_op_start_fn start, void *data);

/* --dry-run of down, start, stop and restart: what the command would do, one line a resource
 * ("container p-web-1: stop", "network p_default: remove"), from one observation; changes
 * nothing. verb is "start", "stop", "restart" or "down" (stop and remove, then the networks, and
 * the volumes with volumes). Returns the exit code. */
int cli_dry_run_lifecycle(struct cli_context *ctx, struct engine_client *c, const char *project,
                          char *const *services, int n_services, const char *verb, bool volumes);

/* ---- One call per container: kill, pause, unpause, rm (cli/each.c) ------------------------- */

/* What a command does to each container. */
struct cli_each {
    const char *verb;  /* --dry-run: "kill" prints "container p-web-1: kill" */
    const char *doing; /* the progress status while the call runs ("Killing"); NULL: none */
    const char *done;  /* and once it succeeded ("Killed") */
    /* Makes the call for container id; arg is the struct's. */
    struct engine_request *(*call)(struct engine_client *c, const char *id, void *arg, engine_cb cb,
                                   void *data, struct cc_error *reterr);
    void *arg;
};

/* Runs each->call on the n containers cts (borrowed), side by side (at most --parallel at once),
 * with the progress display; no call is made after one failed. With --dry-run only prints
 * "container NAME: VERB" lines on stdout. Prints the first failure and returns the exit code. */
int cli_each_container(struct cli_context *ctx, struct engine_client *c,
                       const struct sched_observed_container *const *cts, size_t n,
                       const struct cli_each *each);

/* A project as the commands that look at its containers see it: its name, its model when a
 * compose file is there (else NULL), the engine and one observation of what runs. */
struct cli_view {
    char *const *services; /* the SERVICE arguments (borrowed from argv) */
    int n_services;
    const char *project; /* borrowed from the model or the globals */
    struct compose_project *model;
    struct engine_client *c;
    struct sched_observed *observed;
};
/* Resolves the project (services: the SERVICE arguments), opens the engine and observes. On
 * failure prints why and returns the exit code (> 0); release v either way. */
int cli_view_open(struct cli_context *ctx, char *const *services, int n_services,
                  struct cli_view *v);
/* Frees what v holds and runs the loop until the client has closed. */
void cli_view_release(struct cli_context *ctx, struct cli_view *v);

/* The containers v observed (borrowed from it, in its order) of the services named (none: all),
 * one-off ones only when oneoff, only in one of states (a NULL-terminated list of the engine's
 * states; NULL: any), and with a model only of services it defines unless orphans. The array is
 * new (free() it); *ret_n says how many. */
struct sched_observed_container **cli_select_containers(const struct cli_view *v,
                                                        char *const *services, int n_services,
                                                        bool oneoff, bool orphans,
                                                        const char *const *states, size_t *ret_n);

/* pause and unpause share everything but the call (cli/cmd-pause.c). */
int cli_pause_run(struct cli_context *ctx, int argc, char **argv, bool pause);
/* up, create and scale (cli/cmd-up.c): the same images-then-converge run, each with its own
 * flags. create is up --no-start with create's flags; scale takes SERVICE=N... and --no-deps and
 * runs as up -d --scale. Returns the exit code. */
enum cli_up_mode { CLI_UP = 0, CLI_UP_CREATE, CLI_UP_SCALE };
int cli_up_run(struct cli_context *ctx, int argc, char **argv, enum cli_up_mode mode);

/* Whether the environment variable is true as docker compose reads booleans ("1", "t", "true",
 * in any case). */
bool cli_env_true(const char *name);

/* start, stop and restart share their flags: [-t N] [SERVICE...]. */
int cli_lifecycle_run(struct cli_context *ctx, int argc, char **argv,
                      enum sched_lifecycle_action action);

/* build, pull and push (cli/images.c): loads the project, checks the named services, and runs
 * sched_ensure_images() with opts (services and on_build_line are filled in here) to its end,
 * with the progress display unless quiet. Returns the exit code. */
int cli_images_run(struct cli_context *ctx, char *const *services, int n_services,
                   struct sched_ensure_options *opts, bool quiet);
/* The part of cli_images_run() after loading: runs sched_ensure_images() on c for p (both
 * borrowed) with opts (on_build_line filled in here) to its end, with the progress display unless
 * quiet; Ctrl-C cancels. Returns the exit code (the error printed). */
int cli_images_ensure(struct cli_context *ctx, struct engine_client *c,
                      const struct compose_project *p, struct sched_ensure_options *opts,
                      bool quiet);
/* pull and push share their flags: [--ignore-pull-failures|--ignore-push-failures]
 * [--include-deps] [-q] [SERVICE...]. mode is SCHED_ENSURE_PULL or SCHED_ENSURE_PUSH. */
int cli_transfer_run(struct cli_context *ctx, int argc, char **argv, enum sched_ensure_mode mode);

/* Parses a whole non-negative number for a flag; prints the error and returns -1 when it is not
 * one. */
int cli_parse_count(const char *flag, const char *value, int max, int *ret);

/* Parses --format's value, "table" or "json" (*ret_json set); prints the error and returns -1
 * on anything else. */
int cli_parse_format(const char *value, bool *ret_json);

/* A scheduler operation's end, for sched_done_cb: fill a struct cli_wait passed as data. */
struct cli_wait {
    bool done;
    struct cc_error err;
    struct cli_progress *progress; /* where cli_on_event sends events; borrowed */
};
void cli_on_done(const struct cc_error *err, void *data);
/* A sched_event_cb for a struct cli_wait: to its progress display. */
void cli_on_event(const struct sched_event *ev, void *data);
/* Runs the loop until w->done (or until the loop has nothing left to do). */
void cli_wait_run(uv_loop_t *loop, struct cli_wait *w);
/* Prints w's error when there was one and returns the exit code that fits. */
int cli_wait_exit(const struct cli_wait *w);

/* Ctrl-C: on_interrupt(count, data) runs from the loop at each SIGINT (count 1, 2, ...). The
 * handle is unreferenced: it does not keep the loop alive. */
struct cli_interrupt {
    uv_signal_t sig;
    int count;
    void (*on_interrupt)(int count, void *data);
    void *data;
};
void cli_interrupt_start(uv_loop_t *loop, struct cli_interrupt *in,
                         void (*on_interrupt)(int count, void *data), void *data);
/* Closes the handle; run the loop afterwards. */
void cli_interrupt_stop(struct cli_interrupt *in);

/* ---- Attached processes: exec and run (cli/attach.c) ---------------------------------------- */

/* A process's stdin, stdout and stderr joined to ours over a hijacked stream: our stdin (a
 * terminal, a pipe or a file) is sent until its end, the output is written to stdout and stderr as
 * it comes. With tty, a terminal on stdin is put in raw mode (restored by cli_attach_release())
 * and its size is sent at the start and on SIGWINCH. */
struct cli_attach {
    uv_loop_t *loop;
    struct engine_client *c;
    bool tty;
    bool stdin_on;         /* send our stdin */
    const char *exec_id;   /* an exec's stream, or else */
    const char *container; /* the container's (attach before start) */
    /* Runs once the stream is open (run starts the container here); may be NULL. */
    void (*on_open)(struct cli_attach *a, void *data);
    void *data;
    /* Filled by the session. */
    struct engine_hijack *h;
    bool done;
    struct cc_error err; /* why the stream failed, kind NONE when it ended well */
    int in_kind;
    union {
        uv_tty_t tty;
        uv_pipe_t pipe;
        uv_handle_t handle;
    } in;
    bool in_open, in_paused, in_eof, raw, winch_on;
    uv_fs_t fs;
    bool fs_busy;
    char fs_buf[64 * 1024];
    uv_signal_t winch;
};

/* Opens the stream of a (its loop, c, tty, stdin_on, exec_id or container, on_open set; the rest
 * zero). Returns 0, or prints the error and returns the exit code. */
int cli_attach_start(struct cli_attach *a);
/* Runs the loop until the stream ended (or a->done was set). */
void cli_attach_wait(struct cli_attach *a);
/* Ends the stream early (Ctrl-C). */
void cli_attach_cancel(struct cli_attach *a);
/* Closes stdin's handle and restores the terminal; run the loop afterwards. */
void cli_attach_release(struct cli_attach *a);

/* The running container of service number index (one-off ones left out), or NULL: borrowed from
 * observed. */
const struct sched_observed_container *cli_find_container(const struct sched_observed *observed,
                                                          const char *service, int index);

/* One engine call run to its end: make it with cli_call_done and the struct as data (and &w->err
 * as reterr), then cli_call_run(). */
struct cli_call {
    bool done;
    json_t *result; /* the call's result (new), NULL when none */
    struct cc_error err;
};
void cli_call_done(json_t *result, const struct cc_error *err, void *data);
/* Runs the loop until the call completes (req NULL: it could not be made, w->err says why).
 * Prints the failure and returns its exit code, else 0 with w->result set. */
int cli_call_run(uv_loop_t *loop, struct engine_request *req, struct cli_call *w);
/* Releases the result and error; w may be used again. */
void cli_call_release(struct cli_call *w);

/* Appends "-e K=V" (or "-e K", taking K's value from our environment when set) to an Env array. */
void cli_env_add(json_t *env, const char *arg);

/* ---- Progress (cli/render.c) --------------------------------------------------------------- */

struct cli_progress;
struct cli_wait;

/* A display of resource states on stderr, chosen from --progress / COMPOSE_PROGRESS (auto, tty,
 * plain, json, quiet) and --ansi / COMPOSE_ANSI / NO_COLOR: on a terminal (auto), one line per
 * resource redrawn in place at most every 100 ms under a "[+] Running n/m" header; otherwise one
 * plain line per event ("Container p-web-1  Started"); json: one object per event. new: free it
 * with cli_progress_free(), which draws the last state; then run the loop (its timer closes). */
struct cli_progress *cli_progress_new(struct cli_context *ctx);
/* A sched_event_cb: data is the struct cli_progress. */
void cli_progress_event(const struct sched_event *ev, void *data);
/* One line about anything: kind ("Image", "Container", ...), name, status ("Pulling", "Built"),
 * text (may be NULL); done says the resource has reached its final state, error that it failed. */
void cli_progress_report(struct cli_progress *p, const char *kind, const char *name,
                         const char *status, const char *text, bool done, bool error);
/* Whether lines go to a terminal redrawn in place (then other output should wait for the end). */
bool cli_progress_is_tty(const struct cli_progress *p);
void cli_progress_free(struct cli_progress *p);

/* Whether colors may be used on f: --ansi / COMPOSE_ANSI and NO_COLOR, else whether f is a
 * terminal. */
bool cli_color_enabled(const struct cli_context *ctx, FILE *f);

/* ---- Tables (cli/table.c) ------------------------------------------------------------------ */

/* Rows of n_cols cells laid out as Go's text/tabwriter does for docker's commands. */
struct cli_table {
    size_t n_cols;
    size_t n_rows;
    char **cells; /* n_rows * n_cols, new */
};
void cli_table_init(struct cli_table *t, size_t n_cols);
/* Appends a row of n_cols strings (copied; NULL is empty). */
void cli_table_add(struct cli_table *t, ...);
void cli_table_add_row(struct cli_table *t, const char *const *cells);
/* Each column as wide as its widest cell plus padding, at least minwidth; the last unpadded.
 * docker compose uses minwidth 20 and padding 3 for ls and images, 4 and 2 for top. */
void cli_table_print(const struct cli_table *t, FILE *out, size_t minwidth, size_t padding);
void cli_table_release(struct cli_table *t);
/* The characters (UTF-8 sequences) in s. */
size_t cli_text_width(const char *s);

/* ---- Logs (cli/logs.c) --------------------------------------------------------------------- */

/* Several containers' output on one stream, each line prefixed "web-1  | " (aligned to the
 * longest label, a color per service unless no_color), as docker compose prints them. */
struct cli_logs_options {
    bool follow;
    bool timestamps;
    bool no_color;
    bool no_prefix;
    const char *tail; /* "all" or a number; NULL: all */
    const char *since;
    const char *until;
};

struct cli_logs;

/* Called when a followed container's stream ends (it stopped): its label, service and exit code
 * (-1 when unknown). */
typedef void (*cli_logs_exit_cb)(const char *label, const char *service, int exit_code, void *data);
/* Called when no stream is left. */
typedef void (*cli_logs_idle_cb)(void *data);

/* new; out is borrowed. */
struct cli_logs *cli_logs_new(struct engine_client *c, FILE *out,
                              const struct cli_logs_options *opts, cli_logs_exit_cb on_exit,
                              cli_logs_idle_cb on_idle, void *data);
/* Reserves room for a label so that prefixes line up from the first line. */
void cli_logs_reserve(struct cli_logs *l, const char *label);
/* Streams a container's logs (an inspect first, for its TTY setting); id and names are copied.
 * since (may be NULL: the options') is where the stream begins, e.g. when a restarted
 * container is followed again. Returns false with *reterr when the request cannot be made. */
bool cli_logs_add(struct cli_logs *l, const char *id, const char *label, const char *service,
                  const char *since, struct cc_error *reterr);
/* Follows project's container events too (subscribe before the first cli_logs_add(), so that no
 * start is missed): a container of the selected services (services, n_services: none means all;
 * copied) that starts while watching, restarted or recreated or new, is followed from its start;
 * one whose restart policy brings it back is followed again; the multiplexer is idle once no
 * followed stream is left and no selected container runs or restarts (or was created since the
 * watch began: an up is about to start it). Returns -1 with *reterr when the subscription cannot
 * be made. */
int cli_logs_watch(struct cli_logs *l, uv_loop_t *loop, const char *project,
                   const char *const *services, int n_services, struct cc_error *reterr);
/* Whether on_idle was called and nothing has been followed since. */
bool cli_logs_idle(const struct cli_logs *l);
/* Whether the container's logs are being streamed now. */
bool cli_logs_streaming(const struct cli_logs *l, const char *id);
/* One line of ccompose's own among the logs ("web-1 exited with code 0"). */
void cli_logs_note(struct cli_logs *l, const char *fmt, ...) CC_PRINTF(2, 3);
/* Stops every stream; their ends are reported (on_idle) from the loop. */
void cli_logs_cancel(struct cli_logs *l);
/* The first error a stream met (kind NONE when none); borrowed. */
const struct cc_error *cli_logs_error(const struct cli_logs *l);
/* Frees it; streams still running are cancelled first (run the loop afterwards). */
void cli_logs_free(struct cli_logs *l);

/* A --since/--until value as the engine takes it ("secs.nanos"): a Unix timestamp, an RFC 3339
 * time or date, or a duration ago ("42m", "1h30m"). new; NULL when it is none of these. */
char *cli_log_time(const char *value);

/* The label docker compose prints for a container: "web-1" for "<project>-web-1", else its name.
 * new. */
char *cli_container_label(const char *project, const struct sched_observed_container *c);
/* Whether service is listed (n == 0: every service is). */
bool cli_service_selected(const char *service, char *const *services, int n);

#endif
