/* store_console — the correspondants' accounts and their failed logins (see store.h).
 * Addresses are compared without case (the column's NOCASE collation). */
#include "autoconf.h"
#include "store/store_internal.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

void
correspondant_row_clear(struct correspondant_row *r)
{
	free(r->email);
	free(r->name);
	free(r->role);
	if (r->password_hash != NULL)
		memset(r->password_hash, 0, strlen(r->password_hash));
	free(r->password_hash);
	if (r->totp_secret != NULL)
		memset(r->totp_secret, 0, strlen(r->totp_secret));
	free(r->totp_secret);
	memset(r, 0, sizeof(*r));
}

int64_t
store_correspondant_add(struct store *st, const char *email, const char *name, const char *role, int64_t now)
{
	if (store_exec(st, "INSERT INTO correspondants (email, name, role, created, updated) VALUES (?, ?, ?, ?, ?)",
		       "sssii", email, name, role, now, now) < 0)
		return -1;
	return sqlite3_last_insert_rowid(st->db);
}

#define CORRESPONDANT_COLUMNS "id, email, name, role, password_hash, totp_secret, disabled, created, updated"

/* An account from its columns, CORRESPONDANT_COLUMNS' order, starting at column first. */
static void
read_row_at(sqlite3_stmt *stmt, int first, struct correspondant_row *r)
{
	r->id = sqlite3_column_int64(stmt, first);
	r->email = store_column_dup(stmt, first + 1);
	r->name = store_column_dup(stmt, first + 2);
	r->role = store_column_dup(stmt, first + 3);
	r->password_hash = store_column_dup(stmt, first + 4);
	r->totp_secret = store_column_dup(stmt, first + 5);
	r->disabled = sqlite3_column_int(stmt, first + 6) != 0;
	r->created = sqlite3_column_int64(stmt, first + 7);
	r->updated = sqlite3_column_int64(stmt, first + 8);
}

static void
read_row(sqlite3_stmt *stmt, struct correspondant_row *r)
{
	read_row_at(stmt, 0, r);
}

/* The one account stmt selects: 1 with *r, 0, -1. */
static int
get_one(struct store *st, sqlite3_stmt *stmt, struct correspondant_row *r)
{
	if (stmt == NULL)
		return -1;
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		read_row(stmt, r);
	store_finish(st, stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(st);
	return rc == SQLITE_ROW;
}

int
store_correspondant_get(struct store *st, const char *email, struct correspondant_row *r)
{
	memset(r, 0, sizeof(*r));
	return get_one(st, store_prepare(st, "SELECT " CORRESPONDANT_COLUMNS " FROM correspondants WHERE email = ?", "s", email),
		       r);
}

int
store_correspondant_get_by_id(struct store *st, int64_t id, struct correspondant_row *r)
{
	memset(r, 0, sizeof(*r));
	return get_one(st, store_prepare(st, "SELECT " CORRESPONDANT_COLUMNS " FROM correspondants WHERE id = ?", "i", id), r);
}

struct each_correspondant {
	store_correspondant_fn fn;
	void *user;
};

static int
each_row(sqlite3_stmt *stmt, void *user)
{
	struct each_correspondant *e = user;
	struct correspondant_row r;
	read_row(stmt, &r);
	int rc = e->fn(&r, e->user);
	correspondant_row_clear(&r);
	return rc;
}

int
store_correspondants_each(struct store *st, store_correspondant_fn fn, void *user)
{
	struct each_correspondant e = { fn, user };
	return store_each_row(st, store_prepare(st, "SELECT " CORRESPONDANT_COLUMNS " FROM correspondants ORDER BY email", ""),
			      each_row, &e);
}

/* One column of an account changed: 1 when it exists, 0 when not, -1. */
static int
changed(struct store *st, int rc)
{
	return rc < 0 ? -1 : sqlite3_changes(st->db) > 0;
}

int
store_correspondant_set_password(struct store *st, int64_t id, const char *hash, int64_t now)
{
	return changed(st, store_exec(st, "UPDATE correspondants SET password_hash = ?, updated = ? WHERE id = ?", "sii",
				      hash, now, id));
}

int
store_correspondant_set_totp(struct store *st, int64_t id, const char *secret, int64_t now)
{
	return changed(st, store_exec(st, "UPDATE correspondants SET totp_secret = ?, updated = ? WHERE id = ?", "sii",
				      secret, now, id));
}

int
store_correspondant_set_disabled(struct store *st, int64_t id, bool disabled, int64_t now)
{
	return changed(st, store_exec(st, "UPDATE correspondants SET disabled = ?, updated = ? WHERE id = ?", "iii",
				      (int64_t)disabled, now, id));
}

int
store_login_failure_add(struct store *st, const char *address, const char *email, int64_t now)
{
	if (store_exec(st, "DELETE FROM console_login_failures WHERE at < ?", "i", now - 86400) < 0)
		return -1;
	return store_exec(st, "INSERT INTO console_login_failures (address, email, at) VALUES (?, ?, ?)", "ssi", address,
			  email, now);
}

int64_t
store_login_failures_since(struct store *st, const char *address, const char *email, int64_t since)
{
	return store_query_int(st,
			       "SELECT count(*) FROM console_login_failures WHERE at >= ?1 AND (?2 IS NULL OR address = ?2)"
			       " AND (?3 IS NULL OR email = ?3)",
			       "iss", since, address, email);
}

int
store_console_session_add(struct store *st, const char *token_hash, int64_t correspondant_id, const char *csrf_hash,
			  const char *address, int64_t now)
{
	return store_exec(st,
			  "INSERT INTO console_sessions (token_hash, correspondant_id, csrf_hash, address, created, last_seen)"
			  " VALUES (?, ?, ?, ?, ?, ?)",
			  "sissii", token_hash, correspondant_id, csrf_hash, address, now, now);
}

void
console_session_row_clear(struct console_session_row *row)
{
	free(row->csrf_hash);
	correspondant_row_clear(&row->account);
	memset(row, 0, sizeof(*row));
}

int
store_console_session_use(struct store *st, const char *token_hash, int64_t idle_since, int64_t created_since,
			  int64_t now, struct console_session_row *row)
{
	memset(row, 0, sizeof(*row));
	sqlite3_stmt *stmt = store_prepare(st,
					   "SELECT s.csrf_hash, s.last_seen, s.created, c.id, c.email, c.name, c.role,"
					   " c.password_hash, c.totp_secret, c.disabled, c.created, c.updated"
					   " FROM console_sessions s JOIN correspondants c ON c.id = s.correspondant_id"
					   " WHERE s.token_hash = ?",
					   "s", token_hash);
	if (stmt == NULL)
		return -1;
	int rc = sqlite3_step(stmt);
	bool live = false;
	if (rc == SQLITE_ROW) {
		row->csrf_hash = store_column_dup(stmt, 0);
		read_row_at(stmt, 3, &row->account);
		row->correspondant_id = row->account.id;
		live = sqlite3_column_int64(stmt, 1) >= idle_since && sqlite3_column_int64(stmt, 2) >= created_since &&
		       !row->account.disabled;
	}
	store_finish(st, stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (!live) {
		console_session_row_clear(row);
		return store_console_session_delete(st, token_hash) < 0 ? -1 : 0;
	}
	if (store_exec(st, "UPDATE console_sessions SET last_seen = ? WHERE token_hash = ?", "is", now, token_hash) < 0) {
		console_session_row_clear(row);
		return -1;
	}
	return 1;
}

int
store_console_session_delete(struct store *st, const char *token_hash)
{
	if (store_exec(st, "DELETE FROM console_sessions WHERE token_hash = ?", "s", token_hash) < 0)
		return -1;
	return sqlite3_changes(st->db);
}

int
store_console_sessions_delete_all(struct store *st, int64_t correspondant_id)
{
	if (store_exec(st, "DELETE FROM console_sessions WHERE correspondant_id = ?", "i", correspondant_id) < 0)
		return -1;
	return sqlite3_changes(st->db);
}
