/* command:/entrypoint: strings split as go-shellwords splits them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "compose/parse.h"

struct command_case {
    const char *in;
    const char *want; /* words joined with '|' */
};

static const struct command_case command_cases[] = {
    {"echo hello", "echo|hello"},
    {"  spaced \t\n out  ", "spaced|out"},
    {"", ""},
    {"sh -c 'echo $HOME && exit 1'", "sh|-c|echo $HOME && exit 1"},
    {"echo \"a b\" 'c d'", "echo|a b|c d"},
    {"echo \"\" ''", "echo||"},
    {"echo a\\ b", "echo|a b"},
    {"echo \"say \\\"hi\\\"\"", "echo|say \"hi\""},
    {"echo 'back\\slash'", "echo|back\\slash"},
    {"printf a\\tb\\n", "printf|a\tb\n"},
    {"echo x\"y z\"w", "echo|xy zw"},
    {"echo $(date +%s)", "echo|$(date +%s)"},
    {"echo `date +%s`", "echo|`date +%s`"},
    {"echo \\;", "echo|;"},
    {"echo 'a;b' \"c|d\"", "echo|a;b|c|d"},
};

static void test_command_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(command_cases) / sizeof(command_cases[0]); i++) {
        struct arena a = ARENA_INIT;
        struct cc_error err = CC_ERROR_INIT;
        const char **argv;
        size_t n;
        if (parse_command_line(&a, command_cases[i].in, &argv, &n, &err) != 0)
            fail_msg("'%s': %s", command_cases[i].in, err.message);
        char got[256] = "";
        for (size_t k = 0; k < n; k++) {
            if (k)
                strcat(got, "|");
            strcat(got, argv[k]);
        }
        assert_null(argv[n]);
        if (strcmp(got, command_cases[i].want) != 0)
            fail_msg("'%s': got '%s'", command_cases[i].in, got);
        cc_error_release(&err);
        arena_release(&a);
    }
}

static void test_command_errors(void **state)
{
    (void)state;
    static const char *const cases[][3] = {
        {"echo 'open", "unterminated ''' in command 'echo 'open'",
         "close what was opened, or escape the character with '\\'"},
        {"echo \"open", "unterminated '\"' in command 'echo \"open'",
         "close what was opened, or escape the character with '\\'"},
        {"echo `x", "unterminated '`' in command 'echo `x'",
         "close what was opened, or escape the character with '\\'"},
        {"echo $(x", "unterminated '$(' in command 'echo $(x'",
         "close what was opened, or escape the character with '\\'"},
        {"echo x\\", "command ends with a lone '\\': 'echo x\\'",
         "remove the trailing backslash or escape it as '\\\\'"},
        {"echo a && echo b", "shell operator '&' in command 'echo a && echo b'",
         "compose runs the command without a shell: quote the character, or write the command "
         "as [\"sh\", \"-c\", \"...\"]"},
        {"cat < in", "shell operator '<' in command 'cat < in'", NULL},
        {"echo (x)", "unexpected '(' in command 'echo (x)'",
         "quote the '(' or escape it with '\\'"},
        {"echo x)", "unexpected ')' in command 'echo x)'", "quote the ')' or escape it with '\\'"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct arena a = ARENA_INIT;
        struct cc_error err = CC_ERROR_INIT;
        const char **argv = NULL;
        size_t n = 5;
        assert_int_equal(parse_command_line(&a, cases[i][0], &argv, &n, &err), -1);
        assert_null(argv);
        assert_int_equal(n, 5);
        assert_int_equal(err.kind, CC_ERR_INVALID_CONFIG);
        assert_string_equal(err.message, cases[i][1]);
        if (cases[i][2])
            assert_string_equal(err.hint, cases[i][2]);
        cc_error_release(&err);
        arena_release(&a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_command_cases),
        cmocka_unit_test(test_command_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
