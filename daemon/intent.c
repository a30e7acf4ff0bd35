/* intent — intent files, PCRE2 compilation and scoring (see intent.h).
 * Speed: trying several hundred patterns at every offset of every message is too slow
 * for a chat. Most patterns start with \b and a literal ("\b(?:oubli\w*|perdu)"):
 * pattern_prefix reads those literals (and a word needed further on) at load time,
 * pattern_index walks the message once and lists where each pattern may start, and only
 * there is the pattern tried, anchored. Patterns whose start cannot be read run on the
 * whole text. Negative patterns run only for intents that scored, a negative shared by
 * several intents once. The result is the one a full scan gives: tests (dev set, tricky
 * patterns) and tests/fuzz/fuzz_pattern check it. Everything is JIT-compiled at load. */
#include "autoconf.h"
#include "intent.h"
#include "lexicon.h"
#include "pattern_index.h"
#include "pattern_prefix.h"
#include "strmap.h"
#include "text.h"
#include "util.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* spec/intents.tsv: ids and kinds, the public contract. */
static const struct {
	const char *id;
	enum intent_kind kind;
} spec[] = {
	{ "login_trouble", INTENT_FAQ }, { "password_reset", INTENT_ACTION },
	{ "identifier_reminder", INTENT_ACTION }, { "dossier_status", INTENT_ACTION },
	{ "change_account_email", INTENT_FAQ }, { "email_not_referenced", INTENT_FAQ },
	{ "choose_funding_scheme", INTENT_FAQ }, { "modify_submitted_request", INTENT_FAQ },
	{ "send_supporting_documents", INTENT_FAQ }, { "find_deca_number", INTENT_FAQ },
	{ "print_apprenticeship_cerfa", INTENT_FAQ }, { "report_apprenticeship_termination", INTENT_FAQ },
	{ "report_pro_contract_termination", INTENT_FAQ }, { "pro_contract_minimum_age", INTENT_FAQ },
	{ "pro_contract_short_after_termination", INTENT_FAQ }, { "apprentice_forfait_jour", INTENT_FAQ },
	{ "change_company_address_siret", INTENT_FAQ }, { "update_bank_details", INTENT_FAQ },
	{ "add_company_to_account", INTENT_FAQ }, { "company_not_found_when_adding", INTENT_FAQ },
	{ "add_training_establishment", INTENT_FAQ }, { "magestic_user_admin", INTENT_FAQ },
	{ "add_employee_trainee", INTENT_FAQ }, { "training_org_not_listed", INTENT_FAQ },
	{ "submit_invoice", INTENT_FAQ }, { "submit_expense_receipts", INTENT_FAQ },
	{ "payment_details", INTENT_FAQ }, { "pay_contributions", INTENT_FAQ },
	{ "pay_voluntary_calls", INTENT_FAQ }, { "dashboard_reporting_contents", INTENT_FAQ },
	{ "export_reporting_data", INTENT_FAQ }, { "filter_reporting_data", INTENT_FAQ },
	{ "reporting_start_year", INTENT_FAQ }, { "cse_stats_by_trainee_or_individual", INTENT_FAQ },
	{ "training_rate_calculation", INTENT_FAQ }, { "human_handoff", INTENT_HANDOFF },
	{ "greeting", INTENT_CHAT }, { "thanks", INTENT_CHAT },
};

#define SPEC_COUNT (sizeof(spec) / sizeof(*spec))

size_t
intent_spec_count(void)
{
	return SPEC_COUNT;
}

const char *
intent_spec_id(size_t i)
{
	return spec[i].id;
}

enum intent_kind
intent_spec_kind(size_t i)
{
	return spec[i].kind;
}

bool
intent_id_is_valid(const char *id)
{
	if (strcmp(id, "unknown") == 0)
		return true;
	for (size_t i = 0; i < SPEC_COUNT; i++)
		if (strcmp(spec[i].id, id) == 0)
			return true;
	return false;
}

static const char *const kind_names[] = { "faq", "action", "handoff", "chat" };
static const char *const action_names[] = { NULL, "identifier_reminder", "password_reset", "dossier_status" };

const char *
account_action_name(enum account_action action)
{
	return (size_t)action < sizeof(action_names) / sizeof(*action_names) ? action_names[action] : NULL;
}

enum account_action
account_action_from_name(const char *name)
{
	for (size_t i = 1; i < sizeof(action_names) / sizeof(*action_names); i++)
		if (strcmp(action_names[i], name) == 0)
			return (enum account_action)i;
	return ACCOUNT_ACTION_NONE;
}

const char *
intent_kind_name(enum intent_kind kind)
{
	return kind_names[kind];
}

const char *
audience_name(enum audience audience)
{
	switch (audience) {
	case AUDIENCE_ENTREPRISE: return "entreprise";
	case AUDIENCE_ORGANISME: return "organisme";
	default: return "unknown";
	}
}

double
intent_confidence(double score)
{
	return score <= 0 ? 0.0 : 1.0 - exp(-score / 3.0);
}

struct pattern {
	double weight;          /* positive adds, negative takes off */
	pcre2_code *code;
	char *source;
	unsigned line;
	pcre2_code *anchored;   /* the same pattern compiled anchored, when it is dispatched */
	size_t index;           /* position in the set's list of every pattern */
	int owner;              /* index of its intent, or -1 for an audience cue */
	bool has_requirement;   /* some word it needs later must be in the text (see pattern_index) */
	bool full_scope;        /* matched against the whole message, not only the question */
};

struct intent {
	struct intent_def def;  /* its strings point into the fields below */
	char *id, *faq, *action, *reply, *description, *file;
	struct pattern *patterns;
	size_t pattern_count;
};

struct cue {
	enum audience audience;
	struct pattern pattern;
};

struct intent_set {
	struct intent *intents;
	size_t count;
	struct cue *cues;
	size_t cue_count;
	size_t pattern_count;
	size_t total_patterns;          /* intents' patterns and cues: size of the hit table */
	double *weights;                /* per pattern index, for scoring without touching patterns */
	int *owners;                    /* per pattern index: its intent, -1 for a cue */
	/* A negative pattern written in several intents (a shared list of subjects the FAQ
	 * does not cover) is tried once: pattern alias_to[k] takes the result of alias_of[k]. */
	size_t *alias_to, *alias_of;
	size_t alias_count;
	/* Where each pattern may start, for the question and the full message (chat intents,
	 * cues): see pattern_index. */
	struct pattern_index *index;
	struct pattern **always;        /* patterns without a known start: run on the whole text */
	size_t always_count, always_cap;
	bool dispatch_enabled;
};

struct intent_scratch {
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	unsigned char *hit;             /* per pattern of the set: matched in this message */
	unsigned char *required_seen;   /* per pattern: a word it needs later is in the text */
	size_t hit_cap;
	struct pattern_candidates candidates;
	uint32_t *hits;                 /* indices of the patterns hit, in order */
	size_t hit_count;
	double *scores;                 /* per intent */
	unsigned char *active;          /* per intent: its patterns are worth running; then as many
					 * bytes of scratch for intent_match */
	size_t active_cap;
};

/* Bounds work on hostile input: a pattern that backtracks badly fails instead of hanging. */
#define MATCH_LIMIT 200000

struct intent_scratch *
intent_scratch_new(void)
{
	struct intent_scratch *s = xcalloc(1, sizeof(*s));
	s->md = pcre2_match_data_create(4, NULL);
	s->mctx = pcre2_match_context_create(NULL);
	if (s->md == NULL || s->mctx == NULL)
		abort();
	pcre2_set_match_limit(s->mctx, MATCH_LIMIT);
	return s;
}

void
intent_scratch_free(struct intent_scratch **sp)
{
	struct intent_scratch *s = *sp;
	if (s == NULL)
		return;
	pcre2_match_data_free(s->md);
	pcre2_match_context_free(s->mctx);
	free(s->hit);
	free(s->required_seen);
	free(s->candidates.items);
	free(s->hits);
	free(s->scores);
	free(s->active);
	free(s);
	*sp = NULL;
}

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

static pcre2_code *
compile_with(const char *source, uint32_t extra_options, char **why_r)
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

static pcre2_code *
compile(const char *source, char **why_r)
{
	return compile_with(source, 0, why_r);
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
		re = compile(*src_r, &why);
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

static int
spec_index(const char *id)
{
	for (size_t i = 0; i < SPEC_COUNT; i++)
		if (strcmp(spec[i].id, id) == 0)
			return (int)i;
	return -1;
}

static int
parse_kind(const char *s, enum intent_kind *kind_r)
{
	for (size_t i = 0; i < sizeof(kind_names) / sizeof(*kind_names); i++) {
		if (strcmp(s, kind_names[i]) == 0) {
			*kind_r = (enum intent_kind)i;
			return 0;
		}
	}
	return -1;
}

/* Loads one intent file into *in. Errors are appended to errors. */
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
	bool have_kind = false;
	size_t cap = 0;
	struct line_iter it = { data, 0 };
	unsigned lineno;
	char *line;
	while ((line = next_line(&it, &lineno)) != NULL) {
		if (line[0] == '+' || line[0] == '-') {
			double w;
			const char *src;
			pcre2_code *re = weighted_pattern(line, path, lineno, errors, &w, &src);
			if (re == NULL)
				continue;
			if (in->pattern_count == cap) {
				cap = cap ? cap * 2 : 16;
				in->patterns = xrealloc(in->patterns, cap * sizeof(*in->patterns));
			}
			in->patterns[in->pattern_count++] = (struct pattern){ w, re, xstrdup(src), lineno, NULL, 0, -1, false, false };
			if (lex != NULL)  /* negative patterns' words too: never "corrected" away */
				add_pattern_words(lex, src);
			continue;
		}
		char *colon = strchr(line, ':');
		if (colon == NULL) {
			add_error(errors, path, lineno, "expected \"key: value\" or a weighted pattern (+W PATTERN)");
			continue;
		}
		*colon = '\0';
		char *key = str_trim(line);
		char *value = str_trim(colon + 1);
		char **field = NULL;
		if (strcmp(key, "id") == 0) {
			field = &in->id;
		} else if (strcmp(key, "faq") == 0) {
			field = &in->faq;
		} else if (strcmp(key, "action") == 0) {
			field = &in->action;
		} else if (strcmp(key, "reply") == 0) {
			field = &in->reply;
		} else if (strcmp(key, "description") == 0) {
			field = &in->description;
		} else if (strcmp(key, "kind") == 0) {
			if (parse_kind(value, &in->def.kind) < 0) {
				char *why = xasprintf("unknown kind \"%s\" (faq, action, handoff or chat)", value);
				add_error(errors, path, lineno, why);
				free(why);
			}
			have_kind = true;
		} else if (strcmp(key, "scope") == 0) {
			if (strcmp(value, "full") == 0) {
				in->def.full_scope = true;
			} else if (strcmp(value, "content") == 0) {
				in->def.full_scope = false;
			} else {
				add_error(errors, path, lineno, "scope must be \"content\" or \"full\"");
			}
		} else if (strcmp(key, "max-words") == 0) {
			char *end;
			long n = strtol(value, &end, 10);
			if (*value == '\0' || *end != '\0' || n < 0 || n > 10000)
				add_error(errors, path, lineno, "max-words must be a number from 0 to 10000");
			else
				in->def.max_words = (unsigned)n;
		} else {
			char *why = xasprintf("unknown key \"%s\"", key);
			add_error(errors, path, lineno, why);
			free(why);
		}
		if (field != NULL) {
			if (*value == '\0') {
				char *why = xasprintf("empty value for \"%s\"", key);
				add_error(errors, path, lineno, why);
				free(why);
			} else {
				free(*field);
				*field = xstrdup(value);
			}
		}
	}
	free(data);
	if (errors->len > before)
		return;
	if (in->id == NULL) {
		add_error(errors, path, 0, "missing \"id:\"");
		return;
	}
	if (strcmp(in->id, stem) != 0) {
		char *why = xasprintf("id \"%s\" differs from the file name \"%s.intent\"", in->id, stem);
		add_error(errors, path, 0, why);
		free(why);
		return;
	}
	int si = spec_index(in->id);
	if (si < 0) {
		char *why = xasprintf("\"%s\" is not an intent id of the spec", in->id);
		add_error(errors, path, 0, why);
		free(why);
		return;
	}
	if (!have_kind) {
		add_error(errors, path, 0, "missing \"kind:\"");
	} else if (in->def.kind != spec[si].kind) {
		char *why = xasprintf("kind \"%s\" differs from the spec's \"%s\"",
				      kind_names[in->def.kind], kind_names[spec[si].kind]);
		add_error(errors, path, 0, why);
		free(why);
	}
	bool has_positive = false;
	for (size_t i = 0; i < in->pattern_count; i++)
		has_positive |= in->patterns[i].weight > 0;
	if (!has_positive)
		add_error(errors, path, 0, "no positive pattern: the intent could never be recognised");
	if (in->def.kind == INTENT_CHAT && in->reply == NULL)
		add_error(errors, path, 0, "a chat intent needs \"reply:\" (the template answering it)");
	if (in->def.kind == INTENT_ACTION && in->action == NULL)
		add_error(errors, path, 0, "an action intent needs \"action:\"");
	else if (in->action != NULL && (in->def.action = account_action_from_name(in->action)) == ACCOUNT_ACTION_NONE) {
		char *why = xasprintf("action: \"%s\" is not an action of dialogd (identifier_reminder, password_reset or "
				      "dossier_status)", in->action);
		add_error(errors, path, 0, why);
		free(why);
	}
	if ((in->def.kind == INTENT_FAQ || in->def.kind == INTENT_HANDOFF) && in->faq == NULL)
		add_error(errors, path, 0, "a faq or handoff intent needs \"faq:\"");
}

static void
load_cues(const char *path, struct intent_set *set, struct lexicon *lex, struct strbuf *errors)
{
	char *err = NULL;
	char *data = text_read_file(path, 1024 * 1024, NULL, &err);
	if (data == NULL) {
		strbuf_addf(errors, "%s\n", err);
		free(err);
		return;
	}
	size_t cap = 0;
	struct line_iter it = { data, 0 };
	unsigned lineno;
	char *line;
	while ((line = next_line(&it, &lineno)) != NULL) {
		enum audience aud;
		const char *rest;
		if (str_starts_with(line, "entreprise ")) {
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
		set->cues[set->cue_count++] = (struct cue){ aud, { w, re, xstrdup(src), lineno, NULL, 0, -1, false, false } };
		if (lex != NULL)
			add_pattern_words(lex, src);
	}
	free(data);
}

static void build_dispatch(struct intent_set *set);

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
	for (size_t i = 0; i < SPEC_COUNT; i++) {
		if (intent_set_find(set, spec[i].id) == NULL) {
			char *why = xasprintf("no file for intent \"%s\" (expected %s.intent)", spec[i].id, spec[i].id);
			add_error(&errors, dir, 0, why);
			free(why);
		}
	}
	char *cues = xasprintf("%s/audience.cues", dir);
	load_cues(cues, set, lex, &errors);
	free(cues);
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
	build_dispatch(set);
	return set;
}

size_t
intent_set_count(const struct intent_set *set)
{
	return set->count;
}

size_t
intent_set_pattern_count(const struct intent_set *set)
{
	return set->pattern_count + set->cue_count;
}

const struct intent_def *
intent_set_get(const struct intent_set *set, size_t i)
{
	return &set->intents[i].def;
}

const struct intent_def *
intent_set_find(const struct intent_set *set, const char *id)
{
	for (size_t i = 0; i < set->count; i++)
		if (set->intents[i].id != NULL && strcmp(set->intents[i].id, id) == 0)
			return &set->intents[i].def;
	return NULL;
}

/* Registers pat's prefixes in the set's index, or, when its start cannot be read, puts it
 * with the patterns run on the whole text. */
static void
dispatch_add(struct intent_set *set, struct pattern *pat)
{
	struct prefix_list prefixes = {0};
	char *why = NULL;
	if (pattern_start_prefixes(pat->source, &prefixes) < 0 ||
	    (pat->anchored = compile_with(pat->source, PCRE2_ANCHORED, &why)) == NULL) {
		free(why);
		prefix_list_clear(&prefixes);
		if (set->always_count == set->always_cap) {
			set->always_cap = set->always_cap ? set->always_cap * 2 : 16;
			set->always = xrealloc(set->always, set->always_cap * sizeof(*set->always));
		}
		set->always[set->always_count++] = pat;
		return;
	}
	for (size_t i = 0; i < prefixes.count; i++)
		pattern_index_add(set->index, prefixes.items[i], (uint32_t)pat->index, pat->owner, false,
				  pat->full_scope, pat);
	prefix_list_clear(&prefixes);
	struct prefix_list required = {0};
	if (pattern_required_prefixes(pat->source, &required) == 0) {
		pat->has_requirement = true;
		for (size_t i = 0; i < required.count; i++)
			pattern_index_add(set->index, required.items[i], (uint32_t)pat->index, pat->owner, true,
					  pat->full_scope, pat);
	}
	prefix_list_clear(&required);
}

static void
build_dispatch(struct intent_set *set)
{
	size_t index = 0;
	set->index = pattern_index_new();
	set->weights = xcalloc(set->pattern_count + set->cue_count + 1, sizeof(*set->weights));
	set->owners = xcalloc(set->pattern_count + set->cue_count + 1, sizeof(*set->owners));
	set->alias_to = xcalloc(set->pattern_count + 1, sizeof(*set->alias_to));
	set->alias_of = xcalloc(set->pattern_count + 1, sizeof(*set->alias_of));
	struct strmap *negatives = strmap_new();  /* "scope source" → first pattern */
	for (size_t i = 0; i < set->count; i++) {
		struct intent *in = &set->intents[i];
		for (size_t k = 0; k < in->pattern_count; k++) {
			set->weights[index] = in->patterns[k].weight;
			set->owners[index] = (int)i;
			struct pattern *p = &in->patterns[k];
			p->index = index++;
			p->owner = (int)i;
			p->full_scope = in->def.full_scope;
			if (p->weight < 0) {
				char *key = xasprintf("%c%s", p->full_scope ? 'f' : 'q', p->source);
				struct pattern *first = strmap_get(negatives, key, strlen(key));
				if (first == NULL)
					strmap_put(negatives, key, strlen(key), p);
				free(key);
				if (first != NULL) {
					set->alias_to[set->alias_count] = p->index;
					set->alias_of[set->alias_count++] = first->index;
					continue;
				}
			}
			dispatch_add(set, p);
		}
	}
	strmap_free(&negatives);
	for (size_t i = 0; i < set->cue_count; i++) {
		set->owners[index] = -1;
		set->cues[i].pattern.index = index++;
		set->cues[i].pattern.owner = -1;
		set->cues[i].pattern.full_scope = true;
		dispatch_add(set, &set->cues[i].pattern);
	}
	set->total_patterns = index;
	pattern_index_freeze(set->index);
	set->dispatch_enabled = true;
}

void
intent_set_use_dispatch(struct intent_set *set, bool enabled)
{
	set->dispatch_enabled = enabled;
}

/* ---- matching ---- */

/* Returns 1 on a match, 0 on none, -1 on a PCRE2 run-time error. */
static int
run_at(const pcre2_code *re, struct intent_scratch *s, const char *text, size_t len, size_t offset)
{
	int rc = pcre2_match(re, (PCRE2_SPTR)text, len, offset, PCRE2_NO_UTF_CHECK, s->md, s->mctx);
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	return -1;
}

static int
fail_match(const char *file, unsigned line, char **error_r)
{
	*error_r = xasprintf("%s:%u: the pattern exceeded the match limit", file, line);
	return -1;
}

static const char *
pattern_file(const struct intent_set *set, const struct pattern *p)
{
	for (size_t i = 0; i < set->count; i++) {
		const struct intent *in = &set->intents[i];
		if (p >= in->patterns && p < in->patterns + in->pattern_count)
			return in->file;
	}
	return "audience.cues";
}

/* Runs the patterns of one sign (positive or negative) whose intent is active: those
 * without a known start on the whole texts, the others at their candidate starts. */
static int
run_patterns(const struct intent_set *set, struct intent_scratch *s, bool positive,
	     const char *question, size_t question_len, const char *full, size_t full_len, char **error_r)
{
	{
		for (size_t i = 0; i < set->always_count; i++) {
			struct pattern *p = set->always[i];
			const char *text = p->full_scope ? full : question;
			size_t len = p->full_scope ? full_len : question_len;
			if ((p->weight > 0) != positive || (p->owner >= 0 && !s->active[p->owner]) || len == 0)
				continue;
			int rc = run_at(p->code, s, text, len, 0);
			if (rc < 0)
				return fail_match(pattern_file(set, p), p->line, error_r);
			if (rc > 0 && !s->hit[p->index]) {
				s->hit[p->index] = 1;
				s->hits[s->hit_count++] = (uint32_t)p->index;
			}
		}
	}
	for (size_t c = 0; c < s->candidates.count; c++) {
		const struct pattern_candidate *cd = &s->candidates.items[c];
		const struct pattern *p = cd->payload;
		if ((p->weight > 0) != positive || s->hit[cd->index] ||
		    (p->owner >= 0 && !s->active[p->owner]) ||
		    (p->has_requirement && !s->required_seen[cd->index]))
			continue;
		int rc = run_at(p->anchored, s, cd->text, cd->len, cd->pos);
		if (rc < 0)
			return fail_match(pattern_file(set, p), p->line, error_r);
		if (rc > 0) {
			s->hit[cd->index] = 1;
			s->hits[s->hit_count++] = cd->index;
		}
	}
	return 0;
}

/* Slow reference path: every pattern on the whole text (tests compare both paths). */
static int
match_all(const struct intent_set *set, struct intent_scratch *s, const char *full, size_t full_len,
	  const char *question, size_t question_len, char **error_r)
{
	for (size_t i = 0; i < set->count; i++) {
		const struct intent *in = &set->intents[i];
		const char *text = in->def.full_scope ? full : question;
		size_t len = in->def.full_scope ? full_len : question_len;
		for (size_t k = 0; k < in->pattern_count && len > 0; k++) {
			int rc = run_at(in->patterns[k].code, s, text, len, 0);
			if (rc < 0)
				return fail_match(in->file, in->patterns[k].line, error_r);
			s->hit[in->patterns[k].index] = rc > 0;
			if (rc > 0)
				s->hits[s->hit_count++] = (uint32_t)in->patterns[k].index;
		}
	}
	for (size_t i = 0; i < set->cue_count && full_len > 0; i++) {
		int rc = run_at(set->cues[i].pattern.code, s, full, full_len, 0);
		if (rc < 0)
			return fail_match("audience.cues", set->cues[i].pattern.line, error_r);
		s->hit[set->cues[i].pattern.index] = rc > 0;
	}
	return 0;
}

static void
insert_candidate(struct intent_result *r, const struct intent_def *def, double score)
{
	size_t n = r->candidate_count;
	size_t pos = n;
	while (pos > 0 && r->candidates[pos - 1].score < score)
		pos--;
	if (pos >= INTENT_MAX_CANDIDATES)
		return;
	size_t last = n < INTENT_MAX_CANDIDATES ? n : INTENT_MAX_CANDIDATES - 1;
	memmove(&r->candidates[pos + 1], &r->candidates[pos], (last - pos) * sizeof(*r->candidates));
	r->candidates[pos] = (struct intent_candidate){ def, score, intent_confidence(score) };
	if (n < INTENT_MAX_CANDIDATES)
		r->candidate_count++;
}

/* Sums the audience cues that matched; the cue that weighed most is reported, with the
 * words it matched (one more, anchored, run of that cue). */
static int
decide_audience(const struct intent_set *set, struct intent_scratch *s, const char *full, size_t len,
		struct intent_result *r, char **error_r)
{
	double total[3] = { 0, 0, 0 };
	const struct pattern *best[3] = { NULL, NULL, NULL };
	for (size_t i = 0; i < set->cue_count; i++) {
		const struct cue *c = &set->cues[i];
		if (!s->hit[c->pattern.index])
			continue;
		total[c->audience] += c->pattern.weight;
		if (best[c->audience] == NULL || c->pattern.weight > best[c->audience]->weight)
			best[c->audience] = &c->pattern;
	}
	enum audience a = AUDIENCE_UNKNOWN;
	if (total[AUDIENCE_ENTREPRISE] >= 2 && total[AUDIENCE_ENTREPRISE] > total[AUDIENCE_ORGANISME])
		a = AUDIENCE_ENTREPRISE;
	else if (total[AUDIENCE_ORGANISME] >= 2 && total[AUDIENCE_ORGANISME] > total[AUDIENCE_ENTREPRISE])
		a = AUDIENCE_ORGANISME;
	r->audience = a;
	r->audience_cue[0] = '\0';
	if (a == AUDIENCE_UNKNOWN || best[a] == NULL)
		return 0;
	int rc = run_at(best[a]->code, s, full, len, 0);
	if (rc < 0)
		return fail_match("audience.cues", best[a]->line, error_r);
	if (rc > 0) {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
		size_t n = ov[1] - ov[0];
		if (n >= sizeof(r->audience_cue))
			n = sizeof(r->audience_cue) - 1;
		memcpy(r->audience_cue, full + ov[0], n);
		r->audience_cue[n] = '\0';
	}
	return 0;
}

int
intent_match(const struct intent_set *set, struct intent_scratch *s, const char *full,
	     const char *question, size_t question_words, struct intent_result *r, char **error_r)
{
	memset(r, 0, sizeof(*r));
	r->question_words = question_words;
	if (s->hit_cap < set->total_patterns) {
		s->hit = xrealloc(s->hit, set->total_patterns);
		s->required_seen = xrealloc(s->required_seen, set->total_patterns);
		s->hits = xrealloc(s->hits, set->total_patterns * sizeof(*s->hits));
		s->hit_cap = set->total_patterns;
	}
	s->hit_count = 0;
	memset(s->hit, 0, set->total_patterns);
	memset(s->required_seen, 0, set->total_patterns);
	if (s->active_cap < set->count) {
		s->active = xrealloc(s->active, 2 * set->count);  /* active, then "scored" */
		s->scores = xrealloc(s->scores, set->count * sizeof(*s->scores));
		s->active_cap = set->count;
	}
	/* An intent excluded by max-words need not run anything. */
	for (size_t i = 0; i < set->count; i++) {
		const struct intent *in = &set->intents[i];
		s->active[i] = !(in->def.max_words > 0 && question_words > in->def.max_words);
	}
	size_t full_len = strlen(full), question_len = strlen(question);
	if (set->dispatch_enabled) {
		/* A chat line is usually both the question and the whole message: one walk. */
		s->candidates.count = 0;
		if (strcmp(question, full) == 0) {
			pattern_index_walk(set->index, full, full_len, PATTERN_INDEX_QUESTION | PATTERN_INDEX_FULL,
					   s->active, s->required_seen, &s->candidates);
		} else {
			pattern_index_walk(set->index, question, question_len, PATTERN_INDEX_QUESTION,
					   s->active, s->required_seen, &s->candidates);
			pattern_index_walk(set->index, full, full_len, PATTERN_INDEX_FULL,
					   s->active, s->required_seen, &s->candidates);
		}
		if (run_patterns(set, s, true, question, question_len, full, full_len, error_r) < 0)
			return -1;
		/* Negative patterns only matter to intents that scored. */
		unsigned char *scored = s->active + set->count;
		memset(scored, 0, set->count);
		for (size_t h = 0; h < s->hit_count; h++)
			if (set->owners[s->hits[h]] >= 0)
				scored[set->owners[s->hits[h]]] = 1;
		for (size_t i = 0; i < set->count; i++)
			s->active[i] = s->active[i] && scored[i];
		/* A shared negative runs under its first intent: wake that one when any intent
		 * sharing it scored (its other negatives then only lower a score that is not
		 * positive: no candidate changes). */
		for (size_t k = 0; k < set->alias_count; k++)
			if (s->active[set->owners[set->alias_to[k]]])
				s->active[set->owners[set->alias_of[k]]] = 1;
		if (run_patterns(set, s, false, question, question_len, full, full_len, error_r) < 0)
			return -1;
		for (size_t k = 0; k < set->alias_count; k++) {
			if (s->hit[set->alias_of[k]] && !s->hit[set->alias_to[k]]) {
				s->hit[set->alias_to[k]] = 1;
				s->hits[s->hit_count++] = (uint32_t)set->alias_to[k];
			}
		}
	} else if (match_all(set, s, full, full_len, question, question_len, error_r) < 0) {
		return -1;
	}
	for (size_t i = 0; i < set->count; i++)
		s->scores[i] = 0;
	for (size_t h = 0; h < s->hit_count; h++)
		if (set->owners[s->hits[h]] >= 0)
			s->scores[set->owners[s->hits[h]]] += set->weights[s->hits[h]];
	for (size_t i = 0; i < set->count; i++) {
		const struct intent *in = &set->intents[i];
		if (in->def.max_words > 0 && question_words > in->def.max_words)
			continue;
		if (s->scores[i] > 0)
			insert_candidate(r, &in->def, s->scores[i]);
	}
	return decide_audience(set, s, full, full_len, r, error_r);
}
