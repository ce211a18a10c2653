/* The ccompose binary on a project made by the scheduler (no compose file needed): ps, logs,
 * stop, start, restart and down with -p NAME, checked against the engine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/cli-test.h"
#include "tests/lib/sched-test.h"

/* db, and web depending on it; each says a line first. */
static void up_stack(struct st_fixture *f)
{
    struct compose_project *p = f->p;
    struct compose_service *db = mb_service_add(p, "db", TEST_IMAGE);
    mb_command(p, db, "sh", "-c", "echo db line one; echo db line two; " ST_SLEEPER, NULL);
    struct compose_service *web = mb_service_add(p, "web", TEST_IMAGE);
    mb_command(p, web, "sh", "-c", "echo web says hello; " ST_SLEEPER, NULL);
    mb_depends_on(p, web, "db", COMPOSE_COND_STARTED);
    mb_project_done(p);
    st_up_ok(&f->env, p);
    /* The lines are there before the tests read them. */
    st_logs_until(&f->env, p, "db", "db line two");
    st_logs_until(&f->env, p, "web", "web says hello");
}

static size_t at(const char *text, const char *needle)
{
    const char *p = strstr(text, needle);
    if (!p)
        fail_msg("'%s' not found in:\n%s", needle, text);
    return (size_t)(p - text);
}

static void test_ps(void **state)
{
    struct st_fixture *f = *state;
    up_stack(f);
    const char *name = f->p->name;
    struct cb_result r;
    cb_run(&r, NULL, "-p", name, "ps", NULL);
    cb_assert_status(&r, 0);
    const char *out = buf_str(&r.out);
    assert_int_equal(at(out, "NAME "), 0);
    for (const char *col = "IMAGE COMMAND SERVICE CREATED STATUS PORTS"; *col;) {
        char word[16];
        size_t n = strcspn(col, " ");
        snprintf(word, sizeof(word), "%.*s", (int)n, col);
        at(out, word);
        col += n + (col[n] == ' ');
    }
    char *db = st_cname(f->p, "db", 1), *web = st_cname(f->p, "web", 1);
    at(out, db);
    at(out, web);
    /* The scheduler creates from the image ID: without a compose file, ps shows the short ID. */
    json_t *inspect = st_inspect(&f->env, db);
    const char *image = json_string_value(json_object_get(inspect, "Image"));
    assert_non_null(image);
    /* Podman lists the name it resolved the ID to. */
    char *short_id = tl_engine_is_podman() ? xstrdup(TEST_IMAGE) : xstrndup(image + 7, 12);
    at(out, short_id);
    free(short_id);
    json_decref(inspect);
    at(out, "Up ");
    cb_result_release(&r);

    cb_run(&r, NULL, "-p", name, "ps", "--services", NULL);
    cb_assert_status(&r, 0);
    assert_string_equal(buf_str(&r.out), "db\nweb\n");
    cb_result_release(&r);

    cb_run(&r, NULL, "-p", name, "ps", "-q", "web", NULL);
    cb_assert_status(&r, 0);
    char *web_id = st_id(&f->env, web);
    char *want = xasprintf("%s\n", web_id);
    assert_string_equal(buf_str(&r.out), want);
    cb_result_release(&r);

    cb_run(&r, NULL, "-p", name, "ps", "--format", "json", NULL);
    cb_assert_status(&r, 0);
    size_t lines = 0;
    for (char *line = r.out.data; line && *line; line = strchr(line, '\n') + 1) {
        json_error_t jerr;
        json_t *o = json_loadb(line, strcspn(line, "\n"), 0, &jerr);
        assert_non_null(o);
        assert_string_equal(json_string_value(json_object_get(o, "Project")), name);
        assert_string_equal(json_string_value(json_object_get(o, "State")), "running");
        json_decref(o);
        lines++;
    }
    assert_int_equal(lines, 2);
    cb_result_release(&r);

    cb_expect(2, NULL, NULL, "-p", name, "ps", "--status", "bogus", NULL);
    free(want);
    free(web_id);
    free(db);
    free(web);
}

static void test_logs(void **state)
{
    struct st_fixture *f = *state;
    up_stack(f);
    const char *name = f->p->name;
    struct cb_result r;
    cb_run(&r, NULL, "-p", name, "logs", "--no-color", NULL);
    cb_assert_status(&r, 0);
    /* Prefixes aligned to the longest label ("web-1", "db-1 "). */
    at(buf_str(&r.out), "db-1   | db line one\n");
    at(buf_str(&r.out), "db-1   | db line two\n");
    at(buf_str(&r.out), "web-1  | web says hello\n");
    assert_null(strchr(buf_str(&r.out), '\033'));
    cb_result_release(&r);

    cb_run(&r, NULL, "-p", name, "logs", "--no-log-prefix", "--tail", "1", "db", NULL);
    cb_assert_status(&r, 0);
    assert_string_equal(buf_str(&r.out), "db line two\n");
    cb_result_release(&r);

    cb_run(&r, NULL, "-p", name, "logs", "-t", "--no-color", "web", NULL);
    cb_assert_status(&r, 0);
    /* "web-1  | 2026-01-02T03:04:05.123456789Z web says hello" */
    const char *line = buf_str(&r.out);
    assert_int_equal(at(line, "web-1  | "), 0);
    assert_true(line[9 + 4] == '-' && line[9 + 10] == 'T');
    at(line, "Z web says hello\n");
    cb_result_release(&r);

    cb_run(&r, NULL, "-p", name, "logs", "--until", "2000-01-01T00:00:00Z", NULL);
    cb_assert_status(&r, 0);
    assert_string_equal(buf_str(&r.out), "");
    cb_result_release(&r);

    cb_expect(2, NULL, NULL, "-p", name, "logs", "--since", "yesterday", NULL);
}

static void test_stop_start_restart(void **state)
{
    struct st_fixture *f = *state;
    up_stack(f);
    const char *name = f->p->name;
    char *db = st_cname(f->p, "db", 1), *web = st_cname(f->p, "web", 1);
    struct cb_result r;

    cb_run(&r, NULL, "--progress", "plain", "-p", name, "stop", "-t", "5", NULL);
    cb_assert_status(&r, 0);
    /* web depends on db: web stops first. */
    char *web_stopped = xasprintf("Container %s  Stopped", web);
    char *db_stopping = xasprintf("Container %s  Stopping", db);
    assert_true(at(buf_str(&r.err), web_stopped) < at(buf_str(&r.err), db_stopping));
    char *s = st_state(&f->env, db, "Status");
    assert_string_equal(s, "exited");
    free(s);
    cb_result_release(&r);

    cb_run(&r, NULL, "-p", name, "ps", "-q", NULL);
    cb_assert_status(&r, 0);
    assert_string_equal(buf_str(&r.out), "");
    cb_result_release(&r);
    cb_run(&r, NULL, "-p", name, "ps", "--status", "exited", "--services", NULL);
    cb_assert_status(&r, 0);
    assert_string_equal(buf_str(&r.out), "db\nweb\n");
    cb_result_release(&r);

    cb_run(&r, NULL, "--progress", "plain", "-p", name, "start", NULL);
    cb_assert_status(&r, 0);
    /* db first. */
    char *db_started = xasprintf("Container %s  Started", db);
    char *web_starting = xasprintf("Container %s  Starting", web);
    assert_true(at(buf_str(&r.err), db_started) < at(buf_str(&r.err), web_starting));
    s = st_state(&f->env, web, "Status");
    assert_string_equal(s, "running");
    free(s);
    cb_result_release(&r);

    char *before = st_state(&f->env, web, "StartedAt");
    cb_run(&r, NULL, "--progress", "plain", "-p", name, "restart", "-t", "5", "web", NULL);
    cb_assert_status(&r, 0);
    assert_null(strstr(buf_str(&r.err), db));
    char *after = st_state(&f->env, web, "StartedAt");
    assert_true(strcmp(before, after) != 0);
    cb_result_release(&r);

    cb_run(&r, NULL, "-p", name, "start", "nosuch", NULL);
    cb_assert_status(&r, 1);
    at(buf_str(&r.err), "'nosuch'");
    cb_result_release(&r);

    free(before);
    free(after);
    free(web_stopped);
    free(db_stopping);
    free(db_started);
    free(web_starting);
    free(db);
    free(web);
}

static void test_down_by_name(void **state)
{
    struct st_fixture *f = *state;
    up_stack(f);
    const char *name = f->p->name;
    struct cb_result r;
    /* --dry-run says what would go and changes nothing. */
    cb_run(&r, NULL, "--dry-run", "-p", name, "down", NULL);
    cb_assert_status(&r, 0);
    char *want = xasprintf("container %s-web-1: stop, remove\n", name);
    cb_assert_contains(buf_str(&r.out), want);
    free(want);
    want = xasprintf("network %s_default: remove\n", name);
    cb_assert_contains(buf_str(&r.out), want);
    free(want);
    cb_result_release(&r);
    assert_int_equal(st_count(&f->env, name, "container"), 2);
    cb_run(&r, NULL, "--dry-run", "-p", name, "stop", "web", NULL);
    cb_assert_status(&r, 0);
    want = xasprintf("container %s-web-1: stop\n", name);
    assert_string_equal(buf_str(&r.out), want);
    free(want);
    cb_result_release(&r);
    char *web = st_cname(f->p, "web", 1);
    char *s = st_state(&f->env, web, "Status");
    assert_string_equal(s, "running");
    free(s);
    free(web);

    cb_run(&r, NULL, "--progress", "json", "-p", name, "down", "-t", "5", NULL);
    cb_assert_status(&r, 0);
    /* One JSON object a line. */
    size_t removed = 0;
    for (char *line = r.err.data; line && *line; line = strchr(line, '\n') + 1) {
        json_error_t jerr;
        json_t *o = json_loadb(line, strcspn(line, "\n"), 0, &jerr);
        if (!o)
            fail_msg("not JSON: %s", line);
        removed += !strcmp(json_string_value(json_object_get(o, "status")), "Removed");
        json_decref(o);
    }
    assert_int_equal(removed, 3); /* two containers, one network */
    assert_int_equal(st_count(&f->env, name, "container"), 0);
    assert_int_equal(st_count(&f->env, name, "network"), 0);
    cb_result_release(&r);

    /* Nothing left to do: still a success. */
    cb_expect(0, NULL, NULL, "-p", name, "down", NULL);
}

/* The terminal display, forced onto a pipe: a header, one line per container redrawn in place
 * (cursor up, clear line), a check mark once done. --ansi never falls back to plain lines. */
static void test_tty_display(void **state)
{
    struct st_fixture *f = *state;
    up_stack(f);
    const char *name = f->p->name;
    char *web = st_cname(f->p, "web", 1);
    struct cb_result r;
    cb_run(&r, NULL, "--progress", "tty", "-p", name, "restart", "-t", "5", NULL);
    cb_assert_status(&r, 0);
    const char *err = buf_str(&r.err);
    cb_assert_contains(err, "[+] Running 2/2");
    cb_assert_contains(err, "\033[2K");
    char *done = xasprintf("\u2714 Container %s  Started ", web);
    cb_assert_contains(err, done);
    cb_result_release(&r);

    cb_run(&r, NULL, "--ansi", "never", "--progress", "tty", "-p", name, "restart", "-t", "5",
           NULL);
    cb_assert_status(&r, 0);
    assert_null(strchr(buf_str(&r.err), '\033'));
    char *plain = xasprintf("Container %s  Started\n", web);
    cb_assert_contains(buf_str(&r.err), plain);
    cb_result_release(&r);
    free(done);
    free(plain);
    free(web);
}

static void test_usage_and_unreachable(void **state)
{
    (void)state;
    struct cb_result r;
    cb_expect(2, NULL, NULL, "-p", "x", "down", "--rmi", "some", NULL);
    cb_expect(2, NULL, NULL, "-p", "x", "stop", "-t", "soon", NULL);
    /* A command with no dry-run of its own refuses it rather than change the engine. */
    cb_expect(2, "'pull' has no --dry-run yet, and would change the engine", NULL, "--dry-run",
              "-p", "x", "pull", NULL);
    cb_expect(2, "'wait --down-project' has no --dry-run yet, and would change the engine", NULL,
              "--dry-run", "-p", "x", "wait", "--down-project", "web", NULL);
    cb_run(&r, NULL, "-H", "unix:///nonexistent/docker.sock", "-p", "x", "ps", NULL);
    cb_assert_status(&r, 4);
    at(buf_str(&r.err), "/nonexistent/docker.sock");
    cb_result_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ps, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_logs, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_stop_start_restart, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_down_by_name, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_tty_display, st_setup, st_teardown),
        cmocka_unit_test(test_usage_and_unreachable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
