/* bench_actions — the cost of the account actions on a real store file (WAL,
 * synchronous=FULL): password reset requests by mail (parse, understand, token, two mails
 * queued, audit, one transaction each) and chat conversations through the dossier-status
 * flow (question, address, code mailed, code checked: four turns, four transactions).
 * Prints requests per second and p50/p99 per request.
 * Usage: bench_actions DATA_DIR WORK_DIR */
#include "autoconf.h"
#include "chat/chat_session.h"
#include "conversation/deferred.h"
#include "directory/directory.h"
#include "directory/directory_import.h"
#include "engine/engine.h"
#include "mail/mail_channel.h"
#include "store/store.h"
#include "core/util.h"
#include "../unit/testmailsettings.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAILS 400
#define CONVERSATIONS 200

static int
compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void
report(const char *what, double *ms, int n, double total)
{
	qsort(ms, (size_t)n, sizeof(*ms), compare_doubles);
	printf("%-46s %7.0f /s   p50 %6.2f ms   p99 %6.2f ms   (%d in %.2f s)\n", what, n / total, ms[n / 2],
	       ms[n * 99 / 100], n, total);
}

static void
settings_init(struct mail_settings *s)
{
	test_mail_settings(s);
	/* Limits out of the way: the bench measures the work, not the refusals. */
	s->actions.reminder_limit = s->actions.status_limit = s->actions.reset_limit = 1000000;
}

/* The code of the newest secret mail (read as the holder would). */
static void
newest_code(sqlite3 *db, char code[9])
{
	sqlite3_stmt *stmt;
	code[0] = '\0';
	if (sqlite3_prepare_v2(db, "SELECT raw FROM outbox WHERE kind = 'secret' ORDER BY id DESC LIMIT 1", -1, &stmt,
			       NULL) != SQLITE_OK)
		return;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		test_mail_code((const char *)sqlite3_column_text(stmt, 0), code);
	sqlite3_finalize(stmt);
}

int
main(int argc, char **argv)
{
	if (argc != 3) {
		fputs("usage: bench_actions DATA_DIR WORK_DIR\n", stderr);
		return 2;
	}
	char *err = NULL;
	struct engine *e = engine_load(argv[1], &err);
	char *db_path = xasprintf("%s/bench-actions.sqlite", argv[2]);
	remove(db_path);
	struct store *st = e ? store_open(db_path, &err) : NULL;
	if (st == NULL) {
		fprintf(stderr, "bench_actions: %s\n", err);
		return 1;
	}
	static const char *const tables[] = { "companies", "accounts", "dossiers" };
	for (int t = 0; t < 3; t++) {
		char *path = xasprintf("%s/tests/data/directory/%s.csv", argv[1], tables[t]);
		if (directory_import(st, (enum directory_table)t, path, &err) < 0) {
			fprintf(stderr, "bench_actions: %s\n", err);
			return 1;
		}
		free(path);
	}
	struct mail_settings s;
	settings_init(&s);
	struct intent_scratch *scratch = intent_scratch_new();
	struct directory *dir = directory_open_sqlite(st);

	double *ms = xcalloc(MAILS, sizeof(*ms));
	double start = monotonic_seconds();
	for (int i = 0; i < MAILS; i++) {
		char *raw = xasprintf("From: j.moreau@scierie-des-combes.example\r\nTo: dialoguer@ocapiat.test\r\n"
				      "Subject: Mot de passe\r\nMessage-ID: <bench-reset-%d@example.test>\r\n"
				      "Content-Type: text/plain; charset=utf-8\r\n\r\n"
				      "Bonjour, j'ai égaré mon mot de passe, pouvez-vous m'aider ?\r\n", i);
		struct mail_result r;
		double t0 = monotonic_seconds();
		/* The reply, then the account work left for after it (the reset link's mail). */
		unsigned later = 0;
		if (mail_process(&s, st, dir, e, scratch, raw, strlen(raw), strlen(raw), &r, &err) < 0 ||
		    conversation_run_deferred(&s.actions, st, dir, e, &later, &err) < 0 || r.queued + later != 2) {
			fprintf(stderr, "bench_actions: mail %d: %s (queued %u)\n", i, err ? err : "", r.queued + later);
			return 1;
		}
		ms[i] = (monotonic_seconds() - t0) * 1000;
		mail_result_clear(&r);
		free(raw);
	}
	report("password reset by mail (reply, then the link)", ms, MAILS, monotonic_seconds() - start);
	free(ms);

	sqlite3 *db;
	sqlite3_open(db_path, &db);
	ms = xcalloc(CONVERSATIONS, sizeof(*ms));
	start = monotonic_seconds();
	for (int i = 0; i < CONVERSATIONS; i++) {
		double t0 = monotonic_seconds();
		struct chat_session *cs = chat_session_new(&s.actions, st, dir, "bench");
		const char *lines[] = { "où en est mon dossier AF-2023-018745 ?", "j.moreau@scierie-des-combes.example" };
		for (int k = 0; k < 2; k++) {
			char *reply = chat_session_turn(cs, e, scratch, &s.dialog, lines[k], strlen(lines[k]), &err);
			unsigned later;
			if (reply == NULL || chat_session_after_reply(cs, e, &later, &err) < 0) {
				fprintf(stderr, "bench_actions: chat: %s\n", err);
				return 1;
			}
			free(reply);
		}
		char code[9];
		newest_code(db, code);
		char *reply = chat_session_turn(cs, e, scratch, &s.dialog, code, strlen(code), &err);
		if (reply == NULL || strstr(reply, "en attente de pièces") == NULL) {
			fprintf(stderr, "bench_actions: chat %d: the code did not give the status\n", i);
			return 1;
		}
		free(reply);
		chat_session_free(&cs);
		ms[i] = (monotonic_seconds() - t0) * 1000;
	}
	report("chat dossier status with code (3 turns)", ms, CONVERSATIONS, monotonic_seconds() - start);
	free(ms);
	sqlite3_close(db);
	directory_close(&dir);
	intent_scratch_free(&scratch);
	store_close(&st);
	engine_free(&e);
	remove(db_path);
	free(db_path);
	return 0;
}
