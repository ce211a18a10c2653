/* Short port syntax: splitting, IPv6, range expansion and compose-go's ordering, and errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose/parse.h"

struct port_case {
    const char *spec;
    const char *want; /* "ip|published|target/proto;" per entry */
};

static const struct port_case port_cases[] = {
    {"80", "|80/tcp;"},
    {"80/tcp", "|80/tcp;"},
    {"53/UDP", "|53/udp;"},
    {"80/", "|80/tcp;"},
    {"9000/sctp", "|9000/sctp;"},
    {"8080:80", "|8080|80/tcp;"},
    {":80", "|80/tcp;"},
    {"127.0.0.1:8080:80", "127.0.0.1|8080|80/tcp;"},
    {"127.0.0.1::80", "127.0.0.1|80/tcp;"},
    {"[::1]:8080:80", "::1|8080|80/tcp;"},
    {"::1:8080:80", "::1|8080|80/tcp;"},
    {"[::1]::80/udp", "::1|80/udp;"},
    {"3000-3002", "|3000/tcp;|3001/tcp;|3002/tcp;"},
    {"8000-8002:9000-9002/udp", "|8000|9000/udp;|8001|9001/udp;|8002|9002/udp;"},
    {"8000-8010:80", "|8000-8010|80/tcp;"},
    {"0.0.0.0:5000-5001:5000-5001", "0.0.0.0|5000|5000/tcp;0.0.0.0|5001|5001/tcp;"},
    /* compose-go orders entries by the port as text. */
    {"98-101", "|100/tcp;|101/tcp;|98/tcp;|99/tcp;"},
    {"65535", "|65535/tcp;"},
};

static void test_port_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(port_cases) / sizeof(port_cases[0]); i++) {
        struct arena a = ARENA_INIT;
        struct cc_error err = CC_ERROR_INIT;
        struct parse_port *ports;
        size_t n;
        if (parse_port_spec(&a, port_cases[i].spec, &ports, &n, &err) != 0)
            fail_msg("'%s': %s", port_cases[i].spec, err.message);
        char got[512] = "";
        for (size_t k = 0; k < n; k++) {
            char one[128];
            snprintf(one, sizeof(one), "%s|%s%s%u/%s;", ports[k].host_ip, ports[k].published,
                     ports[k].published[0] ? "|" : "", ports[k].target, ports[k].protocol);
            strcat(got, one);
            assert_string_equal(ports[k].mode, "ingress");
        }
        if (strcmp(got, port_cases[i].want) != 0)
            fail_msg("'%s': got '%s', want '%s'", port_cases[i].spec, got, port_cases[i].want);
        cc_error_release(&err);
        arena_release(&a);
    }
}

struct port_error_case {
    const char *spec;
    const char *message;
    const char *hint; /* NULL: the general syntax hint */
};

static const struct port_error_case port_errors[] = {
    {"", "invalid port '': no container port", NULL},
    {"8080:", "invalid port '8080:': no container port", NULL},
    {"http", "invalid port 'http': container port 'http' is not a port or a range", NULL},
    {"80-", "invalid port '80-': container port '80-' is not a port or a range", NULL},
    {"1-2-3", "invalid port '1-2-3': container port '1-2-3' is not a port or a range", NULL},
    {"65536", "invalid port '65536': container port 65536 is not between 1 and 65535", NULL},
    {"0:80", "invalid port '0:80': host port 0 is not between 1 and 65535",
     "leave the host port out to let the engine pick a free one"},
    {"90-80", "invalid port '90-80': container port range '90-80' ends before it starts",
     "write the range lowest port first"},
    {"8000-8002:80-81",
     "invalid port '8000-8002:80-81': container range '80-81' and host range '8000-8002' differ "
     "in size",
     "give the host and container ranges the same number of ports"},
    {"8000:80-81",
     "invalid port '8000:80-81': container range '80-81' and host range '8000' "
     "differ in size",
     "give the host and container ranges the same number of ports"},
    {"80/http", "invalid port '80/http': unknown protocol 'http'", "use tcp, udp or sctp"},
    {"localhost:80:80", "invalid port 'localhost:80:80': 'localhost' is not an IP address", NULL},
    {"[::1:80:80", "invalid port '[::1:80:80': '[::1' is not an IP address",
     "close the IPv6 address with ']', e.g. '[::1]:8080:80'"},
};

static void test_port_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(port_errors) / sizeof(port_errors[0]); i++) {
        struct arena a = ARENA_INIT;
        struct cc_error err = CC_ERROR_INIT;
        struct parse_port *ports = NULL;
        size_t n = 99;
        assert_int_equal(parse_port_spec(&a, port_errors[i].spec, &ports, &n, &err), -1);
        assert_null(ports);
        assert_int_equal(n, 99);
        assert_int_equal(err.kind, CC_ERR_INVALID_CONFIG);
        assert_string_equal(err.message, port_errors[i].message);
        if (port_errors[i].hint)
            assert_string_equal(err.hint, port_errors[i].hint);
        else
            assert_non_null(strstr(err.hint, "e.g. '8080:80'"));
        cc_error_release(&err);
        arena_release(&a);
    }
}

static void test_port_full_range(void **state)
{
    (void)state;
    struct arena a = ARENA_INIT;
    struct parse_port *ports;
    size_t n;
    assert_int_equal(parse_port_spec(&a, "1-65535/udp", &ports, &n, NULL), 0);
    assert_int_equal(n, 65535);
    assert_int_equal(ports[0].target, 1);
    assert_int_equal(ports[1].target, 10);
    assert_int_equal(ports[n - 1].target, 9999);
    arena_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_port_cases),
        cmocka_unit_test(test_port_errors),
        cmocka_unit_test(test_port_full_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
