/* The engine over tcp:// with TLS, as the docker CLI speaks to it: a private dockerd of the test's
 * own (tests/lib/private-dockerd.sh; never the shared engine) listening with --tlsverify on
 * 127.0.0.1, with a CA, engine and client certificates made for the test
 * (tests/lib/tls-certs.sh). A plain request through DOCKER_HOST and through -H, the errors when the
 * certificates are missing, from another CA, or TLS is not turned on, and `up`/`down` of a small
 * project over TLS, and the streams: exec and run with stdin (a hijacked connection of their own,
 * TLS done by hijack.c), run's and up's attached output. Needs root (to run a dockerd). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/lib/cli-test.h"
#include "tests/lib/compose-test.h"

struct tls_fx {
    char *engine;    /* the private dockerd's name */
    char *certs;     /* ca.pem, cert.pem, key.pem and the engine's pair */
    char *other;     /* the same from another CA */
    char *tcp;       /* "tcp://127.0.0.1:PORT" */
    char *unix_sock; /* "unix:///run/NAME.sock" */
    char *dir;       /* the project's directory */
    char *project;
};

static int engine_ctl(const char *name, const char *what)
{
    char *cmd = xasprintf("tests/lib/private-dockerd.sh %s %s", name, what);
    int rc = system(cmd);
    free(cmd);
    return rc;
}

static void make_certs(const char *dir)
{
    char *cmd = xasprintf("tests/lib/tls-certs.sh '%s'", dir);
    if (system(cmd) != 0)
        fail_msg("tests/lib/tls-certs.sh could not make certificates in %s", dir);
    free(cmd);
}

/* A port nobody listens on now (the kernel's pick for an ephemeral bind). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void tls_env(const struct tls_fx *f, const char *cert_path)
{
    setenv("DOCKER_TLS_VERIFY", "1", 1);
    setenv("DOCKER_CERT_PATH", cert_path, 1);
    setenv("DOCKER_HOST", f->tcp, 1);
}

static void clear_env(void)
{
    unsetenv("DOCKER_TLS_VERIFY");
    unsetenv("DOCKER_TLS");
    unsetenv("DOCKER_CERT_PATH");
    unsetenv("DOCKER_HOST");
}

static int setup(void **state)
{
    if (geteuid() != 0)
        skip(); /* a private dockerd needs root */
    struct tls_fx *f = xcalloc(1, sizeof(*f));
    *state = f;
    f->engine = tl_unique("tls");
    f->certs = ct_tmpdir();
    f->other = ct_tmpdir();
    f->dir = ct_tmpdir();
    f->project = tl_unique("tls");
    make_certs(f->certs);
    make_certs(f->other);
    int port = free_port();
    f->tcp = xasprintf("tcp://127.0.0.1:%d", port);
    f->unix_sock = xasprintf("unix:///run/%s.sock", f->engine);
    char *args = xasprintf("-H %s --tlsverify --tlscacert=%s/ca.pem --tlscert=%s/server-cert.pem "
                           "--tlskey=%s/server-key.pem",
                           f->tcp, f->certs, f->certs, f->certs);
    setenv("CCOMPOSE_PRIVATE_DOCKERD_ARGS", args, 1);
    free(args);
    int rc = engine_ctl(f->engine, "start");
    unsetenv("CCOMPOSE_PRIVATE_DOCKERD_ARGS");
    if (rc != 0) {
        engine_ctl(f->engine, "cleanup");
        fail_msg("the private dockerd '%s' did not start", f->engine);
    }
    return 0;
}

static int teardown(void **state)
{
    struct tls_fx *f = *state;
    if (!f)
        return 0;
    clear_env();
    engine_ctl(f->engine, "cleanup");
    ct_rmdir(f->certs);
    ct_rmdir(f->other);
    ct_rmdir(f->dir);
    free(f->certs);
    free(f->other);
    free(f->dir);
    free(f->tcp);
    free(f->unix_sock);
    free(f->project);
    free(f->engine);
    free(f);
    return 0;
}

/* A plain request, through DOCKER_HOST and through -H (which wins over DOCKER_HOST). */
static void test_tls_request(void **state)
{
    struct tls_fx *f = *state;
    tls_env(f, f->certs);
    struct cb_result r;
    cb_run(&r, NULL, "version", NULL);
    cb_assert_status(&r, 0);
    char *line = xasprintf("Engine:         %s\n", f->tcp);
    cb_assert_contains(buf_str(&r.out), line);
    cb_assert_contains(buf_str(&r.out), "API in use:");
    cb_result_release(&r);

    setenv("DOCKER_HOST", "unix:///nonexistent.sock", 1);
    cb_run(&r, NULL, "-H", f->tcp, "version", NULL);
    cb_assert_status(&r, 0);
    cb_assert_contains(buf_str(&r.out), line);
    cb_result_release(&r);
    free(line);

    /* DOCKER_TLS alone: TLS without checking the engine, the client certificate still sent. */
    unsetenv("DOCKER_TLS_VERIFY");
    setenv("DOCKER_TLS", "1", 1);
    cb_run(&r, NULL, "-H", f->tcp, "ls", NULL);
    cb_assert_status(&r, 0);
    cb_result_release(&r);
    clear_env();
}

/* Each way the certificates can be wrong gets a message naming the engine and what to fix. */
static void test_tls_errors(void **state)
{
    struct tls_fx *f = *state;
    struct cb_result r;

    /* No certificates where DOCKER_CERT_PATH says. */
    char *missing = xasprintf("%s/nowhere", f->dir);
    tls_env(f, missing);
    cb_run(&r, NULL, "ls", NULL);
    assert_int_not_equal(r.status, 0);
    char *want = xasprintf("error: cannot read the TLS file '%s/ca.pem' for %s: No such file or "
                           "directory\n",
                           missing, f->tcp);
    cb_assert_contains(buf_str(&r.err), want);
    cb_assert_contains(buf_str(&r.err), "hint: set DOCKER_CERT_PATH");
    free(want);
    free(missing);
    cb_result_release(&r);

    /* Certificates of another CA: the engine's certificate is not trusted. */
    tls_env(f, f->other);
    cb_run(&r, NULL, "ls", NULL);
    assert_int_not_equal(r.status, 0);
    want =
        xasprintf("error: cannot reach the engine at %s over TLS: SSL certificate problem", f->tcp);
    cb_assert_contains(buf_str(&r.err), want);
    free(want);
    cb_assert_contains(buf_str(&r.err), f->other);
    cb_result_release(&r);

    /* The right CA but no client certificate: the engine refuses the connection. */
    char *ca_only = xasprintf("%s/ca-only", f->dir);
    char *cmd = xasprintf("mkdir -p '%s' && cp '%s/ca.pem' '%s/'", ca_only, f->certs, ca_only);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    tls_env(f, ca_only);
    cb_run(&r, NULL, "ls", NULL);
    assert_int_not_equal(r.status, 0);
    want = xasprintf("error: cannot reach the engine at %s over TLS: ", f->tcp);
    cb_assert_contains(buf_str(&r.err), want);
    free(want);
    cb_assert_contains(buf_str(&r.err), "a client certificate it trusts as cert.pem and key.pem");
    free(ca_only);
    cb_result_release(&r);

    /* TLS not turned on: plain HTTP to a TLS port. */
    clear_env();
    cb_run(&r, NULL, "-H", f->tcp, "ls", NULL);
    assert_int_not_equal(r.status, 0);
    want = xasprintf("error: the engine at %s speaks only TLS, and TLS is not turned on\n", f->tcp);
    cb_assert_contains(buf_str(&r.err), want);
    cb_assert_contains(buf_str(&r.err), "hint: set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH");
    free(want);
    cb_result_release(&r);
}

/* down of the project over TLS (the TLS environment set); the engine's unix socket confirms no
 * container is left. Clears the environment. */
static void down_over_tls(const struct tls_fx *f)
{
    struct cb_result r;
    cb_run(&r, f->dir, "-p", f->project, "down", "-t", "1", NULL);
    cb_assert_status(&r, 0);
    cb_result_release(&r);

    cb_run(&r, f->dir, "-H", f->unix_sock, "-p", f->project, "ps", "-a", "-q", NULL);
    cb_assert_status(&r, 0);
    assert_string_equal(buf_str(&r.out), "");
    cb_result_release(&r);
    clear_env();
}

/* up and down of a small project over TLS; the engine's unix socket confirms what they did. */
static void test_tls_up_down(void **state)
{
    struct tls_fx *f = *state;
    ct_put(f->dir, "compose.yaml",
           "services:\n"
           "  app:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: [\"sh\", \"-c\", \"trap 'exit 0' TERM; sleep 3600 & wait\"]\n");
    tls_env(f, f->certs);
    struct cb_result r;
    cb_run(&r, f->dir, "-p", f->project, "--progress", "plain", "up", "-d", NULL);
    cb_assert_status(&r, 0);
    char *started = xasprintf("Container %s-app-1  Started", f->project);
    cb_assert_contains(buf_str(&r.err), started);
    free(started);
    cb_result_release(&r);

    cb_run(&r, f->dir, "-H", f->unix_sock, "-p", f->project, "ps", "--format", "json", NULL);
    cb_assert_status(&r, 0);
    cb_assert_contains(buf_str(&r.out), "\"State\":\"running\"");
    cb_result_release(&r);

    down_over_tls(f);
}

/* Runs ccompose -p PROJECT ARGS... in the project's directory with input on stdin (NULL: none). */
static void tls_run_input(const struct tls_fx *f, struct cb_result *r, const char *input,
                          size_t len, ...)
{
    const char *prefix[] = {"-p", f->project};
    va_list ap;
    va_start(ap, len);
    cb_vrun_input(r, f->dir, input, len, prefix, CC_ARRAY_LEN(prefix), ap);
    va_end(ap);
}

/* The hijacked streams (exec and run with stdin, which open a connection of their own) and the
 * attached output of run and up, over TLS. */
static void test_tls_streams(void **state)
{
    struct tls_fx *f = *state;
    ct_put(f->dir, "compose.yaml",
           "services:\n"
           "  app:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: [\"sh\", \"-c\", \"trap 'exit 0' TERM; sleep 3600 & wait\"]\n"
           "  say:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: [\"sh\", \"-c\", \"echo hello from say; echo to stderr >&2\"]\n");
    tls_env(f, f->certs);
    struct cb_result r;
    tls_run_input(f, &r, NULL, 0, "up", "-d", "app", NULL);
    cb_assert_status(&r, 0);
    cb_result_release(&r);

    tls_run_input(f, &r, "hi\n", 3, "exec", "-T", "app", "cat", NULL);
    cb_assert_status(&r, 0);
    assert_string_equal(buf_str(&r.out), "hi\n");
    cb_result_release(&r);

    /* More than TLS records and socket buffers hold, every byte value: back byte-exact, and the
     * end of the input (a TCP half-close under the session) reaches cat. */
    size_t len = 3u * 1024 * 1024 + 17;
    char *payload = cb_payload(len);
    tls_run_input(f, &r, payload, len, "exec", "-T", "app", "cat", NULL);
    cb_assert_status(&r, 0);
    assert_int_equal(r.out.len, len);
    assert_memory_equal(r.out.data, payload, len);
    cb_result_release(&r);

    tls_run_input(f, &r, NULL, 0, "exec", "-T", "app", "sh", "-c", "echo out; echo err >&2; exit 3",
                  NULL);
    cb_assert_status(&r, 3);
    assert_string_equal(buf_str(&r.out), "out\n");
    cb_assert_contains(buf_str(&r.err), "err\n");
    cb_result_release(&r);

    tls_run_input(f, &r, payload, len, "run", "--rm", "-T", "app", "cat", NULL);
    cb_assert_status(&r, 0);
    assert_int_equal(r.out.len, len);
    assert_memory_equal(r.out.data, payload, len);
    cb_result_release(&r);
    free(payload);

    tls_run_input(f, &r, NULL, 0, "run", "--rm", "-T", "app", "sh", "-c", "echo attached; exit 4",
                  NULL);
    cb_assert_status(&r, 4);
    assert_string_equal(buf_str(&r.out), "attached\n");
    cb_result_release(&r);

    /* up attached: the service's output, prefixed, until it exits. */
    tls_run_input(f, &r, NULL, 0, "up", "say", NULL);
    cb_assert_status(&r, 0);
    cb_assert_contains(buf_str(&r.out), "say-1  | hello from say\n");
    cb_assert_contains(buf_str(&r.out), "say-1  | to stderr\n");
    cb_result_release(&r);

    down_over_tls(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls_request),
        cmocka_unit_test(test_tls_errors),
        cmocka_unit_test(test_tls_up_down),
        cmocka_unit_test(test_tls_streams),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
