/* store_outbox — the mail waiting to be sent and what became of it (see store.h): the
 * outbox, the counts of sent mail the hourly limits read, the correspondants'
 * notifications held for the digest, and bounces. */
#include "autoconf.h"
#include "store/store_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- outbox ---- */

static const char *const outbox_kind_names[] = { "reply", "ack", "notify", "action", "secret", "person" };

const char *
outbox_kind_name(enum outbox_kind kind)
{
	return outbox_kind_names[kind];
}

static const char *const outbox_state_names[] = { "pending", "sent", "failed" };

const char *
outbox_state_name(enum outbox_state state)
{
	return outbox_state_names[state];
}

int
outbox_state_from_name(const char *name)
{
	return NAME_INDEX(outbox_state_names, name);
}

static enum outbox_kind
kind_of(const unsigned char *name)
{
	int kind = NAME_INDEX(outbox_kind_names, (const char *)name);
	return kind < 0 ? OUTBOX_SECRET : (enum outbox_kind)kind;
}

void
outbox_row_clear(struct outbox_row *row)
{
	free(row->message_id);
	free(row->mail_from);
	free(row->recipient);
	free(row->raw);
	free(row->last_error);
	memset(row, 0, sizeof(*row));
}

int64_t
store_outbox_add_at(struct store *st, int64_t thread_id, enum outbox_kind kind, const char *message_id,
		    const char *mail_from, const char *recipient, const char *raw, int64_t not_before)
{
	int64_t now = store_now_seconds();
	if (store_exec(st,
		       "INSERT INTO outbox (thread_id, kind, message_id, mail_from, recipient, raw, state, next_attempt, created)"
		       " VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
		       "isssssii", thread_id, outbox_kind_name(kind), message_id, mail_from, recipient, raw,
		       not_before > now ? not_before : now, now) < 0)
		return -1;
	return sqlite3_last_insert_rowid(st->db);
}

int64_t
store_outbox_add(struct store *st, int64_t thread_id, enum outbox_kind kind, const char *message_id,
		 const char *mail_from, const char *recipient, const char *raw)
{
	return store_outbox_add_at(st, thread_id, kind, message_id, mail_from, recipient, raw, 0);
}

#define OUTBOX_COLUMNS \
	"id, thread_id, kind, message_id, mail_from, recipient, state, attempts, permanent_failures," \
	" next_attempt, created, sent_at, last_error"

static void
outbox_from_row(sqlite3_stmt *stmt, struct outbox_row *row)
{
	row->id = sqlite3_column_int64(stmt, 0);
	row->thread_id = sqlite3_column_int64(stmt, 1);
	row->kind = kind_of(sqlite3_column_text(stmt, 2));
	row->message_id = store_column_dup(stmt, 3);
	row->mail_from = store_column_dup(stmt, 4);
	row->recipient = store_column_dup(stmt, 5);
	int state = outbox_state_from_name((const char *)sqlite3_column_text(stmt, 6));
	row->state = state < 0 ? OUTBOX_FAILED : (enum outbox_state)state;
	row->attempts = sqlite3_column_int(stmt, 7);
	row->permanent_failures = sqlite3_column_int(stmt, 8);
	row->next_attempt = sqlite3_column_int64(stmt, 9);
	row->created = sqlite3_column_int64(stmt, 10);
	row->sent_at = sqlite3_column_int64(stmt, 11);
	row->last_error = store_column_dup(stmt, 12);
}

int
store_outbox_next(struct store *st, int64_t now, struct outbox_row *row, int64_t *next_due_r)
{
	*next_due_r = 0;
	sqlite3_stmt *stmt = store_prepare(st,
					   "SELECT " OUTBOX_COLUMNS ", raw FROM outbox WHERE state = 'pending'"
					   " ORDER BY next_attempt, id LIMIT 1",
					   "");
	if (stmt == NULL)
		return -1;
	int rc = sqlite3_step(stmt);
	int found = 0;
	if (rc == SQLITE_ROW) {
		int64_t due = sqlite3_column_int64(stmt, 9);
		if (due <= now) {
			outbox_from_row(stmt, row);
			row->raw = store_column_dup(stmt, 13);
			found = 1;
		} else {
			*next_due_r = due;
		}
	}
	store_finish(st, stmt);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : store_fail(st);
}

/* The raw text once sent or given up: kept for the kinds that carry no secret (every
 * kind of outbox_kind_names but "secret"), emptied for a secret and for a name this
 * dialogd does not know (read as a secret: see kind_of). */
#define KEEP_RAW_UNLESS_SECRET "CASE WHEN kind IN ('reply', 'ack', 'notify', 'action', 'person') THEN raw ELSE '' END"

int
store_outbox_sent(struct store *st, int64_t id, int64_t now)
{
	/* A secret mail (reset link, one-time code) keeps no copy of its secret once sent. */
	return store_exec(st, "UPDATE outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1, last_error = NULL,"
			" raw = " KEEP_RAW_UNLESS_SECRET " WHERE id = ?", "ii", now, id);
}

int
store_forget_wal(struct store *st)
{
	int log_frames = -1, checkpointed = -1;
	int rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log_frames, &checkpointed);
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return 0;
	if (rc != SQLITE_OK)
		return store_fail(st);
	return 1;
}

int
store_outbox_retry(struct store *st, int64_t id, bool permanent, int64_t next_attempt, const char *error)
{
	return store_exec(st,
			  "UPDATE outbox SET attempts = attempts + 1, permanent_failures = permanent_failures + ?,"
			  " next_attempt = ?, last_error = ? WHERE id = ?",
			  "iisi", (int64_t)(permanent ? 1 : 0), next_attempt, error, id);
}

int
store_outbox_failed(struct store *st, int64_t id, const char *error)
{
	return store_exec(st, "UPDATE outbox SET state = 'failed', attempts = attempts + 1,"
			" permanent_failures = permanent_failures + 1, last_error = ?,"
			" raw = " KEEP_RAW_UNLESS_SECRET " WHERE id = ?", "si", error, id);
}

static int
outbox_adapter(sqlite3_stmt *stmt, void *user)
{
	struct store_each *e = user;
	struct outbox_row row = {0};
	outbox_from_row(stmt, &row);
	int stop = ((store_outbox_fn)e->fn)(&row, e->user);
	outbox_row_clear(&row);
	return stop;
}

int
store_outbox_each(struct store *st, const enum outbox_state *state, store_outbox_fn fn, void *user)
{
	struct store_each e = { (void (*)(void))fn, user };
	const char *name = state ? outbox_state_name(*state) : NULL;
	return store_each_row(st,
			      store_prepare(st, "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE ?1 IS NULL OR state = ?1 ORDER BY id DESC",
					    "s", name),
			      outbox_adapter, &e);
}

int64_t
store_outbox_count(struct store *st, enum outbox_state state)
{
	return store_query_int(st, "SELECT count(*) FROM outbox WHERE state = ?", "s", outbox_state_name(state));
}

/* ---- per-sender events ---- */

int64_t
store_auto_replies_since(struct store *st, const char *address, int64_t since)
{
	/* "a+anything@d" is a@d's mailbox: plus-addressing does not make new senders. */
	return store_query_int(st,
			       "SELECT count(*) FROM outbox WHERE created >= ?1 AND kind IN ('reply', 'ack')"
			       " AND lower(CASE WHEN instr(recipient, '+') BETWEEN 2 AND instr(recipient, '@') - 1"
			       " THEN substr(recipient, 1, instr(recipient, '+') - 1) || substr(recipient, instr(recipient, '@'))"
			       " ELSE recipient END)"
			       " = lower(CASE WHEN instr(?2, '+') BETWEEN 2 AND instr(?2, '@') - 1"
			       " THEN substr(?2, 1, instr(?2, '+') - 1) || substr(?2, instr(?2, '@')) ELSE ?2 END)",
			       "is", since, address);
}

int64_t
store_auto_replies_to_domain_since(struct store *st, const char *domain, int64_t since)
{
	return store_query_int(st,
			       "SELECT count(*) FROM outbox WHERE created >= ? AND kind IN ('reply', 'ack')"
			       " AND substr(recipient, instr(recipient, '@') + 1) = ? COLLATE NOCASE",
			       "is", since, domain);
}

int64_t
store_outbox_kind_since(struct store *st, enum outbox_kind kind, int64_t since)
{
	return store_query_int(st, "SELECT count(*) FROM outbox WHERE created >= ? AND kind = ?", "is", since,
			       outbox_kind_name(kind));
}

/* ---- correspondants' notifications held for the digest ---- */

int
store_notice_defer(struct store *st, int64_t thread_id, const char *reason, int64_t at)
{
	return store_exec(st, "INSERT INTO deferred_notices (thread_id, reason, at) VALUES (?, ?, ?)", "isi", thread_id,
			  reason ? reason : "", at);
}

int64_t
store_notices_deferred_oldest(struct store *st)
{
	return store_query_int(st, "SELECT coalesce(min(at), 0) FROM deferred_notices", "");
}

int64_t
store_last_digest(struct store *st)
{
	return store_query_int(st, "SELECT coalesce(max(created), 0) FROM outbox WHERE kind = 'notify' AND thread_id = 0", "");
}

static int
deferred_adapter(sqlite3_stmt *stmt, void *user)
{
	struct store_each *e = user;
	struct deferred_notice n = {
		.id = sqlite3_column_int64(stmt, 0), .thread_id = sqlite3_column_int64(stmt, 1),
		.reason = (const char *)sqlite3_column_text(stmt, 2), .at = sqlite3_column_int64(stmt, 3),
		.requester = (const char *)sqlite3_column_text(stmt, 4),
		.subject = (const char *)sqlite3_column_text(stmt, 5),
	};
	return ((store_deferred_fn)e->fn)(&n, e->user);
}

int
store_notices_deferred_each(struct store *st, store_deferred_fn fn, void *user)
{
	struct store_each e = { (void (*)(void))fn, user };
	/* A thread purged meanwhile keeps its line, without requester or subject. */
	return store_each_row(st,
			      store_prepare(st,
					    "SELECT d.id, d.thread_id, d.reason, d.at, coalesce(t.requester, ''), coalesce(t.subject, '')"
					    " FROM deferred_notices d LEFT JOIN threads t ON t.id = d.thread_id ORDER BY d.id",
					    ""),
			      deferred_adapter, &e);
}

int
store_notices_deferred_clear(struct store *st, int64_t up_to_id)
{
	return store_exec(st, "DELETE FROM deferred_notices WHERE id <= ?", "i", up_to_id);
}

int64_t
store_notices_since(struct store *st, int64_t thread_id, int64_t since)
{
	return store_query_int(st, "SELECT count(*) FROM outbox WHERE thread_id = ? AND kind = 'notify' AND created >= ?", "ii",
			       thread_id, since);
}

int64_t
store_last_notify_for(struct store *st, const char *requester)
{
	return store_query_int(st,
			       "SELECT coalesce(max(o.created), 0) FROM outbox o JOIN threads t ON t.id = o.thread_id"
			       " WHERE o.kind = 'notify' AND t.requester = ? COLLATE NOCASE",
			       "s", requester);
}

int
store_outbox_sent_as(struct store *st, const char *message_id, const char *address)
{
	int64_t n = store_query_int(st, "SELECT count(*) FROM outbox WHERE message_id = ? AND recipient = ? COLLATE NOCASE",
				    "ss", message_id, address);
	return n < 0 ? -1 : n > 0;
}

int
store_bounce_add(struct store *st, const char *address, int64_t at)
{
	return store_exec(st, "INSERT INTO bounces (address, at) VALUES (lower(?), ?)", "si", address, at);
}

int64_t
store_last_bounce(struct store *st, const char *address)
{
	return store_query_int(st, "SELECT coalesce(max(at), 0) FROM bounces WHERE address = lower(?)", "s", address);
}
