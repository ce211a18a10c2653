/* struct cc_error: what went wrong, where, and what to do about it.
 *
 * Functions that can fail take a caller-owned `struct cc_error *reterr` (may be NULL) and fill it
 * on failure only. The caller cc_error_init()s it and cc_error_release()s it; every string in it
 * is owned by the struct. Rendering for people happens in cli/, never here. */
#ifndef CC_COMMON_ERROR_H
#define CC_COMMON_ERROR_H

#include "common/util.h"

enum cc_error_kind {
    CC_ERR_NONE = 0,
    CC_ERR_FAILED,         /* anything not better described below */
    CC_ERR_USAGE,          /* bad flags or arguments */
    CC_ERR_INVALID_CONFIG, /* the compose files say something wrong */
    CC_ERR_NOT_FOUND,      /* engine 404, or a missing file or resource */
    CC_ERR_CONFLICT,       /* engine 409: name in use, container running, ... */
    CC_ERR_BAD_REQUEST,    /* engine 400 */
    CC_ERR_SERVER,         /* engine 5xx */
    CC_ERR_UNREACHABLE,    /* no engine answers at the address */
    CC_ERR_TIMEOUT,        /* an operation ran out of time */
    CC_ERR_CANCELLED,      /* an operation was cancelled by its owner */
    CC_ERR_PROTOCOL,       /* the engine answered something we cannot read */
    CC_ERR_UNSUPPORTED,    /* the engine is too old or lacks a feature */
    CC_ERR_IO,             /* a local file or socket operation failed */
};

struct cc_error {
    enum cc_error_kind kind;
    char *message;        /* the problem, lowercase, no full stop */
    char *hint;           /* what to do, or NULL */
    char *file;           /* where in the compose files, or NULL */
    int line;             /* 1-based, 0 when unknown */
    int col;              /* 1-based, 0 when unknown */
    char *key_path;       /* e.g. "services.web.depends_on", or NULL */
    int http_status;      /* the engine's HTTP status, 0 when none */
    char *engine_message; /* the engine's own words ("message" of its error body), or NULL */
};

#define CC_ERROR_INIT                                                                              \
    {                                                                                              \
        CC_ERR_NONE, NULL, NULL, NULL, 0, 0, NULL, 0, NULL                                         \
    }

void cc_error_init(struct cc_error *e);
void cc_error_release(struct cc_error *e);

/* Sets kind and message (printf-style), clearing whatever e held. Does nothing when e is NULL.
 * Returns -1 so that `return cc_error_set(...)` reads naturally. */
int cc_error_set(struct cc_error *e, enum cc_error_kind kind, const char *fmt, ...) CC_PRINTF(3, 4);
/* Sets the hint (printf-style). Does nothing when e is NULL. */
void cc_error_hint(struct cc_error *e, const char *fmt, ...) CC_PRINTF(2, 3);
/* Sets the location; file is copied. line and col are 1-based. */
void cc_error_where(struct cc_error *e, const char *file, int line, int col);
void cc_error_key_path(struct cc_error *e, const char *path);
/* Deep-copies src into dst (dst is released first). */
void cc_error_copy(struct cc_error *dst, const struct cc_error *src);
/* Moves src into dst, leaving src empty. */
void cc_error_move(struct cc_error *dst, struct cc_error *src);

/* A stable short name for a kind ("not found", "conflict", ...). */
const char *cc_error_kind_name(enum cc_error_kind kind);

#endif
