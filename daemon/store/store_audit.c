/* store_audit — the record of account actions and what their limits read (see store.h):
 * the audit, the account action a chat conversation is in, the wrong one-time codes; and
 * retention, which purges old threads with every table that outlives them. */
#include "autoconf.h"
#include "store/store_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- audit ---- */

int
store_audit_add(struct store *st, const char *channel, const char *requester, const char *action, const char *subject,
		const char *outcome)
{
	return store_exec(st,
			  "INSERT INTO audit (at, channel, requester, action, subject, outcome, address)"
			  " VALUES (?, ?, ?, ?, ?, ?, ?)",
			  "issssss", store_now_seconds(), channel, requester, action, subject, outcome, st->audit_address);
}

void
store_set_audit_address(struct store *st, const char *address)
{
	st->audit_address = address;
}

static int
audit_adapter(sqlite3_stmt *stmt, void *user)
{
	struct store_each *e = user;
	struct audit_row a = {
		.at = sqlite3_column_int64(stmt, 0),
		.channel = (const char *)sqlite3_column_text(stmt, 1),
		.requester = (const char *)sqlite3_column_text(stmt, 2),
		.action = (const char *)sqlite3_column_text(stmt, 3),
		.subject = (const char *)sqlite3_column_text(stmt, 4),
		.outcome = (const char *)sqlite3_column_text(stmt, 5),
		.address = (const char *)sqlite3_column_text(stmt, 6),
	};
	return ((store_audit_fn)e->fn)(&a, e->user);
}

int
store_audit_each(struct store *st, store_audit_fn fn, void *user)
{
	struct store_each e = { (void (*)(void))fn, user };
	return store_each_row(st,
			      store_prepare(st, "SELECT at, channel, requester, action, subject, outcome, address FROM audit"
						" ORDER BY id DESC", ""),
			      audit_adapter, &e);
}

int
store_audit_each_about(struct store *st, const char *subject, const char *requester, int64_t limit, store_audit_fn fn,
		       void *user)
{
	struct store_each e = { (void (*)(void))fn, user };
	return store_each_row(st,
			      store_prepare(st,
					    "SELECT at, channel, requester, action, subject, outcome, address FROM audit"
					    " WHERE subject = ?1 OR (?2 IS NOT NULL AND requester = ?2 COLLATE NOCASE)"
					    " ORDER BY id DESC LIMIT ?3",
					    "ssi", subject, requester, limit),
			      audit_adapter, &e);
}

int64_t
store_audit_count(struct store *st, const char *requester, const char *action, int64_t since)
{
	return store_query_int(st, "SELECT count(*) FROM audit WHERE requester = ? COLLATE NOCASE AND action = ? AND at >= ?",
			       "ssi", requester, action, since);
}

int64_t
store_audit_count_subject(struct store *st, const char *action, const char *subject, const char *outcome, int64_t since)
{
	return store_query_int(st,
			       "SELECT count(*) FROM audit WHERE action = ?1 AND subject = ?2 COLLATE NOCASE"
			       " AND (?3 IS NULL OR outcome = ?3) AND at >= ?4",
			       "sssi", action, subject, outcome, since);
}

int64_t
store_audit_latest(struct store *st, const char *action, int64_t since)
{
	return store_query_int(st, "SELECT at FROM audit WHERE at >= ? AND action = ? ORDER BY at DESC LIMIT 1", "is", since,
			       action);
}

/* ---- chat: the account action a conversation is in ---- */

void
chat_action_clear(struct chat_action *c)
{
	free(c->action);
	free(c->step);
	free(c->subject);
	free(c->email);
	free(c->code_hash);
	memset(c, 0, sizeof(*c));
}

int
store_chat_action_get(struct store *st, int64_t thread_id, struct chat_action *c)
{
	memset(c, 0, sizeof(*c));
	sqlite3_stmt *stmt = store_prepare(st,
					   "SELECT action, step, subject, email, code_hash, expires, attempts FROM chat_actions"
					   " WHERE thread_id = ?",
					   "i", thread_id);
	if (stmt == NULL)
		return -1;
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		c->thread_id = thread_id;
		c->action = store_column_dup(stmt, 0);
		c->step = store_column_dup(stmt, 1);
		c->subject = store_column_dup(stmt, 2);
		c->email = store_column_dup(stmt, 3);
		c->code_hash = store_column_dup(stmt, 4);
		c->expires = sqlite3_column_int64(stmt, 5);
		c->attempts = sqlite3_column_int(stmt, 6);
	}
	store_finish(st, stmt);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : store_fail(st);
}

int
store_chat_action_put(struct store *st, const struct chat_action *c)
{
	return store_exec(st,
			  "INSERT INTO chat_actions (thread_id, action, step, subject, email, code_hash, expires, attempts)"
			  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (thread_id) DO UPDATE SET action = ?2, step = ?3,"
			  " subject = ?4, email = ?5, code_hash = ?6, expires = ?7, attempts = ?8",
			  "isssssii", c->thread_id, c->action, c->step, c->subject, c->email, c->code_hash, c->expires,
			  (int64_t)c->attempts);
}

int
store_chat_action_delete(struct store *st, int64_t thread_id)
{
	return store_exec(st, "DELETE FROM chat_actions WHERE thread_id = ?", "i", thread_id);
}

/* ---- account actions done after the reply ---- */

void
deferred_action_clear(struct deferred_action *a)
{
	free(a->channel);
	free(a->requester);
	free(a->action);
	free(a->by);
	free(a->value);
	memset(a, 0, sizeof(*a));
}

int64_t
store_deferred_add(struct store *st, const struct deferred_action *a)
{
	if (store_exec(st,
		       "INSERT INTO deferred_actions (thread_id, channel, requester, action, by, value, created)"
		       " VALUES (?, ?, ?, ?, ?, ?, ?)",
		       "isssssi", a->thread_id, a->channel, a->requester, a->action, a->by, a->value,
		       store_now_seconds()) < 0)
		return -1;
	return sqlite3_last_insert_rowid(st->db);
}

int64_t
store_deferred_count(struct store *st)
{
	return store_query_int(st, "SELECT count(*) FROM deferred_actions", "");
}

int64_t
store_deferred_replies_pending(struct store *st)
{
	return store_query_int(st,
			       "SELECT count(*) FROM outbox WHERE state = 'pending' AND kind IN ('reply', 'ack')"
			       " AND thread_id IN (SELECT thread_id FROM deferred_actions)", "");
}

int
store_deferred_next(struct store *st, struct deferred_action *a)
{
	memset(a, 0, sizeof(*a));
	sqlite3_stmt *stmt = store_prepare(st,
					   "SELECT id, thread_id, channel, requester, action, by, value, created"
					   " FROM deferred_actions ORDER BY id LIMIT 1", "");
	if (stmt == NULL)
		return -1;
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		a->id = sqlite3_column_int64(stmt, 0);
		a->thread_id = sqlite3_column_int64(stmt, 1);
		a->channel = store_column_dup(stmt, 2);
		a->requester = store_column_dup(stmt, 3);
		a->action = store_column_dup(stmt, 4);
		a->by = store_column_dup(stmt, 5);
		a->value = store_column_dup(stmt, 6);
		a->created = sqlite3_column_int64(stmt, 7);
	}
	store_finish(st, stmt);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : store_fail(st);
}

int
store_deferred_delete(struct store *st, int64_t id)
{
	return store_exec(st, "DELETE FROM deferred_actions WHERE id = ?", "i", id);
}

/* ---- one-time codes ---- */

/* Longer than any limit's window (an hour): what the limits need, no more. */
#define WRONG_CODES_KEPT 86400

int
store_wrong_code_add(struct store *st, const char *visitor, const char *email, bool code_sent, int64_t now)
{
	if (store_exec(st, "DELETE FROM wrong_codes WHERE at < ?", "i", now - WRONG_CODES_KEPT) < 0)
		return -1;
	return store_exec(st, "INSERT INTO wrong_codes (at, visitor, email, code_sent) VALUES (?, ?, ?, ?)", "issi", now,
			  visitor, email, (int64_t)(code_sent ? 1 : 0));
}

int
store_wrong_codes_count(struct store *st, const char *visitor, const char *email, int64_t since,
			struct wrong_code_counts *counts_r)
{
	memset(counts_r, 0, sizeof(*counts_r));
	sqlite3_stmt *stmt = store_prepare(st,
					   "SELECT coalesce(sum(visitor = ?1 COLLATE NOCASE), 0),"
					   " coalesce(sum(email = ?2 COLLATE NOCASE AND code_sent), 0), count(*)"
					   " FROM wrong_codes WHERE at >= ?3",
					   "ssi", visitor, email, since);
	if (stmt == NULL)
		return -1;
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		counts_r->by_visitor = sqlite3_column_int64(stmt, 0);
		counts_r->for_address = sqlite3_column_int64(stmt, 1);
		counts_r->everyone = sqlite3_column_int64(stmt, 2);
	}
	store_finish(st, stmt);
	return rc == SQLITE_ROW ? 0 : store_fail(st);
}

/* ---- retention ---- */

int
store_purge(struct store *st, int64_t before, struct purge_counts *counts)
{
	memset(counts, 0, sizeof(*counts));
	if (store_begin(st) < 0)
		return -1;
	/* The threads to go: old, and not waiting for a mail to be sent. The permanent
	 * record of processed mail stays, so nothing purged is ever answered again. */
	if (store_exec(st, "CREATE TEMP TABLE IF NOT EXISTS purge_ids (id INTEGER PRIMARY KEY)", "") < 0 ||
	    store_exec(st, "DELETE FROM purge_ids", "") < 0 ||
	    store_exec(st,
		       "INSERT INTO purge_ids SELECT id FROM threads WHERE updated < ? AND NOT EXISTS"
		       " (SELECT 1 FROM outbox o WHERE o.thread_id = threads.id AND o.state = 'pending')",
		       "i", before) < 0)
		goto fail;
	counts->threads = sqlite3_changes(st->db);
	if (store_exec(st, "DELETE FROM messages WHERE thread_id IN (SELECT id FROM purge_ids)", "") < 0)
		goto fail;
	counts->messages = sqlite3_changes(st->db);
	if (store_exec(st, "DELETE FROM outbox WHERE thread_id IN (SELECT id FROM purge_ids)", "") < 0)
		goto fail;
	counts->outbox = sqlite3_changes(st->db);
	if (store_exec(st, "DELETE FROM threads WHERE id IN (SELECT id FROM purge_ids)", "") < 0 ||
	    store_exec(st, "DELETE FROM audit WHERE at < ?", "i", before) < 0)
		goto fail;
	counts->audit = sqlite3_changes(st->db);
	/* Reset tokens past their use (expired, used or revoked before the cut-off); wrong
	 * codes (visitors and addresses) and notices waiting for a digest, once old. */
	if (store_exec(st, "DELETE FROM bounces WHERE at < ?", "i", before) < 0 ||
	    store_exec(st, "DELETE FROM wrong_codes WHERE at < ?", "i", before) < 0 ||
	    store_exec(st, "DELETE FROM deferred_notices WHERE at < ?", "i", before) < 0 ||
	    store_exec(st, "DELETE FROM reset_tokens WHERE expires < ?", "i", before) < 0 ||
	    /* Chat sessions that never got a message (a thread's go with it, by cascade). */
	    store_exec(st, "DELETE FROM chat_conversations WHERE thread_id IS NULL AND expires < ?", "i", before) < 0 ||
	    /* The search index rewritten, so that what was purged is in none of its segments. */
	    store_exec(st, "INSERT INTO messages_search (messages_search) VALUES ('optimize')", "") < 0 ||
	    store_exec(st, "DELETE FROM console_login_failures WHERE at < ?", "i", before) < 0 ||
	    store_commit(st) < 0)
		goto fail;
	return 0;
fail:
	store_rollback(st);
	return -1;
}
