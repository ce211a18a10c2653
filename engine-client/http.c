/* HTTP/1.1 answers read without I/O: the head of a hijacked stream's answer, header lines, chunked
 * error bodies and the engine's refusals. See stream.h. */
#include <stdlib.h>
#include <string.h>

#include "engine-client/engine-internal.h"
#include "engine-client/stream.h"

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

bool engine_http_header_is(const char *line, size_t n, const char *name, const char **v,
                           size_t *vlen)
{
    size_t klen = strlen(name);
    if (n <= klen || line[klen] != ':' || strncasecmp(line, name, klen) != 0)
        return false;
    const char *p = line + klen + 1;
    size_t m = n - klen - 1;
    while (m && is_blank(*p))
        p++, m--;
    while (m && (is_blank(p[m - 1]) || p[m - 1] == '\r' || p[m - 1] == '\n'))
        m--;
    *v = p;
    *vlen = m;
    return true;
}

/* A decimal number of at most 18 digits (no sign, nothing after it): fits a long. */
static bool decimal(const char *p, size_t n, long *ret)
{
    if (n == 0 || n > 18)
        return false;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *ret = v;
    return true;
}

int engine_http_head_parse(const char *data, size_t len, const char *what,
                           struct engine_http_head *h, struct cc_error *reterr)
{
    /* Checked in an order that gives a prefix of the answer the same failure as the whole: what
     * cannot become HTTP fails at once, then a head too long, then the status line. */
    if (len >= 7 && strncmp(data, "HTTP/1.", 7) != 0)
        return cc_error_set(reterr, CC_ERR_PROTOCOL, "%s: the engine's answer is not HTTP", what);
    const char *end = memmem(data, len, "\r\n\r\n", 4);
    size_t hlen = end ? (size_t)(end - data) + 4 : len;
    if (hlen > ENGINE_HTTP_MAX_HEAD)
        return cc_error_set(reterr, CC_ERR_PROTOCOL, "%s: the engine's answer has too long a head",
                            what);
    if (!end)
        return 0;
    /* "HTTP/1.x NNN reason": the status is exactly three digits. */
    long status;
    if (hlen < 16 || strncmp(data, "HTTP/1.", 7) != 0 || data[8] != ' ' ||
        !decimal(data + 9, 3, &status) || (data[12] != ' ' && data[12] != '\r') ||
        status < 100 || status > 599)
        return cc_error_set(reterr, CC_ERR_PROTOCOL, "%s: the engine's answer is not HTTP", what);
    *h = (struct engine_http_head){.status = status, .content_length = -1, .len = hlen};
    const char *line = memmem(data, hlen, "\r\n", 2) + 2;
    while (line < end + 2) {
        const char *eol = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
        size_t n = (size_t)(eol - line);
        const char *v;
        size_t vlen;
        if (engine_http_header_is(line, n, "Content-Length", &v, &vlen) &&
            !decimal(v, vlen, &h->content_length))
            return cc_error_set(reterr, CC_ERR_PROTOCOL,
                                "%s: the engine's answer has a bad Content-Length", what);
        if (engine_http_header_is(line, n, "Transfer-Encoding", &v, &vlen))
            h->chunked = vlen >= 7 && strncasecmp(v + vlen - 7, "chunked", 7) == 0;
        line = eol + 2;
    }
    return 1;
}

static int hexdigit(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

int engine_http_dechunk(const char *in, size_t len, struct buf *out)
{
    const char *p = in, *end = in + len;
    buf_reset(out);
    for (;;) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (!eol)
            /* A size line is a few hex digits and maybe extensions: a long one is not framing. */
            return end - p > 1024 ? -1 : 0;
        size_t size = 0, digits = 0;
        const char *q = p;
        for (int d; q < eol && (d = hexdigit(*q)) >= 0; q++, digits++) {
            if (digits >= 15)
                return -1;
            size = size * 16 + (size_t)d;
        }
        if (digits == 0 || (q < eol && *q != ';' && !is_blank(*q)))
            return -1;
        p = eol + 2;
        if (size == 0)
            return 1;
        if ((size_t)(end - p) < size + 2)
            return 0;
        if (p[size] != '\r' || p[size + 1] != '\n')
            return -1;
        buf_add(out, p, size);
        p += size + 2;
    }
}

/* Length of the UTF-8 sequence at s (n bytes left) when it is valid and not a C1 control
 * (U+0080..U+009F, which terminals obey like ESC sequences), else 0. */
static size_t utf8_ok(const unsigned char *s, size_t n)
{
    size_t need = s[0] >= 0xc2 && s[0] <= 0xdf   ? 2
                  : s[0] >= 0xe0 && s[0] <= 0xef ? 3
                  : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4
                                                 : 0;
    if (need == 0 || need > n)
        return 0;
    for (size_t i = 1; i < need; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if (s[0] == 0xc2 && s[1] < 0xa0)
        return 0;
    /* Overlong forms and surrogates. */
    if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
        (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
        return 0;
    return need;
}

/* text as a message safe to print, cut at ENGINE_HTTP_MAX_MESSAGE bytes. New string. */
static char *printable(const char *text, size_t len)
{
    struct buf b = BUF_INIT;
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < len && b.len < ENGINE_HTTP_MAX_MESSAGE;) {
        size_t n = s[i] >= 0x80 ? utf8_ok(s + i, len - i) : 1;
        if (n > 1 || (n == 1 && (s[i] >= 0x20 || s[i] == '\n' || s[i] == '\t') && s[i] != 0x7f)) {
            buf_add(&b, text + i, n);
            i += n;
        } else {
            buf_printf(&b, "\\x%02x", s[i]);
            i++;
        }
        if (i < len && b.len >= ENGINE_HTTP_MAX_MESSAGE)
            buf_adds(&b, "...");
    }
    return buf_detach(&b);
}

void engine_http_error(long status, const char *body, size_t len, const char *what,
                       struct cc_error *err)
{
    json_t *j = json_loadb(body ? body : "", len, 0, NULL);
    const char *raw = json_string_value(json_object_get(j, "message"));
    size_t rlen = raw ? strlen(raw) : 0;
    if (!j) {
        raw = body;
        rlen = len;
    }
    /* A body of blanks says nothing either. */
    size_t blank = 0;
    while (blank < rlen && strchr(" \t\r\n", raw[blank]) && raw[blank])
        blank++;
    char *text = blank < rlen ? printable(raw, rlen) : NULL;
    json_decref(j);
    enum cc_error_kind kind = engine_status_kind(status);
    if (text)
        cc_error_set(err, kind, "%s", text);
    else
        cc_error_set(err, kind, "%s: the engine answered %ld", what, status);
    err->http_status = (int)status;
    free(err->engine_message);
    err->engine_message = text;
}
