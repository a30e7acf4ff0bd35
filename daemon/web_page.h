/* web_page — the HTML pages dialogd serves over HTTP, built without libwebsockets (web.c
 * sends them; the pages are tested on their own): one layout (French, UTF-8, an inline
 * style allowed by its hash in the Content-Security-Policy, CSP Level 2), HTML escaping
 * (HTML 5 §13.1.4), the generic pages (home, errors) and the reading of
 * application/x-www-form-urlencoded bodies (WHATWG URL §5.1, stricter: a bad escape or a
 * NUL byte refuses the body). Lower layer: never logs. */
#ifndef DIALOGD_WEB_PAGE_H
#define DIALOGD_WEB_PAGE_H

#include <stddef.h>

struct strbuf;

/* A reply: status and HTML. All memory belongs to the page (web_page_clear frees it). */
struct web_page {
	int status;             /* HTTP status code */
	char *body;             /* the HTML, UTF-8; NULL for 204 */
	size_t len;             /* bytes of body */
	const char *allow;      /* 405 only: the Allow header (static); NULL otherwise */
	char *log_line;         /* what happened, for the operator's log (never a token or a
				 * password), or NULL when there is nothing to say */
};
void web_page_clear(struct web_page *page);

/* The Content-Security-Policy sent with every page (static, computed once). */
const char *web_page_csp(void);

/* Appends s to sb, escaping & < > " ' and replacing invalid UTF-8 and control
 * characters (but tab and newline) with U+FFFD: the page stays valid whatever s holds. */
void web_html_escape(struct strbuf *sb, const char *s);

/* Starts a page titled title (escaped), opening <main> with title as its <h1>. */
void web_page_begin(struct strbuf *sb, const char *title);
/* Closes the page begun in sb and moves it into page with status (sb is emptied). */
void web_page_end(struct strbuf *sb, int status, struct web_page *page);

/* The service's home page: what it is, and where to write (support_address). */
void web_page_home(const char *support_address, struct web_page *page);
/* 204 No Content (the favicon: the pages name an empty data: icon). */
void web_page_no_content(struct web_page *page);
/* An error page for status 400, 404, 405 (allow: the methods the route takes), 411, 413,
 * 415 or 500 (any other status gets the 500 text). */
void web_page_error(int status, const char *allow, struct web_page *page);

/* Reads a urlencoded body: for each of the count names, values_r[i] gets its decoded
 * value (caller frees with web_secret_free: it may be a password) or NULL when absent.
 * Other fields are ignored. Returns 0, or -1 (values_r all NULL) when the body is
 * malformed: a bad %-escape, a NUL byte, or one of the names given twice. */
int web_form_parse(const char *body, size_t len, const char *const *names, size_t count, char **values_r);
/* Wipes and frees *secret, sets it to NULL. */
void web_secret_free(char **secret);

#endif
