/* deferred — see deferred.h. */
#include "autoconf.h"
#include "conversation/deferred.h"
#include "conversation/conversation.h"
#include "conversation/route.h"
#include "conversation/turn_internal.h"
#include "accounts/account_actions.h"
#include "core/limit_window.h"
#include "core/util.h"
#include "directory/directory.h"
#include "engine/dialog.h"
#include "engine/engine.h"
#include "engine/template.h"
#include "store/audit.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One run's context. */
struct run {
	const struct action_settings *s;
	struct store *st;
	struct directory *dir;
	const struct engine *e;
	unsigned queued;
};

/* A dossier's one-time code for the address the visitor gave: sent when the address is
 * on file for the dossier and no limit is reached (the visitor's look-ups, the codes
 * actually sent to the address or for the dossier: look-ups by others that sent nothing
 * must not lock the holder out). Its hash goes to the step that waits for it. Returns 0,
 * -1, or DIRECTORY_UNAVAILABLE. */
static int
code_for_dossier(struct actor *actor, const char *number, const char *email)
{
	const struct action_settings *s = actor->s;
	struct store *st = actor->st;
	int64_t since = limit_window_start((int64_t)time(NULL));
	int64_t by_visitor = store_audit_count(st, actor->requester, "dossier_status", since);
	int64_t to_address = store_audit_count_subject(st, "one_time_code", email, audit_code(AUDIT_CODE_SENT), since);
	int64_t for_dossier = store_audit_count_subject(st, "dossier_status", number, audit_code(AUDIT_CODE_SENT), since);
	if (by_visitor < 0 || to_address < 0 || for_dossier < 0)
		return -1;
	struct directory_dossier d = {0};
	int found = directory_dossier_get(actor->dir, number, &d);
	bool on_file = found == 1 && directory_dossier_has_email(&d, email);
	directory_dossier_clear(&d);
	if (found < 0 && found != DIRECTORY_UNAVAILABLE)
		return -1;
	bool over = by_visitor >= (int64_t)s->status_limit || to_address >= (int64_t)s->status_limit ||
		    for_dossier >= (int64_t)s->status_limit;
	const char *outcome = found == DIRECTORY_UNAVAILABLE ? audit_code(AUDIT_DIRECTORY_UNAVAILABLE)
			      : over                          ? audit_code(AUDIT_STATUS_LIMIT)
			      : on_file                       ? audit_code(AUDIT_CODE_SENT)
			      : found == 1                    ? audit_code(AUDIT_STATUS_NOT_ON_FILE)
							      : audit_code(AUDIT_NO_DOSSIER);
	if (store_audit_add(st, actor->channel, actor->requester, "dossier_status", number, outcome) < 0)
		return -1;
	if (found == DIRECTORY_UNAVAILABLE)
		return DIRECTORY_UNAVAILABLE;
	char *hash = NULL;
	int rc = action_code_send(actor, email, on_file && !over, &hash);
	if (rc == 0 && hash != NULL)
		rc = turn_step_set_code(st, actor->thread_id, number, email, hash);
	free(hash);
	return rc;
}

/* What the requester is told when the directory failed after their reply. */
static char *
unavailable_text(const struct engine *e)
{
	char *why = template_render(e->templates, "reason_directory_unavailable_after", OUTPUT_TEXT, NULL, 0);
	struct template_var var = { "reason", why, true };
	char *text = template_render(e->templates, "escalation_ack", OUTPUT_TEXT, &var, 1);
	free(why);
	return text;
}

/* The directory could not answer: a person takes the thread, the correspondants are
 * told, and the requester hears it on the thread's channel (nothing about an account). */
static int
hand_over(struct run *run, const struct deferred_action *d)
{
	bool by_mail = strcmp(d->channel, "mail") == 0;
	enum channel channel = by_mail ? CHANNEL_MAIL : CHANNEL_CHAT;
	char *why = xasprintf("%s: %s", route_reason_text(REASON_UNAVAILABLE, channel), directory_error(run->dir));
	struct thread_row thread = {0};
	int rc = store_thread_get(run->st, d->thread_id, &thread) < 0 ? -1 : 0;
	bool told_already = thread.state == THREAD_ESCALATED;
	if (rc == 0 && thread.id == 0)
		rc = 1;  /* purged meanwhile: nobody to tell */
	if (rc == 0)
		rc = store_thread_update(run->st, thread.id, THREAD_ESCALATED, NULL, why);
	if (rc == 0 && !told_already) {
		int q = conversation_notify_hand_over(&run->s->notify, run->st, run->e, thread.id, REASON_UNAVAILABLE, false);
		rc = q < 0 ? -1 : 0;
		run->queued += q > 0;
	}
	char *text = rc == 0 ? unavailable_text(run->e) : NULL;
	if (rc == 0 && by_mail) {
		int q = conversation_mail_in_thread(&run->s->notify.sender, run->e, run->st, &thread, OUTBOX_ACK, NULL, text);
		rc = q < 0 ? -1 : 0;
		run->queued += q > 0;
	} else if (rc == 0) {
		struct message_row out = { .thread_id = thread.id, .direction = "out", .recipient = thread.requester,
					   .body = text, .decision = "chat" };
		rc = store_chat_action_delete(run->st, thread.id) < 0 || store_message_add(run->st, &out) < 0 ? -1 : 0;
	}
	free(text);
	free(why);
	thread_row_clear(&thread);
	return rc < 0 ? -1 : 0;
}

/* One pending action, in the run's transaction. */
static int
run_one(struct run *run, const struct deferred_action *d)
{
	struct actor actor = {
		.s = run->s, .st = run->st, .dir = run->dir, .e = run->e, .channel = d->channel,
		.requester = d->requester, .thread_id = d->thread_id,
	};
	int rc;
	if (strcmp(d->action, account_action_name(ACCOUNT_IDENTIFIER_REMINDER)) == 0)
		rc = action_identifier_reminder(&actor, d->by, d->value);
	else if (strcmp(d->action, account_action_name(ACCOUNT_PASSWORD_RESET)) == 0)
		rc = action_password_reset(&actor, d->by, d->value);
	else if (strcmp(d->action, DEFERRED_ONE_TIME_CODE) == 0)
		rc = code_for_dossier(&actor, d->by, d->value);
	else
		rc = 0;  /* written by a newer dialogd: nothing this one knows to do */
	run->queued += actor.queued;
	if (rc == DIRECTORY_UNAVAILABLE)
		rc = hand_over(run, d);
	return rc < 0 ? -1 : 0;
}

/* Every pending action, each in its own transaction. Returns how many ran, or -1. */
static int
run_pending(struct run *run, char **error_r)
{
	struct store *st = run->st;
	int ran = 0;
	for (;;) {
		struct deferred_action d;
		int rc = store_begin(st);
		int got = rc < 0 ? -1 : store_deferred_next(st, &d);
		if (got == 1)
			rc = run_one(run, &d);
		if (got == 1 && rc == 0)
			rc = store_deferred_delete(st, d.id);
		if (got >= 0 && rc == 0)
			rc = store_commit(st);
		if (got < 0 || rc < 0) {
			*error_r = xasprintf("store: %s", store_error(st));
			store_rollback(st);
		}
		if (got == 1)
			deferred_action_clear(&d);
		if (got < 0 || rc < 0)
			return -1;
		if (got == 0)
			break;
		ran++;
	}
	return ran;
}

int
conversation_run_deferred(const struct action_settings *s, struct store *st, struct directory *dir,
			  const struct engine *e, unsigned *queued_r, char **error_r)
{
	struct run run = { .s = s, .st = st, .dir = dir, .e = e };
	*queued_r = 0;
	int64_t pending = store_deferred_count(st);
	if (pending <= 0) {
		if (pending < 0)
			*error_r = xasprintf("store: %s", store_error(st));
		return pending < 0 ? -1 : 0;
	}
	/* The request is already on disk (the turn's commit): a power cut that undid one of
	 * these commits leaves the row, and the work is done again. No fsync to wait for, so
	 * a request whose reply went first costs hardly more than one done in its turn. */
	if (store_relax_durability(st, true) < 0) {
		*error_r = xasprintf("store: %s", store_error(st));
		return -1;
	}
	int ran = run_pending(&run, error_r);
	if (store_relax_durability(st, false) < 0 && ran >= 0) {
		*error_r = xasprintf("store: %s", store_error(st));
		ran = -1;
	}
	*queued_r = run.queued;
	return ran;
}
