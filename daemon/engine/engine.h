/* engine — everything the assistant knows, loaded from a data folder: intents/ (with
 * lexicon.tsv and audience.cues), faq-data/ and templates/, cross-checked together.
 * Read-only once loaded: threads share one engine; a reload builds a new one and swaps.
 * Lower layer: never logs. */
#ifndef DIALOGD_ENGINE_H
#define DIALOGD_ENGINE_H

#include <pthread.h>
#include <stddef.h>

struct engine {
	char *data_dir;
	struct lexicon *lexicon;
	struct intent_set *intents;
	struct faq *faq;
	struct templates *templates;
};

/* Loads data_dir/intents, data_dir/faq-data and data_dir/templates. Every error of every
 * file is reported at once in *error_r (one "file:line: message" per line). */
struct engine *engine_load(const char *data_dir, char **error_r);
void engine_free(struct engine **engine);

/* The engine in use, shared by the daemon's threads: readers hold the read lock while
 * they use it; a reload swaps in a new engine under the write lock. */
struct engine_holder {
	pthread_rwlock_t lock;
	struct engine *engine;
};

/* Finds the data folder when --data is not given: the source tree when the program runs
 * from its build tree, else the installed $(pkgdatadir). Returns a borrowed string. */
const char *engine_default_data_dir(void);

#endif
