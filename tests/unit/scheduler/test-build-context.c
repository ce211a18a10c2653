/* The build context tar stream, read back with libarchive: exactly the entries docker would send,
 * with their modes, mtimes, link targets and contents, and memory bounded by one chunk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/util.h"
#include "scheduler/build-context.h"

#define BIG_SIZE (20 * 1024 * 1024)

static unsigned char big_byte(size_t i)
{
    return (unsigned char)((i * 7 + i / 4096) & 0xff);
}

static void write_file(const char *dir, const char *rel, const char *content, mode_t mode)
{
    char *path = xasprintf("%s/%s", dir, rel);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
    free(path);
}

static void make_dir(const char *dir, const char *rel)
{
    char *path = xasprintf("%s/%s", dir, rel);
    assert_int_equal(mkdir(path, 0755), 0);
    free(path);
}

static void set_mtime(const char *dir, const char *rel, time_t t)
{
    char *path = xasprintf("%s/%s", dir, rel);
    struct timespec ts[2] = {{t, 0}, {t, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
    free(path);
}

static char *make_tmpdir(void)
{
    char *d = xstrdup("/tmp/ccompose-bctx-XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static void remove_tree(const char *dir)
{
    char *cmd = xasprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

/* One entry of the stream as read back. */
struct entry {
    char name[256];
    mode_t mode; /* type and permission bits */
    int64_t size, uid, gid;
    time_t mtime;
    char link[256];
    char content[256]; /* small files */
    bool big_ok;       /* the 20 MB file's bytes were all as written */
};

struct reader {
    struct build_context *bc;
    char buf[10000]; /* an odd size: reads never line up with tar blocks */
    int calls;
};

static la_ssize_t on_read(struct archive *a, void *data, const void **out)
{
    (void)a;
    struct reader *r = data;
    r->calls++;
    ssize_t n = build_context_read(r->buf, sizeof(r->buf), r->bc);
    *out = r->buf;
    return n;
}

static size_t read_stream(struct build_context *bc, struct entry *entries, size_t max)
{
    struct reader r = {.bc = bc};
    struct archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    assert_int_equal(archive_read_open(a, &r, NULL, on_read, NULL), ARCHIVE_OK);
    size_t n = 0;
    struct archive_entry *ae;
    static char chunk[65536];
    while (archive_read_next_header(a, &ae) == ARCHIVE_OK) {
        assert_true(n < max);
        struct entry *e = &entries[n++];
        memset(e, 0, sizeof(*e));
        snprintf(e->name, sizeof(e->name), "%s", archive_entry_pathname(ae));
        e->mode = archive_entry_mode(ae);
        e->size = archive_entry_size(ae);
        e->uid = archive_entry_uid(ae);
        e->gid = archive_entry_gid(ae);
        e->mtime = archive_entry_mtime(ae);
        if (archive_entry_symlink(ae))
            snprintf(e->link, sizeof(e->link), "%s", archive_entry_symlink(ae));
        size_t off = 0;
        bool big_ok = true;
        la_ssize_t got;
        while ((got = archive_read_data(a, chunk, sizeof(chunk))) > 0) {
            for (la_ssize_t k = 0; k < got; k++) {
                if (off + (size_t)k < sizeof(e->content) - 1)
                    e->content[off + (size_t)k] = chunk[k];
                if ((unsigned char)chunk[k] != big_byte(off + (size_t)k))
                    big_ok = false;
            }
            off += (size_t)got;
        }
        assert_int_equal(got, 0);
        assert_int_equal(off, (size_t)e->size);
        e->big_ok = big_ok && off == BIG_SIZE;
    }
    assert_int_equal(archive_read_free(a), ARCHIVE_OK);
    assert_true(r.calls > 1);
    return n;
}

static const struct entry *find(const struct entry *entries, size_t n, const char *name)
{
    for (size_t k = 0; k < n; k++)
        if (strcmp(entries[k].name, name) == 0)
            return &entries[k];
    return NULL;
}

static void test_stream_entries(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    write_file(dir, "Dockerfile", "FROM scratch\nCOPY . /\n", 0644);
    write_file(dir, ".dockerignore",
               "# build junk\n*.log\nsecret\n!secret/keep.txt\nignored-dir\n**/*.tmp\n", 0644);
    write_file(dir, "a.txt", "hello a\n", 0640);
    set_mtime(dir, "a.txt", 1234567890);
    write_file(dir, "app.log", "log\n", 0644);
    write_file(dir, "run.sh", "#!/bin/sh\n", 0755);
    make_dir(dir, "src");
    make_dir(dir, "src/lib");
    write_file(dir, "src/lib/x.c", "int x;\n", 0600);
    write_file(dir, "src/lib/x.tmp", "tmp\n", 0600);
    make_dir(dir, "secret");
    write_file(dir, "secret/hidden", "no\n", 0600);
    write_file(dir, "secret/keep.txt", "yes\n", 0600);
    make_dir(dir, "ignored-dir");
    write_file(dir, "ignored-dir/f", "no\n", 0600);
    char *p = xasprintf("%s/link", dir);
    assert_int_equal(symlink("a.txt", p), 0);
    free(p);
    p = xasprintf("%s/dangle", dir);
    assert_int_equal(symlink("/nonexistent/target", p), 0);
    free(p);
    p = xasprintf("%s/big.bin", dir);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    for (size_t i = 0; i < BIG_SIZE; i++)
        fputc(big_byte(i), f);
    fclose(f);
    free(p);

    struct build_context *bc = NULL;
    struct cc_error err = CC_ERROR_INIT;
    struct build_context_options o = {.context = dir};
    assert_int_equal(build_context_new(&o, &bc, &err), 0);
    assert_string_equal(build_context_dockerfile(bc), "Dockerfile");
    struct entry entries[32];
    size_t n = read_stream(bc, entries, 32);
    static const char *const expected[] = {
        ".dockerignore", "Dockerfile",      "a.txt", "big.bin",  "dangle",      "link",
        "run.sh",        "secret/keep.txt", "src/",  "src/lib/", "src/lib/x.c",
    };
    assert_int_equal(n, CC_ARRAY_LEN(expected));
    for (size_t k = 0; k < n; k++) {
        assert_string_equal(entries[k].name, expected[k]);
        assert_int_equal(entries[k].uid, 0);
        assert_int_equal(entries[k].gid, 0);
    }
    const struct entry *e = find(entries, n, "a.txt");
    assert_int_equal(e->mode, S_IFREG | 0640);
    assert_int_equal(e->mtime, 1234567890);
    assert_string_equal(e->content, "hello a\n");
    assert_int_equal(find(entries, n, "run.sh")->mode, S_IFREG | 0755);
    assert_int_equal(find(entries, n, "src/lib/")->mode, S_IFDIR | 0755);
    assert_string_equal(find(entries, n, "secret/keep.txt")->content, "yes\n");
    e = find(entries, n, "link");
    assert_int_equal(e->mode & S_IFMT, S_IFLNK);
    assert_string_equal(e->link, "a.txt");
    assert_int_equal(e->size, 0);
    assert_string_equal(find(entries, n, "dangle")->link, "/nonexistent/target");
    e = find(entries, n, "big.bin");
    assert_int_equal(e->size, BIG_SIZE);
    assert_true(e->big_ok);
    /* Memory: one chunk and a header or two, never the file. */
    assert_true(build_context_high_water(bc) <= BUILD_CONTEXT_CHUNK + 4096);
    assert_true(build_context_bytes(bc) > BIG_SIZE);
    assert_null(build_context_error(bc));
    build_context_free(bc);
    remove_tree(dir);
    free(dir);
}

/* A Dockerfile outside the context goes in under a generated name, which the context's
 * .dockerignore then names; the same text always gets the same name. */
static void test_dockerfile_outside(void **state)
{
    (void)state;
    char *dir = make_tmpdir(), *other = make_tmpdir();
    make_dir(dir, "ctx");
    char *ctx = xasprintf("%s/ctx", dir);
    write_file(ctx, "f", "f\n", 0644);
    write_file(ctx, ".dockerignore", "*.log", 0644);
    write_file(other, "build.Dockerfile", "FROM scratch\n", 0644);
    char *df = xasprintf("%s/build.Dockerfile", other);
    struct build_context *bc = NULL;
    struct build_context_options o = {.context = ctx, .dockerfile = df};
    assert_int_equal(build_context_new(&o, &bc, NULL), 0);
    const char *name = build_context_dockerfile(bc);
    assert_int_equal(strncmp(name, ".dockerfile.", 12), 0);
    assert_int_equal(strlen(name), 12 + 20);
    struct entry entries[8];
    size_t n = read_stream(bc, entries, 8);
    assert_int_equal(n, 3);
    assert_string_equal(entries[0].name, ".dockerignore");
    char *ignore = xasprintf("*.log\n%s\n", name);
    assert_string_equal(entries[0].content, ignore);
    free(ignore);
    assert_string_equal(entries[1].name, "f");
    assert_string_equal(entries[2].name, name);
    assert_string_equal(entries[2].content, "FROM scratch\n");
    assert_int_equal(entries[2].mode, S_IFREG | 0600);

    /* The same text inline: the same name; no .dockerignore in the context: one is made. */
    char *ign = xasprintf("%s/.dockerignore", ctx);
    assert_int_equal(unlink(ign), 0);
    free(ign);
    struct build_context *bc2 = NULL;
    struct build_context_options o2 = {.context = ctx, .dockerfile_inline = "FROM scratch\n"};
    assert_int_equal(build_context_new(&o2, &bc2, NULL), 0);
    assert_string_equal(build_context_dockerfile(bc2), name);
    n = read_stream(bc2, entries, 8);
    assert_int_equal(n, 3);
    assert_string_equal(entries[0].name, "f");
    assert_string_equal(entries[1].name, name);
    assert_string_equal(entries[2].name, ".dockerignore");
    ignore = xasprintf("\n%s\n", name);
    assert_string_equal(entries[2].content, ignore);
    free(ignore);
    build_context_free(bc2);
    build_context_free(bc);
    free(df);
    free(ctx);
    remove_tree(dir);
    remove_tree(other);
    free(dir);
    free(other);
}

/* `<Dockerfile>.dockerignore` wins over the context's; the Dockerfile and .dockerignore are sent
 * even when the patterns exclude them. */
static void test_ignore_precedence(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    make_dir(dir, "docker");
    write_file(dir, "docker/app.Dockerfile", "FROM scratch\n", 0644);
    write_file(dir, "docker/app.Dockerfile.dockerignore", "*\n", 0644);
    write_file(dir, ".dockerignore", "a\n", 0644);
    write_file(dir, "a", "a\n", 0644);
    write_file(dir, "b", "b\n", 0644);
    struct build_context *bc = NULL;
    struct build_context_options o = {.context = dir, .dockerfile = "docker/app.Dockerfile"};
    assert_int_equal(build_context_new(&o, &bc, NULL), 0);
    assert_string_equal(build_context_dockerfile(bc), "docker/app.Dockerfile");
    struct entry entries[8];
    size_t n = read_stream(bc, entries, 8);
    assert_int_equal(n, 2);
    assert_string_equal(entries[0].name, ".dockerignore");
    assert_string_equal(entries[1].name, "docker/app.Dockerfile");
    build_context_free(bc);

    /* Without the Dockerfile's own ignore file, the context's applies. */
    char *own = xasprintf("%s/docker/app.Dockerfile.dockerignore", dir);
    assert_int_equal(unlink(own), 0);
    free(own);
    assert_int_equal(build_context_new(&o, &bc, NULL), 0);
    n = read_stream(bc, entries, 8);
    assert_int_equal(n, 4);
    assert_string_equal(entries[0].name, ".dockerignore");
    assert_string_equal(entries[1].name, "b");
    assert_string_equal(entries[2].name, "docker/");
    assert_string_equal(entries[3].name, "docker/app.Dockerfile");
    build_context_free(bc);
    remove_tree(dir);
    free(dir);
}

static void test_errors(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    struct build_context *bc = NULL;
    struct cc_error err = CC_ERROR_INIT;
    struct build_context_options o = {.context = "/nonexistent/ctx"};
    assert_int_equal(build_context_new(&o, &bc, &err), -1);
    assert_null(bc);
    assert_int_equal(err.kind, CC_ERR_NOT_FOUND);
    assert_string_equal(err.message, "build context '/nonexistent/ctx' is not a directory");
    o.context = dir;
    assert_int_equal(build_context_new(&o, &bc, &err), -1);
    assert_int_equal(err.kind, CC_ERR_NOT_FOUND);
    char *want =
        xasprintf("cannot find Dockerfile '%s/Dockerfile': No such file or directory", dir);
    assert_string_equal(err.message, want);
    free(want);
    write_file(dir, "Dockerfile", "FROM scratch\n", 0644);
    write_file(dir, ".dockerignore", "ok\n[oops\n", 0644);
    assert_int_equal(build_context_new(&o, &bc, &err), -1);
    assert_int_equal(err.kind, CC_ERR_INVALID_CONFIG);
    assert_int_equal(err.line, 2);
    cc_error_release(&err);
    remove_tree(dir);
    free(dir);
}

/* The whole stream's bytes, for looking for what must not be in it. */
static void read_raw(struct build_context *bc, struct buf *out)
{
    char chunk[10000];
    ssize_t n;
    while ((n = build_context_read(chunk, sizeof(chunk), bc)) > 0)
        buf_add(out, chunk, (size_t)n);
    assert_int_equal(n, 0);
}

/* Nothing outside the context gets in: symlinks to files and directories outside (absolute and
 * with "..") go as links and are never followed, and the bytes of what they point to are nowhere
 * in the stream. */
static void test_nothing_leaks(void **state)
{
    (void)state;
    char *dir = make_tmpdir(), *outside = make_tmpdir();
    write_file(outside, "private.txt", "OUTSIDE-PRIVATE-7c1d\n", 0600);
    make_dir(outside, "tree");
    write_file(outside, "tree/deep.txt", "OUTSIDE-DEEP-93ab\n", 0644);
    make_dir(dir, "ctx");
    char *ctx = xasprintf("%s/ctx", dir);
    write_file(ctx, "Dockerfile", "FROM scratch\n", 0644);
    char *p = xasprintf("%s/abs-file", ctx), *t = xasprintf("%s/private.txt", outside);
    assert_int_equal(symlink(t, p), 0);
    free(p);
    free(t);
    p = xasprintf("%s/abs-dir", ctx);
    t = xasprintf("%s/tree", outside);
    assert_int_equal(symlink(t, p), 0);
    free(p);
    free(t);
    /* ../../../<outside's name>/tree: out of the context through "..". */
    p = xasprintf("%s/up-dir", ctx);
    t = xasprintf("../../..%s/tree", outside);
    assert_int_equal(symlink(t, p), 0);
    free(p);
    struct build_context *bc = NULL;
    struct build_context_options o = {.context = ctx};
    assert_int_equal(build_context_new(&o, &bc, NULL), 0);
    struct entry entries[8];
    size_t n = read_stream(bc, entries, 8);
    build_context_free(bc);
    assert_int_equal(n, 4);
    assert_string_equal(entries[0].name, "Dockerfile");
    assert_string_equal(entries[1].name, "abs-dir");
    assert_string_equal(entries[2].name, "abs-file");
    assert_string_equal(entries[3].name, "up-dir");
    for (size_t k = 1; k < 4; k++) {
        assert_int_equal(entries[k].mode & S_IFMT, S_IFLNK);
        assert_int_equal(entries[k].size, 0);
    }
    assert_string_equal(entries[3].link, t);
    free(t);
    struct buf raw = BUF_INIT;
    assert_int_equal(build_context_new(&o, &bc, NULL), 0);
    read_raw(bc, &raw);
    build_context_free(bc);
    assert_null(memmem(raw.data, raw.len, "OUTSIDE-", 8));
    buf_release(&raw);

    /* A Dockerfile reached through ".." or through a link out of the context is sent alone,
     * under its generated name; nothing beside it comes along. */
    write_file(outside, "Dockerfile", "FROM scratch\nLABEL from=outside\n", 0644);
    p = xasprintf("%s/linked.Dockerfile", ctx);
    t = xasprintf("%s/Dockerfile", outside);
    assert_int_equal(symlink(t, p), 0);
    free(p);
    free(t);
    char *rel = xasprintf("../../..%s/Dockerfile", outside);
    const char *const dockerfiles[] = {rel, "linked.Dockerfile"};
    for (size_t k = 0; k < 2; k++) {
        struct build_context_options od = {.context = ctx, .dockerfile = dockerfiles[k]};
        assert_int_equal(build_context_new(&od, &bc, NULL), 0);
        char *name = xstrdup(build_context_dockerfile(bc));
        assert_int_equal(strncmp(name, ".dockerfile.", 12), 0);
        n = read_stream(bc, entries, 8);
        build_context_free(bc);
        const struct entry *e = find(entries, n, name);
        free(name);
        assert_non_null(e);
        assert_string_equal(e->content, "FROM scratch\nLABEL from=outside\n");
        assert_int_equal(e->mode, S_IFREG | 0600);
        for (size_t i = 0; i < n; i++)
            assert_null(strstr(entries[i].content, "OUTSIDE-"));
        assert_int_equal(find(entries, n, "linked.Dockerfile")->mode & S_IFMT, S_IFLNK);
    }
    free(rel);
    free(ctx);
    remove_tree(dir);
    remove_tree(outside);
    free(dir);
    free(outside);
}

/* cp's name for what it sends is one path component: ".." is refused before anything is read. */
static void test_copy_name_refused(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    write_file(dir, "f", "f\n", 0644);
    char *path = xasprintf("%s/f", dir);
    const char *const bad[] = {"..", "a/../b", "/etc", ""};
    for (size_t k = 0; k < CC_ARRAY_LEN(bad); k++) {
        struct build_context *bc = NULL;
        struct cc_error err = CC_ERROR_INIT;
        assert_int_equal(build_context_new_copy(path, bad[k], false, false, &bc, &err), -1);
        assert_null(bc);
        assert_int_equal(err.kind, CC_ERR_USAGE);
        char *want = xasprintf("cannot copy '%s' as '%s': the name must be one path component, "
                               "not '..'",
                               path, bad[k]);
        assert_string_equal(err.message, want);
        free(want);
        cc_error_release(&err);
    }
    /* "." (a directory's contents) is fine. */
    struct build_context *bc = NULL;
    assert_int_equal(build_context_new_copy(dir, ".", false, false, &bc, NULL), 0);
    struct entry entries[4];
    size_t n = read_stream(bc, entries, 4);
    assert_int_equal(n, 2);
    assert_string_equal(entries[1].name, "./f");
    build_context_free(bc);
    free(path);
    remove_tree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_entries),    cmocka_unit_test(test_dockerfile_outside),
        cmocka_unit_test(test_ignore_precedence), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_nothing_leaks),     cmocka_unit_test(test_copy_name_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
