/* console — the correspondants' web console (issue 11) under /console/ on [web] listen:
 * sign-in (password, TOTP), the invitation page, the queue of threads (views, filters,
 * search, counts), a thread with every message of both channels, and the actions on it
 * (take, release to the assistant, resolve, an internal note, a reply through the
 * thread's own channel). Server-rendered French pages under the global CSP (no inline
 * script or style: /console/console.css is served from templates/console/). Every state
 * change is a POST checked for its Origin (public_url's) and its CSRF token, and audited
 * with the client's address. Pure request → page functions over the web thread's store
 * (web_request.h): web.c is the HTTP side.
 * Threads: console_new and console_free in the main thread; console_handle in the web
 * thread. */
#ifndef DIALOGD_CONSOLE_H
#define DIALOGD_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

#include "web/web_request.h"

struct engine_holder;
struct sender_identity;
struct web_page;

struct console_settings {
	const char *public_url;          /* [web] public_url: its origin is the only one allowed to POST; https => cookie Secure */
	bool require_totp;               /* [console] require_totp */
	int64_t idle_ttl, absolute_ttl;  /* [console] idle_ttl (default 1800), absolute_ttl (default 43200) */
	const char *data_dir;            /* the data folder: templates/console/ holds console.css */
	struct engine_holder *engine;    /* templates (read-locked while a page is built; borrowed) */
	const struct sender_identity *sender;  /* for conversation_reply (borrowed) */
};

/* Reads the console's files from settings->data_dir and copies the settings (the engine
 * and the sender are borrowed until console_free). Returns NULL with *error_r (caller
 * frees): a file missing, or a public_url that has no origin. */
struct console *console_new(const struct console_settings *settings, char **error_r);
void console_free(struct console **console);
/* Serves every path under /console/ (a web_handler_fn; ctx: struct console *). Fills
 * page; page->log_line says what the operator should read (never a token or password). */
void console_handle(void *ctx, const struct web_request *req, struct web_page *page);

/* The cookie of a session: its token and its CSRF token joined by a dot (the pages need
 * the CSRF token, which the store keeps only as a hash; SameSite=Strict and HttpOnly
 * keep it from other sites and scripts). */
#define CONSOLE_COOKIE "dialogd_console"

#endif
