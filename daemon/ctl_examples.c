/* ctl_examples — see ctl_examples.h. */
#include "autoconf.h"
#include "ctl_examples.h"
#include "conversation/conversation.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One line of the dev.tsv format: the text on one line (a line break as the two
 * characters \n, a tab as a space, no carriage return), the intent, the audience or "-". */
static int
write_example(const char *text, const char *intent, const char *audience, void *user)
{
	FILE *out = user;
	for (const char *p = text; *p; p++) {
		if (*p == '\n')
			fputs("\\n", out);
		else if (*p == '\t')
			fputc(' ', out);
		else if (*p != '\r')
			fputc(*p, out);
	}
	fprintf(out, "\t%s\t%s\n", intent, audience != NULL ? audience : "-");
	return 0;
}

static int
examples_export(struct store *st, int argc, char **argv)
{
	FILE *out = argc == 1 ? fopen(argv[0], "w") : stdout;
	if (out == NULL) {
		fprintf(stderr, "dialogctl examples export: cannot write %s\n", argv[0]);
		return 1;
	}
	fputs("text\tintent\taudience\n", out);
	int rc = store_labels_each(st, write_example, out);
	if (rc < 0)
		fprintf(stderr, "dialogctl examples export: %s\n", store_error(st));
	if (out != stdout && fclose(out) != 0) {
		fprintf(stderr, "dialogctl examples export: cannot write %s\n", argv[0]);
		rc = -1;
	}
	return rc < 0 ? 1 : 0;
}

/* mark THREAD[:N] INTENT [entreprise|organisme] --as NAME */
static int
examples_mark(struct store *st, int argc, char **argv)
{
	const char *who = NULL;
	if (argc >= 4 && strcmp(argv[argc - 2], "--as") == 0) {
		who = argv[argc - 1];
		argc -= 2;
	}
	char *end = NULL;
	long long thread = argc >= 2 ? strtoll(argv[0], &end, 10) : 0;
	long long nth = 0;
	if (end != NULL && *end == ':')
		nth = strtoll(end + 1, &end, 10);
	if (who == NULL || argc < 2 || argc > 3 || thread <= 0 || nth < 0 || end == NULL || *end != '\0') {
		fputs("dialogctl examples: usage: examples mark THREAD[:N] INTENT [entreprise|organisme] --as NAME\n"
		      "  (N: the writer's Nth message in the thread, default the last)\n",
		      stderr);
		return 2;
	}
	int64_t message = store_inbound_message_id(st, thread, nth);
	if (message <= 0) {
		fprintf(stderr, "dialogctl examples mark: thread #%lld has no such message from its writer\n", thread);
		return 1;
	}
	enum conversation_result r =
		conversation_label(st, message, argv[1], argc == 3 ? argv[2] : NULL, who, (int64_t)time(NULL));
	if (r == CONVERSATION_DONE) {
		printf("thread #%lld: message marked %s%s%s\n", thread, argv[1], argc == 3 ? " for " : "",
		       argc == 3 ? argv[2] : "");
		return 0;
	}
	if (r == CONVERSATION_REFUSED)
		fprintf(stderr, "dialogctl examples mark: \"%s\"%s%s is not an intent id of spec/intents.tsv and an "
				"audience (entreprise or organisme): nothing marked\n",
			argv[1], argc == 3 ? " for " : "", argc == 3 ? argv[2] : "");
	else
		fprintf(stderr, "dialogctl examples mark: %s\n", store_error(st));
	return 1;
}

int
ctl_examples(const char *store_path, int argc, char **argv)
{
	if (argc < 1 || (strcmp(argv[0], "export") != 0 && strcmp(argv[0], "mark") != 0) ||
	    (strcmp(argv[0], "export") == 0 && argc > 2)) {
		fputs("dialogctl examples: usage: examples export [FILE] | examples mark THREAD[:N] INTENT [AUDIENCE] --as NAME\n",
		      stderr);
		return 2;
	}
	char *err = NULL;
	struct store *st = store_open(store_path, &err);
	if (st == NULL) {
		fprintf(stderr, "dialogctl examples: %s\n", err);
		free(err);
		return 1;
	}
	int rc = strcmp(argv[0], "export") == 0 ? examples_export(st, argc - 1, argv + 1)
						: examples_mark(st, argc - 1, argv + 1);
	store_close(&st);
	return rc;
}
