/* Tests of mail_channel + store without servers: one raw mail in, what the store holds
 * after (thread, messages, outbox), exactly once, threading, escalation, limits,
 * quarantine, too-large mail, and the one-transaction rule. */
#include "autoconf.h"
#include "testutil.h"
#include "testmailsettings.h"
#include "testchannel.h"
#include "engine/engine.h"
#include "mail/mail_channel.h"
#include "conversation/deferred.h"
#include "directory/directory_import.h"
#include "directory/directory_backend.h"
#include "accounts/reset_token.h"
#include "store/store.h"
#include "mail/setup.h"
#include "core/config.h"

#include <sqlite3.h>
#include <time.h>


static char *
question_mail(const char *from, const char *message_id, const char *in_reply_to, const char *body)
{
	return xasprintf("From: %s\r\nTo: dialoguer@ocapiat.test\r\nSubject: Ma question\r\nMessage-ID: <%s>\r\n"
			 "%s%s%s"
			 "Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
			 from, message_id, in_reply_to ? "In-Reply-To: <" : "", in_reply_to ? in_reply_to : "",
			 in_reply_to ? ">\r\n" : "", body);
}

/* What the reader does once a mail's reply is queued: the account work it left for
 * after it (deferred.h), its mails counted with the mail's. dir NULL: the store's. */
static void
after_reply(struct fixture *f, struct directory *dir, struct mail_result *r)
{
	struct directory *own = dir == NULL ? directory_open_sqlite(f->store) : NULL;
	unsigned queued = 0;
	char *err = NULL;
	if (conversation_run_deferred(&f->settings.actions, f->store, dir ? dir : own, f->engine, &queued, &err) < 0)
		fail_msg("conversation_run_deferred: %s", err);
	r->queued += queued;
	directory_close(&own);
}

static void
process(struct fixture *f, const char *raw, size_t full_size, struct mail_result *r)
{
	char *err = NULL;
	int rc = mail_process(&f->settings, f->store, NULL, f->engine, f->scratch, raw, strlen(raw),
			      full_size ? full_size : strlen(raw), r, &err);
	if (rc < 0)
		fail_msg("mail_process: %s", err);
	after_reply(f, NULL, r);
}

struct outbox_list {
	unsigned count;
	char kinds[16][16];
	char recipients[16][128];
	char message_ids[16][128];
};

static int
collect_outbox(const struct outbox_row *row, void *user)
{
	struct outbox_list *l = user;
	if (l->count < 16) {
		snprintf(l->kinds[l->count], 16, "%s", outbox_kind_name(row->kind));
		snprintf(l->recipients[l->count], 128, "%s", row->recipient);
		snprintf(l->message_ids[l->count], 128, "%s", row->message_id);
	}
	l->count++;
	return 0;
}

static struct outbox_list
outbox(struct fixture *f)
{
	struct outbox_list l;
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_outbox_each(f->store, NULL, collect_outbox, &l), 0);
	return l;
}

static void
test_answer_once(void **state)
{
	struct fixture *f = *state;
	char *raw = question_mail("Marie Durand <marie@example.test>", "q1@example.test", NULL,
				  "Bonjour,\r\nJ'ai égaré mon mot de passe, comment faire ?\r\nMerci");
	struct mail_result r;
	process(f, raw, 0, &r);
	assert_int_equal(r.outcome, MAIL_ANSWERED);
	assert_string_equal(r.intent, "password_reset");
	assert_string_equal(r.key, "q1@example.test");
	assert_int_equal(r.queued, 1);
	int64_t thread = r.thread_id;
	mail_result_clear(&r);
	struct outbox_list l = outbox(f);
	assert_int_equal(l.count, 1);
	assert_string_equal(l.kinds[0], "reply");
	assert_string_equal(l.recipients[0], "marie@example.test");
	assert_non_null(strstr(l.message_ids[0], "@ocapiat.test"));
	struct thread_row t = {0};
	assert_int_equal(store_thread_get(f->store, thread, &t), 1);
	assert_int_equal(t.state, THREAD_ANSWERED);
	assert_string_equal(t.intent, "password_reset");
	assert_int_equal(t.messages, 2);  /* the question and the reply */
	thread_row_clear(&t);

	/* The same mail again (UIDVALIDITY change, restart after the commit): nothing. */
	process(f, raw, 0, &r);
	assert_int_equal(r.outcome, MAIL_DUPLICATE);
	mail_result_clear(&r);
	assert_int_equal(outbox(f).count, 1);
	free(raw);
}

static void
test_mail_without_message_id_is_keyed_by_digest(void **state)
{
	struct fixture *f = *state;
	const char *raw = "From: a@example.test\r\nSubject: RIB\r\n\r\nComment modifier mon RIB ?\r\n";
	struct mail_result r;
	process(f, raw, 0, &r);
	assert_true(str_starts_with(r.key, "sha256:"));
	assert_int_equal(strlen(r.key), 7 + 64);
	mail_result_clear(&r);
	process(f, raw, 0, &r);
	assert_int_equal(r.outcome, MAIL_DUPLICATE);
	mail_result_clear(&r);
}

static void
test_follow_up_joins_thread_and_escalated_thread_stays_quiet(void **state)
{
	struct fixture *f = *state;
	char *raw = question_mail("paul@example.test", "u1@example.test", NULL,
				  "Je voudrais parler à un conseiller, merci de me rappeler.");
	struct mail_result r;
	process(f, raw, 0, &r);
	assert_int_equal(r.outcome, MAIL_ESCALATED);
	int64_t thread = r.thread_id;
	mail_result_clear(&r);
	struct outbox_list l = outbox(f);
	assert_int_equal(l.count, 2);  /* newest first: notification, then acknowledgement */
	assert_string_equal(l.kinds[0], "notify");
	assert_string_equal(l.recipients[0], "correspondants@ocapiat.test");
	assert_string_equal(l.kinds[1], "ack");
	char ack_id[128];
	snprintf(ack_id, sizeof(ack_id), "%s", l.message_ids[1]);
	free(raw);

	/* The writer answers our acknowledgement with a question the FAQ covers: a person
	 * handles this thread now, so no automatic answer, only a notice. */
	raw = question_mail("paul@example.test", "u2@example.test", ack_id, "Et comment déposer une facture ?");
	process(f, raw, 0, &r);
	assert_int_equal(r.outcome, MAIL_ATTACHED);
	assert_int_equal(r.thread_id, thread);
	mail_result_clear(&r);
	l = outbox(f);
	assert_int_equal(l.count, 3);
	assert_string_equal(l.kinds[0], "notify");
	free(raw);
	/* Follow-up after follow-up: three notices in the window, then silence. */
	for (int i = 3; i <= 4; i++) {
		char *id = xasprintf("u%d@example.test", i);
		raw = question_mail("paul@example.test", id, ack_id, "Vous avez eu mon message ?");
		process(f, raw, 0, &r);
		assert_int_equal(r.outcome, MAIL_ATTACHED);
		assert_int_equal(r.queued, i == 3 ? 1 : 0);
		mail_result_clear(&r);
		free(raw);
		free(id);
	}
}

static void
test_auto_reply_ignored(void **state)
{
	struct fixture *f = *state;
	const char *raw = "From: absent@example.test\r\nTo: dialoguer@ocapiat.test\r\nSubject: Absence\r\n"
			  "Message-ID: <ooo@example.test>\r\nAuto-Submitted: auto-replied\r\n\r\n"
			  "Je suis absent. Pour le mot de passe, voir avec Paul.\r\n";
	struct mail_result r;
	process(f, raw, 0, &r);
	assert_int_equal(r.outcome, MAIL_IGNORED);
	assert_non_null(strstr(r.reason, "Auto-Submitted"));
	mail_result_clear(&r);
	assert_int_equal(outbox(f).count, 0);
}

static void
test_burst_limit_goes_silent(void **state)
{
	struct fixture *f = *state;
	f->settings.limits.burst_limit = 2;
	struct mail_result r;
	for (int i = 0; i < 3; i++) {
		char *id = xasprintf("burst%d@example.test", i);
		char *raw = question_mail("loop@example.test", id, NULL, "Comment modifier mon RIB ?");
		process(f, raw, 0, &r);
		assert_int_equal(r.outcome, i < 2 ? MAIL_ANSWERED : MAIL_ESCALATED);
		if (i == 2) {
			assert_non_null(strstr(r.reason, "burst limit"));
			assert_int_equal(r.queued, 1);  /* the notification only, no reply */
		}
		mail_result_clear(&r);
		free(raw);
		free(id);
	}
	struct outbox_list l = outbox(f);
	assert_int_equal(l.count, 3);
	assert_string_equal(l.kinds[0], "notify");
	/* Still flooding: recorded and escalated, but the correspondants were told already. */
	char *raw = question_mail("loop@example.test", "burst9@example.test", NULL, "Comment modifier mon RIB ?");
	process(f, raw, 0, &r);
	assert_int_equal(r.outcome, MAIL_ESCALATED);
	assert_int_equal(r.queued, 0);
	mail_result_clear(&r);
	free(raw);
}

/* A delivery report about recipient: its returned headers name the Message-ID
 * returned_id (NULL: none). Caller frees. */
static char *
delivery_report(const char *dsn_id, const char *recipient, const char *returned_id)
{
	char *returned = returned_id ? xasprintf("--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
						 "From: dialoguer@ocapiat.test\r\nTo: %s\r\nMessage-ID: <%s>\r\n"
						 "Subject: Re: Votre demande\r\n\r\n", recipient, returned_id)
				     : xstrdup("");
	char *report = xasprintf(
		"From: MAILER-DAEMON@example.test\r\nTo: dialoguer@ocapiat.test\r\nSubject: Undelivered\r\n"
		"Message-ID: <%s>\r\nMIME-Version: 1.0\r\n"
		"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
		"--b\r\nContent-Type: text/plain\r\n\r\nFailed.\r\n"
		"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.test\r\n\r\n"
		"Final-Recipient: rfc822; %s\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n%s--b--\r\n",
		dsn_id, recipient, returned);
	free(returned);
	return report;
}

/* The Message-ID of the latest outbox entry to address. */
static char *
last_message_id_to(struct fixture *f, const char *address)
{
	struct outbox_list l = outbox(f);
	for (unsigned i = 0; i < l.count && i < 16; i++)  /* newest first */
		if (strcmp(l.recipients[i], address) == 0)
			return xstrdup(l.message_ids[i]);
	fail_msg("no mail to %s", address);
	return NULL;
}

static void
test_bounce_counts_only_for_our_recipients(void **state)
{
	struct fixture *f = *state;
	/* A delivery report naming someone we never wrote to must not silence them. */
	char *report = delivery_report("dsn1@example.test", "victim@example.test", NULL);
	struct mail_result r;
	process(f, report, 0, &r);
	assert_int_equal(r.outcome, MAIL_IGNORED);
	mail_result_clear(&r);
	free(report);
	assert_int_equal(store_last_bounce(f->store, "victim@example.test"), 0);
	char *raw = question_mail("victim@example.test", "v1@example.test", NULL, "Comment modifier mon RIB ?");
	process(f, raw, 0, &r);
	assert_int_equal(r.outcome, MAIL_ANSWERED);
	mail_result_clear(&r);
	free(raw);
	char *to_victim = last_message_id_to(f, "victim@example.test");
	/* We did write to victim@ now, but a forged report cannot know which mail: one
	 * returning no mail of ours, or the mail we sent the forger, does not count. */
	raw = question_mail("forger@example.test", "x1@example.test", NULL, "Comment modifier mon RIB ?");
	process(f, raw, 0, &r);
	mail_result_clear(&r);
	free(raw);
	char *to_forger = last_message_id_to(f, "forger@example.test");
	static const char *const ids[] = { "dsn2@example.test", "dsn3@example.test" };
	const char *returned[] = { NULL, to_forger };
	for (size_t i = 0; i < 2; i++) {
		report = delivery_report(ids[i], "victim@example.test", returned[i]);
		process(f, report, 0, &r);
		assert_int_equal(r.outcome, MAIL_IGNORED);
		mail_result_clear(&r);
		free(report);
		assert_int_equal(store_last_bounce(f->store, "victim@example.test"), 0);
	}
	/* The real report returns the mail we sent to victim@: it counts. */
	report = delivery_report("dsn4@example.test", "Victim@Example.test", to_victim);
	process(f, report, 0, &r);
	mail_result_clear(&r);
	free(report);
	assert_true(store_last_bounce(f->store, "victim@example.test") > 0);
	free(to_forger);
	free(to_victim);
}

static void
test_bounced_address_gets_no_reply(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(store_bounce_add(f->store, "Gone@Example.test", (int64_t)time(NULL)), 0);
	char *raw = question_mail("gone@example.test", "b1@example.test", NULL, "Comment modifier mon RIB ?");
	struct mail_result r;
	process(f, raw, 0, &r);
	assert_int_equal(r.outcome, MAIL_ESCALATED);
	assert_non_null(strstr(r.reason, "bounced"));
	mail_result_clear(&r);
	struct outbox_list l = outbox(f);
	assert_int_equal(l.count, 1);
	assert_string_equal(l.kinds[0], "notify");
	free(raw);
}

static void
test_quarantine_after_crash(void **state)
{
	struct fixture *f = *state;
	char *raw = question_mail("crash@example.test", "crash@example.test", NULL, "Comment modifier mon RIB ?");
	/* As if an earlier attempt had died while parsing. */
	assert_int_equal(store_attempt_begin(f->store, "INBOX", "crash@example.test"), 0);
	struct mail_result r;
	process(f, raw, 0, &r);
	assert_int_equal(r.outcome, MAIL_ESCALATED);
	assert_non_null(strstr(r.reason, "quarantined"));
	assert_int_equal(r.queued, 2);
	mail_result_clear(&r);
	free(raw);
	/* Interrupted twice: not even its headers are read; the correspondants only. */
	raw = question_mail("crash2@example.test", "crash2@example.test", NULL, "Comment modifier mon RIB ?");
	assert_int_equal(store_attempt_begin(f->store, "INBOX", "crash2@example.test"), 0);
	assert_int_equal(store_attempt_begin(f->store, "INBOX", "crash2@example.test"), 1);
	process(f, raw, 0, &r);
	assert_int_equal(r.outcome, MAIL_ESCALATED);
	assert_string_equal(r.requester, "");
	assert_int_equal(r.queued, 1);
	mail_result_clear(&r);
	free(raw);
}

static void
test_too_large_escalated_unread(void **state)
{
	struct fixture *f = *state;
	f->settings.max_message_size = 1000;
	const char *head = "From: big@example.test\r\nTo: dialoguer@ocapiat.test\r\nSubject: =?utf-8?q?Pi=C3=A8ces?=\r\n"
			   "Message-ID: <big@example.test>\r\n\r\n";
	struct mail_result r;
	process(f, head, 5000000, &r);
	assert_int_equal(r.outcome, MAIL_ESCALATED);
	assert_non_null(strstr(r.reason, "5000000 bytes"));
	assert_string_equal(r.requester, "big@example.test");
	mail_result_clear(&r);
}

static double
seconds_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* 400 KB of unclosed tags once held the reader thread for minutes and took gigabytes
 * (gumbo's square of the depth): the mail is now answered or escalated at once, and the
 * ordinary question behind it too. The bound is generous for the sanitizers' builds. */
static void
test_deeply_nested_html_then_a_question(void **state)
{
	struct fixture *f = *state;
	struct strbuf sb = {0};
	strbuf_adds(&sb, "From: nest@example.test\r\nTo: dialoguer@ocapiat.test\r\nSubject: Connexion\r\n"
		    "Message-ID: <nest@example.test>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n");
	while (sb.len < 400 * 1024)
		strbuf_adds(&sb, "<div><span>");
	strbuf_adds(&sb, "Je n'arrive pas \xC3\xA0 me connecter \xC3\xA0 mon espace.\r\n");
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct mail_result r;
	process(f, sb.data, 0, &r);
	double hostile = seconds_since(&t0);
	assert_true(r.outcome == MAIL_ANSWERED || r.outcome == MAIL_ESCALATED);
	mail_result_clear(&r);
	char *raw = question_mail("Marie Durand <marie@example.test>", "after-nest@example.test", NULL,
				  "Bonjour,\r\nJ'ai \xC3\xA9gar\xC3\xA9 mon mot de passe, comment faire ?");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	process(f, raw, 0, &r);
	double next = seconds_since(&t0);
	print_message("400 KB of nested tags: %.3f s; the question behind it: %.3f s\n", hostile, next);
	assert_int_equal(r.outcome, MAIL_ANSWERED);
	assert_string_equal(r.intent, "password_reset");
	assert_true(hostile < 10.0 && next < 10.0);  /* minutes before the fix; shared CI machines are slow */
	mail_result_clear(&r);
	free(raw);
	strbuf_free(&sb);
}

static void
test_unfetchable_escalated(void **state)
{
	struct fixture *f = *state;
	const char *stand_in = "Message-ID: <uid-7.42.unfetchable@dialogd.invalid>\r\nSubject: (UID 7)\r\n\r\n";
	struct mail_result r;
	char *err = NULL;
	assert_int_equal(mail_process(&f->settings, f->store, NULL, f->engine, f->scratch, stand_in, strlen(stand_in),
				      MAIL_SIZE_UNFETCHABLE, &r, &err), 0);
	assert_int_equal(r.outcome, MAIL_ESCALATED);
	assert_non_null(strstr(r.reason, "refused to deliver"));
	/* No address to acknowledge to: the correspondants only. */
	assert_int_equal(r.queued, 1);
	mail_result_clear(&r);
	struct outbox_list l = outbox(f);
	assert_int_equal(l.count, 1);
	assert_string_equal(l.kinds[0], "notify");
}

static void
test_store_failure_commits_nothing(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TRIGGER no_outbox BEFORE INSERT ON outbox BEGIN"
				      " SELECT RAISE(ABORT, 'disk on fire'); END", NULL, NULL, NULL), SQLITE_OK);
	char *raw = question_mail("t@example.test", "t1@example.test", NULL, "Comment modifier mon RIB ?");
	struct mail_result r;
	char *err = NULL;
	assert_int_equal(mail_process(&f->settings, f->store, NULL, f->engine, f->scratch, raw, strlen(raw), strlen(raw), &r,
				      &err), -1);
	assert_non_null(strstr(err, "disk on fire"));
	free(err);
	mail_result_clear(&r);
	/* Neither thread, nor message, nor "processed", nor a quarantine marker. */
	sqlite3_stmt *stmt;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM threads) + (SELECT count(*) FROM messages)"
					    " + (SELECT count(*) FROM processed) + (SELECT count(*) FROM attempts)",
					    -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(stmt, 0), 0);
	sqlite3_finalize(stmt);
	assert_int_equal(sqlite3_exec(db, "DROP TRIGGER no_outbox", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	/* Once the store works again the same mail is answered normally. */
	process(f, raw, 0, &r);
	assert_int_equal(r.outcome, MAIL_ANSWERED);
	mail_result_clear(&r);
	free(raw);
}

static void
test_mail_recorded_meanwhile_is_a_duplicate(void **state)
{
	struct fixture *f = *state;
	/* Another process records the same mail while this one processes it (here a trigger
	 * plays that process): the UNIQUE conflict makes it a duplicate, nothing is queued. */
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TRIGGER other AFTER INSERT ON threads BEGIN"
				      " INSERT INTO processed VALUES ('INBOX', 'race@example.test', NULL, 0); END",
				      NULL, NULL, NULL), SQLITE_OK);
	char *raw = question_mail("race@example.test", "race@example.test", NULL, "Comment modifier mon RIB ?");
	struct mail_result r;
	process(f, raw, 0, &r);
	assert_int_equal(r.outcome, MAIL_DUPLICATE);
	mail_result_clear(&r);
	assert_int_equal(outbox(f).count, 0);
	sqlite3_close(db);
	free(raw);
}

static int
count_audit(const struct audit_row *row, void *user)
{
	(void)row;
	(*(int *)user)++;
	return 0;
}

static void
test_purge(void **state)
{
	struct fixture *f = *state;
	char *raw = question_mail("old@example.test", "old@example.test", NULL, "Comment modifier mon RIB ?");
	struct mail_result r;
	process(f, raw, 0, &r);
	assert_int_equal(r.outcome, MAIL_ANSWERED);
	int64_t thread = r.thread_id;
	mail_result_clear(&r);
	assert_int_equal(store_audit_add(f->store, "mail", "old@example.test", "identifier_reminder", "JMOREAU01", "sent"), 0);
	assert_int_equal(store_audit_add(f->store, "mail", "new@example.test", "identifier_reminder", NULL, "no account"), 0);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	/* A wrong code and a notice waiting for the digest, one old and one recent each. */
	assert_int_equal(sqlite3_exec(db, "INSERT INTO wrong_codes (at, visitor, email, code_sent) VALUES"
				      " (1000, '203.0.113.9', 'old@example.test', 1), (3000, '203.0.113.9', 'new@example.test', 1);"
				      "INSERT INTO deferred_notices (thread_id, reason, at) VALUES (1, 'old', 1000), (1, 'new', 3000)",
				      NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE threads SET updated = 1000; UPDATE audit SET at = 1000 WHERE requester = 'old@example.test'",
				      NULL, NULL, NULL), SQLITE_OK);
	struct purge_counts c;
	/* The reply is still to be sent: the thread stays. */
	assert_int_equal(store_purge(f->store, 2000, &c), 0);
	assert_int_equal(c.threads, 0);
	assert_int_equal(c.audit, 1);
	assert_int_equal(query_count(f, "SELECT count(*) FROM wrong_codes WHERE email = 'new@example.test'"), 1);
	assert_int_equal(query_count(f, "SELECT count(*) FROM wrong_codes"), 1);
	assert_int_equal(query_count(f, "SELECT count(*) FROM deferred_notices WHERE reason = 'new'"), 1);
	assert_int_equal(query_count(f, "SELECT count(*) FROM deferred_notices"), 1);
	assert_int_equal(sqlite3_exec(db, "UPDATE outbox SET state = 'sent'", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_purge(f->store, 2000, &c), 0);
	assert_int_equal(c.threads, 1);
	assert_int_equal(c.messages, 2);
	assert_int_equal(c.outbox, 1);
	struct thread_row t = {0};
	assert_int_equal(store_thread_get(f->store, thread, &t), 0);
	int audit = 0;
	assert_int_equal(store_audit_each(f->store, count_audit, &audit), 0);
	assert_int_equal(audit, 1);
	/* Purged, but never answered again. */
	process(f, raw, 0, &r);
	assert_int_equal(r.outcome, MAIL_DUPLICATE);
	mail_result_clear(&r);
	sqlite3_close(db);
	free(raw);
}

/* The body of the last outbound message of a thread with the given decision. */
struct last_body {
	const char *decision;
	char *body;             /* the last such message's body, or its subject */
	bool subject;           /* the subject is wanted */
};

static int
find_body(const struct message_row *m, int64_t at, void *user)
{
	(void)at;
	struct last_body *b = user;
	if (strcmp(m->direction, "out") == 0 && strcmp(m->decision, b->decision) == 0) {
		free(b->body);
		b->body = xstrdup(b->subject ? m->subject : m->body);
	}
	return 0;
}

static char *
reply_body(struct fixture *f, int64_t thread, const char *decision)
{
	struct last_body b = { .decision = decision };
	assert_int_equal(store_messages_each(f->store, thread, find_body, &b), 0);
	return b.body;
}

static void
load_directory(struct fixture *f)
{
	static const char *const names[] = { "companies", "accounts", "dossiers" };
	for (int t = 0; t < 3; t++) {
		char *path = xasprintf("%s/directory/%s.csv", TEST_DATA_DIR, names[t]);
		char *err = NULL;
		assert_true(directory_import(f->store, (enum directory_table)t, path, &err) > 0);
		free(path);
	}
}

static void
test_identifier_reminder_reveals_nothing(void **state)
{
	struct fixture *f = *state;
	load_directory(f);
	const char *question = "Bonjour, j'ai oublié mon identifiant de connexion, pouvez-vous me le rappeler ?";
	char *known = question_mail("Julien Moreau <J.Moreau@scierie-des-combes.example>", "k1@example.test", NULL, question);
	char *unknown = question_mail("Personne <personne@example.test>", "u1@example.test", NULL, question);
	struct mail_result rk, ru;
	process(f, known, 0, &rk);
	process(f, unknown, 0, &ru);
	assert_int_equal(rk.outcome, MAIL_ANSWERED);
	assert_string_equal(rk.intent, "identifier_reminder");
	assert_int_equal(ru.outcome, MAIL_ANSWERED);
	/* The owner of the address gets a second mail; the replies are byte-identical. */
	assert_int_equal(rk.queued, 2);
	assert_int_equal(ru.queued, 1);
	char *bk = reply_body(f, rk.thread_id, "reply"), *bu = reply_body(f, ru.thread_id, "reply");
	assert_non_null(bk);
	assert_string_equal(bk, bu);
	assert_non_null(strstr(bk, "Si un compte utilisateur est associé à votre adresse mail"));
	assert_null(strstr(bk, "JMOREAU01"));
	char *action = reply_body(f, rk.thread_id, "action");
	assert_non_null(action);
	assert_non_null(strstr(action, "Identifiant : JMOREAU01 (Scierie des Combes)"));
	struct outbox_list l = outbox(f);
	assert_int_equal(l.count, 3);
	bool to_owner = false;
	for (unsigned i = 0; i < l.count; i++)
		/* To the address on file as the directory writes it, not as the writer typed it. */
		to_owner |= strcmp(l.kinds[i], "action") == 0 && strcmp(l.recipients[i], "j.moreau@scierie-des-combes.example") == 0;
	assert_true(to_owner);
	free(bk);
	free(bu);
	free(action);
	mail_result_clear(&rk);
	mail_result_clear(&ru);
	/* Beyond the hourly limit: the same reply, nothing more sent. */
	for (int i = 2; i <= 4; i++) {
		char *id = xasprintf("k%d@example.test", i);
		char *raw = question_mail("j.moreau@scierie-des-combes.example", id, NULL, question);
		process(f, raw, 0, &rk);
		assert_int_equal(rk.queued, i <= 3 ? 2 : 1);
		mail_result_clear(&rk);
		free(raw);
		free(id);
	}
	free(known);
	free(unknown);
}


/* The raw text of the newest outbox entry of kind to recipient, QP soft breaks and "=3D"
 * undone (enough to read a link back). Caller frees; NULL when none. */
static char *
outbox_text(struct fixture *f, const char *kind, const char *recipient)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	sqlite3_stmt *stmt;
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT raw FROM outbox WHERE kind = ? AND recipient = ? ORDER BY id DESC LIMIT 1",
					    -1, &stmt, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(stmt, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, recipient, -1, SQLITE_STATIC);
	char *out = NULL;
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		const char *raw = (const char *)sqlite3_column_text(stmt, 0);
		struct strbuf sb = {0};
		for (const char *p = raw; *p; p++) {
			if (p[0] == '=' && p[1] == '\r' && p[2] == '\n')
				p += 2;
			else if (p[0] == '=' && p[1] == '3' && p[2] == 'D')
				strbuf_addc(&sb, '='), p += 2;
			else
				strbuf_addc(&sb, *p);
		}
		out = strbuf_detach(&sb);
	}
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return out;
}

/* The token of the reset link in text, or "" (static buffer). */
static const char *
link_token(const char *text)
{
	static char token[RESET_TOKEN_SIZE];
	token[0] = '\0';
	const char *p = text ? strstr(text, "/reinitialisation?jeton=") : NULL;
	if (p != NULL)
		snprintf(token, sizeof(token), "%.*s", RESET_TOKEN_SIZE - 1, p + strlen("/reinitialisation?jeton="));
	return token;
}

static int
find_text(const struct message_row *m, int64_t at, void *user)
{
	(void)at;
	const char **needle = user;
	if (m->body != NULL && strstr(m->body, needle[0]) != NULL)
		needle[1] = "found";
	return 0;
}

/* Whether any message of the thread contains needle. */
static bool
history_contains(struct fixture *f, int64_t thread, const char *needle)
{
	const char *search[2] = { needle, NULL };
	assert_int_equal(store_messages_each(f->store, thread, find_text, search), 0);
	return search[1] != NULL;
}

static void
test_password_reset_reveals_nothing(void **state)
{
	struct fixture *f = *state;
	load_directory(f);
	const char *question = "Bonjour, j'ai égaré mon mot de passe, comment faire ?";
	char *known = question_mail("Julien Moreau <j.moreau@scierie-des-combes.example>", "r1@example.test", NULL, question);
	char *unknown = question_mail("Personne <personne@example.test>", "r2@example.test", NULL, question);
	struct mail_result rk, ru;
	process(f, known, 0, &rk);
	process(f, unknown, 0, &ru);
	assert_string_equal(rk.intent, "password_reset");
	assert_int_equal(rk.outcome, MAIL_ANSWERED);
	assert_int_equal(rk.queued, 2);
	assert_int_equal(ru.queued, 1);
	char *bk = reply_body(f, rk.thread_id, "reply"), *bu = reply_body(f, ru.thread_id, "reply");
	assert_string_equal(bk, bu);
	assert_non_null(strstr(bk, "toute première connexion"));
	assert_non_null(strstr(bk, "valable 30 minutes"));
	/* The link went to the address on file only, as a secret mail; the history keeps it
	 * redacted; the store keeps only the token's hash. */
	char *mail = outbox_text(f, "secret", "j.moreau@scierie-des-combes.example");
	assert_non_null(mail);
	const char *token = link_token(mail);
	assert_int_equal(strlen(token), RESET_TOKEN_SIZE - 1);
	assert_non_null(strstr(mail, "https://assistance.ocapiat.test/reinitialisation?jeton="));
	assert_false(history_contains(f, rk.thread_id, token));
	assert_true(history_contains(f, rk.thread_id, "[lien retiré de l’historique"));
	char *copy = xstrdup(token);
	char *identifier = NULL;
	assert_int_equal(reset_token_redeem(f->store, copy, time(NULL), &identifier), RESET_VALID);
	assert_string_equal(identifier, "JMOREAU01");
	free(identifier);
	assert_int_equal(reset_token_redeem(f->store, copy, time(NULL), &identifier), RESET_INVALID);
	free(copy);
	free(mail);
	free(bk);
	free(bu);
	mail_result_clear(&rk);
	mail_result_clear(&ru);
	free(known);
	free(unknown);
}

static void
test_password_reset_by_identifier_goes_to_the_address_on_file(void **state)
{
	struct fixture *f = *state;
	load_directory(f);
	struct mail_result r1, r2;
	char *m1 = question_mail("quelqu.un@example.test", "i1@example.test", NULL,
				 "Bonjour, mot de passe oublié. Mon identifiant est ALEMAIRE, merci.");
	char *m2 = question_mail("quelqu.un@example.test", "i2@example.test", NULL,
				 "Bonjour, mot de passe oublié. Mon identifiant est INCONNU42, merci.");
	process(f, m1, 0, &r1);
	process(f, m2, 0, &r2);
	assert_int_equal(r1.queued, 2);
	assert_int_equal(r2.queued, 1);
	char *b1 = reply_body(f, r1.thread_id, "reply"), *b2 = reply_body(f, r2.thread_id, "reply");
	/* Identical: an unauthenticated writer's words are not quoted back. */
	assert_null(strstr(b1, "Votre message"));
	if (strcmp(b1, b2) != 0)
		fprintf(stderr, "---\n%s\n---\n%s\n", b1, b2);
	assert_string_equal(b1, b2);
	struct outbox_list l = outbox(f);
	bool to_holder = false, to_writer_secret = false;
	for (unsigned i = 0; i < l.count; i++) {
		to_holder |= strcmp(l.kinds[i], "secret") == 0 && strcmp(l.recipients[i], "audrey.lemaire@serres-lemaire.example") == 0;
		to_writer_secret |= strcmp(l.kinds[i], "secret") == 0 && strcmp(l.recipients[i], "quelqu.un@example.test") == 0;
	}
	assert_true(to_holder);
	assert_false(to_writer_secret);
	/* The holder's mail is in a thread of its own, not in the requester's. */
	assert_false(history_contains(f, r1.thread_id, "[lien retiré de l’historique"));
	free(b1);
	free(b2);
	mail_result_clear(&r1);
	mail_result_clear(&r2);
	free(m1);
	free(m2);
}

static void
test_reset_link_quoted_in_a_reply_is_not_kept(void **state)
{
	struct fixture *f = *state;
	load_directory(f);
	char *ask = question_mail("j.moreau@scierie-des-combes.example", "q1@example.test", NULL,
				  "Bonjour, j'ai égaré mon mot de passe.");
	struct mail_result r;
	process(f, ask, 0, &r);
	char *mail = outbox_text(f, "secret", "j.moreau@scierie-des-combes.example");
	char *token = xstrdup(link_token(mail));
	struct outbox_list l = outbox(f);
	const char *secret_id = NULL;
	for (unsigned i = 0; i < l.count; i++)
		if (strcmp(l.kinds[i], "secret") == 0)
			secret_id = l.message_ids[i];
	assert_non_null(secret_id);
	/* The holder answers the link's mail, quoting it, with a code-like number too. */
	char *body = xasprintf("Le lien ne fonctionne pas, pouvez-vous m'appeler ?\r\n\r\n"
			       "> https://assistance.ocapiat.test/reinitialisation?jeton=%s\r\n> Code 123 456\r\n",
			       token);
	char *reply = question_mail("j.moreau@scierie-des-combes.example", "q2@example.test", secret_id, body);
	struct mail_result r2;
	process(f, reply, 0, &r2);
	assert_int_equal(r2.thread_id, r.thread_id);
	assert_false(history_contains(f, r.thread_id, token));
	assert_false(history_contains(f, r.thread_id, "123 456"));
	assert_true(history_contains(f, r.thread_id, "Le lien ne fonctionne pas"));
	mail_result_clear(&r);
	mail_result_clear(&r2);
	free(reply);
	free(body);
	free(token);
	free(mail);
	free(ask);
}

/* Whether the thread's subject (kept, shown in the notification) contains needle. */
static bool
subject_contains(struct fixture *f, int64_t thread, const char *needle)
{
	struct thread_row t = {0};
	assert_int_equal(store_thread_get(f->store, thread, &t), 1);
	bool found = strstr(t.subject, needle) != NULL;
	thread_row_clear(&t);
	return found;
}

/* A live reset link (or its token alone) pasted into a new mail, by its holder or
 * anyone: in no stored message (in or out), no thread subject, no acknowledgement and no
 * correspondants' notification. */
static void
test_pasted_reset_link_is_scrubbed_everywhere(void **state)
{
	struct fixture *f = *state;
	const char *token = "Zm9yZ2VkLXRva2VuLWZvci10ZXN0aW5nLXNjcnViYmU";
	assert_int_equal(strlen(token), 43);
	/* Authenticated, so that the question is quoted back: the quote is scrubbed too. */
	f->settings.authserv_id = "mx.ocapiat.test";
	char *raw = xasprintf("From: holder@example.test\r\nTo: dialoguer@ocapiat.test\r\n"
			      "Subject: Lien %s\r\nMessage-ID: <paste1@example.test>\r\n"
			      "Authentication-Results: mx.ocapiat.test; dkim=pass header.d=example.test\r\n"
			      "Content-Type: text/plain; charset=utf-8\r\n\r\n"
			      "Je voudrais parler à un conseiller : le lien "
			      "https://assistance.ocapiat.test/reinitialisation?jeton=%s ne marche pas.\r\n"
			      "Le jeton seul : %s\r\n",
			      token, token, token);
	struct mail_result r;
	process(f, raw, 0, &r);
	assert_int_equal(r.outcome, MAIL_ESCALATED);
	assert_false(history_contains(f, r.thread_id, token));
	assert_true(history_contains(f, r.thread_id, "ne marche pas"));
	assert_false(subject_contains(f, r.thread_id, token));
	char *ack = outbox_text(f, "ack", "holder@example.test");
	char *notice = outbox_text(f, "notify", "correspondants@ocapiat.test");
	assert_non_null(ack);
	assert_non_null(notice);
	assert_non_null(strstr(ack, "Votre message :"));  /* quoted, without the token */
	assert_null(strstr(ack, token));
	assert_null(strstr(notice, token));
	assert_non_null(strstr(notice, "ne marche pas"));
	free(notice);
	free(ack);
	/* A follow-up in the escalated thread: kept and passed on without it either. */
	char *again = question_mail("holder@example.test", "paste2@example.test", "paste1@example.test",
				    "Toujours pas : https://assistance.ocapiat.test/reinitialisation?jeton=");
	char *follow = xasprintf("%s%s\r\n", again, token);
	struct mail_result r2;
	process(f, follow, 0, &r2);
	assert_int_equal(r2.outcome, MAIL_ATTACHED);
	assert_false(history_contains(f, r.thread_id, token));
	notice = outbox_text(f, "notify", "correspondants@ocapiat.test");
	assert_non_null(strstr(notice, "Toujours pas"));
	assert_null(strstr(notice, token));
	free(notice);
	mail_result_clear(&r2);
	mail_result_clear(&r);
	free(follow);
	free(again);
	free(raw);
}

/* The subject of the thread's last outbound mail of that kind ("ack", "reply"). */
static char *
reply_subject(struct fixture *f, int64_t thread, const char *decision)
{
	struct last_body b = { decision, NULL, true };
	assert_int_equal(store_messages_each(f->store, thread, find_body, &b), 0);
	assert_non_null(b.body);
	return b.body;
}

/* dialogd as a phishing relay: whoever sets Reply-To (or forges From) to a victim
 * chooses neither the subject nor any text of what OCAPIAT's address sends the victim;
 * an authenticated writer sees their words quoted, never a link from them. */
static void
test_reply_carries_no_stranger_text_or_link(void **state)
{
	struct fixture *f = *state;
	f->settings.authserv_id = "mx.ocapiat.test";
	const char *lure = "Content-Type: text/plain; charset=utf-8\r\n\r\n"
			   "Je voudrais parler a un conseiller. Reconnectez-vous sur https://ocapiat-securite.example.com/login "
			   "ou www.ocapiat-verif.example ou ocapiat-compte.com/connexion sous 24 h.\r\n";
	static const char *const heads[] = {
		/* Reply-To a victim, From the attacker, authenticated or not. */
		"From: attacker@evil.example\r\nReply-To: victim@example.test\r\n"
		"Authentication-Results: mx.ocapiat.test; dkim=pass header.d=evil.example\r\n",
		/* A forged From: no Authentication-Results of ours. */
		"From: victim@example.test\r\n",
		/* A forged From with a forged Authentication-Results below ours. */
		"Authentication-Results: mx.ocapiat.test; dkim=fail header.d=example.test\r\n"
		"From: victim@example.test\r\n"
		"Authentication-Results: mx.ocapiat.test; dkim=pass header.d=example.test\r\n",
	};
	for (size_t i = 0; i < sizeof(heads) / sizeof(*heads); i++) {
		char *raw = xasprintf("%sTo: dialoguer@ocapiat.test\r\nSubject: URGENT votre compte sera suspendu "
				      "https://evil.example/x\r\nMessage-ID: <lure%zu@example.test>\r\n%s",
				      heads[i], i, lure);
		struct mail_result r;
		process(f, raw, 0, &r);
		assert_int_equal(r.outcome, MAIL_ESCALATED);
		char *ack = outbox_text(f, "ack", "victim@example.test");
		assert_non_null(ack);
		char *subject = reply_subject(f, r.thread_id, "ack");
		assert_string_equal(subject, "Re: Votre demande");
		assert_null(strstr(ack, "suspendu"));
		assert_null(strstr(ack, "Reconnectez"));
		assert_null(strstr(ack, "example.com"));
		assert_null(strstr(ack, "evil"));
		free(subject);
		free(ack);
		mail_result_clear(&r);
		free(raw);
	}
	/* The authenticated writer, replied to at that address: quoted, links removed. */
	char *raw = xasprintf("From: writer@example.test\r\nTo: dialoguer@ocapiat.test\r\n"
			      "Authentication-Results: mx.ocapiat.test; dkim=pass header.d=example.test\r\n"
			      "Subject: Question www.example.org/page\r\nMessage-ID: <own@example.test>\r\n%s", lure);
	struct mail_result r;
	process(f, raw, 0, &r);
	char *ack = outbox_text(f, "ack", "writer@example.test");
	assert_non_null(ack);
	char *subject = reply_subject(f, r.thread_id, "ack");
	assert_string_equal(subject, "Re: Question [lien retiré]");
	char *kept = reply_body(f, r.thread_id, "ack");  /* as sent, before its encoding */
	assert_non_null(strstr(kept, "> Je voudrais parler a un conseiller. Reconnectez-vous sur [lien retiré] ou "
				     "[lien retiré] ou [lien retiré] sous 24 h."));
	free(kept);
	assert_null(strstr(ack, "example.com"));
	assert_null(strstr(ack, "ocapiat-verif"));
	free(subject);
	free(ack);
	mail_result_clear(&r);
	free(raw);
}

/* Counts the outbox entries of kind. */
static unsigned
outbox_count(struct fixture *f, const char *kind)
{
	char *sql = xasprintf("SELECT count(*) FROM outbox WHERE kind = '%s'", kind);
	unsigned n = query_count(f, sql);
	free(sql);
	return n;
}

/* 200 questions from rotating addresses: plus-addressing, new local parts of one
 * domain, new domains. Each kind gets no more automatic replies than its limit, and
 * the correspondants one notification each up to notify_limit, then one digest. */
static void
test_rotating_addresses_buy_nothing(void **state)
{
	struct fixture *f = *state;
	f->settings.limits.burst_limit = 3;
	f->settings.limits.daily_limit = 5;
	f->settings.limits.domain_limit = 10;
	f->settings.limits.global_limit = 25;
	f->settings.actions.notify.notify_limit = 6;
	f->settings.actions.notify.digest_interval = 900;
	for (int i = 0; i < 200; i++) {
		char *from = i < 50 ? xasprintf("flood+%d@plus.example", i)
			     : i < 100 ? xasprintf("user%d@one.example", i)
				       : xasprintf("someone@d%d.example", i);
		char *id = xasprintf("flood%d@example.test", i);
		/* Unknown to the assistant: each one an escalation, acknowledged and notified. */
		char *raw = question_mail(from, id, NULL, "Bonjour, quelle est la couleur du ciel chez vous ?");
		struct mail_result r;
		process(f, raw, 0, &r);
		assert_int_equal(r.outcome, MAIL_ESCALATED);
		mail_result_clear(&r);
		free(raw);
		free(id);
		free(from);
	}
	/* plus.example: burst_limit 3 (the +tags fold); one.example: domain_limit 10; then
	 * the global limit stops the rest: 25 in all. */
	assert_int_equal(outbox_count(f, "ack"), 25);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	sqlite3_stmt *stmt;
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT sum(recipient LIKE '%@plus.example'), sum(recipient LIKE '%@one.example')"
					    " FROM outbox WHERE kind = 'ack'", -1, &stmt, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(stmt, 0), 3);
	assert_int_equal(sqlite3_column_int(stmt, 1), 10);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	/* Notifications: notify_limit one by one, the others held. */
	assert_int_equal(outbox_count(f, "notify"), 6);
	int64_t now = (int64_t)time(NULL);
	assert_int_equal(notify_digest(&f->settings.actions.notify, f->store, f->engine, now), 1);
	assert_int_equal(outbox_count(f, "notify"), 7);
	char *digest = outbox_text(f, "notify", "correspondants@ocapiat.test");
	assert_non_null(digest);
	assert_non_null(strstr(digest, "194 fil(s)"));
	assert_non_null(strstr(digest, "someone@d199.example"));
	free(digest);
	/* Nothing held any more; and a new flood waits digest_interval for the next one. */
	assert_int_equal(notify_digest(&f->settings.actions.notify, f->store, f->engine, now), 0);
	char *raw = question_mail("late@d999.example", "late@example.test", NULL, "Et la couleur de la mer ?");
	struct mail_result r;
	process(f, raw, 0, &r);
	mail_result_clear(&r);
	free(raw);
	assert_int_equal(notify_digest(&f->settings.actions.notify, f->store, f->engine, now + 60), 0);
	assert_int_equal(notify_digest(&f->settings.actions.notify, f->store, f->engine, now + 901), 1);
	assert_int_equal(outbox_count(f, "notify"), 8);
}

static void
test_many_accounts_on_one_address(void **state)
{
	struct fixture *f = *state;
	load_directory(f);
	/* An accounting firm acting for its clients: twelve accounts with one address. */
	for (int i = 0; i < 12; i++) {
		char *id = xasprintf("CABINET%02d", i);
		struct account_row a = { id, "compta@cabinet.example", "entreprise", "41238765600025", "active" };
		assert_int_equal(store_account_put(f->store, &a), 0);
		free(id);
	}
	char *raw = question_mail("compta@cabinet.example", "m1@example.test", NULL,
				  "Bonjour, j'ai oublié mon identifiant de connexion.");
	struct mail_result r;
	process(f, raw, 0, &r);
	assert_int_equal(r.queued, 2);
	char *mail = outbox_text(f, "action", "compta@cabinet.example");
	assert_non_null(mail);
	/* At most ten accounts per request: listed, limited and audited alike. */
	int listed = 0;
	for (const char *p = mail; (p = strstr(p, "Identifiant : CABINET")) != NULL; p++)
		listed++;
	assert_int_equal(listed, 10);
	assert_int_equal(store_audit_count(f->store, "compta@cabinet.example", "identifier_reminder", 0), 10);
	mail_result_clear(&r);
	free(mail);
	free(raw);
}

static void
test_password_reset_limits(void **state)
{
	struct fixture *f = *state;
	load_directory(f);
	/* Per account: requests from many addresses do not flood the holder. */
	for (int i = 1; i <= 5; i++) {
		char *from = xasprintf("curieux%d@example.test", i), *id = xasprintf("l%d@example.test", i);
		char *raw = question_mail(from, id, NULL, "Mot de passe perdu, mon identifiant est JMOREAU01.");
		struct mail_result r;
		process(f, raw, 0, &r);
		assert_int_equal(r.queued, i <= 3 ? 2 : 1);
		mail_result_clear(&r);
		free(raw);
		free(id);
		free(from);
	}
	/* Per requester: the fourth request of the hour sends nothing, with the same reply. */
	for (int i = 1; i <= 4; i++) {
		char *id = xasprintf("a%d@example.test", i);
		char *raw = question_mail("audrey.lemaire@serres-lemaire.example", id, NULL, "J'ai perdu mon mot de passe.");
		struct mail_result r;
		process(f, raw, 0, &r);
		assert_int_equal(r.queued, i <= 3 ? 2 : 1);
		mail_result_clear(&r);
		free(raw);
		free(id);
	}
}

/* A directory whose API never answers. */
static int
down_accounts(struct directory *d, const char *v, struct directory_accounts *out)
{
	(void)v;
	(void)out;
	return directory_fail(d, DIRECTORY_UNAVAILABLE, "directory API: timed out after 5 s");
}

static int
down_account(struct directory *d, const char *v, struct directory_account *out)
{
	(void)v;
	(void)out;
	return directory_fail(d, DIRECTORY_UNAVAILABLE, "directory API: HTTP 500");
}

static int
down_dossier(struct directory *d, const char *v, struct directory_dossier *out)
{
	(void)v;
	(void)out;
	return directory_fail(d, DIRECTORY_UNAVAILABLE, "directory API: malformed JSON");
}

static const struct directory_ops down_ops = {
	.accounts_by_email = down_accounts, .accounts_by_siret = down_accounts, .account_get = down_account,
	.dossier_get = down_dossier,
};

static void
test_directory_down_escalates(void **state)
{
	struct fixture *f = *state;
	struct directory *down = directory_new(&down_ops, true, NULL);
	const char *questions[] = {
		"J'ai oublié mon identifiant de connexion, pouvez-vous me le rappeler ?",
		"J'ai égaré mon mot de passe, comment faire ?",
		"Bonjour, où en est notre dossier n° AF-2023-018745 ?",
	};
	for (int i = 0; i < 3; i++) {
		char *id = xasprintf("d%d@example.test", i);
		char *raw = question_mail("j.moreau@scierie-des-combes.example", id, NULL, questions[i]);
		struct mail_result r;
		char *err = NULL;
		assert_int_equal(mail_process(&f->settings, f->store, down, f->engine, f->scratch, raw, strlen(raw),
					      strlen(raw), &r, &err),
				 0);
		/* A reminder or a reset is answered at once, the same whatever exists; the
		 * directory is asked after the reply (deferred.h), and its failure then hands the
		 * thread over. A dossier's status needs the directory for the reply itself. */
		bool deferred = i < 2;
		assert_int_equal(r.outcome, deferred ? MAIL_ANSWERED : MAIL_ESCALATED);
		assert_int_equal(r.queued, deferred ? 1 : 2);
		after_reply(f, down, &r);
		/* The acknowledgement and the correspondants' notice; nothing about an account. */
		assert_int_equal(r.queued, deferred ? 3 : 2);
		char *ack = reply_body(f, r.thread_id, "ack");
		assert_non_null(ack);
		assert_non_null(strstr(ack, deferred ? "nous n’avons pas pu traiter votre demande automatiquement"
							: "Nous ne pouvons pas traiter votre demande automatiquement"));
		assert_non_null(strstr(ack, "transmise à un conseiller"));
		struct thread_row t = {0};
		assert_int_equal(store_thread_get(f->store, r.thread_id, &t), 1);
		assert_int_equal(t.state, THREAD_ESCALATED);
		assert_int_equal(t.owner, OWNER_QUEUE);
		assert_non_null(t.reason);
		assert_non_null(strstr(t.reason, "directory API"));
		/* The inbound message is recorded once, then what went out (reply, ack, notice). */
		assert_int_equal(t.messages, deferred ? 4 : 3);
		thread_row_clear(&t);
		assert_int_equal(query_count(f, "SELECT count(*) FROM deferred_actions"), 0);
		free(ack);
		mail_result_clear(&r);
		free(raw);
		free(id);
	}
	directory_close(&down);
}

static char *
status_request(struct fixture *f, const char *from, const char *id, const char *in_reply_to, const char *body,
	       struct mail_result *r)
{
	char *raw = question_mail(from, id, in_reply_to, body);
	process(f, raw, 0, r);
	free(raw);
	return reply_body(f, r->thread_id, "reply");
}

static void
test_dossier_status_only_to_verified_requester(void **state)
{
	struct fixture *f = *state;
	load_directory(f);
	struct mail_result r;
	/* The company's own account: the status, with the FAQ's next step. */
	char *body = status_request(f, "j.moreau@scierie-des-combes.example", "s1@example.test", NULL,
				    "Bonjour, où en est notre dossier n° AF-2023-018745 ?", &r);
	assert_string_equal(r.intent, "dossier_status");
	assert_int_equal(r.queued, 1);
	assert_non_null(strstr(body, "Votre dossier n° AF-2023-018745 (action de formation) est en attente de pièces"));
	assert_non_null(strstr(body, "pièces justificatives"));
	mail_result_clear(&r);
	free(body);
	/* The account holder's address in From, but replies asked to another address: the
	 * status must not travel there. */
	const char *diverted = "From: j.moreau@scierie-des-combes.example\r\nReply-To: attacker@evil.test\r\n"
			       "To: dialoguer@ocapiat.test\r\nSubject: Dossier\r\nMessage-ID: <rt1@example.test>\r\n\r\n"
			       "Où en est notre dossier n° AF-2023-018745 ?\r\n";
	process(f, diverted, 0, &r);
	body = reply_body(f, r.thread_id, "reply");
	assert_null(strstr(body, "attente de pièces"));
	mail_result_clear(&r);
	free(body);
	/* Someone else, about the same dossier and about one that does not exist: the same
	 * reply; the status goes to the addresses on file (the company's and the CFA's). */
	char *b1 = status_request(f, "curieux@example.test", "s2@example.test", NULL,
				  "Bonjour, où en est le dossier n° AF-2023-018745 ?", &r);
	assert_int_equal(r.queued, 3);
	mail_result_clear(&r);
	char *b2 = status_request(f, "curieux@example.test", "s3@example.test", NULL,
				  "Bonjour, où en est le dossier n° AF-2023-999999 ?", &r);
	assert_int_equal(r.queued, 1);
	mail_result_clear(&r);
	/* Identical: an unauthenticated writer's words are not quoted back. */
	assert_null(strstr(b1, "Votre message :"));
	assert_string_equal(b1, b2);
	assert_null(strstr(b1, "attente de pièces"));
	assert_non_null(strstr(b1, "envoyé à l’adresse mail enregistrée"));
	free(b1);
	free(b2);
	/* Asking from many addresses does not flood the holders: 3 status mails an hour. */
	for (int i = 0; i < 2; i++) {
		char *who = xasprintf("flood%d@evil.test", i), *id = xasprintf("fl%d@evil.test", i);
		char *b = status_request(f, who, id, NULL, "Où en est le dossier n° AF-2023-018745 ?", &r);
		assert_int_equal(r.queued, i == 0 ? 3 : 1);
		mail_result_clear(&r);
		free(b);
		free(who);
		free(id);
	}
}

static void
test_dossier_number_asked_then_given_in_the_thread(void **state)
{
	struct fixture *f = *state;
	load_directory(f);
	struct mail_result r;
	char *ask = status_request(f, "audrey.lemaire@serres-lemaire.example", "t1@example.test", NULL,
				   "Bonjour, pouvez-vous me dire où en est notre dossier de contrat d'apprentissage ?", &r);
	assert_non_null(strstr(ask, "nous avons besoin de son numéro"));
	int64_t thread = r.thread_id;
	mail_result_clear(&r);
	/* The answer to our question, in the same thread. */
	struct outbox_list l = outbox(f);
	char *status = status_request(f, "audrey.lemaire@serres-lemaire.example", "t2@example.test", l.message_ids[0],
				      "Le numéro est CA-2023-0098412, merci.", &r);
	assert_int_equal(r.thread_id, thread);
	assert_string_equal(r.intent, "dossier_status");
	assert_non_null(strstr(status, "Votre dossier n° CA-2023-0098412 (contrat d’apprentissage) a été accordé"));
	assert_non_null(strstr(status, "Numéro DECA du contrat : 02920231200145"));
	mail_result_clear(&r);
	free(ask);
	free(status);
}

static void
test_dossier_status_needs_authentication_when_required(void **state)
{
	struct fixture *f = *state;
	load_directory(f);
	f->settings.require_authenticated_sender = true;
	f->settings.authserv_id = "mx.ocapiat.test";
	f->settings.actions.status_limit = 100;
	struct mail_result r;
	char *b = status_request(f, "j.moreau@scierie-des-combes.example", "a1@example.test", NULL,
				 "Où en est le dossier AF-2023-018745 ?", &r);
	assert_null(strstr(b, "attente de pièces"));  /* no Authentication-Results: not verified */
	mail_result_clear(&r);
	free(b);
	const char *raw = "From: j.moreau@scierie-des-combes.example\r\nTo: dialoguer@ocapiat.test\r\n"
			  "Subject: Dossier\r\nMessage-ID: <a2@example.test>\r\n"
			  "Authentication-Results: mx.ocapiat.test; dkim=pass header.d=scierie-des-combes.example;"
			  " spf=fail smtp.mailfrom=scierie-des-combes.example\r\n\r\n"
			  "Où en est le dossier AF-2023-018745 ?\r\n";
	process(f, raw, 0, &r);
	b = reply_body(f, r.thread_id, "reply");
	assert_non_null(strstr(b, "attente de pièces"));
	mail_result_clear(&r);
	free(b);
	/* OpenDKIM's own wording, a comment with a ';' in it, is understood. */
	const char *opendkim = "From: j.moreau@scierie-des-combes.example\r\nTo: dialoguer@ocapiat.test\r\n"
			       "Subject: Dossier\r\nMessage-ID: <a4@example.test>\r\n"
			       "Authentication-Results: mx.ocapiat.test; dkim=pass (2048-bit key; unprotected)"
			       " header.d=scierie-des-combes.example header.i=@scierie-des-combes.example\r\n\r\n"
			       "Où en est le dossier AF-2023-018745 ?\r\n";
	process(f, opendkim, 0, &r);
	b = reply_body(f, r.thread_id, "reply");
	assert_non_null(strstr(b, "attente de pièces"));
	mail_result_clear(&r);
	free(b);
	/* A header the sender wrote (another authserv-id), a look-alike domain, a pass for
	 * another domain: none proves anything. */
	static const char *const forged[] = {
		"Authentication-Results: mx.evil.test; dkim=pass header.d=scierie-des-combes.example",
		"Authentication-Results: mx.ocapiat.test; dkim=pass header.d=scierie-des-combes.example.evil.test",
		"Authentication-Results: mx.ocapiat.test; dkim=fail header.d=scierie-des-combes.example (dkim=pass)",
		"Authentication-Results: mx.ocapiat.test; spf=pass smtp.mailfrom=x@evil-scierie-des-combes.example",
		"Authentication-Results: mx.ocapiat.test; spf=pass smtp.mailfrom=\"a;dkim=pass header.d=scierie-des-combes.example b\"@attacker.test",
		"Authentication-Results: mx.ocapiat.test; spf=fail (x; dkim=pass header.d=scierie-des-combes.example)",
		"Authentication-Results: mx.ocapiat.test; dkim=pass header.d=attacker.test (header.d=scierie-des-combes.example)",
		"Authentication-Results: mx.ocapiat.test; dkim=pass policy.header.d=scierie-des-combes.example",
		"Authentication-Results: mx.ocapiat.test; dkim=pass header.d=evil@scierie-des-combes.example",
		/* Our MTA's header is the topmost; one the sender wrote below it does not count. */
		"Authentication-Results: mx.ocapiat.test; dkim=none\r\n"
		"Authentication-Results: mx.ocapiat.test; dkim=pass header.d=scierie-des-combes.example",
	};
	for (size_t i = 0; i < sizeof(forged) / sizeof(*forged); i++) {
		char *forged_raw = xasprintf("From: j.moreau@scierie-des-combes.example\r\nTo: dialoguer@ocapiat.test\r\n"
					     "Subject: Dossier\r\nMessage-ID: <f%zu@example.test>\r\n%s\r\n\r\n"
					     "Où en est le dossier AF-2023-018745 ?\r\n", i, forged[i]);
		process(f, forged_raw, 0, &r);
		b = reply_body(f, r.thread_id, "reply");
		if (strstr(b, "attente de pièces") != NULL)
			fail_msg("trusted: %s", forged[i]);
		mail_result_clear(&r);
		free(b);
		free(forged_raw);
	}
	/* A pass for another domain proves nothing. */
	const char *other = "From: j.moreau@scierie-des-combes.example\r\nTo: dialoguer@ocapiat.test\r\n"
			    "Subject: Dossier\r\nMessage-ID: <a3@example.test>\r\n"
			    "Authentication-Results: mx.ocapiat.test; dkim=pass header.d=evil.example\r\n\r\n"
			    "Où en est le dossier AF-2023-018745 ?\r\n";
	process(f, other, 0, &r);
	b = reply_body(f, r.thread_id, "reply");
	assert_null(strstr(b, "attente de pièces"));
	mail_result_clear(&r);
	free(b);
}

static void
test_outbox_scheduling(void **state)
{
	struct fixture *f = *state;
	int64_t a = store_outbox_add(f->store, 1, OUTBOX_REPLY, "a@x", "d@x", "r@x", "raw a");
	int64_t b = store_outbox_add(f->store, 1, OUTBOX_ACK, "b@x", "d@x", "r@x", "raw b");
	assert_true(a > 0 && b > a);
	int64_t now = (int64_t)time(NULL), next = 0;
	struct outbox_row row = {0};
	assert_int_equal(store_outbox_next(f->store, now, &row, &next), 1);
	assert_int_equal(row.id, a);
	assert_string_equal(row.raw, "raw a");
	outbox_row_clear(&row);
	/* a waits one minute: b comes first, then nothing is due until a's time. */
	assert_int_equal(store_outbox_retry(f->store, a, false, now + 60, "421 busy"), 0);
	assert_int_equal(store_outbox_next(f->store, now, &row, &next), 1);
	assert_int_equal(row.id, b);
	outbox_row_clear(&row);
	assert_int_equal(store_outbox_sent(f->store, b, now), 0);
	assert_int_equal(store_outbox_next(f->store, now, &row, &next), 0);
	assert_int_equal(next, now + 60);
	assert_int_equal(store_outbox_failed(f->store, a, "550 no such user"), 0);
	assert_int_equal(store_outbox_count(f->store, OUTBOX_FAILED), 1);
	assert_int_equal(store_outbox_count(f->store, OUTBOX_SENT), 1);
	assert_int_equal(store_outbox_count(f->store, OUTBOX_PENDING), 0);
}

static int
first_row(const struct outbox_row *row, void *user)
{
	*(struct outbox_row *)user = (struct outbox_row){ .id = row->id, .kind = row->kind, .state = row->state };
	return 1;
}

/* States and kinds are names in the store and enums in the code: each name reads back as
 * its enum, the listing filters by state, and a row edited by hand to names this dialogd
 * does not know reads as the most careful: failed (not picked for sending) and a secret
 * (its text emptied once sent). */
static void
test_outbox_names(void **state)
{
	struct fixture *f = *state;
	int64_t id = store_outbox_add(f->store, 1, OUTBOX_PERSON, "p@x", "d@x", "r@x", "raw p");
	assert_true(id > 0);
	struct outbox_row got = {0};
	enum outbox_state pending = OUTBOX_PENDING, sent = OUTBOX_SENT;
	assert_int_equal(store_outbox_each(f->store, &pending, first_row, &got), 0);
	assert_int_equal(got.id, id);
	assert_int_equal(got.kind, OUTBOX_PERSON);
	assert_int_equal(got.state, OUTBOX_PENDING);
	got.id = 0;
	assert_int_equal(store_outbox_each(f->store, &sent, first_row, &got), 0);
	assert_int_equal(got.id, 0);
	assert_int_equal(outbox_state_from_name("sent"), OUTBOX_SENT);
	assert_int_equal(outbox_state_from_name("lost"), -1);
	assert_string_equal(outbox_state_name(OUTBOX_FAILED), "failed");
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE outbox SET kind = 'fax', state = 'lost'", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_outbox_each(f->store, NULL, first_row, &got), 0);
	assert_int_equal(got.kind, OUTBOX_SECRET);
	assert_int_equal(got.state, OUTBOX_FAILED);
	int64_t next = 0;
	struct outbox_row row = {0};
	assert_int_equal(store_outbox_next(f->store, (int64_t)time(NULL), &row, &next), 0);
	/* Pending again under an unknown kind: sent, its text is emptied as a secret's. */
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE outbox SET state = 'pending'", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_outbox_sent(f->store, id, (int64_t)time(NULL)), 0);
	sqlite3_stmt *stmt;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT raw FROM outbox WHERE id = ?", -1, &stmt, NULL), SQLITE_OK);
	sqlite3_bind_int64(stmt, 1, id);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "");
	sqlite3_finalize(stmt);
	sqlite3_close(db);
}

static void
test_status_since_moves_only_on_change(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(store_status_set(f->store, "imap", "disconnected", "refused"), 0);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE status SET since = 1000", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_status_set(f->store, "imap", "disconnected", "refused again"), 0);
	sqlite3_stmt *stmt;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT since, detail FROM status WHERE component = 'imap'", -1, &stmt,
					    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int64(stmt, 0), 1000);
	assert_string_equal((const char *)sqlite3_column_text(stmt, 1), "refused again");
	sqlite3_finalize(stmt);
	assert_int_equal(store_status_set(f->store, "imap", "connected", NULL), 0);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT since FROM status WHERE component = 'imap'", -1, &stmt, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_true(sqlite3_column_int64(stmt, 0) > 1000);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
}

static void
test_hostile_values_are_data(void **state)
{
	struct fixture *f = *state;
	/* SQL in every field the mail controls: stored as text, nothing else happens. */
	char *raw = question_mail("\"x'); DROP TABLE threads; --\" <sql@example.test>", "x'); DELETE FROM outbox; --@e.test",
				  NULL, "'; DROP TABLE messages; -- Comment modifier mon RIB ?");
	struct mail_result r;
	process(f, raw, 0, &r);
	assert_int_equal(r.outcome, MAIL_ANSWERED);
	mail_result_clear(&r);
	assert_int_equal(outbox(f).count, 1);
	struct thread_row t = {0};
	assert_int_equal(store_thread_get(f->store, 1, &t), 1);
	assert_int_equal(t.messages, 2);
	thread_row_clear(&t);
	free(raw);
}

/* The notification's link: [mail] console_url, or the thread's page under public_url. */
static void
test_console_url_from_public_url(void **state)
{
	(void)state;
	struct config cfg;
	struct mail_setup m;
	char *err = NULL;
	config_init(&cfg);
	free(cfg.web_public_url);
	cfg.web_public_url = xstrdup("https://assistance.ocapiat.test/");
	assert_int_equal(mail_setup_init(&m, &cfg, &err), 0);
	assert_string_equal(m.mail.actions.notify.console_url, "https://assistance.ocapiat.test/console/fil/");
	mail_setup_clear(&m);
	cfg.console_url = xstrdup("https://console.example/t/");
	assert_int_equal(mail_setup_init(&m, &cfg, &err), 0);
	assert_string_equal(m.mail.actions.notify.console_url, "https://console.example/t/");
	mail_setup_clear(&m);
	config_clear(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_answer_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mail_without_message_id_is_keyed_by_digest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_follow_up_joins_thread_and_escalated_thread_stays_quiet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_reply_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_burst_limit_goes_silent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounced_address_gets_no_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounce_counts_only_for_our_recipients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotating_addresses_buy_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quarantine_after_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deeply_nested_html_then_a_question, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_large_escalated_unread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unfetchable_escalated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_failure_commits_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mail_recorded_meanwhile_is_a_duplicate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_purge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identifier_reminder_reveals_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dossier_status_only_to_verified_requester, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dossier_number_asked_then_given_in_the_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dossier_status_needs_authentication_when_required, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_scheduling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_since_moves_only_on_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_values_are_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_password_reset_reveals_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_password_reset_by_identifier_goes_to_the_address_on_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_password_reset_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_link_quoted_in_a_reply_is_not_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pasted_reset_link_is_scrubbed_everywhere, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_carries_no_stranger_text_or_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_accounts_on_one_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_directory_down_escalates, setup, teardown),
		cmocka_unit_test(test_console_url_from_public_url),
	};
	return cmocka_run_group_tests_name("mail_channel", tests, setup_group, teardown_group);
}
