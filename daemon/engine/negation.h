/* negation — what a writer denies does not count: « ce n'est pas mon mot de passe,
 * c'est mon identifiant », « je ne veux pas changer le RIB mais savoir… », « pas besoin
 * du numéro DECA, juste du CERFA ». Works on the folded question (after lexicon, before
 * intent_match) and takes the denied words out, so the subject after « mais », « c'est »,
 * « juste » leads. Pipeline: text → lexicon → negation → intent. Never logs.
 * Threads: any (its tables are read-only once built, under pthread_once). */
#ifndef DIALOGD_NEGATION_H
#define DIALOGD_NEGATION_H

#include <stddef.h>

/* Removes the denied spans from folded (lower case, single spaces) in place. Returns the
 * words removed, each span followed by " / " when several, as a string the caller frees
 * ("" when nothing was denied). */
char *negation_mask(char *folded);

#endif
