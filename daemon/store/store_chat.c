/* store_chat — the website chat's tables (see store.h, "the website chat"): sessions
 * known by a token's hash, the numbered events a widget shows, and the client ids of the
 * visitor's messages. The events are copies of the thread's messages (store_chat_sync),
 * so that whatever writes a message in a chat thread — the bot's turn, a correspondant's
 * reply from another process — reaches the widget the same way, exactly once. */
#include "autoconf.h"
#include "store/store_internal.h"

#include <stdlib.h>
#include <string.h>

int64_t
store_chat_open(struct store *st, const char *token_hash, const char *visitor, int64_t now, int64_t expires)
{
	if (store_exec(st, "INSERT INTO chat_conversations (token_hash, visitor, created, expires) VALUES (?, ?, ?, ?)",
		       "ssii", token_hash, visitor, now, expires) < 0)
		return -1;
	return sqlite3_last_insert_rowid(st->db);
}

/* The row stmt selects (id, thread, last_seq, expires): 1 with *row, 0, -1. */
static int
conversation_row(struct store *st, sqlite3_stmt *stmt, struct chat_conversation_row *row)
{
	memset(row, 0, sizeof(*row));
	if (stmt == NULL)
		return -1;
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		row->id = sqlite3_column_int64(stmt, 0);
		row->thread_id = sqlite3_column_int64(stmt, 1);
		row->last_seq = sqlite3_column_int64(stmt, 2);
		row->expires = sqlite3_column_int64(stmt, 3);
	}
	store_finish(st, stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(st);
	return rc == SQLITE_ROW ? 1 : 0;
}

int
store_chat_find(struct store *st, const char *token_hash, int64_t now, struct chat_conversation_row *row)
{
	return conversation_row(st,
				store_prepare(st,
					      "SELECT id, COALESCE(thread_id, 0), last_seq, expires FROM chat_conversations"
					      " WHERE token_hash = ? AND ended IS NULL AND expires > ?",
					      "si", token_hash, now),
				row);
}

int
store_chat_get(struct store *st, int64_t id, struct chat_conversation_row *row)
{
	return conversation_row(st,
				store_prepare(st,
					      "SELECT id, COALESCE(thread_id, 0), last_seq, expires FROM chat_conversations"
					      " WHERE id = ?",
					      "i", id),
				row);
}

int
store_chat_has_bot_reply(struct store *st, int64_t id, int64_t after_seq)
{
	int64_t n = store_query_int(st,
				    "SELECT EXISTS (SELECT 1 FROM chat_events WHERE conversation_id = ? AND seq > ?"
				    " AND kind = 'message' AND sender = 'bot')",
				    "ii", id, after_seq);
	return n < 0 ? -1 : n > 0;
}

int
store_chat_touch(struct store *st, int64_t id, int64_t expires)
{
	return store_exec(st, "UPDATE chat_conversations SET expires = ? WHERE id = ?", "ii", expires, id);
}

int
store_chat_set_thread(struct store *st, int64_t id, int64_t thread_id)
{
	return store_exec(st, "UPDATE chat_conversations SET thread_id = ? WHERE id = ?", "ii", thread_id, id);
}

int
store_chat_end(struct store *st, int64_t id, int64_t now)
{
	return store_exec(st, "UPDATE chat_conversations SET token_hash = NULL, ended = ? WHERE id = ?", "ii", now, id);
}

int
store_chat_acked(struct store *st, int64_t id, int64_t seq)
{
	return store_exec(st, "UPDATE chat_conversations SET acked_seq = max(acked_seq, ?) WHERE id = ?", "ii", seq, id);
}

int
store_chat_input(struct store *st, int64_t id, const char *client_id, int64_t mark, int64_t now, bool *done_r,
		 int64_t *mark_r)
{
	*done_r = false;
	*mark_r = mark;
	/* The UNIQUE key decides: OR IGNORE leaves a row recorded before as it was. */
	if (store_exec(st, "INSERT OR IGNORE INTO chat_inputs (conversation_id, client_id, mark, at) VALUES (?, ?, ?, ?)",
		       "isii", id, client_id, mark, now) < 0)
		return -1;
	if (sqlite3_changes(st->db) == 1)
		return 1;
	sqlite3_stmt *stmt = store_prepare(st, "SELECT mark, done FROM chat_inputs WHERE conversation_id = ? AND client_id = ?",
					   "is", id, client_id);
	if (stmt == NULL)
		return -1;
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*mark_r = sqlite3_column_int64(stmt, 0);
		*done_r = sqlite3_column_int64(stmt, 1) != 0;
	}
	store_finish(st, stmt);
	return rc == SQLITE_ROW ? 0 : store_fail(st);
}

int
store_chat_input_done(struct store *st, int64_t id, const char *client_id)
{
	return store_exec(st, "UPDATE chat_inputs SET done = 1 WHERE conversation_id = ? AND client_id = ?", "is", id,
			  client_id);
}

int64_t
store_chat_thread_mark(struct store *st, int64_t thread_id)
{
	return store_query_int(st, "SELECT COALESCE(max(id), 0) FROM messages WHERE thread_id = ?", "i", thread_id);
}

int
store_chat_turn_ran(struct store *st, int64_t thread_id, int64_t mark)
{
	int64_t n = store_query_int(st, "SELECT EXISTS (SELECT 1 FROM messages WHERE thread_id = ? AND id > ? AND direction = 'in')",
				    "ii", thread_id, mark);
	return n < 0 ? -1 : n > 0;
}

int64_t
store_chat_event_add(struct store *st, int64_t id, const char *kind, const char *sender, const char *body,
		     const char *choices, int64_t now)
{
	if (store_exec(st, "UPDATE chat_conversations SET last_seq = last_seq + 1 WHERE id = ?", "i", id) < 0)
		return -1;
	int64_t seq = store_query_int(st, "SELECT last_seq FROM chat_conversations WHERE id = ?", "i", id);
	if (seq <= 0)
		return seq < 0 ? -1 : store_fail(st);
	if (store_exec(st,
		       "INSERT INTO chat_events (conversation_id, seq, kind, sender, body, choices, at)"
		       " VALUES (?, ?, ?, ?, ?, ?, ?)",
		       "iissssi", id, seq, kind, sender, body, choices, now) < 0)
		return -1;
	return seq;
}

/* Who wrote a message of a chat thread, as the widget names them; NULL for what the
 * visitor does not see (a notification, an account action's mail to an address). */
static const char *
message_sender(const char *direction, const char *decision)
{
	if (direction != NULL && strcmp(direction, "in") == 0)
		return "visitor";
	if (direction == NULL || decision == NULL || strcmp(direction, "out") != 0)
		return NULL;
	if (strcmp(decision, "chat") == 0)
		return "bot";
	if (strcmp(decision, outbox_kind_name(OUTBOX_PERSON)) == 0)
		return "person";
	return NULL;
}

struct copied_message {
	int64_t id;
	char *sender_role;      /* static string: not freed */
	char *body;
	char *choices;
};

struct copy_batch {
	struct copied_message *items;
	size_t n, cap;
};

static int
collect_message(sqlite3_stmt *stmt, void *user)
{
	struct copy_batch *b = user;
	const char *role = message_sender((const char *)sqlite3_column_text(stmt, 1),
					  (const char *)sqlite3_column_text(stmt, 2));
	if (role == NULL)
		role = "";  /* skipped, but its id still counts as copied */
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 8;
		b->items = xrealloc(b->items, b->cap * sizeof(*b->items));
	}
	b->items[b->n++] = (struct copied_message){
		.id = sqlite3_column_int64(stmt, 0), .sender_role = (char *)role, .body = store_column_dup(stmt, 3),
		.choices = store_column_dup(stmt, 4),
	};
	return 0;
}

/* The thread's new messages as events; *added_r counts them. */
static int
sync_messages(struct store *st, int64_t id, int64_t thread_id, int64_t mirrored, int64_t now, int *added_r)
{
	struct copy_batch b = {0};
	/* Collected first: an event is written while no statement reads the messages. */
	int rc = store_each_row(st,
				store_prepare(st, "SELECT id, direction, decision, body, choices FROM messages WHERE thread_id = ? AND id > ?"
						  " ORDER BY id",
					      "ii", thread_id, mirrored),
				collect_message, &b);
	int64_t last = mirrored;
	for (size_t i = 0; rc == 0 && i < b.n; i++) {
		last = b.items[i].id;
		if (b.items[i].sender_role[0] == '\0')
			continue;
		if (store_chat_event_add(st, id, "message", b.items[i].sender_role, b.items[i].body ? b.items[i].body : "",
					 b.items[i].choices, now) < 0)
			rc = -1;
		else
			(*added_r)++;
	}
	for (size_t i = 0; i < b.n; i++) {
		free(b.items[i].body);
		free(b.items[i].choices);
	}
	free(b.items);
	if (rc == 0 && last != mirrored)
		rc = store_exec(st, "UPDATE chat_conversations SET mirrored = ? WHERE id = ?", "ii", last, id);
	return rc;
}

int
store_chat_sync(struct store *st, int64_t id, int64_t now)
{
	sqlite3_stmt *stmt = store_prepare(st,
					   "SELECT c.thread_id, c.mirrored, c.owner_seen, t.owner FROM chat_conversations c"
					   " JOIN threads t ON t.id = c.thread_id WHERE c.id = ?",
					   "i", id);
	if (stmt == NULL)
		return -1;
	int rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		store_finish(st, stmt);
		return rc == SQLITE_DONE ? 0 : store_fail(st);  /* no thread yet: nothing to copy */
	}
	int64_t thread_id = sqlite3_column_int64(stmt, 0), mirrored = sqlite3_column_int64(stmt, 1);
	char *seen = store_column_dup(stmt, 2), *owner = store_column_dup(stmt, 3);
	store_finish(st, stmt);
	int added = 0;
	rc = sync_messages(st, id, thread_id, mirrored, now, &added);
	if (rc == 0 && owner != NULL && (seen == NULL || strcmp(seen, owner) != 0)) {
		/* To the queue is the hand-over; anything else is who answers now. */
		bool handoff = strcmp(owner, thread_owner_name(OWNER_QUEUE)) == 0;
		if (store_chat_event_add(st, id, handoff ? "handoff" : "state", NULL, owner, NULL, now) < 0 ||
		    store_exec(st, "UPDATE chat_conversations SET owner_seen = ? WHERE id = ?", "si", owner, id) < 0)
			rc = -1;
		else
			added++;
	}
	free(seen);
	free(owner);
	return rc < 0 ? -1 : added;
}

int
store_chat_changed(struct store *st, int64_t id)
{
	return (int)store_query_int(st,
				    "SELECT (SELECT COALESCE(max(m.id), 0) FROM messages m WHERE m.thread_id = c.thread_id)"
				    " > c.mirrored OR t.owner != c.owner_seen"
				    " FROM chat_conversations c JOIN threads t ON t.id = c.thread_id WHERE c.id = ?",
				    "i", id);
}

int
store_chat_data_changed(struct store *st, int64_t *version)
{
	int64_t v = store_query_int(st, "PRAGMA data_version", "");
	if (v < 0)
		return -1;
	bool changed = v != *version;
	*version = v;
	return changed;
}

struct events_each {
	store_chat_event_fn fn;
	void *user;
};

static int
event_row(sqlite3_stmt *stmt, void *user)
{
	struct events_each *e = user;
	struct chat_event_row row = {
		.seq = sqlite3_column_int64(stmt, 0),
		.kind = (const char *)sqlite3_column_text(stmt, 1),
		.sender = (const char *)sqlite3_column_text(stmt, 2),
		.body = (const char *)sqlite3_column_text(stmt, 3),
		.at = sqlite3_column_int64(stmt, 4),
		.choices = (const char *)sqlite3_column_text(stmt, 5),
	};
	return e->fn(&row, e->user);
}

int
store_chat_events_after(struct store *st, int64_t id, int64_t after_seq, store_chat_event_fn fn, void *user)
{
	struct events_each e = { fn, user };
	return store_each_row(st,
			      store_prepare(st, "SELECT seq, kind, sender, body, at, choices FROM chat_events"
						" WHERE conversation_id = ? AND seq > ? ORDER BY seq",
					    "ii", id, after_seq),
			      event_row, &e);
}

int
store_chat_identity_use(struct store *st, int64_t id, const char *token_hash, int64_t expires, int64_t now)
{
	if (store_exec(st, "DELETE FROM chat_identity_tokens WHERE expires <= ?", "i", now) < 0)
		return -1;
	int64_t owner = store_query_int(st,
					"SELECT COALESCE((SELECT conversation_id FROM chat_identity_tokens WHERE token_hash = ?), 0)",
					"s", token_hash);
	if (owner < 0)
		return -1;
	if (owner != 0)
		return owner == id;
	return store_exec(st, "INSERT INTO chat_identity_tokens (token_hash, conversation_id, expires) VALUES (?, ?, ?)",
			  "sii", token_hash, id, expires) < 0 ? -1 : 1;
}

int
store_chat_set_account(struct store *st, int64_t id, const char *account)
{
	return store_exec(st, "UPDATE chat_conversations SET account = ? WHERE id = ?", "si", account, id);
}

char *
store_chat_account(struct store *st, int64_t id, bool *failed_r)
{
	sqlite3_stmt *stmt = store_prepare(st, "SELECT account FROM chat_conversations WHERE id = ?", "i", id);
	*failed_r = stmt == NULL;
	if (stmt == NULL)
		return NULL;
	char *account = NULL;
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		account = store_column_dup(stmt, 0);
	else if (rc != SQLITE_DONE)
		*failed_r = store_fail(st) < 0;
	store_finish(st, stmt);
	return account;
}

int
store_chat_thread_set_email(struct store *st, int64_t thread_id, const char *email, bool answers)
{
	return store_exec(st,
			  "UPDATE chat_conversations SET email = ?, email_answers = max(email_answers, ?) WHERE thread_id = ?",
			  "sii", email, (int64_t)answers, thread_id);
}

char *
store_chat_thread_email(struct store *st, int64_t thread_id, bool *answers_r, bool *failed_r)
{
	sqlite3_stmt *stmt = store_prepare(st,
					   "SELECT email, email_answers FROM chat_conversations WHERE thread_id = ?"
					   " AND email IS NOT NULL ORDER BY id DESC LIMIT 1",
					   "i", thread_id);
	*failed_r = stmt == NULL;
	if (answers_r != NULL)
		*answers_r = false;
	if (stmt == NULL)
		return NULL;
	char *email = NULL;
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		email = store_column_dup(stmt, 0);
		if (answers_r != NULL)
			*answers_r = sqlite3_column_int(stmt, 1) != 0;
	} else if (rc != SQLITE_DONE) {
		*failed_r = store_fail(st) < 0;
	}
	store_finish(st, stmt);
	return email;
}
