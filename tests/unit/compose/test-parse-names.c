/* Project names (derived and explicit), KEY=VALUE items and extra_hosts items. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose/parse.h"

static void test_project_name_from_dir(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"/home/me/My App", "myapp"},
        {"/src/web_api-2", "web_api-2"},
        {"relative/Dir.v2/", "dirv2"},
        {"/x/__-_lead", "lead"},
        {"Proj", "proj"},
        {"/tmp/caf\xc3\xa9", "caf"},
    };
    struct arena a = ARENA_INIT;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *name = NULL;
        assert_int_equal(parse_project_name_from_dir(&a, cases[i][0], &name, NULL), 0);
        assert_string_equal(name, cases[i][1]);
        assert_int_equal(parse_project_name_check(name, NULL), 0);
    }
    struct cc_error err = CC_ERROR_INIT;
    const char *name = "untouched";
    assert_int_equal(parse_project_name_from_dir(&a, "/srv/___", &name, &err), -1);
    assert_string_equal(name, "untouched");
    assert_string_equal(err.message, "cannot make a project name from directory '___': it must "
                                     "contain only characters from [a-z0-9_-] and start with "
                                     "[a-z0-9]");
    assert_string_equal(err.hint, "name the project with -p, COMPOSE_PROJECT_NAME or a top-level "
                                  "'name:' in the compose file");
    cc_error_release(&err);
    arena_release(&a);
}

static void test_project_name_check(void **state)
{
    (void)state;
    static const char *const good[] = {"a", "0", "web", "my_app-1", "9lives"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_int_equal(parse_project_name_check(good[i], NULL), 0);
    static const char *const bad[][2] = {
        {"MyApp", "e.g. 'myapp'"},  {"-app", "e.g. 'app'"}, {"_x", "e.g. 'x'"},
        {"my app", "e.g. 'myapp'"}, {"", "e.g. 'myapp'"},   {"a.b", "e.g. 'ab'"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct cc_error err = CC_ERROR_INIT;
        assert_int_equal(parse_project_name_check(bad[i][0], &err), -1);
        assert_int_equal(err.kind, CC_ERR_INVALID_CONFIG);
        char want[200];
        snprintf(want, sizeof(want),
                 "invalid project name '%s': it must contain only characters from [a-z0-9_-] and "
                 "start with [a-z0-9]",
                 bad[i][0]);
        assert_string_equal(err.message, want);
        snprintf(want, sizeof(want), "use lowercase letters, digits, '_' and '-', %s", bad[i][1]);
        assert_string_equal(err.hint, want);
        cc_error_release(&err);
    }
}

static void test_kv_item(void **state)
{
    (void)state;
    struct arena a = ARENA_INIT;
    const char *k, *v;
    assert_int_equal(parse_kv_item(&a, "A=1", "environment", &k, &v, NULL), 0);
    assert_string_equal(k, "A");
    assert_string_equal(v, "1");
    assert_int_equal(parse_kv_item(&a, "URL=a=b=c", "environment", &k, &v, NULL), 0);
    assert_string_equal(k, "URL");
    assert_string_equal(v, "a=b=c");
    assert_int_equal(parse_kv_item(&a, "EMPTY=", "labels", &k, &v, NULL), 0);
    assert_string_equal(v, "");
    assert_int_equal(parse_kv_item(&a, "ALONE", "environment", &k, &v, NULL), 0);
    assert_string_equal(k, "ALONE");
    assert_null(v);
    struct cc_error err = CC_ERROR_INIT;
    k = "untouched";
    assert_int_equal(parse_kv_item(&a, "=x", "labels", &k, &v, &err), -1);
    assert_string_equal(k, "untouched");
    assert_string_equal(err.message, "missing name in labels item '=x'");
    assert_string_equal(err.hint, "write the item as NAME=VALUE, or NAME alone");
    cc_error_release(&err);
    arena_release(&a);
}

static void test_extra_host(void **state)
{
    (void)state;
    static const char *const cases[][3] = {
        {"db=10.0.0.5", "db", "10.0.0.5"},
        {"db:10.0.0.5", "db", "10.0.0.5"},
        {"v6=::1", "v6", "::1"},
        {"v6:::1", "v6", "::1"},
        {"v6=[::1]", "v6", "::1"},
        {"multi=1.1.1.1,[fe80::1],2.2.2.2", "multi", "1.1.1.1|fe80::1|2.2.2.2"},
        {"gw=host-gateway", "gw", "host-gateway"},
    };
    struct arena a = ARENA_INIT;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *host, **ips;
        size_t n;
        assert_int_equal(parse_extra_host(&a, cases[i][0], &host, &ips, &n, NULL), 0);
        assert_string_equal(host, cases[i][1]);
        char got[128] = "";
        for (size_t k = 0; k < n; k++) {
            if (k)
                strcat(got, "|");
            strcat(got, ips[k]);
        }
        assert_null(ips[n]);
        assert_string_equal(got, cases[i][2]);
    }
    static const char *const host_hint = "write HOST=IP or HOST:IP, e.g. 'db.local=10.0.0.5'";
    /* Found by fuzz-compose-load: an address with "=" in it was kept, printed as "h:1=2" and
     * read back split at the "=". Only addresses (and host-gateway) are taken, as the engine
     * takes them. */
    static const char *const ip_hint =
        "give an IPv4 or IPv6 address, or host-gateway, e.g. 'db.local=10.0.0.5'";
    const char *const bad[][3] = {
        {"nohost", "invalid extra host 'nohost': missing IP", host_hint},
        {"=1.2.3.4", "invalid extra host '=1.2.3.4': bad host name ''", host_hint},
        {"a:b=1.2.3.4", "invalid extra host 'a:b=1.2.3.4': bad host name 'a:b'", host_hint},
        {"h=1.2.3.", "invalid extra host 'h=1.2.3.': '1.2.3.' is not an IP address", ip_hint},
        {"h=1=2", "invalid extra host 'h=1=2': '1=2' is not an IP address", ip_hint},
        {"h=1.1.1.1,", "invalid extra host 'h=1.1.1.1,': '' is not an IP address", ip_hint},
        {"h=db.local", "invalid extra host 'h=db.local': 'db.local' is not an IP address", ip_hint},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct cc_error err = CC_ERROR_INIT;
        const char *host = NULL, **ips = NULL;
        size_t n = 0;
        assert_int_equal(parse_extra_host(&a, bad[i][0], &host, &ips, &n, &err), -1);
        assert_null(host);
        assert_string_equal(err.message, bad[i][1]);
        assert_string_equal(err.hint, bad[i][2]);
        cc_error_release(&err);
    }
    arena_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_project_name_from_dir),
        cmocka_unit_test(test_project_name_check),
        cmocka_unit_test(test_kv_item),
        cmocka_unit_test(test_extra_host),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
