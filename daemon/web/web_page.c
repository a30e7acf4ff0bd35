/* web_page — see web_page.h. */
#include "autoconf.h"
#include "web/web_page.h"
#include "engine/template.h"
#include "core/util.h"

#include <ctype.h>
#include <stdio.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The only style of every page, inline: one request per page, and the CSP names its
 * SHA-256 so that no other style (injected or not) applies. */
static const char style[] =
	"body{margin:0;background:#f3f5f2;color:#1c2a1e;font:1rem/1.5 system-ui,\"Segoe UI\",Roboto,"
	"\"Liberation Sans\",Arial,sans-serif}"
	"main{max-width:34rem;margin:2rem auto;padding:1.5rem 2rem;background:#fff;border-radius:.5rem;"
	"box-shadow:0 1px 4px rgba(0,0,0,.15)}"
	"h1{margin-top:0;font-size:1.4rem;color:#2d6a33}"
	"label{display:block;margin-top:1rem;font-weight:600}"
	"input[type=password]{box-sizing:border-box;width:100%;margin-top:.25rem;padding:.5rem;font-size:1rem;"
	"border:1px solid #7d8f80;border-radius:.25rem}"
	"button{margin-top:1.5rem;padding:.6rem 1.2rem;font-size:1rem;color:#fff;background:#2d6a33;border:0;"
	"border-radius:.25rem;cursor:pointer}"
	".erreur{padding:.75rem 1rem;background:#fdecea;border-left:4px solid #b3261e;color:#6f1812}"
	".note{font-size:.9rem;color:#4a5a4c}";

static char csp[320];
static pthread_once_t csp_once = PTHREAD_ONCE_INIT;

static void
csp_init(void)
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	char b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES, sodium_base64_VARIANT_ORIGINAL)];
	crypto_hash_sha256(digest, (const unsigned char *)style, strlen(style));
	sodium_bin2base64(b64, sizeof(b64), digest, sizeof(digest), sodium_base64_VARIANT_ORIGINAL);
	/* img-src data: for the empty icon the pages name (no /favicon.ico request); 'self'
	 * for the chat widget on the home page (its script, style and socket: dialogd serves
	 * no other script). */
	snprintf(csp, sizeof(csp),
		 "default-src 'none'; script-src 'self'; style-src 'sha256-%s' 'self'; connect-src 'self'; "
		 "img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		 b64);
}

const char *
web_page_csp(void)
{
	pthread_once(&csp_once, csp_init);
	return csp;
}

void
web_page_clear(struct web_page *page)
{
	free(page->body);
	free(page->log_line);
	free(page->location);
	free(page->set_cookie);
	memset(page, 0, sizeof(*page));
}

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlong form, no surrogate,
 * nothing above U+10FFFF), 0 when there is none. */
static size_t
utf8_sequence(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	size_t n;
	uint32_t cp;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2, cp = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3, cp = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	/* C1 controls (U+0080–U+009F) are not allowed in HTML text either. */
	if (cp >= 0x80 && cp <= 0x9F)
		return 0;
	return n;
}

void
web_html_escape(struct strbuf *sb, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	while (*s) {
		size_t n = utf8_sequence(s);
		if (n == 0 || (*s < 0x20 && *s != '\t' && *s != '\n') || *s == 0x7F) {
			strbuf_adds(sb, "\xEF\xBF\xBD");
			s++;
			continue;
		}
		switch (*s) {
		case '&': strbuf_adds(sb, "&amp;"); break;
		case '<': strbuf_adds(sb, "&lt;"); break;
		case '>': strbuf_adds(sb, "&gt;"); break;
		case '"': strbuf_adds(sb, "&quot;"); break;
		case '\'': strbuf_adds(sb, "&#39;"); break;
		default: strbuf_add(sb, (const char *)s, n); break;
		}
		s += n;
	}
}

void
web_page_begin(struct strbuf *sb, const struct templates *t, const char *name)
{
	char *title = template_render(t, name, OUTPUT_TEXT, NULL, 0);
	strbuf_adds(sb, "<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n"
			"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
			"<meta name=\"robots\" content=\"noindex, nofollow\">\n<title>");
	web_html_escape(sb, title);
	strbuf_adds(sb, " – OCAPIAT</title>\n<link rel=\"icon\" href=\"data:,\">\n<style>");
	strbuf_adds(sb, style);
	strbuf_adds(sb, "</style>\n</head>\n<body>\n<main>\n<h1>");
	web_html_escape(sb, title);
	strbuf_adds(sb, "</h1>\n");
	free(title);
}

void
web_page_add_text(struct strbuf *sb, const struct templates *t, const char *name, const struct template_var *vars,
		  size_t var_count)
{
	char *html = template_render(t, name, OUTPUT_HTML, vars, var_count);
	strbuf_adds(sb, html);
	free(html);
}

void
web_page_add_mail_link(struct strbuf *sb, const struct templates *t, const char *address, const char *subject)
{
	strbuf_adds(sb, "<a href=\"mailto:");
	web_html_escape(sb, address);
	if (subject != NULL) {
		/* Percent-encoded (RFC 6068): every byte but the unreserved ones. */
		char *text = template_render(t, subject, OUTPUT_TEXT, NULL, 0);
		strbuf_adds(sb, "?subject=");
		for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
			if (isalnum(*p) || strchr("-._~", *p) != NULL)
				strbuf_addc(sb, (char)*p);
			else
				strbuf_addf(sb, "%%%02X", *p);
		}
		free(text);
	}
	strbuf_adds(sb, "\">");
	web_html_escape(sb, address);
	strbuf_adds(sb, "</a>");
}

void
web_page_end(struct strbuf *sb, int status, struct web_page *page)
{
	strbuf_adds(sb, "</main>\n</body>\n</html>\n");
	page->status = status;
	page->len = sb->len;
	page->body = strbuf_detach(sb);
}

void
web_page_home(const struct templates *t, const char *support_address, struct web_page *page)
{
	struct strbuf sb = { 0 };
	web_page_begin(&sb, t, "web_home_title");
	strbuf_adds(&sb, "<p>");
	web_page_add_text(&sb, t, "web_home_text", NULL, 0);
	strbuf_adds(&sb, "</p>\n<p>");
	struct strbuf link = { 0 };
	web_page_add_mail_link(&link, t, support_address, NULL);
	struct template_var var = { "address", link.data, true };
	web_page_add_text(&sb, t, "web_home_contact", &var, 1);
	strbuf_free(&link);
	strbuf_adds(&sb, "</p>\n<p>");
	web_page_add_text(&sb, t, "web_home_chat", NULL, 0);
	/* The chat widget, as a host page embeds it (same origin: the CSP's 'self'). */
	strbuf_adds(&sb, "</p>\n<script src=\"/widget.js\" defer></script>\n");
	web_page_end(&sb, 200, page);
}

void
web_page_no_content(struct web_page *page)
{
	memset(page, 0, sizeof(*page));
	page->status = 204;
}

void
web_page_error(const struct templates *t, int status, const char *allow, struct web_page *page)
{
	/* Each has its title and text in templates/: web_error_<status>_title and _text. */
	static const int statuses[] = { 400, 404, 405, 411, 413, 414, 415, 431, 501, 500 };
	size_t i = 0;
	while (i < sizeof(statuses) / sizeof(*statuses) - 1 && statuses[i] != status)
		i++;
	char title[32], text[32];
	snprintf(title, sizeof(title), "web_error_%d_title", statuses[i]);
	snprintf(text, sizeof(text), "web_error_%d_text", statuses[i]);
	struct strbuf sb = { 0 };
	memset(page, 0, sizeof(*page));
	web_page_begin(&sb, t, title);
	strbuf_adds(&sb, "<p>");
	web_page_add_text(&sb, t, text, NULL, 0);
	strbuf_adds(&sb, "</p>\n");
	web_page_end(&sb, statuses[i], page);
	page->allow = statuses[i] == 405 ? allow : NULL;
}

/* Decodes s[0..n) ('+' is a space, %XX a byte) into out (room for n + 1 bytes, always
 * NUL-terminated). Returns 0, or -1 on a bad escape or a NUL byte. */
static int
form_decode(const char *s, size_t n, char *out)
{
	size_t o = 0;
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi = i + 2 < n ? hex_digit_value((unsigned char)s[i + 1]) : -1;
			int lo = i + 2 < n ? hex_digit_value((unsigned char)s[i + 2]) : -1;
			if (hi < 0 || lo < 0) {
				rc = -1;
				break;
			}
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		if (c == '\0') {
			rc = -1;
			break;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return rc;
}

int
web_form_parse(const char *body, size_t len, const char *const *names, size_t count, char **values_r)
{
	for (size_t i = 0; i < count; i++)
		values_r[i] = NULL;
	/* One scratch buffer as large as the body: no field can decode to more. Wiped. */
	char *scratch = xmalloc(len + 1);
	size_t start = 0;
	int rc = 0;
	while (start <= len && rc == 0) {
		const char *amp = memchr(body + start, '&', len - start);
		size_t end = amp ? (size_t)(amp - body) : len;
		const char *eq = memchr(body + start, '=', end - start);
		size_t name_end = eq ? (size_t)(eq - body) : end;
		if (end > start) {
			if (form_decode(body + start, name_end - start, scratch) < 0) {
				rc = -1;
				break;
			}
			for (size_t i = 0; i < count; i++) {
				if (strcmp(scratch, names[i]) != 0)
					continue;
				if (values_r[i] != NULL) {
					rc = -1;  /* a field given twice: which one was meant? */
					break;
				}
				size_t vstart = eq ? name_end + 1 : end;
				values_r[i] = xmalloc(end - vstart + 1);
				if (form_decode(body + vstart, end - vstart, values_r[i]) < 0)
					rc = -1;
				break;
			}
		}
		start = end + 1;
	}
	sodium_memzero(scratch, len + 1);
	free(scratch);
	if (rc < 0)
		for (size_t i = 0; i < count; i++)
			web_secret_free(&values_r[i]);
	return rc;
}

void
web_secret_free(char **secret)
{
	if (*secret == NULL)
		return;
	sodium_memzero(*secret, strlen(*secret));
	free(*secret);
	*secret = NULL;
}

/* ---- request heads (RFC 9112) ---- */

/* tchar (RFC 9110 §5.6.2): the characters of a method or a field name. */
static bool
is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* The value of field line s[0..n) after "name:", without the whitespace around it. */
static void
field_value(const char *s, size_t n, const char **value_r, size_t *len_r)
{
	while (n > 0 && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	*value_r = s;
	*len_r = n;
}

static bool
token_is(const char *s, size_t n, const char *word)
{
	return n == strlen(word) && strncasecmp(s, word, n) == 0;
}

static int
head_refuse(struct web_head *head, int status, const char *why, int *status_r)
{
	head->why = why;
	*status_r = status;
	return -1;
}

/* method SP request-target SP HTTP-version (RFC 9112 §3), line without its CRLF. */
static int
request_line(struct web_head *head, const char *line, size_t n, int *status_r)
{
	static const char *const methods[] = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS" };
	size_t m = 0;
	while (m < n && is_tchar((unsigned char)line[m]))
		m++;
	if (m == 0 || m == n || line[m] != ' ')
		return head_refuse(head, 400, "a malformed request line", status_r);
	size_t t = m + 1, t_end = t;
	unsigned args = 0;
	bool query = false;
	while (t_end < n && (unsigned char)line[t_end] > 0x20 && (unsigned char)line[t_end] < 0x7F) {
		if (line[t_end] == '?' && !query)
			query = true, args = 1;
		else if (line[t_end] == '&' && query)
			args++;
		t_end++;
	}
	if (t_end == t || t_end == n || line[t_end] != ' ')
		return head_refuse(head, 400, "a malformed request line", status_r);
	const char *version = line + t_end + 1;
	size_t v = n - t_end - 1;
	if (v != 8 || memcmp(version, "HTTP/", 5) != 0 || version[6] != '.' || !isdigit((unsigned char)version[5]) ||
	    !isdigit((unsigned char)version[7]))
		return head_refuse(head, 400, "a malformed request line", status_r);
	if (memcmp(version, "HTTP/1.1", 8) != 0 && memcmp(version, "HTTP/1.0", 8) != 0)
		return head_refuse(head, 400, "an HTTP version other than 1.0 and 1.1 (HTTP/2 is not spoken)", status_r);
	head->http10 = version[7] == '0';
	/* Methods are case-sensitive (RFC 9110 §9.1): "get" is not GET. */
	size_t i = 0;
	while (i < sizeof(methods) / sizeof(*methods) && (m != strlen(methods[i]) || memcmp(line, methods[i], m) != 0))
		i++;
	if (i == sizeof(methods) / sizeof(*methods))
		return head_refuse(head, 501, "a method that is not implemented", status_r);
	if (args > WEB_HEAD_MAX_ARGS)
		return head_refuse(head, 414, "too many query arguments", status_r);
	head->request_line = true;
	return 0;
}

/* field-name ":" OWS field-value OWS (RFC 9112 §5), line without its CRLF. */
static int
field_line(struct web_head *head, const char *line, size_t n, int *status_r)
{
	if (++head->fields > WEB_HEAD_MAX_FIELDS)
		return head_refuse(head, 431, "too many header fields", status_r);
	if (line[0] == ' ' || line[0] == '\t')
		return head_refuse(head, 400, "a folded header line (obs-fold)", status_r);
	size_t name = 0;
	while (name < n && is_tchar((unsigned char)line[name]))
		name++;
	if (name == n || line[name] != ':') {
		/* RFC 9112 §5.1: "No whitespace is allowed between the field name and colon... A
		 * server MUST reject, with a response status code of 400". */
		if (name > 0 && name < n && (line[name] == ' ' || line[name] == '\t'))
			return head_refuse(head, 400, "whitespace in a header name or before the colon", status_r);
		return head_refuse(head, 400, "a malformed header name", status_r);
	}
	if (name == 0)
		return head_refuse(head, 400, "an empty header name", status_r);
	for (size_t i = name + 1; i < n; i++) {
		unsigned char c = (unsigned char)line[i];
		if ((c < 0x20 && c != '\t') || c == 0x7F)
			return head_refuse(head, 400, "a control character in a header value", status_r);
	}
	const char *value;
	size_t len;
	field_value(line + name + 1, n - name - 1, &value, &len);
	if (token_is(line, name, "host")) {
		head->hosts++;
	} else if (token_is(line, name, "content-length")) {
		head->lengths++;
		/* Past 18 digits it does not fit: web.c answers 413 to anything that long. */
		uint64_t length = 0;
		size_t digits = 0;
		while (digits < len && isdigit((unsigned char)value[digits]))
			length = length * 10 + (uint64_t)(value[digits++] - '0');
		if (len == 0 || len > 18 || digits < len)
			head->bad_length = true;
		else
			head->content_length = length;
	} else if (token_is(line, name, "transfer-encoding")) {
		head->transfer_encoding = true;
	} else if (token_is(line, name, "upgrade")) {
		if (!token_is(value, len, "websocket"))
			return head_refuse(head, 400, "an upgrade to another protocol than WebSocket", status_r);
		head->websocket = true;
	}
	return 0;
}

/* The head is complete: what the whole of it says. */
static int
head_end(struct web_head *head, int *status_r)
{
	if (head->hosts > 1 || (head->hosts == 0 && !head->http10))
		return head_refuse(head, 400, head->hosts ? "more than one Host" : "no Host in HTTP/1.1", status_r);
	if (head->transfer_encoding || head->bad_length || head->lengths > 1)
		head->next = WEB_HEAD_NEXT_UNKNOWN;
	else if (head->websocket)
		head->next = WEB_HEAD_NEXT_OTHER;
	else
		head->next = WEB_HEAD_NEXT_REQUEST;
	if (head->lengths != 1 || head->bad_length)
		head->content_length = 0;
	return 1;
}

int
web_head_parse(struct web_head *head, const char *buf, size_t len, int *status_r)
{
	size_t pos = head->scanned;
	for (;;) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - buf) + 1 : len;
		/* A CR anywhere but before LF (a CR at the very end may still get its LF). */
		const char *cr = memchr(buf + pos, '\r', end - pos);
		while (cr != NULL && (size_t)(cr - buf) + 1 < len && cr[1] == '\n')
			cr = memchr(cr + 1, '\r', end - (size_t)(cr + 1 - buf));
		if (cr != NULL && (size_t)(cr - buf) + 1 < len)
			return head_refuse(head, 400, "a CR that does not end a line", status_r);
		if (nl != NULL && (nl == buf + pos || nl[-1] != '\r'))
			return head_refuse(head, 400, "a line that ends in a bare LF", status_r);
		if (end > WEB_HEAD_MAX)
			return head_refuse(head, head->request_line ? 431 : 414,
					   head->request_line ? "a head over 8 KB" : "a request line over 8 KB", status_r);
		if (nl == NULL)
			return 0;
		const char *line = buf + pos;
		size_t n = end - pos - 2;
		int rc = 0;
		if (!head->request_line && n == 0)
			head->skip = end;  /* an empty line before the request (RFC 9112 §2.2) */
		else if (!head->request_line)
			rc = request_line(head, line, n, status_r);
		else if (n == 0)
			rc = head_end(head, status_r);
		else
			rc = field_line(head, line, n, status_r);
		pos = end;
		head->scanned = pos;
		if (rc != 0) {
			if (rc > 0)
				head->len = end - head->skip;
			return rc;
		}
	}
}
