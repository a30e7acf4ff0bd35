/* store — the single source of truth (SQLite in WAL mode, prepared statements only):
 * threads and their messages, the outbox, the mailbox reading state, the permanent
 * record of processed mail, per-sender events for rate limits, and the components'
 * status for `dialogctl status`. One struct store per thread (a connection is not shared).
 * Every function returns 0 (or a row id / count ≥ 0) on success and -1 on a database
 * error, with the message available from store_error(). Lower layer: never logs. */
#ifndef DIALOGD_STORE_H
#define DIALOGD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;

/* The schema version this build writes (SQLite's user_version). A table or column added
 * means a new step in store.c's schema_steps and this number raised by one. */
#define STORE_SCHEMA_VERSION 16

/* Opens the database at path: creates the schema of a new file, upgrades an older one to
 * STORE_SCHEMA_VERSION step by step (each in its own transaction), refuses a newer one
 * without modifying it. Returns NULL with *error_r. */
struct store *store_open(const char *path, char **error_r);
/* The schema version store_open upgraded the file from (0: it created a new store's
 * schema), or -1 when it ran no step: for the caller's log line. */
int store_schema_upgraded_from(const struct store *store);
/* The file's schema version now, -1 on error. */
int store_schema_version(struct store *store);
void store_close(struct store **store);

/* ---- teaching (store_labels.c) ---- */
/* A correspondant marks the intent a received message meant (audience: "entreprise",
 * "organisme" or NULL for none said); a second mark replaces the first. Returns 1, 0
 * when the message is not a received one, -1. */
int store_label_set(struct store *store, int64_t message_id, const char *intent, const char *audience,
		    const char *by, int64_t now);
/* Calls fn for each marked message, oldest mark first: its text as kept, the intent and
 * the audience (NULL: none). */
typedef int (*store_label_fn)(const char *text, const char *intent, const char *audience, void *user);
/* The id of the nth message the writer sent in the thread (1: the first; 0: the last),
 * 0 when there is none, -1. */
int64_t store_inbound_message_id(struct store *store, int64_t thread_id, int64_t nth);
int store_labels_each(struct store *store, store_label_fn fn, void *user);

/* ---- backups (store_backup.c) ---- */
/* Called between the steps of a copy: pages copied so far of total. */
typedef void (*store_progress_fn)(int done, int total, void *user);
/* A copy of the store in dest (a new file: refused when it exists), taken while dialogd
 * runs (SQLite's online backup, a few hundred pages at a time), checked, and renamed into
 * place only when whole. Returns 0, or -1 with *error_r. */
int store_backup(struct store *store, const char *dest, store_progress_fn progress, void *user, char **error_r);
/* Puts the backup back at path, page by page, after checking it is a whole store of a
 * schema this dialogd knows; refused while a dialogd holds path (store_hold). The next
 * store_open migrates an older one. Returns 0, or -1 with *error_r. */
int store_restore(const char *backup, const char *path, store_progress_fn progress, void *user, char **error_r);
/* A lock on the store file beside SQLite's (flock): dialogd holds a shared one while it
 * runs, a restore takes it exclusive. Returns the descriptor to close to let it go, or -1
 * with *error_r (held by another: "in use by a running dialogd"). */
int store_hold(const char *path, bool exclusive, char **error_r);
/* What the store holds, for an operator's line after a backup or a restore. */
struct store_totals {
	int64_t threads, messages, outbox, outbox_pending, processed;
};
int store_totals(struct store *store, struct store_totals *totals);

/* The last database error of this connection, for the caller's log line. */
const char *store_error(const struct store *store);
/* Whether that error was a constraint violation (a UNIQUE key already there). */
bool store_error_is_conflict(const struct store *store);

/* Transactions: BEGIN IMMEDIATE (a writer waits for the other, up to the busy timeout). */
/* How long a statement waits for another connection's lock before failing (10 s by
 * default). */
void store_set_busy_timeout(struct store *store, int milliseconds);
int store_begin(struct store *store);
int store_commit(struct store *store);
/* relaxed: the commits that follow wait for no fsync (synchronous = NORMAL: a power cut
 * may undo the last ones, a crash does not) until it is set back (FULL, the default);
 * calls nest (each true undone by a false). For work whose loss only means doing it
 * again: its request stays in a durable row. */
int store_relax_durability(struct store *store, bool relaxed);
/* Group commit: a mark of what this connection has written so far (its row changes,
 * committed or not: take it after the commit). store_sync makes every commit up to mark
 * durable: nothing to do when a sync or a FULL commit since covered it, else one fsync of
 * the write-ahead log (what a FULL commit ends with), which covers everything committed
 * so far. So relaxed commits can share one fsync, paid before anyone is told about
 * them. Returns 0, or -1 (store_error). */
int64_t store_write_mark(struct store *store);
int store_sync(struct store *store, int64_t mark);

/* The same off the caller's thread (store_syncer.c): a thread of its own fsyncs the
 * store's write-ahead log when asked and then calls wake(wake_arg) from that thread (it
 * must only hand over, e.g. lws_cancel_service). The caller keeps serving meanwhile; a
 * sync covers every request made before it started. The syncer also checkpoints the log
 * (PASSIVE, with its own connection): see store_syncer_watch.
 * Start, request, synced and stop: one owning thread; marks are that thread's
 * store_write_mark of its own connection, taken outside any transaction. */
struct store_syncer;
struct store_syncer *store_syncer_start(const char *path, void (*wake)(void *wake_arg), void *wake_arg,
					char **error_r);
/* Asks for the commits up to mark to be made durable: 1 when they are already, 0 when
 * asked (wake follows), -1 once a sync failed (store_syncer_synced tells why). */
int store_syncer_request(struct store_syncer *syncer, int64_t mark);
/* The sync done on the caller's thread, when no sync is running (so that a lone
 * request does not wait for two thread hand-overs): 1 done (or already on disk), 0 a sync
 * is running (ask with store_syncer_request instead), -1 it failed. */
int store_syncer_sync_now(struct store_syncer *syncer, int64_t mark);
/* The highest mark on disk; -1 once a sync failed, with *error_r (caller frees) when
 * error_r is not NULL. */
int64_t store_syncer_synced(struct store_syncer *syncer, char **error_r);
/* Stops the thread (a sync in progress ends first) and sets *syncer to NULL. */
void store_syncer_stop(struct store_syncer **syncer);
/* The syncer checkpoints for store's connection from now on: that connection's
 * commits no longer checkpoint the log themselves (SQLite's automatic checkpoint at
 * 1,000 pages, with its fsyncs on the committing thread) but tell the syncer, which does
 * it after its next sync. Called on store's thread; the syncer must outlive the store's
 * writes. */
void store_syncer_watch(struct store_syncer *syncer, struct store *store);
void store_rollback(struct store *store);

/* ---- mailbox reading state ---- */
/* *uidvalidity_r and *last_uid_r are 0 when the mailbox was never read. */
int store_mailbox_get(struct store *store, const char *mailbox, uint32_t *uidvalidity_r, uint32_t *last_uid_r);
int store_mailbox_set(struct store *store, const char *mailbox, uint32_t uidvalidity, uint32_t last_uid);

/* Permanent record of processed mail, per mailbox, by Message-ID or digest; outlives
 * purged threads. Returns 1 when key was processed, 0 when not, -1 on error. */
int store_processed_has(struct store *store, const char *mailbox, const char *key);
int store_processed_add(struct store *store, const char *mailbox, const char *key, int64_t thread_id);

/* "Message in progress": recorded (and committed) before a message is parsed, removed
 * with its processing. Returns how many earlier attempts were recorded (0 = first
 * attempt), -1 on error. A message whose earlier attempt never finished stopped the
 * process: the caller quarantines it. */
int store_attempt_begin(struct store *store, const char *mailbox, const char *key);
int store_attempt_end(struct store *store, const char *mailbox, const char *key);

/* ---- threads and messages ---- */
enum thread_state { THREAD_ANSWERED, THREAD_ESCALATED, THREAD_IGNORED, THREAD_OPEN };
const char *thread_state_name(enum thread_state state);
/* Returns the state for its name, or -1. */
int thread_state_from_name(const char *name);

/* Who answers a thread. The bot answers only the threads it owns; escalating hands one of
 * its threads to the correspondants' queue; a correspondant takes it from there (or from
 * the bot), and gives it back to the bot or resolves it. */
enum thread_owner {
	OWNER_BOT,
	OWNER_QUEUE,            /* escalated: waiting for a correspondant */
	OWNER_PERSON,           /* a correspondant holds it (owner_person) */
};
const char *thread_owner_name(enum thread_owner owner);

struct thread_row {
	int64_t id;
	char *channel;
	char *requester;
	char *subject;
	enum thread_state state;
	char *intent;
	char *reason;           /* why it is escalated or ignored; may be NULL */
	int64_t created, updated;
	int64_t messages;       /* number of messages in it */
	enum thread_owner owner;
	char *owner_person;     /* OWNER_PERSON: who holds it; NULL otherwise */
};
void thread_row_clear(struct thread_row *row);

/* Finds the thread holding one of the message ids (inbound or outbound). Returns its id,
 * 0 when none, -1 on error. */
int64_t store_thread_by_message_ids(struct store *store, const char *const *ids, size_t count);
int64_t store_thread_create(struct store *store, const char *channel, const char *requester,
			    const char *subject, enum thread_state state, const char *intent, const char *reason);
int store_thread_update(struct store *store, int64_t id, enum thread_state state, const char *intent,
			const char *reason);
/* A correspondant (person: their console login) takes the thread: from the queue, from
 * the bot, from themselves (no change), or from another correspondant only with
 * from_another. Returns 1 when they hold it, 0 when another holds it (or no such
 * thread), -1 on error. */
int store_thread_take(struct store *store, int64_t id, const char *person, bool from_another);
/* Gives the thread back to the bot (state open: its next message is answered), from the
 * queue or from person who holds it. 1 done, 0 refused (another holds it, or the bot
 * already does), -1. */
int store_thread_release(struct store *store, int64_t id, const char *person);
/* person, who holds the thread, closes it answered; the bot owns it again (a new question
 * in it is answered). 1 done, 0 refused (person does not hold it), -1. */
int store_thread_resolve(struct store *store, int64_t id, const char *person);
/* Returns 1 and fills *row, 0 when there is no such thread, -1 on error. */
int store_thread_get(struct store *store, int64_t id, struct thread_row *row);

struct message_row {
	int64_t thread_id;
	const char *direction;  /* "in" or "out" */
	const char *message_id; /* RFC 5322 id without <>, or NULL */
	const char *sender;
	const char *recipient;
	const char *subject;
	const char *body;
	const char *intent;     /* inbound: what the engine understood; NULL otherwise */
	double confidence;
	const char *decision;   /* inbound: "answered", "escalated", "ignored", "attached"... */
	const char *note;       /* why, notes of the parser, attachments: free text or NULL */
	const char *choices;    /* a chat line's quick replies, one label per line, or NULL */
};
int64_t store_message_add(struct store *store, const struct message_row *message);
/* 1 when a secret mail (reset link, one-time code) was sent in the thread, 0 when not, -1. */
int store_thread_has_secret(struct store *store, int64_t thread_id);
/* Completes message id, recorded first in its thread before what it caused: its body,
 * intent, confidence, decision and note from message (the other fields are kept). */
int store_message_complete(struct store *store, int64_t id, const struct message_row *message);

/* Calls fn for each thread, newest first; state NULL for every state. */
typedef int (*store_thread_fn)(const struct thread_row *row, void *user);
int store_threads_each(struct store *store, const char *state, store_thread_fn fn, void *user);
/* The correspondants' console's views of the threads: to handle (the queue: a person is
 * wanted, nobody holds it), the person's own, the assistant's (it answers them), all. */
enum console_view { VIEW_TO_HANDLE, VIEW_MINE, VIEW_ASSISTANT, VIEW_ALL };
struct console_filter {
	enum console_view view;
	const char *person;     /* VIEW_MINE: whose */
	const char *channel;    /* "mail", "chat", or NULL for both */
	const char *state;      /* a thread state's name, or NULL */
	const char *intent;     /* NULL: any */
	const char *search;     /* words all found in a message of the thread (subject or text,
				 * without accents or case), NULL: no search */
	int64_t limit, offset;  /* limit 0: 50 */
};
/* Calls fn for each thread of the view that passes the filter, newest activity first;
 * with a search, in the order of each thread's newest matching message. The search is
 * words, not a query language: anything typed is searched as words. */
int store_console_threads(struct store *store, const struct console_filter *filter, store_thread_fn fn, void *user);
/* How many threads each view holds (for person's own). */
struct console_counts {
	int64_t to_handle, mine, assistant, all;
};
int store_console_counts(struct store *store, const char *person, struct console_counts *counts);

/* Calls fn for each message of a thread, oldest first. Strings are borrowed for the call. */
typedef int (*store_message_fn)(const struct message_row *message, int64_t at, void *user);
int store_messages_each(struct store *store, int64_t thread_id, store_message_fn fn, void *user);

/* ---- outbox ---- */
enum outbox_kind {
	OUTBOX_REPLY, OUTBOX_ACK, OUTBOX_NOTIFY,
	OUTBOX_ACTION,          /* an account action's mail to the address on file */
	OUTBOX_SECRET,          /* the same, carrying a reset link or a one-time code: its raw
				 * text is emptied once sent or failed, the thread keeps a redacted copy */
	OUTBOX_PERSON,          /* a correspondant's answer: not automatic, counted in no limit */
};
const char *outbox_kind_name(enum outbox_kind kind);

/* Where an outbox entry stands; the store keeps the names. */
enum outbox_state {
	OUTBOX_PENDING,         /* to send, at next_attempt */
	OUTBOX_SENT,            /* accepted by the SMTP server */
	OUTBOX_FAILED,          /* given up: the correspondants were told */
};
const char *outbox_state_name(enum outbox_state state);
/* The state called name, or -1 when dialogd has none by that name. */
int outbox_state_from_name(const char *name);

struct outbox_row {
	int64_t id;
	int64_t thread_id;
	/* A kind or a state the store holds under a name this dialogd does not know (only
	 * a hand edit can write one) reads as the most careful: a secret, failed. */
	enum outbox_kind kind;
	char *message_id;       /* kept for life: a resend is the same mail */
	char *mail_from;        /* envelope sender */
	char *recipient;        /* envelope recipient */
	char *raw;              /* the whole message, CRLF */
	enum outbox_state state;
	int attempts;
	int permanent_failures;
	int64_t next_attempt;
	int64_t created;
	int64_t sent_at;
	char *last_error;
};
void outbox_row_clear(struct outbox_row *row);

/* Queues a mail to send now. Returns its id or -1. */
int64_t store_outbox_add(struct store *store, int64_t thread_id, enum outbox_kind kind, const char *message_id,
			 const char *mail_from, const char *recipient, const char *raw);
/* The same, not sent before not_before (seconds since the epoch; in the past or 0: now):
 * store_outbox_next hands out every entry due earlier first. */
int64_t store_outbox_add_at(struct store *store, int64_t thread_id, enum outbox_kind kind, const char *message_id,
			    const char *mail_from, const char *recipient, const char *raw, int64_t not_before);
/* The pending entry due first at or before now. Returns 1 with *row, 0 when none is due
 * (then *next_due_r is the earliest future due time, or 0), -1 on error. */
int store_outbox_next(struct store *store, int64_t now, struct outbox_row *row, int64_t *next_due_r);
int store_outbox_sent(struct store *store, int64_t id, int64_t now);
/* A failed attempt: permanent or not, retry at next_attempt. */
int store_outbox_retry(struct store *store, int64_t id, bool permanent, int64_t next_attempt, const char *error);
int store_outbox_failed(struct store *store, int64_t id, const char *error);
/* After a secret mail's text was emptied: the write-ahead log still holds the frames
 * written before, with the secret in them. Copies the log into the database and
 * truncates it to zero bytes (every connection runs with secure_delete, so the database
 * pages keep no copy either). Outside a transaction. Returns 1 when done, 0 when readers
 * or a writer kept it from finishing within the busy timeout (call again later), -1 on
 * error. */
int store_forget_wal(struct store *store);
typedef int (*store_outbox_fn)(const struct outbox_row *row, void *user);
/* Every entry, newest first; state NULL for all. raw is not loaded (NULL). */
int store_outbox_each(struct store *store, const enum outbox_state *state, store_outbox_fn fn, void *user);
/* Counts entries in state. */
int64_t store_outbox_count(struct store *store, enum outbox_state state);

/* ---- per-sender events: automatic replies sent, bounces ---- */
/* Automatic replies (reply and ack entries) queued to address at or after since; a
 * "+tag" in the local part is folded ("a+x@d" and "a+y@d" count as a@d). */
int64_t store_auto_replies_since(struct store *store, const char *address, int64_t since);
/* The same to any address of domain. */
int64_t store_auto_replies_to_domain_since(struct store *store, const char *domain, int64_t since);
/* Entries of one kind queued at or after since, to anyone. */
int64_t store_outbox_kind_since(struct store *store, enum outbox_kind kind, int64_t since);

/* ---- correspondants' notifications held for the digest ---- */
struct deferred_notice {
	int64_t id;
	int64_t thread_id;
	const char *reason;     /* as the correspondants read it */
	int64_t at;
	const char *requester;  /* the thread's, "" when it was purged meanwhile */
	const char *subject;
};
/* Holds a notification about thread_id for the next digest. */
int store_notice_defer(struct store *store, int64_t thread_id, const char *reason, int64_t at);
/* When the oldest held notification was held (0: none). */
int64_t store_notices_deferred_oldest(struct store *store);
/* When the last digest was queued (0: never). A digest is a notify entry of no thread. */
int64_t store_last_digest(struct store *store);
/* Every held notification, oldest first; fn returns non-zero to stop. Borrowed strings. */
typedef int (*store_deferred_fn)(const struct deferred_notice *notice, void *user);
int store_notices_deferred_each(struct store *store, store_deferred_fn fn, void *user);
/* Forgets the held notifications up to up_to_id (those a digest has just carried). */
int store_notices_deferred_clear(struct store *store, int64_t up_to_id);
/* Whether our mail message_id ("<...>") went to address: 1 yes, 0 no, -1 on error. */
int store_outbox_sent_as(struct store *store, const char *message_id, const char *address);
int store_bounce_add(struct store *store, const char *address, int64_t at);
/* Notifications queued for a thread at or after since. */
int64_t store_notices_since(struct store *store, int64_t thread_id, int64_t since);
/* When the correspondants were last notified about one of a requester's threads (0: never). */
int64_t store_last_notify_for(struct store *store, const char *requester);
/* Latest bounce recorded for address, 0 when none. */
int64_t store_last_bounce(struct store *store, const char *address);

/* ---- status of the components, for `dialogctl status` ---- */
int store_status_set(struct store *store, const char *component, const char *state, const char *detail);
typedef int (*store_status_fn)(const char *component, const char *state, const char *detail, int64_t since,
			       int64_t updated, void *user);
int store_status_each(struct store *store, store_status_fn fn, void *user);
/* Threads per state, for the status summary: fn(state name, count). */
int store_thread_counts(struct store *store, int (*fn)(const char *state, int64_t count, void *user), void *user);

/* ---- audit and retention ---- */
struct audit_row {
	int64_t at;
	const char *channel, *requester, *action, *subject, *outcome;
	const char *address;    /* the client's address (the console's rows), or NULL */
};
/* Records an account action (never a token, code or password in any field), with the
 * connection's audit address. */
int store_audit_add(struct store *store, const char *channel, const char *requester, const char *action,
		    const char *subject, const char *outcome);
/* The client's address the following audit rows of this connection record (the console
 * sets it for each request it serves, so that the conversation layer's rows carry it
 * too), NULL for none. Borrowed: it must outlive the rows written until it is set again. */
void store_set_audit_address(struct store *store, const char *address);
typedef int (*store_audit_fn)(const struct audit_row *row, void *user);
/* Newest first. */
int store_audit_each(struct store *store, store_audit_fn fn, void *user);
/* The rows about subject (exactly) or by requester (without case; NULL: none), newest
 * first, at most limit of them: a thread's own rows and its writer's account actions. */
int store_audit_each_about(struct store *store, const char *subject, const char *requester, int64_t limit,
			   store_audit_fn fn, void *user);

struct purge_counts {
	int64_t threads, messages, outbox, audit;
};
/* Removes, in one transaction, the threads last active before `before` (with their
 * messages and sent or failed mail; a thread with mail still to send stays), and the
 * audit rows, bounce records and expired reset tokens older than that. Processed-mail
 * keys stay for good. */
int store_purge(struct store *store, int64_t before, struct purge_counts *counts);

/* ---- single-use tokens (hashes only): password reset links, console invitations ----
 * purpose names the page a token opens ("password_reset", "console_invitation"): a token
 * is found only for its own purpose. */
/* Stores a new token hash for identifier, revoking its earlier unused tokens of the same
 * purpose, atomically (a savepoint, so it may run inside the caller's transaction). */
int store_reset_token_put(struct store *store, const char *purpose, const char *identifier, const char *token_hash,
			  int64_t now, int64_t expires);
/* Burns the token with that hash when it is unused, not revoked and not expired at now:
 * 1 with *identifier_r (caller frees), 0 when not, -1 on error. */
int store_reset_token_burn(struct store *store, const char *purpose, const char *token_hash, int64_t now,
			   char **identifier_r);
/* The same test without burning (a page showing the form, which a mail scanner may fetch):
 * 1 with *identifier_r (caller frees), 0 when the token is not usable at now, -1 on error. */
int store_reset_token_find(struct store *store, const char *purpose, const char *token_hash, int64_t now,
			   char **identifier_r);

/* ---- directory (embedded backend) ---- */
struct company_row {
	const char *siret, *name, *kind, *correspondant_email;  /* kind: entreprise or organisme */
};
struct account_row {
	const char *identifier, *email, *kind, *siret, *state;  /* state: active or pending */
};
struct dossier_row {
	const char *number, *type, *state, *siret, *training_org_siret, *deca_number, *start_date;
	int64_t amount_cents;   /* -1: unknown */
};
/* Inserts or updates (by key). An account line adds a link to its structure. */
int store_company_put(struct store *store, const struct company_row *company);
int store_account_put(struct store *store, const struct account_row *account);
int store_dossier_put(struct store *store, const struct dossier_row *dossier);
/* Removes every structure link of an account (an import then adds the file's). */
int store_account_unlink(struct store *store, const char *identifier);
/* 1 when the SIRET is a known structure, 0 when not, -1 on error. */
int store_company_exists(struct store *store, const char *siret);
/* Audit rows of action about subject (case-insensitive) with exactly that outcome (NULL:
 * any), at or after since. */
int64_t store_audit_count_subject(struct store *store, const char *action, const char *subject, const char *outcome,
				  int64_t since);
/* Audit rows of action by requester at or after since. */
int64_t store_audit_count(struct store *store, const char *requester, const char *action, int64_t since);
struct dossier_info {
	char *type, *state, *deca_number;  /* deca_number may be NULL */
};
/* Returns 1 and fills *info, 0 when there is no such dossier, -1 on error. */
int store_dossier_get(struct store *store, const char *number, struct dossier_info *info);
void dossier_info_clear(struct dossier_info *info);
/* 1 when email is on file for an active account acting for the dossier's company or
 * training organisation, 0 when not, -1 on error. */
int store_dossier_linked(struct store *store, const char *number, const char *email);
/* The e-mails on file of those accounts (caller frees with str_array_free). */
int store_dossier_emails(struct store *store, const char *number, char ***emails_r, size_t *count_r);
/* Accounts whose `by` ("email", "siret" — acting for that structure — or "identifier")
 * is value (case-insensitive for e-mails and identifiers), ordered by identifier. fn gets
 * each account with its structures as "SIRET\tname" lines ("" when none). */
typedef int (*store_account_fn)(const struct account_row *account, const char *structures, void *user);
int store_accounts_find(struct store *store, const char *by, const char *value, store_account_fn fn, void *user);
/* The whole dossier row: 1 after fn (amount_cents -1 when unknown), 0 when none, -1. */
typedef int (*store_dossier_fn)(const struct dossier_row *dossier, void *user);
int store_dossier_find(struct store *store, const char *number, store_dossier_fn fn, void *user);
/* Records an account's new password hash (argon2id string form). 1 when the account
 * exists, 0 when not, -1 on error. */
int store_password_set(struct store *store, const char *identifier, const char *hash, int64_t now);
/* The stored password hash of an account (caller frees), NULL when none (or on error:
 * then store_error says so). */
char *store_password_get(struct store *store, const char *identifier);
/* Rows in "companies", "accounts" or "dossiers". */
int64_t store_directory_count(struct store *store, const char *table);

/* ---- chat: the account action a conversation is in (one per chat thread) ---- */
struct chat_action {
	int64_t thread_id;
	char *action;           /* identifier_reminder, password_reset, dossier_status */
	char *step;             /* what the assistant asked for: contact, account, number, email, code */
	char *subject;          /* the dossier number, once known */
	char *email;            /* the address the visitor gave */
	char *code_hash;        /* a one-time code's salted hash (never the code) */
	int64_t expires;        /* the step is forgotten after this */
	int attempts;           /* wrong codes so far */
};
void chat_action_clear(struct chat_action *action);
/* 1 with *action, 0 when the conversation is in none, -1. */
int store_chat_action_get(struct store *store, int64_t thread_id, struct chat_action *action);
int store_chat_action_put(struct store *store, const struct chat_action *action);
int store_chat_action_delete(struct store *store, int64_t thread_id);

/* An account action left by a turn for after its reply. */
struct deferred_action {
	int64_t id;
	int64_t thread_id;      /* the request's thread */
	char *channel;          /* "mail" or "chat" */
	char *requester;        /* the audit's requester and the per-requester limits */
	char *action;           /* identifier_reminder, password_reset, one_time_code */
	char *by;               /* email, identifier, siret; for one_time_code the dossier */
	char *value;            /* the address, identifier or SIRET asked for */
	int64_t created;
};
void deferred_action_clear(struct deferred_action *action);
/* Returns the new row's id, or -1. */
int64_t store_deferred_add(struct store *store, const struct deferred_action *action);
/* How many are pending (a read outside any transaction), or -1. */
int64_t store_deferred_count(struct store *store);
/* The replies and acknowledgements not sent yet in the threads of pending ones, or -1. */
int64_t store_deferred_replies_pending(struct store *store);
/* The oldest: 1 with *action, 0 when there is none, -1. */
int store_deferred_next(struct store *store, struct deferred_action *action);
int store_deferred_delete(struct store *store, int64_t id);

/* ---- one-time codes ---- */
/* Records a wrong one-time code (never the code) typed at now by visitor for email;
 * code_sent: whether a code had been sent to email in that request. Rows older than a
 * day are removed at the same time. */
int store_wrong_code_add(struct store *store, const char *visitor, const char *email, bool code_sent, int64_t now);
struct wrong_code_counts {
	int64_t by_visitor;     /* typed by the visitor, whatever the address */
	int64_t for_address;    /* for the address, against codes sent to it */
	int64_t everyone;       /* by all visitors */
};
/* Wrong codes at or after since (visitors and addresses compared without case). */
int store_wrong_codes_count(struct store *store, const char *visitor, const char *email, int64_t since,
			    struct wrong_code_counts *counts_r);
/* When the newest audit row of action at or after since was written, 0 when there is none. */
int64_t store_audit_latest(struct store *store, const char *action, int64_t since);

/* ---- the website chat (store_chat.c): conversations, their events, client ids ----
 * Called by the web thread's chat (daemon/chat/chat_ws.c) on its own connection; a
 * correspondant's reply reaches a conversation through its thread's messages, which
 * store_chat_sync copies into events. */
struct chat_conversation_row {
	int64_t id;
	int64_t thread_id;      /* 0 before the first message */
	int64_t last_seq;       /* the newest event's number (0: none) */
	int64_t expires;
};
/* A new conversation of visitor, known by token_hash, until expires. Returns its id. */
int64_t store_chat_open(struct store *store, const char *token_hash, const char *visitor, int64_t now, int64_t expires);
/* The conversation whose token has that hash, not ended and not expired at now: 1 with
 * *row, 0 when none, -1. */
int store_chat_find(struct store *store, const char *token_hash, int64_t now, struct chat_conversation_row *row);
/* The conversation by its id, whatever its state: 1 with *row, 0 when none, -1. */
int store_chat_get(struct store *store, int64_t conversation_id, struct chat_conversation_row *row);
/* Its expiry moved to expires (the session lives [chat] session_ttl after its last use). */
int store_chat_touch(struct store *store, int64_t conversation_id, int64_t expires);
int store_chat_set_thread(struct store *store, int64_t conversation_id, int64_t thread_id);
/* The visitor ends it: the token is forgotten (never found again), the events stay with
 * the thread until it is purged. */
int store_chat_end(struct store *store, int64_t conversation_id, int64_t now);
/* A signed identity token (its id's hash) presented for the conversation, valid until
 * expires: 1 when it may be used (new, or used for this very conversation before), 0
 * when another conversation used it (a replay), -1. Tokens expired at now are forgotten
 * at the same time. Call inside a transaction. */
int store_chat_identity_use(struct store *store, int64_t conversation_id, const char *token_hash, int64_t expires,
			    int64_t now);
/* The account a token proved the visitor to be (kept for the conversation's life). */
int store_chat_set_account(struct store *store, int64_t conversation_id, const char *account);
/* That account (caller frees), NULL when none (*failed_r: because the store failed). */
char *store_chat_account(struct store *store, int64_t conversation_id, bool *failed_r);
/* The address the visitor of the chat thread thread_id proved with a code (answers: a
 * correspondant's answers also go to it by mail; once asked, kept). */
int store_chat_thread_set_email(struct store *store, int64_t thread_id, const char *email, bool answers);
/* That address (caller frees; NULL when none, *failed_r when the store failed) and
 * whether answers go to it (answers_r may be NULL). */
char *store_chat_thread_email(struct store *store, int64_t thread_id, bool *answers_r, bool *failed_r);
/* What the visitor has shown (a number above last_seq is the caller's to refuse). */
int store_chat_acked(struct store *store, int64_t conversation_id, int64_t seq);
/* A visitor's message by its client id. Records it (with mark, the thread's newest
 * message id before its turn) and returns 1 when it is new; returns 0 when it was
 * recorded before, with *done_r (its turn and events are written) and *mark_r; -1. */
int store_chat_input(struct store *store, int64_t conversation_id, const char *client_id, int64_t mark, int64_t now,
		     bool *done_r, int64_t *mark_r);
int store_chat_input_done(struct store *store, int64_t conversation_id, const char *client_id);
/* The newest message id of a thread (0: none), -1. */
int64_t store_chat_thread_mark(struct store *store, int64_t thread_id);
/* 1 when the thread has a visitor's message newer than mark (the turn of an input with
 * that mark ran), 0 when not, -1. */
int store_chat_turn_ran(struct store *store, int64_t thread_id, int64_t mark);
/* Appends one event (kind "message", "handoff", "state"; sender "bot", "person",
 * "visitor" for a message; body its text, or the state's name; choices its quick
 * replies, one per line, or NULL). Returns its number. Call inside a transaction. */
int64_t store_chat_event_add(struct store *store, int64_t conversation_id, const char *kind, const char *sender,
			     const char *body, const char *choices, int64_t now);
/* Copies into events what the conversation's thread got since the last call: each
 * message the visitor sees (the visitor's own as kept, the bot's replies, a
 * correspondant's), then a change of who answers (to the queue: "handoff"; to a person
 * or back to the bot: "state"). Returns how many events were added. Call inside a
 * transaction. */
int store_chat_sync(struct store *store, int64_t conversation_id, int64_t now);
/* 1 when the conversation has a bot's message event numbered after after_seq, 0 when
 * not, -1 (a turn the thread kept no reply of, a correspondant holding it, still gets
 * its reply as an event). */
int store_chat_has_bot_reply(struct store *store, int64_t conversation_id, int64_t after_seq);
/* A cheap test for store_chat_sync, outside a transaction: 1 when the thread has a
 * message past what was copied or another owner than the one seen, 0 when not, -1. */
int store_chat_changed(struct store *store, int64_t conversation_id);
/* Whether another connection wrote to the store since the last call (SQLite's
 * data_version): 1 yes (or the first call), 0 no, -1. */
int store_chat_data_changed(struct store *store, int64_t *version);
struct chat_event_row {
	int64_t seq;
	const char *kind, *sender, *body;       /* borrowed for the call */
	const char *choices;                    /* quick replies, one per line, or NULL */
	int64_t at;
};
/* Calls fn for each event numbered after after_seq, in order, until it returns non-zero. */
typedef int (*store_chat_event_fn)(const struct chat_event_row *event, void *user);
int store_chat_events_after(struct store *store, int64_t conversation_id, int64_t after_seq, store_chat_event_fn fn,
			    void *user);

/* ---- the correspondants' console (store_console.c): its accounts, failed logins ---- */
struct correspondant_row {
	int64_t id;
	char *email, *name;
	char *role;             /* "correspondant" or "admin" */
	char *password_hash;    /* argon2id (libsodium's string form), NULL until one is chosen */
	char *totp_secret;      /* the second factor's secret (base32), NULL: none */
	bool disabled;
	int64_t created, updated;
};
void correspondant_row_clear(struct correspondant_row *row);
/* A new account (no password, no second factor). Returns its id, or -1 (st's
 * constraint flag set when the address has one already, whatever its case). */
int64_t store_correspondant_add(struct store *store, const char *email, const char *name, const char *role, int64_t now);
/* The account of email (compared without case): 1 with *row (clear it), 0 when none, -1. */
int store_correspondant_get(struct store *store, const char *email, struct correspondant_row *row);
/* The account of id: 1 with *row (clear it), 0 when none, -1. */
int store_correspondant_get_by_id(struct store *store, int64_t id, struct correspondant_row *row);
/* Calls fn for each account, by address. Strings are borrowed for the call. */
typedef int (*store_correspondant_fn)(const struct correspondant_row *row, void *user);
int store_correspondants_each(struct store *store, store_correspondant_fn fn, void *user);
/* The account's password hash, second factor secret (NULL: none) and state. Return 1
 * when the account exists, 0 when not, -1. */
int store_correspondant_set_password(struct store *store, int64_t id, const char *hash, int64_t now);
int store_correspondant_set_totp(struct store *store, int64_t id, const char *secret, int64_t now);
int store_correspondant_set_disabled(struct store *store, int64_t id, bool disabled, int64_t now);
/* A session of correspondant id, known by the hashes of its cookie token and CSRF token. */
int store_console_session_add(struct store *store, const char *token_hash, int64_t correspondant_id,
			      const char *csrf_hash, const char *address, int64_t now);
/* The session of token_hash with its account, if the account is not disabled, the
 * session was used at or after idle_since and created at or after created_since: 1 (its
 * last use set to now), 0 when not (an expired one is removed), -1. */
struct console_session_row {
	int64_t correspondant_id;
	char *csrf_hash;
	struct correspondant_row account;
};
void console_session_row_clear(struct console_session_row *row);
int store_console_session_use(struct store *store, const char *token_hash, int64_t idle_since, int64_t created_since,
			      int64_t now, struct console_session_row *row);
/* Removes one session (sign-out), or every session of an account (sign-out everywhere,
 * a disabled account). Returns how many, or -1. */
int store_console_session_delete(struct store *store, const char *token_hash);
int store_console_sessions_delete_all(struct store *store, int64_t correspondant_id);
/* A failed login from address for email at now (rows older than a day go at the same time). */
int store_login_failure_add(struct store *store, const char *address, const char *email, int64_t now);
/* Failed logins at or after since from address (NULL: any) for email (NULL: any), -1. */
int64_t store_login_failures_since(struct store *store, const char *address, const char *email, int64_t since);

#endif
