/* text — UTF-8 validation, folding for matching and removal of what is not the question.
 * Sits between mime (or a chat frame) and lexicon/intent. Unicode decomposition, case
 * folding and mark stripping come from utf8proc; quoted-history and signature rules
 * follow the forms French mail clients produce (Thunderbird/Gmail "Le … a écrit :",
 * Outlook "De : … Envoyé : …", "-----Message d'origine-----", RFC 3676 "-- "). */
#include "autoconf.h"
#include "core/text.h"
#include "core/util.h"

#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

int
text_validate(const char *s, size_t len, char **error_r)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	size_t i = 0;
	while (i < len) {
		if (p[i] < 0x80) {
			if (p[i] == 0) {
				*error_r = xasprintf("NUL byte at offset %zu", i);
				return -1;
			}
			i++;
			continue;
		}
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
		if (n < 0) {
			*error_r = xasprintf("invalid UTF-8 at offset %zu", i);
			return -1;
		}
		i += (size_t)n;
	}
	return 0;
}

char *
text_read_file(const char *path, size_t max_size, size_t *len_r, char **error_r)
{
	size_t len;
	char *data = file_read_all(path, max_size, &len, error_r);
	if (data == NULL)
		return NULL;
	char *why = NULL;
	if (text_validate(data, len, &why) < 0) {
		*error_r = xasprintf("%s: %s", path, why);
		free(why);
		free(data);
		return NULL;
	}
	if (len_r != NULL)
		*len_r = len;
	return data;
}

/* Letters and digits make words; the few letters that do not decompose into a base
 * letter plus marks are spelled out so that "œuvre" matches "oeuvre". */
static const char *
fold_special(utf8proc_int32_t cp)
{
	switch (cp) {
	case 0x0153: return "oe";  /* œ */
	case 0x00E6: return "ae";  /* æ */
	case 0x00F8: return "o";   /* ø */
	case 0x0111: return "d";   /* đ */
	case 0x0142: return "l";   /* ł */
	case 0x00DF: return "ss";  /* ß (when casefold left it) */
	default: return NULL;
	}
}

static bool
is_word_codepoint(utf8proc_int32_t cp)
{
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
	case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
		return true;
	default:
		return false;
	}
}

static char *
fold_ascii(const char *s, size_t len, size_t *words_r)
{
	char *out = xmalloc(len + 1);
	size_t o = 0, words = 0;
	bool in_word = false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isalnum(c)) {
			if (!in_word) {
				if (o > 0)
					out[o++] = ' ';
				words++;
				in_word = true;
			}
			out[o++] = (char)tolower(c);
		} else {
			in_word = false;
		}
	}
	out[o] = '\0';
	if (words_r)
		*words_r = words;
	return out;
}

/* Folding, one code point at a time: ASCII directly, anything else through utf8proc's
 * decomposition (compatibility, case folding, marks stripped), so a mostly-ASCII French
 * message costs little more than a copy. */
static void
fold_into(struct strbuf *sb, const char *s, size_t len, size_t *words, bool *in_word)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	size_t i = 0;
	while (i < len) {
		utf8proc_int32_t cps[16];
		utf8proc_ssize_t ncp;
		if (p[i] < 0x80) {
			cps[0] = p[i];
			ncp = 1;
			i++;
		} else {
			utf8proc_int32_t cp;
			utf8proc_ssize_t step = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
			if (step <= 0) {  /* only reachable without text_validate: skip the byte */
				i++;
				*in_word = false;
				continue;
			}
			i += (size_t)step;
			int boundclass = UTF8PROC_BOUNDCLASS_START;
			ncp = utf8proc_decompose_char(cp, cps, 16, UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT |
						      UTF8PROC_CASEFOLD, &boundclass);
			if (ncp < 0 || ncp > 16)
				ncp = 0;
		}
		for (utf8proc_ssize_t k = 0; k < ncp; k++) {
			utf8proc_int32_t c = cps[k];
			const char *special = NULL;
			bool word;
			if (c < 0x80) {
				word = isalnum(c);
				if (c >= 'A' && c <= 'Z')
					c += 'a' - 'A';
			} else {
				utf8proc_category_t cat = utf8proc_category(c);
				if (cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC ||
				    cat == UTF8PROC_CATEGORY_ME)
					continue;  /* accents: "é" is "e" + U+0301 once decomposed */
				special = fold_special(c);
				word = special != NULL || is_word_codepoint(c);
			}
			if (!word) {
				*in_word = false;
				continue;
			}
			if (!*in_word) {
				if (sb->len > 0)
					strbuf_addc(sb, ' ');
				(*words)++;
				*in_word = true;
			}
			if (special != NULL) {
				strbuf_adds(sb, special);
			} else if (c < 0x80) {
				strbuf_addc(sb, (char)c);
			} else {
				utf8proc_uint8_t enc[4];
				utf8proc_ssize_t n = utf8proc_encode_char(c, enc);
				strbuf_add(sb, (const char *)enc, (size_t)n);
			}
		}
	}
}

char *
text_fold(const char *s, size_t len, size_t *words_r)
{
	size_t i;
	for (i = 0; i < len && (unsigned char)s[i] < 0x80; i++)
		;
	if (i == len)
		return fold_ascii(s, len, words_r);
	struct strbuf sb = {0};
	size_t words = 0;
	bool in_word = false;
	strbuf_reserve(&sb, len + 8);
	fold_into(&sb, s, len, &words, &in_word);
	if (words_r)
		*words_r = words;
	return strbuf_detach(&sb);
}

size_t
text_count_words(const char *folded)
{
	size_t words = 0;
	bool in_word = false;
	for (const char *p = folded; *p; p++) {
		if (*p == ' ') {
			in_word = false;
		} else if (!in_word) {
			in_word = true;
			words++;
		}
	}
	return words;
}

size_t
text_unescape_newlines(char *s)
{
	size_t o = 0;
	for (size_t i = 0; s[i]; i++) {
		if (s[i] == '\\' && s[i + 1] == 'n') {
			s[o++] = '\n';
			i++;
		} else {
			s[o++] = s[i];
		}
	}
	s[o] = '\0';
	return o;
}

/* ---- politeness ---- */

/* Greeting and politeness formulas, folded. Longest first where one is a prefix of
 * another, since the first match at a position wins. */
static const char *const politeness_phrases[] = {
	"merci d avance pour votre aide", "merci par avance pour votre aide",
	"merci pour votre aide", "merci de votre aide", "merci pour votre retour",
	"merci d avance", "merci par avance", "merci beaucoup", "merci bien", "merci",
	"en vous remerciant par avance", "en vous remerciant d avance", "en vous remerciant",
	"je vous remercie par avance", "je vous remercie d avance", "je vous remercie",
	"bien cordialement", "tres cordialement", "cordialement", "cdlt", "cdt",
	"bien a vous", "salutations distinguees", "sinceres salutations", "salutations",
	"s il vous plait", "s il vous plaît", "s v p", "svp", "stp", "svpl", "please",
	"bonne journee", "bonne soiree", "bonne fin de journee", "bon week end",
	"bonjour", "bonsoir", "hello", "salut", "coucou", "hi",
	"madame monsieur", "mesdames messieurs", "madame", "monsieur", "mesdames", "messieurs",
	"thanks in advance", "thank you", "thanks", "regards", "best regards", "kind regards",
};

/* Returns the length in bytes of the phrase matching folded text at p as whole words, or 0. */
static size_t
phrase_at(const char *p, const char *phrase)
{
	size_t n = 0;
	while (phrase[n] != '\0' && p[n] == phrase[n])
		n++;
	if (phrase[n] != '\0' || (p[n] != '\0' && p[n] != ' '))
		return 0;
	return n;
}

/* Politeness phrases by first letter, so that each word is compared only with the
 * phrases that can start with it. Built once; read-only afterwards. */
#define MAX_PHRASES_PER_LETTER 32
static unsigned char phrases_by_letter[256][MAX_PHRASES_PER_LETTER];
static unsigned char phrases_by_letter_count[256];
static pthread_once_t phrases_once = PTHREAD_ONCE_INIT;

static void
index_phrases(void)
{
	for (size_t i = 0; i < sizeof(politeness_phrases) / sizeof(*politeness_phrases); i++) {
		unsigned char c = (unsigned char)politeness_phrases[i][0];
		if (phrases_by_letter_count[c] < MAX_PHRASES_PER_LETTER)
			phrases_by_letter[c][phrases_by_letter_count[c]++] = (unsigned char)i;
		else
			abort();  /* raise MAX_PHRASES_PER_LETTER */
	}
}

size_t
text_strip_politeness(char *folded)
{
	pthread_once(&phrases_once, index_phrases);
	char *out = folded;
	const char *p = folded;
	size_t words = 0;
	while (*p) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		size_t skip = 0;
		unsigned char c = (unsigned char)*p;
		for (size_t i = 0; i < phrases_by_letter_count[c] && !skip; i++)
			skip = phrase_at(p, politeness_phrases[phrases_by_letter[c][i]]);
		if (skip) {
			p += skip;
			continue;
		}
		const char *end = strchr(p, ' ');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (out != folded)
			*out++ = ' ';
		memmove(out, p, n);
		out += n;
		p += n;
		words++;
	}
	*out = '\0';
	return words;
}

/* ---- quoted history, signatures, disclaimers ---- */

struct line {
	const char *start;  /* into the original text */
	size_t len;         /* without the line break */
	char *folded;       /* folded copy of the line */
	size_t words;
};

static const char *const closing_formulas[] = {
	"bien cordialement", "tres cordialement", "cordialement", "cdlt", "cdt",
	"bien a vous", "bien a toi", "a bientot", "salutations", "sinceres salutations",
	"bonne journee", "bonne soiree", "bonne fin de journee", "bon week end",
	"merci d avance", "merci par avance", "merci beaucoup", "merci", "en vous remerciant",
	"je vous remercie", "dans l attente de votre retour", "dans l attente de votre reponse",
	"veuillez agreer", "je vous prie d agreer", "best regards", "kind regards", "regards",
	"thanks", "thank you", "sent from my", "envoye de mon", "envoye depuis",
	"obtenir outlook pour",
};

static const char *const disclaimer_starts[] = {
	"ce message et", "ce message ainsi que", "ce message est confidentiel", "ce courriel et",
	"ce courriel est confidentiel", "ce mail et", "ce message electronique",
	"ce message peut contenir", "this message", "this email", "this e mail",
	"avertissement", "confidentialite", "pensez a l environnement", "avant d imprimer",
	"message d origine", "original message", "forwarded message", "message transfere",
};

static bool
starts_with_phrase(const char *folded, const char *const *phrases, size_t count, size_t *rest_words_r)
{
	for (size_t i = 0; i < count; i++) {
		size_t n = phrase_at(folded, phrases[i]);
		if (n) {
			if (rest_words_r)
				*rest_words_r = text_count_words(folded + n);
			return true;
		}
	}
	return false;
}

static bool
line_is_header(const struct line *l, const char *const *names, size_t count)
{
	const char *p = l->start, *end = l->start + l->len;
	while (p < end && (*p == ' ' || *p == '\t' || *p == '*'))
		p++;
	for (size_t i = 0; i < count; i++) {
		size_t n = strlen(names[i]);
		if ((size_t)(end - p) < n || strncasecmp(p, names[i], n) != 0)
			continue;
		const char *q = p + n;
		while (q < end && (*q == ' ' || *q == '\t' || (unsigned char)*q == 0xC2 || (unsigned char)*q == 0xA0 || *q == '*'))
			q++;
		if (q < end && *q == ':')
			return true;
	}
	return false;
}

static const char *const from_headers[] = { "De", "From", ("Exp\xC3\xA9" "diteur") };
static const char *const other_headers[] = {
	"Envoy\xC3\xA9", "Sent", "Date", "\xC3\x80", "A", "To", "Objet", "Subject", "Cc",
};

static bool
ends_with_wrote(const char *folded)
{
	return str_ends_with(folded, "a ecrit") || str_ends_with(folded, "wrote") ||
	       str_ends_with(folded, "a ecrit le");
}

/* Returns true when line i starts what is no longer the writer's new text. */
static bool
line_starts_history(const struct line *lines, size_t count, size_t i)
{
	const struct line *l = &lines[i];
	const char *f = l->folded;
	/* RFC 3676 signature separator, and Outlook's underscore rule. */
	const char *p = l->start;
	size_t n = l->len;
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\r'))
		n--;
	if (n == 2 && p[0] == '-' && p[1] == '-')
		return true;
	if (n >= 8 && strspn(p, "_") >= 8)
		return true;
	if (starts_with_phrase(f, disclaimer_starts, sizeof(disclaimer_starts) / sizeof(*disclaimer_starts), NULL))
		return true;
	/* "Le lun. 6 mars 2023 à 10:12, X <x@y> a écrit :", possibly wrapped on two lines. */
	if (str_starts_with(f, "le ") || str_starts_with(f, "on ")) {
		if (ends_with_wrote(f))
			return true;
		if (i + 1 < count && ends_with_wrote(lines[i + 1].folded) && strpbrk(f, "0123456789"))
			return true;
	}
	/* Outlook: "De : …" followed closely by "Envoyé : …", "À : …" or "Objet : …". */
	if (line_is_header(l, from_headers, sizeof(from_headers) / sizeof(*from_headers))) {
		for (size_t j = i + 1; j < count && j <= i + 5; j++)
			if (line_is_header(&lines[j], other_headers, sizeof(other_headers) / sizeof(*other_headers)))
				return true;
	}
	return false;
}

static bool line_is_quoted(const struct line *l);

/* Returns true when line i is a "Le … a écrit :" attribution (on one line or two) whose
 * next non-empty line is quoted with ">". */
static bool
line_opens_inline_quote(const struct line *lines, size_t count, size_t i)
{
	const char *f = lines[i].folded;
	if (!str_starts_with(f, "le ") && !str_starts_with(f, "on "))
		return false;
	size_t j = i + 1;
	if (!ends_with_wrote(f)) {
		if (!(i + 1 < count && ends_with_wrote(lines[i + 1].folded) && strpbrk(f, "0123456789")))
			return false;
		j = i + 2;
	}
	while (j < count && lines[j].words == 0 && !line_is_quoted(&lines[j]))
		j++;
	return j < count && line_is_quoted(&lines[j]);
}

static bool
line_is_closing(const struct line *l)
{
	size_t rest;
	return l->words <= 12 &&
	       starts_with_phrase(l->folded, closing_formulas, sizeof(closing_formulas) / sizeof(*closing_formulas), &rest) &&
	       rest <= 4;
}

static bool
line_is_quoted(const struct line *l)
{
	const char *p = l->start, *end = l->start + l->len;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p < end && *p == '>';
}

/* A greeting line on its own ("Bonjour Madame Durand,"): greeting words then at most two
 * more words (a name), ending with a comma or nothing else. */
static bool
line_is_greeting(const struct line *l)
{
	char small[256];
	size_t flen = strlen(l->folded);
	char *copy = flen < sizeof(small) ? memcpy(small, l->folded, flen + 1) : xstrdup(l->folded);
	size_t before = l->words;
	size_t after = text_strip_politeness(copy);
	if (copy != small)
		free(copy);
	if (after == before || after > 2)
		return false;
	if (after == 0)
		return true;
	const char *p = l->start;
	size_t n = l->len;
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\r' || p[n - 1] == '\t'))
		n--;
	return n > 0 && (p[n - 1] == ',' || p[n - 1] == ':');
}

char *
text_strip_noise(const char *s)
{
	return text_strip_noise_folded(s, NULL, NULL);
}

static void
join_folded(struct strbuf *sb, const char *folded)
{
	if (folded[0] == '\0')
		return;
	if (sb->len > 0)
		strbuf_addc(sb, ' ');
	strbuf_adds(sb, folded);
}

char *
text_strip_noise_folded(const char *s, char **full_folded_r, char **question_folded_r)
{
	struct line *lines = NULL;
	size_t count = 0, cap = 0;
	const char *p = s;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (count == cap) {
			cap = cap ? cap * 2 : 32;
			lines = xrealloc(lines, cap * sizeof(*lines));
		}
		struct line *l = &lines[count++];
		l->start = p;
		l->len = len;
		l->folded = text_fold(p, len, &l->words);
		p += len;
		if (*p == '\n')
			p++;
	}

	struct strbuf out = {0}, full = {0}, question = {0};
	size_t total = (size_t)(p - s);
	strbuf_reserve(&out, total + 1);
	bool seen_content = false, ended = false;
	for (size_t i = 0; i < count; i++) {
		const struct line *l = &lines[i];
		if (full_folded_r != NULL && count > 1)
			join_folded(&full, l->folded);
		if (ended)
			continue;
		if (!seen_content && line_opens_inline_quote(lines, count, i)) {
			/* "Le … a écrit :" then "> …" lines before anything new: the writer answers
			 * below the quote (bottom-posting); the quote is skipped, not the answer. */
			i += ends_with_wrote(l->folded) ? 0 : 1;
			continue;
		}
		if (line_starts_history(lines, count, i) || (seen_content && line_is_closing(l))) {
			ended = true;
			continue;
		}
		if (line_is_quoted(l))
			continue;
		if (!seen_content && l->words > 0 && line_is_greeting(l))
			continue;
		if (l->words > 0)
			seen_content = true;
		strbuf_add(&out, l->start, l->len);
		strbuf_addc(&out, '\n');
		join_folded(&question, l->folded);
	}
	if (full_folded_r != NULL && count == 1) {
		*full_folded_r = lines[0].folded;  /* a single line: its folding is the message's */
		lines[0].folded = NULL;
	} else if (full_folded_r != NULL) {
		*full_folded_r = strbuf_detach(&full);
	}
	if (question_folded_r)
		*question_folded_r = strbuf_detach(&question);
	else
		strbuf_free(&question);
	for (size_t i = 0; i < count; i++)
		free(lines[i].folded);
	free(lines);
	return strbuf_detach(&out);
}

void
text_add_codepoint(struct strbuf *sb, int32_t cp)
{
	utf8proc_uint8_t buf[4];
	utf8proc_ssize_t n = utf8proc_encode_char(cp, buf);
	strbuf_add(sb, (const char *)buf, (size_t)n);
}

char *
text_first_line(const char *text, size_t max)
{
	size_t n = strcspn(text, "\r\n");
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
			n--;  /* a continuation byte: the character starts before */
	}
	return xstrndup(text, n);
}
