/* Reading cnode trees: scalar resolution as go-yaml v3 does it, key lookup, key paths and
 * positioned errors for messages. */
#include "compose/node.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"

#define TAG_STR "tag:yaml.org,2002:str"

static bool is_one_of(const char *s, const char *const *words, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, words[i]) == 0)
            return true;
    return false;
}

/* Digits of `base` with '_' separators removed, into out (at most cap-1 chars). */
static bool copy_digits(const char *s, int base, char *out, size_t cap)
{
    size_t n = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s == '_')
            continue;
        int d = isdigit((unsigned char)*s)                  ? *s - '0'
                : isxdigit((unsigned char)*s) && base == 16 ? tolower((unsigned char)*s) - 'a' + 10
                                                            : 99;
        if (d >= base || n + 1 >= cap)
            return false;
        out[n++] = *s;
    }
    out[n] = '\0';
    return n > 0;
}

/* Integers as Go's strconv.ParseInt(s, 0, 64) reads them after go-yaml drops underscores:
 * optional sign, then 0x/0o/0b prefixes or a leading 0 for octal. */
static bool parse_int(const char *s, int64_t *ret)
{
    char digits[80];
    bool neg = false;
    int base = 10;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    /* go-yaml only tries numbers on text that starts like one. */
    if (!isdigit((unsigned char)*s))
        return false;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    } else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
        base = 8;
        s += 2;
    } else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
        base = 2;
        s += 2;
    } else if (s[0] == '0' && s[1]) {
        base = 8;
    }
    if (!copy_digits(s, base, digits, sizeof(digits)))
        return false;
    errno = 0;
    char *end;
    unsigned long long u = strtoull(digits, &end, base);
    if (errno || *end)
        return false;
    if (neg ? u > (unsigned long long)INT64_MAX + 1 : u > (unsigned long long)INT64_MAX)
        return false;
    *ret = neg ? (int64_t)(0 - u) : (int64_t)u;
    return true;
}

/* go-yaml's float syntax: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?, '_' dropped. */
static bool parse_float(const char *s, double *ret)
{
    static const char *const inf[] = {".inf", ".Inf", ".INF"};
    static const char *const nan_words[] = {".nan", ".NaN", ".NAN"};
    const char *p = s;
    bool neg = false;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    if (is_one_of(p, inf, CC_ARRAY_LEN(inf))) {
        *ret = neg ? -INFINITY : INFINITY;
        return true;
    }
    if (p == s && is_one_of(p, nan_words, CC_ARRAY_LEN(nan_words))) {
        *ret = NAN;
        return true;
    }
    if (!isdigit((unsigned char)*p) && *p != '.')
        return false;
    char text[128];
    size_t n = 0, int_digits = 0, frac_digits = 0;
    if (p != s)
        text[n++] = s[0];
    for (; *p && (isdigit((unsigned char)*p) || *p == '_'); p++)
        if (*p != '_' && n + 1 < sizeof(text))
            text[n++] = *p, int_digits++;
    if (*p == '.') {
        text[n++] = *p++;
        for (; *p && (isdigit((unsigned char)*p) || *p == '_'); p++)
            if (*p != '_' && n + 1 < sizeof(text))
                text[n++] = *p, frac_digits++;
    }
    if (int_digits == 0 && frac_digits == 0)
        return false;
    if (*p == 'e' || *p == 'E') {
        text[n++] = *p++;
        if (*p == '+' || *p == '-')
            text[n++] = *p++;
        size_t exp_digits = 0;
        for (; *p && isdigit((unsigned char)*p) && n + 1 < sizeof(text); p++)
            text[n++] = *p, exp_digits++;
        if (!exp_digits)
            return false;
    }
    if (*p || n + 1 >= sizeof(text))
        return false;
    text[n] = '\0';
    *ret = strtod(text, NULL);
    return true;
}

struct cnode_scalar cnode_resolve(const struct cnode *n)
{
    static const char *const nulls[] = {"~", "null", "Null", "NULL", ""};
    static const char *const trues[] = {"true", "True", "TRUE"};
    static const char *const falses[] = {"false", "False", "FALSE"};
    struct cnode_scalar r = {.type = CNODE_TYPE_STRING};

    if (n->kind != CNODE_SCALAR) {
        r.type = CNODE_TYPE_OTHER;
        return r;
    }
    if (n->style != CNODE_PLAIN || n->interpolated || (n->tag && strcmp(n->tag, TAG_STR) == 0) ||
        strlen(n->value) != n->len)
        return r;
    if (is_one_of(n->value, nulls, CC_ARRAY_LEN(nulls))) {
        r.type = CNODE_TYPE_NULL;
    } else if (is_one_of(n->value, trues, CC_ARRAY_LEN(trues))) {
        r.type = CNODE_TYPE_BOOL;
        r.b = true;
    } else if (is_one_of(n->value, falses, CC_ARRAY_LEN(falses))) {
        r.type = CNODE_TYPE_BOOL;
    } else if (parse_int(n->value, &r.i)) {
        r.type = CNODE_TYPE_INT;
    } else if (parse_float(n->value, &r.f)) {
        r.type = CNODE_TYPE_FLOAT;
    }
    return r;
}

bool cnode_is_null(const struct cnode *n)
{
    return cnode_resolve(n).type == CNODE_TYPE_NULL;
}

int cnode_parse_bool(const char *s, bool *ret_value, bool *ret_legacy)
{
    static const char *const yes[] = {"y", "yes", "on"};
    static const char *const no[] = {"n", "no", "off"};
    bool legacy = false, value;
    if (strcasecmp(s, "true") == 0) {
        value = true;
    } else if (strcasecmp(s, "false") == 0) {
        value = false;
    } else {
        legacy = true;
        size_t i;
        for (i = 0; i < CC_ARRAY_LEN(yes); i++)
            if (strcasecmp(s, yes[i]) == 0 || strcasecmp(s, no[i]) == 0)
                break;
        if (i == CC_ARRAY_LEN(yes))
            return -1;
        value = strcasecmp(s, yes[i]) == 0;
    }
    *ret_value = value;
    if (ret_legacy)
        *ret_legacy = legacy;
    return 0;
}

struct cnode *cnode_get(const struct cnode *m, const char *key)
{
    if (!m || m->kind != CNODE_MAPPING)
        return NULL;
    size_t len = strlen(key);
    for (size_t i = 0; i < m->npairs; i++) {
        const struct cnode *k = m->pairs[i].key;
        if (k->len == len && memcmp(k->value, key, len) == 0)
            return m->pairs[i].value;
    }
    return NULL;
}

bool cnode_has_tag(const struct cnode *n, const char *tag)
{
    return n && n->tag && strcmp(n->tag, tag) == 0;
}

void cnode_path_push_key(struct cnode_path *p, const char *key)
{
    assert(p->len < CC_ARRAY_LEN(p->seg));
    p->seg[p->len].key = key;
    p->seg[p->len].index = 0;
    p->len++;
}

void cnode_path_push_index(struct cnode_path *p, size_t index)
{
    assert(p->len < CC_ARRAY_LEN(p->seg));
    p->seg[p->len].key = NULL;
    p->seg[p->len].index = index;
    p->len++;
}

void cnode_path_pop(struct cnode_path *p)
{
    assert(p->len > 0);
    p->len--;
}

char *cnode_path_str(const struct cnode_path *p)
{
    struct buf b = BUF_INIT;
    for (size_t i = 0; p && i < p->len; i++) {
        if (!p->seg[i].key)
            buf_printf(&b, "[%zu]", p->seg[i].index);
        else if (i == 0)
            buf_adds(&b, p->seg[i].key);
        else
            buf_printf(&b, ".%s", p->seg[i].key);
    }
    return buf_detach(&b);
}

int cnode_verror_at(struct cc_error *reterr, const char *file, int line, int col,
                    const char *key_path, const char *fmt, va_list ap)
{
    if (!reterr)
        return -1;
    char *msg = xvasprintf(fmt, ap);
    cc_error_set(reterr, CC_ERR_INVALID_CONFIG, "%s", msg);
    free(msg);
    if (file)
        cc_error_where(reterr, file, line, col);
    if (key_path && *key_path)
        cc_error_key_path(reterr, key_path);
    return -1;
}

int cnode_error_at(struct cc_error *reterr, const char *file, int line, int col,
                   const char *key_path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cnode_verror_at(reterr, file, line, col, key_path, fmt, ap);
    va_end(ap);
    return -1;
}

int cnode_error(struct cc_error *reterr, const struct cnode *n, const struct cnode_path *path,
                const char *fmt, ...)
{
    char *key_path = path ? cnode_path_str(path) : NULL;
    va_list ap;
    va_start(ap, fmt);
    cnode_verror_at(reterr, n->file, n->line, n->col, key_path, fmt, ap);
    va_end(ap);
    free(key_path);
    return -1;
}
