/* A bump allocator: many small allocations, one release. The loaded compose model lives in one
 * arena; nothing in it is freed on its own. Memory from arena_* is *borrowed* from the arena and
 * valid until arena_release(). */
#ifndef CC_COMMON_ARENA_H
#define CC_COMMON_ARENA_H

#include <stddef.h>

#include "common/util.h"

struct arena_block;

struct arena {
    struct arena_block *head;
    size_t total; /* bytes handed out, for limits and benchmarks */
};

#define ARENA_INIT                                                                                 \
    {                                                                                              \
        NULL, 0                                                                                    \
    }

void arena_init(struct arena *a);
/* Frees every block. The arena can be used again afterwards. */
void arena_release(struct arena *a);
/* Zeroed memory, aligned for any type. */
void *arena_alloc(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) CC_PRINTF(2, 3);

#endif
