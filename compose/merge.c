/* Merging compose trees: the Compose Specification's "merge" rules with compose-go's special
 * cases (its override package), applied to positioned cnode trees.
 *
 * Mappings merge key by key, scalars are replaced, sequences are appended; then, by key path:
 * command, entrypoint, healthcheck.test and ulimits.* are replaced; environment, labels,
 * annotations, sysctls, build.args/labels/additional_contexts, deploy.labels, extra_hosts and the
 * labels of networks and volumes merge by key, list and mapping forms mixed; build's short form
 * merges as {context}; depends_on and networks lists merge as mappings; logging merges only
 * when the drivers agree; ipam.config entries merge by subnet. A null over a value keeps it
 * (compose-go), except where the rule is to replace. `!reset` removes a value, `!override`
 * replaces it without merging. asm_unique() then drops repeated entries of the sequences
 * compose-go keeps unique (ports, volumes, secrets, configs, expose, environment lists, ...). */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "compose/assemble-internal.h"
#include "compose/parse.h"

#define MAX_SEGS (CNODE_MAX_DEPTH + 4)

enum rule {
    R_DEFAULT,
    R_REPLACE,  /* the later value, whole */
    R_KV,       /* KEY=VALUE list or mapping, merged by key */
    R_HOSTS,    /* extra_hosts: host:ip list or mapping, merged by host */
    R_SEQ,      /* a string or a list, appended */
    R_BUILD,    /* "context" or a mapping */
    R_DEPENDS,  /* a list of services or a mapping */
    R_NETWORKS, /* a list of networks or a mapping */
    R_LOGGING,
    R_IPAM,
};

static const struct {
    const char *pattern;
    enum rule rule;
} rules[] = {
    {"services.*.command", R_REPLACE},
    {"services.*.entrypoint", R_REPLACE},
    {"services.*.healthcheck.test", R_REPLACE},
    {"services.*.ulimits.*", R_REPLACE},
    {"services.*.environment", R_KV},
    {"services.*.labels", R_KV},
    {"services.*.annotations", R_KV},
    {"services.*.sysctls", R_KV},
    {"services.*.build.args", R_KV},
    {"services.*.build.labels", R_KV},
    {"services.*.build.additional_contexts", R_KV},
    {"services.*.deploy.labels", R_KV},
    {"networks.*.labels", R_KV},
    {"volumes.*.labels", R_KV},
    {"services.*.extra_hosts", R_HOSTS},
    {"services.*.build.extra_hosts", R_HOSTS},
    {"services.*.dns", R_SEQ},
    {"services.*.dns_opt", R_SEQ},
    {"services.*.dns_search", R_SEQ},
    {"services.*.env_file", R_SEQ},
    {"services.*.label_file", R_SEQ},
    {"services.*.tmpfs", R_SEQ},
    {"services.*.build", R_BUILD},
    {"services.*.depends_on", R_DEPENDS},
    {"services.*.networks", R_NETWORKS},
    {"services.*.logging", R_LOGGING},
    {"networks.*.ipam.config", R_IPAM},
};

struct merger {
    struct arena *a;
    struct cc_error *err;
    const char *seg[MAX_SEGS];
    size_t nseg;
};

/* ---- paths ---- */

static bool path_matches(const char *const *seg, size_t nseg, const char *pattern)
{
    size_t i = 0;
    const char *p = pattern;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (i >= nseg)
            return false;
        if (!(len == 1 && *p == '*') && (strlen(seg[i]) != len || memcmp(seg[i], p, len) != 0))
            return false;
        i++;
        if (!dot)
            return i == nseg;
        p = dot + 1;
    }
}

static enum rule rule_for(const struct merger *m)
{
    for (size_t i = 0; i < CC_ARRAY_LEN(rules); i++)
        if (path_matches(m->seg, m->nseg, rules[i].pattern))
            return rules[i].rule;
    return R_DEFAULT;
}

static char *merger_path(const struct merger *m)
{
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < m->nseg; i++)
        buf_printf(&b, "%s%s", i ? "." : "", m->seg[i]);
    return buf_detach(&b);
}

/* ---- nodes ---- */

struct cnode *asm_scalar_new(struct arena *a, const struct cnode *at, const char *value,
                             enum cnode_style style)
{
    struct cnode *n = arena_alloc(a, sizeof(*n));
    n->kind = CNODE_SCALAR;
    n->style = style;
    n->file = at->file;
    n->line = n->end_line = at->line;
    n->col = at->col;
    n->value = arena_strdup(a, value);
    n->len = strlen(value);
    n->weight = n->height = 1;
    return n;
}

struct cnode *asm_mapping_new(struct arena *a, const struct cnode *at,
                              const struct cnode_pair *pairs, size_t n)
{
    struct cnode *m = arena_alloc(a, sizeof(*m));
    m->kind = CNODE_MAPPING;
    m->file = at->file;
    m->line = at->line;
    m->col = at->col;
    m->end_line = at->end_line;
    m->pairs = arena_alloc(a, (n ? n : 1) * sizeof(*m->pairs));
    if (n)
        memcpy(m->pairs, pairs, n * sizeof(*pairs));
    m->npairs = n;
    m->weight = 1;
    m->height = 1;
    for (size_t i = 0; i < n; i++) {
        m->weight += 1 + pairs[i].value->weight;
        if (pairs[i].value->height + 1 > m->height)
            m->height = pairs[i].value->height + 1;
    }
    return m;
}

static struct cnode *sequence_new(struct arena *a, const struct cnode *at,
                                  struct cnode *const *items, size_t n)
{
    struct cnode *s = arena_alloc(a, sizeof(*s));
    s->kind = CNODE_SEQUENCE;
    s->file = at->file;
    s->line = at->line;
    s->col = at->col;
    s->end_line = at->end_line;
    s->items = arena_alloc(a, (n ? n : 1) * sizeof(*s->items));
    if (n)
        memcpy(s->items, items, n * sizeof(*items));
    s->nitems = n;
    s->weight = 1;
    s->height = 1;
    for (size_t i = 0; i < n; i++) {
        s->weight += items[i]->weight;
        if (items[i]->height + 1 > s->height)
            s->height = items[i]->height + 1;
    }
    return s;
}

static ssize_t find_key(const struct cnode_pair *pairs, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(pairs[i].key->value, key) == 0)
            return (ssize_t)i;
    return -1;
}

struct cnode *asm_mapping_without(struct arena *a, struct cnode *m, const char *key)
{
    ssize_t at = find_key(m->pairs, m->npairs, key);
    if (at < 0)
        return m;
    struct cnode_pair *pairs = xmalloc((m->npairs ? m->npairs : 1) * sizeof(*pairs));
    size_t n = 0;
    for (size_t i = 0; i < m->npairs; i++)
        if ((ssize_t)i != at)
            pairs[n++] = m->pairs[i];
    struct cnode *r = asm_mapping_new(a, m, pairs, n);
    free(pairs);
    return r;
}

struct cnode *asm_mapping_with(struct arena *a, struct cnode *m, const char *key,
                               struct cnode *value)
{
    ssize_t at = find_key(m->pairs, m->npairs, key);
    if (at >= 0 && m->pairs[at].value == value)
        return m;
    struct cnode_pair *pairs = xmalloc((m->npairs + 1) * sizeof(*pairs));
    if (m->npairs)
        memcpy(pairs, m->pairs, m->npairs * sizeof(*pairs));
    size_t n = m->npairs;
    if (at >= 0)
        pairs[at].value = value;
    else
        pairs[n++] = (struct cnode_pair){asm_scalar_new(a, m, key, CNODE_PLAIN), value};
    struct cnode *r = asm_mapping_new(a, m, pairs, n);
    free(pairs);
    return r;
}

void asm_pairs_set(struct cnode_pair **pairs, const struct cnode *m, size_t i, struct cnode *v)
{
    if (v == m->pairs[i].value)
        return;
    if (!*pairs) {
        *pairs = xmalloc(m->npairs * sizeof(**pairs));
        memcpy(*pairs, m->pairs, m->npairs * sizeof(**pairs));
    }
    (*pairs)[i].value = v;
}

struct cnode *asm_pairs_finish(struct arena *a, struct cnode *m, struct cnode_pair *pairs)
{
    if (!pairs)
        return m;
    struct cnode *r = asm_mapping_new(a, m, pairs, m->npairs);
    free(pairs);
    return r;
}

static bool is_reset(const struct cnode *n)
{
    return cnode_has_tag(n, "!reset");
}

static bool is_override(const struct cnode *n)
{
    return cnode_has_tag(n, "!override");
}

/* A growable heap list of pairs or items while a node is being built. */
struct pairs {
    struct cnode_pair *v;
    size_t n, cap;
};

static void pairs_add(struct pairs *p, struct cnode *key, struct cnode *value)
{
    cc_grow((void **)&p->v, &p->cap, p->n + 1, sizeof(*p->v));
    p->v[p->n++] = (struct cnode_pair){key, value};
}

static void pairs_remove(struct pairs *p, size_t at)
{
    memmove(p->v + at, p->v + at + 1, (p->n - at - 1) * sizeof(*p->v));
    p->n--;
}

struct items {
    struct cnode **v;
    size_t n, cap;
};

static void items_add(struct items *it, struct cnode *n)
{
    cc_grow((void **)&it->v, &it->cap, it->n + 1, sizeof(*it->v));
    it->v[it->n++] = n;
}

struct cnode *asm_clean(struct arena *a, struct cnode *n)
{
    struct cnode *r = n;
    if (n->tag && (is_override(n) || is_reset(n))) {
        r = arena_alloc(a, sizeof(*r));
        *r = *n;
        r->tag = NULL;
    }
    if (n->kind == CNODE_MAPPING) {
        struct pairs p = {0};
        bool changed = false;
        for (size_t i = 0; i < n->npairs; i++) {
            struct cnode *v = n->pairs[i].value;
            if (is_reset(v)) {
                changed = true;
                continue;
            }
            struct cnode *c = asm_clean(a, v);
            changed |= c != v;
            pairs_add(&p, n->pairs[i].key, c);
        }
        if (changed) {
            struct cnode *m = asm_mapping_new(a, n, p.v, p.n);
            m->tag = r->tag;
            r = m;
        }
        free(p.v);
    } else if (n->kind == CNODE_SEQUENCE) {
        struct items it = {0};
        bool changed = false;
        for (size_t i = 0; i < n->nitems; i++) {
            struct cnode *v = n->items[i];
            if (is_reset(v)) {
                changed = true;
                continue;
            }
            struct cnode *c = asm_clean(a, v);
            changed |= c != v;
            items_add(&it, c);
        }
        if (changed) {
            struct cnode *s = sequence_new(a, n, it.v, it.n);
            s->tag = r->tag;
            r = s;
        }
        free(it.v);
    }
    return r;
}

bool asm_node_equal(const struct cnode *x, const struct cnode *y)
{
    if (x == y)
        return true;
    if (x->kind != y->kind)
        return false;
    switch (x->kind) {
    case CNODE_SCALAR:
        return x->len == y->len && memcmp(x->value, y->value, x->len) == 0;
    case CNODE_MAPPING:
        if (x->npairs != y->npairs)
            return false;
        for (size_t i = 0; i < x->npairs; i++) {
            const struct cnode *v = cnode_get(y, x->pairs[i].key->value);
            if (!v || !asm_node_equal(x->pairs[i].value, v))
                return false;
        }
        return true;
    case CNODE_SEQUENCE:
        if (x->nitems != y->nitems)
            return false;
        for (size_t i = 0; i < x->nitems; i++)
            if (!asm_node_equal(x->items[i], y->items[i]))
                return false;
        return true;
    }
    return false;
}

/* ---- errors ---- */

static const char *kind_name(const struct cnode *n)
{
    if (n->kind == CNODE_MAPPING)
        return "mapping";
    if (n->kind == CNODE_SEQUENCE)
        return "sequence";
    return "scalar";
}

static int cannot_merge(struct merger *m, const struct cnode *base, const struct cnode *over)
{
    char *path = merger_path(m);
    cnode_error_at(m->err, over->file, over->line, over->col, path,
                   "'%s' is a %s here but a %s in '%s' (line %d), which cannot be merged", path,
                   kind_name(over), kind_name(base), base->file ? base->file : "-", base->line);
    cc_error_hint(m->err,
                  "write it as a %s like the earlier file, or tag it !override to replace "
                  "the earlier value",
                  kind_name(base));
    free(path);
    return -1;
}

/* ---- conversions between the long and short forms that merge together ---- */

/* The value of a "KEY=VALUE" list item: a string scalar placed after the '=' when the item is a
 * plain one-line scalar (so positions stay exact), else at the item. */
static struct cnode *item_value(struct arena *a, const struct cnode *item, size_t offset,
                                const char *value)
{
    struct cnode *v = asm_scalar_new(a, item, value, CNODE_DOUBLE_QUOTED);
    if (item->style == CNODE_PLAIN && item->end_line == item->line)
        v->col += (int)offset;
    v->interpolated = item->interpolated;
    return v;
}

/* Appends the entries of n (mapping, KEY=VALUE list or null) to p; hosts: extra_hosts items.
 * Returns -2 when n has neither form, -1 (with m->err) for an invalid item. */
static int kv_pairs(struct merger *m, struct cnode *n, bool hosts, struct pairs *p)
{
    if (cnode_is_null(n) && !n->tag)
        return 0;
    if (n->kind == CNODE_MAPPING) {
        for (size_t i = 0; i < n->npairs; i++)
            pairs_add(p, n->pairs[i].key, n->pairs[i].value);
        return 0;
    }
    if (n->kind != CNODE_SEQUENCE)
        return -2;
    for (size_t i = 0; i < n->nitems; i++) {
        struct cnode *item = n->items[i];
        if (item->kind != CNODE_SCALAR)
            return -2;
        const char *key, *value;
        struct cnode *vnode;
        if (hosts) {
            const char **ips;
            size_t nips;
            if (parse_extra_host(m->a, item->value, &key, &ips, &nips, m->err) < 0)
                return cnode_error_at(m->err, item->file, item->line, item->col, NULL,
                                      "invalid extra_hosts entry '%s'", item->value);
            if (nips == 1) {
                vnode = item_value(m->a, item, 0, ips[0]);
            } else {
                struct cnode **v = arena_alloc(m->a, (nips ? nips : 1) * sizeof(*v));
                for (size_t j = 0; j < nips; j++)
                    v[j] = item_value(m->a, item, 0, ips[j]);
                vnode = sequence_new(m->a, item, v, nips);
            }
        } else {
            if (parse_kv_item(m->a, item->value, m->seg[m->nseg - 1], &key, &value, m->err) < 0) {
                cc_error_where(m->err, item->file, item->line, item->col);
                return -1;
            }
            vnode = value ? item_value(m->a, item, strlen(key) + 1, value)
                          : asm_scalar_new(m->a, item, "", CNODE_PLAIN);
        }
        pairs_add(p, asm_scalar_new(m->a, item, key, CNODE_PLAIN), vnode);
    }
    return 0;
}

/* Mapping or list merged by key: the later value of a key wins, in the earlier one's place. */
static int merge_kv(struct merger *m, struct cnode *base, struct cnode *over, bool hosts,
                    struct cnode **ret)
{
    struct pairs p = {0}, q = {0};
    int r = kv_pairs(m, base, hosts, &p);
    if (r == 0)
        r = kv_pairs(m, over, hosts, &q);
    if (r == -2)
        r = cannot_merge(m, base, over);
    if (r < 0)
        goto out;
    r = -1;
    for (size_t i = 0; i < q.n; i++) {
        ssize_t at = find_key(p.v, p.n, q.v[i].key->value);
        if (is_reset(q.v[i].value)) {
            if (at >= 0)
                pairs_remove(&p, (size_t)at);
            continue;
        }
        struct cnode *v = asm_clean(m->a, q.v[i].value);
        if (at >= 0)
            p.v[at].value = v;
        else
            pairs_add(&p, q.v[i].key, v);
    }
    *ret = asm_mapping_new(m->a, cnode_is_null(base) ? over : base, p.v, p.n);
    r = 0;
out:
    free(p.v);
    free(q.v);
    return r;
}

/* build: "dir" is {context: dir}. */
static struct cnode *build_mapping(struct arena *a, struct cnode *n)
{
    if (n->kind != CNODE_SCALAR || cnode_is_null(n))
        return n;
    struct cnode_pair pair = {asm_scalar_new(a, n, "context", CNODE_PLAIN), n};
    return asm_mapping_new(a, n, &pair, 1);
}

/* depends_on and networks lists: each name becomes a key, with compose-go's default value. */
static struct cnode *list_mapping(struct arena *a, struct cnode *n, bool depends)
{
    if (n->kind != CNODE_SEQUENCE)
        return n;
    struct pairs p = {0};
    for (size_t i = 0; i < n->nitems; i++) {
        struct cnode *item = n->items[i];
        if (item->kind != CNODE_SCALAR) {
            free(p.v);
            return n;
        }
        struct cnode *value;
        if (depends) {
            struct cnode_pair d[2] = {
                {asm_scalar_new(a, item, "condition", CNODE_PLAIN),
                 asm_scalar_new(a, item, "service_started", CNODE_PLAIN)},
                {asm_scalar_new(a, item, "required", CNODE_PLAIN),
                 asm_scalar_new(a, item, "true", CNODE_PLAIN)},
            };
            value = asm_mapping_new(a, item, d, 2);
        } else {
            value = asm_scalar_new(a, item, "", CNODE_PLAIN);
        }
        pairs_add(&p, item, value);
    }
    struct cnode *m = asm_mapping_new(a, n, p.v, p.n);
    free(p.v);
    return m;
}

/* dns, env_file, tmpfs...: a single string is a list of one. */
static struct cnode *as_sequence(struct arena *a, struct cnode *n)
{
    if (n->kind != CNODE_SCALAR)
        return n;
    if (cnode_is_null(n))
        return sequence_new(a, n, NULL, 0);
    return sequence_new(a, n, &n, 1);
}

/* ---- the merge ---- */

static int merge_value(struct merger *m, struct cnode *base, struct cnode *over,
                       struct cnode **ret);

static int merge_mapping(struct merger *m, struct cnode *base, struct cnode *over,
                         struct cnode **ret)
{
    struct pairs p = {0};
    int r = -1;
    for (size_t i = 0; i < base->npairs; i++)
        pairs_add(&p, base->pairs[i].key, base->pairs[i].value);
    for (size_t i = 0; i < over->npairs; i++) {
        struct cnode *key = over->pairs[i].key, *v = over->pairs[i].value;
        ssize_t at = find_key(p.v, p.n, key->value);
        if (is_reset(v)) {
            if (at >= 0)
                pairs_remove(&p, (size_t)at);
            continue;
        }
        if (at < 0) {
            pairs_add(&p, key, asm_clean(m->a, v));
            continue;
        }
        if (strncmp(key->value, "x-", 2) == 0) {
            p.v[at].value = asm_clean(m->a, v);
            continue;
        }
        struct cnode *merged;
        m->seg[m->nseg++] = key->value;
        int rc = merge_value(m, p.v[at].value, v, &merged);
        m->nseg--;
        if (rc < 0)
            goto out;
        p.v[at].value = merged;
    }
    *ret = asm_mapping_new(m->a, base, p.v, p.n);
    r = 0;
out:
    free(p.v);
    return r;
}

static int merge_sequence(struct merger *m, struct cnode *base, struct cnode *over,
                          struct cnode **ret)
{
    struct cnode *o = asm_clean(m->a, over);
    struct items it = {0};
    for (size_t i = 0; i < base->nitems; i++)
        items_add(&it, base->items[i]);
    for (size_t i = 0; i < o->nitems; i++)
        items_add(&it, o->items[i]);
    *ret = sequence_new(m->a, base, it.v, it.n);
    free(it.v);
    return 0;
}

/* ipam.config: entries with the same subnet merge, others are added. */
static int merge_ipam(struct merger *m, struct cnode *base, struct cnode *over, struct cnode **ret)
{
    if (base->kind != CNODE_SEQUENCE || over->kind != CNODE_SEQUENCE)
        return cannot_merge(m, base, over);
    struct items it = {0};
    int r = -1;
    for (size_t i = 0; i < base->nitems; i++)
        items_add(&it, base->items[i]);
    for (size_t i = 0; i < over->nitems; i++) {
        struct cnode *o = asm_clean(m->a, over->items[i]);
        const struct cnode *subnet = cnode_get(o, "subnet");
        size_t j = 0;
        for (; subnet && j < it.n; j++) {
            const struct cnode *s = cnode_get(it.v[j], "subnet");
            if (s && asm_node_equal(s, subnet))
                break;
        }
        if (!subnet || j == it.n) {
            items_add(&it, o);
            continue;
        }
        if (merge_mapping(m, it.v[j], o, &it.v[j]) < 0)
            goto out;
    }
    *ret = sequence_new(m->a, base, it.v, it.n);
    r = 0;
out:
    free(it.v);
    return r;
}

static bool same_driver(const struct cnode *base, const struct cnode *over)
{
    const struct cnode *d1 = cnode_get(base, "driver"), *d2 = cnode_get(over, "driver");
    return !d1 || !d2 || asm_node_equal(d1, d2);
}

static int merge_value(struct merger *m, struct cnode *base, struct cnode *over, struct cnode **ret)
{
    if (is_override(over)) {
        *ret = asm_clean(m->a, over);
        return 0;
    }
    enum rule rule = rule_for(m);
    if (rule == R_REPLACE) {
        *ret = asm_clean(m->a, over);
        return 0;
    }
    if (cnode_is_null(over) && !over->tag) {
        *ret = base;
        return 0;
    }
    if (cnode_is_null(base)) {
        *ret = asm_clean(m->a, over);
        return 0;
    }
    switch (rule) {
    case R_KV:
    case R_HOSTS:
        return merge_kv(m, base, over, rule == R_HOSTS, ret);
    case R_SEQ:
        base = as_sequence(m->a, base);
        over = as_sequence(m->a, over);
        break;
    case R_BUILD:
        base = build_mapping(m->a, base);
        over = build_mapping(m->a, over);
        break;
    case R_DEPENDS:
    case R_NETWORKS:
        base = list_mapping(m->a, base, rule == R_DEPENDS);
        over = list_mapping(m->a, over, rule == R_DEPENDS);
        break;
    case R_LOGGING:
        if (base->kind == CNODE_MAPPING && over->kind == CNODE_MAPPING &&
            !same_driver(base, over)) {
            *ret = asm_clean(m->a, over);
            return 0;
        }
        break;
    case R_IPAM:
        return merge_ipam(m, base, over, ret);
    default:
        break;
    }
    if (base->kind == CNODE_MAPPING) {
        if (over->kind != CNODE_MAPPING)
            return cannot_merge(m, base, over);
        return merge_mapping(m, base, over, ret);
    }
    if (base->kind == CNODE_SEQUENCE) {
        if (over->kind != CNODE_SEQUENCE)
            return cannot_merge(m, base, over);
        return merge_sequence(m, base, over, ret);
    }
    *ret = asm_clean(m->a, over);
    return 0;
}

static int merge_at(struct arena *a, const char *const *prefix, size_t nprefix,
                    const struct cnode *base, const struct cnode *over, struct cnode **ret,
                    struct cc_error *reterr)
{
    struct merger *m = xcalloc(1, sizeof(*m));
    m->a = a;
    m->err = reterr;
    for (size_t i = 0; i < nprefix; i++)
        m->seg[m->nseg++] = prefix[i];
    int r;
    if (!base) {
        *ret = asm_clean(a, (struct cnode *)over);
        r = 0;
    } else if (base->kind != CNODE_MAPPING || over->kind != CNODE_MAPPING) {
        r = cannot_merge(m, base, over);
    } else {
        r = merge_mapping(m, (struct cnode *)base, (struct cnode *)over, ret);
    }
    free(m);
    return r;
}

int asm_merge_root(struct arena *a, const struct cnode *base, const struct cnode *over,
                   struct cnode **ret, struct cc_error *reterr)
{
    return merge_at(a, NULL, 0, base, over, ret, reterr);
}

int asm_merge_service(struct arena *a, const struct cnode *base, const struct cnode *over,
                      struct cnode **ret, struct cc_error *reterr)
{
    static const char *const prefix[] = {"services", "*"};
    return merge_at(a, prefix, 2, base, over, ret, reterr);
}

/* ---- unicity ---- */

typedef const char *(*index_fn)(struct arena *a, const struct cnode *item);

static const char *text_index(struct arena *a, const struct cnode *item)
{
    (void)a;
    return item->kind == CNODE_SCALAR ? item->value : NULL;
}

static const char *kv_index(struct arena *a, const struct cnode *item)
{
    if (item->kind != CNODE_SCALAR)
        return NULL;
    const char *eq = strchr(item->value, '=');
    return eq ? arena_strndup(a, item->value, (size_t)(eq - item->value)) : item->value;
}

static const char *text_of(const struct cnode *n, const char *key, const char *dflt)
{
    const struct cnode *v = cnode_get(n, key);
    return v && v->kind == CNODE_SCALAR && !cnode_is_null(v) ? v->value : dflt;
}

static const char *port_index(struct arena *a, const struct cnode *item)
{
    if (item->kind == CNODE_MAPPING)
        return arena_printf(a, "%s:%s:%s/%s", text_of(item, "host_ip", "0.0.0.0"),
                            text_of(item, "published", ""), text_of(item, "target", ""),
                            text_of(item, "protocol", "tcp"));
    if (item->kind != CNODE_SCALAR)
        return NULL;
    struct parse_port *p;
    size_t n;
    if (parse_port_spec(a, item->value, &p, &n, NULL) < 0 || n != 1)
        return item->value;
    return arena_printf(a, "%s:%s:%u/%s", *p->host_ip ? p->host_ip : "0.0.0.0", p->published,
                        p->target, p->protocol);
}

static const char *volume_index(struct arena *a, const struct cnode *item)
{
    if (item->kind == CNODE_MAPPING)
        return text_of(item, "target", NULL);
    if (item->kind != CNODE_SCALAR)
        return NULL;
    struct parse_volume v;
    if (parse_volume_spec(a, item->value, "/", "/", &v, NULL) < 0)
        return item->value;
    return v.target;
}

static const char *device_index(struct arena *a, const struct cnode *item)
{
    if (item->kind == CNODE_MAPPING)
        return text_of(item, "target", NULL);
    if (item->kind != CNODE_SCALAR)
        return NULL;
    const char *colon = strchr(item->value, ':');
    if (!colon)
        return item->value;
    const char *end = strchr(colon + 1, ':');
    return end ? arena_strndup(a, colon + 1, (size_t)(end - colon - 1)) : colon + 1;
}

static const char *mount_index(struct arena *a, const struct cnode *item, const char *dir)
{
    if (item->kind == CNODE_SCALAR)
        return arena_printf(a, "%s/%s", dir, item->value);
    const char *target = text_of(item, "target", NULL);
    return target ? target : arena_printf(a, "%s/%s", dir, text_of(item, "source", ""));
}

static const char *secret_index(struct arena *a, const struct cnode *item)
{
    return mount_index(a, item, "/run/secrets");
}

static const char *config_index(struct arena *a, const struct cnode *item)
{
    return mount_index(a, item, "");
}

static const char *env_file_index(struct arena *a, const struct cnode *item)
{
    (void)a;
    return item->kind == CNODE_MAPPING ? text_of(item, "path", NULL) : text_index(a, item);
}

static const struct {
    const char *pattern;
    index_fn index;
} uniques[] = {
    {"services.*.ports", port_index},
    {"services.*.volumes", volume_index},
    {"services.*.secrets", secret_index},
    {"services.*.configs", config_index},
    {"services.*.devices", device_index},
    {"services.*.expose", text_index},
    {"services.*.env_file", env_file_index},
    {"services.*.label_file", env_file_index},
    {"services.*.environment", kv_index},
    {"services.*.labels", kv_index},
    {"services.*.annotations", kv_index},
    {"services.*.sysctls", kv_index},
    {"services.*.build.args", kv_index},
    {"services.*.build.labels", kv_index},
    {"services.*.build.additional_contexts", kv_index},
    {"services.*.deploy.labels", kv_index},
    {"networks.*.labels", kv_index},
    {"volumes.*.labels", kv_index},
    {"services.*.cap_add", text_index},
    {"services.*.cap_drop", text_index},
    {"services.*.dns", text_index},
    {"services.*.dns_opt", text_index},
    {"services.*.dns_search", text_index},
    {"services.*.tmpfs", text_index},
    {"services.*.profiles", text_index},
    {"services.*.links", text_index},
    {"services.*.build.tags", text_index},
    {"services.*.build.platforms", text_index},
    {"services.*.networks.*.aliases", text_index},
    {"services.*.networks.*.link_local_ips", text_index},
};

struct keyed {
    const char *key;
    size_t index;
};

static int cmp_keyed(const void *pa, const void *pb)
{
    const struct keyed *a = pa, *b = pb;
    int c = strcmp(a->key, b->key);
    if (c)
        return c;
    return a->index < b->index ? -1 : a->index > b->index;
}

/* Sorting by key finds repeats in O(n log n) whatever the list's length. */
static struct cnode *dedup(struct arena *a, struct cnode *seq, index_fn index)
{
    size_t n = seq->nitems;
    if (n < 2)
        return seq;
    struct keyed *k = xmalloc(n * sizeof(*k));
    struct cnode **out = xmalloc(n * sizeof(*out));
    bool *keep = xcalloc(n, sizeof(*keep));
    size_t nk = 0;
    for (size_t i = 0; i < n; i++) {
        const char *key = index(a, seq->items[i]);
        out[i] = seq->items[i];
        if (key)
            k[nk++] = (struct keyed){key, i};
        else
            keep[i] = true;
    }
    qsort(k, nk, sizeof(*k), cmp_keyed);
    bool changed = false;
    for (size_t i = 0; i < nk;) {
        size_t j = i;
        while (j + 1 < nk && strcmp(k[j + 1].key, k[i].key) == 0)
            j++;
        keep[k[i].index] = true;
        out[k[i].index] = seq->items[k[j].index];
        changed |= j != i;
        i = j + 1;
    }
    struct cnode *r = seq;
    if (changed) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (keep[i])
                out[m++] = out[i];
        r = sequence_new(a, seq, out, m);
    }
    free(keep);
    free(out);
    free(k);
    return r;
}

static struct cnode *unique_walk(struct arena *a, struct cnode *n, const char **seg, size_t nseg)
{
    if (n->kind == CNODE_SEQUENCE) {
        for (size_t i = 0; i < CC_ARRAY_LEN(uniques); i++)
            if (path_matches(seg, nseg, uniques[i].pattern))
                return dedup(a, n, uniques[i].index);
        return n;
    }
    /* The deepest unique path has five segments: nothing below needs visiting. */
    if (n->kind != CNODE_MAPPING || nseg >= 5)
        return n;
    struct cnode_pair *pairs = NULL;
    for (size_t i = 0; i < n->npairs; i++) {
        seg[nseg] = n->pairs[i].key->value;
        asm_pairs_set(&pairs, n, i, unique_walk(a, n->pairs[i].value, seg, nseg + 1));
    }
    return asm_pairs_finish(a, n, pairs);
}

struct cnode *asm_unique(struct arena *a, struct cnode *root)
{
    const char *seg[6];
    return unique_walk(a, root, seg, 0);
}
