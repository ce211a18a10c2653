/* cp's receiving end: a tar stream from the engine written to disk (or passed raw to a file
 * descriptor) on a worker thread, so that the loop never waits on the disk.
 *
 * libarchive reads by pulling while the engine's bytes are pushed to us, so the two meet in a
 * queue: the loop appends chunks (sched_untar_feed), the worker's read callback takes them,
 * waiting on a condition variable when the queue is empty. The queue is bounded: past HIGH_WATER
 * feed refuses the chunk (the transfer pauses, engine_chunk_cb), and once the worker has brought
 * it under LOW_WATER it wakes the loop (uv_async_t) to resume. The worker's end also comes back
 * through the async handle; the thread is joined there and done runs from the handle's close
 * callback, after which the struct is freed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/archive.h"
#include "common/log.h"
#include "scheduler/scheduler.h"

#define HIGH_WATER (4u * 1024 * 1024)
#define LOW_WATER  (1u * 1024 * 1024)

struct untar_chunk {
    struct untar_chunk *next;
    size_t len;
    char data[];
};

struct sched_untar {
    uv_loop_t *loop;
    uv_thread_t thread;
    uv_mutex_t mu;
    uv_cond_t cond;
    uv_async_t async;
    /* Under mu. */
    struct untar_chunk *head, *tail;
    size_t queued;
    bool eof, aborted, blocked, room, finished;
    /* The worker's. */
    struct untar_chunk *cur;
    char *dir; /* where entries go, symlinks resolved */
    char *old_base, *new_base;
    int raw_fd;
    struct cc_error err; /* read by the loop once finished */
    void (*on_room)(void *data);
    void (*done)(const struct cc_error *err, void *data);
    void *data;
};

/* The next chunk for the worker (the previous one is released): its bytes in *ret, 0 at the end,
 * -1 when the loop aborted. */
static ssize_t next_chunk(struct sched_untar *u, const void **ret)
{
    bool wake = false;
    uv_mutex_lock(&u->mu);
    if (u->cur) {
        u->queued -= u->cur->len;
        free(u->cur);
        u->cur = NULL;
        if (u->blocked && u->queued < LOW_WATER) {
            u->blocked = false;
            u->room = wake = true;
        }
    }
    while (!u->head && !u->eof && !u->aborted)
        uv_cond_wait(&u->cond, &u->mu);
    ssize_t n = 0;
    if (u->aborted) {
        n = -1;
    } else if (u->head) {
        u->cur = u->head;
        u->head = u->cur->next;
        if (!u->head)
            u->tail = NULL;
        *ret = u->cur->data;
        n = (ssize_t)u->cur->len;
    }
    uv_mutex_unlock(&u->mu);
    if (wake)
        uv_async_send(&u->async);
    return n;
}

static la_ssize_t on_archive_read(struct archive *a, void *data, const void **buf)
{
    struct sched_untar *u = data;
    ssize_t n = next_chunk(u, buf);
    if (n < 0)
        archive_set_error(a, ECANCELED, "the copy was cancelled");
    return n;
}

/* docker cp's renaming: an entry that is old_base or below it takes new_base's name instead. The
 * result is under u->dir. NULL for a name that would leave it (absolute or with ".."). new. */
static char *target_path(const struct sched_untar *u, const char *name)
{
    while (name[0] == '/')
        name++;
    const char *rest = name;
    const char *base = "";
    size_t ol = u->old_base ? strlen(u->old_base) : 0;
    if (ol && !strncmp(name, u->old_base, ol) && (name[ol] == '/' || !name[ol])) {
        base = u->new_base;
        rest = name + ol;
    }
    char *rel = xasprintf("%s%s", base, rest);
    for (const char *p = rel; (p = strstr(p, "..")); p += 2) {
        if ((p == rel || p[-1] == '/') && (p[2] == '/' || !p[2])) {
            free(rel);
            return NULL;
        }
    }
    const char *r = rel;
    while (r[0] == '/')
        r++;
    char *path = *r ? xasprintf("%s/%s", u->dir, r) : xstrdup(u->dir);
    free(rel);
    return path;
}

static int extract(struct sched_untar *u)
{
    struct archive *in = archive_read_new(), *out = archive_write_disk_new();
    archive_read_support_format_tar(in);
    /* As docker cp: modes and times kept, owners not (files belong to whoever copies). The
     * directory is resolved, so a symlink found on the way down can only come from the archive:
     * refused, as are ".." names. */
    archive_write_disk_set_options(out, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
                                            ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                            ARCHIVE_EXTRACT_SECURE_NODOTDOT);
    int rc = 0;
    if (archive_read_open(in, u, NULL, on_archive_read, NULL) != ARCHIVE_OK) {
        rc = cc_error_set(&u->err, CC_ERR_IO, "cannot read the copy's tar stream: %s",
                          archive_error_string(in));
        goto out;
    }
    struct archive_entry *e;
    int r;
    while ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(e);
        char *path = target_path(u, name ? name : "");
        if (!path) {
            rc = cc_error_set(&u->err, CC_ERR_PROTOCOL, "refusing to extract '%s': outside '%s'",
                              name, u->dir);
            goto out;
        }
        archive_entry_copy_pathname(e, path);
        free(path);
        const char *hl = archive_entry_hardlink(e);
        if (hl) {
            char *hpath = target_path(u, hl);
            if (!hpath) {
                rc = cc_error_set(&u->err, CC_ERR_PROTOCOL,
                                  "refusing to extract the link '%s': outside '%s'", hl, u->dir);
                goto out;
            }
            archive_entry_copy_hardlink(e, hpath);
            free(hpath);
        }
        if (archive_write_header(out, e) < ARCHIVE_WARN) {
            rc = cc_error_set(&u->err, CC_ERR_IO, "cannot write '%s': %s",
                              archive_entry_pathname(e), archive_error_string(out));
            goto out;
        }
        const void *block;
        size_t size;
        la_int64_t offset;
        while ((r = archive_read_data_block(in, &block, &size, &offset)) == ARCHIVE_OK) {
            if (archive_write_data_block(out, block, size, offset) < ARCHIVE_WARN) {
                rc = cc_error_set(&u->err, CC_ERR_IO, "cannot write '%s': %s",
                                  archive_entry_pathname(e), archive_error_string(out));
                goto out;
            }
        }
        if (r != ARCHIVE_EOF) {
            rc = cc_error_set(&u->err, CC_ERR_IO, "cannot read the copy's tar stream: %s",
                              archive_error_string(in));
            goto out;
        }
        if (archive_write_finish_entry(out) < ARCHIVE_WARN) {
            rc = cc_error_set(&u->err, CC_ERR_IO, "cannot write '%s': %s",
                              archive_entry_pathname(e), archive_error_string(out));
            goto out;
        }
    }
    if (r != ARCHIVE_EOF)
        rc = cc_error_set(&u->err, CC_ERR_IO, "cannot read the copy's tar stream: %s",
                          archive_error_string(in));
out:
    /* Closing applies the directories' modes and times, held back until their entries are in. */
    if (archive_write_close(out) != ARCHIVE_OK && rc == 0)
        rc = cc_error_set(&u->err, CC_ERR_IO, "cannot finish writing into '%s': %s", u->dir,
                          archive_error_string(out));
    archive_write_free(out);
    archive_read_free(in);
    return rc;
}

static int copy_raw(struct sched_untar *u)
{
    const void *buf;
    ssize_t n;
    while ((n = next_chunk(u, &buf)) > 0) {
        const char *p = buf;
        while (n > 0) {
            ssize_t w = write(u->raw_fd, p, (size_t)n);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return cc_error_set(&u->err, CC_ERR_IO, "cannot write the tar stream: %s",
                                    strerror(errno));
            p += w;
            n -= w;
        }
    }
    return n < 0 ? cc_error_set(&u->err, CC_ERR_CANCELLED, "the copy was cancelled") : 0;
}

static void worker(void *arg)
{
    struct sched_untar *u = arg;
    if (u->raw_fd >= 0)
        copy_raw(u);
    else
        extract(u);
    uv_mutex_lock(&u->mu);
    u->finished = true;
    uv_mutex_unlock(&u->mu);
    uv_async_send(&u->async);
}

static void on_closed(uv_handle_t *h)
{
    struct sched_untar *u = h->data;
    if (u->done)
        u->done(u->err.kind != CC_ERR_NONE ? &u->err : NULL, u->data);
    while (u->head) {
        struct untar_chunk *next = u->head->next;
        free(u->head);
        u->head = next;
    }
    free(u->cur);
    uv_cond_destroy(&u->cond);
    uv_mutex_destroy(&u->mu);
    cc_error_release(&u->err);
    free(u->dir);
    free(u->old_base);
    free(u->new_base);
    free(u);
}

static void on_async(uv_async_t *a)
{
    struct sched_untar *u = a->data;
    uv_mutex_lock(&u->mu);
    bool finished = u->finished, room = u->room;
    u->room = false;
    uv_mutex_unlock(&u->mu);
    if (finished) {
        uv_thread_join(&u->thread);
        uv_close((uv_handle_t *)&u->async, on_closed);
    } else if (room && u->on_room) {
        u->on_room(u->data);
    }
}

int sched_untar_new(uv_loop_t *loop, const struct sched_untar_options *opts,
                    void (*on_room)(void *data),
                    void (*done)(const struct cc_error *err, void *data), void *data,
                    struct sched_untar **ret, struct cc_error *reterr)
{
    char *dir = NULL;
    if (opts->raw_fd < 0 && !(dir = realpath(opts->dir, NULL)))
        return cc_error_set(reterr, CC_ERR_NOT_FOUND, "cannot copy into '%s': %s", opts->dir,
                            strerror(errno));
    struct sched_untar *u = xcalloc(1, sizeof(*u));
    u->loop = loop;
    u->dir = dir;
    u->old_base = opts->old_base ? xstrdup(opts->old_base) : NULL;
    u->new_base = xstrdup(opts->new_base ? opts->new_base : "");
    u->raw_fd = opts->raw_fd;
    u->on_room = on_room;
    u->done = done;
    u->data = data;
    cc_error_init(&u->err);
    uv_mutex_init(&u->mu);
    uv_cond_init(&u->cond);
    uv_async_init(loop, &u->async, on_async);
    u->async.data = u;
    if (uv_thread_create(&u->thread, worker, u) != 0) {
        /* on_closed would report; this is an argument-time failure, so say it here instead. */
        u->done = NULL;
        uv_close((uv_handle_t *)&u->async, NULL);
        cc_error_set(reterr, CC_ERR_FAILED, "cannot start a thread for the copy");
        return -1;
    }
    *ret = u;
    return 0;
}

bool sched_untar_feed(struct sched_untar *u, const char *buf, size_t len)
{
    bool taken = false;
    uv_mutex_lock(&u->mu);
    if (u->finished || u->aborted || u->eof) {
        /* The worker stopped: after the archive's end marker (the engine's padding may follow) or
         * on an error, which done reports. The bytes are dropped so that the transfer never waits
         * on a writer that is gone. */
        taken = true;
    } else if (u->queued >= HIGH_WATER) {
        u->blocked = true;
    } else {
        struct untar_chunk *c = xmalloc(sizeof(*c) + len);
        c->next = NULL;
        c->len = len;
        memcpy(c->data, buf, len);
        if (u->tail)
            u->tail->next = c;
        else
            u->head = c;
        u->tail = c;
        u->queued += len;
        taken = true;
        uv_cond_signal(&u->cond);
    }
    uv_mutex_unlock(&u->mu);
    return taken;
}

void sched_untar_end(struct sched_untar *u, bool abort)
{
    uv_mutex_lock(&u->mu);
    u->eof = true;
    if (abort)
        u->aborted = true;
    uv_cond_signal(&u->cond);
    uv_mutex_unlock(&u->mu);
}
