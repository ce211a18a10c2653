/* Helpers for tests of the ccompose binary: run it (CCOMPOSE_BIN, set by scripts/run-tests.sh,
 * else build/ccompose) with arguments and the environment given, and collect its exit status,
 * stdout and stderr. */
#ifndef CC_TESTS_CLI_TEST_H
#define CC_TESTS_CLI_TEST_H

#include <stdarg.h>

#include "common/buf.h"
#include "tests/lib/engine-test.h"

struct cb_result {
    int status; /* the exit code; 128 + N when killed by signal N */
    struct buf out;
    struct buf err;
};

/* Runs the binary with the arguments up to a NULL, in directory cwd (NULL: the current one), and
 * waits for it. Fails the test when it cannot be started. Release r with cb_result_release(). */
void cb_run(struct cb_result *r, const char *cwd, ...);
/* The same with an argv array (args[n_args] need not be NULL). */
void cb_runv(struct cb_result *r, const char *cwd, const char *const *args, size_t n_args);
/* The same with input_len bytes of input on its stdin (a pipe, closed after the last byte; NULL:
 * closed at once). */
void cb_runv_input(struct cb_result *r, const char *cwd, const char *input, size_t input_len,
                   const char *const *args, size_t n_args);
/* The same with prefix's n_prefix arguments first, then those of ap up to a NULL (at most 64 in
 * all): for a test's helper that puts its own ("-p", PROJECT, "exec") before its caller's. */
void cb_vrun_input(struct cb_result *r, const char *cwd, const char *input, size_t input_len,
                   const char *const *prefix, size_t n_prefix, va_list ap);
void cb_result_release(struct cb_result *r);
/* Runs the binary like cb_run and fails the test, showing the output, unless it exits want;
 * then, when need is not NULL, unless stdout and stderr together contain it. */
void cb_expect(int want, const char *need, const char *cwd, ...);
/* len bytes of every value in a fixed pseudo-random order (xorshift), for byte-exact transfers.
 * new. */
char *cb_payload(size_t len);
/* Fails the test, showing the output, unless the exit status is want. */
void cb_assert_status(const struct cb_result *r, int want);
/* Fails the test, showing the output, unless haystack contains needle. */
void cb_assert_contains(const char *haystack, const char *needle);

/* A run in the background, for tests that signal it while it runs. */
struct cb_proc {
    int pid;
    int out_fd; /* its stdout and stderr, merged */
    struct buf out;
};
/* Starts the binary like cb_run, with stdout and stderr on one pipe. */
void cb_spawn(struct cb_proc *p, const char *cwd, ...);
/* Reads its output until it contains needle; fails the test if the output ends first. */
void cb_read_until(struct cb_proc *p, const char *needle);
/* The same, looking only at the output from offset from on; returns where needle begins. */
size_t cb_read_until_from(struct cb_proc *p, size_t from, const char *needle);
/* Reads the rest of its output and waits for it; returns the exit status as cb_result's. */
int cb_finish(struct cb_proc *p);

/* Runs a shell command made like printf's; its system() status. */
int cb_sh(const char *fmt, ...) CC_PRINTF(1, 2);
/* The text of the tmux pane on server sock (tmux -L), new; join: wrapped lines joined and
 * trailing spaces kept (capture-pane -J). */
char *cb_tmux_pane(const char *sock, bool join);
/* The ccompose binary's absolute path (CCOMPOSE_BIN, else build/ccompose), new. */
char *cb_bin_path(void);

/* A test of a project in a temporary directory: an engine environment, the directory (removed at
 * teardown) and a unique project name (whose resources are removed at teardown by its label). */
struct cb_fx {
    struct tl_env env;
    char *dir;
    char *project;
};
/* cmocka setup and teardown making and releasing a struct cb_fx in *state. */
int cb_fx_setup(void **state);
int cb_fx_teardown(void **state);
/* Runs the binary as cb_run does with -p PROJECT first, in the fixture's directory. */
void cb_fx_run(struct cb_result *r, const struct cb_fx *f, ...);
/* The same as cb_expect: fails the test unless it exits want (and says need, when not NULL). */
void cb_fx_expect(const struct cb_fx *f, int want, const char *need, ...);
/* The fixture project's container of service number n: "<project>-<service>-<n>" (new). */
char *cb_fx_cname(const struct cb_fx *f, const char *service, int n);

/* A compose command that says "started", then stops at once on SIGTERM. */
#define CB_SLEEPER "[\"sh\", \"-c\", \"echo started; trap 'exit 0' TERM; sleep 3600 & wait\"]"

#endif
