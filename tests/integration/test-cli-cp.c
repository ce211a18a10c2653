/* `ccompose cp` against the real engine: a directory tree both ways with its modes, mtimes and a
 * symlink kept; docker cp's rules for where things land (into an existing directory, "dir/.",
 * a file renamed, a missing parent); a stopped container; tar streams on stdin and stdout; a large
 * file byte-exact; and the errors. Every project is removed by its label at teardown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "tests/lib/cli-test.h"
#include "tests/lib/compose-test.h"
#include "tests/lib/sched-test.h"

struct cp_fx {
    struct tl_env env;
    char *dir;
    char *project;
};

static const char stack[] = "services:\n"
                            "  web:\n"
                            "    image: " TEST_IMAGE "\n"
                            "    command: [\"sh\", \"-c\", \"trap 'exit 0' TERM; sleep 3600 & "
                            "wait\"]\n";

#define MTIME 1577934245 /* 2020-01-02 03:04:05 UTC */

static char *path_in(const char *dir, const char *rel)
{
    return xasprintf("%s/%s", dir, rel);
}

static void set_mode_time(const char *dir, const char *rel, mode_t mode)
{
    char *p = path_in(dir, rel);
    assert_int_equal(chmod(p, mode), 0);
    struct timeval tv[2] = {{.tv_sec = MTIME}, {.tv_sec = MTIME}};
    assert_int_equal(utimes(p, tv), 0);
    free(p);
}

static int setup(void **state)
{
    struct cp_fx *f = xcalloc(1, sizeof(*f));
    tl_env_init(&f->env);
    f->dir = ct_tmpdir();
    char *name = xasprintf("ccit-cp-%d", (int)getpid());
    f->project = tl_unique(name);
    free(name);
    ct_put(f->dir, "compose.yaml", stack);
    /* src/ a.txt (0604), run.sh (0755), sub/ (0751) b.txt, link -> a.txt */
    ct_put(f->dir, "src/a.txt", "hello\n");
    ct_put(f->dir, "src/run.sh", "#!/bin/sh\necho run\n");
    ct_put(f->dir, "src/sub/b.txt", "deep\n");
    char *link = path_in(f->dir, "src/link");
    assert_int_equal(symlink("a.txt", link), 0);
    free(link);
    set_mode_time(f->dir, "src/a.txt", 0604);
    set_mode_time(f->dir, "src/run.sh", 0755);
    set_mode_time(f->dir, "src/sub/b.txt", 0640);
    set_mode_time(f->dir, "src/sub", 0751);
    *state = f;
    struct cb_result r;
    cb_run(&r, f->dir, "-p", f->project, "up", "-d", NULL);
    cb_assert_status(&r, 0);
    cb_result_release(&r);
    return 0;
}

static int teardown(void **state)
{
    struct cp_fx *f = *state;
    tl_env_release(&f->env);
    st_cleanup(f->project);
    ct_rmdir(f->dir);
    free(f->dir);
    free(f->project);
    free(f);
    return 0;
}

static void ccompose_v(struct cp_fx *f, struct cb_result *r, const char *input, size_t input_len,
                       va_list ap)
{
    const char *args[24] = {"-p", f->project, "--progress", "plain"};
    size_t n = 4;
    const char *a;
    while ((a = va_arg(ap, const char *)) && n < CC_ARRAY_LEN(args))
        args[n++] = a;
    cb_runv_input(r, f->dir, input, input_len, args, n);
}

/* ccompose -p PROJECT ARGS... in the fixture's directory, with input on stdin (may be NULL). */
static void ccompose(struct cp_fx *f, struct cb_result *r, const char *input, size_t input_len, ...)
{
    va_list ap;
    va_start(ap, input_len);
    ccompose_v(f, r, input, input_len, ap);
    va_end(ap);
}

/* The same, without input, asserting that it succeeds. */
static void ok(struct cp_fx *f, ...)
{
    struct cb_result r;
    va_list ap;
    va_start(ap, f);
    ccompose_v(f, &r, NULL, 0, ap);
    va_end(ap);
    cb_assert_status(&r, 0);
    cb_result_release(&r);
}

/* What a shell command prints inside the service's container (through exec). new. */
static char *in_container(struct cp_fx *f, const char *script)
{
    struct cb_result r;
    ccompose(f, &r, NULL, 0, "exec", "-T", "web", "sh", "-c", script, NULL);
    cb_assert_status(&r, 0);
    char *out = buf_detach(&r.out);
    cb_result_release(&r);
    return out;
}

/* The tree under dir as "path mode mtime [-> target]" lines, sorted, as busybox find shows it. */
#define TREE_SCRIPT(dir)                                                                           \
    "cd " dir " && find . | sort | while read p; do "                                              \
    "if [ -L \"$p\" ]; then echo \"$p link $(readlink \"$p\")\"; "                                 \
    "else echo \"$p $(stat -c '%a %Y' \"$p\")\"; fi; done"

static void assert_local_tree(const char *root)
{
    static const struct {
        const char *rel;
        mode_t mode;
        const char *content;
    } want[] = {
        {"a.txt", 0604, "hello\n"},
        {"run.sh", 0755, "#!/bin/sh\necho run\n"},
        {"sub", 0751, NULL},
        {"sub/b.txt", 0640, "deep\n"},
    };
    for (size_t i = 0; i < CC_ARRAY_LEN(want); i++) {
        char *p = path_in(root, want[i].rel);
        struct stat st;
        assert_int_equal(lstat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, want[i].mode);
        assert_int_equal((long long)st.st_mtime, MTIME);
        if (want[i].content) {
            char *text = NULL;
            size_t len = 0;
            FILE *fp = fopen(p, "r");
            assert_non_null(fp);
            assert_int_equal(getdelim(&text, &len, '\0', fp) > 0, 1);
            fclose(fp);
            assert_string_equal(text, want[i].content);
            free(text);
        }
        free(p);
    }
    char *link = path_in(root, "link");
    char target[64] = {0};
    assert_int_equal(readlink(link, target, sizeof(target) - 1), 5);
    assert_string_equal(target, "a.txt");
    free(link);
}

static const char container_tree[] = ". 755 %s\n"
                                     "./a.txt 604 1577934245\n"
                                     "./link link a.txt\n"
                                     "./run.sh 755 1577934245\n"
                                     "./sub 751 1577934245\n"
                                     "./sub/b.txt 640 1577934245\n";

/* A tree into a container and back: names, modes, mtimes, the symlink and contents kept. */
static void test_cp_tree_both_ways(void **state)
{
    struct cp_fx *f = *state;
    struct cb_result r;
    ccompose(f, &r, NULL, 0, "cp", "src", "web:/tmp/dst", NULL);
    cb_assert_status(&r, 0);
    char *line =
        xasprintf("Container %s-web-1  Copied  src to %s-web-1:/tmp/dst", f->project, f->project);
    cb_assert_contains(buf_str(&r.err), line);
    free(line);
    cb_result_release(&r);
    char *tree = in_container(f, TREE_SCRIPT("/tmp/dst"));
    /* The top directory's own time is the source's, which setup did not fix. */
    char *top_time = xstrndup(tree + 6, strcspn(tree + 6, "\n"));
    char *want = xasprintf(container_tree, top_time);
    assert_string_equal(tree, want);
    free(want);
    free(top_time);
    free(tree);

    ok(f, "cp", "web:/tmp/dst", "back", NULL);
    char *back = path_in(f->dir, "back");
    assert_local_tree(back);

    /* Into directories that exist: the source lands inside them, under its own name. */
    ok(f, "cp", "src", "web:/tmp/dst", NULL);
    ok(f, "cp", "web:/tmp/dst", "back", NULL);
    char *nested = path_in(f->dir, "back/dst/src");
    assert_local_tree(nested);
    free(nested);
    free(back);

    /* "dir/." is the directory's contents. */
    ok(f, "cp", "src/sub/.", "web:/tmp/dst/run.sh.d", NULL);
    ok(f, "cp", "src/sub/.", "web:/tmp", NULL);
    tree = in_container(f, "ls /tmp/dst/run.sh.d; cat /tmp/b.txt");
    assert_string_equal(tree, "b.txt\ndeep\n");
    free(tree);
}

/* One file: renamed to a path that does not exist, over one that does, into a directory. */
static void test_cp_files_and_errors(void **state)
{
    struct cp_fx *f = *state;
    struct cb_result r;
    ok(f, "cp", "src/a.txt", "web:/tmp/renamed", NULL);
    ok(f, "cp", "src/run.sh", "web:/tmp/renamed", NULL);
    char *out = in_container(f, "stat -c '%a' /tmp/renamed; cat /tmp/renamed");
    assert_string_equal(out, "755\n#!/bin/sh\necho run\n");
    free(out);
    ok(f, "cp", "web:/tmp/renamed", "got.sh", NULL);
    char *got = path_in(f->dir, "got.sh");
    struct stat st;
    assert_int_equal(stat(got, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0755);
    free(got);
    /* -L: the link's target, under the link's name. */
    ok(f, "cp", "-L", "src/link", "web:/tmp", NULL);
    out = in_container(f, "[ -L /tmp/link ] || cat /tmp/link");
    assert_string_equal(out, "hello\n");
    free(out);

    ccompose(f, &r, NULL, 0, "cp", "web:/nonexistent", "x", NULL);
    cb_assert_status(&r, 1);
    cb_assert_contains(buf_str(&r.err), "could not find the file /nonexistent in container");
    cb_result_release(&r);
    ccompose(f, &r, NULL, 0, "cp", "src", "web:/tmp/renamed", NULL);
    cb_assert_status(&r, 1);
    cb_assert_contains(buf_str(&r.err), "cannot copy a directory to a file");
    cb_result_release(&r);
    ccompose(f, &r, NULL, 0, "cp", "src/a.txt", "web:/tmp/nodir/", NULL);
    cb_assert_status(&r, 1);
    cb_assert_contains(buf_str(&r.err), "no such directory");
    cb_result_release(&r);
    ccompose(f, &r, NULL, 0, "cp", "nosuch", "web:/tmp", NULL);
    cb_assert_status(&r, 1);
    cb_result_release(&r);
    ccompose(f, &r, NULL, 0, "cp", "src", "other", NULL);
    cb_assert_status(&r, 2);
    cb_result_release(&r);
    ccompose(f, &r, NULL, 0, "cp", "src", "nosuch:/tmp", NULL);
    cb_assert_status(&r, 1);
    cb_assert_contains(buf_str(&r.err), "no container found for service 'nosuch'");
    cb_result_release(&r);
}

/* A stopped container is copied to and from all the same. */
static void test_cp_stopped_container(void **state)
{
    struct cp_fx *f = *state;
    ok(f, "stop", "-t", "0", NULL);
    ok(f, "cp", "src", "web:/tmp/dst", NULL);
    ok(f, "cp", "web:/tmp/dst", "back", NULL);
    char *back = path_in(f->dir, "back");
    assert_local_tree(back);
    free(back);
}

/* "-": a tar stream on stdout and from stdin; and a 24 MB file byte-exact both ways, more than the
 * writer's queue holds (the download pauses whenever the disk is slower than the engine). */
static void test_cp_streams_and_large_file(void **state)
{
    struct cp_fx *f = *state;
    struct cb_result r;
    ok(f, "cp", "src/a.txt", "web:/tmp/a.txt", NULL);
    ccompose(f, &r, NULL, 0, "cp", "web:/tmp/a.txt", "-", NULL);
    cb_assert_status(&r, 0);
    /* A tar: the first header names the file, its content follows at 512, 1024-byte aligned. */
    assert_true(r.out.len >= 1536 && r.out.len % 512 == 0);
    assert_string_equal(r.out.data, "a.txt");
    assert_memory_equal(r.out.data + 512, "hello\n", 6);
    /* The same stream back in, from stdin, to another directory. */
    struct buf tar = BUF_INIT;
    buf_add(&tar, r.out.data, r.out.len);
    cb_result_release(&r);
    char *out = in_container(f, "mkdir -p /tmp/in");
    free(out);
    ccompose(f, &r, tar.data, tar.len, "cp", "-", "web:/tmp/in", NULL);
    cb_assert_status(&r, 0);
    cb_result_release(&r);
    buf_release(&tar);
    out = in_container(f, "cat /tmp/in/a.txt");
    assert_string_equal(out, "hello\n");
    free(out);

    size_t size = 24u * 1024 * 1024;
    char *data = cb_payload(size);
    char *big = path_in(f->dir, "big.bin");
    FILE *fp = fopen(big, "w");
    assert_int_equal(fwrite(data, 1, size, fp), size);
    fclose(fp);
    ok(f, "cp", "big.bin", "web:/tmp/big.bin", NULL);
    ok(f, "cp", "web:/tmp/big.bin", "big-back.bin", NULL);
    char *back = path_in(f->dir, "big-back.bin");
    fp = fopen(back, "r");
    assert_non_null(fp);
    char *got = xmalloc(size + 1);
    assert_int_equal(fread(got, 1, size + 1, fp), size);
    fclose(fp);
    assert_memory_equal(got, data, size);
    free(got);
    free(back);
    free(big);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cp_tree_both_ways, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cp_files_and_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cp_stopped_container, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cp_streams_and_large_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, tl_group_teardown);
}
