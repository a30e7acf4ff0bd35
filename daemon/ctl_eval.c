/* ctl_eval — the evaluation report of dialogctl (see ctl_eval.h). */
#include "autoconf.h"
#include "ctl_eval.h"
#include "dialog.h"
#include "engine.h"
#include "intent.h"
#include "text.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* Row 0..spec-1 are the spec's intents, the last row is "unknown". */
struct tally {
	unsigned gold, predicted, correct;
};

struct confusion {
	size_t gold, predicted;
	unsigned count;
};

static size_t
intent_row(const char *id)
{
	for (size_t i = 0; i < intent_spec_count(); i++)
		if (strcmp(intent_spec_id(i), id) == 0)
			return i;
	return intent_spec_count();
}

static const char *
row_name(size_t row)
{
	return row < intent_spec_count() ? intent_spec_id(row) : "unknown";
}

static int
compare_confusions(const void *a, const void *b)
{
	const struct confusion *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->gold < y->gold ? -1 : x->gold > y->gold;
}

static double
ratio(unsigned num, unsigned den)
{
	return den ? (double)num / den : 1.0;
}

static int
check(FILE *out, const char *what, double value, double min)
{
	if (min <= 0 || value >= min)
		return 0;
	fprintf(out, "FAIL: %s %.1f %% is below the required %.1f %%\n", what, value * 100, min * 100);
	return 1;
}

int
ctl_eval(const struct engine *e, const struct dialog_settings *s, const char *path,
	 const struct eval_thresholds *t, FILE *out)
{
	FILE *in = fopen(path, "r");
	if (in == NULL) {
		fprintf(stderr, "dialogctl: %s: cannot open\n", path);
		return 2;
	}
	size_t rows = intent_spec_count() + 1;
	struct tally *tally = xcalloc(rows, sizeof(*tally));
	unsigned *matrix = xcalloc(rows * rows, sizeof(*matrix));
	unsigned total = 0, answerable = 0, answered = 0, auto_answers = 0, auto_correct = 0;
	unsigned unknown_gold = 0, unknown_hit = 0, audience_gold = 0, audience_hit = 0, bad = 0;
	struct intent_scratch *scratch = intent_scratch_new();
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned lineno = 0;
	while ((n = getline(&line, &cap, in)) >= 0) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (lineno == 1 && str_starts_with(line, "text\t"))
			continue;
		if (n == 0)
			continue;
		char *tab1 = strchr(line, '\t');
		char *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
		if (tab2 == NULL || strchr(tab2 + 1, '\t') != NULL) {
			fprintf(stderr, "dialogctl: %s:%u: expected 3 TAB-separated fields\n", path, lineno);
			bad++;
			continue;
		}
		*tab1 = *tab2 = '\0';
		const char *gold = tab1 + 1, *gold_audience = tab2 + 1;
		if (!intent_id_is_valid(gold)) {
			fprintf(stderr, "dialogctl: %s:%u: \"%s\" is not an intent id of the spec\n", path, lineno, gold);
			bad++;
			continue;
		}
		size_t len = text_unescape_newlines(line);
		struct analysis a;
		char *err = NULL;
		const char *predicted = "unknown";
		enum audience aud = AUDIENCE_UNKNOWN;
		if (dialog_analyze(e, scratch, s, line, len, &a, &err) < 0) {
			fprintf(stderr, "dialogctl: %s:%u: %s\n", path, lineno, err);
			free(err);
		} else {
			predicted = analysis_intent_id(&a);
			aud = a.match.audience;
		}
		total++;
		size_t g = intent_row(gold), p = intent_row(predicted);
		tally[g].gold++;
		tally[p].predicted++;
		matrix[g * rows + p]++;
		bool is_unknown = strcmp(gold, "unknown") == 0;
		bool said_unknown = strcmp(predicted, "unknown") == 0;
		if (g == p)
			tally[g].correct++;
		if (!is_unknown) {
			answerable++;
			answered += !said_unknown;
		} else {
			unknown_gold++;
			unknown_hit += said_unknown;
		}
		if (!said_unknown) {
			auto_answers++;
			auto_correct += g == p;
		}
		if (strcmp(gold_audience, "-") != 0) {
			audience_gold++;
			audience_hit += strcmp(gold_audience, audience_name(aud)) == 0;
		}
		if (t->show_errors && (g != p || (strcmp(gold_audience, "-") != 0 &&
						 strcmp(gold_audience, audience_name(aud)) != 0))) {
			fprintf(out, "MISS line %u: expected %s/%s, got %s/%s", lineno, gold, gold_audience,
				predicted, audience_name(aud));
			if (err == NULL && a.match.candidate_count > 0)
				fprintf(out, " (best %s %.2f)", a.match.candidates[0].intent->id,
					a.match.candidates[0].confidence);
			fprintf(out, "\n    %s\n", line);
		}
		if (err == NULL)
			analysis_clear(&a);
	}
	free(line);
	fclose(in);
	intent_scratch_free(&scratch);

	double precision = ratio(auto_correct, auto_answers);
	double coverage = ratio(answered, answerable);
	double unknown_recall = ratio(unknown_hit, unknown_gold);
	double audience = ratio(audience_hit, audience_gold);
	fprintf(out, "messages: %u (answerable %u, unknown %u)%s\n", total, answerable, unknown_gold,
		bad ? " — some lines were skipped, see above" : "");
	fprintf(out, "coverage of answerable questions: %5.1f %% (%u/%u answered automatically)\n",
		coverage * 100, answered, answerable);
	fprintf(out, "precision of automatic answers:   %5.1f %% (%u/%u)\n", precision * 100, auto_correct, auto_answers);
	fprintf(out, "recall of unknown:                %5.1f %% (%u/%u escalated)\n", unknown_recall * 100,
		unknown_hit, unknown_gold);
	fprintf(out, "audience accuracy (when stated):  %5.1f %% (%u/%u)\n", audience * 100, audience_hit, audience_gold);
	unsigned correct_all = 0;
	for (size_t r = 0; r < rows; r++)
		correct_all += tally[r].correct;
	fprintf(out, "overall accuracy:                 %5.1f %% (%u/%u)\n\n", 100 * ratio(correct_all, total),
		correct_all, total);
	fprintf(out, "%-38s %5s %5s %9s %7s\n", "intent", "gold", "pred", "precision", "recall");
	for (size_t r = 0; r < rows; r++) {
		if (tally[r].gold == 0 && tally[r].predicted == 0)
			continue;
		fprintf(out, "%-38s %5u %5u %8.0f%% %6.0f%%\n", row_name(r), tally[r].gold, tally[r].predicted,
			100 * ratio(tally[r].correct, tally[r].predicted), 100 * ratio(tally[r].correct, tally[r].gold));
	}
	struct confusion *conf = xcalloc(rows * rows, sizeof(*conf));
	size_t nconf = 0;
	for (size_t g = 0; g < rows; g++)
		for (size_t p = 0; p < rows; p++)
			if (g != p && matrix[g * rows + p] > 0)
				conf[nconf++] = (struct confusion){ g, p, matrix[g * rows + p] };
	qsort(conf, nconf, sizeof(*conf), compare_confusions);
	fprintf(out, "\nmost frequent confusions (expected → predicted):%s\n", nconf ? "" : " none");
	for (size_t i = 0; i < nconf && i < 10; i++)
		fprintf(out, "  %3u  %s → %s\n", conf[i].count, row_name(conf[i].gold), row_name(conf[i].predicted));
	free(conf);
	free(matrix);
	free(tally);

	int failed = 0;
	failed |= check(out, "precision", precision, t->min_precision);
	failed |= check(out, "coverage", coverage, t->min_coverage);
	failed |= check(out, "unknown recall", unknown_recall, t->min_unknown_recall);
	failed |= check(out, "audience accuracy", audience, t->min_audience);
	return bad ? 2 : failed;
}
