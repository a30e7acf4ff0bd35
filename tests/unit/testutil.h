/* Helpers shared by the unit tests: temporary folders and files. */
#ifndef DIALOGD_TESTUTIL_H
#define DIALOGD_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "engine/intent.h"
#include "core/util.h"

/* Fails, showing both, unless haystack holds needle (assert_contains) or does not
 * (assert_lacks). Macros, so that the failure names the test's own line. */
#define assert_contains(haystack, needle) \
	do { \
		const char *hay_ = (haystack), *needle_ = (needle); \
		if (strstr(hay_, needle_) == NULL) \
			fail_msg("[%s]\n  does not contain [%s]", hay_, needle_); \
	} while (0)
#define assert_lacks(haystack, needle) \
	do { \
		const char *hay_ = (haystack), *needle_ = (needle); \
		if (strstr(hay_, needle_) != NULL) \
			fail_msg("[%s]\n  contains [%s]", hay_, needle_); \
	} while (0)

/* Creates a fresh temporary folder; caller frees the path (and removes it with rm_rf). */
static inline char *
make_temp_dir(void)
{
	char tmpl[] = "/tmp/dialogd-test-XXXXXX";
	char *d = mkdtemp(tmpl);
	assert_non_null(d);
	return xstrdup(d);
}

static inline void
write_file(const char *dir, const char *name, const char *content)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	free(path);
}

static inline void
rm_rf(const char *dir)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

/* The project's own data folder (the source tree). */
static inline const char *
source_data_dir(void)
{
	const char *d = getenv("DIALOGD_SRCDIR");
	return d ? d : DIALOGD_SOURCE_DIR;
}

/* Writes a minimal but complete intents/ folder into dir: every spec intent gets a file
 * whose single pattern is its id with spaces ("password reset"). */
static inline void
write_minimal_intents(const char *dir)
{
	for (size_t i = 0; i < intent_spec_count(); i++) {
		const char *id = intent_spec_id(i);
		enum intent_kind k = intent_spec_kind(i);
		char *words = xstrdup(id);
		for (char *p = words; *p; p++)
			if (*p == '_')
				*p = ' ';
		char *name = xasprintf("%s.intent", id);
		char *body = xasprintf("id: %s\nkind: %s\n%s%s%s\n+3 \\b%s\\b\n", id, intent_kind_name(k),
				       k == INTENT_ACTION ? "action: " : k == INTENT_CHAT ? "reply: chat_greeting" : "faq: ",
				       k == INTENT_ACTION ? id : k == INTENT_CHAT ? "" : id,
				       k == INTENT_CHAT ? "\nscope: full" : "", words);
		write_file(dir, name, body);
		free(body);
		free(name);
		free(words);
	}
	write_file(dir, "audience.cues", "entreprise +3 \\bnotre entreprise\\b\norganisme +3 \\bcfa\\b\n");
}

#endif
