/* store_backup — copies of the store while dialogd runs, and putting one back (see
 * store.h): SQLite's online backup API, a few hundred pages at a time so that dialogd's
 * writers wait milliseconds, never the whole copy; and the lock dialogd holds on its
 * store so that a restore cannot happen under it. */
#include "autoconf.h"
#include "store/store.h"
#include "store/store_internal.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* Pages copied per step (4 KiB each): a step holds the source's read lock this long. */
#define PAGES_PER_STEP 256

/* Copies every page of from into to, calling progress between steps; sqlite3's result. */
static int
copy_pages(sqlite3 *to, sqlite3 *from, store_progress_fn progress, void *user)
{
	sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
	if (b == NULL)
		return sqlite3_errcode(to);
	int rc;
	do {
		rc = sqlite3_backup_step(b, PAGES_PER_STEP);
		if (progress != NULL)
			progress(sqlite3_backup_pagecount(b) - sqlite3_backup_remaining(b), sqlite3_backup_pagecount(b), user);
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			sqlite3_sleep(10);  /* a writer of dialogd's holds it: let it finish */
	} while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
	int done = sqlite3_backup_finish(b);
	return rc == SQLITE_DONE ? done : rc;
}

/* Whether db passes SQLite's integrity check (*why_r: the first problem, caller frees). */
static bool
intact(sqlite3 *db, char **why_r)
{
	sqlite3_stmt *stmt = NULL;
	bool ok = false;
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW) {
		const char *first = (const char *)sqlite3_column_text(stmt, 0);
		ok = first != NULL && strcmp(first, "ok") == 0;
		if (!ok)
			*why_r = xasprintf("integrity check: %s", first != NULL ? first : "no answer");
	} else {
		*why_r = xasprintf("integrity check: %s", sqlite3_errmsg(db));
	}
	sqlite3_finalize(stmt);
	return ok;
}

int
store_backup(struct store *st, const char *dest, store_progress_fn progress, void *user, char **error_r)
{
	if (access(dest, F_OK) == 0) {
		*error_r = xasprintf("%s exists already: choose a new file (a backup never overwrites)", dest);
		return -1;
	}
	/* Written beside dest under another name, then renamed: dest is whole or absent. */
	char *partial = xasprintf("%s.partial-%d", dest, (int)getpid());
	sqlite3 *to = NULL;
	int rc = sqlite3_open_v2(partial, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc == SQLITE_OK)
		rc = copy_pages(to, st->db, progress, user);
	char *why = NULL;
	bool ok = rc == SQLITE_OK && intact(to, &why);
	if (rc != SQLITE_OK)
		why = xasprintf("%s", to != NULL ? sqlite3_errmsg(to) : sqlite3_errstr(rc));
	sqlite3_close(to);
	if (ok && rename(partial, dest) < 0) {
		why = xasprintf("cannot rename %s to %s: %s", partial, dest, strerror(errno));
		ok = false;
	}
	if (!ok) {
		unlink(partial);
		*error_r = xasprintf("backup to %s failed: %s", dest, why);
	}
	free(why);
	free(partial);
	return ok ? 0 : -1;
}

int
store_hold(const char *path, bool exclusive, char **error_r)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		*error_r = xasprintf("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	/* flock, not fcntl: SQLite's own locks on the file are fcntl locks, which these
	 * neither see nor disturb. */
	if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) < 0) {
		int e = errno;
		close(fd);
		*error_r = e == EWOULDBLOCK ? xasprintf("%s is in use by a running dialogd: stop it first", path)
					    : xasprintf("cannot lock %s: %s", path, strerror(e));
		return -1;
	}
	return fd;
}

int
store_restore(const char *backup, const char *path, store_progress_fn progress, void *user, char **error_r)
{
	sqlite3 *from = NULL;
	char *why = NULL;
	int rc = sqlite3_open_v2(backup, &from, SQLITE_OPEN_READONLY, NULL);
	if (rc != SQLITE_OK) {
		*error_r = xasprintf("cannot open %s: %s", backup, from != NULL ? sqlite3_errmsg(from) : sqlite3_errstr(rc));
		sqlite3_close(from);
		return -1;
	}
	sqlite3_stmt *stmt = NULL;
	int64_t version = -1, threads = -1;
	if (intact(from, &why) && sqlite3_prepare_v2(from, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		version = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	if (version > 0 && sqlite3_prepare_v2(from, "SELECT count(*) FROM threads", -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		threads = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	if (why == NULL && (version <= 0 || threads < 0))
		why = xstrdup("not a store of dialogd (no schema version, or no threads table)");
	else if (why == NULL && version > STORE_SCHEMA_VERSION)
		why = xasprintf("written by a newer dialogd (schema %lld; this one knows %d)", (long long)version,
				STORE_SCHEMA_VERSION);
	if (why != NULL) {
		*error_r = xasprintf("%s cannot be restored: %s", backup, why);
		free(why);
		sqlite3_close(from);
		return -1;
	}
	int lock = store_hold(path, true, error_r);
	if (lock < 0) {
		sqlite3_close(from);
		return -1;
	}
	sqlite3 *to = NULL;
	rc = sqlite3_open_v2(path, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc == SQLITE_OK)
		rc = copy_pages(to, from, progress, user);
	if (rc != SQLITE_OK)
		*error_r = xasprintf("restoring %s into %s failed: %s", backup, path,
				     to != NULL ? sqlite3_errmsg(to) : sqlite3_errstr(rc));
	sqlite3_close(to);
	sqlite3_close(from);
	close(lock);
	return rc == SQLITE_OK ? 0 : -1;
}

int
store_totals(struct store *st, struct store_totals *t)
{
	sqlite3_stmt *stmt = store_prepare(st,
					   "SELECT (SELECT count(*) FROM threads), (SELECT count(*) FROM messages),"
					   " (SELECT count(*) FROM outbox), (SELECT count(*) FROM outbox WHERE state = 'pending'),"
					   " (SELECT count(*) FROM processed)",
					   "");
	if (stmt == NULL)
		return -1;
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*t = (struct store_totals){ sqlite3_column_int64(stmt, 0), sqlite3_column_int64(stmt, 1),
					    sqlite3_column_int64(stmt, 2), sqlite3_column_int64(stmt, 3),
					    sqlite3_column_int64(stmt, 4) };
	store_finish(st, stmt);
	return rc == SQLITE_ROW ? 0 : store_fail(st);
}
