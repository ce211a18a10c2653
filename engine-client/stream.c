/* The Engine API's two streamed body formats, decoded incrementally: newline-delimited JSON
 * (events, build and pull progress) and the 8-byte framed stdout/stderr multiplex (logs, attach,
 * exec). No I/O here; see stream.h for the contracts. */
#include "engine-client/stream.h"

#include <assert.h>
#include <string.h>

#include "common/error.h"

#define JSONL_DEFAULT_MAX_LINE ((size_t)64 << 20)
/* Above this, the line buffer is freed once its line is decoded rather than kept for reuse. */
#define JSONL_KEEP_CAPACITY ((size_t)1 << 20)
/* How much of an offending line an error message quotes. */
#define EXCERPT_MAX 48

/* Appends at most max bytes of s as a quotable excerpt: printable ASCII as is, anything else
 * (control bytes, UTF-8 sequences that may be cut in half, the quote itself) as \xNN, so that the
 * message is safe to print on a terminal whatever the engine sent. */
static void add_excerpt(struct buf *out, const char *s, size_t len, size_t max)
{
    size_t n = len < max ? len : max;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\')
            buf_addc(out, (char)c);
        else
            buf_printf(out, "\\x%02x", c);
    }
    if (len > max)
        buf_adds(out, "...");
}

void engine_jsonl_init(struct engine_jsonl_decoder *d, engine_json_item_cb cb, void *data)
{
    assert(cb);
    buf_init(&d->pending);
    d->max_line = 0;
    d->cb = cb;
    d->data = data;
}

void engine_jsonl_release(struct engine_jsonl_decoder *d)
{
    buf_release(&d->pending);
}

static bool is_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    }
    return true;
}

/* Decodes one complete line (without its "\n") and hands the object to the callback. */
static int jsonl_decode_line(struct engine_jsonl_decoder *d, const char *line, size_t len,
                             struct cc_error *reterr)
{
    json_error_t jerr;
    struct buf excerpt = BUF_INIT;
    json_t *item = NULL;
    int r = -1;

    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (is_blank(line, len)) {
        r = 0;
        goto out;
    }
    /* JSON_DECODE_ANY so that a scalar line gets the clearer "not a JSON object" error below
     * rather than jansson's "'[' or '{' expected". JSON_ALLOW_NUL because build and log text
     * is the container's arbitrary output, which the engine encodes as "\u0000" when it holds
     * NUL bytes; such a line is valid JSON and must not end the stream. */
    item = json_loadb(line, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    add_excerpt(&excerpt, line, len, EXCERPT_MAX);
    if (!item) {
        cc_error_set(reterr, CC_ERR_PROTOCOL, "invalid JSON line in engine stream: '%s': %s",
                     buf_str(&excerpt), jerr.text);
        goto out;
    }
    /* Every streamed endpoint sends objects; callers may then json_object_get() without
     * checking the type first. */
    if (!json_is_object(item)) {
        cc_error_set(reterr, CC_ERR_PROTOCOL, "JSON line in engine stream is not an object: '%s'",
                     buf_str(&excerpt));
        goto out;
    }
    d->cb(item, d->data);
    r = 0;
out:
    json_decref(item);
    buf_release(&excerpt);
    return r;
}

/* The line being gathered went over the limit. The excerpt is cut at max_line + 1 bytes at
 * most, all of which are known whatever the chunking, so the message does not depend on how
 * the body was split. */
static int jsonl_too_long(struct engine_jsonl_decoder *d, size_t max, const char *more,
                          size_t more_len, struct cc_error *reterr)
{
    size_t quote = max < EXCERPT_MAX ? max + 1 : EXCERPT_MAX;
    struct buf line = BUF_INIT, excerpt = BUF_INIT;

    buf_add(&line, buf_str(&d->pending), d->pending.len < quote ? d->pending.len : quote);
    if (line.len < quote)
        buf_add(&line, more, quote - line.len < more_len ? quote - line.len : more_len);
    add_excerpt(&excerpt, line.data, line.len, line.len);
    cc_error_set(reterr, CC_ERR_PROTOCOL,
                 "line in engine JSON stream is longer than %zu bytes: '%s...'", max,
                 buf_str(&excerpt));
    buf_release(&excerpt);
    buf_release(&line);
    return -1;
}

/* One huge build line must not pin its buffer for the rest of a long event stream. */
static void jsonl_pending_clear(struct engine_jsonl_decoder *d)
{
    if (d->pending.cap > JSONL_KEEP_CAPACITY)
        buf_release(&d->pending);
    else
        buf_reset(&d->pending);
}

int engine_jsonl_feed(struct engine_jsonl_decoder *d, const char *buf, size_t len,
                      struct cc_error *reterr)
{
    size_t max = d->max_line ? d->max_line : JSONL_DEFAULT_MAX_LINE;
    /* Callers may hand over (NULL, 0); NULL + 0 is not a pointer we may form. */
    if (len == 0)
        return 0;
    const char *p = buf, *end = buf + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

        /* Checked before buffering so that a runaway line costs at most max bytes. */
        if (n > max - d->pending.len)
            return jsonl_too_long(d, max, p, n, reterr);
        if (!nl) {
            buf_add(&d->pending, p, n);
            break;
        }
        int r;
        if (d->pending.len) {
            buf_add(&d->pending, p, n);
            r = jsonl_decode_line(d, d->pending.data, d->pending.len, reterr);
            jsonl_pending_clear(d);
        } else {
            /* The common case, a whole line inside the chunk, is decoded without a copy. */
            r = jsonl_decode_line(d, p, n, reterr);
        }
        if (r < 0)
            return r;
        p = nl + 1;
    }
    return 0;
}

int engine_jsonl_finish(struct engine_jsonl_decoder *d, struct cc_error *reterr)
{
    int r = 0;
    if (d->pending.len)
        r = jsonl_decode_line(d, d->pending.data, d->pending.len, reterr);
    jsonl_pending_clear(d);
    return r;
}

void engine_mux_init(struct engine_mux_decoder *d, engine_output_cb cb, void *data)
{
    assert(cb);
    memset(d->header, 0, sizeof(d->header));
    d->header_len = 0;
    d->remaining = 0;
    d->fd = ENGINE_STDOUT;
    d->cb = cb;
    d->data = data;
}

void engine_mux_release(struct engine_mux_decoder *d)
{
    /* Nothing is allocated; kept so every decoder has the same life cycle. */
    (void)d;
}

static int mux_parse_header(struct engine_mux_decoder *d, struct cc_error *reterr)
{
    const unsigned char *h = d->header;

    /* Bytes 1-3 are reserved and always zero from dockerd and Podman; like Docker's own
     * client (stdcopy), we do not check them. */
    if (h[0] > ENGINE_STDERR) {
        cc_error_set(reterr, CC_ERR_PROTOCOL,
                     "unknown frame type %u in multiplexed engine stream (header %02x %02x %02x "
                     "%02x %02x %02x %02x %02x)",
                     h[0], h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]);
        cc_error_hint(reterr, "a container with a TTY sends raw output, not frames");
        return -1;
    }
    d->fd = (enum engine_stream_fd)h[0];
    d->remaining = (size_t)h[4] << 24 | (size_t)h[5] << 16 | (size_t)h[6] << 8 | (size_t)h[7];
    return 0;
}

int engine_mux_feed(struct engine_mux_decoder *d, const char *buf, size_t len,
                    struct cc_error *reterr)
{
    if (len == 0)
        return 0;
    const char *p = buf, *end = buf + len;
    while (p < end) {
        if (d->remaining == 0) {
            size_t want = sizeof(d->header) - d->header_len;
            size_t n = (size_t)(end - p) < want ? (size_t)(end - p) : want;
            memcpy(d->header + d->header_len, p, n);
            d->header_len += n;
            p += n;
            if (d->header_len < sizeof(d->header))
                break;
            if (mux_parse_header(d, reterr) < 0)
                return -1;
            /* A zero-size frame ends here; otherwise header_len stays 8 while the payload
             * runs, which tells finish() that a frame is open. */
            if (d->remaining == 0)
                d->header_len = 0;
            continue;
        }
        size_t n = (size_t)(end - p) < d->remaining ? (size_t)(end - p) : d->remaining;
        d->remaining -= n;
        if (d->remaining == 0)
            d->header_len = 0;
        d->cb(d->fd, p, n, d->data);
        p += n;
    }
    return 0;
}

int engine_mux_finish(struct engine_mux_decoder *d, struct cc_error *reterr)
{
    if (d->remaining > 0)
        return cc_error_set(reterr, CC_ERR_PROTOCOL,
                            "multiplexed engine stream ends inside a frame: %zu payload bytes "
                            "missing",
                            d->remaining);
    if (d->header_len > 0)
        return cc_error_set(reterr, CC_ERR_PROTOCOL,
                            "multiplexed engine stream ends inside a frame header (%zu of 8 "
                            "bytes)",
                            d->header_len);
    return 0;
}
