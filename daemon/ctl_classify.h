/* ctl_classify — `dialogctl classify`: standard input lines → JSON lines (see README.md,
 * "Commands"), and the names and rounding its JSON shares with the other commands.
 * Threads: the command's only thread. */
#ifndef DIALOGD_CTL_CLASSIFY_H
#define DIALOGD_CTL_CLASSIFY_H

#include "engine/dialog.h"

struct engine;

/* Classifies standard input, one message a line, onto standard output. Returns 0. */
int ctl_classify(const struct engine *engine, const struct dialog_settings *settings);

/* "answer", "answer-two", "small-talk", "clarify" or "escalate". */
const char *ctl_decision_name(enum decision decision);

/* x rounded to 4 decimals, as every confidence and score of the JSON output. */
double ctl_rounded(double x);

#endif
