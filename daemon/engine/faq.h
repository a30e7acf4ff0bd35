/* faq — loads faq-data/: one <id>.faq file per FAQ question, with the text common to
 * everybody and the MonCompte (entreprise) and PartNet (organisme) variants.
 * Pipeline: intent → dialog → faq (the answer) → templates. Lower layer: never logs.
 * Cross-references {{voir:ID}} are resolved at load time to the other question's title.
 * Threads: loaded by one thread; read-only afterwards, shared by all. */
#ifndef DIALOGD_FAQ_H
#define DIALOGD_FAQ_H

#include <stddef.h>

struct faq;

struct faq_entry {
	const char *id;
	const char *question;    /* the FAQ's own title */
	const char *common;      /* for everybody; "" when none */
	const char *entreprise;  /* MonCompte variant; NULL when the FAQ has none */
	const char *organisme;   /* PartNet variant; NULL when the FAQ has none */
	const char *file;
};

/* Loads every .faq file of dir. Errors name file and line, all at once, in *error_r. */
struct faq *faq_load(const char *dir, char **error_r);
void faq_free(struct faq **faq);

size_t faq_count(const struct faq *faq);
const struct faq_entry *faq_get(const struct faq *faq, size_t i);
/* Returns the entry or NULL; borrowed. */
const struct faq_entry *faq_find(const struct faq *faq, const char *id);

#endif
