/* Interpolation of `$` forms in strings and in every scalar value of a cnode tree.
 *
 * One recursive descent over byte ranges of the original string, so every `$` keeps its offset
 * and errors can point at it. The end of a braced form is found as compose-go finds it: every
 * `${` opens, every `}` closes. */
#include "compose/interpolate.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"

struct interp {
    struct arena *a;
    const struct interp_env *env;
    const char *s; /* the whole string: offsets are into it */
    size_t len;
    const struct interp_where *where;
    struct interp_warnings *warns;
    struct cc_error *err;
};

void interp_warnings_release(struct interp_warnings *w)
{
    if (!w)
        return;
    free(w->items);
    w->items = NULL;
    w->len = w->cap = 0;
}

static bool is_name_start(char c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

/* The position of the byte at offset off, for messages. */
static void position(const struct interp *it, size_t off, int *line, int *col)
{
    *line = it->where ? it->where->line : 0;
    *col = it->where ? it->where->col : 0;
    if (!it->where || !it->where->exact)
        return;
    /* libyaml counts columns in characters: skip UTF-8 continuation bytes. */
    for (size_t i = 0; i < off; i++)
        if (((unsigned char)it->s[i] & 0xC0) != 0x80)
            (*col)++;
}

static int fail_at(struct interp *it, size_t off, const char *fmt, ...) CC_PRINTF(3, 4);

static int fail_at(struct interp *it, size_t off, const char *fmt, ...)
{
    int line, col;
    position(it, off, &line, &col);
    va_list ap;
    va_start(ap, fmt);
    cnode_verror_at(it->err, it->where ? it->where->file : NULL, line, col,
                    it->where ? it->where->key_path : NULL, fmt, ap);
    va_end(ap);
    return -1;
}

static int invalid_format(struct interp *it, size_t off)
{
    /* Quote the value as compose-go does, but not all of a huge one. */
    const int max = 120;
    const char *more = it->len > (size_t)max ? "..." : "";
    int n = it->len > (size_t)max ? max : (int)it->len;
    if (it->where && it->where->key_path)
        fail_at(it, off, "invalid interpolation format for %s: '%.*s%s'", it->where->key_path, n,
                it->s, more);
    else
        fail_at(it, off, "invalid interpolation format: '%.*s%s'", n, it->s, more);
    cc_error_hint(it->err, "write '$$' for a literal '$'; a variable is '${NAME}', optionally with "
                           "':-', '-', ':+', '+', ':?' or '?' and a text before the '}'");
    return -1;
}

static void warn_unset(struct interp *it, size_t off, const char *name)
{
    if (!it->warns)
        return;
    struct interp_warning w = {.name = name};
    if (it->where) {
        w.file = it->where->file;
        w.key_path = it->where->key_path;
        position(it, off, &w.line, &w.col);
    }
    cc_grow((void **)&it->warns->items, &it->warns->cap, it->warns->len + 1,
            sizeof(*it->warns->items));
    it->warns->items[it->warns->len++] = w;
}

/* Where the braced form opened at `open` (a `${`) closes, or 0 when it does not before end. */
static size_t find_close(const struct interp *it, size_t open, size_t end)
{
    int depth = 0;
    for (size_t i = open; i < end; i++) {
        if (it->s[i] == '}') {
            if (--depth == 0)
                return i;
        } else if (it->s[i] == '$' && i + 1 < end && it->s[i + 1] == '{') {
            depth++;
            i++;
        }
    }
    return 0;
}

static bool lookup(struct interp *it, const char *name, const char **ret)
{
    *ret = "";
    return it->env && it->env->lookup && it->env->lookup(it->env->data, name, ret);
}

static int expand(struct interp *it, size_t b, size_t e, bool eval, struct buf *out, int depth);

/* ${NAME...} at `d` (the `$`), closing at `close`. */
static int braced(struct interp *it, size_t d, size_t close, bool eval, struct buf *out, int depth)
{
    if (depth >= INTERP_MAX_DEPTH) {
        fail_at(it, d, "interpolation nested deeper than %d levels", INTERP_MAX_DEPTH);
        cc_error_hint(it->err, "split the value, or use fewer nested defaults");
        return -1;
    }
    size_t i = d + 2;
    if (i >= close || !is_name_start(it->s[i]))
        return invalid_format(it, d);
    while (i < close && is_name_char(it->s[i]))
        i++;
    char *name = arena_strndup(it->a, it->s + d + 2, i - (d + 2));

    bool colon = false;
    char op = 0;
    if (i < close) {
        colon = it->s[i] == ':';
        op = it->s[i + colon];
        if (i + colon >= close || (op != '-' && op != '+' && op != '?'))
            return invalid_format(it, d);
        i += colon + 1;
    }
    if (!eval)
        return op ? expand(it, i, close, false, NULL, depth + 1) : 0;

    const char *value;
    bool set = lookup(it, name, &value);
    bool usable = set && (!colon || *value);
    switch (op) {
    case 0:
        if (!set)
            warn_unset(it, d, name);
        buf_adds(out, value);
        return 0;
    case '-':
        if (usable) {
            buf_adds(out, value);
            return expand(it, i, close, false, NULL, depth + 1);
        }
        return expand(it, i, close, true, out, depth + 1);
    case '+':
        if (usable)
            return expand(it, i, close, true, out, depth + 1);
        return expand(it, i, close, false, NULL, depth + 1);
    default: /* '?' */
        if (usable) {
            buf_adds(out, value);
            return expand(it, i, close, false, NULL, depth + 1);
        }
        struct buf msg = BUF_INIT;
        int r = expand(it, i, close, true, &msg, depth + 1);
        if (r == 0) {
            if (msg.len)
                fail_at(it, d, "required variable '%s' is missing a value: %s", name,
                        buf_str(&msg));
            else
                fail_at(it, d, "required variable '%s' is missing a value", name);
            cc_error_hint(it->err, "set '%s' in the environment or in the project's .env file",
                          name);
            r = -1;
        }
        buf_release(&msg);
        return r;
    }
}

/* Interpolates s[b..e) into out, or only checks its syntax when !eval (out may be NULL). */
static int expand(struct interp *it, size_t b, size_t e, bool eval, struct buf *out, int depth)
{
    for (size_t i = b; i < e; i++) {
        char c = it->s[i];
        char next = i + 1 < e ? it->s[i + 1] : '\0';
        if (c != '$' || (i + 1 < e && next != '$' && next != '{' && !is_name_start(next)) ||
            i + 1 == e) {
            /* Not a variable: compose-go keeps such a '$' as it is. */
            if (eval)
                buf_addc(out, c);
            continue;
        }
        if (next == '$') {
            if (eval)
                buf_addc(out, '$');
            i++;
            continue;
        }
        if (next != '{') {
            size_t j = i + 1;
            while (j < e && is_name_char(it->s[j]))
                j++;
            if (eval) {
                char *name = arena_strndup(it->a, it->s + i + 1, j - i - 1);
                const char *value;
                if (!lookup(it, name, &value))
                    warn_unset(it, i, name);
                buf_adds(out, value);
            }
            i = j - 1;
            continue;
        }
        size_t close = find_close(it, i, e);
        if (!close)
            return invalid_format(it, i);
        if (braced(it, i, close, eval, out, depth) < 0)
            return -1;
        i = close;
    }
    return 0;
}

int interp_string(struct arena *a, const struct interp_env *env, const char *s, size_t len,
                  const struct interp_where *where, struct interp_warnings *warns, const char **ret,
                  size_t *ret_len, struct cc_error *reterr)
{
    struct interp it = {a, env, s, len, where, warns, reterr};
    struct buf out = BUF_INIT;
    size_t nwarn = warns ? warns->len : 0;
    int r = -1;

    if (expand(&it, 0, len, true, &out, 0) < 0) {
        /* A failed string leaves no warnings behind. */
        if (warns)
            warns->len = nwarn;
        goto out;
    }
    *ret = arena_strndup(a, buf_str(&out), out.len);
    *ret_len = out.len;
    r = 0;
out:
    buf_release(&out);
    return r;
}

/* ---- trees ---- */

struct tree {
    struct arena *a;
    const struct interp_env *env;
    struct interp_warnings *warns;
    struct cc_error *err;
    struct cnode_path path;
};

static int tree_node(struct tree *t, struct cnode *n, struct cnode **ret);

static int tree_scalar(struct tree *t, struct cnode *n, struct cnode **ret)
{
    if (!memchr(n->value, '$', n->len)) {
        *ret = n;
        return 0;
    }
    char *key_path = cnode_path_str(&t->path);
    struct interp_where where = {
        .file = n->file,
        .line = n->line,
        .col = n->col,
        .exact = n->style == CNODE_PLAIN && n->end_line == n->line,
        .key_path = *key_path ? arena_strdup(t->a, key_path) : NULL,
    };
    free(key_path);
    const char *value;
    size_t len;
    if (interp_string(t->a, t->env, n->value, n->len, &where, t->warns, &value, &len, t->err) < 0)
        return -1;
    struct cnode *c = arena_alloc(t->a, sizeof(*c));
    *c = *n;
    c->value = value;
    c->len = len;
    c->interpolated = true;
    *ret = c;
    return 0;
}

static int tree_mapping(struct tree *t, struct cnode *n, struct cnode **ret)
{
    struct cnode_pair *pairs = NULL;
    for (size_t i = 0; i < n->npairs; i++) {
        struct cnode *v;
        cnode_path_push_key(&t->path, n->pairs[i].key->value);
        int r = tree_node(t, n->pairs[i].value, &v);
        cnode_path_pop(&t->path);
        if (r < 0)
            return -1;
        if (v == n->pairs[i].value)
            continue;
        if (!pairs) {
            pairs = arena_alloc(t->a, n->npairs * sizeof(*pairs));
            memcpy(pairs, n->pairs, n->npairs * sizeof(*pairs));
        }
        pairs[i].value = v;
    }
    if (!pairs) {
        *ret = n;
        return 0;
    }
    struct cnode *c = arena_alloc(t->a, sizeof(*c));
    *c = *n;
    c->pairs = pairs;
    *ret = c;
    return 0;
}

static int tree_sequence(struct tree *t, struct cnode *n, struct cnode **ret)
{
    struct cnode **items = NULL;
    for (size_t i = 0; i < n->nitems; i++) {
        struct cnode *v;
        cnode_path_push_index(&t->path, i);
        int r = tree_node(t, n->items[i], &v);
        cnode_path_pop(&t->path);
        if (r < 0)
            return -1;
        if (v == n->items[i])
            continue;
        if (!items) {
            items = arena_alloc(t->a, n->nitems * sizeof(*items));
            memcpy(items, n->items, n->nitems * sizeof(*items));
        }
        items[i] = v;
    }
    if (!items) {
        *ret = n;
        return 0;
    }
    struct cnode *c = arena_alloc(t->a, sizeof(*c));
    *c = *n;
    c->items = items;
    *ret = c;
    return 0;
}

/* Recursion depth is bounded by CNODE_MAX_DEPTH, which the loader enforces through aliases. */
static int tree_node(struct tree *t, struct cnode *n, struct cnode **ret)
{
    switch (n->kind) {
    case CNODE_SCALAR:
        return tree_scalar(t, n, ret);
    case CNODE_MAPPING:
        return tree_mapping(t, n, ret);
    case CNODE_SEQUENCE:
        return tree_sequence(t, n, ret);
    }
    return -1;
}

int interp_tree(struct arena *a, const struct interp_env *env, struct cnode *root,
                struct interp_warnings *warns, struct cnode **ret, struct cc_error *reterr)
{
    struct tree *t = xmalloc(sizeof(*t));
    t->a = a;
    t->env = env;
    t->warns = warns;
    t->err = reterr;
    t->path.len = 0;
    size_t nwarn = warns ? warns->len : 0;
    struct cnode *out;
    int r = tree_node(t, root, &out);
    if (r == 0)
        *ret = out;
    else if (warns)
        warns->len = nwarn;
    free(t);
    return r;
}
