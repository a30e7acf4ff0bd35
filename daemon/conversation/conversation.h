/* conversation — what happens to a thread that does not come from the bot: a
 * correspondant takes it, answers in it, gives it back to the bot or resolves it. Each
 * operation is one store transaction with its audit row (channel "console", the
 * correspondant as requester, the thread as subject), so the console's own log is the
 * audit. An answer goes out on the thread's own channel: a mail in the writer's thread
 * (In-Reply-To and References of the thread's messages, queued in the outbox), or a chat
 * line kept in the thread for the chat to deliver. Who owns a thread is the store's
 * (enum thread_owner): the bot answers only its own. Any thread; never logs. */
#ifndef DIALOGD_CONVERSATION_H
#define DIALOGD_CONVERSATION_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/dialog.h"
#include "store/store.h"

struct engine;
struct notify_settings;
struct sender_identity;
struct store;

/* What an operation did. Compare with the names (see README's conventions). */
enum conversation_result {
	CONVERSATION_STORE_ERROR = -1,
	CONVERSATION_REFUSED = 0,       /* another holds the thread, person does not, or no such thread */
	CONVERSATION_DONE = 1,
};

/* person (a correspondant's console login) takes the thread from the queue or the bot;
 * from another correspondant only with from_another. */
enum conversation_result conversation_take(struct store *store, int64_t thread_id, const char *person,
					   bool from_another);
/* person gives the thread back to the bot (from the queue, or as its holder). */
enum conversation_result conversation_release(struct store *store, int64_t thread_id, const char *person);
/* person, its holder, closes it answered; a new message in it goes to the bot. */
enum conversation_result conversation_resolve(struct store *store, int64_t thread_id, const char *person);
/* person, who holds the thread, answers text in it: by mail to the thread's requester, as
 * written, with the line of mail_person_reply (signed by a conseiller) and a neutral subject,
 * not marked automatic; in a chat, as the next line of the conversation. Refused when
 * person does not hold the thread or text is empty. */
enum conversation_result conversation_reply(const struct sender_identity *sender, const struct engine *engine,
					    struct store *store, int64_t thread_id, const char *person,
					    const char *text);

/* person writes an internal note in the thread: kept as a message of direction "note"
 * (CONVERSATION_NOTE), which no channel ever sends: the outbox never sees it, the chat's
 * events skip it, a transcript leaves it out. Any correspondant may write one, holder or
 * not. Refused when text is empty or there is no such thread. */
#define CONVERSATION_NOTE "note"
enum conversation_result conversation_note(struct store *store, int64_t thread_id, const char *person, const char *text);

/* Teaching: person says received message message_id meant intent (one of the spec's ids)
 * for audience ("entreprise", "organisme" or NULL), for `dialogctl examples export`.
 * Audited. Refused for an unknown intent or audience, or a message that is not one the
 * writer sent. */
enum conversation_result conversation_label(struct store *store, int64_t message_id, const char *intent,
					    const char *audience, const char *person, int64_t now);

/* A mail in thread's writer's thread (In-Reply-To and References of its messages, a
 * neutral subject, the envelope of the assistant's replies, or mail_person_reply's for
 * OUTBOX_PERSON): kind, by author (a
 * correspondant; NULL: the assistant). 1 queued, 0 no usable address, -1 (store). Runs
 * in the caller's transaction. */
int conversation_mail_in_thread(const struct sender_identity *sender, const struct engine *engine,
				struct store *store, const struct thread_row *thread, enum outbox_kind kind,
				const char *author, const char *text);

/* The correspondants are told that the thread goes to a person, for reason (the motive of
 * route_notify_motive; over_limit: the writer got no acknowledgement because of a reply
 * limit). Every channel's hand-over comes through here. Returns 1 when the notification
 * is queued or held for the digest, 0 when there is nobody to tell, -1 (store). */
int conversation_notify_hand_over(const struct notify_settings *settings, struct store *store,
				  const struct engine *engine, int64_t thread_id, enum escalation_reason reason,
				  bool over_limit);

#endif
