/* Helpers for integration tests against the real engine: run one loop until a call completes,
 * unique names per test process, and the cleanup list that removes whatever a test made. */
#ifndef CC_TESTS_ENGINE_TEST_H
#define CC_TESTS_ENGINE_TEST_H

#include <stdbool.h>

#include "common/buf.h"
#include "engine-client/engine.h"

/* The image integration tests run (made by scripts/test-image.sh). */
#define TEST_IMAGE "ccompose-test/busybox:latest"

/* A container script that says "ready" once the traps before it are set, then idles; its `wait`
 * lets a trapped signal in at once. */
#define TL_IDLE_SCRIPT "echo ready; while :; do sleep 1 & wait $!; done"

/* What a call completed with. json is new (or NULL); err is empty on success. */
struct tl_result {
    bool done;
    json_t *json;
    struct cc_error err;
    int items;           /* stream items or output chunks seen */
    struct buf out;      /* output bytes (stdout and stderr) of logs/attach/exec calls */
    struct buf err_out;  /* stderr bytes */
    struct buf by_fd[4]; /* the output bytes again, by stream (index: enum engine_stream_fd) */
};

struct tl_env {
    uv_loop_t loop;
    struct engine_client *c;
    /* Wakes the loop every 20 ms (unreferenced: it keeps nothing alive). A call can end in a
     * timer callback (the client's curl timer or its deferred work); a test waiting with
     * uv_run(UV_RUN_ONCE) would then go on into the poll phase and sleep there for good when
     * nothing else is due. The tick bounds that sleep, so every wait loop sees `done`. */
    uv_timer_t tick;
};

/* The engine the run is against: CCOMPOSE_TEST_ENGINE ("docker", the default, or "podman"; set
 * by scripts/run-tests.sh with DOCKER_HOST pointing at it). */
bool tl_engine_is_podman(void);
/* Skips the calling test when the run is against Podman, printing why (a sentence naming what
 * Podman lacks or does differently); use it as a test's first statement. */
#define TL_SKIP_ON_PODMAN(why)                                                                     \
    do {                                                                                           \
        if (tl_engine_is_podman()) {                                                               \
            print_message("[  SKIPPED ] %s on podman: %s\n", __func__, (why));                     \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

/* How many times slower than a plain run this one goes: CCOMPOSE_TEST_SLOWDOWN (a number >= 1,
 * set by scripts/valgrind-test.sh, whose runs take seconds where a plain one takes a fraction),
 * else 1. Upper bounds of timing assertions that include ccompose's own work scale with it; lower
 * bounds (a grace period waited for) and the engine's own delays do not. */
double tl_slowdown(void);

/* Makes a loop and a client for the default engine (DOCKER_HOST or the default socket). env must
 * not move afterwards (the tick timer lives in it). */
void tl_env_init(struct tl_env *env);
/* Frees the client, runs the loop dry, and asserts uv_loop_close() returns 0. */
void tl_env_release(struct tl_env *env);

void tl_result_init(struct tl_result *r);
void tl_result_release(struct tl_result *r);

/* Callbacks that fill a struct tl_result passed as data. */
void tl_on_done(json_t *result, const struct cc_error *err, void *data);
void tl_on_item(json_t *item, void *data);
void tl_on_output(enum engine_stream_fd fd, const char *buf, size_t len, void *data);

/* Runs the loop until r->done; fails the test if the request handle is NULL (reterr shown). */
void tl_wait(struct tl_env *env, struct engine_request *req, struct tl_result *r,
             const struct cc_error *reterr);
/* Asserts success / a failure of the given kind. */
void tl_assert_ok(const struct tl_result *r);
void tl_assert_fails(const struct tl_result *r, enum cc_error_kind kind);

/* A name unique to this process and call: "ccit-<pid>-<n>-<what>". new. */
char *tl_unique(const char *what);

/* Records resources to remove at teardown, whatever happened. Names are copied. */
void tl_cleanup_container(const char *id);
void tl_cleanup_network(const char *id);
void tl_cleanup_volume(const char *name);
void tl_cleanup_image(const char *name);
/* Removes everything recorded (containers forced, with volumes), ignoring "not found". */
void tl_cleanup_run(void);
/* A cmocka group teardown that runs tl_cleanup_run(). */
int tl_group_teardown(void **state);

/* ---- Shortcuts for the calls most tests make; each fails the test when the call fails -------- */

/* The value at a '/'-separated path of object keys, e.g. "State/Running"; borrowed, NULL when
 * absent. */
json_t *tl_json_at(json_t *v, const char *path);
/* A create body running `sh -c script` in TEST_IMAGE, labelled ccompose.test=<label> when label
 * is not NULL, with no network (NetworkMode "none": tests that need one attach their own). new. */
json_t *tl_sh_body(const char *script, const char *label);
/* Creates a container named tl_unique(what) from body (borrowed) and records it for cleanup.
 * Returns its ID (new); *ret_name (new) gets the name when ret_name is not NULL. */
char *tl_container_new(struct tl_env *env, const char *what, json_t *body, char **ret_name);
/* tl_container_new() and start. */
char *tl_container_run(struct tl_env *env, const char *what, json_t *body);
void tl_container_start(struct tl_env *env, const char *id);
/* The container's inspect (new). */
json_t *tl_container_inspect(struct tl_env *env, const char *id);
/* Waits (condition as engine_container_wait) and returns the exit status. */
long long tl_container_wait(struct tl_env *env, const char *id, const char *condition);
/* Creates an exec of `sh -c script` (stdout and stderr attached) in container id; returns its ID
 * (new). */
char *tl_exec_new(struct tl_env *env, const char *id, const char *script, bool tty);
/* Follows the container's logs until its output (stdout and stderr) contains needle, then stops
 * following. Use it to wait until a container says it is ready. */
void tl_logs_until(struct tl_env *env, const char *id, const char *needle);

/* A one-call convenience: runs the call made by `expr` (which uses env, r, and err) to
 * completion. Example: TL_RUN(env, r, engine_version(env.c, tl_on_done, &r, &err)). */
#define TL_RUN(env, r, expr)                                                                       \
    do {                                                                                           \
        struct cc_error err = CC_ERROR_INIT;                                                       \
        struct engine_request *tl_req_ = (expr);                                                   \
        tl_wait(&(env), tl_req_, &(r), &err);                                                      \
        cc_error_release(&err);                                                                    \
    } while (0)

#endif
