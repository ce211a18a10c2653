/* Fuzz target for the multiplexed stdout/stderr frame decoder (engine-client/stream.c). The input
 * is a response body, decoded whole, split in two at a point derived from the input, and one byte
 * at a time: each must give the same bytes per fd and the same outcome, and no piece may be empty
 * or carry an fd other than stdin, stdout or stderr. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "engine-client/stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct outcome {
    struct buf out[3]; /* by fd */
    int rc;
    struct cc_error err;
};

static void on_output(enum engine_stream_fd fd, const char *buf, size_t len, void *data)
{
    struct outcome *o = data;
    if (len == 0 || fd > ENGINE_STDERR)
        abort();
    buf_add(&o->out[fd], buf, len);
}

/* Feeds body in chunks: [0, split) then the rest in pieces of step bytes (0: all at once). */
static void decode(const char *body, size_t len, size_t split, size_t step, struct outcome *o)
{
    struct engine_mux_decoder d;

    for (int i = 0; i < 3; i++)
        buf_init(&o->out[i]);
    cc_error_init(&o->err);
    engine_mux_init(&d, on_output, o);
    o->rc = engine_mux_feed(&d, body, split, &o->err);
    for (size_t off = split; o->rc == 0 && off < len;) {
        size_t n = step && step < len - off ? step : len - off;
        o->rc = engine_mux_feed(&d, body + off, n, &o->err);
        off += n;
    }
    if (o->rc == 0)
        o->rc = engine_mux_finish(&d, &o->err);
    if (o->rc != 0 && (o->rc != -1 || o->err.kind != CC_ERR_PROTOCOL || !o->err.message))
        abort();
    engine_mux_release(&d);
}

static void release(struct outcome *o)
{
    for (int i = 0; i < 3; i++)
        buf_release(&o->out[i]);
    cc_error_release(&o->err);
}

static void check_same(const struct outcome *a, const struct outcome *b)
{
    if (a->rc != b->rc)
        abort();
    for (int i = 0; i < 3; i++) {
        if (a->out[i].len != b->out[i].len ||
            (a->out[i].len && memcmp(a->out[i].data, b->out[i].data, a->out[i].len) != 0))
            abort();
    }
    if (a->rc && strcmp(a->err.message, b->err.message) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    size_t split = size ? ((size_t)data[0] << 8 | data[size - 1]) % (size + 1) : 0;
    struct outcome whole, halves, bytes;

    decode(body, size, size, 0, &whole);
    decode(body, size, split, 0, &halves);
    decode(body, size, 0, 1, &bytes);
    check_same(&whole, &halves);
    check_same(&whole, &bytes);
    /* Whatever was delivered cannot exceed what came in, less 8 bytes per header. */
    if (whole.out[0].len + whole.out[1].len + whole.out[2].len > size)
        abort();
    release(&bytes);
    release(&halves);
    release(&whole);
    return 0;
}
