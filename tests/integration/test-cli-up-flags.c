/* up's convergence flags, create and scale, restart's dependents, start --wait and COMPOSE_*
 * variables in .env, end to end against the real engine: --force-recreate
 * changes container IDs and --no-recreate keeps them despite a changed file, --dry-run prints
 * the reasons and leaves the IDs alone, --no-deps leaves dependencies out, --no-start and create
 * leave containers created, -V gives a recreated container a new anonymous volume (else it keeps
 * the old one), --attach/--no-attach choose whose logs appear, --timestamps prints times, scale
 * numbers replicas after the highest and removes the highest first, and flags docker compose
 * refuses to combine are refused. Every project is removed by its label at teardown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/cli-test.h"
#include "tests/lib/compose-test.h"
#include "tests/lib/sched-test.h"

/* db, and web depending on it; web's LEVEL is level. */
static void put_stack(const struct cb_fx *f, const char *level)
{
    char *yaml = xasprintf("services:\n"
                           "  db:\n"
                           "    image: " TEST_IMAGE "\n"
                           "    command: " CB_SLEEPER "\n"
                           "  web:\n"
                           "    image: " TEST_IMAGE "\n"
                           "    command: " CB_SLEEPER "\n"
                           "    environment:\n"
                           "      LEVEL: %s\n"
                           "    depends_on: [db]\n",
                           level);
    ct_put(f->dir, "compose.yaml", yaml);
    free(yaml);
}

/* The ID of the project's container of service number n (new), or NULL when there is none. */
static char *id_of(struct cb_fx *f, const char *service, int n)
{
    char *name = cb_fx_cname(f, service, n);
    json_t *j = st_inspect(&f->env, name);
    char *id = j ? xstrdup(json_string_value(json_object_get(j, "Id"))) : NULL;
    json_decref(j);
    free(name);
    return id;
}

static char *state_of(struct cb_fx *f, const char *service, int n)
{
    char *name = cb_fx_cname(f, service, n);
    char *s = st_state(&f->env, name, "Status");
    free(name);
    return s;
}

static void assert_state(struct cb_fx *f, const char *service, int n, const char *want)
{
    char *s = state_of(f, service, n);
    if (strcmp(s, want))
        fail_msg("%s-%d is %s, not %s", service, n, s, want);
    free(s);
}

static void test_force_and_no_recreate(void **state)
{
    struct cb_fx *f = *state;
    put_stack(f, "one");
    cb_fx_expect(f, 0, NULL, "up", "-d", NULL);
    char *db = id_of(f, "db", 1), *web = id_of(f, "web", 1);

    /* Dry-run: the reason of each action; nothing changes. */
    struct cb_result r;
    cb_run(&r, f->dir, "--dry-run", "-p", f->project, "up", "-d", "--force-recreate", "web", NULL);
    cb_assert_status(&r, 0);
    char *line = xasprintf("container %s-web-1: recreate (forced: --force-recreate)\n", f->project);
    cb_assert_contains(buf_str(&r.out), line);
    free(line);
    line = xasprintf("container %s-db-1: keep (up to date)\n", f->project);
    cb_assert_contains(buf_str(&r.out), line);
    free(line);
    cb_result_release(&r);
    cb_run(&r, f->dir, "--dry-run", "-p", f->project, "up", "-d", "--always-recreate-deps", "web",
           NULL);
    cb_assert_status(&r, 0);
    line = xasprintf("container %s-db-1: recreate (forced: --always-recreate-deps)\n", f->project);
    cb_assert_contains(buf_str(&r.out), line);
    free(line);
    cb_result_release(&r);
    char *same = id_of(f, "web", 1);
    assert_string_equal(same, web);
    free(same);

    /* --force-recreate: new containers although nothing changed. */
    cb_fx_expect(f, 0, NULL, "up", "-d", "--force-recreate", "-t", "5", NULL);
    char *db2 = id_of(f, "db", 1), *web2 = id_of(f, "web", 1);
    assert_string_not_equal(db2, db);
    assert_string_not_equal(web2, web);
    assert_state(f, "web", 1, "running");

    /* A changed file: the dry-run names the field that differs, --no-recreate keeps the
     * container. */
    put_stack(f, "two");
    cb_run(&r, f->dir, "--dry-run", "-p", f->project, "up", "-d", NULL);
    cb_assert_status(&r, 0);
    line = xasprintf("container %s-web-1: recreate (environment.LEVEL: \"one\" -> \"two\")\n",
                     f->project);
    cb_assert_contains(buf_str(&r.out), line);
    free(line);
    cb_result_release(&r);
    cb_run(&r, f->dir, "--dry-run", "-p", f->project, "up", "-d", "--no-recreate", NULL);
    cb_assert_status(&r, 0);
    line = xasprintf("container %s-web-1: keep (environment.LEVEL: \"one\" -> \"two\", not "
                     "recreated)\n",
                     f->project);
    cb_assert_contains(buf_str(&r.out), line);
    free(line);
    cb_result_release(&r);
    cb_fx_expect(f, 0, NULL, "up", "-d", "--no-recreate", NULL);
    char *web3 = id_of(f, "web", 1);
    assert_string_equal(web3, web2);
    cb_fx_expect(f, 0, NULL, "up", "-d", "-t", "5", NULL);
    char *web4 = id_of(f, "web", 1);
    assert_string_not_equal(web4, web2);
    free(web4);
    free(web3);
    free(db2);
    free(web2);
    free(db);
    free(web);
}

static void test_refused_combinations(void **state)
{
    struct cb_fx *f = *state;
    put_stack(f, "one");
    static const char *const cases[][4] = {
        {"--force-recreate", "--no-recreate", NULL,
         "--force-recreate and --no-recreate are incompatible"},
        {"--always-recreate-deps", "--no-recreate", NULL,
         "--always-recreate-deps and --no-recreate are incompatible"},
        {"-V", "--no-recreate", NULL, "--no-recreate and --renew-anon-volumes are incompatible"},
        {"-d", "--attach", "web", "--detach cannot be combined with"},
        {"--wait", "--attach-dependencies", NULL, "--wait cannot be combined with"},
        {"--abort-on-container-exit", "--abort-on-container-failure", NULL,
         "--abort-on-container-failure cannot be combined with --abort-on-container-exit"},
        {"--attach", "web", "--attach-dependencies",
         "cannot combine --attach and --attach-dependencies"},
        {"--attach", "nosuch", NULL, "cannot attach to services not included in up: nosuch"},
    };
    for (size_t i = 0; i < CC_ARRAY_LEN(cases); i++) {
        const char *args[] = {"-p", f->project, "up", cases[i][0], cases[i][1], cases[i][2]};
        struct cb_result r;
        cb_runv(&r, f->dir, args, cases[i][2] ? 6 : 5);
        cb_assert_status(&r, 2);
        cb_assert_contains(buf_str(&r.err), cases[i][3]);
        cb_result_release(&r);
    }
    struct cb_result r;
    cb_fx_run(&r, f, "create", "--force-recreate", "--no-recreate", NULL);
    cb_assert_status(&r, 2);
    cb_result_release(&r);
    assert_int_equal(st_count(&f->env, f->project, "container"), 0);
}

static void test_no_deps_and_no_start(void **state)
{
    struct cb_fx *f = *state;
    put_stack(f, "one");
    /* --no-deps: web alone, db neither created nor waited for. */
    cb_fx_expect(f, 0, NULL, "up", "-d", "--no-deps", "web", NULL);
    assert_state(f, "web", 1, "running");
    char *db = id_of(f, "db", 1);
    assert_null(db);
    assert_int_equal(st_count(&f->env, f->project, "container"), 1);

    /* --no-start: db is created and left so; web, running, is kept running. */
    cb_fx_expect(f, 0, NULL, "up", "--no-start", NULL);
    assert_state(f, "db", 1, "created");
    assert_state(f, "web", 1, "running");
    cb_fx_expect(f, 0, NULL, "down", "-t", "5", NULL);

    /* create, then start. */
    struct cb_result r;
    cb_fx_run(&r, f, "--progress", "plain", "create", NULL);
    cb_assert_status(&r, 0);
    assert_null(strstr(buf_str(&r.err), "Started"));
    cb_result_release(&r);
    assert_state(f, "db", 1, "created");
    assert_state(f, "web", 1, "created");
    cb_fx_expect(f, 0, NULL, "start", NULL);
    assert_state(f, "db", 1, "running");
    assert_state(f, "web", 1, "running");
}

/* The name of the volume mounted at /data in the container. */
static char *data_volume(struct cb_fx *f)
{
    char *name = xasprintf("%s-db-1", f->project);
    json_t *j = st_inspect(&f->env, name);
    assert_non_null(j);
    char *vol = NULL;
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(j, "Mounts"), i, m)
    {
        if (!strcmp(json_string_value(json_object_get(m, "Destination")), "/data"))
            vol = xstrdup(json_string_value(json_object_get(m, "Name")));
    }
    json_decref(j);
    free(name);
    assert_non_null(vol);
    tl_cleanup_volume(vol); /* anonymous volumes carry no project label */
    return vol;
}

static void test_renew_anon_volumes(void **state)
{
    struct cb_fx *f = *state;
    ct_put(f->dir, "compose.yaml",
           "services:\n"
           "  db:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: [\"sh\", \"-c\", \"test -f /data/mark || echo first > /data/mark; "
           "trap 'exit 0' TERM; sleep 3600 & wait\"]\n"
           "    volumes:\n"
           "      - /data\n");
    cb_fx_expect(f, 0, NULL, "up", "-d", NULL);
    char *v1 = data_volume(f);
    /* Recreated: the new container mounts the old anonymous volume. */
    cb_fx_expect(f, 0, NULL, "up", "-d", "--force-recreate", "-t", "5", NULL);
    char *v2 = data_volume(f);
    assert_string_equal(v1, v2);
    /* -V: a new one. */
    cb_fx_expect(f, 0, NULL, "up", "-d", "--force-recreate", "-V", "-t", "5", NULL);
    char *v3 = data_volume(f);
    assert_string_not_equal(v3, v2);
    free(v1);
    free(v2);
    free(v3);
}

/* The containers live two seconds and each up starts from nothing: logs are followed once up
 * has converged, and the engine may never end a log stream opened just as its container exits. */
static void test_attach_and_timestamps(void **state)
{
    struct cb_fx *f = *state;
    ct_put(f->dir, "compose.yaml",
           "services:\n"
           "  a:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: [\"sh\", \"-c\", \"echo line from a; sleep 2\"]\n"
           "  b:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: [\"sh\", \"-c\", \"echo line from b; sleep 2\"]\n"
           "    depends_on: [a]\n");
    struct cb_result r;
    cb_fx_run(&r, f, "up", "--no-color", "--attach", "a", "--timestamps", NULL);
    cb_assert_status(&r, 0);
    cb_assert_contains(buf_str(&r.out), "Attaching to a-1\n");
    /* "a-1  | 2026-12-02T20:00:00.123456789Z line from a" */
    const char *at = strstr(buf_str(&r.out), "a-1  | ");
    assert_non_null(at);
    assert_true(at[7 + 4] == '-' && at[7 + 10] == 'T');
    cb_assert_contains(at, "Z line from a\n");
    assert_null(strstr(buf_str(&r.out), "line from b"));
    cb_result_release(&r);

    cb_fx_expect(f, 0, NULL, "down", "-t", "0", NULL);
    cb_fx_run(&r, f, "up", "--no-color", "--no-attach", "a", NULL);
    cb_assert_status(&r, 0);
    cb_assert_contains(buf_str(&r.out), "b-1  | line from b\n");
    assert_null(strstr(buf_str(&r.out), "line from a"));
    cb_result_release(&r);

    /* Naming b follows b only; --attach-dependencies adds a. */
    cb_fx_expect(f, 0, NULL, "down", "-t", "0", NULL);
    cb_fx_run(&r, f, "up", "--no-color", "b", NULL);
    cb_assert_status(&r, 0);
    assert_null(strstr(buf_str(&r.out), "line from a"));
    cb_result_release(&r);
    cb_fx_expect(f, 0, NULL, "down", "-t", "0", NULL);
    cb_fx_run(&r, f, "up", "--no-color", "--attach-dependencies", "b", NULL);
    cb_assert_status(&r, 0);
    cb_assert_contains(buf_str(&r.out), "a-1  | line from a\n");
    cb_assert_contains(buf_str(&r.out), "b-1  | line from b\n");
    cb_result_release(&r);
}

/* --abort-on-container-failure: an exit 0 goes on, a failure stops the rest; up exits with it. */
static void test_abort_on_failure(void **state)
{
    struct cb_fx *f = *state;
    ct_put(f->dir, "compose.yaml",
           "services:\n"
           "  fine:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: [\"sh\", \"-c\", \"echo fine; sleep 1\"]\n"
           "  bad:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: [\"sh\", \"-c\", \"echo bad; sleep 3; exit 3\"]\n"
           "  other:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: " CB_SLEEPER "\n");
    struct cb_result r;
    cb_fx_run(&r, f, "up", "--no-color", "--abort-on-container-failure", "-t", "5", NULL);
    cb_assert_status(&r, 3);
    cb_assert_contains(buf_str(&r.out), "fine-1 exited with code 0\n");
    cb_assert_contains(buf_str(&r.out), "bad-1 exited with code 3\n");
    cb_assert_contains(buf_str(&r.err), "Aborting on container failure");
    cb_result_release(&r);
    assert_state(f, "other", 1, "exited");
}

static void test_scale(void **state)
{
    struct cb_fx *f = *state;
    put_stack(f, "one");
    cb_fx_expect(f, 0, NULL, "scale", "web=3", NULL);
    /* The dependency came along; three replicas numbered 1 to 3. */
    assert_state(f, "db", 1, "running");
    for (int n = 1; n <= 3; n++)
        assert_state(f, "web", n, "running");
    char *web1 = id_of(f, "web", 1);

    struct cb_result r;
    cb_run(&r, f->dir, "--dry-run", "-p", f->project, "scale", "web=1", NULL);
    cb_assert_status(&r, 0);
    char *line =
        xasprintf("container %s-web-3: remove (scale down: service 'web' wants 1)\n", f->project);
    cb_assert_contains(buf_str(&r.out), line);
    free(line);
    cb_result_release(&r);
    assert_int_equal(st_count(&f->env, f->project, "container"), 4);

    /* Down to one: the highest numbers go, web-1 stays as it was. */
    cb_fx_expect(f, 0, NULL, "scale", "--no-deps", "web=1", NULL);
    char *gone = id_of(f, "web", 2);
    assert_null(gone);
    gone = id_of(f, "web", 3);
    assert_null(gone);
    char *kept = id_of(f, "web", 1);
    assert_string_equal(kept, web1);
    /* Up again: the new one is numbered after the highest left. */
    cb_fx_expect(f, 0, NULL, "scale", "web=2", NULL);
    assert_state(f, "web", 2, "running");
    assert_int_equal(st_count(&f->env, f->project, "container"), 3);

    cb_fx_run(&r, f, "scale", "web", NULL);
    cb_assert_status(&r, 2);
    cb_result_release(&r);
    /* An unknown service: "no such service", exit 1, as every command taking services. */
    cb_fx_run(&r, f, "scale", "nosuch=2", NULL);
    cb_assert_status(&r, 1);
    cb_assert_contains(buf_str(&r.err), "no such service: 'nosuch'");
    cb_result_release(&r);
    free(kept);
    free(web1);
}

/* The StartedAt of the project's container of service number 1 (new). */
static char *started_at(struct cb_fx *f, const char *service)
{
    char *name = xasprintf("%s-%s-1", f->project, service);
    char *s = st_state(&f->env, name, "StartedAt");
    free(name);
    return s;
}

/* restart SERVICE restarts what depends on it with `restart: true`, not other dependents, and
 * with --no-deps only SERVICE; start --wait returns once the health check passed. */
static void test_restart_dependents_and_start_wait(void **state)
{
    struct cb_fx *f = *state;
    ct_put(f->dir, "compose.yaml",
           "services:\n"
           "  db:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: " CB_SLEEPER "\n"
           "    healthcheck:\n"
           "      test: [\"CMD-SHELL\", \"test -f /tmp/ready || (touch /tmp/ready; false)\"]\n"
           "      interval: 1s\n"
           "      retries: 5\n"
           "  web:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: " CB_SLEEPER "\n"
           "    depends_on:\n"
           "      db:\n"
           "        condition: service_started\n"
           "        restart: true\n"
           "  other:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: " CB_SLEEPER "\n"
           "    depends_on: [db]\n");
    cb_fx_expect(f, 0, NULL, "up", "-d", NULL);
    char *web0 = started_at(f, "web"), *other0 = started_at(f, "other");
    struct cb_result r;
    /* --dry-run names what restart would restart: db, and web with why; not other. */
    cb_fx_run(&r, f, "--dry-run", "restart", "db", NULL);
    cb_assert_status(&r, 0);
    char *want = xasprintf("container %s-db-1: restart\n"
                           "container %s-web-1: restart (depends on 'db' with restart: true)\n",
                           f->project, f->project);
    assert_string_equal(buf_str(&r.out), want);
    free(want);
    cb_result_release(&r);
    cb_fx_run(&r, f, "--dry-run", "restart", "--no-deps", "db", NULL);
    cb_assert_status(&r, 0);
    want = xasprintf("container %s-db-1: restart\n", f->project);
    assert_string_equal(buf_str(&r.out), want);
    free(want);
    cb_result_release(&r);
    char *web_d = started_at(f, "web");
    assert_string_equal(web_d, web0);
    free(web_d);
    cb_fx_run(&r, f, "--progress", "plain", "restart", "-t", "5", "db", NULL);
    cb_assert_status(&r, 0);
    char *web_line = xasprintf("Container %s-web-1  Restarting", f->project);
    cb_assert_contains(buf_str(&r.err), web_line);
    free(web_line);
    cb_result_release(&r);
    char *web1 = started_at(f, "web"), *other1 = started_at(f, "other");
    assert_string_not_equal(web1, web0);
    assert_string_equal(other1, other0);
    cb_fx_expect(f, 0, NULL, "restart", "--no-deps", "-t", "5", "db", NULL);
    char *web2 = started_at(f, "web");
    assert_string_equal(web2, web1);

    /* start --wait: stopped containers started, and the health check passed on return. */
    cb_fx_expect(f, 0, NULL, "stop", "-t", "5", NULL);
    cb_fx_run(&r, f, "start", "--wait-timeout", "5", NULL);
    cb_assert_status(&r, 2);
    cb_result_release(&r);
    cb_fx_expect(f, 0, NULL, "start", "--wait", "--wait-timeout", "60", NULL);
    char *db = xasprintf("%s-db-1", f->project);
    json_t *j = st_inspect(&f->env, db);
    assert_string_equal(json_string_value(tl_json_at(j, "State/Health/Status")), "healthy");
    json_decref(j);
    assert_state(f, "web", 1, "running");
    assert_state(f, "other", 1, "running");
    free(db);
    free(web0);
    free(other0);
    free(web1);
    free(other1);
    free(web2);
}

/* COMPOSE_* variables set in .env apply as if set in the environment, which wins over them. */
static void test_env_file_compose_vars(void **state)
{
    struct cb_fx *f = *state;
    char *dotenv = xasprintf("COMPOSE_PROJECT_NAME=%s\n"
                             "COMPOSE_PROFILES=extra\n"
                             "COMPOSE_PROGRESS=json\n"
                             "COMPOSE_IGNORE_ORPHANS=true\n"
                             "COMPOSE_PARALLEL_LIMIT=many\n",
                             f->project);
    ct_put(f->dir, ".env", dotenv);
    free(dotenv);
    ct_put(f->dir, "compose.yaml",
           "services:\n"
           "  web:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: " CB_SLEEPER "\n"
           "  extra:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: " CB_SLEEPER "\n"
           "    profiles: [extra]\n");
    /* No -p: the name, the profile and the progress format come from .env. */
    struct cb_result r;
    cb_run(&r, f->dir, "up", "-d", NULL);
    cb_assert_status(&r, 0);
    char *id = xasprintf("{\"id\":\"Container %s-extra-1\"", f->project);
    cb_assert_contains(buf_str(&r.err), id);
    free(id);
    cb_assert_contains(buf_str(&r.err), "COMPOSE_PARALLEL_LIMIT 'many'");
    cb_result_release(&r);
    assert_state(f, "web", 1, "running");
    assert_state(f, "extra", 1, "running");

    /* extra leaves the file: no orphan warning, and --remove-orphans is refused. */
    ct_put(f->dir, "compose.yaml",
           "services:\n"
           "  web:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: " CB_SLEEPER "\n");
    setenv("COMPOSE_PROGRESS", "plain", 1); /* the environment wins over .env */
    cb_run(&r, f->dir, "up", "-d", NULL);
    unsetenv("COMPOSE_PROGRESS");
    cb_assert_status(&r, 0);
    assert_null(strstr(buf_str(&r.err), "orphan"));
    assert_null(strstr(buf_str(&r.err), "{\"id\""));
    char *running = xasprintf("Container %s-web-1  Running", f->project);
    cb_assert_contains(buf_str(&r.err), running);
    free(running);
    cb_result_release(&r);
    cb_run(&r, f->dir, "up", "-d", "--remove-orphans", NULL);
    cb_assert_status(&r, 2);
    cb_assert_contains(buf_str(&r.err),
                       "cannot combine COMPOSE_IGNORE_ORPHANS and --remove-orphans");
    cb_result_release(&r);
    assert_int_equal(st_count(&f->env, f->project, "container"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_force_and_no_recreate, cb_fx_setup, cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_refused_combinations, cb_fx_setup, cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_no_deps_and_no_start, cb_fx_setup, cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_renew_anon_volumes, cb_fx_setup, cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_attach_and_timestamps, cb_fx_setup, cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_abort_on_failure, cb_fx_setup, cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_scale, cb_fx_setup, cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_restart_dependents_and_start_wait, cb_fx_setup,
                                        cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_env_file_compose_vars, cb_fx_setup, cb_fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, tl_group_teardown);
}
