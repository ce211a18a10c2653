/* Short volume syntax: bind or named, modes, path resolution; and the path helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "compose/parse.h"

struct volume_case {
    const char *spec;
    enum parse_volume_type type;
    const char *source; /* NULL: anonymous */
    const char *target;
    bool read_only;
    char selinux;
    bool nocopy;
    const char *propagation;
};

static const struct volume_case volume_cases[] = {
    {"/data", PARSE_VOLUME_VOLUME, NULL, "/data", false, 0, false, NULL},
    {"/d", PARSE_VOLUME_VOLUME, NULL, "/d", false, 0, false, NULL},
    {"db-data:/var/lib/db", PARSE_VOLUME_VOLUME, "db-data", "/var/lib/db", false, 0, false, NULL},
    {"db:/db:ro,nocopy", PARSE_VOLUME_VOLUME, "db", "/db", true, 0, true, NULL},
    {"./src:/app", PARSE_VOLUME_BIND, "/proj/src", "/app", false, 0, false, NULL},
    {".:/app:rw", PARSE_VOLUME_BIND, "/proj", "/app", false, 0, false, NULL},
    {"../shared/./x/:/x:ro", PARSE_VOLUME_BIND, "/shared/x", "/x", true, 0, false, NULL},
    {"/etc/hosts:/etc/hosts:ro,z", PARSE_VOLUME_BIND, "/etc/hosts", "/etc/hosts", true, 'z', false,
     NULL},
    {"/srv:/srv:Z,rshared", PARSE_VOLUME_BIND, "/srv", "/srv", false, 'Z', false, "rshared"},
    {"/srv:/srv:ro,rw", PARSE_VOLUME_BIND, "/srv", "/srv", false, 0, false, NULL},
    {"/srv:/srv:cached", PARSE_VOLUME_BIND, "/srv", "/srv", false, 0, false, NULL},
    {"/srv:/srv:delegated,ro,unknown", PARSE_VOLUME_BIND, "/srv", "/srv", true, 0, false, NULL},
    {"~/cfg:/cfg", PARSE_VOLUME_BIND, "/home/me/cfg", "/cfg", false, 0, false, NULL},
    {"~:/home", PARSE_VOLUME_BIND, "/home/me", "/home", false, 0, false, NULL},
    {"C:\\data:/data", PARSE_VOLUME_BIND, "C:\\data", "/data", false, 0, false, NULL},
};

static void test_volume_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(volume_cases) / sizeof(volume_cases[0]); i++) {
        const struct volume_case *c = &volume_cases[i];
        struct arena a = ARENA_INIT;
        struct cc_error err = CC_ERROR_INIT;
        struct parse_volume v;
        if (parse_volume_spec(&a, c->spec, "/proj", "/home/me", &v, &err) != 0)
            fail_msg("'%s': %s", c->spec, err.message);
        if (v.type != c->type)
            fail_msg("'%s': wrong type", c->spec);
        if (c->source)
            assert_string_equal(v.source, c->source);
        else
            assert_null(v.source);
        assert_string_equal(v.target, c->target);
        if (v.read_only != c->read_only || v.selinux != c->selinux || v.nocopy != c->nocopy)
            fail_msg("'%s': wrong modes", c->spec);
        if (c->propagation)
            assert_string_equal(v.propagation, c->propagation);
        else
            assert_null(v.propagation);
        assert_int_equal(v.create_host_path, c->type == PARSE_VOLUME_BIND);
        cc_error_release(&err);
        arena_release(&a);
    }
}

static void test_volume_errors(void **state)
{
    (void)state;
    static const char *const specs[][2] = {
        {"", "invalid volume '': empty"},
        {"/a::/b", "invalid volume '/a::/b': empty section between colons"},
        {"/a:/b:", "invalid volume '/a:/b:': empty section between colons"},
        {"/a:/b:ro:z", "invalid volume '/a:/b:ro:z': too many colons"},
    };
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        struct arena a = ARENA_INIT;
        struct cc_error err = CC_ERROR_INIT;
        struct parse_volume v = {.target = "untouched"};
        assert_int_equal(parse_volume_spec(&a, specs[i][0], "/p", "/h", &v, &err), -1);
        assert_string_equal(v.target, "untouched");
        assert_int_equal(err.kind, CC_ERR_INVALID_CONFIG);
        assert_string_equal(err.message, specs[i][1]);
        assert_string_equal(err.hint, "write SOURCE:TARGET[:MODES] or TARGET alone, e.g. "
                                      "'./data:/data:ro' or 'db-data:/var/lib/db'");
        cc_error_release(&err);
        arena_release(&a);
    }
}

static void test_path_clean(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"", "."},
        {"/", "/"},
        {"a/b/../c", "a/c"},
        {"/../x", "/x"},
        {"../../a", "../../a"},
        {"a/../..", ".."},
        {"./a//b/", "a/b"},
        {"/a/b/..", "/a"},
        {"a/..", "."},
        {"//x/./y/", "/x/y"},
    };
    struct arena a = ARENA_INIT;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (strcmp(parse_path_clean(&a, cases[i][0]), cases[i][1]) != 0)
            fail_msg("clean '%s': got '%s'", cases[i][0], parse_path_clean(&a, cases[i][0]));
    assert_string_equal(parse_path_join(&a, "/p/q", "../r"), "/p/r");
    assert_string_equal(parse_path_join(&a, "/p", "/abs/../kept"), "/abs/../kept");
    assert_string_equal(parse_path_join(&a, "", "x/./y"), "x/y");
    arena_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_volume_cases),
        cmocka_unit_test(test_volume_errors),
        cmocka_unit_test(test_path_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
