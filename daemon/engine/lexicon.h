/* lexicon — rewrites folded text before matching: synonyms and abbreviations from
 * intents/lexicon.tsv ("mdp" → "mot de passe"), then one-typo corrections towards known
 * words ("identifinat" → "identifiant"). Pipeline: text → lexicon → intent.
 * Typo correction is explainable: a word is corrected only when it is unknown, at least
 * 6 letters long, and exactly one known word is one edit (insertion, deletion,
 * substitution or swap of two neighbours) away from it.
 * Threads: loaded by one thread; read-only afterwards, shared by all. */
#ifndef DIALOGD_LEXICON_H
#define DIALOGD_LEXICON_H

#include <stddef.h>

struct strbuf;
struct lexicon;

/* Loads a lexicon file (TAB-separated "from<TAB>to" lines, # comments). Returns NULL and
 * sets *error_r ("file:line: why", caller frees) on failure. */
struct lexicon *lexicon_load(const char *path, char **error_r);
/* An empty lexicon (no synonyms), to which known words can still be added. */
struct lexicon *lexicon_new(void);
void lexicon_free(struct lexicon **lex);

/* Adds every word of folded text to the known words. Call before lexicon_seal(). */
void lexicon_add_known_words(struct lexicon *lex, const char *folded);
/* Words starting with stem are never corrected (patterns such as "reinitialis\w*"). */
void lexicon_add_known_stem(struct lexicon *lex, const char *stem);
/* Builds the typo index; the lexicon is read-only (and thread-safe) afterwards. */
void lexicon_seal(struct lexicon *lex);

size_t lexicon_entry_count(const struct lexicon *lex);
size_t lexicon_known_word_count(const struct lexicon *lex);

/* Returns the rewritten text (caller frees). When explain is not NULL, appends one
 * "from → to" note per change, separated by ", ". */
char *lexicon_apply(const struct lexicon *lex, const char *folded, struct strbuf *explain);

#endif
