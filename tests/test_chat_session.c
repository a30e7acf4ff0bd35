/* Tests of chat_session: the account actions as a conversation (one-time code for a
 * dossier's status, identifier reminder, password reset), the same replies whatever
 * exists, limits, expiry, a directory that is down, hostile input, and no code in the
 * history. The engine is the real one; the directory is the fictional demo data. */
#include "autoconf.h"
#include "testutil.h"
#include "testmailsettings.h"
#include "teststore.h"
#include "chat_session.h"
#include "directory_backend.h"
#include "directory_import.h"
#include "engine.h"
#include "mail_channel.h"

#include <sqlite3.h>
#include <time.h>

#define HOLDER "j.moreau@scierie-des-combes.example"
#define DOSSIER "AF-2023-018745"

struct fixture {
	struct temp_store ts;
	struct mail_settings settings;
	struct intent_scratch *scratch;
	struct directory *dir;
	struct chat_session *cs;
};

static struct engine *engine;

static int
setup_group(void **state)
{
	(void)state;
	char *err = NULL;
	engine = engine_load(source_data_dir(), &err);
	if (engine == NULL)
		fprintf(stderr, "%s\n", err);
	return engine == NULL ? -1 : 0;
}

static int
teardown_group(void **state)
{
	(void)state;
	engine_free(&engine);
	return 0;
}

static int
setup(void **state)
{
	void *ts;
	temp_store_setup(&ts);
	struct fixture *f = xcalloc(1, sizeof(*f));
	f->ts = *(struct temp_store *)ts;
	free(ts);
	static const char *const names[] = { "companies", "accounts", "dossiers" };
	for (int t = 0; t < 3; t++) {
		char *path = xasprintf("%s/directory/%s.csv", TEST_DATA_DIR, names[t]);
		char *err = NULL;
		assert_true(directory_import(f->ts.store, (enum directory_table)t, path, &err) > 0);
		free(path);
	}
	test_mail_settings(&f->settings);
	f->scratch = intent_scratch_new();
	f->dir = directory_open_sqlite(f->ts.store);
	f->cs = chat_session_new(&f->settings, f->ts.store, f->dir, "203.0.113.7");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	chat_session_free(&f->cs);
	directory_close(&f->dir);
	intent_scratch_free(&f->scratch);
	struct temp_store *ts = xmalloc(sizeof(*ts));
	*ts = f->ts;
	void *p = ts;
	temp_store_teardown(&p);
	free(f);
	return 0;
}

/* One turn of session cs; the reply (caller frees). */
static char *
say_in(struct fixture *f, struct chat_session *cs, const char *text)
{
	char *err = NULL;
	char *reply = chat_session_turn(cs, engine, f->scratch, &f->settings.dialog, text, strlen(text), &err);
	if (reply == NULL)
		fail_msg("chat_session_turn: %s", err);
	return reply;
}

static char *
say(struct fixture *f, const char *text)
{
	return say_in(f, f->cs, text);
}

static void
say_expect(struct fixture *f, const char *text, const char *needle)
{
	char *reply = say(f, text);
	if (strstr(reply, needle) == NULL)
		fail_msg("to \"%s\" the reply was:\n%s\n(expected \"%s\")", text, reply, needle);
	free(reply);
}

/* A single-value query on the store's file. */
static char *
query_text(struct fixture *f, const char *sql)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->ts.db, &db), SQLITE_OK);
	sqlite3_stmt *stmt;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
	char *out = NULL;
	if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != NULL)
		out = xstrdup((const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return out;
}

static int64_t
query_int(struct fixture *f, const char *sql)
{
	char *v = query_text(f, sql);
	int64_t n = v ? strtoll(v, NULL, 10) : 0;
	free(v);
	return n;
}

/* The one-time code in the newest secret mail to HOLDER ("" when none). */
static void
mailed_code(struct fixture *f, char code[7])
{
	char *raw = query_text(f, "SELECT raw FROM outbox WHERE kind = 'secret' AND recipient = '" HOLDER "'"
				  " ORDER BY id DESC LIMIT 1");
	test_mail_code(raw, code);
	free(raw);
}

static void
test_status_with_the_mailed_code(void **state)
{
	struct fixture *f = *state;
	say_expect(f, "Bonjour, où en est mon dossier ?", "Quel est son numéro");
	say_expect(f, "c'est le " DOSSIER, "Indiquez l’adresse mail de votre compte");
	say_expect(f, HOLDER, "un code de vérification à 6 chiffres vient d’y être envoyé");
	char code[7];
	mailed_code(f, code);
	assert_int_equal(strlen(code), 6);
	char *reply = say(f, code);
	if (strstr(reply, "Votre dossier n° " DOSSIER " (action de formation) est en attente de pièces") == NULL)
		fail_msg("code %s: %s", code, reply);
	assert_non_null(strstr(reply, "pièces justificatives"));
	free(reply);
	/* The code is in no message, no audit row, and only hashed in the conversation state. */
	char *sql = xasprintf("SELECT count(*) FROM messages WHERE body LIKE '%%%s%%'", code);
	assert_int_equal(query_int(f, sql), 0);
	free(sql);
	sql = xasprintf("SELECT count(*) FROM audit WHERE coalesce(subject, '') || outcome || requester LIKE '%%%s%%'", code);
	assert_int_equal(query_int(f, sql), 0);
	free(sql);
	assert_int_equal(query_int(f, "SELECT count(*) FROM messages WHERE body LIKE '[message retiré de l’historique%'"), 1);
	assert_int_equal(query_int(f, "SELECT count(*) FROM chat_actions"), 0);
	/* Once sent, the secret mail keeps no text. */
	assert_int_equal(store_outbox_sent(f->ts.store, query_int(f, "SELECT id FROM outbox WHERE kind = 'secret'"),
					   time(NULL)),
			 0);
	assert_int_equal(query_int(f, "SELECT count(*) FROM outbox WHERE kind = 'secret' AND raw <> ''"), 0);
}

/* The replies of three conversations — the holder, an address not on file, a dossier
 * that does not exist — are the same at every step. */
static void
test_status_replies_reveal_nothing(void **state)
{
	struct fixture *f = *state;
	struct chat_session *others[2] = {
		chat_session_new(&f->settings, f->ts.store, f->dir, "198.51.100.1"),
		chat_session_new(&f->settings, f->ts.store, f->dir, "198.51.100.2"),
	};
	const char *steps[][3] = {
		{ "où en est mon dossier " DOSSIER " ?", "où en est mon dossier " DOSSIER " ?", "où en est mon dossier AF-2099-000001 ?" },
		{ HOLDER, "curieux@example.test", HOLDER },
		{ "000000", "000000", "000000" },
	};
	for (size_t s = 0; s < 3; s++) {
		char *a = say(f, steps[s][0]);
		char *b = say_in(f, others[0], steps[s][1]);
		char *c = say_in(f, others[1], steps[s][2]);
		assert_string_equal(a, b);
		assert_string_equal(a, c);
		free(a);
		free(b);
		free(c);
	}
	/* Only the holder's address got a mail. */
	assert_int_equal(query_int(f, "SELECT count(*) FROM outbox WHERE kind = 'secret'"), 1);
	assert_int_equal(query_int(f, "SELECT count(*) FROM outbox WHERE recipient = 'curieux@example.test'"), 0);
	chat_session_free(&others[0]);
	chat_session_free(&others[1]);
}

static void
test_five_wrong_codes_void_the_code(void **state)
{
	struct fixture *f = *state;
	say_expect(f, "où en est le dossier " DOSSIER " ?", "adresse mail");
	say_expect(f, HOLDER, "6 chiffres");
	char code[7], wrong[8];
	mailed_code(f, code);
	snprintf(wrong, sizeof(wrong), "%06u", (unsigned)(atoi(code) + 1) % 1000000u);
	for (int i = 1; i <= 4; i++)
		say_expect(f, wrong, "Ce code n’est pas valable");
	say_expect(f, wrong, "Ce code n’est plus valable");
	/* The right code now opens nothing. */
	char *reply = say(f, code);
	assert_null(strstr(reply, "en attente de pièces"));
	free(reply);
	assert_int_equal(query_int(f, "SELECT count(*) FROM audit WHERE outcome = 'wrong one-time code'"), 5);
}

static void
test_expired_code(void **state)
{
	struct fixture *f = *state;
	say_expect(f, "où en est le dossier " DOSSIER " ?", "adresse mail");
	say_expect(f, HOLDER, "6 chiffres");
	char code[7];
	mailed_code(f, code);
	/* Ten minutes later. */
	char *err = NULL;
	struct chat_action c;
	assert_int_equal(store_chat_action_get(f->ts.store, chat_session_thread(f->cs), &c), 1);
	c.expires = time(NULL) - 1;
	assert_int_equal(store_chat_action_put(f->ts.store, &c), 0);
	chat_action_clear(&c);
	free(err);
	say_expect(f, code, "Ce code n’est plus valable");
}

static void
test_code_in_other_shapes(void **state)
{
	struct fixture *f = *state;
	say_expect(f, "où en est le dossier " DOSSIER " ?", "adresse mail");
	say_expect(f, HOLDER, "6 chiffres");
	char code[7];
	mailed_code(f, code);
	/* A long message with six digits that is not read as the code: not kept as typed. */
	char *noisy = xasprintf("merci beaucoup, je regarde mes mails et je vous redonne %c%c-%c%c-%c%c tout de suite",
				code[0], code[1], code[2], code[3], code[4], code[5]);
	free(say(f, noisy));
	/* The code as people type it. */
	char *dashed = xasprintf("%.3s-%.3s", code, code + 3);
	say_expect(f, dashed, "est en attente de pièces");
	char *sql = xasprintf("SELECT count(*) FROM messages WHERE body LIKE '%%%.2s-%.2s-%.2s%%' OR body LIKE '%%%s%%'"
			      " OR body LIKE '%%%s%%'", code, code + 2, code + 4, dashed, code);
	assert_int_equal(query_int(f, sql), 0);
	/* The code's mail is in the holder's own thread, not in the visitor's conversation. */
	char *in_chat = xasprintf("SELECT count(*) FROM messages WHERE thread_id = %lld AND decision = 'secret'",
				  (long long)chat_session_thread(f->cs));
	assert_int_equal(query_int(f, in_chat), 0);
	assert_int_equal(query_int(f, "SELECT count(*) FROM messages m JOIN threads t ON t.id = m.thread_id"
				      " WHERE m.decision = 'secret' AND t.requester = '" HOLDER "'"), 1);
	free(in_chat);
	free(sql);
	free(dashed);
	free(noisy);
}

static void
test_one_visitor_is_limited(void **state)
{
	struct fixture *f = *state;
	/* One visitor asking resets for every address it knows: three an hour, whoever they are for. */
	const char *addresses[] = { HOLDER, "audrey.lemaire@serres-lemaire.example", "contact@cfa-vivant.example" };
	for (int i = 0; i < 6; i++) {
		free(say(f, "mot de passe oublié"));
		char *reply = say(f, addresses[i % 3]);
		assert_non_null(strstr(reply, "C’est noté"));
		free(reply);
	}
	assert_int_equal(query_int(f, "SELECT count(*) FROM outbox WHERE kind = 'secret'"), 3);
	assert_int_equal(query_int(f, "SELECT count(*) FROM audit WHERE requester = '203.0.113.7'"
				      " AND outcome LIKE 'hourly limit reached for this requester%'"), 3);
}

static void
test_identifier_reminder_by_siret(void **state)
{
	struct fixture *f = *state;
	say_expect(f, "j'ai oublié mon identifiant", "numéro SIRET");
	char *known = say(f, "412 387 656 00025");
	struct chat_session *other = chat_session_new(&f->settings, f->ts.store, f->dir, "198.51.100.3");
	free(say_in(f, other, "j'ai oublié mon identifiant"));
	char *unknown = say_in(f, other, "732 829 320 00074");  /* a valid SIRET nobody has here */
	assert_string_equal(known, unknown);
	assert_non_null(strstr(known, "vient d’être envoyé à l’adresse mail enregistrée"));
	assert_int_equal(query_int(f, "SELECT count(*) FROM outbox WHERE kind = 'action' AND recipient = '" HOLDER "'"), 1);
	assert_int_equal(query_int(f, "SELECT count(*) FROM outbox WHERE kind = 'action'"), 1);
	free(known);
	free(unknown);
	chat_session_free(&other);
}

static void
test_password_reset_by_identifier(void **state)
{
	struct fixture *f = *state;
	say_expect(f, "mot de passe égaré", "Indiquez votre identifiant");
	char *known = say(f, "JMOREAU01");
	struct chat_session *other = chat_session_new(&f->settings, f->ts.store, f->dir, "198.51.100.4");
	free(say_in(f, other, "mot de passe égaré"));
	char *unknown = say_in(f, other, "INCONNU42");
	assert_string_equal(known, unknown);
	assert_non_null(strstr(known, "toute première connexion"));
	char *raw = query_text(f, "SELECT raw FROM outbox WHERE kind = 'secret'");
	assert_non_null(raw);
	assert_non_null(strstr(raw, "reinitialisation?jeton"));
	free(raw);
	assert_int_equal(query_int(f, "SELECT count(*) FROM outbox WHERE kind = 'secret'"), 1);
	assert_int_equal(query_int(f, "SELECT count(*) FROM messages WHERE body LIKE '%jeton=%'"), 0);
	free(known);
	free(unknown);
	chat_session_free(&other);
}

static void
test_status_lookups_are_limited(void **state)
{
	struct fixture *f = *state;
	/* Ten look-ups of the dossier this hour (from anyone), then nothing is sent. */
	for (int i = 0; i < 11; i++) {
		struct chat_session *cs = chat_session_new(&f->settings, f->ts.store, f->dir, "198.51.100.9");
		free(say_in(f, cs, "où en est le dossier " DOSSIER " ?"));
		char *reply = say_in(f, cs, HOLDER);
		assert_non_null(strstr(reply, "6 chiffres"));
		free(reply);
		chat_session_free(&cs);
	}
	assert_int_equal(query_int(f, "SELECT count(*) FROM outbox WHERE kind = 'secret'"), 10);
}

static int
down_dossier(struct directory *d, const char *v, struct directory_dossier *out)
{
	(void)v;
	(void)out;
	return directory_fail(d, DIRECTORY_UNAVAILABLE, "directory API: HTTP 500");
}

static int
down_accounts(struct directory *d, const char *v, struct directory_accounts *out)
{
	(void)v;
	(void)out;
	return directory_fail(d, DIRECTORY_UNAVAILABLE, "directory API: timed out after 5 s");
}

static const struct directory_ops down_ops = {
	.accounts_by_email = down_accounts, .accounts_by_siret = down_accounts, .dossier_get = down_dossier,
};

static void
test_directory_down(void **state)
{
	struct fixture *f = *state;
	struct directory *down = directory_new(&down_ops, true, NULL);
	struct chat_session *cs = chat_session_new(&f->settings, f->ts.store, down, "198.51.100.5");
	free(say_in(f, cs, "où en est le dossier " DOSSIER " ?"));
	char *reply = say_in(f, cs, HOLDER);
	assert_non_null(strstr(reply, "Nous ne pouvons pas traiter votre demande automatiquement"));
	free(reply);
	struct thread_row t = {0};
	assert_int_equal(store_thread_get(f->ts.store, chat_session_thread(cs), &t), 1);
	assert_int_equal(t.state, THREAD_ESCALATED);
	/* The operator sees which call failed and why. */
	assert_non_null(t.reason);
	assert_non_null(strstr(t.reason, "directory API: HTTP 500"));
	thread_row_clear(&t);
	assert_int_equal(query_int(f, "SELECT count(*) FROM outbox WHERE kind = 'notify'"), 1);
	assert_int_equal(query_int(f, "SELECT count(*) FROM outbox WHERE kind = 'secret'"), 0);
	chat_session_free(&cs);
	directory_close(&down);
}

static void
test_hostile_input(void **state)
{
	struct fixture *f = *state;
	char big[10240];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	const char *inputs[] = {
		"j'ai oublié mon identifiant",
		"'; DROP TABLE accounts; --",
		"x@y.example' OR '1'='1",
		big,
		"mot de passe oublié",
		"identifiant est ROBERT'); DELETE FROM audit; --",
		"412 387 656 00025\r\nBcc: evil@example.test",
	};
	for (size_t i = 0; i < sizeof(inputs) / sizeof(*inputs); i++) {
		char *reply = say(f, inputs[i]);
		assert_true(strlen(reply) > 0);
		free(reply);
	}
	/* Invalid UTF-8: the polite refusal, and the bytes are not kept. */
	const char bad[] = "mon code \xff\xfe 123456";
	char *err = NULL;
	char *reply = chat_session_turn(f->cs, engine, f->scratch, &f->settings.dialog, bad, sizeof(bad) - 1, &err);
	assert_non_null(reply);
	free(reply);
	/* NUL inside the message: not read past. */
	const char nul[] = "bonjour\0DROP";
	reply = chat_session_turn(f->cs, engine, f->scratch, &f->settings.dialog, nul, sizeof(nul) - 1, &err);
	assert_non_null(reply);
	free(reply);
	assert_int_equal(query_int(f, "SELECT count(*) FROM accounts"), 4);
	assert_int_equal(query_int(f, "SELECT count(*) FROM messages WHERE instr(body, char(255)) > 0"), 0);
	assert_int_equal(query_int(f, "SELECT count(*) FROM outbox WHERE raw LIKE '%Bcc: evil%'"), 0);
}

/* A reset link (or its token alone) pasted in the chat: kept nowhere, neither in the
 * messages, nor the thread's subject, nor the correspondants' notification when the
 * conversation goes to a person. */
static void
test_pasted_reset_link_is_not_kept(void **state)
{
	struct fixture *f = *state;
	const char *token = "Q2hhdC1wYXN0ZWQtdG9rZW4tbXVzdC1ub3Qtc3RheQ0";
	assert_int_equal(strlen(token), 43);
	char *line = xasprintf("https://assistance.ocapiat.test/reinitialisation?jeton=%s ne marche pas", token);
	free(say(f, line));
	char *bare = xasprintf("voici le jeton %s", token);
	free(say(f, bare));
	free(say(f, "je veux parler à un conseiller"));
	char *sql = xasprintf("SELECT count(*) FROM messages WHERE instr(body, '%s') > 0", token);
	assert_int_equal(query_int(f, sql), 0);
	free(sql);
	sql = xasprintf("SELECT count(*) FROM threads WHERE instr(subject, '%s') > 0", token);
	assert_int_equal(query_int(f, sql), 0);
	free(sql);
	assert_int_equal(query_int(f, "SELECT count(*) FROM messages WHERE direction = 'in' AND instr(body, 'ne marche pas') > 0"), 1);
	assert_int_equal(query_int(f, "SELECT count(*) FROM threads WHERE state = 'escalated'"), 1);
	char *notice = query_text(f, "SELECT raw FROM outbox WHERE kind = 'notify'");
	assert_non_null(notice);
	assert_null(strstr(notice, token));
	assert_null(strstr(notice, "Q2hhdC1wYXN0ZWQtdG9r"));  /* nor a part of it split by the encoding */
	free(notice);
	free(bare);
	free(line);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_status_with_the_mailed_code, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_replies_reveal_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_five_wrong_codes_void_the_code, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired_code, setup, teardown),
		cmocka_unit_test_setup_teardown(test_code_in_other_shapes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_visitor_is_limited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identifier_reminder_by_siret, setup, teardown),
		cmocka_unit_test_setup_teardown(test_password_reset_by_identifier, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_lookups_are_limited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_directory_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pasted_reset_link_is_not_kept, setup, teardown),
	};
	return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
