/* dossier_number — see dossier_number.h. */
#include "autoconf.h"
#include "formats/dossier_number.h"
#include "core/util.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <pcre2.h>
#include <pthread.h>
#include <string.h>

/* Either a structured number (letters-year-digits, year-digits), or a run of digits and
 * dashes right after a word that announces a number. */
static const char pattern[] =
	"(?<![\\w-])([a-z]{1,4}-\\d{4}-\\d{3,10}|\\d{4}-\\d{4,10})(?![\\w-])"
	"|(?:dossier|demande|contrat|r[eé]f[eé]rence|r[eé]f\\.?|n°|no\\.?|num[eé]ro)\\s*(?:n°|no\\.?|num[eé]ro)?\\s*:?\\s*"
	"([a-z0-9][a-z0-9-]{4,24})(?![\\w-])";

static pcre2_code *code;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
compile(void)
{
	int err;
	PCRE2_SIZE off;
	code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS, &err, &off,
			     NULL);
	if (code == NULL)
		abort();  /* a constant pattern that does not compile is a bug */
}

/* Not a dossier number: too few digits, or the shape of a SIRET, SIREN or phone number. */
static bool
plausible(const char *s)
{
	size_t digits = 0, len = strlen(s);
	for (const char *p = s; *p; p++)
		digits += isdigit((unsigned char)*p) != 0;
	if (digits < 5)
		return false;
	if (digits == len && (len == 14 || len == 9 || (len == 10 && s[0] == '0')))
		return false;
	return true;
}

size_t
dossier_numbers(const char *text, char **out, size_t max)
{
	pthread_once(&once, compile);
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
	size_t n = 0, len = strlen(text);
	PCRE2_SIZE start = 0;
	while (n < max && start <= len && pcre2_match(code, (PCRE2_SPTR)text, len, start, 0, md, NULL) >= 0) {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
		int group = ov[2] != PCRE2_UNSET ? 1 : 2;
		char *cand = xstrndup(text + ov[2 * group], ov[2 * group + 1] - ov[2 * group]);
		for (char *p = cand; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		bool seen = false;
		for (size_t i = 0; i < n; i++)
			seen |= strcmp(out[i], cand) == 0;
		if (!seen && plausible(cand))
			out[n++] = cand;
		else
			free(cand);
		start = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
	}
	pcre2_match_data_free(md);
	return n;
}
