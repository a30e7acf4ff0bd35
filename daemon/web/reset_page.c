/* reset_page — see reset_page.h. */
#include "autoconf.h"
#include "web/reset_page.h"
#include "store/audit.h"
#include "accounts/reset_token.h"
#include "store/store.h"
#include "engine/template.h"
#include "core/util.h"
#include "web/web_page.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define AUDIT_ACTION "password_reset"
#define INVALID_AUDITED_PER_MINUTE 20

/* The paragraph template name with {{duration}}: how long a link lasts. */
static void
add_with_duration(struct strbuf *sb, const struct templates *t, const char *name, unsigned long minutes)
{
	char *count = xasprintf("%lu", minutes);
	struct template_var var = { "minutes", count, false };
	char *duration = template_render(t, minutes > 1 ? "web_minutes_many" : "web_minutes_one", OUTPUT_HTML, &var, 1);
	struct template_var d = { "duration", duration, true };
	web_page_add_text(sb, t, name, &d, 1);
	free(duration);
	free(count);
}

/* The paragraph template name with {{address}}: the support address as a link. */
static void
add_with_support_link(struct strbuf *sb, const struct templates *t, const char *name, const char *address)
{
	/* The subject lets the assistant recognise the request at once. */
	struct strbuf link = { 0 };
	web_page_add_mail_link(&link, t, address, "web_reset_mail_subject");
	struct template_var var = { "address", link.data, true };
	web_page_add_text(sb, t, name, &var, 1);
	strbuf_free(&link);
}

/* The form, with error (the template saying why) above it when the last try was refused. */
static void
form_page(const struct reset_page_settings *s, const struct templates *t, const char *token, const char *identifier,
	  const char *error, struct web_page *page)
{
	struct strbuf sb = { 0 };
	web_page_begin(&sb, t, "web_reset_title");
	struct strbuf strong = { 0 };
	strbuf_adds(&strong, "<strong>");
	web_html_escape(&strong, identifier);
	strbuf_adds(&strong, "</strong>");
	struct template_var id = { "identifier", strong.data, true };
	strbuf_adds(&sb, "<p>");
	web_page_add_text(&sb, t, "web_reset_account", &id, 1);
	strbuf_adds(&sb, "</p>\n");
	strbuf_free(&strong);
	if (error != NULL) {
		strbuf_adds(&sb, "<p class=\"erreur\" role=\"alert\">");
		web_page_add_text(&sb, t, error, NULL, 0);
		strbuf_adds(&sb, "</p>\n");
	}
	strbuf_adds(&sb, "<p id=\"regle\">");
	web_page_add_text(&sb, t, "web_reset_rule", NULL, 0);
	strbuf_adds(&sb, "</p>\n"
			 /* Relative: the form posts back here, behind a reverse proxy's prefix too. */
			 "<form method=\"post\" action=\"reinitialisation\">\n<input type=\"hidden\" name=\"jeton\" value=\"");
	web_html_escape(&sb, token);
	/* The account's identifier as a (hidden) user name: password managers file the new
	 * password under the right account. The POST ignores it. */
	strbuf_adds(&sb, "\">\n<input type=\"text\" name=\"identifiant\" value=\"");
	web_html_escape(&sb, identifier);
	strbuf_adds(&sb, "\" autocomplete=\"username\" readonly hidden>\n<label for=\"mot_de_passe\">");
	web_page_add_text(&sb, t, "web_reset_label_password", NULL, 0);
	strbuf_adds(&sb, "</label>\n"
			 "<input type=\"password\" id=\"mot_de_passe\" name=\"mot_de_passe\" autocomplete=\"new-password\" "
			 "minlength=\"12\" required autofocus aria-describedby=\"regle\">\n<label for=\"confirmation\">");
	web_page_add_text(&sb, t, "web_reset_label_confirmation", NULL, 0);
	strbuf_adds(&sb, "</label>\n"
			 "<input type=\"password\" id=\"confirmation\" name=\"confirmation\" autocomplete=\"new-password\" "
			 "minlength=\"12\" required>\n<button type=\"submit\">");
	web_page_add_text(&sb, t, "web_reset_button", NULL, 0);
	strbuf_adds(&sb, "</button>\n</form>\n<p class=\"note\">");
	add_with_duration(&sb, t, "web_reset_validity", s->ttl_minutes);
	strbuf_adds(&sb, "</p>\n");
	web_page_end(&sb, 200, page);
}

static void
invalid_page(const struct reset_page_settings *s, const struct templates *t, struct web_page *page)
{
	struct strbuf sb = { 0 };
	web_page_begin(&sb, t, "web_invalid_title");
	strbuf_adds(&sb, "<p>");
	add_with_duration(&sb, t, "web_invalid_text", s->ttl_minutes);
	strbuf_adds(&sb, "</p>\n<p>");
	add_with_support_link(&sb, t, "web_invalid_renew", s->support_address);
	strbuf_adds(&sb, "</p>\n<p class=\"note\">");
	web_page_add_text(&sb, t, "web_invalid_note", NULL, 0);
	strbuf_adds(&sb, "</p>\n");
	web_page_end(&sb, 200, page);
}

static void
success_page(const struct reset_page_settings *s, const struct templates *t, struct web_page *page)
{
	struct strbuf sb = { 0 };
	web_page_begin(&sb, t, "web_success_title");
	strbuf_adds(&sb, "<p>");
	web_page_add_text(&sb, t, "web_success_text", NULL, 0);
	strbuf_adds(&sb, "</p>\n<p class=\"note\">");
	add_with_support_link(&sb, t, "web_success_note", s->support_address);
	strbuf_adds(&sb, "</p>\n");
	web_page_end(&sb, 200, page);
}

/* A store error: the 500 page and the reason for the caller's log line. */
static int
store_failure(struct store *st, const struct templates *t, const char *what, struct web_page *page, char **error_r)
{
	*error_r = xasprintf("%s: %s", what, store_error(st));
	web_page_clear(page);
	web_page_error(t, 500, NULL, page);
	return -1;
}

int
reset_page_get(const struct reset_page_settings *s, const struct templates *t, struct store *st, const char *token,
	       int64_t now, struct web_page *page, char **error_r)
{
	memset(page, 0, sizeof(*page));
	*error_r = NULL;
	char *identifier = NULL;
	enum reset_check check = reset_token_check(st, token, now, &identifier);
	if (check == RESET_STORE_ERROR)
		return store_failure(st, t, "password reset: checking a link", page, error_r);
	if (check == RESET_VALID)
		form_page(s, t, token, identifier, NULL, page);
	else
		invalid_page(s, t, page);
	free(identifier);
	return 0;
}

/* A link that cannot serve (any more): audited, and said so. */
static int
refuse_link(const struct reset_page_settings *s, const struct templates *t, struct store *st, const char *identifier,
	    enum audit_outcome why, struct web_page *page, char **error_r)
{
	web_page_clear(page);
	const char *outcome = audit_text(audit_code(why));  /* the log's words */
	/* Anyone can post bad links by the thousand: beyond a few a minute they are answered
	 * but no longer audited nor logged one by one (the disk is not theirs to fill). */
	int64_t lately = identifier ? 0 : store_audit_count(st, "", AUDIT_ACTION, (int64_t)time(NULL) - 60);
	if (lately < 0)
		return store_failure(st, t, "password reset: audit", page, error_r);
	if (lately < INVALID_AUDITED_PER_MINUTE &&
	    store_audit_add(st, "web", identifier ? identifier : "", AUDIT_ACTION, identifier, audit_code(why)) < 0)
		return store_failure(st, t, "password reset: audit", page, error_r);
	invalid_page(s, t, page);
	if (lately == INVALID_AUDITED_PER_MINUTE - 1)
		page->log_line = xasprintf("password reset: %s: %d in a minute, the next ones are not recorded until it "
					   "calms down", outcome, INVALID_AUDITED_PER_MINUTE);
	else if (lately < INVALID_AUDITED_PER_MINUTE)
		page->log_line = identifier ? xasprintf("password reset: %s: %s", identifier, outcome)
					    : xasprintf("password reset: %s", outcome);
	return 0;
}

/* The token was checked and the password accepted: burn, store, audit, all or nothing. */
static int
change_password(const struct reset_page_settings *s, const struct templates *t, struct store *st, const char *token, const char *password,
		int64_t now, struct web_page *page, char **error_r)
{
	/* Hashed before the transaction: argon2id takes a while, other writers need not wait. */
	char *hash = reset_password_hash(password);
	if (hash == NULL) {
		*error_r = xstrdup("password reset: cannot hash the new password (out of memory)");
		web_page_error(t, 500, NULL, page);
		return -1;
	}
	char *identifier = NULL;
	int rc = -1, set = -1;
	enum reset_check burnt = RESET_STORE_ERROR;
	if (store_begin(st) < 0 || (burnt = reset_token_redeem(st, token, now, &identifier)) == RESET_STORE_ERROR ||
	    (burnt == RESET_VALID && (set = store_password_set(st, identifier, hash, now)) < 0) ||
	    (set == 1 && store_audit_add(st, "web", identifier, AUDIT_ACTION, identifier, audit_code(AUDIT_PASSWORD_CHANGED)) < 0) ||
	    (set == 1 && store_commit(st) < 0)) {
		store_rollback(st);
		rc = store_failure(st, t, "password reset: storing the new password", page, error_r);
	} else if (set == 1) {
		success_page(s, t, page);
		page->log_line = xasprintf("password reset: %s: %s", identifier, audit_text(audit_code(AUDIT_PASSWORD_CHANGED)));
		rc = 0;
	} else {
		/* Burnt by another request meanwhile, or the account left the directory. */
		store_rollback(st);
		rc = refuse_link(s, t, st, identifier, burnt == RESET_VALID ? AUDIT_ACCOUNT_GONE : AUDIT_LINK_INVALID, page,
				 error_r);
	}
	free(identifier);
	free(hash);
	return rc;
}

int
reset_page_post(const struct reset_page_settings *s, const struct templates *t, struct store *st, const char *body,
		size_t len, int64_t now, struct web_page *page, char **error_r)
{
	memset(page, 0, sizeof(*page));
	*error_r = NULL;
	if (len > RESET_PAGE_MAX_BODY) {
		web_page_error(t, 413, NULL, page);
		return 0;
	}
	static const char *const names[] = { "jeton", "mot_de_passe", "confirmation" };
	char *values[3];
	if (web_form_parse(body, len, names, 3, values) < 0) {
		web_page_error(t, 400, NULL, page);
		page->log_line = xstrdup("password reset: unreadable form refused");
		return 0;
	}
	const char *token = values[0], *password = values[1], *confirmation = values[2];
	char *identifier = NULL;
	enum reset_check check = reset_token_check(st, token, now, &identifier);
	int rc;
	if (check == RESET_STORE_ERROR) {
		rc = store_failure(st, t, "password reset: checking a link", page, error_r);
	} else if (check != RESET_VALID) {
		rc = refuse_link(s, t, st, NULL, AUDIT_LINK_INVALID, page, error_r);
	} else {
		const char *why;
		if (password == NULL || confirmation == NULL || *password == '\0' || *confirmation == '\0')
			why = "web_reset_both_fields";
		else if (strcmp(password, confirmation) != 0)
			why = "web_reset_mismatch";
		else
			why = reset_password_weakness(password);
		if (why != NULL) {
			form_page(s, t, token, identifier, why, page);
			page->log_line = xasprintf("password reset: %s: new password refused, form shown again", identifier);
			rc = 0;
		} else {
			rc = change_password(s, t, st, token, password, now, page, error_r);
		}
	}
	free(identifier);
	for (size_t i = 0; i < 3; i++)
		web_secret_free(&values[i]);
	return rc;
}
