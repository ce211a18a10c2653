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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_down_keeps_volumes_unless_asked, st_setup,
                                        st_teardown),
        cmocka_unit_test_setup_teardown(test_down_from_labels_alone, st_setup, st_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
