/* Fuzz target for the matcher's fast path: the first line of the input is a pattern,
 * the rest a text, folded as every message is before matching (the fast path relies on
 * folded text: words of letters and digits separated by single spaces). Whatever the pattern, trying it only where its literal prefix
 * starts a word (the dispatch) must give exactly what running it on the whole text
 * gives; a pattern that does not compile must be refused with file and line.
 * Build: ./configure --enable-fuzzers CC=clang CFLAGS=-fsanitize=fuzzer-no-link,address,undefined
 *        && make tests/fuzz/fuzz_pattern */
#include "autoconf.h"
#include "engine/intent.h"
#include "engine/lexicon.h"
#include "core/text.h"
#include "core/util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/dialogd-fuzz-XXXXXX";
static const char *const fixed_texts[] = {
	"j ai oublie mon mot de passe", "mon identifiant et le mot de passe", "dossier af 2024 001234",
	"bonjour", "le contrat a ete rompu fin anticipee", "a b c d e f", "",
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
write_file(const char *name, const char *content)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		abort();
	fputs(content, f);
	fclose(f);
	free(path);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (mkdtemp(dir) == NULL)
		abort();
	for (size_t i = 0; i < intent_spec_count(); i++) {
		const char *id = intent_spec_id(i);
		enum intent_kind k = intent_spec_kind(i);
		char *name = xasprintf("%s.intent", id);
		char *body = xasprintf("id: %s\nkind: %s\n%s%s\n+3 \\bzzz%zu\\b\n", id, intent_kind_name(k),
				       k == INTENT_ACTION ? "action: " : k == INTENT_CHAT ? "reply: chat_greeting" : "faq: ",
				       k == INTENT_ACTION || k == INTENT_FAQ || k == INTENT_HANDOFF ? id : "", i);
		write_file(name, body);
		free(body);
		free(name);
	}
	write_file("audience.cues", "entreprise +3 \\bnotre entreprise\\b\n");
	return 0;
}

static void
compare(struct intent_set *set, struct intent_scratch *s, const char *text)
{
	struct intent_result fast, slow;
	char *err = NULL;
	intent_set_use_dispatch(set, true);
	int rf = intent_match(set, s, text, text, 3, &fast, &err);
	free(err);
	err = NULL;
	intent_set_use_dispatch(set, false);
	int rs = intent_match(set, s, text, text, 3, &slow, &err);
	free(err);
	if (rf != rs)
		return;  /* a match limit hit on one path only is acceptable: both are errors */
	if (rf < 0)
		return;
	if (fast.candidate_count != slow.candidate_count)
		abort();
	for (size_t i = 0; i < fast.candidate_count; i++)
		if (fast.candidates[i].intent != slow.candidates[i].intent ||
		    fast.candidates[i].score != slow.candidates[i].score)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *input = xmalloc(size + 1);
	memcpy(input, data, size);
	input[size] = '\0';
	if (strlen(input) != size) {  /* NUL bytes: not a text file */
		free(input);
		return 0;
	}
	char *nl = strchr(input, '\n');
	const char *text = "";
	if (nl != NULL) {
		*nl = '\0';
		text = nl + 1;
	}
	char *body = xasprintf("id: submit_invoice\nkind: faq\nfaq: submit_invoice\n+2 %s\n", input);
	write_file("submit_invoice.intent", body);
	free(body);
	char *err = NULL;
	struct lexicon *lex = lexicon_new();
	struct intent_set *set = intent_set_load(dir, lex, &err);
	lexicon_free(&lex);
	if (set == NULL) {
		if (strstr(err, "submit_invoice.intent:") == NULL)
			abort();  /* every error must name the file (and the line) */
		free(err);
		free(input);
		return 0;
	}
	struct intent_scratch *s = intent_scratch_new();
	char *why = NULL;
	if (text_validate(text, strlen(text), &why) == 0) {
		char *folded = text_fold(text, strlen(text), NULL);
		compare(set, s, folded);
		free(folded);
	}
	free(why);
	for (size_t i = 0; i < sizeof(fixed_texts) / sizeof(*fixed_texts); i++)
		compare(set, s, fixed_texts[i]);
	intent_scratch_free(&s);
	intent_set_free(&set);
	free(input);
	return 0;
}
