/* Fuzz target: any bytes as a message, through the whole analysis and both replies.
 * Invalid input must be refused with an error, never crash, leak or read out of bounds.
 * Build: ./configure --enable-fuzzers CC=clang CFLAGS=-fsanitize=fuzzer-no-link,address,undefined
 *        && make tests/fuzz/fuzz_dialog
 * Run:   DIALOGD_SRCDIR=$PWD tests/fuzz/fuzz_dialog -max_total_time=60 */
#include "autoconf.h"
#include "engine/dialog.h"
#include "engine/engine.h"
#include "core/util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct engine *engine;
static struct intent_scratch *scratch;
static struct dialog_settings settings;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *dir = getenv("DIALOGD_SRCDIR");
	char *err = NULL;
	engine = engine_load(dir ? dir : DIALOGD_SOURCE_DIR, &err);
	if (engine == NULL) {
		fprintf(stderr, "fuzz_dialog: %s\n", err);
		abort();
	}
	scratch = intent_scratch_new();
	dialog_settings_default(&settings);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xmalloc(size + 1);  /* NUL-terminated copy: the API's contract */
	memcpy(text, data, size);
	text[size] = '\0';
	struct analysis a;
	char *err = NULL;
	if (dialog_analyze(engine, scratch, &settings, text, size, &a, &err) < 0) {
		free(err);
	} else {
		char *mail = dialog_reply(engine, &a, CHANNEL_MAIL, OUTPUT_TEXT);
		char *chat = dialog_reply(engine, &a, CHANNEL_CHAT, OUTPUT_HTML);
		free(mail);
		free(chat);
		analysis_clear(&a);
	}
	free(text);
	return 0;
}
