/* pattern_prefix — literal prefixes and required words of PCRE2 patterns (see
 * pattern_prefix.h). The reader understands the subset intents/ uses: literals, groups
 * and alternations, optional groups, simple classes, \\d, \\b and ^; anything else (an
 * inline option, a lookaround, \\w at the start) makes it give up, never guess. */
#include "autoconf.h"
#include "engine/pattern_prefix.h"
#include "core/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static bool
is_meta(char c)
{
	return strchr("\\()[].*+?{}|^$", c) != NULL;
}

/* Length of a quantifier in braces at p ("{2}", "{0,8}", "{4,}"), or 0 when the brace is
 * a literal character, as PCRE2 reads "{" not followed by such a quantifier. *min_r
 * receives its minimum. */
static size_t
brace_quantifier(const char *p, unsigned long *min_r)
{
	if (*p != '{' || !isdigit((unsigned char)p[1]))
		return 0;
	char *end;
	unsigned long min = strtoul(p + 1, &end, 10);
	if (*end == ',') {
		end++;
		while (isdigit((unsigned char)*end))
			end++;
	}
	if (*end != '}')
		return 0;
	if (min_r != NULL)
		*min_r = min;
	return (size_t)(end + 1 - p);
}

/* Moves past a character class at p ('['): to after its closing ']', or the end. A ']'
 * right after '[' or "[^" belongs to the class; "\]" is escaped. */
static const char *
skip_class(const char *p)
{
	p++;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	while (*p && *p != ']')
		p += (*p == '\\' && p[1]) ? 2 : 1;
	return *p ? p + 1 : p;
}

/* Moves past one alternative of an alternation: to the '|' or ')' that ends it at depth 0. */
static const char *
skip_alternative(const char *p)
{
	int depth = 0;
	while (*p) {
		if (*p == '\\') {
			p += p[1] ? 2 : 1;
			continue;
		}
		if (*p == '[') {
			p = skip_class(p);
			continue;
		}
		if (*p == '(')
			depth++;
		else if (*p == ')') {
			if (depth == 0)
				return p;
			depth--;
		} else if (*p == '|' && depth == 0)
			return p;
		p++;
	}
	return p;
}


/* Longer prefixes filter better, but every combination is one more entry to check. */
#define MAX_PREFIXES_PER_PATTERN 64
#define MAX_PREFIX_LEN 48

static void
prefix_add(struct prefix_list *l, const char *s, size_t n, bool complete)
{
	if (l->count == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->items = xrealloc(l->items, l->cap * sizeof(*l->items));
		l->complete = xrealloc(l->complete, l->cap * sizeof(*l->complete));
	}
	l->complete[l->count] = complete;
	l->items[l->count++] = xstrndup(s, n);
}

void
prefix_list_clear(struct prefix_list *l)
{
	str_array_free(l->items, l->count);
	free(l->complete);
	memset(l, 0, sizeof(*l));
}

static void
prefix_list_move(struct prefix_list *to, struct prefix_list *from)
{
	for (size_t i = 0; i < from->count; i++) {
		prefix_add(to, from->items[i], strlen(from->items[i]), from->complete[i]);
	}
	prefix_list_clear(from);
}

static int alternation_prefixes(const char **pp, bool need_boundary, struct prefix_list *out);
static int sequence_prefixes(const char *p, struct prefix_list *out);

/* Expands a simple character class ("[a-z]", "[0-9]", "[ab]") into one-letter
 * alternatives. Returns the position after ']', or NULL for a class it does not expand. */
static const char *
class_prefixes(const char *p, struct prefix_list *out)
{
	p++;  /* '[' */
	if (*p == '^' || *p == ']')
		return NULL;
	while (*p && *p != ']') {
		unsigned char from = (unsigned char)*p, to = from;
		if (!isalnum(from))
			return NULL;
		if (p[1] == '-' && p[2] && p[2] != ']') {
			to = (unsigned char)p[2];
			if (!isalnum(to) || to < from)
				return NULL;
			p += 3;
		} else {
			p++;
		}
		for (unsigned c = from; c <= to; c++) {
			char ch = (char)c;
			prefix_add(out, &ch, 1, true);
		}
	}
	return *p == ']' ? p + 1 : NULL;
}

static bool
is_zero_quantifier(const char *p)
{
	unsigned long min = 1;
	return *p == '?' || *p == '*' || (brace_quantifier(p, &min) > 0 && min == 0);
}

static bool
is_quantifier(const char *p)
{
	return *p == '?' || *p == '*' || *p == '+' || brace_quantifier(p, NULL) > 0;
}

/* cur := every item of cur followed by every item of next (both complete so far). Returns
 * -1, leaving cur alone, when that would make too many or too long prefixes. */
static int
prefix_cross(struct prefix_list *cur, const struct prefix_list *next, bool *all_complete_r)
{
	bool at_start = cur->count == 1 && cur->items[0][0] == '\0';
	if (!at_start && cur->count * next->count > MAX_PREFIXES_PER_PATTERN)
		return -1;  /* an alternation at the start is no product: take it whole */
	struct prefix_list out = {0};
	bool all = true;
	for (size_t i = 0; i < cur->count; i++) {
		for (size_t k = 0; k < next->count; k++) {
			size_t a = strlen(cur->items[i]), b = strlen(next->items[k]);
			if (a + b > MAX_PREFIX_LEN) {
				prefix_list_clear(&out);
				return -1;
			}
			char *joined = xasprintf("%s%s", cur->items[i], next->items[k]);
			prefix_add(&out, joined, a + b, next->complete[k]);
			all &= next->complete[k];
			free(joined);
		}
	}
	prefix_list_clear(cur);
	*cur = out;
	*all_complete_r = all;
	return 0;
}

static void
mark_incomplete(struct prefix_list *l)
{
	for (size_t i = 0; i < l->count; i++)
		l->complete[i] = false;
}

/* Moves past zero-width assertions (\b, ^): they take no part in a beginning. */
static const char *
skip_assertions(const char *p)
{
	while ((p[0] == '\\' && p[1] == 'b') || p[0] == '^')
		p += p[0] == '^' ? 1 : 2;
	return p;
}

/* Length of the run of literal characters at p (0 when p is on a metacharacter). */
static size_t
literal_run(const char *p)
{
	const char *start = p;
	while (*p && !is_meta(*p))
		p++;
	return (size_t)(p - start);
}

/* cur := cur followed by the literal run of len characters at start. Returns true when
 * the walk may go on after the run, false when it stops here (a quantifier follows, the
 * run is only an optional letter, or too many prefixes); *extendable_r is updated when
 * the run was added. */
static bool
cross_literal(struct prefix_list *cur, const char *start, size_t len, bool *extendable_r)
{
	size_t n = len;
	bool quantified = is_quantifier(start + len);
	if (is_zero_quantifier(start + len))
		n--;  /* the last letter may be absent */
	if (n == 0)
		return false;
	struct prefix_list next = {0};
	prefix_add(&next, start, n, !quantified);
	bool all_complete = false;
	int rc = prefix_cross(cur, &next, &all_complete);
	prefix_list_clear(&next);
	if (rc < 0)
		return false;
	*extendable_r = all_complete;
	return !quantified;
}

/* The beginnings of the element at p that is not a literal: \d, a class or a group, into
 * next. Returns the position after it, or NULL for an element it cannot spell out. */
static const char *
element_prefixes(const char *p, struct prefix_list *next)
{
	if (p[0] == '\\' && p[1] == 'd') {
		for (char c = '0'; c <= '9'; c++)
			prefix_add(next, &c, 1, true);
		return p + 2;
	}
	if (p[0] == '[')
		return class_prefixes(p, next);
	if (p[0] == '(' && (p[1] != '?' || p[2] == ':')) {
		const char *q = p + (p[1] == '?' ? 3 : 1);
		if (alternation_prefixes(&q, false, next) == 0 && *q == ')')
			return q + 1;
		prefix_list_clear(next);
	}
	return NULL;
}

/* An optional group first ("(?:a|b)?rest"): a match starts with it or with what follows,
 * so out receives the group's beginnings (next), incomplete, and those of rest. Frees
 * next and cur. Returns 0, or -1 when rest could start with anything. */
static int
optional_first_prefixes(const char *rest, struct prefix_list *next, struct prefix_list *cur,
			struct prefix_list *out)
{
	struct prefix_list after = {0};
	if (sequence_prefixes(rest, &after) < 0) {
		prefix_list_clear(&after);
		prefix_list_clear(next);
		prefix_list_clear(cur);
		return -1;
	}
	mark_incomplete(next);
	prefix_list_move(next, &after);
	prefix_list_clear(cur);
	prefix_list_move(out, next);
	return 0;
}

/* cur := cur followed by next, the beginnings of an element that ends at after. Returns
 * true when the walk may go on after it; frees next either way. */
static bool
cross_element(struct prefix_list *cur, struct prefix_list *next, const char *after, bool *extendable_r)
{
	bool go_on = false;
	if (after != NULL && next->count > 0 && !is_zero_quantifier(after)) {
		if (is_quantifier(after))
			mark_incomplete(next);  /* "x+" or "(a|b){2}": its first copy is certain */
		bool all_complete = false;
		if (prefix_cross(cur, next, &all_complete) == 0) {
			*extendable_r = all_complete;
			go_on = !is_quantifier(after);
		}
	}
	prefix_list_clear(next);
	return go_on;
}

/* The walk is over: cur's prefixes go to out, incomplete unless the whole alternative was
 * spelled out. Returns -1, dropping them, when one could start with anything. */
static int
sequence_result(struct prefix_list *cur, bool reached_end, struct prefix_list *out)
{
	for (size_t i = 0; i < cur->count; i++) {
		if (cur->items[i][0] == '\0' || !isalnum((unsigned char)cur->items[i][0])) {
			prefix_list_clear(cur);
			return -1;
		}
	}
	if (!reached_end)
		mark_incomplete(cur);
	prefix_list_move(out, cur);
	return 0;
}

/* The literal beginnings of the sequence at p (one alternative, up to '|', ')' or the
 * end), appended to out. Returns 0, or -1 when a match could start with anything (\w,
 * ".", a negated class…). A beginning is only a necessary condition: zero-width
 * assertions (\b, ^) are skipped, and the walk stops at the first element it cannot
 * spell out. */
static int
sequence_prefixes(const char *p, struct prefix_list *out)
{
	struct prefix_list cur = {0};
	prefix_add(&cur, "", 0, true);
	bool extendable = true;  /* every item of cur is complete */
	bool reached_end = false; /* the whole alternative was spelled out */
	while (extendable) {
		p = skip_assertions(p);
		if (*p == '\0' || *p == '|' || *p == ')') {
			reached_end = true;
			break;
		}
		size_t run = literal_run(p);
		if (run > 0) {
			if (!cross_literal(&cur, p, run, &extendable))
				break;
			p += run;
			continue;
		}
		struct prefix_list next = {0};
		const char *after = element_prefixes(p, &next);
		if (p[0] == '(' && after != NULL && *after == '?' && after[1] != '?' && after[1] != '+' &&
		    cur.count == 1 && cur.items[0][0] == '\0')
			return optional_first_prefixes(after + 1, &next, &cur, out);
		if (!cross_element(&cur, &next, after, &extendable))
			break;  /* cannot spell what comes next: cur is what we know */
		p = after;
	}
	return sequence_result(&cur, reached_end, out);
}

/* Every alternative of the alternation at *pp; leaves *pp on the closing ')' or the end. */
static int
alternation_prefixes(const char **pp, bool need_boundary, struct prefix_list *out)
{
	const char *p = *pp;
	for (;;) {
		if (need_boundary) {
			/* Each top-level alternative must start at a word start. */
			if (p[0] == '^')
				p++;
			else if (p[0] == '\\' && p[1] == 'b')
				p += 2;
			else
				return -1;
		}
		if (sequence_prefixes(p, out) < 0)
			return -1;
		p = skip_alternative(p);
		if (*p != '|')
			break;
		p++;
	}
	*pp = p;
	return 0;
}



/* Moves past one element of a pattern at p (a literal word, an escape, a class, a group)
 * and its quantifier. Returns the end, or NULL on unbalanced parentheses; *optional_r
 * tells whether the element may be absent. */
static const char *
skip_element(const char *p, bool *optional_r)
{
	if (*p == '\\') {
		p += p[1] ? 2 : 1;
	} else if (*p == '[') {
		p = skip_class(p);
	} else if (*p == '(') {
		int depth = 0;
		for (p++; *p && !(*p == ')' && depth == 0); p++) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '[')
				p = skip_class(p) - 1;  /* a ')' in a class closes nothing */
			else if (*p == '(')
				depth++;
			else if (*p == ')')
				depth--;
		}
		if (*p == '\0')
			return NULL;
		p++;
	} else if (isalnum((unsigned char)*p)) {
		while (*p && !is_meta(*p) && *p != ' ')
			p++;
	} else {
		p++;
	}
	*optional_r = false;
	unsigned long min = 1;
	size_t brace = brace_quantifier(p, &min);
	if (*p == '?' || *p == '*') {
		*optional_r = true;
		p++;
	} else if (brace > 0) {
		*optional_r = min == 0;
		p += brace;
	} else if (*p == '+') {
		p++;
	}
	if (*p == '?' || *p == '+')
		p++;  /* lazy or possessive */
	return p;
}

/* Finds the last element of a pattern that every match needs and that starts a word
 * ("rupture" in "\bcontrat (?:\w+ ){0,8}(?:rupture|fin)\b"), and returns its literal
 * beginnings. A pattern is only worth trying where it starts if one of them is in the
 * text: most candidates fail there, after trying every gap of "(?:\w+ ){0,8}". */
/* Finds the last element of a pattern that every match needs and that starts a word
 * ("rupture" in "\bcontrat (?:\w+ ){0,8}(?:rupture|fin)\b"), and returns its literal
 * beginnings. A pattern is only worth trying where it starts if one of them is in the
 * text: most candidates fail there, after trying every gap of "(?:\w+ ){0,8}". */
static int
requirement_prefixes(const char *src, struct prefix_list *out)
{
	const char *last = NULL;   /* the last mandatory element starting a word */
	size_t elements = 0;
	const char *p = src;
	bool word_start = true;    /* every match has a word start where the next element begins */
	while (*p) {
		if (*p == '|')
			return -1;  /* top-level alternation: no single requirement */
		if (p[0] == '\\' && p[1] == 'b') {
			p += 2;
			word_start = true;
			continue;
		}
		const char *start = p;
		bool optional;
		p = skip_element(p, &optional);
		if (p == NULL)
			return -1;
		/* The element ends with a space (" ", "(?:\w+ )"): a word starts after it. */
		const char *e = p - 1;
		while (e > start && strchr("}?*+,{0123456789", *e) != NULL)
			e--;
		bool ends_with_space = *e == ' ' || (*e == ')' && e > start && e[-1] == ' ');
		if (!optional && word_start && elements > 0 &&
		    (*start == '(' || isalnum((unsigned char)*start)))
			last = start;
		/* An element that may be absent leaves a word start only if both ways do. */
		word_start = optional ? word_start && ends_with_space : ends_with_space;
		elements++;
	}
	if (last == NULL)
		return -1;
	struct prefix_list found = {0};
	const char *q = last;
	int rc;
	if (*q == '(') {
		q += q[1] == '?' ? (q[2] == ':' ? 3 : 0) : 1;
		if (q == last)
			return -1;
		rc = alternation_prefixes(&q, false, &found);
	} else {
		rc = sequence_prefixes(q, &found);
	}
	if (rc < 0) {
		prefix_list_clear(&found);
		return -1;
	}
	prefix_list_move(out, &found);
	return 0;
}

/* Reading literals out of a pattern assumes they mean themselves: inline options
 * ("(?i)", "(?x)"), verbs ("(*…)") and branch resets change that, so such a pattern is
 * simply run on the whole text. */
static bool
literal_reading_is_safe(const char *src)
{
	static const char *const unsafe[] = { "(?i", "(?x", "(?s", "(?m", "(?n", "(?-", "(?^", "(?|", "(*", "\\Q" };
	for (size_t i = 0; i < sizeof(unsafe) / sizeof(*unsafe); i++)
		if (strstr(src, unsafe[i]) != NULL)
			return false;
	return true;
}

/* Folded text has lower-case letters and digits at word starts: a prefix starting with
 * anything else could never be met by the walk. */
static bool
prefixes_fit_folded_text(const struct prefix_list *l)
{
	for (size_t i = 0; i < l->count; i++) {
		unsigned char c = (unsigned char)l->items[i][0];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			return false;
	}
	return l->count > 0;
}

int
pattern_start_prefixes(const char *src, struct prefix_list *out)
{
	const char *p = src;
	if (!literal_reading_is_safe(src) || alternation_prefixes(&p, true, out) < 0 || *p != '\0' ||
	    !prefixes_fit_folded_text(out)) {
		prefix_list_clear(out);
		return -1;
	}
	return 0;
}

int
pattern_required_prefixes(const char *src, struct prefix_list *out)
{
	if (!literal_reading_is_safe(src) || requirement_prefixes(src, out) < 0 || !prefixes_fit_folded_text(out)) {
		prefix_list_clear(out);
		return -1;
	}
	return 0;
}
