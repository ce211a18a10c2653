/* Fuzz target for the JSON-lines stream decoder (engine-client/stream.c). The input is a response
 * body. It is decoded three ways, whole, split in two at a point derived from the input, and one
 * byte at a time, and all three must give the same items and the same outcome: chunking must
 * never change what the decoder reports. A max_line limit is also derived from the input so that
 * the limit's path is explored with small inputs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "engine-client/stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct outcome {
    struct buf items; /* compact dumps, one per line */
    int rc;
    struct cc_error err;
};

static void on_item(json_t *item, void *data)
{
    struct outcome *o = data;
    /* The contract promises objects only. */
    if (!json_is_object(item))
        abort();
    char *dump = json_dumps(item, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!dump)
        abort();
    buf_adds(&o->items, dump);
    buf_addc(&o->items, '\n');
    free(dump);
}

/* Feeds body in chunks: [0, split) then the rest in pieces of step bytes (0: all at once). */
static void decode(const char *body, size_t len, size_t split, size_t step, size_t max_line,
                   struct outcome *o)
{
    struct engine_jsonl_decoder d;
    size_t max = max_line ? max_line : (size_t)64 << 20;

    buf_init(&o->items);
    cc_error_init(&o->err);
    engine_jsonl_init(&d, on_item, o);
    d.max_line = max_line;
    o->rc = engine_jsonl_feed(&d, body, split, &o->err);
    for (size_t off = split; o->rc == 0 && off < len;) {
        size_t n = step && step < len - off ? step : len - off;
        o->rc = engine_jsonl_feed(&d, body + off, n, &o->err);
        off += n;
    }
    if (d.pending.len > max)
        abort();
    if (o->rc == 0)
        o->rc = engine_jsonl_finish(&d, &o->err);
    if (o->rc != 0 && (o->rc != -1 || o->err.kind != CC_ERR_PROTOCOL || !o->err.message))
        abort();
    engine_jsonl_release(&d);
}

static void release(struct outcome *o)
{
    buf_release(&o->items);
    cc_error_release(&o->err);
}

static void check_same(const struct outcome *a, const struct outcome *b)
{
    if (a->rc != b->rc || strcmp(buf_str(&a->items), buf_str(&b->items)) != 0)
        abort();
    if (a->rc && strcmp(a->err.message, b->err.message) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    size_t split = 0, max_line = 0;
    struct outcome whole, halves, bytes;

    if (size > 0) {
        split = ((size_t)data[0] << 8 | data[size - 1]) % (size + 1);
        /* One input in four runs with a small limit. */
        if ((data[0] & 3) == 0)
            max_line = 1 + data[size / 2] % 128;
    }
    decode(body, size, size, 0, max_line, &whole);
    decode(body, size, split, 0, max_line, &halves);
    decode(body, size, 0, 1, max_line, &bytes);
    check_same(&whole, &halves);
    check_same(&whole, &bytes);
    release(&bytes);
    release(&halves);
    release(&whole);
    return 0;
}
