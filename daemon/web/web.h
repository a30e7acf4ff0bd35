/* web — dialogd's HTTP server (libwebsockets, RFC 9110/9112): one thread running one lws
 * context on [web] listen, with its own store connection. Today it serves the password
 * reset page (reset_page.c), a home page and the WebSocket protocols its caller adds
 * (the chat's, on /chat); the correspondants' console is to join the same context.
 * Pages are built by web_page.c and reset_page.c; this module is only the HTTP side. */
#ifndef DIALOGD_WEB_H
#define DIALOGD_WEB_H

#include "web/web_request.h"
#include "web/web_widget.h"

struct engine_holder;
struct lws;
struct lws_protocols;
struct web;

struct web_settings {
	const char *listen;             /* "127.0.0.1:8080", "[::1]:8080"; port 0 picks a free one */
	const char *store_path;         /* the thread opens its own connection */
	const char *support_address;    /* named on the pages: where to write */
	unsigned long reset_ttl;        /* seconds a reset link lasts ([security] reset_ttl) */
	/* Slow clients: seconds for a request head (or, kept alive, the next one) and for a
	 * body, and connections one address may hold ([web] header_timeout, body_timeout,
	 * connections_per_address; 0: the defaults). */
	unsigned long header_timeout, body_timeout, connections_per_address;
	const char *data_dir;           /* the data folder: the widget's files are in templates/widget/ */
	struct web_widget_settings widget;      /* what the widget's loader is told */
	struct engine_holder *engine;   /* the pages' texts (its templates), read-locked while a
					 * page is built: a reload swaps it (borrowed) */
	/* WebSocket protocols served on the same port (the chat's, daemon/chat/chat_ws.h),
	 * ending with an entry whose name is NULL; NULL for none. Borrowed until web_stop.
	 * A client naming none of them is refused (403). */
	const struct lws_protocols *extra_protocols;
	/* Handlers of the paths beyond the reset page and the widget (the console's), ending
	 * with an entry whose prefix is NULL; NULL for none. Borrowed until web_stop. */
	const struct web_handler *handlers;
};

/* Runs in the main thread, as root when the port needs it: binds the address (dialogd's
 * own socket: every request head is checked before libwebsockets reads it, see
 * web_front.c) and nothing else, so that root can be dropped right after. Returns NULL
 * with *error_r (caller frees). settings is copied. */
struct web *web_bind(const struct web_settings *settings, char **error_r);
/* Runs in the main thread, as the user dialogd runs as: opens the thread's store
 * connection, starts libwebsockets on the bound socket and the thread, logs "web:
 * listening on ADDRESS:PORT". Returns 0, or -1 with *error_r; web_stop frees web
 * either way. */
int web_start(struct web *web, char **error_r);
/* The client's address of a connection of the web server (its lws connection is fed by
 * the front through a socketpair, so lws' own peer address is not the client's). Web
 * thread only, inside a callback of that connection; "?" when unknown. */
const char *web_client_address(struct lws *wsi);
/* Asks the thread to stop (any thread; returns at once). NULL is accepted. */
void web_request_stop(struct web *web);
/* Stops (if not asked yet) and waits for the thread, frees, sets *web to NULL. */
void web_stop(struct web **web);

#endif
