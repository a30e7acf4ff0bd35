/* mail_body — a text part's decoded text made into the mail's body: line endings to LF,
 * format=flowed undone (RFC 3676), parts joined. Pipeline: mime (mail_parse) → here →
 * text. Pure string functions. */
#include "autoconf.h"
#include "formats/mail_parse_internal.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

char *
mail_body_normalise_newlines(char *s)
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
char *
mail_body_unflow(const char *s, bool delsp)
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
void
mail_body_join(struct strbuf *body, const char *text)
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
