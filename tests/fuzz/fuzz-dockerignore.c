/* libFuzzer target for the .dockerignore reader and matcher (scheduler/dockerignore.c). The input
 * is a .dockerignore file, then a NUL byte, then paths to match, one a line (cleaned first: the
 * matcher is only ever given clean context-relative paths). Any file must either parse or fail with
 * a located error that leaves the list unchanged; parsing it whole or line by line must give the
 * same patterns and the same verdict on every path; matching must never crash, leak or take long
 * (libFuzzer's -timeout catches a matcher that backtracks exponentially). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "compose/parse.h"
#include "scheduler/dockerignore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parses text one line at a time into a fresh list; NULL when a line fails, or when a line other
 * than the first starts with a byte-order mark (only the file's first bytes can be one). */
static struct dockerignore *parse_by_line(const char *text, size_t len)
{
    struct dockerignore *di = dockerignore_new();
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        struct cc_error err = CC_ERROR_INIT;
        bool bom = p != text && n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0;
        int rc = bom ? -1 : dockerignore_parse(di, "line", p, n, &err);
        cc_error_release(&err);
        if (rc < 0) {
            dockerignore_free(di);
            return NULL;
        }
        p = nl ? nl + 1 : end;
    }
    return di;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    const char *nul = memchr(in, '\0', size);
    size_t tlen = nul ? (size_t)(nul - in) : size;
    struct dockerignore *di = dockerignore_new();
    struct cc_error err = CC_ERROR_INIT;

    if (dockerignore_add(di, "seed-pattern", &err) < 0 || dockerignore_count(di) != 1)
        abort();
    if (dockerignore_parse(di, ".dockerignore", in, tlen, &err) < 0) {
        if (err.kind != CC_ERR_INVALID_CONFIG || !err.message || !err.hint || err.line < 1 ||
            strcmp(err.file, ".dockerignore") != 0)
            abort();
        /* A failed parse leaves the list as it was. */
        if (dockerignore_count(di) != 1)
            abort();
        cc_error_release(&err);
        dockerignore_free(di);
        return 0;
    }
    struct dockerignore *lines = parse_by_line(in, tlen);
    if (lines && dockerignore_count(lines) + 1 != dockerignore_count(di))
        abort();

    struct arena a = ARENA_INIT;
    const char *p = nul ? nul + 1 : in + size, *end = in + size;
    for (int budget = 64; p < end && budget > 0; budget--) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const char *path = parse_path_clean(&a, arena_strndup(&a, p, n));
        while (path[0] == '/')
            path++;
        p = nl ? nl + 1 : end;
        if (path[0] == '\0' || strcmp(path, ".") == 0 || strncmp(path, "..", 2) == 0)
            continue;
        bool ex = dockerignore_excludes(di, path);
        (void)dockerignore_must_descend(di, path);
        /* The seed pattern is first: later patterns decide the same way as without it, except
         * for the seed's own path. */
        if (lines && strcmp(path, "seed-pattern") != 0 &&
            strncmp(path, "seed-pattern/", 13) != 0 && dockerignore_excludes(lines, path) != ex)
            abort();
    }
    arena_release(&a);
    dockerignore_free(lines);
    cc_error_release(&err);
    dockerignore_free(di);
    return 0;
}
