/* store — SQLite schema and statements (see store.h). Every statement is prepared and
 * bound: no value is ever pasted into SQL text. */
#include "autoconf.h"
#include "store.h"
#include "util.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct store {
	sqlite3 *db;
	char *error;
	bool constraint;        /* the last error was a constraint (e.g. UNIQUE) violation */
	int upgraded_from;      /* the version store_open's first step started from, -1: none ran */
};

/* The schema, one macro per table (with its indexes) or per index added later. Each is
 * used twice: in SCHEMA_NEW, which creates a new store in one step, and in the migration
 * step that brought it to older stores; test_store checks that an upgraded store and a new
 * one have the same schema. Every statement says IF NOT EXISTS because the version was
 * not always bumped when a table came (see schema_steps), and SQLite stores the statement
 * without those words, so both paths leave the same text. Times are Unix seconds. */
#define SQL_MAILBOX_STATE \
	"CREATE TABLE IF NOT EXISTS mailbox_state (" \
	"  mailbox TEXT PRIMARY KEY, uidvalidity INTEGER NOT NULL, last_uid INTEGER NOT NULL);"
/* Permanent: never purged with threads, so nothing is processed twice. */
#define SQL_PROCESSED \
	"CREATE TABLE IF NOT EXISTS processed (" \
	"  mailbox TEXT NOT NULL, key TEXT NOT NULL, thread_id INTEGER, at INTEGER NOT NULL," \
	"  PRIMARY KEY (mailbox, key));"
#define SQL_ATTEMPTS \
	"CREATE TABLE IF NOT EXISTS attempts (" \
	"  mailbox TEXT NOT NULL, key TEXT NOT NULL, count INTEGER NOT NULL, at INTEGER NOT NULL," \
	"  PRIMARY KEY (mailbox, key));"
#define SQL_THREADS \
	"CREATE TABLE IF NOT EXISTS threads (" \
	"  id INTEGER PRIMARY KEY, channel TEXT NOT NULL, requester TEXT NOT NULL, subject TEXT NOT NULL," \
	"  state TEXT NOT NULL, intent TEXT, reason TEXT, created INTEGER NOT NULL, updated INTEGER NOT NULL);" \
	"CREATE INDEX IF NOT EXISTS threads_state ON threads (state, updated);"
#define SQL_THREADS_REQUESTER \
	"CREATE INDEX IF NOT EXISTS threads_requester ON threads (requester COLLATE NOCASE);"
#define SQL_MESSAGES \
	"CREATE TABLE IF NOT EXISTS messages (" \
	"  id INTEGER PRIMARY KEY, thread_id INTEGER NOT NULL REFERENCES threads(id) ON DELETE CASCADE," \
	"  direction TEXT NOT NULL, message_id TEXT, sender TEXT, recipient TEXT, subject TEXT, body TEXT," \
	"  intent TEXT, confidence REAL, decision TEXT, note TEXT, at INTEGER NOT NULL);" \
	"CREATE INDEX IF NOT EXISTS messages_thread ON messages (thread_id, id);" \
	"CREATE INDEX IF NOT EXISTS messages_message_id ON messages (message_id);"
#define SQL_OUTBOX \
	"CREATE TABLE IF NOT EXISTS outbox (" \
	"  id INTEGER PRIMARY KEY, thread_id INTEGER, kind TEXT NOT NULL, message_id TEXT NOT NULL UNIQUE," \
	"  mail_from TEXT NOT NULL, recipient TEXT NOT NULL, raw BLOB NOT NULL, state TEXT NOT NULL," \
	"  attempts INTEGER NOT NULL DEFAULT 0, permanent_failures INTEGER NOT NULL DEFAULT 0," \
	"  next_attempt INTEGER NOT NULL, created INTEGER NOT NULL, sent_at INTEGER, last_error TEXT);" \
	"CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_attempt);"
/* Replaces the first schema's outbox_recipient, which compared addresses with their case. */
#define SQL_OUTBOX_RECIPIENT \
	"CREATE INDEX IF NOT EXISTS outbox_recipient_nocase ON outbox (recipient COLLATE NOCASE, created);" \
	"DROP INDEX IF EXISTS outbox_recipient;"
#define SQL_OUTBOX_THREAD \
	"CREATE INDEX IF NOT EXISTS outbox_thread ON outbox (thread_id, kind, created);"
/* The limits per domain and overall read the last hour of the outbox. */
#define SQL_OUTBOX_CREATED \
	"CREATE INDEX IF NOT EXISTS outbox_created ON outbox (created, kind);"
/* Correspondants' notifications beyond [mail] notify_limit an hour: sent together in
 * one digest every digest_interval. */
#define SQL_DEFERRED_NOTICES \
	"CREATE TABLE IF NOT EXISTS deferred_notices (" \
	"  id INTEGER PRIMARY KEY, thread_id INTEGER NOT NULL, reason TEXT NOT NULL, at INTEGER NOT NULL);"
#define SQL_BOUNCES \
	"CREATE TABLE IF NOT EXISTS bounces (address TEXT NOT NULL, at INTEGER NOT NULL);" \
	"CREATE INDEX IF NOT EXISTS bounces_address ON bounces (address, at);"
#define SQL_STATUS \
	"CREATE TABLE IF NOT EXISTS status (" \
	"  component TEXT PRIMARY KEY, state TEXT NOT NULL, detail TEXT, since INTEGER NOT NULL," \
	"  updated INTEGER NOT NULL);"
/* The directory (embedded backend): structures, accounts and the structures they act
 * for, dossiers. Filled by `dialogctl import`. */
#define SQL_DIRECTORY \
	"CREATE TABLE IF NOT EXISTS companies (" \
	"  siret TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, correspondant_email TEXT);" \
	"CREATE TABLE IF NOT EXISTS accounts (" \
	"  identifier TEXT PRIMARY KEY, email TEXT NOT NULL, kind TEXT NOT NULL, state TEXT NOT NULL);" \
	"CREATE INDEX IF NOT EXISTS accounts_email ON accounts (email COLLATE NOCASE);" \
	"CREATE TABLE IF NOT EXISTS account_links (" \
	"  identifier TEXT NOT NULL REFERENCES accounts (identifier) ON DELETE CASCADE," \
	"  siret TEXT NOT NULL REFERENCES companies (siret), PRIMARY KEY (identifier, siret));" \
	"CREATE INDEX IF NOT EXISTS account_links_siret ON account_links (siret);" \
	"CREATE TABLE IF NOT EXISTS dossiers (" \
	"  number TEXT PRIMARY KEY, type TEXT NOT NULL, state TEXT NOT NULL," \
	"  siret TEXT NOT NULL REFERENCES companies (siret), training_org_siret TEXT REFERENCES companies (siret)," \
	"  deca_number TEXT, start_date TEXT, amount_cents INTEGER);"
/* Every account action: who asked, through which channel, about what, with what
 * outcome. Never a token, code or password. */
#define SQL_AUDIT \
	"CREATE TABLE IF NOT EXISTS audit (" \
	"  id INTEGER PRIMARY KEY, at INTEGER NOT NULL, channel TEXT NOT NULL, requester TEXT NOT NULL," \
	"  action TEXT NOT NULL, subject TEXT, outcome TEXT NOT NULL);" \
	"CREATE INDEX IF NOT EXISTS audit_at ON audit (at);"
/* Password reset tokens: only their hash; used_at burns one, revoked_at a newer one. */
#define SQL_RESET_TOKENS \
	"CREATE TABLE IF NOT EXISTS reset_tokens (" \
	"  id INTEGER PRIMARY KEY, identifier TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE," \
	"  created INTEGER NOT NULL, expires INTEGER NOT NULL, used_at INTEGER, revoked_at INTEGER);" \
	"CREATE INDEX IF NOT EXISTS reset_tokens_identifier ON reset_tokens (identifier);"
/* Passwords set on the reset page (embedded backend): argon2id strings only. */
#define SQL_ACCOUNT_PASSWORDS \
	"CREATE TABLE IF NOT EXISTS account_passwords (" \
	"  identifier TEXT PRIMARY KEY REFERENCES accounts (identifier) ON DELETE CASCADE," \
	"  hash TEXT NOT NULL, set_at INTEGER NOT NULL);"
/* A chat's account action waiting for the visitor's next message: which step, about
 * what, and for a one-time code only its salted hash. */
#define SQL_CHAT_ACTIONS \
	"CREATE TABLE IF NOT EXISTS chat_actions (" \
	"  thread_id INTEGER PRIMARY KEY REFERENCES threads (id) ON DELETE CASCADE, action TEXT NOT NULL," \
	"  step TEXT NOT NULL, subject TEXT, email TEXT, code_hash TEXT, expires INTEGER NOT NULL," \
	"  attempts INTEGER NOT NULL DEFAULT 0);"
/* Wrong one-time codes typed in the chat, for the hourly limits (never the code): who
 * typed it, for which address, and whether a code had been sent to that address.
 * Kept a day (store_wrong_code_add removes older rows). */
#define SQL_WRONG_CODES \
	"CREATE TABLE IF NOT EXISTS wrong_codes (" \
	"  id INTEGER PRIMARY KEY, at INTEGER NOT NULL, visitor TEXT NOT NULL, email TEXT NOT NULL," \
	"  code_sent INTEGER NOT NULL);" \
	"CREATE INDEX IF NOT EXISTS wrong_codes_at ON wrong_codes (at);"

/* Who answers a thread (see enum thread_owner): escalated threads of an older store wait
 * in the correspondants' queue, every other one stays the bot's. */
#define SQL_THREAD_OWNER \
	"ALTER TABLE threads ADD COLUMN owner TEXT NOT NULL DEFAULT 'bot';" \
	"ALTER TABLE threads ADD COLUMN owner_person TEXT;" \
	"UPDATE threads SET owner = 'queue' WHERE state = 'escalated';"

/* A new store: every table in the order the stores made so far have them (so that a new
 * file's schema reads as it always has). A later change (a table, an index, an ALTER
 * TABLE ... ADD COLUMN) goes at the end here and in a new step: a new store then runs the
 * very statements an upgraded one did, and both keep the same text of every table. */
#define SCHEMA_NEW \
	SQL_MAILBOX_STATE SQL_PROCESSED SQL_ATTEMPTS SQL_THREADS SQL_THREADS_REQUESTER SQL_MESSAGES \
	SQL_OUTBOX SQL_OUTBOX_RECIPIENT SQL_OUTBOX_THREAD SQL_OUTBOX_CREATED SQL_DEFERRED_NOTICES \
	SQL_BOUNCES SQL_STATUS SQL_DIRECTORY SQL_AUDIT SQL_RESET_TOKENS SQL_ACCOUNT_PASSWORDS \
	SQL_CHAT_ACTIONS SQL_WRONG_CODES SQL_THREAD_OWNER

/* The migration steps, indexed by the version they start from; each runs in its own
 * transaction, which also sets the version it reaches (tests/data/store/ keeps the
 * schema of every version for test_store). The commits named are where the change came. */
static const struct schema_step {
	int to;                 /* the version the step leaves the store at */
	const char *sql;
} schema_steps[STORE_SCHEMA_VERSION] = {
	/* A new (empty) file: the whole schema at once. */
	[0] = { STORE_SCHEMA_VERSION, SCHEMA_NEW },
	/* Addresses compared without their case and the notices counted per thread (46cd71f,
	 * still stamped 1: some stores of version 1 have them); the embedded directory
	 * (1d2e513). */
	[1] = { 2, SQL_OUTBOX_RECIPIENT SQL_OUTBOX_THREAD SQL_DIRECTORY },
	/* The audit of account actions (7915368). */
	[2] = { 3, SQL_AUDIT },
	/* Threads found by requester whatever its case (e801aac, still stamped 3); password
	 * reset tokens (9f9071c). */
	[3] = { 4, SQL_THREADS_REQUESTER SQL_RESET_TOKENS },
	/* Passwords set on the reset page (266de85). */
	[4] = { 5, SQL_ACCOUNT_PASSWORDS },
	/* What came while the version stayed at 5, so that a store made in between gets it:
	 * the chat's pending actions (fa2bf3b), the outbox's hourly limits and the deferred
	 * notices (0bd113c), the wrong one-time codes (4f39b2c). */
	[5] = { 6, SQL_CHAT_ACTIONS SQL_OUTBOX_CREATED SQL_DEFERRED_NOTICES SQL_WRONG_CODES },
	/* Thread ownership: the bot, the correspondants' queue or one correspondant. */
	[6] = { 7, SQL_THREAD_OWNER },
};

static int64_t
now_seconds(void)
{
	return (int64_t)time(NULL);
}

static int
fail(struct store *st)
{
	free(st->error);
	st->error = xstrdup(sqlite3_errmsg(st->db));
	st->constraint = (sqlite3_errcode(st->db) & 0xff) == SQLITE_CONSTRAINT;
	return -1;
}

bool
store_error_is_conflict(const struct store *st)
{
	return st->constraint;
}

const char *
store_error(const struct store *st)
{
	return st->error ? st->error : "no error";
}

/* Prepares sql and binds the arguments described by types: 's' text (NULL binds NULL),
 * 'i' int64_t, 'd' double. Returns NULL (error recorded) on failure. */
static sqlite3_stmt *
vprepare(struct store *st, const char *sql, const char *types, va_list ap)
{
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		fail(st);
		return NULL;
	}
	for (int i = 0; types[i]; i++) {
		int rc;
		switch (types[i]) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			rc = s ? sqlite3_bind_text(stmt, i + 1, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(stmt, i + 1);
			break;
		}
		case 'i': rc = sqlite3_bind_int64(stmt, i + 1, va_arg(ap, int64_t)); break;
		case 'd': rc = sqlite3_bind_double(stmt, i + 1, va_arg(ap, double)); break;
		default: abort();  /* a caller's type string is wrong: programming error */
		}
		if (rc != SQLITE_OK) {
			fail(st);
			sqlite3_finalize(stmt);
			return NULL;
		}
	}
	return stmt;
}

static sqlite3_stmt *
prepare(struct store *st, const char *sql, const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	sqlite3_stmt *stmt = vprepare(st, sql, types, ap);
	va_end(ap);
	return stmt;
}

/* Runs a statement that returns no row. */
static int
exec(struct store *st, const char *sql, const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	sqlite3_stmt *stmt = vprepare(st, sql, types, ap);
	va_end(ap);
	if (stmt == NULL)
		return -1;
	int rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : fail(st);
}

/* Runs a statement returning one integer (0 when no row). */
static int64_t
query_int(struct store *st, const char *sql, const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	sqlite3_stmt *stmt = vprepare(st, sql, types, ap);
	va_end(ap);
	if (stmt == NULL)
		return -1;
	int rc = sqlite3_step(stmt);
	int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? v : fail(st);
}

static char *
column_dup(sqlite3_stmt *stmt, int col)
{
	const unsigned char *s = sqlite3_column_text(stmt, col);
	return s ? xstrdup((const char *)s) : NULL;
}

/* Calls row(stmt, user) for each row until it returns non-zero, then finalizes. */
static int
each_row(struct store *st, sqlite3_stmt *stmt, int (*row)(sqlite3_stmt *stmt, void *user), void *user)
{
	if (stmt == NULL)
		return -1;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		if (row(stmt, user))
			break;
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : fail(st);
}

/* A caller's callback and its argument, for the row adapters below. */
struct each {
	void (*fn)(void);  /* the caller's callback, cast back to its own type by the adapter */
	void *user;
};

/* Brings the store to STORE_SCHEMA_VERSION one step at a time, each step in its own
 * transaction (a failure leaves the store at the last version completed). The version is
 * read again once the write lock is held: another process (dialogctl, a second dialogd
 * thread) may have run the step meanwhile. */
static int
schema_upgrade(struct store *st, const char *path, char **error_r)
{
	for (;;) {
		if (store_begin(st) < 0)
			break;
		int64_t version = query_int(st, "PRAGMA user_version", "");
		if (version < 0)
			break;
		if (version >= STORE_SCHEMA_VERSION) {
			if (store_commit(st) == 0)
				return 0;
			break;
		}
		const struct schema_step *step = &schema_steps[version];
		char *err = NULL;
		if (sqlite3_exec(st->db, step->sql, NULL, NULL, &err) != SQLITE_OK) {
			*error_r = xasprintf("%s: cannot upgrade the store from schema version %d to %d: %s", path,
					     (int)version, step->to, err ? err : sqlite3_errmsg(st->db));
			sqlite3_free(err);
			store_rollback(st);
			return -1;
		}
		/* A PRAGMA takes no bound parameter; the number is the step's own. */
		char *set = xasprintf("PRAGMA user_version = %d", step->to);
		int rc = exec(st, set, "");
		free(set);
		if (rc < 0 || store_commit(st) < 0)
			break;
		if (st->upgraded_from < 0)
			st->upgraded_from = (int)version;
	}
	*error_r = xasprintf("%s: cannot upgrade the store: %s", path, store_error(st));
	store_rollback(st);
	return -1;
}

struct store *
store_open(const char *path, char **error_r)
{
	struct store *st = xcalloc(1, sizeof(*st));
	st->upgraded_from = -1;
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		*error_r = xasprintf("%s: cannot open the store: %s", path,
				     st->db ? sqlite3_errmsg(st->db) : "out of memory");
		store_close(&st);
		return NULL;
	}
	/* Writers from other threads and dialogctl wait rather than fail at once. */
	sqlite3_busy_timeout(st->db, 10000);
	/* A store written by a newer dialogd is refused before anything writes to it (the
	 * journal mode below would): this binary knows neither its tables nor how to undo
	 * its steps. Closing would copy a write-ahead log that newer dialogd left into the
	 * file: that log stays as it is. */
	char *wal = xasprintf("%s-wal", path);
	bool had_wal = access(wal, F_OK) == 0;
	free(wal);
	int64_t version = query_int(st, "PRAGMA user_version", "");
	if (version < 0) {
		*error_r = xasprintf("%s: cannot read the schema version: %s", path,
				     st->error ? st->error : "negative user_version");
		store_close(&st);
		return NULL;
	}
	if (version > STORE_SCHEMA_VERSION) {
		*error_r = xasprintf("%s: schema version %lld is newer than this dialogd (%d): use a newer dialogd or"
				     " restore a backup; the file was not modified", path, (long long)version,
				     STORE_SCHEMA_VERSION);
		if (had_wal)
			sqlite3_db_config(st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
		store_close(&st);
		return NULL;
	}
	char *err = NULL;
	/* synchronous = FULL: a commit is on disk before the mail is flagged and moved on the
	 * server, even through a power cut (NORMAL only survives a process crash).
	 * secure_delete = ON on every connection: a secret mail's text, once emptied, leaves
	 * no copy in the freed space of a page, whichever connection later moves that page's
	 * cells (the WAL's own copies go with store_forget_wal). */
	if (sqlite3_exec(st->db,
			 "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
			 " PRAGMA secure_delete = ON;",
			 NULL, NULL, &err) != SQLITE_OK) {
		*error_r = xasprintf("%s: cannot prepare the store: %s", path, err ? err : sqlite3_errmsg(st->db));
		sqlite3_free(err);
		store_close(&st);
		return NULL;
	}
	/* Up to date, as nearly always: no write lock taken (a long writer elsewhere does not
	 * hold this opening up). */
	if (version < STORE_SCHEMA_VERSION && schema_upgrade(st, path, error_r) < 0) {
		store_close(&st);
		return NULL;
	}
	return st;
}

int
store_schema_upgraded_from(const struct store *st)
{
	return st->upgraded_from;
}

int
store_schema_version(struct store *st)
{
	return (int)query_int(st, "PRAGMA user_version", "");
}

void
store_close(struct store **stp)
{
	struct store *st = *stp;
	if (st == NULL)
		return;
	sqlite3_close(st->db);
	free(st->error);
	free(st);
	*stp = NULL;
}

void
store_set_busy_timeout(struct store *st, int milliseconds)
{
	sqlite3_busy_timeout(st->db, milliseconds);
}

int
store_begin(struct store *st)
{
	return exec(st, "BEGIN IMMEDIATE", "");
}

int
store_commit(struct store *st)
{
	return exec(st, "COMMIT", "");
}

void
store_rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- mailbox state ---- */

int
store_mailbox_get(struct store *st, const char *mailbox, uint32_t *uidvalidity_r, uint32_t *last_uid_r)
{
	sqlite3_stmt *stmt = prepare(st, "SELECT uidvalidity, last_uid FROM mailbox_state WHERE mailbox = ?", "s",
				     mailbox);
	if (stmt == NULL)
		return -1;
	int rc = sqlite3_step(stmt);
	*uidvalidity_r = rc == SQLITE_ROW ? (uint32_t)sqlite3_column_int64(stmt, 0) : 0;
	*last_uid_r = rc == SQLITE_ROW ? (uint32_t)sqlite3_column_int64(stmt, 1) : 0;
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : fail(st);
}

int
store_mailbox_set(struct store *st, const char *mailbox, uint32_t uidvalidity, uint32_t last_uid)
{
	return exec(st,
		    "INSERT INTO mailbox_state (mailbox, uidvalidity, last_uid) VALUES (?, ?, ?)"
		    " ON CONFLICT (mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid",
		    "sii", mailbox, (int64_t)uidvalidity, (int64_t)last_uid);
}

int
store_processed_has(struct store *st, const char *mailbox, const char *key)
{
	int64_t n = query_int(st, "SELECT count(*) FROM processed WHERE mailbox = ? AND key = ?", "ss", mailbox, key);
	return n < 0 ? -1 : n > 0;
}

int
store_processed_add(struct store *st, const char *mailbox, const char *key, int64_t thread_id)
{
	/* A plain INSERT: a second process that handled the same mail meanwhile makes this
	 * transaction fail as a conflict, and the mail is not answered twice. */
	return exec(st, "INSERT INTO processed (mailbox, key, thread_id, at) VALUES (?, ?, ?, ?)", "ssii",
		    mailbox, key, thread_id, now_seconds());
}

int
store_attempt_begin(struct store *st, const char *mailbox, const char *key)
{
	int64_t before = query_int(st, "SELECT count FROM attempts WHERE mailbox = ? AND key = ?", "ss", mailbox, key);
	if (before < 0)
		return -1;
	if (exec(st,
		 "INSERT INTO attempts (mailbox, key, count, at) VALUES (?, ?, 1, ?)"
		 " ON CONFLICT (mailbox, key) DO UPDATE SET count = count + 1, at = excluded.at",
		 "ssi", mailbox, key, now_seconds()) < 0)
		return -1;
	return (int)before;
}

int
store_attempt_end(struct store *st, const char *mailbox, const char *key)
{
	return exec(st, "DELETE FROM attempts WHERE mailbox = ? AND key = ?", "ss", mailbox, key);
}

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
	for (size_t i = 0; i < sizeof(thread_state_names) / sizeof(*thread_state_names); i++)
		if (strcmp(name, thread_state_names[i]) == 0)
			return (int)i;
	return -1;
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
		int64_t id = query_int(st, "SELECT thread_id FROM messages WHERE message_id = ? ORDER BY id LIMIT 1",
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
	int64_t now = now_seconds();
	/* A thread escalated from its first message goes to the correspondants' queue. */
	if (exec(st,
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
	return exec(st,
		    "UPDATE threads SET state = ?1, intent = coalesce(?2, intent), reason = ?3, updated = ?4,"
		    " owner = CASE WHEN ?1 = 'escalated' AND owner = 'bot' THEN 'queue' ELSE owner END WHERE id = ?5",
		    "sssii", thread_state_name(state), intent, reason, now_seconds(), id);
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
	for (size_t i = 0; name != NULL && i < sizeof(owner_names) / sizeof(*owner_names); i++)
		if (strcmp(owner_names[i], name) == 0)
			return (enum thread_owner)i;
	return OWNER_QUEUE;  /* unreadable: a person looks at it rather than the bot answering */
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
	return changed(st, exec(st,
				"UPDATE threads SET owner = 'person', owner_person = ?2, updated = ?3 WHERE id = ?1"
				" AND (owner <> 'person' OR owner_person = ?2 OR ?4)",
				"isii", id, person, now_seconds(), (int64_t)from_another));
}

int
store_thread_release(struct store *st, int64_t id, const char *person)
{
	return changed(st, exec(st,
				"UPDATE threads SET owner = 'bot', owner_person = NULL, state = 'open', reason = NULL,"
				" updated = ?3 WHERE id = ?1 AND (owner = 'queue' OR (owner = 'person' AND owner_person = ?2))",
				"isi", id, person, now_seconds()));
}

int
store_thread_resolve(struct store *st, int64_t id, const char *person)
{
	return changed(st, exec(st,
				"UPDATE threads SET owner = 'bot', owner_person = NULL, state = 'answered', updated = ?3"
				" WHERE id = ?1 AND owner = 'person' AND owner_person = ?2",
				"isi", id, person, now_seconds()));
}

#define THREAD_COLUMNS \
	"t.id, t.channel, t.requester, t.subject, t.state, t.intent, t.reason, t.created, t.updated," \
	" (SELECT count(*) FROM messages m WHERE m.thread_id = t.id), t.owner, t.owner_person"

static void
thread_from_row(sqlite3_stmt *stmt, struct thread_row *row)
{
	row->id = sqlite3_column_int64(stmt, 0);
	row->channel = column_dup(stmt, 1);
	row->requester = column_dup(stmt, 2);
	row->subject = column_dup(stmt, 3);
	int state = thread_state_from_name((const char *)sqlite3_column_text(stmt, 4));
	row->state = state < 0 ? THREAD_OPEN : (enum thread_state)state;
	row->intent = column_dup(stmt, 5);
	row->reason = column_dup(stmt, 6);
	row->created = sqlite3_column_int64(stmt, 7);
	row->updated = sqlite3_column_int64(stmt, 8);
	row->messages = sqlite3_column_int64(stmt, 9);
	row->owner = thread_owner_from_name((const char *)sqlite3_column_text(stmt, 10));
	row->owner_person = column_dup(stmt, 11);
}

int
store_thread_get(struct store *st, int64_t id, struct thread_row *row)
{
	sqlite3_stmt *stmt = prepare(st, "SELECT " THREAD_COLUMNS " FROM threads t WHERE t.id = ?", "i", id);
	if (stmt == NULL)
		return -1;
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		thread_from_row(stmt, row);
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : fail(st);
}

static int
thread_adapter(sqlite3_stmt *stmt, void *user)
{
	struct each *e = user;
	struct thread_row row = {0};
	thread_from_row(stmt, &row);
	int stop = ((store_thread_fn)e->fn)(&row, e->user);
	thread_row_clear(&row);
	return stop;
}

int
store_threads_each(struct store *st, const char *state, store_thread_fn fn, void *user)
{
	struct each e = { (void (*)(void))fn, user };
	return each_row(st,
			prepare(st,
				"SELECT " THREAD_COLUMNS " FROM threads t WHERE ?1 IS NULL OR t.state = ?1"
				" ORDER BY t.updated DESC, t.id DESC",
				"s", state),
			thread_adapter, &e);
}

int64_t
store_message_add(struct store *st, const struct message_row *m)
{
	if (exec(st,
		 "INSERT INTO messages (thread_id, direction, message_id, sender, recipient, subject, body, intent,"
		 " confidence, decision, note, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		 "isssssssdssi", m->thread_id, m->direction, m->message_id, m->sender, m->recipient, m->subject, m->body,
		 m->intent, m->confidence, m->decision, m->note, now_seconds()) < 0)
		return -1;
	if (exec(st, "UPDATE threads SET updated = ? WHERE id = ?", "ii", now_seconds(), m->thread_id) < 0)
		return -1;
	return sqlite3_last_insert_rowid(st->db);
}

int
store_thread_has_secret(struct store *st, int64_t thread_id)
{
	int64_t n = query_int(st, "SELECT count(*) FROM messages WHERE thread_id = ? AND direction = 'out' AND decision = 'secret'",
			      "i", thread_id);
	return n < 0 ? -1 : n > 0;
}

int
store_message_set_decision(struct store *st, int64_t id, const char *decision, const char *note)
{
	return exec(st, "UPDATE messages SET decision = ?, note = ? WHERE id = ?", "ssi", decision, note, id);
}

static int
message_adapter(sqlite3_stmt *stmt, void *user)
{
	struct each *e = user;
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
	};
	return ((store_message_fn)e->fn)(&m, sqlite3_column_int64(stmt, 10), e->user);
}

int
store_messages_each(struct store *st, int64_t thread_id, store_message_fn fn, void *user)
{
	struct each e = { (void (*)(void))fn, user };
	return each_row(st,
			prepare(st,
				"SELECT direction, message_id, sender, recipient, subject, body, intent, confidence,"
				" decision, note, at, thread_id FROM messages WHERE thread_id = ? ORDER BY id",
				"i", thread_id),
			message_adapter, &e);
}

/* ---- outbox ---- */

static const char *const outbox_kind_names[] = { "reply", "ack", "notify", "action", "secret", "person" };

const char *
outbox_kind_name(enum outbox_kind kind)
{
	return outbox_kind_names[kind];
}

void
outbox_row_clear(struct outbox_row *row)
{
	free(row->kind);
	free(row->message_id);
	free(row->mail_from);
	free(row->recipient);
	free(row->raw);
	free(row->state);
	free(row->last_error);
	memset(row, 0, sizeof(*row));
}

int64_t
store_outbox_add(struct store *st, int64_t thread_id, enum outbox_kind kind, const char *message_id,
		 const char *mail_from, const char *recipient, const char *raw)
{
	int64_t now = now_seconds();
	if (exec(st,
		 "INSERT INTO outbox (thread_id, kind, message_id, mail_from, recipient, raw, state, next_attempt, created)"
		 " VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
		 "isssssii", thread_id, outbox_kind_name(kind), message_id, mail_from, recipient, raw, now, now) < 0)
		return -1;
	return sqlite3_last_insert_rowid(st->db);
}

#define OUTBOX_COLUMNS \
	"id, thread_id, kind, message_id, mail_from, recipient, state, attempts, permanent_failures," \
	" next_attempt, created, sent_at, last_error"

static void
outbox_from_row(sqlite3_stmt *stmt, struct outbox_row *row)
{
	row->id = sqlite3_column_int64(stmt, 0);
	row->thread_id = sqlite3_column_int64(stmt, 1);
	row->kind = column_dup(stmt, 2);
	row->message_id = column_dup(stmt, 3);
	row->mail_from = column_dup(stmt, 4);
	row->recipient = column_dup(stmt, 5);
	row->state = column_dup(stmt, 6);
	row->attempts = sqlite3_column_int(stmt, 7);
	row->permanent_failures = sqlite3_column_int(stmt, 8);
	row->next_attempt = sqlite3_column_int64(stmt, 9);
	row->created = sqlite3_column_int64(stmt, 10);
	row->sent_at = sqlite3_column_int64(stmt, 11);
	row->last_error = column_dup(stmt, 12);
}

int
store_outbox_next(struct store *st, int64_t now, struct outbox_row *row, int64_t *next_due_r)
{
	*next_due_r = 0;
	sqlite3_stmt *stmt = prepare(st,
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
			row->raw = column_dup(stmt, 13);
			found = 1;
		} else {
			*next_due_r = due;
		}
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : fail(st);
}

int
store_outbox_sent(struct store *st, int64_t id, int64_t now)
{
	/* A secret mail (reset link, one-time code) keeps no copy of its secret once sent. */
	return exec(st, "UPDATE outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1, last_error = NULL,"
			" raw = CASE kind WHEN 'secret' THEN '' ELSE raw END WHERE id = ?", "ii", now, id);
}

int
store_forget_wal(struct store *st)
{
	int log_frames = -1, checkpointed = -1;
	int rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log_frames, &checkpointed);
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return 0;
	if (rc != SQLITE_OK)
		return fail(st);
	return 1;
}

int
store_outbox_retry(struct store *st, int64_t id, bool permanent, int64_t next_attempt, const char *error)
{
	return exec(st,
		    "UPDATE outbox SET attempts = attempts + 1, permanent_failures = permanent_failures + ?,"
		    " next_attempt = ?, last_error = ? WHERE id = ?",
		    "iisi", (int64_t)(permanent ? 1 : 0), next_attempt, error, id);
}

int
store_outbox_failed(struct store *st, int64_t id, const char *error)
{
	return exec(st, "UPDATE outbox SET state = 'failed', attempts = attempts + 1,"
			" permanent_failures = permanent_failures + 1, last_error = ?,"
			" raw = CASE kind WHEN 'secret' THEN '' ELSE raw END WHERE id = ?", "si", error, id);
}

static int
outbox_adapter(sqlite3_stmt *stmt, void *user)
{
	struct each *e = user;
	struct outbox_row row = {0};
	outbox_from_row(stmt, &row);
	int stop = ((store_outbox_fn)e->fn)(&row, e->user);
	outbox_row_clear(&row);
	return stop;
}

int
store_outbox_each(struct store *st, const char *state, store_outbox_fn fn, void *user)
{
	struct each e = { (void (*)(void))fn, user };
	return each_row(st,
			prepare(st, "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE ?1 IS NULL OR state = ?1 ORDER BY id DESC",
				"s", state),
			outbox_adapter, &e);
}

int64_t
store_outbox_count(struct store *st, const char *state)
{
	return query_int(st, "SELECT count(*) FROM outbox WHERE state = ?", "s", state);
}

/* ---- per-sender events ---- */

int64_t
store_auto_replies_since(struct store *st, const char *address, int64_t since)
{
	/* "a+anything@d" is a@d's mailbox: plus-addressing does not make new senders. */
	return query_int(st,
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
	return query_int(st,
			 "SELECT count(*) FROM outbox WHERE created >= ? AND kind IN ('reply', 'ack')"
			 " AND substr(recipient, instr(recipient, '@') + 1) = ? COLLATE NOCASE",
			 "is", since, domain);
}

int64_t
store_outbox_kind_since(struct store *st, enum outbox_kind kind, int64_t since)
{
	return query_int(st, "SELECT count(*) FROM outbox WHERE created >= ? AND kind = ?", "is", since,
			 outbox_kind_name(kind));
}

/* ---- correspondants' notifications held for the digest ---- */

int
store_notice_defer(struct store *st, int64_t thread_id, const char *reason, int64_t at)
{
	return exec(st, "INSERT INTO deferred_notices (thread_id, reason, at) VALUES (?, ?, ?)", "isi", thread_id,
		    reason ? reason : "", at);
}

int64_t
store_notices_deferred_oldest(struct store *st)
{
	return query_int(st, "SELECT coalesce(min(at), 0) FROM deferred_notices", "");
}

int64_t
store_last_digest(struct store *st)
{
	return query_int(st, "SELECT coalesce(max(created), 0) FROM outbox WHERE kind = 'notify' AND thread_id = 0", "");
}

static int
deferred_adapter(sqlite3_stmt *stmt, void *user)
{
	struct each *e = user;
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
	struct each e = { (void (*)(void))fn, user };
	/* A thread purged meanwhile keeps its line, without requester or subject. */
	return each_row(st,
			prepare(st,
				"SELECT d.id, d.thread_id, d.reason, d.at, coalesce(t.requester, ''), coalesce(t.subject, '')"
				" FROM deferred_notices d LEFT JOIN threads t ON t.id = d.thread_id ORDER BY d.id",
				""),
			deferred_adapter, &e);
}

int
store_notices_deferred_clear(struct store *st, int64_t up_to_id)
{
	return exec(st, "DELETE FROM deferred_notices WHERE id <= ?", "i", up_to_id);
}

int64_t
store_notices_since(struct store *st, int64_t thread_id, int64_t since)
{
	return query_int(st, "SELECT count(*) FROM outbox WHERE thread_id = ? AND kind = 'notify' AND created >= ?", "ii",
			 thread_id, since);
}

int64_t
store_last_notify_for(struct store *st, const char *requester)
{
	return query_int(st,
			 "SELECT coalesce(max(o.created), 0) FROM outbox o JOIN threads t ON t.id = o.thread_id"
			 " WHERE o.kind = 'notify' AND t.requester = ? COLLATE NOCASE",
			 "s", requester);
}

int
store_outbox_sent_as(struct store *st, const char *message_id, const char *address)
{
	int64_t n = query_int(st, "SELECT count(*) FROM outbox WHERE message_id = ? AND recipient = ? COLLATE NOCASE",
			      "ss", message_id, address);
	return n < 0 ? -1 : n > 0;
}

int
store_bounce_add(struct store *st, const char *address, int64_t at)
{
	return exec(st, "INSERT INTO bounces (address, at) VALUES (lower(?), ?)", "si", address, at);
}

int64_t
store_last_bounce(struct store *st, const char *address)
{
	return query_int(st, "SELECT coalesce(max(at), 0) FROM bounces WHERE address = lower(?)", "s", address);
}

/* ---- status ---- */

int
store_status_set(struct store *st, const char *component, const char *state, const char *detail)
{
	int64_t now = now_seconds();
	/* "since" moves only when the state changes: it tells how long an outage lasts. */
	return exec(st,
		    "INSERT INTO status (component, state, detail, since, updated) VALUES (?1, ?2, ?3, ?4, ?4)"
		    " ON CONFLICT (component) DO UPDATE SET detail = excluded.detail, updated = excluded.updated,"
		    " since = CASE WHEN state = excluded.state THEN since ELSE excluded.since END,"
		    " state = excluded.state",
		    "sssi", component, state, detail, now);
}

static int
status_adapter(sqlite3_stmt *stmt, void *user)
{
	struct each *e = user;
	return ((store_status_fn)e->fn)((const char *)sqlite3_column_text(stmt, 0),
					(const char *)sqlite3_column_text(stmt, 1),
					(const char *)sqlite3_column_text(stmt, 2), sqlite3_column_int64(stmt, 3),
					sqlite3_column_int64(stmt, 4), e->user);
}

int
store_status_each(struct store *st, store_status_fn fn, void *user)
{
	struct each e = { (void (*)(void))fn, user };
	return each_row(st, prepare(st, "SELECT component, state, detail, since, updated FROM status ORDER BY component", ""),
			status_adapter, &e);
}

static int
count_adapter(sqlite3_stmt *stmt, void *user)
{
	struct each *e = user;
	return ((int (*)(const char *, int64_t, void *))e->fn)((const char *)sqlite3_column_text(stmt, 0),
								 sqlite3_column_int64(stmt, 1), e->user);
}

int
store_thread_counts(struct store *st, int (*fn)(const char *state, int64_t count, void *user), void *user)
{
	struct each e = { (void (*)(void))fn, user };
	return each_row(st, prepare(st, "SELECT state, count(*) FROM threads GROUP BY state ORDER BY state", ""),
			count_adapter, &e);
}

/* ---- directory ---- */

int
store_company_put(struct store *st, const struct company_row *c)
{
	return exec(st,
		    "INSERT INTO companies (siret, name, kind, correspondant_email) VALUES (?, ?, ?, ?)"
		    " ON CONFLICT (siret) DO UPDATE SET name = excluded.name, kind = excluded.kind,"
		    " correspondant_email = excluded.correspondant_email",
		    "ssss", c->siret, c->name, c->kind, c->correspondant_email);
}

int
store_company_exists(struct store *st, const char *siret)
{
	int64_t n = query_int(st, "SELECT count(*) FROM companies WHERE siret = ?", "s", siret);
	return n < 0 ? -1 : n > 0;
}

int
store_account_put(struct store *st, const struct account_row *a)
{
	if (exec(st,
		 "INSERT INTO accounts (identifier, email, kind, state) VALUES (?, ?, ?, ?)"
		 " ON CONFLICT (identifier) DO UPDATE SET email = excluded.email, kind = excluded.kind,"
		 " state = excluded.state",
		 "ssss", a->identifier, a->email, a->kind, a->state) < 0)
		return -1;
	return exec(st, "INSERT OR IGNORE INTO account_links (identifier, siret) VALUES (?, ?)", "ss", a->identifier,
		    a->siret);
}

int
store_dossier_put(struct store *st, const struct dossier_row *d)
{
	return exec(st,
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
		return query_int(st, "SELECT count(*) FROM companies", "");
	if (strcmp(table, "accounts") == 0)
		return query_int(st, "SELECT count(*) FROM accounts", "");
	if (strcmp(table, "dossiers") == 0)
		return query_int(st, "SELECT count(*) FROM dossiers", "");
	return -1;
}

/* ---- audit and retention ---- */

int
store_audit_add(struct store *st, const char *channel, const char *requester, const char *action, const char *subject,
		const char *outcome)
{
	return exec(st, "INSERT INTO audit (at, channel, requester, action, subject, outcome) VALUES (?, ?, ?, ?, ?, ?)",
		    "isssss", now_seconds(), channel, requester, action, subject, outcome);
}

static int
audit_adapter(sqlite3_stmt *stmt, void *user)
{
	struct each *e = user;
	struct audit_row a = {
		.at = sqlite3_column_int64(stmt, 0),
		.channel = (const char *)sqlite3_column_text(stmt, 1),
		.requester = (const char *)sqlite3_column_text(stmt, 2),
		.action = (const char *)sqlite3_column_text(stmt, 3),
		.subject = (const char *)sqlite3_column_text(stmt, 4),
		.outcome = (const char *)sqlite3_column_text(stmt, 5),
	};
	return ((store_audit_fn)e->fn)(&a, e->user);
}

int
store_audit_each(struct store *st, store_audit_fn fn, void *user)
{
	struct each e = { (void (*)(void))fn, user };
	return each_row(st, prepare(st, "SELECT at, channel, requester, action, subject, outcome FROM audit ORDER BY id DESC",
				    ""),
			audit_adapter, &e);
}

int
store_purge(struct store *st, int64_t before, struct purge_counts *counts)
{
	memset(counts, 0, sizeof(*counts));
	if (store_begin(st) < 0)
		return -1;
	/* The threads to go: old, and not waiting for a mail to be sent. The permanent
	 * record of processed mail stays, so nothing purged is ever answered again. */
	if (exec(st, "CREATE TEMP TABLE IF NOT EXISTS purge_ids (id INTEGER PRIMARY KEY)", "") < 0 ||
	    exec(st, "DELETE FROM purge_ids", "") < 0 ||
	    exec(st,
		 "INSERT INTO purge_ids SELECT id FROM threads WHERE updated < ? AND NOT EXISTS"
		 " (SELECT 1 FROM outbox o WHERE o.thread_id = threads.id AND o.state = 'pending')",
		 "i", before) < 0)
		goto fail;
	counts->threads = sqlite3_changes(st->db);
	if (exec(st, "DELETE FROM messages WHERE thread_id IN (SELECT id FROM purge_ids)", "") < 0)
		goto fail;
	counts->messages = sqlite3_changes(st->db);
	if (exec(st, "DELETE FROM outbox WHERE thread_id IN (SELECT id FROM purge_ids)", "") < 0)
		goto fail;
	counts->outbox = sqlite3_changes(st->db);
	if (exec(st, "DELETE FROM threads WHERE id IN (SELECT id FROM purge_ids)", "") < 0 ||
	    exec(st, "DELETE FROM audit WHERE at < ?", "i", before) < 0)
		goto fail;
	counts->audit = sqlite3_changes(st->db);
	/* Reset tokens past their use (expired, used or revoked before the cut-off); wrong
	 * codes (visitors and addresses) and notices waiting for a digest, once old. */
	if (exec(st, "DELETE FROM bounces WHERE at < ?", "i", before) < 0 ||
	    exec(st, "DELETE FROM wrong_codes WHERE at < ?", "i", before) < 0 ||
	    exec(st, "DELETE FROM deferred_notices WHERE at < ?", "i", before) < 0 ||
	    exec(st, "DELETE FROM reset_tokens WHERE expires < ?", "i", before) < 0 || store_commit(st) < 0)
		goto fail;
	return 0;
fail:
	store_rollback(st);
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
	int rc = each_row(st, prepare(st, sql, "s", value), account_walk_row, &w);
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
	int rc = each_row(st,
			  prepare(st,
				  "SELECT number, type, state, siret, training_org_siret, deca_number, start_date, amount_cents"
				  " FROM dossiers WHERE number = ?",
				  "s", number),
			  dossier_walk_row, &w);
	return rc < 0 ? -1 : w.found;
}

int
store_password_set(struct store *st, const char *identifier, const char *hash, int64_t now)
{
	int64_t known = query_int(st, "SELECT count(*) FROM accounts WHERE identifier = ?", "s", identifier);
	if (known <= 0)
		return known < 0 ? -1 : 0;
	if (exec(st,
		 "INSERT INTO account_passwords (identifier, hash, set_at) VALUES (?1, ?2, ?3)"
		 " ON CONFLICT (identifier) DO UPDATE SET hash = excluded.hash, set_at = excluded.set_at",
		 "ssi", identifier, hash, now) < 0)
		return -1;
	return 1;
}

char *
store_password_get(struct store *st, const char *identifier)
{
	sqlite3_stmt *stmt = prepare(st, "SELECT hash FROM account_passwords WHERE identifier = ?", "s", identifier);
	if (stmt == NULL)
		return NULL;
	char *hash = sqlite3_step(stmt) == SQLITE_ROW ? column_dup(stmt, 0) : NULL;
	sqlite3_finalize(stmt);
	return hash;
}

int64_t
store_audit_count(struct store *st, const char *requester, const char *action, int64_t since)
{
	return query_int(st, "SELECT count(*) FROM audit WHERE requester = ? COLLATE NOCASE AND action = ? AND at >= ?",
			 "ssi", requester, action, since);
}

int
store_dossier_get(struct store *st, const char *number, struct dossier_info *d)
{
	sqlite3_stmt *stmt = prepare(st, "SELECT type, state, deca_number FROM dossiers WHERE number = ?", "s", number);
	if (stmt == NULL)
		return -1;
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		d->type = column_dup(stmt, 0);
		d->state = column_dup(stmt, 1);
		d->deca_number = column_dup(stmt, 2);
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : fail(st);
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
	int64_t n = query_int(st, "SELECT count(*)" DOSSIER_ACCOUNTS " AND a.email = ?2 COLLATE NOCASE", "ss", number,
			      email);
	return n < 0 ? -1 : n > 0;
}

int
store_dossier_emails(struct store *st, const char *number, char ***emails_r, size_t *count_r)
{
	*emails_r = NULL;
	*count_r = 0;
	sqlite3_stmt *stmt = prepare(st, "SELECT DISTINCT lower(a.email)" DOSSIER_ACCOUNTS " ORDER BY 1", "s", number);
	if (stmt == NULL)
		return -1;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		*emails_r = xrealloc(*emails_r, (*count_r + 1) * sizeof(**emails_r));
		(*emails_r)[(*count_r)++] = column_dup(stmt, 0);
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : fail(st);
}

/* ---- password reset tokens ---- */

int
store_reset_token_put(struct store *st, const char *identifier, const char *token_hash, int64_t now, int64_t expires)
{
	/* A savepoint: atomic on its own, and part of the caller's transaction when there is one. */
	if (exec(st, "SAVEPOINT reset_token_put", "") < 0)
		return -1;
	if (exec(st, "UPDATE reset_tokens SET revoked_at = ? WHERE identifier = ? AND used_at IS NULL AND revoked_at IS NULL",
		 "is", now, identifier) < 0 ||
	    exec(st, "INSERT INTO reset_tokens (identifier, token_hash, created, expires) VALUES (?, ?, ?, ?)", "ssii",
		 identifier, token_hash, now, expires) < 0 ||
	    exec(st, "RELEASE reset_token_put", "") < 0) {
		char *saved = xstrdup(store_error(st));
		exec(st, "ROLLBACK TO reset_token_put", "");
		exec(st, "RELEASE reset_token_put", "");
		free(st->error);
		st->error = saved;
		return -1;
	}
	return 0;
}

int
store_reset_token_burn(struct store *st, const char *token_hash, int64_t now, char **identifier_r)
{
	/* One statement: two pages submitted at once cannot both use the token. */
	sqlite3_stmt *stmt = prepare(st,
				     "UPDATE reset_tokens SET used_at = ?1 WHERE token_hash = ?2 AND used_at IS NULL"
				     " AND revoked_at IS NULL AND expires > ?1 RETURNING identifier",
				     "is", now, token_hash);
	if (stmt == NULL)
		return -1;
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*identifier_r = column_dup(stmt, 0);
	int done = rc == SQLITE_ROW ? sqlite3_step(stmt) : rc;
	sqlite3_finalize(stmt);
	if (done != SQLITE_DONE)
		return fail(st);
	return rc == SQLITE_ROW ? 1 : 0;
}

int
store_reset_token_find(struct store *st, const char *token_hash, int64_t now, char **identifier_r)
{
	/* The same conditions as store_reset_token_burn, read only. */
	sqlite3_stmt *stmt = prepare(st,
				     "SELECT identifier FROM reset_tokens WHERE token_hash = ?2 AND used_at IS NULL"
				     " AND revoked_at IS NULL AND expires > ?1",
				     "is", now, token_hash);
	if (stmt == NULL)
		return -1;
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*identifier_r = column_dup(stmt, 0);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(st);
	return rc == SQLITE_ROW ? 1 : 0;
}

int64_t
store_audit_count_subject(struct store *st, const char *action, const char *subject, const char *outcome, int64_t since)
{
	return query_int(st,
			 "SELECT count(*) FROM audit WHERE action = ?1 AND subject = ?2 COLLATE NOCASE"
			 " AND (?3 IS NULL OR outcome = ?3) AND at >= ?4",
			 "sssi", action, subject, outcome, since);
}

int
store_account_unlink(struct store *st, const char *identifier)
{
	return exec(st, "DELETE FROM account_links WHERE identifier = ?", "s", identifier);
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
	sqlite3_stmt *stmt = prepare(st,
				     "SELECT action, step, subject, email, code_hash, expires, attempts FROM chat_actions"
				     " WHERE thread_id = ?",
				     "i", thread_id);
	if (stmt == NULL)
		return -1;
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		c->thread_id = thread_id;
		c->action = column_dup(stmt, 0);
		c->step = column_dup(stmt, 1);
		c->subject = column_dup(stmt, 2);
		c->email = column_dup(stmt, 3);
		c->code_hash = column_dup(stmt, 4);
		c->expires = sqlite3_column_int64(stmt, 5);
		c->attempts = sqlite3_column_int(stmt, 6);
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : fail(st);
}

int
store_chat_action_put(struct store *st, const struct chat_action *c)
{
	return exec(st,
		    "INSERT INTO chat_actions (thread_id, action, step, subject, email, code_hash, expires, attempts)"
		    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (thread_id) DO UPDATE SET action = ?2, step = ?3,"
		    " subject = ?4, email = ?5, code_hash = ?6, expires = ?7, attempts = ?8",
		    "isssssii", c->thread_id, c->action, c->step, c->subject, c->email, c->code_hash, c->expires,
		    (int64_t)c->attempts);
}

int
store_chat_action_delete(struct store *st, int64_t thread_id)
{
	return exec(st, "DELETE FROM chat_actions WHERE thread_id = ?", "i", thread_id);
}

/* ---- one-time codes ---- */

/* Longer than any limit's window (an hour): what the limits need, no more. */
#define WRONG_CODES_KEPT 86400

int
store_wrong_code_add(struct store *st, const char *visitor, const char *email, bool code_sent, int64_t now)
{
	if (exec(st, "DELETE FROM wrong_codes WHERE at < ?", "i", now - WRONG_CODES_KEPT) < 0)
		return -1;
	return exec(st, "INSERT INTO wrong_codes (at, visitor, email, code_sent) VALUES (?, ?, ?, ?)", "issi", now,
		    visitor, email, (int64_t)(code_sent ? 1 : 0));
}

int
store_wrong_codes_count(struct store *st, const char *visitor, const char *email, int64_t since,
			struct wrong_code_counts *counts_r)
{
	memset(counts_r, 0, sizeof(*counts_r));
	sqlite3_stmt *stmt = prepare(st,
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
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW ? 0 : fail(st);
}

int64_t
store_audit_latest(struct store *st, const char *action, int64_t since)
{
	return query_int(st, "SELECT at FROM audit WHERE at >= ? AND action = ? ORDER BY at DESC LIMIT 1", "is", since,
			 action);
}
