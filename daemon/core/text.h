/* text — UTF-8 validation and the two texts the matcher sees.
 * Pipeline: (mime →) text → lexicon → intent. Lower layer: never logs, reports through *error_r.
 * "Folded" text is what patterns match: case folded, accents removed (Unicode NFKD and
 * mark stripping by utf8proc), cut into words of letters and digits joined by single spaces.
 * The original text is never modified; callers keep it for display.
 * Threads: any (pure functions, no shared state). */
#ifndef DIALOGD_TEXT_H
#define DIALOGD_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Returns 0 when s[0..len) is valid UTF-8 without NUL bytes, else -1 and *error_r
 * (caller frees) naming the byte offset. */
int text_validate(const char *s, size_t len, char **error_r);

/* Reads a whole file of valid UTF-8 text (no NUL byte), at most max_size bytes. Returns
 * it (caller frees), or NULL and *error_r ("path: why", caller frees). */
char *text_read_file(const char *path, size_t max_size, size_t *len_r, char **error_r);

/* Folds valid UTF-8 into matching form ("J’ai oublié mon MDP !" → "j ai oublie mon mdp").
 * s must have passed text_validate. Returns a new string (caller frees); *words_r, when
 * not NULL, receives the number of words. */
char *text_fold(const char *s, size_t len, size_t *words_r);

/* Returns a copy of the message without what is not the writer's question: quoted
 * history (French, Outlook and "> " styles), forwarded headers, the signature and the
 * closing formula with everything after it, legal disclaimers, and a greeting line.
 * The result keeps the original characters and line breaks (caller frees). */
char *text_strip_noise(const char *s);
/* The same, also returning (when not NULL, caller frees) the folded whole message and
 * the folded question, computed in the same pass. */
char *text_strip_noise_folded(const char *s, char **full_folded_r, char **question_folded_r);

/* Removes greeting and politeness words from folded text in place ("bonjour",
 * "merci d avance", "svp", "cordialement"); returns the number of words left. */
size_t text_strip_politeness(char *folded);

/* Counts the words of folded text. */
size_t text_count_words(const char *folded);

/* Turns the two characters '\' 'n' into a line break, in place (the line format of
 * dialogctl classify and of eval files). Returns the new length. */
size_t text_unescape_newlines(char *s);

/* The first line of valid UTF-8 text, at most max bytes, cut on a character boundary (a
 * thread's subject from a chat message). Caller frees. */
char *text_first_line(const char *text, size_t max);

/* Appends the UTF-8 encoding of code point cp (a valid scalar value) to sb. */
struct strbuf;
void text_add_codepoint(struct strbuf *sb, int32_t cp);

#endif
