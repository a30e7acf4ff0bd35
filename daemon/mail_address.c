/* mail_address — the addresses of From, Reply-To, Sender, Return-Path, To and Cc (RFC 5322
 * section 3.4) read leniently into addr-specs (local@domain, domain lower-cased), with
 * the display name decoded. Part of mail_parse; the names go through mail_decode. */
#include "autoconf.h"
#include "mail_parse_internal.h"

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

