/* limit_window — the window every hourly limit of dialogd counts in ([security] reminder_limit,
 * status_limit, reset_limit, the wrong one-time codes, [mail] domain_limit, global_limit,
 * notify_limit): one name, so that no limit counts another span by a typo.
 * Threads: any (a pure function). */
#ifndef DIALOGD_LIMIT_WINDOW_H
#define DIALOGD_LIMIT_WINDOW_H

#include <stdint.h>

#define LIMIT_WINDOW_SECONDS 3600

/* Where the window ending at now starts: rows at or after it count. */
static inline int64_t
limit_window_start(int64_t now)
{
	return now - LIMIT_WINDOW_SECONDS;
}

#endif
