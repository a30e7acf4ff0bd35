/* web — see web.h. The lws plumbing only: routing, request framing (Content-Length
 * required: lws 4.1 does not decode chunked bodies), headers, and the service thread.
 * What a page says is decided in reset_page.c and web_page.c.
 *
 * Layout of the lws context, for what comes next: protocols[0] "http" gets every HTTP
 * request no mount claims (today "/" and the 404s; with a file mount on "/" later, only
 * the misses); protocols[1] "dialogd-pages" gets the dynamic routes named by the mounts.
 * Both run web_http_callback, which routes on the full path. The chat WebSocket will be
 * protocols[2] and the console a file mount plus its own routes. */
#include "autoconf.h"
#include "web.h"
#include "log.h"
#include "reset_page.h"
#include "store.h"
#include "util.h"
#include "web_page.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct web {
	struct lws_context *context;
	struct store *store;            /* the web thread's own connection (opened before it starts) */
	struct reset_page_settings reset;
	char *support_address;
	char *host;                     /* the numeric address of [web] listen */
	char *address;                  /* "host:port" or "[host]:port" with the real port, for logs */
	int port;
	bool ipv6;
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

static void
home_get(struct web *w, struct lws *wsi, struct web_session *s)
{
	(void)wsi;
	web_page_home(w->support_address, &s->page);
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
	if (reset_page_get(&w->reset, w->store, token, (int64_t)time(NULL), &s->page, &err) < 0) {
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

/* Writes the status line and headers of s->page. The headers every reply carries
 * (nosniff, no-referrer, DENY) come from the vhost (info.headers). */
static int
write_headers(struct lws *wsi, struct web_session *s)
{
	unsigned char buf[LWS_PRE + 2048], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf) - 1;
	const struct web_page *page = &s->page;
	if (lws_add_http_header_status(wsi, (unsigned)page->status, &p, end) ||
	    (page->body != NULL && add_header(wsi, "content-type:", "text/html; charset=utf-8", &p, end)) ||
	    (page->status != 204 &&
	     lws_add_http_header_content_length(wsi, s->head_only ? 0 : page->len, &p, end)) ||
	    add_header(wsi, "cache-control:", "no-store", &p, end) ||
	    add_header(wsi, "content-security-policy:", web_page_csp(), &p, end) ||
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
 * length, too big, or of no use) is not read. */
static int
refuse(struct lws *wsi, struct web_session *s, int status, const char *allow)
{
	web_page_clear(&s->page);
	web_page_error(status, allow, &s->page);
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
		web_page_error(404, NULL, &s->page);
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
		web_page_error(405, route->allow, &s->page);
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
	if (reset_page_post(&w->reset, w->store, s->body, s->body_len, (int64_t)time(NULL), &s->page, &err) < 0) {
		log_error("web: %s", err);
		free(err);
	}
	/* The passwords are no longer needed. */
	sodium_memzero(s->body, s->body_expected + 1);
	free(s->body);
	s->body = NULL;
	s->reading_body = false;
	if (s->page.log_line != NULL) {
		char peer[64];
		lws_get_peer_simple(wsi, peer, sizeof(peer));
		log_info("web: %s (client %s)", s->page.log_line, peer);
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
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		/* No WebSocket protocol yet: an upgrade would bind to protocols[0]. */
		lws_return_http_status(wsi, HTTP_STATUS_FORBIDDEN, NULL);
		return -1;
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

/* Headers on every reply, lws' own error replies included. */
static const struct lws_protocol_vhost_options header_frame = { NULL, NULL, "x-frame-options:", "DENY" };
static const struct lws_protocol_vhost_options header_referrer = { &header_frame, NULL, "referrer-policy:",
								   "no-referrer" };
static const struct lws_protocol_vhost_options headers = { &header_referrer, NULL, "x-content-type-options:",
							   "nosniff" };

/* ---- start and stop ---- */

/* lws' own errors, as log lines: the main thread's at start, then the web thread's.
 * Some are a client's doing (headers over 8 KB: "Ran out of header data space"), so at
 * most 10 a minute reach the log. */
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

/* Fills *sa with the address to reach the listener on (a wildcard is reached on loopback). */
static socklen_t
listener_address(const struct web *w, int port, struct sockaddr_storage *sa)
{
	memset(sa, 0, sizeof(*sa));
	if (w->ipv6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)sa;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, strcmp(w->host, "::") == 0 ? "::1" : w->host, &a->sin6_addr);
		return sizeof(*a);
	}
	struct sockaddr_in *a = (struct sockaddr_in *)sa;
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, strcmp(w->host, "0.0.0.0") == 0 ? "127.0.0.1" : w->host, &a->sin_addr);
	return sizeof(*a);
}

/* Whether something accepts connections at the listener's address: lws only logs when it
 * cannot bind an interface, and 4.1 listened everywhere for "127.0.0.1" (#2290). */
static bool
listener_answers(const struct web *w, int port)
{
	struct sockaddr_storage sa;
	socklen_t sa_len = listener_address(w, port, &sa);
	int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool ok = connect(fd, (struct sockaddr *)&sa, sa_len) == 0;
	close(fd);
	return ok;
}

/* Why the address cannot be bound, for the log line (lws does not say). */
static const char *
bind_failure(const struct web *w)
{
	struct sockaddr_storage sa;
	socklen_t sa_len = listener_address(w, w->port, &sa);
	if (strcmp(w->host, "0.0.0.0") == 0 || strcmp(w->host, "::") == 0)
		inet_pton(sa.ss_family, w->host,
			  sa.ss_family == AF_INET6 ? (void *)&((struct sockaddr_in6 *)&sa)->sin6_addr
						   : (void *)&((struct sockaddr_in *)&sa)->sin_addr);
	int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return strerror(errno);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	int rc = bind(fd, (struct sockaddr *)&sa, sa_len);
	int saved = errno;
	close(fd);
	return rc < 0 ? strerror(saved) : "libwebsockets could not listen (see its messages above)";
}

/* Connections served at once: well below the file descriptor limit, which the store,
 * the mail threads and the logs share (lws stops accepting at this count instead of
 * spinning on EMFILE). */
static unsigned
connection_limit(void)
{
	struct rlimit rl;
	rlim_t nofile = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 1024;
	if (nofile == RLIM_INFINITY || nofile > 16384)
		nofile = 16384;
	return nofile > 256 ? (unsigned)(nofile - 128) : (unsigned)(nofile / 2);
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
	if (w->context != NULL)
		lws_context_destroy(w->context);
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
	if (parse_listen(w, settings->listen, error_r) < 0) {
		web_free(w);
		return NULL;
	}
	w->support_address = xstrdup(settings->support_address);
	w->reset.support_address = w->support_address;
	w->reset.ttl_minutes = (settings->reset_ttl + 59) / 60;
	if ((w->store = store_open(settings->store_path, error_r)) == NULL) {
		web_free(w);
		return NULL;
	}
	lws_set_log_level(LLL_ERR, lws_log_line);

	struct lws_context_creation_info info;
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND |
		       LWS_SERVER_OPTION_VALIDATE_UTF8;
	/* An IPv4 address with IPv6 enabled listens on every interface in lws 4.1 (#2290). */
	if (!w->ipv6)
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	info.user = w;
	info.gid = -1;
	info.uid = -1;
	info.fd_limit_per_thread = connection_limit();
	/* Headers up to 8 KB (lws drops a request with more, silently); at most 256
	 * requests parse their headers at once, each for 10 s at most. */
	info.max_http_header_data = 8192;
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
	info.port = w->port;
	info.iface = strcmp(w->host, "0.0.0.0") == 0 || strcmp(w->host, "::") == 0 ? NULL : w->host;
	info.protocols = protocols;
	info.mounts = &mounts;
	info.headers = &headers;
	struct lws_vhost *vhost = lws_create_vhost(w->context, &info);
	int port = vhost != NULL ? lws_get_vhost_listen_port(vhost) : -1;
	if (port <= 0 || !listener_answers(w, port)) {
		*error_r = xasprintf("cannot listen on %s: %s", settings->listen, bind_failure(w));
		web_free(w);
		return NULL;
	}
	w->port = port;
	w->address = w->ipv6 ? xasprintf("[%s]:%d", w->host, port) : xasprintf("%s:%d", w->host, port);
	int rc = pthread_create(&w->thread, NULL, web_thread, w);
	if (rc != 0) {
		*error_r = xasprintf("cannot start the thread: %s", strerror(rc));
		web_free(w);
		return NULL;
	}
	w->thread_started = true;
	log_info("web: listening on %s (reset page %s, at most %u connections)", w->address, RESET_PAGE_PATH,
		 info.fd_limit_per_thread);
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
