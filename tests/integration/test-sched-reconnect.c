/* The event stream across a real engine restart, on a private dockerd of the test's own
 * (tests/lib/private-dockerd.sh; never the shared engine): `up` waits for a dependency to complete,
 * the engine goes down, the dependency exits while it is down (--live-restore keeps it running
 * meanwhile), the engine comes back, having forgotten every event of the gap. ccompose subscribes
 * again from the last event's time, looks again at what it waits for, sees the exit and starts
 * the dependent. `ccompose events` on the same engine goes on printing the project's events after
 * the restart. Needs root (to run a dockerd). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "scheduler/op-internal.h"
#include "scheduler/scheduler-internal.h"
#include "tests/lib/cli-test.h"
#include "tests/lib/compose-test.h"
#include "tests/lib/sched-test.h"

struct rc_fx {
    char *engine; /* the private dockerd's name */
    char *flags;  /* a directory the job container sees as /flag */
    void *st;     /* the st_fixture, on the private engine */
};

static int engine_ctl(const char *name, const char *what)
{
    char *cmd = xasprintf("tests/lib/private-dockerd.sh %s %s", name, what);
    int rc = system(cmd);
    free(cmd);
    return rc;
}

/* The engine it restarts is a private dockerd of its own, whatever the run's engine: run against
 * Podman it would only test Docker again. */
#define RC_ON_PODMAN                                                                               \
    "it restarts a private dockerd of its own, so it tests Docker whatever the run's engine"

/* A skip() in a setup counts as a failed setup in cmocka, so setup makes no fixture where the
 * tests cannot run, and each test skips itself (saying why). A private dockerd needs root. */
static bool rc_runnable(void)
{
    return !tl_engine_is_podman() && geteuid() == 0;
}

#define RC_SKIP_UNLESS_RUNNABLE()                                                                  \
    do {                                                                                           \
        TL_SKIP_ON_PODMAN(RC_ON_PODMAN);                                                           \
        if (geteuid() != 0)                                                                        \
            skip();                                                                                \
    } while (0)

static int setup(void **state)
{
    *state = NULL;
    if (!rc_runnable())
        return 0;
    struct rc_fx *f = xcalloc(1, sizeof(*f));
    f->engine = tl_unique("rc");
    if (engine_ctl(f->engine, "start") != 0) {
        engine_ctl(f->engine, "cleanup");
        fail_msg("the private dockerd '%s' did not start", f->engine);
    }
    char *host = xasprintf("unix:///run/%s.sock", f->engine);
    setenv("DOCKER_HOST", host, 1);
    free(host);
    f->flags = ct_tmpdir();
    st_setup(&f->st);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct rc_fx *f = *state;
    if (!f)
        return 0;
    engine_ctl(f->engine, "start"); /* if the test failed while it was down */
    st_teardown(&f->st);
    engine_ctl(f->engine, "cleanup");
    unsetenv("DOCKER_HOST");
    ct_rmdir(f->flags);
    free(f->flags);
    free(f->engine);
    free(f);
    return 0;
}

struct rc_run {
    struct buf events;
    bool done;
    bool timed_out;
    struct cc_error err;
};

static void on_guard(uv_timer_t *t)
{
    ((struct rc_run *)t->data)->timed_out = true;
}

static void on_event(const struct sched_event *ev, void *data)
{
    struct rc_run *r = data;
    buf_printf(&r->events, "%s %s %s\n", sched_resource_name(ev->kind), ev->name,
               sched_state_name(ev->state));
}

static void on_done(const struct cc_error *err, void *data)
{
    struct rc_run *r = data;
    r->done = true;
    if (err)
        cc_error_copy(&r->err, err);
}

static void test_up_sees_an_exit_across_an_engine_restart(void **state)
{
    RC_SKIP_UNLESS_RUNNABLE();
    struct rc_fx *f = *state;
    struct st_fixture *st = f->st;
    struct compose_project *p = st->p;
    struct compose_service *job = mb_service_add(p, "job", TEST_IMAGE);
    mb_command(p, job, "sh", "-c",
               "while [ ! -f /flag/go ]; do sleep 0.1; done; touch /flag/done; exit 0", NULL);
    mb_mount_add(p, job, COMPOSE_MOUNT_BIND, f->flags, "/flag");
    mb_depends_on(p, st_sleeper(p, "app"), "job", COMPOSE_COND_COMPLETED_SUCCESSFULLY);
    mb_project_done(p);

    struct rc_run r = {.events = BUF_INIT, .err = CC_ERROR_INIT};
    struct cc_error err = CC_ERROR_INIT;
    struct sched_up_options o = {.stop_timeout_s = -1};
    struct sched_op *op =
        sched_up(&st->env.loop, st->env.c, p, &o, NULL, on_event, on_done, &r, &err);
    assert_non_null(op);
    char *jobn = st_cname(p, "job", 1), *app = st_cname(p, "app", 1);
    char *job_started = xasprintf("container %s Started", jobn);
    while (!r.done && !strstr(buf_str(&r.events), job_started))
        uv_run(&st->env.loop, UV_RUN_ONCE);
    if (r.done)
        fail_msg("up ended before the job started: %s\n%s", r.err.message, buf_str(&r.events));
    assert_int_equal(op->subscriptions, 1);

    /* Down; the job exits meanwhile; up again. The loop does not run in between. */
    assert_int_equal(engine_ctl(f->engine, "stop"), 0);
    ct_put(f->flags, "go", "");
    char *wait_done =
        xasprintf("timeout 30 sh -c 'until [ -f %s/done ]; do sleep 0.1; done'", f->flags);
    assert_int_equal(system(wait_done), 0);
    assert_int_equal(engine_ctl(f->engine, "start"), 0);

    /* The engine's backoff and look-again take a second or two; a minute means it was missed. */
    uv_timer_t guard;
    uv_timer_init(&st->env.loop, &guard);
    guard.data = &r;
    uv_timer_start(&guard, on_guard, 60000, 0);
    while (!r.done && !r.timed_out)
        uv_run(&st->env.loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(&st->env.loop, UV_RUN_NOWAIT);
    if (!r.done) {
        sched_op_cancel(op);
        while (!r.done)
            uv_run(&st->env.loop, UV_RUN_ONCE);
        fail_msg("up missed the job's exit during the engine restart; events:\n%s",
                 buf_str(&r.events));
    }
    if (r.err.kind != CC_ERR_NONE)
        fail_msg("%s\nevents:\n%s", r.err.message, buf_str(&r.events));
    char *app_started = xasprintf("container %s Started", app);
    assert_non_null(strstr(buf_str(&r.events), app_started));
    char *status = st_state(&st->env, app, "Status");
    assert_string_equal(status, "running");
    free(status);
    free(app);
    free(app_started);
    free(wait_done);
    free(job_started);
    free(jobn);
    cc_error_release(&err);
    cc_error_release(&r.err);
    buf_release(&r.events);
}

/* A container of the project, started (its start event is what `events` prints); its ID, new. */
static char *start_labelled(struct tl_env *env, const char *project, const char *what)
{
    json_t *body = tl_sh_body(ST_SLEEPER, NULL);
    json_object_set_new(body, "Labels",
                        json_pack("{s:s, s:s}", SCHED_LABEL_PROJECT, project, SCHED_LABEL_SERVICE,
                                  what));
    char *id = tl_container_new(env, what, body, NULL);
    tl_container_start(env, id);
    json_decref(body);
    return id;
}

/* Whether proc prints needle within ms milliseconds. */
static bool prints_within(struct cb_proc *proc, const char *needle, int ms)
{
    for (int waited = 0; !strstr(buf_str(&proc->out), needle); waited += 50) {
        struct pollfd pfd = {.fd = proc->out_fd, .events = POLLIN};
        if (waited >= ms)
            return false;
        if (poll(&pfd, 1, 50) > 0) {
            char chunk[4096];
            ssize_t n = read(proc->out_fd, chunk, sizeof(chunk));
            if (n <= 0)
                return false;
            buf_add(&proc->out, chunk, (size_t)n);
        }
    }
    return true;
}

static void test_events_command_goes_on_after_an_engine_restart(void **state)
{
    RC_SKIP_UNLESS_RUNNABLE();
    struct rc_fx *f = *state;
    struct st_fixture *st = f->st;
    const char *project = st->p->name;
    struct cb_proc proc;
    cb_spawn(&proc, f->flags, "-p", project, "events", NULL);
    /* It has subscribed once a container's start shows: start one a second until then. */
    char *before = NULL, *want = NULL;
    for (int i = 0; i < 60; i++) {
        free(before);
        free(want);
        char what[32];
        snprintf(what, sizeof(what), "before%d", i);
        before = start_labelled(&st->env, project, what);
        want = xasprintf("container start %s ", before);
        if (prints_within(&proc, want, 1000))
            break;
    }
    size_t at = cb_read_until_from(&proc, 0, want);
    free(want);

    assert_int_equal(engine_ctl(f->engine, "stop"), 0);
    assert_int_equal(engine_ctl(f->engine, "start"), 0);
    char *after = start_labelled(&st->env, project, "after");
    want = xasprintf("container start %s ", after);
    cb_read_until_from(&proc, at, want);
    free(want);
    kill(proc.pid, SIGINT);
    int status = cb_finish(&proc);
    if (status != 0)
        fail_msg("events exited %d:\n%s", status, buf_str(&proc.out));
    /* Printed once each, though the stream was subscribed again from the last event's time. */
    want = xasprintf("container start %s ", before);
    const char *first = strstr(buf_str(&proc.out), want);
    assert_non_null(first);
    assert_null(strstr(first + 1, want));
    free(want);
    buf_release(&proc.out);
    free(before);
    free(after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_up_sees_an_exit_across_an_engine_restart, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_events_command_goes_on_after_an_engine_restart, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
