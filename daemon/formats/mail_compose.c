/* mail_compose — outbound messages, byte by byte, for libcurl's SMTP DATA.
 * Pipeline: dialog → templates → mail_compose → mail_out (SMTP). The whole message
 * (RFC 5322 header block, msg-ids, RFC 2045 quoted-printable body, RFC 3834
 * Auto-Submitted), the reply subject and our own Message-IDs; header values, encoded
 * words, folding and addresses are mail_encode.c's (mail_compose_internal.h). Every
 * header value is reduced to one line first: no CR, LF or control from the input can
 * reach the wire. */
#include "autoconf.h"
#include "formats/mail_compose_internal.h"
#include "core/text.h"
#include "core/util.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>

#define QP_LINE_COLS 76

/* ---- ids in headers ---- */

/* A msg-id without its brackets, as the caller gave it (brackets tolerated). Returns a
 * copy, or NULL when it holds spaces, controls, non-ASCII or brackets. */
static char *
msgid_clean(const char *id)
{
	if (id == NULL)
		return NULL;
	size_t len = strlen(id);
	if (len >= 2 && id[0] == '<' && id[len - 1] == '>') {
		id++;
		len -= 2;
	}
	if (len == 0 || len > 900)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)id[i];
		if (c <= 0x20 || c >= 0x7F || c == '<' || c == '>')
			return NULL;
	}
	return xstrndup(id, len);
}

/* A long id goes on a line of its own rather than past column 78. */
static void
hdr_msgid(struct strbuf *sb, const char *header, const char *id)
{
	struct hdr h;
	mail_encode_hdr_start(&h, sb, header);
	char *tok = xasprintf("<%s>", id);
	mail_encode_hdr_token(&h, tok, strlen(tok), LINE_MAX_COLS);
	free(tok);
	mail_encode_hdr_end(&h);
}

static void
add_date(struct strbuf *sb, time_t t)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	if (gmtime_r(&t, &tm) == NULL) {
		t = 0;
		gmtime_r(&t, &tm);
	}
	strbuf_addf(sb, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[tm.tm_wday], tm.tm_mday,
		    months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* ---- body: quoted-printable (RFC 2045 §6.7) ---- */

static void
qp_line(struct strbuf *sb, const unsigned char *p, size_t len)
{
	size_t col = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];
		bool last = i + 1 == len;
		/* "From " at the start of a line is mangled by some mbox MTAs. */
		bool plain = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last);
		if (i == 0 && c == 'F' && len >= 5 && memcmp(p, "From ", 5) == 0)
			plain = false;
		size_t tlen = plain ? 1 : 3;
		if (col + tlen > (last ? QP_LINE_COLS : QP_LINE_COLS - 1)) {
			strbuf_add(sb, "=\r\n", 3);
			col = 0;
		}
		if (plain) {
			strbuf_addc(sb, (char)c);
		} else {
			strbuf_addc(sb, '=');
			strbuf_addc(sb, hex_upper[c >> 4]);
			strbuf_addc(sb, hex_upper[c & 15]);
		}
		col += tlen;
	}
	strbuf_add(sb, "\r\n", 2);
}

static void
qp_body(struct strbuf *sb, const char *body)
{
	/* Valid UTF-8 first, so that the declared charset is true. */
	struct strbuf clean = { 0 };
	for (const char *s = body; *s != '\0';) {
		int32_t cp;
		size_t n = mail_compose_utf8_next(s, &cp);
		if (cp == 0xFFFD && n == 1)
			text_add_codepoint(&clean, cp);
		else
			strbuf_add(&clean, s, n);
		s += n;
	}
	const char *s = clean.data != NULL ? clean.data : "";
	while (*s != '\0') {
		size_t len = strcspn(s, "\r\n");
		qp_line(sb, (const unsigned char *)s, len);
		s += len;
		if (s[0] == '\r' && s[1] == '\n')
			s += 2;
		else if (*s != '\0')
			s++;
	}
	strbuf_free(&clean);
}

char *
mail_compose(const struct outgoing_mail *mail)
{
	if (mail->from_address == NULL || mail->to_address == NULL ||
	    !mail_encode_address_valid(mail->from_address, strlen(mail->from_address)) ||
	    !mail_encode_address_valid(mail->to_address, strlen(mail->to_address)))
		return NULL;
	char *message_id = msgid_clean(mail->message_id);
	if (message_id == NULL)
		return NULL;
	struct strbuf sb = { 0 };
	struct hdr h;

	add_date(&sb, mail->date);
	mail_encode_hdr_mailbox(&sb, "From", mail->from_name, mail->from_address);
	mail_encode_hdr_mailbox(&sb, "To", mail->to_name, mail->to_address);
	mail_encode_hdr_start(&h, &sb, "Subject");
	mail_encode_hdr_text(&h, mail->subject);
	mail_encode_hdr_end(&h);
	hdr_msgid(&sb, "Message-ID", message_id);
	free(message_id);

	char *irt = msgid_clean(mail->in_reply_to);
	if (irt != NULL)
		hdr_msgid(&sb, "In-Reply-To", irt);
	free(irt);
	if (mail->references != NULL && mail->reference_count > 0) {
		bool any = false;
		for (size_t i = 0; i < mail->reference_count; i++) {
			char *id = msgid_clean(mail->references[i]);
			if (id == NULL)
				continue;
			if (!any)
				mail_encode_hdr_start(&h, &sb, "References");
			any = true;
			char *tok = xasprintf("<%s>", id);
			mail_encode_hdr_token(&h, tok, strlen(tok), LINE_MAX_COLS);
			free(tok);
			free(id);
		}
		if (any)
			mail_encode_hdr_end(&h);
	}
	strbuf_adds(&sb, "MIME-Version: 1.0\r\n"
			 "Content-Type: text/plain; charset=utf-8\r\n"
			 "Content-Transfer-Encoding: quoted-printable\r\n");
	if (mail->auto_replied || mail->auto_generated) {
		strbuf_adds(&sb, mail->auto_replied ? "Auto-Submitted: auto-replied\r\n"
						    : "Auto-Submitted: auto-generated\r\n");
		/* Asks Exchange not to answer with an out-of-office: no ping-pong. */
		strbuf_adds(&sb, "X-Auto-Response-Suppress: All\r\n");
	}
	strbuf_add(&sb, "\r\n", 2);
	qp_body(&sb, mail->body != NULL ? mail->body : "");
	return strbuf_detach(&sb);
}


/* Length of marker word w (lower case; "é" also matches "É") at the start of s, or 0. */
static size_t
marker_word(const char *s, const char *w)
{
	size_t i = 0, j = 0;
	while (w[j] != '\0') {
		if ((unsigned char)w[j] == 0xC3 && (unsigned char)w[j + 1] == 0xA9) {
			if ((unsigned char)s[i] != 0xC3 || ((unsigned char)s[i + 1] != 0xA9 && (unsigned char)s[i + 1] != 0x89))
				return 0;
			i += 2;
			j += 2;
			continue;
		}
		if (tolower((unsigned char)s[i]) != w[j])
			return 0;
		i++;
		j++;
	}
	return i;
}

/* Spaces as written before a colon, NBSP and narrow NBSP included (French typography). */
static size_t
skip_spaces(const char *s)
{
	size_t i = 0;
	for (;;) {
		if (s[i] == ' ' || s[i] == '\t')
			i++;
		else if ((unsigned char)s[i] == 0xC2 && (unsigned char)s[i + 1] == 0xA0)
			i += 2;
		else if ((unsigned char)s[i] == 0xE2 && (unsigned char)s[i + 1] == 0x80 &&
			 (unsigned char)s[i + 2] == 0xAF)
			i += 3;
		else
			return i;
	}
}

/* Length of one leading marker ("Re:", "RE :", "Réf. :", "RE[2]:", "Fwd:"…), or 0. */
static size_t
reply_marker(const char *s)
{
	static const char *const words[] = { "re", "ref", "réf", "aw", "sv", "vs", "tr", "fwd",
					     "fw", "wg", "antw", "rv", "enc", "rif" };
	for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++) {
		size_t i = marker_word(s, words[k]);
		if (i == 0)
			continue;
		if (s[i] == '[' || s[i] == '(') {
			char close = s[i] == '[' ? ']' : ')';
			size_t d = i + 1;
			while (isdigit((unsigned char)s[d]))
				d++;
			if (d == i + 1 || s[d] != close)
				continue;
			i = d + 1;
		} else if (s[i] == '^') {
			size_t d = i + 1;
			while (isdigit((unsigned char)s[d]))
				d++;
			if (d == i + 1)
				continue;
			i = d;
		}
		if (s[i] == '.')
			i++;
		i += skip_spaces(s + i);
		if (s[i] == ':')
			return i + 1;
		if ((unsigned char)s[i] == 0xEF && (unsigned char)s[i + 1] == 0xBC && (unsigned char)s[i + 2] == 0x9A)
			return i + 3; /* full-width colon */
	}
	return 0;
}

char *
mail_reply_subject(const char *original, const char *neutral)
{
	char *s = mail_encode_sanitize(original);
	const char *p = s;
	for (;;) {
		p += skip_spaces(p);
		size_t n = reply_marker(p);
		if (n == 0)
			break;
		p += n;
	}
	char *out = xasprintf("Re: %s", *p == '\0' ? neutral : p);
	free(s);
	return out;
}

/* ---- ids ---- */

char *
mail_new_message_id(const char *domain)
{
	/* Thread-safe and idempotent; fails only when the system has no entropy source at
	 * all, a broken invariant like out of memory. */
	if (sodium_init() < 0)
		abort();
	bool domain_ok = domain != NULL && *domain != '\0';
	for (const char *p = domain; domain_ok && *p != '\0'; p++)
		domain_ok = isalnum((unsigned char)*p) || *p == '-' || *p == '.';
	unsigned char rnd[20]; /* 160 bits */
	randombytes_buf(rnd, sizeof(rnd));
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	char r[33];
	for (size_t i = 0; i < 32; i++) {
		size_t bit = i * 5;
		unsigned v = ((unsigned)rnd[bit / 8] << 8 | (bit / 8 + 1 < sizeof(rnd) ? rnd[bit / 8 + 1] : 0u));
		r[i] = b32[(v >> (11 - bit % 8)) & 31];
	}
	r[32] = '\0';
	char *id = xasprintf("%" PRIx64 ".%s@%s", (uint64_t)time(NULL), r,
			     domain_ok ? domain : "dialogd.invalid");
	sodium_memzero(rnd, sizeof(rnd));
	return id;
}

/* The random part of our ids: lower-case hexadecimal time, '.', lower-case base32. */
static bool
own_id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.';
}

size_t
mail_own_message_ids(const char *raw, size_t len, const char *domain, char **ids_r, size_t max)
{
	size_t n = 0, dl = domain ? strlen(domain) : 0;
	if (dl == 0)
		return 0;
	const char *p = raw, *end = raw + len;
	while (n < max && p < end) {
		const char *at = memchr(p, '@', (size_t)(end - p));
		if (at == NULL)
			break;
		p = at + 1;
		const char *after = at + 1 + dl;
		if ((size_t)(end - at - 1) < dl || strncasecmp(at + 1, domain, dl) != 0 ||
		    (after < end && (isalnum((unsigned char)*after) || *after == '-' || *after == '.')))
			continue;
		const char *start = at;
		while (start > raw && at - start < 64 && own_id_char(start[-1]))
			start--;
		if (start == at || memchr(start, '.', (size_t)(at - start)) == NULL)
			continue;
		char *id = xasprintf("%.*s@%s", (int)(at - start), start, domain);
		bool seen = false;
		for (size_t i = 0; i < n && !seen; i++)
			seen = strcmp(ids_r[i], id) == 0;
		if (seen)
			free(id);
		else
			ids_r[n++] = id;
	}
	return n;
}
