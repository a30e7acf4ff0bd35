/* account_actions — the account-safe actions of issue 4, shared by the mail and the chat
 * channels: identifier reminder, password reset, one-time codes, a dossier's status text.
 * The rules every action follows:
 *   - what is found goes only to the address on file (a separate mail), never to whoever
 *     asked; the caller's reply is the same text whether or not anything matched;
 *   - limits per requester and per account and hour ([security]); beyond, nothing is sent
 *     and the reply does not change;
 *   - every request is audited (channel, requester, action, account or dossier, outcome),
 *     never a token, a code or a password;
 *   - a directory that cannot answer (remote API down) returns DIRECTORY_UNAVAILABLE: the
 *     caller escalates and says a person will answer.
 * Runs inside the caller's store transaction. Never logs. */
#ifndef DIALOGD_ACCOUNT_ACTIONS_H
#define DIALOGD_ACCOUNT_ACTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "directory.h"
#include "intent.h"
#include "template.h"

struct mail_settings;
struct store;
struct engine;

/* Who asks, through what, in which thread. */
struct actor {
	const struct mail_settings *s;  /* sender identity, limits, link base */
	struct store *st;
	struct directory *dir;
	const struct engine *e;
	const char *channel;            /* "mail" or "chat" */
	const char *requester;          /* audit and per-requester limits: an address, or a chat visitor */
	int64_t thread_id;              /* the request's thread */
	unsigned queued;                /* mails queued by the actions (out) */
};

/* Outcomes written in the audit (and counted by the per-account limits). */
#define OUTCOME_IDENTIFIERS_SENT "identifiers sent to the address on file"
#define OUTCOME_RESET_SENT "reset link sent to the address on file"
#define OUTCOME_RESET_REQUESTED "reset requested from the extranet (it mails the address on file)"
#define OUTCOME_CODE_SENT "one-time code sent to the address on file"
#define OUTCOME_CODE_WRONG "wrong one-time code"

/* Identifier reminder for the accounts whose address on file is value (by "email") or
 * that act for the structure value (by "siret"): each address on file gets the
 * identifiers of its accounts. Returns 0, -1 (store), or DIRECTORY_UNAVAILABLE. */
int action_identifier_reminder(struct actor *actor, const char *by, const char *value);

/* Password reset for the accounts whose address on file is value (by "email") or the
 * account value (by "identifier"): with the embedded directory, a reset link
 * ([web] public_url + /reinitialisation?jeton=…, [security] reset_ttl) to the address on
 * file, earlier links revoked; with the remote one, the extranet is asked to send its
 * own. Returns 0, -1, or DIRECTORY_UNAVAILABLE. */
int action_password_reset(struct actor *actor, const char *by, const char *value);

/* A one-time code (6 digits from the CSPRNG) for email, mailed to it only when send is
 * true (the caller checked that email is on file for what is asked, and the limits);
 * *hash_r (caller frees) is what the caller keeps: a salted hash, or, when nothing is
 * sent, a hash no code matches — the caller cannot tell them apart and neither can the
 * requester. The audit's subject is email (the per-address limit counts codes sent).
 * Returns 0 or -1. */
int action_code_send(struct actor *actor, const char *email, bool send, char **hash_r);
/* Whether code matches hash (constant time). */
bool action_code_matches(const char *hash, const char *code);

/* A dossier's status in plain French for audience: its state, the next step from the
 * FAQ, the DECA number of an apprenticeship contract or why there is none yet. */
char *action_dossier_status_text(const struct engine *engine, const struct directory_dossier *dossier,
				 enum audience audience);

#endif
