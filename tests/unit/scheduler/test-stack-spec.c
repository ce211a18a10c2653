/* Swarm specs from hand-built models: each compose setting lands where docker stack deploy puts
 * it in a ServiceSpec, network, secret or config, with swarm's units and shapes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scheduler/stack-internal.h"
#include "tests/lib/model-builder.h"

/* The JSON text of the value at a path, compact with sorted keys ("(absent)" when absent). */
static char *text_at(json_t *j, ...)
{
    va_list ap;
    va_start(ap, j);
    for (const char *k; j && (k = va_arg(ap, const char *));)
        j = json_is_array(j) ? json_array_get(j, strtoul(k, NULL, 10)) : json_object_get(j, k);
    va_end(ap);
    return j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : xstrdup("(absent)");
}

#define EXPECT(expected, ...)                                                                      \
    do {                                                                                           \
        char *t_ = text_at(__VA_ARGS__, NULL);                                                     \
        assert_string_equal(t_, expected);                                                         \
        free(t_);                                                                                  \
    } while (0)

static json_t *spec_of(const struct compose_project *p, const char *svc, json_t *ids,
                       json_t *warnings)
{
    struct cc_error err = CC_ERROR_INIT;
    json_t *spec =
        sched_stack_service_spec(p, compose_project_service(p, svc), ids, warnings, &err);
    if (!spec)
        fail_msg("spec: %s", err.message);
    return spec;
}

/* The error message of a spec that must fail, key path included (new). */
static char *spec_error(const struct compose_project *p, const char *svc, json_t *ids)
{
    struct cc_error err = CC_ERROR_INIT;
    json_t *spec = sched_stack_service_spec(p, compose_project_service(p, svc), ids, NULL, &err);
    assert_null(spec);
    assert_int_equal(err.kind, CC_ERR_INVALID_CONFIG);
    char *msg = xasprintf("%s: %s", err.key_path ? err.key_path : "?", err.message);
    cc_error_release(&err);
    return msg;
}

static void test_container_spec(void **state)
{
    (void)state;
    struct compose_project *p = mb_project_new("shop", "/srv/shop");
    struct compose_service *s = mb_service_add(p, "web", "nginx:1.25");
    mb_entrypoint(p, s, "/entry.sh", NULL);
    mb_command(p, s, "serve", "--port", "80", NULL);
    mb_kv_set(p, &s->environment, "ZED", "z");
    mb_kv_set(p, &s->environment, "ALPHA", "a");
    mb_kv_set(p, &s->environment, "UNSET", NULL);
    mb_kv_set(p, &s->labels, "tier", "front");
    mb_kv_set(p, &s->deploy.labels, "owner", "team-a");
    struct compose_healthcheck *h = mb_healthcheck(p, s, "CMD", "true", NULL);
    h->interval = 5000000000;
    h->retries = 3;
    s->user = "1000";
    s->working_dir = "/app";
    s->hostname = "web-host";
    s->stop_grace_period = 12500000000;
    s->stop_signal = "SIGINT";
    s->init = COMPOSE_TRI_TRUE;
    mb_strv_add(p, &s->extra_hosts, "db.local:10.0.0.5");
    mb_strv_add(p, &s->dns, "1.1.1.1");
    mb_strv_add(p, &s->cap_add, "NET_ADMIN");
    mb_ulimit_add(p, s, "nofile", 1024, 2048);
    mb_project_done(p);

    json_t *spec = spec_of(p, "web", NULL, NULL);
    EXPECT("\"shop_web\"", spec, "Name");
    /* deploy.labels on the service, labels on the containers; the namespace on both. */
    EXPECT("{\"com.docker.stack.image\":\"nginx:1.25\",\"com.docker.stack.namespace\":\"shop\","
           "\"owner\":\"team-a\"}",
           spec, "Labels");
    EXPECT("{\"com.docker.stack.namespace\":\"shop\",\"tier\":\"front\"}", spec, "TaskTemplate",
           "ContainerSpec", "Labels");
    EXPECT("\"nginx:1.25\"", spec, "TaskTemplate", "ContainerSpec", "Image");
    EXPECT("[\"/entry.sh\"]", spec, "TaskTemplate", "ContainerSpec", "Command");
    EXPECT("[\"serve\",\"--port\",\"80\"]", spec, "TaskTemplate", "ContainerSpec", "Args");
    EXPECT("[\"ALPHA=a\",\"ZED=z\"]", spec, "TaskTemplate", "ContainerSpec", "Env");
    EXPECT("\"/app\"", spec, "TaskTemplate", "ContainerSpec", "Dir");
    EXPECT("\"1000\"", spec, "TaskTemplate", "ContainerSpec", "User");
    EXPECT("\"web-host\"", spec, "TaskTemplate", "ContainerSpec", "Hostname");
    EXPECT("12500000000", spec, "TaskTemplate", "ContainerSpec", "StopGracePeriod");
    EXPECT("\"SIGINT\"", spec, "TaskTemplate", "ContainerSpec", "StopSignal");
    EXPECT("true", spec, "TaskTemplate", "ContainerSpec", "Init");
    EXPECT("{\"Interval\":5000000000,\"Retries\":3,\"Test\":[\"CMD\",\"true\"]}", spec,
           "TaskTemplate", "ContainerSpec", "Healthcheck");
    EXPECT("[\"10.0.0.5 db.local\"]", spec, "TaskTemplate", "ContainerSpec", "Hosts");
    EXPECT("{\"Nameservers\":[\"1.1.1.1\"]}", spec, "TaskTemplate", "ContainerSpec", "DNSConfig");
    EXPECT("[\"NET_ADMIN\"]", spec, "TaskTemplate", "ContainerSpec", "CapabilityAdd");
    EXPECT("[{\"Hard\":2048,\"Name\":\"nofile\",\"Soft\":1024}]", spec, "TaskTemplate",
           "ContainerSpec", "Ulimits");
    /* One replica unless said; the default network with the service's name as alias. */
    EXPECT("{\"Replicated\":{\"Replicas\":1}}", spec, "Mode");
    EXPECT("[{\"Aliases\":[\"web\"],\"Target\":\"shop_default\"}]", spec, "TaskTemplate",
           "Networks");
    EXPECT("(absent)", spec, "EndpointSpec");
    EXPECT("(absent)", spec, "TaskTemplate", "RestartPolicy");
    EXPECT("(absent)", spec, "UpdateConfig");
    json_decref(spec);
    compose_project_free(p);
}

static void test_deploy_settings(void **state)
{
    (void)state;
    struct compose_project *p = mb_project_new("shop", "/srv/shop");
    struct compose_service *s = mb_service_add(p, "api", "api:2");
    struct compose_deploy *d = &s->deploy;
    d->set = true;
    d->mode = "replicated";
    d->replicas = 3;
    d->limits.cpus = 0.5;
    d->limits.memory = 256 * 1024 * 1024;
    d->limits.pids = 100;
    d->reservations.memory = 64 * 1024 * 1024;
    static struct compose_generic_resource ssd = {"SSD", 2};
    d->reservations.generic_resources = &ssd;
    d->reservations.n_generic_resources = 1;
    d->restart_policy.condition = "on-failure";
    d->restart_policy.delay = 5000000000;
    d->restart_policy.max_attempts = 3;
    d->restart_policy.window = 120000000000;
    d->update_config.set = true;
    d->update_config.parallelism = 2;
    d->update_config.delay = 10000000000;
    d->update_config.order = "start-first";
    d->update_config.failure_action = "rollback";
    d->update_config.monitor = 30000000000;
    d->rollback_config.set = true;
    mb_strv_add(p, &d->placement_constraints, "node.role==manager");
    mb_strv_add(p, &d->placement_preferences, "spread=node.labels.zone");
    d->max_replicas_per_node = 2;
    d->endpoint_mode = "vip";
    mb_port_add(p, s, 80, "8080", NULL, NULL);
    struct compose_port *hp = mb_port_add(p, s, 53, "5353", NULL, "udp");
    hp->mode = "host";
    struct compose_port *range = mb_port_add(p, s, 9000, "19000-19001", NULL, NULL);
    range->target_end = 9001;
    mb_port_add(p, s, 7000, NULL, NULL, NULL);
    struct compose_network *back = mb_network_add(p, "back");
    (void)back;
    struct compose_service_network *sn = mb_service_network(p, s, "back");
    mb_strv_add(p, &sn->aliases, "api-internal");
    mb_service_network(p, s, "default");

    struct compose_service *g = mb_service_add(p, "agent", "agent:1");
    g->deploy.mode = "global";
    g->restart = "unless-stopped";
    mb_project_done(p);

    json_t *spec = spec_of(p, "api", NULL, NULL);
    EXPECT("{\"Replicated\":{\"Replicas\":3}}", spec, "Mode");
    EXPECT("{\"Limits\":{\"MemoryBytes\":268435456,\"NanoCPUs\":500000000,\"Pids\":100},"
           "\"Reservations\":{\"GenericResources\":[{\"DiscreteResourceSpec\":{\"Kind\":\"SSD\","
           "\"Value\":2}}],\"MemoryBytes\":67108864}}",
           spec, "TaskTemplate", "Resources");
    EXPECT("{\"Condition\":\"on-failure\",\"Delay\":5000000000,\"MaxAttempts\":3,"
           "\"Window\":120000000000}",
           spec, "TaskTemplate", "RestartPolicy");
    EXPECT("{\"Delay\":10000000000,\"FailureAction\":\"rollback\",\"Monitor\":30000000000,"
           "\"Order\":\"start-first\",\"Parallelism\":2}",
           spec, "UpdateConfig");
    EXPECT("{\"Parallelism\":1}", spec, "RollbackConfig");
    EXPECT("{\"Constraints\":[\"node.role==manager\"],\"MaxReplicas\":2,\"Preferences\":[{"
           "\"Spread\":{\"SpreadDescriptor\":\"node.labels.zone\"}}]}",
           spec, "TaskTemplate", "Placement");
    /* Ingress by default, host when asked, ranges one port for one port, unpublished left to
     * the engine. */
    EXPECT("{\"Mode\":\"vip\",\"Ports\":["
           "{\"Protocol\":\"tcp\",\"PublishMode\":\"ingress\",\"PublishedPort\":8080,"
           "\"TargetPort\":80},"
           "{\"Protocol\":\"udp\",\"PublishMode\":\"host\",\"PublishedPort\":5353,"
           "\"TargetPort\":53},"
           "{\"Protocol\":\"tcp\",\"PublishMode\":\"ingress\",\"PublishedPort\":19000,"
           "\"TargetPort\":9000},"
           "{\"Protocol\":\"tcp\",\"PublishMode\":\"ingress\",\"PublishedPort\":19001,"
           "\"TargetPort\":9001},"
           "{\"Protocol\":\"tcp\",\"PublishMode\":\"ingress\",\"TargetPort\":7000}]}",
           spec, "EndpointSpec");
    /* Sorted by target; the file's aliases, then the service's name. */
    EXPECT("[{\"Aliases\":[\"api-internal\",\"api\"],\"Target\":\"shop_back\"},"
           "{\"Aliases\":[\"api\"],\"Target\":\"shop_default\"}]",
           spec, "TaskTemplate", "Networks");
    json_decref(spec);

    spec = spec_of(p, "agent", NULL, NULL);
    EXPECT("{\"Global\":{}}", spec, "Mode");
    EXPECT("{\"Condition\":\"any\"}", spec, "TaskTemplate", "RestartPolicy");
    json_decref(spec);
    compose_project_free(p);
}

static void test_mounts_secrets_configs(void **state)
{
    (void)state;
    struct compose_project *p = mb_project_new("shop", "/srv/shop");
    struct compose_service *s = mb_service_add(p, "db", "postgres:16");
    struct compose_volume *v = mb_volume_add(p, "data");
    v->driver = "local";
    mb_kv_set(p, &v->labels, "backup", "daily");
    struct compose_volume *ext = mb_volume_add(p, "shared");
    ext->external = true;
    ext->name = "shared-data";
    mb_mount_add(p, s, COMPOSE_MOUNT_VOLUME, "data", "/var/lib/postgresql/data");
    struct compose_mount *e = mb_mount_add(p, s, COMPOSE_MOUNT_VOLUME, "shared", "/shared");
    e->read_only = true;
    mb_mount_add(p, s, COMPOSE_MOUNT_VOLUME, NULL, "/scratch");
    mb_mount_add(p, s, COMPOSE_MOUNT_BIND, "/etc/ssl", "/ssl");
    struct compose_mount *t = mb_mount_add(p, s, COMPOSE_MOUNT_TMPFS, NULL, "/tmp");
    t->tmpfs_size = 1 << 20;
    mb_secret_add(p, "db_password", "/srv/shop/pw.txt");
    mb_config_add(p, "pg_conf", "/srv/shop/pg.conf");
    mb_service_secret(p, s, "db_password", NULL);
    struct compose_file_ref *r = mb_service_secret(p, s, "db_password", "/run/secrets/other");
    r->uid = "999";
    r->mode = 0400;
    mb_service_config(p, s, "pg_conf", "/etc/postgresql/pg.conf");
    mb_project_done(p);

    json_t *ids = json_pack("{s:{s:s}, s:{s:s}}", "secrets", "shop_db_password", "sec1",
                            "configs", "shop_pg_conf", "cfg1");
    json_t *spec = spec_of(p, "db", ids, NULL);
    EXPECT("[{\"Source\":\"shop_data\",\"Target\":\"/var/lib/postgresql/data\",\"Type\":\"volume\","
           "\"VolumeOptions\":{\"DriverConfig\":{\"Name\":\"local\"},\"Labels\":{\"backup\":"
           "\"daily\",\"com.docker.stack.namespace\":\"shop\"}}},"
           "{\"ReadOnly\":true,\"Source\":\"shared-data\",\"Target\":\"/shared\",\"Type\":"
           "\"volume\"},"
           "{\"Target\":\"/scratch\",\"Type\":\"volume\"},"
           "{\"Source\":\"/etc/ssl\",\"Target\":\"/ssl\",\"Type\":\"bind\"},"
           "{\"Target\":\"/tmp\",\"TmpfsOptions\":{\"SizeBytes\":1048576},\"Type\":\"tmpfs\"}]",
           spec, "TaskTemplate", "ContainerSpec", "Mounts");
    /* 0444 is 292, 0400 is 256. */
    EXPECT("[{\"File\":{\"GID\":\"0\",\"Mode\":292,\"Name\":\"db_password\",\"UID\":\"0\"},"
           "\"SecretID\":\"sec1\",\"SecretName\":\"shop_db_password\"},"
           "{\"File\":{\"GID\":\"0\",\"Mode\":256,\"Name\":\"other\",\"UID\":\"999\"},"
           "\"SecretID\":\"sec1\",\"SecretName\":\"shop_db_password\"}]",
           spec, "TaskTemplate", "ContainerSpec", "Secrets");
    EXPECT("[{\"ConfigID\":\"cfg1\",\"ConfigName\":\"shop_pg_conf\",\"File\":{\"GID\":\"0\","
           "\"Mode\":292,\"Name\":\"/etc/postgresql/pg.conf\",\"UID\":\"0\"}}]",
           spec, "TaskTemplate", "ContainerSpec", "Configs");
    json_decref(spec);

    /* Without the secret's ID (not created yet) the spec cannot be made. */
    char *msg = spec_error(p, "db", NULL);
    assert_string_equal(msg, "services.db.secrets: secret 'shop_db_password' does not exist");
    free(msg);
    json_decref(ids);
    compose_project_free(p);
}

static void test_errors(void **state)
{
    (void)state;
    struct compose_project *p = mb_project_new("shop", "/srv/shop");
    struct compose_service *g = mb_service_add(p, "g", "x");
    g->deploy.mode = "global";
    g->deploy.replicas = 2;
    struct compose_service *dns = mb_service_add(p, "dns", "x");
    dns->deploy.endpoint_mode = "dnsrr";
    mb_port_add(p, dns, 80, "80", NULL, NULL);
    struct compose_service *built = mb_service_add(p, "built", NULL);
    built->build = arena_alloc(&p->arena, sizeof(*built->build));
    memset(built->build, 0, sizeof(*built->build));
    struct compose_service *rp = mb_service_add(p, "rp", "x");
    rp->deploy.restart_policy.condition = "always";
    struct compose_service *pr = mb_service_add(p, "pr", "x");
    mb_port_add(p, pr, 80, "8000-8010", NULL, NULL);
    mb_project_done(p);

    char *msg = spec_error(p, "g", NULL);
    assert_string_equal(msg, "services.g.deploy.replicas: replicas cannot be used with the "
                             "global mode");
    free(msg);
    msg = spec_error(p, "dns", NULL);
    assert_non_null(strstr(msg, "services.dns.deploy.endpoint_mode: dnsrr cannot publish"));
    free(msg);
    /* In host mode, dnsrr publishes: each task on its own node's port. */
    dns->ports[0].mode = "host";
    json_t *spec = spec_of(p, "dns", NULL, NULL);
    json_t *ep = json_object_get(spec, "EndpointSpec");
    assert_string_equal(json_string_value(json_object_get(ep, "Mode")), "dnsrr");
    json_t *port = json_array_get(json_object_get(ep, "Ports"), 0);
    assert_string_equal(json_string_value(json_object_get(port, "PublishMode")), "host");
    json_decref(spec);
    msg = spec_error(p, "built", NULL);
    assert_non_null(strstr(msg, "services.built.image: a swarm service needs an image"));
    free(msg);
    msg = spec_error(p, "rp", NULL);
    assert_string_equal(msg, "services.rp.deploy.restart_policy.condition: 'always' is not a "
                             "restart condition (none, on-failure, any)");
    free(msg);
    msg = spec_error(p, "pr", NULL);
    assert_non_null(strstr(msg, "services.pr.ports: published ports '8000-8010'"));
    free(msg);
    compose_project_free(p);
}

static void test_unsupported_warnings(void **state)
{
    (void)state;
    struct compose_project *p = mb_project_new("shop", "/srv/shop");
    struct compose_service *s = mb_service_add(p, "web", "x");
    s->container_name = "fixed";
    s->privileged = true;
    mb_strv_add(p, &s->expose, "80");
    mb_depends_on(p, s, "db", COMPOSE_COND_HEALTHY);
    mb_port_add(p, s, 80, "80", "127.0.0.1", NULL);
    mb_service_add(p, "db", "x");
    mb_project_done(p);

    json_t *w = json_array();
    json_t *spec = spec_of(p, "web", NULL, w);
    char *text = json_dumps(w, JSON_COMPACT);
    assert_string_equal(
        text, "[\"services.web.ports: host_ip is not supported in swarm mode, ignoring\","
              "\"services.web.container_name: not supported in swarm mode, ignoring\","
              "\"services.web.depends_on: not supported in swarm mode, ignoring\","
              "\"services.web.privileged: not supported in swarm mode, ignoring\","
              "\"services.web.expose: not needed in swarm mode (a network reaches every port), "
              "ignoring\"]");
    free(text);
    json_decref(spec);
    /* A service that uses nothing swarm lacks says nothing. */
    json_array_clear(w);
    spec = spec_of(p, "db", NULL, w);
    assert_int_equal(json_array_size(w), 0);
    json_decref(spec);
    json_decref(w);
    compose_project_free(p);
}

static void test_network_and_file_specs(void **state)
{
    (void)state;
    struct compose_project *p = mb_project_new("shop", "/srv/shop");
    struct compose_network *n = mb_network_add(p, "front");
    n->attachable = true;
    mb_kv_set(p, &n->labels, "tier", "front");
    struct compose_network *b = mb_network_add(p, "back");
    b->driver = "overlay";
    b->internal = true;

    char path[] = "/tmp/ccompose-stack-spec-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "s3cret\n", 7), 7);
    close(fd);
    mb_secret_add(p, "pw", path);
    struct compose_file_def *c = mb_config_add(p, "conf", "/nonexistent");
    c->file = NULL;
    c->content = "hello";
    struct compose_file_def *e = mb_config_add(p, "fromenv", "/nonexistent");
    e->file = NULL;
    e->environment = "CCOMPOSE_TEST_STACK_SPEC_VAR";
    struct compose_file_def *missing = mb_secret_add(p, "missing", "/nonexistent/file");
    (void)missing;
    mb_project_done(p);

    json_t *ns = sched_stack_network_spec(p, compose_project_network(p, "front"));
    EXPECT("\"shop_front\"", ns, "Name");
    EXPECT("\"overlay\"", ns, "Driver");
    EXPECT("true", ns, "Attachable");
    EXPECT("{\"com.docker.stack.namespace\":\"shop\",\"tier\":\"front\"}", ns, "Labels");
    json_decref(ns);
    ns = sched_stack_network_spec(p, compose_project_network(p, "back"));
    EXPECT("true", ns, "Internal");
    EXPECT("(absent)", ns, "Attachable");
    json_decref(ns);

    struct cc_error err = CC_ERROR_INIT;
    const struct compose_file_def *pw = NULL, *conf = NULL, *fromenv = NULL, *miss = NULL;
    for (size_t i = 0; i < p->n_secrets; i++) {
        if (!strcmp(p->secrets[i].key, "pw"))
            pw = &p->secrets[i];
        else
            miss = &p->secrets[i];
    }
    for (size_t i = 0; i < p->n_configs; i++) {
        if (!strcmp(p->configs[i].key, "conf"))
            conf = &p->configs[i];
        else
            fromenv = &p->configs[i];
    }
    json_t *fs = sched_stack_file_spec(p, pw, &err);
    EXPECT("{\"Data\":\"czNjcmV0Cg==\",\"Labels\":{\"com.docker.stack.namespace\":\"shop\"},"
           "\"Name\":\"shop_pw\"}",
           fs);
    json_decref(fs);
    fs = sched_stack_file_spec(p, conf, &err);
    EXPECT("\"aGVsbG8=\"", fs, "Data");
    json_decref(fs);
    unsetenv("CCOMPOSE_TEST_STACK_SPEC_VAR");
    assert_null(sched_stack_file_spec(p, fromenv, &err));
    assert_int_equal(err.kind, CC_ERR_INVALID_CONFIG);
    assert_string_equal(err.message, "'fromenv' takes its content from the variable "
                                     "'CCOMPOSE_TEST_STACK_SPEC_VAR', which is not set");
    setenv("CCOMPOSE_TEST_STACK_SPEC_VAR", "ab", 1);
    fs = sched_stack_file_spec(p, fromenv, &err);
    EXPECT("\"YWI=\"", fs, "Data");
    json_decref(fs);
    unsetenv("CCOMPOSE_TEST_STACK_SPEC_VAR");
    assert_null(sched_stack_file_spec(p, miss, &err));
    assert_int_equal(err.kind, CC_ERR_IO);
    assert_non_null(strstr(err.message, "cannot read the file '/nonexistent/file' of 'missing'"));
    cc_error_release(&err);
    unlink(path);
    compose_project_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_container_spec),
        cmocka_unit_test(test_deploy_settings),
        cmocka_unit_test(test_mounts_secrets_configs),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_unsupported_warnings),
        cmocka_unit_test(test_network_and_file_specs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
