/* Loading compose text in tests: the loader run on a string (as stdin, "-") or on files in a
 * temporary directory, with a fixed environment, and assertions on the errors it reports. */
#ifndef CC_TESTS_COMPOSE_TEST_H
#define CC_TESTS_COMPOSE_TEST_H

#include "compose/compose.h"

struct ct_load {
    struct compose_project *p; /* NULL when the load failed */
    struct compose_diag diag;
    struct cc_error err;
    int rc;
};

/* Loads text as the only file ("-") of project "test" in /srv/app with environ env
 * (NULL-terminated "K=V"; NULL: none). Release r with ct_release(). */
void ct_load_text(struct ct_load *r, const char *text, const char *const *env);
/* Loads with o as given, except that environ defaults to an empty one. */
void ct_load(struct ct_load *r, struct compose_load_options *o);
void ct_release(struct ct_load *r);

/* Asserts that the load failed and error i (in file order) is at line:col of file "-" with a
 * message containing msg. */
void ct_assert_error(const struct ct_load *r, size_t i, int line, int col, const char *msg);
/* One error a test expects: where (line:col of file "-") and part of its message. */
struct ct_want {
    int line, col;
    const char *msg;
};
/* Loads text as ct_load_text() does (no environment) and asserts that it fails with exactly the
 * n errors want lists, in file order. */
void ct_expect_errors(const char *text, const struct ct_want *want, size_t n);
/* Asserts the load succeeded, printing its errors otherwise. */
void ct_assert_ok(const struct ct_load *r);

/* A new temporary directory (free() the name; ct_rmdir() removes it). */
char *ct_tmpdir(void);
/* Writes dir/rel (making its directories). */
void ct_put(const char *dir, const char *rel, const char *text);
void ct_rmdir(const char *dir);

/* Runs argv (argv[0] a path) in directory dir with stdin from in_text (may be NULL: empty),
 * waits for it, and returns its exit status (128+signal when killed); *ret_out and *ret_err
 * (may be NULL) get its standard output and error, new. */
int ct_run(const char *dir, const char *const *argv, const char *in_text, char **ret_out,
           char **ret_err);

#endif
