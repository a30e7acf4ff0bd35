/* store — opening the SQLite file: its schema and the numbered steps that upgrade an
 * older one, transactions and errors, and the helpers every statement runs through
 * (store_internal.h), which store_mailbox, store_threads, store_outbox, store_directory
 * and store_audit share. Every statement is prepared and bound: no value is ever pasted
 * into SQL text. */
#include "autoconf.h"
#include "store/store_internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Audit outcomes as codes (audit.h), the sentences of the rows written before mapped to
 * theirs (frozen here: the sentences shown may change, these rows will not); a code
 * cap's sentence keeps its count only in the thread it opened. */
#define SQL_AUDIT_CODES \
	"UPDATE audit SET outcome = CASE" \
	" WHEN outcome = 'identifiers sent to the address on file' THEN 'identifiers_sent'" \
	" WHEN outcome = 'reset link sent to the address on file' THEN 'reset_sent'" \
	" WHEN outcome = 'reset requested from the extranet (it mails the address on file)' THEN 'reset_requested'" \
	" WHEN outcome = 'one-time code sent to the address on file' THEN 'code_sent'" \
	" WHEN outcome = 'the address on file cannot be written to: nothing sent' THEN 'address_unusable'" \
	" WHEN outcome = 'directory unavailable: escalated to a person' THEN 'directory_unavailable'" \
	" WHEN outcome = 'hourly limit reached for this requester: nothing sent' THEN 'requester_limit'" \
	" WHEN outcome = 'hourly limit reached for this account: nothing sent' THEN 'account_limit'" \
	" WHEN outcome = 'no account matched: nothing sent' THEN 'no_account'" \
	" WHEN outcome = 'the extranet knows no such account: nothing sent' THEN 'extranet_no_account'" \
	" WHEN outcome = 'address not on file for this request, or a limit: nothing sent' THEN 'code_not_sent'" \
	" WHEN outcome = 'wrong one-time code' THEN 'code_wrong'" \
	" WHEN outcome = 'code not checked: too many wrong codes from all visitors this hour' THEN 'code_unchecked_global'" \
	" WHEN outcome = 'code not checked: hourly limit of wrong codes reached for this visitor' THEN 'code_unchecked_visitor'" \
	" WHEN outcome = 'right code not accepted: hourly limit of wrong codes reached for this address' THEN 'code_refused_address'" \
	" WHEN outcome = 'code accepted: status given' THEN 'code_accepted'" \
	" WHEN outcome = 'code accepted: directory unavailable' THEN 'code_accepted_unavailable'" \
	" WHEN outcome = 'hourly limit reached: nothing sent' THEN 'status_limit'" \
	" WHEN outcome = 'address not on file for this dossier: nothing sent' THEN 'status_not_on_file'" \
	" WHEN outcome = 'no such dossier: nothing sent' THEN 'no_dossier'" \
	" WHEN outcome = 'no sender address: nothing sent' THEN 'no_sender'" \
	" WHEN outcome = 'number asked for' THEN 'number_asked'" \
	" WHEN outcome = 'status given to a verified requester' THEN 'status_given'" \
	" WHEN outcome = 'requester not verified: status sent to the addresses on file' THEN 'status_sent_on_file'" \
	" WHEN outcome = 'status mailed to the addresses on file recently: nothing sent' THEN 'status_sent_recently'" \
	" WHEN outcome = 'requester not verified, no active account on file: nothing sent' THEN 'status_no_active_account'" \
	" WHEN outcome = 'password changed' THEN 'password_changed'" \
	" WHEN outcome = 'invalid or expired link' THEN 'link_invalid'" \
	" WHEN outcome = 'account no longer in the directory' THEN 'account_gone'" \
	" WHEN outcome LIKE '% wrong one-time codes in an hour from all visitors (cap %' THEN 'code_cap'" \
	" ELSE outcome END;"

/* The account actions a turn left for after its reply (conversation/deferred.c): what
 * is done for an existing account must not delay the requester's answer. A row lives
 * from the turn's commit to the run that does it. */
#define SQL_DEFERRED_ACTIONS \
	"CREATE TABLE IF NOT EXISTS deferred_actions (" \
	"  id INTEGER PRIMARY KEY, thread_id INTEGER NOT NULL REFERENCES threads (id) ON DELETE CASCADE," \
	"  channel TEXT NOT NULL, requester TEXT NOT NULL, action TEXT NOT NULL, by TEXT NOT NULL," \
	"  value TEXT NOT NULL, created INTEGER NOT NULL);"

/* The website chat (daemon/chat/chat_ws.c): a conversation is a visitor's session (its
 * token kept only as a BLAKE2b hash, forgotten when the conversation ends) bound to a
 * chat thread; its events are what the widget shows, numbered per conversation and
 * written before they are sent, so that a reconnecting widget gets exactly what it
 * missed; its inputs are the client ids of the visitor's messages (UNIQUE: a message sent
 * twice is answered once), with the thread's last message id when it came (mark), which
 * tells after a crash whether its turn ran. Purging a thread removes its conversation. */
#define SQL_CHAT_CONVERSATIONS \
	"CREATE TABLE IF NOT EXISTS chat_conversations (" \
	"  id INTEGER PRIMARY KEY, token_hash TEXT UNIQUE," \
	"  thread_id INTEGER REFERENCES threads (id) ON DELETE CASCADE, visitor TEXT NOT NULL," \
	"  last_seq INTEGER NOT NULL DEFAULT 0, acked_seq INTEGER NOT NULL DEFAULT 0," \
	"  mirrored INTEGER NOT NULL DEFAULT 0, owner_seen TEXT NOT NULL DEFAULT 'bot'," \
	"  created INTEGER NOT NULL, expires INTEGER NOT NULL, ended INTEGER);" \
	"CREATE INDEX IF NOT EXISTS chat_conversations_thread ON chat_conversations (thread_id);" \
	"CREATE TABLE IF NOT EXISTS chat_events (" \
	"  conversation_id INTEGER NOT NULL REFERENCES chat_conversations (id) ON DELETE CASCADE," \
	"  seq INTEGER NOT NULL, kind TEXT NOT NULL, sender TEXT, body TEXT, at INTEGER NOT NULL," \
	"  PRIMARY KEY (conversation_id, seq));" \
	"CREATE TABLE IF NOT EXISTS chat_inputs (" \
	"  conversation_id INTEGER NOT NULL REFERENCES chat_conversations (id) ON DELETE CASCADE," \
	"  client_id TEXT NOT NULL, mark INTEGER NOT NULL, done INTEGER NOT NULL DEFAULT 0," \
	"  at INTEGER NOT NULL, UNIQUE (conversation_id, client_id));"

/* What the website chat added with its widget: the quick replies of a chat line (one
 * label per line, in its message and its event); the account a signed identity token
 * proved (the extranet's logged-in user) and the tokens already used, so that one is
 * never accepted twice; an address the visitor proved with a code in the conversation,
 * and whether a correspondant's answers also go to it by mail. */
#define SQL_CHAT_WIDGET \
	"ALTER TABLE messages ADD COLUMN choices TEXT;" \
	"ALTER TABLE chat_events ADD COLUMN choices TEXT;" \
	"ALTER TABLE chat_conversations ADD COLUMN account TEXT;" \
	"ALTER TABLE chat_conversations ADD COLUMN email TEXT;" \
	"ALTER TABLE chat_conversations ADD COLUMN email_answers INTEGER NOT NULL DEFAULT 0;" \
	"CREATE TABLE IF NOT EXISTS chat_identity_tokens (" \
	"  token_hash TEXT PRIMARY KEY," \
	"  conversation_id INTEGER NOT NULL REFERENCES chat_conversations (id) ON DELETE CASCADE," \
	"  expires INTEGER NOT NULL);"

/* The console's search over the messages' subjects and texts (SQLite FTS5, words
 * without their accents or case), kept in step with messages by triggers. A message's
 * row is written empty and completed once its secrets are removed, so the index only
 * ever holds what the thread keeps; the purge rewrites it (optimize) so that nothing
 * purged lingers in its segments. */
#define SQL_MESSAGES_SEARCH \
	"CREATE VIRTUAL TABLE IF NOT EXISTS messages_search USING fts5(subject, body, content = 'messages'," \
	"  content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2');" \
	"CREATE TRIGGER IF NOT EXISTS messages_search_insert AFTER INSERT ON messages BEGIN" \
	"  INSERT INTO messages_search (rowid, subject, body) VALUES (new.id, new.subject, new.body); END;" \
	"CREATE TRIGGER IF NOT EXISTS messages_search_delete AFTER DELETE ON messages BEGIN" \
	"  INSERT INTO messages_search (messages_search, rowid, subject, body) VALUES ('delete', old.id, old.subject, old.body);" \
	"  END;" \
	"CREATE TRIGGER IF NOT EXISTS messages_search_update AFTER UPDATE OF subject, body ON messages BEGIN" \
	"  INSERT INTO messages_search (messages_search, rowid, subject, body) VALUES ('delete', old.id, old.subject, old.body);" \
	"  INSERT INTO messages_search (rowid, subject, body) VALUES (new.id, new.subject, new.body); END;" \
	"INSERT INTO messages_search (messages_search) VALUES ('rebuild');"

/* The correspondants' console (issue 11): its accounts (argon2id password hashes only,
 * the TOTP secret of a second factor), their sessions (the cookie's token and the CSRF
 * token as BLAKE2b hashes only), the failed logins its rate limits count, and the
 * purpose of a single-use token (a password reset link, a console invitation), so that
 * one kind of link never opens the other's page. */
#define SQL_CONSOLE \
	"ALTER TABLE reset_tokens ADD COLUMN purpose TEXT NOT NULL DEFAULT 'password_reset';" \
	"CREATE TABLE IF NOT EXISTS correspondants (" \
	"  id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE COLLATE NOCASE, name TEXT NOT NULL," \
	"  role TEXT NOT NULL, password_hash TEXT, totp_secret TEXT, disabled INTEGER NOT NULL DEFAULT 0," \
	"  created INTEGER NOT NULL, updated INTEGER NOT NULL);" \
	"CREATE TABLE IF NOT EXISTS console_sessions (" \
	"  token_hash TEXT PRIMARY KEY," \
	"  correspondant_id INTEGER NOT NULL REFERENCES correspondants (id) ON DELETE CASCADE," \
	"  csrf_hash TEXT NOT NULL, address TEXT NOT NULL, created INTEGER NOT NULL, last_seen INTEGER NOT NULL);" \
	"CREATE INDEX IF NOT EXISTS console_sessions_correspondant ON console_sessions (correspondant_id);" \
	"CREATE TABLE IF NOT EXISTS console_login_failures (" \
	"  address TEXT NOT NULL, email TEXT NOT NULL COLLATE NOCASE, at INTEGER NOT NULL);" \
	"CREATE INDEX IF NOT EXISTS console_login_failures_at ON console_login_failures (at);" \
	SQL_MESSAGES_SEARCH

/* The console's views, newest activity first, read from an index that stops after a
 * page (issue 11's 100,000 threads): the queue and the bot's by owner, a person's own,
 * and all of them; and the threads each owner kind holds, kept by triggers, so that the
 * counts shown on every page cost no scan. */
#define SQL_CONSOLE_INDEXES \
	"CREATE INDEX IF NOT EXISTS threads_owner_updated ON threads (owner, updated, id);" \
	"CREATE INDEX IF NOT EXISTS threads_person_updated ON threads (owner_person, owner, updated, id);" \
	"CREATE INDEX IF NOT EXISTS threads_updated ON threads (updated, id);" \
	"CREATE TABLE IF NOT EXISTS thread_owner_counts (owner TEXT PRIMARY KEY, n INTEGER NOT NULL);" \
	"INSERT INTO thread_owner_counts (owner, n) SELECT owner, count(*) FROM threads GROUP BY owner;" \
	"CREATE TRIGGER IF NOT EXISTS thread_owner_counts_insert AFTER INSERT ON threads BEGIN" \
	"  INSERT INTO thread_owner_counts (owner, n) VALUES (new.owner, 1)" \
	"  ON CONFLICT (owner) DO UPDATE SET n = n + 1; END;" \
	"CREATE TRIGGER IF NOT EXISTS thread_owner_counts_delete AFTER DELETE ON threads BEGIN" \
	"  UPDATE thread_owner_counts SET n = n - 1 WHERE owner = old.owner; END;" \
	"CREATE TRIGGER IF NOT EXISTS thread_owner_counts_update AFTER UPDATE OF owner ON threads" \
	"  WHEN new.owner IS NOT old.owner BEGIN" \
	"  UPDATE thread_owner_counts SET n = n - 1 WHERE owner = old.owner;" \
	"  INSERT INTO thread_owner_counts (owner, n) VALUES (new.owner, 1)" \
	"  ON CONFLICT (owner) DO UPDATE SET n = n + 1; END;"

/* The console's pages: the client's address an audit row was written from (who did
 * what, when, from where; NULL for rows of the mail and the programs). */
#define SQL_AUDIT_ADDRESS "ALTER TABLE audit ADD COLUMN address TEXT;"
/* Teaching: the intent (and audience) a correspondant says a received message meant, for
 * `dialogctl examples export`; gone with the message when it is purged. */
#define SQL_MESSAGE_LABELS \
	"CREATE TABLE IF NOT EXISTS message_labels (" \
	"  message_id INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE," \
	"  intent TEXT NOT NULL, audience TEXT, labelled_by TEXT NOT NULL, at INTEGER NOT NULL);"
/* A thread's audit rows on its console page found by index (its subject, its writer)
 * rather than by a scan (700,000 rows: 88 ms → 0.06 ms). */
#define SQL_AUDIT_INDEXES \
	"CREATE INDEX IF NOT EXISTS audit_subject ON audit (subject);" \
	"CREATE INDEX IF NOT EXISTS audit_requester ON audit (requester COLLATE NOCASE);"


/* A new store: every table in the order the stores made so far have them (so that a new
 * file's schema reads as it always has). A later change (a table, an index, an ALTER
 * TABLE ... ADD COLUMN) goes at the end here and in a new step: a new store then runs the
 * very statements an upgraded one did, and both keep the same text of every table. */
#define SCHEMA_NEW \
	SQL_MAILBOX_STATE SQL_PROCESSED SQL_ATTEMPTS SQL_THREADS SQL_THREADS_REQUESTER SQL_MESSAGES \
	SQL_OUTBOX SQL_OUTBOX_RECIPIENT SQL_OUTBOX_THREAD SQL_OUTBOX_CREATED SQL_DEFERRED_NOTICES \
	SQL_BOUNCES SQL_STATUS SQL_DIRECTORY SQL_AUDIT SQL_RESET_TOKENS SQL_ACCOUNT_PASSWORDS \
	SQL_CHAT_ACTIONS SQL_WRONG_CODES SQL_THREAD_OWNER SQL_AUDIT_CODES SQL_DEFERRED_ACTIONS SQL_CHAT_CONVERSATIONS \
	SQL_CHAT_WIDGET SQL_CONSOLE SQL_CONSOLE_INDEXES SQL_AUDIT_ADDRESS SQL_MESSAGE_LABELS SQL_AUDIT_INDEXES

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
	/* Audit outcomes stored as codes. */
	[7] = { 8, SQL_AUDIT_CODES },
	/* The account actions done after the reply (issue 14: no timing tells an account). */
	[8] = { 9, SQL_DEFERRED_ACTIONS },
	/* The website chat's conversations, events and client ids. */
	[9] = { 10, SQL_CHAT_CONVERSATIONS },
	/* The chat widget: quick replies, a signed identity, an address proven in the chat. */
	[10] = { 11, SQL_CHAT_WIDGET },
	/* The console's accounts and failed logins; the purpose of a single-use token. */
	[11] = { 12, SQL_CONSOLE },
	/* The console's views read from indexes (bench-console). */
	[12] = { 13, SQL_CONSOLE_INDEXES },
	/* The console's pages: the client's address of an audit row. */
	[13] = { 14, SQL_AUDIT_ADDRESS },
	/* The intents correspondants mark on messages (dialogctl examples export). */
	[14] = { 15, SQL_MESSAGE_LABELS },
	/* A thread's audit rows by index on its console page. */
	[15] = { 16, SQL_AUDIT_INDEXES },
};

int
store_fail(struct store *st)
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
/* The kept statement of sql, free to use (marked busy), or NULL. Parsing and planning a
 * statement costs more than most of them take to run. */
static sqlite3_stmt *
kept_statement(struct store *st, const char *sql)
{
	for (unsigned i = 0; i < st->cached; i++) {
		struct store_cached *c = &st->cache[i];
		if (c->sql == sql && !c->busy && strcmp(sqlite3_sql(c->stmt), sql) == 0) {
			c->busy = true;
			return c->stmt;
		}
	}
	return NULL;
}

static sqlite3_stmt *
vprepare(struct store *st, const char *sql, bool keep, const char *types, va_list ap)
{
	sqlite3_stmt *stmt = keep ? kept_statement(st, sql) : NULL;
	if (stmt == NULL) {
		bool room = keep && st->cached < STORE_STATEMENTS_KEPT;
		if (sqlite3_prepare_v3(st->db, sql, -1, room ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, NULL) != SQLITE_OK) {
			store_fail(st);
			return NULL;
		}
		if (room)
			st->cache[st->cached++] = (struct store_cached){ .sql = sql, .stmt = stmt, .busy = true };
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
			store_fail(st);
			store_finish(st, stmt);
			return NULL;
		}
	}
	return stmt;
}

sqlite3_stmt *
store_prepare(struct store *st, const char *sql, const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	sqlite3_stmt *stmt = vprepare(st, sql, true, types, ap);
	va_end(ap);
	return stmt;
}

sqlite3_stmt *
store_prepare_built(struct store *st, const char *sql, const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	sqlite3_stmt *stmt = vprepare(st, sql, false, types, ap);
	va_end(ap);
	return stmt;
}

void
store_finish(struct store *st, sqlite3_stmt *stmt)
{
	for (unsigned i = 0; i < st->cached; i++) {
		if (st->cache[i].stmt == stmt) {
			sqlite3_reset(stmt);
			sqlite3_clear_bindings(stmt);
			st->cache[i].busy = false;
			return;
		}
	}
	sqlite3_finalize(stmt);
}

/* Runs a statement that returns no row. */
int
store_exec(struct store *st, const char *sql, const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	sqlite3_stmt *stmt = vprepare(st, sql, true, types, ap);
	va_end(ap);
	if (stmt == NULL)
		return -1;
	int rc = sqlite3_step(stmt);
	int failed = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : store_fail(st);
	store_finish(st, stmt);
	return failed;
}

/* Runs a statement returning one integer (0 when no row). */
int64_t
store_query_int(struct store *st, const char *sql, const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	sqlite3_stmt *stmt = vprepare(st, sql, true, types, ap);
	va_end(ap);
	if (stmt == NULL)
		return -1;
	int rc = sqlite3_step(stmt);
	int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		v = store_fail(st);
	store_finish(st, stmt);
	return v;
}

/* Calls row(stmt, user) for each row until it returns non-zero, then finalizes. */
int
store_each_row(struct store *st, sqlite3_stmt *stmt, int (*row)(sqlite3_stmt *stmt, void *user), void *user)
{
	if (stmt == NULL)
		return -1;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		if (row(stmt, user))
			break;
	int failed = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_fail(st);
	store_finish(st, stmt);
	return failed;
}

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
		int64_t version = store_query_int(st, "PRAGMA user_version", "");
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
		int rc = sqlite3_exec(st->db, set, NULL, NULL, NULL) == SQLITE_OK ? 0 : store_fail(st);
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
	int64_t version = store_query_int(st, "PRAGMA user_version", "");
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
	return (int)store_query_int(st, "PRAGMA user_version", "");
}

void
store_close(struct store **stp)
{
	struct store *st = *stp;
	if (st == NULL)
		return;
	for (unsigned i = 0; i < st->cached; i++)
		sqlite3_finalize(st->cache[i].stmt);
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
	return store_exec(st, "BEGIN IMMEDIATE", "");
}

int
store_relax_durability(struct store *st, bool relaxed)
{
	st->relaxed += relaxed ? 1 : -1;
	int rc = store_exec(st, st->relaxed > 0 ? "PRAGMA synchronous = NORMAL" : "PRAGMA synchronous = FULL", "");
	if (rc < 0)
		st->relaxed -= relaxed ? 1 : -1;  /* nothing changed */
	return rc;
}

int64_t
store_write_mark(struct store *st)
{
	return sqlite3_total_changes64(st->db);
}

int
store_sync(struct store *st, int64_t mark)
{
	if (mark <= st->synced_changes)
		return 0;  /* covered by a sync or a FULL commit since */
	/* The WAL's file, as SQLite holds it open (SQLITE_FCNTL_JOURNAL_POINTER, 3.21+), synced
	 * by its own VFS method: the same call a FULL commit ends with. A log not opened yet
	 * holds nothing to sync. */
	int64_t changes = sqlite3_total_changes64(st->db);
	sqlite3_file *wal = NULL;
	if (sqlite3_file_control(st->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) != SQLITE_OK) {
		free(st->error);
		st->error = xstrdup("cannot reach the write-ahead log");
		st->constraint = false;
		return -1;
	}
	int rc = wal == NULL || wal->pMethods == NULL ? SQLITE_OK : wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL);
	if (rc != SQLITE_OK) {
		free(st->error);
		st->error = xasprintf("syncing the write-ahead log: %s", sqlite3_errstr(rc));
		st->constraint = false;
		return -1;
	}
	st->synced_changes = changes;
	return 0;
}

int
store_commit(struct store *st)
{
	if (store_exec(st, "COMMIT", "") < 0)
		return -1;
	/* A FULL commit synced the log, and with it every relaxed commit before it. */
	if (st->relaxed == 0)
		st->synced_changes = sqlite3_total_changes64(st->db);
	return 0;
}

void
store_rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}
