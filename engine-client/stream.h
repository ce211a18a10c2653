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

#endif
