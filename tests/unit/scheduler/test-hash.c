/* The config hash changes exactly when something that reaches the container changes: each of
 * several fields changed gives a new hash; build, replicas, depends_on, profiles and the order of
 * environment entries do not. */
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

/* One service with a setting in every family the hash must see. env_reversed writes the
 * environment in the other order. */
static struct compose_project *make(bool env_reversed)
{
    struct compose_project *p = mb_project_new("shop", "/srv/shop");
    struct compose_service *s = mb_service_add(p, "web", "nginx");
    mb_command(p, s, "nginx", "-g", "daemon off;", NULL);
    if (env_reversed) {
        mb_kv_set(p, &s->environment, "B", "2");
        mb_kv_set(p, &s->environment, "A", "1");
    } else {
        mb_kv_set(p, &s->environment, "A", "1");
        mb_kv_set(p, &s->environment, "B", "2");
    }
    mb_kv_set(p, &s->labels, "tier", "front");
    mb_port_add(p, s, 80, "8080", NULL, NULL);
    mb_mount_add(p, s, COMPOSE_MOUNT_VOLUME, "data", "/data");
    mb_healthcheck(p, s, "CMD", "true", NULL)->interval = 1000000000;
    mb_strv_add(p, &mb_service_network(p, s, "front")->aliases, "www");
    mb_strv_add(p, &mb_service_network(p, s, "back")->aliases, "api");
    mb_depends_on(p, s, "db", COMPOSE_COND_STARTED);
    mb_service_add(p, "db", "postgres");
    mb_network_add(p, "front");
    mb_network_add(p, "back");
    mb_volume_add(p, "data");
    mb_project_done(p);
    return p;
}

static struct compose_service *web(struct compose_project *p)
{
    return (struct compose_service *)compose_project_service(p, "web");
}

static char *hash_of(struct compose_project *p)
{
    char *h = sched_config_hash(p, web(p));
    assert_non_null(h);
    return h;
}

static void test_equal_models_equal_hash(void **state)
{
    (void)state;
    struct compose_project *a = make(false), *b = make(false), *r = make(true);
    char *ha = hash_of(a), *hb = hash_of(b), *hr = hash_of(r);
    assert_int_equal(strlen(ha), 64);
    assert_int_equal(strspn(ha, "0123456789abcdef"), 64);
    assert_string_equal(ha, hb);
    assert_string_equal(ha, hr); /* the environment is a map */
    free(ha);
    free(hb);
    free(hr);
    compose_project_free(a);
    compose_project_free(b);
    compose_project_free(r);
}

enum change {
    CH_ENV_VALUE,
    CH_IMAGE,
    CH_COMMAND,
    CH_PORT,
    CH_LABEL,
    CH_MOUNT,
    CH_HEALTH_INTERVAL,
    CH_NETWORK_ALIAS,
    CH_VOLUME_NAME,
    CH_MEMORY,
    CH_CONTAINER_NAME,
    CH_SECOND_NETWORK_ALIAS,
    CH_MEM_SWAPPINESS,
    CH_RUNTIME,
    CH_BLKIO_WEIGHT,
    CH_GPUS,
    CH_CGROUP_RULE,
    CH_COUNT,
};

static void apply(struct compose_project *p, enum change ch)
{
    struct compose_service *s = web(p);
    switch (ch) {
    case CH_ENV_VALUE:
        s->environment.v[0].value = "changed";
        break;
    case CH_IMAGE:
        s->image = "nginx:1.25";
        break;
    case CH_COMMAND:
        s->command.n = 1;
        break;
    case CH_PORT:
        s->ports[0].published = "8081";
        break;
    case CH_LABEL:
        s->labels.v[0].value = "back";
        break;
    case CH_MOUNT:
        s->volumes[0].read_only = true;
        break;
    case CH_HEALTH_INTERVAL:
        s->healthcheck.interval = 2000000000;
        break;
    case CH_NETWORK_ALIAS:
        s->networks[0].aliases.v[0] = "web2";
        break;
    case CH_VOLUME_NAME:
        ((struct compose_volume *)compose_project_volume(p, "data"))->name = "other";
        break;
    case CH_MEMORY:
        s->mem_limit = 1 << 26;
        break;
    case CH_CONTAINER_NAME:
        s->container_name = "fixed";
        break;
    case CH_SECOND_NETWORK_ALIAS:
        s->networks[1].aliases.v[0] = "api2";
        break;
    case CH_MEM_SWAPPINESS:
        s->mem_swappiness = 0;
        break;
    case CH_RUNTIME:
        s->runtime = "runsc";
        break;
    case CH_BLKIO_WEIGHT:
        s->blkio_config.weight = 500;
        break;
    case CH_GPUS: {
        struct compose_device_request *g = arena_alloc(&p->arena, sizeof(*g));
        g->count_all = true;
        g->count = COMPOSE_UNSET;
        s->gpus = g;
        s->n_gpus = 1;
        break;
    }
    case CH_CGROUP_RULE:
        mb_strv_add(p, &s->device_cgroup_rules, "c 1:3 mr");
        break;
    case CH_COUNT:
        break;
    }
}

static void test_each_change_changes_hash(void **state)
{
    (void)state;
    struct compose_project *base = make(false);
    char *h0 = hash_of(base);
    for (int ch = 0; ch < CH_COUNT; ch++) {
        struct compose_project *p = make(false);
        apply(p, (enum change)ch);
        char *h = hash_of(p);
        if (!strcmp(h, h0))
            fail_msg("change %d left the hash as it was", ch);
        free(h);
        compose_project_free(p);
    }
    free(h0);
    compose_project_free(base);
}

static void test_excluded_fields_keep_hash(void **state)
{
    (void)state;
    struct compose_project *base = make(false), *p = make(false);
    char *h0 = hash_of(base);
    struct compose_service *s = web(p);
    s->deploy.replicas = 3;
    s->scale = 3;
    s->depends_on[0].condition = COMPOSE_COND_HEALTHY;
    s->n_depends_on = 0;
    struct compose_build *build = arena_alloc(&p->arena, sizeof(*build));
    build->context = "/srv/shop";
    s->build = build;
    mb_strv_add(p, &s->profiles, "debug");
    s->pull_policy = "always";
    s->attach = COMPOSE_TRI_FALSE; /* which logs `up` shows, not the container */
    s->has_develop = true;
    mb_strv_add(p, &p->config_files, "/srv/shop/other.yaml");
    char *h = hash_of(p);
    assert_string_equal(h, h0);
    /* Scaling a linked service does not recreate this one either. */
    mb_strv_add(p, &s->links, "db");
    char *hl = hash_of(p);
    ((struct compose_service *)compose_project_service(p, "db"))->scale = 4;
    char *hl4 = hash_of(p);
    assert_string_equal(hl, hl4);
    free(hl);
    free(hl4);
    free(h);
    free(h0);
    compose_project_free(base);
    compose_project_free(p);
}

/* The hash is what lands in the config-hash label, for every container of the service. */
static void test_label_carries_hash(void **state)
{
    (void)state;
    struct compose_project *p = make(false);
    char *h = hash_of(p);
    for (int n = 1; n <= 2; n++) {
        json_t *b = sched_container_body(p, web(p), n, n == 1 ? "sha256:1" : NULL, NULL);
        assert_non_null(b);
        assert_string_equal(json_string_value(json_object_get(json_object_get(b, "Labels"),
                                                              SCHED_LABEL_CONFIG_HASH)),
                            h);
        json_decref(b);
    }
    free(h);
    compose_project_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equal_models_equal_hash),
        cmocka_unit_test(test_each_change_changes_hash),
        cmocka_unit_test(test_excluded_fields_keep_hash),
        cmocka_unit_test(test_label_carries_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
