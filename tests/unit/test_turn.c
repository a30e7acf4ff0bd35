/* The conversation turn on its own, as every channel calls it: one question gets the
 * same understanding by mail and in the chat, written out on each channel's own way;
 * what is proven about the requester decides the shape of an account action; the
 * message is first in its thread, before what it causes; a turn that fails leaves
 * nothing once the caller rolls back. */
#include "autoconf.h"
#include "testutil.h"
#include "testmailsettings.h"
#include "testchannel.h"
#include "conversation/deferred.h"
#include "conversation/turn.h"
#include "directory/directory.h"
#include "engine/dialog.h"

#include <string.h>

/* A mail turn from address, replies to that same address. */
static struct turn_input
mail_input(const char *from, const char *text, const struct turn_mail *envelope)
{
	return (struct turn_input){
		.channel = CHANNEL_MAIL, .text = text, .subject = "Question", .mail = envelope,
		.requester = { .name = from, .reply_to = from, .from_address = from, .from_proven = true },
	};
}

/* A chat turn of visitor. */
static struct turn_input
chat_input(const char *visitor, const char *text, struct conversation *context)
{
	return (struct turn_input){
		.channel = CHANNEL_CHAT, .text = text, .context = context,
		.requester = { .name = visitor, .reply_to = visitor },
	};
}

/* One turn in a transaction of its own, committed. */
static void
turn(struct fixture *f, struct directory *dir, const struct turn_input *in, struct turn_result *r)
{
	const struct mail_settings *s = &f->settings;
	struct turn_settings ts = { .actions = &s->actions, .dialog = &s->dialog,
				    .limits = in->channel == CHANNEL_MAIL ? &s->limits : NULL };
	assert_int_equal(store_begin(f->store), 0);
	assert_int_equal(conversation_turn(&ts, f->store, dir, f->engine, f->scratch, in, r), 0);
	assert_int_equal(store_commit(f->store), 0);
	/* The account work after the reply, as the channels run it. */
	struct directory *own = dir == NULL ? directory_open_sqlite(f->store) : NULL;
	unsigned queued = 0;
	char *err = NULL;
	assert_true(conversation_run_deferred(&s->actions, f->store, dir ? dir : own, f->engine, &queued, &err) >= 0);
	r->queued += queued;
	directory_close(&own);
}

/* The rows of table in thread that meet condition. */
static unsigned
count(struct fixture *f, const char *table, int64_t thread, const char *condition)
{
	char *sql = xasprintf("SELECT count(*) FROM %s WHERE thread_id = %lld AND %s", table, (long long)thread, condition);
	unsigned n = query_count(f, sql);
	free(sql);
	return n;
}

static void
test_one_question_each_channel(void **state)
{
	struct fixture *f = *state;
	/* Said by an entreprise: the chat need not ask who writes (test_dialog). */
	const char *question = "Bonjour, nous sommes une entreprise : comment déposer une facture sur notre espace ?";
	struct turn_mail envelope = { .message_id = "q1@example.test" };
	struct turn_input by_mail = mail_input("alice@example.test", question, &envelope);
	struct turn_result m, c;
	turn(f, NULL, &by_mail, &m);
	struct conversation context = {0};
	struct turn_input in_chat = chat_input("203.0.113.7", question, &context);
	turn(f, NULL, &in_chat, &c);

	/* One understanding... */
	assert_int_equal(m.outcome, TURN_ANSWERED);
	assert_int_equal(c.outcome, TURN_ANSWERED);
	assert_string_equal(m.intent, c.intent);
	assert_true(*m.intent != '\0');
	assert_int_not_equal(m.thread_id, c.thread_id);
	/* ... written out on each channel: a reply in the mail's thread, a line in the chat. */
	assert_null(m.reply);
	assert_int_equal(m.queued, 1);
	assert_int_equal(count(f, "outbox", m.thread_id, "kind = 'reply'"), 1);
	assert_non_null(c.reply);
	assert_int_equal(c.queued, 0);
	assert_int_equal(count(f, "outbox", c.thread_id, "1"), 0);
	assert_int_equal(count(f, "messages", c.thread_id, "direction = 'out' AND decision = 'chat' AND choices IS NULL"), 1);
	/* Each inbound message is kept with what was understood. */
	assert_int_equal(count(f, "messages", m.thread_id, "direction = 'in' AND decision = 'answered'"
				  " AND intent IS NOT NULL AND body <> ''"), 1);
	assert_int_equal(count(f, "messages", c.thread_id, "direction = 'in' AND decision = 'answered'"
				  " AND intent IS NOT NULL AND body <> ''"), 1);
	turn_result_clear(&m);
	turn_result_clear(&c);

	/* Asked without saying who writes, the chat asks first and keeps the buttons it
	 * offers with its line; one click (the label as the message) gets the answer. */
	struct conversation asked = {0};
	const char *plain = "Comment déposer une facture sur mon espace ?";
	struct turn_input ask = chat_input("203.0.113.8", plain, &asked);
	turn(f, NULL, &ask, &c);
	assert_non_null(strstr(c.reply, "PartNet"));
	assert_int_equal(count(f, "messages", c.thread_id,
			       "direction = 'out' AND choices = 'Une entreprise' || char(10) || 'Un organisme de formation'"), 1);
	int64_t thread = c.thread_id;
	turn_result_clear(&c);
	struct turn_input click = chat_input("203.0.113.8", "Un organisme de formation", &asked);
	click.thread_id = thread;
	turn(f, NULL, &click, &c);
	assert_int_equal(c.outcome, TURN_ANSWERED);
	assert_string_equal(c.intent, "submit_invoice");
	assert_null(strstr(c.reply, "MonCompte"));
	turn_result_clear(&c);
}

/* The store's directory with one account at alice's address. */
static struct directory *
directory_with_alice(struct fixture *f)
{
	struct company_row co = { "41238765600025", "Ferme des Alouettes", "entreprise", "" };
	struct account_row a = { "ALICE01", "alice@example.test", "entreprise", "41238765600025", "active" };
	assert_int_equal(store_company_put(f->store, &co), 0);
	assert_int_equal(store_account_put(f->store, &a), 0);
	return directory_open_sqlite(f->store);
}

/* A From address is the requester's own: the reminder goes at once. In the chat an
 * address is only what someone typed: the assistant asks for it, and nothing is sent
 * before the answer. */
static void
test_what_is_proven_shapes_the_action(void **state)
{
	struct fixture *f = *state;
	struct directory *dir = directory_with_alice(f);
	const char *question = "Bonjour, j'ai oublié mon identifiant de connexion.";
	struct turn_mail envelope = { .message_id = "q2@example.test" };
	struct turn_input by_mail = mail_input("alice@example.test", question, &envelope);
	struct turn_result m;
	turn(f, dir, &by_mail, &m);
	assert_int_equal(m.outcome, TURN_ANSWERED);
	assert_string_equal(m.intent, "identifier_reminder");
	assert_int_equal(m.queued, 2);  /* the reminder to the address on file, and the reply */
	assert_int_equal(count(f, "outbox", m.thread_id, "kind = 'action'"), 1);
	/* The message is first in its thread, before the mails it caused. */
	char *sql = xasprintf("SELECT direction = 'in' FROM messages WHERE thread_id = %lld ORDER BY id LIMIT 1",
			      (long long)m.thread_id);
	assert_int_equal(query_count(f, sql), 1);
	free(sql);

	struct conversation context = {0};
	struct turn_input in_chat = chat_input("203.0.113.8", question, &context);
	struct turn_result c;
	turn(f, dir, &in_chat, &c);
	assert_int_equal(c.outcome, TURN_ANSWERED);
	assert_int_equal(c.queued, 0);
	assert_int_equal(count(f, "chat_actions", c.thread_id, "step = 'contact'"), 1);
	int64_t chat_thread = c.thread_id;
	turn_result_clear(&c);
	/* The answer to the question completes the action, with the same reply whether or not
	 * the address is on file. */
	struct turn_input answer = chat_input("203.0.113.8", "alice@example.test", &context);
	answer.thread_id = chat_thread;
	turn(f, dir, &answer, &c);
	assert_int_equal(c.queued, 1);
	assert_int_equal(count(f, "chat_actions", chat_thread, "1"), 0);
	char *sent = xstrdup(c.reply);
	turn_result_clear(&c);
	struct turn_input again = chat_input("203.0.113.8", question, &context);
	again.thread_id = chat_thread;
	turn(f, dir, &again, &c);
	turn_result_clear(&c);
	answer.text = "personne@example.test";
	turn(f, dir, &answer, &c);  /* an address not on file */
	assert_int_equal(c.queued, 0);
	assert_string_equal(c.reply, sent);
	free(sent);
	turn_result_clear(&c);
	turn_result_clear(&m);
	directory_close(&dir);
}

/* A mail thread waiting for a person: a follow-up is attached, the correspondants hear
 * of it, nothing automatic is said back. */
static void
test_held_thread_is_passed_on(void **state)
{
	struct fixture *f = *state;
	struct turn_mail envelope = { .message_id = "q3@example.test" };
	struct turn_input first = mail_input("bob@example.test", "Je souhaite parler à un conseiller.", &envelope);
	struct turn_result r;
	turn(f, NULL, &first, &r);
	assert_int_equal(r.outcome, TURN_ESCALATED);
	int64_t thread = r.thread_id;
	unsigned notices = count(f, "outbox", thread, "kind = 'notify'");
	assert_int_equal(notices, 1);
	turn_result_clear(&r);
	struct turn_mail envelope2 = { .message_id = "q4@example.test" };
	struct turn_input follow_up = mail_input("bob@example.test", "Comment déposer une facture ?", &envelope2);
	follow_up.thread_id = thread;
	turn(f, NULL, &follow_up, &r);
	assert_int_equal(r.outcome, TURN_ATTACHED);
	assert_int_equal(count(f, "outbox", thread, "kind IN ('reply', 'ack')"),
			 1);  /* the first acknowledgement only */
	assert_int_equal(count(f, "outbox", thread, "kind = 'notify'"), 2);
	turn_result_clear(&r);

	/* In the chat the visitor is also told when a person answers ([chat] hours, or
	 * templates/chat_hours.txt); the mail's acknowledgement says nothing of hours. */
	assert_int_equal(count(f, "messages", thread, "direction = 'out' AND body LIKE '%répondent%'"), 0);
	struct conversation context = {0};
	struct turn_input chat = chat_input("203.0.113.9", "Je souhaite parler à un conseiller.", &context);
	turn(f, NULL, &chat, &r);
	assert_int_equal(r.outcome, TURN_ESCALATED);
	assert_non_null(strstr(r.reply, "Nos conseillers répondent du lundi au vendredi, de 9 h à 17 h"));
	turn_result_clear(&r);
	f->settings.actions.chat_hours = "du lundi au jeudi, de 8 h 30 à 12 h";
	context = (struct conversation){0};
	turn(f, NULL, &chat, &r);
	f->settings.actions.chat_hours = NULL;
	assert_non_null(strstr(r.reply, "Nos conseillers répondent du lundi au jeudi, de 8 h 30 à 12 h"));
	turn_result_clear(&r);
}

/* A turn the caller rolls back leaves no thread and no message. */
static void
test_rolled_back_turn_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	const struct mail_settings *s = &f->settings;
	struct turn_settings ts = { .actions = &s->actions, .dialog = &s->dialog };
	struct conversation context = {0};
	struct turn_input in = chat_input("203.0.113.9", "Comment déposer une facture ?", &context);
	struct turn_result r;
	assert_int_equal(store_begin(f->store), 0);
	assert_int_equal(conversation_turn(&ts, f->store, NULL, f->engine, f->scratch, &in, &r), 0);
	assert_true(r.thread_id > 0);
	store_rollback(f->store);
	assert_int_equal(query_count(f, "SELECT count(*) FROM threads"), 0);
	assert_int_equal(query_count(f, "SELECT count(*) FROM messages"), 0);
	turn_result_clear(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_question_each_channel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_what_is_proven_shapes_the_action, setup, teardown),
		cmocka_unit_test_setup_teardown(test_held_thread_is_passed_on, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rolled_back_turn_leaves_nothing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
