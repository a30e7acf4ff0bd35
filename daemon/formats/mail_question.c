/* mail_question — the question a mail asks, for the engine: its body, or its subject when
 * the body is empty or only points at the subject ("cf objet"). Pipeline: mail_parse →
 * here → text → intent. */
#include "autoconf.h"
#include "formats/mail_parse.h"
#include "core/text.h"
#include "core/util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* "re: tr: fwd:" prefixes removed: is anything left? */
static bool
subject_has_content(const char *subject)
{
	static const char *const prefixes[] = { "re", "tr", "fw", "fwd", "aw", "wg", "ref", "réf", "rép", "rep" };
	const char *s = subject;
	for (;;) {
		while (*s == ' ')
			s++;
		bool cut = false;
		for (size_t i = 0; i < sizeof(prefixes) / sizeof(*prefixes) && !cut; i++) {
			size_t n = strlen(prefixes[i]);
			if (strncasecmp(s, prefixes[i], n) != 0)
				continue;
			const char *p = s + n;
			if (*p == '[') {                /* "Re[2]:" */
				while (*p != '\0' && *p != ']')
					p++;
				if (*p == ']')
					p++;
			}
			while (*p == ' ')
				p++;
			if (*p == ':') {
				s = p + 1;
				cut = true;
			}
		}
		if (!cut)
			break;
	}
	char *folded = text_fold(s, strlen(s), NULL);
	bool content = *folded != '\0';
	free(folded);
	return content;
}

static bool
word_in(const char *w, size_t n, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strlen(*set) == n && memcmp(*set, w, n) == 0)
			return true;
	return false;
}

/* Folded text that only points at the subject: "cf objet", "voir l objet", "question en
 * objet", "tout est dans le sujet"... a pointer word followed (after at most an article)
 * by objet/sujet/titre, in a short text. */
static bool
points_to_subject(const char *folded)
{
	static const char *const pointers[] = { "cf", "cfr", "confer", "voir", "vois", "voyez", "en", "dans", "ds", "ci", "dessus", NULL };
	static const char *const articles[] = { "l", "le", "la", "mon", "ma", "notre", "du", "de", "en", NULL };
	static const char *const targets[] = { "objet", "sujet", "titre", NULL };
	const char *words[16];
	size_t lens[16], n = 0;
	for (const char *p = folded; *p != '\0'; ) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		size_t len = strcspn(p, " ");
		if (n == 8)
			return false;
		words[n] = p;
		lens[n++] = len;
		p += len;
	}
	for (size_t i = 0; i < n; i++) {
		if (!word_in(words[i], lens[i], targets))
			continue;
		if (i >= 1 && word_in(words[i - 1], lens[i - 1], pointers))
			return true;
		if (i >= 2 && word_in(words[i - 1], lens[i - 1], articles) && word_in(words[i - 2], lens[i - 2], pointers))
			return true;
	}
	return false;
}

char *
mail_question_text(const struct parsed_mail *mail)
{
	const char *body = mail->body ? mail->body : "";
	const char *subject = mail->subject ? mail->subject : "";
	if (!subject_has_content(subject))
		return xstrdup(body);
	char *question = text_strip_noise(body);
	char *folded = text_fold(question, strlen(question), NULL);
	free(question);
	bool empty = text_strip_politeness(folded) == 0;
	bool pointer = !empty && points_to_subject(folded);
	free(folded);
	if (empty || pointer)
		return xstrdup(subject);
	return xstrdup(body);
}
