/* The scheduler's bodies against the real engine: a hand-built service using every setting the
 * test image allows is created from sched_container_body() on a network and volume created from
 * sched_network_body()/sched_volume_body(), joined to a second network with
 * sched_network_connect_body(), then inspected field by field: what the model says is what the
 * engine holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scheduler/scheduler-internal.h"
#include "scheduler/scheduler.h"
#include "tests/lib/engine-test.h"
#include "tests/lib/model-builder.h"

static char tmpdir[64];
static char secret_path[128];

static json_t *at(json_t *j, ...)
{
    va_list ap;
    va_start(ap, j);
    for (const char *k; j && (k = va_arg(ap, const char *));)
        j = json_is_array(j) ? json_array_get(j, strtoul(k, NULL, 10)) : json_object_get(j, k);
    va_end(ap);
    return j;
}

#define STR(...) json_string_value(at(__VA_ARGS__, NULL))
#define INT(...) json_integer_value(at(__VA_ARGS__, NULL))

static bool array_has(json_t *a, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i,
                       v) if (json_is_string(v) && !strcmp(json_string_value(v), s)) return true;
    return false;
}

#define ASSERT_HAS(a, s)                                                                           \
    do {                                                                                           \
        if (!array_has((a), (s)))                                                                  \
            fail_msg("'%s' missing from %s", (s), #a);                                             \
    } while (0)

static struct compose_project *make_project(void)
{
    char *name = tl_unique("sched");
    struct compose_project *p = mb_project_new(name, tmpdir);
    free(name);
    struct compose_service *s = mb_service_add(p, "app", TEST_IMAGE);
    mb_command(p, s, "sleep", "3600", NULL);
    mb_kv_set(p, &s->environment, "GREETING", "hello world");
    mb_kv_set(p, &s->environment, "UNSET", NULL);
    mb_kv_set(p, &s->labels, "ccompose.test", "sched-body");
    mb_port_add(p, s, 8080, NULL, "127.0.0.1", NULL);
    mb_port_add(p, s, 5353, NULL, "127.0.0.1", "udp");
    mb_mount_add(p, s, COMPOSE_MOUNT_BIND, tmpdir, "/host")->read_only = true;
    mb_mount_add(p, s, COMPOSE_MOUNT_VOLUME, "data", "/data");
    mb_mount_add(p, s, COMPOSE_MOUNT_VOLUME, NULL, "/anon");
    mb_mount_add(p, s, COMPOSE_MOUNT_TMPFS, NULL, "/scratch")->tmpfs_size = 1 << 20;
    mb_strv_add(p, &s->tmpfs, "/run:size=64k");
    struct compose_healthcheck *h = mb_healthcheck(p, s, "CMD-SHELL", "true", NULL);
    h->interval = 5000000000;
    h->timeout = 2000000000;
    h->start_period = 1000000000;
    h->retries = 4;
    s->user = "1000:1000";
    s->working_dir = "/work";
    s->hostname = "apphost";
    s->domainname = "example.test";
    mb_ulimit_add(p, s, "nofile", 1024, 2048);
    s->init = COMPOSE_TRI_TRUE;
    mb_strv_set(p, &s->cap_add, "NET_ADMIN", NULL);
    mb_strv_set(p, &s->cap_drop, "MKNOD", NULL);
    s->read_only = true;
    mb_strv_set(p, &s->security_opt, "no-new-privileges:true", NULL);
    mb_strv_set(p, &s->extra_hosts, "db.test:10.1.2.3", NULL);
    mb_strv_set(p, &s->dns, "10.0.0.53", NULL);
    mb_strv_set(p, &s->dns_search, "example.test", NULL);
    mb_kv_set(p, &s->sysctls, "net.core.somaxconn", "1024");
    s->logging.driver = "json-file";
    mb_kv_set(p, &s->logging.options, "max-size", "1m");
    s->mem_limit = 64 << 20;
    s->cpus = 0.5;
    s->pids_limit = 100;
    s->shm_size = 2 << 20;
    s->stop_signal = "SIGINT";
    s->stop_grace_period = 7000000000;
    s->tty = true;
    s->stdin_open = true;
    s->restart = "on-failure:2";
    mb_strv_add(p, &mb_service_network(p, s, "front")->aliases, "web");
    mb_strv_add(p, &mb_service_network(p, s, "back")->aliases, "api");
    mb_secret_add(p, "token", secret_path);
    mb_service_secret(p, s, "token", NULL);
    mb_kv_set(p, &mb_network_add(p, "front")->labels, "ccompose.test", "sched-body");
    mb_network_add(p, "back");
    mb_kv_set(p, &mb_volume_add(p, "data")->labels, "ccompose.test", "sched-body");
    mb_project_done(p);
    return p;
}

/* Creates with body (by name) and returns the engine's answer (new). */
static json_t *create(struct tl_env *env, const char *what, json_t *body, const char *cname)
{
    struct tl_result r;
    tl_result_init(&r);
    if (!strcmp(what, "network"))
        TL_RUN(*env, r, engine_network_create(env->c, body, tl_on_done, &r, &err));
    else if (!strcmp(what, "volume"))
        TL_RUN(*env, r, engine_volume_create(env->c, body, tl_on_done, &r, &err));
    else
        TL_RUN(*env, r, engine_container_create(env->c, cname, body, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    json_t *out = json_incref(r.json);
    tl_result_release(&r);
    return out;
}

static json_t *inspect(struct tl_env *env, const char *kind, const char *id)
{
    struct tl_result r;
    tl_result_init(&r);
    if (!strcmp(kind, "network"))
        TL_RUN(*env, r, engine_network_inspect(env->c, id, tl_on_done, &r, &err));
    else if (!strcmp(kind, "volume"))
        TL_RUN(*env, r, engine_volume_inspect(env->c, id, tl_on_done, &r, &err));
    else
        TL_RUN(*env, r, engine_container_inspect(env->c, id, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    json_t *out = json_incref(r.json);
    tl_result_release(&r);
    return out;
}

static void check_network_and_volume(struct tl_env *env, const struct compose_project *p)
{
    const struct compose_network *front = compose_project_network(p, "front");
    json_t *n = inspect(env, "network", sched_network_name(front));
    assert_string_equal(STR(n, "Name"), sched_network_name(front));
    assert_string_equal(STR(n, "Labels", SCHED_LABEL_PROJECT), p->name);
    assert_string_equal(STR(n, "Labels", SCHED_LABEL_NETWORK), "front");
    assert_string_equal(STR(n, "Labels", SCHED_LABEL_VERSION), SCHED_COMPOSE_VERSION);
    assert_string_equal(STR(n, "Labels", "ccompose.test"), "sched-body");
    json_decref(n);
    const struct compose_volume *data = compose_project_volume(p, "data");
    json_t *v = inspect(env, "volume", sched_volume_name(data));
    assert_string_equal(STR(v, "Labels", SCHED_LABEL_PROJECT), p->name);
    assert_string_equal(STR(v, "Labels", SCHED_LABEL_VOLUME), "data");
    assert_string_equal(STR(v, "Labels", "ccompose.test"), "sched-body");
    json_decref(v);
}

static void check_config(json_t *c, const struct compose_project *p,
                         const struct compose_service *s, const char *cname)
{
    char *hash = sched_config_hash(p, s);
    json_t *cfg = at(c, "Config", NULL);
    char slash_name[256];
    snprintf(slash_name, sizeof(slash_name), "/%s", cname);
    assert_string_equal(STR(c, "Name"), slash_name);
    assert_string_equal(STR(cfg, "Image"), TEST_IMAGE);
    assert_string_equal(STR(cfg, "Cmd", "0"), "sleep");
    ASSERT_HAS(at(cfg, "Env", NULL), "GREETING=hello world");
    size_t i;
    json_t *e;
    json_array_foreach(at(cfg, "Env", NULL), i, e)
        assert_false(!strncmp(json_string_value(e), "UNSET", 5));
    assert_string_equal(STR(cfg, "Labels", "ccompose.test"), "sched-body");
    assert_string_equal(STR(cfg, "Labels", SCHED_LABEL_PROJECT), p->name);
    assert_string_equal(STR(cfg, "Labels", SCHED_LABEL_SERVICE), "app");
    assert_string_equal(STR(cfg, "Labels", SCHED_LABEL_NUMBER), "1");
    assert_string_equal(STR(cfg, "Labels", SCHED_LABEL_ONEOFF), "False");
    assert_string_equal(STR(cfg, "Labels", SCHED_LABEL_CONFIG_HASH), hash);
    assert_string_equal(STR(cfg, "Labels", SCHED_LABEL_WORKING_DIR), tmpdir);
    assert_non_null(at(cfg, "ExposedPorts", "8080/tcp", NULL));
    assert_non_null(at(cfg, "ExposedPorts", "5353/udp", NULL));
    assert_string_equal(STR(cfg, "Healthcheck", "Test", "1"), "true");
    assert_int_equal(INT(cfg, "Healthcheck", "Interval"), 5000000000);
    assert_int_equal(INT(cfg, "Healthcheck", "Timeout"), 2000000000);
    assert_int_equal(INT(cfg, "Healthcheck", "StartPeriod"), 1000000000);
    assert_int_equal(INT(cfg, "Healthcheck", "Retries"), 4);
    assert_string_equal(STR(cfg, "User"), "1000:1000");
    assert_string_equal(STR(cfg, "WorkingDir"), "/work");
    assert_string_equal(STR(cfg, "Hostname"), "apphost");
    assert_string_equal(STR(cfg, "Domainname"), "example.test");
    assert_true(json_is_true(at(cfg, "Tty", NULL)));
    assert_true(json_is_true(at(cfg, "OpenStdin", NULL)));
    assert_string_equal(STR(cfg, "StopSignal"), "SIGINT");
    assert_int_equal(INT(cfg, "StopTimeout"), 7);
    free(hash);
}

static void check_host_config(json_t *c, const struct compose_project *p)
{
    json_t *hc = at(c, "HostConfig", NULL);
    assert_string_equal(STR(hc, "PortBindings", "8080/tcp", "0", "HostIp"), "127.0.0.1");
    assert_string_equal(STR(hc, "PortBindings", "5353/udp", "0", "HostIp"), "127.0.0.1");
    char bind[128];
    snprintf(bind, sizeof(bind), "%s:/host:ro", tmpdir);
    ASSERT_HAS(at(hc, "Binds", NULL), bind);
    /* HostConfig.Mounts: named volume by its engine name, anonymous, tmpfs, the secret. */
    json_t *mounts = at(hc, "Mounts", NULL);
    assert_int_equal(json_array_size(mounts), 4);
    assert_string_equal(STR(mounts, "0", "Source"),
                        sched_volume_name(compose_project_volume(p, "data")));
    assert_null(at(mounts, "1", "Source", NULL));
    assert_string_equal(STR(mounts, "1", "Target"), "/anon");
    assert_string_equal(STR(mounts, "2", "Type"), "tmpfs");
    assert_int_equal(INT(mounts, "2", "TmpfsOptions", "SizeBytes"), 1 << 20);
    assert_string_equal(STR(mounts, "3", "Source"), secret_path);
    assert_string_equal(STR(mounts, "3", "Target"), "/run/secrets/token");
    assert_true(json_is_true(at(mounts, "3", "ReadOnly", NULL)));
    /* The engine made the volumes at create: the named one is ours, the anonymous one new. */
    size_t i;
    json_t *m;
    int volumes = 0;
    json_array_foreach(at(c, "Mounts", NULL), i, m)
    {
        if (strcmp(STR(m, "Type"), "volume"))
            continue;
        volumes++;
        if (!strcmp(STR(m, "Destination"), "/data"))
            assert_string_equal(STR(m, "Name"),
                                sched_volume_name(compose_project_volume(p, "data")));
    }
    assert_int_equal(volumes, 2);
    assert_string_equal(STR(hc, "Tmpfs", "/run"), "size=64k");
    assert_string_equal(STR(hc, "Ulimits", "0", "Name"), "nofile");
    assert_int_equal(INT(hc, "Ulimits", "0", "Soft"), 1024);
    assert_int_equal(INT(hc, "Ulimits", "0", "Hard"), 2048);
    assert_true(json_is_true(at(hc, "Init", NULL)));
    ASSERT_HAS(at(hc, "CapAdd", NULL), "NET_ADMIN");
    ASSERT_HAS(at(hc, "CapDrop", NULL), "MKNOD");
    assert_true(json_is_true(at(hc, "ReadonlyRootfs", NULL)));
    ASSERT_HAS(at(hc, "SecurityOpt", NULL), "no-new-privileges:true");
    ASSERT_HAS(at(hc, "ExtraHosts", NULL), "db.test:10.1.2.3");
    ASSERT_HAS(at(hc, "Dns", NULL), "10.0.0.53");
    ASSERT_HAS(at(hc, "DnsSearch", NULL), "example.test");
    assert_string_equal(STR(hc, "Sysctls", "net.core.somaxconn"), "1024");
    assert_string_equal(STR(hc, "LogConfig", "Type"), "json-file");
    assert_string_equal(STR(hc, "LogConfig", "Config", "max-size"), "1m");
    assert_int_equal(INT(hc, "Memory"), 64 << 20);
    assert_int_equal(INT(hc, "NanoCpus"), 500000000);
    assert_int_equal(INT(hc, "PidsLimit"), 100);
    assert_int_equal(INT(hc, "ShmSize"), 2 << 20);
    assert_string_equal(STR(hc, "RestartPolicy", "Name"), "on-failure");
    assert_int_equal(INT(hc, "RestartPolicy", "MaximumRetryCount"), 2);
    assert_string_equal(STR(hc, "NetworkMode"),
                        sched_network_name(compose_project_network(p, "front")));
}

static void check_aliases(json_t *c, const char *network, const char *cname, const char *alias)
{
    json_t *aliases = at(c, "NetworkSettings", "Networks", network, "Aliases", NULL);
    if (!aliases)
        fail_msg("container not on '%s'", network);
    ASSERT_HAS(aliases, cname);
    ASSERT_HAS(aliases, "app");
    ASSERT_HAS(aliases, alias);
}

static void test_body_reaches_engine(void **state)
{
    TL_SKIP_ON_PODMAN("Podman's runc cannot raise RLIMIT_NPROC to what this body asks for here "
                      "(error setting rlimit type 6)");
    (void)state;
    struct tl_env env;
    tl_env_init(&env);
    struct compose_project *p = make_project();
    const struct compose_service *s = compose_project_service(p, "app");

    for (size_t i = 0; i < p->n_networks; i++) {
        json_t *body = sched_network_body(p, &p->networks[i]);
        tl_cleanup_network(sched_network_name(&p->networks[i]));
        json_decref(create(&env, "network", body, NULL));
        json_decref(body);
    }
    json_t *vbody = sched_volume_body(p, compose_project_volume(p, "data"));
    tl_cleanup_volume(sched_volume_name(compose_project_volume(p, "data")));
    json_decref(create(&env, "volume", vbody, NULL));
    json_decref(vbody);
    check_network_and_volume(&env, p);

    struct cc_error berr = CC_ERROR_INIT;
    json_t *body = sched_container_body(p, s, 1, NULL, &berr);
    if (!body)
        fail_msg("body: %s", berr.message);
    char *cname = sched_container_name(p, s, 1);
    tl_cleanup_container(cname);
    json_t *created = create(&env, "container", body, cname);
    const char *id = STR(created, "Id");
    assert_non_null(id);

    /* The second network is joined before start, as the run engine will. */
    json_t *connect = sched_network_connect_body(p, s, 1, id, 1);
    const char *back = sched_network_name(compose_project_network(p, "back"));
    struct tl_result r;
    tl_result_init(&r);
    TL_RUN(env, r, engine_network_connect(env.c, back, connect, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    tl_result_release(&r);

    /* It runs as configured: the engine applies mounts, limits and sysctls at start. */
    tl_result_init(&r);
    TL_RUN(env, r, engine_container_start(env.c, id, tl_on_done, &r, &err));
    tl_assert_ok(&r);
    tl_result_release(&r);

    json_t *c = inspect(&env, "container", id);
    assert_true(json_is_true(at(c, "State", "Running", NULL)));
    assert_string_equal(STR(c, "NetworkSettings", "Ports", "8080/tcp", "0", "HostIp"),
                        "127.0.0.1");
    check_config(c, p, s, cname);
    check_host_config(c, p);
    check_aliases(c, sched_network_name(compose_project_network(p, "front")), cname, "web");
    check_aliases(c, back, cname, "api");

    json_decref(c);
    json_decref(connect);
    json_decref(created);
    json_decref(body);
    free(cname);
    compose_project_free(p);
    tl_env_release(&env);
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/ccit-sched-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(secret_path, sizeof(secret_path), "%s/token.txt", tmpdir);
    FILE *f = fopen(secret_path, "w");
    if (!f)
        return -1;
    fputs("s3cret\n", f);
    return fclose(f);
}

static int teardown(void **state)
{
    (void)state;
    tl_cleanup_run();
    unlink(secret_path);
    rmdir(tmpdir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_reaches_engine),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
