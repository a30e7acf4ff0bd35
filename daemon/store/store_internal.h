/* store_internal — what the pieces of the store share: the connection, and the helpers
 * that prepare, bind and run a statement (store.c). Included only by store.c,
 * store_mailbox.c, store_threads.c, store_outbox.c, store_directory.c, store_audit.c and
 * store_chat.c; everyone else uses store.h. Lower layer: nothing here logs. */
#ifndef DIALOGD_STORE_INTERNAL_H
#define DIALOGD_STORE_INTERNAL_H

#include "store/store.h"
#include "core/util.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Distinct SQL texts whose prepared statements a connection keeps: more than the store
 * has (about 150); past it, statements are prepared for each call. */
#define STORE_STATEMENTS_KEPT 256

struct store {
	sqlite3 *db;
	char *error;
	bool constraint;        /* the last error was a constraint (e.g. UNIQUE) violation */
	int upgraded_from;      /* the version store_open's first step started from, -1: none ran */
	int relaxed;            /* store_relax_durability depth: > 0, commits wait for no fsync */
	const char *audit_address;      /* store_set_audit_address's (borrowed), or NULL */
	int64_t synced_changes; /* sqlite3_total_changes64 at the last sync (store_sync, a FULL commit) */
	/* The statements prepared so far, kept for the next call of the same SQL (the text is
	 * a literal of this module: its address is the key, checked against the text). */
	struct store_cached {
		const char *sql;
		sqlite3_stmt *stmt;
		bool busy;      /* in use: a nested call of the same SQL prepares its own */
	} cache[STORE_STATEMENTS_KEPT];
	unsigned cached;
};

/* A caller's callback and its argument, for the row adapters of each piece. */
struct store_each {
	void (*fn)(void);  /* the caller's callback, cast back to its own type by the adapter */
	void *user;
};

static inline int64_t
store_now_seconds(void)
{
	return (int64_t)time(NULL);
}

/* The text of a column, the caller's to free; NULL for NULL. */
static inline char *
store_column_dup(sqlite3_stmt *stmt, int col)
{
	const unsigned char *s = sqlite3_column_text(stmt, col);
	return s ? xstrdup((const char *)s) : NULL;
}

/* Records the connection's last error (for store_error) and returns -1. */
int store_fail(struct store *st);
/* Prepares sql (a string literal: the prepared statement is kept for the next call, see
 * struct store) and binds the arguments described by types: 's' text (NULL binds NULL),
 * 'i' int64_t, 'd' double. Returns NULL (error recorded) on failure. Give the statement
 * back with store_finish. */
sqlite3_stmt *store_prepare(struct store *st, const char *sql, const char *types, ...);
/* The same for SQL built at run time: prepared for this call only. */
sqlite3_stmt *store_prepare_built(struct store *st, const char *sql, const char *types, ...);
/* Done with a statement of store_prepare: reset for the next call, or finalized. */
void store_finish(struct store *st, sqlite3_stmt *stmt);
/* Runs a statement that returns no row: 0, or -1 (error recorded). */
int store_exec(struct store *st, const char *sql, const char *types, ...);
/* Runs a statement returning one integer (0 when no row), -1 on error. */
int64_t store_query_int(struct store *st, const char *sql, const char *types, ...);
/* Calls row(stmt, user) for each row of stmt (NULL: a failed store_prepare, -1) until it
 * returns non-zero, then finalizes: 0, or -1 on error. */
int store_each_row(struct store *st, sqlite3_stmt *stmt, int (*row)(sqlite3_stmt *stmt, void *user), void *user);

#endif
