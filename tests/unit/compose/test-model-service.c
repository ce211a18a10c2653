/* Model building for services: real YAML through compose_project_load(), short forms made long,
 * defaults, env_file under environment, and what the scheduler reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/compose-test.h"

static void test_minimal_defaults(void **state)
{
    (void)state;
    struct ct_load r;
    ct_load_text(&r, "services:\n  web:\n    image: nginx\n", NULL);
    ct_assert_ok(&r);
    const struct compose_project *p = r.p;
    assert_string_equal(p->name, "test");
    assert_string_equal(p->working_dir, "/srv/app");
    assert_int_equal(p->n_services, 1);
    const struct compose_service *s = &p->services[0];
    assert_string_equal(s->name, "web");
    assert_string_equal(s->image, "nginx");
    assert_int_equal(s->pos.line, 2);
    assert_int_equal(s->pos.col, 3);
    assert_string_equal(s->pos.file, "-");
    assert_null(s->build);
    assert_int_equal(s->scale, COMPOSE_UNSET);
    assert_int_equal(s->deploy.replicas, COMPOSE_UNSET);
    assert_int_equal(s->stop_grace_period, COMPOSE_UNSET);
    assert_int_equal(s->healthcheck.retries, COMPOSE_UNSET);
    assert_false(s->healthcheck.set);
    assert_int_equal(s->mem_limit, COMPOSE_UNSET);
    assert_int_equal(compose_service_replicas(s), 1);
    assert_false(s->has_command);
    /* The implicit default network, used. */
    assert_int_equal(s->n_networks, 1);
    assert_string_equal(s->networks[0].key, "default");
    assert_int_equal(p->n_networks, 1);
    assert_string_equal(p->networks[0].key, "default");
    assert_string_equal(p->networks[0].name, "test_default");
    assert_true(p->networks[0].used);
    assert_int_equal(r.diag.n_warnings, 0);
    ct_release(&r);
}

static void test_scheduler_fields(void **state)
{
    (void)state;
    static const char *const env[] = {"FROM_ENV=shell", "TAG=1.25", NULL};
    struct ct_load r;
    ct_load_text(&r,
                 "services:\n"
                 "  web:\n"
                 "    image: nginx:${TAG}\n"
                 "    command: sh -c 'echo \"hi there\"'\n"
                 "    entrypoint: [\"/bin/tini\", \"--\"]\n"
                 "    environment:\n"
                 "      - A=1\n"
                 "      - FROM_ENV\n"
                 "      - MISSING\n"
                 "    labels:\n"
                 "      com.example: x\n"
                 "    ports:\n"
                 "      - \"127.0.0.1:8080:80/udp\"\n"
                 "      - 9000-9001:90-91\n"
                 "      - target: 443\n"
                 "        published: \"8443\"\n"
                 "        mode: host\n"
                 "    volumes:\n"
                 "      - ./data:/data:ro\n"
                 "      - cache:/cache\n"
                 "      - /anon\n"
                 "      - type: tmpfs\n"
                 "        target: /tmp\n"
                 "        tmpfs:\n"
                 "          size: 64m\n"
                 "    user: \"1000:1000\"\n"
                 "    working_dir: /app\n"
                 "    stop_grace_period: 1m30s\n"
                 "    stop_signal: SIGINT\n"
                 "    restart: on-failure:3\n"
                 "    tmpfs: /run\n"
                 "    extra_hosts:\n"
                 "      - \"db.local=10.0.0.2\"\n"
                 "      - \"gw:10.0.0.1\"\n"
                 "    cap_add: [NET_ADMIN]\n"
                 "    cap_drop: [ALL]\n"
                 "    ulimits:\n"
                 "      nproc: 65535\n"
                 "      nofile:\n"
                 "        soft: 20000\n"
                 "        hard: 40000\n"
                 "    container_name: the-web\n"
                 "    x-ccompose:\n"
                 "      restart_on_unhealthy: true\n"
                 "volumes:\n"
                 "  cache: {}\n",
                 env);
    ct_assert_ok(&r);
    const struct compose_service *s = compose_project_service(r.p, "web");
    assert_string_equal(s->image, "nginx:1.25");
    assert_true(s->has_command);
    assert_int_equal(s->command.n, 3);
    assert_string_equal(s->command.v[2], "echo \"hi there\"");
    assert_true(s->has_entrypoint);
    assert_int_equal(s->entrypoint.n, 2);
    assert_string_equal(compose_kvv_get(&s->environment, "A"), "1");
    assert_string_equal(compose_kvv_get(&s->environment, "FROM_ENV"), "shell");
    assert_int_equal(s->environment.n, 3);
    assert_null(s->environment.v[2].value); /* MISSING: unset, left out of the container */
    assert_string_equal(compose_kvv_get(&s->labels, "com.example"), "x");

    assert_int_equal(s->n_ports, 4);
    assert_int_equal(s->ports[0].target, 80);
    assert_string_equal(s->ports[0].published, "8080");
    assert_string_equal(s->ports[0].host_ip, "127.0.0.1");
    assert_string_equal(s->ports[0].protocol, "udp");
    assert_int_equal(s->ports[0].pos.line, 13);
    assert_int_equal(s->ports[1].target, 90);
    assert_string_equal(s->ports[1].published, "9000");
    assert_int_equal(s->ports[2].target, 91);
    assert_string_equal(s->ports[2].published, "9001");
    assert_int_equal(s->ports[3].target, 443);
    assert_string_equal(s->ports[3].mode, "host");
    assert_string_equal(s->ports[3].protocol, "tcp");

    assert_int_equal(s->n_volumes, 4);
    assert_int_equal(s->volumes[0].type, COMPOSE_MOUNT_BIND);
    assert_string_equal(s->volumes[0].source, "/srv/app/data");
    assert_true(s->volumes[0].read_only);
    assert_int_equal(s->volumes[1].type, COMPOSE_MOUNT_VOLUME);
    assert_string_equal(s->volumes[1].source, "cache");
    assert_null(s->volumes[2].source);
    assert_string_equal(s->volumes[2].target, "/anon");
    assert_int_equal(s->volumes[3].type, COMPOSE_MOUNT_TMPFS);
    assert_int_equal(s->volumes[3].tmpfs_size, 64 * 1024 * 1024);
    assert_int_equal(s->volumes[3].tmpfs_mode, COMPOSE_UNSET);

    assert_string_equal(s->user, "1000:1000");
    assert_string_equal(s->working_dir, "/app");
    assert_int_equal(s->stop_grace_period, 90LL * 1000 * 1000 * 1000);
    assert_string_equal(s->stop_signal, "SIGINT");
    assert_string_equal(s->restart, "on-failure:3");
    assert_int_equal(s->tmpfs.n, 1);
    assert_string_equal(s->tmpfs.v[0], "/run");
    assert_int_equal(s->extra_hosts.n, 2);
    assert_string_equal(s->extra_hosts.v[0], "db.local:10.0.0.2");
    assert_string_equal(s->extra_hosts.v[1], "gw:10.0.0.1");
    assert_string_equal(s->cap_add.v[0], "NET_ADMIN");
    assert_string_equal(s->cap_drop.v[0], "ALL");
    assert_int_equal(s->n_ulimits, 2);
    assert_string_equal(s->ulimits[0].name, "nproc");
    assert_int_equal(s->ulimits[0].soft, 65535);
    assert_int_equal(s->ulimits[0].hard, 65535);
    assert_int_equal(s->ulimits[1].soft, 20000);
    assert_int_equal(s->ulimits[1].hard, 40000);
    assert_string_equal(s->container_name, "the-web");
    assert_true(s->x_ccompose.restart_on_unhealthy);
    assert_string_equal(r.p->volumes[0].name, "test_cache");
    ct_release(&r);
}

static void test_depends_on_and_healthcheck(void **state)
{
    (void)state;
    struct ct_load r;
    ct_load_text(&r,
                 "services:\n"
                 "  web:\n"
                 "    image: app\n"
                 "    depends_on:\n"
                 "      db:\n"
                 "        condition: service_healthy\n"
                 "        restart: true\n"
                 "      migrate:\n"
                 "        condition: service_completed_successfully\n"
                 "        required: false\n"
                 "  worker:\n"
                 "    image: app\n"
                 "    depends_on: [db]\n"
                 "  migrate:\n"
                 "    image: app\n"
                 "  db:\n"
                 "    image: postgres\n"
                 "    healthcheck:\n"
                 "      test: pg_isready\n"
                 "      interval: 500ms\n"
                 "      timeout: 2s\n"
                 "      retries: 5\n"
                 "      start_period: 1m\n"
                 "  nohc:\n"
                 "    image: x\n"
                 "    healthcheck:\n"
                 "      disable: true\n",
                 NULL);
    ct_assert_ok(&r);
    const struct compose_project *p = r.p;
    assert_int_equal(p->n_services, 5);
    assert_string_equal(p->services[0].name, "db"); /* sorted */
    assert_string_equal(p->services[4].name, "worker");
    const struct compose_service *web = compose_project_service(p, "web");
    assert_int_equal(web->n_depends_on, 2);
    assert_string_equal(web->depends_on[0].service, "db");
    assert_int_equal(web->depends_on[0].condition, COMPOSE_COND_HEALTHY);
    assert_true(web->depends_on[0].restart);
    assert_true(web->depends_on[0].required);
    assert_int_equal(web->depends_on[0].pos.line, 5);
    assert_int_equal(web->depends_on[1].condition, COMPOSE_COND_COMPLETED_SUCCESSFULLY);
    assert_false(web->depends_on[1].required);
    const struct compose_service *worker = compose_project_service(p, "worker");
    assert_int_equal(worker->depends_on[0].condition, COMPOSE_COND_STARTED);
    assert_true(worker->depends_on[0].required);
    assert_false(worker->depends_on[0].restart);
    const struct compose_service *db = compose_project_service(p, "db");
    assert_true(db->healthcheck.set);
    assert_int_equal(db->healthcheck.test.n, 2);
    assert_string_equal(db->healthcheck.test.v[0], "CMD-SHELL");
    assert_string_equal(db->healthcheck.test.v[1], "pg_isready");
    assert_int_equal(db->healthcheck.interval, 500LL * 1000 * 1000);
    assert_int_equal(db->healthcheck.timeout, 2LL * 1000 * 1000 * 1000);
    assert_int_equal(db->healthcheck.retries, 5);
    assert_int_equal(db->healthcheck.start_period, 60LL * 1000 * 1000 * 1000);
    assert_int_equal(db->healthcheck.start_interval, COMPOSE_UNSET);
    const struct compose_service *nohc = compose_project_service(p, "nohc");
    assert_true(nohc->healthcheck.set);
    assert_true(nohc->healthcheck.disable);
    ct_release(&r);
}

static void test_networks_and_deploy(void **state)
{
    (void)state;
    struct ct_load r;
    ct_load_text(&r,
                 "services:\n"
                 "  web:\n"
                 "    image: app\n"
                 "    networks:\n"
                 "      back:\n"
                 "        aliases: [api]\n"
                 "        ipv4_address: 172.20.0.5\n"
                 "      front:\n"
                 "        priority: 10\n"
                 "    deploy:\n"
                 "      replicas: 3\n"
                 "      resources:\n"
                 "        limits:\n"
                 "          cpus: '0.5'\n"
                 "          memory: 512M\n"
                 "          pids: 100\n"
                 "        reservations:\n"
                 "          memory: 128m\n"
                 "      restart_policy:\n"
                 "        condition: on-failure\n"
                 "        delay: 5s\n"
                 "        max_attempts: 3\n"
                 "  host:\n"
                 "    image: app\n"
                 "    network_mode: host\n"
                 "    scale: 2\n"
                 "networks:\n"
                 "  front:\n"
                 "  back:\n"
                 "    name: shared-back\n"
                 "  ext:\n"
                 "    external: true\n",
                 NULL);
    ct_assert_ok(&r);
    const struct compose_project *p = r.p;
    const struct compose_service *web = compose_project_service(p, "web");
    assert_int_equal(web->n_networks, 2);
    assert_string_equal(web->networks[0].key, "front"); /* priority first */
    assert_string_equal(web->networks[1].key, "back");
    assert_string_equal(web->networks[1].aliases.v[0], "api");
    assert_string_equal(web->networks[1].ipv4_address, "172.20.0.5");
    assert_true(web->deploy.set);
    assert_int_equal(web->deploy.replicas, 3);
    assert_int_equal(compose_service_replicas(web), 3);
    assert_true(web->deploy.limits.cpus > 0.49 && web->deploy.limits.cpus < 0.51);
    assert_int_equal(web->deploy.limits.memory, 512 * 1024 * 1024);
    assert_int_equal(web->deploy.limits.pids, 100);
    assert_int_equal(web->deploy.reservations.memory, 128 * 1024 * 1024);
    assert_int_equal(web->deploy.reservations.pids, COMPOSE_UNSET);
    assert_string_equal(web->deploy.restart_policy.condition, "on-failure");
    assert_int_equal(web->deploy.restart_policy.delay, 5LL * 1000 * 1000 * 1000);
    assert_int_equal(web->deploy.restart_policy.max_attempts, 3);
    const struct compose_service *host = compose_project_service(p, "host");
    assert_int_equal(host->n_networks, 0);
    assert_int_equal(compose_service_replicas(host), 2);
    /* No service uses the default network: it is not added. */
    assert_int_equal(p->n_networks, 3);
    assert_null(compose_project_network(p, "default"));
    const struct compose_network *back = compose_project_network(p, "back");
    assert_string_equal(back->name, "shared-back");
    assert_true(back->used);
    assert_string_equal(compose_project_network(p, "front")->name, "test_front");
    const struct compose_network *ext = compose_project_network(p, "ext");
    assert_true(ext->external);
    assert_string_equal(ext->name, "ext");
    assert_false(ext->used);
    assert_string_equal(p->networks[0].key, "back"); /* sorted */
    ct_release(&r);
}

static void test_env_file_under_environment(void **state)
{
    (void)state;
    char *dir = ct_tmpdir();
    ct_put(dir, "compose.yaml",
           "services:\n"
           "  web:\n"
           "    image: app\n"
           "    env_file:\n"
           "      - a.env\n"
           "      - path: missing.env\n"
           "        required: false\n"
           "    environment:\n"
           "      B: from-compose\n");
    ct_put(dir, "a.env", "A=1\nB=from-file\n# comment\nC=\"${HOME_DIR:-none}\"\n");
    char *file = xasprintf("%s/compose.yaml", dir);
    const char *files[] = {file};
    struct compose_load_options o = {.files = files, .n_files = 1};
    struct ct_load r;
    ct_load(&r, &o);
    ct_assert_ok(&r);
    const struct compose_service *s = &r.p->services[0];
    assert_string_equal(compose_kvv_get(&s->environment, "A"), "1");
    assert_string_equal(compose_kvv_get(&s->environment, "B"), "from-compose");
    assert_string_equal(compose_kvv_get(&s->environment, "C"), "none");
    assert_int_equal(s->env_files.n, 2);
    char *abs = xasprintf("%s/a.env", dir);
    assert_string_equal(s->env_files.v[0], abs);
    free(abs);
    ct_release(&r);
    free(file);
    ct_rmdir(dir);
    free(dir);
}

static void test_profiles(void **state)
{
    (void)state;
    static const char *const text = "services:\n"
                                    "  web:\n"
                                    "    image: app\n"
                                    "  debug:\n"
                                    "    image: busybox\n"
                                    "    profiles: [debug, tools]\n"
                                    "  other:\n"
                                    "    image: busybox\n"
                                    "    profiles: [zz]\n";
    struct ct_load r;
    ct_load_text(&r, text, NULL);
    ct_assert_ok(&r);
    assert_int_equal(r.p->n_services, 1);
    assert_int_equal(r.p->disabled_services.n, 2);
    assert_string_equal(r.p->disabled_services.v[0], "debug");
    assert_int_equal(r.p->all_profiles.n, 3);
    assert_string_equal(r.p->all_profiles.v[0], "debug");
    assert_string_equal(r.p->all_profiles.v[2], "zz");
    ct_release(&r);

    static const char *const env[] = {"COMPOSE_PROFILES=tools", NULL};
    ct_load_text(&r, text, env);
    ct_assert_ok(&r);
    assert_int_equal(r.p->n_services, 2);
    assert_non_null(compose_project_service(r.p, "debug"));
    ct_release(&r);
}

static void test_build_and_secrets(void **state)
{
    (void)state;
    struct ct_load r;
    ct_load_text(&r,
                 "services:\n"
                 "  web:\n"
                 "    build:\n"
                 "      context: ./web\n"
                 "      dockerfile: Dockerfile.dev\n"
                 "      args:\n"
                 "        - VERSION=1\n"
                 "      target: dev\n"
                 "    secrets:\n"
                 "      - token\n"
                 "      - source: cert\n"
                 "        target: server.crt\n"
                 "        mode: 0440\n"
                 "    configs:\n"
                 "      - app\n"
                 "  short:\n"
                 "    build: .\n"
                 "secrets:\n"
                 "  token:\n"
                 "    file: ./token.txt\n"
                 "  cert:\n"
                 "    environment: CERT\n"
                 "configs:\n"
                 "  app:\n"
                 "    content: hello\n",
                 NULL);
    ct_assert_ok(&r);
    const struct compose_service *web = compose_project_service(r.p, "web");
    assert_null(web->image);
    assert_non_null(web->build);
    assert_string_equal(web->build->context, "/srv/app/web");
    assert_string_equal(web->build->dockerfile, "Dockerfile.dev");
    assert_string_equal(compose_kvv_get(&web->build->args, "VERSION"), "1");
    assert_string_equal(web->build->target, "dev");
    assert_int_equal(web->n_secrets, 2);
    assert_string_equal(web->secrets[0].target, "/run/secrets/token");
    assert_int_equal(web->secrets[0].mode, COMPOSE_UNSET);
    assert_string_equal(web->secrets[1].target, "/run/secrets/server.crt");
    assert_int_equal(web->secrets[1].mode, 0440);
    assert_string_equal(web->configs[0].target, "/app");
    assert_string_equal(compose_project_service(r.p, "short")->build->context, "/srv/app");
    assert_int_equal(r.p->n_secrets, 2);
    assert_string_equal(r.p->secrets[0].key, "cert");
    assert_string_equal(r.p->secrets[1].file, "/srv/app/token.txt");
    assert_string_equal(r.p->secrets[1].name, "test_token");
    assert_string_equal(r.p->configs[0].content, "hello");
    ct_release(&r);
}

static void test_version_warns(void **state)
{
    (void)state;
    struct ct_load r;
    ct_load_text(&r, "version: '3.8'\nservices:\n  web:\n    image: x\n", NULL);
    ct_assert_ok(&r);
    assert_int_equal(r.diag.n_warnings, 1);
    assert_non_null(strstr(r.diag.warnings[0].message, "obsolete"));
    assert_int_equal(r.diag.warnings[0].line, 1);
    assert_int_equal(r.diag.warnings[0].col, 1);
    ct_release(&r);
}

static void test_implicit_dependencies(void **state)
{
    (void)state;
    struct ct_load r;
    ct_load_text(&r,
                 "services:\n"
                 "  app:\n"
                 "    image: x\n"
                 "    links: ['db:database']\n"
                 "    volumes_from: [data]\n"
                 "    pull_policy: if_not_present\n"
                 "    depends_on:\n"
                 "      db: {condition: service_healthy}\n"
                 "  side:\n"
                 "    image: x\n"
                 "    network_mode: service:app\n"
                 "  db:\n"
                 "    image: x\n"
                 "  data:\n"
                 "    image: x\n",
                 NULL);
    ct_assert_ok(&r);
    const struct compose_service *app = compose_project_service(r.p, "app");
    assert_int_equal(app->n_depends_on, 2);
    assert_int_equal(app->depends_on[0].condition, COMPOSE_COND_HEALTHY); /* declared wins */
    assert_string_equal(app->depends_on[1].service, "data");
    assert_false(app->depends_on[1].restart);
    assert_string_equal(app->pull_policy, "missing");
    const struct compose_service *side = compose_project_service(r.p, "side");
    assert_int_equal(side->n_depends_on, 1);
    assert_string_equal(side->depends_on[0].service, "app");
    assert_true(side->depends_on[0].restart);
    assert_true(side->depends_on[0].required);
    ct_release(&r);
}

static const char *const positions_text = "services:\n"
                                          "  web:\n"
                                          "    image: x\n"
                                          "    build: .\n"
                                          "    ports: ['80']\n"
                                          "    volumes: [v:/v]\n"
                                          "    depends_on: [db]\n"
                                          "    networks: [n]\n"
                                          "    secrets: [s]\n"
                                          "    configs: [c]\n"
                                          "    healthcheck: {test: 'true'}\n"
                                          "    profiles: ['*x']\n"
                                          "  db:\n"
                                          "    image: x\n"
                                          "networks: {n: {}}\n"
                                          "volumes: {v: {}}\n"
                                          "secrets: {s: {file: ./s}}\n"
                                          "configs: {c: {file: ./c}}\n";

static void test_positions(void **state)
{
    (void)state;
    struct ct_load r;
    ct_load_text(&r, positions_text, NULL);
    ct_assert_ok(&r);
    assert_int_equal(r.p->n_services, 1); /* web's profile is not enabled */
    assert_string_equal(r.p->disabled_services.v[0], "web");
    ct_release(&r);

    static const char *const all[] = {"COMPOSE_PROFILES=*", NULL};
    ct_load_text(&r, positions_text, all);
    ct_assert_ok(&r);
    const struct compose_service *web = compose_project_service(r.p, "web");
    assert_non_null(web);
    struct {
        struct compose_pos pos;
        int line, col;
    } want[] = {
        {web->pos, 2, 3},
        {web->build->pos, 4, 12},
        {web->ports[0].pos, 5, 13},
        {web->volumes[0].pos, 6, 15},
        {web->depends_on[0].pos, 7, 18},
        {web->networks[0].pos, 8, 16},
        {web->secrets[0].pos, 9, 15},
        {web->configs[0].pos, 10, 15},
        {web->healthcheck.pos, 11, 18},
        {compose_project_network(r.p, "n")->pos, 15, 12},
        {r.p->volumes[0].pos, 16, 11},
        {r.p->secrets[0].pos, 17, 11},
        {r.p->configs[0].pos, 18, 11},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        if (want[i].pos.line != want[i].line || want[i].pos.col != want[i].col)
            fail_msg("position %zu: %d:%d, want %d:%d", i, want[i].pos.line, want[i].pos.col,
                     want[i].line, want[i].col);
        assert_string_equal(want[i].pos.file, "-");
    }
    ct_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_defaults),
        cmocka_unit_test(test_scheduler_fields),
        cmocka_unit_test(test_depends_on_and_healthcheck),
        cmocka_unit_test(test_networks_and_deploy),
        cmocka_unit_test(test_env_file_under_environment),
        cmocka_unit_test(test_profiles),
        cmocka_unit_test(test_build_and_secrets),
        cmocka_unit_test(test_version_warns),
        cmocka_unit_test(test_implicit_dependencies),
        cmocka_unit_test(test_positions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
