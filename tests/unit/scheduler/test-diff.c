/* A recreate's reason names what differs: the container's inspect is made from the body of the
 * service as it was (plus what an engine adds: the image's environment, labels and command, and
 * defaults in HostConfig), then compared with the service as it is now. Nothing changed says
 * nothing; a secret's value is never shown; the image's own settings are not the service's. */
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

/* The web service; level and password its environment, port its published port (NULL: none). */
static struct compose_project *make(const char *level, const char *password, const char *port)
{
    struct compose_project *p = mb_project_new("shop", "/srv/shop");
    struct compose_service *s = mb_service_add(p, "web", "nginx");
    mb_command(p, s, "nginx", "-g", "daemon off;", NULL);
    mb_kv_set(p, &s->environment, "LEVEL", level);
    mb_kv_set(p, &s->environment, "DB_PASSWORD", password);
    mb_kv_set(p, &s->labels, "tier", "front");
    if (port)
        mb_port_add(p, s, 80, port, NULL, NULL);
    mb_project_done(p);
    return p;
}

static json_t *image_config(void)
{
    return json_pack("{s:[s], s:{s:s}, s:[s]}", "Env", "PATH=/usr/bin", "Labels", "maintainer",
                     "nginx", "Cmd", "nginx");
}

/* What the engine would show of a container made from p's body: the image's environment and
 * labels merged in, defaults added to HostConfig. new. */
static json_t *inspect_of(struct compose_project *p)
{
    struct cc_error err = CC_ERROR_INIT;
    json_t *body = sched_container_body(p, &p->services[0], 1, NULL, &err);
    assert_non_null(body);
    json_t *host = json_incref(json_object_get(body, "HostConfig"));
    json_object_del(body, "HostConfig");
    json_object_del(body, "NetworkingConfig");
    json_array_append_new(json_object_get(body, "Env"), json_string("PATH=/usr/bin"));
    json_object_set_new(json_object_get(body, "Labels"), "maintainer", json_string("nginx"));
    json_object_set_new(host, "ShmSize", json_integer(67108864));
    json_object_set_new(host, "LogConfig", json_pack("{s:s, s:{}}", "Type", "json-file", "Config"));
    return json_pack("{s:o, s:o}", "Config", body, "HostConfig", host);
}

static char *diff(struct compose_project *now, json_t *inspect)
{
    json_t *img = image_config();
    char *d = sched_config_diff(now, &now->services[0], 1, inspect, img);
    json_decref(img);
    return d;
}

static void test_nothing_changed_says_nothing(void **state)
{
    (void)state;
    struct compose_project *p = make("one", "hunter2", "8080");
    json_t *inspect = inspect_of(p);
    assert_null(diff(p, inspect));
    json_decref(inspect);
    compose_project_free(p);
}

static void test_names_the_fields(void **state)
{
    (void)state;
    struct compose_project *was = make("one", "hunter2", "8080");
    json_t *inspect = inspect_of(was);
    struct compose_project *now = make("two", "hunter2", "8080");
    char *d = diff(now, inspect);
    assert_string_equal(d, "environment.LEVEL: \"one\" -> \"two\"");
    free(d);
    compose_project_free(now);

    /* A secret says only that it changed; a port taken away shows as unset. */
    now = make("one", "hunter3", NULL);
    d = diff(now, inspect);
    assert_non_null(d);
    assert_null(strstr(d, "hunter"));
    assert_non_null(strstr(d, "environment.DB_PASSWORD: changed"));
    assert_non_null(strstr(d, "ports: {\"80/tcp\":"));
    assert_non_null(strstr(d, "-> (unset)"));
    free(d);
    compose_project_free(now);
    json_decref(inspect);
    compose_project_free(was);
}

static void test_many_fields_are_counted(void **state)
{
    (void)state;
    struct compose_project *was = make("one", "hunter2", "8080");
    json_t *inspect = inspect_of(was);
    struct compose_project *now = make("two", "hunter3", "9090");
    struct compose_service *s = &now->services[0];
    mb_command(now, s, "nginx", "-t", NULL);
    mb_kv_set(now, &s->labels, "tier", "back");
    char *d = diff(now, inspect);
    assert_non_null(d);
    assert_non_null(strstr(d, " and 2 more"));
    free(d);
    compose_project_free(now);
    json_decref(inspect);
    compose_project_free(was);
}

/* What Podman's inspect reports its own way is no change: Attach* false, NetworkMode "bridge" for
 * a container on the project's network, and ulimits of its own next to the service's. A ulimit
 * the service changed still shows. */
static void test_engine_reporting_is_no_change(void **state)
{
    (void)state;
    struct compose_project *p = make("one", "hunter2", "8080");
    mb_ulimit_add(p, &p->services[0], "nofile", 1024, 2048);
    json_t *inspect = inspect_of(p);
    json_t *config = json_object_get(inspect, "Config");
    json_t *host = json_object_get(inspect, "HostConfig");
    /* A copy: the inspect's own string goes when NetworkMode is set to "bridge" below. */
    char *net = xstrdup(json_string_value(json_object_get(host, "NetworkMode")));
    assert_string_not_equal(net, "bridge");
    json_object_set_new(inspect, "NetworkSettings",
                        json_pack("{s:{s:{}}}", "Networks", net));
    json_object_set_new(host, "NetworkMode", json_string("bridge"));
    json_object_set_new(config, "AttachStdout", json_false());
    json_object_set_new(config, "AttachStderr", json_false());
    json_array_append_new(json_object_get(host, "Ulimits"),
                          json_pack("{s:s, s:i, s:i}", "Name", "nproc", "Soft", 32768, "Hard", 32768));
    assert_null(diff(p, inspect));

    /* On another network than the service's, or with its ulimit changed: a change. */
    json_object_set_new(inspect, "NetworkSettings",
                        json_pack("{s:{s:{}}}", "Networks", "elsewhere"));
    char *d = diff(p, inspect);
    assert_non_null(d);
    assert_non_null(strstr(d, "network_mode: \"bridge\" -> "));
    free(d);
    json_object_set_new(inspect, "NetworkSettings",
                        json_pack("{s:{s:{}}}", "Networks", net));
    json_object_set_new(json_array_get(json_object_get(host, "Ulimits"), 0), "Soft",
                        json_integer(512));
    d = diff(p, inspect);
    assert_non_null(d);
    assert_non_null(strstr(d, "ulimits: "));
    free(d);
    free(net);
    json_decref(inspect);
    compose_project_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_changed_says_nothing),
        cmocka_unit_test(test_names_the_fields),
        cmocka_unit_test(test_many_fields_are_counted),
        cmocka_unit_test(test_engine_reporting_is_no_change),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
