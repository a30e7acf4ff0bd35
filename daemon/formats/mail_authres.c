/* mail_authres — Authentication-Results (RFC 8601) read for one question: did our MTA
 * authenticate the sender's domain (see mail_authres.h). */
#include "autoconf.h"
#include "formats/mail_authres.h"
#include "formats/mail_compose.h"
#include "core/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Authentication-Results (RFC 8601) reduced to its plain tokens: comments (nested
 * parentheses) removed, quoted strings kept whole, lower case. Result: a list of
 * resinfo strings separated by ';' outside quotes, the first being the authserv-id. */
static char *
ar_plain(const char *value)
{
	struct strbuf sb = {0};
	int depth = 0;
	bool quoted = false;
	for (const char *p = value; *p; p++) {
		if (quoted) {
			if (*p == '\\' && p[1]) {
				strbuf_addc(&sb, 'x');  /* an escaped character: never a separator */
				p++;
			} else if (*p == '"') {
				quoted = false;
				strbuf_addc(&sb, '"');
			} else {
				strbuf_addc(&sb, *p == ';' || *p == ' ' ? 'x' : (char)tolower((unsigned char)*p));
			}
		} else if (*p == '(') {
			depth++;
		} else if (*p == ')' && depth > 0) {
			depth--;
		} else if (depth == 0) {
			if (*p == '"')
				quoted = true;
			strbuf_addc(&sb, *p == '\t' ? ' ' : (char)tolower((unsigned char)*p));
		}
	}
	return sb.len ? strbuf_detach(&sb) : xstrdup("");
}

/* In one resinfo ("dkim=pass header.d=example.com header.s=sel"), whether the method
 * passed and property prop (a whole token "header.d=" or "smtp.mailfrom=") names exactly
 * domain (for smtp.mailfrom, the part after '@' of an address). */
static bool
resinfo_passes(char *resinfo, const char *method, const char *prop, const char *domain)
{
	char *save = NULL;
	char *tok = strtok_r(resinfo, " ", &save);
	char *want = xasprintf("%s=pass", method);
	bool pass = tok != NULL && strcmp(tok, want) == 0, named = false;
	free(want);
	while (pass && !named && (tok = strtok_r(NULL, " ", &save)) != NULL) {
		if (!str_starts_with(tok, prop))
			continue;
		const char *v = tok + strlen(prop);
		const char *at = strcmp(prop, "smtp.mailfrom=") == 0 ? strrchr(v, '@') : NULL;
		named = strcmp(at ? at + 1 : v, domain) == 0;
	}
	return pass && named;
}

/* The MTA must add this header to every mail it receives (see mail_authres.h). */
bool
mail_authres_sender_passes(const char *value, const char *authserv_id, const char *from_address)
{
	char *domain = from_address ? mail_address_domain(from_address) : NULL;
	bool ok = false;
	if (value != NULL && domain != NULL && authserv_id != NULL) {
		char *plain = ar_plain(value), *save = NULL;
		char *id = strtok_r(plain, ";", &save);
		/* The authserv-id may be followed by a version number. */
		char *space = id ? strchr(str_trim(id), ' ') : NULL;
		if (space != NULL)
			*space = '\0';
		if (id != NULL && strcasecmp(str_trim(id), authserv_id) == 0) {
			for (char *part = strtok_r(NULL, ";", &save); part && !ok; part = strtok_r(NULL, ";", &save)) {
				char *a = xstrdup(str_trim(part)), *b = xstrdup(a);
				ok = resinfo_passes(a, "dkim", "header.d=", domain) ||
				     resinfo_passes(b, "spf", "smtp.mailfrom=", domain);
				free(a);
				free(b);
			}
		}
		free(plain);
	}
	free(domain);
	return ok;
}
