/* Env files (.env and env_file:) read as compose-go's dotenv parser reads them, plus the small
 * built-in interpolation used until compose/interpolate.c is plugged in. Positions are kept as
 * byte offsets and turned into line:col only when an error is reported. */
#include "compose/parse.h"

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/util.h"

struct env_parser {
    struct arena *a;
    const char *file;
    const char *src;
    size_t len;
    const struct parse_env_opts *opts;
    struct parse_env_var *vars; /* heap, copied to the arena on success */
    size_t n, cap;
};

/* Blanks that separate tokens on a line, as dotenv's isSpace: never the newline. */
static int is_blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

static int is_name_start(unsigned char c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_name_char(unsigned char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

/* dotenv accepts letters and digits of any script, so every non-ASCII byte is let through. */
static int is_key_char(unsigned char c)
{
    return is_name_char(c) || c == '.' || c == '-' || c == '[' || c == ']' || c >= 0x80;
}

static int env_error(struct env_parser *p, size_t at, struct cc_error *reterr, const char *hint,
                     const char *fmt, ...) CC_PRINTF(5, 6);

static int env_error(struct env_parser *p, size_t at, struct cc_error *reterr, const char *hint,
                     const char *fmt, ...)
{
    if (!reterr)
        return -1;
    int line = 1, col = 1;
    for (size_t i = 0; i < at && i < p->len; i++) {
        if (p->src[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    cc_error_set(reterr, CC_ERR_INVALID_CONFIG, "%s", msg);
    free(msg);
    cc_error_hint(reterr, "%s", hint);
    cc_error_where(reterr, p->file, line, col);
    return -1;
}

static struct parse_env_var *env_find(struct env_parser *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->vars[i].key, key) == 0)
            return &p->vars[i];
    return NULL;
}

static void env_set(struct env_parser *p, const char *key, const char *value)
{
    struct parse_env_var *v = env_find(p, key);
    if (v) {
        v->value = value;
        return;
    }
    cc_grow((void **)&p->vars, &p->cap, p->n + 1, sizeof(*p->vars));
    p->vars[p->n].key = key;
    p->vars[p->n].value = value;
    p->n++;
}

/* Earlier keys of the same file win over the environment, as in compose-go's dotenv. */
static const char *env_lookup(const char *name, void *data)
{
    struct env_parser *p = data;
    struct parse_env_var *v = env_find(p, name);
    if (v)
        return v->value;
    return p->opts->lookup ? p->opts->lookup(name, p->opts->lookup_data) : NULL;
}

static int env_interpolate(struct env_parser *p, size_t at, const char *text, const char **ret,
                           struct cc_error *reterr)
{
    parse_interpolate_fn fn =
        p->opts->interpolate ? p->opts->interpolate : parse_interpolate_simple;
    struct cc_error err = CC_ERROR_INIT;
    if (fn(p->a, text, env_lookup, p, ret, &err) < 0) {
        env_error(p, at, reterr, err.hint ? err.hint : "fix the reference", "%s", err.message);
        cc_error_release(&err);
        return -1;
    }
    return 0;
}

/* Appends the UTF-8 encoding of a code point below 0x800 (octal escapes reach 0377 at most). */
static void add_utf8(struct buf *b, unsigned cp)
{
    if (cp < 0x80) {
        buf_addc(b, (char)cp);
    } else {
        buf_addc(b, (char)(0xc0 | (cp >> 6)));
        buf_addc(b, (char)(0x80 | (cp & 0x3f)));
    }
}

/* The escapes dotenv honours in double quotes: \a \b \f \n \r \t \v \" \\, \$ (a literal '$',
 * spelled "$$" for the interpolation that follows) and \0NNN octal. Others stay as written. */
static char *expand_escapes(struct arena *a, const char *s)
{
    struct buf b = BUF_INIT;
    for (size_t i = 0; s[i]; i++) {
        if (s[i] != '\\' || !s[i + 1]) {
            buf_addc(&b, s[i]);
            continue;
        }
        char c = s[i + 1];
        const char *simple = strchr("abfnrtv\"\\", c);
        if (simple && c) {
            static const char out[] = "\a\b\f\n\r\t\v\"\\";
            buf_addc(&b, out[simple - "abfnrtv\"\\"]);
            i++;
        } else if (c == '$') {
            buf_adds(&b, "$$");
            i++;
        } else if (c == '0') {
            size_t nd = 0;
            while (nd < 3 && s[i + 2 + nd] >= '0' && s[i + 2 + nd] <= '9')
                nd++;
            unsigned v = 0;
            int ok = nd == 3;
            for (size_t k = 0; ok && k < 3; k++) {
                char d = s[i + 2 + k];
                ok = d <= '7';
                v = v * 8 + (unsigned)(d - '0');
            }
            if (ok && v <= 0377)
                add_utf8(&b, v);
            else
                buf_add(&b, s + i, 2 + nd);
            i += 1 + nd;
        } else {
            buf_addc(&b, '\\');
        }
    }
    char *r = arena_strdup(a, buf_str(&b));
    buf_release(&b);
    return r;
}

/* A quoted value starting at src[q]. A backslash before the quote character drops; before
 * anything else it stays for expand_escapes. Sets *end past the closing quote. */
static int env_quoted(struct env_parser *p, size_t q, size_t *end, const char **ret,
                      struct cc_error *reterr)
{
    char quote = p->src[q];
    struct buf b = BUF_INIT;
    int escaped = 0, rc = -1;
    size_t i;
    for (i = q + 1; i < p->len; i++) {
        char c = p->src[i];
        if (escaped) {
            escaped = 0;
            if (c != quote)
                buf_addc(&b, '\\');
            buf_addc(&b, c);
        } else if (c == '\\') {
            escaped = 1;
        } else if (c == quote) {
            break;
        } else {
            buf_addc(&b, c);
        }
    }
    if (i >= p->len) {
        env_error(p, q, reterr,
                  quote == '"' ? "close the value with a matching '\"'"
                               : "close the value with a matching \"'\"",
                  "unterminated quoted value");
        goto out;
    }
    *end = i + 1;
    if (quote == '\'') {
        *ret = arena_strdup(p->a, buf_str(&b));
        rc = 0;
        goto out;
    }
    rc = env_interpolate(p, q, expand_escapes(p->a, buf_str(&b)), ret, reterr);
out:
    buf_release(&b);
    return rc;
}

/* One statement at p->src[pos]; sets *next where the following one may start. */
static int env_statement(struct env_parser *p, size_t pos, size_t *next, struct cc_error *reterr)
{
    const char *s = p->src;
    if (p->len - pos > 6 && memcmp(s + pos, "export", 6) == 0 &&
        is_blank((unsigned char)s[pos + 6])) {
        pos += 6;
        while (pos < p->len && is_blank((unsigned char)s[pos]))
            pos++;
    }
    size_t key_at = pos, sep = pos;
    while (sep < p->len && s[sep] != '=' && s[sep] != ':' && s[sep] != '\n') {
        unsigned char c = (unsigned char)s[sep];
        if (!is_blank(c) && !is_key_char(c)) {
            size_t eol = key_at;
            while (eol < p->len && s[eol] != '\n')
                eol++;
            return env_error(p, sep, reterr,
                             "names may hold letters, digits, '_', '.', '-', '[' and ']'; write "
                             "each variable as KEY=VALUE",
                             "unexpected character '%c' in variable name '%.*s'", c,
                             (int)(eol - key_at), s + key_at);
        }
        sep++;
    }
    size_t key_end = sep;
    while (key_end > key_at && is_blank((unsigned char)s[key_end - 1]))
        key_end--;
    for (size_t i = key_at; i < key_end; i++)
        if (is_blank((unsigned char)s[i]))
            return env_error(p, key_at, reterr, "remove the blank, or quote the value after '='",
                             "variable name '%.*s' contains a blank", (int)(key_end - key_at),
                             s + key_at);
    if (key_end == key_at && (sep >= p->len || s[sep] == '\n')) {
        /* "export" and nothing else: compose-go looks up an empty name, which is never set. */
        *next = sep;
        return 0;
    }
    if (key_end == key_at)
        return env_error(p, sep, reterr, "write the line as KEY=VALUE",
                         "missing variable name before '%c'", s[sep]);
    const char *key = arena_strndup(p->a, s + key_at, key_end - key_at);

    /* `KEY` alone takes its value from the environment. compose-go needs a newline after it; a
     * last line without one means the same, so it is read the same way. */
    if (sep >= p->len || s[sep] == '\n') {
        const char *v = p->opts->lookup ? p->opts->lookup(key, p->opts->lookup_data) : NULL;
        if (v)
            env_set(p, key, arena_strdup(p->a, v));
        *next = sep;
        return 0;
    }

    size_t v = sep + 1;
    while (v < p->len && is_blank((unsigned char)s[v]))
        v++;
    const char *value;
    if (v < p->len && (s[v] == '"' || s[v] == '\'')) {
        if (env_quoted(p, v, next, &value, reterr) < 0)
            return -1;
    } else {
        size_t eol = v;
        while (eol < p->len && s[eol] != '\n')
            eol++;
        size_t end = v;
        while (end < eol && !(s[end] == ' ' && end + 1 < eol && s[end + 1] == '#'))
            end++;
        while (end > v && (is_blank((unsigned char)s[end - 1])))
            end--;
        if (env_interpolate(p, v, arena_strndup(p->a, s + v, end - v), &value, reterr) < 0)
            return -1;
        *next = eol;
    }
    env_set(p, key, value);
    return 0;
}

int parse_env_file(struct arena *a, const char *file, const char *data, size_t len,
                   const struct parse_env_opts *opts, struct parse_env_list *ret,
                   struct cc_error *reterr)
{
    static const struct parse_env_opts no_opts = {NULL, NULL, NULL};
    struct env_parser p = {a, file, data, len, opts ? opts : &no_opts, NULL, 0, 0};
    int rc = -1;
    size_t pos = 0;
    /* Editors on Windows like to start files with a byte order mark; dotenv skips it. */
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
        pos = 3;
    for (;;) {
        while (pos < len && (is_blank((unsigned char)data[pos]) || data[pos] == '\n'))
            pos++;
        if (pos >= len)
            break;
        if (data[pos] == '#') {
            while (pos < len && data[pos] != '\n')
                pos++;
            continue;
        }
        if (env_statement(&p, pos, &pos, reterr) < 0)
            goto out;
    }
    ret->n = p.n;
    ret->vars = arena_alloc(a, (p.n ? p.n : 1) * sizeof(*ret->vars));
    if (p.n)
        memcpy(ret->vars, p.vars, p.n * sizeof(*p.vars));
    rc = 0;
out:
    free(p.vars);
    return rc;
}

/* ---- parse_interpolate_simple ---------------------------------------------------------------- */

static int interp_error(struct cc_error *reterr, const char *text)
{
    cc_error_set(reterr, CC_ERR_INVALID_CONFIG, "invalid interpolation format in '%s'", text);
    cc_error_hint(reterr, "write '${NAME}' or '$NAME' for a variable and '$$' for a literal '$'");
    return -1;
}

/* Index of the '}' closing the '${' whose body starts at s[i], allowing nested ${...}. */
static const char *closing_brace(const char *s)
{
    int depth = 1;
    for (; *s; s++) {
        if (s[0] == '$' && s[1] == '{') {
            depth++;
            s++;
        } else if (s[0] == '}' && --depth == 0) {
            return s;
        }
    }
    return NULL;
}

static int interp_into(struct arena *a, const char *text, parse_lookup_cb lookup, void *data,
                       struct buf *out, struct cc_error *reterr)
{
    const char *s = text;
    while (*s) {
        if (*s != '$') {
            buf_addc(out, *s++);
            continue;
        }
        if (s[1] == '$') {
            buf_addc(out, '$');
            s += 2;
            continue;
        }
        int braced = s[1] == '{';
        const char *name = s + 1 + braced;
        const char *e = name;
        if (!is_name_start((unsigned char)*e))
            return interp_error(reterr, text);
        while (is_name_char((unsigned char)*e))
            e++;
        char *key = xstrndup(name, (size_t)(e - name));
        const char *val = lookup ? lookup(key, data) : NULL;
        int rc = 0;
        if (!braced) {
            buf_adds(out, val ? val : "");
            s = e;
        } else {
            const char *close = closing_brace(e);
            int colon = *e == ':';
            char op = e[colon];
            if (!close || (e != close && !(op == '-' || op == '+' || op == '?'))) {
                free(key);
                return interp_error(reterr, text);
            }
            /* ':' makes an empty value count as unset. */
            int set = val && !(colon && !*val);
            char *arg =
                e == close ? NULL : xstrndup(e + colon + 1, (size_t)(close - e - colon - 1));
            if (e == close || (op == '-' && set)) {
                buf_adds(out, val ? val : "");
            } else if (op == '-' || (op == '+' && set)) {
                rc = interp_into(a, arg, lookup, data, out, reterr);
            } else if (op == '?' && !set) {
                cc_error_set(reterr, CC_ERR_INVALID_CONFIG,
                             "required variable '%s' is missing a value: %s", key, arg);
                cc_error_hint(reterr, "set '%s' in the environment or earlier in the file", key);
                rc = -1;
            } else if (op == '?') {
                buf_adds(out, val);
            }
            free(arg);
            s = close + 1;
        }
        free(key);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int parse_interpolate_simple(struct arena *a, const char *text, parse_lookup_cb lookup,
                             void *lookup_data, const char **ret, struct cc_error *reterr)
{
    struct buf out = BUF_INIT;
    int rc = interp_into(a, text, lookup, lookup_data, &out, reterr);
    if (rc == 0)
        *ret = arena_strdup(a, buf_str(&out));
    buf_release(&out);
    return rc;
}
