/* turn_address — an address a chat visitor wants something sent to: this conversation
 * (« Recevoir cette conversation par mail », the widget's transcript frame), or a
 * correspondant's answers after a hand-over (the quick reply « Recevoir la réponse par
 * mail »). Nothing is ever mailed to an address typed in a chat before its holder proves
 * it: the assistant asks for it, mails it a one-time code, and only the code typed back
 * makes it the conversation's address (chat_conversations.email). Then the transcript
 * goes to it, or the answers also do (conversation_reply). The address is the visitor's
 * own word about themselves: no account, no directory is involved, so this says nothing
 * about anyone. Limits: ADDRESS_CODES_PER_HOUR codes per visitor and per address, the
 * wrong-code limits of action_code_check. Runs before the thread's owner is asked, so
 * that a visitor whose thread a person holds can still leave an address. */
#include "autoconf.h"
#include "conversation/turn_internal.h"
#include "accounts/account_actions.h"
#include "core/text.h"
#include "core/util.h"
#include "directory/request_fields.h"
#include "outbox/outbound.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#define ADDRESS_ACTION "verify_address"
#define FOR_TRANSCRIPT "transcript"
#define FOR_ANSWERS "answers"
/* Codes mailed in an hour to the addresses one visitor types, and to one address. */
#define ADDRESS_CODES_PER_HOUR 3
/* The question (which address?) is forgotten after this. */
#define ADDRESS_STEP_TTL 1800

/* The assistant's line: the thread keeps its state (a thread waiting for a person still
 * waits). Takes text. */
static void
say(struct turn *t, char *text)
{
	turn_decide(t, TURN_ANSWERED, THREAD_ANSWERED, NULL, NULL);
	t->change_state = false;
	turn_reply(t, OUTBOX_REPLY, text);
}

static char *
render_address(struct turn *t, const char *name, const char *address)
{
	struct template_var var = { "address", address, false };
	return turn_render(t, name, &var, 1);
}

static int
put_step(struct turn *t, const char *step, const char *purpose, const char *email, const char *hash, int64_t ttl)
{
	struct chat_action c = {
		.thread_id = t->thread_id, .action = ADDRESS_ACTION, .step = (char *)step, .subject = (char *)purpose,
		.email = (char *)email, .code_hash = (char *)hash, .expires = t->now + ttl,
	};
	return store_chat_action_put(t->st, &c);
}

struct transcript {
	const struct turn *t;
	struct strbuf lines;
};

static int
transcript_line(const struct message_row *m, int64_t at, void *user)
{
	(void)at;
	struct transcript *tr = user;
	bool in = strcmp(m->direction, "in") == 0;
	const char *decision = m->decision ? m->decision : "";
	const char *name = in ? "transcript_line_visitor" : strcmp(decision, "chat") == 0 ? "transcript_line_bot" :
			   strcmp(decision, outbox_kind_name(OUTBOX_PERSON)) == 0 ? "transcript_line_person" : NULL;
	if (name == NULL || m->body == NULL)
		return 0;  /* a notification, a mail to an address: not the conversation */
	struct template_var var = { "text", m->body, false };
	char *line = turn_render(tr->t, name, &var, 1);
	if (tr->lines.len > 0)
		strbuf_adds(&tr->lines, "\n\n");
	strbuf_adds(&tr->lines, line);
	free(line);
	return 0;
}

/* The conversation as the thread keeps it (codes and links already removed), mailed to
 * address in the thread. */
static int
send_transcript(struct turn *t, const char *address)
{
	struct transcript tr = { .t = t };
	if (store_messages_each(t->st, t->thread_id, transcript_line, &tr) < 0) {
		free(tr.lines.data);
		return -1;
	}
	struct template_var var = { "lines", tr.lines.data ? tr.lines.data : "", false };
	char *body = turn_render(t, "transcript_mail", &var, 1);
	char *subject = turn_render(t, "transcript_mail_subject", NULL, 0);
	str_trim(subject);
	struct outbound o = { .thread_id = t->thread_id, .kind = OUTBOX_ACTION, .to = address, .subject = subject,
			      .body = body, .history_body = subject };
	int q = outbound_queue(&t->s->actions->notify.sender, t->st, &o);
	free(body);
	free(subject);
	free(tr.lines.data);
	if (q > 0)
		t->r->queued++;
	if (q >= 0)
		say(t, render_address(t, "chat_transcript_sent", address));
	return q < 0 ? -1 : 0;
}

/* What the visitor asked for, once address is theirs. */
static int
address_proven(struct turn *t, const char *purpose, const char *address)
{
	bool answers = strcmp(purpose, FOR_ANSWERS) == 0;
	if (store_chat_thread_set_email(t->st, t->thread_id, address, answers) < 0)
		return -1;
	if (!answers)
		return send_transcript(t, address);
	say(t, render_address(t, "chat_address_answers", address));
	return 0;
}

/* The visitor wants purpose: sent at once to the address proven earlier, else asked for. */
static int
start(struct turn *t, const char *purpose)
{
	bool answers = false, failed = false;
	char *address = store_chat_thread_email(t->st, t->thread_id, &answers, &failed);
	int rc = failed ? -1 : 0;
	if (rc == 0 && address != NULL) {
		rc = address_proven(t, purpose, address);
	} else if (rc == 0) {
		rc = put_step(t, "email", purpose, NULL, NULL, ADDRESS_STEP_TTL);
		say(t, turn_render(t, strcmp(purpose, FOR_ANSWERS) == 0 ? "chat_ask_address_answers"
									 : "chat_ask_address_transcript", NULL, 0));
	}
	free(address);
	return rc;
}

/* An address typed: a code is mailed to it, under the hourly limits. */
static int
address_given(struct turn *t, const char *purpose, const char *address)
{
	int64_t since = t->now - 3600;
	int64_t by_visitor = store_audit_count(t->st, t->in->requester.name, ACTION_ADDRESS_CODE, since);
	int64_t to_address = store_audit_count_subject(t->st, ACTION_ADDRESS_CODE, address, audit_code(AUDIT_CODE_SENT), since);
	if (by_visitor < 0 || to_address < 0)
		return -1;
	if (by_visitor >= ADDRESS_CODES_PER_HOUR || to_address >= ADDRESS_CODES_PER_HOUR) {
		say(t, turn_render(t, "chat_address_limit", NULL, 0));
		return store_chat_action_delete(t->st, t->thread_id);
	}
	struct actor actor = turn_actor(t);
	char *hash = NULL;
	if (action_address_code_send(&actor, address, &hash) < 0)
		return -1;
	t->r->queued += actor.queued;
	int rc = 0;
	if (hash == NULL) {  /* not an address a mail can go to */
		say(t, render_address(t, "chat_address_unusable", address));
	} else {
		rc = put_step(t, "code", purpose, address, hash, (int64_t)t->s->actions->code_ttl);
		char *minutes = xasprintf("%lu", t->s->actions->code_ttl / 60);
		struct template_var vars[] = { { "address", address, false }, { "minutes", minutes, false } };
		say(t, turn_render(t, "chat_address_code_sent", vars, 2));
		free(minutes);
	}
	free(hash);
	return rc;
}

/* A code typed for the address of the step. */
static int
code_given(struct turn *t, struct chat_action *c, const char *code)
{
	int rc = turn_code_typed(t, c, code, say);
	if (rc != 1)
		return rc;
	if (store_audit_add(t->st, "chat", t->in->requester.name, ACTION_ADDRESS_CODE, c->email,
			    audit_code(AUDIT_CODE_ACCEPTED)) < 0 ||
	    store_chat_action_delete(t->st, t->thread_id) < 0)
		return -1;
	return address_proven(t, c->subject, c->email);
}

/* The message read against the address step waiting. 1: it was the answer, 0: not. */
static int
continue_step(struct turn *t, struct chat_action *c)
{
	if (turn_is_cancel(t->in->text)) {
		say(t, turn_render(t, "chat_cancelled", NULL, 0));
		return store_chat_action_delete(t->st, t->thread_id) < 0 ? -1 : 1;
	}
	if (c->step != NULL && strcmp(c->step, "code") == 0) {
		char code[ACTION_CODE_SIZE];
		if (!turn_typed_code(t->in->text, code))
			return 0;
		return code_given(t, c, code) < 0 ? -1 : 1;
	}
	char *address = field_email(t->in->text);
	if (address == NULL)
		return 0;
	int rc = address_given(t, c->subject ? c->subject : FOR_TRANSCRIPT, address);
	free(address);
	return rc < 0 ? -1 : 1;
}

/* Whether text is the quick reply that asks for a person's answers by mail. */
static bool
asks_answers_by_mail(const struct turn *t)
{
	char *label = turn_render(t, "chat_offer_answers_by_mail", NULL, 0);
	const char *text = t->in->text;
	char *a = text_fold(label, strlen(label), NULL), *b = text_fold(text, strlen(text), NULL);
	bool same = strcmp(a, b) == 0;
	free(label);
	free(a);
	free(b);
	return same;
}

int
turn_address(struct turn *t)
{
	if (t->in->channel != CHANNEL_CHAT)
		return 0;
	if (t->in->transcript)
		return start(t, FOR_TRANSCRIPT) < 0 ? -1 : 1;
	struct chat_action pending = {0};
	int has = t->thread.id != 0 ? store_chat_action_get(t->st, t->thread_id, &pending) : 0;
	int rc = has < 0 ? -1 : 0;
	if (has == 1 && pending.action != NULL && strcmp(pending.action, ADDRESS_ACTION) == 0) {
		if (pending.expires > t->now)
			rc = continue_step(t, &pending);
		else if (store_chat_action_delete(t->st, t->thread_id) < 0)
			rc = -1;
	}
	if (rc == 0 && asks_answers_by_mail(t))
		rc = start(t, FOR_ANSWERS) < 0 ? -1 : 1;
	chat_action_clear(&pending);
	return rc;
}

char *
turn_answers_offer(const struct turn *t)
{
	bool answers = false, failed = false;
	char *address = t->thread_id != 0 ? store_chat_thread_email(t->st, t->thread_id, &answers, &failed) : NULL;
	free(address);
	if (failed || answers)
		return NULL;
	char *label = turn_render(t, "chat_offer_answers_by_mail", NULL, 0);
	str_trim(label);
	return label;
}
