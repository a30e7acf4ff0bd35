/* mail_parse — one raw message fetched over IMAP → headers, addresses, thread ids, readable
 * text, attachments and bounce facts. Pipeline: imap → mime (this file) → text → intent.
 * MIME tree and transfer decodings by libetpan (RFC 2045-2046), charsets by libetpan's
 * charconv except the windows-1252 family, decoded here; header block, RFC 2047 words,
 * RFC 2231 parameters, addresses (RFC 5322), format=flowed (RFC 3676) and delivery
 * status (RFC 3464) read here. HTML parts go through html_text. Every string handed out
 * is valid UTF-8 without CR. */
#include "autoconf.h"
#include "mail_parse.h"
#include "html_text.h"
#include "text.h"
#include "util.h"

#include <ctype.h>
#include <libetpan/libetpan.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#define MAX_MIME_DEPTH 20       /* parts nested deeper are ignored, with a note */
#define MAX_MULTIPART_DECLARED 1000 /* libetpan recurses once per nested multipart */
#define MAX_NOTES 32

struct parse_ctx {
	struct parsed_mail *mail;
	struct strbuf plain;    /* text/plain parts joined */
	struct strbuf html;     /* text of the text/html parts joined */
	bool depth_noted;
};

/* ---- small arrays ---- */

/* Grows an array whose capacity is the next power of two of its count, so a push is
 * amortised O(1) without a capacity field in the public struct. */
static void *
array_grow(void *array, size_t count, size_t elem)
{
	if (count == 0)
		return xrealloc(array, 4 * elem);
	if (count >= 4 && (count & (count - 1)) == 0)
		return xrealloc(array, 2 * count * elem);
	return array;
}

static void
str_push(char ***array, size_t *count, char *s)
{
	*array = array_grow(*array, *count, sizeof(**array));
	(*array)[(*count)++] = s;
}

static void __attribute__((format(printf, 2, 3)))
add_note(struct parsed_mail *mail, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *note = xvasprintf(fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < mail->note_count; i++) {
		if (strcmp(mail->notes[i], note) == 0) {
			free(note);
			return;
		}
	}
	if (mail->note_count >= MAX_NOTES) {
		free(note);
		return;
	}
	str_push(&mail->notes, &mail->note_count, note);
}

/* ---- UTF-8 and windows-1252 ---- */

static const uint16_t cp1252_high[32] = {
	0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
	0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178,
};

static void
add_cp1252_byte(struct strbuf *sb, unsigned char c)
{
	if (c == 0)
		text_add_codepoint(sb, 0xFFFD);
	else if (c < 0x80)
		strbuf_addc(sb, (char)c);
	else if (c < 0xA0)
		text_add_codepoint(sb, cp1252_high[c - 0x80]);
	else
		text_add_codepoint(sb, c);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when s[0] starts none (or is NUL). */
static size_t
utf8_seq_len(const unsigned char *s, size_t len)
{
	if (s[0] == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	utf8proc_int32_t cp;
	utf8proc_ssize_t n = utf8proc_iterate(s, (utf8proc_ssize_t)(len < 4 ? len : 4), &cp);
	return n > 0 ? (size_t)n : 0;
}

/* NUL bytes count as valid here: they are replaced on output, whatever the charset. */
static bool
utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		size_t n = utf8_seq_len(p + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

/* Appends s as UTF-8: bad sequences and NUL become U+FFFD. Returns true if any was. */
static bool
add_utf8_replacing(struct strbuf *sb, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	bool replaced = false;
	size_t i = 0;
	strbuf_reserve(sb, len);
	while (i < len) {
		size_t start = i;
		while (i < len && p[i] != 0 && p[i] < 0x80)
			i++;
		if (i > start)
			strbuf_add(sb, s + start, i - start);
		if (i >= len)
			break;
		size_t n = utf8_seq_len(p + i, len - i);
		if (n == 0) {
			text_add_codepoint(sb, 0xFFFD);
			replaced = true;
			i++;
		} else {
			strbuf_add(sb, s + i, n);
			i += n;
		}
	}
	return replaced;
}

static void
add_cp1252(struct strbuf *sb, const char *s, size_t len)
{
	strbuf_reserve(sb, len);
	for (size_t i = 0; i < len; i++)
		add_cp1252_byte(sb, (unsigned char)s[i]);
}

/* Header text: valid UTF-8 sequences kept, any other byte read as windows-1252. */
static void
add_header_bytes(struct strbuf *sb, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		size_t n = p[i] >= 0x80 ? utf8_seq_len(p + i, len - i) : 0;
		if (n > 1) {
			strbuf_add(sb, s + i, n);
			i += n;
		} else {
			add_cp1252_byte(sb, p[i]);
			i++;
		}
	}
}

/* ---- charsets ---- */

enum charset_kind {
	CHARSET_UTF8,
	CHARSET_CP1252,         /* windows-1252, ISO-8859-1: read as windows-1252 */
	CHARSET_GUESS,          /* missing or us-ascii: UTF-8 if valid, else windows-1252 */
	CHARSET_OTHER,          /* through charconv */
	CHARSET_BAD,            /* a name no converter should see */
};

static enum charset_kind
charset_kind(const char *cs)
{
	static const char *const cp1252[] = {
		"windows-1252", "cp1252", "x-cp1252", "iso-8859-1", "iso8859-1", "iso_8859-1",
		"iso_8859-1:1987", "latin1", "latin-1", "l1", "iso-ir-100", "ibm819", "cp819",
		"csisolatin1", "iso88591", "ansi_x3.110-1983", "windows1252",
	};
	static const char *const ascii[] = {
		"us-ascii", "ascii", "ansi_x3.4-1968", "ansi_x3.4-1986", "iso646-us", "us", "cp367",
		"ibm367", "csascii", "iso-ir-6", "default", "unknown", "x-unknown", "unknown-8bit",
	};
	if (cs == NULL || *cs == '\0')
		return CHARSET_GUESS;
	if (strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0)
		return CHARSET_UTF8;
	for (size_t i = 0; i < sizeof(cp1252) / sizeof(*cp1252); i++)
		if (strcasecmp(cs, cp1252[i]) == 0)
			return CHARSET_CP1252;
	for (size_t i = 0; i < sizeof(ascii) / sizeof(*ascii); i++)
		if (strcasecmp(cs, ascii[i]) == 0)
			return CHARSET_GUESS;
	size_t n = strlen(cs);
	if (n > 40)
		return CHARSET_BAD;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)cs[i]) && strchr("-_.:+()", cs[i]) == NULL)
			return CHARSET_BAD;
	return CHARSET_OTHER;
}

/* Appends data[0..len), written in charset cs, to sb as valid UTF-8 (NUL → U+FFFD; line
 * endings untouched). where names the part for notes ("a text/plain part", "a header"). */
static void
add_in_charset(struct parse_ctx *ctx, struct strbuf *sb, const char *data, size_t len,
	       const char *cs, const char *where)
{
	enum charset_kind kind = charset_kind(cs);
	if (memchr(data, '\0', len) != NULL)
		add_note(ctx->mail, "NUL bytes in %s: replaced", where);
	if (kind == CHARSET_OTHER) {
		char *out = NULL;
		size_t out_len = 0;
		int r = charconv_buffer("utf-8", cs, data, len, &out, &out_len);
		if (r == MAIL_CHARCONV_NO_ERROR) {
			/* iconv writes '?' for what it cannot convert; the output is checked anyway */
			add_utf8_replacing(sb, out, out_len);
			charconv_buffer_free(out);
			return;
		}
		if (r != MAIL_CHARCONV_ERROR_UNKNOWN_CHARSET)
			add_note(ctx->mail, "charset %s in %s: conversion failed", cs, where);
	}
	switch (kind) {
	case CHARSET_UTF8:
		if (!utf8_valid(data, len))
			add_note(ctx->mail, "invalid UTF-8 in %s: replaced", where);
		add_utf8_replacing(sb, data, len);
		return;
	case CHARSET_CP1252:
		add_cp1252(sb, data, len);
		return;
	case CHARSET_GUESS:
		if (utf8_valid(data, len))
			add_utf8_replacing(sb, data, len);
		else
			add_cp1252(sb, data, len);
		return;
	case CHARSET_OTHER:
	case CHARSET_BAD:
		break;
	}
	/* an unknown charset, a name refused, or a failed conversion */
	bool utf8 = utf8_valid(data, len);
	if (utf8)
		add_utf8_replacing(sb, data, len);
	else
		add_cp1252(sb, data, len);
	if (kind == CHARSET_BAD)
		add_note(ctx->mail, "unreadable charset name in %s: read as %s", where, utf8 ? "UTF-8" : "windows-1252");
	else
		add_note(ctx->mail, "unknown charset %s in %s: read as %s", cs, where, utf8 ? "UTF-8" : "windows-1252");
}

/* ---- header text ---- */

static int
base64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static void
decode_q_word(struct strbuf *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '_') {
			strbuf_addc(out, ' ');
		} else if (s[i] == '=' && i + 2 < len && hex_digit_value(s[i + 1]) >= 0 &&
			   hex_digit_value(s[i + 2]) >= 0) {
			strbuf_addc(out, (char)(hex_digit_value(s[i + 1]) * 16 + hex_digit_value(s[i + 2])));
			i += 2;
		} else {
			strbuf_addc(out, s[i]);
		}
	}
}

static void
decode_b_word(struct strbuf *out, const char *s, size_t len)
{
	uint32_t bits = 0;
	int nbits = 0;
	for (size_t i = 0; i < len; i++) {
		int v = base64_value((unsigned char)s[i]);
		if (v < 0)
			continue;       /* padding and stray characters */
		bits = (bits << 6) | (uint32_t)v;
		nbits += 6;
		if (nbits >= 8) {
			nbits -= 8;
			strbuf_addc(out, (char)((bits >> nbits) & 0xFF));
		}
	}
}

/* Recognises an RFC 2047 encoded word at s: "=?charset[*lang]?Q|B?text?=". Fills the
 * pieces and returns its length, or 0. */
static size_t
encoded_word(const char *s, size_t len, char *charset, size_t charset_size, char *enc_r,
	     const char **text_r, size_t *text_len_r)
{
	if (len < 8 || s[0] != '=' || s[1] != '?')
		return 0;
	size_t i = 2, cs_len = 0;
	while (i < len && s[i] != '?' && cs_len + 1 < charset_size) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c >= 0x7F)
			return 0;
		charset[cs_len++] = (char)c;
		i++;
	}
	if (i >= len || s[i] != '?' || cs_len == 0)
		return 0;
	charset[cs_len] = '\0';
	char *star = strchr(charset, '*');      /* RFC 2231 language */
	if (star != NULL)
		*star = '\0';
	i++;
	if (i + 1 >= len || s[i + 1] != '?')
		return 0;
	char enc = (char)toupper((unsigned char)s[i]);
	if (enc != 'Q' && enc != 'B')
		return 0;
	i += 2;
	size_t text = i;
	while (i < len && s[i] != '?' && (unsigned char)s[i] > ' ' && (unsigned char)s[i] < 0x7F)
		i++;
	if (i + 1 >= len || s[i] != '?' || s[i + 1] != '=')
		return 0;
	*enc_r = enc;
	*text_r = s + text;
	*text_len_r = i - text;
	return i + 2;
}

/* Decodes the RFC 2047 words of a header value (itself valid UTF-8, as stored in
 * headers[]). Adjacent words are joined before conversion, so a character split over two
 * words (folded lines) survives. The result may hold control characters. */
static char *
decode_header_text(struct parse_ctx *ctx, const char *value)
{
	struct strbuf out = { 0 }, pending = { 0 };
	char pending_cs[64] = "", cs[64];
	size_t len = strlen(value), i = 0;
	while (i < len) {
		char enc;
		const char *text;
		size_t text_len;
		size_t n = encoded_word(value + i, len - i, cs, sizeof(cs), &enc, &text, &text_len);
		if (n == 0) {
			if (pending.len > 0 || pending_cs[0] != '\0') {
				/* whitespace between two encoded words is dropped */
				size_t j = i;
				while (j < len && (value[j] == ' ' || value[j] == '\t'))
					j++;
				if (j > i && j < len && encoded_word(value + j, len - j, cs, sizeof(cs), &enc, &text, &text_len) > 0) {
					i = j;
					continue;
				}
				add_in_charset(ctx, &out, pending.data ? pending.data : "", pending.len, pending_cs, "a header");
				strbuf_reset(&pending);
				pending_cs[0] = '\0';
			}
			strbuf_addc(&out, value[i]);
			i++;
			continue;
		}
		if (strcasecmp(cs, pending_cs) != 0 && (pending.len > 0 || pending_cs[0] != '\0')) {
			add_in_charset(ctx, &out, pending.data ? pending.data : "", pending.len, pending_cs, "a header");
			strbuf_reset(&pending);
		}
		memcpy(pending_cs, cs, sizeof(cs));
		if (enc == 'Q')
			decode_q_word(&pending, text, text_len);
		else
			decode_b_word(&pending, text, text_len);
		i += n;
	}
	if (pending.len > 0 || pending_cs[0] != '\0')
		add_in_charset(ctx, &out, pending.data ? pending.data : "", pending.len, pending_cs, "a header");
	strbuf_free(&pending);
	return strbuf_detach(&out);
}

/* Control characters (C0, DEL, C1, U+2028/2029) and runs of spaces become one space;
 * trimmed. s is valid UTF-8; so is the result. */
static char *
one_line(const char *s)
{
	struct strbuf out = { 0 };
	const unsigned char *p = (const unsigned char *)s;
	bool space = false;
	size_t len = strlen(s), i = 0;
	while (i < len) {
		size_t n = p[i] < 0x80 ? 1 : utf8_seq_len(p + i, len - i);
		if (n == 0)
			n = 1;
		bool blank = false;
		if (n == 1 && (p[i] <= ' ' || p[i] == 0x7F))
			blank = true;
		else if (n == 2 && p[i] == 0xC2 && p[i + 1] >= 0x80 && p[i + 1] < 0xA0)
			blank = true;
		else if (n == 3 && p[i] == 0xE2 && p[i + 1] == 0x80 && (p[i + 2] == 0xA8 || p[i + 2] == 0xA9))
			blank = true;
		if (blank) {
			space = true;
		} else {
			if (space && out.len > 0)
				strbuf_addc(&out, ' ');
			space = false;
			strbuf_add(&out, s + i, n);
		}
		i += n;
	}
	return strbuf_detach(&out);
}

static char *
decode_one_line(struct parse_ctx *ctx, const char *value)
{
	char *decoded = decode_header_text(ctx, value);
	char *line = one_line(decoded);
	free(decoded);
	return line;
}

/* ---- header block ---- */

static bool
header_name_valid(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7F || s[i] == ':')
			return false;
	return true;
}

/* Where the line at raw[i] ends (its '\n', or len) and where the next one starts. */
static size_t
line_end(const char *raw, size_t len, size_t i, size_t *next_r)
{
	const char *nl = memchr(raw + i, '\n', len - i);
	size_t e = nl != NULL ? (size_t)(nl - raw) : len;
	*next_r = nl != NULL ? e + 1 : len;
	return e;
}

/* Is the line at raw[i..e) a header ("Name: value")? Sets *colon_r. */
static bool
header_line(const char *raw, size_t i, size_t e, size_t *colon_r)
{
	const char *colon = memchr(raw + i, ':', e - i);
	if (colon == NULL)
		return false;
	size_t n = (size_t)(colon - (raw + i));
	while (n > 0 && (raw[i + n - 1] == ' ' || raw[i + n - 1] == '\t'))
		n--;
	*colon_r = (size_t)(colon - raw);
	return header_name_valid(raw + i, n);
}

static void
finish_header(struct parsed_mail *mail, const char *name, size_t name_len, struct strbuf *value)
{
	struct strbuf v = { 0 };
	size_t s = 0, e = value->len;
	const char *d = value->data ? value->data : "";
	while (s < e && (d[s] == ' ' || d[s] == '\t'))
		s++;
	while (e > s && (d[e - 1] == ' ' || d[e - 1] == '\t'))
		e--;
	add_header_bytes(&v, d + s, e - s);
	mail->headers = array_grow(mail->headers, mail->header_count, sizeof(*mail->headers));
	struct mail_header *h = &mail->headers[mail->header_count++];
	h->name = xstrndup(name, name_len);
	h->value = strbuf_detach(&v);
	strbuf_reset(value);
}

/* Reads the header block into mail->headers; returns the offset where the body starts
 * and sets *start_r to where the message starts (after an mbox "From " line). */
static size_t
parse_header_block(struct parse_ctx *ctx, const char *raw, size_t len, size_t *start_r)
{
	struct parsed_mail *mail = ctx->mail;
	size_t i = 0, next, colon;
	if (len >= 5 && memcmp(raw, "From ", 5) == 0)      /* mbox separator */
		line_end(raw, len, 0, &i);
	*start_r = i;
	if (i >= len)
		return len;
	size_t e = line_end(raw, len, i, &next);
	if (!header_line(raw, i, e, &colon)) {
		if (e == i || (e == i + 1 && raw[i] == '\r'))
			return next;
		add_note(mail, "no header block");
		return i;
	}
	struct strbuf value = { 0 };
	const char *name = NULL;
	size_t name_len = 0;
	for (;;) {
		if (i >= len)
			break;
		e = line_end(raw, len, i, &next);
		size_t content_end = (e > i && raw[e - 1] == '\r') ? e - 1 : e;
		if (content_end == i) {         /* the empty line */
			i = next;
			break;
		}
		if (raw[i] == ' ' || raw[i] == '\t') {
			if (name != NULL)
				strbuf_add(&value, raw + i, content_end - i);
			i = next;
			continue;
		}
		if (!header_line(raw, i, e, &colon)) {
			if (memchr(raw + i, ':', e - i) == NULL) {
				add_note(mail, "no empty line after the headers");
				break;
			}
			add_note(mail, "malformed header line skipped");
			i = next;
			continue;
		}
		if (name != NULL)
			finish_header(mail, name, name_len, &value);
		name = raw + i;
		name_len = colon - i;
		while (name_len > 0 && (name[name_len - 1] == ' ' || name[name_len - 1] == '\t'))
			name_len--;
		if (colon + 1 < content_end)
			strbuf_add(&value, raw + colon + 1, content_end - colon - 1);
		i = next;
	}
	if (name != NULL)
		finish_header(mail, name, name_len, &value);
	strbuf_free(&value);
	return i;
}

/* ---- addresses ---- */

struct address {
	char *addr;             /* NULL when unreadable */
	char *name;             /* raw display name or NULL */
};

/* local@domain with the domain lower-cased; NULL unless it looks like one. */
static char *
normalise_addr_spec(const char *s, size_t n)
{
	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n > 2 && s[0] == '@') {             /* obsolete source route "@a,@b:local@domain" */
		const char *colon = memchr(s, ':', n);
		if (colon != NULL) {
			n -= (size_t)(colon + 1 - s);
			s = colon + 1;
		}
	}
	const char *at = NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c == 0x7F || c == '<' || c == '>' || c == ',' || c == ';' || c == '(' || c == ')')
			return NULL;
		if (c == '@')
			at = s + i;
	}
	if (at == NULL || at == s || at == s + n - 1)
		return NULL;
	char *out = xstrndup(s, n);
	for (char *p = out + (at - s) + 1; *p != '\0'; p++)
		if ((unsigned char)*p < 0x80)
			*p = (char)tolower((unsigned char)*p);
	return out;
}

static void
finish_address(struct address **list, size_t *count, struct strbuf *text, struct strbuf *phrase,
	       struct strbuf *angle, bool has_angle, struct strbuf *comment)
{
	struct address a = { NULL, NULL };
	if (has_angle) {
		a.addr = normalise_addr_spec(angle->data ? angle->data : "", angle->len);
		if (phrase->len > 0)
			a.name = xstrdup(phrase->data);
		else if (comment->len > 0)
			a.name = xstrdup(comment->data);
	} else if (text->len > 0) {
		a.addr = normalise_addr_spec(text->data, text->len);
		if (comment->len > 0)
			a.name = xstrdup(comment->data);
	}
	if (a.addr != NULL || a.name != NULL || has_angle) {
		*list = array_grow(*list, *count, sizeof(**list));
		(*list)[(*count)++] = a;
	}
	strbuf_reset(text);
	strbuf_reset(phrase);
	strbuf_reset(angle);
	strbuf_reset(comment);
}

/* Splits an address list (RFC 5322 section 3.4, leniently: quoted strings, comments,
 * angle addresses, groups). Returns the count; caller frees with addresses_free. */
static size_t
parse_addresses(const char *value, struct address **list_r)
{
	struct strbuf text = { 0 }, phrase = { 0 }, angle = { 0 }, comment = { 0 };
	struct address *list = NULL;
	size_t count = 0;
	bool has_angle = false, in_angle = false, in_quote = false;
	int comment_depth = 0;
	for (const char *p = value; ; p++) {
		char c = *p;
		if (c == '\0') {
			finish_address(&list, &count, &text, &phrase, &angle, has_angle, &comment);
			break;
		}
		if (in_quote) {
			if (c == '\\' && p[1] != '\0')
				c = *++p;
			else if (c == '"') {
				in_quote = false;
				strbuf_addc(&text, '"');
				continue;
			}
			strbuf_addc(in_angle ? &angle : &phrase, c);
			strbuf_addc(&text, c);
			continue;
		}
		if (comment_depth > 0) {
			if (c == '\\' && p[1] != '\0')
				c = *++p;
			else if (c == '(')
				comment_depth++;
			else if (c == ')' && --comment_depth == 0)
				continue;
			strbuf_addc(&comment, c);
			continue;
		}
		if (c == '(') {
			comment_depth = 1;
			if (comment.len > 0)
				strbuf_addc(&comment, ' ');
			continue;
		}
		if (c == '"') {
			in_quote = true;
			strbuf_addc(&text, c);
			continue;
		}
		if (in_angle) {
			if (c == '>')
				in_angle = false;
			else
				strbuf_addc(&angle, c);
			continue;
		}
		if (c == '<') {
			in_angle = true;
			has_angle = true;
			strbuf_reset(&angle);
			continue;
		}
		if (c == ',' || c == ';') {
			finish_address(&list, &count, &text, &phrase, &angle, has_angle, &comment);
			has_angle = false;
			continue;
		}
		if (c == ':' && !has_angle && memchr(text.data ? text.data : "", '@', text.len) == NULL) {
			/* group "name: a, b;" — the group name is no address */
			strbuf_reset(&text);
			strbuf_reset(&phrase);
			strbuf_reset(&comment);
			continue;
		}
		if (has_angle)
			continue;       /* text after "<addr>" */
		strbuf_addc(&text, c);
		strbuf_addc(&phrase, c);
	}
	strbuf_free(&text);
	strbuf_free(&phrase);
	strbuf_free(&angle);
	strbuf_free(&comment);
	*list_r = list;
	return count;
}

static void
addresses_free(struct address *list, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(list[i].addr);
		free(list[i].name);
	}
	free(list);
}

/* The first readable address of a header value, and optionally its decoded name. */
static char *
first_address(struct parse_ctx *ctx, const char *value, char **name_r)
{
	struct address *list;
	size_t n = parse_addresses(value, &list);
	char *addr = NULL;
	for (size_t i = 0; i < n && addr == NULL; i++) {
		if (list[i].addr == NULL)
			continue;
		addr = list[i].addr;
		list[i].addr = NULL;
		if (name_r != NULL && list[i].name != NULL) {
			char *name = decode_one_line(ctx, list[i].name);
			if (*name != '\0')
				*name_r = name;
			else
				free(name);
		}
	}
	addresses_free(list, n);
	return addr;
}

/* ---- ids ---- */

static bool
id_valid(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c == 0x7F || c == '<' || c == '>')
			return false;
	}
	return true;
}

/* Each "<id>" of a Message-ID, In-Reply-To or References value, in order; a value with
 * no angle brackets is read as whitespace-separated ids. */
static void
parse_ids(const char *value, char ***ids, size_t *count, size_t max)
{
	size_t before = *count;
	for (const char *p = value; *p != '\0' && *count - before < max; ) {
		const char *open = strchr(p, '<');
		if (open == NULL)
			break;
		const char *close = strchr(open + 1, '>');
		if (close == NULL)
			break;
		const char *s = open + 1;
		size_t n = (size_t)(close - s);
		while (n > 0 && *s == ' ') {
			s++;
			n--;
		}
		while (n > 0 && s[n - 1] == ' ')
			n--;
		if (id_valid(s, n))
			str_push(ids, count, xstrndup(s, n));
		p = close + 1;
	}
	if (*count > before || strchr(value, '<') != NULL)
		return;
	for (const char *p = value; *p != '\0' && *count - before < max; ) {
		while (*p == ' ' || *p == '\t')
			p++;
		size_t n = strcspn(p, " \t");
		if (id_valid(p, n) && memchr(p, '(', n) == NULL)
			str_push(ids, count, xstrndup(p, n));
		p += n;
	}
}

static char *
first_id(const char *value)
{
	char **ids = NULL;
	size_t n = 0;
	parse_ids(value, &ids, &n, 1);
	char *id = n > 0 ? ids[0] : NULL;
	free(ids);
	return id;
}

/* ---- the top-level headers ---- */

static void
read_headers(struct parse_ctx *ctx)
{
	struct parsed_mail *mail = ctx->mail;
	const char *v;
	if ((v = mail_header_get(mail, "From")) != NULL)
		mail->from_address = first_address(ctx, v, &mail->from_name);
	if ((v = mail_header_get(mail, "Reply-To")) != NULL)
		mail->reply_to_address = first_address(ctx, v, NULL);
	if ((v = mail_header_get(mail, "Sender")) != NULL)
		mail->sender_address = first_address(ctx, v, NULL);
	if ((v = mail_header_get(mail, "Return-Path")) != NULL) {
		char *bare = one_line(v);
		if (strcmp(bare, "<>") == 0 || strcmp(bare, "< >") == 0)
			mail->return_path = xstrdup("");
		else
			mail->return_path = first_address(ctx, v, NULL);
		free(bare);
	}
	v = mail_header_get(mail, "Subject");
	mail->subject = v != NULL ? decode_one_line(ctx, v) : xstrdup("");
	if ((v = mail_header_get(mail, "Date")) != NULL)
		mail->date = one_line(v);
	if ((v = mail_header_get(mail, "Message-ID")) != NULL)
		mail->message_id = first_id(v);
	if ((v = mail_header_get(mail, "In-Reply-To")) != NULL)
		mail->in_reply_to = first_id(v);
	if ((v = mail_header_get(mail, "Content-Type")) != NULL) {
		while (*v == ' ' || *v == '\t')
			v++;
		mail->is_report = strncasecmp(v, "multipart/report", 16) == 0;
	}
	for (size_t i = 0; i < mail->header_count; i++) {
		const char *name = mail->headers[i].name, *value = mail->headers[i].value;
		if (strcasecmp(name, "To") == 0 || strcasecmp(name, "Cc") == 0) {
			struct address *list;
			size_t n = parse_addresses(value, &list);
			for (size_t j = 0; j < n; j++) {
				if (list[j].addr != NULL) {
					str_push(&mail->to_addresses, &mail->to_count, list[j].addr);
					list[j].addr = NULL;
				}
			}
			addresses_free(list, n);
		} else if (strcasecmp(name, "References") == 0) {
			parse_ids(value, &mail->references, &mail->reference_count, SIZE_MAX);
		}
	}
}

/* ---- safety checks on the raw message ---- */

/* libetpan 1.9.4's mailmime_extract_boundary() overflows the heap when a boundary value
 * starts with a quote once unquoted (boundary="\""). Refuses any boundary parameter with a
 * backslash or a stray quote, in every Content-Type line of the message. Also counts the
 * multipart declarations (libetpan recurses once per nesting level). */
static const char *
raw_message_unsafe(const char *raw, size_t len)
{
	size_t multiparts = 0;
	for (size_t i = 0; i < len; ) {
		size_t next;
		size_t e = line_end(raw, len, i, &next);
		if (e - i < 13 || strncasecmp(raw + i, "content-type", 12) != 0) {
			i = next;
			continue;
		}
		size_t j = i + 12;
		while (j < e && (raw[j] == ' ' || raw[j] == '\t'))
			j++;
		if (j >= e || raw[j] != ':') {
			i = next;
			continue;
		}
		/* the value, with its continuation lines */
		size_t vs = j + 1, ve = e;
		while (next < len && (raw[next] == ' ' || raw[next] == '\t'))
			ve = line_end(raw, len, next, &next);
		const char *v = raw + vs;
		size_t vn = ve - vs;
		for (size_t k = 0; k + 9 <= vn; k++) {
			if (strncasecmp(v + k, "multipart", 9) == 0 && k < 8)
				multiparts++;
			if (k + 8 > vn || strncasecmp(v + k, "boundary", 8) != 0)
				continue;
			if (k > 0 && v[k - 1] != ';' && v[k - 1] != ' ' && v[k - 1] != '\t' && v[k - 1] != '\r' && v[k - 1] != '\n')
				continue;
			size_t m = k + 8;
			while (m < vn && isspace((unsigned char)v[m]))
				m++;
			if (m >= vn || v[m] != '=')
				continue;
			m++;
			while (m < vn && isspace((unsigned char)v[m]))
				m++;
			if (m < vn && v[m] == '"') {
				m++;
				while (m < vn && v[m] != '"') {
					if (v[m] == '\\')
						return "unsafe MIME boundary, message not parsed";
					m++;
				}
				if (m >= vn)
					return "unsafe MIME boundary, message not parsed";
				m++;
				while (m < vn && isspace((unsigned char)v[m]))
					m++;
				if (m < vn && v[m] != ';')
					return "unsafe MIME boundary, message not parsed";
			} else {
				while (m < vn && v[m] != ';' && !isspace((unsigned char)v[m])) {
					if (v[m] == '\\' || v[m] == '"')
						return "unsafe MIME boundary, message not parsed";
					m++;
				}
			}
		}
		i = next;
	}
	if (multiparts > MAX_MULTIPART_DECLARED)
		return "too many multipart parts, message not parsed";
	return NULL;
}

/* ---- MIME parts ---- */

struct param {
	const char *name;
	const char *value;
};

struct part_info {
	char type[128];         /* "text/plain", lower case */
	const char *charset;    /* borrowed from libetpan, or NULL */
	bool attachment;        /* Content-Disposition: attachment */
	bool flowed, delsp;
	struct param params[64];
	size_t param_count;
};

static void
add_param(struct part_info *info, const char *name, const char *value)
{
	if (name != NULL && value != NULL && info->param_count < sizeof(info->params) / sizeof(*info->params))
		info->params[info->param_count++] = (struct param){ name, value };
}

static const char *
param_get(const struct part_info *info, const char *name)
{
	for (size_t i = 0; i < info->param_count; i++)
		if (strcasecmp(info->params[i].name, name) == 0)
			return info->params[i].value;
	return NULL;
}

static void
lower_copy(char *dst, size_t size, const char *src)
{
	size_t n = 0;
	for (; src != NULL && src[n] != '\0' && n + 1 < size; n++)
		dst[n] = (char)tolower((unsigned char)src[n]);
	dst[n] = '\0';
}

static void
part_info_read(struct mailmime *mime, struct part_info *info)
{
	memset(info, 0, sizeof(*info));
	struct mailmime_content *ct = mime->mm_content_type;
	if (ct == NULL || ct->ct_type == NULL) {
		strcpy(info->type, "text/plain");
	} else {
		const char *major = "application";
		if (ct->ct_type->tp_type == MAILMIME_TYPE_DISCRETE_TYPE) {
			struct mailmime_discrete_type *d = ct->ct_type->tp_data.tp_discrete_type;
			switch (d->dt_type) {
			case MAILMIME_DISCRETE_TYPE_TEXT: major = "text"; break;
			case MAILMIME_DISCRETE_TYPE_IMAGE: major = "image"; break;
			case MAILMIME_DISCRETE_TYPE_AUDIO: major = "audio"; break;
			case MAILMIME_DISCRETE_TYPE_VIDEO: major = "video"; break;
			case MAILMIME_DISCRETE_TYPE_EXTENSION: major = d->dt_extension ? d->dt_extension : "x-unknown"; break;
			default: break;
			}
		} else if (ct->ct_type->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE) {
			struct mailmime_composite_type *c = ct->ct_type->tp_data.tp_composite_type;
			major = c->ct_type == MAILMIME_COMPOSITE_TYPE_MESSAGE ? "message" :
				c->ct_type == MAILMIME_COMPOSITE_TYPE_MULTIPART ? "multipart" :
				c->ct_token ? c->ct_token : "x-unknown";
		}
		char buf[128];
		snprintf(buf, sizeof(buf), "%s/%s", major, ct->ct_subtype ? ct->ct_subtype : "octet-stream");
		lower_copy(info->type, sizeof(info->type), buf);
		for (clistiter *it = ct->ct_parameters ? clist_begin(ct->ct_parameters) : NULL; it; it = clist_next(it)) {
			struct mailmime_parameter *p = clist_content(it);
			add_param(info, p->pa_name, p->pa_value);
		}
	}
	info->charset = param_get(info, "charset");
	const char *format = param_get(info, "format");
	const char *delsp = param_get(info, "delsp");
	info->flowed = format != NULL && strcasecmp(format, "flowed") == 0;
	info->delsp = delsp != NULL && strcasecmp(delsp, "yes") == 0;
	struct mailmime_fields *fields = mime->mm_mime_fields;
	for (clistiter *it = fields && fields->fld_list ? clist_begin(fields->fld_list) : NULL; it; it = clist_next(it)) {
		struct mailmime_field *f = clist_content(it);
		if (f->fld_type != MAILMIME_FIELD_DISPOSITION || f->fld_data.fld_disposition == NULL)
			continue;
		struct mailmime_disposition *d = f->fld_data.fld_disposition;
		if (d->dsp_type != NULL && d->dsp_type->dsp_type == MAILMIME_DISPOSITION_TYPE_ATTACHMENT)
			info->attachment = true;
		for (clistiter *pt = d->dsp_parms ? clist_begin(d->dsp_parms) : NULL; pt; pt = clist_next(pt)) {
			struct mailmime_disposition_parm *p = clist_content(pt);
			if (p->pa_type == MAILMIME_DISPOSITION_PARM_FILENAME)
				add_param(info, "filename", p->pa_data.pa_filename);
			else if (p->pa_type == MAILMIME_DISPOSITION_PARM_PARAMETER && p->pa_data.pa_parameter != NULL)
				add_param(info, p->pa_data.pa_parameter->pa_name, p->pa_data.pa_parameter->pa_value);
		}
	}
}

/* Decodes an RFC 2231 extended value "charset'lang'%XX..." (or a later continuation
 * segment, without the prefix) into bytes; sets *charset_r for the first. */
static void
rfc2231_bytes(struct strbuf *out, const char *value, bool first, char *charset, size_t charset_size)
{
	const char *p = value;
	if (first) {
		const char *q1 = strchr(value, '\'');
		const char *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;
		if (q1 != NULL && q2 != NULL) {
			size_t n = (size_t)(q1 - value);
			if (n >= charset_size)
				n = charset_size - 1;
			memcpy(charset, value, n);
			charset[n] = '\0';
			p = q2 + 1;
		}
	}
	for (; *p != '\0'; p++) {
		if (*p == '%' && hex_digit_value(p[1]) >= 0 && hex_digit_value(p[2]) >= 0) {
			strbuf_addc(out, (char)(hex_digit_value(p[1]) * 16 + hex_digit_value(p[2])));
			p += 2;
		} else {
			strbuf_addc(out, *p);
		}
	}
}

/* The name of a part from base ("filename" or "name"): RFC 2231 (base*, base*0*, ...)
 * first, else the plain parameter with RFC 2047 words decoded. NULL when none. */
static char *
param_filename(struct parse_ctx *ctx, const struct part_info *info, const char *base)
{
	char key[32], charset[64] = "";
	struct strbuf bytes = { 0 };
	bool found = false;
	snprintf(key, sizeof(key), "%s*", base);
	const char *v = param_get(info, key);
	if (v != NULL) {
		rfc2231_bytes(&bytes, v, true, charset, sizeof(charset));
		found = true;
	} else {
		for (int n = 0; n < 100; n++) {
			snprintf(key, sizeof(key), "%s*%d*", base, n);
			if ((v = param_get(info, key)) != NULL) {
				rfc2231_bytes(&bytes, v, n == 0, charset, sizeof(charset));
			} else {
				snprintf(key, sizeof(key), "%s*%d", base, n);
				if ((v = param_get(info, key)) == NULL)
					break;
				strbuf_adds(&bytes, v);
			}
			found = true;
		}
	}
	char *name = NULL;
	if (found) {
		struct strbuf text = { 0 };
		add_in_charset(ctx, &text, bytes.data ? bytes.data : "", bytes.len, charset, "a file name");
		char *t = strbuf_detach(&text);
		name = one_line(t);
		free(t);
	} else if ((v = param_get(info, base)) != NULL) {
		struct strbuf raw = { 0 };
		add_header_bytes(&raw, v, strlen(v));
		char *r = strbuf_detach(&raw);
		name = decode_one_line(ctx, r);
		free(r);
	}
	strbuf_free(&bytes);
	if (name != NULL) {
		/* Apple Mail sends decomposed accents */
		char *nfc = (char *)utf8proc_NFC((const utf8proc_uint8_t *)name);
		if (nfc != NULL) {
			free(name);
			name = nfc;
		}
	}
	return name;
}

/* Transfer-decodes a single part. Returns 0 and the bytes (free with mmap_string_unref)
 * or -1. The data lies inside the NUL-terminated copy of the message. */
static int
part_decode(struct parse_ctx *ctx, struct mailmime_data *data, char **out_r, size_t *len_r)
{
	if (data == NULL || data->dt_type != MAILMIME_DATA_TEXT)
		return -1;
	size_t idx = 0;
	int encoding = data->dt_encoded ? data->dt_encoding : MAILMIME_MECHANISM_8BIT;
	if (mailmime_part_parse(data->dt_data.dt_text.dt_data, data->dt_data.dt_text.dt_length, &idx,
				encoding, out_r, len_r) != MAILIMF_NO_ERROR) {
		add_note(ctx->mail, "a part could not be decoded");
		return -1;
	}
	return 0;
}

/* CRLF and lone CR → LF. */
static char *
normalise_newlines(char *s)
{
	char *w = s;
	for (const char *r = s; *r != '\0'; r++) {
		if (*r == '\r') {
			*w++ = '\n';
			if (r[1] == '\n')
				r++;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return s;
}

/* RFC 3676: joins the lines of a flowed paragraph (ending in a space), undoes space
 * stuffing; quote depth and the "-- " signature line are respected. */
static char *
unflow(const char *s, bool delsp)
{
	struct strbuf out = { 0 };
	bool prev_flowed = false;
	size_t prev_depth = 0;
	bool first = true;
	while (*s != '\0' || first) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		if (n == 0 && nl == NULL && !first)
			break;
		size_t depth = 0;
		while (depth < n && s[depth] == '>')
			depth++;
		const char *c = s + depth;
		size_t cn = n - depth;
		if (cn > 0 && c[0] == ' ')
			c++, cn--;
		bool sig = cn == 3 && memcmp(c, "-- ", 3) == 0;
		bool flowed = !sig && cn > 0 && c[cn - 1] == ' ';
		if (!(prev_flowed && depth == prev_depth)) {
			if (!first)
				strbuf_addc(&out, '\n');
			if (depth > 0) {
				strbuf_add(&out, s, depth);
				if (cn > 0)
					strbuf_addc(&out, ' ');
			}
		}
		strbuf_add(&out, c, flowed && delsp ? cn - 1 : cn);
		prev_flowed = flowed;
		prev_depth = depth;
		first = false;
		if (nl == NULL)
			break;
		s = nl + 1;
	}
	if (out.len > 0 || first)
		strbuf_addc(&out, '\n');
	return strbuf_detach(&out);
}

/* Appends one part's text to a joined body: leading blank lines and trailing blanks
 * dropped, parts separated by one blank line. */
static void
join_text(struct strbuf *body, const char *text)
{
	const char *s = text;
	for (;;) {
		const char *p = s;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '\n')
			break;
		s = p + 1;
	}
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0)
		return;
	if (body->len > 0)
		strbuf_adds(body, "\n\n");
	strbuf_add(body, s, n);
}

static char *
normalise_addr_text(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
		s++;
		n -= 2;
	}
	return normalise_addr_spec(s, n);
}

/* RFC 3464: per-recipient groups; Final-Recipient of each group whose Action is failed. */
static void
read_delivery_status(struct parse_ctx *ctx, const char *text)
{
	struct parsed_mail *mail = ctx->mail;
	char *recipient = NULL;
	bool failed = false;
	const char *s = text;
	for (;;) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		bool blank = true;
		for (size_t i = 0; i < n; i++)
			if (s[i] != ' ' && s[i] != '\t')
				blank = false;
		if (blank) {
			if (recipient != NULL && failed)
				str_push(&mail->bounced_recipients, &mail->bounced_count, recipient);
			else
				free(recipient);
			recipient = NULL;
			failed = false;
		} else if (n > 16 && strncasecmp(s, "Final-Recipient:", 16) == 0) {
			char *v = xstrndup(s + 16, n - 16);
			char *semi = strchr(v, ';');
			free(recipient);
			recipient = normalise_addr_text(semi ? semi + 1 : v);
			free(v);
		} else if (n > 7 && strncasecmp(s, "Action:", 7) == 0) {
			char *v = xstrndup(s + 7, n - 7);
			str_trim(v);
			failed = strncasecmp(v, "failed", 6) == 0;
			free(v);
		}
		if (nl == NULL)
			break;
		s = nl + 1;
	}
	if (recipient != NULL && failed)
		str_push(&mail->bounced_recipients, &mail->bounced_count, recipient);
	else
		free(recipient);
}

static void
add_attachment(struct parse_ctx *ctx, const struct part_info *info, char *filename, size_t size)
{
	struct parsed_mail *mail = ctx->mail;
	mail->attachments = array_grow(mail->attachments, mail->attachment_count, sizeof(*mail->attachments));
	struct mail_attachment *a = &mail->attachments[mail->attachment_count++];
	a->filename = filename != NULL ? filename : xstrdup("");
	struct strbuf t = { 0 };
	add_header_bytes(&t, info->type, strlen(info->type));
	a->content_type = strbuf_detach(&t);
	a->size = size;
}

static void
single_part(struct parse_ctx *ctx, struct mailmime *mime)
{
	struct part_info info;
	part_info_read(mime, &info);
	char *filename = param_filename(ctx, &info, "filename");
	if (filename == NULL)
		filename = param_filename(ctx, &info, "name");
	bool is_plain = strcmp(info.type, "text/plain") == 0;
	if (strncmp(info.type, "multipart/", 10) == 0) {
		/* no usable boundary: libetpan left it whole; better its text than nothing */
		add_note(ctx->mail, "multipart without boundary: read as plain text");
		is_plain = true;
	}
	bool is_html = strcmp(info.type, "text/html") == 0;
	bool is_status = strcmp(info.type, "message/delivery-status") == 0 ||
			 strcmp(info.type, "message/global-delivery-status") == 0;
	char *data = NULL;
	size_t len = 0;
	if (part_decode(ctx, mime->mm_data.mm_single, &data, &len) < 0)
		data = NULL;
	if ((is_plain || is_html) && !info.attachment && filename == NULL) {
		if (data == NULL)
			return;
		const char *where = is_plain ? "a text/plain part" : "a text/html part";
		struct strbuf sb = { 0 };
		add_in_charset(ctx, &sb, data, len, info.charset, where);
		mmap_string_unref(data);
		char *text = normalise_newlines(strbuf_detach(&sb));
		if (is_plain) {
			if (info.flowed) {
				char *u = unflow(text, info.delsp);
				free(text);
				text = u;
			}
			join_text(&ctx->plain, text);
		} else {
			bool flattened = false;
			char *t = html_text(text, strlen(text), &flattened);
			if (flattened)
				add_note(ctx->mail, "HTML nested deeper than 256 elements: the deeper tags ignored, their text kept");
			join_text(&ctx->html, t);
			free(t);
		}
		free(text);
		return;
	}
	if (is_status && data != NULL) {
		struct strbuf sb = { 0 };
		add_in_charset(ctx, &sb, data, len, info.charset, "a delivery status");
		char *text = normalise_newlines(strbuf_detach(&sb));
		read_delivery_status(ctx, text);
		free(text);
		mmap_string_unref(data);
		free(filename);
		return;
	}
	add_attachment(ctx, &info, filename, data != NULL ? len : 0);
	if (data != NULL)
		mmap_string_unref(data);
}

static bool
closing_boundary_present(struct mailmime *mime)
{
	const char *boundary = mime->mm_content_type ?
			       mailmime_content_param_get(mime->mm_content_type, "boundary") : NULL;
	if (boundary == NULL || mime->mm_mime_start == NULL)
		return true;
	size_t bl = strlen(boundary);
	const char *p = mime->mm_mime_start, *end = p + mime->mm_length;
	while (p < end) {
		const char *hit = memmem(p, (size_t)(end - p), boundary, bl);
		if (hit == NULL)
			return false;
		if (hit - mime->mm_mime_start >= 2 && hit[-1] == '-' && hit[-2] == '-' &&
		    (size_t)(end - hit) >= bl + 2 && hit[bl] == '-' && hit[bl + 1] == '-')
			return true;
		p = hit + 1;
	}
	return false;
}

static void
walk(struct parse_ctx *ctx, struct mailmime *mime, int depth, bool top)
{
	if (depth > MAX_MIME_DEPTH) {
		if (!ctx->depth_noted)
			add_note(ctx->mail, "MIME parts nested deeper than %d levels ignored", MAX_MIME_DEPTH);
		ctx->depth_noted = true;
		return;
	}
	switch (mime->mm_type) {
	case MAILMIME_SINGLE:
		single_part(ctx, mime);
		break;
	case MAILMIME_MULTIPLE: {
		struct part_info info;
		part_info_read(mime, &info);
		if (strcmp(info.type, "multipart/report") == 0)
			ctx->mail->is_report = true;
		clist *parts = mime->mm_data.mm_multipart.mm_mp_list;
		if (parts == NULL || clist_isempty(parts))
			add_note(ctx->mail, "multipart without parts");
		else if (!closing_boundary_present(mime))
			add_note(ctx->mail, "closing boundary missing");
		for (clistiter *it = parts ? clist_begin(parts) : NULL; it; it = clist_next(it))
			walk(ctx, clist_content(it), depth + 1, false);
		break;
	}
	case MAILMIME_MESSAGE:
		if (top) {
			if (mime->mm_data.mm_message.mm_msg_mime != NULL)
				walk(ctx, mime->mm_data.mm_message.mm_msg_mime, depth, false);
		} else {
			/* a returned or forwarded message: its text is not this mail's */
			struct part_info info;
			part_info_read(mime, &info);
			char *filename = param_filename(ctx, &info, "filename");
			if (filename == NULL)
				filename = param_filename(ctx, &info, "name");
			size_t size = mime->mm_body && mime->mm_body->dt_type == MAILMIME_DATA_TEXT ?
				      mime->mm_body->dt_data.dt_text.dt_length : mime->mm_length;
			add_attachment(ctx, &info, filename, size);
		}
		break;
	default:
		break;
	}
}

/* ---- entry points ---- */

static void
parse_init(struct parse_ctx *ctx, struct parsed_mail *mail)
{
	memset(mail, 0, sizeof(*mail));
	memset(ctx, 0, sizeof(*ctx));
	ctx->mail = mail;
}

int
mail_parse_headers(const char *raw, size_t len, struct parsed_mail *mail, char **error_r)
{
	struct parse_ctx ctx;
	(void)error_r;
	parse_init(&ctx, mail);
	size_t start;
	parse_header_block(&ctx, raw, len, &start);
	read_headers(&ctx);
	mail->body = xstrdup("");
	return 0;
}

/* The body when libetpan cannot read the structure: what follows the headers, as text. */
static void
fallback_body(struct parse_ctx *ctx, const char *raw, size_t len, size_t body_start)
{
	struct strbuf sb = { 0 };
	add_in_charset(ctx, &sb, raw + body_start, len - body_start, NULL, "the body");
	char *text = normalise_newlines(strbuf_detach(&sb));
	join_text(&ctx->plain, text);
	free(text);
}

int
mail_parse(const char *raw, size_t len, struct parsed_mail *mail, char **error_r)
{
	struct parse_ctx ctx;
	parse_init(&ctx, mail);
	const char *unsafe = raw_message_unsafe(raw, len);
	if (unsafe != NULL) {
		*error_r = xasprintf("mail_parse: %s", unsafe);
		return -1;
	}
	size_t start;
	size_t body_start = parse_header_block(&ctx, raw, len, &start);
	read_headers(&ctx);
	raw += start;
	len -= start;
	body_start -= start;

	/* libetpan reads past the end of some inputs (QP ending in "=X"): it gets a copy with
	 * a NUL after it. A message without headers gets an empty header block first. */
	bool no_headers = mail->header_count == 0;
	size_t prefix = no_headers ? 1 : 0;
	char *copy = xmalloc(len + prefix + 1);
	if (no_headers)
		copy[0] = '\n';
	memcpy(copy + prefix, raw, len);
	copy[len + prefix] = '\0';
	size_t idx = 0;
	struct mailmime *mime = NULL;
	if (body_start >= len) {
		/* headers only: nothing for libetpan, which would read the last ones as a body */
	} else if (mailmime_parse(copy, len + prefix, &idx, &mime) == MAILIMF_NO_ERROR && mime != NULL) {
		walk(&ctx, mime, 0, true);
		mailmime_free(mime);
	} else {
		add_note(mail, "MIME structure unreadable: body read as plain text");
		fallback_body(&ctx, raw, len, body_start);
	}
	free(copy);

	if (ctx.plain.len > 0) {
		strbuf_free(&ctx.html);
		strbuf_addc(&ctx.plain, '\n');
		mail->body = strbuf_detach(&ctx.plain);
	} else if (ctx.html.len > 0) {
		strbuf_addc(&ctx.html, '\n');
		mail->body = strbuf_detach(&ctx.html);
		mail->body_from_html = true;
	} else {
		mail->body = xstrdup("");
	}
	strbuf_free(&ctx.plain);
	strbuf_free(&ctx.html);
	return 0;
}

void
parsed_mail_clear(struct parsed_mail *mail)
{
	for (size_t i = 0; i < mail->header_count; i++) {
		free(mail->headers[i].name);
		free(mail->headers[i].value);
	}
	free(mail->headers);
	free(mail->message_id);
	free(mail->in_reply_to);
	str_array_free(mail->references, mail->reference_count);
	free(mail->from_address);
	free(mail->from_name);
	free(mail->reply_to_address);
	free(mail->sender_address);
	str_array_free(mail->to_addresses, mail->to_count);
	free(mail->return_path);
	free(mail->subject);
	free(mail->date);
	free(mail->body);
	str_array_free(mail->bounced_recipients, mail->bounced_count);
	for (size_t i = 0; i < mail->attachment_count; i++) {
		free(mail->attachments[i].filename);
		free(mail->attachments[i].content_type);
	}
	free(mail->attachments);
	str_array_free(mail->notes, mail->note_count);
	memset(mail, 0, sizeof(*mail));
}

const char *
mail_header_get(const struct parsed_mail *mail, const char *name)
{
	for (size_t i = 0; i < mail->header_count; i++)
		if (strcasecmp(mail->headers[i].name, name) == 0)
			return mail->headers[i].value;
	return NULL;
}

/* ---- the question ---- */

/* "re: tr: fwd:" prefixes removed: is anything left? */
static bool
subject_has_content(const char *subject)
{
	static const char *const prefixes[] = { "re", "tr", "fw", "fwd", "aw", "wg", "ref", "réf", "rép", "rep" };
	const char *s = subject;
	for (;;) {
		while (*s == ' ')
			s++;
		bool cut = false;
		for (size_t i = 0; i < sizeof(prefixes) / sizeof(*prefixes) && !cut; i++) {
			size_t n = strlen(prefixes[i]);
			if (strncasecmp(s, prefixes[i], n) != 0)
				continue;
			const char *p = s + n;
			if (*p == '[') {                /* "Re[2]:" */
				while (*p != '\0' && *p != ']')
					p++;
				if (*p == ']')
					p++;
			}
			while (*p == ' ')
				p++;
			if (*p == ':') {
				s = p + 1;
				cut = true;
			}
		}
		if (!cut)
			break;
	}
	char *folded = text_fold(s, strlen(s), NULL);
	bool content = *folded != '\0';
	free(folded);
	return content;
}

static bool
word_in(const char *w, size_t n, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strlen(*set) == n && memcmp(*set, w, n) == 0)
			return true;
	return false;
}

/* Folded text that only points at the subject: "cf objet", "voir l objet", "question en
 * objet", "tout est dans le sujet"... a pointer word followed (after at most an article)
 * by objet/sujet/titre, in a short text. */
static bool
points_to_subject(const char *folded)
{
	static const char *const pointers[] = { "cf", "cfr", "confer", "voir", "vois", "voyez", "en", "dans", "ds", "ci", "dessus", NULL };
	static const char *const articles[] = { "l", "le", "la", "mon", "ma", "notre", "du", "de", "en", NULL };
	static const char *const targets[] = { "objet", "sujet", "titre", NULL };
	const char *words[16];
	size_t lens[16], n = 0;
	for (const char *p = folded; *p != '\0'; ) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		size_t len = strcspn(p, " ");
		if (n == 8)
			return false;
		words[n] = p;
		lens[n++] = len;
		p += len;
	}
	for (size_t i = 0; i < n; i++) {
		if (!word_in(words[i], lens[i], targets))
			continue;
		if (i >= 1 && word_in(words[i - 1], lens[i - 1], pointers))
			return true;
		if (i >= 2 && word_in(words[i - 1], lens[i - 1], articles) && word_in(words[i - 2], lens[i - 2], pointers))
			return true;
	}
	return false;
}

char *
mail_question_text(const struct parsed_mail *mail)
{
	const char *body = mail->body ? mail->body : "";
	const char *subject = mail->subject ? mail->subject : "";
	if (!subject_has_content(subject))
		return xstrdup(body);
	char *question = text_strip_noise(body);
	char *folded = text_fold(question, strlen(question), NULL);
	free(question);
	bool empty = text_strip_politeness(folded) == 0;
	bool pointer = !empty && points_to_subject(folded);
	free(folded);
	if (empty || pointer)
		return xstrdup(subject);
	return xstrdup(body);
}
