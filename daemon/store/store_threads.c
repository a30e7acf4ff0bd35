/* store_threads — threads and their messages (see store.h): a thread's state, who answers
 * it (the bot, the correspondants' queue or one correspondant: store_thread_take, release
 * and resolve) and the messages that came and went in it. */
#include "autoconf.h"
#include "store/store_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- threads ---- */

static const char *const thread_state_names[] = { "answered", "escalated", "ignored", "open" };

const char *
thread_state_name(enum thread_state state)
{
	return thread_state_names[state];
}

int
thread_state_from_name(const char *name)
{
	return NAME_INDEX(thread_state_names, name);
}

void
thread_row_clear(struct thread_row *row)
{
	free(row->channel);
	free(row->requester);
	free(row->subject);
	free(row->intent);
	free(row->reason);
	free(row->owner_person);
	memset(row, 0, sizeof(*row));
}

int64_t
store_thread_by_message_ids(struct store *st, const char *const *ids, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (ids[i] == NULL || *ids[i] == '\0')
			continue;
		int64_t id = store_query_int(st, "SELECT thread_id FROM messages WHERE message_id = ? ORDER BY id LIMIT 1",
					     "s", ids[i]);
		if (id != 0)
			return id;
	}
	return 0;
}

int64_t
store_thread_create(struct store *st, const char *channel, const char *requester, const char *subject,
		    enum thread_state state, const char *intent, const char *reason)
{
	int64_t now = store_now_seconds();
	/* A thread escalated from its first message goes to the correspondants' queue. */
	if (store_exec(st,
		       "INSERT INTO threads (channel, requester, subject, state, intent, reason, created, updated, owner)"
		       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, CASE WHEN ?4 = 'escalated' THEN 'queue' ELSE 'bot' END)",
		       "ssssssii", channel, requester, subject, thread_state_name(state), intent, reason, now, now) < 0)
		return -1;
	return sqlite3_last_insert_rowid(st->db);
}

int
store_thread_update(struct store *st, int64_t id, enum thread_state state, const char *intent, const char *reason)
{
	/* Escalating hands a thread of the bot's to the queue; one a correspondant holds stays
	 * theirs. */
	return store_exec(st,
			  "UPDATE threads SET state = ?1, intent = coalesce(?2, intent), reason = ?3, updated = ?4,"
			  " owner = CASE WHEN ?1 = 'escalated' AND owner = 'bot' THEN 'queue' ELSE owner END WHERE id = ?5",
			  "sssii", thread_state_name(state), intent, reason, store_now_seconds(), id);
}

static const char *const owner_names[] = { "bot", "queue", "person" };

const char *
thread_owner_name(enum thread_owner owner)
{
	return (size_t)owner < sizeof(owner_names) / sizeof(*owner_names) ? owner_names[owner] : "bot";
}

static enum thread_owner
thread_owner_from_name(const char *name)
{
	int owner = NAME_INDEX(owner_names, name);
	/* Unreadable: a person looks at it rather than the bot answering. */
	return owner < 0 ? OWNER_QUEUE : (enum thread_owner)owner;
}

/* Each change of hands is one statement whose WHERE says from whom it may happen, so two
 * correspondants taking a thread at once cannot both get it: 1 done, 0 refused, -1. */
static int
changed(struct store *st, int rc)
{
	return rc < 0 ? -1 : sqlite3_changes(st->db) > 0 ? 1 : 0;
}

int
store_thread_take(struct store *st, int64_t id, const char *person, bool from_another)
{
	return changed(st, store_exec(st,
				      "UPDATE threads SET owner = 'person', owner_person = ?2, updated = ?3 WHERE id = ?1"
				      " AND (owner <> 'person' OR owner_person = ?2 OR ?4)",
				      "isii", id, person, store_now_seconds(), (int64_t)from_another));
}

int
store_thread_release(struct store *st, int64_t id, const char *person)
{
	return changed(st, store_exec(st,
				      "UPDATE threads SET owner = 'bot', owner_person = NULL, state = 'open', reason = NULL,"
				      " updated = ?3 WHERE id = ?1 AND (owner = 'queue' OR (owner = 'person' AND owner_person = ?2))",
				      "isi", id, person, store_now_seconds()));
}

int
store_thread_resolve(struct store *st, int64_t id, const char *person)
{
	return changed(st, store_exec(st,
				      "UPDATE threads SET owner = 'bot', owner_person = NULL, state = 'answered', updated = ?3"
				      " WHERE id = ?1 AND owner = 'person' AND owner_person = ?2",
				      "isi", id, person, store_now_seconds()));
}

#define THREAD_COLUMNS \
	"t.id, t.channel, t.requester, t.subject, t.state, t.intent, t.reason, t.created, t.updated," \
	" (SELECT count(*) FROM messages m WHERE m.thread_id = t.id), t.owner, t.owner_person"

static void
thread_from_row(sqlite3_stmt *stmt, struct thread_row *row)
{
	row->id = sqlite3_column_int64(stmt, 0);
	row->channel = store_column_dup(stmt, 1);
	row->requester = store_column_dup(stmt, 2);
	row->subject = store_column_dup(stmt, 3);
	int state = thread_state_from_name((const char *)sqlite3_column_text(stmt, 4));
	row->state = state < 0 ? THREAD_OPEN : (enum thread_state)state;
	row->intent = store_column_dup(stmt, 5);
	row->reason = store_column_dup(stmt, 6);
	row->created = sqlite3_column_int64(stmt, 7);
	row->updated = sqlite3_column_int64(stmt, 8);
	row->messages = sqlite3_column_int64(stmt, 9);
	row->owner = thread_owner_from_name((const char *)sqlite3_column_text(stmt, 10));
	row->owner_person = store_column_dup(stmt, 11);
}

int
store_thread_get(struct store *st, int64_t id, struct thread_row *row)
{
	sqlite3_stmt *stmt = store_prepare(st, "SELECT " THREAD_COLUMNS " FROM threads t WHERE t.id = ?", "i", id);
	if (stmt == NULL)
		return -1;
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		thread_from_row(stmt, row);
	store_finish(st, stmt);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : store_fail(st);
}

static int
thread_adapter(sqlite3_stmt *stmt, void *user)
{
	struct store_each *e = user;
	struct thread_row row = {0};
	thread_from_row(stmt, &row);
	int stop = ((store_thread_fn)e->fn)(&row, e->user);
	thread_row_clear(&row);
	return stop;
}

int
store_threads_each(struct store *st, const char *state, store_thread_fn fn, void *user)
{
	struct store_each e = { (void (*)(void))fn, user };
	return store_each_row(st,
			      store_prepare(st,
					    "SELECT " THREAD_COLUMNS " FROM threads t WHERE ?1 IS NULL OR t.state = ?1"
					    " ORDER BY t.updated DESC, t.id DESC",
					    "s", state),
			      thread_adapter, &e);
}

/* The words of what a person typed as an FTS5 query: each word a quoted string (quotes
 * doubled), all of them required; NULL when it holds no word. Never a syntax error, and no
 * operator (NEAR, OR, column filters) gets through. */
static char *
search_words(const char *typed)
{
	struct strbuf sb = {0};
	for (const char *p = typed; *p;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		size_t n = strcspn(p, " \t\r\n");
		if (n == 0)
			break;
		if (sb.len > 0)
			strbuf_addc(&sb, ' ');
		strbuf_addc(&sb, '"');
		for (size_t i = 0; i < n; i++) {
			if (p[i] == '"')
				strbuf_addc(&sb, '"');
			strbuf_addc(&sb, p[i]);
		}
		strbuf_addc(&sb, '"');
		p += n;
	}
	return sb.len > 0 ? strbuf_detach(&sb) : NULL;
}

/* The conditions of a view and of the filters but the search, on t, as SQL: the numbered
 * parameters are always ?2 the person, ?3 the channel, ?4 the state, ?5 the intent, but
 * only those set are named, so that SQLite reads the view from its index (threads_owner_
 * updated, threads_person_updated, threads_updated) and stops after a page. */
static void
filter_conditions(struct strbuf *sb, const struct console_filter *f)
{
	static const char *const views[] = {
		[VIEW_TO_HANDLE] = " AND t.owner = 'queue'",
		[VIEW_MINE] = " AND t.owner_person = ?2 AND t.owner = 'person'",
		[VIEW_ASSISTANT] = " AND t.owner = 'bot'",
		[VIEW_ALL] = "",
	};
	strbuf_adds(sb, views[f->view >= VIEW_TO_HANDLE && f->view <= VIEW_ALL ? f->view : VIEW_ALL]);
	if (f->channel != NULL)
		strbuf_adds(sb, " AND t.channel = ?3");
	if (f->state != NULL)
		strbuf_adds(sb, " AND t.state = ?4");
	if (f->intent != NULL)
		strbuf_adds(sb, " AND t.intent = ?5");
}

/* Threads already listed by a search (open addressing on the id). */
struct id_set {
	int64_t *ids;
	size_t cap, count;
};

/* Adds id; false when it was there. */
static bool
id_set_add(struct id_set *set, int64_t id)
{
	if (set->count * 2 >= set->cap) {
		struct id_set bigger = { xcalloc(set->cap ? set->cap * 2 : 256, sizeof(int64_t)), set->cap ? set->cap * 2 : 256, 0 };
		for (size_t i = 0; i < set->cap; i++)
			if (set->ids[i] != 0)
				id_set_add(&bigger, set->ids[i]);
		free(set->ids);
		*set = bigger;
	}
	size_t i = (size_t)((uint64_t)id * 0x9E3779B97F4A7C15ULL >> 20) % set->cap;
	for (; set->ids[i] != 0; i = (i + 1) % set->cap)
		if (set->ids[i] == id)
			return false;
	set->ids[i] = id;
	set->count++;
	return true;
}

/* A search: the matching messages newest first (FTS5 reads its index backwards), each
 * new thread of theirs checked against the view and the filters, until a page is full.
 * The threads come in the order of their newest matching message. */
static int
console_search(struct store *st, const struct console_filter *f, const char *words, store_thread_fn fn, void *user)
{
	struct strbuf sql = { 0 };
	strbuf_adds(&sql, "SELECT " THREAD_COLUMNS " FROM threads t WHERE t.id = ?1");
	filter_conditions(&sql, f);
	/* ?6 named last, so that every parameter before it may be bound, named or not. */
	strbuf_adds(&sql, " LIMIT ?6");
	sqlite3_stmt *thread = store_prepare_built(st, sql.data, "issssi", (int64_t)0, f->person, f->channel, f->state,
						   f->intent, (int64_t)1);
	strbuf_free(&sql);
	sqlite3_stmt *hits = store_prepare(st,
					   "SELECT m.thread_id FROM messages_search s JOIN messages m ON m.id = s.rowid"
					   " WHERE messages_search MATCH ? ORDER BY s.rowid DESC",
					   "s", words);
	if (thread == NULL || hits == NULL) {
		if (thread != NULL)
			store_finish(st, thread);
		if (hits != NULL)
			store_finish(st, hits);
		return -1;
	}
	int64_t limit = f->limit > 0 ? f->limit : 50, skip = f->offset > 0 ? f->offset : 0, listed = 0;
	struct id_set seen = { 0 };
	int rc = SQLITE_DONE, stop = 0;
	while (stop == 0 && listed < limit && (rc = sqlite3_step(hits)) == SQLITE_ROW) {
		if (!id_set_add(&seen, sqlite3_column_int64(hits, 0)))
			continue;
		sqlite3_reset(thread);
		sqlite3_bind_int64(thread, 1, sqlite3_column_int64(hits, 0));
		int trc = sqlite3_step(thread);
		if (trc == SQLITE_DONE)
			continue;  /* not in the view, or filtered out */
		if (trc != SQLITE_ROW) {
			rc = trc;
			break;
		}
		if (skip > 0) {
			skip--;
			continue;
		}
		struct thread_row row = { 0 };
		thread_from_row(thread, &row);
		stop = fn(&row, user);
		thread_row_clear(&row);
		listed++;
	}
	bool failed = stop == 0 && listed < limit && rc != SQLITE_DONE;
	int result = failed ? store_fail(st) : 0;
	free(seen.ids);
	store_finish(st, thread);
	store_finish(st, hits);
	return result;
}

int
store_console_threads(struct store *st, const struct console_filter *f, store_thread_fn fn, void *user)
{
	if (f->search != NULL) {
		char *words = search_words(f->search);
		if (words == NULL)
			return 0;  /* blanks only: nothing is found */
		int rc = console_search(st, f, words, fn, user);
		free(words);
		return rc;
	}
	struct strbuf sql = { 0 };
	strbuf_adds(&sql, "SELECT " THREAD_COLUMNS " FROM threads t WHERE 1");
	filter_conditions(&sql, f);
	strbuf_adds(&sql, " ORDER BY t.updated DESC, t.id DESC LIMIT ?6 OFFSET ?7");
	struct store_each e = { (void (*)(void))fn, user };
	int rc = store_each_row(st,
				store_prepare_built(st, sql.data, "issssii", (int64_t)0, f->person, f->channel, f->state,
						    f->intent, f->limit > 0 ? f->limit : 50, f->offset > 0 ? f->offset : 0),
				thread_adapter, &e);
	strbuf_free(&sql);
	return rc;
}

int
store_console_counts(struct store *st, const char *person, struct console_counts *c)
{
	sqlite3_stmt *stmt = store_prepare(st,
					   /* Kept by triggers (thread_owner_counts), and a person's
					    * own from its index: no pass over every thread. */
					   "SELECT (SELECT coalesce(sum(n), 0) FROM thread_owner_counts WHERE owner = 'queue'),"
					   " (SELECT count(*) FROM threads WHERE owner_person = ?1 AND owner = 'person'),"
					   " (SELECT coalesce(sum(n), 0) FROM thread_owner_counts WHERE owner = 'bot'),"
					   " (SELECT coalesce(sum(n), 0) FROM thread_owner_counts)",
					   "s", person);
	if (stmt == NULL)
		return -1;
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*c = (struct console_counts){ sqlite3_column_int64(stmt, 0), sqlite3_column_int64(stmt, 1),
					      sqlite3_column_int64(stmt, 2), sqlite3_column_int64(stmt, 3) };
	store_finish(st, stmt);
	return rc == SQLITE_ROW ? 0 : store_fail(st);
}

int64_t
store_message_add(struct store *st, const struct message_row *m)
{
	if (store_exec(st,
		       "INSERT INTO messages (thread_id, direction, message_id, sender, recipient, subject, body, intent,"
		       " confidence, decision, note, choices, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		       "isssssssdsssi", m->thread_id, m->direction, m->message_id, m->sender, m->recipient, m->subject,
		       m->body, m->intent, m->confidence, m->decision, m->note, m->choices, store_now_seconds()) < 0)
		return -1;
	if (store_exec(st, "UPDATE threads SET updated = ? WHERE id = ?", "ii", store_now_seconds(), m->thread_id) < 0)
		return -1;
	return sqlite3_last_insert_rowid(st->db);
}

int
store_thread_has_secret(struct store *st, int64_t thread_id)
{
	int64_t n = store_query_int(st, "SELECT count(*) FROM messages WHERE thread_id = ? AND direction = 'out' AND decision = 'secret'",
				    "i", thread_id);
	return n < 0 ? -1 : n > 0;
}

int
store_message_complete(struct store *st, int64_t id, const struct message_row *m)
{
	return store_exec(st, "UPDATE messages SET body = ?, intent = ?, confidence = ?, decision = ?, note = ? WHERE id = ?",
			  "ssdssi", m->body, m->intent, m->confidence, m->decision, m->note, id);
}

static int
message_adapter(sqlite3_stmt *stmt, void *user)
{
	struct store_each *e = user;
	struct message_row m = {
		.thread_id = sqlite3_column_int64(stmt, 11),
		.direction = (const char *)sqlite3_column_text(stmt, 0),
		.message_id = (const char *)sqlite3_column_text(stmt, 1),
		.sender = (const char *)sqlite3_column_text(stmt, 2),
		.recipient = (const char *)sqlite3_column_text(stmt, 3),
		.subject = (const char *)sqlite3_column_text(stmt, 4),
		.body = (const char *)sqlite3_column_text(stmt, 5),
		.intent = (const char *)sqlite3_column_text(stmt, 6),
		.confidence = sqlite3_column_double(stmt, 7),
		.decision = (const char *)sqlite3_column_text(stmt, 8),
		.note = (const char *)sqlite3_column_text(stmt, 9),
		.choices = (const char *)sqlite3_column_text(stmt, 12),
	};
	return ((store_message_fn)e->fn)(&m, sqlite3_column_int64(stmt, 10), e->user);
}

int
store_messages_each(struct store *st, int64_t thread_id, store_message_fn fn, void *user)
{
	struct store_each e = { (void (*)(void))fn, user };
	return store_each_row(st,
			      store_prepare(st,
					    "SELECT direction, message_id, sender, recipient, subject, body, intent, confidence,"
					    " decision, note, at, thread_id, choices FROM messages WHERE thread_id = ? ORDER BY id",
					    "i", thread_id),
			      message_adapter, &e);
}

/* ---- threads per state, for `dialogctl status` ---- */

static int
count_adapter(sqlite3_stmt *stmt, void *user)
{
	struct store_each *e = user;
	return ((int (*)(const char *, int64_t, void *))e->fn)((const char *)sqlite3_column_text(stmt, 0),
								 sqlite3_column_int64(stmt, 1), e->user);
}

int
store_thread_counts(struct store *st, int (*fn)(const char *state, int64_t count, void *user), void *user)
{
	struct store_each e = { (void (*)(void))fn, user };
	return store_each_row(st, store_prepare(st, "SELECT state, count(*) FROM threads GROUP BY state ORDER BY state", ""),
			      count_adapter, &e);
}
