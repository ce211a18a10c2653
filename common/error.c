/* struct cc_error helpers: the one carrier of failure details from every module up to cli/. */
#include "common/error.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void cc_error_init(struct cc_error *e)
{
    memset(e, 0, sizeof(*e));
}

void cc_error_release(struct cc_error *e)
{
    if (!e)
        return;
    free(e->message);
    free(e->hint);
    free(e->file);
    free(e->key_path);
    free(e->engine_message);
    cc_error_init(e);
}

int cc_error_set(struct cc_error *e, enum cc_error_kind kind, const char *fmt, ...)
{
    if (!e)
        return -1;
    cc_error_release(e);
    va_list ap;
    va_start(ap, fmt);
    e->message = xvasprintf(fmt, ap);
    va_end(ap);
    e->kind = kind;
    return -1;
}

void cc_error_hint(struct cc_error *e, const char *fmt, ...)
{
    if (!e)
        return;
    free(e->hint);
    va_list ap;
    va_start(ap, fmt);
    e->hint = xvasprintf(fmt, ap);
    va_end(ap);
}

void cc_error_where(struct cc_error *e, const char *file, int line, int col)
{
    if (!e)
        return;
    free(e->file);
    e->file = file ? xstrdup(file) : NULL;
    e->line = line;
    e->col = col;
}

void cc_error_key_path(struct cc_error *e, const char *path)
{
    if (!e)
        return;
    free(e->key_path);
    e->key_path = path ? xstrdup(path) : NULL;
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

void cc_error_copy(struct cc_error *dst, const struct cc_error *src)
{
    cc_error_release(dst);
    dst->kind = src->kind;
    dst->message = dup_or_null(src->message);
    dst->hint = dup_or_null(src->hint);
    dst->file = dup_or_null(src->file);
    dst->line = src->line;
    dst->col = src->col;
    dst->key_path = dup_or_null(src->key_path);
    dst->http_status = src->http_status;
    dst->engine_message = dup_or_null(src->engine_message);
}

void cc_error_move(struct cc_error *dst, struct cc_error *src)
{
    cc_error_release(dst);
    *dst = *src;
    cc_error_init(src);
}

const char *cc_error_kind_name(enum cc_error_kind kind)
{
    switch (kind) {
    case CC_ERR_NONE:
        return "no error";
    case CC_ERR_FAILED:
        return "failed";
    case CC_ERR_USAGE:
        return "usage";
    case CC_ERR_INVALID_CONFIG:
        return "invalid config";
    case CC_ERR_NOT_FOUND:
        return "not found";
    case CC_ERR_CONFLICT:
        return "conflict";
    case CC_ERR_BAD_REQUEST:
        return "bad request";
    case CC_ERR_SERVER:
        return "server error";
    case CC_ERR_UNREACHABLE:
        return "engine unreachable";
    case CC_ERR_TIMEOUT:
        return "timeout";
    case CC_ERR_CANCELLED:
        return "cancelled";
    case CC_ERR_PROTOCOL:
        return "protocol error";
    case CC_ERR_UNSUPPORTED:
        return "unsupported";
    case CC_ERR_IO:
        return "i/o error";
    }
    return "unknown";
}
