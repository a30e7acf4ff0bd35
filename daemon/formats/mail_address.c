/* mail_address — the addresses of From, Reply-To, Sender, Return-Path, To and Cc (RFC 5322
 * section 3.4) read leniently into addr-specs (local@domain, domain lower-cased), with
 * the display name decoded. Part of mail_parse; the names go through mail_decode. */
#include "autoconf.h"
#include "formats/mail_parse_internal.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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

/* An address list being split: what has been read of the current address. */
struct address_parser {
	struct strbuf text;     /* outside comments and angle brackets, quotes kept: a bare addr-spec */
	struct strbuf phrase;   /* the same without the quotes: the display name */
	struct strbuf angle;    /* inside <...> */
	struct strbuf comment;  /* inside (...), nested comments included, separate ones joined by a space */
	bool has_angle;         /* the current address had a <...> */
	bool in_angle, in_quote;
	int comment_depth;
	struct address *list;   /* the addresses finished so far */
	size_t count;
};

/* The current address is complete (at a ',', a ';' or the end): adds it to the list,
 * if anything in it was an address or a name, and starts the next. */
static void
finish_address(struct address_parser *ap)
{
	struct address a = { NULL, NULL };
	if (ap->has_angle) {
		a.addr = normalise_addr_spec(ap->angle.data ? ap->angle.data : "", ap->angle.len);
		if (ap->phrase.len > 0)
			a.name = xstrdup(ap->phrase.data);
		else if (ap->comment.len > 0)
			a.name = xstrdup(ap->comment.data);
	} else if (ap->text.len > 0) {
		a.addr = normalise_addr_spec(ap->text.data, ap->text.len);
		if (ap->comment.len > 0)
			a.name = xstrdup(ap->comment.data);
	}
	if (a.addr != NULL || a.name != NULL || ap->has_angle) {
		ap->list = array_grow(ap->list, ap->count, sizeof(*ap->list));
		ap->list[ap->count++] = a;
	}
	strbuf_reset(&ap->text);
	strbuf_reset(&ap->phrase);
	strbuf_reset(&ap->angle);
	strbuf_reset(&ap->comment);
}

/* One character inside a quoted string: a backslash escapes the next one. Returns the
 * last character read. */
static const char *
quoted_char(struct address_parser *ap, const char *p)
{
	char c = *p;
	if (c == '\\' && p[1] != '\0') {
		c = *++p;
	} else if (c == '"') {
		ap->in_quote = false;
		strbuf_addc(&ap->text, '"');
		return p;
	}
	strbuf_addc(ap->in_angle ? &ap->angle : &ap->phrase, c);
	strbuf_addc(&ap->text, c);
	return p;
}

/* One character inside a comment, which may nest. Returns the last character read. */
static const char *
comment_char(struct address_parser *ap, const char *p)
{
	char c = *p;
	if (c == '\\' && p[1] != '\0')
		c = *++p;
	else if (c == '(')
		ap->comment_depth++;
	else if (c == ')' && --ap->comment_depth == 0)
		return p;
	strbuf_addc(&ap->comment, c);
	return p;
}

/* One character outside quotes and comments. */
static void
plain_char(struct address_parser *ap, char c)
{
	if (c == '(') {
		ap->comment_depth = 1;
		if (ap->comment.len > 0)
			strbuf_addc(&ap->comment, ' ');
	} else if (c == '"') {
		ap->in_quote = true;
		strbuf_addc(&ap->text, c);
	} else if (ap->in_angle) {
		if (c == '>')
			ap->in_angle = false;
		else
			strbuf_addc(&ap->angle, c);
	} else if (c == '<') {
		ap->in_angle = true;
		ap->has_angle = true;
		strbuf_reset(&ap->angle);
	} else if (c == ',' || c == ';') {
		finish_address(ap);
		ap->has_angle = false;
	} else if (c == ':' && !ap->has_angle && memchr(ap->text.data ? ap->text.data : "", '@', ap->text.len) == NULL) {
		/* group "name: a, b;" — the group name is no address */
		strbuf_reset(&ap->text);
		strbuf_reset(&ap->phrase);
		strbuf_reset(&ap->comment);
	} else if (!ap->has_angle) {    /* text after "<addr>" is dropped */
		strbuf_addc(&ap->text, c);
		strbuf_addc(&ap->phrase, c);
	}
}

/* Splits an address list (RFC 5322 section 3.4, leniently: quoted strings, comments,
 * angle addresses, groups). Returns the count; caller frees with addresses_free. */
static size_t
parse_addresses(const char *value, struct address **list_r)
{
	struct address_parser ap = { 0 };
	for (const char *p = value; *p != '\0'; p++) {
		if (ap.in_quote)
			p = quoted_char(&ap, p);
		else if (ap.comment_depth > 0)
			p = comment_char(&ap, p);
		else
			plain_char(&ap, *p);
	}
	finish_address(&ap);
	strbuf_free(&ap.text);
	strbuf_free(&ap.phrase);
	strbuf_free(&ap.angle);
	strbuf_free(&ap.comment);
	*list_r = ap.list;
	return ap.count;
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
char *
mail_address_first(struct parse_ctx *ctx, const char *value, char **name_r)
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
			char *name = mail_decode_header_line(ctx, list[i].name);
			if (*name != '\0')
				*name_r = name;
			else
				free(name);
		}
	}
	addresses_free(list, n);
	return addr;
}

void
mail_address_push_all(const char *value, char ***array, size_t *count)
{
	struct address *list;
	size_t n = parse_addresses(value, &list);
	for (size_t i = 0; i < n; i++) {
		if (list[i].addr != NULL) {
			str_push(array, count, list[i].addr);
			list[i].addr = NULL;
		}
	}
	addresses_free(list, n);
}

/* Final-Recipient values (RFC 3464) and the like: "<addr>" or addr, spaces around. */
char *
mail_address_normalise(const char *s)
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

