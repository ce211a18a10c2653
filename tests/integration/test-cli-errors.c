/* Errors as users see them (docs/errors.md): the ccompose binary on hostile or broken compose files,
 * against an engine that is not there, and against an engine that refuses (a container name taken,
 * a host port taken, an image that is not here); each with its exit code (README, "Exit codes"),
 * its words on stderr, and where it applies the file:line:column and the hint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/buf.h"
#include "compose/node.h"
#include "tests/lib/cli-test.h"
#include "tests/lib/compose-test.h"
#include "tests/lib/sched-test.h"

#define SLEEPER "[\"sh\", \"-c\", \"trap 'exit 0' TERM; sleep 3600 & wait\"]"

static void expect(struct cb_fx *f, const char *yaml, int status, const char *want, ...)
{
    ct_put(f->dir, "compose.yaml", yaml);
    struct cb_result r;
    cb_run(&r, f->dir, "-p", f->project, "config", "-q", NULL);
    cb_assert_status(&r, status);
    va_list ap;
    va_start(ap, want);
    for (const char *w = want; w; w = va_arg(ap, const char *))
        cb_assert_contains(buf_str(&r.err), w);
    va_end(ap);
    /* Nothing of ccompose's insides: no key paths in brackets, no pointers, no C names. */
    assert_null(strstr(buf_str(&r.err), "0x"));
    assert_null(strstr(buf_str(&r.err), "cnode"));
    cb_result_release(&r);
}

/* Hostile compose files are refused, each at its place with what to do, before anything is
 * expanded or sent: the limits of compose/node.h. */
static void test_hostile_files(void **state)
{
    struct cb_fx *f = *state;
    expect(f, "services:\n  web:\n    image: a: b\n", 3,
           "compose.yaml:3:13: error: unexpected ':' in a value\n",
           "hint: quote the value if it contains ': ', or check the indentation of this line", NULL);

    struct buf b = BUF_INIT;
    buf_adds(&b, "x-a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for (int i = 1; i < 10; i++)
        buf_printf(&b, "x-a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n",
                   i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
    buf_adds(&b, "services:\n  web:\n    image: busybox\n");
    expect(f, buf_str(&b), 3,
           "compose.yaml:6:", "error: document expands to more than 1000000 nodes through aliases, "
           "refusing it",
           "(an 'alias bomb')", NULL);

    buf_reset(&b);
    buf_adds(&b, "services:\n  web:\n    image: busybox\n    labels:\n      deep: ");
    for (int i = 0; i < CNODE_MAX_DEPTH; i++)
        buf_addc(&b, '[');
    buf_adds(&b, "\n");
    expect(f, buf_str(&b), 3, "error: nesting deeper than 128 levels", NULL);

    buf_reset(&b);
    buf_adds(&b, "services:\n");
    for (unsigned i = 0; i <= CNODE_MAX_SERVICES; i++)
        buf_printf(&b, "  s%u: {image: busybox}\n", i);
    expect(f, buf_str(&b), 3,
           "compose.yaml:10002:3: error: more than 10000 services, refusing the project\n", NULL);

    buf_reset(&b);
    buf_adds(&b, "services:\n  web:\n    image: \"");
    for (int i = 0; i < 17; i++)
        buf_adds(&b, "${A:-");
    buf_adds(&b, "x");
    for (int i = 0; i < 17; i++)
        buf_addc(&b, '}');
    buf_adds(&b, "\"\n");
    expect(f, buf_str(&b), 3, "error: interpolation nested deeper than 16 levels", NULL);
    buf_release(&b);
}

/* Files that are no compose file, and missing files they name; flags with bad values. */
static void test_bad_files_and_flags(void **state)
{
    struct cb_fx *f = *state;
    expect(f, "- a\n", 3,
           "compose.yaml:1:1: error: a compose file must be a mapping of top-level keys, not a "
           "sequence\n",
           "hint: start the file with `services:`\n", NULL);
    expect(f, "", 3, "compose.yaml: error: empty compose file\n",
           "hint: define at least one service under `services:`\n", NULL);
    char *want = xasprintf("compose.yaml:4:15: error: env file '%s/nope.env' cannot be read: No "
                           "such file or directory\n",
                           f->dir);
    expect(f, "services:\n  web:\n    image: x\n    env_file: nope.env\n", 3, want,
           "hint: check the path, or mark the entry `required: false`\n", NULL);
    free(want);

    struct cb_result r;
    cb_run(&r, f->dir, "-p", f->project, "--env-file", "nope.env", "config", "-q", NULL);
    cb_assert_status(&r, 3);
    want = xasprintf("error: env file '%s/nope.env' not found\n"
                     "hint: check the path given with --env-file or env_file\n",
                     f->dir);
    cb_assert_contains(buf_str(&r.err), want);
    free(want);
    cb_result_release(&r);
    cb_run(&r, f->dir, "-p", f->project, "-f", "missing.yaml", "config", "-q", NULL);
    cb_assert_status(&r, 3);
    cb_assert_contains(buf_str(&r.err), "error: cannot open 'missing.yaml': No such file or "
                                        "directory\nhint: check the path given with -f or "
                                        "COMPOSE_FILE\n");
    cb_result_release(&r);
    ct_put(f->dir, "compose.yaml", "services:\n  web:\n    image: " TEST_IMAGE "\n");
    cb_run(&r, f->dir, "-p", f->project, "up", "-d", "--scale", "web=x", NULL);
    cb_assert_status(&r, 2);
    cb_assert_contains(buf_str(&r.err), "error: --scale takes a number from 0 to 10000, not 'x'");
    cb_result_release(&r);
}

/* A file of more than 16 MiB is refused before it is read whole. */
static void test_file_too_large(void **state)
{
    struct cb_fx *f = *state;
    char *path = xasprintf("%s/compose.yaml", f->dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("services:\n  web:\n    image: busybox\n", fp);
    for (size_t n = 0; n <= CNODE_MAX_INPUT; n += 64)
        fputs("# padding padding padding padding padding padding padding paddin\n", fp);
    fclose(fp);
    struct cb_result r;
    cb_run(&r, f->dir, "-p", f->project, "config", "-q", NULL);
    cb_assert_status(&r, 3);
    cb_assert_contains(buf_str(&r.err), "is larger than 16 MiB, refusing it");
    cb_result_release(&r);
    free(path);
}

/* No engine at DOCKER_HOST: exit 4, the address and what to do. */
static void test_unreachable_engine(void **state)
{
    struct cb_fx *f = *state;
    ct_put(f->dir, "compose.yaml", "services:\n  web:\n    image: " TEST_IMAGE "\n");
    struct cb_result r;
    cb_run(&r, f->dir, "-H", "unix:///nonexistent/ccit.sock", "-p", f->project, "ps", NULL);
    cb_assert_status(&r, 4);
    cb_assert_contains(buf_str(&r.err), "error: cannot reach the engine at "
                                        "unix:///nonexistent/ccit.sock: no such socket\n"
                                        "hint: start the engine (e.g. 'dockerd' or 'systemctl "
                                        "start docker'), or set DOCKER_HOST or -H to the address "
                                        "it listens on\n");
    cb_result_release(&r);
    /* A socket file nobody listens on. */
    char *sock = xasprintf("%s/engine.sock", f->dir);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    char *host = xasprintf("unix://%s", sock);
    cb_run(&r, f->dir, "-H", host, "-p", f->project, "ps", NULL);
    cb_assert_status(&r, 4);
    char *want = xasprintf("error: cannot reach the engine at %s: connection refused\n", host);
    cb_assert_contains(buf_str(&r.err), want);
    cb_result_release(&r);
    close(fd);
    free(want);
    free(host);
    free(sock);
    cb_run(&r, f->dir, "-H", "ftp://example", "-p", f->project, "ps", NULL);
    cb_assert_status(&r, 2);
    cb_assert_contains(buf_str(&r.err), "cannot use engine address 'ftp://example'");
    cb_result_release(&r);
}

/* The engine refuses: its words, after the container's name, exit 1, and nothing else done
 * twice. */
static void test_engine_refusals(void **state)
{
    struct cb_fx *f = *state;
    char *other = xasprintf("%s-other", f->project);
    char *taken = xasprintf("%s-taken", f->project);
    int port = 20000 + (int)(getpid() % 20000);
    char *yaml = xasprintf("services:\n"
                           "  web:\n"
                           "    image: " TEST_IMAGE "\n"
                           "    command: " SLEEPER "\n"
                           "    container_name: %s\n",
                           taken);
    ct_put(f->dir, "compose.yaml", yaml);
    struct cb_result r;
    cb_run(&r, f->dir, "-p", other, "up", "-d", NULL);
    cb_assert_status(&r, 0);
    cb_result_release(&r);
    cb_run(&r, f->dir, "-p", f->project, "up", "-d", NULL);
    cb_assert_status(&r, 1);
    char *want = xasprintf("error: %s: the name '%s' is taken by a container that is not service "
                           "'web' of project '%s'\nhint: remove or rename that container",
                           taken, taken, f->project);
    cb_assert_contains(buf_str(&r.err), want);
    cb_result_release(&r);
    free(want);
    free(yaml);

    yaml = xasprintf("services:\n"
                     "  a:\n"
                     "    image: " TEST_IMAGE "\n"
                     "    command: " SLEEPER "\n"
                     "    ports: [\"127.0.0.1:%d:80\"]\n"
                     "  b:\n"
                     "    image: " TEST_IMAGE "\n"
                     "    command: " SLEEPER "\n"
                     "    depends_on: [a]\n"
                     "    ports: [\"127.0.0.1:%d:80\"]\n",
                     port, port);
    ct_put(f->dir, "compose.yaml", yaml);
    cb_run(&r, f->dir, "-p", f->project, "up", "-d", NULL);
    cb_assert_status(&r, 1);
    /* The engine's own words, passed on: Podman says it its way. */
    if (tl_engine_is_podman()) {
        want = xasprintf("cannot listen on the TCP port: listen tcp4 127.0.0.1:%d: bind: address "
                         "already in use",
                         port);
    } else {
        want = xasprintf("Bind for 127.0.0.1:%d failed: port is already allocated", port);
        cb_assert_contains(buf_str(&r.err),
                           "driver failed programming external connectivity on endpoint ");
    }
    cb_assert_contains(buf_str(&r.err), want);
    cb_assert_contains(buf_str(&r.err), "error: ");
    cb_result_release(&r);
    /* --progress json: the failure's first line is its text, the rest (state, log) its details. */
    cb_run(&r, f->dir, "--progress", "json", "-p", f->project, "up", "-d", NULL);
    cb_assert_status(&r, 1);
    bool seen = false;
    for (const char *l = buf_str(&r.err); *l && !seen;) {
        size_t len = strcspn(l, "\n");
        json_t *o = json_loadb(l, len, 0, NULL);
        const char *text = json_string_value(json_object_get(o, "text"));
        const char *details = json_string_value(json_object_get(o, "details"));
        if (json_is_true(json_object_get(o, "error")) && text && strstr(text, want)) {
            assert_non_null(details);
            assert_non_null(strstr(details, "state: "));
            assert_null(strchr(text, '\n'));
            seen = true;
        }
        json_decref(o);
        l += len + (l[len] == '\n');
    }
    if (!seen)
        fail_msg("no JSON error line with details in:\n%s", buf_str(&r.err));
    cb_result_release(&r);
    free(want);
    free(yaml);

    ct_put(f->dir, "compose.yaml",
           "services:\n  a:\n    image: ccit-none/none:never\n    pull_policy: never\n");
    cb_run(&r, f->dir, "-p", f->project, "up", "-d", NULL);
    cb_assert_status(&r, 1);
    cb_assert_contains(buf_str(&r.err), "error: image 'ccit-none/none:never' of service 'a' is "
                                        "not here and pull_policy is 'never'\n"
                                        "hint: pull it first, or change pull_policy\n");
    cb_result_release(&r);
    st_cleanup(other);
    free(other);
    free(taken);
}

static int teardown(void **state)
{
    struct cb_fx *f = *state;
    char *other = xasprintf("%s-other", f->project);
    st_cleanup(other);
    free(other);
    return cb_fx_teardown(state);
}

/* A SERVICE argument the project does not have: "no such service" and exit 1 from every command
 * that takes SERVICE... (docker compose's projectOrName), before anything is done; exec, port and
 * cp look only for its container, as docker compose's do, and say it is not running. With no
 * compose file (-p only) the names filter the labels and nothing is checked. */
static void test_no_such_service(void **state)
{
    struct cb_fx *f = *state;
    ct_put(f->dir, "compose.yaml",
           "services:\n"
           "  app:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: " SLEEPER "\n");
    static const char *const cmds[] = {"logs",  "ps",      "start",  "stop",   "restart", "kill",
                                       "pause", "unpause", "top",    "images", "events",  "up",
                                       "down",  "wait",    "create", "pull",   "build",   "push"};
    for (size_t i = 0; i < CC_ARRAY_LEN(cmds); i++)
        cb_fx_expect(f, 1, "error: no such service: 'nosuch'\n", cmds[i], "nosuch", NULL);
    cb_fx_expect(f, 1, "error: no such service: 'nosuch'\n", "rm", "-f", "nosuch", NULL);
    /* The first unknown name is the one named, known ones around it or not. */
    cb_fx_expect(f, 1, "error: no such service: 'other'\n", "logs", "app", "other", "nosuch", NULL);
    cb_fx_expect(f, 1, "error: no such service: 'nosuch'\n", "run", "--rm", "nosuch", "true", NULL);
    cb_fx_expect(f, 1, "error: service 'nosuch' is not running\n", "exec", "-T", "nosuch", "true",
                 NULL);
    cb_fx_expect(f, 1, "error: service \"nosuch\" is not running\n", "port", "nosuch", "80", NULL);
    cb_fx_expect(f, 1, "error: no container found for service 'nosuch'", "cp",
                 "nosuch:/etc/hostname", f->dir, NULL);
    /* Nothing was created on the way. */
    struct cb_result r;
    cb_fx_run(&r, f, "ps", "-a", "-q", NULL);
    assert_string_equal(buf_str(&r.out), "");
    cb_result_release(&r);

    /* A known service still works: logs of a service with no container says nothing, exit 0. */
    cb_fx_expect(f, 0, NULL, "logs", "app", NULL);
    /* Without a compose file the names only filter the labels. */
    char *empty = ct_tmpdir();
    cb_expect(0, NULL, empty, "-p", f->project, "logs", "nosuch", NULL);
    cb_expect(0, NULL, empty, "-p", f->project, "ps", "nosuch", NULL);
    ct_rmdir(empty);
    free(empty);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hostile_files, cb_fx_setup, cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_bad_files_and_flags, cb_fx_setup, cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_file_too_large, cb_fx_setup, cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_unreachable_engine, cb_fx_setup, cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_engine_refusals, cb_fx_setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_such_service, cb_fx_setup, cb_fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
