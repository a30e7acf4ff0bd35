/* notify — the correspondants are told: a thread needs a person (its latest messages, the
 * reason, the console link), or, beyond notify_limit notifications an hour, one digest
 * every digest_interval listing the threads held back. Written in the caller's store
 * transaction as outbox rows; used by every channel (mail, chat), the account actions
 * (the one-time code cap) and the SMTP sender (a reply that can never be delivered).
 * Never logs. */
#ifndef DIALOGD_NOTIFY_H
#define DIALOGD_NOTIFY_H

#include <stdint.h>

#include "outbox/outbound.h"

struct engine;
struct store;

struct notify_settings {
	struct sender_identity sender;  /* who every mail of dialogd comes from */
	const char *correspondants;     /* who is told; NULL or "": nobody */
	const char *console_url;        /* + thread number: the link to the thread */
	unsigned long notify_limit;     /* notifications an hour sent one by one (0: no limit) */
	unsigned long digest_interval;  /* seconds between two digests of the others */
};

/* Queues the notification for a thread (its latest max_messages messages, 0 for the
 * default 20, and reason), or holds it for the digest when notify_limit is reached.
 * Returns 1 when queued or held, 0 when there is nobody to notify or no such thread, -1
 * on a store error. */
int notify_correspondants(const struct notify_settings *settings, struct store *store, const struct engine *engine,
			  int64_t thread_id, const char *reason, unsigned max_messages);

/* Queues the digest of the notifications held, when there are some and the last digest
 * is digest_interval old. Returns 1 when queued, 0 when nothing is due, -1 on a store
 * error. Called by the SMTP sender on its rounds. */
int notify_digest(const struct notify_settings *settings, struct store *store, const struct engine *engine, int64_t now);

#endif
