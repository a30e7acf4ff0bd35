/* mail_markers — the subjects and body sentences that mark a mail written by a program
 * when no header says so: out-of-office replies in Outlook's, Exchange's and Lotus Notes'
 * languages, read receipts, delivery notices, challenge-response systems. Read from a
 * data file an operator extends (intents/autoreply.tsv, its format in
 * intents/autoreply.md); used by mail_policy. Lower layer: never logs.
 * Threads: loaded once by the main thread, then read-only and shared by every thread. */
#ifndef DIALOGD_MAIL_MARKERS_H
#define DIALOGD_MAIL_MARKERS_H

#include <stddef.h>

struct mail_markers;

/* Loads a marker file. Every bad line is reported at once in *error_r ("file:line:
 * message", one per line, caller frees) and then NULL is returned. */
struct mail_markers *mail_markers_load(const char *path, char **error_r);
void mail_markers_free(struct mail_markers **markers);

/* How many markers the file holds. */
size_t mail_markers_count(const struct mail_markers *markers);

/* The first marker the subject or the body (both valid UTF-8; either may be NULL)
 * matches, as a reason for the log and `dialogctl threads` (borrowed from markers, e.g.
 * "automatic reply by its subject: \"Réponse automatique :*\" (autoreply.tsv:12)"), or
 * NULL. Case, accents, Unicode compatibility forms (NBSP, full-width colon) and spaces
 * around a colon do not matter. Only the start of the body's own text is read (quoted
 * history and forwarded messages set aside, as the engine sets them aside). */
const char *mail_markers_match(const struct mail_markers *markers, const char *subject, const char *body);

/* The text in matching form (what both markers and mail are compared in): caller frees. */
char *mail_markers_normalise(const char *s, size_t len);

#endif
