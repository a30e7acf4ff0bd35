/* web_internal — what web.c (routes, replies, the service thread) and web_front.c (the
 * front that reads every request head first) share: the server's state. Web layer only;
 * everything here is used by the web thread alone, but for what web_start sets before
 * the thread starts and stop, which is atomic. */
#ifndef DIALOGD_WEB_INTERNAL_H
#define DIALOGD_WEB_INTERNAL_H

#include "web/reset_page.h"
#include "web/web_request.h"
#include "web/web_widget.h"

#include <ev.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

struct engine_holder;
struct web_conn;

struct web {
	struct lws_context *context;
	struct ev_loop *loop;           /* libev's loop the web thread runs (lws' foreign loop) */
	ev_async wake;                  /* web_request_stop breaks the loop with it */
	struct lws_vhost *vhost;
	struct store *store;            /* the web thread's own connection (opened before it starts) */
	struct lws_protocols *protocols;        /* ours and the caller's (web_settings), for the vhost */
	struct reset_page_settings reset;
	struct web_widget widget;       /* the chat widget's files (read-only once started) */
	const struct web_handler *handlers;     /* web_settings' (borrowed), or NULL */
	struct engine_holder *engine;   /* the pages' texts (borrowed) */
	char *support_address;
	char *store_path;               /* opened by web_start, after web_bind */
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
	/* Slow clients (web_front.c): seconds for a head and for a body, connections per
	 * address, and the minute the connections refused for that are counted in. */
	int header_timeout, body_timeout;
	unsigned per_address;
	time_t crowd_window;
	unsigned crowd_refusals;
	pthread_t thread;
	bool thread_started;
	atomic_bool stop;
};

/* ---- the routes and the HTTP callback (web.c), for web_server.c ---- */

/* The lws protocols of the vhost: ours (HTTP, the front's), then extra (the caller's
 * WebSocket protocols, NULL for none), then the terminating entry (caller frees). */
struct lws_protocols *web_protocols_join(const struct lws_protocols *extra);

/* ---- the front (web_front.c) ---- */

/* The defaults of [web] header_timeout, body_timeout and connections_per_address. */
#define WEB_HEADER_TIMEOUT 10
#define WEB_BODY_TIMEOUT 30
#define WEB_CONNECTIONS_PER_ADDRESS 32

/* The request the front puts in place of a refused one (see web.c on_request). A client
 * may ask for this path itself: it is then an ordinary 404, or at worst its own request
 * refused. */
#define WEB_REFUSAL_PATH "/.dialogd-refus"

/* The lws callbacks of the front's raw descriptors ("dialogd-front") and of the
 * listening socket ("dialogd-listen"). */
int web_front_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);
int web_listen_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);
/* For lws' HTTP connection wsi: the status the front refused its client's current
 * request with (0 when none), and the client's address for the log ("?" when unknown). */
int web_front_refusal(struct lws *wsi);
const char *web_front_peer(struct lws *wsi);
/* LWS_CALLBACK_WSI_DESTROY of any connection: a client is freed with its last one. */
void web_front_wsi_destroyed(struct lws *wsi);
/* Hands descriptor fd to lws in the vhost, for protocol (NULL: HTTP), with c as its
 * opaque user data. NULL when lws refuses it (a socket is then closed, a raw one not). */
struct lws *web_adopt(struct web *w, lws_adoption_type type, int fd, const char *protocol, struct web_conn *c);
/* After lws_context_destroy: frees the clients lws left (their bytes wiped). */
void web_front_free_all(struct web *w);

#endif
