/* sched_down against the real engine: containers stop in reverse dependency order and go, then
 * the networks; named volumes stay unless asked; and all of it from the labels alone, with no
 * model (`-p NAME down`). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/sched-test.h"

static void up_stack(struct st_fixture *f)
{
    struct compose_project *p = f->p;
    struct compose_service *db = st_sleeper(p, "db");
    mb_mount_add(p, db, COMPOSE_MOUNT_VOLUME, "data", "/data");
    mb_volume_add(p, "data");
    mb_depends_on(p, st_sleeper(p, "web"), "db", COMPOSE_COND_STARTED);
    mb_depends_on(p, st_sleeper(p, "proxy"), "web", COMPOSE_COND_STARTED);
    mb_project_done(p);
    struct st_run r;
    st_run_init(&r);
    st_up(&f->env, p, NULL, &r);
    st_assert_ok(&r);
    st_run_release(&r);
    assert_int_equal(st_count(&f->env, p->name, "container"), 3);
}

/* proxy, then web, then db: each stops only once what depends on it has. */
static void assert_reverse_order(const struct st_run *r)
{
    assert_true(st_event_at(r, "proxy-1 Stopped") < st_event_at(r, "web-1 Stopping"));
    assert_true(st_event_at(r, "web-1 Stopped") < st_event_at(r, "db-1 Stopping"));
}

static void assert_reverse_order_web(const struct st_run *r)
{
    assert_true(st_event_at(r, "proxy-1 Stopped") < st_event_at(r, "web-1 Stopping"));
    st_event_at(r, "web-1 Removed");
}

static void test_down_keeps_volumes_unless_asked(void **state)
{
    struct st_fixture *f = *state;
    up_stack(f);
    struct st_run r;
    st_run_init(&r);
    struct sched_down_options o = {.stop_timeout_s = -1};
    st_down(&f->env, f->p->name, f->p, &o, &r);
    st_assert_ok(&r);
    assert_reverse_order(&r);
    char *net = xasprintf("network %s_default Removed", f->p->name);
    st_event_at(&r, net);
    free(net);
    assert_int_equal(st_count(&f->env, f->p->name, "container"), 0);
    assert_int_equal(st_count(&f->env, f->p->name, "network"), 0);
    assert_int_equal(st_count(&f->env, f->p->name, "volume"), 1);

    st_run_release(&r);
    st_run_init(&r);
    o.volumes = true;
    st_down(&f->env, f->p->name, f->p, &o, &r);
    st_assert_ok(&r);
    assert_int_equal(st_count(&f->env, f->p->name, "volume"), 0);
    st_run_release(&r);
}

static void test_down_from_labels_alone(void **state)
{
    struct st_fixture *f = *state;
    up_stack(f);
    struct st_run r;
    st_run_init(&r);
    struct sched_down_options o = {.stop_timeout_s = 5, .volumes = true, .parallel = 1};
    st_down(&f->env, f->p->name, NULL, &o, &r);
    st_assert_ok(&r);
    assert_reverse_order(&r);
    assert_int_equal(st_count(&f->env, f->p->name, "container"), 0);
    assert_int_equal(st_count(&f->env, f->p->name, "network"), 0);
    assert_int_equal(st_count(&f->env, f->p->name, "volume"), 0);
    /* Nothing left: a second down has nothing to do and succeeds. */
    st_run_release(&r);
    st_run_init(&r);
    st_down(&f->env, f->p->name, NULL, &o, &r);
    st_assert_ok(&r);
    assert_int_equal(r.events.len, 0);
    st_run_release(&r);
}

/* down web: web and proxy (which depends on it) go, db (which web depends on) keeps running, and
 * so do the network and the volume it uses, each with docker compose's warning. */
static void test_down_services_and_dependents(void **state)
{
    TL_SKIP_ON_PODMAN("Podman removes a network that a container outside the project is still "
                      "connected to, where Docker refuses (the warning this test expects)");
    struct st_fixture *f = *state;
    up_stack(f);
    struct st_run r;
    st_run_init(&r);
    const char *const services[] = {"web"};
    struct sched_down_options o = {
        .stop_timeout_s = 0, .volumes = true, .services = services, .n_services = 1};
    st_down(&f->env, f->p->name, NULL, &o, &r);
    st_assert_ok(&r);
    assert_reverse_order_web(&r);
    assert_null(strstr(buf_str(&r.events), "db-1"));
    char *dbn = st_cname(f->p, "db", 1);
    char *running = st_state(&f->env, dbn, "Status");
    assert_string_equal(running, "running");
    char *net = xasprintf("network %s_default Warning Resource is still in use", f->p->name);
    st_event_at(&r, net);
    char *vol = xasprintf("volume %s_data Warning Resource is still in use", f->p->name);
    st_event_at(&r, vol);
    assert_int_equal(st_count(&f->env, f->p->name, "container"), 1);
    assert_int_equal(st_count(&f->env, f->p->name, "network"), 1);
    assert_int_equal(st_count(&f->env, f->p->name, "volume"), 1);
    st_run_release(&r);

    /* Then db alone, with the model: nothing uses them any more, so they go. */
    st_run_init(&r);
    const char *const db[] = {"db"};
    o.services = db;
    st_down(&f->env, f->p->name, f->p, &o, &r);
    st_assert_ok(&r);
    assert_int_equal(st_count(&f->env, f->p->name, "container"), 0);
    assert_int_equal(st_count(&f->env, f->p->name, "network"), 0);
    assert_int_equal(st_count(&f->env, f->p->name, "volume"), 0);
    st_run_release(&r);
    free(vol);
    free(net);
    free(running);
    free(dbn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_down_keeps_volumes_unless_asked, st_setup,
                                        st_teardown),
        cmocka_unit_test_setup_teardown(test_down_from_labels_alone, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_down_services_and_dependents, st_setup, st_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
