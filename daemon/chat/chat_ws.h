/* chat_ws — the website chat's WebSocket: the libwebsockets protocol "dialogd.chat.v1" on
 * path /chat of [web] listen (RFC 6455; the frames are chat_protocol's). It checks the
 * upgrade (path, Origin against [web] allowed_origins, connections per address), holds
 * each visitor's session (a random token, stored hashed, [chat] session_ttl), runs each
 * message through chat_session_turn exactly once (client ids), writes every event in the
 * store before sending it, replays what a reconnecting widget missed, and brings a
 * correspondant's reply to an open socket live (the store is polled every 250 ms, one
 * query when nothing changed). Limits: [chat] max_frame (1009), invalid UTF-8 (1007, by
 * lws), max_errors (1008), message rates, pings and idle timeout (1001).
 * Threads: chat_ws_new and chat_ws_free run in the main thread, before the web thread
 * starts and after it stopped; everything else runs in the web thread, inside lws
 * callbacks (the store connection it opens is that thread's). */
#ifndef DIALOGD_CHAT_WS_H
#define DIALOGD_CHAT_WS_H

#include <stdbool.h>

struct action_settings;
struct dialog_settings;
struct directory_http_settings;
struct engine_holder;
struct lws;
struct lws_protocols;
struct chat_ws;

struct chat_ws_settings {
	const char *store_path;                 /* the chat opens its own connection */
	const struct action_settings *actions;  /* borrowed, as every pointer here, for chat_ws's life */
	const struct dialog_settings *dialog;
	const struct directory_http_settings *directory_http;  /* NULL: the embedded directory */
	struct engine_holder *engine;           /* read-locked for a turn or a text */
	const char *public_url;                 /* [web] public_url: its origin is always allowed */
	const char *allowed_origins;            /* [web] allowed_origins, NULL or space-separated */
	const char *trusted_proxies;            /* [web] trusted_proxies, NULL or space-separated */
	unsigned long session_ttl, max_frame, max_text, max_errors;
	unsigned long messages_per_minute, address_messages_per_minute, connections_per_address;
	unsigned long ping_interval, idle_timeout;
	/* [chat] identity_secret: the extranet's HS256 secret (copied into locked memory;
	 * NULL: no identity token is accepted) and the longest lifetime of a token. */
	const char *identity_secret;
	unsigned long identity_max_ttl;
	/* The client's address of a connection (the web layer's front hides it from lws). */
	const char *(*client_address)(struct lws *wsi);
};

/* Opens the store connection and the directory. NULL with *error_r (caller frees). */
struct chat_ws *chat_ws_new(const struct chat_ws_settings *settings, char **error_r);
/* The protocol to add to the web server's (one entry, then a terminating one): borrowed
 * for chat_ws's life; its user pointer is chat_ws. */
const struct lws_protocols *chat_ws_protocols(const struct chat_ws *ws);
/* After the lws context is destroyed. NULL is accepted; sets *ws to NULL. */
void chat_ws_free(struct chat_ws **ws);

#endif
