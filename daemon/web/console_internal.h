/* console_internal — what the console's files share (console.c: dispatch, session,
 * layout; console_auth.c: sign-in, invitation, sign-out; console_queue.c: the queue;
 * console_thread.c: a thread and its actions). Web thread only. */
#ifndef DIALOGD_CONSOLE_INTERNAL_H
#define DIALOGD_CONSOLE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "accounts/console_session.h"
#include "web/console.h"

struct engine;
struct strbuf;
struct template_var;
struct templates;

/* The console (console_new's). */
struct console {
	char *origin;                   /* public_url's scheme://host[:port] */
	bool secure;                    /* https: the cookie is Secure */
	bool require_totp;
	struct console_lifetimes lifetimes;
	struct engine_holder *engine;   /* borrowed */
	const struct sender_identity *sender;   /* borrowed */
	char *css;                      /* templates/console/console.css */
	size_t css_len;
};

/* One request being served. */
struct console_call {
	struct console *c;
	const struct web_request *req;
	struct web_page *page;
	const struct engine *e;         /* held under the read lock for the call */
	const struct templates *t;
	bool signed_in;
	struct console_session_row session;     /* when signed_in */
	char *token, *csrf;             /* the cookie's two halves (signed_in), freed at the end */
};

/* The layout: <head> with the stylesheet, the title "(count) title — site" (count < 0:
 * none), the header with the views and the sign-out forms when signed in, <main>. */
void console_page_begin(struct console_call *k, struct strbuf *sb, const char *title, int64_t count);
void console_page_end(struct console_call *k, struct strbuf *sb, int status);
/* The template name rendered as HTML (its variables escaped unless rendered). */
void console_text(struct console_call *k, struct strbuf *sb, const char *name, const struct template_var *vars,
		  size_t count);
/* The label console_label_<name> (a field, a button, a view, a heading) as HTML. */
void console_label(struct console_call *k, struct strbuf *sb, const char *name);
/* The template name as plain text (caller frees). */
char *console_plain(struct console_call *k, const char *name);
/* A paragraph with the template name, of class cls (NULL: none) and role alert when alert. */
void console_paragraph(struct console_call *k, struct strbuf *sb, const char *cls, const char *name, bool alert);
/* The hidden CSRF field of a form. */
void console_csrf_field(struct console_call *k, struct strbuf *sb);
/* A form posting to action with one button label (and the CSRF field). */
void console_button_form(struct console_call *k, struct strbuf *sb, const char *action, const char *label,
			 const char *cls);
/* 303 See Other to location. */
void console_redirect(struct console_call *k, const char *location);
/* The generic error page for status (404, 405 with allow, 500...), or 403 (refused). */
void console_error(struct console_call *k, int status, const char *allow);
/* A store error: the 500 page and the log line. */
void console_store_error(struct console_call *k, const char *what);
/* Whether a POST may change anything: the Origin is public_url's and the form's csrf
 * field is the session's. Otherwise fills the page (403) and returns false. */
bool console_post_allowed(struct console_call *k, const char *csrf);
/* Whether the POST's Origin is public_url's (the forms before a session); else 403. */
bool console_origin_ok(struct console_call *k);
/* Appends a date (dd/mm/yyyy hh:mm, local time). */
void console_add_date(struct strbuf *sb, int64_t at);
/* The owner of a thread (the person, escaped, or the assistant, the queue), its
 * channel and a state's name, as the console names them. */
void console_add_owner(struct console_call *k, struct strbuf *sb, int owner, const char *person);
void console_add_channel(struct console_call *k, struct strbuf *sb, const char *channel);
void console_add_state(struct console_call *k, struct strbuf *sb, const char *state);

/* The pages (console_auth.c). */
void console_login_get(struct console_call *k);
void console_login_post(struct console_call *k);
void console_invitation_get(struct console_call *k);
void console_invitation_post(struct console_call *k);
void console_sign_out(struct console_call *k, bool everywhere);
/* console_queue.c */
void console_queue_get(struct console_call *k);
/* console_thread.c: rest is what follows "fil/" in the path. */
void console_thread_route(struct console_call *k, const char *rest);

/* Paths. */
#define CONSOLE_ROOT "/console/"
#define CONSOLE_LOGIN CONSOLE_ROOT "connexion"

#endif
