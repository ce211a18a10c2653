/* Helpers for tests of the ccompose binary: run it (CCOMPOSE_BIN, set by scripts/run-tests.sh,
 * else build/ccompose) with arguments and the environment given, and collect its exit status,
 * stdout and stderr. */
#ifndef CC_TESTS_CLI_TEST_H
#define CC_TESTS_CLI_TEST_H

#include "common/buf.h"

struct ct_result {
    int status; /* the exit code; 128 + N when killed by signal N */
    struct buf out;
    struct buf err;
};

/* Runs the binary with the arguments up to a NULL, in directory cwd (NULL: the current one), and
 * waits for it. Fails the test when it cannot be started. Release r with ct_result_release(). */
void ct_run(struct ct_result *r, const char *cwd, ...);
/* The same with an argv array (args[n_args] need not be NULL). */
void ct_runv(struct ct_result *r, const char *cwd, const char *const *args, size_t n_args);
void ct_result_release(struct ct_result *r);
/* Fails the test, showing the output, unless the exit status is want. */
void ct_assert_status(const struct ct_result *r, int want);
/* Fails the test, showing the output, unless haystack contains needle. */
void ct_assert_contains(const char *haystack, const char *needle);

/* A run in the background, for tests that signal it while it runs. */
struct ct_proc {
    int pid;
    int out_fd; /* its stdout and stderr, merged */
    struct buf out;
};
/* Starts the binary like ct_run, with stdout and stderr on one pipe. */
void ct_spawn(struct ct_proc *p, const char *cwd, ...);
/* Reads its output until it contains needle; fails the test if the output ends first. */
void ct_read_until(struct ct_proc *p, const char *needle);
/* Reads the rest of its output and waits for it; returns the exit status as ct_result's. */
int ct_finish(struct ct_proc *p);

/* Writes text to dir/name (dir made when missing). Returns the path (new). */
char *ct_write_file(const char *dir, const char *name, const char *text);
/* A new temporary directory (new path); ct_rmdir() removes it with what is in it. */
char *ct_tmpdir(void);
void ct_rmdir(const char *dir);

#endif
