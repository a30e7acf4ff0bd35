/* dossier_number — finds what may be dossier numbers in a writer's free text:
 * "AF-2023-018745", "dossier n° 2024-001234", "ma demande 1234567". A SIRET (14 digits),
 * a SIREN (9) or a French phone number is not one. Pure function (PCRE2), never logs.
 * Threads: any (the pattern is compiled once, under pthread_once). */
#ifndef DIALOGD_DOSSIER_NUMBER_H
#define DIALOGD_DOSSIER_NUMBER_H

#include <stddef.h>

/* Writes up to max candidates (upper case, caller frees each) in the order they appear,
 * without repeats. Returns how many. */
size_t dossier_numbers(const char *text, char **out, size_t max);

#endif
