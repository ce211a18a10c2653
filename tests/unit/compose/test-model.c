/* The model's accessors (compose/model.c) on models made by tests/lib/model-builder.c, and the
 * builder's defaults, which other tests rely on looking like a loaded model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "tests/lib/model-builder.h"

static void test_kvv_get(void **state)
{
    (void)state;
    struct compose_project *p = mb_project_new("demo", "/srv/demo");
    struct compose_kvv kvv = {0};
    mb_kv_set(p, &kvv, "A", "1");
    mb_kv_set(p, &kvv, "UNSET", NULL);
    mb_kv_set(p, &kvv, "B", "2");
    mb_kv_set(p, &kvv, "A", "3"); /* replaces in place, keeps file order */
    assert_int_equal(kvv.n, 3);
    assert_string_equal(kvv.v[0].key, "A");
    assert_string_equal(compose_kvv_get(&kvv, "A"), "3");
    assert_string_equal(compose_kvv_get(&kvv, "B"), "2");
    assert_null(compose_kvv_get(&kvv, "UNSET"));
    assert_null(compose_kvv_get(&kvv, "C"));
    compose_project_free(p);
}

static void test_replicas(void **state)
{
    (void)state;
    struct compose_project *p = mb_project_new("demo", "/srv/demo");
    struct compose_service *s = mb_service_add(p, "web", "nginx");
    assert_int_equal(compose_service_replicas(s), 1);
    s->deploy.replicas = 3;
    assert_int_equal(compose_service_replicas(s), 3);
    s->scale = 0;
    assert_int_equal(compose_service_replicas(s), 0);
    compose_project_free(p);
}

static void test_lookups_and_done(void **state)
{
    (void)state;
    struct compose_project *p = mb_project_new("demo", "/srv/demo");
    struct compose_service *web = mb_service_add(p, "web", "nginx");
    mb_service_network(p, web, "front");
    mb_service_add(p, "db", "postgres");
    struct compose_service *host = mb_service_add(p, "host", "busybox");
    host->network_mode = "host";
    mb_network_add(p, "front");
    mb_network_add(p, "unused");
    mb_volume_add(p, "data");
    mb_project_done(p);

    assert_string_equal(p->services[0].name, "db"); /* sorted */
    const struct compose_service *db = compose_project_service(p, "db");
    assert_ptr_equal(db, &p->services[0]);
    assert_int_equal(db->n_networks, 1); /* the implicit default */
    assert_string_equal(db->networks[0].key, "default");
    assert_int_equal(compose_project_service(p, "web")->n_networks, 1);
    assert_string_equal(compose_project_service(p, "web")->networks[0].key, "front");
    assert_int_equal(compose_project_service(p, "host")->n_networks, 0);
    assert_null(compose_project_service(p, "nope"));

    assert_int_equal(p->n_networks, 3);
    assert_string_equal(compose_project_network(p, "default")->name, "demo_default");
    assert_true(compose_project_network(p, "default")->used);
    assert_true(compose_project_network(p, "front")->used);
    assert_false(compose_project_network(p, "unused")->used);
    assert_null(compose_project_network(p, "nope"));
    assert_string_equal(compose_project_volume(p, "data")->name, "demo_data");
    assert_null(compose_project_volume(p, "nope"));

    assert_int_equal(db->stop_grace_period, COMPOSE_UNSET);
    assert_int_equal(db->healthcheck.retries, COMPOSE_UNSET);
    assert_int_equal(db->mem_limit, COMPOSE_UNSET);
    assert_int_equal(db->deploy.limits.memory, COMPOSE_UNSET);
    compose_project_free(p);
    compose_project_free(NULL);
}

static void test_builder_lists(void **state)
{
    (void)state;
    struct compose_project *p = mb_project_new("demo", "/srv/demo");
    struct compose_service *s = mb_service_add(p, "web", "nginx");
    mb_command(p, s, NULL);
    assert_true(s->has_command);
    assert_int_equal(s->command.n, 0);
    mb_entrypoint(p, s, "sh", "-c", NULL);
    assert_int_equal(s->entrypoint.n, 2);
    assert_string_equal(s->entrypoint.v[1], "-c");
    struct compose_mount *m = mb_mount_add(p, s, COMPOSE_MOUNT_BIND, "/src", "/dst");
    assert_true(m->create_host_path);
    assert_int_equal(m->tmpfs_size, COMPOSE_UNSET);
    assert_string_equal(mb_port_add(p, s, 80, NULL, NULL, NULL)->protocol, "tcp");
    assert_true(mb_healthcheck(p, s, "NONE", NULL)->disable);
    assert_string_equal(mb_service_secret(p, s, "tok", NULL)->target, "/run/secrets/tok");
    assert_string_equal(mb_service_config(p, s, "conf", NULL)->target, "/conf");
    assert_string_equal(p->config_files.v[0], "/srv/demo/compose.yaml");
    compose_project_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kvv_get),
        cmocka_unit_test(test_replicas),
        cmocka_unit_test(test_lookups_and_done),
        cmocka_unit_test(test_builder_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
