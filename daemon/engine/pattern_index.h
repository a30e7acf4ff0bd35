/* pattern_index — where, in a folded text, each pattern may start. intent registers every
 * literal prefix of its patterns (pattern_prefix) here; one walk over the text, word
 * start by word start, through a trie of those prefixes, lists the (pattern, position)
 * pairs worth trying and the required words present. Read-only once frozen: threads
 * share it; the walk writes only into the caller's buffers. Never logs. */
#ifndef DIALOGD_PATTERN_INDEX_H
#define DIALOGD_PATTERN_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pattern_index;

/* Which texts a pattern sees: the question, the whole message, or (for the walk) both. */
enum { PATTERN_INDEX_QUESTION = 1, PATTERN_INDEX_FULL = 2 };

struct pattern_candidate {
	uint32_t index;         /* the pattern's index, as registered */
	uint32_t pos;           /* where in text it may start */
	const char *text;       /* the text walked (borrowed) */
	size_t len;
	void *payload;          /* as registered */
};

struct pattern_candidates {
	struct pattern_candidate *items;  /* the caller's buffer, grown as needed; caller frees */
	size_t count, cap;
};

struct pattern_index *pattern_index_new(void);
void pattern_index_free(struct pattern_index **ix);

/* Registers prefix (copied) for pattern index. owner is its intent (-1: always active);
 * requirement: a word it needs further on rather than where it starts; full_scope: it
 * sees the whole message rather than the question. */
void pattern_index_add(struct pattern_index *ix, const char *prefix, uint32_t index, int32_t owner,
		       bool requirement, bool full_scope, void *payload);
/* Lays the trie out for walking; no pattern_index_add() afterwards. */
void pattern_index_freeze(struct pattern_index *ix);

/* Walks folded text for the patterns of scopes (PATTERN_INDEX_QUESTION and/or _FULL) whose
 * owner is active: appends their possible starts to out and sets required_seen[index] for
 * the required words present. */
void pattern_index_walk(const struct pattern_index *ix, const char *text, size_t len, int scopes,
			const unsigned char *active, unsigned char *required_seen, struct pattern_candidates *out);

#endif
