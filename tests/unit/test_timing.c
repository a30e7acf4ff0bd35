/* What an attacker can measure (issue 14): the time until the requester's reply must not
 * tell whether an account, an address on file or a dossier exists. For each request (a
 * reset and a reminder by mail; a reset, a reminder and a dossier's code in the chat),
 * 200 samples for something that exists and 200 for something that does not, in a
 * shuffled order, each timed from the message to its reply (the mail's transaction
 * committed, the chat's reply returned); the account work runs after, as the channels
 * run it (deferred.h), untimed. The two distributions must be indistinguishable: the
 * area under the ROC curve of "hit takes longer than miss", folded around 0.5, stays
 * under 0.6. A control times the same requests with that account work included, which
 * is what the reply used to wait for: it must be told apart, or the measure is blind
 * (measured again when noise drowns it). */
#include "autoconf.h"
#include "testutil.h"
#include "testmailsettings.h"
#include "teststore.h"
#include "chat/chat_session.h"
#include "conversation/deferred.h"
#include "directory/directory_import.h"
#include "engine/engine.h"
#include "mail/mail_channel.h"

#include <stdlib.h>
#include <time.h>

#define SAMPLES 200
#define HOLDER "j.moreau@scierie-des-combes.example"
#define STRANGER "personne.inconnue@example.test"
#define DOSSIER "AF-2023-018745"

struct fixture {
	struct temp_store ts;
	struct mail_settings settings;
	struct intent_scratch *scratch;
	struct directory *dir;
	int serial;             /* makes every Message-ID and visitor unique */
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
	free(err);
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
	/* Every request does its whole work: no limit cuts it short. */
	f->settings.limits = (struct reply_limits){0};
	f->settings.actions.reminder_limit = f->settings.actions.reset_limit = 100000;
	f->settings.actions.status_limit = 100000;
	f->settings.actions.public_url = "https://assistance.ocapiat.test";
	f->scratch = intent_scratch_new();
	f->dir = directory_open_sqlite(f->ts.store);
	/* What is measured is the work each request does, not the disk: an fsync's time,
	 * the same for both, would drown the control's difference in its noise. */
	assert_int_equal(store_relax_durability(f->ts.store, true), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	directory_close(&f->dir);
	intent_scratch_free(&f->scratch);
	struct temp_store *ts = xmalloc(sizeof(*ts));
	*ts = f->ts;
	void *p = ts;
	temp_store_teardown(&p);
	free(f);
	return 0;
}

static double
now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void
run_deferred(struct fixture *f)
{
	unsigned queued;
	char *err = NULL;
	if (conversation_run_deferred(&f->settings.actions, f->ts.store, f->dir, engine, &queued, &err) < 0)
		fail_msg("conversation_run_deferred: %s", err);
}

/* One request's measure: µs until the reply, or with the account work too (control). */
typedef double (*request_fn)(struct fixture *f, bool hit, bool control);

/* By mail: the question from the holder's address or a stranger's. */
static double
mail_request(struct fixture *f, const char *question, bool hit, bool control)
{
	char *raw = xasprintf("From: %s\r\nTo: dialoguer@ocapiat.test\r\nSubject: Question\r\n"
			      "Message-ID: <timing-%d@example.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
			      hit ? HOLDER : STRANGER, ++f->serial, question);
	struct mail_result r;
	char *err = NULL;
	double t0 = now_us();
	if (mail_process(&f->settings, f->ts.store, f->dir, engine, f->scratch, raw, strlen(raw), strlen(raw), &r, &err) < 0)
		fail_msg("mail_process: %s", err);
	if (control)
		run_deferred(f);
	double took = now_us() - t0;
	run_deferred(f);
	mail_result_clear(&r);
	free(raw);
	return took;
}

static double
mail_reset(struct fixture *f, bool hit, bool control)
{
	return mail_request(f, "Bonjour, j'ai égaré mon mot de passe, pouvez-vous m'aider ?", hit, control);
}

static double
mail_reminder(struct fixture *f, bool hit, bool control)
{
	return mail_request(f, "Bonjour, j'ai oublié mon identifiant de connexion.", hit, control);
}

/* In the chat: the question (untimed), then the answer to what the assistant asked. */
static double
chat_request(struct fixture *f, const char *question, const char *answer, bool control)
{
	char *visitor = xasprintf("198.51.100.%d", ++f->serial);
	struct chat_session *cs = chat_session_new(&f->settings.actions, f->ts.store, f->dir, visitor);
	char *err = NULL;
	char *reply = chat_session_turn(cs, engine, f->scratch, &f->settings.dialog, question, strlen(question), &err);
	assert_non_null(reply);
	free(reply);
	double t0 = now_us();
	reply = chat_session_turn(cs, engine, f->scratch, &f->settings.dialog, answer, strlen(answer), &err);
	if (control)
		run_deferred(f);
	double took = now_us() - t0;
	assert_non_null(reply);
	free(reply);
	run_deferred(f);
	chat_session_free(&cs);
	free(visitor);
	return took;
}

static double
chat_reset(struct fixture *f, bool hit, bool control)
{
	return chat_request(f, "j'ai oublié mon mot de passe", hit ? HOLDER : STRANGER, control);
}

static double
chat_reminder(struct fixture *f, bool hit, bool control)
{
	return chat_request(f, "j'ai oublié mon identifiant", hit ? HOLDER : STRANGER, control);
}

static double
chat_dossier_code(struct fixture *f, bool hit, bool control)
{
	return chat_request(f, "où en est mon dossier " DOSSIER " ?", hit ? HOLDER : STRANGER, control);
}

/* The area under the ROC curve of hit > miss, folded: 0.5 when nothing tells them apart,
 * 1 when every hit is slower than every miss (or faster). */
static double
folded_auc(const double *hits, const double *misses, int n)
{
	double wins = 0;
	for (int i = 0; i < n; i++)
		for (int k = 0; k < n; k++)
			wins += hits[i] > misses[k] ? 1 : hits[i] == misses[k] ? 0.5 : 0;
	double auc = wins / ((double)n * n);
	return auc >= 0.5 ? auc : 1 - auc;
}

static int
by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* SAMPLES hits and SAMPLES misses in a shuffled order; prints the medians. */
static double
measure(struct fixture *f, const char *what, request_fn request, bool control)
{
	double hits[SAMPLES], misses[SAMPLES];
	bool order[2 * SAMPLES];
	for (int i = 0; i < 2 * SAMPLES; i++)
		order[i] = i < SAMPLES;
	srand(1234);
	for (int i = 2 * SAMPLES - 1; i > 0; i--) {
		int k = rand() % (i + 1);
		bool t = order[i];
		order[i] = order[k];
		order[k] = t;
	}
	for (int i = 0; i < 4; i++)  /* warm-up */
		request(f, i % 2, control);
	int nh = 0, nm = 0;
	for (int i = 0; i < 2 * SAMPLES; i++) {
		double took = request(f, order[i], control);
		if (order[i])
			hits[nh++] = took;
		else
			misses[nm++] = took;
	}
	double auc = folded_auc(hits, misses, SAMPLES);
	qsort(hits, SAMPLES, sizeof(*hits), by_value);
	qsort(misses, SAMPLES, sizeof(*misses), by_value);
	printf("# %-28s %-8s median %7.1f us (exists) %7.1f us (does not)  AUC %.3f\n", what,
	       control ? "control" : "reply", hits[SAMPLES / 2], misses[SAMPLES / 2], auc);
	return auc;
}

/* Measures taken while the machine is busy elsewhere (a parallel make check) can drown
 * even the control in noise: the pair is measured again, a few times at most, until the
 * control is told apart. The reply must stay indistinguishable every time. */
#define TRIES 5

static void
indistinguishable(void **state, const char *what, request_fn request)
{
	struct fixture *f = *state;
	bool sensitive = false;
	for (int i = 0; i < TRIES && !sensitive; i++) {
		double control = measure(f, what, request, true);
		double reply = measure(f, what, request, false);
		assert_true(reply < 0.6);
		/* The measure sees what the reply used to wait for. */
		sensitive = control > 0.6;
	}
	assert_true(sensitive);
}

static void
test_mail_reset(void **state)
{
	indistinguishable(state, "password reset by mail", mail_reset);
}

static void
test_mail_reminder(void **state)
{
	indistinguishable(state, "identifier reminder by mail", mail_reminder);
}

static void
test_chat_reset(void **state)
{
	indistinguishable(state, "password reset in the chat", chat_reset);
}

static void
test_chat_reminder(void **state)
{
	indistinguishable(state, "identifier reminder, chat", chat_reminder);
}

static void
test_chat_dossier_code(void **state)
{
	indistinguishable(state, "dossier code in the chat", chat_dossier_code);
}

/* The outbox as the SMTP sender reads it after a request by mail and its account work,
 * with [security] secret_mail_delay = 3: the reply first, then nothing until the mail to
 * the address on file is due 3 s later (the sender sleeps until then), then that mail. */
static void
reply_then_held(struct fixture *f, const char *question, enum outbox_kind held_kind)
{
	f->settings.actions.mail_delay = 3;
	int64_t before = (int64_t)time(NULL);
	mail_request(f, question, true, false);
	struct outbox_row row = {0};
	int64_t next_due = 0;
	assert_int_equal(store_outbox_next(f->ts.store, before, &row, &next_due), 1);
	assert_int_equal(row.kind, OUTBOX_REPLY);
	assert_int_equal(store_outbox_sent(f->ts.store, row.id, before), 0);
	outbox_row_clear(&row);
	assert_int_equal(store_outbox_next(f->ts.store, before + 2, &row, &next_due), 0);
	int64_t after = (int64_t)time(NULL);
	assert_true(next_due >= before + 3 && next_due <= after + 3);
	assert_int_equal(store_outbox_next(f->ts.store, next_due, &row, &next_due), 1);
	assert_int_equal(row.kind, held_kind);
	assert_string_equal(row.recipient, HOLDER);
	assert_int_equal(store_outbox_sent(f->ts.store, row.id, next_due), 0);
	outbox_row_clear(&row);
	/* A miss has nothing held: its reply alone. */
	mail_request(f, question, false, false);
	int64_t now = (int64_t)time(NULL);
	assert_int_equal(store_outbox_next(f->ts.store, now, &row, &next_due), 1);
	assert_int_equal(row.kind, OUTBOX_REPLY);
	assert_string_equal(row.recipient, STRANGER);
	assert_int_equal(store_outbox_sent(f->ts.store, row.id, now), 0);
	outbox_row_clear(&row);
	assert_int_equal(store_outbox_next(f->ts.store, now + 3600, &row, &next_due), 0);
	assert_int_equal(next_due, 0);
}

static void
test_mail_reset_link_waits(void **state)
{
	reply_then_held(*state, "Bonjour, j'ai égaré mon mot de passe, pouvez-vous m'aider ?", OUTBOX_SECRET);
}

static void
test_mail_reminder_waits(void **state)
{
	reply_then_held(*state, "Bonjour, j'ai oublié mon identifiant de connexion.", OUTBOX_ACTION);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mail_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mail_reminder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chat_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chat_reminder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chat_dossier_code, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mail_reset_link_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mail_reminder_waits, setup, teardown),
	};
	return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
