/* The engine over tcp:// with TLS, as the docker CLI speaks to it: a private dockerd of the test's
 * own (tests/lib/private-dockerd.sh; never the shared engine) listening with --tlsverify on
 * 127.0.0.1, with a CA, engine and client certificates made for the test
 * (tests/lib/tls-certs.sh). A plain request through DOCKER_HOST and through -H, the errors when the
 * certificates are missing, from another CA, or TLS is not turned on, and `up`/`down` of a small
 * project over TLS. Needs root (to run a dockerd). */
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

    cb_run(&r, f->dir, "-p", f->project, "down", "-t", "1", NULL);
    cb_assert_status(&r, 0);
    cb_result_release(&r);

    cb_run(&r, f->dir, "-H", f->unix_sock, "-p", f->project, "ps", "-a", "-q", NULL);
    cb_assert_status(&r, 0);
    assert_string_equal(buf_str(&r.out), "");
    cb_result_release(&r);
    clear_env();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls_request),
        cmocka_unit_test(test_tls_errors),
        cmocka_unit_test(test_tls_up_down),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
