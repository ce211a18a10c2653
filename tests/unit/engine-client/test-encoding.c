/* Request encoding: path segments and query values are escaped as the engine's router expects,
 * and API versions compare numerically. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine-client/engine-internal.h"

static void test_path_keeps_image_reference_separators(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    engine_path_id(&b, "/images/", "127.0.0.1:5000/team/app:1.0", "/json");
    assert_string_equal(buf_str(&b), "/images/127.0.0.1:5000/team/app:1.0/json");
    engine_path_id(&b, "/images/", "app@sha256:ab12", "/json");
    assert_string_equal(buf_str(&b), "/images/app@sha256:ab12/json");
    engine_path_id(&b, "/containers/", "we ird?#%", "/start");
    assert_string_equal(buf_str(&b), "/containers/we%20ird%3F%23%25/start");
    buf_release(&b);
}

static void test_query_escapes_everything_reserved(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    buf_adds(&b, "/containers/json");
    engine_query_add_bool(&b, "all", true);
    json_t *filters = json_pack("{s:[s]}", "label", "com.docker.compose.project=demo");
    engine_query_add_json(&b, "filters", filters);
    engine_query_add(&b, "name", "a&b=c/d:e");
    assert_string_equal(buf_str(&b),
                        "/containers/json?all=1"
                        "&filters=%7B%22label%22%3A%5B%22com.docker.compose.project%3Ddemo%22%5D%7D"
                        "&name=a%26b%3Dc%2Fd%3Ae");
    json_decref(filters);
    buf_release(&b);
}

static void test_version_compare(void **state)
{
    (void)state;
    assert_int_equal(engine_version_compare("1.41", "1.41"), 0);
    assert_true(engine_version_compare("1.41", "1.9") > 0); /* numeric, not lexical */
    assert_true(engine_version_compare("1.40", "1.41") < 0);
    assert_true(engine_version_compare("2.0", "1.45") > 0);
    assert_true(engine_version_compare("1", "1.1") < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_keeps_image_reference_separators),
        cmocka_unit_test(test_query_escapes_everything_reserved),
        cmocka_unit_test(test_version_compare),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
