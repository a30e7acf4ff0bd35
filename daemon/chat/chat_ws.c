/* chat_ws — see chat_ws.h. The lws side of the chat: the upgrade's checks, frames read
 * whole (fragments summed against [chat] max_frame, as lws 4.1 has no cap of its own),
 * frames written one per writable callback, the per-connection and per-address limits,
 * and one timer for the whole protocol: the store poll, pings and the idle timeout
 * (kept here rather than in the vhost's retry policy, which would govern the web layer's
 * other connections as well). What a frame does is chat_ws_turn.c's. */
#include "autoconf.h"
#include "chat/chat_ws.h"
#include "chat/chat_ws_internal.h"
#include "chat/chat_session.h"
#include "core/log.h"
#include "core/util.h"
#include "directory/directory.h"
#include "engine/engine.h"
#include "engine/intent.h"
#include "engine/template.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define CHAT_PATH "/chat"
#define POLL_USECS (250 * LWS_US_PER_MS)
/* Frames queued to one client past which it is no longer read, and down to which it is
 * read again (a turn queues three; a reconnection's replay more, once). */
#define OUT_PAUSE 64
#define OUT_RESUME 16

/* ---- frames out ---- */

/* A frame whose words depend on nothing written (an error) need not wait for a sync:
 * mark 0. */
static void
queue_marked(struct chat_conn *c, char *text, int64_t mark)
{
	size_t len = strlen(text);
	struct chat_out *o = xmalloc(sizeof(*o) + LWS_PRE + len);
	o->next = NULL;
	o->len = len;
	o->mark = mark;
	memcpy(o->data + LWS_PRE, text, len);
	free(text);
	if (c->out_tail != NULL)
		c->out_tail->next = o;
	else
		c->out_head = o;
	c->out_tail = o;
	/* A client that sends faster than it reads what it is answered (a flood: each
	 * frame refused gets an error frame) is not read further until it has caught up:
	 * its frames wait in its own socket buffers instead of taking this thread's time and
	 * this queue's memory from the others. */
	if (++c->out_count >= OUT_PAUSE && !c->rx_paused) {
		c->rx_paused = true;
		lws_rx_flow_control(c->wsi, 0);
	}
	lws_callback_on_writable(c->wsi);
}

void
chat_ws_queue(struct chat_conn *c, char *text)
{
	/* The sync is asked for at once, so that it runs while this thread goes on and is
	 * usually done when the connection is writable (a failure is seen there). */
	int64_t mark = store_write_mark(c->ws->store);
	store_syncer_request(c->ws->syncer, mark);
	queue_marked(c, text, mark);
}

char *
chat_ws_text(struct chat_ws *ws, const char *name)
{
	pthread_rwlock_rdlock(&ws->s.engine->lock);
	char *text = template_render(ws->s.engine->engine->templates, name, OUTPUT_TEXT, NULL, 0);
	pthread_rwlock_unlock(&ws->s.engine->lock);
	return text;
}

void
chat_ws_error(struct chat_conn *c, const char *code, const char *template_name)
{
	char *name = template_name != NULL ? xstrdup(template_name) : xasprintf("chat_error_%s", code);
	char *message = chat_ws_text(c->ws, name);
	queue_marked(c, chat_error_json(code, message), 0);
	free(message);
	free(name);
}

void
chat_ws_refuse(struct chat_conn *c, const char *code)
{
	chat_ws_error(c, code, NULL);
	if (++c->errors >= c->ws->s.max_errors)
		chat_ws_close_after(c, LWS_CLOSE_STATUS_POLICY_VIOLATION);
}

void
chat_ws_close_after(struct chat_conn *c, int code)
{
	if (c->close_code == 0)
		c->close_code = code;
	/* A client that reads nothing any more must not hold the connection. */
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, 5);
	lws_callback_on_writable(c->wsi);
}

/* Closes now with code and a short reason (RFC 6455 section 7.4). Returns -1 for lws. */
static int
close_now(struct lws *wsi, int code, const char *why)
{
	lws_close_reason(wsi, (enum lws_close_status)code, (unsigned char *)why, strlen(why));
	return -1;
}

static const char *
close_why(int code)
{
	switch (code) {
	case LWS_CLOSE_STATUS_NORMAL: return "ended";
	case LWS_CLOSE_STATUS_GOINGAWAY: return "idle";
	case LWS_CLOSE_STATUS_POLICY_VIOLATION: return "too many invalid frames";
	default: return "closed";
	}
}

/* ---- durability: the store's syncer ---- */

static void
wait_unlink(struct chat_conn *c)
{
	if (!c->sync_wait)
		return;
	if (c->wait_prev != NULL)
		c->wait_prev->wait_next = c->wait_next;
	else
		c->ws->sync_waiters = c->wait_next;
	if (c->wait_next != NULL)
		c->wait_next->wait_prev = c->wait_prev;
	c->wait_next = c->wait_prev = NULL;
	c->sync_wait = false;
}

/* Whether a frame queued at mark may leave: 1 on disk, 0 not yet (c waits, the sync is
 * asked for everything committed so far), -1 a sync failed (logged). */
static int
sync_wait(struct chat_conn *c, int64_t mark)
{
	struct chat_ws *ws = c->ws;
	char *err = NULL;
	int64_t synced = store_syncer_synced(ws->syncer, &err);
	if (synced >= mark)
		return 1;
	/* Nobody else waits and no sync runs: a quiet moment, synced here at once (the
	 * hand-over to the syncer and back costs two service loops). */
	int now = synced >= 0 && ws->sync_waiters == NULL ? store_syncer_sync_now(ws->syncer, mark) : 0;
	if (now == 1)
		return 1;
	if (synced < 0 || store_syncer_request(ws->syncer, store_write_mark(ws->store)) < 0) {
		log_error("chat: %s: store: %s", c->peer, err != NULL ? err : "the sync failed");
		free(err);
		return -1;
	}
	if (!c->sync_wait) {
		c->sync_wait = true;
		c->wait_prev = NULL;
		c->wait_next = ws->sync_waiters;
		if (ws->sync_waiters != NULL)
			ws->sync_waiters->wait_prev = c;
		ws->sync_waiters = c;
	}
	return 0;
}

/* A sync ended (LWS_CALLBACK_EVENT_WAIT_CANCELLED, and each tick in case): the
 * connections whose next frame it covers may write. */
static void
on_synced(struct chat_ws *ws)
{
	int64_t synced = store_syncer_synced(ws->syncer, NULL);
	for (struct chat_conn *c = ws->sync_waiters, *next; c != NULL; c = next) {
		next = c->wait_next;
		if (synced < 0 || c->out_head == NULL || c->out_head->mark <= synced) {
			wait_unlink(c);
			lws_callback_on_writable(c->wsi);  /* a failed sync closes it there */
		}
	}
}

/* The syncer's thread: wakes the service thread, which runs on_synced. */
static void
wake_service(void *arg)
{
	struct chat_ws *ws = arg;
	lws_cancel_service(ws->context);
}

/* One frame, or the ping, or the close once all is out. */
static int
on_writeable(struct chat_conn *c)
{
	if (c->ping_due) {
		c->ping_due = false;
		/* One byte: lws 4.1 reports no pong to an empty ping (LWS_CALLBACK_RECEIVE_PONG
		 * never comes for an empty payload). */
		unsigned char buf[LWS_PRE + 1];
		buf[LWS_PRE] = 'p';
		if (lws_write(c->wsi, buf + LWS_PRE, 1, LWS_WRITE_PING) < 0)
			return -1;
	} else if (c->out_head != NULL) {
		/* What the frame says is on disk before it leaves (see chat_ws_new). */
		struct chat_out *o = c->out_head;
		int durable = sync_wait(c, o->mark);
		if (durable < 0)
			return close_now(c->wsi, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "store failed");
		if (durable == 0)
			return 0;  /* written once the sync is done (on_synced) */
		c->out_head = o->next;
		if (c->out_head == NULL)
			c->out_tail = NULL;
		int n = lws_write(c->wsi, o->data + LWS_PRE, o->len, LWS_WRITE_TEXT);
		free(o);
		if (n < 0)
			return -1;
		if (--c->out_count <= OUT_RESUME && c->rx_paused) {
			c->rx_paused = false;
			lws_rx_flow_control(c->wsi, 1);
		}
	} else if (c->close_code != 0) {
		return close_now(c->wsi, c->close_code, close_why(c->close_code));
	}
	/* The reply is out: the account work it did not wait for (conversation/deferred.h). */
	if (c->out_head == NULL && c->after_reply)
		chat_ws_after_reply(c);
	if (c->ping_due || c->out_head != NULL || c->close_code != 0)
		lws_callback_on_writable(c->wsi);
	return 0;
}

/* ---- the upgrade ---- */

/* The origin of a URL: scheme://host[:port], lowercase (caller frees). */
static char *
url_origin(const char *url)
{
	const char *host = strstr(url, "://");
	if (host == NULL)
		return xstrdup(url);
	host += 3;
	char *origin = xstrndup(url, (size_t)(host - url) + strcspn(host, "/?#"));
	for (char *p = origin; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return origin;
}

/* Whether word (n bytes) is in the space-separated list. */
static bool
listed(const char *list, const char *word, size_t n)
{
	for (const char *p = list; p != NULL && *p;) {
		size_t k = strcspn(p, " \t");
		if (k == n && strncasecmp(p, word, n) == 0)
			return true;
		p += k;
		p += strspn(p, " \t");
	}
	return false;
}

void
chat_ws_client(const struct chat_ws *ws, struct lws *wsi, char out[64])
{
	const char *peer = ws->s.client_address(wsi);
	snprintf(out, 64, "%s", peer);
	char xff[512];
	if (!listed(ws->s.trusted_proxies, peer, strlen(peer)) ||
	    lws_hdr_total_length(wsi, WSI_TOKEN_X_FORWARDED_FOR) >= (int)sizeof(xff) ||
	    lws_hdr_copy(wsi, xff, sizeof(xff), WSI_TOKEN_X_FORWARDED_FOR) <= 0)
		return;
	/* The last entry is the one our proxy wrote; those before it are the client's word. */
	char *last = strrchr(xff, ',');
	last = last != NULL ? last + 1 : xff;
	last += strspn(last, " \t");
	last[strcspn(last, " \t")] = '\0';
	unsigned char addr[16];
	if (inet_pton(AF_INET, last, addr) == 1)
		inet_ntop(AF_INET, addr, out, 64);
	else if (inet_pton(AF_INET6, last, addr) == 1)
		inet_ntop(AF_INET6, addr, out, 64);
}

static struct chat_addr *
addr_find(struct chat_ws *ws, const char *addr, bool create)
{
	for (struct chat_addr *a = ws->addrs; a != NULL; a = a->next)
		if (strcmp(a->addr, addr) == 0)
			return a;
	if (!create)
		return NULL;
	struct chat_addr *a = xcalloc(1, sizeof(*a));
	snprintf(a->addr, sizeof(a->addr), "%s", addr);
	a->next = ws->addrs;
	ws->addrs = a;
	return a;
}

/* Why the upgrade is refused ("" when it is not), for the log. The status is 403 for
 * each: a client has nothing to retry differently. */
static const char *
upgrade_refusal(struct chat_ws *ws, struct lws *wsi)
{
	char uri[64], origin[256];
	if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0 || strcmp(uri, CHAT_PATH) != 0)
		return "not the chat's path";
	if (lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) >= (int)sizeof(origin) ||
	    lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) <= 0)
		return "no Origin (or one over 255 bytes)";
	if (!listed(ws->allowed, origin, strlen(origin)))
		return "Origin not in [web] allowed_origins";
	char client[64];
	chat_ws_client(ws, wsi, client);
	const struct chat_addr *a = addr_find(ws, client, false);
	if (ws->s.connections_per_address > 0 && a != NULL && a->conns >= ws->s.connections_per_address)
		return "too many connections from this address";
	return "";
}

static int
filter_upgrade(struct chat_ws *ws, struct lws *wsi)
{
	const char *why = upgrade_refusal(ws, wsi);
	if (*why == '\0')
		return 0;
	/* Refusals are a client's doing: at most 20 a minute reach the log, as web's. */
	int64_t minute = (int64_t)time(NULL) / 60;
	if (minute != ws->refusal_minute) {
		if (ws->refusals > 20)
			log_info("chat: %u more refused connections were not logged", ws->refusals - 20);
		ws->refusal_minute = minute;
		ws->refusals = 0;
	}
	char client[64];
	chat_ws_client(ws, wsi, client);
	if (++ws->refusals <= 20)
		log_info("chat: refused a connection from %s: %s (403)", client, why);
	lws_return_http_status(wsi, HTTP_STATUS_FORBIDDEN, NULL);
	return -1;
}

/* ---- connections ---- */

static struct chat_conn **
bucket_of(struct chat_ws *ws, int64_t conversation)
{
	return &ws->by_conversation[(uint64_t)conversation * 0x9e3779b97f4a7c15ull >> 52 & (CHAT_CONVERSATION_BUCKETS - 1)];
}

struct chat_conn *
chat_ws_bucket(struct chat_ws *ws, int64_t conversation)
{
	return *bucket_of(ws, conversation);
}

void
chat_ws_set_conversation(struct chat_conn *c, int64_t conversation)
{
	if (c->conversation != 0) {
		if (c->conv_prev != NULL)
			c->conv_prev->conv_next = c->conv_next;
		else
			*bucket_of(c->ws, c->conversation) = c->conv_next;
		if (c->conv_next != NULL)
			c->conv_next->conv_prev = c->conv_prev;
		c->conv_next = c->conv_prev = NULL;
	}
	c->conversation = conversation;
	if (conversation != 0) {
		struct chat_conn **head = bucket_of(c->ws, conversation);
		c->conv_next = *head;
		if (*head != NULL)
			(*head)->conv_prev = c;
		*head = c;
	}
}

static void
conn_open(struct chat_ws *ws, struct chat_conn *c, struct lws *wsi)
{
	memset(c, 0, sizeof(*c));
	c->ws = ws;
	c->wsi = wsi;
	c->established = true;
	c->last_rx = (int64_t)time(NULL);
	c->next = ws->conns;
	if (ws->conns != NULL)
		ws->conns->prev = c;
	ws->conns = c;
	chat_ws_client(ws, wsi, c->peer);  /* the upgrade's headers are still there */
	c->addr = addr_find(ws, c->peer, true);
	c->addr->conns++;
}

static void
conn_close(struct chat_ws *ws, struct chat_conn *c)
{
	if (!c->established)
		return;  /* CLOSED also comes for an upgrade refused before ESTABLISHED */
	c->established = false;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		ws->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->addr->conns--;
	chat_ws_set_conversation(c, 0);
	wait_unlink(c);
	while (c->out_head != NULL) {
		struct chat_out *o = c->out_head;
		c->out_head = o->next;
		free(o);
	}
	free(c->rx);
	c->rx = NULL;
	chat_session_free(&c->session);
	free(c->account);
	c->account = NULL;
}

/* Over a message rate: the connection's minute, then its address's. */
static bool
over_rate(struct chat_conn *c, int64_t now)
{
	int64_t minute = now / 60;
	if (c->minute != minute) {
		c->minute = minute;
		c->count = 0;
	}
	if (c->addr->minute != minute) {
		c->addr->minute = minute;
		c->addr->count = 0;
	}
	const struct chat_ws_settings *s = &c->ws->s;
	if ((s->messages_per_minute > 0 && c->count >= s->messages_per_minute) ||
	    (s->address_messages_per_minute > 0 && c->addr->count >= s->address_messages_per_minute))
		return true;
	c->count++;
	c->addr->count++;
	return false;
}

/* A whole text message: parsed, then done (or refused, and counted). */
static void
on_message(struct chat_conn *c)
{
	struct chat_frame frame;
	enum chat_frame_error e = chat_frame_parse(c->rx, c->rx_len, c->ws->s.max_text, &frame);
	c->rx_len = 0;
	if (e != CHAT_ERROR_NONE) {
		chat_ws_refuse(c, chat_frame_error_code(e));
		return;
	}
	if ((frame.type == CHAT_FRAME_MESSAGE || frame.type == CHAT_FRAME_TRANSCRIPT) && over_rate(c, (int64_t)time(NULL)))
		chat_ws_error(c, "rate_limited", NULL);  /* not acknowledged: the widget sends it again later */
	else
		chat_ws_frame(c, &frame);
	chat_frame_clear(&frame);
}

static int
on_receive(struct chat_conn *c, const char *in, size_t len)
{
	struct lws *wsi = c->wsi;
	c->last_rx = (int64_t)time(NULL);
	if (c->close_code != 0)
		return 0;  /* closing: what comes now is not read */
	if (lws_frame_is_binary(wsi))
		return close_now(wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE, "text frames only");
	/* The whole message's size is known only at its end: what came, what this frame
	 * still holds, and nothing more than the cap. */
	size_t remaining = lws_remaining_packet_payload(wsi);
	if (len > c->ws->s.max_frame || c->rx_len + len + remaining > c->ws->s.max_frame)
		return close_now(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too large");
	/* Grown as the message comes and freed once read: an idle connection holds none. */
	c->rx = xrealloc(c->rx, c->rx_len + len + 1);
	memcpy(c->rx + c->rx_len, in, len);
	c->rx_len += len;
	if (remaining == 0 && lws_is_final_fragment(wsi)) {
		on_message(c);
		free(c->rx);
		c->rx = NULL;
	}
	return 0;
}

/* ---- the timer: store poll, pings, idle connections ---- */

static void
on_tick(lws_sorted_usec_list_t *sul)
{
	struct chat_ws *ws = lws_container_of(sul, struct chat_ws, poll);
	int64_t now = (int64_t)time(NULL);
	on_synced(ws);
	chat_ws_poll_store(ws);
	for (struct chat_conn *c = ws->conns; c != NULL; c = c->next) {
		if (c->close_code != 0)
			continue;
		if (now - c->last_rx >= (int64_t)ws->s.idle_timeout) {
			chat_ws_close_after(c, LWS_CLOSE_STATUS_GOINGAWAY);
		} else if (!c->ping_due && now - (c->last_ping > c->last_rx ? c->last_ping : c->last_rx) >=
						   (int64_t)ws->s.ping_interval) {
			c->ping_due = true;  /* again each interval, until a frame or pong comes */
			c->last_ping = now;
			lws_callback_on_writable(c->wsi);
		}
	}
	/* Addresses with no connection left, once their minute is over. */
	for (struct chat_addr **ap = &ws->addrs; *ap != NULL;) {
		struct chat_addr *a = *ap;
		if (a->conns == 0 && a->minute != now / 60) {
			*ap = a->next;
			free(a);
		} else {
			ap = &a->next;
		}
	}
	lws_sul_schedule(ws->context, 0, &ws->poll, on_tick, POLL_USECS);
}

static int
chat_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	const struct lws_protocols *protocol = lws_get_protocol(wsi);
	struct chat_ws *ws = protocol != NULL ? protocol->user : NULL;
	struct chat_conn *c = user;
	if (ws == NULL)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_PROTOCOL_INIT:
		ws->context = lws_get_context(wsi);
		ws->polling = true;
		lws_sul_schedule(ws->context, 0, &ws->poll, on_tick, POLL_USECS);
		return 0;
	case LWS_CALLBACK_PROTOCOL_DESTROY:
		if (ws->polling)
			lws_sul_cancel(&ws->poll);
		ws->polling = false;
		return 0;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		if (ws->context != NULL)
			on_synced(ws);
		return 0;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return filter_upgrade(ws, wsi);
	case LWS_CALLBACK_ESTABLISHED:
		conn_open(ws, c, wsi);
		return 0;
	case LWS_CALLBACK_RECEIVE:
		return c != NULL && c->established ? on_receive(c, in, len) : -1;
	case LWS_CALLBACK_RECEIVE_PONG:
		if (c != NULL && c->established)
			c->last_rx = (int64_t)time(NULL);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return c != NULL && c->established ? on_writeable(c) : -1;
	case LWS_CALLBACK_CLOSED:
		if (c != NULL)
			conn_close(ws, c);
		return 0;
	default:
		return 0;
	}
}

/* ---- life ---- */

struct chat_ws *
chat_ws_new(const struct chat_ws_settings *settings, char **error_r)
{
	struct chat_ws *ws = xcalloc(1, sizeof(*ws));
	ws->s = *settings;
	/* dialogd's own origin always: its home page carries the widget. */
	char *own = url_origin(settings->public_url != NULL ? settings->public_url : "");
	ws->allowed = settings->allowed_origins != NULL ? xasprintf("%s %s", settings->allowed_origins, own) : xstrdup(own);
	free(own);
	if ((ws->store = store_open(settings->store_path, error_r)) == NULL ||
	    (ws->dir = directory_open_for(settings->directory_http, ws->store, error_r)) == NULL) {
		chat_ws_free(&ws);
		return NULL;
	}
	/* Group commit: the chat's transactions wait for no fsync of their own; a frame
	 * waits, in on_writeable, until the syncer's thread has synced the log past the
	 * commits it tells of, while this thread serves the others: the turns that came
	 * meanwhile share one fsync, and a slow disk delays answers without stopping the
	 * service (three transactions a message, each with its own fsync on this thread,
	 * held the chat to about 500 answers a second on the benchmark's disk). Nothing is
	 * acknowledged before it is on disk; a power cut loses only what no client was
	 * told, and the widget sends it again. The syncer checkpoints the log as well: a
	 * relaxed commit's automatic checkpoint would fsync here. */
	if (store_relax_durability(ws->store, true) < 0) {
		*error_r = xasprintf("store: %s", store_error(ws->store));
		chat_ws_free(&ws);
		return NULL;
	}
	if ((ws->syncer = store_syncer_start(settings->store_path, wake_service, ws, error_r)) == NULL) {
		chat_ws_free(&ws);
		return NULL;
	}
	store_syncer_watch(ws->syncer, ws->store);
	if (sodium_init() < 0) {
		*error_r = xstrdup("libsodium cannot start");
		chat_ws_free(&ws);
		return NULL;
	}
	if (settings->identity_secret != NULL) {
		ws->identity_secret_len = strlen(settings->identity_secret);
		if (ws->identity_secret_len < CHAT_IDENTITY_SECRET_MIN) {
			*error_r = xasprintf("[chat] identity_secret: %zu bytes; at least %d are needed (HS256)",
					     ws->identity_secret_len, CHAT_IDENTITY_SECRET_MIN);
			chat_ws_free(&ws);
			return NULL;
		}
		ws->identity_secret = sodium_malloc(ws->identity_secret_len);
		memcpy(ws->identity_secret, settings->identity_secret, ws->identity_secret_len);
		sodium_mprotect_readonly(ws->identity_secret);
	}
	ws->s.identity_secret = NULL;  /* the caller's copy is not kept */
	ws->scratch = intent_scratch_new();
	ws->protocols[0] = (struct lws_protocols){
		.name = CHAT_PROTOCOL_NAME, .callback = chat_ws_callback,
		.per_session_data_size = sizeof(struct chat_conn), .user = ws,
	};
	return ws;
}

const struct lws_protocols *
chat_ws_protocols(const struct chat_ws *ws)
{
	return ws->protocols;
}

void
chat_ws_free(struct chat_ws **wsp)
{
	struct chat_ws *ws = *wsp;
	if (ws == NULL)
		return;
	while (ws->addrs != NULL) {
		struct chat_addr *a = ws->addrs;
		ws->addrs = a->next;
		free(a);
	}
	intent_scratch_free(&ws->scratch);
	sodium_free(ws->identity_secret);
	directory_close(&ws->dir);
	store_close(&ws->store);
	store_syncer_stop(&ws->syncer);  /* after the connection whose WAL hook points to it */
	free(ws->allowed);
	free(ws);
	*wsp = NULL;
}
