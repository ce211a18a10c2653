/* Durations (Go's time.ParseDuration and Duration.String) and sizes (go-units RAMInBytes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "compose/parse.h"

struct duration_case {
    const char *in;
    int64_t ns;
    const char *canonical; /* what docker compose config prints */
};

static const struct duration_case duration_cases[] = {
    {"0", 0, "0s"},
    {"-0", 0, "0s"},
    {"0s", 0, "0s"},
    {"1m30s", 90000000000LL, "1m30s"},
    {"90s", 90000000000LL, "1m30s"},
    {"1.5s", 1500000000LL, "1.5s"},
    {"500ms", 500000000LL, "500ms"},
    {"10us", 10000LL, "10\xc2\xb5s"},
    {"10\xc2\xb5s", 10000LL, "10\xc2\xb5s"},
    {"10\xce\xbcs", 10000LL, "10\xc2\xb5s"},
    {"7ns", 7LL, "7ns"},
    {"2h", 7200000000000LL, "2h0m0s"},
    {"-2h45m", -9900000000000LL, "-2h45m0s"},
    {"+5s", 5000000000LL, "5s"},
    {".5s", 500000000LL, "500ms"},
    {"5.s", 5000000000LL, "5s"},
    {"1.2ms", 1200000LL, "1.2ms"},
    {"1h2m3.004005006s", 3723004005006LL, "1h2m3.004005006s"},
    {"2562047h47m16.854775807s", INT64_MAX, "2562047h47m16.854775807s"},
    {"-2562047h47m16.854775808s", INT64_MIN, "-2562047h47m16.854775808s"},
    {"0.0000000001s", 0, "0s"},
};

static void test_duration_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(duration_cases) / sizeof(duration_cases[0]); i++) {
        int64_t ns = 12345;
        struct cc_error err = CC_ERROR_INIT;
        if (parse_duration(duration_cases[i].in, &ns, &err) != 0)
            fail_msg("'%s': %s", duration_cases[i].in, err.message);
        if (ns != duration_cases[i].ns)
            fail_msg("'%s': got %lld", duration_cases[i].in, (long long)ns);
        char buf[PARSE_DURATION_BUFSZ];
        assert_string_equal(parse_duration_format(ns, buf), duration_cases[i].canonical);
        cc_error_release(&err);
    }
}

struct error_case {
    const char *in;
    const char *message;
};

static const struct error_case duration_errors[] = {
    {"", "invalid duration '': no number"},
    {"-", "invalid duration '-': no number"},
    {"10", "invalid duration '10': missing unit"},
    {"1m30", "invalid duration '1m30': missing unit"},
    {"5d", "invalid duration '5d': unknown unit 'd'"},
    {"1 s", "invalid duration '1 s': unknown unit ' s'"},
    {".s", "invalid duration '.s': expected a number"},
    {"s", "invalid duration 's': expected a number"},
    {"9223372036854775808ns", "invalid duration '9223372036854775808ns': out of range"},
    {"2562048h", "invalid duration '2562048h': out of range"},
    {"99999999999999999999s", "invalid duration '99999999999999999999s': out of range"},
};

static void test_duration_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(duration_errors) / sizeof(duration_errors[0]); i++) {
        int64_t ns = 77;
        struct cc_error err = CC_ERROR_INIT;
        assert_int_equal(parse_duration(duration_errors[i].in, &ns, &err), -1);
        assert_int_equal(ns, 77);
        assert_int_equal(err.kind, CC_ERR_INVALID_CONFIG);
        assert_string_equal(err.message, duration_errors[i].message);
        assert_string_equal(err.hint, "write a number followed by a unit (ns, us, ms, s, m, h), "
                                      "e.g. '1m30s' or '500ms'");
        cc_error_release(&err);
    }
}

struct size_case {
    const char *in;
    int64_t bytes;
};

static const struct size_case size_cases[] = {
    {"1024", 1024},
    {"0", 0},
    {"100k", 102400},
    {"100K", 102400},
    {"512m", 536870912},
    {"512mb", 536870912},
    {"1gb", 1073741824},
    {"1GB", 1073741824},
    {"2GiB", 2147483648LL},
    {"1.5g", 1610612736},
    {"1 g", 1073741824},
    {"10b", 10},
    {"10B", 10},
    {"1.7", 1},
    {"1e3", 1000},
    {"4t", 4398046511104LL},
    {"7p", 7881299347898368LL},
    {"7.99999999p", 9007199243481993LL},
};

static void test_size_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(size_cases) / sizeof(size_cases[0]); i++) {
        int64_t v = -5;
        struct cc_error err = CC_ERROR_INIT;
        if (parse_size(size_cases[i].in, &v, &err) != 0)
            fail_msg("'%s': %s", size_cases[i].in, err.message);
        if (v != size_cases[i].bytes)
            fail_msg("'%s': got %lld", size_cases[i].in, (long long)v);
        cc_error_release(&err);
    }
}

static const struct error_case size_errors[] = {
    {"", "invalid size '': no number"},
    {"m", "invalid size 'm': no number"},
    {"-1", "invalid size '-1': negative"},
    {"1x", "invalid size '1x': unknown unit 'x'"},
    {"1kk", "invalid size '1kk': unknown unit 'kk'"},
    {"1bi", "invalid size '1bi': unknown unit 'bi'"},
    {"1kbb", "invalid size '1kbb': unknown unit 'kbb'"},
    {"1.2.3", "invalid size '1.2.3': not a number"},
    {"1  g", "invalid size '1  g': not a number"},
    {"8192p", "invalid size '8192p': too large"},
    {"9223372036854775808", "invalid size '9223372036854775808': too large"},
};

static void test_size_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(size_errors) / sizeof(size_errors[0]); i++) {
        int64_t v = 3;
        struct cc_error err = CC_ERROR_INIT;
        assert_int_equal(parse_size(size_errors[i].in, &v, &err), -1);
        assert_int_equal(v, 3);
        assert_string_equal(err.message, size_errors[i].message);
        assert_non_null(err.hint);
        cc_error_release(&err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration_cases),
        cmocka_unit_test(test_duration_errors),
        cmocka_unit_test(test_size_cases),
        cmocka_unit_test(test_size_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
