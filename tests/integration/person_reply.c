/* person_reply — test helper for tests/integration/chatws.sh (built by `make check`, never
 * installed, not a test itself): a correspondant takes a chat thread and answers in it
 * through the conversation layer (conversation_take, conversation_reply), as the console
 * will and as `dialogctl reply` is to, from another process than dialogd.
 * Usage: person_reply STORE THREAD PERSON TEXT */
#include "autoconf.h"
#include "conversation/conversation.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>

int
main(int argc, char **argv)
{
	if (argc != 5) {
		fputs("usage: person_reply STORE THREAD PERSON TEXT\n", stderr);
		return 2;
	}
	char *err = NULL;
	struct store *st = store_open(argv[1], &err);
	if (st == NULL) {
		fprintf(stderr, "person_reply: %s\n", err);
		free(err);
		return 1;
	}
	int64_t thread = strtoll(argv[2], NULL, 10);
	/* A chat thread's answer is a line of the thread: no mail, so no sender or engine. */
	enum conversation_result taken = conversation_take(st, thread, argv[3], false);
	enum conversation_result replied =
		taken == CONVERSATION_DONE ? conversation_reply(NULL, NULL, st, thread, argv[3], argv[4]) : taken;
	if (replied != CONVERSATION_DONE)
		fprintf(stderr, "person_reply: thread %s: %s\n", argv[2],
			replied == CONVERSATION_REFUSED ? "refused" : store_error(st));
	store_close(&st);
	return replied == CONVERSATION_DONE ? 0 : 1;
}
