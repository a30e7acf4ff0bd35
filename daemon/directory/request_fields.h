/* request_fields — what an account action needs, found in a writer's free text: an
 * e-mail address, a SIRET, a login identifier, a one-time code. Pure functions (PCRE2),
 * never log. Everything found is only a candidate: the directory decides.
 * Threads: any (the patterns are compiled once, under pthread_once). */
#ifndef DIALOGD_REQUEST_FIELDS_H
#define DIALOGD_REQUEST_FIELDS_H

#include <stdbool.h>

struct templates;

/* The first e-mail address in text, lower case (caller frees), or NULL. */
char *field_email(const char *text);
/* The first 14-digit SIRET (spaces allowed between groups) whose key is valid, into out. */
bool field_siret(const char *text, char out[15]);
/* A login identifier: the word after "identifiant" ("mon identifiant est JMOREAU01"), or,
 * when alone is true (the assistant has just asked for it), a message that is one such
 * word. An identifier has 3 to 64 letters, digits, '.', '_' or '-', and a digit or only
 * capitals. Caller frees; NULL when none. */
char *field_identifier(const char *text, bool alone);
/* A one-time code: eight digits standing alone ("12345678", "1234 5678" or "1234-5678"),
 * into out. */
bool field_code(const char *text, char out[9]);

/* text with what must not be kept, quoted or shown to a person removed: a reset link's
 * token and any bare token (43 URL-safe characters) always, and when codes_too is true
 * (a thread where a code or a reset link was sent, a chat line that may answer a code)
 * any one-time code however it is split, each replaced by the template scrub_token or
 * scrub_code of t. The one scrubber of every channel: each turns what a writer sent into
 * this before it is analysed, stored, quoted or notified. Caller frees. */
char *field_scrub_secrets(const struct templates *t, const char *text, bool codes_too);
/* text with every link a mail client would make clickable (URL, www., bare domain name)
 * replaced by the template scrub_link of t ("[lien retiré]"): what a writer wrote never
 * becomes a link in a mail that comes from OCAPIAT's address. Caller frees. */
char *field_remove_links(const struct templates *t, const char *text);

#endif
