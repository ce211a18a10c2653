/* What a user sees before anything runs: `ccompose --help` lists docker compose's global flags,
 * every command answers --help with one line a flag, and a mistyped command or flag, for every
 * command in the table (read from --help, so a new command is checked without touching this
 * file), says "did you mean" the closest one. The scripts of tests/cli/ drive bash's completion,
 * render the man page and check the spec coverage table against the model. No engine is
 * needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "tests/lib/cli-test.h"
#include "tests/lib/compose-test.h"

/* The command names under "Commands:" in `ccompose --help`, NULL-terminated (new, and so are the
 * names). */
static char **command_names(void)
{
    struct cb_result r;
    cb_run(&r, NULL, "--help", NULL);
    cb_assert_status(&r, 0);
    const char *p = strstr(r.out.data, "\nCommands:\n");
    assert_non_null(p);
    p += strlen("\nCommands:\n");
    char **names = xcalloc(64, sizeof(*names));
    size_t n = 0;
    while (*p == ' ' && n < 63) {
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, " \n");
        names[n++] = xstrndup(p, len);
        p = strchr(p, '\n');
        assert_non_null(p);
        p++;
    }
    cb_result_release(&r);
    assert_true(n >= 10);
    return names;
}

static void free_names(char **names)
{
    for (size_t i = 0; names[i]; i++)
        free(names[i]);
    free(names);
}

/* Runs ccompose with args (up to NULL), expecting exit 2 and want on stderr (NULL: no guess). */
static void expect_usage_error(const char *want, ...)
{
    const char *args[16];
    size_t n = 0;
    va_list ap;
    va_start(ap, want);
    for (const char *a; n < CC_ARRAY_LEN(args) && (a = va_arg(ap, const char *));)
        args[n++] = a;
    va_end(ap);
    struct cb_result r;
    cb_runv(&r, NULL, args, n);
    cb_assert_status(&r, 2);
    if (want)
        cb_assert_contains(r.err.data, want);
    else if (strstr(r.err.data, "did you mean"))
        fail_msg("a guess where none is close:\n%s", r.err.data);
    cb_result_release(&r);
}

/* Fails when a line of text (what `ccompose ARGS --help` printed) is wider than 80 columns, the
 * width the help is written for (UTF-8 sequences count once). */
static void assert_fits_80(const char *what, const char *text)
{
    for (const char *l = text; *l;) {
        size_t cols = 0, len = strcspn(l, "\n");
        for (size_t k = 0; k < len; k++)
            cols += ((unsigned char)l[k] & 0xc0) != 0x80;
        if (cols > 80)
            fail_msg("'%s --help': a line of %zu columns, wider than 80:\n%.*s", what, cols,
                     (int)len, l);
        l += len + (l[len] == '\n');
    }
}

static void test_global_flags_listed(void **state)
{
    (void)state;
    static const char *const flags[] = {
        "  -f, --file ",     "  -p, --project-name ", "      --project-directory ",
        "      --env-file ", "      --profile ",      "      --ansi ",
        "      --progress ", "      --parallel ",     "      --dry-run ",
        "  -H, --host ",     "      --verbose ",      "  -v, --version ",
    };
    struct cb_result r;
    cb_run(&r, NULL, "--help", NULL);
    cb_assert_status(&r, 0);
    for (size_t i = 0; i < CC_ARRAY_LEN(flags); i++)
        cb_assert_contains(r.out.data, flags[i]);
    assert_fits_80("ccompose", r.out.data);
    cb_result_release(&r);
}

static void test_unknown_command(void **state)
{
    (void)state;
    expect_usage_error("unknown command 'stpo'\ndid you mean 'stop'?", "stpo", NULL);
    expect_usage_error("did you mean 'config'?", "cnofig", NULL);
    expect_usage_error(NULL, "xyzzy", NULL);
    /* `help CMD` is `CMD --help`, and guesses as well. */
    expect_usage_error("did you mean 'restart'?", "help", "resatrt", NULL);
    struct cb_result a, b;
    cb_run(&a, NULL, "help", "stop", NULL);
    cb_run(&b, NULL, "stop", "--help", NULL);
    cb_assert_status(&a, 0);
    assert_string_equal(a.out.data, b.out.data);
    cb_result_release(&a);
    cb_result_release(&b);
}

static void test_unknown_flags(void **state)
{
    (void)state;
    expect_usage_error("unknown flag: --profle\ndid you mean --profile?\nSee 'ccompose --help'.",
                       "--profle", "x", "ps", NULL);
    expect_usage_error("unknown flag: --detahc\ndid you mean --detach?\n"
                       "See 'ccompose up --help'.",
                       "up", "--detahc", NULL);
    expect_usage_error("did you mean --timeout?", "stop", "--tiemout=3", NULL);
    expect_usage_error("flag needs an argument: --tail", "logs", "--tail", NULL);
    expect_usage_error("flag --all takes no value", "ps", "--all=yes", NULL);
    expect_usage_error("unknown shorthand flag: 'x' in -x", "stop", "-x", NULL);
    expect_usage_error(NULL, "stop", "--zzzzzzzz", NULL);
    expect_usage_error("did you mean 'deploy'?", "stack", "delpoy", NULL);
}

/* Every command: --help prints its usage on stdout in lines of 80 columns at most, each flag on
 * a line of its own with its description beside it, and a mistyped --help is caught with the
 * right guess. */
static void test_every_command(void **state)
{
    (void)state;
    char **names = command_names();
    for (size_t i = 0; names[i]; i++) {
        struct cb_result r;
        cb_run(&r, NULL, names[i], "--help", NULL);
        cb_assert_status(&r, 0);
        char *head = xasprintf("Usage:  ccompose %s", names[i]);
        if (strncmp(r.out.data, head, strlen(head)) != 0)
            fail_msg("'%s --help' does not start with '%s':\n%s", names[i], head, r.out.data);
        free(head);
        assert_fits_80(names[i], r.out.data);
        const char *opts = strstr(r.out.data, "\nOptions:\n");
        for (const char *l = opts ? opts + 10 : NULL; l && *l; l = strchr(l, '\n') + 1) {
            /* "  -x, --name type   Description" or "      --name   Description"; wrapped
             * description lines are indented further and start with no dash. */
            const char *t = l;
            while (*t == ' ')
                t++;
            if (*t != '-')
                continue;
            const char *gap = strstr(t, "  ");
            const char *eol = strchr(t, '\n');
            if (!eol)
                eol = t + strlen(t);
            if (!gap || gap > eol || !isalnum((unsigned char)gap[strspn(gap, " ")]))
                fail_msg("'%s --help': a flag without its description on its line:\n%.*s", names[i],
                         (int)(eol - l), l);
            if (!strchr(l, '\n'))
                break;
        }
        cb_result_release(&r);

        cb_run(&r, NULL, names[i], "--hepl", NULL);
        cb_assert_status(&r, 2);
        if (!strstr(r.err.data, "did you mean") || !strstr(r.err.data, "--help"))
            fail_msg("'%s --hepl' does not suggest --help (does the command parse its flags "
                     "with cli_getopt_long(), cli/flags.c?):\n%s",
                     names[i], r.err.data);
        cb_result_release(&r);
    }
    free_names(names);
}

/* Runs a test script of tests/cli/ with bash; it prints what failed and exits non-zero. */
static void run_script(const char *script)
{
    const char *argv[] = {"/bin/bash", script, NULL};
    char *out = NULL, *err = NULL;
    int rc = ct_run(".", argv, NULL, &out, &err);
    if (rc != 0)
        fail_msg("%s exited %d\n--- stdout:\n%s--- stderr:\n%s", script, rc, out, err);
    free(out);
    free(err);
}

/* bash's completion (completion/ccompose.bash) driven as bash drives it on TAB. */
static void test_bash_completion(void **state)
{
    (void)state;
    run_script("tests/cli/completion.sh");
}

/* The man page renders without a warning and describes every command of the table. */
static void test_man_page(void **state)
{
    (void)state;
    run_script("tests/cli/man.sh");
}

/* docs/spec-coverage.md has a row for every service key the model reads, and its tests exist. */
static void test_spec_coverage_table(void **state)
{
    (void)state;
    run_script("tests/cli/spec-coverage.sh");
}

/* docs/errors.md: every row names a test that exists and checks the row's words. */
static void test_error_catalogue(void **state)
{
    (void)state;
    run_script("tests/cli/errors-catalogue.sh");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_global_flags_listed), cmocka_unit_test(test_unknown_command),
        cmocka_unit_test(test_unknown_flags),       cmocka_unit_test(test_every_command),
        cmocka_unit_test(test_bash_completion),     cmocka_unit_test(test_man_page),
        cmocka_unit_test(test_spec_coverage_table), cmocka_unit_test(test_error_catalogue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
