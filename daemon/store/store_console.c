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

static void
read_row(sqlite3_stmt *stmt, struct correspondant_row *r)
{
	r->id = sqlite3_column_int64(stmt, 0);
	r->email = store_column_dup(stmt, 1);
	r->name = store_column_dup(stmt, 2);
	r->role = store_column_dup(stmt, 3);
	r->password_hash = store_column_dup(stmt, 4);
	r->totp_secret = store_column_dup(stmt, 5);
	r->disabled = sqlite3_column_int(stmt, 6) != 0;
	r->created = sqlite3_column_int64(stmt, 7);
	r->updated = sqlite3_column_int64(stmt, 8);
}

int
store_correspondant_get(struct store *st, const char *email, struct correspondant_row *r)
{
	memset(r, 0, sizeof(*r));
	sqlite3_stmt *stmt = store_prepare(st, "SELECT " CORRESPONDANT_COLUMNS " FROM correspondants WHERE email = ?", "s",
					   email);
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
