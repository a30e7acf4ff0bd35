/* web — see web.h. The lws plumbing: the front that reads every request head before lws
 * does (below), routing, request framing (Content-Length required: lws 4.1 does not
 * decode chunked bodies), headers, and the service thread. What a page says is decided
 * in reset_page.c and web_page.c.
 *
 * Layout of the lws context, for what comes next: protocols[0] "http" gets every HTTP
 * request no mount claims (today "/" and the 404s; with a file mount on "/" later, only
 * the misses); protocols[1] "dialogd-pages" gets the dynamic routes named by the mounts.
 * Both run web_http_callback, which routes on the full path. "dialogd-front" and
 * "dialogd-listen" are the front's. The caller's WebSocket protocols follow (the chat's,
 * daemon/chat/chat_ws.c, which checks the path and Origin itself); the console will be a
 * file mount plus its own routes. */
#include "autoconf.h"
#include "web/web.h"
#include "web/web_internal.h"
#include "engine/engine.h"
#include "core/log.h"
#include "web/reset_page.h"
#include "store/store.h"
#include "core/util.h"
#include "web/web_page.h"

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


/* Our protocols, before the caller's in w->protocols (base_protocols, below). */
#define BASE_PROTOCOLS 4

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
	const char *type = page->content_type != NULL ? page->content_type : "text/html; charset=utf-8";
	if (add_status(wsi, page->status, &p, end) ||
	    (page->body != NULL && add_header(wsi, "content-type:", type, &p, end)) ||
	    (page->status != 204 &&
	     lws_add_http_header_content_length(wsi, s->head_only ? 0 : page->len, &p, end)) ||
	    add_header(wsi, "cache-control:", page->cache_control != NULL ? page->cache_control : "no-store", &p, end) ||
	    (page->content_encoding != NULL && add_header(wsi, "content-encoding:", page->content_encoding, &p, end)) ||
	    (page->vary != NULL && add_header(wsi, "vary:", page->vary, &p, end)) ||
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
	int refusal = web_front_refusal(wsi);
	if (refusal != 0 && (size_t)path_len == sizeof(WEB_REFUSAL_PATH) - 1 &&
	    memcmp(path, WEB_REFUSAL_PATH, sizeof(WEB_REFUSAL_PATH) - 1) == 0)
		return refuse(wsi, s, refusal, NULL);
	enum method method = request_method(wsi);
	s->head_only = method == METHOD_HEAD;
	long length;
	int status = body_framing(wsi, &length);
	if (status == 0 && length < 0 && (method == METHOD_POST || method == METHOD_BODY))
		status = 411;  /* lws would wait for 100 MB of body */
	if (status != 0)
		return refuse(wsi, s, status, NULL);
	const struct route *route = route_find(path, path_len);
	const struct web_asset *asset = web_widget_find(&w->widget, path, (size_t)path_len);
	if (asset != NULL && (method == METHOD_GET || method == METHOD_HEAD)) {
		char accept[256];
		/* A longer Accept-Encoding than this is no browser's: served uncompressed. */
		bool gzip = lws_hdr_copy(wsi, accept, sizeof(accept), WSI_TOKEN_HTTP_ACCEPT_ENCODING) > 0 &&
			    web_accepts_gzip(accept);
		web_widget_page(asset, gzip, &s->page);
	} else if (asset != NULL) {
		error_page(w, 405, "GET", &s->page);
	} else if (route == NULL) {
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
		log_info("web: %s (client %s)", s->page.log_line, web_front_peer(wsi));
	}
	return reply(wsi, s);
}

/* Whether the upgrade's Sec-WebSocket-Protocol names one of the caller's protocols. */
static bool
names_our_protocol(struct web *w, struct lws *wsi)
{
	char list[256];
	if (lws_hdr_total_length(wsi, WSI_TOKEN_PROTOCOL) >= (int)sizeof(list) ||
	    lws_hdr_copy(wsi, list, sizeof(list), WSI_TOKEN_PROTOCOL) <= 0)
		return false;
	for (char *p = list; *p;) {
		p += strspn(p, " \t,");
		size_t n = strcspn(p, " \t,");
		for (size_t i = BASE_PROTOCOLS; n > 0 && w->protocols[i].name != NULL; i++)
			if (strlen(w->protocols[i].name) == n && strncmp(w->protocols[i].name, p, n) == 0)
				return true;
		p += n;
	}
	return false;
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
		if (in == NULL || strcasecmp(in, "websocket") != 0)
			return refuse(wsi, s, 400, NULL);
		/* lws 4.1 drops an upgrade naming only protocols it does not serve without a
		 * word: a 403 says so (one naming none binds to protocols[0], refused below). */
		if (names_our_protocol(w, wsi))
			return 0;
		lws_return_http_status(wsi, HTTP_STATUS_FORBIDDEN, NULL);
		return -1;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		/* An upgrade naming no protocol of ours binds to protocols[0]: refused. */
		lws_return_http_status(wsi, HTTP_STATUS_FORBIDDEN, NULL);
		return -1;
	case LWS_CALLBACK_WSI_DESTROY:
		web_front_wsi_destroyed(wsi);
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

static const struct lws_protocols base_protocols[] = {
	{ .name = "http", .callback = web_http_callback, .per_session_data_size = sizeof(struct web_session) },
	{ .name = "dialogd-pages", .callback = web_http_callback, .per_session_data_size = sizeof(struct web_session) },
	{ .name = "dialogd-front", .callback = web_front_callback },
	{ .name = "dialogd-listen", .callback = web_listen_callback },
};
_Static_assert(sizeof(base_protocols) / sizeof(*base_protocols) == BASE_PROTOCOLS, "BASE_PROTOCOLS");

/* Ours, then the caller's, then the terminating entry: lws wants one array. */
static struct lws_protocols *
protocols_join(const struct lws_protocols *extra)
{
	size_t n = 0;
	while (extra != NULL && extra[n].name != NULL)
		n++;
	struct lws_protocols *all = xcalloc(BASE_PROTOCOLS + n + 1, sizeof(*all));
	memcpy(all, base_protocols, sizeof(base_protocols));
	if (n > 0)
		memcpy(all + BASE_PROTOCOLS, extra, n * sizeof(*extra));
	return all;
}

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
	web_front_free_all(w);
	store_close(&w->store);
	web_widget_free(&w->widget);
	free(w->support_address);
	free(w->store_path);
	free(w->host);
	free(w->address);
	free(w->protocols);
	free(w);
}

struct web *
web_bind(const struct web_settings *settings, char **error_r)
{
	struct web *w = xcalloc(1, sizeof(*w));
	atomic_init(&w->stop, false);
	w->listen_fd = -1;
	w->engine = settings->engine;
	w->support_address = xstrdup(settings->support_address);
	w->store_path = xstrdup(settings->store_path);
	w->reset.support_address = w->support_address;
	w->reset.ttl_minutes = (settings->reset_ttl + 59) / 60;
	w->header_timeout = settings->header_timeout ? (int)settings->header_timeout : WEB_HEADER_TIMEOUT;
	w->body_timeout = settings->body_timeout ? (int)settings->body_timeout : WEB_BODY_TIMEOUT;
	w->per_address = settings->connections_per_address ? (unsigned)settings->connections_per_address
							   : WEB_CONNECTIONS_PER_ADDRESS;
	w->protocols = protocols_join(settings->extra_protocols);
	if (web_widget_load(&w->widget, settings->data_dir, &settings->widget, error_r) < 0 ||
	    parse_listen(w, settings->listen, error_r) < 0 || listen_open(w, settings->listen, error_r) < 0) {
		web_free(w);
		return NULL;
	}
	w->address = w->ipv6 ? xasprintf("[%s]:%d", w->host, w->port) : xasprintf("%s:%d", w->host, w->port);
	return w;
}

/* Headers on every reply, lws' own error replies included. */
static void
common_headers(struct web *w)
{
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
}

/* The lws context and its one vhost, with no listener of its own (the front accepts),
 * and the listening socket handed to it. Returns 0, or -1 with *error_r. */
static int
lws_setup(struct web *w, char **error_r)
{
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
	if ((w->context = lws_create_context(&info)) == NULL) {
		*error_r = xstrdup("cannot create the libwebsockets context");
		return -1;
	}
	info.vhost_name = "dialogd";
	info.server_string = "dialogd";
	info.port = CONTEXT_PORT_NO_LISTEN_SERVER;  /* the front accepts */
	info.protocols = w->protocols;
	info.mounts = &mounts;
	info.headers = &w->headers[0];
	if ((w->vhost = lws_create_vhost(w->context, &info)) == NULL) {
		*error_r = xstrdup("cannot create the libwebsockets vhost");
		return -1;
	}
	if ((w->listener = web_adopt(w, LWS_ADOPT_RAW_FILE_DESC, w->listen_fd, "dialogd-listen", NULL)) == NULL) {
		*error_r = xstrdup("libwebsockets cannot poll the listening socket");
		close(w->listen_fd);
		w->listen_fd = -1;
		return -1;
	}
	return 0;
}

int
web_start(struct web *w, char **error_r)
{
	if ((w->store = store_open(w->store_path, error_r)) == NULL)
		return -1;
	lws_set_log_level(LLL_ERR, lws_log_line);
	common_headers(w);
	if (lws_setup(w, error_r) < 0)
		return -1;
	int rc = pthread_create(&w->thread, NULL, web_thread, w);
	if (rc != 0) {
		*error_r = xasprintf("cannot start the thread: %s", strerror(rc));
		return -1;
	}
	w->thread_started = true;
	log_info("web: listening on %s (reset page %s, chat widget /widget.js version %s, at most %u connections)",
		 w->address, RESET_PAGE_PATH, w->widget.version, w->max_connections);
	return 0;
}

const char *
web_client_address(struct lws *wsi)
{
	return web_front_peer(wsi);
}

void
web_request_stop(struct web *w)
{
	if (w == NULL)
		return;
	atomic_store(&w->stop, true);
	if (w->context != NULL)
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
