/* mail_channel — what is mail in one inbound e-mail, from raw bytes to the store: read it
 * (mail_parse; too large, unsafe or twice interrupted: unread), its no-reply rules
 * (mail_policy) and proven bounces, its thread (In-Reply-To, References), who wrote and
 * what is proven (From, Reply-To, our MTA's Authentication-Results: mail_authres), then
 * the conversation layer's turn (conversation/turn.h: recording, engine, limits, actions,
 * hand-over, the reply queued in the writer's thread), and the mail marked processed —
 * all in ONE transaction. Sending is the SMTP sender's job. Never logs: the caller logs
 * the result. Threads: any thread, on its own store connection, directory and scratch. */
#ifndef DIALOGD_MAIL_CHANNEL_H
#define DIALOGD_MAIL_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "engine/dialog.h"
#include "formats/mail_parse.h"
#include "formats/mail_policy.h"
#include "accounts/account_actions.h"
#include "conversation/turn.h"
#include "outbox/outbound.h"

struct store;
struct engine;
struct directory;
struct directory_http_settings;
struct intent_scratch;

/* What the mail channel reads: its own policy and limits, and the layers below it. */
struct mail_settings {
	struct action_settings actions; /* the account actions, who is notified, who we are */
	struct mail_policy policy;
	const char *mailbox;            /* the key of processed mail in the store */
	size_t max_message_size;
	/* Automatic replies per address, domain and hour before a thread goes to a person
	 * silently: rotating sender addresses does not buy more. */
	struct reply_limits limits;
	bool require_authenticated_sender;  /* status only with Authentication-Results dkim/spf=pass */
	const char *authserv_id;        /* our MTA's name in the Authentication-Results it adds */
	/* The remote directory's settings (each thread opens its own), NULL for the embedded one. */
	const struct directory_http_settings *directory_http;
	struct dialog_settings dialog;
};

enum mail_outcome {
	MAIL_ANSWERED,          /* a reply is queued */
	MAIL_ESCALATED,         /* a correspondant takes over (acknowledgement queued, unless silent) */
	MAIL_IGNORED,           /* no automatic reply (auto-reply, list, bounce, own mail...) */
	MAIL_ATTACHED,          /* follow-up in a thread a person handles, or nothing to answer */
	MAIL_DUPLICATE,         /* already processed before: nothing done */
};

const char *mail_outcome_name(enum mail_outcome outcome);

struct mail_result {
	enum mail_outcome outcome;
	int64_t thread_id;
	char *key;              /* Message-ID or digest that identifies the mail for good */
	char *requester;        /* the writer's address, or "" */
	char *intent;           /* what the engine understood, or "" */
	char *reason;           /* why it is escalated or ignored, "" otherwise */
	char *notes;            /* what was odd in the mail (parser notes), "" when nothing */
	unsigned queued;        /* outbound mails queued */
};
void mail_result_clear(struct mail_result *result);

/* The key of a raw message: its Message-ID, else "sha256:" + the digest of the bytes. */
char *mail_key(const char *raw, size_t len);

/* full_size for a message the IMAP server refuses to deliver: raw is a stand-in header. */
#define MAIL_SIZE_UNFETCHABLE SIZE_MAX

/* Processes raw[0..len). full_size is the message's real size: when it is over
 * max_message_size, raw holds only the header block and the mail is escalated unread.
 * directory answers the account actions (this thread's own; NULL: the store's tables).
 * Returns 0 with *result (everything committed), or -1 with *error_r when the store
 * failed: nothing is committed and the caller tries again later. */
int mail_process(const struct mail_settings *settings, struct store *store, struct directory *directory,
		 const struct engine *engine, struct intent_scratch *scratch, const char *raw, size_t len,
		 size_t full_size, struct mail_result *result, char **error_r);

/* The understanding path alone (for `dialogctl classify --eml`): the question of a parsed
 * mail analysed by the engine. Same return as dialog_analyze. */
int mail_analyze(const struct engine *engine, struct intent_scratch *scratch, const struct dialog_settings *settings,
		 const struct parsed_mail *mail, struct analysis *analysis, char **error_r);

#endif
