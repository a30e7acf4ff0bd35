/* chat_ws_internal — what chat_ws.c (the lws protocol: upgrade checks, frames in and
 * out, limits, the poll timer) and chat_ws_turn.c (what each frame does to the
 * conversation and the store) share. Chat layer only; web thread only, but for
 * chat_ws_new and chat_ws_free (see chat_ws.h). */
#ifndef DIALOGD_CHAT_WS_INTERNAL_H
#define DIALOGD_CHAT_WS_INTERNAL_H

#include "chat/chat_protocol.h"
#include "chat/chat_ws.h"

#include <libwebsockets.h>
#include <stdbool.h>
#include <stdint.h>

struct chat_session;
struct directory;
struct intent_scratch;
struct store;
struct store_syncer;

/* One frame waiting to be sent. */
#define CHAT_CONVERSATION_BUCKETS 4096  /* a power of two */

struct chat_out {
	struct chat_out *next;
	size_t len;
	int64_t mark;           /* the store's write mark when queued: synced up to it before it leaves */
	unsigned char data[];   /* LWS_PRE bytes for lws, then the JSON text */
};

/* The counters of one client address (connections open, messages this minute). */
struct chat_addr {
	struct chat_addr *next;
	char addr[64];
	unsigned conns;
	int64_t minute;
	unsigned count;
};

/* One WebSocket connection: lws' per-session data (allocated zeroed, freed by lws). */
struct chat_conn {
	struct chat_ws *ws;
	struct lws *wsi;
	struct chat_conn *next, *prev;  /* ws->conns */
	bool established;               /* linked, counted: ESTABLISHED came */
	struct chat_addr *addr;
	char peer[64];                  /* the client's address (see chat_ws_client) */
	char *rx;                       /* the message being received, fragments together */
	size_t rx_len;
	unsigned errors;                /* frames refused so far */
	int64_t minute;                 /* this connection's message rate */
	unsigned count;
	int64_t last_rx;                /* when the client last sent anything (a pong counts) */
	int64_t last_ping;              /* when the last ping was asked for */
	bool ping_due;                  /* a ping is to be written */
	struct chat_out *out_head, *out_tail;
	unsigned out_count;             /* frames in that queue */
	bool rx_paused;                 /* not read until the queue is down (lws_rx_flow_control) */
	int close_code;                 /* once the queue is out, close with it (0: open) */
	int64_t conversation;           /* 0 before hello; set with chat_ws_set_conversation */
	struct chat_conn *conv_next, *conv_prev;  /* ws->by_conversation's bucket of it */
	int64_t thread_id;              /* the conversation's thread, 0 before its first message */
	int64_t sent_seq;               /* the newest event queued to this connection */
	struct chat_session *session;   /* from the first message (or hello on a thread) */
	char *account;                  /* the account a signed identity token proved, NULL */
	bool after_reply;               /* a turn ran: its account work waits for the reply to be out */
	bool sync_wait;                 /* its next frame waits for the store's sync (ws->sync_waiters) */
	struct chat_conn *wait_next, *wait_prev;
};

struct chat_ws {
	struct chat_ws_settings s;
	unsigned char *identity_secret; /* sodium_malloc'd copy, NULL: none */
	size_t identity_secret_len;
	char *allowed;                  /* the origins, space-separated (owned) */
	struct store *store;
	struct store_syncer *syncer;    /* the store's fsyncs, off this thread (see chat_ws_new) */
	struct chat_conn *sync_waiters; /* connections whose next frame waits for it */
	struct directory *dir;
	struct intent_scratch *scratch;
	struct lws_context *context;
	lws_sorted_usec_list_t poll;    /* the 250 ms timer */
	bool polling;
	int64_t data_version;           /* SQLite's, at the last poll */
	struct chat_conn *conns;
	/* The connections of each conversation, hashed by its id: a turn's events go to
	 * its conversation's sockets without a walk over every connection. */
	struct chat_conn *by_conversation[CHAT_CONVERSATION_BUCKETS];
	struct chat_addr *addrs;
	int64_t refusal_minute;         /* refused upgrades are logged 20 a minute at most */
	unsigned refusals;
	struct lws_protocols protocols[2];
};

/* ---- chat_ws.c ---- */
/* Queues a frame (takes text, malloc'd) and asks for a write. */
void chat_ws_queue(struct chat_conn *c, char *text);
/* Queues an error frame with the sentence of template "chat_error_" code (or name). */
void chat_ws_error(struct chat_conn *c, const char *code, const char *template_name);
/* A frame refused: the error frame, counted; past [chat] max_errors, the close (1008). */
void chat_ws_refuse(struct chat_conn *c, const char *code);
/* Closes c with code once what is queued is out. */
void chat_ws_close_after(struct chat_conn *c, int code);
/* The client's address of an upgrade: the connection's own, or for one from [web]
 * trusted_proxies the last address of its X-Forwarded-For (the one that proxy added). */
void chat_ws_client(const struct chat_ws *ws, struct lws *wsi, char out[64]);
/* Renders a template under the engine's read lock (caller frees). */
char *chat_ws_text(struct chat_ws *ws, const char *name);
/* Binds c to conversation (0: to none), in ws->by_conversation. */
void chat_ws_set_conversation(struct chat_conn *c, int64_t conversation);
/* The first connection of the bucket conversation hashes to (follow conv_next, and
 * compare the conversation: other ones share buckets). */
struct chat_conn *chat_ws_bucket(struct chat_ws *ws, int64_t conversation);

/* ---- chat_ws_turn.c ---- */
/* What the frame asks (hello, message, ack, end). Logs a store failure. */
void chat_ws_frame(struct chat_conn *c, struct chat_frame *frame);
/* Queues to every connection of conversation the events it has not been sent. */
void chat_ws_deliver(struct chat_ws *ws, int64_t conversation);
/* The account work a turn left for after its reply (conversation/deferred.h), once the
 * reply's frames are written; what it adds to the thread (a directory that failed) goes
 * out as events. Web thread. */
void chat_ws_after_reply(struct chat_conn *c);
/* The poll: copies what another process wrote into the open conversations' threads. */
void chat_ws_poll_store(struct chat_ws *ws);

#endif
