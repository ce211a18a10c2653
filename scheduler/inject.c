/* Secrets and configs copied into a container between create and start, as docker compose copies
 * those that come from an environment variable or inline content (PUT /containers/{id}/archive at
 * "/", one tar entry per file with its mode and owner). A file: source is a read-only bind of the
 * file instead (body.c), unless the service asks for a uid, gid or mode, which a bind cannot give:
 * then it is copied too (docker compose ignores them with a warning; docs/security.md says why we
 * do not). The bytes live only in memory, never in a message: errors name the secret and where it
 * comes from, not what it holds. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/archive.h"
#include "common/buf.h"
#include "scheduler/scheduler-internal.h"
#include "scheduler/scheduler.h"

bool sched_file_ref_copied(const struct compose_file_ref *r, const struct compose_file_def *d)
{
    if (d->external)
        return false;
    if (!d->file)
        return d->environment || d->content;
    return r->uid || r->gid || r->mode != COMPOSE_UNSET;
}

char *sched_file_ref_target(const struct compose_file_ref *r, const char *base)
{
    if (!r->target)
        return xasprintf("%s%s", base, r->source);
    return r->target[0] == '/' ? xstrdup(r->target) : xasprintf("%s%s", base, r->target);
}

static la_ssize_t on_tar_write(struct archive *a, void *data, const void *bytes, size_t len)
{
    (void)a;
    buf_add(data, bytes, len);
    return (la_ssize_t)len;
}

static int parse_id(const char *v, const char *field, const char *what,
                    const struct compose_file_ref *r, const struct compose_service *s,
                    la_int64_t *ret, struct cc_error *reterr)
{
    char *end = NULL;
    errno = 0;
    long long n = v ? strtoll(v, &end, 10) : 0;
    if (v && (!*v || *end || errno || n < 0)) {
        cc_error_set(reterr, CC_ERR_INVALID_CONFIG,
                     "%s '%s' of service '%s': %s '%s' is not a number", what, r->source, s->name,
                     field, v);
        cc_error_hint(reterr, "give the numeric %s (names are not looked up in the image)", field);
        return -1;
    }
    *ret = n;
    return 0;
}

/* Adds the copied refs of one kind to the tar. */
static int add_refs(struct archive *ar, const struct compose_service *s,
                    const struct compose_file_ref *refs, size_t n,
                    const struct compose_file_def *defs, size_t n_defs, const char *what,
                    const char *base, struct cc_error *reterr)
{
    for (size_t i = 0; i < n; i++) {
        const struct compose_file_ref *r = &refs[i];
        const struct compose_file_def *d = NULL;
        for (size_t k = 0; k < n_defs && !d; k++)
            if (!strcmp(defs[k].key, r->source))
                d = &defs[k];
        if (!d || !sched_file_ref_copied(r, d))
            continue; /* undefined ones fail in the body */
        if (s->read_only) {
            cc_error_set(reterr, CC_ERR_INVALID_CONFIG,
                         "cannot copy %s '%s' into service '%s': its root file system is "
                         "read-only",
                         what, r->source, s->name);
            cc_error_hint(reterr,
                          "give the %s as a file: without uid, gid and mode (a read-only "
                          "bind), or drop read_only",
                          what);
            return -1;
        }
        la_int64_t uid = 0, gid = 0;
        if (parse_id(r->uid, "uid", what, r, s, &uid, reterr) < 0 ||
            parse_id(r->gid, "gid", what, r, s, &gid, reterr) < 0)
            return -1;
        struct buf content = BUF_INIT;
        if (compose_file_def_data(d, what, &content, reterr) < 0) {
            sched_bytes_wipe(&content);
            return -1;
        }
        char *target = sched_file_ref_target(r, base);
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, target + 1); /* relative to "/" */
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, r->mode != COMPOSE_UNSET ? (mode_t)r->mode : 0444);
        archive_entry_set_size(e, (la_int64_t)content.len);
        archive_entry_set_uid(e, uid);
        archive_entry_set_gid(e, gid);
        archive_entry_set_mtime(e, time(NULL), 0);
        int rc = archive_write_header(ar, e);
        if (rc >= ARCHIVE_WARN && content.len)
            rc = archive_write_data(ar, content.data, content.len) < 0 ? ARCHIVE_FATAL : rc;
        archive_entry_free(e);
        sched_bytes_wipe(&content);
        if (rc < ARCHIVE_WARN) {
            cc_error_set(reterr, CC_ERR_IO, "cannot pack %s '%s' for '%s': %s", what, r->source,
                         target, archive_error_string(ar));
            free(target);
            return -1;
        }
        free(target);
    }
    return 0;
}

int sched_inject_tar(const struct compose_project *p, const struct compose_service *s,
                     struct buf *ret_tar, struct cc_error *reterr)
{
    struct buf tar = BUF_INIT;
    bool any = false;
    for (size_t i = 0; i < s->n_secrets && !any; i++)
        for (size_t k = 0; k < p->n_secrets && !any; k++)
            any = !strcmp(p->secrets[k].key, s->secrets[i].source) &&
                  sched_file_ref_copied(&s->secrets[i], &p->secrets[k]);
    for (size_t i = 0; i < s->n_configs && !any; i++)
        for (size_t k = 0; k < p->n_configs && !any; k++)
            any = !strcmp(p->configs[k].key, s->configs[i].source) &&
                  sched_file_ref_copied(&s->configs[i], &p->configs[k]);
    if (!any) {
        *ret_tar = tar;
        return 0;
    }
    struct archive *ar = archive_write_new();
    archive_write_set_format_pax_restricted(ar);
    archive_write_set_bytes_per_block(ar, 0);
    int rc = -1;
    if (archive_write_open2(ar, &tar, NULL, on_tar_write, NULL, NULL) != ARCHIVE_OK) {
        cc_error_set(reterr, CC_ERR_IO, "cannot start a tar stream: %s", archive_error_string(ar));
        goto out;
    }
    if (add_refs(ar, s, s->secrets, s->n_secrets, p->secrets, p->n_secrets, "secret",
                 "/run/secrets/", reterr) < 0 ||
        add_refs(ar, s, s->configs, s->n_configs, p->configs, p->n_configs, "config", "/", reterr) <
            0)
        goto out;
    if (archive_write_close(ar) != ARCHIVE_OK) {
        cc_error_set(reterr, CC_ERR_IO, "cannot finish a tar stream: %s", archive_error_string(ar));
        goto out;
    }
    rc = 0;
out:
    archive_write_free(ar);
    if (rc < 0) {
        sched_bytes_wipe(&tar);
        return -1;
    }
    *ret_tar = tar;
    return 0;
}

void sched_bytes_wipe(struct buf *b)
{
    if (b->data)
        explicit_bzero(b->data, b->cap);
    buf_release(b);
}

ssize_t sched_bytes_read(char *buf, size_t len, void *data)
{
    struct sched_bytes_reader *r = data;
    size_t n = r->len - r->off;
    if (n > len)
        n = len;
    memcpy(buf, r->data + r->off, n);
    r->off += n;
    return (ssize_t)n;
}
