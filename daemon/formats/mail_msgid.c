/* mail_msgid — the ids of Message-ID, In-Reply-To and References (RFC 5322 section
 * 3.6.4), without their angle brackets, read leniently: what threads a reply to its
 * conversation. Part of mail_parse. */
#include "autoconf.h"
#include "formats/mail_parse_internal.h"

#include <stdlib.h>
#include <string.h>

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
void
mail_msgid_parse(const char *value, char ***ids, size_t *count, size_t max)
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

char *
mail_msgid_first(const char *value)
{
	char **ids = NULL;
	size_t n = 0;
	mail_msgid_parse(value, &ids, &n, 1);
	char *id = n > 0 ? ids[0] : NULL;
	free(ids);
	return id;
}
