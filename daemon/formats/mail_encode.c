/* mail_encode — the encodings behind mail_compose: header values reduced to one line,
 * RFC 2047 encoded words (UTF-8, B or Q) and RFC 5322 folding, display names and
 * addresses (mail_address_split, the From/To lines), and RFC 3501 §5.1.3 modified UTF-7
 * for IMAP folder names. mail_compose.c builds whole messages from these pieces through
 * mail_compose_internal.h; the public interface is mail_compose.h. Never logs. */
#include "autoconf.h"
#include "formats/mail_compose_internal.h"
#include "core/text.h"
#include "core/util.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* RFC 2047 §2: 76 for a line holding encoded words, 75 for one encoded word. */
#define EW_LINE_COLS 76
#define EW_MAX 75

static bool
is_control(int32_t cp)
{
	return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) || cp == 0x2028 || cp == 0x2029;
}

/* The value on one line: valid UTF-8, controls (CR, LF, TAB included) as spaces, runs of
 * spaces as one (so that folding never leaves a blank line), no leading or trailing space.
 * Caller frees. */
char *
mail_encode_sanitize(const char *s)
{
	struct strbuf sb = { 0 };
	if (s == NULL)
		s = "";
	while (*s != '\0') {
		int32_t cp;
		s += mail_compose_utf8_next(s, &cp);
		if (is_control(cp))
			cp = ' ';
		if (cp == ' ' && sb.len > 0 && sb.data[sb.len - 1] == ' ')
			continue;
		text_add_codepoint(&sb, cp);
	}
	char *out = strbuf_detach(&sb);
	size_t len = strlen(out);
	while (len > 0 && out[len - 1] == ' ')
		out[--len] = '\0';
	size_t lead = strspn(out, " ");
	memmove(out, out + lead, len - lead + 1);
	return out;
}

static bool
is_printable_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7E)
			return false;
	return true;
}

/* ---- header writer: tracks the column to fold before RFC 5322's 78 ---- */

void
mail_encode_hdr_start(struct hdr *h, struct strbuf *sb, const char *name)
{
	h->sb = sb;
	strbuf_adds(sb, name);
	strbuf_addc(sb, ':');
	h->col = strlen(name) + 1;
}

void
mail_encode_hdr_end(struct hdr *h)
{
	strbuf_add(h->sb, "\r\n", 2);
}

/* Appends " token", folding before it when the line would grow past max_cols. */
void
mail_encode_hdr_token(struct hdr *h, const char *token, size_t len, size_t max_cols)
{
	if (h->col + 1 + len > max_cols && h->col > 1) {
		strbuf_add(h->sb, "\r\n", 2);
		h->col = 0;
	}
	strbuf_addc(h->sb, ' ');
	strbuf_add(h->sb, token, len);
	h->col += 1 + len;
}

/* Q encoding (RFC 2047 §4.2) byte by byte; phrase context (§5(3)) allows fewer characters
 * as they are than text context (§5(1)). Space is written "_". */
static bool
q_plain(unsigned char c, bool phrase)
{
	if (isalnum(c))
		return true;
	if (phrase)
		return c == '!' || c == '*' || c == '+' || c == '-' || c == '/';
	return c > 0x20 && c < 0x7F && c != '?' && c != '=' && c != '_' && c != '(' && c != ')' &&
	       c != '"';
}

static size_t
q_len(const unsigned char *p, size_t n, bool phrase)
{
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += (q_plain(p[i], phrase) || p[i] == ' ') ? 1 : 3;
	return len;
}

static size_t
b_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

static void
b64_add(struct strbuf *sb, const unsigned char *p, size_t n, const char *alphabet, bool pad)
{
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		strbuf_addc(sb, alphabet[(v >> 18) & 63]);
		strbuf_addc(sb, alphabet[(v >> 12) & 63]);
		if (i + 1 < n)
			strbuf_addc(sb, alphabet[(v >> 6) & 63]);
		else if (pad)
			strbuf_addc(sb, '=');
		if (i + 2 < n)
			strbuf_addc(sb, alphabet[v & 63]);
		else if (pad)
			strbuf_addc(sb, '=');
	}
}

static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Appends s (sanitized UTF-8) as encoded words: each ≤ 75 characters, each line ≤ 76, a
 * character never split across two words. B when clearly shorter than Q (non-Latin text). */
static void
hdr_encoded_words(struct hdr *h, const char *s, bool phrase)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t total = strlen(s);
	/* Q keeps French readable in the raw message; B only when clearly shorter. */
	bool use_b = b_len(total) * 5 < q_len(p, total, phrase) * 4;
	const size_t overhead = strlen("=?UTF-8?Q?") + 2; /* and "?=" */
	struct strbuf word = { 0 };
	size_t i = 0;
	while (i < total) {
		size_t room = EW_LINE_COLS - (h->col + 1);
		if (h->col + 1 >= EW_LINE_COLS || room < overhead + 12)
			room = EW_LINE_COLS - 1; /* the next word starts a new line */
		if (room > EW_MAX)
			room = EW_MAX;
		size_t payload = room - overhead;
		/* Whole characters while the encoded chunk fits. */
		size_t n = 0;
		while (i + n < total) {
			int32_t cp;
			size_t clen = mail_compose_utf8_next(s + i + n, &cp);
			size_t enc = use_b ? b_len(n + clen) : q_len(p + i, n + clen, phrase);
			if (enc > payload && n > 0)
				break;
			n += clen;
		}
		strbuf_reset(&word);
		strbuf_adds(&word, use_b ? "=?UTF-8?B?" : "=?UTF-8?Q?");
		if (use_b) {
			b64_add(&word, p + i, n, b64_alphabet, true);
		} else {
			for (size_t k = i; k < i + n; k++) {
				if (p[k] == ' ') {
					strbuf_addc(&word, '_');
				} else if (q_plain(p[k], phrase)) {
					strbuf_addc(&word, (char)p[k]);
				} else {
					strbuf_addc(&word, '=');
					strbuf_addc(&word, hex_upper[p[k] >> 4]);
					strbuf_addc(&word, hex_upper[p[k] & 15]);
				}
			}
		}
		strbuf_add(&word, "?=", 2);
		mail_encode_hdr_token(h, word.data, word.len, EW_LINE_COLS);
		i += n;
	}
	strbuf_free(&word);
}

/* Plain ASCII text folded at its own spaces (the fold only inserts CRLF before a space that
 * is already there, so unfolding gives back the exact value). Returns false, writing
 * nothing, when a word would not fit on a line. */
static bool
hdr_plain_words(struct hdr *h, const char *s)
{
	size_t col = h->col;
	for (const char *p = s;;) {
		size_t len = strcspn(p, " ");
		if (col + 1 + len > LINE_MAX_COLS && (p == s || 1 + len > LINE_MAX_COLS))
			return false;
		if (col + 1 + len > LINE_MAX_COLS)
			col = 0;
		col += 1 + len;
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	for (const char *p = s;;) {
		size_t len = strcspn(p, " ");
		mail_encode_hdr_token(h, p, len, LINE_MAX_COLS);
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	return true;
}

/* An unstructured value (Subject). */
void
mail_encode_hdr_text(struct hdr *h, const char *raw)
{
	char *s = mail_encode_sanitize(raw);
	/* ASCII that looks like an encoded word is encoded, so that readers show it as written. */
	if (*s != '\0' && (!is_printable_ascii(s) || strstr(s, "=?") != NULL || !hdr_plain_words(h, s)))
		hdr_encoded_words(h, s, false);
	free(s);
}

static bool
is_atext(unsigned char c)
{
	return isalnum(c) || strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* A display name (RFC 5322 phrase): atoms as they are, other ASCII as a quoted-string,
 * anything else as encoded words. */
static void
hdr_phrase(struct hdr *h, const char *raw)
{
	char *s = mail_encode_sanitize(raw);
	if (*s == '\0') {
		free(s);
		return;
	}
	bool ascii = is_printable_ascii(s) && strstr(s, "=?") == NULL;
	bool atoms = ascii;
	for (const char *p = s; atoms && *p != '\0'; p++)
		atoms = *p == ' ' || is_atext((unsigned char)*p);
	if (atoms && hdr_plain_words(h, s)) {
		free(s);
		return;
	}
	if (ascii) {
		struct strbuf q = { 0 };
		strbuf_addc(&q, '"');
		for (const char *p = s; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				strbuf_addc(&q, '\\');
			strbuf_addc(&q, *p);
		}
		strbuf_addc(&q, '"');
		if (h->col + 1 + q.len <= LINE_MAX_COLS) {
			mail_encode_hdr_token(h, q.data, q.len, LINE_MAX_COLS);
			strbuf_free(&q);
			free(s);
			return;
		}
		strbuf_free(&q);
	}
	hdr_encoded_words(h, s, true);
	free(s);
}

/* ---- addresses ---- */

/* An addr-spec we are willing to put on the wire: dot-atom-ish local part, a domain of
 * letters, digits, '-' and '.', ASCII only. */
bool
mail_encode_address_valid(const char *a, size_t len)
{
	const char *at = memrchr(a, '@', len);
	if (at == NULL || at == a || at == a + len - 1 || len > 254)
		return false;
	for (const char *p = a; p < at; p++)
		if (!is_atext((unsigned char)*p) && *p != '.')
			return false;
	for (const char *p = at + 1; p < a + len; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
			return false;
	return true;
}

int
mail_address_split(const char *text, char **name_r, char **address_r)
{
	*name_r = NULL;
	*address_r = NULL;
	if (text == NULL)
		return -1;
	const char *start = text, *end = text + strlen(text);
	while (start < end && isspace((unsigned char)*start))
		start++;
	while (end > start && isspace((unsigned char)end[-1]))
		end--;
	/* The '<' outside a quoted display name. */
	const char *lt = NULL;
	bool quoted = false;
	for (const char *p = start; p < end; p++) {
		if (quoted && *p == '\\' && p + 1 < end)
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == '<') {
			lt = p;
			break;
		}
	}
	const char *a = start, *a_end = end;
	if (lt != NULL) {
		if (end[-1] != '>' || end - 1 <= lt)
			return -1;
		a = lt + 1;
		a_end = end - 1;
	}
	if (!mail_encode_address_valid(a, (size_t)(a_end - a)))
		return -1;
	if (lt != NULL) {
		const char *n = start, *n_end = lt;
		while (n_end > n && isspace((unsigned char)n_end[-1]))
			n_end--;
		struct strbuf name = { 0 };
		if (n_end - n >= 2 && *n == '"' && n_end[-1] == '"') {
			for (const char *p = n + 1; p < n_end - 1; p++) {
				if (*p == '\\' && p + 1 < n_end - 1)
					p++;
				strbuf_addc(&name, *p);
			}
		} else {
			strbuf_add(&name, n, (size_t)(n_end - n));
		}
		if (name.len > 0)
			*name_r = strbuf_detach(&name);
		strbuf_free(&name);
	}
	*address_r = xstrndup(a, (size_t)(a_end - a));
	return 0;
}

char *
mail_address_domain(const char *address)
{
	if (address == NULL)
		return NULL;
	const char *at = strrchr(address, '@');
	if (at == NULL || at[1] == '\0')
		return NULL;
	char *d = xstrdup(at + 1);
	for (char *p = d; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.') {
			free(d);
			return NULL;
		}
		*p = (char)tolower((unsigned char)*p);
	}
	return d;
}

void
mail_encode_hdr_mailbox(struct strbuf *sb, const char *header, const char *name, const char *address)
{
	struct hdr h;
	mail_encode_hdr_start(&h, sb, header);
	if (name != NULL)
		hdr_phrase(&h, name);
	char *a = xasprintf("<%s>", address);
	mail_encode_hdr_token(&h, a, strlen(a), LINE_MAX_COLS);
	free(a);
	mail_encode_hdr_end(&h);
}

char *
mail_encode_header(const char *utf8)
{
	char *s = mail_encode_sanitize(utf8);
	if (is_printable_ascii(s) && strstr(s, "=?") == NULL)
		return s;
	/* Folded as if it followed "Subject:". */
	struct strbuf sb = { 0 };
	struct hdr h = { &sb, strlen("Subject:") };
	hdr_encoded_words(&h, s, false);
	free(s);
	char *out = strbuf_detach(&sb);
	memmove(out, out + 1, strlen(out)); /* the space before the first word */
	return out;
}


/* ---- IMAP modified UTF-7 ---- */

static const char mb64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

char *
imap_utf7_encode(const char *utf8)
{
	struct strbuf sb = { 0 };
	struct strbuf u16 = { 0 };
	const char *s = utf8 != NULL ? utf8 : "";
	while (*s != '\0') {
		int32_t cp;
		size_t n = mail_compose_utf8_next(s, &cp);
		if (cp >= 0x20 && cp <= 0x7E) {
			if (cp == '&')
				strbuf_add(&sb, "&-", 2);
			else
				strbuf_addc(&sb, (char)cp);
			s += n;
			continue;
		}
		/* A run of characters that are not printable ASCII, as UTF-16BE in base64. */
		strbuf_reset(&u16);
		while (*s != '\0') {
			n = mail_compose_utf8_next(s, &cp);
			if (cp >= 0x20 && cp <= 0x7E)
				break;
			if (cp >= 0x10000) {
				int32_t v = cp - 0x10000;
				unsigned hi = 0xD800 + (unsigned)(v >> 10), lo = 0xDC00 + (unsigned)(v & 0x3FF);
				char b[4] = { (char)(hi >> 8), (char)(hi & 0xFF), (char)(lo >> 8), (char)(lo & 0xFF) };
				strbuf_add(&u16, b, 4);
			} else {
				char b[2] = { (char)(cp >> 8), (char)(cp & 0xFF) };
				strbuf_add(&u16, b, 2);
			}
			s += n;
		}
		strbuf_addc(&sb, '&');
		b64_add(&sb, (const unsigned char *)u16.data, u16.len, mb64_alphabet, false);
		strbuf_addc(&sb, '-');
	}
	strbuf_free(&u16);
	return strbuf_detach(&sb);
}

static int
mb64_value(char c)
{
	const char *p = c != '\0' ? strchr(mb64_alphabet, c) : NULL;
	return p != NULL ? (int)(p - mb64_alphabet) : -1;
}

char *
imap_utf7_decode(const char *mutf7)
{
	struct strbuf sb = { 0 };
	const char *s = mutf7 != NULL ? mutf7 : "";
	while (*s != '\0') {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c > 0x7E)
			goto bad;
		if (c != '&') {
			strbuf_addc(&sb, (char)c);
			s++;
			continue;
		}
		s++;
		if (*s == '-') {
			strbuf_addc(&sb, '&');
			s++;
			continue;
		}
		uint32_t bits = 0;
		int nbits = 0;
		unsigned high = 0; /* a pending high surrogate */
		size_t units = 0;
		while (*s != '-') {
			int v = mb64_value(*s);
			if (v < 0)
				goto bad;
			bits = bits << 6 | (uint32_t)v;
			nbits += 6;
			s++;
			if (nbits < 16)
				continue;
			nbits -= 16;
			unsigned u = (bits >> nbits) & 0xFFFF;
			bits &= (1u << nbits) - 1;
			units++;
			if (high != 0) {
				if (u < 0xDC00 || u > 0xDFFF)
					goto bad;
				text_add_codepoint(&sb, 0x10000 + (int32_t)((high - 0xD800) << 10 | (u - 0xDC00)));
				high = 0;
			} else if (u >= 0xD800 && u <= 0xDBFF) {
				high = u;
			} else if (u >= 0xDC00 && u <= 0xDFFF) {
				goto bad;
			} else if (u >= 0x20 && u <= 0x7E) {
				goto bad; /* printable ASCII must be written as itself */
			} else {
				text_add_codepoint(&sb, (int32_t)u);
			}
		}
		s++;
		/* Leftover bits must be padding zeros; an empty "&-" was handled above. */
		if (high != 0 || units == 0 || nbits >= 6 || bits != 0)
			goto bad;
	}
	return strbuf_detach(&sb);
bad:
	strbuf_free(&sb);
	return NULL;
}
