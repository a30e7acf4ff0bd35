/* intent_dispatch — prepares the fast path of intent_match.c at load time: numbers every
 * pattern, registers in a pattern_index the words each one may start with (and a word it
 * needs further on), compiled anchored, and lists those whose start cannot be read. A
 * negative pattern written in several intents is registered once, the others alias it. */
#include "autoconf.h"
#include "engine/intent_int.h"
#include "engine/pattern_index.h"
#include "engine/pattern_prefix.h"
#include "core/strmap.h"
#include "core/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Registers pat's prefixes in the set's index, or, when its start cannot be read, puts it
 * with the patterns run on the whole text. */
static void
dispatch_add(struct intent_set *set, struct pattern *pat)
{
	struct prefix_list prefixes = {0};
	char *why = NULL;
	if (pattern_start_prefixes(pat->source, &prefixes) < 0 ||
	    (pat->anchored = intent_compile_pattern(pat->source, PCRE2_ANCHORED, &why)) == NULL) {
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

void
intent_set_build_dispatch(struct intent_set *set)
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
		set->cues[i].pattern.full_scope = !set->cues[i].out_of_scope;
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
