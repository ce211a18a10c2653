/* Env files: compose-go's dotenv grammar, interpolation order, and errors with file:line:col. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "compose/parse.h"

/* The "environment" the tests run under: HOME, SHELLVAR and EMPTY set, nothing else. */
static const char *fake_env(const char *name, void *data)
{
    (void)data;
    if (strcmp(name, "HOME") == 0)
        return "/home/me";
    if (strcmp(name, "SHELLVAR") == 0)
        return "from-shell";
    if (strcmp(name, "EMPTY") == 0)
        return "";
    return NULL;
}

static const struct parse_env_opts opts = {fake_env, NULL, NULL};

struct env_case {
    const char *text;
    const char *want; /* "K=V;K=V;" in order */
};

static const struct env_case env_cases[] = {
    {"A=1\nB=2\n", "A=1;B=2;"},
    {"export A=1\n", "A=1;"},
    {"  A = spaced value   \n", "A=spaced value;"},
    {"# comment\nA=1 # trailing\nB=2#not-a-comment\n", "A=1;B=2#not-a-comment;"},
    {"A=\nB=\"\"\nC=''\n", "A=;B=;C=;"},
    {"A='lit $HOME \\n'\n", "A=lit $HOME \\n;"},
    {"A='it\\'s'\n", "A=it's;"},
    {"A=\"l1\\nl2\\t\\\\ \\\" \\$HOME\"\n", "A=l1\nl2\t\\ \" $HOME;"},
    {"A=\"multi\nline\"\nB=2\n", "A=multi\nline;B=2;"},
    {"A=\"\\0101\\x\"\n", "A=A\\x;"},
    {"A=\"# not a comment\"\n", "A=# not a comment;"},
    {"SHELLVAR\nUNSET_VAR\nHOME", "SHELLVAR=from-shell;HOME=/home/me;"},
    {"A=x\nB=${A}-$A-${HOME}\n", "A=x;B=x-x-/home/me;"},
    {"HOME=mine\nB=$HOME\n", "HOME=mine;B=mine;"},
    {"B=${NOPE:-dflt} ${EMPTY:-e} ${EMPTY-keep}.\n", "B=dflt e .;"},
    {"B=${NOPE:-${SHELLVAR}}\n", "B=from-shell;"},
    {"B=${SHELLVAR:+alt}${NOPE:+x}\n", "B=alt;"},
    {"A=$$literal\n", "A=$literal;"},
    {"A=1\nA=2\nB=3\n", "A=2;B=3;"},
    {"A: yaml style\n", "A=yaml style;"},
    {"a.b-c[0]=ok\n", "a.b-c[0]=ok;"},
    {"\xef\xbb\xbf"
     "A=bom\r\n",
     "A=bom;"},
    {"A=x\n\n\n   \n#only comments\n", "A=x;"},
    {"", ""},
    {"export \t\nA=1\nexport ", "A=1;"},
};

static void test_env_file_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(env_cases) / sizeof(env_cases[0]); i++) {
        struct arena a = ARENA_INIT;
        struct cc_error err = CC_ERROR_INIT;
        struct parse_env_list list;
        const char *text = env_cases[i].text;
        int rc = parse_env_file(&a, ".env", text, strlen(text), &opts, &list, &err);
        if (rc != 0)
            fail_msg("case %zu: %s", i, err.message);
        char got[512] = "";
        for (size_t k = 0; k < list.n; k++) {
            strcat(got, list.vars[k].key);
            strcat(got, "=");
            strcat(got, list.vars[k].value);
            strcat(got, ";");
        }
        if (strcmp(got, env_cases[i].want) != 0)
            fail_msg("case %zu: got '%s', want '%s'", i, got, env_cases[i].want);
        cc_error_release(&err);
        arena_release(&a);
    }
}

struct env_err_case {
    const char *text;
    const char *message;
    int line, col;
};

static const struct env_err_case env_err_cases[] = {
    {"A=1\nB C=2\n", "variable name 'B C' contains a blank", 2, 1},
    {"A=1\n  BAD!=x\n", "unexpected character '!' in variable name 'BAD!=x'", 2, 6},
    {"A=1\nB=\"open\nC=2\n", "unterminated quoted value", 2, 3},
    {"A='open", "unterminated quoted value", 1, 3},
    {"=value\n", "missing variable name before '='", 1, 1},
    {"A=1\nB=${\n", "invalid interpolation format in '${'", 2, 3},
    {"A=a $ b\n", "invalid interpolation format in 'a $ b'", 1, 3},
    {"A=${NOPE:?must be set}\n", "required variable 'NOPE' is missing a value: must be set", 1, 3},
};

static void test_env_file_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(env_err_cases) / sizeof(env_err_cases[0]); i++) {
        struct arena a = ARENA_INIT;
        struct cc_error err = CC_ERROR_INIT;
        struct parse_env_list list = {NULL, 42};
        const char *text = env_err_cases[i].text;
        assert_int_equal(parse_env_file(&a, "app.env", text, strlen(text), &opts, &list, &err), -1);
        assert_int_equal(list.n, 42); /* untouched on failure */
        assert_int_equal(err.kind, CC_ERR_INVALID_CONFIG);
        if (strcmp(err.message, env_err_cases[i].message) != 0)
            fail_msg("case %zu: got '%s'", i, err.message);
        assert_string_equal(err.file, "app.env");
        if (err.line != env_err_cases[i].line || err.col != env_err_cases[i].col)
            fail_msg("case %zu: at %d:%d, want %d:%d", i, err.line, err.col, env_err_cases[i].line,
                     env_err_cases[i].col);
        assert_non_null(err.hint);
        cc_error_release(&err);
        arena_release(&a);
    }
}

static void test_env_file_hints(void **state)
{
    (void)state;
    struct arena a = ARENA_INIT;
    struct cc_error err = CC_ERROR_INIT;
    struct parse_env_list list;
    const char *t = "A=\"x";
    assert_int_equal(parse_env_file(&a, ".env", t, strlen(t), NULL, &list, &err), -1);
    assert_string_equal(err.hint, "close the value with a matching '\"'");
    cc_error_release(&err);
    /* Without options nothing is set in the environment. */
    t = "HOME\nB=${HOME:-none}";
    assert_int_equal(parse_env_file(&a, ".env", t, strlen(t), NULL, &list, &err), 0);
    assert_int_equal(list.n, 1);
    assert_string_equal(list.vars[0].value, "none");
    /* data need not be NUL-terminated: the length bounds it. */
    assert_int_equal(parse_env_file(&a, ".env", "A=12345", 4, NULL, &list, &err), 0);
    assert_string_equal(list.vars[0].value, "12");
    arena_release(&a);
}

/* A replacement interpolation gets the file's own keys first, through the lookup it is given. */
static int upper_interpolate(struct arena *a, const char *text, parse_lookup_cb lookup, void *data,
                             const char **ret, struct cc_error *reterr)
{
    (void)reterr;
    const char *v = strcmp(text, "use-a") == 0 ? lookup("A", data) : text;
    char *s = arena_strdup(a, v ? v : "(unset)");
    for (char *p = s; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    *ret = s;
    return 0;
}

static void test_env_file_custom_interpolation(void **state)
{
    (void)state;
    struct arena a = ARENA_INIT;
    struct parse_env_opts o = {fake_env, NULL, upper_interpolate};
    struct parse_env_list list;
    const char *t = "A=abc\nB=use-a\nC='single'\n";
    assert_int_equal(parse_env_file(&a, ".env", t, strlen(t), &o, &list, NULL), 0);
    assert_int_equal(list.n, 3);
    assert_string_equal(list.vars[0].value, "ABC");
    assert_string_equal(list.vars[1].value, "ABC");
    assert_string_equal(list.vars[2].value, "single"); /* single quotes are never interpolated */
    arena_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_env_file_cases),
        cmocka_unit_test(test_env_file_errors),
        cmocka_unit_test(test_env_file_hints),
        cmocka_unit_test(test_env_file_custom_interpolation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
