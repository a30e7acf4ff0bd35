/* log — one line per event an operator cares about, to standard error (with a time
 * stamp, for systemd's journal or a terminal) or to syslog. Safe from any thread.
 * Only the daemon's top layers log; library modules return errors instead. */
#ifndef DIALOGD_LOG_H
#define DIALOGD_LOG_H

#include <stdbool.h>

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARNING, LOG_LEVEL_INFO };

/* use_syslog: send lines to syslog (facility daemon) under ident instead of stderr. */
void log_setup(const char *ident, bool use_syslog);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)

#endif
