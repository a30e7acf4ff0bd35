/* web — see web.h. The routes (the reset page, the widget's files, the handlers of
 * web_settings: the console), request framing (Content-Length required: lws 4.1 does not
 * decode chunked bodies), the replies' headers and the HTTP callback. The listening
 * socket, the lws context and the service thread are web_server.c's; the front that
 * reads every request head before lws does is web_front.c's. What a page says is
 * decided in reset_page.c, web_page.c and the handlers.
 *
 * Layout of the lws context: protocols[0] "http" gets every HTTP request no mount
 * claims (today "/", the widget's files, the handlers' paths and the 404s);
 * protocols[1] "dialogd-pages" gets the dynamic routes named by the mounts. Both run
 * web_http_callback, which routes on the full path. "dialogd-front" and
 * "dialogd-listen" are the front's. The caller's WebSocket protocols follow (the chat's,
 * daemon/chat/chat_ws.c, which checks the path and Origin itself). */
#include "autoconf.h"
#include "web/web.h"
#include "web/web_internal.h"
#include "engine/engine.h"
#include "core/log.h"
#include "web/reset_page.h"
#include "store/store.h"
#include "core/util.h"
#include "web/web_page.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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
	const struct web_handler *handler;      /* the form being read is for this handler (else the reset page) */
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
	    (page->location != NULL && add_header(wsi, "location:", page->location, &p, end)) ||
	    (page->set_cookie != NULL && add_header(wsi, "set-cookie:", page->set_cookie, &p, end)) ||
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
body_framing(struct lws *wsi, long max, long *length_r)
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
	if (length < 0 || length > max)
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

/* ---- the handlers of web_settings (the console) ---- */

static const struct web_handler *
handler_find(struct web *w, const char *path, int len)
{
	for (const struct web_handler *h = w->handlers; h != NULL && h->prefix != NULL; h++) {
		size_t n = strlen(h->prefix);
		if ((size_t)len >= n && memcmp(path, h->prefix, n) == 0)
			return h;
		/* "/console" itself, without its slash, is the handler's too. */
		if ((size_t)len == n - 1 && h->prefix[n - 1] == '/' && memcmp(path, h->prefix, n - 1) == 0)
			return h;
	}
	return NULL;
}

/* The posted form is no longer needed (it may hold a password). */
static void
wipe_body(struct web_session *s)
{
	sodium_memzero(s->body, s->body_expected + 1);
	free(s->body);
	s->body = NULL;
	s->reading_body = false;
}

/* A header's value (caller frees), "" when absent; NULL when absent and want_null. */
static char *
header_copy(struct lws *wsi, enum lws_token_indexes token, bool want_null)
{
	int n = lws_hdr_total_length(wsi, token);
	if (n <= 0)
		return want_null ? NULL : xstrdup("");
	char *value = xmalloc((size_t)n + 1);
	if (lws_hdr_copy(wsi, value, n + 1, token) < 0)
		value[0] = '\0';
	return value;
}

/* Builds the handler's request from lws' parse and calls it: s->page is filled. */
static void
call_handler(struct web *w, struct lws *wsi, struct web_session *s, const struct web_handler *h, enum web_method method)
{
	char *path = NULL;
	int path_len = 0;
	if (lws_http_get_uri_and_method(wsi, &path, &path_len) < 0)
		path = NULL;
	char *path_copy = xstrndup(path != NULL ? path : "/", path != NULL ? (size_t)path_len : 1);
	char *args[WEB_HEAD_MAX_ARGS];
	size_t arg_count = 0;
	int total = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS);
	for (int i = 0; total > 0 && arg_count < WEB_HEAD_MAX_ARGS; i++) {
		char *frag = xmalloc((size_t)total + 1);
		if (lws_hdr_copy_fragment(wsi, frag, total + 1, WSI_TOKEN_HTTP_URI_ARGS, i) < 0) {
			free(frag);
			break;
		}
		args[arg_count++] = frag;
	}
	char *cookie = header_copy(wsi, WSI_TOKEN_HTTP_COOKIE, false);
	char *origin = header_copy(wsi, WSI_TOKEN_ORIGIN, true);
	const struct web_request req = {
		.method = method, .path = path_copy, .args = (const char *const *)args, .arg_count = arg_count,
		.cookie = cookie, .origin = origin, .body = method == WEB_POST ? s->body : NULL,
		.body_len = method == WEB_POST ? s->body_len : 0, .client = web_front_peer(wsi), .store = w->store,
		.now = (int64_t)time(NULL),
	};
	h->handle(h->ctx, &req, &s->page);
	if (s->page.log_line != NULL)
		log_info("web: %s (client %s)", s->page.log_line, req.client);
	for (size_t i = 0; i < arg_count; i++) {
		sodium_memzero(args[i], strlen(args[i]));  /* an invitation's token */
		free(args[i]);
	}
	sodium_memzero(cookie, strlen(cookie));      /* a session's token */
	free(cookie);
	free(origin);
	free(path_copy);
}

/* A request for a handler: GET and HEAD at once, a form once its body is read. */
static int
on_handler_request(struct web *w, struct lws *wsi, struct web_session *s, const struct web_handler *h,
		   enum method method, long length)
{
	if (method == METHOD_POST && h->takes_forms) {
		if (!is_form(wsi))
			return refuse(wsi, s, 415, NULL);
		s->handler = h;
		s->reading_body = true;
		s->body_expected = (size_t)length;
		s->body = xmalloc(s->body_expected + 1);
		return 0;
	}
	if (method == METHOD_GET || method == METHOD_HEAD)
		call_handler(w, wsi, s, h, method == METHOD_GET ? WEB_GET : WEB_HEAD);
	else
		error_page(w, 405, h->takes_forms ? "GET, POST" : "GET", &s->page);
	s->close_after = length > 0;
	return reply(wsi, s);
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
	const struct web_handler *handler = handler_find(w, path, path_len);
	long length;
	int status = body_framing(wsi, handler != NULL ? WEB_FORM_MAX : RESET_PAGE_MAX_BODY, &length);
	if (status == 0 && length < 0 && (method == METHOD_POST || method == METHOD_BODY))
		status = 411;  /* lws would wait for 100 MB of body */
	if (status != 0)
		return refuse(wsi, s, status, NULL);
	if (handler != NULL)
		return on_handler_request(w, wsi, s, handler, method, length);
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
	if (s->handler != NULL) {
		s->body[s->body_len] = '\0';
		call_handler(w, wsi, s, s->handler, WEB_POST);
		wipe_body(s);
		return reply(wsi, s);
	}
	char *err = NULL;
	int rc = reset_page_post(&w->reset, texts_hold(w), w->store, s->body, s->body_len, (int64_t)time(NULL), &s->page,
				 &err);
	texts_release(w);
	if (rc < 0) {
		log_error("web: %s", err);
		free(err);
	}
	wipe_body(s);
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
struct lws_protocols *
web_protocols_join(const struct lws_protocols *extra)
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
