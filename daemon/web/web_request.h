/* web_request — a request as the handlers beyond the reset page see it (the console's
 * pages), read out of libwebsockets by web.c: what a page needs and nothing of lws, so
 * that a handler is a function from a request to a web_page, tested without HTTP.
 * web.c routes every request whose path starts with a handler's prefix to it, GET and
 * HEAD always, POST when the handler takes forms (application/x-www-form-urlencoded,
 * with a Content-Length: the body is read whole first, at most WEB_FORM_MAX bytes).
 * Threads: the web thread calls the handlers. */
#ifndef DIALOGD_WEB_REQUEST_H
#define DIALOGD_WEB_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct web_page;

/* Bytes of a form a handler may receive (a reply typed in the console fits). */
#define WEB_FORM_MAX (256 * 1024)

enum web_method { WEB_GET, WEB_HEAD, WEB_POST };

struct web_request {
	enum web_method method;
	const char *path;               /* as lws decoded it, without the query */
	const char *const *args;        /* the query's arguments, "name=value" each, decoded */
	size_t arg_count;
	const char *cookie;             /* the Cookie header, "" when none */
	const char *origin;             /* the Origin header, or NULL when absent */
	const char *body;               /* a POST's form (NUL-terminated; may hold a password), or NULL */
	size_t body_len;
	const char *client;             /* the client's address (for limits and the audit) */
	struct store *store;            /* the web thread's own store connection */
	int64_t now;
};

/* The decoded value of the query's argument name, NULL when absent or given twice. */
const char *web_request_arg(const struct web_request *req, const char *name);
/* The value of cookie name in the Cookie header (caller frees), NULL when absent. */
char *web_request_cookie(const struct web_request *req, const char *name);

/* A handler fills page (status, body, and when needed content_type, location,
 * set_cookie) for req. ctx is the handler's own. */
typedef void (*web_handler_fn)(void *ctx, const struct web_request *req, struct web_page *page);

struct web_handler {
	const char *prefix;             /* "/console/": the paths it serves; NULL ends a list */
	web_handler_fn handle;
	void *ctx;
	bool takes_forms;               /* POST accepted (else 405) */
};

#endif
