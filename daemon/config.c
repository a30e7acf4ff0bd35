/* config — INI keys table and inih glue (see config.h). */
#include "autoconf.h"
#include "config.h"
#include "util.h"

#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum key_type { KEY_STRING, KEY_FRACTION, KEY_COUNT };

static const struct config_key {
	const char *section;
	const char *name;
	enum key_type type;
	size_t offset;
	const char *default_value;   /* NULL: no default */
	const char *doc;
} keys[] = {
	{ "paths", "data", KEY_STRING, offsetof(struct config, data_dir), NULL,
	  "folder holding intents/, faq-data/ and templates/ (default: the installed data)" },
	{ "engine", "min_confidence", KEY_FRACTION, offsetof(struct config, min_confidence), "0.60",
	  "confidence (0 to 1) the best intent needs to be answered automatically" },
	{ "engine", "min_margin", KEY_FRACTION, offsetof(struct config, min_margin), "0.15",
	  "lead over the second intent below which the reply covers both" },
	{ "engine", "suggest_confidence", KEY_FRACTION, offsetof(struct config, suggest_confidence), "0.25",
	  "chat: a short message whose best intent reaches this (but not min_confidence) gets the subject proposed instead of a handoff" },
	{ "engine", "suggest_max_words", KEY_COUNT, offsetof(struct config, suggest_max_words), "4",
	  "chat: longest message (in words) for which subjects are proposed" },
};

#define KEYS (sizeof(keys) / sizeof(*keys))

static int
set_value(struct config *cfg, const struct config_key *k, const char *value, char **why_r)
{
	void *field = (char *)cfg + k->offset;
	switch (k->type) {
	case KEY_STRING:
		if (*value == '\0') {
			*why_r = xasprintf("%s: empty value", k->name);
			return -1;
		}
		free(*(char **)field);
		*(char **)field = xstrdup(value);
		return 0;
	case KEY_COUNT: {
		char *end;
		errno = 0;
		unsigned long n = strtoul(value, &end, 10);
		if (end == value || *end != '\0' || errno != 0 || n > 1000 || value[0] == '-') {
			*why_r = xasprintf("%s: \"%s\" is not a whole number from 0 to 1000", k->name, value);
			return -1;
		}
		*(unsigned *)field = (unsigned)n;
		return 0;
	}
	case KEY_FRACTION: {
		char *end;
		errno = 0;
		double d = strtod(value, &end);
		if (end == value || *end != '\0' || errno != 0 || !isfinite(d) || d < 0 || d > 1) {
			*why_r = xasprintf("%s: \"%s\" is not a number from 0 to 1", k->name, value);
			return -1;
		}
		*(double *)field = d;
		return 0;
	}
	}
	return -1;
}

void
config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < KEYS; i++) {
		char *why = NULL;
		if (keys[i].default_value != NULL && set_value(cfg, &keys[i], keys[i].default_value, &why) < 0)
			abort();  /* a default that does not parse is a bug of this table */
	}
}

void
config_clear(struct config *cfg)
{
	for (size_t i = 0; i < KEYS; i++) {
		if (keys[i].type == KEY_STRING) {
			char **field = (char **)((char *)cfg + keys[i].offset);
			free(*field);
			*field = NULL;
		}
	}
}

struct parse_state {
	struct config *cfg;
	const char *path;
	FILE *file;
	unsigned line;          /* line inih is handling, counted by our reader */
	struct strbuf errors;
};

/* inih reads through this so that errors can carry line numbers. */
static char *
read_line(char *buf, int size, void *stream)
{
	struct parse_state *st = stream;
	char *r = fgets(buf, size, st->file);
	if (r != NULL)
		st->line++;
	return r;
}

static int
on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *st = user;
	for (size_t i = 0; i < KEYS; i++) {
		if (strcmp(keys[i].section, section) != 0 || strcmp(keys[i].name, name) != 0)
			continue;
		char *why = NULL;
		if (set_value(st->cfg, &keys[i], value, &why) < 0) {
			strbuf_addf(&st->errors, "%s:%u: [%s] %s\n", st->path, st->line, section, why);
			free(why);
		}
		return 1;
	}
	strbuf_addf(&st->errors, "%s:%u: unknown key \"%s\" in [%s]\n", st->path, st->line, name, section);
	return 1;
}

int
config_load(struct config *cfg, const char *path, char **error_r)
{
	struct parse_state st = { cfg, path, fopen(path, "r"), 0, {0} };
	if (st.file == NULL) {
		*error_r = xasprintf("%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	int rc = ini_parse_stream(read_line, &st, on_key, &st);
	fclose(st.file);
	if (rc > 0)  /* on_key never fails, so rc is a line inih could not parse */
		strbuf_addf(&st.errors, "%s:%d: syntax error (expected [section] or key = value)\n", path, rc);
	else if (rc < 0)
		strbuf_addf(&st.errors, "%s: cannot read\n", path);
	if (st.errors.len > 0) {
		st.errors.data[st.errors.len - 1] = '\0';
		*error_r = strbuf_detach(&st.errors);
		return -1;
	}
	return 0;
}

void
config_describe(FILE *out)
{
	const char *section = "";
	for (size_t i = 0; i < KEYS; i++) {
		if (strcmp(section, keys[i].section) != 0) {
			section = keys[i].section;
			fprintf(out, "[%s]\n", section);
		}
		fprintf(out, "# %s\n%s%s = %s\n", keys[i].doc, keys[i].default_value ? "" : "# ",
			keys[i].name, keys[i].default_value ? keys[i].default_value : "");
	}
}
