/* Diagnostics on stderr. Modules below cli/ log at debug level only; what users read comes from
 * struct cc_error rendered by cli/. The level is the one piece of global state besides the loop. */
#ifndef CC_COMMON_LOG_H
#define CC_COMMON_LOG_H

#include "common/util.h"

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern enum log_level log_level;

void log_msg(enum log_level level, const char *fmt, ...) CC_PRINTF(2, 3);

/* Debug lines start with the function name, so they read as a trace. */
#define log_debug(...)                                                                             \
    do {                                                                                           \
        if (log_level >= LOG_DEBUG)                                                                \
            log_msg(LOG_DEBUG, __VA_ARGS__);                                                       \
    } while (0)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
