/* The stream decoders: realistic bodies fed whole, split in two at every byte and one byte at a
 * time give exactly the same items (JSON lines) or the same bytes per fd (multiplexed frames);
 * bad input fails with CC_ERR_PROTOCOL and a message that says what and where. */
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

/* How a body is cut into feed() calls: two chunks at split, or chunks of step bytes. */
struct plan {
    size_t split;
    size_t step;
};

/* ---- JSON lines --------------------------------------------------------------------------- */

struct jsonl_run {
    struct buf items; /* compact dumps, one per line */
    int nitems;
    int rc;
    struct cc_error err;
};

static void on_item(json_t *item, void *data)
{
    struct jsonl_run *r = data;
    char *dump = json_dumps(item, JSON_COMPACT);
    assert_non_null(dump);
    buf_adds(&r->items, dump);
    buf_addc(&r->items, '\n');
    free(dump);
    r->nitems++;
}

static void jsonl_run(struct jsonl_run *r, const char *body, size_t len, struct plan plan,
                      size_t max_line)
{
    struct engine_jsonl_decoder d;
    buf_init(&r->items);
    r->nitems = 0;
    cc_error_init(&r->err);
    engine_jsonl_init(&d, on_item, r);
    d.max_line = max_line;
    size_t max = max_line ? max_line : (size_t)64 << 20;

    r->rc = 0;
    for (size_t off = 0; off < len && r->rc == 0;) {
        size_t n = plan.step ? plan.step : (off < plan.split ? plan.split : len - off);
        if (n > len - off)
            n = len - off;
        r->rc = engine_jsonl_feed(&d, body + off, n, &r->err);
        /* The limit bounds memory, not just the answer. */
        assert_true(d.pending.len <= max);
        off += n;
    }
    if (r->rc == 0)
        r->rc = engine_jsonl_finish(&d, &r->err);
    engine_jsonl_release(&d);
}

static void jsonl_run_release(struct jsonl_run *r)
{
    buf_release(&r->items);
    cc_error_release(&r->err);
}

/* Feeds body whole, split in two at every byte, and byte by byte; each time the items must be
 * want_items and the outcome want_message (NULL: success). */
static void jsonl_check_all_splits(const char *body, size_t len, size_t max_line,
                                   const char *want_items, int want_nitems,
                                   const char *want_message)
{
    for (size_t i = 0; i <= len + 1; i++) {
        /* i <= len: two chunks at i (0 and len are "whole"); len + 1: one byte at a time. */
        struct plan plan = i <= len ? (struct plan){i, 0} : (struct plan){0, 1};
        struct jsonl_run r;
        jsonl_run(&r, body, len, plan, max_line);
        if (strcmp(buf_str(&r.items), want_items) != 0 || r.nitems != want_nitems)
            fail_msg("split %zu: got items\n%s", i, buf_str(&r.items));
        if (want_message) {
            assert_int_equal(r.rc, -1);
            assert_int_equal(r.err.kind, CC_ERR_PROTOCOL);
            assert_string_equal(r.err.message, want_message);
        } else {
            if (r.rc != 0)
                fail_msg("split %zu: %s", i, r.err.message);
        }
        jsonl_run_release(&r);
    }
}

/* Two event lines as dockerd 20.10 sends them. They are compact JSON already, so they come back
 * byte for byte. */
#define EVENT_LINES                                                                                \
    "{\"status\":\"create\",\"id\":\"dac251246f5a\",\"from\":\"ccompose-test/busybox:latest\","    \
    "\"Type\":\"container\",\"Action\":\"create\",\"Actor\":{\"ID\":\"dac251246f5a\","             \
    "\"Attributes\":{\"image\":\"ccompose-test/busybox:latest\",\"name\":\"exciting_perlman\"}},"  \
    "\"scope\":\"local\",\"time\":1795385782,\"timeNano\":1795385782024779375}\n"                  \
    "{\"Type\":\"network\",\"Action\":\"connect\",\"Actor\":{\"ID\":\"a16a0738a34a\","             \
    "\"Attributes\":{\"container\":\"dac251246f5a\",\"name\":\"bridge\",\"type\":\"bridge\"}},"    \
    "\"scope\":\"local\",\"time\":1795385782,\"timeNano\":1795385782047372278}\n"

/* Real event lines, pull progress with CRLF, build output with escaped newlines, ANSI escapes,
 * \u escapes (including a surrogate pair and Go's "\u003e") and raw UTF-8, blank and
 * whitespace-only lines, and a last line without a newline. */
static const char jsonl_body[] = EVENT_LINES
    "\n"
    "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":1048576,\"total\":29124908},"
    "\"progress\":\"[=\\u003e      ]  1.049MB/29.12MB\",\"id\":\"a2abf6c4d29d\"}\r\n"
    "\r\n"
    "{\"stream\":\"Step 1/3 : FROM debian:bookworm-slim\\n\"}\n"
    "{\"stream\":\"\\u001b[91mcaf\\u00e9 \\u2713 \\ud83d\\udc33\\n\\u001b[0m\"}\n"
    "  \t \n"
    "{\"stream\":\"R\xc3\xa9sum\xc3\xa9 \xe2\x9c\x93 tab\\there \\\"quoted\\\" a\\/b\\r\\n\"}\n"
    "{\"aux\":{\"ID\":\"sha256:1f2e3d4c5b6a\"}}\n"
    "{\"stream\":\"Successfully tagged web:latest\\n\"}";

static const char jsonl_want[] = EVENT_LINES
    "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":1048576,\"total\":29124908},"
    "\"progress\":\"[=>      ]  1.049MB/29.12MB\",\"id\":\"a2abf6c4d29d\"}\n"
    "{\"stream\":\"Step 1/3 : FROM debian:bookworm-slim\\n\"}\n"
    "{\"stream\":\"\\u001B[91mcaf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x90\xb3\\n\\u001B[0m\"}\n"
    "{\"stream\":\"R\xc3\xa9sum\xc3\xa9 \xe2\x9c\x93 tab\\there \\\"quoted\\\" a/b\\r\\n\"}\n"
    "{\"aux\":{\"ID\":\"sha256:1f2e3d4c5b6a\"}}\n"
    "{\"stream\":\"Successfully tagged web:latest\\n\"}\n";

static void test_jsonl_realistic_body_any_split(void **state)
{
    (void)state;
    jsonl_check_all_splits(jsonl_body, sizeof(jsonl_body) - 1, 0, jsonl_want, 8, NULL);
}

struct string_capture {
    char *stream;
    size_t len;
};

static void on_build_item(json_t *item, void *data)
{
    struct string_capture *c = data;
    json_t *s = json_object_get(item, "stream");
    assert_true(json_is_string(s));
    free(c->stream);
    c->len = json_string_length(s);
    c->stream = xstrndup(json_string_value(s), c->len);
}

/* What callers read out of an item: escapes decoded, including "\u0000" inside build output. */
static void test_jsonl_string_values_decoded(void **state)
{
    (void)state;
    static const char line[] = "{\"stream\":\"\\u001b[91mcaf\\u00e9\\n\\u0000end\\r\\n\"}\r\n";
    struct string_capture c = {NULL, 0};
    struct engine_jsonl_decoder d;
    struct cc_error err = CC_ERROR_INIT;
    engine_jsonl_init(&d, on_build_item, &c);
    assert_int_equal(engine_jsonl_feed(&d, line, sizeof(line) - 1, &err), 0);
    assert_int_equal(engine_jsonl_finish(&d, &err), 0);
    assert_int_equal(c.len, 17);
    assert_memory_equal(c.stream, "\x1b[91mcaf\xc3\xa9\n\0end\r\n", 17);
    free(c.stream);
    engine_jsonl_release(&d);
}

/* A 1 MiB line arriving in 1000-byte chunks is reassembled, then the buffer starts over. */
static void test_jsonl_line_longer_than_chunks(void **state)
{
    (void)state;
    size_t n = (size_t)1 << 20;
    struct buf body = BUF_INIT;
    buf_adds(&body, "{\"stream\":\"");
    for (size_t i = 0; i < n; i++)
        buf_addc(&body, (char)('a' + i % 26));
    buf_adds(&body, "\"}\n{\"stream\":\"x\"}\n");

    struct string_capture c = {NULL, 0};
    struct engine_jsonl_decoder d;
    struct cc_error err = CC_ERROR_INIT;
    engine_jsonl_init(&d, on_build_item, &c);
    size_t first_end = body.len - strlen("{\"stream\":\"x\"}\n");
    for (size_t off = 0; off < first_end; off += 1000) {
        size_t k = first_end - off < 1000 ? first_end - off : 1000;
        assert_int_equal(engine_jsonl_feed(&d, body.data + off, k, &err), 0);
    }
    assert_int_equal(c.len, n);
    assert_int_equal(c.stream[0], 'a');
    assert_int_equal(c.stream[n - 1], (char)('a' + (n - 1) % 26));
    /* Decoded, and its buffer freed rather than kept for the rest of the stream. */
    assert_int_equal(d.pending.len, 0);
    assert_int_equal(d.pending.cap, 0);
    assert_int_equal(engine_jsonl_feed(&d, body.data + first_end, body.len - first_end, &err), 0);
    assert_string_equal(c.stream, "x");
    assert_int_equal(engine_jsonl_finish(&d, &err), 0);
    free(c.stream);
    engine_jsonl_release(&d);
    buf_release(&body);
}

/* A long bad line is quoted from its start, cut, with control bytes and quotes escaped. */
static void test_jsonl_bad_json_quote_truncated(void **state)
{
    (void)state;
    struct buf body = BUF_INIT;
    buf_adds(&body, "<html>\x1b'it's' not JSON");
    for (int i = 0; i < 100; i++)
        buf_adds(&body, " filler");
    buf_addc(&body, '\n');
    jsonl_check_all_splits(body.data, body.len, 0, "", 0,
                           "invalid JSON line in engine stream: "
                           "'<html>\\x1b\\x27it\\x27s\\x27 not JSON filler filler filler fill...': "
                           "invalid token near '<'");
    buf_release(&body);
}

/* Bad bodies: the lines before the bad one are delivered, the rest never, whatever the split. */
struct jsonl_error_case {
    const char *what;
    const char *body;
    size_t max_line;
    const char *items;
    int nitems;
    const char *message;
};

static const struct jsonl_error_case jsonl_error_cases[] = {
    {"bad JSON", "{\"status\":\"pull\",\"id\":\"x\"}\n{\"status\":\"pull\", oops}\r\n{\"b\":2}\n",
     0, "{\"status\":\"pull\",\"id\":\"x\"}\n", 1,
     "invalid JSON line in engine stream: '{\"status\":\"pull\", oops}': "
     "string or '}' expected near 'oops'"},
    {"not an object", "{\"a\":1}\n\"just a string\"\n", 0, "{\"a\":1}\n", 1,
     "JSON line in engine stream is not an object: '\"just a string\"'"},
    /* The last line has no newline and is cut short: only finish can tell. */
    {"truncated last line", "{\"a\":1}\n{\"status\":\"Downloa", 0, "{\"a\":1}\n", 1,
     "invalid JSON line in engine stream: '{\"status\":\"Downloa': "
     "premature end of input near '\"Downloa'"},
    /* 16 bytes before "\n" is the limit exactly, and passes; the quote is cut at 17. */
    {"over max_line", "{\"k\":\"0123456\"}\n{\"k\":\"0123456789abcdef\"}\n", 16,
     "{\"k\":\"0123456\"}\n", 1,
     "line in engine JSON stream is longer than 16 bytes: '{\"k\":\"0123456789a...'"},
    {"CR counts towards max_line", "{\"k\":\"01234567\"}\r\n", 16, "", 0,
     "line in engine JSON stream is longer than 16 bytes: '{\"k\":\"01234567\"}\\x0d...'"},
};

static void test_jsonl_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < CC_ARRAY_LEN(jsonl_error_cases); i++) {
        const struct jsonl_error_case *c = &jsonl_error_cases[i];
        print_message("case: %s\n", c->what);
        jsonl_check_all_splits(c->body, strlen(c->body), c->max_line, c->items, c->nitems,
                               c->message);
    }
}

/* A line with no end in sight fails once past the limit, before buffering more than the limit
 * (checked after every feed), quoting at most 48 bytes. */
static void test_jsonl_max_line_unterminated(void **state)
{
    (void)state;
    struct buf body = BUF_INIT;
    for (int i = 0; i < 30; i++)
        buf_adds(&body, "0123456789");
    jsonl_check_all_splits(body.data, body.len, 100, "", 0,
                           "line in engine JSON stream is longer than 100 bytes: "
                           "'012345678901234567890123456789012345678901234567...'");
    buf_release(&body);
}

/* ---- Multiplexed frames ------------------------------------------------------------------- */

struct mux_run {
    struct buf out[3]; /* by fd */
    int pieces;
    int empty_pieces;
    int bad_fd;
    int rc;
    struct cc_error err;
};

static void on_output(enum engine_stream_fd fd, const char *buf, size_t len, void *data)
{
    struct mux_run *r = data;
    r->pieces++;
    if (len == 0)
        r->empty_pieces++;
    if (fd > ENGINE_STDERR) {
        r->bad_fd++;
        return;
    }
    buf_add(&r->out[fd], buf, len);
}

static void mux_run(struct mux_run *r, const char *body, size_t len, struct plan plan)
{
    struct engine_mux_decoder d;
    memset(r, 0, sizeof(*r));
    engine_mux_init(&d, on_output, r);
    for (size_t off = 0; off < len && r->rc == 0;) {
        size_t n = plan.step ? plan.step : (off < plan.split ? plan.split : len - off);
        if (n > len - off)
            n = len - off;
        r->rc = engine_mux_feed(&d, body + off, n, &r->err);
        off += n;
    }
    if (r->rc == 0)
        r->rc = engine_mux_finish(&d, &r->err);
    engine_mux_release(&d);
}

static void mux_run_release(struct mux_run *r)
{
    for (int i = 0; i < 3; i++)
        buf_release(&r->out[i]);
    cc_error_release(&r->err);
}

struct mux_want {
    const char *out[3];
    size_t len[3];
    const char *message; /* NULL: success */
};

static void mux_check_run(const struct mux_run *r, const struct mux_want *want, struct plan plan)
{
    for (int fd = 0; fd < 3; fd++) {
        if (r->out[fd].len != want->len[fd] ||
            (want->len[fd] && memcmp(r->out[fd].data, want->out[fd], want->len[fd]) != 0))
            fail_msg("split %zu step %zu: fd %d got %zu bytes '%.60s'", plan.split, plan.step, fd,
                     r->out[fd].len, buf_str(&r->out[fd]));
    }
    assert_int_equal(r->empty_pieces, 0);
    assert_int_equal(r->bad_fd, 0);
    if (want->message) {
        assert_int_equal(r->rc, -1);
        assert_int_equal(r->err.kind, CC_ERR_PROTOCOL);
        assert_string_equal(r->err.message, want->message);
    } else if (r->rc != 0) {
        fail_msg("split %zu step %zu: %s", plan.split, plan.step, r->err.message);
    }
}

static void mux_check_split(const char *body, size_t len, struct plan plan,
                            const struct mux_want *want)
{
    struct mux_run r;
    mux_run(&r, body, len, plan);
    mux_check_run(&r, want, plan);
    mux_run_release(&r);
}

static void mux_check_all_splits(const char *body, size_t len, const struct mux_want *want)
{
    for (size_t i = 0; i <= len; i++)
        mux_check_split(body, len, (struct plan){i, 0}, want);
    mux_check_split(body, len, (struct plan){0, 1}, want);
}

static void add_frame(struct buf *b, unsigned type, const char *payload, size_t len)
{
    unsigned char h[8] = {(unsigned char)type,
                          0,
                          0,
                          0,
                          (unsigned char)(len >> 24),
                          (unsigned char)(len >> 16),
                          (unsigned char)(len >> 8),
                          (unsigned char)len};
    buf_add(b, h, sizeof(h));
    buf_add(b, payload, len);
}

static void add_frame_s(struct buf *b, unsigned type, const char *payload)
{
    add_frame(b, type, payload, strlen(payload));
}

/* What `docker logs` of a web server looks like: stdout and stderr lines interleaved, a stdin
 * echo, and zero-size frames (sent by some engines on flush). */
static void build_small_mux(struct buf *b)
{
    add_frame_s(b, 1, "2024-05-01T10:00:00Z listening on :8080\n");
    add_frame_s(b, 2, "warning: disk 91% full\n");
    add_frame(b, 1, "", 0);
    add_frame_s(b, 0, "typed input\n");
    add_frame_s(b, 1, "GET /health 200 0.4ms\n\xe2\x9c\x93 ok\n");
    add_frame(b, 2, "", 0);
    add_frame(b, 2, "bin\0ary\r\n", 9);
    add_frame_s(b, 1, "bye\n");
    add_frame(b, 1, "", 0);
}

static void test_mux_realistic_body_any_split(void **state)
{
    (void)state;
    struct buf body = BUF_INIT;
    build_small_mux(&body);
    static const char out1[] = "2024-05-01T10:00:00Z listening on :8080\n"
                               "GET /health 200 0.4ms\n\xe2\x9c\x93 ok\n"
                               "bye\n";
    static const char out2[] = "warning: disk 91% full\nbin\0ary\r\n";
    struct mux_want want = {
        {"typed input\n", out1, out2}, {12, sizeof(out1) - 1, sizeof(out2) - 1}, NULL};
    mux_check_all_splits(body.data, body.len, &want);

    /* Whole, payloads come as whole frames: one piece per non-empty frame. */
    struct mux_run r;
    mux_run(&r, body.data, body.len, (struct plan){body.len, 0});
    assert_int_equal(r.pieces, 6);
    mux_run_release(&r);
    buf_release(&body);
}

/* A 1 MiB frame between small ones. Splitting in two at all of its 2^20 boundaries would cost
 * 2^40 byte copies, so every boundary is tried in the small frames and around the big frame's
 * header and ends, and every 997th byte inside it; one byte at a time covers the rest. */
static void test_mux_big_frame(void **state)
{
    (void)state;
    size_t big_len = (size_t)1 << 20;
    char *big = xmalloc(big_len);
    for (size_t i = 0; i < big_len; i++)
        big[i] = (char)(i * 7 + i / 251);

    struct buf body = BUF_INIT;
    add_frame_s(&body, 2, "starting\n");
    size_t big_header = body.len;
    add_frame(&body, 1, big, big_len);
    size_t big_end = body.len;
    add_frame(&body, 1, "", 0);
    add_frame_s(&body, 2, "done\n");

    struct buf want1 = BUF_INIT;
    buf_add(&want1, big, big_len);
    struct mux_want want = {{"", want1.data, "starting\ndone\n"}, {0, big_len, 14}, NULL};

    for (size_t i = 0; i <= body.len; i++) {
        bool near_edge = i <= big_header + 8 + 16 || i + 16 >= big_end;
        if (near_edge || i % 997 == 0)
            mux_check_split(body.data, body.len, (struct plan){i, 0}, &want);
    }
    mux_check_split(body.data, body.len, (struct plan){0, 1}, &want);
    mux_check_split(body.data, body.len, (struct plan){0, 65536}, &want);

    /* Passed on as it arrives: each 64 KiB chunk is one piece, never held back for the frame. */
    struct mux_run r;
    mux_run(&r, body.data, body.len, (struct plan){0, 65536});
    assert_true(r.pieces >= (int)(big_len / 65536));
    mux_run_release(&r);

    buf_release(&want1);
    buf_release(&body);
    free(big);
}

static void test_mux_unknown_type(void **state)
{
    (void)state;
    struct buf body = BUF_INIT;
    add_frame_s(&body, 1, "ok\n");
    add_frame_s(&body, 5, "never");
    add_frame_s(&body, 1, "never\n");
    struct mux_want want = {{"", "ok\n", ""},
                            {0, 3, 0},
                            "unknown frame type 5 in multiplexed engine stream "
                            "(header 05 00 00 00 00 00 00 05)"};
    mux_check_all_splits(body.data, body.len, &want);

    /* moby's type 3 ("systemerr") is not one we read either; the hint points at a TTY. */
    struct mux_run r;
    buf_reset(&body);
    add_frame_s(&body, 3, "boom");
    mux_run(&r, body.data, body.len, (struct plan){body.len, 0});
    assert_int_equal(r.rc, -1);
    assert_int_equal(r.err.kind, CC_ERR_PROTOCOL);
    assert_string_equal(r.err.message, "unknown frame type 3 in multiplexed engine stream "
                                       "(header 03 00 00 00 00 00 00 04)");
    assert_string_equal(r.err.hint, "a container with a TTY sends raw output, not frames");
    assert_int_equal(r.pieces, 0);
    mux_run_release(&r);
    buf_release(&body);
}

static void test_mux_truncated_header(void **state)
{
    (void)state;
    struct buf body = BUF_INIT;
    add_frame_s(&body, 1, "partial\n");
    buf_add(&body, "\x02\x00\x00", 3);
    struct mux_want want = {{"", "partial\n", ""},
                            {0, 8, 0},
                            "multiplexed engine stream ends inside a frame header (3 of 8 bytes)"};
    mux_check_all_splits(body.data, body.len, &want);
    buf_release(&body);
}

static void test_mux_truncated_payload(void **state)
{
    (void)state;
    struct buf body = BUF_INIT;
    add_frame_s(&body, 1, "a\n");
    buf_add(&body,
            "\x02\x00\x00\x00\x00\x00\x00\x0a"
            "err",
            11);
    struct mux_want want = {
        {"", "a\n", "err"},
        {0, 2, 3},
        "multiplexed engine stream ends inside a frame: 7 payload bytes missing"};
    mux_check_all_splits(body.data, body.len, &want);
    buf_release(&body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonl_realistic_body_any_split),
        cmocka_unit_test(test_jsonl_string_values_decoded),
        cmocka_unit_test(test_jsonl_line_longer_than_chunks),
        cmocka_unit_test(test_jsonl_errors),
        cmocka_unit_test(test_jsonl_bad_json_quote_truncated),
        cmocka_unit_test(test_jsonl_max_line_unterminated),
        cmocka_unit_test(test_mux_realistic_body_any_split),
        cmocka_unit_test(test_mux_big_frame),
        cmocka_unit_test(test_mux_unknown_type),
        cmocka_unit_test(test_mux_truncated_header),
        cmocka_unit_test(test_mux_truncated_payload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
