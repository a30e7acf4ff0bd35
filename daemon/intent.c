/* intent — intent files, PCRE2 compilation and scoring (see intent.h).
 * Speed: trying several hundred patterns at every position of every message is too slow
 * for a chat (each pattern is an alternation, tried at each offset). Most patterns start
 * with \b and a literal ("\b(?:oubli\w*|perdu)"): at load time the literal prefixes that
 * any match must start with are extracted, and at match time the pattern is only tried,
 * anchored, at the starts of words beginning with one of them. Patterns whose start cannot
 * be known run on the whole text as before. Both paths give the same result; a test
 * checks it on the dev set. Everything is compiled with the JIT at load time. */
#include "autoconf.h"
#include "intent.h"
#include "lexicon.h"
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
	bool has_requirement;   /* some word it needs later must be in the text (see walk_scope) */
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

/* A pattern that can only match at the start of a word beginning with prefix. */
struct dispatch_entry {
	const char *prefix;     /* points into the set's prefix storage */
	uint32_t len;
	uint32_t index;         /* pattern->index and pattern->owner, copied here so that */
	int32_t owner;          /* skipping an entry touches no other memory */
	bool requirement;       /* a word the pattern needs further on, not where it starts */
	bool full_scope;        /* copied from the pattern */
	struct pattern *pattern;
};

struct dispatch_list {
	struct dispatch_entry *entries;
	size_t count, cap;
};

/* A trie over the prefixes: walking the text from a word start letter by letter meets
 * every prefix found there, without hashing or comparing strings. Nodes are small (first child,
 * next sibling) so that the whole trie stays in the processor's cache. */
#define TRIE_ROOT_FANOUT 37     /* a-z, 0-9, anything else */

struct trie_node {
	uint32_t first_child;   /* node index, 0 = none (node 0 is unused) */
	uint32_t next_sibling;  /* node index, 0 = none */
	int32_t list;           /* index in lists of the prefixes whose first word ends here, or -1 */
	unsigned char c;        /* the letter leading to this node */
};

/* Patterns of one scope (the question, or the full message), indexed by their prefixes:
 * "mot de passe" (of "\bmot de passe (?:oubli\w*|perdu)"), "oubli" (of "\boubli\w*"). */
struct dispatch {
	uint32_t root[TRIE_ROOT_FANOUT]; /* first-letter nodes, 0 = none */
	/* Once built, the walk reads a compact copy: per node, its list and its children,
	 * which are contiguous, so that a step touches one or two cache lines. */
	struct walk_node {
		uint32_t child_start;   /* first of its children in walk_children */
		int32_t list;           /* as trie_node.list */
		uint32_t child_count;
		int32_t table;          /* a node with many children: its row in walk_tables, else -1 */
	} *walk_nodes;
	uint32_t *walk_tables;          /* rows of WALK_TABLE_WIDTH child nodes, 0 = none */
	struct walk_child {
		uint32_t node;
		unsigned char c;
	} *walk_children;
	struct trie_node *nodes;        /* nodes[0] is unused */
	size_t node_count, node_cap;
	struct dispatch_list *lists;    /* owned */
	size_t list_count, list_cap;
	struct pattern **always;        /* patterns without a known start: run on the whole text */
	size_t always_count, always_cap;
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
	/* Patterns seen by the question, and by the full message (chat intents, cues). */
	struct dispatch dispatch;
	char **prefixes;                /* owned storage of every dispatch prefix */
	size_t prefix_count, prefix_cap;
	bool dispatch_enabled;
};

struct intent_scratch {
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	unsigned char *hit;             /* per pattern of the set: matched in this message */
	unsigned char *required_seen;   /* per pattern: a word it needs later is in the text */
	size_t hit_cap;
	struct candidate {
		uint32_t index;
		uint32_t pos;
		const char *text;       /* the scope's text: the question or the full message */
		size_t len;
		struct pattern *pattern;
	} *candidates;
	size_t candidate_count, candidate_cap;
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
	free(s->candidates);
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
dispatch_clear(struct dispatch *d)
{
	for (size_t i = 0; i < d->list_count; i++)
		free(d->lists[i].entries);
	free(d->lists);
	free(d->nodes);
	free(d->walk_nodes);
	free(d->walk_tables);
	free(d->walk_children);
	free(d->always);
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
	dispatch_clear(&set->dispatch);

	str_array_free(set->prefixes, set->prefix_count);
	free(set->weights);
	free(set->owners);
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
	char *data = file_read_all(path, 1024 * 1024, NULL, &err);
	in->file = xstrdup(path);
	if (data == NULL) {
		add_error(errors, path, 0, err);
		free(err);
		return;
	}
	size_t before = errors->len;
	if (text_validate(data, strlen(data), &err) < 0) {
		add_error(errors, path, 0, err);
		free(err);
		free(data);
		return;
	}
	bool have_kind = false;
	size_t cap = 0;
	struct line_iter it = { data, 0 };
	unsigned lineno;
	char *line;
	while ((line = next_line(&it, &lineno)) != NULL) {
		if (line[0] == '+' || line[0] == '-') {
			double w;
			const char *src;
			char *why = NULL;
			if (parse_weighted(line, &w, &src, &why) < 0) {
				add_error(errors, path, lineno, why);
				free(why);
				continue;
			}
			pcre2_code *re = compile(src, &why);
			if (re == NULL) {
				add_error(errors, path, lineno, why);
				free(why);
				continue;
			}
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
	if ((in->def.kind == INTENT_FAQ || in->def.kind == INTENT_HANDOFF) && in->faq == NULL)
		add_error(errors, path, 0, "a faq or handoff intent needs \"faq:\"");
}

static void
load_cues(const char *path, struct intent_set *set, struct lexicon *lex, struct strbuf *errors)
{
	char *err = NULL;
	char *data = file_read_all(path, 1024 * 1024, NULL, &err);
	if (data == NULL) {
		add_error(errors, path, 0, err);
		free(err);
		return;
	}
	if (text_validate(data, strlen(data), &err) < 0) {
		add_error(errors, path, 0, err);
		free(err);
		free(data);
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
		char *why = NULL;
		if (parse_weighted(rest, &w, &src, &why) < 0) {
			add_error(errors, path, lineno, why);
			free(why);
			continue;
		}
		pcre2_code *re = compile(src, &why);
		if (re == NULL) {
			add_error(errors, path, lineno, why);
			free(why);
			continue;
		}
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
		in->def.action = in->action;
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

/* ---- start prefixes ---- */

static bool
is_meta(char c)
{
	return strchr("\\()[].*+?{}|^$", c) != NULL;
}

/* Moves past one alternative of an alternation: to the '|' or ')' that ends it at depth 0. */
static const char *
skip_alternative(const char *p)
{
	int depth = 0;
	while (*p) {
		if (*p == '\\') {
			p += p[1] ? 2 : 1;
			continue;
		}
		if (*p == '[') {
			p++;
			if (*p == '^')
				p++;
			if (*p == ']')
				p++;
			while (*p && *p != ']') {
				if (*p == '\\' && p[1])
					p++;
				p++;
			}
			if (*p)
				p++;
			continue;
		}
		if (*p == '(')
			depth++;
		else if (*p == ')') {
			if (depth == 0)
				return p;
			depth--;
		} else if (*p == '|' && depth == 0)
			return p;
		p++;
	}
	return p;
}

/* Literal beginnings of a (sub)pattern. complete[i] says that items[i] is the whole of
 * what its alternative matches, so what follows the group may be appended to it. */
struct prefix_list {
	char **items;
	bool *complete;
	size_t count, cap;
};

/* Longer prefixes filter better, but every combination is one more entry to check. */
#define MAX_PREFIXES_PER_PATTERN 64
#define MAX_PREFIX_LEN 48

static void
prefix_add(struct prefix_list *l, const char *s, size_t n, bool complete)
{
	if (l->count == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->items = xrealloc(l->items, l->cap * sizeof(*l->items));
		l->complete = xrealloc(l->complete, l->cap * sizeof(*l->complete));
	}
	l->complete[l->count] = complete;
	l->items[l->count++] = xstrndup(s, n);
}

static void
prefix_list_clear(struct prefix_list *l)
{
	str_array_free(l->items, l->count);
	free(l->complete);
	memset(l, 0, sizeof(*l));
}

static void
prefix_list_move(struct prefix_list *to, struct prefix_list *from)
{
	for (size_t i = 0; i < from->count; i++) {
		prefix_add(to, from->items[i], strlen(from->items[i]), from->complete[i]);
	}
	prefix_list_clear(from);
}

static int alternation_prefixes(const char **pp, bool need_boundary, struct prefix_list *out);

/* Expands a simple character class ("[a-z]", "[0-9]", "[ab]") into one-letter
 * alternatives. Returns the position after ']', or NULL for a class it does not expand. */
static const char *
class_prefixes(const char *p, struct prefix_list *out)
{
	p++;  /* '[' */
	if (*p == '^' || *p == ']')
		return NULL;
	while (*p && *p != ']') {
		unsigned char from = (unsigned char)*p, to = from;
		if (!isalnum(from))
			return NULL;
		if (p[1] == '-' && p[2] && p[2] != ']') {
			to = (unsigned char)p[2];
			if (!isalnum(to) || to < from)
				return NULL;
			p += 3;
		} else {
			p++;
		}
		for (unsigned c = from; c <= to; c++) {
			char ch = (char)c;
			prefix_add(out, &ch, 1, true);
		}
	}
	return *p == ']' ? p + 1 : NULL;
}

static bool
is_zero_quantifier(const char *p)
{
	return *p == '?' || *p == '*' || (*p == '{' && p[1] == '0');
}

static bool
is_quantifier(const char *p)
{
	return *p == '?' || *p == '*' || *p == '+' || *p == '{';
}

/* cur := every item of cur followed by every item of next (both complete so far). Returns
 * -1, leaving cur alone, when that would make too many or too long prefixes. */
static int
prefix_cross(struct prefix_list *cur, const struct prefix_list *next, bool *all_complete_r)
{
	if (cur->count * next->count > MAX_PREFIXES_PER_PATTERN)
		return -1;
	struct prefix_list out = {0};
	bool all = true;
	for (size_t i = 0; i < cur->count; i++) {
		for (size_t k = 0; k < next->count; k++) {
			size_t a = strlen(cur->items[i]), b = strlen(next->items[k]);
			if (a + b > MAX_PREFIX_LEN) {
				prefix_list_clear(&out);
				return -1;
			}
			char *joined = xasprintf("%s%s", cur->items[i], next->items[k]);
			prefix_add(&out, joined, a + b, next->complete[k]);
			all &= next->complete[k];
			free(joined);
		}
	}
	prefix_list_clear(cur);
	*cur = out;
	*all_complete_r = all;
	return 0;
}

static void
mark_incomplete(struct prefix_list *l)
{
	for (size_t i = 0; i < l->count; i++)
		l->complete[i] = false;
}

/* The literal beginnings of the sequence at p (one alternative, up to '|', ')' or the
 * end), appended to out. Returns 0, or -1 when a match could start with anything (\w,
 * ".", a negated class…). A beginning is only a necessary condition: zero-width
 * assertions (\b, ^) are skipped, and the walk stops at the first element it cannot
 * spell out. */
static int
sequence_prefixes(const char *p, struct prefix_list *out)
{
	struct prefix_list cur = {0};
	prefix_add(&cur, "", 0, true);
	bool extendable = true;  /* every item of cur is complete */
	bool reached_end = false; /* the whole alternative was spelled out */
	while (extendable) {
		while ((p[0] == '\\' && p[1] == 'b') || p[0] == '^')
			p += p[0] == '^' ? 1 : 2;
		if (*p == '\0' || *p == '|' || *p == ')') {
			reached_end = true;
			break;
		}
		struct prefix_list next = {0};
		const char *after = NULL;
		const char *start = p;
		while (*p && !is_meta(*p))
			p++;
		if (p > start) {
			size_t n = (size_t)(p - start);
			bool quantified = is_quantifier(p);
			if (is_zero_quantifier(p))
				n--;  /* the last letter may be absent */
			bool all_complete = false;
			if (n > 0)
				prefix_add(&next, start, n, !quantified);
			if (next.count == 0 || prefix_cross(&cur, &next, &all_complete) < 0) {
				prefix_list_clear(&next);
				break;
			}
			prefix_list_clear(&next);
			extendable = all_complete;
			if (quantified)
				break;
			continue;
		} else if (p[0] == '\\' && p[1] == 'd') {
			for (char c = '0'; c <= '9'; c++)
				prefix_add(&next, &c, 1, true);
			after = p + 2;
		} else if (p[0] == '[') {
			after = class_prefixes(p, &next);
		} else if (p[0] == '(' && (p[1] != '?' || p[2] == ':')) {
			const char *q = p + (p[1] == '?' ? 3 : 1);
			if (alternation_prefixes(&q, false, &next) == 0 && *q == ')')
				after = q + 1;
			else
				prefix_list_clear(&next);
			if (after != NULL && *after == '?' && after[1] != '?' && after[1] != '+' &&
			    cur.count == 1 && cur.items[0][0] == '\0') {
				/* An optional group first: a match starts with it or with what follows. */
				struct prefix_list rest = {0};
				if (sequence_prefixes(after + 1, &rest) < 0) {
					prefix_list_clear(&rest);
					prefix_list_clear(&next);
					prefix_list_clear(&cur);
					return -1;
				}
				mark_incomplete(&next);
				prefix_list_move(&next, &rest);
				prefix_list_clear(&cur);
				prefix_list_move(out, &next);
				return 0;
			}
		}
		if (after == NULL || next.count == 0 || is_zero_quantifier(after)) {
			prefix_list_clear(&next);
			break;  /* cannot spell what comes next: cur is what we know */
		}
		if (is_quantifier(after))
			mark_incomplete(&next);  /* "x+" or "(a|b){2}": its first copy is certain */
		bool all_complete = false;
		if (prefix_cross(&cur, &next, &all_complete) < 0) {
			prefix_list_clear(&next);
			break;
		}
		prefix_list_clear(&next);
		extendable = all_complete;
		p = after;
		if (is_quantifier(p))
			break;
	}
	for (size_t i = 0; i < cur.count; i++) {
		if (cur.items[i][0] == '\0' || !isalnum((unsigned char)cur.items[i][0])) {
			prefix_list_clear(&cur);
			return -1;
		}
	}
	if (!reached_end)
		mark_incomplete(&cur);
	prefix_list_move(out, &cur);
	return 0;
}

/* Every alternative of the alternation at *pp; leaves *pp on the closing ')' or the end. */
static int
alternation_prefixes(const char **pp, bool need_boundary, struct prefix_list *out)
{
	const char *p = *pp;
	for (;;) {
		if (need_boundary) {
			/* Each top-level alternative must start at a word start. */
			if (p[0] == '^')
				p++;
			else if (p[0] == '\\' && p[1] == 'b')
				p += 2;
			else
				return -1;
		}
		if (sequence_prefixes(p, out) < 0)
			return -1;
		p = skip_alternative(p);
		if (*p != '|')
			break;
		p++;
	}
	*pp = p;
	return 0;
}



static inline unsigned
trie_slot(unsigned char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '0' && c <= '9')
		return 26 + (c - '0');
	return 36;
}

static uint32_t
trie_new_node(struct dispatch *d, unsigned char c)
{
	if (d->node_count == 0)
		d->node_count = 1;  /* index 0 means "none" */
	if (d->node_count >= d->node_cap) {
		d->node_cap = d->node_cap ? d->node_cap * 2 : 256;
		d->nodes = xrealloc(d->nodes, d->node_cap * sizeof(*d->nodes));
	}
	d->nodes[d->node_count] = (struct trie_node){ 0, 0, -1, c };
	return (uint32_t)d->node_count++;
}

/* The child of node (0: the root) reached by letter c, or 0. */
static inline uint32_t
trie_child(const struct dispatch *d, uint32_t node, unsigned char c)
{
	if (node == 0) {
		unsigned slot = trie_slot(c);
		return slot == TRIE_ROOT_FANOUT - 1 ? 0 : d->root[slot];
	}
	for (uint32_t k = d->nodes[node].first_child; k != 0; k = d->nodes[k].next_sibling)
		if (d->nodes[k].c == c)
			return k;
	return 0;
}

/* Nodes with at least this many children get a direct table (one load per step instead
 * of a scan); the others keep a short contiguous list. */
#define WALK_TABLE_MIN_CHILDREN 4
#define WALK_TABLE_WIDTH 37     /* a-z, 0-9, space */

static inline int
walk_slot(unsigned char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '0' && c <= '9')
		return 26 + (c - '0');
	return c == ' ' ? 36 : -1;
}

/* Lays each node's children out contiguously, so that the walk reads one short run of
 * bytes per letter instead of following sibling links across memory. */
static void
dispatch_freeze(struct dispatch *d)
{
	if (d->node_count == 0)
		return;
	d->walk_nodes = xcalloc(d->node_count, sizeof(*d->walk_nodes));
	d->walk_children = xcalloc(d->node_count, sizeof(*d->walk_children));
	uint32_t next = 0;
	size_t rows = 0;
	for (size_t n = 1; n < d->node_count; n++) {
		struct walk_node *w = &d->walk_nodes[n];
		w->child_start = next;
		w->list = d->nodes[n].list;
		bool tabulable = true;
		for (uint32_t k = d->nodes[n].first_child; k != 0; k = d->nodes[k].next_sibling) {
			d->walk_children[next++] = (struct walk_child){ k, d->nodes[k].c };
			w->child_count++;
			tabulable &= walk_slot(d->nodes[k].c) >= 0;
		}
		w->table = -1;
		if (tabulable && w->child_count >= WALK_TABLE_MIN_CHILDREN) {
			d->walk_tables = xrealloc(d->walk_tables, (rows + 1) * WALK_TABLE_WIDTH * sizeof(*d->walk_tables));
			uint32_t *row = d->walk_tables + rows * WALK_TABLE_WIDTH;
			memset(row, 0, WALK_TABLE_WIDTH * sizeof(*row));
			for (uint32_t k = 0; k < w->child_count; k++) {
				const struct walk_child *ch = &d->walk_children[w->child_start + k];
				row[walk_slot(ch->c)] = ch->node;
			}
			w->table = (int32_t)rows++;
		}
	}
}

/* The walk's step (after dispatch_freeze): the child of node reached by letter c, or 0. */
static inline uint32_t
trie_step(const struct dispatch *d, uint32_t node, unsigned char c)
{
	if (node == 0) {
		unsigned slot = trie_slot(c);
		return slot == TRIE_ROOT_FANOUT - 1 ? 0 : d->root[slot];
	}
	const struct walk_node *w = &d->walk_nodes[node];
	if (w->table >= 0) {
		int slot = walk_slot(c);
		return slot < 0 ? 0 : d->walk_tables[(size_t)w->table * WALK_TABLE_WIDTH + (size_t)slot];
	}
	const struct walk_child *ch = d->walk_children + w->child_start;
	for (uint32_t k = 0; k < w->child_count; k++)
		if (ch[k].c == c)
			return ch[k].node;
	return 0;
}

static struct dispatch_list *
dispatch_list_for(struct dispatch *d, const char *key, size_t n)
{
	uint32_t node = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)key[i];
		if (node == 0 && trie_slot(c) == TRIE_ROOT_FANOUT - 1)
			return NULL;  /* keys start with a letter or a digit (see sequence_prefixes) */
		uint32_t next = trie_child(d, node, c);
		if (next == 0) {
			next = trie_new_node(d, c);
			if (node == 0) {
				d->root[trie_slot(c)] = next;
			} else {
				d->nodes[next].next_sibling = d->nodes[node].first_child;
				d->nodes[node].first_child = next;
			}
		}
		node = next;
	}
	if (d->nodes[node].list < 0) {
		if (d->list_count == d->list_cap) {
			d->list_cap = d->list_cap ? d->list_cap * 2 : 64;
			d->lists = xrealloc(d->lists, d->list_cap * sizeof(*d->lists));
		}
		memset(&d->lists[d->list_count], 0, sizeof(*d->lists));
		d->nodes[node].list = (int32_t)d->list_count++;
	}
	return &d->lists[d->nodes[node].list];
}

/* Finds the last element of a pattern that every match needs and that starts a word
 * ("rupture" in "\bcontrat (?:\w+ ){0,8}(?:rupture|fin)\b"), and returns its literal
 * beginnings. A pattern is only worth trying where it starts if one of them is in the
 * text: most candidates fail there, after trying every gap of "(?:\w+ ){0,8}". */
/* Moves past one element of a pattern at p (a literal word, an escape, a class, a group)
 * and its quantifier. Returns the end, or NULL on unbalanced parentheses; *optional_r
 * tells whether the element may be absent. */
static const char *
skip_element(const char *p, bool *optional_r)
{
	if (*p == '\\') {
		p += p[1] ? 2 : 1;
	} else if (*p == '[') {
		p++;
		while (*p && *p != ']')
			p += (*p == '\\' && p[1]) ? 2 : 1;
		if (*p)
			p++;
	} else if (*p == '(') {
		int depth = 0;
		for (p++; *p && !(*p == ')' && depth == 0); p++) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')')
				depth--;
		}
		if (*p == '\0')
			return NULL;
		p++;
	} else if (isalnum((unsigned char)*p)) {
		while (*p && !is_meta(*p) && *p != ' ')
			p++;
	} else {
		p++;
	}
	*optional_r = false;
	if (*p == '?' || *p == '*') {
		*optional_r = true;
		p++;
	} else if (*p == '{') {
		*optional_r = p[1] == '0';
		while (*p && *p != '}')
			p++;
		if (*p)
			p++;
	} else if (*p == '+') {
		p++;
	}
	if (*p == '?' || *p == '+')
		p++;  /* lazy or possessive */
	return p;
}

/* Finds the last element of a pattern that every match needs and that starts a word
 * ("rupture" in "\bcontrat (?:\w+ ){0,8}(?:rupture|fin)\b"), and returns its literal
 * beginnings. A pattern is only worth trying where it starts if one of them is in the
 * text: most candidates fail there, after trying every gap of "(?:\w+ ){0,8}". */
static int
requirement_prefixes(const char *src, struct prefix_list *out)
{
	const char *last = NULL;   /* the last mandatory element starting a word */
	size_t elements = 0;
	const char *p = src;
	bool word_start = true;    /* every match has a word start where the next element begins */
	while (*p) {
		if (*p == '|')
			return -1;  /* top-level alternation: no single requirement */
		if (p[0] == '\\' && p[1] == 'b') {
			p += 2;
			word_start = true;
			continue;
		}
		const char *start = p;
		bool optional;
		p = skip_element(p, &optional);
		if (p == NULL)
			return -1;
		/* The element ends with a space (" ", "(?:\w+ )"): a word starts after it. */
		const char *e = p - 1;
		while (e > start && strchr("}?*+,{0123456789", *e) != NULL)
			e--;
		bool ends_with_space = *e == ' ' || (*e == ')' && e > start && e[-1] == ' ');
		if (!optional && word_start && elements > 0 &&
		    (*start == '(' || isalnum((unsigned char)*start)))
			last = start;
		/* An element that may be absent leaves a word start only if both ways do. */
		word_start = optional ? word_start && ends_with_space : ends_with_space;
		elements++;
	}
	if (last == NULL)
		return -1;
	struct prefix_list found = {0};
	const char *q = last;
	int rc;
	if (*q == '(') {
		q += q[1] == '?' ? (q[2] == ':' ? 3 : 0) : 1;
		if (q == last)
			return -1;
		rc = alternation_prefixes(&q, false, &found);
	} else {
		rc = sequence_prefixes(q, &found);
	}
	if (rc < 0) {
		prefix_list_clear(&found);
		return -1;
	}
	prefix_list_move(out, &found);
	return 0;
}

/* Reading literals out of a pattern assumes they mean themselves: inline options
 * ("(?i)", "(?x)"), verbs ("(*…)") and branch resets change that, so such a pattern is
 * simply run on the whole text. */
static bool
literal_reading_is_safe(const char *src)
{
	static const char *const unsafe[] = { "(?i", "(?x", "(?s", "(?m", "(?n", "(?-", "(?^", "(?|", "(*", "\\Q" };
	for (size_t i = 0; i < sizeof(unsafe) / sizeof(*unsafe); i++)
		if (strstr(src, unsafe[i]) != NULL)
			return false;
	return true;
}

/* Folded text has lower-case letters and digits at word starts: a prefix starting with
 * anything else could never be met by the walk. */
static bool
prefixes_fit_folded_text(const struct prefix_list *l)
{
	for (size_t i = 0; i < l->count; i++) {
		unsigned char c = (unsigned char)l->items[i][0];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			return false;
	}
	return l->count > 0;
}

static void
dispatch_entry_add(struct intent_set *set, struct dispatch *d, struct pattern *pat, char *prefix,
		   bool requirement)
{
	size_t n = strlen(prefix);
	if (set->prefix_count == set->prefix_cap) {
		set->prefix_cap = set->prefix_cap ? set->prefix_cap * 2 : 256;
		set->prefixes = xrealloc(set->prefixes, set->prefix_cap * sizeof(*set->prefixes));
	}
	set->prefixes[set->prefix_count++] = prefix;
	struct dispatch_list *l = dispatch_list_for(d, prefix, n);
	if (l->count == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4;
		l->entries = xrealloc(l->entries, l->cap * sizeof(*l->entries));
	}
	l->entries[l->count++] = (struct dispatch_entry){ prefix, (uint32_t)n, (uint32_t)pat->index,
							  pat->owner, requirement, pat->full_scope, pat };
}

static void
dispatch_add(struct intent_set *set, struct dispatch *d, struct pattern *pat)
{
	struct prefix_list prefixes = {0};
	const char *p = pat->source;
	char *why = NULL;
	if (!literal_reading_is_safe(pat->source) || alternation_prefixes(&p, true, &prefixes) < 0 ||
	    *p != '\0' || !prefixes_fit_folded_text(&prefixes) ||
	    (pat->anchored = compile_with(pat->source, PCRE2_ANCHORED, &why)) == NULL) {
		free(why);
		prefix_list_clear(&prefixes);
		if (d->always_count == d->always_cap) {
			d->always_cap = d->always_cap ? d->always_cap * 2 : 16;
			d->always = xrealloc(d->always, d->always_cap * sizeof(*d->always));
		}
		d->always[d->always_count++] = pat;
		return;
	}
	for (size_t i = 0; i < prefixes.count; i++)
		dispatch_entry_add(set, d, pat, prefixes.items[i], false);
	struct prefix_list required = {0};
	if (requirement_prefixes(pat->source, &required) == 0 && prefixes_fit_folded_text(&required)) {
		pat->has_requirement = true;
		for (size_t i = 0; i < required.count; i++)
			dispatch_entry_add(set, d, pat, required.items[i], true);
		free(required.items);
		free(required.complete);
	} else {
		prefix_list_clear(&required);
	}
	free(prefixes.items);
	free(prefixes.complete);
}

static void
build_dispatch(struct intent_set *set)
{
	size_t index = 0;
	set->weights = xcalloc(set->pattern_count + set->cue_count + 1, sizeof(*set->weights));
	set->owners = xcalloc(set->pattern_count + set->cue_count + 1, sizeof(*set->owners));
	for (size_t i = 0; i < set->count; i++) {
		struct intent *in = &set->intents[i];
		for (size_t k = 0; k < in->pattern_count; k++) {
			set->weights[index] = in->patterns[k].weight;
			set->owners[index] = (int)i;
			struct pattern *p = &in->patterns[k];
			p->index = index++;
			p->owner = (int)i;
			p->full_scope = in->def.full_scope;
			dispatch_add(set, &set->dispatch, p);
		}
	}
	for (size_t i = 0; i < set->cue_count; i++) {
		set->owners[index] = -1;
		set->cues[i].pattern.index = index++;
		set->cues[i].pattern.owner = -1;
		set->cues[i].pattern.full_scope = true;
		dispatch_add(set, &set->dispatch, &set->cues[i].pattern);
	}
	set->total_patterns = index;
	dispatch_freeze(&set->dispatch);

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

/* Walks every word of text once through the trie, for the patterns of the given scopes
 * (a chat line is usually both the question and the whole message: one walk serves
 * both): notes where each pattern may start (in s->candidates) and which required words
 * are present (s->required_seen). */
enum walk_scopes { WALK_QUESTION = 1, WALK_FULL = 2 };

static void
walk_scope(const struct dispatch *d, struct intent_scratch *s, const char *text, size_t len, int scopes)
{
	if (d->node_count == 0)
		return;
	for (size_t pos = 0; pos < len; pos++) {
		if (pos > 0 && text[pos - 1] != ' ')
			continue;  /* folded text: words start at 0 or after a space */
		/* The trie holds whole prefixes, spaces included: every node met on the way
		 * ends a prefix that the text has at pos. */
		uint32_t node = 0;
		for (size_t i = pos; i < len; i++) {
			node = trie_step(d, node, (unsigned char)text[i]);
			if (node == 0)
				break;
			int32_t list = d->walk_nodes[node].list;
			if (list < 0)
				continue;
			const struct dispatch_list *l = &d->lists[list];
			for (size_t k = 0; k < l->count; k++) {
				const struct dispatch_entry *e = &l->entries[k];
				if (!(scopes & (e->full_scope ? WALK_FULL : WALK_QUESTION)) ||
				    (e->owner >= 0 && !s->active[e->owner]))
					continue;
				if (e->requirement) {
					s->required_seen[e->index] = 1;
					continue;
				}
				if (s->candidate_count == s->candidate_cap) {
					s->candidate_cap = s->candidate_cap ? s->candidate_cap * 2 : 64;
					s->candidates = xrealloc(s->candidates, s->candidate_cap * sizeof(*s->candidates));
				}
				s->candidates[s->candidate_count++] =
					(struct candidate){ e->index, (uint32_t)pos, text, len, e->pattern };
			}
		}
	}
}

/* Runs the patterns of one sign (positive or negative) whose intent is active: those
 * without a known start on the whole texts, the others at their candidate starts. */
static int
run_patterns(const struct intent_set *set, struct intent_scratch *s, bool positive,
	     const char *question, size_t question_len, const char *full, size_t full_len, char **error_r)
{
	const struct dispatch *d = &set->dispatch;
	{
		for (size_t i = 0; i < d->always_count; i++) {
			struct pattern *p = d->always[i];
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
	for (size_t c = 0; c < s->candidate_count; c++) {
		const struct candidate *cd = &s->candidates[c];
		const struct pattern *p = cd->pattern;
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
		s->candidate_count = 0;
		if (strcmp(question, full) == 0) {
			walk_scope(&set->dispatch, s, full, full_len, WALK_QUESTION | WALK_FULL);
		} else {
			walk_scope(&set->dispatch, s, question, question_len, WALK_QUESTION);
			walk_scope(&set->dispatch, s, full, full_len, WALK_FULL);
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
		if (run_patterns(set, s, false, question, question_len, full, full_len, error_r) < 0)
			return -1;
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
