/* intent_int — what the four files of the intent module share: intent.c (the spec and
 * names), intent_load.c (reading the files), intent_dispatch.c (the fast path's tables)
 * and intent_match.c (scoring). Other modules include intent.h only.
 * Threads: as intent.h (loaded once, then read-only; the scratch is per thread). */
#ifndef DIALOGD_INTENT_INT_H
#define DIALOGD_INTENT_INT_H

#include "engine/intent.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdbool.h>
#include <stddef.h>

struct pattern_index;

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

/* A line of audience.cues, or of out_of_scope.cues (audience unused, matched on the
 * question rather than the whole message). */
struct cue {
	enum audience audience;
	bool out_of_scope;
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

/* Compiles source (UTF, UCP, plus extra_options) and JIT-compiles it where the JIT is
 * available. Returns NULL with *why_r (caller frees) when it does not compile. */
pcre2_code *intent_compile_pattern(const char *source, uint32_t extra_options, char **why_r);

/* The position of id in the spec, or -1 when the spec has no such intent. */
int intent_spec_index(const char *id);
/* Sets *kind_r to the kind called name ("faq") and returns 0, or returns -1. */
int intent_kind_from_name(const char *name, enum intent_kind *kind_r);

/* Numbers every pattern and fills set's dispatch tables (intent_dispatch.c); called once,
 * when every file has loaded without error. */
void intent_set_build_dispatch(struct intent_set *set);

#endif
