/* turn — one inbound message of any channel, from its words to what goes out: the
 * thread (created with the first message), the inbound message recorded (secrets
 * scrubbed), the engine's reading routed (route.h), the reply limits, the account action,
 * the hand-over and its notification, and the reply written on the thread's own channel
 * (mail: an outbox row in the writer's thread; chat: the thread's next line, also given
 * back to the caller). The channel says who wrote and what is proven about them; the turn
 * decides what that allows:
 *   - an address the message is proven to come from (a mail's From) is the requester's
 *     own: the account actions act for it at once;
 *   - without one (the chat: an address typed proves nothing) an action asks for what it
 *     needs, one step per message, and a dossier's status is given only to whoever types
 *     the one-time code mailed to an address on file (turn_steps.c).
 * Runs inside the caller's store transaction (the mail channel also marks the mail
 * processed in it): the caller begins, commits, or rolls back on -1. Never logs.
 * Threads: any thread, on its own store connection, directory and intent_scratch; the
 * settings and the engine are borrowed for the call. */
#ifndef DIALOGD_TURN_H
#define DIALOGD_TURN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/dialog.h"

struct action_settings;
struct directory;
struct engine;
struct intent_scratch;
struct store;

/* Automatic replies to one address, its domain and everyone, before a thread goes to a
 * person silently (0: no limit). A live chat has none: the visitor is there. */
struct reply_limits {
	unsigned long burst_limit, burst_window;        /* per address within burst_window s */
	unsigned long daily_limit;                      /* per address in 24 h */
	unsigned long bounce_pause;                     /* s of silence after a proven bounce */
	unsigned long domain_limit, global_limit;       /* an hour: per domain, overall */
};

struct turn_settings {
	const struct action_settings *actions;
	const struct dialog_settings *dialog;
	const struct reply_limits *limits;      /* NULL: none */
};

/* Who wrote, and what is proven about them. */
struct turn_requester {
	const char *name;               /* the thread's requester and the audit's (a chat visitor) */
	const char *reply_to;           /* where answers go (mail: Reply-To, else From); NULL: no
					 * usable address, nothing automatic is sent */
	const char *reply_name;         /* the display name for reply_to, NULL */
	const char *from_address;       /* the address the message comes from, as far as the
					 * channel can tell (mail: From); NULL in the chat */
	bool from_proven;               /* from_address proven as [security] requires (mail:
					 * our MTA's Authentication-Results pass, when required) */
	const char *account;            /* the account the requester is proven to be (the chat:
					 * the extranet's signed identity token), NULL: none */
};

/* What a reply by mail needs from the mail it answers. */
struct turn_mail {
	const char *message_id;         /* In-Reply-To of the reply */
	const char *const *references;  /* the mail's References: the reply's, then message_id */
	size_t reference_count;
	bool may_quote;                 /* the writer's words and subject may be quoted back (see
					 * mail_channel: an authenticated From answered at that address) */
};

struct turn_input {
	enum channel channel;
	int64_t thread_id;              /* the thread it continues, 0: a new one */
	struct turn_requester requester;
	const char *subject;            /* the message's (mail); NULL: the text's first line */
	const char *text;               /* the message as kept in the thread */
	const char *question;           /* what the engine reads; NULL: text */
	const char *notes;              /* what else came (attachments' names), NULL */
	const char *message_id;         /* the message's own id (mail), NULL */
	const char *recipient;          /* who it was sent to (the support address), NULL */
	const char *refusal;            /* the channel's rule that says no automatic reply (an
					 * auto-reply, a list...): recorded, ignored */
	const char *quiet;              /* the channel's rule that guesses no automatic reply is
					 * wanted (spam, a subject like an auto-reply's): it may be
					 * wrong about a person, who is told: handed over silently */
	const char *unreadable;         /* why the message could not be read: by mail a person
					 * reads it; a chat visitor is asked to write it again */
	const struct turn_mail *mail;   /* with CHANNEL_MAIL */
	bool transcript;                /* the chat visitor asks for this conversation by mail
					 * (text: what the history keeps of the request) */
	struct conversation *context;   /* the engine's memory of this conversation (the chat:
					 * a pending choice, the audience), NULL: each message alone */
};

enum turn_outcome {
	TURN_ANSWERED,          /* a reply is written */
	TURN_ESCALATED,         /* a person takes over (acknowledged, unless silent) */
	TURN_IGNORED,           /* the refusal: no automatic reply */
	TURN_ATTACHED,          /* kept in a thread a person handles, or nothing to answer */
};

struct turn_result {
	enum turn_outcome outcome;
	int64_t thread_id;
	char *intent;           /* what the engine understood, "" */
	char *reason;           /* why escalated or ignored, "" */
	unsigned queued;        /* mails queued (replies, notifications, account mails) */
	char *reply;            /* what the chat says back; NULL by mail or when nothing */
};
void turn_result_clear(struct turn_result *result);

/* One inbound message (see above). Returns 0 with *result, or -1 (store): the caller
 * rolls back. */
int conversation_turn(const struct turn_settings *settings, struct store *store, struct directory *directory,
		      const struct engine *engine, struct intent_scratch *scratch, const struct turn_input *input,
		      struct turn_result *result);

#endif
