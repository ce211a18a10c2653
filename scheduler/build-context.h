/* A build context as a tar stream, made while it is sent: the context directory is walked one
 * entry at a time and each entry (or each chunk of a large file) goes through libarchive into a
 * small pending buffer, which build_context_read() hands to curl. Nothing is copied whole, in
 * memory or on disk: memory stays at about one chunk whatever the context's size.
 *
 * What is sent is what docker sends: entries in lexical order with '/'-separated relative paths,
 * directories as "dir/", symlinks as links (never followed), permission bits and mtimes (whole
 * seconds) kept, uid/gid 0 and no owner names; .dockerignore applied (`<Dockerfile>.dockerignore`
 * beside the Dockerfile wins over the context's), with the Dockerfile and .dockerignore always
 * sent. A Dockerfile outside the context, or dockerfile_inline, is added as
 * `.dockerfile.<20 hex digits of its SHA-256>` and named in the context's .dockerignore so that the
 * engine drops it from what COPY sees (docker uses a random name; a content hash keeps the build
 * cache). Sockets, fifos and devices are left out. */
#ifndef CC_SCHEDULER_BUILD_CONTEXT_H
#define CC_SCHEDULER_BUILD_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

#define BUILD_CONTEXT_CHUNK (64 * 1024)

struct build_context;

struct build_context_options {
    const char *context;           /* the context directory (symlinks resolved here) */
    const char *dockerfile;        /* relative to context, or absolute; NULL: "Dockerfile" */
    const char *dockerfile_inline; /* the Dockerfile's text, or NULL */
    size_t chunk_size;             /* bytes of a file read per step; 0: BUILD_CONTEXT_CHUNK */
};

/* Checks the context and the Dockerfile, reads the ignore file and the Dockerfile when it must be
 * added. Fails with CC_ERR_NOT_FOUND (no such context or Dockerfile), CC_ERR_INVALID_CONFIG (a
 * bad .dockerignore pattern, file:line set) or CC_ERR_IO. *ret is new: build_context_free(). */
int build_context_new(const struct build_context_options *opts, struct build_context **ret,
                      struct cc_error *reterr);
/* cp's tar stream of path (a file, a directory with everything below it, or a symlink, which is
 * followed only with follow_link), its entries named name and name/...; no ignore file. keep_owner
 * keeps uid and gid (cp -a), else 0. Fails with CC_ERR_NOT_FOUND when path is not there. */
int build_context_new_copy(const char *path, const char *name, bool keep_owner, bool follow_link,
                           struct build_context **ret, struct cc_error *reterr);
void build_context_free(struct build_context *bc);

/* The `dockerfile` parameter for the build: a path inside the stream; borrowed. */
const char *build_context_dockerfile(const struct build_context *bc);

/* An engine_body_read_cb (data is the build context): fills buf with the next bytes of the tar
 * stream; 0 at its end; -1 when the walk failed (build_context_error() says why). Reads local
 * files in chunks: a step is one entry header or one chunk, so a call returns quickly. */
ssize_t build_context_read(char *buf, size_t len, void *data);

/* The largest number of bytes the pending buffer held at once, and the bytes produced so far. */
size_t build_context_high_water(const struct build_context *bc);
uint64_t build_context_bytes(const struct build_context *bc);
/* Why build_context_read() returned -1 (NULL before that); borrowed. */
const struct cc_error *build_context_error(const struct build_context *bc);

#endif
