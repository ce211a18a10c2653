/* .dockerignore: docker's pattern syntax and its last-match-wins exceptions, case by case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "scheduler/dockerignore.h"

struct match_case {
    const char *file; /* the .dockerignore text */
    const char *path;
    bool excluded;
};

static const struct match_case cases[] = {
    /* `*` stays inside one path element; a directory pattern covers what is inside. */
    {"*.md", "README.md", true},
    {"*.md", "docs/a.md", false},
    {"docs/*.md", "docs/a.md", true},
    {"docs/*.md", "README.md", false},
    {"docs/*.md", "docs/x/a.md", false},
    {"docs", "docs/x/a.md", true},
    {"docs", "docsx", false},
    /* `**`: any number of directories, even none. */
    {"**/x", "x", true},
    {"**/x", "a/x", true},
    {"**/x", "a/b/x", true},
    {"**/x", "a/bx", false},
    {"**/x", "a/x/y", true},
    {"**", "anything/at/all", true},
    {"a/**/b", "a/b", true},
    {"a/**/b", "a/x/y/b", true},
    {"a/**/b", "ab", false},
    {"a/**", "a/q", true},
    {"a/**", "b/q", false},
    {"foo**", "foobar", true},
    {"**/*.go", "cmd/x/main.go", true},
    {"**/*.go", "main.go", true},
    {"**/*.go", "main.gox", false},
    /* Exceptions: the last matching line wins. */
    {"*.md\n!README.md", "README.md", false},
    {"*.md\n!README.md", "CHANGES.md", true},
    {"!README.md\n*.md", "README.md", true},
    {"*\n!keep", "other", true},
    {"*\n!keep", "keep", false},
    {"*\n!keep", "keep/sub/file", false},
    {"docs\n!docs/keep.md", "docs/a.txt", true},
    {"docs\n!docs/keep.md", "docs/keep.md", false},
    {"docs\n!docs/keep.md", "docs", true},
    {"docs\n!docs/keep.md\ndocs/keep.md", "docs/keep.md", true},
    /* Classes, `?` and escapes. */
    {"file[0-9].txt", "file1.txt", true},
    {"file[0-9].txt", "filea.txt", false},
    {"[^a]*", "b", true},
    {"[^a]*", "a", false},
    {"[a-c]?", "bz", true},
    {"[a-c]?", "dz", false},
    {"[\\]x]", "]", true},
    {"?", "a", true},
    {"?", "ab", false},
    {"?", "a/b", true},
    {"x?z", "x/z", false},
    {"\\*.txt", "*.txt", true},
    {"\\*.txt", "a.txt", false},
    {"a\\[b", "a[b", true},
    {"a.c", "abc", false},
    {"a$", "a$", true},
    {"c++", "c++", true},
    {"\xc3\xa9?",
     "\xc3\xa9"
     "a",
     true},
    {"?", "\xc3\xa9", true},
    {"[\xc3\xa0-\xc3\xaf]", "\xc3\xa9", true},
    /* Paths are cleaned; a leading '/' or './' goes. */
    {"/foo", "foo", true},
    {"./foo", "foo", true},
    {"foo/", "foo", true},
    {"foo/../bar", "bar", true},
    {"foo//bar", "foo/bar", true},
    {"!/foo\n", "foo", false},
    {"*\n! /keep ", "keep", false},
    /* Comments, blank lines, CRLF, a byte-order mark. */
    {"# *.md\n", "a.md", false},
    {"#*.md\nb", "a.md", false},
    {" #x", "#x", true},
    {"a\r\n\r\n\r\nb\r\n", "b", true},
    {"a\r\n\r\n\r\nb\r\n", "a", true},
    {"\xef\xbb\xbf"
     "bom",
     "bom", true},
    {"", "x", false},
};

static void test_match_table(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct match_case *c = &cases[i];
        struct dockerignore *di = dockerignore_new();
        struct cc_error err = CC_ERROR_INIT;
        assert_int_equal(dockerignore_parse(di, ".dockerignore", c->file, strlen(c->file), &err),
                         0);
        if (dockerignore_excludes(di, c->path) != c->excluded) {
            fprintf(stderr, "case %zu: pattern(s) \"%s\", path \"%s\": expected %s\n", i, c->file,
                    c->path, c->excluded ? "excluded" : "included");
            failures++;
        }
        dockerignore_free(di);
        cc_error_release(&err);
    }
    assert_int_equal(failures, 0);
}

static void test_must_descend(void **state)
{
    (void)state;
    struct dockerignore *di = dockerignore_new();
    const char *text = "docs\nbuild\n!docs/keep.md\n!vendor\n";
    assert_int_equal(dockerignore_parse(di, ".dockerignore", text, strlen(text), NULL), 0);
    assert_int_equal(dockerignore_count(di), 4);
    assert_true(dockerignore_must_descend(di, "docs"));
    assert_false(dockerignore_must_descend(di, "build"));
    assert_false(dockerignore_must_descend(di, "doc"));
    assert_true(dockerignore_must_descend(di, "vendor"));
    dockerignore_free(di);
}

static void test_add_after_parse(void **state)
{
    (void)state;
    struct dockerignore *di = dockerignore_new();
    const char *text = "*\n";
    assert_int_equal(dockerignore_parse(di, ".dockerignore", text, strlen(text), NULL), 0);
    assert_true(dockerignore_excludes(di, "Dockerfile"));
    assert_int_equal(dockerignore_add(di, "!Dockerfile", NULL), 0);
    assert_false(dockerignore_excludes(di, "Dockerfile"));
    assert_true(dockerignore_excludes(di, "other"));
    dockerignore_free(di);
}

struct error_case {
    const char *file;
    int line;
    const char *message;
};

static const struct error_case error_cases[] = {
    {"ok\n[a", 2, "syntax error in pattern: '[a'"},
    {"a\\", 1, "syntax error in pattern: 'a\\'"},
    {"# c\n\n!", 3, "illegal exclusion pattern '!': '!'"},
    {"[]a]", 1, "syntax error in pattern: '[]a]'"},
    {"[a-]", 1, "syntax error in pattern: '[a-]'"},
    {"[-a]", 1, "syntax error in pattern: '[-a]'"},
};

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
        const struct error_case *c = &error_cases[i];
        struct dockerignore *di = dockerignore_new();
        struct cc_error err = CC_ERROR_INIT;
        assert_int_equal(
            dockerignore_parse(di, "ctx/.dockerignore", c->file, strlen(c->file), &err), -1);
        assert_int_equal(err.kind, CC_ERR_INVALID_CONFIG);
        assert_string_equal(err.message, c->message);
        assert_string_equal(err.file, "ctx/.dockerignore");
        assert_int_equal(err.line, c->line);
        assert_non_null(err.hint);
        /* A failed parse leaves the list as it was. */
        assert_int_equal(dockerignore_count(di), 0);
        cc_error_release(&err);
        dockerignore_free(di);
    }
}

/* Found by tests/fuzz/fuzz-dockerignore (seed regress-backtracking): the backtracking matcher
 * took exponential time on stars that can each take a share of the same run of characters; one
 * path against "*a*a...*b" ran for minutes. Now each pattern is matched in one pass. */
static void test_no_exponential_matching(void **state)
{
    (void)state;
    static const char text[] = "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b\n"
                               "**/a/**/a/**/a/**/a/**/a/**/a/**/a/**/a/**/b\n"
                               "!*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a\n";
    struct dockerignore *di = dockerignore_new();
    assert_int_equal(dockerignore_parse(di, ".dockerignore", text, strlen(text), NULL), 0);
    char path[256];
    memset(path, 'a', 80);
    path[80] = '\0';
    clock_t t0 = clock();
    /* No line excludes a run of a without a b or a directory. */
    assert_false(dockerignore_excludes(di, path));
    strcpy(path, "a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/c");
    assert_false(dockerignore_excludes(di, path));
    strcat(path, "/a/b");
    assert_true(dockerignore_excludes(di, path));
    memset(path, 'a', 80);
    strcpy(path + 80, "b");
    assert_true(dockerignore_excludes(di, path));
    assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 1.0);
    dockerignore_free(di);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_table),
        cmocka_unit_test(test_must_descend),
        cmocka_unit_test(test_add_after_parse),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_no_exponential_matching),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
