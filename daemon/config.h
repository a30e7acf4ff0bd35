/* config — the INI file shared by dialogd and dialogctl (-c FILE), parsed with inih.
 * Keys live in one table (section, name, type, default, bounds, documentation), read by
 * the parser, by the defaults and by `dialogctl check`. Errors read "file:line: message";
 * every error is reported, then loading fails once. Lower layer: never logs. */
#ifndef DIALOGD_CONFIG_H
#define DIALOGD_CONFIG_H

#include <stdio.h>

struct config {
	char *data_dir;         /* [paths] data: folder with intents/, faq-data/, templates/; NULL = default */
	double min_confidence;  /* [engine] min_confidence */
	double min_margin;      /* [engine] min_margin */
	double suggest_confidence;      /* [engine] suggest_confidence */
	unsigned suggest_max_words;     /* [engine] suggest_max_words */
};

/* Fills cfg with the defaults. */
void config_init(struct config *cfg);
/* Reads path over the values already in cfg. Returns 0, or -1 with every error in *error_r. */
int config_load(struct config *cfg, const char *path, char **error_r);
void config_clear(struct config *cfg);
/* Prints every key with its default and documentation (for dialogctl and the README). */
void config_describe(FILE *out);

#endif
