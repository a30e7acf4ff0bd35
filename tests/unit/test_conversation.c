/* Tests of conversation: who owns a thread (the bot, the correspondants' queue, one
 * correspondant), the operations that change hands, and a correspondant's answer on the
 * thread's own channel; real mails through mail_process for the threads. */
#include "autoconf.h"
#include "testutil.h"
#include "testmailsettings.h"
#include "testchannel.h"
#include "chat/chat_session.h"
#include "conversation/conversation.h"
#include "engine/engine.h"
#include "mail/mail_channel.h"
#include "store/store.h"

#include <sqlite3.h>


/* A mail from marie@example.test; in_reply_to NULL for a new thread. */
static struct mail_result
send_mail(struct fixture *f, const char *message_id, const char *in_reply_to, const char *body)
{
	char *raw = xasprintf("From: Marie Durand <marie@example.test>\r\nTo: dialoguer@ocapiat.test\r\n"
			      "Subject: Ma question\r\nMessage-ID: <%s>\r\n%s%s%s"
			      "Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
			      message_id, in_reply_to ? "In-Reply-To: <" : "", in_reply_to ? in_reply_to : "",
			      in_reply_to ? ">\r\n" : "", body);
	struct mail_result r;
	char *err = NULL;
	if (mail_process(&f->settings, f->store, NULL, f->engine, f->scratch, raw, strlen(raw), strlen(raw), &r, &err) < 0)
		fail_msg("mail_process: %s", err);
	free(raw);
	return r;
}

static struct thread_row
thread(struct fixture *f, int64_t id)
{
	struct thread_row t = {0};
	assert_int_equal(store_thread_get(f->store, id, &t), 1);
	return t;
}

static void
assert_owner(struct fixture *f, int64_t id, enum thread_owner owner, const char *person)
{
	struct thread_row t = thread(f, id);
	assert_string_equal(thread_owner_name(t.owner), thread_owner_name(owner));
	if (person != NULL)
		assert_string_equal(t.owner_person, person);
	else
		assert_null(t.owner_person);
	thread_row_clear(&t);
}

/* The outbox rows of kind, and the last one's raw text. */
static unsigned
outbox_of_kind(struct fixture *f, const char *kind, char **raw_r)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	sqlite3_stmt *stmt;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT raw FROM outbox WHERE kind = ? ORDER BY id", -1, &stmt, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(stmt, 1, kind, -1, SQLITE_STATIC);
	unsigned n = 0;
	if (raw_r != NULL)
		*raw_r = NULL;
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		n++;
		if (raw_r != NULL) {
			free(*raw_r);
			*raw_r = xstrdup((const char *)sqlite3_column_text(stmt, 0));
		}
	}
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return n;
}

static unsigned
console_audit(struct fixture *f, const char *action, const char *outcome)
{
	char *sql = xasprintf("SELECT count(*) FROM audit WHERE channel = 'console' AND action = '%s' AND outcome = '%s'",
			      action, outcome);
	unsigned n = query_count(f, sql);
	free(sql);
	return n;
}

#define HANDOFF "Bonjour, je voudrais parler à un conseiller s'il vous plaît."
#define FAQ_QUESTION "Bonjour, comment déposer une facture sur mon dossier ?"

/* Escalation hands the thread to the queue; the bot keeps quiet while it is not its own;
 * a correspondant takes it, another cannot without saying so, the holder answers by mail
 * in the writer's thread (not marked automatic), resolves it, and the bot answers the
 * next question again. */
static void
test_escalated_thread_changes_hands(void **state)
{
	struct fixture *f = *state;
	struct mail_result r = send_mail(f, "q1@example.test", NULL, HANDOFF);
	assert_int_equal(r.outcome, MAIL_ESCALATED);
	int64_t id = r.thread_id;
	mail_result_clear(&r);
	assert_owner(f, id, OWNER_QUEUE, NULL);

	r = send_mail(f, "q2@example.test", "q1@example.test", FAQ_QUESTION);
	assert_int_equal(r.outcome, MAIL_ATTACHED);  /* the queue's, not the bot's */
	mail_result_clear(&r);

	assert_int_equal(conversation_take(f->store, id, "claire", false), CONVERSATION_DONE);
	assert_owner(f, id, OWNER_PERSON, "claire");
	assert_int_equal(conversation_take(f->store, id, "claire", false), CONVERSATION_DONE);  /* already hers */
	assert_int_equal(conversation_take(f->store, id, "marc", false), CONVERSATION_REFUSED);
	assert_owner(f, id, OWNER_PERSON, "claire");
	assert_int_equal(conversation_reply(&f->settings.actions.notify.sender, f->engine, f->store, id, "marc", "Bonjour"),
			 CONVERSATION_REFUSED);
	assert_int_equal(outbox_of_kind(f, "person", NULL), 0);

	r = send_mail(f, "q3@example.test", "q2@example.test", FAQ_QUESTION);
	assert_int_equal(r.outcome, MAIL_ATTACHED);  /* claire's */
	mail_result_clear(&r);

	assert_int_equal(conversation_reply(&f->settings.actions.notify.sender, f->engine, f->store, id, "claire",
					    "Votre facture se dépose depuis l'onglet « Factures » du dossier."),
			 CONVERSATION_DONE);
	char *raw = NULL;
	assert_int_equal(outbox_of_kind(f, "person", &raw), 1);
	assert_contains(raw, "To: <marie@example.test>");
	assert_contains(raw, "In-Reply-To: <q3@example.test>");
	assert_contains(raw, "q1@example.test");       /* References: the whole thread */
	assert_contains(raw, "onglet =C2=AB Factures");  /* quoted-printable */
	assert_lacks(raw, "Auto-Submitted");
	assert_lacks(raw, "Ma question");              /* a neutral subject */
	/* A person's words, signed as a person's: not the assistant's envelope. */
	assert_contains(raw, "Votre conseiller OCAPIAT");
	assert_lacks(raw, "automatique");
	assert_lacks(raw, "Voici la r");
	free(raw);
	struct thread_row t = thread(f, id);
	assert_int_equal(t.state, THREAD_ANSWERED);
	assert_int_equal(t.owner, OWNER_PERSON);
	thread_row_clear(&t);
	/* Answered, but still claire's: the writer's reply is hers too, not the bot's. */
	r = send_mail(f, "q3b@example.test", "q3@example.test", FAQ_QUESTION);
	assert_int_equal(r.outcome, MAIL_ATTACHED);
	mail_result_clear(&r);

	assert_int_equal(conversation_resolve(f->store, id, "marc"), CONVERSATION_REFUSED);
	assert_int_equal(conversation_resolve(f->store, id, "claire"), CONVERSATION_DONE);
	assert_owner(f, id, OWNER_BOT, NULL);
	r = send_mail(f, "q4@example.test", "q3b@example.test", FAQ_QUESTION);
	assert_int_equal(r.outcome, MAIL_ANSWERED);  /* the bot's again */
	mail_result_clear(&r);

	assert_int_equal(console_audit(f, "thread_take", "done"), 2);
	assert_int_equal(console_audit(f, "thread_take", "refused"), 1);
	assert_int_equal(console_audit(f, "thread_reply", "refused"), 1);
	assert_int_equal(console_audit(f, "thread_reply", "done"), 1);
	assert_int_equal(console_audit(f, "thread_resolve", "refused"), 1);
	assert_int_equal(console_audit(f, "thread_resolve", "done"), 1);
}

/* A thread taken from another correspondant only when asked; given back to the bot from
 * the queue or by its holder only; the bot then answers. */
static void
test_take_over_and_release(void **state)
{
	struct fixture *f = *state;
	struct mail_result r = send_mail(f, "h1@example.test", NULL, HANDOFF);
	int64_t id = r.thread_id;
	mail_result_clear(&r);
	assert_int_equal(conversation_take(f->store, id, "claire", false), CONVERSATION_DONE);
	assert_int_equal(conversation_release(f->store, id, "marc"), CONVERSATION_REFUSED);
	assert_int_equal(conversation_take(f->store, id, "marc", true), CONVERSATION_DONE);
	assert_owner(f, id, OWNER_PERSON, "marc");
	assert_int_equal(conversation_release(f->store, id, "claire"), CONVERSATION_REFUSED);
	assert_int_equal(conversation_release(f->store, id, "marc"), CONVERSATION_DONE);
	assert_owner(f, id, OWNER_BOT, NULL);
	struct thread_row t = thread(f, id);
	assert_int_equal(t.state, THREAD_OPEN);
	thread_row_clear(&t);
	assert_int_equal(conversation_release(f->store, id, "marc"), CONVERSATION_REFUSED);  /* the bot's already */
	r = send_mail(f, "h2@example.test", "h1@example.test", FAQ_QUESTION);
	assert_int_equal(r.outcome, MAIL_ANSWERED);
	mail_result_clear(&r);

	/* From the queue, anyone may give it back. */
	r = send_mail(f, "h3@example.test", NULL, HANDOFF);
	int64_t queued = r.thread_id;
	mail_result_clear(&r);
	assert_owner(f, queued, OWNER_QUEUE, NULL);
	assert_int_equal(conversation_release(f->store, queued, "claire"), CONVERSATION_DONE);
	assert_owner(f, queued, OWNER_BOT, NULL);
}

/* Two consoles on two connections take the same thread: one gets it. */
static void
test_two_correspondants_take_at_once(void **state)
{
	struct fixture *f = *state;
	struct mail_result r = send_mail(f, "c1@example.test", NULL, HANDOFF);
	int64_t id = r.thread_id;
	mail_result_clear(&r);
	char *err = NULL;
	struct store *other = store_open(f->db, &err);
	assert_non_null(other);
	assert_int_equal(conversation_take(other, id, "marc", false), CONVERSATION_DONE);
	assert_int_equal(conversation_take(f->store, id, "claire", false), CONVERSATION_REFUSED);
	store_close(&other);
	assert_owner(f, id, OWNER_PERSON, "marc");
}

/* A chat thread: the answer is its next line, in the thread; no mail. Bad arguments and
 * missing threads are refused. */
static void
test_chat_reply_and_refusals(void **state)
{
	struct fixture *f = *state;
	int64_t id = store_thread_create(f->store, "chat", "203.0.113.7", "Conversation", THREAD_ESCALATED, NULL,
					 "the visitor asks for a person");
	assert_true(id > 0);
	assert_owner(f, id, OWNER_QUEUE, NULL);
	assert_int_equal(conversation_take(f->store, id, "claire", false), CONVERSATION_DONE);
	assert_int_equal(conversation_reply(&f->settings.actions.notify.sender, f->engine, f->store, id, "claire", "  \r\n\t"),
			 CONVERSATION_REFUSED);
	assert_int_equal(conversation_reply(&f->settings.actions.notify.sender, f->engine, f->store, id, "claire",
					    "Je regarde votre dossier."), CONVERSATION_DONE);
	assert_int_equal(outbox_of_kind(f, "person", NULL), 0);
	struct thread_row t = thread(f, id);
	assert_int_equal(t.messages, 1);
	thread_row_clear(&t);
	assert_int_equal(conversation_take(f->store, 999999, "claire", false), CONVERSATION_REFUSED);
	assert_int_equal(conversation_reply(&f->settings.actions.notify.sender, f->engine, f->store, 999999, "claire", "x"),
			 CONVERSATION_REFUSED);
	assert_int_equal(conversation_take(f->store, id, "", false), CONVERSATION_REFUSED);
	assert_int_equal(conversation_resolve(f->store, id, NULL), CONVERSATION_REFUSED);
}

/* One visitor's line through the chat; the reply (caller frees). */
static char *
chat_say(struct fixture *f, struct chat_session *cs, const char *text)
{
	char *err = NULL;
	char *reply = chat_session_turn(cs, f->engine, f->scratch, &f->settings.dialog, text, strlen(text), &err);
	if (reply == NULL)
		fail_msg("chat_session_turn: %s", err);
	unsigned queued;
	if (chat_session_after_reply(cs, f->engine, &queued, &err) < 0)
		fail_msg("chat_session_after_reply: %s", err);
	return reply;
}

static unsigned
messages_of(struct fixture *f, int64_t thread, const char *direction)
{
	char *sql = xasprintf("SELECT count(*) FROM messages WHERE thread_id = %lld AND direction = '%s'",
			      (long long)thread, direction);
	unsigned n = query_count(f, sql);
	free(sql);
	return n;
}

/* A live chat: escalated, it waits in the queue and the bot still helps; once a
 * correspondant takes it the bot is quiet (the visitor's words are kept for the person,
 * a code never), the person's answer is the next line; resolved, the bot answers again. */
static void
test_chat_handed_to_a_person_and_back(void **state)
{
	struct fixture *f = *state;
	struct chat_session *cs = chat_session_new(&f->settings.actions, f->store, NULL, "203.0.113.9");
	free(chat_say(f, cs, "je veux parler à un conseiller"));
	int64_t id = chat_session_thread(cs);
	assert_owner(f, id, OWNER_QUEUE, NULL);
	/* The correspondants are told why, as for a mail (route_notify_motive). */
	char *notice = NULL;
	assert_int_equal(outbox_of_kind(f, "notify", &notice), 1);
	assert_contains(notice, "demandeur souhaite");
	free(notice);
	char *reply = chat_say(f, cs, "comment déposer une facture ?");
	assert_lacks(reply, "transmis au conseiller OCAPIAT qui suit");  /* nobody has joined yet */
	free(reply);

	assert_int_equal(conversation_take(f->store, id, "claire", false), CONVERSATION_DONE);
	unsigned in = messages_of(f, id, "in"), out = messages_of(f, id, "out");
	reply = chat_say(f, cs, "je suis toujours là, mon code est 1234 5678");
	assert_contains(reply, "transmis au conseiller OCAPIAT qui suit votre demande");
	free(reply);
	assert_int_equal(messages_of(f, id, "in"), in + 1);
	assert_int_equal(messages_of(f, id, "out"), out);        /* the bot's words are not the conversation */
	assert_int_equal(conversation_reply(&f->settings.actions.notify.sender, f->engine, f->store, id, "claire",
					    "Bonjour, je regarde votre facture."), CONVERSATION_DONE);
	assert_int_equal(messages_of(f, id, "out"), out + 1);
	char *sql = xasprintf("SELECT count(*) FROM messages WHERE thread_id = %lld AND body LIKE '%%1234%%'", (long long)id);
	assert_int_equal(query_count(f, sql), 0);  /* what may be a code is not kept */
	free(sql);

	assert_int_equal(conversation_resolve(f->store, id, "claire"), CONVERSATION_DONE);
	reply = chat_say(f, cs, "comment déposer une facture ?");
	assert_lacks(reply, "transmis au conseiller OCAPIAT qui suit");
	free(reply);
	chat_session_free(&cs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_escalated_thread_changes_hands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_take_over_and_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_correspondants_take_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chat_reply_and_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chat_handed_to_a_person_and_back, setup, teardown),
	};
	return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
