/* Loading compose text in tests: see compose-test.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/compose-test.h"

static const char *const no_env[] = {NULL};

void ct_load(struct ct_load *r, struct compose_load_options *o)
{
    memset(r, 0, sizeof(*r));
    compose_diag_init(&r->diag);
    cc_error_init(&r->err);
    if (!o->environ)
        o->environ = no_env;
    r->rc = compose_project_load(o, &r->p, &r->diag, &r->err);
    if (r->rc < 0)
        r->p = NULL;
}

void ct_load_text(struct ct_load *r, const char *text, const char *const *env)
{
    static const char *const files[] = {"-"};
    struct compose_load_options o = {
        .files = files,
        .n_files = 1,
        .working_dir = "/srv/app",
        .project_name = "test",
        .environ = env,
        .stdin_text = text,
    };
    ct_load(r, &o);
}

void ct_release(struct ct_load *r)
{
    compose_project_free(r->p);
    compose_diag_release(&r->diag);
    cc_error_release(&r->err);
    memset(r, 0, sizeof(*r));
}

static void print_errors(const struct ct_load *r)
{
    for (size_t i = 0; i < r->diag.n_errors; i++) {
        const struct cc_error *e = &r->diag.errors[i];
        print_message("error %zu: %s:%d:%d: %s\n", i, e->file ? e->file : "?", e->line, e->col,
                      e->message ? e->message : "");
    }
    if (!r->diag.n_errors && r->rc < 0)
        print_message("error: %s\n", r->err.message ? r->err.message : "");
}

void ct_assert_ok(const struct ct_load *r)
{
    if (r->rc != 0)
        print_errors(r);
    assert_int_equal(r->rc, 0);
    assert_non_null(r->p);
}

void ct_assert_error(const struct ct_load *r, size_t i, int line, int col, const char *msg)
{
    assert_int_equal(r->rc, -1);
    if (r->diag.n_errors <= i) {
        print_errors(r);
        fail_msg("expected at least %zu errors, got %zu", i + 1, r->diag.n_errors);
    }
    const struct cc_error *e = &r->diag.errors[i];
    if (e->line != line || e->col != col || !e->message || !strstr(e->message, msg)) {
        print_errors(r);
        fail_msg("error %zu: expected %d:%d '%s'", i, line, col, msg);
    }
    assert_int_equal(e->kind, CC_ERR_INVALID_CONFIG);
}

void ct_expect_errors(const char *text, const struct ct_want *want, size_t n)
{
    struct ct_load r;
    ct_load_text(&r, text, NULL);
    for (size_t i = 0; i < n; i++)
        ct_assert_error(&r, i, want[i].line, want[i].col, want[i].msg);
    if (r.diag.n_errors != n) {
        print_errors(&r);
        fail_msg("expected %zu errors, got %zu", n, r.diag.n_errors);
    }
    ct_release(&r);
}

char *ct_tmpdir(void)
{
    char *dir = xstrdup("/tmp/ccompose-test-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return dir;
}

void ct_put(const char *dir, const char *rel, const char *text)
{
    char *path = xasprintf("%s/%s", dir, rel);
    for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
        *p = '\0';
        mkdir(path, 0755);
        *p = '/';
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    free(path);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

void ct_rmdir(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *slurp(FILE *f)
{
    char *s = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&s, &len);
    char chunk[4096];
    size_t n;
    rewind(f);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        fwrite(chunk, 1, n, m);
    fclose(m);
    return s;
}

int ct_run(const char *dir, const char *const *argv, const char *in_text, char **ret_out,
           char **ret_err)
{
    FILE *in = tmpfile(), *out = tmpfile(), *err = tmpfile();
    assert_non_null(in);
    assert_non_null(out);
    assert_non_null(err);
    if (in_text)
        fputs(in_text, in);
    fflush(in);
    rewind(in);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (chdir(dir) != 0)
            _exit(126);
        dup2(fileno(in), 0);
        dup2(fileno(out), 1);
        dup2(fileno(err), 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        ;
    if (ret_out)
        *ret_out = slurp(out);
    if (ret_err)
        *ret_err = slurp(err);
    fclose(in);
    fclose(out);
    fclose(err);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
