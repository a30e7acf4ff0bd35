/* turn_internal — what the files of one conversation turn share (turn.c: the frame,
 * recording, replies, hand-overs; turn_actions.c: the account actions; turn_steps.c: the
 * steps of an action that asks). Not for other modules.
 * Threads: those of turn.h; a struct turn lives for one call on one thread. */
#ifndef DIALOGD_TURN_INTERNAL_H
#define DIALOGD_TURN_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "conversation/turn.h"
#include "accounts/account_actions.h"
#include "outbox/outbound.h"
#include "store/store.h"

/* Who hears of a turn among the correspondants. */
enum turn_notice {
	NOTICE_NONE,
	NOTICE_HAND_OVER,       /* the thread goes to a person (unless it waits for one already) */
	NOTICE_QUIET_HAND_OVER, /* ... silently, over a reply limit: once per burst window */
	NOTICE_FOLLOW_UP,       /* a new message in a thread a person handles: a few per window */
};

/* One turn in progress. */
struct turn {
	const struct turn_settings *s;
	struct store *st;
	struct directory *dir;
	const struct engine *e;
	const struct turn_input *in;
	struct turn_result *r;
	int64_t now;
	struct thread_row thread;       /* as the turn found it (id 0: there was none) */
	int64_t thread_id;              /* the thread, created at the start when there was none */
	bool secret_thread;             /* a reset link or a code was sent in this thread */
	int64_t inbound_id;             /* the message's row, completed by finish() */
	struct analysis analysis;       /* the engine's reading, when it read the message */
	char *chat_reply;               /* the engine's own chat reply to that reading */
	/* What the turn decided, written by finish(). */
	enum thread_state state;
	bool change_state;              /* false: the thread keeps its state */
	const char *decision;           /* the message's: "answered", "escalated", ... */
	char *kept_reason;              /* why, kept in the thread (NULL: none) */
	double confidence;
	bool redact;                    /* the message may hold a code: kept as removed */
	char *reply;                    /* what the writer is told, NULL: nothing */
	char *offers;                   /* the chat reply's quick replies, one per line, NULL */
	enum outbox_kind reply_kind;    /* ... as what, by mail */
	enum turn_notice notice;
	enum escalation_reason notice_reason;
	bool notice_over_limit;
};

/* The turn's outcome, thread state (kept as decided unless change_state is cleared
 * after), intent (NULL: unchanged) and reason (kept in the thread and logged; NULL:
 * none). */
void turn_decide(struct turn *t, enum turn_outcome outcome, enum thread_state state, const char *intent,
		 const char *reason);
/* The reason the operator reads in the log, when it is not one the thread keeps. */
void turn_log_reason(struct turn *t, const char *reason);
/* A template rendered as plain text (caller frees). */
char *turn_render(const struct turn *t, const char *name, const struct template_var *vars, size_t count);
/* The writer is told text (taken; rendered already, NULL: nothing): by mail a reply of
 * kind in their thread, in the chat the next line. Written when the turn finishes. */
void turn_reply(struct turn *t, enum outbox_kind kind, char *text);
/* The engine's answer to a: in the chat its own reply when a is its reading of the
 * message, else rendered for the channel (caller frees). */
char *turn_answer_text(const struct turn *t, const struct analysis *a);
/* The thread goes to a person for a (reason_text for the operator): acknowledged unless
 * a reply limit says to stay silent, the correspondants told. Returns 0. */
int turn_escalate(struct turn *t, const struct analysis *a, const char *reason_text);
/* An account action the directory could not serve: escalated, nothing said of an
 * account. a: the reading of the message, NULL when the action came from a step. */
int turn_escalate_unavailable(struct turn *t, const struct analysis *a);
/* The actor of an account action: the requester, in this thread. */
struct actor turn_actor(const struct turn *t);
/* After an action: its mails counted, DIRECTORY_UNAVAILABLE turned into a hand-over.
 * Returns 0 (go on), 1 (handed over: the turn is decided) or -1. */
int turn_action_done(struct turn *t, const struct analysis *a, const struct actor *actor, int rc);

/* The account work of a request, left for after the reply (deferred.h): the audit's
 * action, then what it acts for (by: email, identifier, siret; or the dossier number
 * for DEFERRED_ONE_TIME_CODE, whose value is the address the code goes to). */
#define DEFERRED_ONE_TIME_CODE "one_time_code"
int turn_defer(struct turn *t, const char *action, const char *by, const char *value);

/* turn_actions.c: the account action route_decide chose for a. Returns 0 or -1. */
int turn_account_action(struct turn *t, const struct analysis *a, enum account_action action);
/* Runs a reminder or a reset for what text names (an address, an identifier, a SIRET;
 * alone: text is nothing but the answer to a question). Returns 1 when it ran (the turn
 * is decided), 0 when text names nothing usable, -1. */
int turn_action_for_text(struct turn *t, enum account_action action, const char *text, bool alone);

/* turn_steps.c: an action that asks, one step per message (the chat). */
/* The message read against the step the conversation waits for. Returns 1 when that
 * decided the turn, 0 when the engine reads the message, -1. */
int turn_steps(struct turn *t);
/* An action asks for what it needs (number: the dossier's, when the message gave it). */
int turn_ask(struct turn *t, enum account_action action, const char *number);
/* The code's hash for the step of thread_id that waits for the code of number sent to
 * email (deferred.c, once it is sent); no change when the conversation moved on. */
int turn_step_set_code(struct store *store, int64_t thread_id, const char *number, const char *email,
		       const char *hash);
/* A one-time code typed for step c (action_code_check, with its limits). Returns 1 when
 * it is the code sent (the caller gives what it guards), 0 when not (said with reply:
 * the tries left, or that the code is void; the step kept or removed), -1. */
int turn_code_typed(struct turn *t, struct chat_action *c, const char *code, void (*reply)(struct turn *t, char *text));
/* "annuler" and its like: the visitor gives up the step. */
bool turn_is_cancel(const char *text);
/* The one-time code a message holds (8 digits, maybe with separators), in code. */
bool turn_typed_code(const char *text, char code[ACTION_CODE_SIZE]);

/* turn_address.c: an address the chat visitor proves with a code, for the transcript or
 * a correspondant's answers by mail. The transcript frame, the quick reply asking for
 * answers by mail, or the answer to that step's question: 1 when that decided the turn,
 * 0 when not, -1. */
int turn_address(struct turn *t);
/* The quick reply offered after a hand-over in the chat (caller frees), NULL when the
 * answers go by mail already. */
char *turn_answers_offer(const struct turn *t);

/* A message that is only a one-time code (kept out of the subject and the history). */
bool turn_is_bare_code(const char *text);
/* A message that could hold a one-time code in some shape. */
bool turn_may_hold_code(const char *text);

#endif
