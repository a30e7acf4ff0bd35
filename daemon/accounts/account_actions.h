/* account_actions — the account-safe actions of issue 4, shared by the mail and the chat
 * channels: identifier reminder, password reset, one-time codes, a dossier's status text.
 * The rules every action follows:
 *   - what is found goes only to the address on file (a separate mail), never to whoever
 *     asked; the caller's reply is the same text whether or not anything matched;
 *   - limits per requester and per account and hour ([security]); beyond, nothing is sent
 *     and the reply does not change; one-time codes also have a global cap;
 *   - every request is audited (channel, requester, action, account or dossier, outcome),
 *     never a token, a code or a password;
 *   - a directory that cannot answer (remote API down) returns DIRECTORY_UNAVAILABLE: the
 *     caller escalates and says a person will answer.
 * Runs inside the caller's store transaction. Never logs.
 * Threads: any thread, on its own store connection and directory; the settings are
 * borrowed for the call and read-only once dialogd has started. */
#ifndef DIALOGD_ACCOUNT_ACTIONS_H
#define DIALOGD_ACCOUNT_ACTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "store/audit.h"
#include "directory/directory.h"
#include "engine/intent.h"
#include "outbox/notify.h"
#include "engine/template.h"

struct store;
struct engine;

/* What the actions read (set once at start, then read by every thread). */
struct action_settings {
	struct notify_settings notify;  /* who we are, and who is told (the one-time code cap) */
	unsigned long reminder_limit;   /* identifier reminders per address and hour */
	unsigned long status_limit;     /* dossier status look-ups per address and hour */
	unsigned long reset_limit;      /* password resets per address, and per account, and hour */
	unsigned long reset_ttl;        /* seconds a reset link is valid */
	unsigned long mail_delay;       /* seconds a mail to an address on file waits in the
					 * outbox ([security] secret_mail_delay): the requester's
					 * reply, queued before, reaches the MTA first and alone */
	unsigned long code_attempts;    /* chat: wrong one-time codes before the code is void */
	unsigned long code_ttl;         /* chat: seconds a one-time code is valid */
	const char *public_url;         /* base of the reset links ([web] public_url) */
	const char *chat_hours;         /* chat: when the correspondants answer ([chat] hours);
					 * NULL: templates/chat_hours.txt */
};

/* Who asks, through what, in which thread. */
struct actor {
	const struct action_settings *s;
	struct store *st;
	struct directory *dir;
	const struct engine *e;
	const char *channel;            /* "mail" or "chat" */
	const char *requester;          /* audit and per-requester limits: an address, or a chat visitor */
	int64_t thread_id;              /* the request's thread */
	unsigned queued;                /* mails queued by the actions (out) */
};

/* Outcomes written in the audit: audit.h (codes; the per-account limits count the *_SENT ones). */

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

/* A one-time code: this many digits from the CSPRNG. 10^8 codes: guessing at the global
 * cap below all year long would find one about once in fifty years (10^6: twice a year). */
#define ACTION_CODE_DIGITS 8
#define ACTION_CODE_SIZE (ACTION_CODE_DIGITS + 1)

/* Wrong one-time codes per hour: per visitor (whatever the address), per address
 * (against the codes sent to it), and across all visitors (beyond it no code is accepted
 * for an hour, and the correspondants are told once). Constants until they become
 * [security] keys code_wrong_per_visitor, code_wrong_per_address and code_wrong_global;
 * code_attempts stays the limit per code. */
#define CODE_WRONG_PER_VISITOR 10
#define CODE_WRONG_PER_ADDRESS 5
#define CODE_WRONG_GLOBAL 200
#define CODE_WINDOW 3600
/* The audit action of the global cap tripping: one row per window. */
#define CODE_CAP_ACTION "one_time_code_cap"

/* A one-time code for email, mailed to it only when send is true (the caller checked
 * that email is on file for what is asked, and the limits). *hash_r (caller frees) is
 * what the caller keeps and gives back to action_code_check: the code's salted hash,
 * NULL when nothing was sent. The audit's subject is email (the per-address sending
 * limit counts the codes sent). Returns 0 or -1. */
int action_code_send(struct actor *actor, const char *email, bool send, char **hash_r);

/* The audit action of a code mailed to an address a chat visitor wants to use (the
 * transcript, a correspondant's answers): the limits count its rows. */
#define ACTION_ADDRESS_CODE "address_code"
/* A one-time code mailed to email, an address the visitor typed, to prove it is theirs
 * (nothing of any account is involved: the caller applies its own limits). *hash_r as
 * action_code_send's. Returns 0 or -1. */
int action_address_code_send(struct actor *actor, const char *email, char **hash_r);

/* A code typed for a flow of action_code_send. */
struct code_flow {
	const char *email;      /* the address given */
	const char *hash;       /* action_code_send's *hash_r (NULL: nothing was sent) */
	int attempts;           /* codes typed in this flow before this one */
};
enum code_verdict {
	CODE_ACCEPTED,          /* the code sent: the caller gives what it guards, and audits it */
	CODE_WRONG,             /* not it: *remaining_r more tries in this flow */
	CODE_VOID,              /* not it, or not accepted (a limit): no more tries in this flow */
	CODE_SUSPENDED,         /* not checked, or the wrong code that reached the global cap */
};
/* Checks code under the limits per CODE_WINDOW. What a wrong code is answered depends
 * only on limits that ignore whether a code was sent: code_attempts per flow,
 * CODE_WRONG_PER_VISITOR (the actor's requester), CODE_WRONG_GLOBAL — so replies never
 * tell whether an address is on file. Past CODE_WRONG_PER_ADDRESS wrong codes against
 * codes actually sent to the address (codes typed where none was sent cannot lock the
 * holder out), the right code is not accepted either: only whoever holds it can see
 * that. Past the global cap, no code is checked until CODE_WINDOW after it tripped; the
 * code that trips it writes one CODE_CAP_ACTION audit row and notifies the correspondants
 * (in a thread of its own). Audits every verdict but CODE_ACCEPTED. Returns the verdict,
 * or -1 (store). */
int action_code_check(struct actor *actor, const struct code_flow *flow, const char *code, int *remaining_r);
/* Whether code matches hash (constant time; the same work when hash is NULL). */
bool action_code_matches(const char *hash, const char *code);

/* A request for a dossier's status, with what is proven about who asks. */
struct dossier_request {
	char *const *numbers;   /* the candidates read in the request, at least one: the */
	size_t number_count;    /* first known dossier is the one asked about */
	const char *from;       /* the address the request came from (limits, comparison with
				 * the addresses on file), NULL when none */
	bool answer_goes_to_from; /* the answer travels to that very address */
	bool sender_proven;     /* from is proven as the channel requires (mail: our MTA's
				 * Authentication-Results pass when [security] requires it) */
	enum audience audience; /* the variant of the status text */
};
/* Dossier status for req: the status itself in *answer_r only to a verified requester —
 * an address on file for the dossier, answered at that address, proven, under the limits
 * per requester and per dossier ([security] status_limit) —; anyone else gets the same
 * redirect whether the dossier exists or not, and a few status mails per hour go to the
 * addresses on file (each in a thread of its own). Audited. Returns 0 with *answer_r
 * (caller frees), -1 (store), or DIRECTORY_UNAVAILABLE (audited; nothing said). */
int action_dossier_status(struct actor *actor, const struct dossier_request *req, char **answer_r);

/* A dossier's status in plain French for audience: its state, the next step from the
 * FAQ, the DECA number of an apprenticeship contract or why there is none yet. */
char *action_dossier_status_text(const struct engine *engine, const struct directory_dossier *dossier,
				 enum audience audience);

#endif
