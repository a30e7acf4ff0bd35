/* outbound — one mail the assistant writes: composed (mail_compose), recorded in its
 * thread's history and queued in the outbox, inside the caller's transaction. Shared by
 * the mail channel (replies, notifications) and the account actions (mails to the
 * address on file). Secret mails (reset links, one-time codes) leave only a redacted
 * copy in the history, and their outbox text is emptied once sent. Never logs. */
#ifndef DIALOGD_OUTBOUND_H
#define DIALOGD_OUTBOUND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Who the assistant's mail comes from: From, the envelope sender, and the domain of its
 * Message-IDs (which is how a delivery report is known to answer one of ours). */
struct sender_identity {
	const char *name;               /* display name */
	const char *address;
	const char *domain;             /* of our Message-IDs */
};

struct outbound {
	int64_t thread_id;
	enum outbox_kind kind;
	const char *to_name, *to;
	const char *subject, *body;
	const char *history_body;       /* what the thread keeps when it must differ from body (secrets) */
	bool no_history;                /* a mail of no thread (thread_id 0: the digest): none kept */
	const char *author;             /* who wrote it, for the history: a correspondant; NULL: the assistant */
	const char *in_reply_to;
	const char *const *references;
	size_t reference_count;
	int64_t not_before;             /* seconds since the epoch it waits for in the outbox; 0: none */
};

/* Returns 1 when queued, 0 when there is no usable address to send to, -1 on a store error. */
int outbound_queue(const struct sender_identity *sender, struct store *store, const struct outbound *mail);

#endif
