/* log — see log.h. */
#include "autoconf.h"
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

static const char *log_ident = "dialogd";
static bool log_to_syslog;

void
log_setup(const char *ident, bool use_syslog)
{
	log_ident = ident;
	log_to_syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID, LOG_DAEMON);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	static const int priorities[] = { LOG_ERR, LOG_WARNING, LOG_INFO };
	static const char *const labels[] = { "error: ", "warning: ", "" };
	va_list ap;
	va_start(ap, fmt);
	if (log_to_syslog) {
		vsyslog(priorities[level], fmt, ap);
	} else {
		char stamp[32];
		time_t now = time(NULL);
		struct tm tm;
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", localtime_r(&now, &tm));
		/* One locked stream per line: lines of the reader and the sender never mix. */
		flockfile(stderr);
		fprintf(stderr, "%s %s: %s", stamp, log_ident, labels[level]);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		funlockfile(stderr);
	}
	va_end(ap);
}
