/* negation — takes denied subjects out of the folded question (see negation.h).
 * Two kinds of denial are read:
 * - a denied subject, « ce n'est pas / il ne s'agit pas / ma question ne porte pas sur »
 *   followed by a determiner (« ce n'est pas possible » denies nothing): the words up to
 *   the contrast (« mais », « c'est », « juste », « je veux »…) when it comes within
 *   SUBJECT_REACH words, else the noun group: at most SUBJECT_SHORT words, up to a
 *   pronoun or « qui » (« ce n'est pas le mot de passe qui bloque »);
 * - a denied wish, « je ne veux pas / pas besoin de / I don't want », only when a contrast
 *   follows within WISH_REACH words: « je ne veux pas perdre mon dossier » alone is a
 *   worry, not a denial, and stays.
 * The marker and the denied words are removed; the contrast word stays (it is often part
 * of what is asked: « c'est mon identifiant »). */
#include "autoconf.h"
#include "engine/negation.h"
#include "core/util.h"

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define SUBJECT_REACH 12
#define SUBJECT_SHORT 4
#define WISH_REACH 10

enum denial { DENY_SUBJECT, DENY_WISH };

#define CONNECTOR UINT_MAX      /* in drop[]: a connector word removed with a denial */

static const struct {
	const char *words;
	enum denial kind;
} markers[] = {
	{ "ce n est pas", DENY_SUBJECT }, { "c est pas", DENY_SUBJECT }, { "ce n etait pas", DENY_SUBJECT },
	{ "c pas", DENY_SUBJECT }, { "il ne s agit pas", DENY_SUBJECT }, { "il s agit pas", DENY_SUBJECT },
	{ "ca ne concerne pas", DENY_SUBJECT }, { "cela ne concerne pas", DENY_SUBJECT },
	{ "ma question ne concerne pas", DENY_SUBJECT }, { "ma question ne porte pas sur", DENY_SUBJECT },
	{ "ma demande ne concerne pas", DENY_SUBJECT }, { "ma demande ne porte pas sur", DENY_SUBJECT },
	{ "ma question n est pas", DENY_SUBJECT }, { "ma demande n est pas", DENY_SUBJECT },
	{ "je ne parle pas", DENY_SUBJECT }, { "it s not", DENY_SUBJECT }, { "it is not", DENY_SUBJECT },
	{ "this is not", DENY_SUBJECT }, { "not about", DENY_SUBJECT },
	{ "je ne veux pas", DENY_WISH }, { "je veux pas", DENY_WISH }, { "je ne souhaite pas", DENY_WISH },
	{ "je ne cherche pas", DENY_WISH }, { "je cherche pas", DENY_WISH }, { "je ne demande pas", DENY_WISH },
	{ "je ne vous demande pas", DENY_WISH }, { "nous ne voulons pas", DENY_WISH },
	{ "nous ne souhaitons pas", DENY_WISH }, { "nous ne cherchons pas", DENY_WISH },
	{ "on ne veut pas", DENY_WISH }, { "on veut pas", DENY_WISH }, { "je n ai pas besoin", DENY_WISH },
	{ "nous n avons pas besoin", DENY_WISH }, { "pas besoin", DENY_WISH }, { "inutile de", DENY_WISH },
	{ "i don t want", DENY_WISH }, { "i do not want", DENY_WISH }, { "we don t want", DENY_WISH },
	{ "i don t need", DENY_WISH }, { "no need", DENY_WISH },
};

/* Where what is really asked starts again. */
static const char *const contrasts[] = {
	"mais", "c est", "juste", "seulement", "uniquement", "simplement", "plutot", "je veux", "je voudrais",
	"je souhaite", "je cherche", "j ai besoin", "nous voulons", "nous voudrions", "nous cherchons",
	"on veut", "on voudrait", "ma question", "ma demande", "il s agit", "je demande", "but", "just", "only",
	"i need", "i want", "it s", "we need",
};

/* A denied subject is a noun group: it starts with one of these. */
static const char *const determiners[] = {
	"mon", "ma", "mes", "le", "la", "les", "l", "un", "une", "des", "du", "de", "d", "notre", "nos", "votre",
	"vos", "au", "aux", "pour", "sur", "ce", "cet", "cette", "son", "sa", "ses", "leur", "leurs", "a", "the",
	"my", "our", "a", "an", "about",
};

/* Contrasts that only link the denial to what is asked: removed with it, so that « c'est
 * mon identifiant » reads as « mon identifiant », next to the shared predicate. */
static const char *const connectors[] = { "mais", "c est", "but", "it s", "plutot", "il s agit" };

/* Where a denied noun group ends when no contrast follows. */
static const char *const group_ends[] = {
	"je", "j", "nous", "on", "il", "elle", "ils", "qui", "que", "i", "we", "which", "that",
};

struct word {
	const char *start;
	size_t len;
};

/* For speed, every phrase list is bucketed by its first byte once: a word is compared only
 * with the phrases that start with its letter. */
#define BUCKET_MAX 24
struct buckets {
	unsigned char count[256];
	unsigned char items[256][BUCKET_MAX];
};
static struct buckets marker_buckets, contrast_buckets, determiner_buckets, group_end_buckets;
static pthread_once_t buckets_once = PTHREAD_ONCE_INIT;

static void
fill_buckets(struct buckets *b, const char *const *phrases, size_t count, size_t stride)
{
	for (size_t i = 0; i < count; i++) {
		const char *p = *(const char *const *)((const char *)phrases + i * stride);
		unsigned char c = (unsigned char)p[0];
		if (b->count[c] < BUCKET_MAX)  /* the lists are far below the limit */
			b->items[c][b->count[c]++] = (unsigned char)i;
	}
}

static void
build_buckets(void)
{
	fill_buckets(&marker_buckets, &markers[0].words, sizeof(markers) / sizeof(*markers), sizeof(*markers));
	fill_buckets(&contrast_buckets, contrasts, sizeof(contrasts) / sizeof(*contrasts), sizeof(*contrasts));
	fill_buckets(&determiner_buckets, determiners, sizeof(determiners) / sizeof(*determiners), sizeof(*determiners));
	fill_buckets(&group_end_buckets, group_ends, sizeof(group_ends) / sizeof(*group_ends), sizeof(*group_ends));
}

/* Returns how many words of phrase (single spaces) match at w[i], 0 when it does not. */
static size_t
phrase_at(const struct word *w, size_t n, size_t i, const char *phrase)
{
	/* Most words start with another letter than the phrase: the common case is one test. */
	if (i >= n || w[i].start[0] != phrase[0])
		return 0;
	size_t k = 0;
	const char *p = phrase;
	while (*p) {
		const char *end = strchr(p, ' ');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (i + k >= n || w[i + k].len != len || memcmp(w[i + k].start, p, len) != 0)
			return 0;
		k++;
		p += len;
		if (*p == ' ')
			p++;
	}
	return k;
}

/* Returns true when one phrase of list (bucketed in b) matches at w[i]. */
static bool
any_at(const struct word *w, size_t n, size_t i, const struct buckets *b, const char *const *list)
{
	unsigned char c = (unsigned char)w[i].start[0];
	for (size_t k = 0; k < b->count[c]; k++)
		if (phrase_at(w, n, i, list[b->items[c][k]]) > 0)
			return true;
	return false;
}

static bool
is_contrast(const struct word *w, size_t n, size_t i)
{
	return any_at(w, n, i, &contrast_buckets, contrasts);
}

static bool
is_determiner(const struct word *w, size_t n, size_t i)
{
	return any_at(w, n, i, &determiner_buckets, determiners);
}

static bool
ends_group(const struct word *w, size_t n, size_t i)
{
	return any_at(w, n, i, &group_end_buckets, group_ends);
}

/* Marks the connector word(s) at w[i], when it is one, as removed but not denied. */
static void
drop_connector(const struct word *w, size_t n, size_t i, unsigned *drop)
{
	for (size_t c = 0; c < sizeof(connectors) / sizeof(*connectors); c++) {
		size_t k = phrase_at(w, n, i, connectors[c]);
		for (size_t j = 0; j < k; j++)
			drop[i + j] = CONNECTOR;
		if (k > 0)
			return;
	}
}

/* The first contrast in w[from .. from + reach), or n when none. */
static size_t
find_contrast(const struct word *w, size_t n, size_t from, size_t reach)
{
	for (size_t j = from; j < n && j < from + reach; j++)
		if (is_contrast(w, n, j))
			return j;
	return n;
}

/* Marks in drop[] the words of every denial (its number) and of their connectors
 * (CONNECTOR); returns the number of denials. */
static unsigned
mark_denials(const struct word *w, size_t n, unsigned *drop)
{
	unsigned spans = 0;
	pthread_once(&buckets_once, build_buckets);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)w[i].start[0];
		for (size_t b = 0; b < marker_buckets.count[c]; b++) {
			size_t m = marker_buckets.items[c][b];
			size_t k = phrase_at(w, n, i, markers[m].words);
			if (k == 0)
				continue;
			size_t from = i + k, to;
			if (markers[m].kind == DENY_SUBJECT) {
				if (from >= n || !is_determiner(w, n, from))
					break;
				/* Up to the contrast, unless a relative clause comes first: its
				 * predicate is shared (« ce n'est pas mon mot de passe que j'ai
				 * perdu, c'est mon identifiant »), only the noun group is denied. */
				size_t contrast = find_contrast(w, n, from + 1, SUBJECT_REACH);
				to = from + 1;
				while (to < n && to < contrast && !ends_group(w, n, to) &&
				       (contrast < n || to < from + SUBJECT_SHORT))
					to++;
				if (contrast < n)
					drop_connector(w, n, contrast, drop);
			} else {
				to = find_contrast(w, n, from + 1, WISH_REACH);
				if (to == n)
					break;
				drop_connector(w, n, to, drop);
			}
			spans++;
			for (size_t j = i; j < to; j++)
				drop[j] = spans;
			i = to - 1;
			break;
		}
	}
	return spans;
}

/* Every marker holds one of these words: a text without any has nothing denied. */
static bool
may_deny(const char *folded)
{
	static const char *const words[] = { "pas", "not", "inutile", "no", "don" };
	for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++) {
		size_t len = strlen(words[i]);
		for (const char *p = strstr(folded, words[i]); p != NULL; p = strstr(p + 1, words[i]))
			if ((p == folded || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0'))
				return true;
	}
	return false;
}

char *
negation_mask(char *folded)
{
	if (!may_deny(folded))
		return xstrdup("");
	struct word *w = NULL;
	size_t n = 0, cap = 0;
	for (char *p = folded; *p;) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		char *end = strchr(p, ' ');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			w = xrealloc(w, cap * sizeof(*w));
		}
		w[n++] = (struct word){ p, len };
		p += len;
	}
	unsigned *drop = xcalloc(n + 1, sizeof(*drop));  /* 0, or the number of its denial */
	unsigned spans = mark_denials(w, n, drop);
	struct strbuf denied = {0};
	if (spans > 0) {
		/* Rewrite in place: the kept words move left, the denied ones are listed. */
		char *out = folded;
		unsigned in_span = 0;
		for (size_t i = 0; i < n; i++) {
			if (drop[i] == CONNECTOR)
				continue;
			if (drop[i]) {
				if (in_span == drop[i])
					strbuf_addc(&denied, ' ');
				else if (denied.len > 0)
					strbuf_adds(&denied, " / ");
				strbuf_add(&denied, w[i].start, w[i].len);
				in_span = drop[i];
				continue;
			}
			in_span = 0;
			if (out != folded)
				*out++ = ' ';
			memmove(out, w[i].start, w[i].len);
			out += w[i].len;
		}
		*out = '\0';
	}
	free(drop);
	free(w);
	return denied.data ? strbuf_detach(&denied) : xstrdup("");
}
