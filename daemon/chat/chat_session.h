/* chat_session — one chat conversation (the website widget, `dialogctl chat`): what is
 * chat and nothing more. It checks that a message is text, keeps who the visitor is and
 * the engine's memory of the conversation (a pending choice, the audience), and hands
 * each message to the conversation layer as one turn (conversation/turn.h) in a
 * transaction of its own. The flows (FAQ answers, the account actions asked for step by
 * step, the one-time code of a dossier's status, the hand-over) are the turn's, shared
 * with the mail. Every reply is the same whether or not an account, an address or a
 * dossier exists; a code typed by the visitor is kept in the history as removed, never
 * as typed. Never logs.
 * Threads: one session is used by one thread at a time, on that thread's store
 * connection; settings, store and directory are borrowed for the session's life. */
#ifndef DIALOGD_CHAT_SESSION_H
#define DIALOGD_CHAT_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "engine/dialog.h"

struct chat_session;
struct directory;
struct engine;
struct intent_scratch;
struct action_settings;
struct store;

/* A new conversation of visitor (the audit's requester until an address is given: an IP
 * address, or "dialogctl"). store, directory and settings are borrowed. */
struct chat_session *chat_session_new(const struct action_settings *settings, struct store *store,
				      struct directory *directory, const char *visitor);
/* The same for a conversation whose thread exists (a visitor reconnecting, or whose
 * thread the caller created): its turns continue that thread. What the engine remembers
 * between turns (the audience said, a pending choice) starts afresh; what the store keeps
 * (the account action in progress, who owns the thread) does not. */
struct chat_session *chat_session_resume(const struct action_settings *settings, struct store *store,
					 struct directory *directory, const char *visitor, int64_t thread_id);
void chat_session_free(struct chat_session **session);
/* The account the visitor is proven to be (a signed identity token, chat_identity.h):
 * the account actions then act for it without asking (copied; NULL: none). */
void chat_session_set_account(struct chat_session *session, const char *account);
/* The conversation's thread (0 before the first message). */
int64_t chat_session_thread(const struct chat_session *session);

/* One message of the visitor → the assistant's reply (caller frees). NULL with *error_r
 * when the store failed: nothing of this turn is recorded and nothing is sent. */
char *chat_session_turn(struct chat_session *session, const struct engine *engine, struct intent_scratch *scratch,
			const struct dialog_settings *settings, const char *text, size_t len, char **error_r);

/* « Recevoir cette conversation par mail »: the same as a turn whose message is that
 * request (kept in the history as templates/chat_transcript_request.txt says it). */
char *chat_session_transcript(struct chat_session *session, const struct engine *engine, struct intent_scratch *scratch,
			      const struct dialog_settings *settings, char **error_r);

/* Once the reply of a turn is out of the caller's hands (printed, or its frame written):
 * the account work the turn left for after it (conversation/deferred.h). Returns how
 * many actions ran (*queued_r: mails queued), or -1 with *error_r. */
int chat_session_after_reply(struct chat_session *session, const struct engine *engine, unsigned *queued_r,
			     char **error_r);

#endif
