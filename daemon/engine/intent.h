/* intent — loads intents/ (one <id>.intent file per intent of the spec, audience.cues,
 * lexicon.tsv), compiles every pattern once (PCRE2, UTF + UCP, JIT) and scores a message.
 * Pipeline: text → lexicon → intent → dialog. Lower layer: never logs.
 * A loaded set is read-only and may be shared by threads; each thread matches with its
 * own struct intent_scratch. */
#ifndef DIALOGD_INTENT_H
#define DIALOGD_INTENT_H

#include <stdbool.h>
#include <stddef.h>

struct lexicon;
struct intent_set;
struct intent_scratch;

enum intent_kind { INTENT_FAQ, INTENT_ACTION, INTENT_HANDOFF, INTENT_CHAT };
enum audience { AUDIENCE_UNKNOWN, AUDIENCE_ENTREPRISE, AUDIENCE_ORGANISME };

/* The account actions an intent leads to (its "action:" line), resolved when the
 * intents load: channels dispatch on this value, never by comparing id strings. */
enum account_action {
	ACCOUNT_ACTION_NONE,
	ACCOUNT_IDENTIFIER_REMINDER,
	ACCOUNT_PASSWORD_RESET,
	ACCOUNT_DOSSIER_STATUS,
};
/* The name of an action in intent files, audit rows and logs ("password_reset"); NULL
 * for ACCOUNT_ACTION_NONE. */
const char *account_action_name(enum account_action action);
/* The action called name; ACCOUNT_ACTION_NONE when dialogd has none by that name. */
enum account_action account_action_from_name(const char *name);

/* The public contract of spec/intents.tsv, in its order, without "unknown". */
size_t intent_spec_count(void);
const char *intent_spec_id(size_t i);
enum intent_kind intent_spec_kind(size_t i);
/* Returns true when id is an id of the spec, "unknown" included. */
bool intent_id_is_valid(const char *id);

struct intent_def {
	const char *id;
	enum intent_kind kind;
	const char *faq;            /* faq-data entry id, or NULL */
	enum account_action action; /* ACCOUNT_ACTION_NONE unless kind is INTENT_ACTION */
	const char *reply;          /* template of a chat reply, or NULL */
	const char *description;
	const char *file;           /* the file it was loaded from */
	bool full_scope;            /* patterns see the whole message, not only the question */
	unsigned max_words;         /* considered only when the question has at most this many words; 0 = always */
};

#define INTENT_MAX_CANDIDATES 5

struct intent_candidate {
	const struct intent_def *intent;   /* borrowed from the set */
	double score;                      /* sum of matching weights, never negative */
	double confidence;                 /* 1 - exp(-score / 3), in [0, 1) */
};

struct intent_result {
	struct intent_candidate candidates[INTENT_MAX_CANDIDATES]; /* best first, score > 0 only */
	size_t candidate_count;
	enum audience audience;
	char audience_cue[96];             /* the words that decided the audience, or "" */
	size_t question_words;             /* words of the question once noise is removed */
	double out_of_scope;               /* total of out_of_scope.cues that matched the question */
	char out_of_scope_cue[96];         /* the words of the strongest one, or "" */
};

/* From this total of out_of_scope.cues on, the question is one the FAQ does not answer
 * (an amount, a delay, a rule, a complaint, spam) whatever words it shares with it. */
#define INTENT_OUT_OF_SCOPE_MIN 3.0

/* Loads every file of dir (out_of_scope.cues is optional). Errors name file and line; all are reported at once in
 * *error_r (caller frees), one per line. lexicon: takes no ownership; the words of the
 * patterns are added to its known words (call lexicon_seal() afterwards). */
struct intent_set *intent_set_load(const char *dir, struct lexicon *lex, char **error_r);
void intent_set_free(struct intent_set **set);

size_t intent_set_count(const struct intent_set *set);
size_t intent_set_pattern_count(const struct intent_set *set);
const struct intent_def *intent_set_get(const struct intent_set *set, size_t i);
const struct intent_def *intent_set_find(const struct intent_set *set, const char *id);

/* Matching tries each pattern only where it can start (see intent_match.c); disabling
 * this runs every pattern on the whole text. Same results, slower: for tests and
 * measurements. */
void intent_set_use_dispatch(struct intent_set *set, bool enabled);

struct intent_scratch *intent_scratch_new(void);
void intent_scratch_free(struct intent_scratch **scratch);

/* Scores folded texts (after lexicon): full is the whole message, question the message
 * without greetings, signature and history. Fills *result. Returns 0, or -1 when PCRE2
 * fails at run time (match limit), with *error_r. */
int intent_match(const struct intent_set *set, struct intent_scratch *scratch,
		 const char *full, const char *question, size_t question_words,
		 struct intent_result *result, char **error_r);

/* Confidence in [0, 1) of a score. */
double intent_confidence(double score);
const char *audience_name(enum audience audience);
const char *intent_kind_name(enum intent_kind kind);

#endif
