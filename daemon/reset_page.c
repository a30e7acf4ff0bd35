/* reset_page — see reset_page.h. */
#include "autoconf.h"
#include "reset_page.h"
#include "reset_token.h"
#include "store.h"
#include "util.h"
#include "web_page.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define AUDIT_ACTION "password_reset"
#define OUTCOME_CHANGED "password changed"
#define OUTCOME_INVALID "invalid or expired link"
#define OUTCOME_NO_ACCOUNT "account no longer in the directory"
#define INVALID_AUDITED_PER_MINUTE 20

static void
add_minutes(struct strbuf *sb, unsigned long minutes)
{
	strbuf_addf(sb, "%lu&nbsp;minute%s", minutes, minutes > 1 ? "s" : "");
}

static void
add_support_link(struct strbuf *sb, const char *address)
{
	/* The subject lets the assistant recognise the request at once. */
	strbuf_adds(sb, "<a href=\"mailto:");
	web_html_escape(sb, address);
	strbuf_adds(sb, "?subject=R%C3%A9initialisation%20du%20mot%20de%20passe\">");
	web_html_escape(sb, address);
	strbuf_adds(sb, "</a>");
}

/* The form, with error (a French sentence) above it when the last try was refused. */
static void
form_page(const struct reset_page_settings *s, const char *token, const char *identifier, const char *error,
	  struct web_page *page)
{
	struct strbuf sb = { 0 };
	web_page_begin(&sb, "Choisir un nouveau mot de passe");
	strbuf_adds(&sb, "<p>Compte utilisateur&nbsp;: <strong>");
	web_html_escape(&sb, identifier);
	strbuf_adds(&sb, "</strong></p>\n");
	if (error != NULL) {
		strbuf_adds(&sb, "<p class=\"erreur\" role=\"alert\">");
		web_html_escape(&sb, error);
		strbuf_adds(&sb, "</p>\n");
	}
	strbuf_adds(&sb, "<p id=\"regle\">Votre nouveau mot de passe doit comporter au moins 12&nbsp;caractères et mêler "
			 "des lettres et au moins un chiffre ou un autre signe.</p>\n"
			 /* Relative: the form posts back here, behind a reverse proxy's prefix too. */
			 "<form method=\"post\" action=\"reinitialisation\">\n<input type=\"hidden\" name=\"jeton\" value=\"");
	web_html_escape(&sb, token);
	/* The account's identifier as a (hidden) user name: password managers file the new
	 * password under the right account. The POST ignores it. */
	strbuf_adds(&sb, "\">\n<input type=\"text\" name=\"identifiant\" value=\"");
	web_html_escape(&sb, identifier);
	strbuf_adds(&sb, "\" autocomplete=\"username\" readonly hidden>\n"
			 "<label for=\"mot_de_passe\">Nouveau mot de passe</label>\n"
			 "<input type=\"password\" id=\"mot_de_passe\" name=\"mot_de_passe\" autocomplete=\"new-password\" "
			 "minlength=\"12\" required autofocus aria-describedby=\"regle\">\n"
			 "<label for=\"confirmation\">Confirmez le nouveau mot de passe</label>\n"
			 "<input type=\"password\" id=\"confirmation\" name=\"confirmation\" autocomplete=\"new-password\" "
			 "minlength=\"12\" required>\n"
			 "<button type=\"submit\">Enregistrer le mot de passe</button>\n</form>\n"
			 "<p class=\"note\">Ce lien reste valable ");
	add_minutes(&sb, s->ttl_minutes);
	strbuf_adds(&sb, " après son envoi et ne sert qu’une fois.</p>\n");
	web_page_end(&sb, 200, page);
}

static void
invalid_page(const struct reset_page_settings *s, struct web_page *page)
{
	struct strbuf sb = { 0 };
	web_page_begin(&sb, "Ce lien n’est plus valable");
	strbuf_adds(&sb, "<p>Ce lien de réinitialisation du mot de passe a expiré, a déjà servi ou a été remplacé par un "
			 "lien plus récent&nbsp;: un lien reste valable ");
	add_minutes(&sb, s->ttl_minutes);
	strbuf_adds(&sb, " et ne sert qu’une fois.</p>\n<p>Pour en recevoir un nouveau, écrivez-nous à ");
	add_support_link(&sb, s->support_address);
	strbuf_adds(&sb, " en demandant la réinitialisation de votre mot de passe et en indiquant votre identifiant. "
			 "Le nouveau lien sera envoyé à l’adresse enregistrée sur votre compte.</p>\n"
			 "<p class=\"note\">Si vous avez déjà choisi un nouveau mot de passe avec ce lien, il est "
			 "enregistré&nbsp;: vous pouvez vous connecter.</p>\n");
	web_page_end(&sb, 200, page);
}

static void
success_page(const struct reset_page_settings *s, struct web_page *page)
{
	struct strbuf sb = { 0 };
	web_page_begin(&sb, "Mot de passe modifié");
	strbuf_adds(&sb, "<p>Votre mot de passe a été modifié. Vous pouvez dès maintenant vous connecter avec votre "
			 "nouveau mot de passe.</p>\n<p class=\"note\">Ce lien ne peut plus servir. Si vous n’êtes pas à "
			 "l’origine de ce changement, écrivez-nous sans attendre à ");
	add_support_link(&sb, s->support_address);
	strbuf_adds(&sb, ".</p>\n");
	web_page_end(&sb, 200, page);
}

/* A store error: the 500 page and the reason for the caller's log line. */
static int
store_failure(struct store *st, const char *what, struct web_page *page, char **error_r)
{
	*error_r = xasprintf("%s: %s", what, store_error(st));
	web_page_clear(page);
	web_page_error(500, NULL, page);
	return -1;
}

int
reset_page_get(const struct reset_page_settings *s, struct store *st, const char *token, int64_t now,
	       struct web_page *page, char **error_r)
{
	memset(page, 0, sizeof(*page));
	*error_r = NULL;
	char *identifier = NULL;
	enum reset_check check = reset_token_check(st, token, now, &identifier);
	if (check == RESET_STORE_ERROR)
		return store_failure(st, "password reset: checking a link", page, error_r);
	if (check == RESET_VALID)
		form_page(s, token, identifier, NULL, page);
	else
		invalid_page(s, page);
	free(identifier);
	return 0;
}

/* A link that cannot serve (any more): audited, and said so. */
static int
refuse_link(const struct reset_page_settings *s, struct store *st, const char *identifier, const char *outcome,
	    struct web_page *page, char **error_r)
{
	web_page_clear(page);
	/* Anyone can post bad links by the thousand: beyond a few a minute they are answered
	 * but no longer audited nor logged one by one (the disk is not theirs to fill). */
	int64_t lately = identifier ? 0 : store_audit_count(st, "", AUDIT_ACTION, (int64_t)time(NULL) - 60);
	if (lately < 0)
		return store_failure(st, "password reset: audit", page, error_r);
	if (lately < INVALID_AUDITED_PER_MINUTE &&
	    store_audit_add(st, "web", identifier ? identifier : "", AUDIT_ACTION, identifier, outcome) < 0)
		return store_failure(st, "password reset: audit", page, error_r);
	invalid_page(s, page);
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
change_password(const struct reset_page_settings *s, struct store *st, const char *token, const char *password,
		int64_t now, struct web_page *page, char **error_r)
{
	/* Hashed before the transaction: argon2id takes a while, other writers need not wait. */
	char *hash = reset_password_hash(password);
	if (hash == NULL) {
		*error_r = xstrdup("password reset: cannot hash the new password (out of memory)");
		web_page_error(500, NULL, page);
		return -1;
	}
	char *identifier = NULL;
	int rc = -1, set = -1;
	enum reset_check burnt = RESET_STORE_ERROR;
	if (store_begin(st) < 0 || (burnt = reset_token_redeem(st, token, now, &identifier)) == RESET_STORE_ERROR ||
	    (burnt == RESET_VALID && (set = store_password_set(st, identifier, hash, now)) < 0) ||
	    (set == 1 && store_audit_add(st, "web", identifier, AUDIT_ACTION, identifier, OUTCOME_CHANGED) < 0) ||
	    (set == 1 && store_commit(st) < 0)) {
		store_rollback(st);
		rc = store_failure(st, "password reset: storing the new password", page, error_r);
	} else if (set == 1) {
		success_page(s, page);
		page->log_line = xasprintf("password reset: %s: %s", identifier, OUTCOME_CHANGED);
		rc = 0;
	} else {
		/* Burnt by another request meanwhile, or the account left the directory. */
		store_rollback(st);
		rc = refuse_link(s, st, identifier, burnt == RESET_VALID ? OUTCOME_NO_ACCOUNT : OUTCOME_INVALID, page,
				 error_r);
	}
	free(identifier);
	free(hash);
	return rc;
}

int
reset_page_post(const struct reset_page_settings *s, struct store *st, const char *body, size_t len, int64_t now,
		struct web_page *page, char **error_r)
{
	memset(page, 0, sizeof(*page));
	*error_r = NULL;
	if (len > RESET_PAGE_MAX_BODY) {
		web_page_error(413, NULL, page);
		return 0;
	}
	static const char *const names[] = { "jeton", "mot_de_passe", "confirmation" };
	char *values[3];
	if (web_form_parse(body, len, names, 3, values) < 0) {
		web_page_error(400, NULL, page);
		page->log_line = xstrdup("password reset: unreadable form refused");
		return 0;
	}
	const char *token = values[0], *password = values[1], *confirmation = values[2];
	char *identifier = NULL;
	enum reset_check check = reset_token_check(st, token, now, &identifier);
	int rc;
	if (check == RESET_STORE_ERROR) {
		rc = store_failure(st, "password reset: checking a link", page, error_r);
	} else if (check != RESET_VALID) {
		rc = refuse_link(s, st, NULL, OUTCOME_INVALID, page, error_r);
	} else {
		const char *why;
		if (password == NULL || confirmation == NULL || *password == '\0' || *confirmation == '\0')
			why = "Veuillez saisir le nouveau mot de passe dans les deux champs.";
		else if (strcmp(password, confirmation) != 0)
			why = "Les deux mots de passe saisis ne sont pas identiques.";
		else
			why = reset_password_weakness(password);
		if (why != NULL) {
			form_page(s, token, identifier, why, page);
			page->log_line = xasprintf("password reset: %s: new password refused, form shown again", identifier);
			rc = 0;
		} else {
			rc = change_password(s, st, token, password, now, page, error_r);
		}
	}
	free(identifier);
	for (size_t i = 0; i < 3; i++)
		web_secret_free(&values[i]);
	return rc;
}
