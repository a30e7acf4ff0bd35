/* console — see console.h. This file: the console's files, the dispatch of a request to
 * its page, the session a request carries, the layout and the checks of a POST (Origin,
 * CSRF: OWASP's "verifying origin with standard headers" and "synchronizer token"). */
#include "autoconf.h"
#include "web/console.h"
#include "web/console_internal.h"
#include "accounts/console_session.h"
#include "core/util.h"
#include "engine/engine.h"
#include "engine/template.h"
#include "store/store.h"
#include "web/web_page.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The stylesheet's largest size (a hand-written file of a few KB). */
#define CSS_MAX (64 * 1024)

/* scheme://host[:port] of url (lower case, as browsers send Origin), NULL when url has
 * none. */
static char *
origin_of(const char *url)
{
	size_t scheme = str_starts_with(url, "https://") ? 8 : str_starts_with(url, "http://") ? 7 : 0;
	if (scheme == 0)
		return NULL;
	size_t n = scheme + strcspn(url + scheme, "/?#");
	if (n == scheme)
		return NULL;
	char *o = xstrndup(url, n);
	for (char *p = o; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return o;
}

struct console *
console_new(const struct console_settings *s, char **error_r)
{
	char *origin = s->public_url != NULL ? origin_of(s->public_url) : NULL;
	if (origin == NULL) {
		*error_r = xasprintf("console: [web] public_url \"%s\" has no http(s) origin", s->public_url ? s->public_url : "");
		return NULL;
	}
	struct console *c = xcalloc(1, sizeof(*c));
	c->origin = origin;
	c->secure = str_starts_with(origin, "https://");
	c->require_totp = s->require_totp;
	c->lifetimes = (struct console_lifetimes){ s->idle_ttl > 0 ? s->idle_ttl : 1800,
						   s->absolute_ttl > 0 ? s->absolute_ttl : 43200 };
	c->engine = s->engine;
	c->sender = s->sender;
	char *path = xasprintf("%s/templates/console/console.css", s->data_dir);
	char *err = NULL;
	c->css = file_read_all(path, CSS_MAX, &c->css_len, &err);
	free(path);
	if (c->css == NULL) {
		*error_r = xasprintf("console: %s", err);
		free(err);
		console_free(&c);
		return NULL;
	}
	return c;
}

void
console_free(struct console **console)
{
	struct console *c = *console;
	if (c == NULL)
		return;
	free(c->origin);
	free(c->css);
	free(c);
	*console = NULL;
}

/* The session the cookie names: k->signed_in and k->session. Returns 0 or -1 (store). */
static int
load_session(struct console_call *k)
{
	char *cookie = web_request_cookie(k->req, CONSOLE_COOKIE);
	if (cookie == NULL)
		return 0;
	char *dot = strchr(cookie, '.');
	int rc = 0;
	if (dot != NULL) {
		*dot = '\0';
		rc = console_session_check(k->req->store, cookie, &k->c->lifetimes, k->req->now, &k->session);
		if (rc == 1) {
			k->signed_in = true;
			k->token = xstrdup(cookie);
			k->csrf = xstrdup(dot + 1);
		}
	}
	free(cookie);
	return rc < 0 ? -1 : 0;
}

/* "fil/12" → the thread's pages; the rest by name. */
static void
route(struct console_call *k, const char *rest)
{
	bool get = k->req->method != WEB_POST;
	if (strcmp(rest, "console.css") == 0) {
		if (!get)
			return console_error(k, 405, "GET, HEAD");
		k->page->status = 200;
		k->page->body = xstrndup(k->c->css, k->c->css_len);
		k->page->len = k->c->css_len;
		k->page->content_type = "text/css; charset=utf-8";
		k->page->cache_control = "no-cache";
		return;
	}
	if (strcmp(rest, "connexion") == 0)
		return get ? console_login_get(k) : console_login_post(k);
	if (strcmp(rest, "invitation") == 0)
		return get ? console_invitation_get(k) : console_invitation_post(k);
	if (load_session(k) < 0)
		return console_store_error(k, "reading the session");
	if (!k->signed_in)
		return console_redirect(k, CONSOLE_LOGIN);
	if (strcmp(rest, "") == 0)
		return get ? console_queue_get(k) : console_error(k, 405, "GET, HEAD");
	if (strcmp(rest, "deconnexion") == 0 || strcmp(rest, "deconnexion-partout") == 0)
		return get ? console_error(k, 405, "POST") : console_sign_out(k, rest[11] != '\0');
	if (str_starts_with(rest, "fil/"))
		return console_thread_route(k, rest + 4);
	console_error(k, 404, NULL);
}

void
console_handle(void *ctx, const struct web_request *req, struct web_page *page)
{
	struct console *c = ctx;
	memset(page, 0, sizeof(*page));
	struct console_call k = { .c = c, .req = req, .page = page };
	pthread_rwlock_rdlock(&c->engine->lock);
	k.e = c->engine->engine;
	k.t = k.e->templates;
	/* Every audit row written while serving the request names the client (the
	 * conversation layer's rows included). */
	store_set_audit_address(req->store, req->client);
	if (strcmp(req->path, "/console") == 0)
		console_redirect(&k, CONSOLE_ROOT);
	else if (!str_starts_with(req->path, CONSOLE_ROOT))
		console_error(&k, 404, NULL);
	else
		route(&k, req->path + strlen(CONSOLE_ROOT));
	store_set_audit_address(req->store, NULL);
	pthread_rwlock_unlock(&c->engine->lock);
	console_session_row_clear(&k.session);
	free(k.token);
	if (k.csrf != NULL)
		memset(k.csrf, 0, strlen(k.csrf));
	free(k.csrf);
}

/* ---- layout ---- */

static void
nav_link(struct console_call *k, struct strbuf *sb, const char *href, const char *label, int64_t count)
{
	strbuf_adds(sb, "<li><a href=\"");
	web_html_escape(sb, href);
	strbuf_adds(sb, "\">");
	console_label(k, sb, label);
	strbuf_addf(sb, " <span class=\"compte\">(%lld)</span></a></li>\n", (long long)count);
}

/* The header of a signed-in page: the views with their counts, who is signed in, the
 * sign-out forms. */
static void
header(struct console_call *k, struct strbuf *sb)
{
	struct console_counts n = {0};
	if (store_console_counts(k->req->store, k->session.account.email, &n) < 0)
		n = (struct console_counts){ -1, -1, -1, -1 };
	strbuf_adds(sb, "<header class=\"bandeau\">\n<p class=\"marque\"><a href=\"" CONSOLE_ROOT "\">");
	console_text(k, sb, "console_site_name", NULL, 0);
	strbuf_adds(sb, "</a></p>\n<nav aria-label=\"");
	console_label(k, sb, "views");
	strbuf_adds(sb, "\">\n<ul class=\"vues\">\n");
	nav_link(k, sb, CONSOLE_ROOT "?vue=a-traiter", "view_to_handle", n.to_handle);
	nav_link(k, sb, CONSOLE_ROOT "?vue=miennes", "view_mine", n.mine);
	nav_link(k, sb, CONSOLE_ROOT "?vue=assistant", "view_assistant", n.assistant);
	nav_link(k, sb, CONSOLE_ROOT "?vue=toutes", "view_all", n.all);
	strbuf_adds(sb, "</ul>\n</nav>\n<div class=\"compte-session\">\n<p>");
	web_html_escape(sb, k->session.account.name);
	strbuf_adds(sb, "</p>\n");
	console_button_form(k, sb, CONSOLE_ROOT "deconnexion", "sign_out", "discret");
	console_button_form(k, sb, CONSOLE_ROOT "deconnexion-partout", "sign_out_all", "discret");
	strbuf_adds(sb, "</div>\n</header>\n");
}

void
console_page_begin(struct console_call *k, struct strbuf *sb, const char *title, int64_t count)
{
	char *site = console_plain(k, "console_site_name");
	strbuf_adds(sb, "<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n"
			"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
			"<meta name=\"robots\" content=\"noindex, nofollow\">\n"
			/* The server says no-referrer, with which a browser sends "Origin: null" on
			 * every POST (Fetch §3.1): the console's own forms must name their origin,
			 * which the POSTs are checked against; other sites still get no referrer. */
			"<meta name=\"referrer\" content=\"same-origin\">\n<title>");
	if (count >= 0)
		strbuf_addf(sb, "(%lld) ", (long long)count);
	web_html_escape(sb, title);
	strbuf_adds(sb, " — ");
	web_html_escape(sb, site);
	strbuf_adds(sb, "</title>\n<link rel=\"icon\" href=\"data:,\">\n"
			"<link rel=\"stylesheet\" href=\"" CONSOLE_ROOT "console.css\">\n</head>\n<body>\n");
	free(site);
	if (k->signed_in)
		header(k, sb);
	strbuf_adds(sb, "<main id=\"contenu\">\n<h1>");
	web_html_escape(sb, title);
	strbuf_adds(sb, "</h1>\n");
}

void
console_page_end(struct console_call *k, struct strbuf *sb, int status)
{
	strbuf_adds(sb, "</main>\n</body>\n</html>\n");
	k->page->status = status;
	k->page->len = sb->len;
	k->page->body = strbuf_detach(sb);
}

void
console_text(struct console_call *k, struct strbuf *sb, const char *name, const struct template_var *vars, size_t count)
{
	web_page_add_text(sb, k->t, name, vars, count);
}

void
console_label(struct console_call *k, struct strbuf *sb, const char *name)
{
	char full[64];
	snprintf(full, sizeof(full), "console_label_%s", name);
	web_page_add_text(sb, k->t, full, NULL, 0);
}

char *
console_plain(struct console_call *k, const char *name)
{
	char *s = template_render(k->t, name, OUTPUT_TEXT, NULL, 0);
	str_trim(s);
	return s;
}

void
console_paragraph(struct console_call *k, struct strbuf *sb, const char *cls, const char *name, bool alert)
{
	strbuf_adds(sb, "<p");
	if (cls != NULL)
		strbuf_addf(sb, " class=\"%s\"", cls);
	if (alert)
		strbuf_adds(sb, " role=\"alert\"");
	strbuf_adds(sb, ">");
	console_text(k, sb, name, NULL, 0);
	strbuf_adds(sb, "</p>\n");
}

void
console_csrf_field(struct console_call *k, struct strbuf *sb)
{
	strbuf_adds(sb, "<input type=\"hidden\" name=\"csrf\" value=\"");
	web_html_escape(sb, k->csrf ? k->csrf : "");
	strbuf_adds(sb, "\">\n");
}

void
console_button_form(struct console_call *k, struct strbuf *sb, const char *action, const char *label, const char *cls)
{
	strbuf_adds(sb, "<form method=\"post\" action=\"");
	web_html_escape(sb, action);
	strbuf_adds(sb, "\">\n");
	console_csrf_field(k, sb);
	strbuf_adds(sb, "<button type=\"submit\"");
	if (cls != NULL)
		strbuf_addf(sb, " class=\"%s\"", cls);
	strbuf_adds(sb, ">");
	console_label(k, sb, label);
	strbuf_adds(sb, "</button>\n</form>\n");
}

void
console_redirect(struct console_call *k, const char *location)
{
	k->page->status = 303;
	free(k->page->location);
	k->page->location = xstrdup(location);
}

void
console_error(struct console_call *k, int status, const char *allow)
{
	web_page_clear(k->page);
	if (status != 403)
		return web_page_error(k->t, status, allow, k->page);
	struct strbuf sb = {0};
	char *title = console_plain(k, "console_forbidden_title");
	console_page_begin(k, &sb, title, -1);
	free(title);
	console_paragraph(k, &sb, NULL, "console_forbidden_text", false);
	strbuf_adds(&sb, "<p><a href=\"" CONSOLE_ROOT "\">");
	console_label(k, &sb, "queue_link");
	strbuf_adds(&sb, "</a></p>\n");
	console_page_end(k, &sb, 403);
}

void
console_store_error(struct console_call *k, const char *what)
{
	char *line = xasprintf("console: %s: store: %s", what, store_error(k->req->store));
	console_error(k, 500, NULL);
	k->page->log_line = line;
}

bool
console_origin_ok(struct console_call *k)
{
	/* A browser sends Origin with every POST (Fetch: "append a request Origin header");
	 * none, "null" or another site's is refused. */
	if (k->req->origin != NULL && strcmp(k->req->origin, k->c->origin) == 0)
		return true;
	console_error(k, 403, NULL);
	k->page->log_line = xasprintf("console: %s: POST from origin %s refused", k->req->path,
				      k->req->origin ? k->req->origin : "(none)");
	return false;
}

bool
console_post_allowed(struct console_call *k, const char *csrf)
{
	if (!console_origin_ok(k))
		return false;
	if (console_session_csrf_ok(&k->session, csrf))
		return true;
	console_error(k, 403, NULL);
	k->page->log_line = xasprintf("console: %s: %s: POST without the session's CSRF token refused", k->req->path,
				      k->session.account.email);
	return false;
}

void
console_add_date(struct strbuf *sb, int64_t at)
{
	char stamp[32], iso[32];
	time_t when = (time_t)at;
	struct tm tm;
	localtime_r(&when, &tm);
	strftime(stamp, sizeof(stamp), "%d/%m/%Y %H:%M", &tm);
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M", &tm);
	strbuf_addf(sb, "<time datetime=\"%s\">%s</time>", iso, stamp);
}

void
console_add_owner(struct console_call *k, struct strbuf *sb, int owner, const char *person)
{
	if (owner == OWNER_PERSON && person != NULL)
		web_html_escape(sb, person);
	else
		console_label(k, sb, owner == OWNER_QUEUE ? "owner_queue" : "owner_bot");
}

void
console_add_channel(struct console_call *k, struct strbuf *sb, const char *channel)
{
	console_label(k, sb, channel != NULL && strcmp(channel, "chat") == 0 ? "chat" : "mail");
}

void
console_add_state(struct console_call *k, struct strbuf *sb, const char *state)
{
	static const char *const names[] = { "answered", "escalated", "ignored", "open" };
	int i = name_index(names, sizeof(names) / sizeof(*names), state);
	if (i < 0)
		return web_html_escape(sb, state != NULL ? state : "");
	char label[32];
	snprintf(label, sizeof(label), "state_%s", names[i]);
	console_label(k, sb, label);
}
