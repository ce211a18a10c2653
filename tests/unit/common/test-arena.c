/* The arena hands out aligned, zeroed, independent memory, large requests included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "common/arena.h"

static void test_arena_small_and_large(void **state)
{
    (void)state;
    struct arena a = ARENA_INIT;
    char *first = arena_strdup(&a, "first");
    char *big = arena_alloc(&a, 200 * 1024);
    for (size_t i = 0; i < 200 * 1024; i++)
        assert_int_equal(big[i], 0);
    memset(big, 'x', 200 * 1024);
    char *after = arena_printf(&a, "%s-%d", "after", 7);
    assert_string_equal(first, "first");
    assert_string_equal(after, "after-7");
    for (int i = 0; i < 10000; i++) {
        long *p = arena_alloc(&a, sizeof(long) * 3);
        assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
        p[2] = i;
    }
    assert_true(a.total >= 200 * 1024 + 10000 * 24);
    arena_release(&a);
    assert_null(a.head);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena_small_and_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
