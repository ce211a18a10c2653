/* Podman's answers made Docker's (podman.c): error statuses, events, inspect and list results,
 * image names and the create body. The inputs are what Podman 4.3 sends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "engine-client/engine-internal.h"

static json_t *parse(const char *s)
{
    json_t *v = json_loads(s, 0, NULL);
    assert_non_null(v);
    return v;
}

static const char *str_at(json_t *v, const char *k1, const char *k2)
{
    json_t *o = json_object_get(v, k1);
    return json_string_value(k2 ? json_object_get(o, k2) : o);
}

static void test_conflicts_are_409(void **state)
{
    (void)state;
    json_t *name = parse("{\"cause\":\"that name is already in use\",\"response\":500}");
    json_t *running = parse("{\"cause\":\"container state improper\",\"response\":500}");
    json_t *net = parse("{\"cause\":\"network is being used\",\"response\":500}");
    json_t *other = parse("{\"cause\":\"something broke\",\"response\":500}");
    assert_int_equal(engine_podman_error_status(500, name), 409);
    assert_int_equal(engine_podman_error_status(500, running), 409);
    assert_int_equal(engine_podman_error_status(500, net), 409);
    assert_int_equal(engine_podman_error_status(500, other), 500);
    assert_int_equal(engine_podman_error_status(404, name), 404);
    assert_int_equal(engine_podman_error_status(500, NULL), 500);
    json_decref(name);
    json_decref(running);
    json_decref(net);
    json_decref(other);
}

static json_t *event(const char *action, const char *health)
{
    json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:{s:s}}}", "status", action, "id", "c1",
                           "Action", action, "from", "localhost/app:1", "Actor", "ID", "c1",
                           "Attributes", "image", "docker.io/library/debian:12");
    if (health)
        json_object_set_new(ev, "HealthStatus", json_string(health));
    return ev;
}

static void test_events_as_docker_sends_them(void **state)
{
    (void)state;
    json_t *seen = json_object();
    json_t *ev = event("remove", NULL);
    assert_true(engine_podman_fix_event(seen, ev));
    assert_string_equal(str_at(ev, "Action", NULL), "destroy");
    assert_string_equal(str_at(ev, "status", NULL), "destroy");
    assert_string_equal(str_at(ev, "from", NULL), "app:1");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(ev, "Actor"), "Attributes"), "image")),
                        "debian:12");
    json_decref(ev);

    ev = event("cleanup", NULL);
    assert_false(engine_podman_fix_event(seen, ev));
    json_decref(ev);

    /* Every probe sends its status: only changes pass, "starting" never. */
    const char *statuses[] = {"starting",  "healthy",   "healthy",
                              "unhealthy", "unhealthy", "healthy"};
    const bool passes[] = {false, true, false, true, false, true};
    for (size_t i = 0; i < CC_ARRAY_LEN(statuses); i++) {
        ev = event("health_status", statuses[i]);
        assert_int_equal(engine_podman_fix_event(seen, ev), passes[i]);
        if (passes[i]) {
            char *want = xasprintf("health_status: %s", statuses[i]);
            assert_string_equal(str_at(ev, "Action", NULL), want);
            assert_null(json_object_get(ev, "HealthStatus"));
            free(want);
        }
        json_decref(ev);
    }
    /* A new run reports its status afresh. */
    ev = event("start", NULL);
    assert_true(engine_podman_fix_event(seen, ev));
    json_decref(ev);
    ev = event("health_status", "healthy");
    assert_true(engine_podman_fix_event(seen, ev));
    json_decref(ev);
    json_decref(seen);
}

static void test_results_as_docker_answers(void **state)
{
    (void)state;
    json_t *ct = parse("{\"Config\":{\"Image\":\"localhost/ccompose-test/busybox:latest\"},"
                       "\"State\":{\"Status\":\"stopped\",\"Health\":{\"Status\":\"\"}}}");
    engine_podman_fix_result("GET", "/containers/abc/json", ct);
    assert_string_equal(str_at(ct, "Config", "Image"), "ccompose-test/busybox:latest");
    assert_string_equal(str_at(ct, "State", "Status"), "exited");
    assert_null(json_object_get(json_object_get(ct, "State"), "Health"));
    json_decref(ct);

    json_t *list = parse("[{\"Image\":\"docker.io/library/debian:bookworm-slim\","
                         "\"State\":\"stopped\"}]");
    engine_podman_fix_result("GET", "/containers/json?all=1&filters=%7B%7D", list);
    assert_string_equal(str_at(json_array_get(list, 0), "Image", NULL), "debian:bookworm-slim");
    assert_string_equal(str_at(json_array_get(list, 0), "State", NULL), "exited");
    json_decref(list);

    json_t *img = parse("{\"RepoTags\":[\"localhost/team/app:1\",\"docker.io/redis:7\"]}");
    engine_podman_fix_result("GET", "/images/team/app:1/json", img);
    assert_string_equal(json_string_value(json_array_get(json_object_get(img, "RepoTags"), 0)),
                        "team/app:1");
    assert_string_equal(json_string_value(json_array_get(json_object_get(img, "RepoTags"), 1)),
                        "redis:7");
    json_decref(img);

    /* A registry's name stays: only Podman's own prefixes go. */
    assert_string_equal(engine_image_name_short("127.0.0.1:5000/app:1"), "127.0.0.1:5000/app:1");
    assert_string_equal(engine_image_name_short("localhost/"), "localhost/");
}

static void test_create_gets_docker_stop_timeout(void **state)
{
    (void)state;
    char *b = engine_podman_fix_create("/containers/create?name=x", "{\"Image\":\"a\"}");
    assert_non_null(b);
    json_t *v = parse(b);
    assert_int_equal(json_integer_value(json_object_get(v, "StopTimeout")), 10);
    json_decref(v);
    free(b);
    assert_null(engine_podman_fix_create("/containers/create", "{\"StopTimeout\":3}"));
    /* A CMD check with spaces in an argument: Podman would split it, so it goes as CMD-SHELL. */
    b = engine_podman_fix_create("/containers/create",
                                 "{\"StopTimeout\":3,\"Healthcheck\":{\"Test\":[\"CMD\",\"sh\","
                                 "\"-c\",\"echo it's; exit 1\"]}}");
    assert_non_null(b);
    v = parse(b);
    json_t *test = json_object_get(json_object_get(v, "Healthcheck"), "Test");
    assert_string_equal(json_string_value(json_array_get(test, 0)), "CMD-SHELL");
    assert_string_equal(json_string_value(json_array_get(test, 1)),
                        "exec 'sh' '-c' 'echo it'\\''s; exit 1'");
    json_decref(v);
    free(b);
    assert_null(engine_podman_fix_create(
        "/containers/create",
        "{\"StopTimeout\":3,\"Healthcheck\":{\"Test\":[\"CMD\",\"test\",\"-f\",\"/ok\"]}}"));
    assert_null(engine_podman_fix_create("/networks/create", "{\"Name\":\"n\"}"));
}

static void test_build_steps_as_docker_prints_them(void **state)
{
    (void)state;
    json_t *item =
        json_pack("{s:s}", "stream", "STEP 2/4: RUN echo b > /b\n--> Using cache 1f82\nother\n");
    engine_podman_fix_build_item(item);
    assert_string_equal(str_at(item, "stream", NULL),
                        "Step 2/4 : RUN echo b > /b\n ---> Using cache 1f82\nother\n");
    json_decref(item);
    item =
        json_pack("{s:s, s:{s:s}}", "error",
                  "building at STEP \"RUN echo x; exit 9\": while running runtime: exit status 9",
                  "errorDetail", "message", "same");
    engine_podman_fix_build_item(item);
    assert_string_equal(str_at(item, "error", NULL),
                        "The command '/bin/sh -c echo x; exit 9' returned a non-zero code: 9");
    assert_string_equal(str_at(item, "errorDetail", "message"), str_at(item, "error", NULL));
    json_decref(item);
}

/* A replay with until= is asked for without it and read to the end (Podman would stop reading at
 * until's wall-clock time, read or not); the events after until are dropped here. */
static void test_events_until_read_to_the_end(void **state)
{
    (void)state;
    long long until = -1;
    char *p = engine_podman_fix_events_path("/events?since=100&until=200&filters=%7B%7D", &until);
    assert_string_equal(p, "/events?since=100&filters=%7B%7D&stream=false");
    assert_true(until == 200000000000LL);
    free(p);
    p = engine_podman_fix_events_path("/events?until=200.5", &until);
    assert_string_equal(p, "/events?stream=false");
    assert_true(until == 200500000000LL);
    free(p);
    p = engine_podman_fix_events_path("/events?until=200&since=100", &until);
    assert_string_equal(p, "/events?since=100&stream=false");
    free(p);
    /* Nothing to do without until, or with one that is not a Unix time, or on other paths. */
    assert_null(engine_podman_fix_events_path("/events?since=100", &until));
    assert_true(until == 0);
    assert_null(engine_podman_fix_events_path("/events?until=10m", &until));
    assert_null(engine_podman_fix_events_path("/containers/json?until=200", &until));
    json_t *ev = parse("{\"Action\":\"start\",\"time\":200,\"timeNano\":200000000001}");
    assert_true(engine_podman_event_after(ev, 200000000000LL));
    assert_false(engine_podman_event_after(ev, 200000000001LL));
    assert_false(engine_podman_event_after(ev, 0));
    json_object_del(ev, "timeNano");
    assert_false(engine_podman_event_after(ev, 200000000000LL));
    assert_true(engine_podman_event_after(ev, 199000000000LL));
    json_decref(ev);
}

/* The stream Podman 4.3 sent for a pull of an image whose base layer was here: the layer and
 * config blobs, then the end (a second "Download complete", for the image's ID). */
static void test_pull_progress_as_docker_sends_it(void **state)
{
    (void)state;
    static const char *const stream[] = {
        "{\"status\":\"Already exists\",\"progressDetail\":{},\"id\":\"a04ef678e2b5\"}",
        "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"443aaabfe3f9\"}",
        "{\"status\":\"Download complete\",\"progressDetail\":{},\"id\":\"443aaabfe3f9\"}",
        "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"1ca32cc9e459\"}",
        "{\"status\":\"Download complete\",\"progressDetail\":{},\"id\":\"1ca32cc9e459\"}",
    };
    const char *path = "/images/create?fromImage=127.0.0.1%3A5000%2Fp%2Fbig&tag=1";
    json_t *done = json_object();
    for (size_t i = 0; i < sizeof(stream) / sizeof(stream[0]); i++) {
        json_t *item = parse(stream[i]);
        assert_null(engine_podman_fix_pull_item(done, path, item));
        json_decref(item);
    }
    json_t *end = parse(stream[4]);
    json_t *out = engine_podman_fix_pull_item(done, path, end);
    assert_int_equal(json_array_size(out), 2);
    /* The layer is complete; the config blob is no layer. */
    assert_string_equal(str_at(json_array_get(out, 0), "status", NULL), "Pull complete");
    assert_string_equal(str_at(json_array_get(out, 0), "id", NULL), "443aaabfe3f9");
    assert_string_equal(str_at(json_array_get(out, 1), "status", NULL),
                        "Status: Downloaded newer image for 127.0.0.1:5000/p/big:1");
    assert_null(json_object_get(json_array_get(out, 1), "id"));
    json_decref(out);
    json_decref(end);
    json_decref(done);

    /* Every layer here already: only the config came, and the image is as it was. */
    done = json_object();
    json_t *cfg = parse(stream[4]);
    assert_null(engine_podman_fix_pull_item(done, "/images/create?fromImage=x&tag=", cfg));
    out = engine_podman_fix_pull_item(done, "/images/create?fromImage=x&tag=", cfg);
    assert_int_equal(json_array_size(out), 1);
    assert_string_equal(str_at(json_array_get(out, 0), "status", NULL),
                        "Status: Image is up to date for x");
    json_decref(out);
    json_decref(cfg);
    json_decref(done);

    assert_int_equal(engine_podman_pull_error_kind(
                         "initializing source docker://127.0.0.1:5000/p/x:1: reading manifest 1 in "
                         "127.0.0.1:5000/p/x: manifest unknown: manifest unknown"),
                     CC_ERR_NOT_FOUND);
    assert_int_equal(engine_podman_pull_error_kind(
                         "pinging container registry 127.0.0.1:5001: Get \"http://127.0.0.1:5001/"
                         "v2/\": dial tcp 127.0.0.1:5001: connect: connection refused"),
                     CC_ERR_FAILED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conflicts_are_409),
        cmocka_unit_test(test_events_as_docker_sends_them),
        cmocka_unit_test(test_results_as_docker_answers),
        cmocka_unit_test(test_create_gets_docker_stop_timeout),
        cmocka_unit_test(test_build_steps_as_docker_prints_them),
        cmocka_unit_test(test_events_until_read_to_the_end),
        cmocka_unit_test(test_pull_progress_as_docker_sends_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
