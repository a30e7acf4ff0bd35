/* store_mailbox — what the e-mail channel records about its servers (see store.h): how far
 * the reader got in each mailbox, the permanent record of processed mail and the mail in
 * progress, and each connection's status for `dialogctl status`. */
#include "autoconf.h"
#include "store/store_internal.h"

/* ---- mailbox state ---- */

int
store_mailbox_get(struct store *st, const char *mailbox, uint32_t *uidvalidity_r, uint32_t *last_uid_r)
{
	sqlite3_stmt *stmt = store_prepare(st, "SELECT uidvalidity, last_uid FROM mailbox_state WHERE mailbox = ?", "s",
					   mailbox);
	if (stmt == NULL)
		return -1;
	int rc = sqlite3_step(stmt);
	*uidvalidity_r = rc == SQLITE_ROW ? (uint32_t)sqlite3_column_int64(stmt, 0) : 0;
	*last_uid_r = rc == SQLITE_ROW ? (uint32_t)sqlite3_column_int64(stmt, 1) : 0;
	store_finish(st, stmt);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_fail(st);
}

int
store_mailbox_set(struct store *st, const char *mailbox, uint32_t uidvalidity, uint32_t last_uid)
{
	return store_exec(st,
			  "INSERT INTO mailbox_state (mailbox, uidvalidity, last_uid) VALUES (?, ?, ?)"
			  " ON CONFLICT (mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid",
			  "sii", mailbox, (int64_t)uidvalidity, (int64_t)last_uid);
}

int
store_processed_has(struct store *st, const char *mailbox, const char *key)
{
	int64_t n = store_query_int(st, "SELECT count(*) FROM processed WHERE mailbox = ? AND key = ?", "ss", mailbox, key);
	return n < 0 ? -1 : n > 0;
}

int
store_processed_add(struct store *st, const char *mailbox, const char *key, int64_t thread_id)
{
	/* A plain INSERT: a second process that handled the same mail meanwhile makes this
	 * transaction fail as a conflict, and the mail is not answered twice. */
	return store_exec(st, "INSERT INTO processed (mailbox, key, thread_id, at) VALUES (?, ?, ?, ?)", "ssii",
			  mailbox, key, thread_id, store_now_seconds());
}

int
store_attempt_begin(struct store *st, const char *mailbox, const char *key)
{
	int64_t before = store_query_int(st, "SELECT count FROM attempts WHERE mailbox = ? AND key = ?", "ss", mailbox, key);
	if (before < 0)
		return -1;
	if (store_exec(st,
		       "INSERT INTO attempts (mailbox, key, count, at) VALUES (?, ?, 1, ?)"
		       " ON CONFLICT (mailbox, key) DO UPDATE SET count = count + 1, at = excluded.at",
		       "ssi", mailbox, key, store_now_seconds()) < 0)
		return -1;
	return (int)before;
}

int
store_attempt_end(struct store *st, const char *mailbox, const char *key)
{
	return store_exec(st, "DELETE FROM attempts WHERE mailbox = ? AND key = ?", "ss", mailbox, key);
}

/* ---- status ---- */

int
store_status_set(struct store *st, const char *component, const char *state, const char *detail)
{
	int64_t now = store_now_seconds();
	/* "since" moves only when the state changes: it tells how long an outage lasts. */
	return store_exec(st,
			  "INSERT INTO status (component, state, detail, since, updated) VALUES (?1, ?2, ?3, ?4, ?4)"
			  " ON CONFLICT (component) DO UPDATE SET detail = excluded.detail, updated = excluded.updated,"
			  " since = CASE WHEN state = excluded.state THEN since ELSE excluded.since END,"
			  " state = excluded.state",
			  "sssi", component, state, detail, now);
}

static int
status_adapter(sqlite3_stmt *stmt, void *user)
{
	struct store_each *e = user;
	return ((store_status_fn)e->fn)((const char *)sqlite3_column_text(stmt, 0),
					(const char *)sqlite3_column_text(stmt, 1),
					(const char *)sqlite3_column_text(stmt, 2), sqlite3_column_int64(stmt, 3),
					sqlite3_column_int64(stmt, 4), e->user);
}

int
store_status_each(struct store *st, store_status_fn fn, void *user)
{
	struct store_each e = { (void (*)(void))fn, user };
	return store_each_row(st, store_prepare(st, "SELECT component, state, detail, since, updated FROM status ORDER BY component", ""),
			      status_adapter, &e);
}
