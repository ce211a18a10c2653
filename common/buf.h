/* A growable byte buffer, always NUL-terminated so data can be used as a C string.
 * struct buf is caller-owned: buf_init() it, buf_release() it. */
#ifndef CC_COMMON_BUF_H
#define CC_COMMON_BUF_H

#include <stddef.h>

#include "common/util.h"

struct buf {
    char *data; /* NUL-terminated; NULL until something is added */
    size_t len;
    size_t cap;
};

#define BUF_INIT                                                                                   \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void buf_init(struct buf *b);
void buf_release(struct buf *b);
void buf_add(struct buf *b, const void *data, size_t len);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) CC_PRINTF(2, 3);
/* Appends data encoded as base64 (RFC 4648, with padding, no line breaks). */
void buf_add_base64(struct buf *b, const void *data, size_t len);
/* Drops the first n bytes. */
void buf_consume(struct buf *b, size_t n);
void buf_reset(struct buf *b);
/* Returns the contents as a *new* string (never NULL) and leaves b empty. */
char *buf_detach(struct buf *b);
/* The contents as a string, "" when empty; borrowed. */
const char *buf_str(const struct buf *b);

#endif
