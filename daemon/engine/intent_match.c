/* intent_match — scores a message against a loaded set (see intent.h); pipeline: text →
 * lexicon → intent_match → dialog.
 * Speed: trying several hundred patterns at every offset of every message is too slow
 * for a chat. Most patterns start with \b and a literal ("\b(?:oubli\w*|perdu)"):
 * pattern_prefix reads those literals (and a word needed further on) at load time,
 * pattern_index walks the message once and lists where each pattern may start, and only
 * there is the pattern tried, anchored. Patterns whose start cannot be read run on the
 * whole text. Negative patterns run only for intents that scored, a negative shared by
 * several intents once. The result is the one a full scan gives: tests (dev set, tricky
 * patterns) and tests/fuzz/fuzz_pattern check it. Everything is JIT-compiled at load. */
#include "autoconf.h"
#include "engine/intent_int.h"
#include "engine/pattern_index.h"
#include "core/util.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
cue_file(const struct cue *c)
{
	return c->out_of_scope ? "out_of_scope.cues" : "audience.cues";
}

static const char *
pattern_file(const struct intent_set *set, const struct pattern *p)
{
	for (size_t i = 0; i < set->count; i++) {
		const struct intent *in = &set->intents[i];
		if (p >= in->patterns && p < in->patterns + in->pattern_count)
			return in->file;
	}
	for (size_t i = 0; i < set->cue_count; i++)
		if (p == &set->cues[i].pattern)
			return cue_file(&set->cues[i]);
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
	for (size_t i = 0; i < set->cue_count; i++) {
		const struct pattern *p = &set->cues[i].pattern;
		const char *text = p->full_scope ? full : question;
		size_t len = p->full_scope ? full_len : question_len;
		int rc = len > 0 ? run_at(p->code, s, text, len, 0) : 0;
		if (rc < 0)
			return fail_match(cue_file(&set->cues[i]), p->line, error_r);
		s->hit[p->index] = rc > 0;
	}
	return 0;
}

double
intent_confidence(double score)
{
	return score <= 0 ? 0.0 : 1.0 - exp(-score / 3.0);
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

/* Decides who writes from the audience cues that matched. Cues come in strengths (see
 * intents/audience.cues): a writer saying what they are ("nous sommes un CFA") outweighs a
 * department or a trade word, so a message signed "Service comptabilité / CFA du Morvan"
 * is an organisme although comptabilité alone leans entreprise. An audience is possible
 * when its total (denials included: "nous ne sommes pas un CFA" weighs negative) reaches
 * 2; of two possible ones the stronger single cue wins, then the larger total; a full tie
 * is unknown. The strongest cue is reported, with the words it matched (one more,
 * anchored, run of that cue). */
static int
decide_audience(const struct intent_set *set, struct intent_scratch *s, const char *full, size_t len,
		struct intent_result *r, char **error_r)
{
	double total[3] = { 0, 0, 0 };
	const struct pattern *best[3] = { NULL, NULL, NULL };
	for (size_t i = 0; i < set->cue_count; i++) {
		const struct cue *c = &set->cues[i];
		if (c->out_of_scope || !s->hit[c->pattern.index])
			continue;
		total[c->audience] += c->pattern.weight;
		if (c->pattern.weight > 0 && (best[c->audience] == NULL || c->pattern.weight > best[c->audience]->weight))
			best[c->audience] = &c->pattern;
	}
	bool ent = total[AUDIENCE_ENTREPRISE] >= 2 && best[AUDIENCE_ENTREPRISE] != NULL;
	bool org = total[AUDIENCE_ORGANISME] >= 2 && best[AUDIENCE_ORGANISME] != NULL;
	enum audience a = AUDIENCE_UNKNOWN;
	if (ent && !org) {
		a = AUDIENCE_ENTREPRISE;
	} else if (org && !ent) {
		a = AUDIENCE_ORGANISME;
	} else if (ent && org) {
		double we = best[AUDIENCE_ENTREPRISE]->weight, wo = best[AUDIENCE_ORGANISME]->weight;
		if (we != wo)
			a = we > wo ? AUDIENCE_ENTREPRISE : AUDIENCE_ORGANISME;
		else if (total[AUDIENCE_ENTREPRISE] != total[AUDIENCE_ORGANISME])
			a = total[AUDIENCE_ENTREPRISE] > total[AUDIENCE_ORGANISME] ? AUDIENCE_ENTREPRISE : AUDIENCE_ORGANISME;
	}
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

/* Copies into out[size] the words pattern p matches in text (one more, anchored run). */
static int
matched_words(const struct pattern *p, struct intent_scratch *s, const char *text, size_t len,
	      char *out, size_t size, const char *file, char **error_r)
{
	out[0] = '\0';
	int rc = run_at(p->code, s, text, len, 0);
	if (rc < 0)
		return fail_match(file, p->line, error_r);
	if (rc > 0) {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
		size_t n = ov[1] - ov[0];
		if (n >= size)
			n = size - 1;
		memcpy(out, text + ov[0], n);
		out[n] = '\0';
	}
	return 0;
}

/* The out-of-scope detector: the total of out_of_scope.cues that matched the question,
 * and the strongest one's words (dialog escalates from INTENT_OUT_OF_SCOPE_MIN on). */
static int
decide_scope(const struct intent_set *set, struct intent_scratch *s, const char *question, size_t len,
	     struct intent_result *r, char **error_r)
{
	const struct pattern *best = NULL;
	for (size_t i = 0; i < set->cue_count; i++) {
		const struct cue *c = &set->cues[i];
		if (!c->out_of_scope || !s->hit[c->pattern.index])
			continue;
		r->out_of_scope += c->pattern.weight;
		if (c->pattern.weight > 0 && (best == NULL || c->pattern.weight > best->weight))
			best = &c->pattern;
	}
	if (best == NULL || r->out_of_scope < INTENT_OUT_OF_SCOPE_MIN)
		return 0;
	return matched_words(best, s, question, len, r->out_of_scope_cue, sizeof(r->out_of_scope_cue),
			     "out_of_scope.cues", error_r);
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
	if (decide_audience(set, s, full, full_len, r, error_r) < 0)
		return -1;
	return decide_scope(set, s, question, question_len, r, error_r);
}
