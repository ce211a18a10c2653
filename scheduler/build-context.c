/* The build context's tar stream, made step by step while curl sends it (see build-context.h).
 * libarchive writes unblocked into our write callback, which appends to a pending buffer;
 * build_context_read() drains that buffer and, when it is empty, takes one more step of the
 * walk: one header, or one chunk of the file being sent. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/archive.h"
#include "common/buf.h"
#include "common/log.h"
#include "scheduler/build-context.h"
#include "scheduler/dockerignore.h"

/* Larger Dockerfiles or ignore files than this are refused rather than read into memory. */
#define SMALL_FILE_MAX (4 * 1024 * 1024)

enum bc_state { BC_ROOT, BC_WALK, BC_FILE, BC_EXTRAS, BC_CLOSING, BC_DONE, BC_FAILED };

static const char *const state_names[] = {"root",    "walk", "file",  "extras",
                                          "closing", "done", "failed"};

struct frame { /* one directory being walked */
    char *rel; /* "" for the context's root */
    char **names;
    size_t n, i;
};

struct build_context {
    enum bc_state state;
    char
        *root; /* the context, symlinks resolved; cp: the source as given, its directory resolved */
    char *prefix;    /* cp: the name the source is sent as (entries below it "prefix/..."); NULL */
    bool keep_owner; /* cp -a: uid and gid as on disk */
    struct dockerignore *ignore;
    char *dockerfile_name;
    char *generated; /* the Dockerfile to add under dockerfile_name, or NULL */
    bool root_dockerignore_sent;

    struct frame *stack;
    size_t depth, stack_cap;

    struct archive *ar;
    int fd;            /* the regular file being sent, or -1 */
    int64_t remaining; /* its bytes still to send */
    char *file_rel;    /* its path, for messages */
    char *chunk;
    size_t chunk_size;

    char *pend; /* bytes libarchive produced that curl has not taken yet */
    size_t pend_len, pend_off, pend_cap, high_water;
    uint64_t total;
    struct cc_error err;
};

static void bc_set_state(struct build_context *bc, enum bc_state s)
{
    log_debug("%s: %s -> %s", __func__, state_names[bc->state], state_names[s]);
    bc->state = s;
}

static la_ssize_t on_archive_write(struct archive *a, void *data, const void *buf, size_t len)
{
    (void)a;
    struct build_context *bc = data;
    if (bc->pend_off == bc->pend_len)
        bc->pend_off = bc->pend_len = 0;
    cc_grow((void **)&bc->pend, &bc->pend_cap, bc->pend_len + len, 1);
    memcpy(bc->pend + bc->pend_len, buf, len);
    bc->pend_len += len;
    if (bc->pend_len - bc->pend_off > bc->high_water)
        bc->high_water = bc->pend_len - bc->pend_off;
    return (la_ssize_t)len;
}

/* Reads a small file whole; 1 when it does not exist. */
static int read_small_file(const char *path, struct buf *out, struct cc_error *reterr)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 1;
        return cc_error_set(reterr, CC_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
    }
    int rc = 0;
    char tmp[8192];
    for (;;) {
        ssize_t n = read(fd, tmp, sizeof(tmp));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = cc_error_set(reterr, CC_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        if (out->len + (size_t)n > SMALL_FILE_MAX) {
            rc = cc_error_set(reterr, CC_ERR_IO, "'%s' is larger than %d bytes", path,
                              SMALL_FILE_MAX);
            break;
        }
        buf_add(out, tmp, (size_t)n);
    }
    close(fd);
    return rc;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int push_dir(struct build_context *bc, const char *rel)
{
    char *abs = *rel ? xasprintf("%s/%s", bc->root, rel) : xstrdup(bc->root);
    /* O_NOFOLLOW: a directory swapped for a symlink since the walk looked at it is not followed
     * out of the context. */
    int fd = open(abs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d && fd >= 0)
        close(fd);
    if (!d) {
        cc_error_set(&bc->err, CC_ERR_IO, "cannot read directory '%s' of the build context: %s",
                     abs, strerror(errno));
        free(abs);
        return -1;
    }
    struct frame f = {.rel = xstrdup(rel)};
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        cc_grow((void **)&f.names, &cap, f.n + 1, sizeof(*f.names));
        f.names[f.n++] = xstrdup(de->d_name);
    }
    closedir(d);
    free(abs);
    if (f.n)
        qsort(f.names, f.n, sizeof(*f.names), cmp_names);
    cc_grow((void **)&bc->stack, &bc->stack_cap, bc->depth + 1, sizeof(*bc->stack));
    bc->stack[bc->depth++] = f;
    return 0;
}

static void pop_dir(struct build_context *bc)
{
    struct frame *f = &bc->stack[--bc->depth];
    for (size_t k = 0; k < f->n; k++)
        free(f->names[k]);
    free(f->names);
    free(f->rel);
}

/* Whether an entry named name could be extracted outside the directory it is extracted into:
 * absolute, or with a ".." component. The walk never makes such names (they come from readdir);
 * this keeps it so whatever the cp prefix or a future caller gives. */
static bool name_escapes(const char *name)
{
    if (name[0] == '/')
        return true;
    for (const char *p = name; (p = strstr(p, "..")); p += 2)
        if ((p == name || p[-1] == '/') && (p[2] == '/' || !p[2]))
            return true;
    return false;
}

/* The name of the entry at rel ("" for the source itself): rel, or under the cp prefix. new. */
static char *entry_name(const struct build_context *bc, const char *rel)
{
    if (!bc->prefix)
        return xstrdup(rel);
    return *rel ? xasprintf("%s/%s", bc->prefix, rel) : xstrdup(bc->prefix);
}

/* One entry: st (NULL for content we make: a file of size, 0600, time 0) gives its mode, time and,
 * for cp -a, its owner; directories get a trailing '/'. */
static int write_header(struct build_context *bc, const char *rel, const struct stat *st,
                        int64_t size, const char *link)
{
    char *base = entry_name(bc, rel);
    char *name = st && S_ISDIR(st->st_mode) ? xasprintf("%s/", base) : xstrdup(base);
    free(base);
    if (name_escapes(name)) {
        cc_error_set(&bc->err, CC_ERR_USAGE,
                     "refusing to send '%s': a name with '..' or a leading "
                     "'/' could land outside the directory it is extracted into",
                     name);
        free(name);
        return -1;
    }
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_mode(e, st ? st->st_mode : S_IFREG | 0600);
    archive_entry_set_size(e, size);
    archive_entry_set_mtime(e, st ? st->st_mtime : 0, 0);
    archive_entry_set_uid(e, st && bc->keep_owner ? st->st_uid : 0);
    archive_entry_set_gid(e, st && bc->keep_owner ? st->st_gid : 0);
    if (link)
        archive_entry_set_symlink(e, link);
    int rc = archive_write_header(bc->ar, e);
    archive_entry_free(e);
    if (rc < ARCHIVE_WARN)
        cc_error_set(&bc->err, CC_ERR_IO, "cannot add '%s' to the %s: %s", name,
                     bc->prefix ? "copy" : "build context", archive_error_string(bc->ar));
    free(name);
    return rc < ARCHIVE_WARN ? -1 : 0;
}

static int write_content(struct build_context *bc, const char *name, const char *data, size_t len)
{
    if (write_header(bc, name, NULL, (int64_t)len, NULL) < 0)
        return -1;
    if (len && archive_write_data(bc->ar, data, len) < 0)
        return cc_error_set(&bc->err, CC_ERR_IO, "cannot add '%s' to the build context: %s", name,
                            archive_error_string(bc->ar));
    return 0;
}

/* The context's .dockerignore when a Dockerfile is added: its text plus the added name. */
static int write_dockerignore(struct build_context *bc, const char *abs)
{
    struct buf text = BUF_INIT;
    int rc = abs ? read_small_file(abs, &text, &bc->err) : 0;
    if (rc >= 0) {
        buf_printf(&text, "\n%s\n", bc->dockerfile_name);
        rc = write_content(bc, ".dockerignore", text.data, text.len);
    }
    buf_release(&text);
    bc->root_dockerignore_sent = true;
    return rc < 0 ? -1 : 0;
}

/* A regular file's header (its content follows in BC_FILE steps) or a symlink's. */
static int write_leaf(struct build_context *bc, const char *rel, const char *abs,
                      const struct stat *st)
{
    if (S_ISREG(st->st_mode)) {
        bc->fd = open(abs, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (bc->fd < 0)
            return cc_error_set(&bc->err, CC_ERR_IO, "cannot open '%s': %s", abs, strerror(errno));
        int rc = write_header(bc, rel, st, st->st_size, NULL);
        bc->remaining = st->st_size;
        free(bc->file_rel);
        bc->file_rel = xstrdup(abs);
        bc_set_state(bc, BC_FILE);
        return rc;
    }
    char target[PATH_MAX];
    ssize_t n = readlink(abs, target, sizeof(target) - 1);
    if (n < 0)
        return cc_error_set(&bc->err, CC_ERR_IO, "cannot read link '%s': %s", abs, strerror(errno));
    target[n] = '\0';
    return write_header(bc, rel, st, 0, target);
}

/* cp: the source itself, a directory (then walked), a file or a symlink. */
static int root_step(struct build_context *bc)
{
    struct stat st;
    if (lstat(bc->root, &st) < 0)
        return cc_error_set(&bc->err, CC_ERR_IO, "cannot stat '%s': %s", bc->root, strerror(errno));
    bc_set_state(bc, BC_WALK);
    if (S_ISDIR(st.st_mode))
        return push_dir(bc, "") < 0 ? -1 : write_header(bc, "", &st, 0, NULL);
    if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))
        return write_leaf(bc, "", bc->root, &st);
    return cc_error_set(&bc->err, CC_ERR_USAGE, "cannot copy '%s': not a file, directory or link",
                        bc->root);
}

/* One entry of the walk: a header written, or the walk's end reached. */
static int walk_step(struct build_context *bc)
{
    while (bc->depth > 0) {
        struct frame *f = &bc->stack[bc->depth - 1];
        if (f->i == f->n) {
            pop_dir(bc);
            continue;
        }
        const char *name = f->names[f->i++];
        char *rel = *f->rel ? xasprintf("%s/%s", f->rel, name) : xstrdup(name);
        char *abs = xasprintf("%s/%s", bc->root, rel);
        struct stat st;
        int rc = 0;
        if (lstat(abs, &st) < 0) {
            if (errno == ENOENT) {
                log_debug("%s: '%s' went away during the walk, ignoring", __func__, abs);
                goto next;
            }
            rc = cc_error_set(&bc->err, CC_ERR_IO, "cannot stat '%s': %s", abs, strerror(errno));
            goto out;
        }
        bool excluded = dockerignore_excludes(bc->ignore, rel);
        if (S_ISDIR(st.st_mode)) {
            /* An excluded directory is still walked when an exception may re-include something
             * inside it; its own entry is left out then, as docker does. */
            if (excluded && !dockerignore_must_descend(bc->ignore, rel))
                goto next;
            if (push_dir(bc, rel) < 0) {
                rc = -1;
                goto out;
            }
            if (excluded)
                goto next;
            rc = write_header(bc, rel, &st, 0, NULL);
            goto out;
        }
        if (excluded)
            goto next;
        if (bc->generated && strcmp(rel, ".dockerignore") == 0 && S_ISREG(st.st_mode)) {
            rc = write_dockerignore(bc, abs);
            goto out;
        }
        if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) {
            rc = write_leaf(bc, rel, abs, &st);
            goto out;
        }
        log_debug("%s: '%s' is neither file, directory nor link, ignoring", __func__, abs);
    next:
        free(rel);
        free(abs);
        continue;
    out:
        free(rel);
        free(abs);
        return rc;
    }
    bc_set_state(bc, BC_EXTRAS);
    return 0;
}

static int file_step(struct build_context *bc)
{
    size_t want = bc->remaining < (int64_t)bc->chunk_size ? (size_t)bc->remaining : bc->chunk_size;
    ssize_t n = want ? read(bc->fd, bc->chunk, want) : 0;
    while (n < 0 && errno == EINTR)
        n = read(bc->fd, bc->chunk, want);
    if (n < 0)
        return cc_error_set(&bc->err, CC_ERR_IO, "cannot read '%s': %s", bc->file_rel,
                            strerror(errno));
    if (n == 0 && want > 0) {
        /* The file shrank since its header went out: pad to the size announced. */
        memset(bc->chunk, 0, want);
        n = (ssize_t)want;
    }
    if (n > 0 && archive_write_data(bc->ar, bc->chunk, (size_t)n) < 0)
        return cc_error_set(&bc->err, CC_ERR_IO, "cannot add '%s' to the build context: %s",
                            bc->file_rel, archive_error_string(bc->ar));
    bc->remaining -= n;
    if (bc->remaining == 0) {
        close(bc->fd);
        bc->fd = -1;
        bc_set_state(bc, BC_WALK);
    }
    return 0;
}

static int step(struct build_context *bc)
{
    switch (bc->state) {
    case BC_ROOT:
        return root_step(bc);
    case BC_WALK:
        return walk_step(bc);
    case BC_FILE:
        return file_step(bc);
    case BC_EXTRAS:
        bc_set_state(bc, BC_CLOSING);
        if (!bc->generated)
            return 0;
        if (write_content(bc, bc->dockerfile_name, bc->generated, strlen(bc->generated)) < 0)
            return -1;
        return bc->root_dockerignore_sent ? 0 : write_dockerignore(bc, NULL);
    case BC_CLOSING:
        if (archive_write_close(bc->ar) != ARCHIVE_OK)
            return cc_error_set(&bc->err, CC_ERR_IO, "cannot finish the build context: %s",
                                archive_error_string(bc->ar));
        bc_set_state(bc, BC_DONE);
        return 0;
    case BC_DONE:
    case BC_FAILED:
        break;
    }
    return 0;
}

ssize_t build_context_read(char *buf, size_t len, void *data)
{
    struct build_context *bc = data;
    while (bc->pend_off == bc->pend_len && bc->state != BC_DONE && bc->state != BC_FAILED) {
        if (step(bc) < 0) {
            log_debug("%s: %s", __func__, bc->err.message);
            bc_set_state(bc, BC_FAILED);
        }
    }
    if (bc->state == BC_FAILED)
        return -1;
    size_t n = bc->pend_len - bc->pend_off;
    if (n > len)
        n = len;
    memcpy(buf, bc->pend + bc->pend_off, n);
    bc->pend_off += n;
    bc->total += n;
    return (ssize_t)n;
}

static char *generated_name(const char *content)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    EVP_Digest(content, strlen(content), md, &md_len, EVP_sha256(), NULL);
    char hex[21];
    for (int k = 0; k < 10; k++)
        snprintf(hex + 2 * k, 3, "%02x", md[k]);
    return xasprintf(".dockerfile.%s", hex);
}

/* Finds the Dockerfile: its name inside the context, or its text to add. */
static int resolve_dockerfile(struct build_context *bc, const struct build_context_options *o,
                              char **ret_abs, struct cc_error *reterr)
{
    if (o->dockerfile_inline) {
        bc->generated = xstrdup(o->dockerfile_inline);
        bc->dockerfile_name = generated_name(bc->generated);
        *ret_abs = NULL;
        return 0;
    }
    const char *df = o->dockerfile ? o->dockerfile : "Dockerfile";
    char *abs = df[0] == '/' ? xstrdup(df) : xasprintf("%s/%s", o->context, df);
    char *real = realpath(abs, NULL);
    if (!real) {
        cc_error_set(reterr, errno == ENOENT ? CC_ERR_NOT_FOUND : CC_ERR_IO,
                     "cannot find Dockerfile '%s': %s", abs, strerror(errno));
        cc_error_hint(reterr, "check build.dockerfile; it is relative to build.context");
        free(abs);
        return -1;
    }
    size_t rlen = strlen(bc->root);
    if (strncmp(real, bc->root, rlen) == 0 && real[rlen] == '/') {
        bc->dockerfile_name = xstrdup(real + rlen + 1);
    } else {
        struct buf text = BUF_INIT;
        if (read_small_file(real, &text, reterr) != 0) {
            buf_release(&text);
            free(real);
            free(abs);
            return -1;
        }
        bc->generated = buf_detach(&text);
        bc->dockerfile_name = generated_name(bc->generated);
    }
    free(real);
    *ret_abs = abs;
    return 0;
}

/* Reads `<Dockerfile>.dockerignore`, else the context's .dockerignore; then makes sure the
 * Dockerfile and .dockerignore are sent whatever the patterns say (docker's rule). */
static int load_ignore(struct build_context *bc, const char *dockerfile_abs,
                       struct cc_error *reterr)
{
    struct buf text = BUF_INIT;
    char *path = NULL;
    int rc = 1;
    if (dockerfile_abs) {
        path = xasprintf("%s.dockerignore", dockerfile_abs);
        rc = read_small_file(path, &text, reterr);
    }
    if (rc == 1) {
        free(path);
        path = xasprintf("%s/.dockerignore", bc->root);
        rc = read_small_file(path, &text, reterr);
    }
    if (rc == 0)
        rc = dockerignore_parse(bc->ignore, path, text.data ? text.data : "", text.len, reterr);
    if (rc == 1)
        rc = 0;
    if (rc == 0 && dockerignore_excludes(bc->ignore, ".dockerignore"))
        dockerignore_add(bc->ignore, "!.dockerignore", NULL);
    if (rc == 0 && !bc->generated && dockerignore_excludes(bc->ignore, bc->dockerfile_name)) {
        char *keep = xasprintf("!%s", bc->dockerfile_name);
        rc = dockerignore_add(bc->ignore, keep, reterr);
        free(keep);
    }
    free(path);
    buf_release(&text);
    return rc;
}

static int open_archive(struct build_context *bc, struct cc_error *reterr)
{
    bc->chunk = xmalloc(bc->chunk_size);
    bc->ar = archive_write_new();
    archive_write_set_format_pax_restricted(bc->ar);
    /* Unblocked: every write reaches the callback at once, with no block padding. */
    archive_write_set_bytes_per_block(bc->ar, 0);
    archive_write_set_bytes_in_last_block(bc->ar, 1);
    if (archive_write_open2(bc->ar, bc, NULL, on_archive_write, NULL, NULL) != ARCHIVE_OK)
        return cc_error_set(reterr, CC_ERR_IO, "cannot start the tar stream: %s",
                            archive_error_string(bc->ar));
    return 0;
}

int build_context_new_copy(const char *path, const char *name, bool keep_owner, bool follow_link,
                           struct build_context **ret, struct cc_error *reterr)
{
    struct build_context *bc = xcalloc(1, sizeof(*bc));
    int rc = -1;
    bc->fd = -1;
    bc->chunk_size = BUILD_CONTEXT_CHUNK;
    bc->prefix = xstrdup(name);
    bc->keep_owner = keep_owner;
    /* "." is docker cp's "the directory's contents"; ".." or a path could leave the directory. */
    if (!*name || strchr(name, '/') || !strcmp(name, "..")) {
        cc_error_set(reterr, CC_ERR_USAGE,
                     "cannot copy '%s' as '%s': the name must be one path component, not '..'",
                     path, name);
        cc_error_hint(reterr, "name the destination file or directory itself");
        goto out;
    }
    /* The directories above the source are resolved; the source itself only with -L, so that a
     * symlink is sent as a link. */
    char *dir = xstrdup(path), *slash = strrchr(dir, '/');
    const char *base = slash ? slash + 1 : path;
    if (slash == dir)
        dir[1] = '\0';
    else if (slash)
        *slash = '\0';
    char *rdir = realpath(slash ? dir : ".", NULL);
    if (follow_link)
        bc->root = realpath(path, NULL);
    else if (rdir)
        bc->root = *base ? xasprintf("%s/%s", strcmp(rdir, "/") ? rdir : "", base) : xstrdup(rdir);
    free(dir);
    free(rdir);
    struct stat st;
    if (!bc->root || lstat(bc->root, &st) < 0) {
        cc_error_set(reterr, CC_ERR_NOT_FOUND, "cannot copy '%s': %s", path, strerror(errno));
        goto out;
    }
    if (open_archive(bc, reterr) < 0)
        goto out;
    bc_set_state(bc, BC_ROOT);
    *ret = bc;
    bc = NULL;
    rc = 0;
out:
    build_context_free(bc);
    return rc;
}

int build_context_new(const struct build_context_options *opts, struct build_context **ret,
                      struct cc_error *reterr)
{
    struct build_context *bc = xcalloc(1, sizeof(*bc));
    char *dockerfile_abs = NULL;
    int rc = -1;
    bc->fd = -1;
    bc_set_state(bc, BC_WALK);
    bc->ignore = dockerignore_new();
    bc->chunk_size = opts->chunk_size ? opts->chunk_size : BUILD_CONTEXT_CHUNK;
    bc->root = realpath(opts->context, NULL);
    struct stat st;
    if (!bc->root || stat(bc->root, &st) < 0 || !S_ISDIR(st.st_mode)) {
        cc_error_set(reterr, CC_ERR_NOT_FOUND, "build context '%s' is not a directory",
                     opts->context);
        cc_error_hint(reterr, "check build.context; it is relative to the project directory");
        goto out;
    }
    if (resolve_dockerfile(bc, opts, &dockerfile_abs, reterr) < 0 ||
        load_ignore(bc, dockerfile_abs, reterr) < 0)
        goto out;
    if (push_dir(bc, "") < 0) {
        cc_error_move(reterr, &bc->err);
        goto out;
    }
    if (open_archive(bc, reterr) < 0)
        goto out;
    *ret = bc;
    bc = NULL;
    rc = 0;
out:
    free(dockerfile_abs);
    build_context_free(bc);
    return rc;
}

void build_context_free(struct build_context *bc)
{
    if (!bc)
        return;
    if (bc->ar)
        archive_write_free(bc->ar);
    while (bc->depth > 0)
        pop_dir(bc);
    free(bc->stack);
    if (bc->fd >= 0)
        close(bc->fd);
    free(bc->file_rel);
    free(bc->chunk);
    free(bc->pend);
    dockerignore_free(bc->ignore);
    free(bc->generated);
    free(bc->dockerfile_name);
    free(bc->root);
    free(bc->prefix);
    cc_error_release(&bc->err);
    free(bc);
}

const char *build_context_dockerfile(const struct build_context *bc)
{
    return bc->dockerfile_name;
}

size_t build_context_high_water(const struct build_context *bc)
{
    return bc->high_water;
}

uint64_t build_context_bytes(const struct build_context *bc)
{
    return bc->total;
}

const struct cc_error *build_context_error(const struct build_context *bc)
{
    return bc->state == BC_FAILED ? &bc->err : NULL;
}
