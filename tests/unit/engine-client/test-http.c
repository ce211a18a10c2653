/* Reading HTTP answers without a socket (engine-client/http.c): answers recorded from the engine
 * (tests/fuzz/corpus/http holds the same ones) and hostile ones: the head, header lines, chunked
 * bodies, and the engine's refusal as the user sees it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "engine-client/stream.h"

static const char answer_404[] = "HTTP/1.1 404 Not Found\r\n"
                                 "Api-Version: 1.41\r\n"
                                 "Content-Type: application/json\r\n"
                                 "Server: Docker/20.10.24+dfsg1 (linux)\r\n"
                                 "Content-Length: 59\r\n"
                                 "\r\n"
                                 "{\"message\":\"No such exec instance: ccit-fuzz-nonexistent\"}\n";

static void test_head(void **state)
{
    (void)state;
    struct engine_http_head h;
    struct cc_error err = CC_ERROR_INIT;
    size_t len = strlen(answer_404);
    assert_int_equal(engine_http_head_parse(answer_404, len, "POST /x", &h, &err), 1);
    assert_int_equal(h.status, 404);
    assert_int_equal(h.content_length, 59);
    assert_false(h.chunked);
    assert_int_equal(h.len, len - 59);
    /* Every prefix without the blank line asks for more. */
    for (size_t i = 0; i < h.len; i++)
        assert_int_equal(engine_http_head_parse(answer_404, i, "POST /x", &h, &err), 0);

    static const char upgraded[] = "HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\n"
                                   "Transfer-Encoding:  Chunked \r\n\r\n\x01\x00\x00\x00";
    assert_int_equal(
        engine_http_head_parse(upgraded, sizeof(upgraded) - 1, "POST /x", &h, &err), 1);
    assert_int_equal(h.status, 101);
    assert_int_equal(h.content_length, -1);
    assert_true(h.chunked);
    assert_int_equal(h.len, sizeof(upgraded) - 1 - 4);

    static const struct {
        const char *text, *message;
    } bad[] = {
        {"SSH-2.0-OpenSSH\r\n\r\n", "POST /x: the engine's answer is not HTTP"},
        {"garbage", "POST /x: the engine's answer is not HTTP"},
        {"HTTP/1.1 2000 OK\r\n\r\n", "POST /x: the engine's answer is not HTTP"},
        {"HTTP/1.1 -20 OK\r\n\r\n", "POST /x: the engine's answer is not HTTP"},
        {"HTTP/1.1 099 OK\r\n\r\n", "POST /x: the engine's answer is not HTTP"},
        {"HTTP/1.1 404\r\n\r\n", NULL},
        {"HTTP/1.1 404 x\r\nContent-Length: -5\r\n\r\n",
         "POST /x: the engine's answer has a bad Content-Length"},
        {"HTTP/1.1 404 x\r\nContent-Length: 99999999999999999999\r\n\r\n",
         "POST /x: the engine's answer has a bad Content-Length"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        int rc = engine_http_head_parse(bad[i].text, strlen(bad[i].text), "POST /x", &h, &err);
        if (!bad[i].message) {
            assert_int_equal(rc, 1);
            continue;
        }
        assert_int_equal(rc, -1);
        assert_int_equal(err.kind, CC_ERR_PROTOCOL);
        assert_string_equal(err.message, bad[i].message);
        cc_error_release(&err);
    }
    /* A head that never ends is refused once it passes the limit, not buffered for ever. */
    size_t big = ENGINE_HTTP_MAX_HEAD + 1;
    char *huge = malloc(big);
    memcpy(huge, "HTTP/1.1 200 OK\r\n", 17);
    memset(huge + 17, 'x', big - 17);
    assert_int_equal(engine_http_head_parse(huge, big - 1, "POST /x", &h, &err), 0);
    assert_int_equal(engine_http_head_parse(huge, big, "POST /x", &h, &err), -1);
    assert_string_equal(err.message, "POST /x: the engine's answer has too long a head");
    cc_error_release(&err);
    /* Something that is not HTTP says so however long it is, as any prefix of it would. */
    memset(huge, 'x', big);
    assert_int_equal(engine_http_head_parse(huge, big, "POST /x", &h, &err), -1);
    assert_string_equal(err.message, "POST /x: the engine's answer is not HTTP");
    cc_error_release(&err);
    free(huge);
}

static void test_header_is(void **state)
{
    (void)state;
    const char *v;
    size_t vlen;
    static const char line[] = "api-version: \t1.41 \r\n";
    assert_true(engine_http_header_is(line, strlen(line), "API-Version", &v, &vlen));
    assert_int_equal(vlen, 4);
    assert_memory_equal(v, "1.41", 4);
    assert_false(engine_http_header_is(line, strlen(line), "API-Versio", &v, &vlen));
    assert_false(engine_http_header_is("API-Version", 11, "API-Version", &v, &vlen));
    assert_true(engine_http_header_is("API-Version:\r\n", 14, "API-Version", &v, &vlen));
    assert_int_equal(vlen, 0);
}

static void test_dechunk(void **state)
{
    (void)state;
    struct buf out = BUF_INIT;
    static const char body[] = "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n";
    assert_int_equal(engine_http_dechunk(body, strlen(body), &out), 1);
    assert_string_equal(buf_str(&out), "hello, world");
    /* Every prefix is incomplete, never broken, and decodes to a prefix. */
    for (size_t i = 0; i < strlen(body) - 3; i++) {
        int rc = engine_http_dechunk(body, i, &out);
        assert_true(rc == 0 || (rc == 1 && i >= strlen(body) - 5));
        assert_memory_equal(buf_str(&out), "hello, world", out.len);
    }
    assert_int_equal(engine_http_dechunk("zz\r\nab\r\n", 8, &out), -1);
    assert_int_equal(engine_http_dechunk("2\r\nabc\r\n", 8, &out), -1);
    assert_int_equal(engine_http_dechunk("ffffffffffffffffff\r\n", 20, &out), -1);
    buf_release(&out);
}

static void test_error(void **state)
{
    (void)state;
    struct cc_error err = CC_ERROR_INIT;
    static const char json[] = "{\"message\":\"No such container: web\"}\n";
    engine_http_error(404, json, strlen(json), "GET /containers/web/json", &err);
    assert_int_equal(err.kind, CC_ERR_NOT_FOUND);
    assert_int_equal(err.http_status, 404);
    assert_string_equal(err.message, "No such container: web");
    assert_string_equal(err.engine_message, "No such container: web");

    /* Not JSON (a proxy's page): its text. Nothing: the call and the status. */
    engine_http_error(502, "<html>proxy</html>", 18, "GET /x", &err);
    assert_int_equal(err.kind, CC_ERR_SERVER);
    assert_string_equal(err.message, "<html>proxy</html>");
    engine_http_error(409, " \r\n", 3, "POST /containers/create", &err);
    assert_int_equal(err.kind, CC_ERR_CONFLICT);
    assert_string_equal(err.message, "POST /containers/create: the engine answered 409");
    assert_null(err.engine_message);
    engine_http_error(400, "{\"message\":\"\"}", 14, "POST /x", &err);
    assert_string_equal(err.message, "POST /x: the engine answered 400");

    /* An engine cannot drive the user's terminal through its words: ESC, C1 controls and bad
     * UTF-8 are written out; newlines, tabs and real UTF-8 stay. */
    static const char hostile[] = "{\"message\":\"\\u001b[2Jgone\\u009b31m\\tnon\\u00e9\\nx\"}";
    engine_http_error(500, hostile, strlen(hostile), "GET /x", &err);
    assert_string_equal(err.message, "\\x1b[2Jgone\\xc2\\x9b31m\tnon\xc3\xa9\nx");
    engine_http_error(500, "bad \xff\xfe utf8 \x07\0", 14, "GET /x", &err);
    assert_string_equal(err.message, "bad \\xff\\xfe utf8 \\x07\\x00");

    /* A very long refusal is cut. */
    size_t n = 100 * 1024;
    char *long_body = malloc(n);
    memset(long_body, 'y', n);
    engine_http_error(500, long_body, n, "GET /x", &err);
    assert_int_equal(strlen(err.message), ENGINE_HTTP_MAX_MESSAGE + 3);
    assert_string_equal(err.message + ENGINE_HTTP_MAX_MESSAGE, "...");
    free(long_body);
    cc_error_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_head),
        cmocka_unit_test(test_header_is),
        cmocka_unit_test(test_dechunk),
        cmocka_unit_test(test_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
