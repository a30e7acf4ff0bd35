/* console_auth — the console's doors: the sign-in page (correspondant_login: one answer
 * for every refusal, its own for the throttle), the invitation page where an invited
 * account chooses its password (the single-use token of correspondant_invite, checked
 * without burning on GET, burnt with the new hash in one transaction on POST, as
 * reset_page.c does), and the sign-outs. Each is audited (channel "console"). */
#include "autoconf.h"
#include "web/console_internal.h"
#include "accounts/console_session.h"
#include "accounts/correspondant.h"
#include "accounts/reset_token.h"
#include "core/util.h"
#include "engine/template.h"
#include "store/audit.h"
#include "store/store.h"
#include "web/web_page.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define AUDIT_SIGN_IN "console_sign_in"
#define AUDIT_SIGN_IN_THROTTLED "console_sign_in_throttled"
#define AUDIT_SIGN_OUT "console_sign_out"
#define AUDIT_SIGN_OUT_ALL "console_sign_out_all"
#define AUDIT_INVITATION "console_invitation"

/* What a visitor typed as an address, fit for a log line and the audit: printable ASCII
 * of at most 120 bytes, else a placeholder (the address is anyone's words). */
static const char *
loggable(const char *s)
{
	if (s == NULL || *s == '\0')
		return "(none)";
	size_t n = strlen(s);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return "(unreadable)";
	return n <= 120 ? s : "(too long)";
}

/* The sign-in form, with error (a template) above it after a refusal. */
static void
login_form(struct console_call *k, const char *email, const char *error, int status)
{
	struct strbuf sb = {0};
	char *title = console_plain(k, "console_login_title");
	console_page_begin(k, &sb, title, -1);
	free(title);
	console_paragraph(k, &sb, NULL, "console_login_intro", false);
	if (error != NULL)
		console_paragraph(k, &sb, "erreur", error, true);
	strbuf_adds(&sb, "<form method=\"post\" action=\"" CONSOLE_LOGIN "\" class=\"formulaire\">\n<label for=\"email\">");
	console_label(k, &sb, "email");
	strbuf_adds(&sb, "</label>\n"
			 "<input type=\"email\" id=\"email\" name=\"email\" autocomplete=\"username\" required autofocus value=\"");
	web_html_escape(&sb, email ? email : "");
	strbuf_adds(&sb, "\">\n<label for=\"mot_de_passe\">");
	console_label(k, &sb, "password");
	strbuf_adds(&sb, "</label>\n<input type=\"password\" id=\"mot_de_passe\" name=\"mot_de_passe\" "
			 "autocomplete=\"current-password\" required>\n<label for=\"code\">");
	console_label(k, &sb, "totp");
	strbuf_adds(&sb, "</label>\n<input type=\"text\" id=\"code\" name=\"code\" inputmode=\"numeric\" "
			 "autocomplete=\"one-time-code\" pattern=\"[0-9]{6}\" maxlength=\"6\" aria-describedby=\"code-aide\"");
	strbuf_adds(&sb, k->c->require_totp ? " required>\n" : ">\n");
	console_paragraph(k, &sb, "note\" id=\"code-aide",
			  k->c->require_totp ? "console_login_totp_required" : "console_login_totp_optional", false);
	strbuf_adds(&sb, "<button type=\"submit\">");
	console_label(k, &sb, "sign_in");
	strbuf_adds(&sb, "</button>\n</form>\n");
	console_page_end(k, &sb, status);
}

void
console_login_get(struct console_call *k)
{
	login_form(k, NULL, NULL, 200);
}

/* The refused and throttled sign-ins are audited; a throttled flood at most once a
 * minute (the disk is not the attacker's to fill). */
static int
audit_sign_in(struct console_call *k, const char *email, enum login_verdict v)
{
	struct store *st = k->req->store;
	if (v == LOGIN_THROTTLED) {
		int64_t last = store_audit_latest(st, AUDIT_SIGN_IN_THROTTLED, (int64_t)time(NULL) - 60);
		if (last != 0)
			return last < 0 ? -1 : 0;
		return store_audit_add(st, "console", loggable(email), AUDIT_SIGN_IN_THROTTLED, loggable(email),
				       audit_code(AUDIT_THROTTLED));
	}
	return store_audit_add(st, "console", loggable(email), AUDIT_SIGN_IN, loggable(email),
			       audit_code(v == LOGIN_ACCEPTED ? AUDIT_DONE : AUDIT_REFUSED));
}

/* An accepted sign-in: the session, its cookie, the queue. */
static void
open_session(struct console_call *k, const char *email)
{
	struct store *st = k->req->store;
	struct correspondant_row row;
	char token[CONSOLE_TOKEN_SIZE], csrf[CONSOLE_TOKEN_SIZE];
	if (store_correspondant_get(st, email, &row) != 1 ||
	    console_session_open(st, row.id, k->req->client, k->req->now, token, csrf) < 0 ||
	    audit_sign_in(k, row.email, LOGIN_ACCEPTED) < 0) {
		correspondant_row_clear(&row);
		return console_store_error(k, "opening a session");
	}
	console_redirect(k, CONSOLE_ROOT);
	k->page->set_cookie = xasprintf(CONSOLE_COOKIE "=%s.%s; Path=" CONSOLE_ROOT "; HttpOnly; SameSite=Strict%s", token,
					csrf, k->c->secure ? "; Secure" : "");
	k->page->log_line = xasprintf("console: %s signed in", row.email);
	memset(token, 0, sizeof(token));
	memset(csrf, 0, sizeof(csrf));
	correspondant_row_clear(&row);
}

void
console_login_post(struct console_call *k)
{
	if (!console_origin_ok(k))
		return;
	static const char *const names[] = { "email", "mot_de_passe", "code" };
	char *v[3];
	if (web_form_parse(k->req->body ? k->req->body : "", k->req->body_len, names, 3, v) < 0)
		return console_error(k, 400, NULL);
	const char *email = v[0] ? v[0] : "";
	enum login_verdict verdict = correspondant_login(k->req->store, email, v[1] ? v[1] : "", v[2], k->c->require_totp,
							  k->req->client, k->req->now);
	if (verdict == LOGIN_ACCEPTED) {
		open_session(k, email);
	} else if (verdict == LOGIN_STORE_ERROR || audit_sign_in(k, email, verdict) < 0) {
		console_store_error(k, "signing in");
	} else {
		bool throttled = verdict == LOGIN_THROTTLED;
		login_form(k, email, throttled ? "console_login_throttled" : "console_login_refused", throttled ? 429 : 403);
		k->page->log_line = xasprintf("console: sign-in as %s %s", loggable(email),
					      throttled ? "not checked: too many failures lately" : "refused");
	}
	for (size_t i = 0; i < 3; i++)
		web_secret_free(&v[i]);
}

/* ---- the invitation ---- */

/* The account an invitation token is for: 1 with *row, 0 (not valid), -1. */
static int
invited(struct console_call *k, const char *token, struct correspondant_row *row)
{
	memset(row, 0, sizeof(*row));
	char *id = NULL;
	enum reset_check c = reset_token_check_for(k->req->store, RESET_PURPOSE_CONSOLE_INVITATION, token, k->req->now, &id);
	int rc = c == RESET_STORE_ERROR ? -1 : 0;
	if (c == RESET_VALID)
		rc = store_correspondant_get_by_id(k->req->store, strtoll(id, NULL, 10), row);
	free(id);
	return rc;
}

static void
invitation_form(struct console_call *k, const char *token, const struct correspondant_row *row, const char *error)
{
	struct strbuf sb = {0};
	char *title = console_plain(k, "console_invitation_title");
	console_page_begin(k, &sb, title, -1);
	free(title);
	struct strbuf strong = {0};
	strbuf_adds(&strong, "<strong>");
	web_html_escape(&strong, row->email);
	strbuf_adds(&strong, "</strong>");
	struct template_var var = { "email", strong.data, true };
	strbuf_adds(&sb, "<p>");
	console_text(k, &sb, "console_invitation_account", &var, 1);
	strbuf_adds(&sb, "</p>\n");
	strbuf_free(&strong);
	if (error != NULL)
		console_paragraph(k, &sb, "erreur", error, true);
	strbuf_adds(&sb, "<p id=\"regle\">");
	console_text(k, &sb, "web_reset_rule", NULL, 0);
	strbuf_adds(&sb, "</p>\n<form method=\"post\" action=\"" CONSOLE_ROOT "invitation\" class=\"formulaire\">\n"
			 "<input type=\"hidden\" name=\"jeton\" value=\"");
	web_html_escape(&sb, token);
	strbuf_adds(&sb, "\">\n<input type=\"text\" name=\"username\" autocomplete=\"username\" readonly hidden value=\"");
	web_html_escape(&sb, row->email);
	strbuf_adds(&sb, "\">\n<label for=\"mot_de_passe\">");
	console_label(k, &sb, "password");
	strbuf_adds(&sb, "</label>\n<input type=\"password\" id=\"mot_de_passe\" name=\"mot_de_passe\" "
			 "autocomplete=\"new-password\" minlength=\"12\" required autofocus aria-describedby=\"regle\">\n"
			 "<label for=\"confirmation\">");
	console_label(k, &sb, "confirmation");
	strbuf_adds(&sb, "</label>\n<input type=\"password\" id=\"confirmation\" name=\"confirmation\" "
			 "autocomplete=\"new-password\" minlength=\"12\" required>\n<button type=\"submit\">");
	console_label(k, &sb, "save_password");
	strbuf_adds(&sb, "</button>\n</form>\n");
	console_page_end(k, &sb, 200);
}

/* A page of a title and one paragraph, and a link to the sign-in. */
static void
notice_page(struct console_call *k, const char *title_name, const char *text_name)
{
	struct strbuf sb = {0};
	char *title = console_plain(k, title_name);
	console_page_begin(k, &sb, title, -1);
	free(title);
	console_paragraph(k, &sb, NULL, text_name, false);
	strbuf_adds(&sb, "<p><a href=\"" CONSOLE_LOGIN "\">");
	console_label(k, &sb, "sign_in");
	strbuf_adds(&sb, "</a></p>\n");
	console_page_end(k, &sb, 200);
}

void
console_invitation_get(struct console_call *k)
{
	const char *token = web_request_arg(k->req, "jeton");
	struct correspondant_row row;
	int rc = token != NULL ? invited(k, token, &row) : 0;
	if (rc < 0)
		console_store_error(k, "checking an invitation");
	else if (rc == 1)
		invitation_form(k, token, &row, NULL);
	else
		notice_page(k, "console_invitation_invalid_title", "console_invitation_invalid_text");
	if (token != NULL)
		correspondant_row_clear(&row);
}

/* The password accepted: the token burnt, the hash stored and the audit row, all or
 * nothing. Returns 1 done, 0 the token went meanwhile, -1. */
static int
choose_password(struct console_call *k, const char *token, const char *password)
{
	struct store *st = k->req->store;
	char *hash = reset_password_hash(password);  /* before the transaction: it takes a while */
	char *id = NULL;
	struct correspondant_row row = {0};
	enum reset_check burnt = RESET_STORE_ERROR;
	int rc = -1;
	if (hash != NULL && store_begin(st) == 0) {
		burnt = reset_token_redeem_for(st, RESET_PURPOSE_CONSOLE_INVITATION, token, k->req->now, &id);
		int64_t account = burnt == RESET_VALID ? strtoll(id, NULL, 10) : 0;
		rc = burnt == RESET_STORE_ERROR ? -1 : burnt == RESET_VALID ? store_correspondant_get_by_id(st, account, &row) : 0;
		if (rc == 1 && (store_correspondant_set_password(st, account, hash, k->req->now) < 0 ||
				store_audit_add(st, "console", row.email, AUDIT_INVITATION, row.email, audit_code(AUDIT_PASSWORD_CHANGED)) < 0))
			rc = -1;
		if (rc == 1 && store_commit(st) < 0)
			rc = -1;
		if (rc != 1)
			store_rollback(st);
	}
	if (rc == 1)
		k->page->log_line = xasprintf("console: %s chose a password (invitation)", row.email);
	correspondant_row_clear(&row);
	free(id);
	free(hash);
	return rc;
}

void
console_invitation_post(struct console_call *k)
{
	if (!console_origin_ok(k))
		return;
	static const char *const names[] = { "jeton", "mot_de_passe", "confirmation" };
	char *v[3];
	if (web_form_parse(k->req->body ? k->req->body : "", k->req->body_len, names, 3, v) < 0)
		return console_error(k, 400, NULL);
	struct correspondant_row row;
	int rc = v[0] != NULL ? invited(k, v[0], &row) : 0;
	if (rc == 1) {
		const char *why = v[1] == NULL || v[2] == NULL || !*v[1] || !*v[2] ? "web_reset_both_fields"
				  : strcmp(v[1], v[2]) != 0                         ? "web_reset_mismatch"
										    : reset_password_weakness(v[1]);
		if (why != NULL)
			invitation_form(k, v[0], &row, why);
		else
			rc = choose_password(k, v[0], v[1]);
		if (why == NULL && rc == 1)
			notice_page(k, "console_invitation_done_title", "console_invitation_done_text");
	}
	if (rc < 0)
		console_store_error(k, "storing a password chosen by invitation");
	else if (rc == 0)
		notice_page(k, "console_invitation_invalid_title", "console_invitation_invalid_text");
	if (v[0] != NULL)
		correspondant_row_clear(&row);
	for (size_t i = 0; i < 3; i++)
		web_secret_free(&v[i]);
}

/* ---- sign-out ---- */

void
console_sign_out(struct console_call *k, bool everywhere)
{
	static const char *const names[] = { "csrf" };
	char *csrf = NULL;
	if (web_form_parse(k->req->body ? k->req->body : "", k->req->body_len, names, 1, &csrf) < 0)
		return console_error(k, 400, NULL);
	if (console_post_allowed(k, csrf)) {
		struct store *st = k->req->store;
		const char *who = k->session.account.email;
		int rc = everywhere ? console_session_close_all(st, k->session.correspondant_id)
				    : console_session_close(st, k->token);
		if (rc < 0 || store_audit_add(st, "console", who, everywhere ? AUDIT_SIGN_OUT_ALL : AUDIT_SIGN_OUT, who,
					      audit_code(AUDIT_DONE)) < 0) {
			console_store_error(k, "signing out");
		} else {
			console_redirect(k, CONSOLE_LOGIN);
			k->page->set_cookie = xasprintf(CONSOLE_COOKIE "=; Path=" CONSOLE_ROOT "; Max-Age=0; HttpOnly; "
							"SameSite=Strict%s", k->c->secure ? "; Secure" : "");
			k->page->log_line = xasprintf("console: %s signed out%s (%d session%s)", who,
						      everywhere ? " everywhere" : "", rc, rc == 1 ? "" : "s");
		}
	}
	web_secret_free(&csrf);
}
