/* The everyday commands of the ccompose binary on a project made by the scheduler (-p NAME, no
 * compose file): kill, pause, unpause, rm, top, port, images and ls, checked against the engine;
 * --dry-run checked to leave it untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/cli-test.h"
#include "tests/lib/compose-test.h"
#include "tests/lib/sched-test.h"

/* web (exits 42 on SIGUSR1, publishes 80 on a free host port) and db (an anonymous volume on
 * /data). */
static void up_pair(struct st_fixture *f)
{
    struct compose_project *p = f->p;
    struct compose_service *web = mb_service_add(p, "web", TEST_IMAGE);
    mb_command(p, web, "sh", "-c",
               "trap 'exit 42' USR1; trap 'exit 0' TERM; echo traps set; sleep 3600 & wait", NULL);
    mb_port_add(p, web, 80, "", "127.0.0.1", NULL);
    struct compose_service *db = st_sleeper(p, "db");
    mb_mount_add(p, db, COMPOSE_MOUNT_VOLUME, NULL, "/data");
    mb_project_done(p);
    st_up_ok(&f->env, p);
    /* A signal that comes before the trap is set is lost (PID 1 ignores SIGUSR1). */
    st_logs_until(&f->env, p, "web", "traps set");
}

static void assert_status(struct st_fixture *f, const char *service, const char *want)
{
    char *name = st_cname(f->p, service, 1);
    char *s = st_state(&f->env, name, "Status");
    if (strcmp(s, want))
        fail_msg("%s is %s, not %s", name, s, want);
    free(s);
    free(name);
}

/* `--dry-run -p PROJECT VERB [FLAG]` in cwd (NULL: here) says "container NAME-SERVICE-1: VERB"
 * for each service given (up to a NULL), in order, and nothing else. */
static void expect_dry(struct st_fixture *f, const char *cwd, const char *verb, const char *flag,
                       ...)
{
    struct buf want = BUF_INIT;
    buf_adds(&want, "");
    va_list ap;
    va_start(ap, flag);
    for (const char *s; (s = va_arg(ap, const char *));)
        buf_printf(&want, "container %s-%s-1: %s\n", f->p->name, s, verb);
    va_end(ap);
    struct cb_result r;
    cb_run(&r, cwd, "--dry-run", "-p", f->p->name, verb, flag, NULL);
    cb_assert_status(&r, 0);
    assert_string_equal(buf_str(&r.out), buf_str(&want));
    cb_result_release(&r);
    buf_release(&want);
}

static void test_pause_unpause(void **state)
{
    struct st_fixture *f = *state;
    up_pair(f);
    const char *name = f->p->name;
    struct cb_result r;
    expect_dry(f, NULL, "pause", NULL, "db", "web", NULL);
    assert_status(f, "web", "running");
    assert_status(f, "db", "running");

    cb_run(&r, NULL, "--progress", "plain", "-p", name, "pause", "web", NULL);
    cb_assert_status(&r, 0);
    char *web = st_cname(f->p, "web", 1);
    char *line = xasprintf("Container %s  Paused\n", web);
    cb_assert_contains(buf_str(&r.err), line);
    free(line);
    cb_result_release(&r);
    assert_status(f, "web", "paused");
    assert_status(f, "db", "running");

    /* Only paused containers can be resumed: the dry run names web alone. */
    expect_dry(f, NULL, "unpause", NULL, "web", NULL);
    assert_status(f, "web", "paused");

    cb_run(&r, NULL, "--progress", "plain", "-p", name, "unpause", NULL);
    cb_assert_status(&r, 0);
    line = xasprintf("Container %s  Unpaused\n", web);
    cb_assert_contains(buf_str(&r.err), line);
    free(line);
    cb_result_release(&r);
    assert_status(f, "web", "running");

    /* One call at a time: the next is sent from the previous one's completion. */
    cb_expect(0, NULL, NULL, "--parallel", "1", "-p", name, "pause", NULL);
    assert_status(f, "web", "paused");
    assert_status(f, "db", "paused");
    cb_expect(0, NULL, NULL, "--parallel", "1", "-p", name, "unpause", NULL);
    assert_status(f, "db", "running");
    free(web);
}

static void test_kill(void **state)
{
    struct st_fixture *f = *state;
    up_pair(f);
    const char *name = f->p->name;
    struct cb_result r;
    expect_dry(f, NULL, "kill", NULL, "db", "web", NULL);
    assert_status(f, "web", "running");
    assert_status(f, "db", "running");

    /* The signal given reaches the process: web's trap exits 42. */
    cb_run(&r, NULL, "--progress", "plain", "-p", name, "kill", "-s", "SIGUSR1", "web", NULL);
    cb_assert_status(&r, 0);
    char *web = st_cname(f->p, "web", 1);
    char *line = xasprintf("Container %s  Killed\n", web);
    cb_assert_contains(buf_str(&r.err), line);
    free(line);
    cb_result_release(&r);
    cb_expect(42, NULL, NULL, "-p", name, "wait", "web", NULL);
    assert_status(f, "db", "running");

    /* SIGKILL by default: 128 + 9. */
    cb_expect(0, NULL, NULL, "-p", name, "kill", NULL);
    cb_expect(137, NULL, NULL, "-p", name, "wait", "db", NULL);

    cb_run(&r, NULL, "-p", name, "kill", NULL);
    cb_assert_status(&r, 0);
    cb_assert_contains(buf_str(&r.err), "No container to kill");
    cb_result_release(&r);

    cb_expect(2, NULL, NULL, "-p", name, "kill", "--bogus", NULL);
    free(web);
}

static void test_rm(void **state)
{
    struct st_fixture *f = *state;
    up_pair(f);
    const char *name = f->p->name;
    char *web = st_cname(f->p, "web", 1), *db = st_cname(f->p, "db", 1);
    struct cb_result r;
    cb_run(&r, NULL, "-p", name, "rm", NULL);
    cb_assert_status(&r, 0);
    cb_assert_contains(buf_str(&r.err), "No stopped containers");
    cb_result_release(&r);

    cb_expect(0, NULL, NULL, "-p", name, "stop", "-t", "5", "web", NULL);

    /* No terminal and no answer: docker compose's message, no newline, and nothing removed. */
    cb_run(&r, NULL, "-p", name, "rm", NULL);
    cb_assert_status(&r, 0);
    char *msg = xasprintf("Going to remove %s", web);
    assert_string_equal(buf_str(&r.out), msg);
    cb_result_release(&r);
    assert_int_equal(st_count(&f->env, name, "container"), 2);

    /* -s in a dry run: the running one would be stopped first; nothing changes. */
    cb_run(&r, NULL, "--dry-run", "-p", name, "rm", "-s", NULL);
    cb_assert_status(&r, 0);
    char *want = xasprintf("container %s: stop, remove\ncontainer %s: remove\n", db, web);
    assert_string_equal(buf_str(&r.out), want);
    free(want);
    cb_result_release(&r);
    assert_int_equal(st_count(&f->env, name, "container"), 2);
    assert_status(f, "db", "running");

    /* Answered yes on stdin: only the stopped container goes. */
    const char *args[] = {"--progress", "plain", "-p", name, "rm"};
    cb_runv_input(&r, NULL, "y\n", 2, args, 5);
    cb_assert_status(&r, 0);
    assert_string_equal(buf_str(&r.out), msg);
    char *line = xasprintf("Container %s  Removed\n", web);
    cb_assert_contains(buf_str(&r.err), line);
    free(line);
    cb_result_release(&r);
    json_t *gone = st_inspect(&f->env, web);
    assert_null(gone);
    assert_int_equal(st_count(&f->env, name, "container"), 1);
    assert_status(f, "db", "running");

    /* db's anonymous volume, removed with it by -v. */
    json_t *inspect = st_inspect(&f->env, db);
    const char *volume = json_string_value(
        json_object_get(json_array_get(json_object_get(inspect, "Mounts"), 0), "Name"));
    assert_non_null(volume);
    char *vol = xstrdup(volume);
    json_decref(inspect);
    tl_cleanup_volume(vol);

    /* -f -s: stopped, then removed without a question. */
    cb_run(&r, NULL, "-p", name, "rm", "-f", "-s", "-v", NULL);
    cb_assert_status(&r, 0);
    free(msg);
    msg = xasprintf("Going to remove %s\n", db);
    assert_string_equal(buf_str(&r.out), msg);
    cb_result_release(&r);
    assert_int_equal(st_count(&f->env, name, "container"), 0);
    struct tl_result vr;
    tl_result_init(&vr);
    struct cc_error err = CC_ERROR_INIT;
    tl_wait(&f->env, engine_volume_inspect(f->env.c, vol, tl_on_done, &vr, &err), &vr, &err);
    tl_assert_fails(&vr, CC_ERR_NOT_FOUND);
    tl_result_release(&vr);
    free(vol);
    free(msg);
    free(web);
    free(db);
}

/* Runs the binary with stdin on a pseudo-terminal that is given input, stdout on a pipe (read
 * into out) and stderr to /dev/null; returns the exit status. */
static int run_on_tty(const char *const *args, const char *input, struct buf *out)
{
    int master, slave;
    assert_int_equal(openpty(&master, &slave, NULL, NULL, NULL), 0);
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    const char *bin = getenv("CCOMPOSE_BIN");
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(slave, 0);
        dup2(pipefd[1], 1);
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);
        close(master);
        close(pipefd[0]);
        char *argv[16] = {(char *)(bin && *bin ? bin : "build/ccompose")};
        for (size_t i = 0; args[i] && i < 14; i++)
            argv[i + 1] = (char *)args[i];
        execv(argv[0], argv);
        _exit(127);
    }
    close(slave);
    close(pipefd[1]);
    /* The line discipline keeps the input until the child reads it. */
    assert_int_equal(write(master, input, strlen(input)), (ssize_t)strlen(input));
    char chunk[4096];
    ssize_t n;
    while ((n = read(pipefd[0], chunk, sizeof(chunk))) > 0)
        buf_add(out, chunk, (size_t)n);
    close(pipefd[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    close(master);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* On a terminal rm asks "Are you sure? [yN]"; no means nothing is removed. */
static void test_rm_tty(void **state)
{
    struct st_fixture *f = *state;
    up_pair(f);
    const char *name = f->p->name;
    char *web = st_cname(f->p, "web", 1);
    cb_expect(0, NULL, NULL, "-p", name, "stop", "-t", "5", "web", NULL);
    const char *args[] = {"-p", name, "rm", NULL};
    char *want = xasprintf("Going to remove %s\nAre you sure? [yN] ", web);
    struct buf out = BUF_INIT;
    buf_adds(&out, "");
    assert_int_equal(run_on_tty(args, "n\n", &out), 0);
    assert_string_equal(buf_str(&out), want);
    assert_int_equal(st_count(&f->env, name, "container"), 2);
    buf_release(&out);
    buf_adds(&out, "");
    assert_int_equal(run_on_tty(args, "y\n", &out), 0);
    assert_string_equal(buf_str(&out), want);
    assert_null(st_inspect(&f->env, web));
    assert_int_equal(st_count(&f->env, name, "container"), 1);
    buf_release(&out);
    free(want);
    free(web);
}

/* With a compose file, kill leaves containers of services it does not define alone, unless
 * --remove-orphans. */
static void test_kill_orphans(void **state)
{
    struct st_fixture *f = *state;
    up_pair(f);
    const char *name = f->p->name;
    char *dir = ct_tmpdir();
    ct_put(dir, "compose.yaml", "services:\n  db:\n    image: " TEST_IMAGE "\n");
    expect_dry(f, dir, "kill", NULL, "db", NULL);

    expect_dry(f, dir, "kill", "--remove-orphans", "db", "web", NULL);

    cb_expect(0, NULL, dir, "-p", name, "kill", NULL);
    cb_expect(137, NULL, NULL, "-p", name, "wait", "db", NULL);
    assert_status(f, "web", "running");
    ct_rmdir(dir);
    free(dir);
}

static void test_top(void **state)
{
    TL_SKIP_ON_PODMAN("Podman's top runs the container's own ps (busybox's here), whose one "
                      "column is not the host's 'ps -ef' table this test reads");
    struct st_fixture *f = *state;
    up_pair(f);
    const char *name = f->p->name;
    struct cb_result r;
    cb_run(&r, NULL, "-p", name, "top", NULL);
    cb_assert_status(&r, 0);
    const char *out = buf_str(&r.out);
    /* One table: SERVICE and # first, the engine's ps columns, CMD last. */
    assert_int_equal(strncmp(out, "SERVICE  #   UID ", 17), 0);
    size_t head = strcspn(out, "\n");
    assert_true(head > 4 && !strncmp(out + head - 3, "CMD", 3));
    cb_assert_contains(out, "\ndb       1   root ");
    cb_assert_contains(out, "\nweb      1   root ");
    cb_assert_contains(out, "sleep 3600\n");
    cb_assert_contains(out, "trap 'exit 42' USR1");
    cb_result_release(&r);

    cb_expect(0, NULL, NULL, "-p", name, "stop", "-t", "5", "web", NULL);
    cb_run(&r, NULL, "-p", name, "top", NULL);
    cb_assert_status(&r, 0);
    assert_null(strstr(buf_str(&r.out), "\nweb "));
    cb_assert_contains(buf_str(&r.out), "\ndb ");
    cb_result_release(&r);

    /* Nothing running in the selection: nothing printed. */
    cb_run(&r, NULL, "-p", name, "top", "web", NULL);
    cb_assert_status(&r, 0);
    assert_string_equal(buf_str(&r.out), "");
    cb_result_release(&r);
}

static void test_port(void **state)
{
    struct st_fixture *f = *state;
    up_pair(f);
    const char *name = f->p->name;
    char *web = st_cname(f->p, "web", 1);
    json_t *inspect = st_inspect(&f->env, web);
    json_t *binding = json_array_get(
        json_object_get(json_object_get(json_object_get(inspect, "NetworkSettings"), "Ports"),
                        "80/tcp"),
        0);
    const char *host_port = json_string_value(json_object_get(binding, "HostPort"));
    assert_non_null(host_port);
    char *want = xasprintf("127.0.0.1:%s\n", host_port);
    struct cb_result r;
    cb_run(&r, NULL, "-p", name, "port", "web", "80", NULL);
    cb_assert_status(&r, 0);
    assert_string_equal(buf_str(&r.out), want);
    cb_result_release(&r);
    cb_run(&r, NULL, "-p", name, "port", "--index", "1", "--protocol", "tcp", "web", "80", NULL);
    cb_assert_status(&r, 0);
    assert_string_equal(buf_str(&r.out), want);
    cb_result_release(&r);

    cb_run(&r, NULL, "-p", name, "port", "web", "81", NULL);
    cb_assert_status(&r, 1);
    char *msg = xasprintf("no port 81/tcp for container %s", web);
    cb_assert_contains(buf_str(&r.err), msg);
    free(msg);
    cb_result_release(&r);
    cb_expect(1, NULL, NULL, "-p", name, "port", "--protocol", "udp", "web", "80", NULL);
    cb_run(&r, NULL, "-p", name, "port", "--index", "2", "web", "80", NULL);
    cb_assert_status(&r, 1);
    cb_assert_contains(buf_str(&r.err), "service \"web\" is not running container #2");
    cb_result_release(&r);
    cb_expect(2, NULL, NULL, "-p", name, "port", "web", NULL);
    cb_expect(2, NULL, NULL, "-p", name, "port", "web", "http", NULL);
    free(want);
    json_decref(inspect);
    free(web);
}

/* The line of a table that begins with first, or fails. new. */
static char *table_line(const char *out, const char *first)
{
    size_t n = strlen(first);
    for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (!strncmp(l, first, n) && l[n] == ' ')
            return xstrndup(l, strcspn(l, "\n"));
    fail_msg("no line for %s in:\n%s", first, out);
    return NULL;
}

/* Fails unless cell is in line where heading begins in the header (out's first line); for the
 * last heading, anywhere from there on. */
static void assert_col(const char *out, const char *line, const char *heading, const char *cell)
{
    const char *h = strstr(out, heading);
    const char *c = strstr(line, cell);
    if (!h || !c || (size_t)(h - out) > strcspn(out, "\n"))
        fail_msg("'%s' or '%s' missing:\n%s\n%s", heading, cell, out, line);
    size_t want = (size_t)(h - out), at = (size_t)(c - line);
    bool last = out[want + strlen(heading)] == '\n';
    if (last ? at < want : at != want)
        fail_msg("'%s' at %zu, not under '%s' at %zu:\n%s\n%s", cell, at, heading, want, out, line);
}

static void test_images(void **state)
{
    struct st_fixture *f = *state;
    up_pair(f);
    const char *name = f->p->name;
    char *web = st_cname(f->p, "web", 1), *db = st_cname(f->p, "db", 1);
    json_t *inspect = st_inspect(&f->env, web);
    const char *image_id = json_string_value(json_object_get(inspect, "Image"));
    assert_non_null(image_id);
    struct cb_result r;
    cb_run(&r, NULL, "-p", name, "images", NULL);
    cb_assert_status(&r, 0);
    const char *out = buf_str(&r.out);
    /* Columns aligned as docker's tabwriter does: each cell starts under its heading. */
    assert_int_equal(strncmp(out, "CONTAINER ", 10), 0);
    char *line = table_line(out, db);
    assert_col(out, line, "REPOSITORY", "ccompose-test/busybox   ");
    assert_col(out, line, "TAG", "latest   ");
    char *short_id = xstrndup(image_id + 7, 12);
    assert_col(out, line, "IMAGE ID", short_id);
    assert_col(out, line, "SIZE", "MB");
    free(short_id);
    free(line);
    assert_true(strstr(out, db) < strstr(out, web)); /* by container name */
    cb_result_release(&r);

    cb_run(&r, NULL, "-p", name, "images", "-q", NULL);
    cb_assert_status(&r, 0);
    char *want = xasprintf("%s\n", image_id + 7);
    assert_string_equal(buf_str(&r.out), want);
    free(want);
    cb_result_release(&r);

    cb_run(&r, NULL, "-p", name, "images", "--format", "json", "web", NULL);
    cb_assert_status(&r, 0);
    json_error_t jerr;
    json_t *arr = json_loads(buf_str(&r.out), 0, &jerr);
    if (!arr)
        fail_msg("not JSON: %s", buf_str(&r.out));
    assert_int_equal(json_array_size(arr), 1);
    json_t *o = json_array_get(arr, 0);
    assert_string_equal(json_string_value(json_object_get(o, "ID")), image_id);
    assert_string_equal(json_string_value(json_object_get(o, "ContainerName")), web);
    assert_string_equal(json_string_value(json_object_get(o, "Repository")),
                        "ccompose-test/busybox");
    assert_string_equal(json_string_value(json_object_get(o, "Tag")), "latest");
    assert_true(json_integer_value(json_object_get(o, "Size")) > 100000);
    json_decref(arr);
    cb_result_release(&r);

    cb_expect(2, NULL, NULL, "-p", name, "images", "--format", "yaml", NULL);
    json_decref(inspect);
    free(web);
    free(db);
}

static void test_ls(void **state)
{
    struct st_fixture *f = *state;
    up_pair(f);
    const char *name = f->p->name;
    struct cb_result r;
    cb_run(&r, NULL, "ls", NULL);
    cb_assert_status(&r, 0);
    assert_int_equal(strncmp(buf_str(&r.out), "NAME   ", 7), 0);
    char *line = table_line(buf_str(&r.out), name);
    assert_col(buf_str(&r.out), line, "STATUS", "running(2)   ");
    assert_col(buf_str(&r.out), line, "CONFIG FILES", "compose.yaml");
    free(line);
    cb_result_release(&r);

    cb_expect(0, NULL, NULL, "-p", name, "stop", "-t", "5", "web", NULL);

    /* Running containers only, unless -a. */
    cb_run(&r, NULL, "ls", NULL);
    cb_assert_status(&r, 0);
    line = table_line(buf_str(&r.out), name);
    assert_col(buf_str(&r.out), line, "STATUS", "running(1)   ");
    free(line);
    cb_result_release(&r);
    char *filter = xasprintf("name=^%s$", name);
    cb_run(&r, NULL, "ls", "-a", "--filter", filter, "--format", "json", NULL);
    cb_assert_status(&r, 0);
    json_error_t jerr;
    json_t *arr = json_loads(buf_str(&r.out), 0, &jerr);
    if (!arr)
        fail_msg("not JSON: %s", buf_str(&r.out));
    assert_int_equal(json_array_size(arr), 1);
    json_t *o = json_array_get(arr, 0);
    assert_string_equal(json_string_value(json_object_get(o, "Name")), name);
    assert_string_equal(json_string_value(json_object_get(o, "Status")), "exited(1), running(1)");
    cb_assert_contains(json_string_value(json_object_get(o, "ConfigFiles")), "compose.yaml");
    json_decref(arr);
    cb_result_release(&r);

    cb_run(&r, NULL, "ls", "-q", "--filter", filter, NULL);
    cb_assert_status(&r, 0);
    char *want = xasprintf("%s\n", name);
    assert_string_equal(buf_str(&r.out), want);
    free(want);
    cb_result_release(&r);

    cb_run(&r, NULL, "ls", "-a", "--filter", "name=^no-such-project-anywhere$", "--format", "json",
           NULL);
    cb_assert_status(&r, 0);
    assert_string_equal(buf_str(&r.out), "[]\n");
    cb_result_release(&r);

    cb_expect(2, NULL, NULL, "ls", "--filter", "label=x", NULL);
    free(filter);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pause_unpause, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_kill, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_kill_orphans, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_rm, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_rm_tty, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_top, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_port, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_images, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_ls, st_setup, st_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, tl_group_teardown);
}
