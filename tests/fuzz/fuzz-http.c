/* libFuzzer target for how the engine client reads HTTP answers (engine-client/http.c): the input
 * is a whole answer as the engine's socket gives it (status line, headers, a plain or chunked
 * body). The head is parsed whole and split at a point derived from the input (the prefix must
 * only ever say "more" or fail the same way); each header line goes through the matcher curl's
 * header callback uses; a chunked body is de-chunked whole and from every prefix; an error status
 * becomes the error the user sees, which must carry the status's kind and a message that is
 * bounded and holds no byte that would drive a terminal. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "engine-client/engine-internal.h"
#include "engine-client/stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* True when s holds a control character other than newline and tab, or an ESC. */
static bool has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
            return true;
        /* C1 controls in UTF-8: U+0080..U+009F. */
        if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0)
            return true;
    }
    return false;
}

static void check_error(long status, const char *body, size_t len)
{
    struct cc_error err = CC_ERROR_INIT;
    engine_http_error(status, body, len, "POST /fuzz", &err);
    if (err.kind != engine_status_kind(status) || err.http_status != status || !err.message ||
        !*err.message)
        abort();
    if (has_control(err.message) || strlen(err.message) > ENGINE_HTTP_MAX_MESSAGE + 8)
        abort();
    if (err.engine_message && strcmp(err.engine_message, err.message) != 0)
        abort();
    cc_error_release(&err);
}

static void check_headers(const char *head, size_t len)
{
    static const char *const names[] = {"API-Version", "Content-Length", "Transfer-Encoding",
                                        "X-Docker-Container-Path-Stat", "Libpod-API-Version"};
    const char *p = head, *end = head + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        size_t n = eol ? (size_t)(eol - p + 1) : (size_t)(end - p);
        for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
            const char *v;
            size_t vlen;
            if (engine_http_header_is(p, n, names[i], &v, &vlen) &&
                (v < p || v + vlen > p + n || (vlen && (v[0] == ' ' || v[vlen - 1] == '\n'))))
                abort();
        }
        p += n;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    struct engine_http_head h, hp;
    struct cc_error err = CC_ERROR_INIT, perr = CC_ERROR_INIT;
    int rc = engine_http_head_parse(in, size, "POST /fuzz", &h, &err);
    if (rc < 0 && (err.kind != CC_ERR_PROTOCOL || !err.message))
        abort();

    /* A prefix of the answer: more needed, the same failure, or (when the head is already in
     * it) the same head. */
    size_t split = size ? ((size_t)data[0] * 131 + data[size - 1]) % (size + 1) : 0;
    int prc = engine_http_head_parse(in, split, "POST /fuzz", &hp, &perr);
    if (prc > 0 && (rc <= 0 || hp.len != h.len || hp.status != h.status ||
                    hp.content_length != h.content_length || hp.chunked != h.chunked))
        abort();
    if (prc < 0 && (rc >= 0 || strcmp(perr.message, err.message) != 0))
        abort();
    if (rc == 0 && size > ENGINE_HTTP_MAX_HEAD)
        abort();
    cc_error_release(&perr);
    cc_error_release(&err);
    if (rc <= 0)
        return 0;
    if (h.status < 100 || h.status > 599 || h.len > size || h.len < 16)
        abort();

    check_headers(in, h.len);
    const char *body = in + h.len;
    size_t blen = size - h.len;
    if (h.chunked) {
        struct buf whole = BUF_INIT, part = BUF_INIT;
        int drc = engine_http_dechunk(body, blen, &whole);
        if (drc < -1 || drc > 1 || whole.len > blen)
            abort();
        /* A complete body stays complete with more bytes after it; a prefix of a good body is
         * good or incomplete, never broken, and never decodes to more. */
        size_t cut = blen ? split % (blen + 1) : 0;
        int prc2 = engine_http_dechunk(body, cut, &part);
        if (drc >= 0 && (prc2 < 0 || part.len > whole.len ||
                         memcmp(part.data ? part.data : "", whole.data ? whole.data : "",
                                part.len) != 0))
            abort();
        if (h.status >= 400)
            check_error(h.status, whole.data, whole.len);
        buf_release(&part);
        buf_release(&whole);
    } else if (h.status >= 400) {
        if (h.content_length >= 0 && (size_t)h.content_length < blen)
            blen = (size_t)h.content_length;
        check_error(h.status, body, blen);
    }
    return 0;
}
