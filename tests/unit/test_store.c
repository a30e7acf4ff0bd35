/* Tests of store: what the files on disk keep of a secret mail once it is sent (the store
 * read as an attacker with read access to the state folder would: every byte of the
 * database, its write-ahead log and its shared-memory index); the schema's migration
 * steps, from stores of every earlier version (tests/data/store/) to the current one, and
 * a newer store refused untouched. */
#include "testutil.h"
#include "teststore.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <time.h>

/* A reset link's token: 43 URL-safe base64 characters, as reset_token issues them. */
#define TOKEN "Qm9uam91ci1jZWNpLWVzdC11bi1qZXRvbi1kZS10ZXN0"
#define RAW_SECRET "Subject: Votre lien\r\n\r\nhttps://example.test/reinitialisation?jeton=" TOKEN "\r\n"

/* Whether needle is anywhere in the file (a missing file holds nothing). */
static bool
file_holds(const char *path, const char *needle)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return false;
	struct strbuf sb = {0};
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(f);
	bool found = false;
	size_t len = strlen(needle);
	for (size_t i = 0; !found && sb.len >= len && i <= sb.len - len; i++)
		found = memcmp(sb.data + i, needle, len) == 0;
	strbuf_free(&sb);
	return found;
}

/* Whether the database, its WAL or its -shm holds a part of the token long enough to
 * rebuild it (a line break of the mail's encoding could split the whole). */
static bool
store_files_hold_token(const struct temp_store *t)
{
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	char head[17], tail[17];
	memcpy(head, TOKEN, 16);
	head[16] = '\0';
	memcpy(tail, TOKEN + strlen(TOKEN) - 16, 17);
	bool found = false;
	for (size_t i = 0; i < 3 && !found; i++) {
		char *path = xasprintf("%s%s", t->db, suffixes[i]);
		found = file_holds(path, head) || file_holds(path, tail);
		free(path);
	}
	return found;
}

/* Some ordinary traffic around the secret, so that its page is shared, split and
 * checkpointed as in a running daemon. */
static void
add_replies(struct store *st, int first, int count)
{
	for (int i = first; i < first + count; i++) {
		char *id = xasprintf("<reply-%d@example.test>", i);
		char *raw = xasprintf("Subject: Re: question %d\r\n\r\n%0400d\r\n", i, i);
		assert_true(store_outbox_add(st, 0, OUTBOX_REPLY, id, "support@example.test", "a@example.test", raw) > 0);
		free(raw);
		free(id);
	}
}

/* Group commit (store_write_mark, store_sync): a relaxed commit moves the mark and is
 * synced on demand; a mark already covered needs nothing; another connection sees the
 * rows (the sync is of the log, not a second commit). */
static void
test_relaxed_commits_are_synced_up_to_a_mark(void **state)
{
	struct temp_store *t = *state;
	int64_t before = store_write_mark(t->store);
	assert_int_equal(store_sync(t->store, before), 0);
	assert_int_equal(store_relax_durability(t->store, true), 0);
	assert_int_equal(store_begin(t->store), 0);
	add_replies(t->store, 0, 3);
	assert_int_equal(store_commit(t->store), 0);
	int64_t mark = store_write_mark(t->store);
	assert_true(mark >= before + 3);
	assert_int_equal(store_sync(t->store, mark), 0);
	assert_int_equal(store_sync(t->store, mark), 0);  /* covered: no second fsync */
	assert_int_equal(store_sync(t->store, before), 0);
	/* A FULL commit covers what came before it. */
	assert_int_equal(store_relax_durability(t->store, false), 0);
	assert_int_equal(store_begin(t->store), 0);
	add_replies(t->store, 3, 1);
	assert_int_equal(store_commit(t->store), 0);
	assert_int_equal(store_sync(t->store, store_write_mark(t->store)), 0);
	sqlite3 *reader;
	sqlite3_stmt *stmt;
	assert_int_equal(sqlite3_open_v2(t->db, &reader, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(reader, "SELECT count(*) FROM outbox", -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(stmt, 0), 4);
	sqlite3_finalize(stmt);
	sqlite3_close(reader);
}

/* The syncer's thread: a request is synced and woken for, sync_now covers a mark on the
 * caller's thread, and a checkpoint keeps the log from growing without end. */
static pthread_mutex_t woken_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t woken_cond = PTHREAD_COND_INITIALIZER;
static int woken;

static void
count_wake(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&woken_lock);
	woken++;
	pthread_cond_signal(&woken_cond);
	pthread_mutex_unlock(&woken_lock);
}

static void
test_the_syncer_syncs_off_the_callers_thread(void **state)
{
	struct temp_store *t = *state;
	char *err = NULL;
	struct store_syncer *s = store_syncer_start(t->db, count_wake, NULL, &err);
	assert_non_null(s);
	assert_int_equal(store_relax_durability(t->store, true), 0);
	store_syncer_watch(s, t->store);
	assert_int_equal(store_begin(t->store), 0);
	add_replies(t->store, 0, 2);
	assert_int_equal(store_commit(t->store), 0);
	int64_t mark = store_write_mark(t->store);
	assert_true(store_syncer_synced(s, NULL) < mark);
	assert_int_equal(store_syncer_request(s, mark), 0);
	pthread_mutex_lock(&woken_lock);
	while (store_syncer_synced(s, NULL) < mark)
		pthread_cond_wait(&woken_cond, &woken_lock);
	pthread_mutex_unlock(&woken_lock);
	assert_true(woken >= 1);
	assert_int_equal(store_syncer_request(s, mark), 1);  /* already on disk */
	/* Past the checkpoint threshold (4 MB of log) the log is copied into the database
	 * file, which the caller's connection no longer does. */
	struct stat before;
	assert_int_equal(stat(t->db, &before), 0);
	char *big = xmalloc(16384);
	memset(big, 'x', 16383);
	big[16383] = '\0';
	for (int i = 0; i < 40; i++) {
		assert_int_equal(store_begin(t->store), 0);
		for (int j = 0; j < 10; j++) {
			char *id = xasprintf("<big-%d-%d@example.test>", i, j);
			assert_true(store_outbox_add(t->store, 0, OUTBOX_REPLY, id, "support@example.test", "a@example.test",
						     big) > 0);
			free(id);
		}
		assert_int_equal(store_commit(t->store), 0);
		assert_true(store_syncer_sync_now(s, store_write_mark(t->store)) >= 0);
	}
	free(big);
	assert_int_equal(store_syncer_sync_now(s, store_write_mark(t->store)), 1);
	assert_true(store_syncer_synced(s, NULL) == store_write_mark(t->store));
	struct stat after;
	assert_int_equal(stat(t->db, &after), 0);
	assert_true(after.st_size > before.st_size + 2 * 1024 * 1024);
	store_syncer_stop(&s);
	assert_null(s);
}

static int64_t
add_secret(struct store *st)
{
	int64_t id = store_outbox_add(st, 0, OUTBOX_SECRET, "<secret@example.test>", "support@example.test",
				      "holder@example.test", RAW_SECRET);
	assert_true(id > 0);
	return id;
}

static void
test_sent_secret_leaves_no_copy_in_the_files(void **state)
{
	struct temp_store *t = *state;
	add_replies(t->store, 0, 20);
	int64_t id = add_secret(t->store);
	add_replies(t->store, 20, 20);
	/* What the sender's connection sees before sending: the secret is there, on disk. */
	assert_true(store_files_hold_token(t));
	assert_int_equal(store_outbox_sent(t->store, id, 1000), 0);
	assert_int_equal(store_forget_wal(t->store), 1);
	assert_false(store_files_hold_token(t));
	/* The other mail is intact. */
	assert_int_equal(store_outbox_count(t->store, OUTBOX_PENDING), 40);
}

/* A mail held back (the link to an address on file, queued right after the reply it
 * must not slow down): a reply queued later still leaves first, the held one is not
 * handed out before its time, and the sender is told when to look again. */
static void
test_a_held_mail_leaves_after_the_replies(void **state)
{
	struct temp_store *t = *state;
	int64_t now = (int64_t)time(NULL);
	int64_t held = store_outbox_add_at(t->store, 0, OUTBOX_SECRET, "<secret@example.test>", "support@example.test",
					   "holder@example.test", RAW_SECRET, now + 3);
	int64_t reply = store_outbox_add(t->store, 0, OUTBOX_REPLY, "<reply@example.test>", "support@example.test",
					 "a@example.test", "Subject: Re\r\n\r\nx\r\n");
	assert_true(held > 0 && reply > held);
	struct outbox_row row = {0};
	int64_t next_due = -1;
	assert_int_equal(store_outbox_next(t->store, now, &row, &next_due), 1);
	assert_int_equal(row.id, reply);
	outbox_row_clear(&row);
	assert_int_equal(store_outbox_sent(t->store, reply, now), 0);
	assert_int_equal(store_outbox_next(t->store, now + 2, &row, &next_due), 0);
	assert_true(next_due >= now + 3 && next_due <= now + 4);  /* the clock may tick between the two */
	assert_int_equal(store_outbox_next(t->store, next_due, &row, &next_due), 1);
	assert_int_equal(row.id, held);
	assert_int_equal(row.kind, OUTBOX_SECRET);
	outbox_row_clear(&row);
	/* A time already past is now: nothing is held for it. */
	int64_t past = store_outbox_add_at(t->store, 0, OUTBOX_REPLY, "<old@example.test>", "support@example.test",
					   "a@example.test", "Subject: Re\r\n\r\nx\r\n", 1);
	assert_int_equal(store_outbox_sent(t->store, held, now), 0);
	assert_int_equal(store_outbox_next(t->store, now + 1, &row, &next_due), 1);
	assert_int_equal(row.id, past);
	assert_true(row.next_attempt >= now);
	outbox_row_clear(&row);
}

/* The secret already copied into the database file by an earlier checkpoint: emptying it
 * must overwrite the bytes there too (secure_delete), not only drop the log. */
static void
test_checkpointed_secret_leaves_no_copy(void **state)
{
	struct temp_store *t = *state;
	add_replies(t->store, 0, 3);
	int64_t id = add_secret(t->store);
	add_replies(t->store, 3, 3);
	assert_int_equal(store_forget_wal(t->store), 1);
	assert_true(store_files_hold_token(t));
	assert_int_equal(store_outbox_sent(t->store, id, 1000), 0);
	assert_int_equal(store_forget_wal(t->store), 1);
	assert_false(store_files_hold_token(t));
}

static void
test_failed_secret_leaves_no_copy_in_the_files(void **state)
{
	struct temp_store *t = *state;
	int64_t id = add_secret(t->store);
	add_replies(t->store, 0, 5);
	assert_int_equal(store_outbox_failed(t->store, id, "550 no such user"), 0);
	assert_int_equal(store_forget_wal(t->store), 1);
	assert_false(store_files_hold_token(t));
}

/* A reader keeping an old snapshot open (the web thread, dialogctl) keeps the log from
 * being emptied: the call says so, and succeeds once the reader is done. */
static void
test_a_long_reader_delays_the_wipe(void **state)
{
	struct temp_store *t = *state;
	int64_t id = add_secret(t->store);
	sqlite3 *reader = NULL;
	assert_int_equal(sqlite3_open_v2(t->db, &reader, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_busy_timeout(reader, 100);
	assert_int_equal(sqlite3_exec(reader, "BEGIN; SELECT count(*) FROM outbox;", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_outbox_sent(t->store, id, 1000), 0);
	/* The store waits up to 10 s for readers: shortened, the test does not wait that long. */
	store_set_busy_timeout(t->store, 200);
	assert_int_equal(store_forget_wal(t->store), 0);
	assert_true(store_files_hold_token(t));
	assert_int_equal(sqlite3_exec(reader, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(reader);
	assert_int_equal(store_forget_wal(t->store), 1);
	assert_false(store_files_hold_token(t));
}

/* ---- schema versions ---- */

/* Stores of every earlier schema version: the schema text of daemon/store/store.c at each
 * commit that changed it (the version was not always bumped: two shapes of 1 and 3,
 * three of 5 before the one of 5 a real dialogctl wrote), filled from rows.sql. */
static const struct old_store {
	const char *file;       /* in tests/data/store/: .sql built here, .sqlite copied */
	int version;            /* its user_version */
} old_stores[] = {
	{ "schema-1-b4cbc04.sql", 1 },
	{ "schema-1-007b552.sql", 1 },
	{ "schema-2-1d2e513.sql", 2 },
	{ "schema-3-7915368.sql", 3 },
	{ "schema-3-e801aac.sql", 3 },
	{ "schema-4-6c4d5ac.sql", 4 },
	{ "schema-5-266de85.sql", 5 },
	{ "schema-5-fa2bf3b.sql", 5 },
	{ "schema-5-0bd113c.sql", 5 },
	/* Made by dialogctl of c03b9ab (make-store-5.sh): every table holds rows. */
	{ "store-5-c03b9ab.sqlite", 5 },
	/* The last schema before thread ownership (its step adds two columns to threads). */
	{ "schema-6-17883a3.sql", 6 },
};

static char *
store_data_path(const char *name)
{
	return xasprintf("%s/store/%s", TEST_DATA_DIR, name);
}

/* A whole file, NUL bytes included (a store is binary). */
static char *
read_whole(const char *path, size_t *len_r)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	struct strbuf sb = {0};
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(f);
	*len_r = sb.len;
	return strbuf_detach(&sb);
}

static bool
file_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* The store's files read as SQLite's own shell would, around store_open. */
static sqlite3 *
raw_open(const char *path)
{
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL), SQLITE_OK);
	return db;
}

static void
raw_exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
}

static int
raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *stmt;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	int v = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

static int
raw_version(const char *path)
{
	sqlite3 *db = raw_open(path);
	int v = raw_int(db, "PRAGMA user_version");
	sqlite3_close(db);
	return v;
}

static bool
raw_has_table(sqlite3 *db, const char *name)
{
	sqlite3_stmt *stmt;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", -1, &stmt,
					    NULL), SQLITE_OK);
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	bool found = sqlite3_step(stmt) == SQLITE_ROW;
	sqlite3_finalize(stmt);
	return found;
}

/* Every value of a query's rows, with its type, one row a line. */
static char *
raw_rows(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	struct strbuf sb = {0};
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		for (int i = 0; i < sqlite3_column_count(stmt); i++) {
			switch (sqlite3_column_type(stmt, i)) {
			case SQLITE_NULL: strbuf_adds(&sb, "NULL"); break;
			case SQLITE_INTEGER: strbuf_addf(&sb, "i%lld", (long long)sqlite3_column_int64(stmt, i)); break;
			case SQLITE_FLOAT: strbuf_addf(&sb, "r%.17g", sqlite3_column_double(stmt, i)); break;
			case SQLITE_TEXT: strbuf_addf(&sb, "t'%s'", (const char *)sqlite3_column_text(stmt, i)); break;
			default: {
				const unsigned char *b = sqlite3_column_blob(stmt, i);
				strbuf_adds(&sb, "x'");
				for (int k = 0; k < sqlite3_column_bytes(stmt, i); k++)
					strbuf_addf(&sb, "%02x", b[k]);
				strbuf_addc(&sb, '\'');
			}
			}
			strbuf_addc(&sb, '|');
		}
		strbuf_addc(&sb, '\n');
	}
	sqlite3_finalize(stmt);
	return strbuf_detach(&sb);
}

/* Every row of a table, in rowid order. */
static char *
raw_table(sqlite3 *db, const char *table, const char *columns)
{
	char *sql = sqlite3_mprintf("SELECT %s FROM \"%w\" ORDER BY rowid", columns, table);
	char *rows = raw_rows(db, sql);
	sqlite3_free(sql);
	return rows;
}

/* The schema as SQLite keeps it: by name (what a store has) or by rowid (also the order
 * the objects were created in, which `sqlite3 FILE .schema` shows). */
static char *
raw_schema(const char *path, const char *order)
{
	sqlite3 *db = raw_open(path);
	char *sql = xasprintf("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY %s", order);
	char *schema = raw_rows(db, sql);
	free(sql);
	sqlite3_close(db);
	return schema;
}

/* Builds a store of an older version from its schema text and the rows of rows.sql whose
 * table it has; or copies a store file. */
static void
make_old_store(const struct old_store *o, const char *db_path)
{
	char *src = store_data_path(o->file);
	size_t len;
	char *data = read_whole(src, &len);
	if (str_ends_with(o->file, ".sqlite")) {
		FILE *f = fopen(db_path, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(data, 1, len, f), len);
		assert_int_equal(fclose(f), 0);
	} else {
		sqlite3 *db = raw_open(db_path);
		raw_exec(db, data);
		char *rows_path = store_data_path("rows.sql");
		char *rows = read_whole(rows_path, &len);
		for (char *line = strtok(rows, "\n"); line != NULL; line = strtok(NULL, "\n")) {
			char table[64];
			if (sscanf(line, "INSERT INTO %63s ", table) == 1 && raw_has_table(db, table))
				raw_exec(db, line);
		}
		free(rows);
		free(rows_path);
		sqlite3_close(db);
	}
	free(data);
	free(src);
}

/* The schema of a store store_open creates in an empty file, by name or by rowid. */
static char *
new_store_schema(const char *order)
{
	char *dir = make_temp_dir();
	char *db = xasprintf("%s/new.sqlite", dir);
	char *err = NULL;
	struct store *st = store_open(db, &err);
	assert_non_null(st);
	store_close(&st);
	char *schema = raw_schema(db, order);
	free(db);
	rm_rf(dir);
	free(dir);
	return schema;
}

static void
test_a_new_store_gets_the_current_version(void **state)
{
	(void)state;
	char *dir = make_temp_dir();
	char *db = xasprintf("%s/new.sqlite", dir);
	char *err = NULL;
	struct store *st = store_open(db, &err);
	assert_non_null(st);
	assert_int_equal(store_schema_upgraded_from(st), 0);
	assert_int_equal(store_schema_version(st), STORE_SCHEMA_VERSION);
	store_close(&st);
	assert_int_equal(raw_version(db), STORE_SCHEMA_VERSION);
	/* Opened again: no step runs. */
	st = store_open(db, &err);
	assert_non_null(st);
	assert_int_equal(store_schema_upgraded_from(st), -1);
	store_close(&st);
	free(db);
	rm_rf(dir);
	free(dir);
}

/* A new store's schema is the very one the last dialogd without migration steps wrote,
 * with the steps since applied: same objects, same text, same order (`sqlite3 FILE
 * .schema` reads the same). */
static void
test_a_new_store_has_the_schema_it_always_had(void **state)
{
	(void)state;
	char *dir = make_temp_dir();
	char *copy = xasprintf("%s/old.sqlite", dir);
	const struct old_store *last_without_steps = NULL;
	for (size_t i = 0; i < sizeof(old_stores) / sizeof(old_stores[0]); i++)
		if (strcmp(old_stores[i].file, "store-5-c03b9ab.sqlite") == 0)
			last_without_steps = &old_stores[i];
	assert_non_null(last_without_steps);
	make_old_store(last_without_steps, copy);
	char *err = NULL;
	struct store *st = store_open(copy, &err);
	assert_non_null(st);
	store_close(&st);
	char *theirs = raw_schema(copy, "rowid");
	char *ours = new_store_schema("rowid");
	assert_string_equal(ours, theirs);
	free(ours);
	free(theirs);
	free(copy);
	rm_rf(dir);
	free(dir);
}

/* Every older store reaches the current version with every row of every table it had,
 * value for value, and the schema of a new store; a second opening runs no step. */
static void
test_old_stores_are_upgraded_keeping_every_row(void **state)
{
	(void)state;
	char *new_schema = new_store_schema("name");
	for (size_t i = 0; i < sizeof(old_stores) / sizeof(old_stores[0]); i++) {
		const struct old_store *o = &old_stores[i];
		char *dir = make_temp_dir();
		char *db_path = xasprintf("%s/old.sqlite", dir);
		make_old_store(o, db_path);

		/* What the old store holds: its version, its tables and their rows. */
		sqlite3 *db = raw_open(db_path);
		assert_int_equal(raw_int(db, "PRAGMA user_version"), o->version);
		char *tables = raw_rows(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
		size_t count = 0;
		char *names[64], *before[64], *columns[64];
		for (char *line = strtok(tables, "\n"); line != NULL && count < 64; line = strtok(NULL, "\n")) {
			/* raw_rows wrote t'name'| */
			names[count] = xstrndup(line + 2, strlen(line) - 4);
			/* The columns it has now: a step may add some (their rows are checked elsewhere). */
			char *sql = sqlite3_mprintf("SELECT group_concat('\"' || name || '\"', ',') FROM pragma_table_info('%q')",
						    names[count]);
			char *list = raw_rows(db, sql);
			sqlite3_free(sql);
			/* raw_rows wrote t'"a","b"'| and a new line */
			columns[count] = xstrndup(list + 2, (size_t)(strrchr(list, '\'') - list) - 2);
			/* Step 7 -> 8 turns the audit's outcome sentences into codes (checked on their
			 * own by test_audit_sentences_become_codes): every other column must stay. */
			if (strcmp(names[count], "audit") == 0) {
				char *outcome = strstr(columns[count], ",\"outcome\"");
				assert_non_null(outcome);
				memmove(outcome, outcome + strlen(",\"outcome\""), strlen(outcome + strlen(",\"outcome\"")) + 1);
			}
			free(list);
			before[count] = raw_table(db, names[count], columns[count]);
			/* Each table holds a row, or the test would check nothing of it. */
			if (*before[count] == '\0')
				fail_msg("%s: table %s is empty", o->file, names[count]);
			count++;
		}
		assert_true(count >= 8);
		sqlite3_close(db);

		char *err = NULL;
		struct store *st = store_open(db_path, &err);
		if (st == NULL)
			fail_msg("%s: %s", o->file, err);
		assert_int_equal(store_schema_upgraded_from(st), o->version);
		assert_int_equal(store_schema_version(st), STORE_SCHEMA_VERSION);
		store_close(&st);

		db = raw_open(db_path);
		assert_int_equal(raw_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
		for (size_t t = 0; t < count; t++) {
			char *after = raw_table(db, names[t], columns[t]);
			if (strcmp(after, before[t]) != 0)
				fail_msg("%s: table %s changed:\n%s\nbecame\n%s", o->file, names[t], before[t], after);
			free(after);
			free(before[t]);
			free(columns[t]);
			free(names[t]);
		}
		/* Escalated threads wait in the correspondants' queue, the others are the bot's. */
		if (o->version < 7) {
			assert_int_equal(raw_int(db, "SELECT count(*) FROM threads WHERE state = 'escalated'"
						 " AND owner = 'queue'"), raw_int(db, "SELECT count(*) FROM threads WHERE state = 'escalated'"));
			assert_true(raw_int(db, "SELECT count(*) FROM threads WHERE owner = 'queue'") >= 1);
			assert_int_equal(raw_int(db, "SELECT count(*) FROM threads WHERE state <> 'escalated' AND owner <> 'bot'"),
					 0);
		}
		sqlite3_close(db);
		char *schema = raw_schema(db_path, "name");
		if (strcmp(schema, new_schema) != 0)
			fail_msg("%s: upgraded schema differs from a new store's:\n%s\nnew:\n%s", o->file, schema, new_schema);
		free(schema);

		st = store_open(db_path, &err);
		assert_non_null(st);
		assert_int_equal(store_schema_upgraded_from(st), -1);
		store_close(&st);
		free(tables);
		free(db_path);
		rm_rf(dir);
		free(dir);
	}
	free(new_schema);
}

/* The audit rows written before codes get theirs (the sentences, frozen here as the step
 * froze them); a row no step knows keeps its text. */
static void
test_audit_sentences_become_codes(void **state)
{
	(void)state;
	char *dir = make_temp_dir();
	char *db_path = xasprintf("%s/old.sqlite", dir);
	make_old_store(&old_stores[sizeof(old_stores) / sizeof(old_stores[0]) - 1], db_path);  /* version 6 */
	sqlite3 *db = raw_open(db_path);
	raw_exec(db, "INSERT INTO audit (at, channel, requester, action, subject, outcome) VALUES"
		     " (1, 'chat', 'v', 'one_time_code_check', 'a@b.test', 'wrong one-time code'),"
		     " (2, 'mail', 'a@b.test', 'one_time_code', 'a@b.test', 'one-time code sent to the address on file'),"
		     " (3, 'web', '', 'password_reset', NULL, 'invalid or expired link'),"
		     " (4, 'chat', 'v', 'one_time_code_cap', NULL, '212 wrong one-time codes in an hour from all visitors"
		     " (cap 200): no code is checked for an hour (a thread escalated to the correspondants)'),"
		     " (5, 'mail', 'a@b.test', 'dossier_status', '12345', 'status given to a verified requester'),"
		     " (6, 'mail', 'a@b.test', 'dossier_status', NULL, 'something no step knows')");
	sqlite3_close(db);
	char *err = NULL;
	struct store *st = store_open(db_path, &err);
	assert_non_null(st);
	store_close(&st);
	db = raw_open(db_path);
	char *rows = raw_rows(db, "SELECT outcome FROM audit WHERE at <= 6 ORDER BY at");
	assert_string_equal(rows, "t'code_wrong'|\nt'code_sent'|\nt'link_invalid'|\nt'code_cap'|\nt'status_given'|\n"
				  "t'something no step knows'|\n");
	free(rows);
	sqlite3_close(db);
	free(db_path);
	rm_rf(dir);
	free(dir);
}

/* A step that fails leaves the store at the last version completed: the steps before it
 * stay, nothing of the failed one does. */
static void
test_a_failed_step_leaves_the_last_complete_version(void **state)
{
	(void)state;
	char *dir = make_temp_dir();
	char *db_path = xasprintf("%s/old.sqlite", dir);
	make_old_store(&old_stores[2], db_path);  /* version 2 */
	/* A table holding the name of the index step 3 → 4 creates. */
	sqlite3 *db = raw_open(db_path);
	raw_exec(db, "CREATE TABLE reset_tokens_identifier (x)");
	sqlite3_close(db);
	char *err = NULL;
	struct store *st = store_open(db_path, &err);
	assert_null(st);
	char *expected = xasprintf("%s: cannot upgrade the store from schema version 3 to 4: there is already a table"
				   " named reset_tokens_identifier", db_path);
	assert_string_equal(err, expected);
	free(expected);
	free(err);
	db = raw_open(db_path);
	assert_int_equal(raw_int(db, "PRAGMA user_version"), 3);
	assert_true(raw_has_table(db, "audit"));
	assert_false(raw_has_table(db, "reset_tokens"));
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'threads_requester'"), 0);
	sqlite3_close(db);
	free(db_path);
	rm_rf(dir);
	free(dir);
}

/* The store of a newer dialogd, its version set by a plain connection as that dialogd
 * would; with_wal: that dialogd stopped without folding its write-ahead log in. */
static void
make_newer_store(const char *db_path, bool with_wal)
{
	make_old_store(&old_stores[sizeof(old_stores) / sizeof(old_stores[0]) - 1], db_path);
	sqlite3 *db = raw_open(db_path);
	char *sql = xasprintf("PRAGMA journal_mode = WAL; PRAGMA user_version = %d;", STORE_SCHEMA_VERSION + 1);
	raw_exec(db, sql);
	free(sql);
	if (with_wal) {
		assert_int_equal(sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL), SQLITE_OK);
		raw_exec(db, "INSERT INTO bounces (address, at) VALUES ('plus-recent@example.test', 1800000000)");
	}
	sqlite3_close(db);
}

static void
assert_newer_store_refused(const char *db_path)
{
	char *err = NULL;
	struct store *st = store_open(db_path, &err);
	assert_null(st);
	char *expected = xasprintf("%s: schema version %d is newer than this dialogd (%d): use a newer dialogd or restore"
				   " a backup; the file was not modified", db_path, STORE_SCHEMA_VERSION + 1,
				   STORE_SCHEMA_VERSION);
	assert_string_equal(err, expected);
	free(expected);
	free(err);
}

static void
test_a_newer_store_is_refused_untouched(void **state)
{
	(void)state;
	char *dir = make_temp_dir();
	char *db_path = xasprintf("%s/newer.sqlite", dir);
	char *wal = xasprintf("%s-wal", db_path), *shm = xasprintf("%s-shm", db_path);
	make_newer_store(db_path, false);
	assert_false(file_exists(wal));
	size_t len, len_after;
	char *bytes = read_whole(db_path, &len);
	assert_newer_store_refused(db_path);
	char *after = read_whole(db_path, &len_after);
	assert_int_equal(len_after, len);
	assert_memory_equal(after, bytes, len);
	assert_false(file_exists(wal));
	assert_false(file_exists(shm));
	free(after);
	free(bytes);
	free(shm);
	free(wal);
	free(db_path);
	rm_rf(dir);
	free(dir);
}

/* A newer dialogd's write-ahead log is left as it is, not copied into the file. */
static void
test_a_newer_store_keeps_its_write_ahead_log(void **state)
{
	(void)state;
	char *dir = make_temp_dir();
	char *db_path = xasprintf("%s/newer.sqlite", dir);
	char *wal = xasprintf("%s-wal", db_path);
	make_newer_store(db_path, true);
	size_t len, wal_len, len_after, wal_len_after;
	char *bytes = read_whole(db_path, &len), *wal_bytes = read_whole(wal, &wal_len);
	assert_true(wal_len > 0);
	assert_newer_store_refused(db_path);
	char *after = read_whole(db_path, &len_after), *wal_after = read_whole(wal, &wal_len_after);
	assert_int_equal(len_after, len);
	assert_memory_equal(after, bytes, len);
	assert_int_equal(wal_len_after, wal_len);
	assert_memory_equal(wal_after, wal_bytes, wal_len);
	free(wal_after);
	free(after);
	free(wal_bytes);
	free(bytes);
	free(wal);
	free(db_path);
	rm_rf(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sent_secret_leaves_no_copy_in_the_files, temp_store_setup,
						temp_store_teardown),
		cmocka_unit_test_setup_teardown(test_a_held_mail_leaves_after_the_replies, temp_store_setup,
						temp_store_teardown),
		cmocka_unit_test_setup_teardown(test_checkpointed_secret_leaves_no_copy, temp_store_setup,
						temp_store_teardown),
		cmocka_unit_test_setup_teardown(test_failed_secret_leaves_no_copy_in_the_files, temp_store_setup,
						temp_store_teardown),
		cmocka_unit_test_setup_teardown(test_a_long_reader_delays_the_wipe, temp_store_setup,
						temp_store_teardown),
		cmocka_unit_test_setup_teardown(test_relaxed_commits_are_synced_up_to_a_mark, temp_store_setup,
						temp_store_teardown),
		cmocka_unit_test_setup_teardown(test_the_syncer_syncs_off_the_callers_thread, temp_store_setup,
						temp_store_teardown),
		cmocka_unit_test(test_a_new_store_gets_the_current_version),
		cmocka_unit_test(test_a_new_store_has_the_schema_it_always_had),
		cmocka_unit_test(test_old_stores_are_upgraded_keeping_every_row),
		cmocka_unit_test(test_audit_sentences_become_codes),
		cmocka_unit_test(test_a_failed_step_leaves_the_last_complete_version),
		cmocka_unit_test(test_a_newer_store_is_refused_untouched),
		cmocka_unit_test(test_a_newer_store_keeps_its_write_ahead_log),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
