/* .dockerignore: docker's reader and pattern matcher, without regular expressions. moby turns
 * each pattern into an anchored regexp: a star is any run of characters but '/', '?' one such
 * character, a double star followed by more any number of whole directories, a final double star
 * anything, classes kept, a backslash escapes, everything else is literal. Here a pattern is a
 * list of tokens with those meanings, matched in one pass on UTF-8 text (match_toks). The
 * syntax check is Go's filepath.Match's, which moby runs on every pattern before use. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "compose/parse.h"
#include "scheduler/dockerignore.h"

enum tok_kind {
    TOK_LIT,       /* one code point */
    TOK_STAR,      /* a star: any run of characters but '/' */
    TOK_QUEST,     /* `?`: one character but '/' */
    TOK_DSTAR_DIR, /* `**` followed by more: any number of whole directories, even none */
    TOK_DSTAR_ALL, /* `**` at the end: anything */
    TOK_CLASS,     /* `[...]`: one character in (or, negated, not in) the ranges */
};

struct tok {
    enum tok_kind kind;
    uint32_t cp;
    bool negated;
    uint32_t *ranges; /* lo, hi pairs */
    size_t n_ranges;
};

struct pattern {
    const char *text; /* cleaned, without the leading '!' */
    bool exclusion;
    struct tok *toks;
    size_t n_toks;
};

struct dockerignore {
    struct arena arena;
    struct pattern *patterns;
    size_t n, cap;
};

struct dockerignore *dockerignore_new(void)
{
    struct dockerignore *di = xcalloc(1, sizeof(*di));
    arena_init(&di->arena);
    return di;
}

void dockerignore_free(struct dockerignore *di)
{
    if (!di)
        return;
    free(di->patterns);
    arena_release(&di->arena);
    free(di);
}

size_t dockerignore_count(const struct dockerignore *di)
{
    return di ? di->n : 0;
}

/* One UTF-8 code point at s (a byte that starts no valid sequence stands for itself). */
static uint32_t utf8_next(const char *s, size_t *adv)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = u[0] < 0x80             ? 1
               : (u[0] & 0xe0) == 0xc0 ? 2
               : (u[0] & 0xf0) == 0xe0 ? 3
               : (u[0] & 0xf8) == 0xf0 ? 4
                                       : 1;
    uint32_t cp = n == 1   ? u[0]
                  : n == 2 ? (u[0] & 0x1fu)
                  : n == 3 ? (u[0] & 0x0fu)
                           : (u[0] & 0x07u);
    for (size_t k = 1; k < n; k++) {
        if ((u[k] & 0xc0) != 0x80) {
            *adv = 1;
            return u[0];
        }
        cp = (cp << 6) | (u[k] & 0x3fu);
    }
    *adv = n;
    return cp;
}

/* Go's getEsc: one class character, possibly escaped; '-' and ']' must be escaped here. */
static int class_char(const char **p, uint32_t *ret)
{
    const char *s = *p;
    if (*s == '\0' || *s == '-' || *s == ']')
        return -1;
    if (*s == '\\') {
        s++;
        if (*s == '\0')
            return -1;
    }
    size_t adv;
    *ret = utf8_next(s, &adv);
    *p = s + adv;
    return 0;
}

static int compile_class(struct arena *a, const char **p, struct tok *t)
{
    const char *s = *p; /* just after '[' */
    size_t cap = 0;
    t->kind = TOK_CLASS;
    if (*s == '^') {
        t->negated = true;
        s++;
    }
    for (;;) {
        if (*s == ']' && t->n_ranges > 0) {
            s++;
            break;
        }
        uint32_t lo, hi;
        if (class_char(&s, &lo) < 0)
            return -1;
        hi = lo;
        if (*s == '-') {
            s++;
            if (class_char(&s, &hi) < 0)
                return -1;
        }
        if (t->n_ranges == cap) {
            uint32_t *old = t->ranges;
            cap = cap ? 2 * cap : 4;
            t->ranges = arena_alloc(a, cap * 2 * sizeof(*t->ranges));
            if (old)
                memcpy(t->ranges, old, t->n_ranges * 2 * sizeof(*t->ranges));
        }
        t->ranges[2 * t->n_ranges] = lo;
        t->ranges[2 * t->n_ranges + 1] = hi;
        t->n_ranges++;
    }
    *p = s;
    return 0;
}

/* Turns a cleaned pattern into tokens; -1 on a syntax error. */
static int compile(struct arena *a, struct pattern *pat)
{
    size_t cap = strlen(pat->text) + 1;
    pat->toks = arena_alloc(a, cap * sizeof(*pat->toks));
    pat->n_toks = 0;
    const char *s = pat->text;
    while (*s) {
        struct tok *t = &pat->toks[pat->n_toks++];
        memset(t, 0, sizeof(*t));
        if (s[0] == '*' && s[1] == '*') {
            s += 2;
            if (*s == '/')
                s++;
            t->kind = *s ? TOK_DSTAR_DIR : TOK_DSTAR_ALL;
        } else if (*s == '*') {
            t->kind = TOK_STAR;
            s++;
        } else if (*s == '?') {
            t->kind = TOK_QUEST;
            s++;
        } else if (*s == '[') {
            s++;
            if (compile_class(a, &s, t) < 0)
                return -1;
        } else {
            if (*s == '\\') {
                s++;
                if (*s == '\0')
                    return -1;
            }
            size_t adv;
            t->kind = TOK_LIT;
            t->cp = utf8_next(s, &adv);
            s += adv;
        }
    }
    return 0;
}

static bool class_has(const struct tok *t, uint32_t cp)
{
    for (size_t k = 0; k < t->n_ranges; k++)
        if (cp >= t->ranges[2 * k] && cp <= t->ranges[2 * k + 1])
            return !t->negated;
    return t->negated;
}

/* Matches the whole of s (len bytes) against the tokens. Not by backtracking, which takes
 * exponential time on patterns like "*a*a*a*a*b" or a chain of double stars: this walks the tokens
 * once, keeping the set of offsets in s where the rest of the pattern may start (cur), in time
 * O(tokens x len) and no recursion. cur and next are len + 1 bytes of scratch each. A star
 * advances by bytes, other tokens by code points, as moby's regexp on the raw string does. */
static bool match_toks(const struct tok *t, size_t n, const char *s, size_t len, char *cur,
                       char *next)
{
    size_t adv;
    memset(cur, 0, len + 1);
    cur[0] = 1;
    for (; n > 0; t++, n--) {
        bool any = false, carry = false;
        if (t->kind == TOK_DSTAR_ALL) {
            for (size_t o = 0; o <= len; o++)
                if (cur[o])
                    return true;
            return false;
        }
        memset(next, 0, len + 1);
        for (size_t o = 0; o <= len; o++) {
            switch (t->kind) {
            case TOK_LIT:
                if (cur[o] && o < len && utf8_next(s + o, &adv) == t->cp)
                    next[o + adv] = 1;
                break;
            case TOK_QUEST:
                if (cur[o] && o < len && s[o] != '/') {
                    utf8_next(s + o, &adv);
                    next[o + adv] = 1;
                }
                break;
            case TOK_CLASS:
                if (cur[o] && o < len && class_has(t, utf8_next(s + o, &adv)))
                    next[o + adv] = 1;
                break;
            case TOK_STAR:
                /* Any run of bytes but '/', starting where the pattern got to. */
                carry = carry || cur[o];
                next[o] |= carry;
                if (o < len && s[o] == '/')
                    carry = false;
                break;
            case TOK_DSTAR_DIR:
                /* Nothing, or anything up to and including a '/'. */
                carry = carry || cur[o];
                next[o] |= cur[o];
                if (carry && o < len && s[o] == '/')
                    next[o + 1] = 1;
                break;
            case TOK_DSTAR_ALL:
                break;
            }
        }
        for (size_t o = 0; o <= len && !any; o++)
            any = next[o];
        if (!any)
            return false;
        char *swap = cur;
        cur = next;
        next = swap;
    }
    return cur[len];
}

static const char *trim_space(const char *s, size_t *len)
{
    static const char space[] = " \t\r\n\v\f";
    while (*len > 0 && strchr(space, s[0]) && s[0])
        s++, (*len)--;
    while (*len > 0 && strchr(space, s[*len - 1]) && s[*len - 1])
        (*len)--;
    return s;
}

/* moby's NewPatternMatcher for one pattern. */
static int add_pattern(struct dockerignore *di, const char *text, size_t len, const char **why)
{
    text = trim_space(text, &len);
    if (len == 0)
        return 0;
    const char *p = parse_path_clean(&di->arena, arena_strndup(&di->arena, text, len));
    struct pattern pat = {0};
    if (p[0] == '!') {
        if (p[1] == '\0')
            return *why = "illegal exclusion pattern '!'", -1;
        pat.exclusion = true;
        p++;
    }
    pat.text = p;
    if (compile(&di->arena, &pat) < 0)
        return *why = "syntax error in pattern", -1;
    cc_grow((void **)&di->patterns, &di->cap, di->n + 1, sizeof(*di->patterns));
    di->patterns[di->n++] = pat;
    return 0;
}

int dockerignore_add(struct dockerignore *di, const char *pattern, struct cc_error *reterr)
{
    const char *why = NULL;
    if (add_pattern(di, pattern, strlen(pattern), &why) < 0)
        return cc_error_set(reterr, CC_ERR_INVALID_CONFIG, "%s: '%s'", why, pattern);
    return 0;
}

int dockerignore_parse(struct dockerignore *di, const char *file, const char *text, size_t len,
                       struct cc_error *reterr)
{
    size_t n_before = di->n;
    const char *end = text + len, *line = text;
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        line += 3;
    for (int lineno = 1; line < end; lineno++) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t n = nl ? (size_t)(nl - line) : (size_t)(end - line);
        const char *next = nl ? nl + 1 : end;
        if (n > 0 && line[0] == '#') {
            line = next;
            continue;
        }
        /* The reader cleans the path part and drops a leading '/', keeping a '!' in front. */
        size_t plen = n;
        const char *p = trim_space(line, &plen);
        bool invert = plen > 0 && p[0] == '!';
        if (invert) {
            p++, plen--;
            p = trim_space(p, &plen);
        }
        if (plen == 0 && !invert) {
            line = next;
            continue;
        }
        const char *clean = "";
        if (plen > 0) {
            clean = parse_path_clean(&di->arena, arena_strndup(&di->arena, p, plen));
            if (clean[0] == '/' && clean[1] != '\0')
                clean++;
        }
        const char *full = invert ? arena_printf(&di->arena, "!%s", clean) : clean;
        const char *why = NULL;
        if (add_pattern(di, full, strlen(full), &why) < 0) {
            di->n = n_before;
            cc_error_set(reterr, CC_ERR_INVALID_CONFIG, "%s: '%.*s'", why, (int)n, line);
            cc_error_where(reterr, file, lineno, 1);
            cc_error_hint(reterr, "see https://docs.docker.com/build/building/context/"
                                  "#dockerignore-files for the pattern syntax");
            return -1;
        }
        line = next;
    }
    return 0;
}

bool dockerignore_excludes(const struct dockerignore *di, const char *path)
{
    if (!di || di->n == 0)
        return false;
    size_t len = strlen(path);
    char *tmp = xstrdup(path), *scratch = xmalloc(2 * (len + 1));
    bool has_parent = strchr(path, '/') != NULL;
    bool matched = false;
    for (size_t i = 0; i < di->n; i++) {
        const struct pattern *pat = &di->patterns[i];
        if (pat->exclusion != matched)
            continue;
        bool m = match_toks(pat->toks, pat->n_toks, path, len, scratch, scratch + len + 1);
        /* A pattern matching a parent directory matches what is inside. */
        for (char *q = tmp; !m && has_parent && (q = strchr(q, '/')); q++) {
            *q = '\0';
            m = match_toks(pat->toks, pat->n_toks, tmp, (size_t)(q - tmp), scratch,
                           scratch + len + 1);
            *q = '/';
        }
        if (m)
            matched = !pat->exclusion;
    }
    free(scratch);
    free(tmp);
    return matched;
}

bool dockerignore_must_descend(const struct dockerignore *di, const char *dir)
{
    size_t dlen = strlen(dir);
    for (size_t i = 0; di && i < di->n; i++) {
        const struct pattern *pat = &di->patterns[i];
        if (!pat->exclusion)
            continue;
        /* moby compares "<pattern>/" with "<dir>/" as strings. */
        size_t plen = strlen(pat->text);
        if (plen >= dlen && strncmp(pat->text, dir, dlen) == 0 &&
            (plen == dlen || pat->text[dlen] == '/'))
            return true;
    }
    return false;
}
