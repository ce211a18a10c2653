/* Names on the engine: docker compose v2's, so each finds the other's resources. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "scheduler/scheduler-internal.h"
#include "tests/lib/model-builder.h"

static void test_container_names(void **state)
{
    (void)state;
    struct compose_project *p = mb_project_new("shop", "/srv/shop");
    struct compose_service *web = mb_service_add(p, "web", "nginx");
    struct compose_service *db = mb_service_add(p, "db", "postgres");
    db->container_name = "the-db";
    char *n1 = sched_container_name(p, web, 1), *n12 = sched_container_name(p, web, 12);
    char *nd = sched_container_name(p, db, 1);
    assert_string_equal(n1, "shop-web-1");
    assert_string_equal(n12, "shop-web-12");
    assert_string_equal(nd, "the-db");
    free(n1);
    free(n12);
    free(nd);
    compose_project_free(p);
}

static void test_image_names(void **state)
{
    (void)state;
    struct compose_project *p = mb_project_new("shop", "/srv/shop");
    struct compose_service *web = mb_service_add(p, "web", "nginx:1.25");
    struct compose_service *api = mb_service_add(p, "api", NULL);
    char *a = sched_image_name(p, web), *b = sched_image_name(p, api);
    assert_string_equal(a, "nginx:1.25");
    assert_string_equal(b, "shop-api");
    free(a);
    free(b);
    compose_project_free(p);
}

static void test_network_volume_names(void **state)
{
    (void)state;
    struct compose_project *p = mb_project_new("shop", "/srv/shop");
    struct compose_network *front = mb_network_add(p, "front");
    struct compose_network *ext = mb_network_add(p, "ext");
    ext->name = "shared-net";
    ext->external = true;
    struct compose_volume *data = mb_volume_add(p, "data");
    assert_string_equal(sched_network_name(front), "shop_front");
    assert_string_equal(sched_network_name(ext), "shared-net");
    assert_string_equal(sched_volume_name(data), "shop_data");
    compose_project_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_container_names),
        cmocka_unit_test(test_image_names),
        cmocka_unit_test(test_network_volume_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
