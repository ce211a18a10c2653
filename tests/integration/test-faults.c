/* Faults, with the ccompose binary against the real engine: ccompose SIGKILLed in the middle of up
 * and of down, two ups of one project at once, containers that crash in a loop, never turn
 * healthy, hang their health check or ignore SIGTERM, and an engine that answers slowly, never,
 * or cuts its answers (tests/lib/fault-proxy.c in front of the engine's socket), an event stream
 * cut in the middle of a wait, and the engine itself killed in the middle of up (a private dockerd
 * of the test's own, tests/lib/private-dockerd.sh; never the shared engine). Each ends with the
 * project converged or a clear error, nothing duplicated and nothing left behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/cli-test.h"
#include "tests/lib/compose-test.h"
#include "tests/lib/fault-proxy.h"
#include "tests/lib/sched-test.h"

#define IDLE "[\"sh\", \"-c\", \"trap 'exit 0' TERM; sleep 3600 & wait\"]"

/* Six services, each with a volume and on two networks: enough calls that a kill lands between
 * them. */
static const char six_stack[] =
    "services:\n"
    "  s1: {image: " TEST_IMAGE ", command: " IDLE ", volumes: [d1:/d], networks: [n1, n2]}\n"
    "  s2: {image: " TEST_IMAGE ", command: " IDLE ", volumes: [d2:/d], networks: [n1, n2]}\n"
    "  s3: {image: " TEST_IMAGE ", command: " IDLE ", volumes: [d3:/d], networks: [n1, n2]}\n"
    "  s4: {image: " TEST_IMAGE ", command: " IDLE ", volumes: [d4:/d], networks: [n1, n2]}\n"
    "  s5: {image: " TEST_IMAGE ", command: " IDLE ", volumes: [d5:/d], networks: [n1, n2]}\n"
    "  s6: {image: " TEST_IMAGE ", command: " IDLE ", volumes: [d6:/d], networks: [n1, n2]}\n"
    "volumes: {d1: {}, d2: {}, d3: {}, d4: {}, d5: {}, d6: {}}\n"
    "networks: {n1: {}, n2: {}}\n";

/* db turns healthy three seconds after it starts; web waits for that, worker for web. */
static const char chain_stack[] =
    "services:\n"
    "  db:\n"
    "    image: " TEST_IMAGE "\n"
    "    command: [\"sh\", \"-c\", \"trap 'exit 0' TERM; sleep 3; touch /tmp/ready; "
    "sleep 3600 & wait\"]\n"
    "    healthcheck: {test: [\"CMD\", \"test\", \"-f\", \"/tmp/ready\"], interval: 1s}\n"
    "  web:\n"
    "    image: " TEST_IMAGE "\n"
    "    command: " IDLE "\n"
    "    depends_on: {db: {condition: service_healthy}}\n"
    "  worker:\n"
    "    image: " TEST_IMAGE "\n"
    "    command: " IDLE "\n"
    "    depends_on: [web]\n";

static const char faulty_stack[] =
    "services:\n"
    "  crasher:\n"
    "    image: " TEST_IMAGE "\n"
    "    command: [\"sh\", \"-c\", \"echo boom; exit 3\"]\n"
    "    restart: always\n"
    /* Never healthy, and never unhealthy either: a probe run into a container that is dying
     * fails, and three such failures in a row made the engine call it unhealthy now and then
     * on a loaded machine, which is a different report (exit 5). During start_period failures
     * do not count, so what the wait sees is the crash loop alone. */
    "    healthcheck: {test: [\"CMD\", \"false\"], interval: 1s, start_period: 1h}\n"
    "  sick:\n"
    "    image: " TEST_IMAGE "\n"
    "    command: " IDLE "\n"
    "    healthcheck: {test: [\"CMD\", \"false\"], interval: 1s, retries: 2}\n"
    "  hanging:\n"
    "    image: " TEST_IMAGE "\n"
    "    command: " IDLE "\n"
    "    healthcheck: {test: [\"CMD\", \"sleep\", \"3600\"], interval: 1s, timeout: 2s, "
    "retries: 2}\n"
    "  stubborn:\n"
    "    image: " TEST_IMAGE "\n"
    "    command: [\"sh\", \"-c\", \"trap '' TERM; echo ready; while :; do sleep 1; done\"]\n"
    "    stop_grace_period: 2s\n";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *cname(const struct cb_fx *f, const char *service)
{
    return xasprintf("%s-%s-1", f->project, service);
}

/* Runs ccompose -p PROJECT --progress plain ARGS... in the fixture's directory. */
#define RUN(f, r, ...)                                                                             \
    cb_run(&(r), (f)->dir, "-p", (f)->project, "--progress", "plain", __VA_ARGS__, NULL)
#define SPAWN(f, p, ...)                                                                           \
    cb_spawn(&(p), (f)->dir, "-p", (f)->project, "--progress", "plain", __VA_ARGS__, NULL)

static void run_ok(struct cb_fx *f, const char *what, ...)
{
    const char *prefix[] = {"-p", f->project, "--progress", "plain", what};
    va_list ap;
    va_start(ap, what);
    struct cb_result r;
    cb_vrun_input(&r, f->dir, NULL, 0, prefix, CC_ARRAY_LEN(prefix), ap);
    va_end(ap);
    cb_assert_status(&r, 0);
    cb_result_release(&r);
}

/* Every one of the services runs, in one container each, and the project has n_networks
 * networks: converged, nothing duplicated. */
static void assert_converged(struct cb_fx *f, const char *const *services, size_t n,
                             size_t n_networks)
{
    assert_int_equal(st_count(&f->env, f->project, "container"), n);
    for (size_t i = 0; i < n; i++) {
        char *name = cname(f, services[i]);
        char *status = st_state(&f->env, name, "Status");
        if (strcmp(status, "running"))
            fail_msg("%s is %s, not running", name, status);
        free(status);
        free(name);
    }
    assert_int_equal(st_count(&f->env, f->project, "network"), n_networks);
}

static const char *const six[] = {"s1", "s2", "s3", "s4", "s5", "s6"};

/* ---- ccompose killed ------------------------------------------------------------------------ */

static void kill_up_at(struct cb_fx *f, const char *needle)
{
    struct cb_proc p;
    SPAWN(f, p, "up", "-d");
    cb_read_until(&p, needle);
    kill(p.pid, SIGKILL);
    assert_int_equal(cb_finish(&p), 128 + SIGKILL);
    buf_release(&p.out);
    /* Run again: it picks up what the killed one left. */
    run_ok(f, "up", "-d", NULL);
    assert_converged(f, six, 6, 2);
    run_ok(f, "down", "-t", "0", NULL);
    assert_int_equal(st_count(&f->env, f->project, "container"), 0);
    assert_int_equal(st_count(&f->env, f->project, "network"), 0);
}

static void test_sigkill_during_up(void **state)
{
    struct cb_fx *f = *state;
    ct_put(f->dir, "compose.yaml", six_stack);
    kill_up_at(f, "Network ");    /* making networks */
    kill_up_at(f, "-1  Created"); /* containers half made */
    kill_up_at(f, "-1  Started"); /* containers half started */
}

static void test_sigkill_during_down(void **state)
{
    struct cb_fx *f = *state;
    ct_put(f->dir, "compose.yaml", six_stack);
    run_ok(f, "up", "-d", NULL);
    struct cb_proc p;
    SPAWN(f, p, "down", "-v", "-t", "0");
    cb_read_until(&p, "-1  Removed");
    kill(p.pid, SIGKILL);
    assert_int_equal(cb_finish(&p), 128 + SIGKILL);
    buf_release(&p.out);
    run_ok(f, "down", "-v", "-t", "0", NULL);
    assert_int_equal(st_count(&f->env, f->project, "container"), 0);
    assert_int_equal(st_count(&f->env, f->project, "network"), 0);
    assert_int_equal(st_count(&f->env, f->project, "volume"), 0);
}

/* ---- Two ups at once ------------------------------------------------------------------------- */

static void test_two_ups_at_once(void **state)
{
    TL_SKIP_ON_PODMAN("seen on Podman 4.3: concurrent ups of one project still collide "
                      "(Podman's 500s for name conflicts are not all told apart yet)");
    struct cb_fx *f = *state;
    ct_put(f->dir, "compose.yaml", six_stack);
    /* The races are narrow: a few rounds, three runs each. */
    for (int round = 0; round < 3; round++) {
        struct cb_proc p[3];
        for (int i = 0; i < 3; i++)
            SPAWN(f, p[i], "up", "-d");
        for (int i = 0; i < 3; i++) {
            int status = cb_finish(&p[i]);
            if (status != 0)
                fail_msg("round %d, run %d exited %d:\n%s", round, i, status, buf_str(&p[i].out));
            buf_release(&p[i].out);
        }
        assert_converged(f, six, 6, 2);
        run_ok(f, "down", "-t", "0", NULL);
    }
}

/* Makes the project's default network once more, as a race would (no duplicate check); returns
 * its ID (new). */
static char *make_default_network(struct cb_fx *f)
{
    char *name = xasprintf("%s_default", f->project);
    json_t *body = json_pack("{s:s, s:{s:s, s:s, s:s}}", "Name", name, "Labels",
                             "com.docker.compose.project", f->project, "com.docker.compose.network",
                             "default", "com.docker.compose.version", "2.24.0");
    struct tl_result r;
    tl_result_init(&r);
    TL_RUN(f->env, r, engine_network_create(f->env.c, body, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    char *id = xstrdup(json_string_value(json_object_get(r.json, "Id")));
    tl_result_release(&r);
    json_decref(body);
    free(name);
    return id;
}

/* The tests of duplicate networks: one service, app, on the default network. */
static struct cb_fx *duplicates_setup(void **state)
{
    TL_SKIP_ON_PODMAN("Podman refuses a second network of the same name, so the duplicates "
                      "these tests make cannot exist there"); /* skip() does not return */
    struct cb_fx *f = *state;
    ct_put(f->dir, "compose.yaml",
           "services:\n  app: {image: " TEST_IMAGE ", command: " IDLE "}\n");
    return f;
}

/* Networks of one name left by an earlier race: up keeps one and converges; down removes all. */
static void test_duplicate_networks_left_over(void **state)
{
    struct cb_fx *f = duplicates_setup(state);
    for (int i = 0; i < 3; i++)
        free(make_default_network(f));
    assert_int_equal(st_count(&f->env, f->project, "network"), 3);
    run_ok(f, "up", "-d", NULL);
    static const char *const app[] = {"app"};
    assert_converged(f, app, 1, 1);
    free(make_default_network(f)); /* in use: the new one is left, and down removes both */
    run_ok(f, "down", "-t", "0", NULL);
    assert_int_equal(st_count(&f->env, f->project, "container"), 0);
    assert_int_equal(st_count(&f->env, f->project, "network"), 0);
}

/* A container of no project that test_duplicate_network_in_use_is_kept puts on the project's
 * network (its ID, owned), removed by squatter_teardown when the test fails first. */
static char *squatter_id;

static void remove_squatter(struct cb_fx *f)
{
    if (!squatter_id)
        return;
    struct tl_result r;
    tl_result_init(&r);
    TL_RUN(f->env, r,
           engine_container_remove(f->env.c, squatter_id, true, false, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    tl_result_release(&r);
    free(squatter_id);
    squatter_id = NULL;
}

/* Two networks of one name, the later one in use: what a run that listed before the other was
 * visible leaves. up keeps the one in use (removing it cannot succeed) and removes the other,
 * so the service joins the network the running container is on. */
static void test_duplicate_network_in_use_is_kept(void **state)
{
    struct cb_fx *f = duplicates_setup(state);
    free(make_default_network(f));
    char *later = make_default_network(f);
    /* Neither create nor start takes a network whose name is ambiguous; connecting a running
     * container by ID does. */
    json_t *body = tl_sh_body("sleep 600", NULL);
    json_object_set_new(json_object_get(body, "HostConfig"), "NetworkMode", json_string("bridge"));
    char *squatter = tl_container_run(&f->env, "squatter", body);
    squatter_id = squatter;
    json_decref(body);
    body = json_pack("{s:s}", "Container", squatter);
    struct tl_result r;
    tl_result_init(&r);
    TL_RUN(f->env, r, engine_network_connect(f->env.c, later, body, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    tl_result_release(&r);
    json_decref(body);
    run_ok(f, "up", "-d", NULL);
    static const char *const app[] = {"app"};
    assert_converged(f, app, 1, 1);
    char *name = cname(f, "app");
    json_t *ins = st_inspect(&f->env, name);
    json_t *nets = json_object_get(json_object_get(ins, "NetworkSettings"), "Networks");
    char *net_name = xasprintf("%s_default", f->project);
    const char *on =
        json_string_value(json_object_get(json_object_get(nets, net_name), "NetworkID"));
    if (!on || strcmp(on, later))
        fail_msg("app is on network %s, not on %s (the one in use)", on ? on : "(none)", later);
    remove_squatter(f);
    run_ok(f, "down", "-t", "0", NULL);
    assert_int_equal(st_count(&f->env, f->project, "network"), 0);
    json_decref(ins);
    free(net_name);
    free(name);
    free(later);
}

/* The squatter goes before the project's networks, even when the test failed. */
static int squatter_teardown(void **state)
{
    remove_squatter(*state);
    return cb_fx_teardown(state);
}

/* ---- Containers that misbehave ------------------------------------------------------------- */

static void test_crash_loop_is_reported(void **state)
{
    struct cb_fx *f = *state;
    ct_put(f->dir, "compose.yaml", faulty_stack);
    struct cb_result r;
    double t0 = now_s();
    RUN(f, r, "up", "-d", "--wait", "--wait-timeout", "15", "crasher");
    double took = now_s() - t0;
    char *name = cname(f, "crasher");
    char *not_ready = xasprintf("container '%s' is not ready", name);
    char *unhealthy = xasprintf("container '%s' is unhealthy", name);
    /* The engine marks a container with a check unhealthy when it stops (Docker 20.10), and the
     * restart sets it back to starting: whether the wait sees that state first is the engine's
     * timing. Then it fails at once as unhealthy (5), as docker compose's --wait does; otherwise
     * at the end of --wait-timeout as never ready (6). Both name the container, say it is
     * restarting and show its last log lines. */
    if (r.status == 5) {
        cb_assert_contains(buf_str(&r.err), unhealthy);
        cb_assert_contains(buf_str(&r.err), "state: restarting");
    } else {
        cb_assert_status(&r, 6);
        cb_assert_contains(buf_str(&r.err), not_ready);
        cb_assert_contains(buf_str(&r.err), "exited with code 3");
    }
    cb_assert_contains(buf_str(&r.err), "boom"); /* its last log lines */
    free(unhealthy);
    assert_true(took < 40);
    free(not_ready);
    free(name);
    cb_result_release(&r);
}

static void test_never_healthy_is_reported(void **state)
{
    struct cb_fx *f = *state;
    ct_put(f->dir, "compose.yaml", faulty_stack);
    struct cb_result r;
    double t0 = now_s();
    RUN(f, r, "up", "-d", "--wait", "--wait-timeout", "60", "sick");
    cb_assert_status(&r, 5);
    char *name = cname(f, "sick");
    char *msg = xasprintf("error: container '%s' is unhealthy", name);
    cb_assert_contains(buf_str(&r.err), msg);
    cb_assert_contains(buf_str(&r.err), "last health check: exit code 1");
    /* Failed when it turned unhealthy, not at the end of --wait-timeout. */
    assert_true(now_s() - t0 < 40);
    free(msg);
    free(name);
    cb_result_release(&r);
}

static void test_hanging_health_check_is_reported(void **state)
{
    TL_SKIP_ON_PODMAN("seen on Podman 4.3: a hanging check run through the libpod "
                      "healthcheck endpoint does not turn the container unhealthy within the "
                      "wait");
    struct cb_fx *f = *state;
    ct_put(f->dir, "compose.yaml", faulty_stack);
    struct cb_result r;
    double t0 = now_s();
    RUN(f, r, "up", "-d", "--wait", "--wait-timeout", "60", "hanging");
    cb_assert_status(&r, 5);
    char *name = cname(f, "hanging");
    char *msg = xasprintf("error: container '%s' is unhealthy", name);
    cb_assert_contains(buf_str(&r.err), msg);
    cb_assert_contains(buf_str(&r.err), "Health check exceeded timeout (2s)");
    assert_true(now_s() - t0 < 40);
    free(msg);
    free(name);
    cb_result_release(&r);
}

static void test_sigterm_ignored_is_killed_after_grace(void **state)
{
    struct cb_fx *f = *state;
    ct_put(f->dir, "compose.yaml", faulty_stack);
    run_ok(f, "up", "-d", "stubborn", NULL);
    char *name = cname(f, "stubborn");
    char *id = st_id(&f->env, name);
    tl_logs_until(&f->env, id, "ready"); /* its trap is set */
    struct cb_result r;
    double t0 = now_s();
    RUN(f, r, "stop", "stubborn");
    double took = now_s() - t0;
    cb_assert_status(&r, 0);
    char *stopped = xasprintf("Container %s  Stopped", name);
    cb_assert_contains(buf_str(&r.err), stopped);
    /* Killed once its 2 s grace period was over: not at once, not after the default 10 s. */
    assert_true(took >= 1.9);
    assert_true(took < 9);
    json_t *j = st_inspect(&f->env, name);
    assert_int_equal(json_integer_value(tl_json_at(j, "State/ExitCode")), 137);
    json_decref(j);
    cb_result_release(&r);
    free(stopped);
    free(id);
    free(name);
}

/* ---- A slow or broken engine (the fault proxy) ------------------------------------------- */

struct px_fx {
    struct cb_fx *cb;
    struct fp_proxy *proxy;
};

static const char *engine_socket(void)
{
    const char *h = getenv("DOCKER_HOST");
    return h && !strncmp(h, "unix://", 7) ? h + 7 : "/var/run/docker.sock";
}

static int px_setup(void **state)
{
    struct px_fx *x = xcalloc(1, sizeof(*x));
    void *cb = NULL;
    cb_fx_setup(&cb);
    x->cb = cb;
    x->proxy = fp_start(engine_socket());
    *state = x;
    return 0;
}

static int px_teardown(void **state)
{
    struct px_fx *x = *state;
    unsetenv("COMPOSE_HTTP_TIMEOUT");
    fp_stop(x->proxy);
    void *cb = x->cb;
    cb_fx_teardown(&cb);
    free(x);
    return 0;
}

/* Runs ccompose through the proxy. */
static void px_run(struct px_fx *x, struct cb_result *r, ...)
{
    const char *args[32] = {"-H", fp_host(x->proxy), "-p", x->cb->project, "--progress", "plain"};
    size_t n = 6;
    va_list ap;
    va_start(ap, r);
    const char *a;
    while ((a = va_arg(ap, const char *)) && n < CC_ARRAY_LEN(args))
        args[n++] = a;
    va_end(ap);
    cb_runv(r, x->cb->dir, args, n);
}

static const char one_stack[] = "services:\n"
                                "  app: {image: " TEST_IMAGE ", command: " IDLE "}\n";

static void test_engine_never_answers(void **state)
{
    struct px_fx *x = *state;
    ct_put(x->cb->dir, "compose.yaml", one_stack);
    setenv("COMPOSE_HTTP_TIMEOUT", "10", 1); /* a loaded machine is slow */
    int rule = fp_rule(x->proxy, "/containers/create", FP_HANG, 0, -1);
    struct cb_result r;
    double t0 = now_s();
    px_run(x, &r, "up", "-d", NULL);
    double took = now_s() - t0;
    cb_assert_status(&r, 6);
    cb_assert_contains(buf_str(&r.err), "did not answer POST /containers/create");
    cb_assert_contains(buf_str(&r.err), "within 10 s");
    cb_assert_contains(buf_str(&r.err), "COMPOSE_HTTP_TIMEOUT");
    assert_true(took >= 9.9 && took < 60);
    assert_int_equal(fp_matched(x->proxy, rule), 1);
    /* The request never reached the engine: nothing was made half-way. */
    assert_int_equal(st_count(&x->cb->env, x->cb->project, "container"), 0);
    cb_result_release(&r);

    /* The engine answers again: up converges. */
    fp_clear(x->proxy);
    unsetenv("COMPOSE_HTTP_TIMEOUT");
    px_run(x, &r, "up", "-d", NULL);
    cb_assert_status(&r, 0);
    cb_result_release(&r);
    static const char *const app[] = {"app"};
    assert_converged(x->cb, app, 1, 1);
}

static void test_engine_answers_late(void **state)
{
    struct px_fx *x = *state;
    ct_put(x->cb->dir, "compose.yaml", one_stack);
    setenv("COMPOSE_HTTP_TIMEOUT", "4", 1);
    /* The engine starts the container at once, and its answer comes 8 s late: after ccompose gave
     * up waiting for it. */
    int rule = fp_rule(x->proxy, "/start", FP_SLOW, 8000, 1);
    struct cb_result r;
    px_run(x, &r, "up", "-d", NULL);
    cb_assert_status(&r, 6);
    cb_assert_contains(buf_str(&r.err), "did not answer POST /containers/");
    assert_int_equal(fp_matched(x->proxy, rule), 1);
    cb_result_release(&r);
    char *app_name = cname(x->cb, "app");
    char *status = st_state(&x->cb->env, app_name, "Status");
    assert_string_equal(status, "running"); /* the engine did it */
    free(status);
    free(app_name);
    /* Every other call is only slowed down (a loaded engine): up converges, one container. */
    fp_clear(x->proxy);
    unsetenv("COMPOSE_HTTP_TIMEOUT");
    fp_rule(x->proxy, "HTTP/1.1", FP_DELAY, 300, -1);
    px_run(x, &r, "up", "-d", NULL);
    cb_assert_status(&r, 0);
    cb_result_release(&r);
    static const char *const app[] = {"app"};
    assert_converged(x->cb, app, 1, 1);
}

static void test_engine_cuts_answers(void **state)
{
    struct px_fx *x = *state;
    ct_put(x->cb->dir, "compose.yaml", one_stack);
    /* The engine starts the container; the answer is cut before its first byte (curl sends the
     * request again once on a fresh connection when a reused one dies without an answer: cut that
     * too). */
    int rule = fp_rule(x->proxy, "/start", FP_CUT, 0, -1);
    struct cb_result r;
    px_run(x, &r, "up", "-d", NULL);
    cb_assert_status(&r, 4);
    cb_assert_contains(buf_str(&r.err), "lost the connection to the engine at ");
    cb_assert_contains(buf_str(&r.err), "during POST /containers/");
    cb_assert_contains(buf_str(&r.err), "hint: ");
    assert_true(fp_matched(x->proxy, rule) >= 1);
    cb_result_release(&r);
    fp_clear(x->proxy);
    /* A network create cut in the middle of its answer. */
    ct_put(x->cb->dir, "compose.yaml",
           "services:\n"
           "  app: {image: " TEST_IMAGE ", command: " IDLE ", networks: [n1]}\n"
           "networks: {n1: {}}\n");
    rule = fp_rule(x->proxy, "/networks/create", FP_CUT, 20, -1);
    px_run(x, &r, "up", "-d", NULL);
    cb_assert_status(&r, 4);
    cb_assert_contains(buf_str(&r.err), "during POST /networks/create");
    assert_true(fp_matched(x->proxy, rule) >= 1); /* curl may send it again on a new connection */
    cb_result_release(&r);
    fp_clear(x->proxy);
    /* Run again: one container, one network of each name. */
    px_run(x, &r, "up", "-d", "--remove-orphans", NULL);
    cb_assert_status(&r, 0);
    cb_result_release(&r);
    static const char *const app[] = {"app"};
    assert_converged(x->cb, app, 1, 2); /* n1, and default from the first file */
}

/* The event stream is cut while up waits for db to turn healthy, and the next subscription
 * reaches the engine only after db did: up subscribes again from the last event's time, sees it,
 * and starts web. */
static void test_event_stream_cut_during_health_wait(void **state)
{
    TL_SKIP_ON_PODMAN("seen on Podman 4.3: after the cut, the health wait fails instead of "
                      "resubscribing (not understood yet)");
    struct px_fx *x = *state;
    struct cb_fx *f = x->cb;
    ct_put(f->dir, "compose.yaml", chain_stack);
    struct cb_proc p;
    cb_spawn(&p, f->dir, "-H", fp_host(x->proxy), "-p", f->project, "--progress", "plain", "up",
             "-d", "--wait", "--wait-timeout", "60", NULL);
    cb_read_until(&p, "waiting for 'db' to be healthy");
    int again = fp_rule(x->proxy, "/events", FP_DELAY, 6000, 1);
    assert_int_equal(fp_cut_now(x->proxy, "/events"), 1);
    int status = cb_finish(&p);
    if (status != 0)
        fail_msg("up exited %d:\n%s", status, buf_str(&p.out));
    buf_release(&p.out);
    assert_int_equal(fp_matched(x->proxy, again), 1);
    static const char *const all[] = {"db", "web", "worker"};
    assert_converged(f, all, 3, 1);
}

/* `events` shows an event that happened while its stream was down: the new subscription asks
 * for everything since the last event it showed. */
static void test_events_replayed_after_a_cut(void **state)
{
    struct px_fx *x = *state;
    struct cb_fx *f = x->cb;
    ct_put(f->dir, "compose.yaml",
           "services:\n"
           "  one: {image: " TEST_IMAGE ", command: " IDLE "}\n"
           "  two: {image: " TEST_IMAGE ", command: " IDLE "}\n");
    /* Subscribed once its request went through the proxy: its since= is older than that. */
    int seen = fp_rule(x->proxy, "/events", FP_DELAY, 0, 1);
    struct cb_proc p;
    cb_spawn(&p, f->dir, "-H", fp_host(x->proxy), "-p", f->project, "events", NULL);
    for (int i = 0; i < 3000 && fp_matched(x->proxy, seen) == 0; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(fp_matched(x->proxy, seen), 1);
    char *one = cname(f, "one"), *two = cname(f, "two");
    char *one_start = xasprintf("name=%s", one), *two_start = xasprintf("name=%s", two);
    run_ok(f, "up", "-d", "one", NULL);
    size_t at = cb_read_until_from(&p, 0, one_start);
    /* Down: every subscription after this is held 5 s; meanwhile two starts. */
    int again = fp_rule(x->proxy, "/events", FP_DELAY, 5000, 1);
    assert_int_equal(fp_cut_now(x->proxy, "/events"), 1);
    run_ok(f, "up", "-d", "two", NULL);
    cb_read_until_from(&p, at, two_start);
    kill(p.pid, SIGTERM);
    cb_finish(&p);
    buf_release(&p.out);
    assert_int_equal(fp_matched(x->proxy, again), 1);
    free(one);
    free(two);
    free(one_start);
    free(two_start);
}

/* ---- The engine killed in the middle of up (a private dockerd) ------------------------------ */

struct ek_fx {
    char *engine;
    void *cb;
};

static int engine_ctl(const char *name, const char *what)
{
    char *cmd = xasprintf("tests/lib/private-dockerd.sh %s %s", name, what);
    int rc = system(cmd);
    free(cmd);
    return rc;
}

static int ek_setup(void **state)
{
    if (geteuid() != 0)
        skip(); /* a private dockerd needs root */
    struct ek_fx *x = xcalloc(1, sizeof(*x));
    x->engine = tl_unique("ek");
    /* As Docker's default: its containers die with it. (With live restore, Docker 20.10 would not
     * resume their health checks when it comes back, and db could never turn healthy.) */
    setenv("PRIVATE_DOCKERD_LIVE_RESTORE", "0", 1);
    if (engine_ctl(x->engine, "start") != 0) {
        engine_ctl(x->engine, "cleanup");
        fail_msg("the private dockerd '%s' did not start", x->engine);
    }
    char *host = xasprintf("unix:///run/%s.sock", x->engine);
    setenv("DOCKER_HOST", host, 1);
    free(host);
    cb_fx_setup(&x->cb);
    *state = x;
    return 0;
}

static int ek_teardown(void **state)
{
    struct ek_fx *x = *state;
    engine_ctl(x->engine, "start"); /* if the test failed while it was down */
    cb_fx_teardown(&x->cb);
    engine_ctl(x->engine, "cleanup");
    unsetenv("DOCKER_HOST");
    unsetenv("PRIVATE_DOCKERD_LIVE_RESTORE");
    free(x->engine);
    free(x);
    return 0;
}

static void test_engine_killed_during_up(void **state)
{
    struct ek_fx *x = *state;
    struct cb_fx *f = x->cb;
    ct_put(f->dir, "compose.yaml", chain_stack);
    struct cb_proc p;
    SPAWN(f, p, "up", "-d", "--wait");
    cb_read_until(&p, "waiting for 'db' to be healthy");
    assert_int_equal(engine_ctl(x->engine, "kill"), 0);
    double t0 = now_s();
    int status = cb_finish(&p);
    double took = now_s() - t0;
    /* It waits about a minute for the engine to come back, then says it did not. */
    if (status != 4)
        fail_msg("up exited %d, not 4:\n%s", status, buf_str(&p.out));
    char *where = xasprintf("the engine at unix:///run/%s.sock", x->engine);
    cb_assert_contains(buf_str(&p.out), where);
    assert_true(took < 150);
    free(where);
    buf_release(&p.out);

    /* The engine is back (its containers died with it): up converges. */
    assert_int_equal(engine_ctl(x->engine, "start"), 0);
    run_ok(f, "up", "-d", "--wait", NULL);
    static const char *const all[] = {"db", "web", "worker"};
    assert_converged(f, all, 3, 1);
}

/* The engine dies while it starts a container: up says the engine went away; once it is back, up
 * converges, making anew a container the engine can no longer start. Tried at a few moments. */
static void test_engine_killed_while_starting(void **state)
{
    struct ek_fx *x = *state;
    struct cb_fx *f = x->cb;
    ct_put(f->dir, "compose.yaml", six_stack);
    static const char *const needles[] = {"-1  Creating", "-1  Starting"};
    for (size_t i = 0; i < CC_ARRAY_LEN(needles); i++) {
        struct cb_proc p;
        SPAWN(f, p, "up", "-d");
        cb_read_until(&p, needles[i]);
        assert_int_equal(engine_ctl(x->engine, "kill"), 0);
        int status = cb_finish(&p);
        /* It may have finished just before the kill. */
        if (status != 0 && status != 4)
            fail_msg("up exited %d, not 4:\n%s", status, buf_str(&p.out));
        if (status == 4)
            cb_assert_contains(buf_str(&p.out), "hint: ");
        buf_release(&p.out);
        assert_int_equal(engine_ctl(x->engine, "start"), 0);
        run_ok(f, "up", "-d", NULL);
        assert_converged(f, six, 6, 2);
        run_ok(f, "down", "-t", "0", NULL);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sigkill_during_up, cb_fx_setup, cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_sigkill_during_down, cb_fx_setup, cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_two_ups_at_once, cb_fx_setup, cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_networks_left_over, cb_fx_setup,
                                        cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_network_in_use_is_kept, cb_fx_setup,
                                        squatter_teardown),
        cmocka_unit_test_setup_teardown(test_crash_loop_is_reported, cb_fx_setup, cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_never_healthy_is_reported, cb_fx_setup,
                                        cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_hanging_health_check_is_reported, cb_fx_setup,
                                        cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_ignored_is_killed_after_grace, cb_fx_setup,
                                        cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_engine_never_answers, px_setup, px_teardown),
        cmocka_unit_test_setup_teardown(test_engine_answers_late, px_setup, px_teardown),
        cmocka_unit_test_setup_teardown(test_engine_cuts_answers, px_setup, px_teardown),
        cmocka_unit_test_setup_teardown(test_event_stream_cut_during_health_wait, px_setup,
                                        px_teardown),
        cmocka_unit_test_setup_teardown(test_events_replayed_after_a_cut, px_setup, px_teardown),
        cmocka_unit_test_setup_teardown(test_engine_killed_during_up, ek_setup, ek_teardown),
        cmocka_unit_test_setup_teardown(test_engine_killed_while_starting, ek_setup, ek_teardown),
    };
    /* FAULTS_ONLY=test_engine_* runs some of them (cmocka's wildcard pattern). */
    if (getenv("FAULTS_ONLY"))
        cmocka_set_test_filter(getenv("FAULTS_ONLY"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
