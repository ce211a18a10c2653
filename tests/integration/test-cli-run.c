/* `ccompose run` against the real engine: the exit code passed through, stdin reaching the
 * command, the one-off label and name, dependencies started first (not with --no-deps), -e, -l,
 * -v, -w, -u, --entrypoint, --name, -d, and --rm leaving nothing behind, Ctrl-C included. Every
 * project is removed by its label at teardown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/cli-test.h"
#include "tests/lib/compose-test.h"
#include "tests/lib/sched-test.h"

#define SLEEPER "[\"sh\", \"-c\", \"trap 'exit 0' TERM; sleep 3600 & wait\"]"

static const char stack[] = "services:\n"
                            "  db:\n"
                            "    image: " TEST_IMAGE "\n"
                            "    command: " SLEEPER "\n"
                            "  app:\n"
                            "    image: " TEST_IMAGE "\n"
                            "    command: [\"echo\", \"default command\"]\n"
                            "    restart: always\n"
                            "    depends_on: [db]\n"
                            "  job:\n"
                            "    image: " TEST_IMAGE "\n"
                            "    command: [\"sh\", \"-c\", \"sleep 1; exit 4\"]\n";

static int setup(void **state)
{
    cb_fx_setup(state);
    struct cb_fx *f = *state;
    ct_put(f->dir, "compose.yaml", stack);
    ct_put(f->dir, "data/hello.txt", "from the host\n");
    return 0;
}

static void run_in(struct cb_fx *f, struct cb_result *r, const char *input, ...)
{
    const char *prefix[] = {"-p", f->project, "--progress", "plain", "run"};
    va_list ap;
    va_start(ap, input);
    cb_vrun_input(r, f->dir, input, input ? strlen(input) : 0, prefix, CC_ARRAY_LEN(prefix), ap);
    va_end(ap);
}

/* The project's containers: "name oneoff\n" lines, sorted. new. */
static char *containers(struct cb_fx *f)
{
    struct tl_result r;
    tl_result_init(&r);
    char *label = xasprintf("com.docker.compose.project=%s", f->project);
    json_t *filters = json_pack("{s:[s]}", "label", label);
    TL_RUN(f->env, r, engine_container_list(f->env.c, true, filters, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    struct buf b = BUF_INIT;
    buf_adds(&b, "");
    size_t i;
    json_t *c;
    json_array_foreach(r.json, i, c)
    {
        const char *name = json_string_value(json_array_get(json_object_get(c, "Names"), 0));
        const char *oneoff = json_string_value(
            json_object_get(json_object_get(c, "Labels"), "com.docker.compose.oneoff"));
        buf_printf(&b, "%s %s\n", name ? name + 1 : "?", oneoff ? oneoff : "?");
    }
    json_decref(filters);
    free(label);
    tl_result_release(&r);
    return buf_detach(&b);
}

static void test_run_rm_deps_exit_code(void **state)
{
    struct cb_fx *f = *state;
    struct cb_result r;
    run_in(f, &r, NULL, "--rm", "app", "sh", "-c", "echo out; echo err >&2; exit 3", NULL);
    cb_assert_status(&r, 3);
    assert_string_equal(buf_str(&r.out), "out\n");
    cb_assert_contains(buf_str(&r.err), "err\n");
    cb_result_release(&r);
    /* db was started first; the one-off container is gone. */
    char *list = containers(f);
    char *want = xasprintf("%s-db-1 False\n", f->project);
    assert_string_equal(list, want);
    free(want);
    free(list);

    /* The service's own command when none is given. */
    run_in(f, &r, NULL, "--rm", "app", NULL);
    cb_assert_status(&r, 0);
    assert_string_equal(buf_str(&r.out), "default command\n");
    cb_result_release(&r);

    run_in(f, &r, "piped data\n", "--rm", "-T", "app", "cat", NULL);
    cb_assert_status(&r, 0);
    assert_string_equal(buf_str(&r.out), "piped data\n");
    cb_result_release(&r);

    /* 10 MB of every byte value through the one-off's attached stdin, back byte-exact. */
    size_t len = 10u * 1024 * 1024;
    char *payload = cb_payload(len);
    const char *args[] = {"-p", f->project, "run", "--rm", "-T", "--no-deps", "app", "cat"};
    cb_runv_input(&r, f->dir, payload, len, args, CC_ARRAY_LEN(args));
    cb_assert_status(&r, 0);
    assert_int_equal(r.out.len, len);
    assert_memory_equal(r.out.data, payload, len);
    cb_result_release(&r);
    free(payload);
}

static void test_run_oneoff_container(void **state)
{
    struct cb_fx *f = *state;
    struct cb_result r;
    char *vol = xasprintf("%s/data:/data:ro", f->dir);
    run_in(f, &r, NULL, "--no-deps", "-e", "FOO=bar", "-l", "ccit.label=yes", "-v", vol, "-w",
           "/data", "-u", "4321", "--entrypoint", "sh -c", "app",
           "echo $FOO $(pwd) $(id -u) $(cat hello.txt)", NULL);
    cb_assert_status(&r, 0);
    assert_string_equal(buf_str(&r.out), "bar /data 4321 from the host\n");
    cb_result_release(&r);
    free(vol);

    /* Kept without --rm: named <project>-app-run-<12 hex>, one-off, no restart policy; and db
     * was not started (--no-deps). */
    char *list = containers(f);
    char *prefix = xasprintf("%s-app-run-", f->project);
    assert_int_equal(strncmp(list, prefix, strlen(prefix)), 0);
    const char *hex = list + strlen(prefix);
    assert_int_equal(strspn(hex, "0123456789abcdef"), 12);
    assert_string_equal(hex + 12, " True\n");
    char *name = xstrndup(list, strlen(prefix) + 12);
    json_t *j = st_inspect(&f->env, name);
    assert_string_equal(json_string_value(tl_json_at(j, "Config/Labels/com.docker.compose.oneoff")),
                        "True");
    assert_string_equal(json_string_value(tl_json_at(j, "Config/Labels/ccit.label")), "yes");
    assert_string_equal(json_string_value(tl_json_at(j, "HostConfig/RestartPolicy/Name")), "");
    json_decref(j);
    free(name);
    free(prefix);
    free(list);

    /* -d with --name: printed, running, and found by its name. */
    char *given = xasprintf("%s-given", f->project);
    run_in(f, &r, NULL, "-d", "--no-deps", "--name", given, "app", "sleep", "30", NULL);
    cb_assert_status(&r, 0);
    char *line = xasprintf("%s\n", given);
    assert_string_equal(buf_str(&r.out), line);
    cb_result_release(&r);
    j = st_inspect(&f->env, given);
    assert_non_null(j);
    assert_true(json_is_true(tl_json_at(j, "State/Running")));
    json_decref(j);
    free(line);
    free(given);

    /* As docker compose: exit 1, not a usage error. */
    run_in(f, &r, NULL, "nosuch", NULL);
    cb_assert_status(&r, 1);
    cb_assert_contains(buf_str(&r.err), "error: no such service: 'nosuch'\n");
    cb_result_release(&r);
}

/* --build builds the service's image before the one-off starts, even when one is there; without
 * it the image there is used (pull_policy missing). */
static void test_run_build(void **state)
{
    struct cb_fx *f = *state;
    ct_put(f->dir, "compose.yaml",
           "services:\n  built:\n    build: ctx\n    command: [\"cat\", \"/mark\"]\n");
    char *image = xasprintf("%s-built", f->project);
    tl_cleanup_image(image);
    struct cb_result r;
    static const char *const marks[] = {"first", "second", "third"};
    static const char *const wants[] = {"first\n", "first\n", "third\n"};
    for (size_t i = 0; i < CC_ARRAY_LEN(marks); i++) {
        char *df = xasprintf("FROM %s\nRUN echo %s > /mark\n", TEST_IMAGE, marks[i]);
        ct_put(f->dir, "ctx/Dockerfile", df);
        free(df);
        /* first: no image yet, so it is built anyway; second: there, so not rebuilt; third:
         * --build. */
        if (i == 2)
            run_in(f, &r, NULL, "--rm", "--build", "built", NULL);
        else
            run_in(f, &r, NULL, "--rm", "built", NULL);
        cb_assert_status(&r, 0);
        assert_string_equal(buf_str(&r.out), wants[i]);
        cb_result_release(&r);
        if (i == 0) {
            /* --build moves the tag to a new image and leaves this one dangling, as docker
             * compose does: the test removes it by ID. */
            struct tl_result x;
            tl_result_init(&x);
            TL_RUN(f->env, x, engine_image_inspect(f->env.c, image, tl_on_done, &x, &err));
            tl_assert_ok(&x);
            tl_cleanup_image(json_string_value(json_object_get(x.json, "Id")));
            tl_result_release(&x);
        }
    }
    run_in(f, &r, NULL, "--rm", "--pull", "sometimes", "built", NULL);
    cb_assert_status(&r, 2);
    cb_result_release(&r);
    /* --pull never with an image that is there: used as it is. */
    run_in(f, &r, NULL, "--rm", "--pull", "never", "built", NULL);
    cb_assert_status(&r, 0);
    assert_string_equal(buf_str(&r.out), "third\n");
    cb_result_release(&r);
    free(image);
}

/* -v ./data: taken from the project directory, not from where ccompose runs. */
static void test_run_relative_volume(void **state)
{
    struct cb_fx *f = *state;
    char *file = xasprintf("%s/compose.yaml", f->dir);
    char *elsewhere = ct_tmpdir();
    const char *args[] = {"-f",        file,  "-p",
                          f->project,  "run", "--rm",
                          "--no-deps", "-v",  "./data:/data:ro",
                          "app",       "cat", "/data/hello.txt"};
    struct cb_result r;
    cb_runv_input(&r, elsewhere, NULL, 0, args, CC_ARRAY_LEN(args));
    cb_assert_status(&r, 0);
    assert_string_equal(buf_str(&r.out), "from the host\n");
    cb_result_release(&r);
    /* "." alone is the project directory itself. */
    const char *args2[] = {"-f",         file,   "-p",        f->project,
                           "run",        "--rm", "--no-deps", "-v",
                           ".:/proj:ro", "app",  "cat",       "/proj/data/hello.txt"};
    cb_runv_input(&r, elsewhere, NULL, 0, args2, CC_ARRAY_LEN(args2));
    cb_assert_status(&r, 0);
    assert_string_equal(buf_str(&r.out), "from the host\n");
    cb_result_release(&r);
    ct_rmdir(elsewhere);
    free(elsewhere);
    free(file);
}

/* Ctrl-C during an attached --rm run: exit 130, and the container is removed all the same. */
static void test_run_rm_ctrl_c(void **state)
{
    struct cb_fx *f = *state;
    struct cb_proc p;
    cb_spawn(&p, f->dir, "-p", f->project, "run", "--rm", "--no-deps", "-T", "app", "sh", "-c",
             "echo ready; sleep 300", NULL);
    cb_read_until(&p, "ready");
    kill(p.pid, SIGINT);
    assert_int_equal(cb_finish(&p), 130);
    buf_release(&p.out);
    char *list = containers(f);
    assert_string_equal(list, "");
    free(list);
}

/* wait: the first container's exit code; --down-project takes everything down after. */
static void test_wait(void **state)
{
    struct cb_fx *f = *state;
    struct cb_result r;
    cb_run(&r, f->dir, "-p", f->project, "up", "-d", "db", "job", NULL);
    cb_assert_status(&r, 0);
    cb_result_release(&r);
    cb_run(&r, f->dir, "-p", f->project, "wait", "job", NULL);
    cb_assert_status(&r, 4);
    cb_result_release(&r);
    cb_run(&r, f->dir, "-p", f->project, "wait", "--down-project", "job", "db", NULL);
    cb_assert_status(&r, 4);
    cb_result_release(&r);
    assert_int_equal(st_count(&f->env, f->project, "container"), 0);
    cb_run(&r, f->dir, "-p", f->project, "wait", NULL);
    cb_assert_status(&r, 2);
    cb_result_release(&r);
}

/* events: a start during an up, in docker compose's line format and as JSON. */
static void test_events(void **state)
{
    struct cb_fx *f = *state;
    struct cb_proc plain, js;
    cb_spawn(&plain, f->dir, "-p", f->project, "events", NULL);
    cb_spawn(&js, f->dir, "-p", f->project, "events", "--json", "db", NULL);
    struct cb_result r;
    cb_run(&r, f->dir, "-p", f->project, "up", "-d", "db", NULL);
    cb_assert_status(&r, 0);
    cb_result_release(&r);
    /* The subscriptions may have come after that start: a restart starts it again. */
    cb_run(&r, f->dir, "-p", f->project, "restart", "-t", "0", "db", NULL);
    cb_assert_status(&r, 0);
    cb_result_release(&r);
    char *name = xasprintf("name=%s-db-1", f->project);
    cb_read_until(&plain, name);
    cb_read_until(&js, "\"action\":\"start\"");
    kill(plain.pid, SIGINT);
    kill(js.pid, SIGINT);
    assert_int_equal(cb_finish(&plain), 0);
    assert_int_equal(cb_finish(&js), 0);
    const char *start = strstr(buf_str(&plain.out), " container start ");
    assert_non_null(start);
    /* "YYYY-MM-DD HH:MM:SS.ffffff container start <64 hex> (..., image=..., name=...)" */
    const char *line = start;
    while (line > buf_str(&plain.out) && line[-1] != '\n')
        line--;
    assert_int_equal(start - line, 26);
    assert_int_equal(line[4], '-');
    assert_int_equal(line[19], '.');
    assert_int_equal(strspn(start + 17, "0123456789abcdef"), 64);
    const char *eol = strchr(start, '\n');
    char *text = xstrndup(start, (size_t)(eol - start));
    /* The scheduler creates from the image ID, which Docker reports; Podman reports the name it
     * resolved the ID to (and its own attributes, containerExitCode and podId, are left out). */
    cb_assert_contains(text,
                       tl_engine_is_podman() ? ", image=" TEST_IMAGE ", " : ", image=sha256:");
    assert_null(strstr(text, "podId="));
    cb_assert_contains(text, name);
    free(text);
    char *first =
        xstrndup(strstr(buf_str(&js.out), "{"), strcspn(strstr(buf_str(&js.out), "{"), "\n"));
    json_t *j = json_loads(first, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "type")), "container");
    assert_string_equal(json_string_value(json_object_get(j, "service")), "db");
    assert_non_null(json_object_get(j, "time"));
    json_decref(j);
    free(first);
    free(name);
    buf_release(&plain.out);
    buf_release(&js.out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_run_rm_deps_exit_code, setup, cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_run_oneoff_container, setup, cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_run_build, setup, cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_run_relative_volume, setup, cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_run_rm_ctrl_c, setup, cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_wait, setup, cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_events, setup, cb_fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, tl_group_teardown);
}
