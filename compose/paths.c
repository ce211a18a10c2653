/* Relative paths made absolute, as compose-go's path resolution does: build contexts (local ones;
 * URLs and git references are kept), build.additional_contexts, env_file and label_file entries,
 * bind sources of service volumes in short and long form, and the `file` of top-level secrets and
 * configs. `~` and `~/` expand to HOME from the project's variables. The base directory is the
 * project directory for the -f files, an extended file's own directory for what comes from it,
 * and an include's project_directory for included files. */
#include <stdlib.h>
#include <string.h>

#include "compose/assemble-internal.h"
#include "compose/parse.h"

struct resolver {
    struct arena *a;
    const char *dir;
    const char *home;
};

static bool is_remote(const char *s)
{
    return strstr(s, "://") || strncmp(s, "git@", 4) == 0 || strncmp(s, "github.com/", 11) == 0;
}

static const char *abs_path(const struct resolver *r, const char *s)
{
    if (s[0] == '~' && (s[1] == '\0' || s[1] == '/')) {
        if (!r->home)
            return s;
        s = arena_printf(r->a, "%s%s", r->home, s + 1);
    }
    if (s[0] == '/')
        return s;
    return parse_path_join(r->a, r->dir, s);
}

/* n with its scalar value made absolute (n itself when nothing changes). */
static struct cnode *path_node(const struct resolver *r, struct cnode *n)
{
    if (!n || n->kind != CNODE_SCALAR || cnode_is_null(n))
        return n;
    const char *p = abs_path(r, n->value);
    if (p == n->value || strcmp(p, n->value) == 0)
        return n;
    struct cnode *c = arena_alloc(r->a, sizeof(*c));
    *c = *n;
    c->value = p;
    c->len = strlen(p);
    return c;
}

/* Applies fn to each item of a sequence (or to a lone scalar). */
static struct cnode *each(const struct resolver *r, struct cnode *n,
                          struct cnode *(*fn)(const struct resolver *, struct cnode *))
{
    if (!n)
        return n;
    if (n->kind != CNODE_SEQUENCE)
        return fn(r, n);
    struct cnode **items = NULL;
    for (size_t i = 0; i < n->nitems; i++) {
        struct cnode *v = fn(r, n->items[i]);
        if (v == n->items[i])
            continue;
        if (!items) {
            items = arena_alloc(r->a, n->nitems * sizeof(*items));
            memcpy(items, n->items, n->nitems * sizeof(*items));
        }
        items[i] = v;
    }
    if (!items)
        return n;
    struct cnode *c = arena_alloc(r->a, sizeof(*c));
    *c = *n;
    c->items = items;
    return c;
}

/* env_file / label_file entries: "path" or {path, required}. */
static struct cnode *file_entry(const struct resolver *r, struct cnode *n)
{
    if (n->kind == CNODE_MAPPING && cnode_get(n, "path"))
        return asm_mapping_with(r->a, n, "path", path_node(r, cnode_get(n, "path")));
    if (n->kind == CNODE_MAPPING)
        return n;
    return path_node(r, n);
}

static struct cnode *context_node(const struct resolver *r, struct cnode *n)
{
    if (!n || n->kind != CNODE_SCALAR || is_remote(n->value))
        return n;
    return path_node(r, n);
}

/* additional_contexts values: local directories, or references kept as they are. An empty
 * value names no directory and is kept empty: `config` prints a null one as "", which must read
 * back the same. */
static struct cnode *extra_context(const struct resolver *r, struct cnode *n)
{
    if (n->kind != CNODE_SCALAR || n->len == 0)
        return n;
    const char *v = n->value, *eq = strchr(v, '=');
    if (!eq) {
        if (strncmp(v, "service:", 8) == 0 || strncmp(v, "target:", 7) == 0)
            return n;
        return context_node(r, n);
    }
    /* List form "name=path". */
    const char *p = eq + 1;
    if (is_remote(p) || strncmp(p, "service:", 8) == 0 || strncmp(p, "target:", 7) == 0)
        return n;
    struct cnode *c = arena_alloc(r->a, sizeof(*c));
    *c = *n;
    c->value = arena_printf(r->a, "%.*s=%s", (int)(eq - v), v, abs_path(r, p));
    c->len = strlen(c->value);
    return c;
}

static struct cnode *build_node(const struct resolver *r, struct cnode *b)
{
    if (b->kind == CNODE_SCALAR)
        return context_node(r, b);
    if (b->kind != CNODE_MAPPING)
        return b;
    struct cnode *ctx = cnode_get(b, "context");
    /* compose-go's default context is ".", the base directory. */
    b = asm_mapping_with(r->a, b, "context",
                         ctx ? context_node(r, ctx) : asm_scalar_new(r->a, b, r->dir, CNODE_PLAIN));
    struct cnode *extra = cnode_get(b, "additional_contexts");
    if (extra && extra->kind == CNODE_MAPPING) {
        struct cnode *m = extra;
        for (size_t i = 0; i < extra->npairs; i++)
            m = asm_mapping_with(r->a, m, extra->pairs[i].key->value,
                                 extra_context(r, extra->pairs[i].value));
        b = asm_mapping_with(r->a, b, "additional_contexts", m);
    } else if (extra) {
        b = asm_mapping_with(r->a, b, "additional_contexts", each(r, extra, extra_context));
    }
    return b;
}

/* Service volumes: the short form's bind source ("./data:/data:ro"), the long form's source when
 * type is bind. Named volumes and anything unparsable are left to model building. */
static struct cnode *volume_entry(const struct resolver *r, struct cnode *n)
{
    if (n->kind == CNODE_MAPPING) {
        struct cnode *type = cnode_get(n, "type");
        if (!type || type->kind != CNODE_SCALAR || strcmp(type->value, "bind") != 0 ||
            !cnode_get(n, "source"))
            return n;
        struct cnode *src = cnode_get(n, "source");
        if (src->kind == CNODE_SCALAR && parse_path_is_windows(src->value))
            return n;
        return asm_mapping_with(r->a, n, "source", path_node(r, src));
    }
    if (n->kind != CNODE_SCALAR)
        return n;
    const char *colon = strchr(n->value, ':');
    if (!colon || (n->value[0] == '~' && !r->home))
        return n;
    struct parse_volume v;
    if (parse_volume_spec(r->a, n->value, r->dir, r->home, &v, NULL) < 0 ||
        v.type != PARSE_VOLUME_BIND || !v.source || parse_path_is_windows(v.source))
        return n;
    size_t srclen = (size_t)(colon - n->value);
    if (strlen(v.source) == srclen && memcmp(v.source, n->value, srclen) == 0)
        return n;
    struct cnode *c = arena_alloc(r->a, sizeof(*c));
    *c = *n;
    c->value = arena_printf(r->a, "%s%s", v.source, colon);
    c->len = strlen(c->value);
    return c;
}

static struct cnode *service_node(const struct resolver *r, struct cnode *s)
{
    if (s->kind != CNODE_MAPPING)
        return s;
    struct cnode *v;
    if ((v = cnode_get(s, "build")))
        s = asm_mapping_with(r->a, s, "build", build_node(r, v));
    if ((v = cnode_get(s, "env_file")))
        s = asm_mapping_with(r->a, s, "env_file", each(r, v, file_entry));
    if ((v = cnode_get(s, "label_file")))
        s = asm_mapping_with(r->a, s, "label_file", each(r, v, file_entry));
    if ((v = cnode_get(s, "volumes")) && v->kind == CNODE_SEQUENCE)
        s = asm_mapping_with(r->a, s, "volumes", each(r, v, volume_entry));
    return s;
}

static struct cnode *file_def(const struct resolver *r, struct cnode *d)
{
    if (d->kind != CNODE_MAPPING || !cnode_get(d, "file"))
        return d;
    return asm_mapping_with(r->a, d, "file", path_node(r, cnode_get(d, "file")));
}

static struct cnode *section(const struct resolver *r, struct cnode *doc, const char *key,
                             struct cnode *(*fn)(const struct resolver *, struct cnode *))
{
    struct cnode *sec = cnode_get(doc, key);
    if (!sec || sec->kind != CNODE_MAPPING)
        return doc;
    /* One new mapping for the whole section, not one per entry: with an entry at a time, 1,000
     * services made 1,000 copies of a 1,000-pair mapping. */
    struct cnode_pair *pairs = NULL;
    for (size_t i = 0; i < sec->npairs; i++)
        asm_pairs_set(&pairs, sec, i, fn(r, sec->pairs[i].value));
    struct cnode *m = asm_pairs_finish(r->a, sec, pairs);
    return m == sec ? doc : asm_mapping_with(r->a, doc, key, m);
}

int asm_resolve_paths(struct arena *a, struct cnode *doc, const char *dir, const char *home,
                      struct cnode **ret, struct cc_error *reterr)
{
    (void)reterr;
    struct resolver r = {a, dir, home};
    if (doc->kind == CNODE_MAPPING) {
        doc = section(&r, doc, "services", service_node);
        doc = section(&r, doc, "secrets", file_def);
        doc = section(&r, doc, "configs", file_def);
    }
    *ret = doc;
    return 0;
}

struct cnode *asm_resolve_service_paths(struct arena *a, struct cnode *service, const char *dir,
                                        const char *home)
{
    struct resolver r = {a, dir, home};
    return service_node(&r, service);
}
