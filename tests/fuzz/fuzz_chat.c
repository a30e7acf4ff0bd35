/* Fuzz target: any bytes as a chat conversation (one turn per line) through the chat's
 * account actions on a store holding the demo directory: every step (number, address,
 * code, identifier, SIRET) fed whatever the fuzzer finds. Nothing may crash, leak or
 * read out of bounds, and no turn may fail on the store.
 * Build: ./configure --enable-fuzzers CC=clang CFLAGS=-fsanitize=fuzzer-no-link,address,undefined
 *        && make tests/fuzz/fuzz_chat
 * Run:   DIALOGD_SRCDIR=$PWD tests/fuzz/fuzz_chat -max_total_time=60 */
#include "autoconf.h"
#include "chat/chat_session.h"
#include "directory/directory.h"
#include "directory/directory_import.h"
#include "engine/engine.h"
#include "mail/mail_channel.h"
#include "store/store.h"
#include "core/util.h"
#include "../unit/testmailsettings.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct engine *engine;
static struct intent_scratch *scratch;
static struct store *store;
static struct directory *dir;
static struct mail_settings settings;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *src = getenv("DIALOGD_SRCDIR");
	src = src ? src : DIALOGD_SOURCE_DIR;
	char *err = NULL;
	engine = engine_load(src, &err);
	store = engine ? store_open(":memory:", &err) : NULL;
	if (store == NULL) {
		fprintf(stderr, "fuzz_chat: %s\n", err);
		exit(1);
	}
	static const char *const tables[] = { "companies", "accounts", "dossiers" };
	for (int t = 0; t < 3; t++) {
		char *path = xasprintf("%s/tests/data/directory/%s.csv", src, tables[t]);
		if (directory_import(store, (enum directory_table)t, path, &err) < 0) {
			fprintf(stderr, "fuzz_chat: %s\n", err);
			exit(1);
		}
		free(path);
	}
	test_mail_settings(&settings);
	/* High limits: the fuzzer should reach every step, not the refusals only. */
	settings.actions.reminder_limit = settings.actions.status_limit = settings.actions.reset_limit = 1000000;
	scratch = intent_scratch_new();
	dir = directory_open_sqlite(store);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chat_session *cs = chat_session_new(&settings.actions, store, dir, "fuzz");
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *line = xstrndup(p, n);
		char *err = NULL;
		char *reply = chat_session_turn(cs, engine, scratch, &settings.dialog, line, n, &err);
		if (reply == NULL) {
			fprintf(stderr, "fuzz_chat: a turn failed on the store: %s\n", err);
			abort();
		}
		free(reply);
		free(line);
		p += n + 1;
	}
	chat_session_free(&cs);
	return 0;
}
