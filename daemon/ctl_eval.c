/* ctl_eval — the evaluation report of dialogctl (see ctl_eval.h). */
#include "autoconf.h"
#include "ctl_eval.h"
#include "engine/dialog.h"
#include "engine/engine.h"
#include "engine/intent.h"
#include "core/text.h"
#include "core/util.h"

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

/* What eval has counted so far. */
struct eval_counts {
	size_t rows;                /* the spec's intents, then "unknown" */
	struct tally *tally;        /* per row */
	unsigned *matrix;           /* rows × rows: gold row, predicted column */
	unsigned total, answerable, answered, auto_answers, auto_correct;
	unsigned unknown_gold, unknown_hit, audience_gold, audience_hit;
	unsigned bad;               /* lines skipped */
};

/* The figures the thresholds apply to. */
struct eval_rates {
	double precision, coverage, unknown_recall, audience;
};

/* One run of eval: what every message needs, and the counts. */
struct eval_run {
	const struct engine *engine;
	const struct dialog_settings *settings;
	const struct eval_thresholds *thresholds;
	const char *path;               /* the labelled file, for messages */
	struct intent_scratch *scratch;
	FILE *out;                      /* the report */
	struct eval_counts counts;
};

/* One labelled message and what the assistant made of it. */
struct eval_outcome {
	const char *gold, *gold_audience;   /* the labels; "-" for no audience */
	const char *predicted;
	enum audience audience;
	size_t gold_row, predicted_row;
};

/* Splits "text TAB intent TAB audience" (line is modified). Returns 0, or -1 after
 * saying on stderr why the line is skipped. */
static int
split_fields(const char *path, unsigned lineno, char *line, const char **gold_r, const char **gold_audience_r)
{
	char *tab1 = strchr(line, '\t');
	char *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
	if (tab2 == NULL || strchr(tab2 + 1, '\t') != NULL) {
		fprintf(stderr, "dialogctl: %s:%u: expected 3 TAB-separated fields\n", path, lineno);
		return -1;
	}
	*tab1 = *tab2 = '\0';
	*gold_r = tab1 + 1;
	*gold_audience_r = tab2 + 1;
	if (!intent_id_is_valid(*gold_r)) {
		fprintf(stderr, "dialogctl: %s:%u: \"%s\" is not an intent id of the spec\n", path, lineno, *gold_r);
		return -1;
	}
	return 0;
}

static void
count_outcome(struct eval_counts *c, const struct eval_outcome *o)
{
	size_t g = o->gold_row, p = o->predicted_row;
	c->total++;
	c->tally[g].gold++;
	c->tally[p].predicted++;
	c->matrix[g * c->rows + p]++;
	bool is_unknown = strcmp(o->gold, "unknown") == 0;
	bool said_unknown = strcmp(o->predicted, "unknown") == 0;
	if (g == p)
		c->tally[g].correct++;
	if (!is_unknown) {
		c->answerable++;
		c->answered += !said_unknown;
	} else {
		c->unknown_gold++;
		c->unknown_hit += said_unknown;
	}
	if (!said_unknown) {
		c->auto_answers++;
		c->auto_correct += g == p;
	}
	if (strcmp(o->gold_audience, "-") != 0) {
		c->audience_gold++;
		c->audience_hit += strcmp(o->gold_audience, audience_name(o->audience)) == 0;
	}
}

static bool
is_miss(const struct eval_outcome *o)
{
	return o->gold_row != o->predicted_row ||
	       (strcmp(o->gold_audience, "-") != 0 && strcmp(o->gold_audience, audience_name(o->audience)) != 0);
}

/* match: the matcher's result, or NULL when the analysis failed. */
static void
print_miss(FILE *out, unsigned lineno, const char *text, const struct eval_outcome *o,
	   const struct intent_result *match)
{
	fprintf(out, "MISS line %u: expected %s/%s, got %s/%s", lineno, o->gold, o->gold_audience,
		o->predicted, audience_name(o->audience));
	if (match != NULL && match->candidate_count > 0)
		fprintf(out, " (best %s %.2f)", match->candidates[0].intent->id,
			match->candidates[0].confidence);
	fprintf(out, "\n    %s\n", text);
}

/* Analyses one labelled message (line holds its text, modified; o its labels) and
 * counts the outcome. */
static void
eval_message(struct eval_run *run, unsigned lineno, char *line, struct eval_outcome *o)
{
	size_t len = text_unescape_newlines(line);
	struct analysis a;
	char *err = NULL;
	o->predicted = "unknown";
	o->audience = AUDIENCE_UNKNOWN;
	if (dialog_analyze(run->engine, run->scratch, run->settings, line, len, &a, &err) < 0) {
		fprintf(stderr, "dialogctl: %s:%u: %s\n", run->path, lineno, err);
		free(err);
	} else {
		o->predicted = analysis_intent_id(&a);
		o->audience = a.match.audience;
	}
	o->gold_row = intent_row(o->gold);
	o->predicted_row = intent_row(o->predicted);
	count_outcome(&run->counts, o);
	if (run->thresholds->show_errors && is_miss(o))
		print_miss(run->out, lineno, line, o, err == NULL ? &a.match : NULL);
	if (err == NULL)
		analysis_clear(&a);
}

/* Every line of the labelled file in: a header line, blank lines and bad lines skipped. */
static void
eval_lines(struct eval_run *run, FILE *in)
{
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
		struct eval_outcome o;
		if (split_fields(run->path, lineno, line, &o.gold, &o.gold_audience) < 0) {
			run->counts.bad++;
			continue;
		}
		eval_message(run, lineno, line, &o);
	}
	free(line);
}

static struct eval_rates
rates_of(const struct eval_counts *c)
{
	return (struct eval_rates){
		.precision = ratio(c->auto_correct, c->auto_answers),
		.coverage = ratio(c->answered, c->answerable),
		.unknown_recall = ratio(c->unknown_hit, c->unknown_gold),
		.audience = ratio(c->audience_hit, c->audience_gold),
	};
}

static void
print_summary(FILE *out, const struct eval_counts *c, const struct eval_rates *r)
{
	fprintf(out, "messages: %u (answerable %u, unknown %u)%s\n", c->total, c->answerable, c->unknown_gold,
		c->bad ? " — some lines were skipped, see above" : "");
	fprintf(out, "coverage of answerable questions: %5.1f %% (%u/%u answered automatically)\n",
		r->coverage * 100, c->answered, c->answerable);
	fprintf(out, "precision of automatic answers:   %5.1f %% (%u/%u)\n", r->precision * 100, c->auto_correct,
		c->auto_answers);
	fprintf(out, "recall of unknown:                %5.1f %% (%u/%u escalated)\n", r->unknown_recall * 100,
		c->unknown_hit, c->unknown_gold);
	fprintf(out, "audience accuracy (when stated):  %5.1f %% (%u/%u)\n", r->audience * 100, c->audience_hit,
		c->audience_gold);
	unsigned correct_all = 0;
	for (size_t row = 0; row < c->rows; row++)
		correct_all += c->tally[row].correct;
	fprintf(out, "overall accuracy:                 %5.1f %% (%u/%u)\n\n", 100 * ratio(correct_all, c->total),
		correct_all, c->total);
}

static void
print_intent_table(FILE *out, const struct eval_counts *c)
{
	fprintf(out, "%-38s %5s %5s %9s %7s\n", "intent", "gold", "pred", "precision", "recall");
	for (size_t r = 0; r < c->rows; r++) {
		const struct tally *t = &c->tally[r];
		if (t->gold == 0 && t->predicted == 0)
			continue;
		fprintf(out, "%-38s %5u %5u %8.0f%% %6.0f%%\n", row_name(r), t->gold, t->predicted,
			100 * ratio(t->correct, t->predicted), 100 * ratio(t->correct, t->gold));
	}
}

/* The ten most frequent (expected, predicted) pairs that differ. */
static void
print_confusions(FILE *out, const struct eval_counts *c)
{
	size_t rows = c->rows;
	struct confusion *conf = xcalloc(rows * rows, sizeof(*conf));
	size_t nconf = 0;
	for (size_t g = 0; g < rows; g++)
		for (size_t p = 0; p < rows; p++)
			if (g != p && c->matrix[g * rows + p] > 0)
				conf[nconf++] = (struct confusion){ g, p, c->matrix[g * rows + p] };
	qsort(conf, nconf, sizeof(*conf), compare_confusions);
	fprintf(out, "\nmost frequent confusions (expected → predicted):%s\n", nconf ? "" : " none");
	for (size_t i = 0; i < nconf && i < 10; i++)
		fprintf(out, "  %3u  %s → %s\n", conf[i].count, row_name(conf[i].gold), row_name(conf[i].predicted));
	free(conf);
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
	struct eval_run run = { .engine = e, .settings = s, .thresholds = t, .path = path, .out = out };
	struct eval_counts *c = &run.counts;
	c->rows = intent_spec_count() + 1;
	c->tally = xcalloc(c->rows, sizeof(*c->tally));
	c->matrix = xcalloc(c->rows * c->rows, sizeof(*c->matrix));
	run.scratch = intent_scratch_new();
	eval_lines(&run, in);
	intent_scratch_free(&run.scratch);
	fclose(in);

	struct eval_rates r = rates_of(c);
	print_summary(out, c, &r);
	print_intent_table(out, c);
	print_confusions(out, c);
	free(c->matrix);
	free(c->tally);

	int failed = 0;
	failed |= check(out, "precision", r.precision, t->min_precision);
	failed |= check(out, "coverage", r.coverage, t->min_coverage);
	failed |= check(out, "unknown recall", r.unknown_recall, t->min_unknown_recall);
	failed |= check(out, "audience accuracy", r.audience, t->min_audience);
	return c->bad ? 2 : failed;
}
