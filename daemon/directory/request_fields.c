/* request_fields — see request_fields.h. */
#include "autoconf.h"
#include "directory/request_fields.h"
#include "directory/directory_import.h"
#include "engine/template.h"
#include "core/util.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum field { F_EMAIL, F_SIRET, F_IDENTIFIER, F_ALONE, F_CODE, F_LINK_TOKEN, F_BARE_TOKEN, F_ANY_CODE, F_LINK,
	     F_COUNT };

static const char *const patterns[F_COUNT] = {
	[F_EMAIL] = "(?<![\\w.+-])([a-z0-9][a-z0-9._%+'-]{0,63}@[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?"
		    "(?:\\.[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)*\\.[a-z]{2,24})(?![\\w-])",
	[F_SIRET] = "(?<!\\d)(?<!\\d )(\\d{3} ?\\d{3} ?\\d{3} ?\\d{5})(?!\\d)(?! \\d)",
	[F_IDENTIFIER] = "identifiant(?:\\s+de\\s+connexion)?\\s*(?:est|:|=|n°)?\\s*:?\\s*[«\"“']?\\s*"
			 "([a-z0-9][a-z0-9._-]{1,62}[a-z0-9])(?![\\w@-])(?!\\.\\w)",
	[F_ALONE] = "^\\s*[«\"“']?([a-z0-9][a-z0-9._-]{1,62}[a-z0-9])[»\"”']?\\s*[.!]?\\s*$",
	[F_CODE] = "(?<![\\d-])(\\d{4})[ -]?(\\d{4})(?![\\d-])",
	/* What is scrubbed from kept text: a reset link's token, a token alone (43 URL-safe
	 * base64 characters), a code however it is split (8 digits, or 6 as they once were). */
	[F_LINK_TOKEN] = "(?<=jeton=)[a-z0-9_-]{16,}",
	[F_BARE_TOKEN] = "(?<![a-z0-9_-])[a-z0-9_-]{43}(?![a-z0-9_-])",
	[F_ANY_CODE] = "(?<!\\d)\\d(?:[ .-]?\\d){5,7}(?!\\d)",
	/* What a mail client would show as a link: a URL with its scheme (hxxp too, as
	 * phishers write it), www., or a bare domain name of a common top-level domain,
	 * with its path. Not the domain of an e-mail address. */
	[F_LINK] = "(?:\\b(?:https?|hxxps?|ftp)://|\\bwww\\.)[^\\s<>\"«»]+"
		   "|(?<![\\w@.-])(?:[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?\\.)+"
		   "(?:com|net|org|fr|info|biz|io|co|eu|be|ch|de|uk|ru|cn|xyz|top|site|online|app|dev|me|ly|link|click"
		   "|live|shop|tk|ml|ga|cf|gq|pw|cc|ws|us|ca|es|it|nl|pl|pt|lu|re|gp|mq|nc|pf)"
		   "(?::\\d{1,5})?(?:/[^\\s<>\"«»]*)?(?![\\w@-])",
};

static pcre2_code *codes[F_COUNT];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
compile(void)
{
	for (int i = 0; i < F_COUNT; i++) {
		int err;
		PCRE2_SIZE off;
		codes[i] = pcre2_compile((PCRE2_SPTR)patterns[i], PCRE2_ZERO_TERMINATED,
					 PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS, &err, &off, NULL);
		if (codes[i] == NULL)
			abort();  /* a constant pattern that does not compile is a bug */
		pcre2_jit_compile(codes[i], PCRE2_JIT_COMPLETE);
	}
}

/* Calls fn with each match's group 1 (and 2) from the start until it returns true. */
static bool
each_match(enum field f, const char *text, bool (*fn)(const char *g1, const char *g2, void *user), void *user)
{
	pthread_once(&once, compile);
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(codes[f], NULL);
	size_t len = strlen(text);
	PCRE2_SIZE start = 0;
	bool done = false;
	/* Text that is not valid UTF-8 matches nothing (PCRE2 refuses it): nothing is found. */
	while (!done && start <= len && pcre2_match(codes[f], (PCRE2_SPTR)text, len, start, 0, md, NULL) >= 0) {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
		char *g1 = xstrndup(text + ov[2], ov[3] - ov[2]);
		char *g2 = pcre2_get_ovector_count(md) > 2 && ov[4] != PCRE2_UNSET ? xstrndup(text + ov[4], ov[5] - ov[4]) : NULL;
		done = fn(g1, g2, user);
		free(g1);
		free(g2);
		start = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
	}
	pcre2_match_data_free(md);
	return done;
}

static bool
take_email(const char *g1, const char *g2, void *user)
{
	(void)g2;
	char **out = user;
	*out = xstrdup(g1);
	for (char *p = *out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return true;
}

char *
field_email(const char *text)
{
	char *out = NULL;
	each_match(F_EMAIL, text, take_email, &out);
	return out;
}

static bool
take_siret(const char *g1, const char *g2, void *user)
{
	(void)g2;
	return directory_siret_normalize(g1, user);
}

bool
field_siret(const char *text, char out[15])
{
	return each_match(F_SIRET, text, take_siret, out);
}

/* A digit, or capitals only: "JMOREAU01", "AB-1234", "DUPONTJ" — not "oublie" or "perdu". */
static bool
looks_like_identifier(const char *s)
{
	bool digit = false, lower = false;
	size_t letters = 0;
	for (const char *p = s; *p; p++) {
		digit |= isdigit((unsigned char)*p) != 0;
		lower |= islower((unsigned char)*p) != 0;
		letters += isalpha((unsigned char)*p) != 0;
	}
	return digit || (!lower && letters >= 4);
}

static bool
take_identifier(const char *g1, const char *g2, void *user)
{
	(void)g2;
	if (!looks_like_identifier(g1))
		return false;
	*(char **)user = xstrdup(g1);
	return true;
}

char *
field_identifier(const char *text, bool alone)
{
	char *out = NULL;
	if (!each_match(F_IDENTIFIER, text, take_identifier, &out) && alone)
		each_match(F_ALONE, text, take_identifier, &out);
	return out;
}

static bool
take_code(const char *g1, const char *g2, void *user)
{
	char *out = user;
	if (g2 == NULL)
		return false;
	memcpy(out, g1, 4);
	memcpy(out + 4, g2, 4);
	out[8] = '\0';
	return true;
}

bool
field_code(const char *text, char out[9])
{
	return each_match(F_CODE, text, take_code, out);
}

/* Replaces every match of f in *text by with. */
static void
substitute(enum field f, char **text, const char *with)
{
	pthread_once(&once, compile);
	size_t len = strlen(*text), cap = len + 64;
	for (int round = 0; round < 4; round++) {
		char *out = xmalloc(cap);
		PCRE2_SIZE out_len = cap;
		int rc = pcre2_substitute(codes[f], (PCRE2_SPTR)*text, len, 0,
					  PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH | PCRE2_SUBSTITUTE_LITERAL,
					  NULL, NULL, (PCRE2_SPTR)with, PCRE2_ZERO_TERMINATED, (PCRE2_UCHAR *)out, &out_len);
		if (rc >= 0) {
			free(*text);
			*text = out;
			return;
		}
		free(out);
		if (rc != PCRE2_ERROR_NOMEMORY)
			return;  /* text PCRE2 cannot read (not UTF-8): left as the parser gave it */
		cap = out_len + 1;
	}
}

char *
field_scrub_secrets(const struct templates *t, const char *text, bool codes_too)
{
	char *out = xstrdup(text);
	char *mark = template_render(t, "scrub_token", OUTPUT_TEXT, NULL, 0);
	substitute(F_LINK_TOKEN, &out, mark);
	substitute(F_BARE_TOKEN, &out, mark);
	free(mark);
	if (codes_too) {
		mark = template_render(t, "scrub_code", OUTPUT_TEXT, NULL, 0);
		substitute(F_ANY_CODE, &out, mark);
		free(mark);
	}
	return out;
}

char *
field_remove_links(const struct templates *t, const char *text)
{
	char *out = xstrdup(text);
	char *mark = template_render(t, "scrub_link", OUTPUT_TEXT, NULL, 0);
	substitute(F_LINK, &out, mark);
	free(mark);
	return out;
}
