/* store_labels — see store.h, "teaching". */
#include "autoconf.h"
#include "store/store.h"
#include "store/store_internal.h"

#include <sqlite3.h>

int
store_label_set(struct store *st, int64_t message_id, const char *intent, const char *audience, const char *by,
		int64_t now)
{
	/* Only what a writer sent: the assistant's lines and the notes teach nothing. */
	if (store_exec(st,
		       "INSERT INTO message_labels (message_id, intent, audience, labelled_by, at)"
		       " SELECT id, ?2, ?3, ?4, ?5 FROM messages WHERE id = ?1 AND direction = 'in'"
		       " ON CONFLICT (message_id) DO UPDATE SET intent = excluded.intent, audience = excluded.audience,"
		       " labelled_by = excluded.labelled_by, at = excluded.at",
		       "isssi", message_id, intent, audience, by, now) < 0)
		return -1;
	return sqlite3_changes(st->db) > 0 ? 1 : 0;
}

struct label_each {
	store_label_fn fn;
	void *user;
};

static int
label_adapter(sqlite3_stmt *stmt, void *user)
{
	struct label_each *e = user;
	return e->fn((const char *)sqlite3_column_text(stmt, 0), (const char *)sqlite3_column_text(stmt, 1),
		     (const char *)sqlite3_column_text(stmt, 2), e->user);
}

int
store_labels_each(struct store *st, store_label_fn fn, void *user)
{
	struct label_each e = { fn, user };
	return store_each_row(st,
			      store_prepare(st,
					    "SELECT coalesce(m.body, ''), l.intent, l.audience FROM message_labels l"
					    " JOIN messages m ON m.id = l.message_id ORDER BY l.at, l.message_id",
					    ""),
			      label_adapter, &e);
}

int64_t
store_inbound_message_id(struct store *st, int64_t thread_id, int64_t nth)
{
	return nth > 0 ? store_query_int(st,
					 "SELECT id FROM messages WHERE thread_id = ? AND direction = 'in' ORDER BY id"
					 " LIMIT 1 OFFSET ?",
					 "ii", thread_id, nth - 1)
		       : store_query_int(st,
					 "SELECT id FROM messages WHERE thread_id = ? AND direction = 'in'"
					 " ORDER BY id DESC LIMIT 1",
					 "i", thread_id);
}
