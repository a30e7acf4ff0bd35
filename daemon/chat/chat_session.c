/* chat_session — see chat_session.h. */
#include "autoconf.h"
#include "chat/chat_session.h"
#include "conversation/deferred.h"
#include "conversation/turn.h"
#include "core/text.h"
#include "core/util.h"
#include "engine/engine.h"
#include "engine/template.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct chat_session {
	const struct action_settings *s;
	struct store *st;
	struct directory *dir;
	char *visitor;
	char *account;          /* proven by the extranet, NULL */
	int64_t thread_id;
	struct conversation conv;
};

struct chat_session *
chat_session_new(const struct action_settings *s, struct store *st, struct directory *dir, const char *visitor)
{
	struct chat_session *cs = xcalloc(1, sizeof(*cs));
	cs->s = s;
	cs->st = st;
	cs->dir = dir;
	cs->visitor = xstrdup(visitor ? visitor : "chat");
	return cs;
}

struct chat_session *
chat_session_resume(const struct action_settings *s, struct store *st, struct directory *dir, const char *visitor,
		    int64_t thread_id)
{
	struct chat_session *cs = chat_session_new(s, st, dir, visitor);
	cs->thread_id = thread_id;
	return cs;
}

void
chat_session_free(struct chat_session **csp)
{
	if (*csp == NULL)
		return;
	free((*csp)->visitor);
	free((*csp)->account);
	free(*csp);
	*csp = NULL;
}

void
chat_session_set_account(struct chat_session *cs, const char *account)
{
	free(cs->account);
	cs->account = account ? xstrdup(account) : NULL;
}

int64_t
chat_session_thread(const struct chat_session *cs)
{
	return cs->thread_id;
}

/* One turn of in, in a transaction of its own: the reply, or NULL with *error_r. */
static char *
run(struct chat_session *cs, const struct engine *e, struct intent_scratch *scratch, const struct dialog_settings *ds,
    struct turn_input *in, char **error_r)
{
	struct turn_settings ts = { .actions = cs->s, .dialog = ds, .limits = NULL };
	in->channel = CHANNEL_CHAT;
	in->thread_id = cs->thread_id;
	in->context = &cs->conv;
	/* An address typed in a chat proves nothing: the visitor is all that is known, but
	 * for an account the extranet vouches for. */
	in->requester = (struct turn_requester){ .name = cs->visitor, .reply_to = cs->visitor, .account = cs->account };
	struct turn_result r = {0};
	int rc = store_begin(cs->st);
	if (rc == 0)
		rc = conversation_turn(&ts, cs->st, cs->dir, e, scratch, in, &r);
	if (rc == 0)
		rc = store_commit(cs->st);
	if (rc < 0) {
		*error_r = xasprintf("store: %s", store_error(cs->st));
		store_rollback(cs->st);
		turn_result_clear(&r);
		return NULL;  /* a thread created in this turn is gone with it */
	}
	cs->thread_id = r.thread_id;
	char *reply = r.reply;
	r.reply = NULL;
	turn_result_clear(&r);
	return reply;
}

char *
chat_session_turn(struct chat_session *cs, const struct engine *e, struct intent_scratch *scratch,
		  const struct dialog_settings *ds, const char *text, size_t len, char **error_r)
{
	char *err = NULL;
	bool readable = text_validate(text, len, &err) == 0 && strlen(text) == len;
	free(err);
	/* What the history keeps of bytes that are no text. */
	char *unreadable = readable ? NULL : template_render(e->templates, "history_message_unreadable", OUTPUT_TEXT, NULL, 0);
	struct turn_input in = {
		.text = readable ? text : unreadable, .unreadable = readable ? NULL : "invalid UTF-8 or a NUL byte",
	};
	char *reply = run(cs, e, scratch, ds, &in, error_r);
	free(unreadable);
	return reply;
}

char *
chat_session_transcript(struct chat_session *cs, const struct engine *e, struct intent_scratch *scratch,
			const struct dialog_settings *ds, char **error_r)
{
	char *request = template_render(e->templates, "chat_transcript_request", OUTPUT_TEXT, NULL, 0);
	str_trim(request);
	struct turn_input in = { .text = request, .transcript = true };
	char *reply = run(cs, e, scratch, ds, &in, error_r);
	free(request);
	return reply;
}

int
chat_session_after_reply(struct chat_session *cs, const struct engine *e, unsigned *queued_r, char **error_r)
{
	return conversation_run_deferred(cs->s, cs->st, cs->dir, e, queued_r, error_r);
}
