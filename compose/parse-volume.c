/* The short volume syntax, "SRC:DST[:MODES]" or "DST", read as compose-go reads it, and the path
 * helpers (Go's filepath.Clean and Join) that resolve bind sources the way compose does. */
#include "compose/parse.h"

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/util.h"

const char *parse_path_clean(struct arena *a, const char *path)
{
    int rooted = path[0] == '/';
    size_t n = strlen(path);
    /* Each kept element's start, so ".." can drop back to the previous one. */
    size_t *starts = xmalloc((n / 2 + 2) * sizeof(*starts));
    size_t depth = 0;
    struct buf out = BUF_INIT;
    if (rooted)
        buf_addc(&out, '/');
    size_t dotdots = 0; /* leading ".." kept in a relative path; never dropped */
    for (size_t i = 0; i < n;) {
        while (i < n && path[i] == '/')
            i++;
        size_t s = i;
        while (i < n && path[i] != '/')
            i++;
        size_t len = i - s;
        if (len == 0 || (len == 1 && path[s] == '.'))
            continue;
        if (len == 2 && path[s] == '.' && path[s + 1] == '.') {
            if (depth > dotdots) {
                depth--;
                out.len = starts[depth] > (size_t)rooted ? starts[depth] - 1 : starts[depth];
                out.data[out.len] = '\0';
                continue;
            }
            if (rooted)
                continue;
            dotdots++;
        }
        if (out.len > (size_t)rooted)
            buf_addc(&out, '/');
        starts[depth++] = out.len;
        buf_add(&out, path + s, len);
    }
    const char *r = arena_strdup(a, out.len ? buf_str(&out) : ".");
    buf_release(&out);
    free(starts);
    return r;
}

const char *parse_path_join(struct arena *a, const char *base, const char *path)
{
    if (path[0] == '/')
        return arena_strdup(a, path);
    if (!base || !base[0])
        return parse_path_clean(a, path);
    return parse_path_clean(a, arena_printf(a, "%s/%s", base, path));
}

/* compose-go treats a one-letter part followed by ':' as a Windows drive ("C:\data:/data"); the
 * same spec means the same thing here. */
static int is_drive(const char *start, const char *p)
{
    unsigned char c = (unsigned char)*start;
    return p - start == 1 && ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

bool parse_path_is_windows(const char *path)
{
    return (path[0] == '\\' && path[1] == '\\') ||
           (path[0] && path[1] == ':' && is_drive(path, path + 1));
}

static int volume_error(struct cc_error *reterr, const char *spec, const char *why)
{
    cc_error_set(reterr, CC_ERR_INVALID_CONFIG, "invalid volume '%s': %s", spec, why);
    cc_error_hint(reterr, "write SOURCE:TARGET[:MODES] or TARGET alone, e.g. './data:/data:ro' "
                          "or 'db-data:/var/lib/db'");
    return -1;
}

static void volume_modes(struct parse_volume *v, const char *modes, size_t n)
{
    static const char *const propagations[] = {"rprivate", "private", "rshared",
                                               "shared",   "rslave",  "slave"};
    for (size_t i = 0; i < n;) {
        size_t s = i;
        while (i < n && modes[i] != ',')
            i++;
        size_t len = i - s;
        const char *m = modes + s;
        i++;
        if (len == 2 && memcmp(m, "ro", 2) == 0)
            v->read_only = true;
        else if (len == 2 && memcmp(m, "rw", 2) == 0)
            v->read_only = false;
        else if (len == 6 && memcmp(m, "nocopy", 6) == 0)
            v->nocopy = true;
        else if (len == 1 && (*m == 'z' || *m == 'Z'))
            v->selinux = *m;
        else
            for (size_t k = 0; k < CC_ARRAY_LEN(propagations); k++)
                if (strlen(propagations[k]) == len && memcmp(propagations[k], m, len) == 0)
                    v->propagation = propagations[k];
        /* Anything else (cached, delegated, consistent, unknown words) compose ignores. */
    }
}

int parse_volume_spec(struct arena *a, const char *spec, const char *base_dir, const char *home,
                      struct parse_volume *ret, struct cc_error *reterr)
{
    struct parse_volume v = {0};
    size_t n = strlen(spec);
    if (n == 0)
        return volume_error(reterr, spec, "empty");
    if (n <= 2) {
        /* compose-go takes one- and two-character specs as a target whatever they hold. */
        v.target = arena_strdup(a, spec);
        *ret = v;
        return 0;
    }
    const char *parts[3] = {NULL, NULL, NULL};
    size_t lens[3] = {0, 0, 0};
    int k = 0;
    const char *start = spec;
    for (const char *p = spec;; p++) {
        if (*p == ':' && is_drive(start, p))
            continue;
        if (*p != ':' && *p != '\0')
            continue;
        if (p == start)
            return volume_error(reterr, spec, "empty section between colons");
        if (k == 3)
            return volume_error(reterr, spec, "too many colons");
        parts[k] = start;
        lens[k++] = (size_t)(p - start);
        if (!*p)
            break;
        start = p + 1;
    }
    if (k == 1) {
        v.target = arena_strndup(a, parts[0], lens[0]);
    } else {
        v.source = arena_strndup(a, parts[0], lens[0]);
        v.target = arena_strndup(a, parts[1], lens[1]);
    }
    if (k == 3)
        volume_modes(&v, parts[2], lens[2]);

    const char *src = v.source;
    bool windows = src && parse_path_is_windows(src);
    if (src && (src[0] == '.' || src[0] == '/' || src[0] == '~' || windows)) {
        v.type = PARSE_VOLUME_BIND;
        v.create_host_path = true;
        if (src[0] == '~' && (src[1] == '\0' || src[1] == '/') && home)
            src = arena_printf(a, "%s%s", home, src + 1);
        /* Windows paths are kept as written. */
        if (!windows)
            v.source = parse_path_join(a, base_dir, src);
    } else {
        v.type = PARSE_VOLUME_VOLUME;
    }
    *ret = v;
    return 0;
}
