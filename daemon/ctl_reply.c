/* ctl_reply — see ctl_reply.h. */
#include "autoconf.h"
#include "ctl_reply.h"
#include "conversation/conversation.h"
#include "core/config.h"
#include "core/text.h"
#include "core/util.h"
#include "mail/setup.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A person's answer longer than this is refused rather than cut (a mail body or a chat
 * line, not a document). */
#define REPLY_MAX (64u * 1024)

/* The answer on standard input, trailing blank lines removed. NULL with *error_r. */
static char *
read_answer(char **error_r)
{
	struct strbuf sb = {0};
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0) {
		if (sb.len + n > REPLY_MAX) {
			strbuf_free(&sb);
			*error_r = xasprintf("the answer is over %u bytes: nothing sent", REPLY_MAX);
			return NULL;
		}
		strbuf_add(&sb, chunk, n);
	}
	size_t len = sb.len;
	char *text = len ? strbuf_detach(&sb) : xstrdup("");
	char *err = NULL;
	if (text_validate(text, len, &err) < 0) {
		*error_r = xasprintf("the answer is not UTF-8 text (%s): nothing sent", err);
		free(err);
		free(text);
		return NULL;
	}
	while (len > 0 && strchr(" \t\r\n", text[len - 1]) != NULL)
		text[--len] = '\0';
	if (len == 0) {
		*error_r = xstrdup("the answer on standard input is empty: nothing sent");
		free(text);
		return NULL;
	}
	return text;
}

/* Who answers when --as is not given: the operator's login. */
static const char *
default_person(void)
{
	const char *who = getenv("SUDO_USER");
	if (who == NULL || *who == '\0')
		who = getenv("USER");
	return who != NULL && *who != '\0' ? who : "operator";
}

/* The arguments: THREAD [--as NAME] [--take-over]. Returns false on a usage error. */
static bool
parse(int argc, char **argv, int64_t *thread_r, const char **person_r, bool *take_over_r)
{
	*thread_r = 0;
	*person_r = default_person();
	*take_over_r = false;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--as") == 0 && i + 1 < argc && *argv[i + 1] != '\0') {
			*person_r = argv[++i];
		} else if (strcmp(argv[i], "--take-over") == 0) {
			*take_over_r = true;
		} else if (*thread_r == 0) {
			char *end;
			long long id = strtoll(argv[i], &end, 10);
			if (*argv[i] == '\0' || *end != '\0' || id <= 0)
				return false;
			*thread_r = id;
		} else {
			return false;
		}
	}
	return *thread_r > 0;
}

/* Takes the thread for person (from the queue or the bot; from another person only when
 * take_over), then answers in it. Returns the exit status. */
static int
answer(const struct mail_setup *setup, const struct engine *e, struct store *st, int64_t id, const char *person,
       bool take_over, const char *text)
{
	struct thread_row thread = {0};
	int got = store_thread_get(st, id, &thread);
	if (got <= 0) {
		if (got < 0)
			fprintf(stderr, "dialogctl reply: store: %s\n", store_error(st));
		else
			fprintf(stderr, "dialogctl reply: there is no thread #%lld: nothing sent\n", (long long)id);
		thread_row_clear(&thread);
		return 1;
	}
	if (thread.owner == OWNER_PERSON && strcmp(thread.owner_person, person) != 0 && !take_over) {
		fprintf(stderr, "dialogctl reply: thread #%lld is held by %s: nothing sent (--take-over to answer anyway)\n",
			(long long)id, thread.owner_person);
		thread_row_clear(&thread);
		return 1;
	}
	bool by_mail = strcmp(thread.channel, "mail") == 0;
	char *requester = xstrdup(thread.requester);
	thread_row_clear(&thread);
	enum conversation_result rc = conversation_take(st, id, person, take_over);
	if (rc == CONVERSATION_DONE)
		rc = conversation_reply(&setup->mail.actions.notify.sender, e, st, id, person, text);
	if (rc == CONVERSATION_DONE)
		printf("thread #%lld: answer from %s %s %s\n", (long long)id, person,
		       by_mail ? "queued by mail to" : "written in the chat of", requester);
	else if (rc == CONVERSATION_REFUSED)
		fprintf(stderr, "dialogctl reply: thread #%lld changed hands meanwhile: nothing sent\n", (long long)id);
	else
		fprintf(stderr, "dialogctl reply: store: %s\n", store_error(st));
	free(requester);
	return rc == CONVERSATION_DONE ? 0 : 1;
}

int
ctl_reply(const struct engine *e, const struct config *cfg, int argc, char **argv)
{
	int64_t id;
	const char *person;
	bool take_over;
	if (!parse(argc, argv, &id, &person, &take_over)) {
		fputs("dialogctl reply: usage: reply THREAD [--as NAME] [--take-over]   (the answer on standard input)\n",
		      stderr);
		return 2;
	}
	char *err = NULL;
	char *text = read_answer(&err);
	struct mail_setup setup;
	struct store *st = NULL;
	int rc = 1;
	if (text != NULL) {
		/* Who the mail is from (the envelope of the assistant's replies). */
		if (mail_setup_init(&setup, cfg, &err) == 0 && (st = store_open(cfg->store_path, &err)) != NULL)
			rc = answer(&setup, e, st, id, person, take_over, text);
		mail_setup_clear(&setup);
	}
	if (err != NULL)
		fprintf(stderr, "dialogctl reply: %s\n", err);
	free(err);
	store_close(&st);
	free(text);
	return rc;
}
