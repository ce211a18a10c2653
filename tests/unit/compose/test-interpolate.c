/* Interpolation: every form of compose-go's syntax, nesting and `$$`, warnings for unset
 * variables, `?` errors and invalid formats with their exact position, and the tree pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "compose/interpolate.h"
#include "compose/node.h"

static struct arena A;

static int setup(void **state)
{
    (void)state;
    arena_init(&A);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    arena_release(&A);
    return 0;
}

/* FOO=first, BAR set and empty, EMPTY_OK unset-looking names stay unset. */
static bool lookup(void *data, const char *name, const char **ret)
{
    (void)data;
    static const char *const vars[][2] = {
        {"FOO", "first"}, {"BAR", ""}, {"db_host", "db"}, {"DOLLAR", "$HOME"}};
    for (size_t i = 0; i < CC_ARRAY_LEN(vars); i++) {
        if (strcmp(vars[i][0], name) == 0) {
            *ret = vars[i][1];
            return true;
        }
    }
    return false;
}

static const struct interp_env env = {lookup, NULL};

static void test_forms(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
        size_t warnings;
    } cases[] = {
        {"plain text", "plain text", 0},
        {"$FOO", "first", 0},
        {"${FOO}", "first", 0},
        {"$FOO-bar", "first-bar", 0},
        {"a${FOO}b", "afirstb", 0},
        {"${db_host}:5432", "db:5432", 0},
        {"x $UNSET y", "x  y", 1},
        {"${UNSET}", "", 1},
        {"${BAR}", "", 0},
        {"${UNSET:-def}", "def", 0},
        {"${BAR:-def}", "def", 0},
        {"${FOO:-def}", "first", 0},
        {"${UNSET-def}", "def", 0},
        {"${BAR-def}", "", 0},
        {"${FOO:+alt}", "alt", 0},
        {"${BAR:+alt}", "", 0},
        {"${UNSET:+alt}", "", 0},
        {"${BAR+alt}", "alt", 0},
        {"${UNSET+alt}", "", 0},
        {"${FOO:?err}", "first", 0},
        {"${BAR?err}", "", 0},
        {"${UNSET:-${FOO}}", "first", 0},
        {"${UNSET:-${UNSET2:-c}}", "c", 0},
        {"${UNSET-$FOO}", "first", 0},
        {"${UNSET-${FOO} ${FOO}}", "first first", 0},
        {"${BAR+$FOO ${FOO:+second}}", "first second", 0},
        {"+ok ${UNSET:-${BAR-defaultValue}}", "+ok ", 0},
        {"${BAR:-/non:-alphanumeric}", "/non:-alphanumeric", 0},
        {"${UNSET-myerror?msg}", "myerror?msg", 0},
        {"${FOO?bar-baz}", "first", 0},
        {"${UNSET:-{x}}", "{x}", 0},
        {"${FOO}}", "first}", 0},
        {"$$", "$", 0},
        {"$$FOO", "$FOO", 0},
        {"$${FOO}", "${FOO}", 0},
        {"$$$FOO", "$first", 0},
        {"a $ string", "a $ string", 0},
        {"^REGEX$", "^REGEX$", 0},
        {"$}", "$}", 0},
        {"$", "$", 0},
        {"${UNSET-$}", "$", 0},
        {"echo $1", "echo $1", 0},
        {"${DOLLAR}", "$HOME", 0}, /* values are not interpolated again */
        /* An unused default is not evaluated: no warning for UNSET2. */
        {"${FOO:-$UNSET2}", "first", 0},
        {"${FOO:-${UNSET2:?never}}", "first", 0},
        {"$UNSET $UNSET2", " ", 2},
    };
    for (size_t i = 0; i < CC_ARRAY_LEN(cases); i++) {
        struct interp_warnings w = INTERP_WARNINGS_INIT;
        struct cc_error e = CC_ERROR_INIT;
        const char *out = NULL;
        size_t len = 0;
        if (interp_string(&A, &env, cases[i].in, strlen(cases[i].in), NULL, &w, &out, &len, &e) < 0)
            fail_msg("'%s': %s", cases[i].in, e.message);
        if (strcmp(out, cases[i].out) != 0)
            fail_msg("'%s' gave '%s', want '%s'", cases[i].in, out, cases[i].out);
        assert_int_equal(len, strlen(cases[i].out));
        if (w.len != cases[i].warnings)
            fail_msg("'%s': %zu warnings, want %zu", cases[i].in, w.len, cases[i].warnings);
        interp_warnings_release(&w);
    }
}

static void test_warnings_name_and_position(void **state)
{
    (void)state;
    struct interp_warnings w = INTERP_WARNINGS_INIT;
    struct interp_where where = {"compose.yaml", 4, 12, true, "services.web.image"};
    const char *s = "é${A}-$B";
    const char *out;
    size_t len;
    assert_int_equal(interp_string(&A, &env, s, strlen(s), &where, &w, &out, &len, NULL), 0);
    assert_string_equal(out, "é-");
    assert_int_equal(w.len, 2);
    assert_string_equal(w.items[0].name, "A");
    assert_string_equal(w.items[0].file, "compose.yaml");
    assert_int_equal(w.items[0].line, 4);
    assert_int_equal(w.items[0].col, 13); /* 'é' is one column though two bytes */
    assert_string_equal(w.items[0].key_path, "services.web.image");
    assert_string_equal(w.items[1].name, "B");
    assert_int_equal(w.items[1].col, 18);
    interp_warnings_release(&w);
}

/* Interpolates s at compose.yaml:3:10 (exact) and returns "file:line:col: message | hint". */
static char *err_text(const char *s, bool exact)
{
    struct interp_warnings w = INTERP_WARNINGS_INIT;
    struct interp_where where = {"compose.yaml", 3, 10, exact, "services.web.image"};
    struct cc_error e = CC_ERROR_INIT;
    const char *out;
    size_t len;
    assert_int_equal(interp_string(&A, &env, s, strlen(s), &where, &w, &out, &len, &e), -1);
    assert_int_equal(e.kind, CC_ERR_INVALID_CONFIG);
    assert_string_equal(e.key_path, "services.web.image");
    /* A failed string leaves no warnings behind. */
    assert_int_equal(w.len, 0);
    char *r = xasprintf("%s:%d:%d: %s | %s", e.file, e.line, e.col, e.message, e.hint);
    cc_error_release(&e);
    interp_warnings_release(&w);
    return r;
}

static void assert_err(const char *s, bool exact, const char *want)
{
    char *got = err_text(s, exact);
    assert_string_equal(got, want);
    free(got);
}

static void test_required_errors(void **state)
{
    (void)state;
    assert_err("$UNSET0 ${UNSET:?please set it}", true,
               "compose.yaml:3:18: required variable 'UNSET' is missing a value: please set it | "
               "set 'UNSET' in the environment or in the project's .env file");
    assert_err("${BAR:?}", true,
               "compose.yaml:3:10: required variable 'BAR' is missing a value | set 'BAR' in the "
               "environment or in the project's .env file");
    assert_err("x ${UNSET?need ${FOO}}", false,
               "compose.yaml:3:10: required variable 'UNSET' is missing a value: need first | set "
               "'UNSET' in the environment or in the project's .env file");
    assert_err("${UNSET:-${UNSET2?inner}}", true,
               "compose.yaml:3:19: required variable 'UNSET2' is missing a value: inner | set "
               "'UNSET2' in the environment or in the project's .env file");
}

static void test_invalid_formats(void **state)
{
    (void)state;
    static const char *const bad[] = {"${",      "${}",     "${ }",         "${ foo}",
                                      "${foo }", "${foo!}", "${VAR:}",      "${VAR:x}",
                                      "${1}",    "${A:-b",  "${FOO:-${BAR}"};
    for (size_t i = 0; i < CC_ARRAY_LEN(bad); i++) {
        char *got = err_text(bad[i], true);
        char *want = xasprintf("invalid interpolation format for services.web.image: '%s'", bad[i]);
        if (!strstr(got, want))
            fail_msg("'%s' gave '%s'", bad[i], got);
        free(want);
        free(got);
    }
    assert_err("ok ${VAR:}", true,
               "compose.yaml:3:13: invalid interpolation format for services.web.image: 'ok "
               "${VAR:}' | write '$$' for a literal '$'; a variable is '${NAME}', optionally with "
               "':-', '-', ':+', '+', ':?' or '?' and a text before the '}'");
    /* A syntax error in an unused default still fails. */
    char *got = err_text("${FOO:-${}}", true);
    assert_non_null(strstr(got, "compose.yaml:3:17: invalid interpolation format"));
    free(got);
}

static void test_nesting_limit(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    for (int i = 0; i < INTERP_MAX_DEPTH; i++)
        buf_adds(&b, "${U:-");
    buf_adds(&b, "deep");
    for (int i = 0; i < INTERP_MAX_DEPTH; i++)
        buf_addc(&b, '}');
    const char *out;
    size_t len;
    assert_int_equal(interp_string(&A, &env, b.data, b.len, NULL, NULL, &out, &len, NULL), 0);
    assert_string_equal(out, "deep");
    buf_reset(&b);
    for (int i = 0; i <= INTERP_MAX_DEPTH; i++)
        buf_adds(&b, "${U:-");
    for (int i = 0; i <= INTERP_MAX_DEPTH; i++)
        buf_addc(&b, '}');
    char *s = err_text(buf_str(&b), true);
    assert_string_equal(s, "compose.yaml:3:90: interpolation nested deeper than 16 levels | split "
                           "the value, or use fewer nested defaults");
    free(s);
    buf_release(&b);
}

static struct cnode *load(const char *yaml)
{
    struct cnode_file *f;
    assert_int_equal(cnode_load_buffer(&A, "compose.yaml", yaml, strlen(yaml), &f, NULL), 0);
    return f->docs[0];
}

static void test_tree(void **state)
{
    (void)state;
    struct cnode *root = load("x-img: &img \"${FOO}:1\"\n"
                              "services:\n"
                              "  $FOO:\n"
                              "    image: *img\n"
                              "    command: [\"echo\", $UNSET, '$$x']\n"
                              "    labels:\n"
                              "      keep: !reset plain\n"
                              "      n: 12\n");
    struct interp_warnings w = INTERP_WARNINGS_INIT;
    struct cc_error e = CC_ERROR_INIT;
    struct cnode *out = NULL;
    assert_int_equal(interp_tree(&A, &env, root, &w, &out, &e), 0);
    assert_ptr_not_equal(out, root);
    struct cnode *svc = cnode_get(cnode_get(out, "services"), "$FOO"); /* keys stay as written */
    assert_non_null(svc);
    struct cnode *img = cnode_get(svc, "image");
    assert_string_equal(img->value, "first:1");
    assert_true(img->interpolated);
    assert_int_equal(img->style, CNODE_DOUBLE_QUOTED);
    assert_int_equal(img->line, 1);
    struct cnode *cmd = cnode_get(svc, "command");
    assert_string_equal(cmd->items[1]->value, "");
    assert_string_equal(cmd->items[2]->value, "$x");
    assert_int_equal(cnode_resolve(cmd->items[2]).type, CNODE_TYPE_STRING);
    /* Unchanged subtrees are shared; the input tree is untouched. */
    assert_ptr_equal(cnode_get(svc, "labels"),
                     cnode_get(cnode_get(cnode_get(root, "services"), "$FOO"), "labels"));
    assert_string_equal(cnode_get(cnode_get(cnode_get(root, "services"), "$FOO"), "image")->value,
                        "${FOO}:1");
    assert_int_equal(w.len, 1);
    assert_string_equal(w.items[0].name, "UNSET");
    assert_int_equal(w.items[0].line, 5);
    assert_int_equal(w.items[0].col, 23);
    assert_string_equal(w.items[0].key_path, "services.$FOO.command[1]");
    interp_warnings_release(&w);
}

static void test_tree_error_positions(void **state)
{
    (void)state;
    struct cc_error e = CC_ERROR_INIT;
    struct cnode *out = NULL;
    /* Plain, one line: the column of the '$'. */
    struct cnode *root = load("services:\n  web:\n    environment:\n      - A=${PW:?set PW}\n");
    assert_int_equal(interp_tree(&A, &env, root, NULL, &out, &e), -1);
    assert_string_equal(e.message, "required variable 'PW' is missing a value: set PW");
    assert_int_equal(e.line, 4);
    assert_int_equal(e.col, 11);
    assert_string_equal(e.key_path, "services.web.environment[0]");
    /* Quoted or multi-line: the scalar's start. */
    root = load("services:\n  web:\n    command: |\n      run ${\n");
    assert_int_equal(interp_tree(&A, &env, root, NULL, &out, &e), -1);
    assert_string_equal(e.message,
                        "invalid interpolation format for services.web.command: 'run ${\n'");
    assert_int_equal(e.line, 3);
    assert_int_equal(e.col, 14);
    cc_error_release(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_warnings_name_and_position, setup, teardown),
        cmocka_unit_test_setup_teardown(test_required_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_formats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nesting_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tree_error_positions, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
