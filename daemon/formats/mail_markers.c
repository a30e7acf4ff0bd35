/* mail_markers — subjects and sentences of mail written by programs that stamp no header
 * (RFC 3834 §3.1.5 asks them to; many do not). Pipeline: mail_parse → mail_policy (which
 * calls this) → dialog. The file is TSV: kind, where, pattern, source; a pattern is
 * compared with the whole subject (or the start of the body) in a matching form, '*'
 * standing for any text. Lower layer: never logs. */
#include "autoconf.h"
#include "formats/mail_markers.h"
#include "core/text.h"
#include "core/util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define MARKERS_MAX_FILE (1024 * 1024)
#define MARKERS_MAX_PATTERN 400
/* Auto-replies and challenges say what they are in their first lines; reading more of a
 * long mail would only add false positives (a person quoting one). */
#define BODY_HEAD 2048
/* The part of a body in which quoted history and signatures are looked for. */
#define BODY_NOISE_WINDOW (32 * 1024)

enum marker_where { WHERE_SUBJECT, WHERE_BODY };

struct marker {
	enum marker_where where;
	char *pattern;          /* in matching form */
	char *reason;           /* for the log: kind, pattern as written, file:line */
};

struct mail_markers {
	struct marker *items;
	size_t count;
};

static const struct {
	const char *name;
	const char *text;
} kinds[] = {
	{ "autoreply", "automatic reply" },
	{ "receipt", "read receipt" },
	{ "delivery", "delivery notice" },
	{ "challenge", "challenge-response" },
	{ "list", "list robot" },
	{ "report", "abuse or feedback report" },
};

/* Spaces (after compatibility mapping: NBSP, thin and ideographic spaces are U+0020). */
static bool
is_space_byte(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

char *
mail_markers_normalise(const char *s, size_t len)
{
	utf8proc_uint8_t *mapped = NULL;
	utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &mapped,
					  UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD |
					  UTF8PROC_STRIPMARK | UTF8PROC_IGNORE);
	if (n < 0) {
		/* Not valid UTF-8 (callers pass valid text): compared as it is. */
		free(mapped);
		mapped = (utf8proc_uint8_t *)xstrndup(s, len);
		n = (utf8proc_ssize_t)strlen((char *)mapped);
	}
	/* Runs of spaces become one; spaces around a colon go ("Réponse automatique : x" and
	 * "Réponse automatique: x" compare alike, as French and English typography differ). */
	char *out = xmalloc((size_t)n + 1);
	size_t o = 0;
	const char *m = (const char *)mapped;
	for (utf8proc_ssize_t i = 0; i < n; i++) {
		if (is_space_byte(m[i])) {
			if (o > 0 && out[o - 1] != ' ' && out[o - 1] != ':')
				out[o++] = ' ';
			continue;
		}
		if (m[i] == ':' && o > 0 && out[o - 1] == ' ')
			o--;
		out[o++] = m[i];
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	free(mapped);
	return out;
}

/* Whole-string match with '*' for any run of bytes (the classic two-pointer algorithm:
 * on a mismatch, the last star takes one more byte). */
static bool
glob_match(const char *pat, const char *s)
{
	const char *star = NULL, *resume = NULL;
	while (*s != '\0') {
		if (*pat == '*') {
			star = pat++;
			resume = s;
		} else if (*pat == *s) {
			pat++;
			s++;
		} else if (star != NULL) {
			pat = star + 1;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

/* The fields of a line split on tabs (in place); returns how many. */
static size_t
split_tabs(char *line, char **fields, size_t max)
{
	size_t n = 0;
	char *p = line;
	while (n < max) {
		fields[n++] = p;
		char *tab = strchr(p, '\t');
		if (tab == NULL)
			break;
		*tab = '\0';
		p = tab + 1;
	}
	return n;
}

static const char *
kind_text(const char *name)
{
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (strcmp(kinds[k].name, name) == 0)
			return kinds[k].text;
	return NULL;
}

/* One line of the file: adds its marker, or appends its error to *errors. */
static void
parse_line(struct mail_markers *mm, const char *path, const char *base, unsigned lineno, char *line,
	   struct strbuf *errors)
{
	char *f[5];
	size_t n = split_tabs(line, f, 5);
	const char *kind = n >= 1 ? kind_text(f[0]) : NULL;
	const char *why = NULL;
	if (n != 4)
		why = "expected 4 fields separated by tabs: kind, where, pattern, source";
	else if (kind == NULL)
		why = "unknown kind (autoreply, receipt, delivery, challenge, list or report)";
	else if (strcmp(f[1], "subject") != 0 && strcmp(f[1], "body") != 0)
		why = "where must be subject or body";
	else if (strspn(f[2], "* ") == strlen(f[2]))
		why = "the pattern matches everything";
	else if (strlen(f[2]) > MARKERS_MAX_PATTERN)
		why = "pattern longer than 400 bytes";
	else if (strspn(f[3], " ") == strlen(f[3]))
		why = "the source is missing (say where the marker was seen or documented)";
	if (why != NULL) {
		strbuf_addf(errors, "%s:%u: %s\n", path, lineno, why);
		return;
	}
	if (mm->count == 0 || (mm->count & (mm->count - 1)) == 0)
		mm->items = xrealloc(mm->items, (mm->count ? 2 * mm->count : 16) * sizeof(*mm->items));
	struct marker *m = &mm->items[mm->count++];
	m->where = strcmp(f[1], "subject") == 0 ? WHERE_SUBJECT : WHERE_BODY;
	m->pattern = mail_markers_normalise(f[2], strlen(f[2]));
	m->reason = xasprintf("%s by its %s: \"%s\" (%s:%u)", kind, m->where == WHERE_SUBJECT ? "subject" : "body",
			      f[2], base, lineno);
}

struct mail_markers *
mail_markers_load(const char *path, char **error_r)
{
	size_t len = 0;
	char *data = text_read_file(path, MARKERS_MAX_FILE, &len, error_r);
	if (data == NULL)
		return NULL;
	const char *slash = strrchr(path, '/');
	const char *base = slash != NULL ? slash + 1 : path;
	struct mail_markers *mm = xcalloc(1, sizeof(*mm));
	struct strbuf errors = { 0 };
	unsigned lineno = 0;
	for (char *line = data; line != NULL;) {
		char *nl = strchr(line, '\n');
		if (nl != NULL)
			*nl = '\0';
		lineno++;
		size_t l = strlen(line);
		if (l > 0 && line[l - 1] == '\r')
			line[--l] = '\0';
		if (l > 0 && line[0] != '#')
			parse_line(mm, path, base, lineno, line, &errors);
		line = nl != NULL ? nl + 1 : NULL;
	}
	free(data);
	if (errors.len > 0) {
		errors.data[--errors.len] = '\0';       /* the last line break */
		*error_r = strbuf_detach(&errors);
		mail_markers_free(&mm);
		return NULL;
	}
	return mm;
}

void
mail_markers_free(struct mail_markers **markers)
{
	struct mail_markers *mm = *markers;
	if (mm == NULL)
		return;
	for (size_t i = 0; i < mm->count; i++) {
		free(mm->items[i].pattern);
		free(mm->items[i].reason);
	}
	free(mm->items);
	free(mm);
	*markers = NULL;
}

size_t
mail_markers_count(const struct mail_markers *markers)
{
	return markers != NULL ? markers->count : 0;
}

/* The first max bytes of a text at most, cut at a character boundary. */
static size_t
head_len(const char *text, size_t max)
{
	size_t len = strnlen(text, max + 1);
	if (len <= max)
		return len;
	len = max;
	while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
		len--;
	return len;
}

const char *
mail_markers_match(const struct mail_markers *markers, const char *subject, const char *body)
{
	if (markers == NULL || markers->count == 0)
		return NULL;
	char *s = subject != NULL ? mail_markers_normalise(subject, strlen(subject)) : NULL;
	/* Only the writer's own words: a person who forwards an automatic notice (« Ceci est
	 * un message automatique ») or quotes an auto-reply to ask about it wrote the rest. */
	char *b = NULL;
	if (body != NULL) {
		/* the noise is looked for in a bounded start: a 10 MB body costs no more */
		char *start = xstrndup(body, head_len(body, BODY_NOISE_WINDOW));
		char *own = text_strip_noise(start);
		b = mail_markers_normalise(own, head_len(own, BODY_HEAD));
		free(own);
		free(start);
	}
	const char *why = NULL;
	for (size_t i = 0; why == NULL && i < markers->count; i++) {
		const struct marker *m = &markers->items[i];
		const char *text = m->where == WHERE_SUBJECT ? s : b;
		if (text != NULL && glob_match(m->pattern, text))
			why = m->reason;
	}
	free(s);
	free(b);
	return why;
}
