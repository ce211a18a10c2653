/* The shared machinery of model building: positioned errors into the load's diag, scalar
 * conversions as compose-go's typed fields read them, lists, KEY=VALUE maps, and field tables
 * that check every key of a mapping. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "compose/model-internal.h"
#include "compose/parse.h"

static void add_error(struct mctx *m, struct cc_error *e)
{
    compose_diag_add_error(m->ctx->diag, e);
    m->n_errors++;
}

int m_error(struct mctx *m, const struct cnode *n, const char *hint, const char *fmt, ...)
{
    struct cc_error e = CC_ERROR_INIT;
    char *key_path = cnode_path_str(&m->path);
    va_list ap;
    va_start(ap, fmt);
    cnode_verror_at(&e, n ? n->file : NULL, n ? n->line : 0, n ? n->col : 0, key_path, fmt, ap);
    va_end(ap);
    if (hint)
        cc_error_hint(&e, "%s", hint);
    add_error(m, &e);
    cc_error_release(&e);
    free(key_path);
    return -1;
}

int m_error_from(struct mctx *m, const struct cnode *n, const struct cc_error *err)
{
    struct cc_error e = CC_ERROR_INIT;
    cc_error_copy(&e, err);
    e.kind = CC_ERR_INVALID_CONFIG;
    if (n && !e.file)
        cc_error_where(&e, n->file, n->line, n->col);
    char *key_path = cnode_path_str(&m->path);
    if (*key_path && !e.key_path)
        cc_error_key_path(&e, key_path);
    free(key_path);
    add_error(m, &e);
    cc_error_release(&e);
    return -1;
}

void m_warning(struct mctx *m, const struct cnode *n, const char *fmt, ...)
{
    struct cc_error e = CC_ERROR_INIT;
    char *key_path = cnode_path_str(&m->path);
    va_list ap;
    va_start(ap, fmt);
    cnode_verror_at(&e, n ? n->file : NULL, n ? n->line : 0, n ? n->col : 0, key_path, fmt, ap);
    va_end(ap);
    compose_diag_add_warning(m->ctx->diag, &e);
    cc_error_release(&e);
    free(key_path);
}

const char *m_path(struct mctx *m)
{
    char *s = cnode_path_str(&m->path);
    const char *r = arena_strdup(m->a, s);
    free(s);
    return r;
}

struct compose_pos m_pos(const struct cnode *n)
{
    return (struct compose_pos){n->file, n->line, n->col};
}

const char *m_kind_name(const struct cnode *n)
{
    if (n->kind == CNODE_MAPPING)
        return "mapping";
    if (n->kind == CNODE_SEQUENCE)
        return "sequence";
    switch (cnode_resolve(n).type) {
    case CNODE_TYPE_NULL:
        return "null";
    case CNODE_TYPE_BOOL:
        return "boolean";
    case CNODE_TYPE_INT:
        return "number";
    case CNODE_TYPE_FLOAT:
        return "number";
    default:
        return "string";
    }
}

void *m_array(struct mctx *m, size_t n, size_t elem)
{
    return arena_alloc(m->a, (n ? n : 1) * elem);
}

int m_want_map(struct mctx *m, const struct cnode *n)
{
    if (n->kind == CNODE_MAPPING)
        return 0;
    return m_error(m, n, NULL, "'%s' must be a mapping, not a %s", m_path(m), m_kind_name(n));
}

int m_want_seq(struct mctx *m, const struct cnode *n)
{
    if (n->kind == CNODE_SEQUENCE)
        return 0;
    return m_error(m, n, NULL, "'%s' must be a list, not a %s", m_path(m), m_kind_name(n));
}

int m_seq(struct mctx *m, const struct cnode *n, size_t elem, void *ret, size_t *ret_n,
          m_item_fn item, void *data)
{
    if (cnode_is_null(n))
        return 0;
    if (m_want_seq(m, n) < 0)
        return -1;
    char *v = elem ? m_array(m, n->nitems, elem) : NULL;
    size_t kept = 0;
    int r = 0;
    for (size_t i = 0; i < n->nitems; i++) {
        void *slot = v ? v + kept * elem : NULL;
        if (slot)
            memset(slot, 0, elem);
        cnode_path_push_index(&m->path, i);
        int k = item(m, n->items[i], slot, data);
        cnode_path_pop(&m->path);
        if (k < 0)
            r = -1;
        else if (k > 0)
            kept++;
    }
    if (elem) {
        *(void **)ret = v;
        *ret_n = kept;
    }
    return r;
}

int m_str(struct mctx *m, const struct cnode *n, const char **ret)
{
    if (n->kind != CNODE_SCALAR)
        return m_error(m, n, NULL, "'%s' must be a string, not a %s", m_path(m), m_kind_name(n));
    if (cnode_is_null(n))
        return 1;
    *ret = n->value;
    return 0;
}

static int want_scalar(struct mctx *m, const struct cnode *n, const char *what)
{
    if (n->kind == CNODE_SCALAR)
        return cnode_is_null(n) ? 1 : 0;
    return m_error(m, n, NULL, "'%s' must be %s, not a %s", m_path(m), what, m_kind_name(n));
}

int m_bool(struct mctx *m, const struct cnode *n, bool *ret)
{
    int r = want_scalar(m, n, "a boolean");
    if (r)
        return r;
    bool legacy;
    if (cnode_parse_bool(n->value, ret, &legacy) < 0)
        return m_error(m, n, "write true or false", "'%s' must be a boolean, not '%s'", m_path(m),
                       n->value);
    return 0;
}

int m_int64(struct mctx *m, const struct cnode *n, int64_t min, int64_t max, int64_t *ret)
{
    int r = want_scalar(m, n, "a number");
    if (r)
        return r;
    char *end;
    errno = 0;
    long long v = strtoll(n->value, &end, 0);
    if (end == n->value || *end || errno) {
        struct cnode_scalar s = cnode_resolve(n);
        if (s.type != CNODE_TYPE_INT)
            return m_error(m, n, NULL, "'%s' must be a whole number, not '%s'", m_path(m),
                           n->value);
        v = s.i;
    }
    if (v < min || v > max)
        return m_error(m, n, NULL, "'%s' is %lld, out of range (%lld to %lld)", m_path(m), v,
                       (long long)min, (long long)max);
    *ret = v;
    return 0;
}

int m_int(struct mctx *m, const struct cnode *n, int min, int max, int *ret)
{
    int64_t v;
    int r = m_int64(m, n, min, max, &v);
    if (r == 0)
        *ret = (int)v;
    return r;
}

int m_double(struct mctx *m, const struct cnode *n, double *ret)
{
    int r = want_scalar(m, n, "a number");
    if (r)
        return r;
    char *end;
    double v = strtod(n->value, &end);
    if (end == n->value || *end || v != v)
        return m_error(m, n, NULL, "'%s' must be a number, not '%s'", m_path(m), n->value);
    *ret = v;
    return 0;
}

int m_duration(struct mctx *m, const struct cnode *n, int64_t *ret)
{
    int r = want_scalar(m, n, "a duration");
    if (r)
        return r;
    struct cc_error e = CC_ERROR_INIT;
    int64_t v;
    r = 0;
    if (parse_duration(n->value, &v, &e) < 0)
        r = m_error(m, n, "write a duration like 30s, 1m30s or 500ms",
                    "'%s' is not a valid duration: '%s'", m_path(m), n->value);
    else if (v < 0)
        r = m_error(m, n, NULL, "'%s' must not be negative", m_path(m));
    else
        *ret = v;
    cc_error_release(&e);
    return r;
}

int m_size(struct mctx *m, const struct cnode *n, int64_t *ret)
{
    int r = want_scalar(m, n, "a size");
    if (r)
        return r;
    struct cc_error e = CC_ERROR_INIT;
    int64_t v;
    r = 0;
    if (parse_size(n->value, &v, &e) < 0)
        r = m_error(m, n, "write a size in bytes or with a unit, like 512m or 1g",
                    "'%s' is not a valid size: '%s'", m_path(m), n->value);
    else
        *ret = v;
    cc_error_release(&e);
    return r;
}

int m_enum(struct mctx *m, const struct cnode *n, const char *const *ok, size_t n_ok,
           const char *what, const char *hint, const char **ret)
{
    const char *v = NULL;
    int r = m_str(m, n, &v);
    if (r)
        return r;
    for (size_t i = 0; i < n_ok; i++) {
        if (strcmp(v, ok[i]) == 0) {
            *ret = v;
            return 0;
        }
    }
    return m_error(m, n, hint, "'%s' is not %s: '%s'", m_path(m), what, v);
}

void m_strv_add(struct mctx *m, struct compose_strv *sv, const char *s)
{
    const char **v = m_array(m, sv->n + 1, sizeof(*v));
    if (sv->n)
        memcpy(v, sv->v, sv->n * sizeof(*v));
    v[sv->n++] = s;
    sv->v = v;
}

int m_strv(struct mctx *m, const struct cnode *n, bool one_ok, struct compose_strv *ret)
{
    if (n->kind == CNODE_SCALAR && cnode_is_null(n))
        return 1;
    if (n->kind == CNODE_SCALAR && one_ok) {
        ret->v = m_array(m, 1, sizeof(*ret->v));
        ret->v[0] = n->value;
        ret->n = 1;
        return 0;
    }
    if (n->kind != CNODE_SEQUENCE)
        return m_error(m, n, NULL, "'%s' must be a list%s, not a %s", m_path(m),
                       one_ok ? " or a string" : "", m_kind_name(n));
    struct compose_strv sv = {m_array(m, n->nitems, sizeof(*sv.v)), 0};
    int r = 0;
    for (size_t i = 0; i < n->nitems; i++) {
        const struct cnode *it = n->items[i];
        cnode_path_push_index(&m->path, i);
        if (it->kind != CNODE_SCALAR || cnode_is_null(it))
            r = m_error(m, it, NULL, "'%s' must be a string, not a %s", m_path(m), m_kind_name(it));
        else
            sv.v[sv.n++] = it->value;
        cnode_path_pop(&m->path);
    }
    if (r == 0)
        *ret = sv;
    return r < 0 ? -1 : 0;
}

void m_kvv_set(struct mctx *m, struct compose_kvv *kvv, const char *key, const char *value)
{
    for (size_t i = 0; i < kvv->n; i++) {
        if (strcmp(kvv->v[i].key, key) == 0) {
            kvv->v[i].value = value;
            return;
        }
    }
    struct compose_kv *v = m_array(m, kvv->n + 1, sizeof(*v));
    if (kvv->n)
        memcpy(v, kvv->v, kvv->n * sizeof(*v));
    v[kvv->n++] = (struct compose_kv){key, value};
    kvv->v = v;
}

static const char *env_value(struct mctx *m, const char *key)
{
    const char *v = NULL;
    const struct interp_env *env = &m->ctx->env;
    if (env->lookup && env->lookup(env->data, key, &v))
        return arena_strdup(m->a, v);
    return NULL;
}

int m_kvv(struct mctx *m, const struct cnode *n, bool env_lookup, struct compose_kvv *ret)
{
    if (n->kind == CNODE_SCALAR && cnode_is_null(n))
        return 1;
    struct compose_kvv kvv = {0};
    int r = 0;
    if (n->kind == CNODE_MAPPING) {
        kvv.v = m_array(m, n->npairs, sizeof(*kvv.v));
        for (size_t i = 0; i < n->npairs; i++) {
            const struct cnode *k = n->pairs[i].key, *v = n->pairs[i].value;
            const char *value = NULL;
            cnode_path_push_key(&m->path, k->value);
            if (v->kind != CNODE_SCALAR) {
                r = m_error(m, v, NULL, "'%s' must be a string, number or boolean, not a %s",
                            m_path(m), m_kind_name(v));
            } else if (cnode_is_null(v)) {
                value = env_lookup ? env_value(m, k->value) : "";
            } else {
                value = v->value;
            }
            cnode_path_pop(&m->path);
            kvv.v[kvv.n++] = (struct compose_kv){k->value, value};
        }
    } else if (n->kind == CNODE_SEQUENCE) {
        const char *what = m->path.len ? m->path.seg[m->path.len - 1].key : NULL;
        if (!what)
            what = "list";
        for (size_t i = 0; i < n->nitems; i++) {
            const struct cnode *it = n->items[i];
            const char *key, *value;
            struct cc_error e = CC_ERROR_INIT;
            cnode_path_push_index(&m->path, i);
            if (it->kind != CNODE_SCALAR || cnode_is_null(it)) {
                r = m_error(m, it, NULL, "'%s' must be a KEY=VALUE string, not a %s", m_path(m),
                            m_kind_name(it));
            } else if (parse_kv_item(m->a, it->value, what, &key, &value, &e) < 0) {
                r = m_error_from(m, it, &e);
            } else {
                if (!value)
                    value = env_lookup ? env_value(m, key) : "";
                m_kvv_set(m, &kvv, key, value);
            }
            cc_error_release(&e);
            cnode_path_pop(&m->path);
        }
    } else {
        return m_error(m, n, NULL, "'%s' must be a mapping or a list of KEY=VALUE, not a %s",
                       m_path(m), m_kind_name(n));
    }
    if (r == 0)
        *ret = kvv;
    return r < 0 ? -1 : 0;
}

static int field(struct mctx *m, const struct cnode *v, const struct mfield *f, void *dst)
{
    char *p = dst ? (char *)dst + f->off : NULL;
    switch (f->type) {
    case MF_STR:
        return m_str(m, v, (const char **)p);
    case MF_BOOL:
        return m_bool(m, v, (bool *)p);
    case MF_TRI: {
        bool b;
        int r = m_bool(m, v, &b);
        if (r == 0)
            *(enum compose_tristate *)p = b ? COMPOSE_TRI_TRUE : COMPOSE_TRI_FALSE;
        return r;
    }
    case MF_INT:
        return m_int(m, v, INT_MIN, INT_MAX, (int *)p);
    case MF_INT64:
        return m_int64(m, v, INT64_MIN, INT64_MAX, (int64_t *)p);
    case MF_DOUBLE:
        return m_double(m, v, (double *)p);
    case MF_DURATION:
        return m_duration(m, v, (int64_t *)p);
    case MF_SIZE:
        return m_size(m, v, (int64_t *)p);
    case MF_STRV:
        return m_strv(m, v, true, (struct compose_strv *)p);
    case MF_LIST:
        return m_strv(m, v, false, (struct compose_strv *)p);
    case MF_KVV:
        return m_kvv(m, v, false, (struct compose_kvv *)p);
    case MF_ENV:
        return m_kvv(m, v, true, (struct compose_kvv *)p);
    case MF_CUSTOM:
        return f->fn(m, v, dst);
    case MF_ACCEPTED:
        return 0;
    }
    return 0;
}

int m_fields(struct mctx *m, const struct cnode *n, const struct mfield *fields, size_t n_fields,
             void *dst, const char *what)
{
    if (n->kind == CNODE_SCALAR && cnode_is_null(n))
        return 0;
    if (m_want_map(m, n) < 0)
        return -1;
    int r = 0;
    for (size_t i = 0; i < n->npairs; i++) {
        const struct cnode *k = n->pairs[i].key, *v = n->pairs[i].value;
        const struct mfield *f = NULL;
        for (size_t j = 0; j < n_fields && !f; j++)
            if (strcmp(fields[j].key, k->value) == 0)
                f = &fields[j];
        if (!f && strncmp(k->value, "x-", 2) == 0)
            continue;
        cnode_path_push_key(&m->path, k->value);
        if (!f) {
            r = m_error(m, k, "check the spelling; extension keys must start with 'x-'",
                        "unknown key '%s' in %s", k->value, what);
        } else if (field(m, v, f, dst) < 0) {
            r = -1;
        }
        cnode_path_pop(&m->path);
    }
    return r;
}
