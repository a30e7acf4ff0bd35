/* web_page — the HTML pages dialogd serves over HTTP, built without libwebsockets (web.c
 * sends them; the pages are tested on their own): one layout (French, UTF-8, an inline
 * style allowed by its hash in the Content-Security-Policy, CSP Level 2), HTML escaping
 * (HTML 5 §13.1.4), the generic pages (home, errors), the reading of
 * application/x-www-form-urlencoded bodies (WHATWG URL §5.1, stricter: a bad escape or a
 * NUL byte refuses the body) and the strict reading of request heads that web.c does
 * before libwebsockets sees them (RFC 9112 §2–§6). Lower layer: never logs.
 * Threads: any (pure functions; the web thread is the caller). */
#ifndef DIALOGD_WEB_PAGE_H
#define DIALOGD_WEB_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf;
struct template_var;
struct templates;

/* A reply: status and body (HTML unless content_type says otherwise). The body, the log
 * line, location and set_cookie belong to the page (web_page_clear frees them); the
 * other header values are static or outlive the reply. */
struct web_page {
	int status;             /* HTTP status code */
	char *body;             /* the HTML, UTF-8; NULL for 204 */
	size_t len;             /* bytes of body */
	const char *content_type;       /* NULL: text/html; charset=utf-8 */
	const char *cache_control;      /* NULL: no-store (every page but the widget's files) */
	const char *content_encoding;   /* "gzip" for a compressed body, or NULL */
	const char *vary;               /* the Vary header, or NULL for none */
	char *location;                 /* a redirection's target (303 See Other), or NULL */
	char *set_cookie;               /* one Set-Cookie header's value, or NULL */
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

/* Starts a page titled by the template title of t (escaped), opening <main> with it as
 * its <h1>. */
void web_page_begin(struct strbuf *sb, const struct templates *t, const char *title);
/* Appends the template name of t rendered as HTML with vars (template_render's). */
void web_page_add_text(struct strbuf *sb, const struct templates *t, const char *name,
		       const struct template_var *vars, size_t var_count);
/* Appends a mailto: link to address (escaped), with the template subject of t as the
 * mail's subject when subject is not NULL. */
void web_page_add_mail_link(struct strbuf *sb, const struct templates *t, const char *address, const char *subject);
/* Closes the page begun in sb and moves it into page with status (sb is emptied). */
void web_page_end(struct strbuf *sb, int status, struct web_page *page);

/* The pages below take their texts from t (templates/web_*.txt). */
/* The service's home page: what it is, and where to write (support_address). */
void web_page_home(const struct templates *t, const char *support_address, struct web_page *page);
/* 204 No Content (the favicon: the pages name an empty data: icon). */
void web_page_no_content(struct web_page *page);
/* An error page for status 400, 404, 405 (allow: the methods the route takes), 411, 413,
 * 414, 415, 431, 501 or 500 (any other status gets the 500 text). */
void web_page_error(const struct templates *t, int status, const char *allow, struct web_page *page);

/* Reads a urlencoded body: for each of the count names, values_r[i] gets its decoded
 * value (caller frees with web_secret_free: it may be a password) or NULL when absent.
 * Other fields are ignored. Returns 0, or -1 (values_r all NULL) when the body is
 * malformed: a bad %-escape, a NUL byte, or one of the names given twice. */
int web_form_parse(const char *body, size_t len, const char *const *names, size_t count, char **values_r);
/* Wipes and frees *secret, sets it to NULL. */
void web_secret_free(char **secret);

/* Limits of a request head (the request line, the header field lines and the empty line
 * that ends them, and any empty line before the request line). */
#define WEB_HEAD_MAX 8192               /* bytes */
#define WEB_HEAD_MAX_FIELDS 64          /* header field lines */
#define WEB_HEAD_MAX_ARGS 24            /* '&'-separated arguments of the query */

/* What comes after a valid head on the connection. */
enum web_head_next {
	WEB_HEAD_NEXT_REQUEST,  /* content_length bytes of body, then the next request */
	WEB_HEAD_NEXT_UNKNOWN,  /* no telling (Transfer-Encoding, a Content-Length that is not
				 * one number): the server refuses the request and closes */
	WEB_HEAD_NEXT_OTHER,    /* a WebSocket upgrade: another protocol, if it is accepted */
};

/* The reading of one request head: the state between calls, then the result. */
struct web_head {
	size_t scanned;                 /* bytes of complete lines checked so far */
	size_t skip;                    /* empty lines before the request line (not forwarded) */
	size_t len;                     /* bytes of the head after them, once complete */
	unsigned fields;                /* header field lines */
	unsigned hosts;                 /* Host fields */
	unsigned lengths;               /* Content-Length fields */
	bool request_line;              /* the request line was read */
	bool http10;                    /* HTTP/1.0 (Host is optional) */
	bool transfer_encoding;
	bool bad_length;                /* a Content-Length that is not a plain number */
	bool websocket;                 /* Upgrade: websocket */
	uint64_t content_length;        /* when lengths == 1 and !bad_length */
	enum web_head_next next;
	const char *why;                /* why the head was refused (static, English, for the log) */
};

/* Reads the request head at the start of buf[0..len). head holds the state between
 * calls: zero it before the first call of each request, then call again with the same
 * bytes and more. Returns 1 when the head is complete and valid (head->skip, ->len,
 * ->next, ->content_length), 0 when more bytes are needed, or -1 when the request must
 * be refused, with *status_r and head->why: 400 for anything RFC 9112 does not allow
 * (whitespace before a colon or in a name, a folded line, a bare CR or LF, a control
 * character, no Host or two in HTTP/1.1, a version other than HTTP/1.0 and HTTP/1.1 —
 * the HTTP/2 preface "PRI * HTTP/2.0" included — and an Upgrade to anything but
 * WebSocket, "h2c" included), 414 for a request line over WEB_HEAD_MAX or a query of
 * more than WEB_HEAD_MAX_ARGS arguments, 431 for a head over WEB_HEAD_MAX bytes or
 * WEB_HEAD_MAX_FIELDS fields, 501 for a method other than GET, HEAD, POST, PUT, PATCH,
 * DELETE and OPTIONS. A line is judged as soon as it is complete. */
int web_head_parse(struct web_head *head, const char *buf, size_t len, int *status_r);

#endif
