/* struct buf: growth, consume and detach keep the contents and the NUL terminator right. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"

static void test_buf_grows_and_consumes(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    assert_string_equal(buf_str(&b), "");
    for (int i = 0; i < 1000; i++)
        buf_printf(&b, "%d,", i % 10);
    assert_int_equal(b.len, 2000);
    assert_int_equal(b.data[b.len], '\0');
    buf_consume(&b, 1990);
    assert_string_equal(buf_str(&b), "5,6,7,8,9,");
    char *s = buf_detach(&b);
    assert_string_equal(s, "5,6,7,8,9,");
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    free(s);
    buf_release(&b);
}

/* RFC 4648's test vectors, appended after what the buffer holds; binary bytes too. */
static void test_buf_base64(void **state)
{
    (void)state;
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
                                        "Zm9vYmFy"};
    for (size_t i = 0; i < sizeof(plain) / sizeof(*plain); i++) {
        struct buf b = BUF_INIT;
        buf_adds(&b, ">");
        buf_add_base64(&b, plain[i], strlen(plain[i]));
        assert_string_equal(buf_str(&b) + 1, coded[i]);
        assert_int_equal(b.len, 1 + strlen(coded[i]));
        buf_release(&b);
    }
    struct buf b = BUF_INIT;
    buf_add_base64(&b, "\0\xff\xfe", 3);
    assert_string_equal(buf_str(&b), "AP/+");
    buf_release(&b);
}

static void test_error_set_copy_move(void **state)
{
    (void)state;
    struct cc_error e = CC_ERROR_INIT, f = CC_ERROR_INIT;
    assert_int_equal(cc_error_set(&e, CC_ERR_NOT_FOUND, "no such service '%s'", "db"), -1);
    cc_error_hint(&e, "define '%s' under services", "db");
    cc_error_where(&e, "compose.yaml", 12, 9);
    cc_error_copy(&f, &e);
    assert_int_equal(f.kind, CC_ERR_NOT_FOUND);
    assert_string_equal(f.message, "no such service 'db'");
    assert_string_equal(f.hint, "define 'db' under services");
    assert_string_equal(f.file, "compose.yaml");
    assert_int_equal(f.line, 12);
    cc_error_release(&e);
    cc_error_move(&e, &f);
    assert_null(f.message);
    assert_string_equal(e.message, "no such service 'db'");
    assert_string_equal(cc_error_kind_name(e.kind), "not found");
    cc_error_release(&e);
    assert_int_equal(cc_error_set(NULL, CC_ERR_FAILED, "ignored"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_grows_and_consumes),
        cmocka_unit_test(test_buf_base64),
        cmocka_unit_test(test_error_set_copy_move),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
