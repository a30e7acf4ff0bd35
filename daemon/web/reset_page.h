/* reset_page — the password reset page behind the link mailed by the e-mail channel
 * ({[web] public_url}/reinitialisation?jeton=TOKEN): GET shows the form while the token
 * is valid (without burning it: mail scanners fetch links before the user clicks), POST
 * checks the new password and, in one store transaction, burns the token, stores the
 * argon2id hash and the audit row. Pure request → page logic over the store (web.c is
 * the HTTP side); never logs: what the operator should read is in page->log_line, and
 * no token or password ever reaches a page, a log line, the audit or an error.
 * Threads: the web thread, on its own store connection. */
#ifndef DIALOGD_RESET_PAGE_H
#define DIALOGD_RESET_PAGE_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct templates;
struct web_page;

/* The form's path, relative to [web] public_url. */
#define RESET_PAGE_PATH "/reinitialisation"
/* The largest form body read (bigger ones get 413 before they are read). */
#define RESET_PAGE_MAX_BODY 8192

struct reset_page_settings {
	const char *support_address;    /* where to write for a new link (borrowed) */
	unsigned long ttl_minutes;      /* how long a link lasts, for the texts */
};

/* The pages' texts come from t (templates/web_*.txt). GET: token is the query's jeton (NULL when absent, or given twice). Fills *page (caller
 * clears it): 200 with the form, or 200 with the "no longer valid" page. Returns 0, or -1
 * on a store error: then *page is a 500 page and *error_r says why (caller frees). */
int reset_page_get(const struct reset_page_settings *settings, const struct templates *t, struct store *store,
		   const char *token, int64_t now, struct web_page *page, char **error_r);

/* POST: body is the urlencoded form (jeton, mot_de_passe, confirmation; len bytes, not
 * NUL-terminated). Fills *page: 200 success, 200 the form again with the reason (token
 * kept, not burnt), 200 "no longer valid", 400 (unreadable body) or 413 (too big).
 * Returns 0, or -1 on a store error (500 page and *error_r as for reset_page_get). */
int reset_page_post(const struct reset_page_settings *settings, const struct templates *t, struct store *store,
		    const char *body, size_t len, int64_t now, struct web_page *page, char **error_r);

#endif
