/* pattern_prefix — reads the literal words a PCRE2 pattern's matches must start with, and
 * a word they must contain further on ("\\bmot de passe (?:\\w+ ){0,3}(?:oubli\\w*|perdu)"
 * starts with "mot de passe" and needs "oubli" or "perdu"). Used by intent to try each
 * pattern only where it can match (see pattern_index). Only necessary conditions are
 * returned: a pattern it cannot read gives -1 and is simply run on the whole text.
 * Pure string functions: no PCRE2, no logging.
 * Threads: any (pure functions). */
#ifndef DIALOGD_PATTERN_PREFIX_H
#define DIALOGD_PATTERN_PREFIX_H

#include <stdbool.h>
#include <stddef.h>

/* Literal beginnings. complete[i] says that items[i] is the whole of what its
 * alternative matches. All memory belongs to the list; prefix_list_clear() frees it. */
struct prefix_list {
	char **items;
	bool *complete;
	size_t count, cap;
};

void prefix_list_clear(struct prefix_list *l);

/* Fills out with the prefixes every match of src starts with, at a word start of folded
 * text (lower-case letters and digits separated by single spaces). Returns 0, or -1 when
 * src does not start every alternative with \\b or ^ and a readable literal. */
int pattern_start_prefixes(const char *src, struct prefix_list *out);

/* Fills out with the beginnings of a word every match of src contains after its start,
 * at a word start. Returns 0, or -1 when there is no such word to rely on. */
int pattern_required_prefixes(const char *src, struct prefix_list *out);

#endif
