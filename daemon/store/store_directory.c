/* store_directory — the embedded directory (see store.h): structures, accounts and the
 * structures they act for, dossiers, filled by `dialogctl import`; the passwords set on
 * the reset page and the reset tokens (hashes only). */
#include "autoconf.h"
#include "store/store_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- directory ---- */

int
store_company_put(struct store *st, const struct company_row *c)
{
	return store_exec(st,
			  "INSERT INTO companies (siret, name, kind, correspondant_email) VALUES (?, ?, ?, ?)"
			  " ON CONFLICT (siret) DO UPDATE SET name = excluded.name, kind = excluded.kind,"
			  " correspondant_email = excluded.correspondant_email",
			  "ssss", c->siret, c->name, c->kind, c->correspondant_email);
}

int
store_company_exists(struct store *st, const char *siret)
{
	int64_t n = store_query_int(st, "SELECT count(*) FROM companies WHERE siret = ?", "s", siret);
	return n < 0 ? -1 : n > 0;
}

int
store_account_put(struct store *st, const struct account_row *a)
{
	if (store_exec(st,
		       "INSERT INTO accounts (identifier, email, kind, state) VALUES (?, ?, ?, ?)"
		       " ON CONFLICT (identifier) DO UPDATE SET email = excluded.email, kind = excluded.kind,"
		       " state = excluded.state",
		       "ssss", a->identifier, a->email, a->kind, a->state) < 0)
		return -1;
	return store_exec(st, "INSERT OR IGNORE INTO account_links (identifier, siret) VALUES (?, ?)", "ss", a->identifier,
			  a->siret);
}

int
store_dossier_put(struct store *st, const struct dossier_row *d)
{
	return store_exec(st,
			  "INSERT INTO dossiers (number, type, state, siret, training_org_siret, deca_number, start_date,"
			  " amount_cents) VALUES (?, ?, ?, ?, ?, ?, ?, nullif(?, -1))"
			  " ON CONFLICT (number) DO UPDATE SET type = excluded.type, state = excluded.state,"
			  " siret = excluded.siret, training_org_siret = excluded.training_org_siret,"
			  " deca_number = excluded.deca_number, start_date = excluded.start_date,"
			  " amount_cents = excluded.amount_cents",
			  "sssssssi", d->number, d->type, d->state, d->siret, d->training_org_siret, d->deca_number,
			  d->start_date, d->amount_cents);
}

int64_t
store_directory_count(struct store *st, const char *table)
{
	/* table is one of ours, never input: a fixed statement per table. */
	if (strcmp(table, "companies") == 0)
		return store_query_int(st, "SELECT count(*) FROM companies", "");
	if (strcmp(table, "accounts") == 0)
		return store_query_int(st, "SELECT count(*) FROM accounts", "");
	if (strcmp(table, "dossiers") == 0)
		return store_query_int(st, "SELECT count(*) FROM dossiers", "");
	return -1;
}

struct account_walk {
	store_account_fn fn;
	void *user;
};

static int
account_walk_row(sqlite3_stmt *stmt, void *user)
{
	struct account_walk *w = user;
	struct account_row a = {
		.identifier = (const char *)sqlite3_column_text(stmt, 0), .email = (const char *)sqlite3_column_text(stmt, 1),
		.kind = (const char *)sqlite3_column_text(stmt, 2), .state = (const char *)sqlite3_column_text(stmt, 3),
	};
	const char *structures = (const char *)sqlite3_column_text(stmt, 4);
	return w->fn(&a, structures ? structures : "", w->user);
}

int
store_accounts_find(struct store *st, const char *by, const char *value, store_account_fn fn, void *user)
{
	/* The WHERE clause is chosen from fixed text, never built from the value. */
	const char *where = strcmp(by, "email") == 0 ? "a.email = ?1 COLLATE NOCASE"
			    : strcmp(by, "identifier") == 0
				    ? "a.identifier = ?1 COLLATE NOCASE"
				    : "a.identifier IN (SELECT identifier FROM account_links WHERE siret = ?1)";
	char *sql = xasprintf("SELECT a.identifier, a.email, a.kind, a.state,"
			      " group_concat(l.siret || char(9) || coalesce(c.name, ''), char(10))"
			      " FROM accounts a LEFT JOIN account_links l ON l.identifier = a.identifier"
			      " LEFT JOIN companies c ON c.siret = l.siret"
			      " WHERE %s GROUP BY a.identifier ORDER BY a.identifier",
			      where);
	struct account_walk w = { fn, user };
	int rc = store_each_row(st, store_prepare_built(st, sql, "s", value), account_walk_row, &w);
	free(sql);
	return rc;
}

struct dossier_walk {
	store_dossier_fn fn;
	void *user;
	int found;
};

static int
dossier_walk_row(sqlite3_stmt *stmt, void *user)
{
	struct dossier_walk *w = user;
	struct dossier_row d = {
		.number = (const char *)sqlite3_column_text(stmt, 0), .type = (const char *)sqlite3_column_text(stmt, 1),
		.state = (const char *)sqlite3_column_text(stmt, 2), .siret = (const char *)sqlite3_column_text(stmt, 3),
		.training_org_siret = (const char *)sqlite3_column_text(stmt, 4),
		.deca_number = (const char *)sqlite3_column_text(stmt, 5),
		.start_date = (const char *)sqlite3_column_text(stmt, 6),
		.amount_cents = sqlite3_column_type(stmt, 7) == SQLITE_NULL ? -1 : sqlite3_column_int64(stmt, 7),
	};
	w->found = 1;
	return w->fn(&d, w->user);
}

int
store_dossier_find(struct store *st, const char *number, store_dossier_fn fn, void *user)
{
	struct dossier_walk w = { fn, user, 0 };
	int rc = store_each_row(st,
				store_prepare(st,
					      "SELECT number, type, state, siret, training_org_siret, deca_number, start_date, amount_cents"
					      " FROM dossiers WHERE number = ?",
					      "s", number),
				dossier_walk_row, &w);
	return rc < 0 ? -1 : w.found;
}

int
store_dossier_get(struct store *st, const char *number, struct dossier_info *d)
{
	sqlite3_stmt *stmt = store_prepare(st, "SELECT type, state, deca_number FROM dossiers WHERE number = ?", "s", number);
	if (stmt == NULL)
		return -1;
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		d->type = store_column_dup(stmt, 0);
		d->state = store_column_dup(stmt, 1);
		d->deca_number = store_column_dup(stmt, 2);
	}
	store_finish(st, stmt);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : store_fail(st);
}

void
dossier_info_clear(struct dossier_info *d)
{
	free(d->type);
	free(d->state);
	free(d->deca_number);
	memset(d, 0, sizeof(*d));
}

/* Active accounts acting for the dossier's company or training organisation. */
#define DOSSIER_ACCOUNTS \
	" FROM accounts a JOIN account_links l ON l.identifier = a.identifier JOIN dossiers d ON d.number = ?1" \
	" WHERE a.state = 'active' AND (l.siret = d.siret OR l.siret = d.training_org_siret)"

int
store_dossier_linked(struct store *st, const char *number, const char *email)
{
	int64_t n = store_query_int(st, "SELECT count(*)" DOSSIER_ACCOUNTS " AND a.email = ?2 COLLATE NOCASE", "ss", number,
				    email);
	return n < 0 ? -1 : n > 0;
}

int
store_dossier_emails(struct store *st, const char *number, char ***emails_r, size_t *count_r)
{
	*emails_r = NULL;
	*count_r = 0;
	sqlite3_stmt *stmt = store_prepare(st, "SELECT DISTINCT lower(a.email)" DOSSIER_ACCOUNTS " ORDER BY 1", "s", number);
	if (stmt == NULL)
		return -1;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		*emails_r = xrealloc(*emails_r, (*count_r + 1) * sizeof(**emails_r));
		(*emails_r)[(*count_r)++] = store_column_dup(stmt, 0);
	}
	store_finish(st, stmt);
	return rc == SQLITE_DONE ? 0 : store_fail(st);
}

int
store_account_unlink(struct store *st, const char *identifier)
{
	return store_exec(st, "DELETE FROM account_links WHERE identifier = ?", "s", identifier);
}

/* ---- passwords set on the reset page ---- */

int
store_password_set(struct store *st, const char *identifier, const char *hash, int64_t now)
{
	int64_t known = store_query_int(st, "SELECT count(*) FROM accounts WHERE identifier = ?", "s", identifier);
	if (known <= 0)
		return known < 0 ? -1 : 0;
	if (store_exec(st,
		       "INSERT INTO account_passwords (identifier, hash, set_at) VALUES (?1, ?2, ?3)"
		       " ON CONFLICT (identifier) DO UPDATE SET hash = excluded.hash, set_at = excluded.set_at",
		       "ssi", identifier, hash, now) < 0)
		return -1;
	return 1;
}

char *
store_password_get(struct store *st, const char *identifier)
{
	sqlite3_stmt *stmt = store_prepare(st, "SELECT hash FROM account_passwords WHERE identifier = ?", "s", identifier);
	if (stmt == NULL)
		return NULL;
	char *hash = sqlite3_step(stmt) == SQLITE_ROW ? store_column_dup(stmt, 0) : NULL;
	store_finish(st, stmt);
	return hash;
}

/* ---- password reset tokens ---- */

int
store_reset_token_put(struct store *st, const char *purpose, const char *identifier, const char *token_hash, int64_t now,
		      int64_t expires)
{
	/* A savepoint: atomic on its own, and part of the caller's transaction when there is one. */
	if (store_exec(st, "SAVEPOINT reset_token_put", "") < 0)
		return -1;
	if (store_exec(st,
		       "UPDATE reset_tokens SET revoked_at = ? WHERE identifier = ? AND purpose = ? AND used_at IS NULL"
		       " AND revoked_at IS NULL",
		       "iss", now, identifier, purpose) < 0 ||
	    store_exec(st, "INSERT INTO reset_tokens (identifier, token_hash, created, expires, purpose) VALUES (?, ?, ?, ?, ?)",
		       "ssiis", identifier, token_hash, now, expires, purpose) < 0 ||
	    store_exec(st, "RELEASE reset_token_put", "") < 0) {
		char *saved = xstrdup(store_error(st));
		store_exec(st, "ROLLBACK TO reset_token_put", "");
		store_exec(st, "RELEASE reset_token_put", "");
		free(st->error);
		st->error = saved;
		return -1;
	}
	return 0;
}

int
store_reset_token_burn(struct store *st, const char *purpose, const char *token_hash, int64_t now, char **identifier_r)
{
	/* One statement: two pages submitted at once cannot both use the token. */
	sqlite3_stmt *stmt = store_prepare(st,
					   "UPDATE reset_tokens SET used_at = ?1 WHERE token_hash = ?2 AND used_at IS NULL"
					   " AND revoked_at IS NULL AND expires > ?1 AND purpose = ?3 RETURNING identifier",
					   "iss", now, token_hash, purpose);
	if (stmt == NULL)
		return -1;
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*identifier_r = store_column_dup(stmt, 0);
	int done = rc == SQLITE_ROW ? sqlite3_step(stmt) : rc;
	store_finish(st, stmt);
	if (done != SQLITE_DONE)
		return store_fail(st);
	return rc == SQLITE_ROW ? 1 : 0;
}

int
store_reset_token_find(struct store *st, const char *purpose, const char *token_hash, int64_t now, char **identifier_r)
{
	/* The same conditions as store_reset_token_burn, read only. */
	sqlite3_stmt *stmt = store_prepare(st,
					   "SELECT identifier FROM reset_tokens WHERE token_hash = ?2 AND used_at IS NULL"
					   " AND revoked_at IS NULL AND expires > ?1 AND purpose = ?3",
					   "iss", now, token_hash, purpose);
	if (stmt == NULL)
		return -1;
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*identifier_r = store_column_dup(stmt, 0);
	store_finish(st, stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(st);
	return rc == SQLITE_ROW ? 1 : 0;
}
