/* stderr logging with a single global level, set once by cli/ from --verbose or CCOMPOSE_DEBUG. */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>

enum log_level log_level = LOG_WARN;

void log_msg(enum log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    if (level > log_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", names[level]);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}
