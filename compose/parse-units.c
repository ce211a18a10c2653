/* Durations as Go's time package reads and prints them, and sizes as docker's go-units reads
 * them: the two unit languages compose files borrow from Go. */
#include "compose/parse.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char duration_hint[] =
    "write a number followed by a unit (ns, us, ms, s, m, h), e.g. '1m30s' or '500ms'";

static int duration_error(struct cc_error *reterr, const char *s, const char *why)
{
    cc_error_set(reterr, CC_ERR_INVALID_CONFIG, "invalid duration '%s': %s", s, why);
    cc_error_hint(reterr, "%s", duration_hint);
    return -1;
}

struct duration_unit {
    const char *name;
    uint64_t ns;
};

static const struct duration_unit duration_units[] = {
    {"ns", 1ULL},           {"us", 1000ULL},      {"\xc2\xb5s", 1000ULL}, /* U+00B5 micro sign */
    {"\xce\xbcs", 1000ULL},                                               /* U+03BC Greek mu */
    {"ms", 1000000ULL},     {"s", 1000000000ULL}, {"m", 60000000000ULL},  {"h", 3600000000000ULL},
};

/* Go reads each number as an integer part, exact while it fits, and a fraction whose digits
 * beyond 2^63 precision are dropped; the fraction is then scaled in floating point. Doing the
 * same keeps results identical to docker compose's to the nanosecond. */
int parse_duration(const char *s, int64_t *ret, struct cc_error *reterr)
{
    const uint64_t limit = 1ULL << 63;
    const char *p = s;
    int neg = 0;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    if (strcmp(p, "0") == 0) {
        *ret = 0;
        return 0;
    }
    if (!*p)
        return duration_error(reterr, s, "no number");
    uint64_t total = 0;
    while (*p) {
        if (!(*p == '.' || (*p >= '0' && *p <= '9')))
            return duration_error(reterr, s, "expected a number");
        uint64_t v = 0;
        const char *start = p;
        for (; *p >= '0' && *p <= '9'; p++) {
            if (v > limit / 10 || v * 10 + (uint64_t)(*p - '0') > limit)
                return duration_error(reterr, s, "out of range");
            v = v * 10 + (uint64_t)(*p - '0');
        }
        int pre = p != start, post = 0;
        uint64_t f = 0;
        double scale = 1;
        if (*p == '.') {
            p++;
            int overflow = 0;
            const char *fs = p;
            for (; *p >= '0' && *p <= '9'; p++) {
                if (overflow)
                    continue;
                if (f > (limit - 1) / 10) {
                    overflow = 1;
                    continue;
                }
                f = f * 10 + (uint64_t)(*p - '0');
                scale *= 10;
            }
            post = p != fs;
        }
        if (!pre && !post)
            return duration_error(reterr, s, "expected a number");
        const char *us = p;
        while (*p && *p != '.' && !(*p >= '0' && *p <= '9'))
            p++;
        if (p == us)
            return duration_error(reterr, s, "missing unit");
        const struct duration_unit *unit = NULL;
        for (size_t i = 0; i < CC_ARRAY_LEN(duration_units); i++)
            if (strlen(duration_units[i].name) == (size_t)(p - us) &&
                memcmp(duration_units[i].name, us, (size_t)(p - us)) == 0)
                unit = &duration_units[i];
        if (!unit) {
            cc_error_set(reterr, CC_ERR_INVALID_CONFIG,
                         "invalid duration '%s': unknown unit '%.*s'", s, (int)(p - us), us);
            cc_error_hint(reterr, "%s", duration_hint);
            return -1;
        }
        if (v > limit / unit->ns)
            return duration_error(reterr, s, "out of range");
        v *= unit->ns;
        if (f > 0) {
            v += (uint64_t)((double)f * ((double)unit->ns / scale));
            if (v > limit)
                return duration_error(reterr, s, "out of range");
        }
        total += v;
        if (total > limit)
            return duration_error(reterr, s, "out of range");
    }
    if (neg) {
        *ret = total == limit ? INT64_MIN : -(int64_t)total;
        return 0;
    }
    if (total > limit - 1)
        return duration_error(reterr, s, "out of range");
    *ret = (int64_t)total;
    return 0;
}

/* Writes the fraction v % 10^prec backwards ending at buf[w], without trailing zeros, and
 * returns the new start; *v becomes the integer part. */
static size_t fmt_frac(char *buf, size_t w, uint64_t *v, int prec)
{
    int print = 0;
    for (int i = 0; i < prec; i++) {
        unsigned digit = (unsigned)(*v % 10);
        print = print || digit != 0;
        if (print)
            buf[--w] = (char)('0' + digit);
        *v /= 10;
    }
    if (print)
        buf[--w] = '.';
    return w;
}

static size_t fmt_int(char *buf, size_t w, uint64_t v)
{
    if (v == 0) {
        buf[--w] = '0';
        return w;
    }
    while (v > 0) {
        buf[--w] = (char)('0' + v % 10);
        v /= 10;
    }
    return w;
}

char *parse_duration_format(int64_t ns, char buf[PARSE_DURATION_BUFSZ])
{
    char tmp[PARSE_DURATION_BUFSZ];
    size_t w = sizeof(tmp) - 1;
    tmp[w] = '\0';
    uint64_t u = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
    if (u < 1000000000ULL) {
        /* Under a second Go picks the largest unit that keeps an integer part: 1.2ms. */
        int prec = 0;
        tmp[--w] = 's';
        if (u == 0) {
            tmp[--w] = '0';
            memcpy(buf, tmp + w, sizeof(tmp) - w);
            return buf;
        } else if (u < 1000ULL) {
            tmp[--w] = 'n';
        } else if (u < 1000000ULL) {
            prec = 3;
            tmp[--w] = '\xb5';
            tmp[--w] = '\xc2';
        } else {
            prec = 6;
            tmp[--w] = 'm';
        }
        w = fmt_frac(tmp, w, &u, prec);
        w = fmt_int(tmp, w, u);
    } else {
        tmp[--w] = 's';
        w = fmt_frac(tmp, w, &u, 9);
        w = fmt_int(tmp, w, u % 60);
        u /= 60;
        if (u > 0) {
            tmp[--w] = 'm';
            w = fmt_int(tmp, w, u % 60);
            u /= 60;
            if (u > 0) {
                tmp[--w] = 'h';
                w = fmt_int(tmp, w, u);
            }
        }
    }
    if (ns < 0)
        tmp[--w] = '-';
    memcpy(buf, tmp + w, sizeof(tmp) - w);
    return buf;
}

static int size_error(struct cc_error *reterr, const char *s, const char *why)
{
    cc_error_set(reterr, CC_ERR_INVALID_CONFIG, "invalid size '%s': %s", s, why);
    cc_error_hint(reterr, "write a number of bytes with an optional unit b, k, m, g, t or p "
                          "(powers of 1024), e.g. '512m' or '1.5g'");
    return -1;
}

/* Go's strconv.ParseFloat on decimal text: digits with an optional fraction and exponent. */
static int decimal_number(const char *s, size_t n)
{
    size_t i = 0, digits = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
        digits++;
    if (i < n && s[i] == '.')
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            digits++;
    if (!digits)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t e = i;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            ;
        if (i == e)
            return 0;
    }
    return i == n;
}

int parse_size(const char *s, int64_t *ret, struct cc_error *reterr)
{
    /* go-units splits at the last digit, dot or blank: the number before, the unit after. One
     * blank between them is allowed and dropped. */
    const char *sep = NULL;
    for (const char *p = s; *p; p++)
        if ((*p >= '0' && *p <= '9') || *p == '.' || *p == ' ')
            sep = p;
    if (!sep)
        return size_error(reterr, s, "no number");
    size_t num_len = (size_t)(sep - s) + (*sep != ' ');
    const char *sfx = sep + 1;
    if (!decimal_number(s, num_len))
        return size_error(reterr, s, "not a number");
    char *num = xstrndup(s, num_len);
    double size = strtod(num, NULL);
    free(num);
    if (size < 0 || isnan(size))
        return size_error(reterr, s, "negative");
    size_t n = strlen(sfx);
    if (n > 0) {
        static const char units[] = "kmgtp";
        char c0 = (char)(sfx[0] | 0x20);
        char c1 = n > 1 ? (char)(sfx[1] | 0x20) : 0;
        char c2 = n > 2 ? (char)(sfx[2] | 0x20) : 0;
        const char *u = c0 ? strchr(units, c0) : NULL;
        int ok = n <= 3 &&
                 ((c0 == 'b' && n == 1) || (u && (n == 1 || (n == 2 && (c1 == 'i' || c1 == 'b')) ||
                                                  (n == 3 && c1 == 'i' && c2 == 'b'))));
        if (!ok) {
            cc_error_set(reterr, CC_ERR_INVALID_CONFIG, "invalid size '%s': unknown unit '%s'", s,
                         sfx);
            cc_error_hint(reterr, "use b, k, m, g, t or p, optionally followed by 'b' or 'ib' "
                                  "(all powers of 1024), e.g. '512m' or '2GiB'");
            return -1;
        }
        if (u)
            size *= pow(1024.0, (double)(u - units + 1));
    }
    if (size >= 9223372036854775808.0)
        return size_error(reterr, s, "too large");
    *ret = (int64_t)size;
    return 0;
}
