/* Allocation that never fails (aborts on out-of-memory) and small string helpers.
 * Everything returned here is *new*: the caller frees it with free(). */
#ifndef CC_COMMON_UTIL_H
#define CC_COMMON_UTIL_H

#include <stdarg.h>
#include <stddef.h>

#define CC_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define CC_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CC_PRINTF(f, a)
#endif

void *xmalloc(size_t n);
/* ALIGN: a power of two, multiple of sizeof(void *); freed with free(). */
void *xmemalign(size_t align, size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new string. */
char *xasprintf(const char *fmt, ...) CC_PRINTF(1, 2);
char *xvasprintf(const char *fmt, va_list ap) CC_PRINTF(1, 0);

/* Grows *p (holding *cap elements of elem bytes) so that it holds at least need elements. */
void cc_grow(void **p, size_t *cap, size_t need, size_t elem);

#endif
