/* lexicon — synonym rewriting and one-typo correction (see lexicon.h).
 * Typo lookup uses a deletion index (every known word with one letter removed), so a
 * lookup costs one hash probe per letter of the unknown word, not a scan of the words. */
#include "autoconf.h"
#include "engine/lexicon.h"
#include "core/strmap.h"
#include "core/text.h"
#include "core/util.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MIN_TYPO_WORD_LEN 6
#define MAX_TYPO_WORD_LEN 40

struct lexicon_entry {
	char *from;             /* folded words */
	char *to;               /* folded words */
	size_t from_len;
	struct lexicon_entry *next_same_first; /* longer phrases first */
};

struct lexicon {
	struct lexicon_entry *entries;
	size_t entry_count;
	struct strmap *by_first_word;   /* first word of from → entry list */
	struct strmap *known;           /* word → its own key copy in words[] */
	char **words;                   /* known words, owned */
	size_t word_count, word_cap;
	/* After lexicon_seal(): one table answering both questions about a string (is it a
	 * known word, which known word loses one letter to become it), so that correcting a
	 * word costs one lookup per letter. Values are indices + 1 into lookups. */
	struct strmap *sealed_map;
	struct lookup {
		const char *known;                      /* the known word itself, or NULL */
		const char *deletion_of;                /* known word minus one letter, &ambiguous, NULL */
		const struct lexicon_entry *synonyms;   /* entries whose first word this is */
	} *lookups;
	size_t lookup_count, lookup_cap;
	struct strmap *stems;           /* known beginnings of words */
	size_t max_stem_len;
	bool sealed;
};

static char ambiguous;  /* sentinel value: several known words share this deletion */

struct lexicon *
lexicon_new(void)
{
	struct lexicon *lex = xcalloc(1, sizeof(*lex));
	lex->by_first_word = strmap_new();
	lex->known = strmap_new();
	lex->stems = strmap_new();
	return lex;
}

void
lexicon_free(struct lexicon **lexp)
{
	struct lexicon *lex = *lexp;
	if (lex == NULL)
		return;
	for (size_t i = 0; i < lex->entry_count; i++) {
		free(lex->entries[i].from);
		free(lex->entries[i].to);
	}
	free(lex->entries);
	str_array_free(lex->words, lex->word_count);
	strmap_free(&lex->by_first_word);
	strmap_free(&lex->known);
	strmap_free(&lex->sealed_map);
	free(lex->lookups);
	strmap_free(&lex->stems);
	free(lex);
	*lexp = NULL;
}

static size_t
first_word_len(const char *s)
{
	const char *sp = strchr(s, ' ');
	return sp ? (size_t)(sp - s) : strlen(s);
}

static void
add_known_word(struct lexicon *lex, const char *w, size_t n)
{
	if (n == 0 || strmap_get(lex->known, w, n) != NULL)
		return;
	if (lex->word_count == lex->word_cap) {
		lex->word_cap = lex->word_cap ? lex->word_cap * 2 : 256;
		lex->words = xrealloc(lex->words, lex->word_cap * sizeof(*lex->words));
	}
	char *copy = xstrndup(w, n);
	lex->words[lex->word_count++] = copy;
	strmap_put(lex->known, copy, n, copy);
}

void
lexicon_add_known_words(struct lexicon *lex, const char *folded)
{
	const char *p = folded;
	while (*p) {
		while (*p == ' ')
			p++;
		size_t n = first_word_len(p);
		add_known_word(lex, p, n);
		p += n;
	}
}

void
lexicon_add_known_stem(struct lexicon *lex, const char *stem)
{
	size_t n = strlen(stem);
	strmap_put(lex->stems, stem, n, lex);
	if (n > lex->max_stem_len)
		lex->max_stem_len = n;
}

static bool
has_known_stem(const struct lexicon *lex, const char *w, size_t n)
{
	size_t max = n < lex->max_stem_len ? n : lex->max_stem_len;
	for (size_t k = 4; k <= max; k++)
		if (strmap_get(lex->stems, w, k) != NULL)
			return true;
	return false;
}

static bool
has_digit(const char *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (w[i] >= '0' && w[i] <= '9')
			return true;
	return false;
}

static void
sealed_put(struct lexicon *lex, const char *key, size_t n, const char *known, const char *deletion_of)
{
	uintptr_t slot = (uintptr_t)strmap_get(lex->sealed_map, key, n);
	if (slot == 0) {
		if (lex->lookup_count == lex->lookup_cap) {
			lex->lookup_cap = lex->lookup_cap ? lex->lookup_cap * 2 : 1024;
			lex->lookups = xrealloc(lex->lookups, lex->lookup_cap * sizeof(*lex->lookups));
		}
		lex->lookups[lex->lookup_count] = (struct lookup){ NULL, NULL, NULL };
		slot = ++lex->lookup_count;
		strmap_put(lex->sealed_map, key, n, (void *)slot);
	}
	struct lookup *l = &lex->lookups[slot - 1];
	if (known != NULL)
		l->known = known;
	if (deletion_of != NULL)
		l->deletion_of = deletion_of;
}

static const struct lookup *
sealed_get(const struct lexicon *lex, const char *key, size_t n)
{
	uintptr_t slot = (uintptr_t)strmap_get(lex->sealed_map, key, n);
	return slot ? &lex->lookups[slot - 1] : NULL;
}

void
lexicon_seal(struct lexicon *lex)
{
	char buf[MAX_TYPO_WORD_LEN + 1];
	lex->sealed_map = strmap_new();
	for (size_t i = 0; i < lex->word_count; i++)
		sealed_put(lex, lex->words[i], strlen(lex->words[i]), lex->words[i], NULL);
	for (size_t i = 0; i < lex->entry_count; i++) {
		const struct lexicon_entry *e = &lex->entries[i];
		size_t n = first_word_len(e->from);
		const struct lexicon_entry *head = strmap_get(lex->by_first_word, e->from, n);
		sealed_put(lex, e->from, n, NULL, NULL);
		lex->lookups[(uintptr_t)strmap_get(lex->sealed_map, e->from, n) - 1].synonyms = head;
	}
	for (size_t i = 0; i < lex->word_count; i++) {
		const char *w = lex->words[i];
		size_t n = strlen(w);
		if (n < MIN_TYPO_WORD_LEN - 1 || n > MAX_TYPO_WORD_LEN || has_digit(w, n))
			continue;
		for (size_t k = 0; k < n; k++) {
			memcpy(buf, w, k);
			memcpy(buf + k, w + k + 1, n - k - 1);
			const struct lookup *l = sealed_get(lex, buf, n - 1);
			const char *prev = l ? l->deletion_of : NULL;
			if (prev == NULL)
				sealed_put(lex, buf, n - 1, NULL, w);
			else if (prev != w)
				sealed_put(lex, buf, n - 1, NULL, &ambiguous);
		}
	}
	lex->sealed = true;
}

static int
compare_entries(const void *a, const void *b)
{
	const struct lexicon_entry *x = a, *y = b;
	int c = strcmp(x->from, y->from);
	return c;
}

/* One line of path (CR stripped, len its length): a blank or comment line is skipped,
 * "from<TAB>to" becomes an entry of lex (capacity *cap), anything else appends a
 * "path:line: why" error to errors. */
static void
parse_line(struct lexicon *lex, size_t *cap, char *line, size_t len, const char *path, unsigned lineno,
	   struct strbuf *errors)
{
	const char *t = line;
	while (*t == ' ' || *t == '\t')
		t++;
	if (*t == '\0' || *t == '#')
		return;
	char *err = NULL;
	if (text_validate(line, len, &err) < 0) {
		strbuf_addf(errors, "%s:%u: %s\n", path, lineno, err);
		free(err);
		return;
	}
	char *tab = strchr(line, '\t');
	if (tab == NULL) {
		strbuf_addf(errors, "%s:%u: expected \"from<TAB>to\"\n", path, lineno);
		return;
	}
	*tab = '\0';
	char *from = text_fold(line, strlen(line), NULL);
	char *to = text_fold(tab + 1, strlen(tab + 1), NULL);
	if (from[0] == '\0' || to[0] == '\0') {
		strbuf_addf(errors, "%s:%u: empty %s\n", path, lineno, from[0] ? "replacement" : "word");
		free(from);
		free(to);
		return;
	}
	if (lex->entry_count == *cap) {
		*cap = *cap ? *cap * 2 : 128;
		lex->entries = xrealloc(lex->entries, *cap * sizeof(*lex->entries));
	}
	struct lexicon_entry *e = &lex->entries[lex->entry_count++];
	e->from = from;
	e->to = to;
	e->from_len = strlen(from);
	e->next_same_first = NULL;
	lexicon_add_known_words(lex, from);
	lexicon_add_known_words(lex, to);
}

/* Index by first word, longest phrase first, so the longest match wins. */
static void
index_entries(struct lexicon *lex)
{
	if (lex->entry_count > 0)
		qsort(lex->entries, lex->entry_count, sizeof(*lex->entries), compare_entries);
	for (size_t i = lex->entry_count; i-- > 0;) {
		struct lexicon_entry *e = &lex->entries[i];
		size_t n = first_word_len(e->from);
		struct lexicon_entry *head = strmap_get(lex->by_first_word, e->from, n);
		if (head == NULL || head->from_len <= e->from_len) {
			e->next_same_first = head;
			strmap_put(lex->by_first_word, e->from, n, e);
		} else {
			struct lexicon_entry *p = head;
			while (p->next_same_first && p->next_same_first->from_len > e->from_len)
				p = p->next_same_first;
			e->next_same_first = p->next_same_first;
			p->next_same_first = e;
		}
	}
}

struct lexicon *
lexicon_load(const char *path, char **error_r)
{
	char *data = file_read_all(path, 4 * 1024 * 1024, NULL, error_r);
	if (data == NULL)
		return NULL;
	struct lexicon *lex = lexicon_new();
	struct strbuf errors = {0};
	size_t cap = 0;
	unsigned lineno = 0;
	for (char *line = data, *next; line != NULL; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		size_t len = strlen(line);
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		parse_line(lex, &cap, line, len, path, lineno, &errors);
	}
	free(data);
	if (errors.len > 0) {
		errors.data[errors.len - 1] = '\0';
		*error_r = strbuf_detach(&errors);
		lexicon_free(&lex);
		return NULL;
	}
	index_entries(lex);
	return lex;
}

size_t
lexicon_entry_count(const struct lexicon *lex)
{
	return lex->entry_count;
}

size_t
lexicon_known_word_count(const struct lexicon *lex)
{
	return lex->word_count;
}

/* Optimal string alignment distance, capped: returns a value > 1 as soon as it is known
 * to exceed 1. */
static int
edit_distance_le1(const char *a, size_t n, const char *b, size_t m)
{
	if (n > m + 1 || m > n + 1)
		return 2;
	size_t i = 0;
	while (i < n && i < m && a[i] == b[i])
		i++;
	if (i == n && i == m)
		return 0;
	if (n == m) {
		if (strncmp(a + i + 1, b + i + 1, n - i - 1) == 0)
			return 1;  /* substitution */
		if (i + 1 < n && a[i] == b[i + 1] && a[i + 1] == b[i] &&
		    strncmp(a + i + 2, b + i + 2, n - i - 2) == 0)
			return 1;  /* swap of neighbours */
		return 2;
	}
	if (n > m)
		return strncmp(a + i + 1, b + i, m - i) == 0 ? 1 : 2;
	return strncmp(a + i, b + i + 1, n - i) == 0 ? 1 : 2;
}

/* "essai"/"essais", "social"/"sociale": a final s or e is inflection, not a typing error,
 * and "correcting" it would change a valid word into another. */
static bool
differs_by_inflection(const char *w, size_t n, const char *c, size_t m)
{
	if (n + 1 == m && strncmp(w, c, n) == 0)
		return c[n] == 's' || c[n] == 'e';
	if (m + 1 == n && strncmp(w, c, m) == 0)
		return w[m] == 's' || w[m] == 'e';
	return false;
}

/* Returns the unique known word one edit away from w, or NULL. */
static const char *
correct_word(const struct lexicon *lex, const char *w, size_t n)
{
	if (n < MIN_TYPO_WORD_LEN || n > MAX_TYPO_WORD_LEN || has_digit(w, n))
		return NULL;
	const char *found = NULL;
	char buf[MAX_TYPO_WORD_LEN + 1];
#define CONSIDER(cand) do { \
		const char *c_ = (cand); \
		if (c_ == &ambiguous) return NULL; \
		if (c_ != NULL && c_ != found) { \
			if (edit_distance_le1(w, n, c_, strlen(c_)) == 1 && \
			    !differs_by_inflection(w, n, c_, strlen(c_))) { \
				if (found != NULL) return NULL; \
				found = c_; \
			} \
		} \
	} while (0)
	const struct lookup *l = sealed_get(lex, w, n);
	if (l != NULL)
		CONSIDER(l->deletion_of);                        /* a letter is missing */
	for (size_t k = 0; k < n; k++) {
		memcpy(buf, w, k);
		memcpy(buf + k, w + k + 1, n - k - 1);
		l = sealed_get(lex, buf, n - 1);
		if (l == NULL)
			continue;
		CONSIDER(l->known);                              /* a letter too many */
		CONSIDER(l->deletion_of);                        /* wrong or swapped letter */
	}
#undef CONSIDER
	return found;
}

static void
note_change(struct strbuf *explain, const char *from, size_t n, const char *to)
{
	if (explain == NULL)
		return;
	if (explain->len > 0)
		strbuf_adds(explain, ", ");
	strbuf_add(explain, from, n);
	strbuf_adds(explain, " \xE2\x86\x92 ");
	strbuf_adds(explain, to);
}

char *
lexicon_apply(const struct lexicon *lex, const char *folded, struct strbuf *explain)
{
	struct strbuf out = {0};
	strbuf_reserve(&out, strlen(folded) + 32);
	const char *p = folded;
	while (*p) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		size_t n = first_word_len(p);
		if (out.len > 0)
			strbuf_addc(&out, ' ');
		const struct lookup *seen = lex->sealed ? sealed_get(lex, p, n) : NULL;
		const struct lexicon_entry *e = lex->sealed ? (seen ? seen->synonyms : NULL) :
					       strmap_get(lex->by_first_word, p, n);
		for (; e != NULL; e = e->next_same_first) {
			if (strncmp(p, e->from, e->from_len) == 0 && (p[e->from_len] == ' ' || p[e->from_len] == '\0'))
				break;
		}
		if (e != NULL) {
			strbuf_adds(&out, e->to);
			if (strcmp(e->from, e->to) != 0)
				note_change(explain, e->from, e->from_len, e->to);
			p += e->from_len;
			continue;
		}
		const char *fixed = NULL;
		if (lex->sealed && (seen == NULL || seen->known == NULL)) {
			fixed = correct_word(lex, p, n);
			if (fixed != NULL && has_known_stem(lex, p, n))
				fixed = NULL;  /* checked last: corrections are rare, stems cost lookups */
		}
		if (fixed != NULL) {
			/* The corrected word may itself be a synonym: "forgott" → "forgot" → "oublie". */
			size_t fn = strlen(fixed);
			for (e = strmap_get(lex->by_first_word, fixed, fn); e != NULL; e = e->next_same_first)
				if (e->from_len == fn && strcmp(e->from, fixed) == 0)
					break;
			const char *to = e != NULL ? e->to : fixed;
			strbuf_adds(&out, to);
			note_change(explain, p, n, to);
		} else {
			strbuf_add(&out, p, n);
		}
		p += n;
	}
	return strbuf_detach(&out);
}
