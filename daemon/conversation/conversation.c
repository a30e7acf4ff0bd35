/* conversation — see conversation.h. */
#include "autoconf.h"
#include "conversation/conversation.h"
#include "conversation/route.h"
#include "outbox/notify.h"
#include "store/audit.h"
#include "engine/dialog.h"
#include "engine/engine.h"
#include "engine/intent.h"
#include "formats/mail_compose.h"
#include "outbox/outbound.h"
#include "store/store.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The audit's name of each operation. */
#define AUDIT_TAKE "thread_take"
#define AUDIT_RELEASE "thread_release"
#define AUDIT_RESOLVE "thread_resolve"
#define AUDIT_REPLY "thread_reply"
#define AUDIT_NOTE "thread_note"
#define AUDIT_LABEL "message_label"

/* Records an operation's audit row (subject: what it was done to) and commits, or rolls
 * back on any failure. */
static enum conversation_result
finish_subject(struct store *st, int changed, const char *subject, const char *person, const char *action)
{
	if (changed < 0 ||
	    store_audit_add(st, "console", person, action, subject, audit_code(changed > 0 ? AUDIT_DONE : AUDIT_REFUSED)) < 0 ||
	    store_commit(st) < 0) {
		store_rollback(st);
		return CONVERSATION_STORE_ERROR;
	}
	return changed > 0 ? CONVERSATION_DONE : CONVERSATION_REFUSED;
}

/* The same for an operation on a thread. */
static enum conversation_result
finish(struct store *st, int changed, int64_t thread_id, const char *person, const char *action)
{
	char subject[24];
	snprintf(subject, sizeof(subject), "%lld", (long long)thread_id);
	return finish_subject(st, changed, subject, person, action);
}

/* One change of hands: the store decides whether it may happen (a conditional update),
 * in a transaction of its own with the audit row. */
static enum conversation_result
hand(struct store *st, int64_t thread_id, const char *person, const char *action,
     int (*change)(struct store *, int64_t, const char *, bool), bool from_another)
{
	if (person == NULL || *person == '\0')
		return CONVERSATION_REFUSED;
	if (store_begin(st) < 0)
		return CONVERSATION_STORE_ERROR;
	return finish(st, change(st, thread_id, person, from_another), thread_id, person, action);
}

static int
release(struct store *st, int64_t thread_id, const char *person, bool unused)
{
	(void)unused;
	return store_thread_release(st, thread_id, person);
}

static int
resolve(struct store *st, int64_t thread_id, const char *person, bool unused)
{
	(void)unused;
	return store_thread_resolve(st, thread_id, person);
}

enum conversation_result
conversation_take(struct store *st, int64_t thread_id, const char *person, bool from_another)
{
	return hand(st, thread_id, person, AUDIT_TAKE, store_thread_take, from_another);
}

enum conversation_result
conversation_release(struct store *st, int64_t thread_id, const char *person)
{
	return hand(st, thread_id, person, AUDIT_RELEASE, release, false);
}

enum conversation_result
conversation_resolve(struct store *st, int64_t thread_id, const char *person)
{
	return hand(st, thread_id, person, AUDIT_RESOLVE, resolve, false);
}

/* The Message-IDs of a thread's mail, oldest first, for References; the last inbound
 * one for In-Reply-To. */
struct thread_ids {
	char *ids[20];          /* the latest 20: enough for any client to thread it */
	size_t count;
	char *last_inbound;
};

static int
collect_id(const struct message_row *m, int64_t at, void *user)
{
	(void)at;
	struct thread_ids *t = user;
	if (m->message_id == NULL || *m->message_id == '\0')
		return 0;
	if (t->count == sizeof(t->ids) / sizeof(*t->ids)) {
		free(t->ids[0]);
		memmove(t->ids, t->ids + 1, (t->count - 1) * sizeof(*t->ids));
		t->count--;
	}
	t->ids[t->count++] = xstrdup(m->message_id);
	if (strcmp(m->direction, "in") == 0) {
		free(t->last_inbound);
		t->last_inbound = xstrdup(m->message_id);
	}
	return 0;
}

static void
thread_ids_clear(struct thread_ids *t)
{
	for (size_t i = 0; i < t->count; i++)
		free(t->ids[i]);
	free(t->last_inbound);
}

int
conversation_mail_in_thread(const struct sender_identity *sender, const struct engine *e, struct store *st,
			    const struct thread_row *thread, enum outbox_kind kind, const char *author, const char *text)
{
	struct thread_ids ids = {0};
	if (store_messages_each(st, thread->id, collect_id, &ids) < 0) {
		thread_ids_clear(&ids);
		return -1;
	}
	/* The writer's subject may be a stranger's words (a forged From): never repeated. */
	char *neutral = template_render(e->templates, "mail_reply_subject_neutral", OUTPUT_TEXT, NULL, 0);
	char *subject = mail_reply_subject("", neutral);
	free(neutral);
	/* A person's words go as written (their greeting, their signature) with a line of
	 * ours; the assistant's envelope would call them an automatic answer. */
	struct template_var var = { "text", text, false };
	char *body = kind == OUTBOX_PERSON ? template_render(e->templates, "mail_person_reply", OUTPUT_TEXT, &var, 1)
					   : dialog_mail_envelope(e, text, "", OUTPUT_TEXT);
	struct outbound o = {
		.thread_id = thread->id, .kind = kind, .to = thread->requester, .subject = subject,
		.body = body, .author = author, .in_reply_to = ids.last_inbound,
		.references = (const char *const *)ids.ids, .reference_count = ids.count,
	};
	int rc = outbound_queue(sender, st, &o);
	free(body);
	free(subject);
	thread_ids_clear(&ids);
	return rc;
}

/* The answer as the chat's next line (the chat channel delivers what the thread holds). */
/* The chat's next line; also a mail to the address the visitor proved for answers
 * (turn_address.c), so that a visitor who left gets it. */
static int
reply_by_chat(const struct sender_identity *sender, const struct engine *e, struct store *st,
	      const struct thread_row *thread, const char *person, const char *text)
{
	struct message_row out = {
		.thread_id = thread->id, .direction = "out", .sender = person, .recipient = thread->requester,
		.body = text, .decision = outbox_kind_name(OUTBOX_PERSON),
	};
	if (store_message_add(st, &out) < 0)
		return -1;
	bool answers = false, failed = false;
	char *address = store_chat_thread_email(st, thread->id, &answers, &failed);
	int rc = failed || (address != NULL && answers && (e == NULL || sender == NULL)) ? -1 : 1;
	if (rc == 1 && address != NULL && answers) {
		struct template_var var = { "text", text, false };
		char *body = template_render(e->templates, "chat_answer_mail", OUTPUT_TEXT, &var, 1);
		char *subject = template_render(e->templates, "chat_answer_mail_subject", OUTPUT_TEXT, NULL, 0);
		str_trim(subject);
		/* The thread has the answer already (the line above): the mail is not kept twice,
		 * or the chat would show it as a second line. */
		struct outbound o = { .thread_id = thread->id, .kind = OUTBOX_PERSON, .to = address, .subject = subject,
				      .body = body, .no_history = true, .author = person };
		if (outbound_queue(sender, st, &o) < 0)
			rc = -1;
		free(body);
		free(subject);
	}
	free(address);
	return rc;
}

enum conversation_result
conversation_reply(const struct sender_identity *sender, const struct engine *e, struct store *st,
		   int64_t thread_id, const char *person, const char *text)
{
	if (person == NULL || *person == '\0' || text == NULL || text[strspn(text, " \t\r\n")] == '\0')
		return CONVERSATION_REFUSED;
	if (store_begin(st) < 0)
		return CONVERSATION_STORE_ERROR;
	struct thread_row thread = {0};
	int got = store_thread_get(st, thread_id, &thread);
	int rc = got;
	if (got == 1 && (thread.owner != OWNER_PERSON || strcmp(thread.owner_person, person) != 0))
		rc = 0;  /* only who holds the thread answers in it */
	else if (got == 1 && strcmp(thread.channel, "mail") == 0)
		rc = conversation_mail_in_thread(sender, e, st, &thread, OUTBOX_PERSON, person, text);
	else if (got == 1)
		rc = reply_by_chat(sender, e, st, &thread, person, text);
	/* What was said is in the thread: the thread is the person's, answered. */
	if (rc > 0 && store_thread_update(st, thread_id, THREAD_ANSWERED, NULL, NULL) < 0)
		rc = -1;
	thread_row_clear(&thread);
	return finish(st, rc, thread_id, person, AUDIT_REPLY);
}

enum conversation_result
conversation_note(struct store *st, int64_t thread_id, const char *person, const char *text)
{
	if (person == NULL || *person == '\0' || text == NULL || text[strspn(text, " \t\r\n")] == '\0')
		return CONVERSATION_REFUSED;
	if (store_begin(st) < 0)
		return CONVERSATION_STORE_ERROR;
	struct thread_row thread = {0};
	int rc = store_thread_get(st, thread_id, &thread);
	thread_row_clear(&thread);
	struct message_row note = { .thread_id = thread_id, .direction = CONVERSATION_NOTE, .sender = person,
				    .body = text, .decision = CONVERSATION_NOTE };
	if (rc == 1 && store_message_add(st, &note) < 0)
		rc = -1;
	return finish(st, rc, thread_id, person, AUDIT_NOTE);
}

enum conversation_result
conversation_label(struct store *st, int64_t message_id, const char *intent, const char *audience, const char *person,
		   int64_t now)
{
	bool known = false;
	for (size_t i = 0; intent != NULL && !known && i < intent_spec_count(); i++)
		known = strcmp(intent_spec_id(i), intent) == 0;
	bool audience_ok = audience == NULL || strcmp(audience, "entreprise") == 0 || strcmp(audience, "organisme") == 0;
	if (!known || !audience_ok || person == NULL || *person == '\0')
		return CONVERSATION_REFUSED;
	if (store_begin(st) < 0)
		return CONVERSATION_STORE_ERROR;
	char subject[40];
	snprintf(subject, sizeof(subject), "message %lld", (long long)message_id);
	return finish_subject(st, store_label_set(st, message_id, intent, audience, person, now), subject, person,
			      AUDIT_LABEL);
}

int
conversation_notify_hand_over(const struct notify_settings *settings, struct store *store, const struct engine *engine,
			      int64_t thread_id, enum escalation_reason reason, bool over_limit)
{
	char *motive = template_render(engine->templates, route_notify_motive(reason, over_limit), OUTPUT_TEXT, NULL, 0);
	int rc = notify_correspondants(settings, store, engine, thread_id, motive, 0);
	free(motive);
	return rc;
}
