/* Create bodies from hand-built models: each setting of the model lands in the engine field docker
 * compose v2 puts it in, with the engine's units and shapes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/scheduler-internal.h"
#include "scheduler/scheduler.h"
#include "tests/lib/model-builder.h"

/* The value at a path of object keys / array indexes, up to NULL; NULL when absent. */
static json_t *at(json_t *j, ...)
{
    va_list ap;
    va_start(ap, j);
    for (const char *k; j && (k = va_arg(ap, const char *));)
        j = json_is_array(j) ? json_array_get(j, strtoul(k, NULL, 10)) : json_object_get(j, k);
    va_end(ap);
    return j;
}

#define STR(...)  json_string_value(at(__VA_ARGS__, NULL))
#define INT(...)  json_integer_value(at(__VA_ARGS__, NULL))
#define TRUE(...) assert_true(json_is_true(at(__VA_ARGS__, NULL)))

/* The JSON text of j, compact with sorted keys, for comparing whole values. */
static void assert_json(json_t *j, const char *expected)
{
    if (!j)
        fail_msg("absent, expected %s", expected);
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    assert_string_equal(s, expected);
    free(s);
}

static json_t *body_of(const struct compose_project *p, const char *svc, int number,
                       const char *image_id)
{
    struct cc_error err = CC_ERROR_INIT;
    json_t *b = sched_container_body(p, compose_project_service(p, svc), number, image_id, &err);
    if (!b)
        fail_msg("body: %s", err.message);
    return b;
}

static void test_container_config(void **state)
{
    (void)state;
    struct compose_project *p = mb_project_new("shop", "/srv/shop");
    struct compose_service *s = mb_service_add(p, "web", "nginx");
    mb_command(p, s, "sh", "-c", "echo hi", NULL);
    mb_entrypoint(p, s, NULL);
    mb_kv_set(p, &s->environment, "ZED", "z");
    mb_kv_set(p, &s->environment, "ALPHA", "a=b");
    mb_kv_set(p, &s->environment, "UNSET", NULL);
    mb_strv_add(p, &s->expose, "3000-3001/udp");
    struct compose_healthcheck *h = mb_healthcheck(p, s, "CMD-SHELL", "true", NULL);
    h->interval = 5000000000;
    h->timeout = 2000000000;
    h->start_period = 1000000000;
    h->retries = 4;
    s->user = "1000:1000";
    s->working_dir = "/app";
    s->hostname = "h";
    s->domainname = "example.org";
    s->tty = true;
    s->stdin_open = true;
    s->stop_signal = "SIGINT";
    s->stop_grace_period = 12500000000; /* 12.5s: the engine takes whole seconds */
    mb_project_done(p);

    json_t *b = body_of(p, "web", 1, "sha256:abc");
    assert_string_equal(STR(b, "Image"), "sha256:abc");
    assert_json(at(b, "Cmd", NULL), "[\"sh\",\"-c\",\"echo hi\"]");
    assert_json(at(b, "Entrypoint", NULL), "[]"); /* clears the image's */
    assert_json(at(b, "Env", NULL), "[\"ALPHA=a=b\",\"ZED=z\"]");
    assert_json(at(b, "ExposedPorts", NULL), "{\"3000/udp\":{},\"3001/udp\":{}}");
    assert_json(at(b, "Healthcheck", NULL),
                "{\"Interval\":5000000000,\"Retries\":4,\"StartPeriod\":1000000000,\"Test\":"
                "[\"CMD-SHELL\",\"true\"],\"Timeout\":2000000000}");
    assert_string_equal(STR(b, "User"), "1000:1000");
    assert_string_equal(STR(b, "WorkingDir"), "/app");
    assert_string_equal(STR(b, "Hostname"), "h");
    assert_string_equal(STR(b, "Domainname"), "example.org");
    TRUE(b, "Tty");
    TRUE(b, "OpenStdin");
    assert_string_equal(STR(b, "StopSignal"), "SIGINT");
    assert_int_equal(INT(b, "StopTimeout"), 12);
    json_decref(b);

    /* Without an image ID the image is named; without command/entrypoint the image's apply. */
    s = (struct compose_service *)compose_project_service(p, "web");
    s->has_command = s->has_entrypoint = false;
    mb_healthcheck(p, s, "NONE", NULL);
    b = body_of(p, "web", 1, NULL);
    assert_string_equal(STR(b, "Image"), "nginx");
    assert_null(at(b, "Cmd", NULL));
    assert_null(at(b, "Entrypoint", NULL));
    assert_json(at(b, "Healthcheck", NULL), "{\"Test\":[\"NONE\"]}");
    assert_null(at(b, "Labels", SCHED_LABEL_IMAGE, NULL));
    json_decref(b);
    compose_project_free(p);
}

static void test_labels(void **state)
{
    (void)state;
    struct compose_project *p = mb_project_new("shop", "/srv/shop");
    mb_strv_add(p, &p->config_files, "/srv/shop/compose.override.yaml");
    mb_strv_add(p, &p->env_files, "/srv/shop/.env");
    struct compose_service *s = mb_service_add(p, "web", "nginx");
    mb_kv_set(p, &s->labels, "tier", "front");
    mb_kv_set(p, &s->labels, SCHED_LABEL_PROJECT, "spoofed"); /* ours win */
    mb_depends_on(p, s, "db", COMPOSE_COND_HEALTHY)->restart = true;
    mb_depends_on(p, s, "init", COMPOSE_COND_COMPLETED_SUCCESSFULLY);
    mb_depends_on(p, s, "cache", COMPOSE_COND_STARTED);
    mb_service_add(p, "db", "pg");
    mb_service_add(p, "init", "busybox");
    mb_service_add(p, "cache", "redis");
    mb_project_done(p);

    json_t *b = body_of(p, "web", 3, "sha256:abc");
    json_t *l = at(b, "Labels", NULL);
    assert_string_equal(STR(l, "tier"), "front");
    assert_string_equal(STR(l, SCHED_LABEL_PROJECT), "shop");
    assert_string_equal(STR(l, SCHED_LABEL_SERVICE), "web");
    assert_string_equal(STR(l, SCHED_LABEL_ONEOFF), "False");
    assert_string_equal(STR(l, SCHED_LABEL_NUMBER), "3");
    assert_string_equal(STR(l, SCHED_LABEL_WORKING_DIR), "/srv/shop");
    assert_string_equal(STR(l, SCHED_LABEL_CONFIG_FILES),
                        "/srv/shop/compose.yaml,/srv/shop/compose.override.yaml");
    assert_string_equal(STR(l, SCHED_LABEL_ENVIRONMENT_FILE), "/srv/shop/.env");
    assert_string_equal(STR(l, SCHED_LABEL_DEPENDS_ON),
                        "db:service_healthy:true,init:service_completed_successfully:false,"
                        "cache:service_started:false");
    assert_string_equal(STR(l, SCHED_LABEL_IMAGE), "sha256:abc");
    assert_string_equal(STR(l, SCHED_LABEL_VERSION), SCHED_COMPOSE_VERSION);
    char *hash = sched_config_hash(p, compose_project_service(p, "web"));
    assert_string_equal(STR(l, SCHED_LABEL_CONFIG_HASH), hash);
    free(hash);
    json_decref(b);

    /* No env files: no label; no dependencies: the label is there, empty (as docker compose). */
    b = body_of(p, "db", 1, NULL);
    assert_string_equal(STR(b, "Labels", SCHED_LABEL_DEPENDS_ON), "");
    json_decref(b);
    p->env_files.n = 0;
    b = body_of(p, "db", 1, NULL);
    assert_null(at(b, "Labels", SCHED_LABEL_ENVIRONMENT_FILE, NULL));
    json_decref(b);
    compose_project_free(p);
}

static void test_ports(void **state)
{
    (void)state;
    struct compose_project *p = mb_project_new("shop", "/srv/shop");
    struct compose_service *s = mb_service_add(p, "web", "nginx");
    mb_port_add(p, s, 80, "8080", "127.0.0.1", NULL);
    mb_port_add(p, s, 80, "8081", "::1", NULL); /* a second binding of the same port */
    mb_port_add(p, s, 53, NULL, NULL, "udp");
    mb_port_add(p, s, 7000, "7000-7010", NULL, NULL);
    mb_port_add(p, s, 9000, "9100-9101", NULL, "sctp")->target_end = 9001;
    mb_project_done(p);
    json_t *b = body_of(p, "web", 1, NULL);
    assert_json(at(b, "ExposedPorts", NULL),
                "{\"53/udp\":{},\"7000/tcp\":{},\"80/tcp\":{},\"9000/sctp\":{},\"9001/sctp\":{}}");
    assert_json(at(b, "HostConfig", "PortBindings", NULL),
                "{\"53/udp\":[{\"HostIp\":\"\",\"HostPort\":\"\"}],"
                "\"7000/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"7000-7010\"}],"
                "\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"8080\"},"
                "{\"HostIp\":\"::1\",\"HostPort\":\"8081\"}],"
                "\"9000/sctp\":[{\"HostIp\":\"\",\"HostPort\":\"9100\"}],"
                "\"9001/sctp\":[{\"HostIp\":\"\",\"HostPort\":\"9101\"}]}");
    json_decref(b);

    /* Ranges of different lengths cannot be mapped. */
    s = (struct compose_service *)compose_project_service(p, "web");
    s->ports[4].published = "9100-9105";
    s->ports[4].pos = (struct compose_pos){"/srv/shop/compose.yaml", 7, 9};
    struct cc_error err = CC_ERROR_INIT;
    assert_null(sched_container_body(p, s, 1, NULL, &err));
    assert_int_equal(err.kind, CC_ERR_INVALID_CONFIG);
    assert_string_equal(err.message,
                        "published ports '9100-9105' and container ports 9000-9001 differ in "
                        "number");
    assert_string_equal(err.key_path, "services.web.ports");
    assert_int_equal(err.line, 7);
    assert_null(sched_config_hash(p, s));
    cc_error_release(&err);
    compose_project_free(p);
}

static void test_mounts_secrets_configs(void **state)
{
    (void)state;
    struct compose_project *p = mb_project_new("shop", "/srv/shop");
    struct compose_service *s = mb_service_add(p, "web", "nginx");
    mb_mount_add(p, s, COMPOSE_MOUNT_BIND, "/srv/shop/html", "/usr/share/html")->read_only = true;
    struct compose_mount *z = mb_mount_add(p, s, COMPOSE_MOUNT_BIND, "/srv/x", "/x");
    z->selinux = "z";
    z->propagation = "rshared";
    struct compose_mount *strict = mb_mount_add(p, s, COMPOSE_MOUNT_BIND, "/srv/must", "/must");
    strict->create_host_path = false;
    mb_mount_add(p, s, COMPOSE_MOUNT_VOLUME, "data", "/data")->nocopy = true;
    mb_mount_add(p, s, COMPOSE_MOUNT_VOLUME, NULL, "/anon");
    struct compose_mount *t = mb_mount_add(p, s, COMPOSE_MOUNT_TMPFS, NULL, "/scratch");
    t->tmpfs_size = 1048576;
    t->tmpfs_mode = 01777;
    mb_strv_add(p, &s->tmpfs, "/run:size=64k");
    mb_strv_add(p, &s->tmpfs, "/tmp");
    struct compose_volume *data = mb_volume_add(p, "data");
    data->name = "custom-data"; /* `name:` reaches the mount */
    mb_secret_add(p, "token", "/srv/shop/token.txt");
    mb_secret_add(p, "fromenv", NULL)->environment = "TOKEN";
    mb_config_add(p, "conf", "/srv/shop/app.conf");
    mb_service_secret(p, s, "token", NULL);
    mb_service_secret(p, s, "fromenv", NULL); /* not a file: left out */
    mb_service_config(p, s, "conf", "/etc/app.conf");
    mb_project_done(p);

    json_t *b = body_of(p, "web", 1, NULL);
    assert_json(at(b, "HostConfig", "Binds", NULL),
                "[\"/srv/shop/html:/usr/share/html:ro\",\"/srv/x:/x:rw,z,rshared\"]");
    assert_json(at(b, "HostConfig", "Mounts", NULL),
                "[{\"Source\":\"/srv/must\",\"Target\":\"/must\",\"Type\":\"bind\"},"
                "{\"Source\":\"custom-data\",\"Target\":\"/data\",\"Type\":\"volume\","
                "\"VolumeOptions\":{\"NoCopy\":true}},"
                "{\"Target\":\"/anon\",\"Type\":\"volume\"},"
                "{\"Target\":\"/scratch\",\"TmpfsOptions\":{\"Mode\":1023,\"SizeBytes\":1048576},"
                "\"Type\":\"tmpfs\"},"
                "{\"ReadOnly\":true,\"Source\":\"/srv/shop/token.txt\",\"Target\":"
                "\"/run/secrets/token\",\"Type\":\"bind\"},"
                "{\"ReadOnly\":true,\"Source\":\"/srv/shop/app.conf\",\"Target\":"
                "\"/etc/app.conf\",\"Type\":\"bind\"}]");
    assert_json(at(b, "HostConfig", "Tmpfs", NULL), "{\"/run\":\"size=64k\",\"/tmp\":\"\"}");
    json_decref(b);
    compose_project_free(p);
}

static void test_host_config(void **state)
{
    (void)state;
    struct compose_project *p = mb_project_new("shop", "/srv/shop");
    struct compose_service *s = mb_service_add(p, "web", "nginx");
    s->restart = "on-failure:3";
    s->init = COMPOSE_TRI_TRUE;
    mb_strv_set(p, &s->cap_add, "NET_ADMIN", NULL);
    mb_strv_set(p, &s->cap_drop, "MKNOD", NULL);
    s->privileged = true;
    s->read_only = true;
    mb_strv_set(p, &s->security_opt, "no-new-privileges:true", "systempaths=unconfined", NULL);
    mb_strv_set(p, &s->extra_hosts, "db.local:10.0.0.2", NULL);
    mb_strv_set(p, &s->dns, "1.1.1.1", NULL);
    mb_strv_set(p, &s->dns_search, "example.org", NULL);
    mb_strv_set(p, &s->dns_opt, "ndots:2", NULL);
    mb_kv_set(p, &s->sysctls, "net.core.somaxconn", "1024");
    mb_kv_set(p, &s->storage_opt, "size", "1G");
    mb_device_add(p, s, "/dev/fuse", NULL, NULL);
    s->logging.driver = "json-file";
    mb_kv_set(p, &s->logging.options, "max-size", "1m");
    s->mem_limit = 64 << 20;
    s->memswap_limit = 128 << 20;
    s->mem_reservation = 32 << 20;
    s->cpus = 0.3; /* 300000000 ns, not 299999999 */
    s->cpu_shares = 512;
    s->cpu_quota = 50000;
    s->cpu_period = 100000;
    s->cpuset = "0";
    s->pids_limit = 100;
    s->oom_score_adj = 500;
    s->shm_size = 1 << 20;
    mb_ulimit_add(p, s, "nofile", 1024, 2048);
    s->ipc = "private";
    s->pid = "host";
    s->cgroup = "private";
    s->cgroup_parent = "/ccompose";
    s->userns_mode = "host";
    mb_strv_set(p, &s->group_add, "audio", NULL);
    mb_kv_set(p, &s->annotations, "a", "b");
    mb_project_done(p);

    json_t *b = body_of(p, "web", 1, NULL);
    json_t *hc = at(b, "HostConfig", NULL);
    assert_json(at(hc, "RestartPolicy", NULL), "{\"MaximumRetryCount\":3,\"Name\":\"on-failure\"}");
    TRUE(hc, "Init");
    assert_json(at(hc, "CapAdd", NULL), "[\"NET_ADMIN\"]");
    assert_json(at(hc, "CapDrop", NULL), "[\"MKNOD\"]");
    TRUE(hc, "Privileged");
    TRUE(hc, "ReadonlyRootfs");
    assert_json(at(hc, "SecurityOpt", NULL), "[\"no-new-privileges:true\"]");
    assert_json(at(hc, "MaskedPaths", NULL), "[]");
    assert_json(at(hc, "ReadonlyPaths", NULL), "[]");
    assert_json(at(hc, "ExtraHosts", NULL), "[\"db.local:10.0.0.2\"]");
    assert_json(at(hc, "Dns", NULL), "[\"1.1.1.1\"]");
    assert_json(at(hc, "DnsSearch", NULL), "[\"example.org\"]");
    assert_json(at(hc, "DnsOptions", NULL), "[\"ndots:2\"]");
    assert_json(at(hc, "Sysctls", NULL), "{\"net.core.somaxconn\":\"1024\"}");
    assert_json(at(hc, "StorageOpt", NULL), "{\"size\":\"1G\"}");
    assert_json(at(hc, "Devices", NULL), "[{\"CgroupPermissions\":\"rwm\",\"PathInContainer\":"
                                         "\"/dev/fuse\",\"PathOnHost\":\"/dev/fuse\"}]");
    assert_json(at(hc, "LogConfig", NULL),
                "{\"Config\":{\"max-size\":\"1m\"},\"Type\":\"json-file\"}");
    assert_int_equal(INT(hc, "Memory"), 64 << 20);
    assert_int_equal(INT(hc, "MemorySwap"), 128 << 20);
    assert_int_equal(INT(hc, "MemoryReservation"), 32 << 20);
    assert_int_equal(INT(hc, "NanoCpus"), 300000000);
    assert_int_equal(INT(hc, "CpuShares"), 512);
    assert_int_equal(INT(hc, "CpuQuota"), 50000);
    assert_int_equal(INT(hc, "CpuPeriod"), 100000);
    assert_string_equal(STR(hc, "CpusetCpus"), "0");
    assert_int_equal(INT(hc, "PidsLimit"), 100);
    assert_int_equal(INT(hc, "OomScoreAdj"), 500);
    assert_true(json_is_false(at(hc, "OomKillDisable", NULL)));
    assert_int_equal(INT(hc, "ShmSize"), 1 << 20);
    assert_json(at(hc, "Ulimits", NULL), "[{\"Hard\":2048,\"Name\":\"nofile\",\"Soft\":1024}]");
    assert_string_equal(STR(hc, "IpcMode"), "private");
    assert_string_equal(STR(hc, "PidMode"), "host");
    assert_string_equal(STR(hc, "CgroupnsMode"), "private");
    assert_string_equal(STR(hc, "CgroupParent"), "/ccompose");
    assert_string_equal(STR(hc, "UsernsMode"), "host");
    assert_json(at(hc, "GroupAdd", NULL), "[\"audio\"]");
    assert_null(at(hc, "Annotations", NULL)); /* API 1.43+ */
    json_decref(b);

    /* deploy: resources and restart_policy win over the flat keys, as in docker compose. */
    s = (struct compose_service *)compose_project_service(p, "web");
    s->deploy.limits.memory = 16 << 20;
    s->deploy.limits.cpus = 1.5;
    s->deploy.limits.pids = 7;
    s->deploy.reservations.memory = 8 << 20;
    s->deploy.restart_policy.condition = "any";
    s->deploy.restart_policy.max_attempts = 5;
    b = body_of(p, "web", 1, NULL);
    hc = at(b, "HostConfig", NULL);
    assert_int_equal(INT(hc, "Memory"), 16 << 20);
    assert_int_equal(INT(hc, "NanoCpus"), 1500000000);
    assert_int_equal(INT(hc, "PidsLimit"), 7);
    assert_int_equal(INT(hc, "MemoryReservation"), 8 << 20);
    assert_json(at(hc, "RestartPolicy", NULL), "{\"MaximumRetryCount\":0,\"Name\":\"always\"}");
    json_decref(b);
    s->deploy.restart_policy.condition = "none";
    b = body_of(p, "web", 1, NULL);
    assert_string_equal(STR(b, "HostConfig", "RestartPolicy", "Name"), "no");
    json_decref(b);
    s->deploy.restart_policy.condition = NULL;
    s->restart = "unless-stopped";
    b = body_of(p, "web", 1, NULL);
    assert_string_equal(STR(b, "HostConfig", "RestartPolicy", "Name"), "unless-stopped");
    json_decref(b);
    s->restart = "sometimes";
    struct cc_error err = CC_ERROR_INIT;
    assert_null(sched_container_body(p, s, 1, NULL, &err));
    assert_string_equal(err.message, "'sometimes' is not a restart policy");
    cc_error_release(&err);
    compose_project_free(p);
}

/* The less common settings, as the engine's HostConfig names them. */
static void test_more_host_config(void **state)
{
    (void)state;
    struct compose_project *p = mb_project_new("shop", "/srv/shop");
    struct compose_service *s = mb_service_add(p, "web", "nginx");
    mb_project_done(p);
    json_t *b = body_of(p, "web", 1, NULL);
    /* Unset stays out: MemorySwappiness 0 would turn swapping off. */
    assert_null(at(b, "HostConfig", "MemorySwappiness", NULL));
    assert_null(at(b, "HostConfig", "BlkioWeight", NULL));
    assert_null(at(b, "HostConfig", "DeviceRequests", NULL));
    json_decref(b);
    s->cpu_count = 2;
    s->cpu_rt_runtime = 950;
    s->mem_swappiness = 0;
    s->blkio_config.weight = 300;
    struct compose_blkio_device rate = {"/dev/sda", 1024};
    s->blkio_config.device_write_iops = (struct compose_blkio_list){&rate, 1};
    s->uts = "host";
    s->runtime = "runc";
    struct compose_device_request reqs[2] = {
        {.count = COMPOSE_UNSET},
        {.driver = "nvidia", .count = 2},
    };
    mb_strv_add(p, &reqs[1].capabilities, "compute");
    s->gpus = reqs;
    s->n_gpus = 2;
    s->credential_spec.registry = "spec";
    b = body_of(p, "web", 1, NULL);
    assert_int_equal(INT(b, "HostConfig", "CpuCount"), 2);
    assert_int_equal(INT(b, "HostConfig", "CpuRealtimeRuntime"), 950);
    assert_json(at(b, "HostConfig", "MemorySwappiness", NULL), "0");
    assert_int_equal(INT(b, "HostConfig", "BlkioWeight"), 300);
    assert_json(at(b, "HostConfig", "BlkioDeviceWriteIOps", NULL), "[{\"Path\":\"/dev/sda\",\"Rate\":1024}]");
    assert_string_equal(STR(b, "HostConfig", "UTSMode"), "host");
    assert_string_equal(STR(b, "HostConfig", "Runtime"), "runc");
    /* Neither count nor device_ids: all of them; gpus always ask for the gpu capability. */
    assert_json(at(b, "HostConfig", "DeviceRequests", NULL),
                "[{\"Capabilities\":[[\"gpu\"]],\"Count\":-1},"
                "{\"Capabilities\":[[\"compute\"]],\"Count\":2,\"Driver\":\"nvidia\"}]");
    assert_json(at(b, "HostConfig", "SecurityOpt", NULL), "[\"credentialspec=registry://spec\"]");
    json_decref(b);
    struct compose_mount *img = mb_mount_add(p, s, COMPOSE_MOUNT_IMAGE, NULL, "/img");
    img->source = "alpine";
    struct cc_error err = CC_ERROR_INIT;
    assert_null(sched_container_body(p, s, 1, NULL, &err));
    assert_non_null(strstr(err.message, "image mount of 'alpine' needs Docker Engine API 1.48"));
    cc_error_release(&err);
    compose_project_free(p);
}

static void test_networking(void **state)
{
    (void)state;
    struct compose_project *p = mb_project_new("shop", "/srv/shop");
    struct compose_service *web = mb_service_add(p, "web", "nginx");
    struct compose_service_network *front = mb_service_network(p, web, "front");
    mb_strv_add(p, &front->aliases, "www");
    front->ipv4_address = "172.30.5.10";
    mb_kv_set(p, &front->driver_opts, "com.example.opt", "1");
    struct compose_service_network *back = mb_service_network(p, web, "back");
    mb_strv_add(p, &back->aliases, "web-back");
    back->ipv6_address = "fd00::10";
    mb_strv_add(p, &web->links, "db:database");
    mb_strv_add(p, &web->external_links, "legacy");
    mb_strv_add(p, &web->volumes_from, "service:db:ro");
    mb_strv_add(p, &web->volumes_from, "container:other");
    struct compose_service *db = mb_service_add(p, "db", "pg");
    db->scale = 2;
    struct compose_service *side = mb_service_add(p, "side", "busybox");
    side->network_mode = "service:web";
    mb_network_add(p, "front")->name = "shop-front";
    mb_network_add(p, "back");
    mb_project_done(p);

    json_t *b = body_of(p, "web", 2, NULL);
    assert_string_equal(STR(b, "HostConfig", "NetworkMode"), "shop-front");
    json_t *eps = at(b, "NetworkingConfig", "EndpointsConfig", NULL);
    assert_int_equal(json_object_size(eps), 1); /* API 1.41: one network at create */
    assert_json(at(eps, "shop-front", NULL),
                "{\"Aliases\":[\"shop-web-2\",\"web\",\"www\"],\"DriverOpts\":{\"com.example.opt\":"
                "\"1\"},\"IPAMConfig\":{\"IPv4Address\":\"172.30.5.10\"},\"Links\":[\"shop-db-1:"
                "database\",\"shop-db-2:database\",\"legacy:legacy\"]}");
    assert_json(at(b, "HostConfig", "Links", NULL),
                "[\"shop-db-1:database\",\"shop-db-2:database\",\"legacy:legacy\"]");
    assert_json(at(b, "HostConfig", "VolumesFrom", NULL), "[\"shop-db-1:ro\",\"other\"]");
    json_decref(b);

    json_t *c = sched_network_connect_body(p, compose_project_service(p, "web"), 1, "cid", 2);
    assert_string_equal(STR(c, "Container"), "cid");
    assert_json(at(c, "EndpointConfig", "Aliases", NULL), "[\"shop-web-2\",\"web\",\"web-back\"]");
    assert_json(at(c, "EndpointConfig", "IPAMConfig", NULL), "{\"IPv6Address\":\"fd00::10\"}");
    json_decref(c);
    assert_null(sched_network_connect_body(p, compose_project_service(p, "web"), 2, "cid", 2));

    b = body_of(p, "side", 1, NULL);
    assert_string_equal(STR(b, "HostConfig", "NetworkMode"), "container:shop-web-1");
    assert_null(at(b, "NetworkingConfig", NULL));
    json_decref(b);

    struct cc_error err = CC_ERROR_INIT;
    side = (struct compose_service *)compose_project_service(p, "side");
    side->network_mode = "service:nope";
    assert_null(sched_container_body(p, side, 1, NULL, &err));
    assert_string_equal(err.message, "'nope' in network_mode is not a service");
    cc_error_release(&err);
    compose_project_free(p);
}

static void test_network_and_volume_bodies(void **state)
{
    (void)state;
    struct compose_project *p = mb_project_new("shop", "/srv/shop");
    struct compose_network *n = mb_network_add(p, "front");
    n->driver = "bridge";
    mb_kv_set(p, &n->driver_opts, "com.docker.network.bridge.enable_icc", "true");
    n->ipam_driver = "default";
    n->ipam_config = arena_alloc(&p->arena, sizeof(*n->ipam_config));
    n->n_ipam_config = 1;
    n->ipam_config[0].subnet = "172.30.0.0/16";
    n->ipam_config[0].gateway = "172.30.0.1";
    n->ipam_config[0].ip_range = "172.30.5.0/24";
    mb_kv_set(p, &n->ipam_config[0].aux_addresses, "host1", "172.30.1.5");
    n->internal = true;
    n->attachable = true;
    n->enable_ipv6 = COMPOSE_TRI_FALSE;
    mb_kv_set(p, &n->labels, "tier", "front");
    struct compose_volume *v = mb_volume_add(p, "data");
    v->driver = "local";
    mb_kv_set(p, &v->driver_opts, "type", "tmpfs");
    mb_kv_set(p, &v->labels, "keep", "yes");

    json_t *nb = sched_network_body(p, n);
    assert_json(nb, "{\"Attachable\":true,\"CheckDuplicate\":true,\"Driver\":\"bridge\","
                    "\"EnableIPv6\":false,\"IPAM\":{\"Config\":[{\"AuxiliaryAddresses\":{\"host1\":"
                    "\"172.30.1.5\"},\"Gateway\":\"172.30.0.1\",\"IPRange\":\"172.30.5.0/24\","
                    "\"Subnet\":\"172.30.0.0/16\"}],\"Driver\":\"default\"},\"Internal\":true,"
                    "\"Labels\":{\"com.docker.compose.network\":\"front\","
                    "\"com.docker.compose.project\":\"shop\",\"com.docker.compose.version\":"
                    "\"" SCHED_COMPOSE_VERSION
                    "\",\"tier\":\"front\"},\"Name\":\"shop_front\",\"Options\":{"
                    "\"com.docker.network.bridge.enable_icc\":\"true\"}}");
    json_decref(nb);
    json_t *vb = sched_volume_body(p, v);
    assert_json(vb, "{\"Driver\":\"local\",\"DriverOpts\":{\"type\":\"tmpfs\"},\"Labels\":{"
                    "\"com.docker.compose.project\":\"shop\",\"com.docker.compose.version\":"
                    "\"" SCHED_COMPOSE_VERSION
                    "\",\"com.docker.compose.volume\":\"data\",\"keep\":\"yes\"},\"Name\":"
                    "\"shop_data\"}");
    json_decref(vb);
    compose_project_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_container_config),
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_ports),
        cmocka_unit_test(test_mounts_secrets_configs),
        cmocka_unit_test(test_host_config),
        cmocka_unit_test(test_more_host_config),
        cmocka_unit_test(test_networking),
        cmocka_unit_test(test_network_and_volume_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
