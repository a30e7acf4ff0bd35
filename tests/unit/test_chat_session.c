/* Tests of chat_session: the account actions as a conversation (one-time code for a
 * dossier's status, identifier reminder, password reset), the same replies whatever
 * exists, limits, expiry, a directory that is down, hostile input, and no code in the
 * history. The engine is the real one; the directory is the fictional demo data. */
#include "autoconf.h"
#include "testutil.h"
#include "testmailsettings.h"
#include "teststore.h"
#include "accounts/account_actions.h"
#include "chat/chat_session.h"
#include "directory/directory_backend.h"
#include "directory/directory_import.h"
#include "engine/engine.h"
#include "mail/mail_channel.h"

#include <sqlite3.h>
#include <time.h>

#define HOLDER "j.moreau@scierie-des-combes.example"
#define DOSSIER "AF-2023-018745"
/* A dossier the holder's address is not on file for, and one that does not exist. */
#define NOT_HIS_DOSSIER "CA-2023-0098412"
#define NO_DOSSIER "AF-2099-000001"
#define OTHER_HOLDER "audrey.lemaire@serres-lemaire.example"
#define EXHAUSTED "Ce code ne peut pas être accepté"
#define STATUS "est en attente de pièces"

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
	f->cs = chat_session_new(&f->settings.actions, f->ts.store, f->dir, "203.0.113.7");
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
	unsigned queued;
	if (chat_session_after_reply(cs, engine, &queued, &err) < 0)
		fail_msg("chat_session_after_reply: %s", err);
	return reply;
}

static char *
say(struct fixture *f, const char *text)
{
	return say_in(f, f->cs, text);
}

static void
say_expect_in(struct fixture *f, struct chat_session *cs, const char *text, const char *needle)
{
	char *reply = say_in(f, cs, text);
	if (strstr(reply, needle) == NULL)
		fail_msg("to \"%s\" the reply was:\n%s\n(expected \"%s\")", text, reply, needle);
	free(reply);
}

static void
say_expect(struct fixture *f, const char *text, const char *needle)
{
	say_expect_in(f, f->cs, text, needle);
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

/* The one-time code in the newest secret mail to to ("" when none). */
static void
mailed_code_to(struct fixture *f, const char *to, char code[ACTION_CODE_SIZE])
{
	char *sql = xasprintf("SELECT raw FROM outbox WHERE kind = 'secret' AND recipient = '%s' ORDER BY id DESC LIMIT 1",
			      to);
	char *raw = query_text(f, sql);
	test_mail_code(raw, code);
	free(raw);
	free(sql);
}

static void
mailed_code(struct fixture *f, char code[ACTION_CODE_SIZE])
{
	mailed_code_to(f, HOLDER, code);
}

/* A code that is not code (any code when code is ""). */
static void
not_the_code(const char *code, char out[ACTION_CODE_SIZE])
{
	unsigned long n = *code ? strtoul(code, NULL, 10) + 1 : 13572468;
	snprintf(out, ACTION_CODE_SIZE, "%08lu", n % 100000000ul);
}

/* A new conversation of visitor asking for dossier's status and giving email (a code is
 * mailed when email is on file for it). Caller frees. */
static struct chat_session *
start_flow(struct fixture *f, const char *visitor, const char *dossier, const char *email)
{
	struct chat_session *cs = chat_session_new(&f->settings.actions, f->ts.store, f->dir, visitor);
	char *question = xasprintf("où en est le dossier %s ?", dossier);
	say_expect_in(f, cs, question, "adresse mail");
	say_expect_in(f, cs, email, "un code de vérification à 8 chiffres");
	free(question);
	return cs;
}

/* A statement run on the store's file (as time passing would change it). */
static void
run_sql(struct fixture *f, const char *sql)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->ts.db, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void
test_status_with_the_mailed_code(void **state)
{
	struct fixture *f = *state;
	say_expect(f, "Bonjour, où en est mon dossier ?", "Quel est son numéro");
	say_expect(f, "c'est le " DOSSIER, "Indiquez l’adresse mail de votre compte");
	say_expect(f, HOLDER, "un code de vérification à 8 chiffres vient d’y être envoyé");
	char code[ACTION_CODE_SIZE];
	mailed_code(f, code);
	assert_int_equal(strlen(code), 8);
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

/* A session resumed on the thread (a visitor reconnecting to the website chat, a
 * restarted dialogd) continues it: the same thread, the account action in progress. */
static void
test_a_resumed_session_continues_its_thread(void **state)
{
	struct fixture *f = *state;
	say_expect(f, "où en est le dossier " DOSSIER " ?", "adresse mail");
	say_expect(f, HOLDER, "un code de vérification à 8 chiffres");
	int64_t thread = chat_session_thread(f->cs);
	assert_true(thread > 0);
	chat_session_free(&f->cs);
	f->cs = chat_session_resume(&f->settings.actions, f->ts.store, f->dir, "203.0.113.8", thread);
	assert_int_equal(chat_session_thread(f->cs), thread);
	char code[ACTION_CODE_SIZE];
	mailed_code(f, code);
	say_expect(f, code, "est en attente de pièces");
	assert_int_equal(query_int(f, "SELECT count(*) FROM threads WHERE channel = 'chat'"), 1);
	char *sql = xasprintf("SELECT count(*) FROM messages WHERE thread_id = %lld AND direction = 'in'", (long long)thread);
	assert_int_equal(query_int(f, sql), 3);
	free(sql);
}

/* The replies of three conversations — the holder, an address not on file, a dossier
 * that does not exist — are the same at every step. */
static void
test_status_replies_reveal_nothing(void **state)
{
	struct fixture *f = *state;
	struct chat_session *others[2] = {
		chat_session_new(&f->settings.actions, f->ts.store, f->dir, "198.51.100.1"),
		chat_session_new(&f->settings.actions, f->ts.store, f->dir, "198.51.100.2"),
	};
	const char *steps[][3] = {
		{ "où en est mon dossier " DOSSIER " ?", "où en est mon dossier " DOSSIER " ?", "où en est mon dossier AF-2099-000001 ?" },
		{ HOLDER, "curieux@example.test", HOLDER },
		{ "00000000", "00000000", "00000000" },
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
	say_expect(f, HOLDER, "8 chiffres");
	char code[ACTION_CODE_SIZE], wrong[ACTION_CODE_SIZE];
	mailed_code(f, code);
	not_the_code(code, wrong);
	for (int i = 1; i <= 4; i++)
		say_expect(f, wrong, "Ce code n’est pas valable");
	say_expect(f, wrong, EXHAUSTED);
	/* The right code now opens nothing. */
	char *reply = say(f, code);
	assert_null(strstr(reply, "en attente de pièces"));
	free(reply);
	assert_int_equal(query_int(f, "SELECT count(*) FROM audit WHERE outcome = 'code_wrong'"), 5);
}

static void
test_expired_code(void **state)
{
	struct fixture *f = *state;
	say_expect(f, "où en est le dossier " DOSSIER " ?", "adresse mail");
	say_expect(f, HOLDER, "8 chiffres");
	char code[ACTION_CODE_SIZE];
	mailed_code(f, code);
	/* Ten minutes later. */
	char *err = NULL;
	struct chat_action c;
	assert_int_equal(store_chat_action_get(f->ts.store, chat_session_thread(f->cs), &c), 1);
	c.expires = time(NULL) - 1;
	assert_int_equal(store_chat_action_put(f->ts.store, &c), 0);
	chat_action_clear(&c);
	free(err);
	say_expect(f, code, EXHAUSTED);
}

static void
test_code_in_other_shapes(void **state)
{
	struct fixture *f = *state;
	say_expect(f, "où en est le dossier " DOSSIER " ?", "adresse mail");
	say_expect(f, HOLDER, "8 chiffres");
	char code[ACTION_CODE_SIZE];
	mailed_code(f, code);
	/* A long message with eight digits that is not read as the code: not kept as typed. */
	char *noisy = xasprintf("merci beaucoup, je regarde mes mails et je vous redonne %.2s-%.2s-%.2s-%.2s tout de suite",
				code, code + 2, code + 4, code + 6);
	free(say(f, noisy));
	/* The code as people type it. */
	char *dashed = xasprintf("%.4s-%.4s", code, code + 4);
	say_expect(f, dashed, STATUS);
	char *sql = xasprintf("SELECT count(*) FROM messages WHERE body LIKE '%%%.2s-%.2s-%.2s-%.2s%%' OR body LIKE '%%%s%%'"
			      " OR body LIKE '%%%s%%'", code, code + 2, code + 4, code + 6, dashed, code);
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
				      " AND outcome = 'requester_limit'"), 3);
}

static void
test_identifier_reminder_by_siret(void **state)
{
	struct fixture *f = *state;
	say_expect(f, "j'ai oublié mon identifiant", "numéro SIRET");
	char *known = say(f, "412 387 656 00025");
	struct chat_session *other = chat_session_new(&f->settings.actions, f->ts.store, f->dir, "198.51.100.3");
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
	struct chat_session *other = chat_session_new(&f->settings.actions, f->ts.store, f->dir, "198.51.100.4");
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
		struct chat_session *cs = chat_session_new(&f->settings.actions, f->ts.store, f->dir, "198.51.100.9");
		free(say_in(f, cs, "où en est le dossier " DOSSIER " ?"));
		char *reply = say_in(f, cs, HOLDER);
		assert_non_null(strstr(reply, "8 chiffres"));
		free(reply);
		chat_session_free(&cs);
	}
	assert_int_equal(query_int(f, "SELECT count(*) FROM outbox WHERE kind = 'secret'"), 10);
}

/* The code is read in the shapes people type eight digits; the former six-digit shape is
 * not a code (the engine answers it, and it is not kept as typed either). */
static void
test_code_typed_shapes(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *before, *between;
	} shapes[] = { { "", " " }, { "", "-" }, { "mon code : ", "." }, { "", "" } };
	for (size_t i = 0; i < sizeof(shapes) / sizeof(*shapes); i++) {
		char visitor[32];
		snprintf(visitor, sizeof(visitor), "198.51.100.%zu", 40 + i);
		struct chat_session *cs = start_flow(f, visitor, DOSSIER, HOLDER);
		char code[ACTION_CODE_SIZE];
		mailed_code(f, code);
		assert_int_equal(strlen(code), 8);
		char *six = xasprintf("%.6s", code);
		char *reply = say_in(f, cs, six);
		assert_null(strstr(reply, "n’est pas valable"));
		assert_null(strstr(reply, STATUS));
		free(reply);
		char *typed = xasprintf("%s%.4s%s%.4s", shapes[i].before, code, shapes[i].between, code + 4);
		say_expect_in(f, cs, typed, STATUS);
		char *sql = xasprintf("SELECT count(*) FROM messages WHERE body LIKE '%%%s%%' OR body LIKE '%%%.4s%%%.4s%%'",
				      six, code, code + 4);
		assert_int_equal(query_int(f, sql), 0);
		free(sql);
		free(typed);
		free(six);
		chat_session_free(&cs);
	}
}

/* Types n wrong codes in cs; the last reply must hold last, the others "n’est pas valable". */
static void
wrong_codes(struct fixture *f, struct chat_session *cs, int n, const char *last)
{
	char code[ACTION_CODE_SIZE], wrong[ACTION_CODE_SIZE];
	mailed_code(f, code);
	not_the_code(code, wrong);
	for (int i = 1; i <= n; i++)
		say_expect_in(f, cs, wrong, i < n ? "Ce code n’est pas valable" : last);
}

/* Wrong codes typed with the holder's address where no code was sent (a made-up dossier,
 * a dossier the address is not on file for) do not lock the holder's real code. */
static void
test_unsent_codes_do_not_lock_the_holder(void **state)
{
	struct fixture *f = *state;
	const char *dossiers[] = { NO_DOSSIER, NOT_HIS_DOSSIER };
	for (int i = 0; i < 2; i++) {
		char visitor[32];
		snprintf(visitor, sizeof(visitor), "198.51.100.%d", 20 + i);
		struct chat_session *cs = start_flow(f, visitor, dossiers[i], HOLDER);
		wrong_codes(f, cs, 5, EXHAUSTED);
		chat_session_free(&cs);
	}
	assert_int_equal(query_int(f, "SELECT count(*) FROM outbox WHERE kind = 'secret'"), 0);
	assert_int_equal(query_int(f, "SELECT count(*) FROM audit WHERE outcome = 'code_wrong'"), 10);
	/* The holder asks: the code mailed works. */
	struct chat_session *cs = start_flow(f, "203.0.113.50", DOSSIER, HOLDER);
	char code[ACTION_CODE_SIZE];
	mailed_code(f, code);
	say_expect_in(f, cs, code, STATUS);
	chat_session_free(&cs);
}

/* Wrong codes against codes that were sent count for the address, whoever types them;
 * past CODE_WRONG_PER_ADDRESS of them the right code is not accepted for the hour, while
 * wrong codes are answered as before (that limit must not tell who is on file); another
 * holder is not concerned. */
static void
test_wrong_codes_per_address(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(CODE_WRONG_PER_ADDRESS, 5);  /* the steps below count on it */
	struct chat_session *cs = start_flow(f, "198.51.100.21", DOSSIER, HOLDER);
	wrong_codes(f, cs, 2, "essais restants : 3");
	chat_session_free(&cs);
	cs = start_flow(f, "198.51.100.22", NO_DOSSIER, HOLDER);  /* no code: does not count */
	wrong_codes(f, cs, 4, "essais restants : 1");
	chat_session_free(&cs);
	cs = start_flow(f, "198.51.100.23", DOSSIER, HOLDER);
	wrong_codes(f, cs, 2, "essais restants : 3");  /* 4 for the address */
	char code[ACTION_CODE_SIZE];
	mailed_code(f, code);
	say_expect_in(f, cs, code, STATUS);
	chat_session_free(&cs);
	cs = start_flow(f, "198.51.100.24", DOSSIER, HOLDER);
	wrong_codes(f, cs, 1, "essais restants : 4");  /* the fifth */
	chat_session_free(&cs);
	cs = start_flow(f, "198.51.100.25", DOSSIER, HOLDER);
	wrong_codes(f, cs, 1, "essais restants : 4");  /* a wrong code: the same answer */
	mailed_code(f, code);
	say_expect_in(f, cs, code, EXHAUSTED);
	chat_session_free(&cs);
	assert_int_equal(query_int(f, "SELECT count(*) FROM audit WHERE outcome = 'code_refused_address'"), 1);
	cs = start_flow(f, "198.51.100.26", NOT_HIS_DOSSIER, OTHER_HOLDER);
	mailed_code_to(f, OTHER_HOLDER, code);
	say_expect_in(f, cs, code, "a été accordé");
	chat_session_free(&cs);
}

/* One visitor gets CODE_WRONG_PER_VISITOR wrong codes an hour, whatever the addresses
 * and whether codes were sent; then not even the right code; another visitor can. */
static void
test_wrong_codes_per_visitor(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(CODE_WRONG_PER_VISITOR, 10);
	const char *visitor = "198.51.100.30";
	struct chat_session *cs = start_flow(f, visitor, DOSSIER, "curieux1@example.test");
	wrong_codes(f, cs, 5, EXHAUSTED);
	chat_session_free(&cs);
	cs = start_flow(f, visitor, NOT_HIS_DOSSIER, OTHER_HOLDER);  /* a code is sent */
	wrong_codes(f, cs, 4, "essais restants : 1");  /* 9 for the visitor */
	chat_session_free(&cs);
	cs = start_flow(f, visitor, DOSSIER, "curieux2@example.test");
	wrong_codes(f, cs, 1, EXHAUSTED);
	chat_session_free(&cs);
	cs = start_flow(f, visitor, DOSSIER, HOLDER);
	char code[ACTION_CODE_SIZE];
	mailed_code(f, code);
	say_expect_in(f, cs, code, EXHAUSTED);
	chat_session_free(&cs);
	cs = start_flow(f, "198.51.100.31", DOSSIER, HOLDER);
	mailed_code(f, code);
	say_expect_in(f, cs, code, STATUS);
	chat_session_free(&cs);
}

/* CODE_WRONG_GLOBAL wrong codes in an hour from visitors that change (none over its own
 * limit, no address twice): no code is accepted any more, not even the right one, and
 * the correspondants are told once; an hour later codes work again. */
static void
test_global_cap(void **state)
{
	struct fixture *f = *state;
	int typed = 0;
	for (int v = 0; typed < CODE_WRONG_GLOBAL; v++) {
		char visitor[32];
		snprintf(visitor, sizeof(visitor), "192.0.2.%d", v);
		for (int k = 0; k * 5 < CODE_WRONG_PER_VISITOR && typed < CODE_WRONG_GLOBAL; k++) {
			char *email = xasprintf("essai%d.%d@example.test", v, k);
			struct chat_session *cs = start_flow(f, visitor, DOSSIER, email);
			for (int i = 1; i <= 5 && typed < CODE_WRONG_GLOBAL; i++) {
				typed++;
				char *reply = say_in(f, cs, "13572468");
				bool spent = i == 5 || typed == CODE_WRONG_GLOBAL;
				if (strstr(reply, spent ? EXHAUSTED : "Ce code n’est pas valable") == NULL)
					fail_msg("wrong code %d (visitor %d, try %d): %s", typed, v, i, reply);
				free(reply);
			}
			chat_session_free(&cs);
			free(email);
		}
	}
	/* The holder's right code is refused, with the same words as a code typed where
	 * none was sent. */
	struct chat_session *cs = start_flow(f, "203.0.113.60", DOSSIER, HOLDER);
	char code[ACTION_CODE_SIZE];
	mailed_code(f, code);
	char *holder = say_in(f, cs, code);
	chat_session_free(&cs);
	cs = start_flow(f, "203.0.113.61", NO_DOSSIER, HOLDER);
	char *nobody = say_in(f, cs, code);
	chat_session_free(&cs);
	assert_non_null(strstr(holder, EXHAUSTED));
	assert_string_equal(holder, nobody);
	free(holder);
	free(nobody);
	/* Told once: one audit row, one thread for a person, one notification. */
	assert_int_equal(query_int(f, "SELECT count(*) FROM audit WHERE action = '" CODE_CAP_ACTION "'"), 1);
	assert_int_equal(query_int(f, "SELECT count(*) FROM audit WHERE outcome = 'code_unchecked_global'"), 2);
	assert_int_equal(query_int(f, "SELECT count(*) FROM threads WHERE requester = 'dialogd' AND state = 'escalated'"), 1);
	assert_int_equal(query_int(f, "SELECT count(*) FROM outbox WHERE kind = 'notify'"), 1);
	assert_int_equal(query_int(f, "SELECT count(*) FROM outbox o JOIN threads t ON t.id = o.thread_id WHERE"
				      " o.kind = 'notify' AND o.recipient = 'correspondants@ocapiat.test'"
				      " AND t.requester = 'dialogd'"),
			 1);
	/* What the notification quotes: the thread's first message says what happens. */
	assert_int_equal(query_int(f, "SELECT count(*) FROM messages m JOIN threads t ON t.id = m.thread_id WHERE"
				      " t.requester = 'dialogd' AND m.direction = 'in'"
				      " AND m.body LIKE '%codes de vérification erronés%aucun code n’est accepté%'"),
			 1);
	/* An hour later. */
	run_sql(f, "UPDATE audit SET at = at - 3601; UPDATE wrong_codes SET at = at - 3601");
	cs = start_flow(f, "203.0.113.62", DOSSIER, HOLDER);
	mailed_code(f, code);
	say_expect_in(f, cs, code, STATUS);
	chat_session_free(&cs);
	assert_int_equal(query_int(f, "SELECT count(*) FROM outbox WHERE kind = 'notify'"), 1);
}

/* Everything the visitors see, in a fresh store, when they ask about dossier with email,
 * between flows for a made-up dossier with the same address: five wrong codes for
 * (dossier, email) and one more, then two in a new request for it. */
static char *
code_transcript(const char *dossier, const char *email)
{
	void *state;
	assert_int_equal(setup(&state), 0);
	struct fixture *f = state;
	struct strbuf sb = {0};
	const struct {
		const char *visitor, *dossier;
		int codes;
	} flows[] = {
		{ "198.51.100.31", "AF-2099-000002", 2 }, { "198.51.100.32", dossier, 6 },
		{ "198.51.100.33", "AF-2099-000002", 2 }, { "198.51.100.34", dossier, 2 },
	};
	for (size_t i = 0; i < sizeof(flows) / sizeof(*flows); i++) {
		struct chat_session *cs = chat_session_new(&f->settings.actions, f->ts.store, f->dir, flows[i].visitor);
		char *question = xasprintf("où en est le dossier %s ?", flows[i].dossier);
		char code[ACTION_CODE_SIZE] = "", wrong[ACTION_CODE_SIZE];
		for (int k = -2; k < flows[i].codes; k++) {
			if (k == 0) {
				mailed_code(f, code);
				not_the_code(code, wrong);
			}
			char *reply = say_in(f, cs, k == -2 ? question : k == -1 ? email : wrong);
			strbuf_addf(&sb, "%s\n--\n", reply);
			free(reply);
		}
		free(question);
		chat_session_free(&cs);
	}
	teardown(&state);
	return strbuf_detach(&sb);
}

/* The replies are the same, byte for byte, whether the address is on file (codes sent
 * and counted for it) or not, or the dossier does not exist (nothing sent, nothing
 * counted for the holder) — through the limits too. */
static void
test_replies_same_whether_a_code_was_sent(void **state)
{
	(void)state;
	char *holder = code_transcript(DOSSIER, HOLDER);
	char *stranger = code_transcript(DOSSIER, "curieux@example.test");
	char *made_up = code_transcript(NO_DOSSIER, HOLDER);
	assert_string_equal(holder, stranger);
	assert_string_equal(holder, made_up);
	/* The limits did show. */
	assert_non_null(strstr(holder, EXHAUSTED));
	assert_non_null(strstr(holder, "essais restants : 1"));
	free(holder);
	free(stranger);
	free(made_up);
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
	struct chat_session *cs = chat_session_new(&f->settings.actions, f->ts.store, down, "198.51.100.5");
	free(say_in(f, cs, "où en est le dossier " DOSSIER " ?"));
	/* The reply does not wait for the directory (deferred.h): the same as when it answers. */
	char *reply = say_in(f, cs, HOLDER);
	assert_non_null(strstr(reply, "code"));
	free(reply);
	/* Its failure, after the reply, hands the thread over, and the chat's next line says
	 * a person will answer. */
	assert_int_equal(query_int(f, "SELECT count(*) FROM messages WHERE direction = 'out' AND decision = 'chat'"
				      " AND body LIKE '%nous n’avons pas pu traiter votre demande automatiquement%'"), 1);
	struct thread_row t = {0};
	assert_int_equal(store_thread_get(f->ts.store, chat_session_thread(cs), &t), 1);
	assert_int_equal(t.state, THREAD_ESCALATED);
	/* The operator sees which call failed and why. */
	assert_non_null(t.reason);
	assert_non_null(strstr(t.reason, "directory API: HTTP 500"));
	thread_row_clear(&t);
	assert_int_equal(query_int(f, "SELECT count(*) FROM outbox WHERE kind = 'notify'"), 1);
	assert_int_equal(query_int(f, "SELECT count(*) FROM outbox WHERE kind = 'secret'"), 0);
	/* The step waiting for the code is gone: a code typed now is not checked. */
	assert_int_equal(query_int(f, "SELECT count(*) FROM chat_actions"), 0);
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
		cmocka_unit_test_setup_teardown(test_a_resumed_session_continues_its_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_replies_reveal_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_five_wrong_codes_void_the_code, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired_code, setup, teardown),
		cmocka_unit_test_setup_teardown(test_code_in_other_shapes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_visitor_is_limited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identifier_reminder_by_siret, setup, teardown),
		cmocka_unit_test_setup_teardown(test_password_reset_by_identifier, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_lookups_are_limited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_code_typed_shapes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsent_codes_do_not_lock_the_holder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_codes_per_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_codes_per_visitor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_global_cap, setup, teardown),
		cmocka_unit_test(test_replies_same_whether_a_code_was_sent),
		cmocka_unit_test_setup_teardown(test_directory_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pasted_reset_link_is_not_kept, setup, teardown),
	};
	return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
