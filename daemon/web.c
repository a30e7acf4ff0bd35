/* web — see web.h. The lws plumbing: the front that reads every request head before lws
 * does (below), routing, request framing (Content-Length required: lws 4.1 does not
 * decode chunked bodies), headers, and the service thread. What a page says is decided
 * in reset_page.c and web_page.c.
 *
 * Layout of the lws context, for what comes next: protocols[0] "http" gets every HTTP
 * request no mount claims (today "/" and the 404s; with a file mount on "/" later, only
 * the misses); protocols[1] "dialogd-pages" gets the dynamic routes named by the mounts.
 * Both run web_http_callback, which routes on the full path. "dialogd-front" and
 * "dialogd-listen" are the front's. The chat WebSocket will be one more protocol and the
 * console a file mount plus its own routes. */
#include "autoconf.h"
#include "web.h"
#include "engine.h"
#include "log.h"
#include "reset_page.h"
#include "store.h"
#include "util.h"
#include "web_page.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct web_conn;

struct web {
	struct lws_context *context;
	struct lws_vhost *vhost;
	struct store *store;            /* the web thread's own connection (opened before it starts) */
	struct reset_page_settings reset;
	struct engine_holder *engine;   /* the pages' texts (borrowed) */
	char *support_address;
	char *host;                     /* the numeric address of [web] listen */
	char *address;                  /* "host:port" or "[host]:port" with the real port, for logs */
	int port;
	bool ipv6;
	int listen_fd;                  /* dialogd's listening socket (lws' once adopted), or -1 */
	struct lws *listener;           /* its lws connection: lws polls it, the front accepts */
	bool listen_held;               /* not accepting: too many connections, or no descriptor */
	unsigned connections;           /* clients connected now */
	unsigned max_connections;
	struct web_conn *conns;         /* all of them (freed with the context at the end) */
	/* Headers of every reply, lws' own included (info.headers): the CSP is computed. */
	struct lws_protocol_vhost_options headers[4];
	time_t refusal_window;          /* the minute refusals are counted in, for the log */
	unsigned refusals;
	pthread_t thread;
	bool thread_started;
	atomic_bool stop;
};

/* Per HTTP transaction (lws allocates it zeroed; web_http_callback frees what it holds). */
struct web_session {
	struct web_page page;           /* the reply being sent; status 0 when none */
	char *body;                     /* the POST body read so far (malloc'd, wiped: it holds passwords) */
	size_t body_len;
	size_t body_expected;           /* its Content-Length */
	bool reading_body;              /* a POST route waits for its body */
	bool head_only;                 /* HEAD: the headers without the body */
	bool close_after;               /* close once the reply is out (a body we did not read) */
};

/* ---- routes ---- */

enum method {
	METHOD_GET, METHOD_POST, METHOD_HEAD,
	METHOD_BODY,            /* PUT, PATCH: carry a body, as POST does */
	METHOD_OTHER,
};

/* Runs in the web thread: fills s->page for a GET. */
typedef void (*route_get_fn)(struct web *w, struct lws *wsi, struct web_session *s);

/* The templates of the pages, held (read lock) until texts_release: a reload waits. */
static const struct templates *
texts_hold(struct web *w)
{
	pthread_rwlock_rdlock(&w->engine->lock);
	return w->engine->engine->templates;
}

static void
texts_release(struct web *w)
{
	pthread_rwlock_unlock(&w->engine->lock);
}

/* An error page for status, built under the engine's read lock. */
static void
error_page(struct web *w, int status, const char *allow, struct web_page *page)
{
	web_page_error(texts_hold(w), status, allow, page);
	texts_release(w);
}

static void
home_get(struct web *w, struct lws *wsi, struct web_session *s)
{
	(void)wsi;
	web_page_home(texts_hold(w), w->support_address, &s->page);
	texts_release(w);
}

static void
favicon_get(struct web *w, struct lws *wsi, struct web_session *s)
{
	(void)w;
	(void)wsi;
	web_page_no_content(&s->page);
}

/* The jeton of the query string (caller frees with web_secret_free); NULL when absent or
 * given twice. lws has already split the query at '&' and decoded it. */
static char *
query_token(struct lws *wsi)
{
	int total = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS);
	if (total <= 0)
		return NULL;
	/* Room for the whole query: a failed copy means there is no such fragment. */
	char *frag = xmalloc((size_t)total + 1);
	char *found = NULL;
	bool twice = false;
	for (int i = 0; !twice && lws_hdr_copy_fragment(wsi, frag, total + 1, WSI_TOKEN_HTTP_URI_ARGS, i) >= 0; i++) {
		if (strncmp(frag, "jeton=", 6) != 0)
			continue;
		if (found != NULL)
			twice = true;
		else
			found = xstrdup(frag + 6);
	}
	sodium_memzero(frag, (size_t)total + 1);
	free(frag);
	if (twice)
		web_secret_free(&found);
	return found;
}

static void
reset_get(struct web *w, struct lws *wsi, struct web_session *s)
{
	char *token = query_token(wsi);
	char *err = NULL;
	int rc = reset_page_get(&w->reset, texts_hold(w), w->store, token, (int64_t)time(NULL), &s->page, &err);
	texts_release(w);
	if (rc < 0) {
		log_error("web: %s", err);
		free(err);
	}
	web_secret_free(&token);
}

static const struct route {
	const char *path;
	route_get_fn get;
	bool post;                      /* takes a form (reset_page_post) */
	const char *allow;              /* the methods, for a 405 */
} routes[] = {
	{ "/", home_get, false, "GET" },
	{ "/favicon.ico", favicon_get, false, "GET" },
	{ RESET_PAGE_PATH, reset_get, true, "GET, POST" },
};

static const struct route *
route_find(const char *path, int len)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(*routes); i++)
		if ((size_t)len == strlen(routes[i].path) && memcmp(path, routes[i].path, (size_t)len) == 0)
			return &routes[i];
	return NULL;
}

/* ---- replies ---- */

static void
session_reset(struct web_session *s)
{
	web_page_clear(&s->page);
	if (s->body != NULL) {
		sodium_memzero(s->body, s->body_expected + 1);
		free(s->body);
	}
	memset(s, 0, sizeof(*s));
}

static int
add_header(struct lws *wsi, const char *name, const char *value, unsigned char **p, unsigned char *end)
{
	return lws_add_http_header_by_name(wsi, (const unsigned char *)name, (const unsigned char *)value,
					   (int)strlen(value), p, end);
}

/* The status line, then the headers of every reply (nosniff, no-referrer, DENY, the CSP),
 * which lws_add_http_header_status adds from the vhost (info.headers). lws 4.1 knows no
 * reason phrase for 431 and would send "HTTP/1.1 431 ": that one is written here. */
static int
add_status(struct lws *wsi, int status, unsigned char **p, unsigned char *end)
{
	static const char line_431[] = "HTTP/1.1 431 Request Header Fields Too Large";
	if (status != 431)
		return lws_add_http_header_status(wsi, (unsigned)status, p, end) ? -1 : 0;
	struct web *w = lws_context_user(lws_get_context(wsi));
	if (lws_add_http_header_by_name(wsi, NULL, (const unsigned char *)line_431, sizeof(line_431) - 1, p, end))
		return -1;
	for (const struct lws_protocol_vhost_options *h = &w->headers[0]; h != NULL; h = h->next)
		if (add_header(wsi, h->name, h->value, p, end))
			return -1;
	return 0;
}

/* Writes the status line and headers of s->page. */
static int
write_headers(struct lws *wsi, struct web_session *s)
{
	unsigned char buf[LWS_PRE + 2048], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf) - 1;
	const struct web_page *page = &s->page;
	if (add_status(wsi, page->status, &p, end) ||
	    (page->body != NULL && add_header(wsi, "content-type:", "text/html; charset=utf-8", &p, end)) ||
	    (page->status != 204 &&
	     lws_add_http_header_content_length(wsi, s->head_only ? 0 : page->len, &p, end)) ||
	    add_header(wsi, "cache-control:", "no-store", &p, end) ||
	    (page->allow != NULL && add_header(wsi, "allow:", page->allow, &p, end)) ||
	    (s->close_after && add_header(wsi, "connection:", "close", &p, end)))
		return -1;
	return lws_finalize_write_http_header(wsi, start, &p, end) ? -1 : 0;
}

static int
write_body(struct lws *wsi, struct web_session *s)
{
	/* lws_write wants LWS_PRE bytes of its own before the data. */
	unsigned char *buf = xmalloc(LWS_PRE + s->page.len);
	memcpy(buf + LWS_PRE, s->page.body, s->page.len);
	int n = lws_write(wsi, buf + LWS_PRE, s->page.len, LWS_WRITE_HTTP_FINAL);
	free(buf);
	return n == (int)s->page.len ? 0 : -1;
}

/* After the last byte: the next request on the connection, or its end (-1). */
static int
finish(struct lws *wsi, struct web_session *s)
{
	bool close_now = s->close_after;
	session_reset(s);
	if (close_now)
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* Sends s->page: the headers now, the body when the socket is writable. */
static int
reply(struct lws *wsi, struct web_session *s)
{
	if (write_headers(wsi, s) < 0)
		return -1;
	if (s->head_only || s->page.body == NULL)
		return finish(wsi, s);
	lws_callback_on_writable(wsi);
	return 0;
}

/* An error page sent at once, then the connection closed: the request's body (unknown
 * length, too big, or of no use) is not read. s may be NULL (no session yet). */
static int
refuse(struct lws *wsi, struct web_session *s, int status, const char *allow)
{
	struct web_session none;
	if (s == NULL) {
		memset(&none, 0, sizeof(none));
		s = &none;
	}
	web_page_clear(&s->page);
	error_page(lws_context_user(lws_get_context(wsi)), status, allow, &s->page);
	s->close_after = true;
	if (write_headers(wsi, s) == 0 && !s->head_only)
		write_body(wsi, s);
	session_reset(s);
	return -1;
}

/* ---- request framing ---- */

/* Checks Content-Length and Transfer-Encoding before any body is read. Returns 0 (with
 * *length_r, -1 when there is none) or the status to refuse the request with. */
static int
body_framing(struct lws *wsi, long *length_r)
{
	*length_r = -1;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0)
		return 411;  /* lws 4.1 cannot read a chunked body (#724): ask for a length */
	int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
	if (n <= 0)
		return 0;
	char *value = xmalloc((size_t)n + 1);
	int copied = lws_hdr_copy(wsi, value, n + 1, WSI_TOKEN_HTTP_CONTENT_LENGTH);
	bool number = copied == n && strspn(value, "0123456789") == (size_t)n;
	/* Past 9 digits it is too big whatever its value (and strtol could overflow). */
	long length = number && n <= 9 ? strtol(value, NULL, 10) : -1;
	free(value);
	if (!number)
		return 400;  /* also two Content-Length headers, which lws joins with a comma */
	if (length < 0 || length > RESET_PAGE_MAX_BODY)
		return 413;
	*length_r = length;
	return 0;
}

static bool
is_form(struct lws *wsi)
{
	char type[128];
	static const char form[] = "application/x-www-form-urlencoded";
	if (lws_hdr_copy(wsi, type, sizeof(type), WSI_TOKEN_HTTP_CONTENT_TYPE) <= 0 ||
	    strncasecmp(type, form, sizeof(form) - 1) != 0)
		return false;
	char next = type[sizeof(form) - 1];
	return next == '\0' || next == ';' || next == ' ';
}

static enum method
request_method(struct lws *wsi)
{
	if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0)
		return METHOD_GET;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0)
		return METHOD_POST;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) > 0)
		return METHOD_HEAD;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_PUT_URI) > 0 || lws_hdr_total_length(wsi, WSI_TOKEN_PATCH_URI) > 0)
		return METHOD_BODY;
	return METHOD_OTHER;
}

/* ---- the front: every request head is read here before lws reads it ---- */

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
 * way. A refused request is answered by web_http_callback like any other (REFUSAL_PATH),
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
	int refusal;                    /* the status REFUSAL_PATH is answered with, 0 when none */
};

/* The request the front puts in place of a refused one (see on_request). A client may ask
 * for this path itself: it is then an ordinary 404, or at worst its own request refused. */
#define REFUSAL_PATH "/.dialogd-refus"
static const char refusal_request[] = "GET " REFUSAL_PATH " HTTP/1.1\r\nHost: dialogd\r\n\r\n";

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

static void
flush_to_http(struct web_conn *c, bool in_writeable)
{
	if (!c->relay_open)
		return;
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

/* The request being read is refused: lws gets REFUSAL_PATH in its place, nothing after. */
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
				c->state = FRONT_HEAD;
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
				c->state = c->body_left > 0 ? FRONT_BODY : FRONT_HEAD;
				break;
			case WEB_HEAD_NEXT_UNKNOWN:
				c->state = FRONT_DISCARD;  /* web.c refuses it (400, 411, 413) and closes */
				break;
			case WEB_HEAD_NEXT_OTHER:
				c->state = FRONT_PASS;
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
static void
conn_wsi_destroyed(struct lws *wsi)
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

static struct lws *
adopt(struct web *w, lws_adoption_type type, int fd, const char *protocol, struct web_conn *c)
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

/* A new client: its socket and our end of a socketpair as raw descriptors, the other end
 * as lws' HTTP connection. */
static void
conn_start(struct web *w, int fd, const struct sockaddr_storage *sa)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
		log_warning("web: socketpair failed: %s", strerror(errno));
		close(fd);
		listener_hold(w, true);  /* as accept_clients does */
		lws_set_timer_usecs(w->listener, LWS_USEC_PER_SEC);
		return;
	}
	struct web_conn *c = xcalloc(1, sizeof(*c));
	c->web = w;
	c->next = w->conns;
	if (w->conns != NULL)
		w->conns->prev = c;
	w->conns = c;
	w->connections++;
	c->client_fd = fd;
	c->relay_fd = sv[1];
	if (sa->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, c->peer, sizeof(c->peer));
	else
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, c->peer, sizeof(c->peer));
	/* lws closes a socket it fails to adopt, not a raw descriptor. */
	if ((c->client = adopt(w, LWS_ADOPT_RAW_FILE_DESC, fd, "dialogd-front", c)) == NULL) {
		close(fd);
		close(sv[0]);
		close(sv[1]);
		conn_free(c);
		return;
	}
	c->client_open = true;
	if ((c->relay = adopt(w, LWS_ADOPT_RAW_FILE_DESC, sv[1], "dialogd-front", c)) == NULL) {
		close(sv[0]);
		close(sv[1]);
		kill_soon(c->client);
		return;
	}
	c->relay_open = true;
	if ((c->http = adopt(w, LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP, sv[0], NULL, c)) == NULL) {
		kill_soon(c->relay);
		kill_soon(c->client);
	}
}

static int
front_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
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
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		conn_start(w, fd, &sa);
	}
}

static int
listen_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
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

/* ---- the callback (web thread) ---- */

static int
on_request(struct web *w, struct lws *wsi, struct web_session *s)
{
	session_reset(s);
	char *path = NULL;
	int path_len = 0;
	if (lws_http_get_uri_and_method(wsi, &path, &path_len) < 0 || path == NULL)
		return -1;
	/* The front refused the client's request and put this one in its place. */
	struct web_conn *c = lws_get_opaque_user_data(wsi);
	if (c != NULL && c->refusal != 0 && (size_t)path_len == sizeof(REFUSAL_PATH) - 1 &&
	    memcmp(path, REFUSAL_PATH, sizeof(REFUSAL_PATH) - 1) == 0)
		return refuse(wsi, s, c->refusal, NULL);
	enum method method = request_method(wsi);
	s->head_only = method == METHOD_HEAD;
	long length;
	int status = body_framing(wsi, &length);
	if (status == 0 && length < 0 && (method == METHOD_POST || method == METHOD_BODY))
		status = 411;  /* lws would wait for 100 MB of body */
	if (status != 0)
		return refuse(wsi, s, status, NULL);
	const struct route *route = route_find(path, path_len);
	if (route == NULL) {
		error_page(w, 404, NULL, &s->page);
	} else if (method == METHOD_GET) {
		route->get(w, wsi, s);
	} else if (method == METHOD_POST && route->post) {
		if (!is_form(wsi))
			return refuse(wsi, s, 415, NULL);
		/* The body comes in LWS_CALLBACK_HTTP_BODY (even an empty one), then the reply. */
		s->reading_body = true;
		s->body_expected = (size_t)length;
		s->body = xmalloc(s->body_expected + 1);
		return 0;
	} else {
		error_page(w, 405, route->allow, &s->page);
	}
	/* A body we did not read: lws would read and drop it, then lose a request pipelined
	 * behind it; closing is simpler. */
	s->close_after = length > 0;
	return reply(wsi, s);
}

static int
on_body_complete(struct web *w, struct lws *wsi, struct web_session *s)
{
	char *err = NULL;
	int rc = reset_page_post(&w->reset, texts_hold(w), w->store, s->body, s->body_len, (int64_t)time(NULL), &s->page,
				 &err);
	texts_release(w);
	if (rc < 0) {
		log_error("web: %s", err);
		free(err);
	}
	/* The passwords are no longer needed. */
	sodium_memzero(s->body, s->body_expected + 1);
	free(s->body);
	s->body = NULL;
	s->reading_body = false;
	if (s->page.log_line != NULL) {
		/* lws' own connection is a socketpair: the client's address is the front's. */
		const struct web_conn *c = lws_get_opaque_user_data(wsi);
		log_info("web: %s (client %s)", s->page.log_line, c != NULL ? c->peer : "?");
	}
	return reply(wsi, s);
}

static int
web_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct web_session *s = user;
	struct web *w = lws_context_user(lws_get_context(wsi));
	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return on_request(w, wsi, s);
	case LWS_CALLBACK_HTTP_BODY:
		if (s == NULL || !s->reading_body)
			return 0;
		if (len > s->body_expected - s->body_len)
			return -1;  /* more than announced: lws should not let it through */
		if (len > 0) {  /* an empty body comes as (NULL, 0) */
			memcpy(s->body + s->body_len, in, len);
			s->body_len += len;
		}
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (s == NULL || !s->reading_body)
			return 0;
		return on_body_complete(w, wsi, s);
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (s == NULL || s->page.body == NULL)
			return 0;
		if (write_body(wsi, s) < 0) {
			session_reset(s);
			return -1;
		}
		return finish(wsi, s);
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		/* The front lets only "websocket" through. Should that change, lws 4.1 would
		 * switch to its HTTP/2 stack on "h2c" right after this (LWS_WITH_HTTP2 is built
		 * in, and no option turns the upgrade off): HTTP/1.1 only. */
		if (in != NULL && strcasecmp(in, "websocket") == 0)
			return 0;
		return refuse(wsi, s, 400, NULL);
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		/* No WebSocket protocol yet: an upgrade would bind to protocols[0]. */
		lws_return_http_status(wsi, HTTP_STATUS_FORBIDDEN, NULL);
		return -1;
	case LWS_CALLBACK_WSI_DESTROY:
		conn_wsi_destroyed(wsi);
		return 0;
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		if (s != NULL)
			session_reset(s);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static const struct lws_protocols protocols[] = {
	{ .name = "http", .callback = web_http_callback, .per_session_data_size = sizeof(struct web_session) },
	{ .name = "dialogd-pages", .callback = web_http_callback, .per_session_data_size = sizeof(struct web_session) },
	{ .name = "dialogd-front", .callback = front_callback },
	{ .name = "dialogd-listen", .callback = listen_callback },
	{ .name = NULL },
};

static const struct lws_http_mount mount_favicon = {
	.mountpoint = "/favicon.ico",
	.mountpoint_len = sizeof("/favicon.ico") - 1,
	.origin = "dialogd-pages",
	.origin_protocol = LWSMPRO_CALLBACK,
};
static const struct lws_http_mount mounts = {
	.mount_next = &mount_favicon,
	.mountpoint = RESET_PAGE_PATH,
	.mountpoint_len = sizeof(RESET_PAGE_PATH) - 1,
	.origin = "dialogd-pages",
	.origin_protocol = LWSMPRO_CALLBACK,
};

/* ---- start and stop ---- */

/* lws' own errors, as log lines: the main thread's at start, then the web thread's.
 * Some may be a client's doing (the front refuses what lws would complain about, but
 * lws' own checks remain), so at most 10 a minute reach the log. */
static void
lws_log_line(int level, const char *line)
{
	static time_t window;
	static unsigned count;
	(void)level;
	time_t now = time(NULL);
	if (now - window >= 60) {
		if (count > 10)
			log_warning("web: libwebsockets: %u more messages were not logged", count - 10);
		window = now;
		count = 0;
	}
	if (++count > 10)
		return;
	size_t n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	log_warning("web: libwebsockets: %.*s", (int)n, line);
}

/* Splits [web] listen (util's listen_parse: numeric addresses only). */
static int
parse_listen(struct web *w, const char *listen, char **error_r)
{
	char *why = NULL;
	if (listen_parse(listen, &w->host, &w->port, &w->ipv6, &why) < 0) {
		*error_r = xasprintf("[web] listen: %s", why);
		free(why);
		return -1;
	}
	return 0;
}

/* Binds [web] listen with dialogd's own socket (the front accepts, see above). Doing it
 * here also sidesteps lws 4.1 listening on every interface for "127.0.0.1" with IPv6 on
 * (#2290). Sets w->listen_fd and w->port (the real one for port 0). */
static int
listen_open(struct web *w, const char *listen_text, char **error_r)
{
	struct sockaddr_storage sa;
	socklen_t sa_len;
	memset(&sa, 0, sizeof(sa));
	if (w->ipv6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&sa;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)w->port);
		inet_pton(AF_INET6, w->host, &a->sin6_addr);
		sa_len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&sa;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)w->port);
		inet_pton(AF_INET, w->host, &a->sin_addr);
		sa_len = sizeof(*a);
	}
	int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sa_len) < 0 || listen(fd, SOMAXCONN) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sa_len) < 0) {
		*error_r = xasprintf("cannot listen on %s: %s", listen_text, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	w->listen_fd = fd;
	w->port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
						 : ((struct sockaddr_in *)&sa)->sin_port);
	return 0;
}

/* Descriptors for lws (each one's number must be below it), from the soft limit; the
 * store, the mail threads and the logs keep 128 of them. */
static unsigned
fd_limit(void)
{
	struct rlimit rl;
	rlim_t nofile = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 1024;
	if (nofile == RLIM_INFINITY || nofile > 16384)
		nofile = 16384;
	return (unsigned)nofile;
}

static void *
web_thread(void *arg)
{
	struct web *w = arg;
	while (!atomic_load(&w->stop))
		if (lws_service(w->context, 0) < 0)
			break;
	return NULL;
}

static void
web_free(struct web *w)
{
	/* Once adopted, the listening socket is lws' to close. */
	if (w->listen_fd >= 0 && w->listener == NULL)
		close(w->listen_fd);
	if (w->context != NULL)
		lws_context_destroy(w->context);
	/* lws sends LWS_CALLBACK_WSI_DESTROY for each connection it closes; whatever is left. */
	while (w->conns != NULL) {
		struct web_conn *c = w->conns;
		w->conns = c->next;
		queue_clear(&c->head);
		queue_clear(&c->to_http);
		queue_clear(&c->to_client);
		free(c);
	}
	store_close(&w->store);
	free(w->support_address);
	free(w->host);
	free(w->address);
	free(w);
}

struct web *
web_start(const struct web_settings *settings, char **error_r)
{
	struct web *w = xcalloc(1, sizeof(*w));
	atomic_init(&w->stop, false);
	w->listen_fd = -1;
	if (parse_listen(w, settings->listen, error_r) < 0) {
		web_free(w);
		return NULL;
	}
	w->engine = settings->engine;
	w->support_address = xstrdup(settings->support_address);
	w->reset.support_address = w->support_address;
	w->reset.ttl_minutes = (settings->reset_ttl + 59) / 60;
	if ((w->store = store_open(settings->store_path, error_r)) == NULL || listen_open(w, settings->listen, error_r) < 0) {
		web_free(w);
		return NULL;
	}
	lws_set_log_level(LLL_ERR, lws_log_line);

	/* Headers on every reply, lws' own error replies included. */
	static const char *const header_pairs[][2] = {
		{ "x-content-type-options:", "nosniff" },
		{ "referrer-policy:", "no-referrer" },
		{ "x-frame-options:", "DENY" },
		{ "content-security-policy:", NULL },
	};
	for (size_t i = 0; i < 4; i++) {
		w->headers[i].next = i + 1 < 4 ? &w->headers[i + 1] : NULL;
		w->headers[i].name = header_pairs[i][0];
		w->headers[i].value = header_pairs[i][1] != NULL ? header_pairs[i][1] : web_page_csp();
	}

	struct lws_context_creation_info info;
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_VALIDATE_UTF8;
	info.user = w;
	info.gid = -1;
	info.uid = -1;
	/* Three descriptors a client (its socket, the socketpair), one for the listener. */
	info.fd_limit_per_thread = fd_limit();
	w->max_connections = info.fd_limit_per_thread > 256 ? (info.fd_limit_per_thread - 128) / 3
							    : info.fd_limit_per_thread / 6;
	/* The front lets heads up to WEB_HEAD_MAX bytes and WEB_HEAD_MAX_FIELDS fields through;
	 * lws stores them with up to 10 bytes more a field (its unknown-header records, the
	 * NULs) and would drop the connection without a word past its buffer: 1 KB spare. At
	 * most 256 requests parse their headers at once, each for 10 s at most. */
	info.max_http_header_data = WEB_HEAD_MAX + 1024;
	info.max_http_header_pool = 256;
	info.timeout_secs = 10;
	info.keepalive_timeout = 5;
	w->context = lws_create_context(&info);
	if (w->context == NULL) {
		*error_r = xstrdup("cannot create the libwebsockets context");
		web_free(w);
		return NULL;
	}
	info.vhost_name = "dialogd";
	info.server_string = "dialogd";
	info.port = CONTEXT_PORT_NO_LISTEN_SERVER;  /* the front accepts */
	info.protocols = protocols;
	info.mounts = &mounts;
	info.headers = &w->headers[0];
	w->vhost = lws_create_vhost(w->context, &info);
	if (w->vhost == NULL) {
		*error_r = xstrdup("cannot create the libwebsockets vhost");
		web_free(w);
		return NULL;
	}
	if ((w->listener = adopt(w, LWS_ADOPT_RAW_FILE_DESC, w->listen_fd, "dialogd-listen", NULL)) == NULL) {
		*error_r = xstrdup("libwebsockets cannot poll the listening socket");
		close(w->listen_fd);
		w->listen_fd = -1;
		web_free(w);
		return NULL;
	}
	w->address = w->ipv6 ? xasprintf("[%s]:%d", w->host, w->port) : xasprintf("%s:%d", w->host, w->port);
	int rc = pthread_create(&w->thread, NULL, web_thread, w);
	if (rc != 0) {
		*error_r = xasprintf("cannot start the thread: %s", strerror(rc));
		web_free(w);
		return NULL;
	}
	w->thread_started = true;
	log_info("web: listening on %s (reset page %s, at most %u connections)", w->address, RESET_PAGE_PATH,
		 w->max_connections);
	return w;
}

void
web_request_stop(struct web *w)
{
	if (w == NULL)
		return;
	atomic_store(&w->stop, true);
	lws_cancel_service(w->context);
}

void
web_stop(struct web **wp)
{
	struct web *w = *wp;
	if (w == NULL)
		return;
	web_request_stop(w);
	if (w->thread_started)
		pthread_join(w->thread, NULL);
	web_free(w);
	*wp = NULL;
}
