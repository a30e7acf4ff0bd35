/* turn_steps — an account action that asks, one step per message, where the requester
 * is live but nothing is proven about them (the chat):
 *   identifier reminder — asks for the account's e-mail address or the structure's SIRET;
 *   password reset      — asks for the identifier or the e-mail address;
 *   dossier status      — asks for the number, then the e-mail address, mails a one-time
 *                         code to it when it is on file for the dossier, and gives the
 *                         status to whoever types that code ([security] code_ttl,
 *                         code_attempts; the hourly limits of action_code_check).
 * The step waiting lives in the store (chat_actions), so a conversation survives a
 * restart. A code typed is kept in the history as removed, never as typed. */
#include "autoconf.h"
#include "conversation/turn_internal.h"
#include "accounts/account_actions.h"
#include "core/limit_window.h"
#include "core/text.h"
#include "core/util.h"
#include "directory/directory.h"
#include "directory/request_fields.h"
#include "formats/dossier_number.h"
#include "store/store.h"
#include "store/audit.h"

#include <stdlib.h>
#include <string.h>

/* A question the assistant asked (number, address...) is forgotten after this. */
#define STEP_TTL 1800
/* A message longer than this is not a code typed with odd separators. */
#define CODE_MESSAGE_MAX 40

/* What the assistant asked for and waits for in the next message. The store keeps the
 * name (chat_actions.step). */
enum step { STEP_UNKNOWN, STEP_CONTACT, STEP_ACCOUNT, STEP_NUMBER, STEP_EMAIL, STEP_CODE };
static const char *const step_names[] = { "", "contact", "account", "number", "email", "code" };

/* The step of a stored action; STEP_UNKNOWN for a name this dialogd does not know. */
static enum step
step_of(const struct chat_action *c)
{
	int step = NAME_INDEX(step_names, c->step);
	return step <= 0 ? STEP_UNKNOWN : (enum step)step;
}

static int
put_step(struct turn *t, enum account_action action, enum step step, const char *subject, const char *email,
	 const char *code_hash, int64_t ttl)
{
	struct chat_action c = {
		.thread_id = t->thread_id, .action = (char *)account_action_name(action),
		.step = (char *)step_names[step], .subject = (char *)subject,
		.email = (char *)email, .code_hash = (char *)code_hash, .expires = t->now + ttl,
	};
	return store_chat_action_put(t->st, &c);
}

/* The turn answers text (taken) for the dossier's status. */
static void
status_reply(struct turn *t, char *text)
{
	turn_decide(t, TURN_ANSWERED, THREAD_ANSWERED, account_action_name(ACCOUNT_DOSSIER_STATUS), NULL);
	turn_reply(t, OUTBOX_REPLY, text);
}

/* A code that cannot be checked any more (voided, expired, from elsewhere): one answer. */
static void
code_exhausted(struct turn *t)
{
	t->redact = true;
	turn_decide(t, TURN_ANSWERED, THREAD_ANSWERED, NULL, NULL);
	turn_reply(t, OUTBOX_REPLY, turn_render(t, "chat_code_exhausted", NULL, 0));
}

/* The same, with the minutes of a lifetime in seconds. */
static void
status_reply_minutes(struct turn *t, const char *name, unsigned long seconds)
{
	char *minutes = xasprintf("%lu", seconds / 60);
	struct template_var var = { "minutes", minutes, false };
	status_reply(t, turn_render(t, name, &var, 1));
	free(minutes);
}

/* Whether the account acts for the dossier's company or training organisation. */
static bool
acts_for(const struct directory_account *account, const struct directory_dossier *d)
{
	for (size_t i = 0; i < account->structure_count; i++) {
		const char *siret = account->structures[i].siret;
		if (siret != NULL && ((d->siret != NULL && strcmp(siret, d->siret) == 0) ||
				      (d->training_org_siret != NULL && strcmp(siret, d->training_org_siret) == 0)))
			return true;
	}
	return false;
}

/* A visitor the extranet vouches for (turn_requester.account): the status of a dossier of
 * one of their structures at once, no code; for any other number, or an account that is
 * not active, the same answer whether or not the dossier exists. */
static int
identified_status(struct turn *t, const char *number)
{
	struct directory_account account = {0};
	struct directory_dossier d = {0};
	int has_account = directory_account_get(t->dir, t->in->requester.account, &account);
	int found = has_account == 1 ? directory_dossier_get(t->dir, number, &d) : 0;
	int rc = 0;
	if ((has_account < 0 && has_account != DIRECTORY_UNAVAILABLE) || (found < 0 && found != DIRECTORY_UNAVAILABLE)) {
		rc = -1;
	} else if (has_account == DIRECTORY_UNAVAILABLE || found == DIRECTORY_UNAVAILABLE) {
		rc = turn_escalate_unavailable(t, NULL);
	} else {
		bool active = has_account == 1 && account.state != NULL && strcmp(account.state, "active") == 0;
		bool mine = active && found == 1 && acts_for(&account, &d);
		enum audit_outcome outcome = mine ? AUDIT_STATUS_GIVEN : !active ? AUDIT_STATUS_NO_ACTIVE_ACCOUNT
										 : AUDIT_STATUS_NOT_ON_FILE;
		rc = store_audit_add(t->st, "chat", t->in->requester.name, "identified_dossier_status", number,
				     audit_code(outcome));
		if (rc == 0 && mine) {
			enum audience audience = t->in->context ? t->in->context->audience : AUDIENCE_UNKNOWN;
			char *status = action_dossier_status_text(t->e, &d, audience);
			struct template_var var = { "status", status, true };
			status_reply(t, turn_render(t, "chat_status", &var, 1));
			free(status);
		} else if (rc == 0) {
			struct template_var var = { "number", number, false };
			status_reply(t, turn_render(t, "chat_status_not_yours", &var, 1));
		}
	}
	directory_account_clear(&account);
	directory_dossier_clear(&d);
	return rc < 0 ? -1 : 0;
}

int
turn_ask(struct turn *t, enum account_action action, const char *number)
{
	if (action == ACCOUNT_DOSSIER_STATUS && number != NULL && t->in->requester.account != NULL)
		return identified_status(t, number);
	enum step step;
	const char *question;
	switch (action) {
	case ACCOUNT_PASSWORD_RESET: step = STEP_ACCOUNT, question = "chat_ask_account"; break;
	case ACCOUNT_IDENTIFIER_REMINDER: step = STEP_CONTACT, question = "chat_ask_contact"; break;
	default: step = number ? STEP_EMAIL : STEP_NUMBER, question = number ? "chat_ask_email" : "chat_ask_number"; break;
	}
	const char *intent = action == ACCOUNT_DOSSIER_STATUS ? account_action_name(action) : NULL;
	turn_decide(t, TURN_ANSWERED, THREAD_ANSWERED, intent, NULL);
	turn_reply(t, OUTBOX_REPLY, turn_render(t, question, NULL, 0));
	return put_step(t, action, step, number, NULL, NULL, STEP_TTL);
}

/* The visitor gave an address for a dossier's status: the code goes to it when it is
 * on file for the dossier and no limit is reached, after the reply (deferred.c), which is
 * the same either way. The step waits for the code until then with no hash: a code typed
 * before it is sent is a wrong one. */
static int
send_code(struct turn *t, const char *number, const char *email)
{
	const struct action_settings *s = t->s->actions;
	if (put_step(t, ACCOUNT_DOSSIER_STATUS, STEP_CODE, number, email, NULL, (int64_t)s->code_ttl) < 0 ||
	    turn_defer(t, DEFERRED_ONE_TIME_CODE, number, email) < 0)
		return -1;
	status_reply_minutes(t, "chat_code_sent", s->code_ttl);
	return 0;
}

int
turn_step_set_code(struct store *st, int64_t thread_id, const char *number, const char *email, const char *hash)
{
	struct chat_action c;
	int got = store_chat_action_get(st, thread_id, &c);
	int rc = got < 0 ? -1 : 0;
	if (got == 1 && step_of(&c) == STEP_CODE && c.subject != NULL && strcmp(c.subject, number) == 0 &&
	    c.email != NULL && strcmp(c.email, email) == 0) {
		free(c.code_hash);
		c.code_hash = xstrdup(hash);
		rc = store_chat_action_put(st, &c);
	}
	chat_action_clear(&c);
	return rc;
}

/* The right code: the dossier's status, read now. */
static int
give_status(struct turn *t, struct chat_action *c)
{
	struct directory_dossier d = {0};
	int found = directory_dossier_get(t->dir, c->subject, &d);
	if (found < 0 && found != DIRECTORY_UNAVAILABLE)
		return -1;
	int rc = store_audit_add(t->st, "chat", t->in->requester.name, "one_time_code_check", c->email,
				 found == 1 ? audit_code(AUDIT_CODE_ACCEPTED) : audit_code(AUDIT_CODE_ACCEPTED_UNAVAILABLE));
	if (rc == 0)
		rc = store_chat_action_delete(t->st, c->thread_id);
	if (rc == 0 && found != 1) {
		/* Found when the code was sent; gone or unreachable now: a person answers. */
		rc = turn_escalate_unavailable(t, NULL);
	} else if (rc == 0) {
		enum audience audience = t->in->context ? t->in->context->audience : AUDIENCE_UNKNOWN;
		char *status = action_dossier_status_text(t->e, &d, audience);
		struct template_var var = { "status", status, true };
		status_reply(t, turn_render(t, "chat_status", &var, 1));
		free(status);
	}
	directory_dossier_clear(&d);
	return rc < 0 ? -1 : 0;
}

int
turn_code_typed(struct turn *t, struct chat_action *c, const char *code, void (*reply)(struct turn *t, char *text))
{
	t->redact = true;
	struct actor actor = turn_actor(t);
	struct code_flow flow = { .email = c->email, .hash = c->code_hash, .attempts = c->attempts };
	int remaining = 0;
	int verdict = action_code_check(&actor, &flow, code, &remaining);
	t->r->queued += actor.queued;
	if (verdict < 0)
		return -1;
	c->attempts++;
	if (verdict == CODE_ACCEPTED)
		return 1;
	if (verdict != CODE_WRONG) {
		/* Spent, over a limit, or every check suspended: one wording for all of them (it
		 * names each cause and the way on), so a reply tells nothing of which, and a
		 * holder typing the right code is never told it is wrong. */
		reply(t, turn_render(t, "chat_code_exhausted", NULL, 0));
		return store_chat_action_delete(t->st, c->thread_id) < 0 ? -1 : 0;
	}
	char *left = xasprintf("%d", remaining);
	struct template_var var = { "remaining", left, false };
	reply(t, turn_render(t, "chat_code_wrong", &var, 1));
	free(left);
	return store_chat_action_put(t->st, c) < 0 ? -1 : 0;
}

/* A code typed while the dossier's is expected. */
static int
check_code(struct turn *t, struct chat_action *c, const char *code)
{
	int rc = turn_code_typed(t, c, code, status_reply);
	return rc == 1 ? give_status(t, c) : rc;
}

bool
turn_is_cancel(const char *text)
{
	char *f = text_fold(text, strlen(text), NULL);
	bool cancel = strcmp(f, "annuler") == 0 || strcmp(f, "annule") == 0 || strcmp(f, "stop") == 0;
	free(f);
	return cancel;
}

/* How many digits text holds. */
static size_t
digit_count(const char *text)
{
	size_t n = 0;
	for (const char *p = text; *p; p++)
		n += *p >= '0' && *p <= '9';
	return n;
}

/* A code as people type it: "12345678", "1234 5678", "1234-5678", and in a short message
 * exactly ACTION_CODE_DIGITS digits whatever separates them ("12 34 56 78", "mon code :
 * 1234.5678"). */
bool
turn_typed_code(const char *text, char code[ACTION_CODE_SIZE])
{
	if (field_code(text, code))
		return true;
	if (strlen(text) > CODE_MESSAGE_MAX || digit_count(text) != ACTION_CODE_DIGITS)
		return false;
	size_t n = 0;
	for (const char *p = text; *p; p++)
		if (*p >= '0' && *p <= '9')
			code[n++] = *p;
	code[ACTION_CODE_DIGITS] = '\0';
	return true;
}

bool
turn_is_bare_code(const char *text)
{
	char code[ACTION_CODE_SIZE];
	size_t n = strlen(text);
	return n <= 16 && turn_typed_code(text, code) && strspn(text, "0123456789 .-\t") == n;
}

bool
turn_may_hold_code(const char *text)
{
	/* Six digits: a code with digits missing, or in the former six-digit shape. */
	return turn_is_bare_code(text) || digit_count(text) >= 6;
}

/* The message read as the answer to what the assistant asked. Returns 1 when it was, 0
 * when not (a new question: the engine reads it), -1. */
static int
continue_step(struct turn *t, struct chat_action *c)
{
	const char *text = t->in->text;
	enum step step = step_of(c);
	if (turn_is_cancel(text)) {
		turn_decide(t, TURN_ANSWERED, THREAD_ANSWERED, NULL, NULL);
		turn_reply(t, OUTBOX_REPLY, turn_render(t, "chat_cancelled", NULL, 0));
		return store_chat_action_delete(t->st, c->thread_id) < 0 ? -1 : 1;
	}
	if (step == STEP_CODE) {
		char code[ACTION_CODE_SIZE];
		if (turn_typed_code(text, code))
			return check_code(t, c, code) < 0 ? -1 : 1;
		/* Something else while a code is expected: the engine answers it, but a message
		 * that could hold the code in some other shape is not kept as typed. */
		t->redact = digit_count(text) >= 6;
		return 0;
	}
	if (step == STEP_NUMBER) {
		char *numbers[1];
		if (dossier_numbers(text, numbers, 1) == 0)
			return 0;
		int rc = turn_ask(t, ACCOUNT_DOSSIER_STATUS, numbers[0]);
		free(numbers[0]);
		return rc < 0 ? -1 : 1;
	}
	if (step == STEP_EMAIL) {
		char *email = field_email(text);
		if (email == NULL)
			return 0;
		int rc = send_code(t, c->subject, email);
		free(email);
		return rc < 0 ? -1 : 1;
	}
	/* STEP_CONTACT (reminder) or STEP_ACCOUNT (reset): the answer may be the bare identifier. */
	enum account_action action = account_action_from_name(c->action);
	if (!(step == STEP_CONTACT && action == ACCOUNT_IDENTIFIER_REMINDER) &&
	    !(step == STEP_ACCOUNT && action == ACCOUNT_PASSWORD_RESET))
		return 0;  /* a step this dialogd does not know: the engine reads the message */
	return turn_action_for_text(t, action, text, true);
}

/* A step that expired: the message is read anew, but a code typed now meets the same
 * answer as a wrong one at the end (and is not kept). */
static int
step_expired(struct turn *t, const struct chat_action *c)
{
	char code[ACTION_CODE_SIZE];
	if (store_chat_action_delete(t->st, t->thread_id) < 0)
		return -1;
	if (step_of(c) != STEP_CODE)
		return 0;
	if (!turn_typed_code(t->in->text, code)) {
		t->redact = digit_count(t->in->text) >= 6;  /* as while the code was expected */
		return 0;
	}
	code_exhausted(t);
	return 1;
}

int
turn_steps(struct turn *t)
{
	/* By mail the From address is the requester's own: the actions never ask in steps. */
	if (t->in->channel != CHANNEL_CHAT)
		return 0;
	struct chat_action pending = {0};
	int has = t->thread.id != 0 ? store_chat_action_get(t->st, t->thread_id, &pending) : 0;
	int rc;
	if (has < 0) {
		rc = -1;
	} else if (has == 1 && pending.expires <= t->now) {
		rc = step_expired(t, &pending);
	} else if (has == 1) {
		rc = continue_step(t, &pending);
	} else if (turn_is_bare_code(t->in->text)) {
		/* A code typed when none is expected (voided, or from another conversation): not
		 * kept, and the same answer as a code that ran out. */
		code_exhausted(t);
		rc = 1;
	} else {
		rc = 0;
	}
	chat_action_clear(&pending);
	return rc;
}
