/* chat_session — see chat_session.h. */
#include "autoconf.h"
#include "chat/chat_session.h"
#include "accounts/account_actions.h"
#include "core/limit_window.h"
#include "directory/directory.h"
#include "formats/dossier_number.h"
#include "engine/engine.h"
#include "conversation/conversation.h"
#include "conversation/route.h"
#include "directory/request_fields.h"
#include "store/store.h"
#include "core/text.h"
#include "engine/template.h"
#include "core/util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A question the assistant asked (number, address...) is forgotten after this. */
#define STEP_TTL 1800
#define SUBJECT_MAX 80

struct chat_session {
	const struct action_settings *s;
	struct store *st;
	struct directory *dir;
	char *visitor;
	int64_t thread_id;
	struct conversation conv;
};

/* One turn in progress. */
struct turn {
	struct chat_session *cs;
	const struct engine *e;
	const char *text;
	int64_t now;
	bool redact;            /* the visitor's message holds a code: not kept as typed */
	bool not_the_bots;      /* a correspondant holds the thread: the bot is quiet */
	struct thread_row thread;       /* the thread as the turn began (read once) */
	enum thread_state state;
	const char *intent;
	const char *reason;     /* set when the thread goes to a person */
	enum escalation_reason escalation;  /* ... and why, for the correspondants */
	char *reason_owned;     /* reason's storage when it is built */
};

struct chat_session *
chat_session_new(const struct action_settings *s, struct store *st, struct directory *dir, const char *visitor)
{
	struct chat_session *cs = xcalloc(1, sizeof(*cs));
	cs->s = s;
	cs->st = st;
	cs->dir = dir;
	cs->visitor = xstrdup(visitor ? visitor : "chat");
	return cs;
}

struct chat_session *
chat_session_resume(const struct action_settings *s, struct store *st, struct directory *dir, const char *visitor,
		    int64_t thread_id)
{
	struct chat_session *cs = chat_session_new(s, st, dir, visitor);
	cs->thread_id = thread_id;
	return cs;
}

void
chat_session_free(struct chat_session **csp)
{
	if (*csp == NULL)
		return;
	free((*csp)->visitor);
	free(*csp);
	*csp = NULL;
}

int64_t
chat_session_thread(const struct chat_session *cs)
{
	return cs->thread_id;
}

static char *
render(const struct turn *t, const char *name, const struct template_var *vars, size_t n)
{
	return template_render(t->e->templates, name, OUTPUT_TEXT, vars, n);
}

/* The chat's requester is the visitor (an address typed in a chat proves nothing): the
 * per-requester limits count the visitor; the per-account ones protect the holders. */
static struct actor
actor_for(struct turn *t)
{
	return (struct actor){
		.s = t->cs->s, .st = t->cs->st, .dir = t->cs->dir, .e = t->e, .channel = "chat",
		.requester = t->cs->visitor, .thread_id = t->cs->thread_id,
	};
}

/* The directory could not answer: the thread goes to a person; the visitor is told. */
static char *
unavailable(struct turn *t)
{
	t->state = THREAD_ESCALATED;
	/* The operator's reason: which call failed and why (the visitor sees none of it). */
	free(t->reason_owned);
	t->reason_owned = xasprintf("an account action could not run: %s", directory_error(t->cs->dir));
	t->reason = t->reason_owned;
	t->escalation = REASON_UNAVAILABLE;
	struct analysis a = { .decision = DECISION_ESCALATE, .reason = REASON_UNAVAILABLE };
	return dialog_answer(t->e, &a, CHANNEL_CHAT, OUTPUT_TEXT);
}

/* What the assistant asked for and waits for in the visitor's next message. The store
 * keeps the name (chat_actions.step). */
enum chat_step { STEP_UNKNOWN, STEP_CONTACT, STEP_ACCOUNT, STEP_NUMBER, STEP_EMAIL, STEP_CODE };
static const char *const step_names[] = { "", "contact", "account", "number", "email", "code" };

/* The step of a stored action; STEP_UNKNOWN for a name this dialogd does not know. */
static enum chat_step
step_of(const struct chat_action *c)
{
	int step = NAME_INDEX(step_names, c->step);
	return step <= 0 ? STEP_UNKNOWN : (enum chat_step)step;
}

static int
put_step(struct turn *t, enum account_action action, enum chat_step step, const char *subject, const char *email,
	 const char *code_hash, int64_t ttl)
{
	struct chat_action c = {
		.thread_id = t->cs->thread_id, .action = (char *)account_action_name(action),
		.step = (char *)step_names[step], .subject = (char *)subject,
		.email = (char *)email, .code_hash = (char *)code_hash, .expires = t->now + ttl,
	};
	return store_chat_action_put(t->cs->st, &c);
}

/* Runs a reminder or a reset for what the visitor typed; *reply_r set when it ran (or
 * could not), left NULL when the text holds nothing usable. Returns 0 or -1. */
static int
run_account_action(struct turn *t, enum account_action action, const char *text, bool alone, char **reply_r)
{
	bool reset = action == ACCOUNT_PASSWORD_RESET;
	char siret[15];
	char *email = field_email(text);
	char *identifier = reset && email == NULL ? field_identifier(text, alone) : NULL;
	bool by_siret = !reset && email == NULL && field_siret(text, siret);
	if (email == NULL && identifier == NULL && !by_siret)
		return 0;
	struct actor actor = actor_for(t);
	const char *by = email ? "email" : identifier ? "identifier" : "siret";
	const char *value = email ? email : identifier ? identifier : siret;
	int rc = reset ? action_password_reset(&actor, by, value) : action_identifier_reminder(&actor, by, value);
	free(email);
	free(identifier);
	if (rc < 0 && rc != DIRECTORY_UNAVAILABLE)
		return -1;
	if (store_chat_action_delete(t->cs->st, t->cs->thread_id) < 0)
		return -1;
	t->intent = account_action_name(action);  /* the intents of these actions bear their names */
	if (rc == DIRECTORY_UNAVAILABLE) {
		*reply_r = unavailable(t);
		return 0;
	}
	char *minutes = xasprintf("%lu", t->cs->s->reset_ttl / 60);
	struct template_var var = { "minutes", minutes, false };
	*reply_r = render(t, reset ? "chat_reset_done" : "chat_reminder_done", &var, 1);
	free(minutes);
	return 0;
}

/* The visitor gave an address for a dossier's status: a code goes to it when it is on
 * file for the dossier (and no limit is reached); the reply is the same either way. */
static int
send_code(struct turn *t, const char *number, const char *email, char **reply_r)
{
	const struct action_settings *s = t->cs->s;
	struct store *st = t->cs->st;
	/* Limits: the visitor's look-ups, and the codes actually sent to the address or for
	 * the dossier (look-ups by others that sent nothing must not lock the holder out). */
	int64_t by_visitor = store_audit_count(st, t->cs->visitor, "dossier_status", limit_window_start(t->now));
	int64_t to_address = store_audit_count_subject(st, "one_time_code", email, audit_code(AUDIT_CODE_SENT), limit_window_start(t->now));
	int64_t for_dossier = store_audit_count_subject(st, "dossier_status", number, audit_code(AUDIT_CODE_SENT), limit_window_start(t->now));
	if (by_visitor < 0 || to_address < 0 || for_dossier < 0)
		return -1;
	struct directory_dossier d = {0};
	int found = directory_dossier_get(t->cs->dir, number, &d);
	bool on_file = found == 1 && directory_dossier_has_email(&d, email);
	directory_dossier_clear(&d);
	if (found < 0 && found != DIRECTORY_UNAVAILABLE)
		return -1;
	struct actor actor = actor_for(t);
	bool over = by_visitor >= (int64_t)s->status_limit || to_address >= (int64_t)s->status_limit ||
		    for_dossier >= (int64_t)s->status_limit;
	const char *outcome = found == DIRECTORY_UNAVAILABLE ? audit_code(AUDIT_DIRECTORY_UNAVAILABLE)
			      : over                          ? audit_code(AUDIT_STATUS_LIMIT)
			      : on_file                       ? audit_code(AUDIT_CODE_SENT)
			      : found == 1                    ? audit_code(AUDIT_STATUS_NOT_ON_FILE)
							      : audit_code(AUDIT_NO_DOSSIER);
	if (store_audit_add(st, "chat", t->cs->visitor, "dossier_status", number, outcome) < 0)
		return -1;
	if (found == DIRECTORY_UNAVAILABLE) {
		*reply_r = unavailable(t);
		return store_chat_action_delete(st, t->cs->thread_id);
	}
	char *hash = NULL;
	if (action_code_send(&actor, email, on_file && !over, &hash) < 0)
		return -1;
	int rc = put_step(t, ACCOUNT_DOSSIER_STATUS, STEP_CODE, number, email, hash, (int64_t)s->code_ttl);
	free(hash);
	char *minutes = xasprintf("%lu", s->code_ttl / 60);
	struct template_var var = { "minutes", minutes, false };
	*reply_r = render(t, "chat_code_sent", &var, 1);
	free(minutes);
	return rc;
}

/* A code typed while one is expected. */
static int
check_code(struct turn *t, struct chat_action *c, const char *code, char **reply_r)
{
	struct store *st = t->cs->st;
	t->redact = true;
	t->intent = "dossier_status";
	struct actor actor = actor_for(t);
	struct code_flow flow = { .email = c->email, .hash = c->code_hash, .attempts = c->attempts };
	int remaining = 0;
	int verdict = action_code_check(&actor, &flow, code, &remaining);
	if (verdict < 0)
		return -1;
	c->attempts++;
	if (verdict == CODE_ACCEPTED) {
		struct directory_dossier d = {0};
		int found = directory_dossier_get(t->cs->dir, c->subject, &d);
		if (found < 0 && found != DIRECTORY_UNAVAILABLE)
			return -1;
		if (store_audit_add(st, "chat", t->cs->visitor, "one_time_code_check", c->email,
				    found == 1 ? audit_code(AUDIT_CODE_ACCEPTED) : audit_code(AUDIT_CODE_ACCEPTED_UNAVAILABLE)) < 0 ||
		    store_chat_action_delete(st, c->thread_id) < 0) {
			directory_dossier_clear(&d);
			return -1;
		}
		if (found != 1) {
			/* Found when the code was sent; gone or unreachable now: a person answers. */
			*reply_r = unavailable(t);
		} else {
			char *status = action_dossier_status_text(t->e, &d, t->cs->conv.audience);
			struct template_var var = { "status", status, true };
			*reply_r = render(t, "chat_status", &var, 1);
			free(status);
		}
		directory_dossier_clear(&d);
		return 0;
	}
	if (verdict != CODE_WRONG) {
		/* Spent, over a limit, or every check suspended: one wording for all of them (it
		 * names each cause and the way on), so a reply tells nothing of which, and a
		 * holder typing the right code is never told it is wrong. */
		*reply_r = render(t, "chat_code_exhausted", NULL, 0);
		return store_chat_action_delete(st, c->thread_id);
	}
	char *left = xasprintf("%d", remaining);
	struct template_var var = { "remaining", left, false };
	*reply_r = render(t, "chat_code_wrong", &var, 1);
	free(left);
	return store_chat_action_put(st, c);
}

static bool
is_cancel(const char *text)
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
static bool
typed_code(const char *text, char code[ACTION_CODE_SIZE])
{
	if (field_code(text, code))
		return true;
	if (strlen(text) > 40 || digit_count(text) != ACTION_CODE_DIGITS)
		return false;
	size_t n = 0;
	for (const char *p = text; *p; p++)
		if (*p >= '0' && *p <= '9')
			code[n++] = *p;
	code[ACTION_CODE_DIGITS] = '\0';
	return true;
}

/* A message that is only a one-time code. */
static bool
is_bare_code(const char *text)
{
	char code[ACTION_CODE_SIZE];
	size_t n = strlen(text);
	return n <= 16 && typed_code(text, code) && strspn(text, "0123456789 .-\t") == n;
}

/* The visitor's message read as the answer to what the assistant asked. *reply_r stays
 * NULL when it is not one (a new question: the engine reads it). */
static int
continue_action(struct turn *t, struct chat_action *c, char **reply_r)
{
	if (is_cancel(t->text)) {
		*reply_r = render(t, "chat_cancelled", NULL, 0);
		return store_chat_action_delete(t->cs->st, c->thread_id);
	}
	if (step_of(c) == STEP_CODE) {
		char code[ACTION_CODE_SIZE];
		if (typed_code(t->text, code))
			return check_code(t, c, code, reply_r);
		/* Something else while a code is expected: the engine answers it, but a message
		 * that could hold the code in some other shape (or with a digit missing, or in
		 * the former six-digit shape) is not kept as typed. */
		t->redact = digit_count(t->text) >= 6;
		return 0;
	}
	if (step_of(c) == STEP_NUMBER) {
		char *numbers[1];
		if (dossier_numbers(t->text, numbers, 1) == 0)
			return 0;
		t->intent = "dossier_status";
		int rc = put_step(t, ACCOUNT_DOSSIER_STATUS, STEP_EMAIL, numbers[0], NULL, NULL, STEP_TTL);
		*reply_r = render(t, "chat_ask_email", NULL, 0);
		free(numbers[0]);
		return rc;
	}
	if (step_of(c) == STEP_EMAIL) {
		char *email = field_email(t->text);
		if (email == NULL)
			return 0;
		t->intent = "dossier_status";
		int rc = send_code(t, c->subject, email, reply_r);
		free(email);
		return rc;
	}
	/* STEP_CONTACT (reminder) or STEP_ACCOUNT (reset): the answer may be the bare identifier. */
	enum account_action action = account_action_from_name(c->action);
	enum chat_step step = step_of(c);
	if (!(step == STEP_CONTACT && action == ACCOUNT_IDENTIFIER_REMINDER) &&
	    !(step == STEP_ACCOUNT && action == ACCOUNT_PASSWORD_RESET))
		return 0;  /* a step this dialogd does not know: the engine reads the message */
	return run_account_action(t, action, t->text, true, reply_r);
}

/* The engine's understanding of a new question, and the account actions it starts. */
static int
engine_turn(struct turn *t, struct intent_scratch *scratch, const struct dialog_settings *ds, size_t len,
	    char **reply_r)
{
	struct analysis a;
	char *err = NULL, *reply = NULL;
	int rc = dialog_chat_turn(t->e, scratch, ds, &t->cs->conv, t->text, len, &a, &reply, &err);
	free(err);
	if (rc < 0) {
		*reply_r = reply;
		return 0;
	}
	struct route_context context = { .channel = CHANNEL_CHAT, .in_thread = t->thread.id != 0,
					 .directory = t->cs->dir };
	struct route route = route_decide(&a, &context);
	enum account_action action = route.kind == ROUTE_ACTION ? route.action : ACCOUNT_ACTION_NONE;
	t->intent = a.decision == DECISION_CLARIFY ? NULL : analysis_intent_id(&a);
	rc = 0;
	if (action == ACCOUNT_IDENTIFIER_REMINDER || action == ACCOUNT_PASSWORD_RESET) {
		rc = run_account_action(t, action, t->text, false, reply_r);
		if (rc == 0 && *reply_r == NULL) {
			bool reset = action == ACCOUNT_PASSWORD_RESET;
			rc = put_step(t, action, reset ? STEP_ACCOUNT : STEP_CONTACT, NULL, NULL, NULL, STEP_TTL);
			*reply_r = render(t, reset ? "chat_ask_account" : "chat_ask_contact", NULL, 0);
		}
	} else if (action == ACCOUNT_DOSSIER_STATUS) {
		t->intent = "dossier_status";
		char *numbers[1];
		bool known = dossier_numbers(a.question, numbers, 1) == 1;
		rc = put_step(t, ACCOUNT_DOSSIER_STATUS, known ? STEP_EMAIL : STEP_NUMBER, known ? numbers[0] : NULL, NULL, NULL,
			      STEP_TTL);
		*reply_r = render(t, known ? "chat_ask_email" : "chat_ask_number", NULL, 0);
		if (known)
			free(numbers[0]);
	} else {
		if (route.kind == ROUTE_ESCALATE) {
			t->state = THREAD_ESCALATED;
			t->escalation = route.reason;
			t->reason = route_reason_text(route.reason, CHANNEL_CHAT);
		}
		*reply_r = reply;
		reply = NULL;
	}
	free(reply);
	analysis_clear(&a);
	return rc;
}

/* The conversation's thread, created with the first message. */
static int
ensure_thread(struct turn *t)
{
	if (t->cs->thread_id != 0)
		return 0;
	/* The first line, cut on a UTF-8 boundary. */
	size_t n = strcspn(t->text, "\r\n");
	if (n > SUBJECT_MAX) {
		n = SUBJECT_MAX;
		while (n > 0 && ((unsigned char)t->text[n] & 0xC0) == 0x80)
			n--;
	}
	char *line = xstrndup(t->text, n);
	/* Kept and shown to the correspondants: scrubbed as the message is (a bare code as
	 * the first line is not kept either). */
	char *subject = field_scrub_secrets(t->e->templates, line, is_bare_code(t->text));
	free(line);
	int64_t id = store_thread_create(t->cs->st, "chat", t->cs->visitor, subject, THREAD_OPEN, NULL, NULL);
	free(subject);
	if (id < 0)
		return -1;
	t->cs->thread_id = id;
	return 0;
}

static int
record(struct turn *t, const char *reply)
{
	struct chat_session *cs = t->cs;
	/* A reset link or token pasted in the chat is not kept (nor shown to a person). */
	char *scrubbed = t->redact ? template_render(t->e->templates, "history_message_removed", OUTPUT_TEXT, NULL, 0)
				   : field_scrub_secrets(t->e->templates, t->text, false);
	struct message_row in = {
		.thread_id = cs->thread_id, .direction = "in", .sender = cs->visitor,
		.body = scrubbed,
		.intent = t->intent,
		.decision = t->state == THREAD_ESCALATED ? "escalated" : "answered", .note = t->reason,
	};
	struct message_row out = { .thread_id = cs->thread_id, .direction = "out", .recipient = cs->visitor,
				   .body = reply, .decision = "chat" };
	/* In a thread the bot does not own, only the visitor's words are kept: the person
	 * answers, and the bot's "passed on" is no part of the conversation. */
	int added = store_message_add(cs->st, &in) < 0 || (!t->not_the_bots && store_message_add(cs->st, &out) < 0)
			    ? -1 : 0;
	free(scrubbed);
	if (added < 0 || t->not_the_bots)
		return added;  /* the thread stays as its owner left it */
	/* A thread a person handles stays theirs. */
	const struct thread_row *row = &t->thread;
	bool was_escalated = row->id != 0 && row->state == THREAD_ESCALATED;
	enum thread_state state = was_escalated ? THREAD_ESCALATED : t->state;
	bool newly_escalated = state == THREAD_ESCALATED && !was_escalated;
	const char *intent = t->intent ? t->intent : row->intent;
	int rc = store_thread_update(cs->st, cs->thread_id, state, intent, t->reason);
	if (rc == 0 && newly_escalated) {
		if (conversation_notify_hand_over(&cs->s->notify, cs->st, t->e, cs->thread_id, t->escalation, false) < 0)
			rc = -1;
	}
	return rc;
}

char *
chat_session_turn(struct chat_session *cs, const struct engine *e, struct intent_scratch *scratch,
		  const struct dialog_settings *ds, const char *text, size_t len, char **error_r)
{
	char *err = NULL;
	bool readable = text_validate(text, len, &err) == 0 && strlen(text) == len;
	free(err);
	char *unreadable = readable ? NULL : template_render(e->templates, "history_message_unreadable", OUTPUT_TEXT, NULL, 0);
	struct turn t = { .cs = cs, .e = e, .text = readable ? text : unreadable,
			  .now = (int64_t)time(NULL), .state = THREAD_ANSWERED };
	char *reply = NULL;
	if (store_begin(cs->st) < 0) {
		*error_r = xasprintf("store: %s", store_error(cs->st));
		free(unreadable);
		return NULL;
	}
	int64_t thread_before = cs->thread_id;
	int rc = ensure_thread(&t);
	struct chat_action pending = {0};
	int has = rc == 0 ? store_chat_action_get(cs->st, cs->thread_id, &pending) : 0;
	if (has < 0)
		rc = -1;
	/* Once a correspondant holds the thread, the bot is quiet: the visitor's words are
	 * passed on (an account action waiting for its next step is the person's to finish).
	 * While it only waits in the queue, the bot keeps helping: in a live chat nobody has
	 * joined yet (by mail, a queued thread is already quiet: see mail_channel). */
	if (rc == 0 && store_thread_get(cs->st, cs->thread_id, &t.thread) < 0)
		rc = -1;
	t.not_the_bots = rc == 0 && t.thread.id != 0 && t.thread.owner == OWNER_PERSON;
	if (!readable) {
		reply = render(&t, "invalid_message", NULL, 0);
	} else if (rc == 0 && t.not_the_bots) {
		t.redact = is_bare_code(text) || digit_count(text) >= 6;  /* a code is never shown to a person */
		t.state = THREAD_ESCALATED;
		reply = render(&t, "chat_with_person", NULL, 0);
	} else if (rc == 0 && has == 1 && pending.expires <= t.now) {
		/* Too late: a code typed now meets the same answer as a wrong one at the end. */
		char code[ACTION_CODE_SIZE];
		rc = store_chat_action_delete(cs->st, cs->thread_id);
		if (rc == 0 && step_of(&pending) == STEP_CODE && typed_code(text, code)) {
			t.redact = true;
			reply = render(&t, "chat_code_exhausted", NULL, 0);
		} else if (step_of(&pending) == STEP_CODE) {
			t.redact = digit_count(text) >= 6;  /* as while the code was expected */
		}
	} else if (rc == 0 && has == 1) {
		rc = continue_action(&t, &pending, &reply);
	} else if (rc == 0 && is_bare_code(text)) {
		/* A code typed when none is expected (voided, or from another conversation):
		 * not kept, and the same answer as a code that ran out. */
		t.redact = true;
		reply = render(&t, "chat_code_exhausted", NULL, 0);
	}
	if (rc == 0 && reply == NULL)
		rc = engine_turn(&t, scratch, ds, len, &reply);
	if (rc == 0)
		rc = record(&t, reply);
	if (rc == 0)
		rc = store_commit(cs->st);
	chat_action_clear(&pending);
	thread_row_clear(&t.thread);
	free(t.reason_owned);
	free(unreadable);
	if (rc < 0) {
		*error_r = xasprintf("store: %s", store_error(cs->st));
		store_rollback(cs->st);
		cs->thread_id = thread_before;  /* a thread created in this turn is gone with it */
		free(reply);
		return NULL;
	}
	return reply;
}
