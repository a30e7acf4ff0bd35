/* mail_decode — the bytes of a mail turned into valid UTF-8: UTF-8 checked, windows-1252
 * decoded here (ISO-8859-1 and us-ascii read as it, as they are in practice), other
 * charsets through libetpan's charconv; RFC 2047 encoded words in header values, and
 * header text put on one line. Pipeline: imap → mime (mail_parse) → here → text. What was
 * odd goes to the mail's notes. */
#include "autoconf.h"
#include "formats/mail_parse_internal.h"
#include "core/text.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

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
void
mail_decode_add_header_bytes(struct strbuf *sb, const char *s, size_t len)
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
void
mail_decode_add(struct parse_ctx *ctx, struct strbuf *sb, const char *data, size_t len,
		const char *cs, const char *where)
{
	enum charset_kind kind = charset_kind(cs);
	if (memchr(data, '\0', len) != NULL)
		mail_parse_note(ctx->mail, "NUL bytes in %s: replaced", where);
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
			mail_parse_note(ctx->mail, "charset %s in %s: conversion failed", cs, where);
	}
	switch (kind) {
	case CHARSET_UTF8:
		if (!utf8_valid(data, len))
			mail_parse_note(ctx->mail, "invalid UTF-8 in %s: replaced", where);
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
		mail_parse_note(ctx->mail, "unreadable charset name in %s: read as %s", where, utf8 ? "UTF-8" : "windows-1252");
	else
		mail_parse_note(ctx->mail, "unknown charset %s in %s: read as %s", cs, where, utf8 ? "UTF-8" : "windows-1252");
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
				mail_decode_add(ctx, &out, pending.data ? pending.data : "", pending.len, pending_cs, "a header");
				strbuf_reset(&pending);
				pending_cs[0] = '\0';
			}
			strbuf_addc(&out, value[i]);
			i++;
			continue;
		}
		if (strcasecmp(cs, pending_cs) != 0 && (pending.len > 0 || pending_cs[0] != '\0')) {
			mail_decode_add(ctx, &out, pending.data ? pending.data : "", pending.len, pending_cs, "a header");
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
		mail_decode_add(ctx, &out, pending.data ? pending.data : "", pending.len, pending_cs, "a header");
	strbuf_free(&pending);
	return strbuf_detach(&out);
}

/* Control characters (C0, DEL, C1, U+2028/2029) and runs of spaces become one space;
 * trimmed. s is valid UTF-8; so is the result. */
char *
mail_decode_one_line(const char *s)
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

char *
mail_decode_header_line(struct parse_ctx *ctx, const char *value)
{
	char *decoded = decode_header_text(ctx, value);
	char *line = mail_decode_one_line(decoded);
	free(decoded);
	return line;
}
