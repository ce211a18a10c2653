/* What ccompose must never do more than asked, against the real engine: published ports bound
 * only where the file says (127.0.0.1 stays on loopback, seen in the engine's bindings and by
 * connecting), secrets where the file puts them with the mode and owner it asks (copied ones) or
 * as read-only binds (plain files), and a secret's content never in anything ccompose prints:
 * config, progress, debug output, ps, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/lib/cli-test.h"
#include "tests/lib/compose-test.h"
#include "tests/lib/sched-test.h"

#define ENV_SECRET  "envsecret-5b1f0c9e7d"
#define FILE_SECRET "filesecret-c4a8e2d6f1"

/* Runs ccompose -p PROJECT ARGS... in the fixture's directory. */
#define RUN(f, r, ...) cb_run(&(r), (f)->dir, "-p", (f)->project, __VA_ARGS__, NULL)

/* 0 when something accepts a TCP connection at ip:port, else the errno of the attempt. */
static int try_connect(const char *ip, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    assert_int_equal(inet_pton(AF_INET, ip, &a.sin_addr), 1);
    int rc = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 ? 0 : errno;
    close(fd);
    return rc;
}

/* The first IPv4 address of this host that is not loopback, or NULL; new. */
static char *outside_address(void)
{
    struct ifaddrs *ifs = NULL, *i;
    char *found = NULL;
    if (getifaddrs(&ifs) != 0)
        return NULL;
    for (i = ifs; i && !found; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
            continue;
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, ip, sizeof(ip));
        if (strncmp(ip, "127.", 4) != 0)
            found = xstrdup(ip);
    }
    freeifaddrs(ifs);
    return found;
}

/* `127.0.0.1::80` binds the engine's port on loopback only: the bindings say so, loopback
 * answers, the host's other address does not. */
static void test_ports_loopback(void **state)
{
    struct cb_fx *f = *state;
    ct_put(f->dir, "compose.yaml",
           "services:\n"
           "  web:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: [\"sh\", \"-c\", \"echo hi > /tmp/index.html; exec httpd -f -p 80 -h "
           "/tmp\"]\n"
           "    ports:\n"
           "      - \"127.0.0.1::80\"\n");
    struct cb_result r;
    RUN(f, r, "up", "-d");
    cb_assert_status(&r, 0);
    cb_result_release(&r);

    char *name = xasprintf("%s-web-1", f->project);
    json_t *j = st_inspect(&f->env, name);
    assert_non_null(j);
    json_t *hc = json_object_get(tl_json_at(j, "HostConfig/PortBindings"), "80/tcp");
    assert_int_equal(json_array_size(hc), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(hc, 0), "HostIp")),
                        "127.0.0.1");
    json_t *live = json_object_get(tl_json_at(j, "NetworkSettings/Ports"), "80/tcp");
    assert_int_equal(json_array_size(live), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(live, 0), "HostIp")),
                        "127.0.0.1");
    int port = atoi(json_string_value(json_object_get(json_array_get(live, 0), "HostPort")));
    assert_true(port > 0);

    RUN(f, r, "port", "web", "80");
    cb_assert_status(&r, 0);
    char *want = xasprintf("127.0.0.1:%d\n", port);
    assert_string_equal(buf_str(&r.out), want);
    free(want);
    cb_result_release(&r);

    /* httpd may take a moment to listen: loopback answers within a few seconds. */
    int rc = -1;
    for (int i = 0; i < 100 && rc != 0; i++) {
        rc = try_connect("127.0.0.1", port);
        if (rc != 0)
            usleep(50 * 1000);
    }
    assert_int_equal(rc, 0);
    char *outside = outside_address();
    if (outside) {
        assert_int_equal(try_connect(outside, port), ECONNREFUSED);
        free(outside);
    }
    json_decref(j);
    free(name);
    RUN(f, r, "down", "-t", "0");
    cb_assert_status(&r, 0);
    cb_result_release(&r);
}

static const char secrets_stack[] =
    "services:\n"
    "  app:\n"
    "    image: " TEST_IMAGE "\n"
    "    user: \"0\"\n"
    "    command:\n"
    "      - sh\n"
    "      - -c\n"
    "      - |\n"
    "        cd /run/secrets\n"
    "        for f in plain owned.txt fromenv /etc/app.conf; do stat -c 'stat %a %u %g %n' $$f; "
    "done\n"
    "        sha256sum plain owned.txt fromenv | sed 's/^/sum /'\n"
    "        if echo x 2>/dev/null > plain; then echo plain writable; else echo plain "
    "read-only; fi\n"
    "        echo ready\n"
    "        exec sleep 3600\n"
    "    secrets:\n"
    "      - plain\n"
    "      - source: owned\n"
    "        target: owned.txt\n"
    "        uid: \"1000\"\n"
    "        gid: \"2000\"\n"
    "        mode: 0400\n"
    "      - fromenv\n"
    "    configs:\n"
    "      - source: conf\n"
    "        target: /etc/app.conf\n"
    "secrets:\n"
    "  plain:\n"
    "    file: ./pw.txt\n"
    "  owned:\n"
    "    file: ./pw.txt\n"
    "  fromenv:\n"
    "    environment: CCIT_SECRET_VAR\n"
    "configs:\n"
    "  conf:\n"
    "    content: hello config\n";

static char *sha256_line(const char *content, const char *name)
{
    char *cmd = xasprintf("printf %%s '%s' | sha256sum | cut -d' ' -f1", content);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char hex[80] = "";
    assert_non_null(fgets(hex, sizeof(hex), p));
    pclose(p);
    hex[strcspn(hex, "\n")] = '\0';
    free(cmd);
    return xasprintf("sum %s  %s\n", hex, name);
}

/* Where each secret lands and how: copied ones with the mode and owner asked (0444 and root by
 * default), a plain file secret as a read-only bind of the file. */
static void test_secret_modes(void **state)
{
    struct cb_fx *f = *state;
    ct_put(f->dir, "compose.yaml", secrets_stack);
    ct_put(f->dir, "pw.txt", FILE_SECRET);
    setenv("CCIT_SECRET_VAR", ENV_SECRET, 1);
    struct cb_result r;
    RUN(f, r, "up", "-d");
    cb_assert_status(&r, 0);
    cb_result_release(&r);
    char *name = xasprintf("%s-app-1", f->project);
    tl_logs_until(&f->env, name, "ready");
    RUN(f, r, "logs", "--no-log-prefix", "app");
    cb_assert_status(&r, 0);
    const char *out = buf_str(&r.out);
    cb_assert_contains(out, "stat 400 1000 2000 owned.txt\n");
    cb_assert_contains(out, "stat 444 0 0 fromenv\n");
    cb_assert_contains(out, "stat 444 0 0 /etc/app.conf\n");
    cb_assert_contains(out, "plain read-only\n");
    char *sum = sha256_line(FILE_SECRET, "plain");
    cb_assert_contains(out, sum);
    free(sum);
    sum = sha256_line(FILE_SECRET, "owned.txt");
    cb_assert_contains(out, sum);
    free(sum);
    sum = sha256_line(ENV_SECRET, "fromenv");
    cb_assert_contains(out, sum);
    free(sum);
    cb_result_release(&r);

    /* Only the plain one is a mount, read-only; nothing of the secrets is in the container's
     * configuration. */
    json_t *j = st_inspect(&f->env, name);
    json_t *mounts = tl_json_at(j, "Mounts");
    assert_int_equal(json_array_size(mounts), 1);
    json_t *m = json_array_get(mounts, 0);
    assert_string_equal(json_string_value(json_object_get(m, "Destination")), "/run/secrets/plain");
    assert_true(json_is_false(json_object_get(m, "RW")));
    char *dump = json_dumps(j, 0);
    assert_null(strstr(dump, ENV_SECRET));
    assert_null(strstr(dump, FILE_SECRET));
    free(dump);
    json_decref(j);
    free(name);
    RUN(f, r, "down", "-t", "0");
    cb_assert_status(&r, 0);
    cb_result_release(&r);
    unsetenv("CCIT_SECRET_VAR");
}

/* Every output of every command, debug output included, in one buffer. */
static void keep(struct buf *all, struct cb_result *r)
{
    buf_add(all, r->out.data ? r->out.data : "", r->out.len);
    buf_add(all, r->err.data ? r->err.data : "", r->err.len);
    cb_result_release(r);
}

/* The secrets' content appears nowhere in what ccompose prints, whatever the command and however
 * it ends; config names where a secret comes from. */
static void test_secret_never_printed(void **state)
{
    struct cb_fx *f = *state;
    ct_put(f->dir, "compose.yaml", secrets_stack);
    ct_put(f->dir, "pw.txt", FILE_SECRET);
    setenv("CCIT_SECRET_VAR", ENV_SECRET, 1);
    struct buf all = BUF_INIT;
    struct cb_result r;

    RUN(f, r, "config");
    cb_assert_status(&r, 0);
    cb_assert_contains(buf_str(&r.out), "    environment: CCIT_SECRET_VAR\n");
    char *file = xasprintf("    file: %s/pw.txt\n", f->dir);
    cb_assert_contains(buf_str(&r.out), file);
    free(file);
    keep(&all, &r);
    RUN(f, r, "config", "--format", "json");
    cb_assert_status(&r, 0);
    keep(&all, &r);
    RUN(f, r, "--verbose", "--progress", "plain", "up", "-d", "--dry-run");
    keep(&all, &r);
    setenv("CCOMPOSE_DEBUG", "1", 1);
    RUN(f, r, "--progress", "plain", "up", "-d");
    cb_assert_status(&r, 0);
    keep(&all, &r);
    RUN(f, r, "--progress", "json", "up", "-d", "--force-recreate");
    cb_assert_status(&r, 0);
    keep(&all, &r);
    unsetenv("CCOMPOSE_DEBUG");
    RUN(f, r, "ps", "--format", "json");
    cb_assert_status(&r, 0);
    keep(&all, &r);
    RUN(f, r, "run", "--rm", "-T", "app", "true");
    cb_assert_status(&r, 0);
    keep(&all, &r);

    /* Failures name the secret and where its content should come from. */
    unsetenv("CCIT_SECRET_VAR");
    RUN(f, r, "up", "-d", "--force-recreate");
    assert_int_not_equal(r.status, 0);
    cb_assert_contains(buf_str(&r.err), "'fromenv' takes its content from the variable "
                                        "'CCIT_SECRET_VAR', which is not set");
    keep(&all, &r);
    setenv("CCIT_SECRET_VAR", ENV_SECRET, 1);
    char *bad = xasprintf("%s", secrets_stack);
    char *uid = strstr(bad, "uid: \"1000\"");
    memcpy(uid, "uid: \"abcd\"", 11);
    ct_put(f->dir, "compose.yaml", bad);
    free(bad);
    RUN(f, r, "up", "-d", "--force-recreate");
    assert_int_not_equal(r.status, 0);
    cb_assert_contains(buf_str(&r.err),
                       "secret 'owned' of service 'app': uid 'abcd' is not a number");
    keep(&all, &r);
    ct_put(f->dir, "compose.yaml", secrets_stack);
    RUN(f, r, "--progress", "plain", "down", "-t", "0");
    cb_assert_status(&r, 0);
    keep(&all, &r);
    unsetenv("CCIT_SECRET_VAR");

    if (strstr(buf_str(&all), ENV_SECRET) || strstr(buf_str(&all), FILE_SECRET))
        fail_msg("a secret's content was printed:\n%s", buf_str(&all));
    buf_release(&all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ports_loopback, cb_fx_setup, cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_secret_modes, cb_fx_setup, cb_fx_teardown),
        cmocka_unit_test_setup_teardown(test_secret_never_printed, cb_fx_setup, cb_fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
