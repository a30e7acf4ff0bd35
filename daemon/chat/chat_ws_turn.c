/* chat_ws_turn — what each client frame does to the conversation (see chat_ws.h). A
 * visitor's message is answered exactly once, whatever the network or a crash does:
 *   1. one transaction records its client id (UNIQUE per conversation) with the thread's
 *      newest message id (its mark), creating the thread with the first message;
 *   2. chat_session_turn runs the turn (its own transaction: the engine, the account
 *      actions, the hand-over);
 *   3. one transaction copies what the turn wrote into numbered events and marks the
 *      client id done; then the ack and the events are sent.
 * A client id seen again once done is only acknowledged; one whose step 3 never ran (a
 * crash) runs its turn again only if the thread holds no visitor's message past its
 * mark. A correspondant's reply, written in the thread by another process, is copied
 * the same way by the poll. */
#include "autoconf.h"
#include "chat/chat_ws_internal.h"
#include "chat/chat_session.h"
#include "core/log.h"
#include "core/text.h"
#include "core/util.h"
#include "directory/request_fields.h"
#include "engine/engine.h"
#include "store/store.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A thread's subject: its first line, at most this many bytes. */
#define SUBJECT_MAX 80

static int64_t
now_seconds(void)
{
	return (int64_t)time(NULL);
}

/* A store failure: logged, rolled back, and the visitor told (the frame is not
 * acknowledged: the widget sends it again). */
static void
store_failed(struct chat_conn *c, const char *what)
{
	log_error("chat: %s: store: %s", what, store_error(c->ws->store));
	store_rollback(c->ws->store);
	chat_ws_error(c, "store_failed", "chat_store_failed");
}

static int
queue_event(const struct chat_event_row *e, void *user)
{
	struct chat_conn *c = user;
	bool message = strcmp(e->kind, "message") == 0;
	struct chat_event ev = {
		.seq = e->seq, .kind = e->kind, .from = message ? e->sender : NULL, .text = message ? e->body : NULL,
		.state = message ? NULL : e->body, .quick_replies = message ? e->choices : NULL,
	};
	chat_ws_queue(c, chat_event_json(&ev));
	c->sent_seq = e->seq;
	return 0;
}

void
chat_ws_deliver(struct chat_ws *ws, int64_t conversation)
{
	for (struct chat_conn *c = chat_ws_bucket(ws, conversation); c != NULL; c = c->conv_next)
		if (c->conversation == conversation && c->close_code == 0 &&
		    store_chat_events_after(ws->store, conversation, c->sent_seq, queue_event, c) < 0)
			log_error("chat: conversation %lld: reading its events: %s", (long long)conversation,
				  store_error(ws->store));
}

/* Copies what the thread got into events, in a transaction of its own. */
static int
sync_conversation(struct chat_ws *ws, int64_t conversation)
{
	struct store *st = ws->store;
	if (store_begin(st) < 0 || store_chat_sync(st, conversation, now_seconds()) < 0 || store_commit(st) < 0) {
		store_rollback(st);
		return -1;
	}
	return 0;
}

void
chat_ws_poll_store(struct chat_ws *ws)
{
	if (ws->conns == NULL)
		return;
	/* Nothing written by anyone else since the last tick: one query, and done. */
	int changed = store_chat_data_changed(ws->store, &ws->data_version);
	if (changed < 0)
		log_error("chat: polling the store: %s", store_error(ws->store));
	if (changed <= 0)
		return;
	for (struct chat_conn *c = ws->conns; c != NULL; c = c->next) {
		if (c->conversation == 0 || c->close_code != 0 || store_chat_changed(ws->store, c->conversation) != 1)
			continue;
		if (sync_conversation(ws, c->conversation) < 0)
			log_error("chat: conversation %lld: copying its thread: %s", (long long)c->conversation,
				  store_error(ws->store));
		else
			chat_ws_deliver(ws, c->conversation);
	}
}

/* ---- hello ---- */

/* The hash a session is stored under (hex BLAKE2b-256 of the token). */
static void
token_hash(const char *token, char hash[65])
{
	unsigned char h[32];
	crypto_generichash(h, sizeof(h), (const unsigned char *)token, strlen(token), NULL, 0);
	sodium_bin2hex(hash, 65, h, sizeof(h));
}

static void
token_new(char token[CHAT_TOKEN_LEN + 1])
{
	unsigned char raw[32];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(token, CHAT_TOKEN_LEN + 1, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

/* The session the token names, or a new one (token then rewritten): 1 resumed, 0 new, -1. */
static int
session_open(struct chat_conn *c, char token[CHAT_TOKEN_LEN + 1], struct chat_conversation_row *row, int64_t now)
{
	struct store *st = c->ws->store;
	char hash[65];
	int found = 0;
	if (token[0] != '\0') {
		token_hash(token, hash);
		found = store_chat_find(st, hash, now, row);
	}
	if (found != 0)
		return found;
	token_new(token);
	token_hash(token, hash);
	memset(row, 0, sizeof(*row));
	row->id = store_chat_open(st, hash, c->peer, now, now + (int64_t)c->ws->s.session_ttl);
	return row->id < 0 ? -1 : 0;
}

/* The identity token of a hello, checked (chat_identity.h) and bound to the
 * conversation: its account is the conversation's from then on. Returns 1 when it
 * proved an account, 0 when refused (logged: the visitor goes on unidentified), -1
 * (store). Inside the hello's transaction. */
static int
identify(struct chat_conn *c, int64_t conversation, const char *token, int64_t now)
{
	struct chat_ws *ws = c->ws;
	if (ws->identity_secret == NULL) {
		log_warning("chat: %s: an identity token was sent but [chat] identity_secret is not set: ignored", c->peer);
		return 0;
	}
	struct chat_identity id;
	enum chat_identity_verdict v = chat_identity_verify(ws->identity_secret, ws->identity_secret_len, token, now,
							    (int64_t)ws->s.identity_max_ttl, &id);
	if (v != CHAT_IDENTITY_OK) {
		log_warning("chat: %s: identity token refused: %s", c->peer, chat_identity_verdict_text(v));
		return 0;
	}
	char hash[65];
	token_hash(id.token_id, hash);
	int usable = store_chat_identity_use(ws->store, conversation, hash, id.expires, now);
	if (usable == 0)
		log_warning("chat: %s: identity token refused: replayed (its jti was used by another conversation)", c->peer);
	if (usable == 1 && store_chat_set_account(ws->store, conversation, id.subject) < 0)
		usable = -1;
	chat_identity_clear(&id);
	return usable;
}

/* The conversation's account (bound by an earlier hello, or now) for this socket. */
static int
load_account(struct chat_conn *c)
{
	bool failed = false;
	free(c->account);
	c->account = store_chat_account(c->ws->store, c->conversation, &failed);
	if (c->session != NULL)
		chat_session_set_account(c->session, c->account);
	return failed ? -1 : 0;
}

static void
on_hello(struct chat_conn *c, const struct chat_frame *f)
{
	struct chat_ws *ws = c->ws;
	struct store *st = ws->store;
	int64_t now = now_seconds();
	char token[CHAT_TOKEN_LEN + 1] = "";
	if (f->session != NULL)
		memcpy(token, f->session, CHAT_TOKEN_LEN + 1);
	struct chat_conversation_row row;
	int resumed = -1, identified = 0;
	if (store_begin(st) == 0 && (resumed = session_open(c, token, &row, now)) >= 0 &&
	    (f->identity == NULL || (identified = identify(c, row.id, f->identity, now)) >= 0) &&
	    store_chat_touch(st, row.id, now + (int64_t)ws->s.session_ttl) == 0 &&
	    store_chat_sync(st, row.id, now) >= 0 && store_chat_get(st, row.id, &row) == 1 && store_commit(st) == 0) {
		chat_ws_set_conversation(c, row.id);
		c->thread_id = row.thread_id;
		if (load_account(c) < 0)
			log_error("chat: conversation %lld: reading its account: %s", (long long)row.id, store_error(st));
		/* A new session has nothing the client could have; a resumed one replays what
		 * comes after what the client says it has. */
		c->sent_seq = resumed == 1 && f->last_seq < row.last_seq ? f->last_seq : resumed == 1 ? row.last_seq : 0;
		chat_ws_queue(c, chat_welcome_json(token, resumed == 1, row.last_seq, c->account != NULL));
		if (f->identity != NULL && identified == 0)
			chat_ws_error(c, "identity_refused", NULL);
		chat_ws_deliver(ws, c->conversation);
	} else {
		store_failed(c, "hello");
	}
	sodium_memzero(token, sizeof(token));
}

/* ---- a visitor's message ---- */

/* The conversation's thread, created with its first message (inside the caller's
 * transaction): its subject is the first line, scrubbed as the thread's messages are. */
static int64_t
ensure_thread(struct chat_conn *c, const struct chat_conversation_row *row, const char *text)
{
	if (row->thread_id != 0)
		return row->thread_id;
	struct chat_ws *ws = c->ws;
	char *line = text_first_line(text, SUBJECT_MAX);
	pthread_rwlock_rdlock(&ws->s.engine->lock);
	char *subject = field_scrub_secrets(ws->s.engine->engine->templates, line, true);
	pthread_rwlock_unlock(&ws->s.engine->lock);
	free(line);
	int64_t id = store_thread_create(ws->store, "chat", c->peer, subject, THREAD_OPEN, NULL, NULL);
	free(subject);
	if (id < 0 || store_chat_set_thread(ws->store, row->id, id) < 0)
		return -1;
	return id;
}

/* The conversation is no longer in the store (purged with its thread by `dialogctl
 * purge`, or ended from another tab meanwhile): the client is told and the socket closed;
 * a new hello starts another. */
static void
conversation_gone(struct chat_conn *c)
{
	store_rollback(c->ws->store);
	chat_ws_set_conversation(c, 0);
	chat_ws_error(c, "ended", NULL);
	chat_ws_close_after(c, LWS_CLOSE_STATUS_NORMAL);
}

/* Step 1: the client id recorded. Returns 1 when the turn is to run, 0 when it ran
 * already (*done_r: its events are written too), -2 when the conversation is gone, -1
 * (rolled back). */
static int
input_begin(struct chat_conn *c, const struct chat_frame *f, int64_t *before_seq_r, bool *done_r)
{
	struct chat_ws *ws = c->ws;
	struct store *st = ws->store;
	int64_t now = now_seconds(), mark = 0, thread = -1;
	struct chat_conversation_row row;
	int fresh = -1, got = 0;
	if (store_begin(st) == 0 && (got = store_chat_get(st, c->conversation, &row)) == 0)
		return -2;
	char *request = f->text == NULL ? chat_ws_text(ws, "chat_transcript_request") : NULL;
	thread = got == 1 ? ensure_thread(c, &row, f->text ? f->text : request) : -1;
	free(request);
	if (got != 1 || thread < 0 || (mark = store_chat_thread_mark(st, thread)) < 0 ||
	    (fresh = store_chat_input(st, c->conversation, f->id, mark, now, done_r, &mark)) < 0 ||
	    store_chat_touch(st, c->conversation, now + (int64_t)ws->s.session_ttl) < 0 || store_commit(st) < 0) {
		store_rollback(st);
		return -1;
	}
	c->thread_id = thread;
	*before_seq_r = row.last_seq;
	if (fresh == 1 || *done_r)
		return fresh;
	/* Recorded before, its events never written: did its turn run before the crash? */
	int ran = store_chat_turn_ran(st, thread, mark);
	return ran < 0 ? -1 : !ran;
}

/* Step 3: what the turn wrote, as events (and its reply when the thread kept none). */
static int
input_end(struct chat_conn *c, const char *client_id, const char *reply, int64_t before_seq)
{
	struct store *st = c->ws->store;
	int64_t now = now_seconds();
	int has = 0;
	if (store_begin(st) < 0 || store_chat_sync(st, c->conversation, now) < 0 ||
	    (reply != NULL && (has = store_chat_has_bot_reply(st, c->conversation, before_seq)) < 0) ||
	    (reply != NULL && has == 0 && store_chat_event_add(st, c->conversation, "message", "bot", reply, NULL, now) < 0) ||
	    store_chat_input_done(st, c->conversation, client_id) < 0 || store_commit(st) < 0) {
		store_rollback(st);
		return -1;
	}
	return 0;
}

/* The turn of a message, or of the transcript request. */
static char *
run_turn(struct chat_conn *c, const struct chat_frame *f)
{
	struct chat_ws *ws = c->ws;
	if (c->session == NULL) {
		c->session = chat_session_resume(ws->s.actions, ws->store, ws->dir, c->peer, c->thread_id);
		chat_session_set_account(c->session, c->account);
	}
	char *err = NULL;
	pthread_rwlock_rdlock(&ws->s.engine->lock);
	char *reply = f->type == CHAT_FRAME_TRANSCRIPT
			      ? chat_session_transcript(c->session, ws->s.engine->engine, ws->scratch, ws->s.dialog, &err)
			      : chat_session_turn(c->session, ws->s.engine->engine, ws->scratch, ws->s.dialog, f->text,
						  strlen(f->text), &err);
	pthread_rwlock_unlock(&ws->s.engine->lock);
	if (reply == NULL) {
		log_error("chat: conversation %lld: %s", (long long)c->conversation, err);
		free(err);
	}
	return reply;
}

static void
on_visitor_message(struct chat_conn *c, const struct chat_frame *f)
{
	int64_t before_seq = 0;
	bool done = false;
	int run = input_begin(c, f, &before_seq, &done);
	if (run == -2) {
		conversation_gone(c);
		return;
	}
	if (run < 0) {
		store_failed(c, "message");
		return;
	}
	char *reply = NULL;
	if (run == 1 && (reply = run_turn(c, f)) == NULL) {
		chat_ws_error(c, "store_failed", "chat_store_failed");
		return;
	}
	if (!done && input_end(c, f->id, reply, before_seq) < 0) {
		free(reply);
		store_failed(c, "message");
		return;
	}
	free(reply);
	chat_ws_queue(c, chat_ack_json(f->id));
	chat_ws_deliver(c->ws, c->conversation);
	c->after_reply = run == 1;
}

void
chat_ws_after_reply(struct chat_conn *c)
{
	struct chat_ws *ws = c->ws;
	c->after_reply = false;
	if (c->session == NULL)
		return;
	unsigned queued;
	char *err = NULL;
	/* The account work queues mail that the sending thread may take at once: its
	 * commits are FULL (the chat's are relaxed otherwise, see chat_ws_new). */
	if (store_relax_durability(ws->store, false) < 0) {
		log_error("chat: conversation %lld: account action after the reply: %s; tried again after the next one",
			  (long long)c->conversation, store_error(ws->store));
		return;
	}
	pthread_rwlock_rdlock(&ws->s.engine->lock);
	int ran = chat_session_after_reply(c->session, ws->s.engine->engine, &queued, &err);
	pthread_rwlock_unlock(&ws->s.engine->lock);
	if (store_relax_durability(ws->store, true) < 0)
		log_error("chat: the store stays with synchronous = FULL: %s", store_error(ws->store));
	if (ran < 0) {
		log_error("chat: conversation %lld: account action after the reply: %s; tried again after the next one",
			  (long long)c->conversation, err);
		free(err);
	} else if (ran > 0 && sync_conversation(ws, c->conversation) == 0) {
		chat_ws_deliver(ws, c->conversation);
	}
}

/* ---- ack, end ---- */

static void
on_ack(struct chat_conn *c, const struct chat_frame *f)
{
	struct chat_conversation_row row;
	int got = store_chat_get(c->ws->store, c->conversation, &row);
	if (got == 0)
		conversation_gone(c);
	else if (got == 1 && f->seq > row.last_seq)
		chat_ws_refuse(c, "invalid_field");  /* more than was ever sent */
	else if (got != 1 || store_chat_acked(c->ws->store, c->conversation, f->seq) < 0)
		store_failed(c, "ack");
}

/* The session is forgotten; every socket of the conversation is told, then closed. */
static void
on_end(struct chat_conn *c)
{
	struct chat_ws *ws = c->ws;
	struct store *st = ws->store;
	int64_t now = now_seconds(), conversation = c->conversation;
	struct chat_conversation_row row;
	int got = 0;
	if (store_begin(st) == 0 && (got = store_chat_get(st, conversation, &row)) == 0) {
		conversation_gone(c);
		return;
	}
	if (got != 1 || store_chat_sync(st, conversation, now) < 0 ||
	    store_chat_event_add(st, conversation, "state", NULL, "ended", NULL, now) < 0 ||
	    store_chat_end(st, conversation, now) < 0 || store_commit(st) < 0) {
		store_failed(c, "end");
		return;
	}
	chat_ws_deliver(ws, conversation);
	for (struct chat_conn *o = ws->conns; o != NULL; o = o->next)
		if (o->conversation == conversation) {
			chat_ws_set_conversation(o, 0);
			chat_ws_close_after(o, LWS_CLOSE_STATUS_NORMAL);
		}
}

void
chat_ws_frame(struct chat_conn *c, struct chat_frame *f)
{
	if (f->type == CHAT_FRAME_HELLO && c->conversation != 0)
		chat_ws_refuse(c, "unexpected");
	else if (f->type == CHAT_FRAME_HELLO)
		on_hello(c, f);
	else if (c->conversation == 0)
		chat_ws_refuse(c, "hello_first");
	else if (f->type == CHAT_FRAME_MESSAGE || f->type == CHAT_FRAME_TRANSCRIPT)
		on_visitor_message(c, f);
	else if (f->type == CHAT_FRAME_ACK)
		on_ack(c, f);
	else
		on_end(c);
}
