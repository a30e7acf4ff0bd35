/* intent_load — reads intents/: one <id>.intent file per intent of the spec (keys and
 * weighted patterns) and audience.cues, compiles every pattern once, checks each file
 * against the spec and reports every error as file:line at once; frees a set. The words
 * of the patterns become known words of the lexicon. Pipeline: files → intent_load →
 * intent_dispatch (fast path) → intent_match. */
#include "autoconf.h"
#include "engine/intent_int.h"
#include "engine/lexicon.h"
#include "engine/pattern_index.h"
#include "core/text.h"
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
pattern_clear(struct pattern *p)
{
	pcre2_code_free(p->code);
	pcre2_code_free(p->anchored);
	free(p->source);
}


static void
intent_clear(struct intent *in)
{
	for (size_t i = 0; i < in->pattern_count; i++)
		pattern_clear(&in->patterns[i]);
	free(in->patterns);
	free(in->id);
	free(in->faq);
	free(in->action);
	free(in->reply);
	free(in->description);
	free(in->file);
}

void
intent_set_free(struct intent_set **setp)
{
	struct intent_set *set = *setp;
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->count; i++)
		intent_clear(&set->intents[i]);
	free(set->intents);
	for (size_t i = 0; i < set->cue_count; i++)
		pattern_clear(&set->cues[i].pattern);
	free(set->cues);
	pattern_index_free(&set->index);
	free(set->always);
	free(set->weights);
	free(set->owners);
	free(set->alias_to);
	free(set->alias_of);
	free(set);
	*setp = NULL;
}

pcre2_code *
intent_compile_pattern(const char *source, uint32_t extra_options, char **why_r)
{
	int code;
	PCRE2_SIZE offset;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)source, PCRE2_ZERO_TERMINATED,
				       PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK | extra_options, &code, &offset, NULL);
	if (re == NULL) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(code, msg, sizeof(msg));
		*why_r = xasprintf("pattern does not compile at offset %zu: %s", (size_t)offset, (char *)msg);
		return NULL;
	}
	/* The JIT is an optimisation: where it is unavailable, the interpreter runs. */
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	return re;
}

/* Adds the literal words of a pattern (those that end at a word boundary in the
 * pattern) to the lexicon's known words, so typo correction never "corrects" them. */
static void
add_pattern_words(struct lexicon *lex, const char *src)
{
	const char *p = src;
	int in_class = 0;
	while (*p) {
		if (*p == '\\') {
			p += p[1] ? 2 : 1;
			continue;
		}
		if (*p == '[') { in_class = 1; p++; continue; }
		if (*p == ']') { in_class = 0; p++; continue; }
		if (!in_class && islower((unsigned char)*p)) {
			const char *start = p;
			while (islower((unsigned char)*p) || isdigit((unsigned char)*p))
				p++;
			size_t n = (size_t)(p - start);
			bool ends_word = *p == '\0' || *p == ' ' || *p == '|' || *p == ')' ||
					 (p[0] == '\\' && p[1] == 'b');
			bool optional_last = *p == '?';        /* "dossiers?" knows "dossier" and "dossiers" */
			bool stem = p[0] == '\\' && p[1] == 'w'; /* "oubli\w*" protects every "oubli…" */
			char *w = xstrndup(start, n);
			if (n >= 3 && (ends_word || optional_last))
				lexicon_add_known_words(lex, w);
			if (n >= 4 && optional_last) {
				w[n - 1] = '\0';
				lexicon_add_known_words(lex, w);
			}
			if (n >= 4 && stem)
				lexicon_add_known_stem(lex, w);
			free(w);
			continue;
		}
		p++;
	}
}

/* Parses "+3 pattern" / "-1.5 pattern". Returns 0 or -1 with *why_r. */
static int
parse_weighted(const char *line, double *weight_r, const char **pattern_r, char **why_r)
{
	char *end;
	errno = 0;
	double w = strtod(line, &end);
	if (end == line || errno != 0 || !(*end == ' ' || *end == '\t') || !isfinite(w) || w == 0 ||
	    fabs(w) > 100) {
		*why_r = xstrdup("expected a signed weight (e.g. +3 or -1.5) then a pattern");
		return -1;
	}
	while (*end == ' ' || *end == '\t')
		end++;
	if (*end == '\0') {
		*why_r = xstrdup("weight without a pattern");
		return -1;
	}
	*weight_r = w;
	*pattern_r = end;
	return 0;
}

static void
add_error(struct strbuf *errors, const char *file, unsigned line, const char *why)
{
	if (line)
		strbuf_addf(errors, "%s:%u: %s\n", file, line, why);
	else
		strbuf_addf(errors, "%s: %s\n", file, why);
}

/* Parses and compiles "+W PATTERN" at file:line. Returns the compiled pattern (with its
 * weight and source in *w_r, *src_r), or NULL after appending the error to errors. */
static pcre2_code *
weighted_pattern(const char *text, const char *file, unsigned line, struct strbuf *errors,
		 double *w_r, const char **src_r)
{
	char *why = NULL;
	pcre2_code *re = NULL;
	if (parse_weighted(text, w_r, src_r, &why) == 0)
		re = intent_compile_pattern(*src_r, 0, &why);
	if (re == NULL) {
		add_error(errors, file, line, why);
		free(why);
	}
	return re;
}

/* Splits data into lines in place; next_line() returns each non-blank, non-comment line
 * with surrounding spaces and CR removed. */
struct line_iter {
	char *next;
	unsigned lineno;
};

static char *
next_line(struct line_iter *it, unsigned *lineno_r)
{
	while (it->next != NULL) {
		char *line = it->next;
		char *nl = strchr(line, '\n');
		if (nl) {
			*nl = '\0';
			it->next = nl + 1;
		} else {
			it->next = NULL;
		}
		it->lineno++;
		size_t n = strlen(line);
		while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
			line[--n] = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '\0' || *line == '#')
			continue;
		*lineno_r = it->lineno;
		return line;
	}
	return NULL;
}

/* One intent file being read: where its errors go and what the checks at the end need. */
struct intent_reader {
	const char *path;
	struct intent *in;          /* filled as the lines are read */
	struct lexicon *lex;        /* learns the patterns' words; may be NULL */
	struct strbuf *errors;
	size_t pattern_cap;         /* allocated length of in->patterns */
	bool have_kind;             /* a "kind:" line was read */
};

/* "+W PATTERN" or "-W PATTERN": compiled and appended to the intent's patterns. */
static void
read_pattern_line(struct intent_reader *r, const char *line, unsigned lineno)
{
	struct intent *in = r->in;
	double w;
	const char *src;
	pcre2_code *re = weighted_pattern(line, r->path, lineno, r->errors, &w, &src);
	if (re == NULL)
		return;
	if (in->pattern_count == r->pattern_cap) {
		r->pattern_cap = r->pattern_cap ? r->pattern_cap * 2 : 16;
		in->patterns = xrealloc(in->patterns, r->pattern_cap * sizeof(*in->patterns));
	}
	in->patterns[in->pattern_count++] = (struct pattern){ w, re, xstrdup(src), lineno, NULL, 0, -1, false, false };
	if (r->lex != NULL)  /* negative patterns' words too: never "corrected" away */
		add_pattern_words(r->lex, src);
}

/* The string a key sets, or NULL when the key is not one of the string keys. */
static char **
string_field(struct intent *in, const char *key)
{
	if (strcmp(key, "id") == 0)
		return &in->id;
	if (strcmp(key, "faq") == 0)
		return &in->faq;
	if (strcmp(key, "action") == 0)
		return &in->action;
	if (strcmp(key, "reply") == 0)
		return &in->reply;
	if (strcmp(key, "description") == 0)
		return &in->description;
	return NULL;
}

/* The keys whose value is checked here: kind, scope and max-words; any other is unknown. */
static void
read_setting(struct intent_reader *r, const char *key, const char *value, unsigned lineno)
{
	struct intent *in = r->in;
	if (strcmp(key, "kind") == 0) {
		if (intent_kind_from_name(value, &in->def.kind) < 0) {
			char *why = xasprintf("unknown kind \"%s\" (faq, action, handoff or chat)", value);
			add_error(r->errors, r->path, lineno, why);
			free(why);
		}
		r->have_kind = true;
	} else if (strcmp(key, "scope") == 0) {
		if (strcmp(value, "full") == 0) {
			in->def.full_scope = true;
		} else if (strcmp(value, "content") == 0) {
			in->def.full_scope = false;
		} else {
			add_error(r->errors, r->path, lineno, "scope must be \"content\" or \"full\"");
		}
	} else if (strcmp(key, "max-words") == 0) {
		char *end;
		long n = strtol(value, &end, 10);
		if (*value == '\0' || *end != '\0' || n < 0 || n > 10000)
			add_error(r->errors, r->path, lineno, "max-words must be a number from 0 to 10000");
		else
			in->def.max_words = (unsigned)n;
	} else {
		char *why = xasprintf("unknown key \"%s\"", key);
		add_error(r->errors, r->path, lineno, why);
		free(why);
	}
}

/* "key: value" (line is modified). */
static void
read_key_line(struct intent_reader *r, char *line, unsigned lineno)
{
	char *colon = strchr(line, ':');
	if (colon == NULL) {
		add_error(r->errors, r->path, lineno, "expected \"key: value\" or a weighted pattern (+W PATTERN)");
		return;
	}
	*colon = '\0';
	char *key = str_trim(line);
	char *value = str_trim(colon + 1);
	char **field = string_field(r->in, key);
	if (field == NULL) {
		read_setting(r, key, value, lineno);
	} else if (*value == '\0') {
		char *why = xasprintf("empty value for \"%s\"", key);
		add_error(r->errors, r->path, lineno, why);
		free(why);
	} else {
		free(*field);
		*field = xstrdup(value);
	}
}

/* The intent's id is its file's name and an id of the spec. Returns its position in the
 * spec, or -1 after the error (the other checks would only repeat it). */
static int
check_identity(struct intent_reader *r, const char *stem)
{
	const struct intent *in = r->in;
	if (in->id == NULL) {
		add_error(r->errors, r->path, 0, "missing \"id:\"");
		return -1;
	}
	if (strcmp(in->id, stem) != 0) {
		char *why = xasprintf("id \"%s\" differs from the file name \"%s.intent\"", in->id, stem);
		add_error(r->errors, r->path, 0, why);
		free(why);
		return -1;
	}
	int si = intent_spec_index(in->id);
	if (si < 0) {
		char *why = xasprintf("\"%s\" is not an intent id of the spec", in->id);
		add_error(r->errors, r->path, 0, why);
		free(why);
	}
	return si;
}

/* The intent has the spec's kind, a positive pattern, and what its kind needs (a reply,
 * an action dialogd has, a faq entry); resolves its action. */
static void
check_contents(struct intent_reader *r, size_t si)
{
	struct intent *in = r->in;
	const char *path = r->path;
	if (!r->have_kind) {
		add_error(r->errors, path, 0, "missing \"kind:\"");
	} else if (in->def.kind != intent_spec_kind(si)) {
		char *why = xasprintf("kind \"%s\" differs from the spec's \"%s\"",
				      intent_kind_name(in->def.kind), intent_kind_name(intent_spec_kind(si)));
		add_error(r->errors, path, 0, why);
		free(why);
	}
	bool has_positive = false;
	for (size_t i = 0; i < in->pattern_count; i++)
		has_positive |= in->patterns[i].weight > 0;
	if (!has_positive)
		add_error(r->errors, path, 0, "no positive pattern: the intent could never be recognised");
	if (in->def.kind == INTENT_CHAT && in->reply == NULL)
		add_error(r->errors, path, 0, "a chat intent needs \"reply:\" (the template answering it)");
	if (in->def.kind == INTENT_ACTION && in->action == NULL)
		add_error(r->errors, path, 0, "an action intent needs \"action:\"");
	else if (in->action != NULL && (in->def.action = account_action_from_name(in->action)) == ACCOUNT_ACTION_NONE) {
		char *why = xasprintf("action: \"%s\" is not an action of dialogd (identifier_reminder, password_reset or "
				      "dossier_status)", in->action);
		add_error(r->errors, path, 0, why);
		free(why);
	}
	if ((in->def.kind == INTENT_FAQ || in->def.kind == INTENT_HANDOFF) && in->faq == NULL)
		add_error(r->errors, path, 0, "a faq or handoff intent needs \"faq:\"");
}

/* Loads one intent file into *in. Errors are appended to errors; the checks of the whole
 * file run only when its lines had none. */
static void
load_intent_file(const char *path, const char *stem, struct intent *in, struct lexicon *lex,
		 struct strbuf *errors)
{
	char *err = NULL;
	char *data = text_read_file(path, 1024 * 1024, NULL, &err);
	in->file = xstrdup(path);
	if (data == NULL) {
		strbuf_addf(errors, "%s\n", err);
		free(err);
		return;
	}
	size_t before = errors->len;
	struct intent_reader r = { .path = path, .in = in, .lex = lex, .errors = errors };
	struct line_iter it = { data, 0 };
	unsigned lineno;
	char *line;
	while ((line = next_line(&it, &lineno)) != NULL) {
		if (line[0] == '+' || line[0] == '-')
			read_pattern_line(&r, line, lineno);
		else
			read_key_line(&r, line, lineno);
	}
	free(data);
	if (errors->len > before)
		return;
	int si = check_identity(&r, stem);
	if (si >= 0)
		check_contents(&r, (size_t)si);
}


/* Reads audience.cues ("entreprise +W PATTERN") or, with out_of_scope, out_of_scope.cues
 * ("+W PATTERN"). */
static void
load_cues(const char *path, bool out_of_scope, struct intent_set *set, struct lexicon *lex, struct strbuf *errors)
{
	char *err = NULL;
	char *data = text_read_file(path, 1024 * 1024, NULL, &err);
	if (data == NULL) {
		strbuf_addf(errors, "%s\n", err);
		free(err);
		return;
	}
	size_t cap = set->cue_count;
	struct line_iter it = { data, 0 };
	unsigned lineno;
	char *line;
	while ((line = next_line(&it, &lineno)) != NULL) {
		enum audience aud = AUDIENCE_UNKNOWN;
		const char *rest = line;
		if (out_of_scope) {
			/* no audience word */
		} else if (str_starts_with(line, "entreprise ")) {
			aud = AUDIENCE_ENTREPRISE;
			rest = line + strlen("entreprise ");
		} else if (str_starts_with(line, "organisme ")) {
			aud = AUDIENCE_ORGANISME;
			rest = line + strlen("organisme ");
		} else {
			add_error(errors, path, lineno, "expected \"entreprise +W PATTERN\" or \"organisme +W PATTERN\"");
			continue;
		}
		while (*rest == ' ')
			rest++;
		double w;
		const char *src;
		pcre2_code *re = weighted_pattern(rest, path, lineno, errors, &w, &src);
		if (re == NULL)
			continue;
		if (set->cue_count == cap) {
			cap = cap ? cap * 2 : 32;
			set->cues = xrealloc(set->cues, cap * sizeof(*set->cues));
		}
		set->cues[set->cue_count++] = (struct cue){ aud, out_of_scope,
			{ w, re, xstrdup(src), lineno, NULL, 0, -1, false, !out_of_scope } };
		if (lex != NULL)
			add_pattern_words(lex, src);
	}
	free(data);
}

struct intent_set *
intent_set_load(const char *dir, struct lexicon *lex, char **error_r)
{
	char **names = NULL;
	int n = dir_list(dir, ".intent", &names, error_r);
	if (n < 0)
		return NULL;
	struct intent_set *set = xcalloc(1, sizeof(*set));
	set->intents = xcalloc((size_t)n + 1, sizeof(*set->intents));
	struct strbuf errors = {0};
	for (int i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]);
		char *stem = xstrndup(names[i], strlen(names[i]) - strlen(".intent"));
		struct intent *in = &set->intents[set->count++];
		load_intent_file(path, stem, in, lex, &errors);
		set->pattern_count += in->pattern_count;
		free(stem);
		free(path);
	}
	str_array_free(names, (size_t)n);
	for (size_t i = 0; i < intent_spec_count(); i++) {
		const char *id = intent_spec_id(i);
		if (intent_set_find(set, id) == NULL) {
			char *why = xasprintf("no file for intent \"%s\" (expected %s.intent)", id, id);
			add_error(&errors, dir, 0, why);
			free(why);
		}
	}
	char *cues = xasprintf("%s/audience.cues", dir);
	load_cues(cues, false, set, lex, &errors);
	free(cues);
	char *scope = xasprintf("%s/out_of_scope.cues", dir);
	if (access(scope, F_OK) == 0)
		load_cues(scope, true, set, lex, &errors);
	free(scope);
	for (size_t i = 0; i < set->count; i++) {
		struct intent *in = &set->intents[i];
		in->def.id = in->id;
		in->def.faq = in->faq;
		in->def.reply = in->reply;
		in->def.description = in->description;
		in->def.file = in->file;
	}
	if (errors.len > 0) {
		errors.data[errors.len - 1] = '\0';
		*error_r = strbuf_detach(&errors);
		intent_set_free(&set);
		return NULL;
	}
	intent_set_build_dispatch(set);
	return set;
}
