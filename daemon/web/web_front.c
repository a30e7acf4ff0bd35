/* web_front — the front: every request head is read here before libwebsockets reads it
 * (see web_internal.h for what web.c uses of it). Web thread only. */
#include "autoconf.h"
#include "web/web_internal.h"
#include "core/log.h"
#include "core/util.h"
#include "web/web_page.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Why a front, and why this deep. lws 4.1.6 parses the request head itself and shows the
 * callbacks only the headers it knows, after the fact:
 * - a header name followed by a space ("Transfer-Encoding : chunked") is stored as an
 *   unknown header under that exact name; lws_hdr_custom_* finds one only by its name and
 *   4.1 has no way to list them, so the request looks as if it had no such header (a
 *   front proxy that honours it and lws frame the body differently: request smuggling);
 * - a head over max_http_header_data, or with more fragments than lws keeps, closes the
 *   connection from inside the parser, with no answer and no callback (no 431);
 * - "Upgrade: h2c" switches to lws' HTTP/2 stack (Debian builds LWS_WITH_HTTP2, and no
 *   context or vhost option turns the upgrade off; LWS_CALLBACK_HTTP_CONFIRM_UPGRADE is
 *   the only say), and lws accepts bare LF, folded lines, CONNECT (the connection turns
 *   raw and hangs).
 * No callback sees the bytes (LWS_CALLBACK_FILTER_NETWORK_CONNECTION gets the socket
 * before any byte, and peeking at it covers only the first request of a kept-alive
 * connection, which is exactly where a proxy smuggles). So dialogd owns the listening
 * socket. Each connection is read by the front (a raw descriptor in the same lws loop:
 * lws only polls it), which checks each request head with web_head_parse (RFC 9112),
 * follows Content-Length to the next head, and writes the checked bytes to a socketpair;
 * lws serves HTTP on the other end as on any socket, and its replies come back the same
 * way. A refused request is answered by web_http_callback like any other (WEB_REFUSAL_PATH),
 * so that the answer comes after those to the requests before it and has the same
 * headers. The cost: three descriptors per connection and one more copy each way. All of
 * it runs in the web thread. */

/* What the front does with the client's next bytes. */
enum front_state {
	FRONT_HEAD,             /* a request head: checked before anything of it is passed */
	FRONT_BODY,             /* body_left bytes of body, passed as they come */
	FRONT_PASS,             /* a WebSocket upgrade: everything, as it comes */
	FRONT_DISCARD,          /* nothing more: the request was refused, or lws will close */
};

/* Bytes waiting to be written. Wiped when they move or go: they hold passwords and tokens. */
struct web_queue {
	char *data;
	size_t off;             /* bytes already written */
	size_t len;
	size_t cap;
};

/* One client connection (web thread only). The three lws connections point to it
 * (lws_get_opaque_user_data); it is freed when the last of them is destroyed. */
struct web_conn {
	struct web *web;
	struct web_conn *next, *prev;   /* web->conns */
	struct lws *client;             /* the TCP connection (raw descriptor), until destroyed */
	struct lws *relay;              /* the front's end of the socketpair, the same way */
	struct lws *http;               /* lws' HTTP connection on the other end */
	int client_fd, relay_fd;
	bool client_open, relay_open;   /* not closed yet: their descriptors may be used */
	bool http_started;              /* the socketpair and lws' side exist (from the first
					 * checked head on: a slow client never reaches lws) */
	char peer[INET6_ADDRSTRLEN];    /* the client's address, for the log */
	struct web_queue head;          /* the request head being read */
	struct web_head scan;           /* its reading */
	enum front_state state;
	uint64_t body_left;             /* FRONT_BODY */
	struct web_queue to_http;       /* checked bytes for lws */
	struct web_queue to_client;     /* lws' replies for the client */
	bool client_eof;                /* the client sends nothing more */
	bool relay_shut;                /* ... and lws was told so */
	bool http_eof;                  /* lws closed its end: nothing more to relay */
	bool client_held, relay_held;   /* reading stopped: the other side is behind */
	bool closing;                   /* all is sent: waiting for the client to close */
	int refusal;                    /* the status WEB_REFUSAL_PATH is answered with, 0 when none */
};

/* The request put in place of a refused one (see WEB_REFUSAL_PATH). */
static const char refusal_request[] = "GET " WEB_REFUSAL_PATH " HTTP/1.1\r\nHost: dialogd\r\n\r\n";

/* Past this many bytes waiting for one side, the other is not read until they are out. */
#define FRONT_QUEUE_MAX 65536
/* Seconds a client has to take the end of its replies, then to close after them. */
#define FRONT_FLUSH_SECS 10
#define FRONT_LINGER_SECS 2

static size_t
queue_pending(const struct web_queue *q)
{
	return q->len - q->off;
}

static void
queue_add(struct web_queue *q, const char *data, size_t n)
{
	if (q->off > 0 && q->off == q->len) {
		sodium_memzero(q->data, q->len);
		q->off = q->len = 0;
	}
	if (n > q->cap - q->len) {
		size_t cap = q->cap ? q->cap : 1024;
		while (cap - (q->len - q->off) < n)
			cap *= 2;
		char *data_new = xmalloc(cap);
		if (q->data != NULL) {
			memcpy(data_new, q->data + q->off, q->len - q->off);
			sodium_memzero(q->data, q->cap);
			free(q->data);
		}
		q->data = data_new;
		q->len -= q->off;
		q->off = 0;
		q->cap = cap;
	}
	memcpy(q->data + q->len, data, n);
	q->len += n;
}

static void
queue_clear(struct web_queue *q)
{
	if (q->data != NULL) {
		sodium_memzero(q->data, q->cap);
		free(q->data);
	}
	memset(q, 0, sizeof(*q));
}

/* Writes what it can of q to fd. Returns 1 when all is out, 0 when some waits, -1 when
 * the other end is gone. */
static int
queue_send(struct web_queue *q, int fd)
{
	while (q->off < q->len) {
		ssize_t n = send(fd, q->data + q->off, q->len - q->off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0)
			q->off += (size_t)n;
		else if (n < 0 && errno == EINTR)
			continue;
		else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		else
			return -1;
	}
	return 1;
}

/* Asks for LWS_CALLBACK_RAW_WRITEABLE_FILE. From within that very callback lws 4.1 clears
 * POLLOUT once it returns (roles/raw-file), so the request goes through a timer then. */
static void
want_writable(struct lws *wsi, bool in_writeable)
{
	if (in_writeable)
		lws_set_timer_usecs(wsi, 1);
	else
		lws_callback_on_writable(wsi);
}

static void
hold_reading(struct lws *wsi, bool *held, bool hold)
{
	if (*held == hold)
		return;
	*held = hold;
	lws_rx_flow_control(wsi, hold ? 0 : 1);
}

/* Closes wsi at the next turn of the loop (safe from any callback). */
static void
kill_soon(struct lws *wsi)
{
	if (wsi != NULL)
		lws_set_timeout(wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
}

/* A slow client holds a connection (and three descriptors) as long as it likes unless
 * every wait has an end: the head of a request, and on a kept-alive connection the next
 * one, must come within header_timeout of the wait's start, a body within body_timeout.
 * lws closes the connection when the time is up. */
#define TIMEOUT_HEAD (PENDING_TIMEOUT_USER_REASON_BASE + 1)
#define TIMEOUT_BODY (PENDING_TIMEOUT_USER_REASON_BASE + 2)

static void
await(struct web_conn *c, enum front_state state)
{
	c->state = state;
	if (!c->client_open || c->client == NULL || c->closing)
		return;
	if (state == FRONT_HEAD)
		lws_set_timeout(c->client, TIMEOUT_HEAD, c->web->header_timeout);
	else if (state == FRONT_BODY)
		lws_set_timeout(c->client, TIMEOUT_BODY, c->web->body_timeout);
	else if (state == FRONT_PASS)
		lws_set_timeout(c->client, NO_PENDING_TIMEOUT, 0);  /* the WebSocket's own pings and idle time */
}

static void
listener_hold(struct web *w, bool hold)
{
	hold_reading(w->listener, &w->listen_held, hold);
}

/* Refusals are a client's doing: at most 20 a minute reach the log. */
static void
log_refusal(struct web *w, const struct web_conn *c, int status)
{
	time_t now = time(NULL);
	if (now - w->refusal_window >= 60) {
		if (w->refusals > 20)
			log_info("web: %u more refused requests were not logged", w->refusals - 20);
		w->refusal_window = now;
		w->refusals = 0;
	}
	if (++w->refusals <= 20)
		log_info("web: refused a request from %s: %s (%d)", c->peer, c->scan.why, status);
}

/* All replies are out and lws has closed its end: close, after reading what the client
 * still sends for a moment (closing with unread bytes would reset the connection, and
 * the client could lose the reply). */
static void
client_done(struct web_conn *c)
{
	if (!c->client_open || c->closing)
		return;
	c->closing = true;
	shutdown(c->client_fd, SHUT_WR);
	if (c->client_eof) {
		kill_soon(c->client);
		return;
	}
	c->state = FRONT_DISCARD;
	hold_reading(c->client, &c->client_held, false);
	lws_set_timeout(c->client, PENDING_TIMEOUT_CLOSE_SEND, FRONT_LINGER_SECS);
}

static bool http_start(struct web_conn *c);

static void
flush_to_http(struct web_conn *c, bool in_writeable)
{
	if (!c->http_started && queue_pending(&c->to_http) > 0 && !http_start(c))
		return;
	if (!c->relay_open) {
		if (!c->http_started && c->client_eof)
			kill_soon(c->client);  /* gone before a whole request: nothing to answer */
		return;
	}
	int rc = queue_send(&c->to_http, c->relay_fd);
	if (rc < 0) {
		kill_soon(c->relay);
		return;
	}
	if (rc == 0) {
		want_writable(c->relay, in_writeable);
		if (queue_pending(&c->to_http) > FRONT_QUEUE_MAX && c->client_open)
			hold_reading(c->client, &c->client_held, true);
		return;
	}
	if (c->client_eof && !c->relay_shut) {
		/* The client half-closed: lws sees it too, once it has all the rest. */
		shutdown(c->relay_fd, SHUT_WR);
		c->relay_shut = true;
	}
	if (c->client_open && !c->client_eof && !c->closing)
		hold_reading(c->client, &c->client_held, false);
}

static void
flush_to_client(struct web_conn *c, bool in_writeable)
{
	if (!c->client_open)
		return;
	int rc = queue_send(&c->to_client, c->client_fd);
	if (rc < 0) {
		kill_soon(c->client);
		return;
	}
	if (rc == 0) {
		want_writable(c->client, in_writeable);
		if (queue_pending(&c->to_client) > FRONT_QUEUE_MAX && c->relay_open)
			hold_reading(c->relay, &c->relay_held, true);
		return;
	}
	if (c->http_eof)
		client_done(c);
	else if (c->relay_open)
		hold_reading(c->relay, &c->relay_held, false);
}

/* The request being read is refused: lws gets WEB_REFUSAL_PATH in its place, nothing after. */
static void
front_refuse(struct web_conn *c, int status)
{
	log_refusal(c->web, c, status);
	c->refusal = status;
	queue_add(&c->to_http, refusal_request, sizeof(refusal_request) - 1);
	queue_clear(&c->head);
	c->state = FRONT_DISCARD;
}

/* Bytes from the client: checked, then queued for lws. */
static void
front_feed(struct web_conn *c, const char *data, size_t n)
{
	while (n > 0) {
		switch (c->state) {
		case FRONT_DISCARD:
			return;
		case FRONT_PASS:
			queue_add(&c->to_http, data, n);
			return;
		case FRONT_BODY: {
			size_t k = (uint64_t)n < c->body_left ? n : (size_t)c->body_left;
			queue_add(&c->to_http, data, k);
			c->body_left -= k;
			data += k;
			n -= k;
			if (c->body_left == 0)
				await(c, FRONT_HEAD);
			break;
		}
		case FRONT_HEAD: {
			size_t before = c->head.len;
			queue_add(&c->head, data, n);
			int status = 0;
			int rc = web_head_parse(&c->scan, c->head.data, c->head.len, &status);
			if (rc == 0)
				return;
			if (rc < 0) {
				front_refuse(c, status);
				return;
			}
			/* The head ends in these bytes (it did not before them): pass it, then read on
			 * from its end. */
			size_t used = c->scan.skip + c->scan.len;
			queue_add(&c->to_http, c->head.data + c->scan.skip, c->scan.len);
			data += used - before;
			n -= used - before;
			switch (c->scan.next) {
			case WEB_HEAD_NEXT_REQUEST:
				c->body_left = c->scan.content_length;
				await(c, c->body_left > 0 ? FRONT_BODY : FRONT_HEAD);
				break;
			case WEB_HEAD_NEXT_UNKNOWN:
				c->state = FRONT_DISCARD;  /* web.c refuses it (400, 411, 413) and closes */
				break;
			case WEB_HEAD_NEXT_OTHER:
				await(c, FRONT_PASS);
				break;
			}
			queue_clear(&c->head);
			memset(&c->scan, 0, sizeof(c->scan));
			break;
		}
		}
	}
}

static int
client_readable(struct web_conn *c)
{
	char buf[16384];
	ssize_t n = recv(c->client_fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
	if (n == 0) {
		c->client_eof = true;
		if (c->closing)
			return -1;
		hold_reading(c->client, &c->client_held, true);
		queue_clear(&c->head);  /* an unfinished head is no request */
		flush_to_http(c, false);
		return 0;
	}
	if (!c->closing)
		front_feed(c, buf, (size_t)n);
	sodium_memzero(buf, (size_t)n);
	flush_to_http(c, false);
	return 0;
}

static int
relay_readable(struct web_conn *c)
{
	char buf[16384];
	ssize_t n = recv(c->relay_fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	if (n <= 0)
		return -1;  /* lws closed its end: relay_closed does the rest */
	queue_add(&c->to_client, buf, (size_t)n);
	sodium_memzero(buf, (size_t)n);
	flush_to_client(c, false);
	return 0;
}

static void
relay_closed(struct web_conn *c)
{
	c->relay_open = false;
	c->http_eof = true;
	if (!c->client_open)
		return;
	if (queue_pending(&c->to_client) == 0) {
		client_done(c);
	} else {
		lws_set_timeout(c->client, PENDING_TIMEOUT_CLOSE_SEND, FRONT_FLUSH_SECS);
		flush_to_client(c, false);
	}
}

static void
client_closed(struct web_conn *c)
{
	c->client_open = false;
	if (c->relay_open)
		kill_soon(c->relay);
	kill_soon(c->http);
}

static void
conn_free(struct web_conn *c)
{
	struct web *w = c->web;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	queue_clear(&c->head);
	queue_clear(&c->to_http);
	queue_clear(&c->to_client);
	free(c);
	w->connections--;
	if (w->listener != NULL && w->connections < w->max_connections)
		listener_hold(w, false);
}

/* LWS_CALLBACK_WSI_DESTROY, which lws sends protocols[0] for every connection. */
void
web_front_wsi_destroyed(struct lws *wsi)
{
	struct web_conn *c = lws_get_opaque_user_data(wsi);
	if (c == NULL)
		return;
	if (wsi == c->client)
		c->client = NULL;
	else if (wsi == c->relay)
		c->relay = NULL;
	else if (wsi == c->http)
		c->http = NULL;
	else
		return;  /* one whose adoption failed */
	if (c->client == NULL && c->relay == NULL && c->http == NULL)
		conn_free(c);
}

struct lws *
web_adopt(struct web *w, lws_adoption_type type, int fd, const char *protocol, struct web_conn *c)
{
	lws_adopt_desc_t desc;
	memset(&desc, 0, sizeof(desc));
	desc.vh = w->vhost;
	desc.type = type;
	if (type & LWS_ADOPT_SOCKET)
		desc.fd.sockfd = fd;
	else
		desc.fd.filefd = fd;
	desc.vh_prot_name = protocol;
	desc.opaque = c;
	return lws_adopt_descriptor_vhost_via_info(&desc);
}

/* The client's address as text, for the log and the count per address. */
static void
peer_name(const struct sockaddr_storage *sa, char *out, size_t size)
{
	if (sa->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)size);
	else
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)size);
}

/* lws' side of a connection, once there is a checked request to give it: a socketpair,
 * our end as a raw descriptor, the other as lws' HTTP connection. Until then a client
 * holds one descriptor and nothing of lws (its header tables are few, and a crowd of
 * slow heads would take them all). Returns false when it could not be made (the client
 * is closed). */
static bool
http_start(struct web_conn *c)
{
	struct web *w = c->web;
	c->http_started = true;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
		log_warning("web: socketpair failed: %s", strerror(errno));
		kill_soon(c->client);
		return false;
	}
	c->relay_fd = sv[1];
	if ((c->relay = web_adopt(w, LWS_ADOPT_RAW_FILE_DESC, sv[1], "dialogd-front", c)) == NULL) {
		close(sv[0]);
		close(sv[1]);
		kill_soon(c->client);
		return false;
	}
	c->relay_open = true;
	if ((c->http = web_adopt(w, LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP, sv[0], NULL, c)) == NULL) {
		kill_soon(c->relay);
		kill_soon(c->client);
		return false;
	}
	return true;
}

/* A new client: its socket as a raw descriptor, read by the front. */
static void
conn_start(struct web *w, int fd, const struct sockaddr_storage *sa)
{
	struct web_conn *c = xcalloc(1, sizeof(*c));
	c->web = w;
	c->next = w->conns;
	if (w->conns != NULL)
		w->conns->prev = c;
	w->conns = c;
	w->connections++;
	c->client_fd = fd;
	c->relay_fd = -1;
	peer_name(sa, c->peer, sizeof(c->peer));
	/* lws closes a socket it fails to adopt, not a raw descriptor. */
	if ((c->client = web_adopt(w, LWS_ADOPT_RAW_FILE_DESC, fd, "dialogd-front", c)) == NULL) {
		close(fd);
		conn_free(c);
		return;
	}
	c->client_open = true;
	await(c, FRONT_HEAD);
}

int
web_front_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	(void)user;
	(void)in;
	(void)len;
	struct web_conn *c = lws_get_opaque_user_data(wsi);
	if (c == NULL || (wsi != c->client && wsi != c->relay))
		return 0;  /* LWS_CALLBACK_RAW_ADOPT_FILE, before conn_start knows which it is */
	bool client = wsi == c->client;
	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		return client ? client_readable(c) : relay_readable(c);
	case LWS_CALLBACK_RAW_WRITEABLE_FILE:
		if (client)
			flush_to_client(c, true);
		else
			flush_to_http(c, true);
		return 0;
	case LWS_CALLBACK_TIMER:  /* see want_writable */
		lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		if (client)
			client_closed(c);
		else
			relay_closed(c);
		return 0;
	default:
		return 0;
	}
}

/* Whether the client's address holds per_address connections already: then the new one
 * is closed at once (many slow connections from one place would hold the descriptors
 * every other visitor needs). Logged 20 a minute at most: a client's doing. */
static bool
crowded(struct web *w, const struct sockaddr_storage *sa)
{
	char peer[INET6_ADDRSTRLEN];
	peer_name(sa, peer, sizeof(peer));
	unsigned held = 0;
	for (const struct web_conn *c = w->conns; c != NULL && held < w->per_address; c = c->next)
		held += strcmp(c->peer, peer) == 0;
	if (held < w->per_address)
		return false;
	time_t now = time(NULL);
	if (now - w->crowd_window >= 60) {
		if (w->crowd_refusals > 20)
			log_info("web: %u more connections refused for their address were not logged", w->crowd_refusals - 20);
		w->crowd_window = now;
		w->crowd_refusals = 0;
	}
	if (++w->crowd_refusals <= 20)
		log_info("web: refused a connection from %s: it holds %u already ([web] connections_per_address)", peer,
			 held);
	return true;
}

/* The listening socket is readable: new clients. */
static void
accept_clients(struct web *w)
{
	for (int i = 0; i < 32; i++) {
		if (w->connections >= w->max_connections) {
			listener_hold(w, true);  /* until one closes (conn_free) */
			return;
		}
		struct sockaddr_storage sa;
		socklen_t sa_len = sizeof(sa);
		int fd = accept4(w->listen_fd, (struct sockaddr *)&sa, &sa_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
			continue;
		if (fd < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (fd < 0) {
			/* EMFILE and the like: the socket stays readable, so wait a second rather than spin. */
			log_warning("web: accept failed: %s", strerror(errno));
			listener_hold(w, true);
			lws_set_timer_usecs(w->listener, LWS_USEC_PER_SEC);
			return;
		}
		/* The replies come from the socketpair in pieces (lws writes the headers, then the
		 * body): without this, Nagle holds the second piece until the client's delayed
		 * ACK, 40 ms a request on a kept-alive connection. lws sets it on the sockets it
		 * accepts. */
		if (crowded(w, &sa)) {
			close(fd);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		conn_start(w, fd, &sa);
	}
}

int
web_listen_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	(void)user;
	(void)in;
	(void)len;
	struct web *w = lws_context_user(lws_get_context(wsi));
	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		if (wsi == w->listener)
			accept_clients(w);
		return 0;
	case LWS_CALLBACK_TIMER:  /* a second after running out of descriptors */
		if (w->connections < w->max_connections)
			listener_hold(w, false);
		return 0;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		if (wsi == w->listener) {
			w->listener = NULL;
			w->listen_fd = -1;
		}
		return 0;
	default:
		return 0;
	}
}

int
web_front_refusal(struct lws *wsi)
{
	const struct web_conn *c = lws_get_opaque_user_data(wsi);
	return c != NULL ? c->refusal : 0;
}

const char *
web_front_peer(struct lws *wsi)
{
	const struct web_conn *c = lws_get_opaque_user_data(wsi);
	return c != NULL ? c->peer : "?";
}

void
web_front_free_all(struct web *w)
{
	while (w->conns != NULL) {
		struct web_conn *c = w->conns;
		w->conns = c->next;
		queue_clear(&c->head);
		queue_clear(&c->to_http);
		queue_clear(&c->to_client);
		free(c);
	}
}
