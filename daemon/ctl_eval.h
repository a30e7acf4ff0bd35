/* ctl_eval — `dialogctl eval FILE.tsv`: measures the assistant on labelled messages
 * (format of shared/eval/dev.tsv: text, intent, audience) and prints coverage,
 * precision, unknown recall, audience accuracy, a per-intent table and the most
 * frequent confusions. */
#ifndef DIALOGD_CTL_EVAL_H
#define DIALOGD_CTL_EVAL_H

#include <stdbool.h>
#include <stdio.h>

struct engine;
struct dialog_settings;

struct eval_thresholds {
	double min_precision;       /* fractions; 0 = no check */
	double min_coverage;
	double min_unknown_recall;
	double min_audience;
	bool show_errors;           /* list every miss */
};

/* Returns 0 when every threshold is met, 1 when one is not, 2 on unreadable input. */
int ctl_eval(const struct engine *engine, const struct dialog_settings *settings, const char *path,
	     const struct eval_thresholds *thresholds, FILE *out);

#endif
