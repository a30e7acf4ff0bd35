/* chat_session — one chat conversation (the website widget, `dialogctl chat`): the
 * engine's chat turn, plus the account actions as a conversation:
 *   identifier reminder — asks for the account's e-mail address or the structure's SIRET;
 *   password reset      — asks for the identifier or the e-mail address;
 *   dossier status      — asks for the number, then the e-mail address, mails a one-time
 *                         code to it when it is on file for the dossier, and gives the
 *                         status to whoever types that code ([security] code_ttl,
 *                         code_attempts; the hourly limits of wrong codes per visitor, per
 *                         address and for all visitors: action_code_check).
 * Every reply is the same whether or not an account, an address or a dossier exists.
 * The conversation lives in the store (a "chat" thread, its messages, the action in
 * progress): each turn is one transaction. A code typed by the visitor is kept in the
 * history as "[code saisi]", never as typed. Never logs. */
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
/* The conversation's thread (0 before the first message). */
int64_t chat_session_thread(const struct chat_session *session);

/* One message of the visitor → the assistant's reply (caller frees). NULL with *error_r
 * when the store failed: nothing of this turn is recorded and nothing is sent. */
char *chat_session_turn(struct chat_session *session, const struct engine *engine, struct intent_scratch *scratch,
			const struct dialog_settings *settings, const char *text, size_t len, char **error_r);

#endif
