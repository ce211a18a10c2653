/* Bump allocation in a first block of 64 KiB, then blocks of 2 MiB; large requests get a block of
 * their own. Blocks of 2 MiB are aligned to 2 MiB and offered to the kernel as transparent huge
 * pages: a 1,000-service project fills several of them, and on virtual machines each 4 KiB page
 * fault costs more than the loader's own work on the page (one fault per 2 MiB instead of 512). */
#include "common/arena.h"

#include <stdarg.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define ARENA_BLOCK (64 * 1024)
#define ARENA_HUGE  (2 * 1024 * 1024)

struct arena_block {
    struct arena_block *next;
    size_t size;
    size_t used;
    alignas(max_align_t) unsigned char mem[];
};

void arena_init(struct arena *a)
{
    a->head = NULL;
    a->total = 0;
}

void arena_release(struct arena *a)
{
    struct arena_block *b = a->head;
    while (b) {
        struct arena_block *next = b->next;
        free(b);
        b = next;
    }
    arena_init(a);
}

void *arena_alloc(struct arena *a, size_t n)
{
    const size_t align = alignof(max_align_t);
    n = (n + align - 1) & ~(align - 1);
    struct arena_block *b = a->head;
    if (!b || b->size - b->used < n) {
        /* A small project fits its first block; one that outgrows it is large, and goes on in
         * huge blocks. */
        size_t grow = a->head ? ARENA_HUGE : ARENA_BLOCK;
        size_t size = n > grow ? n : grow;
        if (size == ARENA_HUGE) {
            void *mem = xmemalign(ARENA_HUGE, ARENA_HUGE);
            /* Advice only: without THP the block is still ordinary memory. */
            (void)madvise(mem, ARENA_HUGE, MADV_HUGEPAGE);
            b = mem;
            size -= sizeof(*b);
        } else {
            b = xmalloc(sizeof(*b) + size);
        }
        b->size = size;
        b->used = 0;
        /* A block made for one large request goes behind the current one, so the current
         * block's free space is not abandoned. */
        if (a->head && size > grow) {
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = a->head;
            a->head = b;
        }
    }
    void *p = b->mem + b->used;
    b->used += n;
    a->total += n;
    memset(p, 0, n);
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = arena_alloc(a, (size_t)(n > 0 ? n : 0) + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}
