/* faq — faq-data/ files (format in faq-data/README.md). Each entry keeps the text as
 * written (paragraphs, numbered steps, menu paths, [buttons]); only cross-references
 * are rewritten, once, at load time. */
#include "autoconf.h"
#include "engine/faq.h"
#include "core/text.h"
#include "core/util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum section { SECTION_COMMON, SECTION_ENTREPRISE, SECTION_ORGANISME, SECTION_COUNT };

struct entry {
	struct faq_entry pub;
	char *id, *question, *file;
	char *text[SECTION_COUNT];          /* NULL when the section is absent */
	unsigned text_line[SECTION_COUNT];  /* first line of each section, for errors */
};

struct faq {
	struct entry *entries;
	size_t count;
};

void
faq_free(struct faq **faqp)
{
	struct faq *faq = *faqp;
	if (faq == NULL)
		return;
	for (size_t i = 0; i < faq->count; i++) {
		struct entry *e = &faq->entries[i];
		free(e->id);
		free(e->question);
		free(e->file);
		for (int s = 0; s < SECTION_COUNT; s++)
			free(e->text[s]);
	}
	free(faq->entries);
	free(faq);
	*faqp = NULL;
}

static int
parse_section_marker(const char *line, enum section *section_r)
{
	if (strcmp(line, "=== entreprise ===") == 0) {
		*section_r = SECTION_ENTREPRISE;
		return 1;
	}
	if (strcmp(line, "=== organisme ===") == 0) {
		*section_r = SECTION_ORGANISME;
		return 1;
	}
	if (str_starts_with(line, "===") && str_ends_with(line, "===") && strlen(line) >= 6)
		return -1;
	return 0;
}

/* Removes blank lines at both ends and collapses runs of blank lines to one. */
static char *
tidy_paragraphs(const char *s)
{
	struct strbuf out = {0};
	const char *p = s;
	int pending_blank = 0;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		size_t m = n;
		while (m > 0 && (p[m - 1] == ' ' || p[m - 1] == '\t' || p[m - 1] == '\r'))
			m--;
		if (m == 0) {
			pending_blank = out.len > 0;
		} else {
			if (pending_blank)
				strbuf_addc(&out, '\n');
			pending_blank = 0;
			strbuf_add(&out, p, m);
			strbuf_addc(&out, '\n');
		}
		p += n;
		if (*p == '\n')
			p++;
	}
	if (out.len > 0)
		out.data[--out.len] = '\0';  /* no final line break: templates place it */
	return strbuf_detach(&out);
}

static void
add_error(struct strbuf *errors, const char *file, unsigned line, const char *why)
{
	if (line)
		strbuf_addf(errors, "%s:%u: %s\n", file, line, why);
	else
		strbuf_addf(errors, "%s: %s\n", file, why);
}

/* One faq-data file being read. */
struct entry_reader {
	const char *path;
	struct entry *e;                    /* filled as the lines are read */
	struct strbuf *errors;
	bool in_header;                     /* until the first blank line */
	struct strbuf body[SECTION_COUNT];  /* each section's lines as written */
	bool seen[SECTION_COUNT];
	enum section current;               /* where text lines go */
};

/* "key: value" of the header (line is modified); a blank line ends the header. */
static void
read_header_line(struct entry_reader *r, char *line, unsigned lineno)
{
	char *t = str_trim(line);
	if (*t == '\0') {
		r->in_header = false;
		return;
	}
	char *colon = strchr(t, ':');
	if (colon == NULL) {
		add_error(r->errors, r->path, lineno, "expected \"key: value\" in the header (a blank line ends it)");
		return;
	}
	*colon = '\0';
	char *key = str_trim(t), *value = str_trim(colon + 1);
	char **field = strcmp(key, "id") == 0 ? &r->e->id :
		       strcmp(key, "question") == 0 ? &r->e->question : NULL;
	if (field == NULL) {
		char *why = xasprintf("unknown key \"%s\" (id or question)", key);
		add_error(r->errors, r->path, lineno, why);
		free(why);
	} else if (*value == '\0') {
		char *why = xasprintf("empty value for \"%s\"", key);
		add_error(r->errors, r->path, lineno, why);
		free(why);
	} else {
		free(*field);
		*field = xstrdup(value);
	}
}

/* A section marker ("=== entreprise ===") or a line of answer text. */
static void
read_body_line(struct entry_reader *r, const char *line, unsigned lineno)
{
	enum section s;
	int marker = parse_section_marker(line, &s);
	if (marker < 0) {
		add_error(r->errors, r->path, lineno, "unknown section (=== entreprise === or === organisme ===)");
		return;
	}
	if (marker > 0) {
		if (r->seen[s]) {
			add_error(r->errors, r->path, lineno, "this section appears twice");
			return;
		}
		r->seen[s] = true;
		r->e->text_line[s] = lineno;
		r->current = s;
		return;
	}
	if (!r->seen[r->current] && r->current == SECTION_COMMON) {
		r->seen[r->current] = true;
		r->e->text_line[r->current] = lineno;
	}
	strbuf_adds(&r->body[r->current], line);
	strbuf_addc(&r->body[r->current], '\n');
}

/* Keeps each section's text, tidied; a variant section left empty is an error. */
static void
finish_sections(struct entry_reader *r)
{
	for (int s = 0; s < SECTION_COUNT; s++) {
		char *raw = strbuf_detach(&r->body[s]);
		char *tidy = tidy_paragraphs(raw);
		free(raw);
		if (r->seen[s] && tidy[0] == '\0' && s != SECTION_COMMON) {
			add_error(r->errors, r->path, r->e->text_line[s], "empty section");
		}
		if (r->seen[s] && tidy[0] != '\0')
			r->e->text[s] = tidy;
		else
			free(tidy);
	}
}

/* The entry's id is its file's name, and it has a question and an answer. */
static void
check_entry(const struct entry *e, const char *path, const char *stem, struct strbuf *errors)
{
	if (e->id == NULL)
		add_error(errors, path, 0, "missing \"id:\"");
	else if (strcmp(e->id, stem) != 0) {
		char *why = xasprintf("id \"%s\" differs from the file name \"%s.faq\"", e->id, stem);
		add_error(errors, path, 0, why);
		free(why);
	}
	if (e->question == NULL)
		add_error(errors, path, 0, "missing \"question:\"");
	if (e->text[SECTION_COMMON] == NULL && e->text[SECTION_ENTREPRISE] == NULL && e->text[SECTION_ORGANISME] == NULL)
		add_error(errors, path, 0, "no answer text");
}

static void
load_entry(const char *path, const char *stem, struct entry *e, struct strbuf *errors)
{
	e->file = xstrdup(path);
	char *err = NULL;
	char *data = text_read_file(path, 1024 * 1024, NULL, &err);
	if (data == NULL) {
		strbuf_addf(errors, "%s\n", err);
		free(err);
		return;
	}
	struct entry_reader r = { .path = path, .e = e, .errors = errors, .in_header = true,
				  .current = SECTION_COMMON };
	unsigned lineno = 0;
	for (char *line = data, *next; line != NULL; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		size_t n = strlen(line);
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (line[0] == '#')
			continue;
		if (r.in_header)
			read_header_line(&r, line, lineno);
		else
			read_body_line(&r, line, lineno);
	}
	free(data);
	finish_sections(&r);
	check_entry(e, path, stem, errors);
}

/* Replaces {{voir:ID}} by « question of ID ». */
static char *
resolve_references(const struct faq *faq, const struct entry *e, const char *text, unsigned line,
		   struct strbuf *errors)
{
	struct strbuf out = {0};
	const char *p = text;
	const char *open;
	while ((open = strstr(p, "{{voir:")) != NULL) {
		strbuf_add(&out, p, (size_t)(open - p));
		const char *id = open + strlen("{{voir:");
		const char *close = strstr(id, "}}");
		if (close == NULL) {
			add_error(errors, e->file, line, "unterminated {{voir:…}}");
			strbuf_adds(&out, open);
			return strbuf_detach(&out);
		}
		char *target = xstrndup(id, (size_t)(close - id));
		const struct faq_entry *t = faq_find(faq, target);
		if (t == NULL) {
			char *why = xasprintf("{{voir:%s}} names no faq entry", target);
			add_error(errors, e->file, line, why);
			free(why);
		} else {
			strbuf_addf(&out, "\xC2\xAB %s \xC2\xBB", t->question);
		}
		free(target);
		p = close + 2;
	}
	strbuf_adds(&out, p);
	return strbuf_detach(&out);
}

struct faq *
faq_load(const char *dir, char **error_r)
{
	char **names = NULL;
	int n = dir_list(dir, ".faq", &names, error_r);
	if (n < 0)
		return NULL;
	struct faq *faq = xcalloc(1, sizeof(*faq));
	faq->entries = xcalloc((size_t)n + 1, sizeof(*faq->entries));
	struct strbuf errors = {0};
	if (n == 0)
		add_error(&errors, dir, 0, "no .faq file");
	for (int i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]);
		char *stem = xstrndup(names[i], strlen(names[i]) - strlen(".faq"));
		struct entry *e = &faq->entries[faq->count++];
		load_entry(path, stem, e, &errors);
		e->pub.id = e->id;
		e->pub.question = e->question;
		e->pub.file = e->file;
		free(stem);
		free(path);
	}
	str_array_free(names, (size_t)n);
	for (size_t i = 0; i < faq->count; i++) {
		struct entry *e = &faq->entries[i];
		for (int s = 0; s < SECTION_COUNT; s++) {
			if (e->text[s] == NULL)
				continue;
			char *resolved = resolve_references(faq, e, e->text[s], e->text_line[s], &errors);
			free(e->text[s]);
			e->text[s] = resolved;
		}
		e->pub.common = e->text[SECTION_COMMON] ? e->text[SECTION_COMMON] : "";
		e->pub.entreprise = e->text[SECTION_ENTREPRISE];
		e->pub.organisme = e->text[SECTION_ORGANISME];
	}
	if (errors.len > 0) {
		errors.data[errors.len - 1] = '\0';
		*error_r = strbuf_detach(&errors);
		faq_free(&faq);
		return NULL;
	}
	return faq;
}

size_t
faq_count(const struct faq *faq)
{
	return faq->count;
}

const struct faq_entry *
faq_get(const struct faq *faq, size_t i)
{
	return &faq->entries[i].pub;
}

const struct faq_entry *
faq_find(const struct faq *faq, const char *id)
{
	for (size_t i = 0; i < faq->count; i++)
		if (faq->entries[i].id != NULL && strcmp(faq->entries[i].id, id) == 0)
			return &faq->entries[i].pub;
	return NULL;
}
