/* Incremental decoders for the Engine API's streamed bodies. They hold no I/O: bytes go in with
 * *_feed() in chunks of any size, split at any byte, and complete items come out through the
 * callback. Used by the transport, the fuzzers and the unit tests alike.
 *
 * Decoders are caller-owned structs: *_init(), feed, *_finish() at the end of the body, then
 * *_release(). A callback may not free its decoder, nor feed it. Whatever the chunking, the same
 * body gives the same items in the same order (mux: the same bytes per fd) and the same error.
 * After a feed or finish fails (-1, *reterr filled), everything before the bad spot has been
 * delivered and the decoder may only be released. Errors are CC_ERR_PROTOCOL. */
#ifndef CC_ENGINE_STREAM_H
#define CC_ENGINE_STREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "engine-client/engine.h"

/* Newline-delimited JSON (events, build/pull/push progress). Blank (or whitespace-only) lines and
 * "\r\n" are accepted; a line may be longer than any chunk. Each line must hold one JSON object
 * (every streamed endpoint sends objects; "\u0000" inside strings is accepted). A line that is
 * not JSON, or not an object, fails with CC_ERR_PROTOCOL, the message quoting the start of the
 * line (non-printable bytes as \xNN). A line's length is its bytes before "\n" ("\r" included);
 * once it passes max_line, feed fails at once, without buffering the rest. The item passed to cb
 * is borrowed: the decoder releases it after cb returns (json_incref() it to keep it). */
struct engine_jsonl_decoder {
    struct buf pending;
    size_t max_line; /* a longer line fails (CC_ERR_PROTOCOL); 0: 64 MiB */
    engine_json_item_cb cb;
    void *data;
};

void engine_jsonl_init(struct engine_jsonl_decoder *d, engine_json_item_cb cb, void *data);
int engine_jsonl_feed(struct engine_jsonl_decoder *d, const char *buf, size_t len,
                      struct cc_error *reterr);
/* Decodes a last line that had no newline (nothing to do when the body ended with "\n"). */
int engine_jsonl_finish(struct engine_jsonl_decoder *d, struct cc_error *reterr);
void engine_jsonl_release(struct engine_jsonl_decoder *d);

/* The multiplexed stdout/stderr stream: frames of an 8-byte header {type, 0, 0, 0, size (big
 * endian u32)} and size bytes of payload; type 0 stdin, 1 stdout, 2 stderr. Payloads are passed
 * on as they arrive, without waiting for a whole frame (so a 1 GiB frame needs no 1 GiB buffer):
 * a frame may reach cb in several pieces, all with its fd; empty pieces (zero-size frames) are
 * never passed. The three reserved header bytes are not checked (as Docker's client does not).
 * An unknown type (including 3, moby's "systemerr") fails with CC_ERR_PROTOCOL; a body that ends
 * inside a header or a payload fails at finish with CC_ERR_PROTOCOL. Nothing is allocated. */
struct engine_mux_decoder {
    unsigned char header[8];
    size_t header_len;
    size_t remaining; /* payload bytes left in the current frame */
    enum engine_stream_fd fd;
    engine_output_cb cb;
    void *data;
};

void engine_mux_init(struct engine_mux_decoder *d, engine_output_cb cb, void *data);
int engine_mux_feed(struct engine_mux_decoder *d, const char *buf, size_t len,
                    struct cc_error *reterr);
int engine_mux_finish(struct engine_mux_decoder *d, struct cc_error *reterr);
void engine_mux_release(struct engine_mux_decoder *d);

/* HTTP/1.1 answers. curl reads the answers of ordinary calls and passes their header lines and
 * (de-chunked) bodies on; hijacked streams (hijack.c) read the head and an error body themselves.
 * These pure functions do the reading for both, so the fuzzer (tests/fuzz/fuzz-http.c) can feed
 * them recorded answers without a socket. */
#define ENGINE_HTTP_MAX_HEAD (64u * 1024)
/* An error message from the engine longer than this is cut (with "..."): it is printed to a
 * terminal, and no engine writes a refusal that long. */
#define ENGINE_HTTP_MAX_MESSAGE (4u * 1024)

struct engine_http_head {
    long status;         /* 100 to 599 */
    long content_length; /* -1 when not given */
    bool chunked;        /* Transfer-Encoding: chunked */
    size_t len;          /* bytes of the head, its final "\r\n\r\n" included */
};

/* Reads the status line and headers at the start of data (any bytes, NULs included). Returns 1
 * with *h filled once the blank line ending the head is in data, 0 when more bytes are needed,
 * and -1 with *reterr (CC_ERR_PROTOCOL, message starting with what) when data is not an HTTP/1
 * answer, its status is not three digits from 100 to 599, a Content-Length is not a number, or
 * the head passes ENGINE_HTTP_MAX_HEAD. */
int engine_http_head_parse(const char *data, size_t len, const char *what,
                           struct engine_http_head *h, struct cc_error *reterr);

/* One header line ("Name: value", with or without its "\r\n"): true when its name is name (in
 * any case); then *v and *vlen give the value without surrounding blanks and line end. */
bool engine_http_header_is(const char *line, size_t n, const char *name, const char **v,
                           size_t *vlen);

/* Decodes a chunked body (all of it received so far) into out, which it resets. Returns 1 once
 * the last chunk (size 0) was read (trailers are not waited for), 0 when more is needed, -1 when
 * the framing is broken (a size that is not hex, a chunk without its "\r\n"). */
int engine_http_dechunk(const char *in, size_t len, struct buf *out);

/* The engine's refusal of a call, from its status and its (de-chunked) body: kind from the status
 * (engine_status_kind), message the body's JSON "message", else the body's text, else "WHAT: the
 * engine answered STATUS". Bytes that would drive a terminal (control characters but newline and
 * tab, and invalid UTF-8) are written \xNN and the message is cut at ENGINE_HTTP_MAX_MESSAGE: an
 * engine's words go to the user's terminal. Sets err's http_status and engine_message (the same
 * text; NULL when the body said nothing). */
void engine_http_error(long status, const char *body, size_t len, const char *what,
                       struct cc_error *err);

#endif
