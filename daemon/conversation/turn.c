/* turn — see turn.h. The turn first decides (turn_decide, turn_reply, a notice) and
 * runs the account action, then finish() writes what was decided: the message's row,
 * the thread's state, the reply on the thread's channel, the correspondants' notice. */
#include "autoconf.h"
#include "conversation/turn.h"
#include "conversation/turn_internal.h"
#include "conversation/conversation.h"
#include "conversation/route.h"
#include "directory/directory.h"
#include "core/limit_window.h"
#include "core/text.h"
#include "core/util.h"
#include "directory/request_fields.h"
#include "engine/engine.h"
#include "formats/mail_compose.h"
#include "store/store.h"
#include "outbox/notify.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Follow-ups in a thread a person handles: at most this many notices per window (the
 * burst window, or this many seconds without one). */
#define NOTICES_PER_WINDOW 3
#define NOTICE_WINDOW_DEFAULT 600
/* A thread's subject when the message has none (the chat): its first line, this long at
 * most. */
#define SUBJECT_MAX 80

/* The message's decision, as the store keeps it, for each outcome. */
static const char *const decision_names[] = { "answered", "escalated", "ignored", "attached" };

void
turn_result_clear(struct turn_result *r)
{
	free(r->intent);
	free(r->reason);
	free(r->reply);
	memset(r, 0, sizeof(*r));
}

static void
replace(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value ? value : "");
}

void
turn_decide(struct turn *t, enum turn_outcome outcome, enum thread_state state, const char *intent,
	    const char *reason)
{
	t->r->outcome = outcome;
	t->state = state;
	t->change_state = true;
	t->decision = decision_names[outcome];
	if (intent != NULL)
		replace(&t->r->intent, intent);
	replace(&t->r->reason, reason);
	free(t->kept_reason);
	t->kept_reason = reason ? xstrdup(reason) : NULL;
}

/* The reason the operator reads in the log, when it is not one the thread keeps. */
void
turn_log_reason(struct turn *t, const char *reason)
{
	replace(&t->r->reason, reason);
}

char *
turn_render(const struct turn *t, const char *name, const struct template_var *vars, size_t count)
{
	return template_render(t->e->templates, name, OUTPUT_TEXT, vars, count);
}

void
turn_reply(struct turn *t, enum outbox_kind kind, char *text)
{
	free(t->reply);
	t->reply = text;
	t->reply_kind = kind;
}

char *
turn_answer_text(const struct turn *t, const struct analysis *a)
{
	if (a == &t->analysis && t->chat_reply != NULL)
		return xstrdup(t->chat_reply);
	return dialog_answer(t->e, a, t->in->channel, OUTPUT_TEXT);
}

struct actor
turn_actor(const struct turn *t)
{
	return (struct actor){
		.s = t->s->actions, .st = t->st, .dir = t->dir, .e = t->e,
		.channel = t->in->channel == CHANNEL_MAIL ? "mail" : "chat",
		.requester = t->in->requester.name, .thread_id = t->thread_id,
	};
}

/* NULL when the requester may get one more automatic reply, else why not (caller frees). */
static char *
over_limit(const struct turn *t)
{
	const struct reply_limits *l = t->s->limits;
	const char *to = t->in->requester.reply_to;
	if (l == NULL)
		return NULL;
	if (to == NULL)
		return xstrdup("no usable reply address");
	int64_t bounced = store_last_bounce(t->st, to);
	if (bounced > 0 && l->bounce_pause > 0 && bounced > t->now - (int64_t)l->bounce_pause)
		return xstrdup("replies to this address bounced recently");
	if (l->burst_limit > 0 &&
	    store_auto_replies_since(t->st, to, t->now - (int64_t)l->burst_window) >= (int64_t)l->burst_limit)
		return xasprintf("burst limit: %lu automatic replies in %lu s already", l->burst_limit, l->burst_window);
	if (l->daily_limit > 0 && store_auto_replies_since(t->st, to, t->now - 86400) >= (int64_t)l->daily_limit)
		return xasprintf("daily limit: %lu automatic replies in 24 h already", l->daily_limit);
	/* Rotating addresses (a+1@, a+2@, b@, c@ …) is not a new sender each time. */
	char *domain = mail_address_domain(to);
	int64_t to_domain = l->domain_limit > 0 && domain != NULL
				    ? store_auto_replies_to_domain_since(t->st, domain, limit_window_start(t->now)) : 0;
	char *limit = l->domain_limit > 0 && to_domain >= (int64_t)l->domain_limit
			      ? xasprintf("domain limit: %lu automatic replies to %s in an hour already", l->domain_limit,
					  domain)
			      : NULL;
	free(domain);
	if (limit != NULL)
		return limit;
	int64_t since = limit_window_start(t->now);
	if (l->global_limit > 0 &&
	    store_outbox_kind_since(t->st, OUTBOX_REPLY, since) + store_outbox_kind_since(t->st, OUTBOX_ACK, since) >=
		    (int64_t)l->global_limit)
		return xasprintf("global limit: %lu automatic replies in an hour already", l->global_limit);
	return NULL;
}

/* The chat's hand-over line: the acknowledgement, then when a person will answer. */
static char *
chat_hand_over_text(const struct turn *t, const struct analysis *a)
{
	char *ack = turn_answer_text(t, a);
	const char *configured = t->s->actions->chat_hours;
	char *hours = configured != NULL ? xstrdup(configured) : turn_render(t, "chat_hours", NULL, 0);
	struct template_var var = { "hours", hours, false };
	char *when = turn_render(t, "chat_handoff_hours", &var, 1);
	char *text = xasprintf("%s\n\n%s", ack, when);
	free(ack);
	free(hours);
	free(when);
	return text;
}

int
turn_escalate(struct turn *t, const struct analysis *a, const char *reason_text)
{
	char *limit = over_limit(t);
	char *why = limit ? xasprintf("%s; %s: no acknowledgement", reason_text, limit) : xstrdup(reason_text);
	turn_decide(t, TURN_ESCALATED, THREAD_ESCALATED, NULL, why);
	if (limit != NULL)
		turn_reply(t, OUTBOX_ACK, NULL);
	else if (t->in->channel == CHANNEL_CHAT) {
		turn_reply(t, OUTBOX_ACK, chat_hand_over_text(t, a));
		free(t->offers);
		t->offers = turn_answers_offer(t);
	}
	else
		turn_reply(t, OUTBOX_ACK, turn_answer_text(t, a));
	t->notice = NOTICE_HAND_OVER;
	t->notice_reason = a->reason;
	t->notice_over_limit = limit != NULL;
	free(why);
	free(limit);
	return 0;
}

int
turn_escalate_unavailable(struct turn *t, const struct analysis *a)
{
	static char nothing[] = "";
	struct analysis unavailable = { .question = nothing };
	if (a != NULL)
		unavailable = *a;  /* borrowed fields: not cleared here */
	unavailable.decision = DECISION_ESCALATE;
	unavailable.reason = REASON_UNAVAILABLE;
	char *why = xasprintf("%s: %s", route_reason_text(REASON_UNAVAILABLE, t->in->channel), directory_error(t->dir));
	int rc = turn_escalate(t, &unavailable, why);
	free(why);
	return rc;
}

int
turn_defer(struct turn *t, const char *action, const char *by, const char *value)
{
	struct deferred_action d = {
		.thread_id = t->thread_id, .channel = (char *)(t->in->channel == CHANNEL_MAIL ? "mail" : "chat"),
		.requester = (char *)t->in->requester.name, .action = (char *)action, .by = (char *)by,
		.value = (char *)value,
	};
	return store_deferred_add(t->st, &d) < 0 ? -1 : 0;
}

int
turn_action_done(struct turn *t, const struct analysis *a, const struct actor *actor, int rc)
{
	t->r->queued += actor->queued;
	if (rc == DIRECTORY_UNAVAILABLE)
		return turn_escalate_unavailable(t, a) < 0 ? -1 : 1;
	return rc < 0 ? -1 : 0;
}

/* Beyond a reply limit the thread goes to a person silently (a flooding sender: one
 * notice per burst window, not one per message). */
static void
silent_escalation(struct turn *t, const char *limit)
{
	turn_decide(t, TURN_ESCALATED, THREAD_ESCALATED, NULL, limit);
	t->notice = NOTICE_QUIET_HAND_OVER;
}

/* Whether the bot speaks in the thread. By mail a thread in the correspondants' queue
 * is quiet already (the writer was told a person answers, and a mail can wait); in a
 * live chat the bot goes on helping until a person joins. */
static bool
bot_speaks(const struct turn *t)
{
	const struct thread_row *th = &t->thread;
	return th->id == 0 || th->owner == OWNER_BOT || (t->in->channel == CHANNEL_CHAT && th->owner == OWNER_QUEUE);
}

/* A message in a thread the bot does not speak in: kept and passed on. By mail the
 * correspondants hear of it, but a writer sending follow-up after follow-up does not
 * flood them (a few notices per thread and window, each with the new message); in the
 * chat the person who holds it is in the conversation, and the visitor is told so. */
static void
pass_on(struct turn *t)
{
	turn_decide(t, TURN_ATTACHED, THREAD_ESCALATED, NULL, NULL);
	t->change_state = false;
	turn_log_reason(t, "follow-up in a thread a correspondant handles");
	if (t->in->channel == CHANNEL_MAIL) {
		t->notice = NOTICE_FOLLOW_UP;
	} else {
		t->redact = turn_may_hold_code(t->in->text);  /* a code is never shown to a person */
		/* Said to the visitor, not kept: the person answers in the thread. */
		t->r->reply = turn_render(t, "chat_with_person", NULL, 0);
	}
}

/* A message that could not be read: by mail a person reads it (nobody can be asked to
 * write again); a chat visitor is asked to. */
static int
unreadable(struct turn *t, const char *why)
{
	if (t->in->channel == CHANNEL_CHAT) {
		turn_decide(t, TURN_ANSWERED, THREAD_ANSWERED, NULL, NULL);
		turn_reply(t, OUTBOX_REPLY, turn_render(t, "invalid_message", NULL, 0));
		return 0;
	}
	static char nothing[] = "";
	struct analysis a = { .decision = DECISION_ESCALATE, .reason = REASON_UNREADABLE, .question = nothing };
	t->confidence = 0;
	return turn_escalate(t, &a, why);
}

/* The engine's reading of the message, routed (route.h). */
static int
routed(struct turn *t, struct analysis *a)
{
	replace(&t->r->intent, a->decision == DECISION_CLARIFY ? NULL : analysis_intent_id(a));
	t->confidence = analysis_confidence(a);
	const struct thread_row *th = &t->thread;
	struct route_context context = {
		.channel = t->in->channel, .in_thread = th->id != 0, .directory = t->dir,
		.awaits_dossier_number = th->id != 0 && th->state == THREAD_OPEN && th->intent != NULL &&
					 strcmp(th->intent, "dossier_status") == 0,
	};
	struct route route = route_decide(a, &context);
	if (route.kind == ROUTE_ACTION && route.action == ACCOUNT_DOSSIER_STATUS)
		replace(&t->r->intent, account_action_name(ACCOUNT_DOSSIER_STATUS));
	switch (route.kind) {
	case ROUTE_NOTHING:
		turn_decide(t, TURN_ATTACHED, th->state, NULL, NULL);
		t->change_state = false;
		turn_log_reason(t, "nothing to answer (thanks or greeting)");
		return 0;
	case ROUTE_ESCALATE:
		a->decision = DECISION_ESCALATE;
		a->reason = route.reason;
		return turn_escalate(t, a, route_reason_text(route.reason, t->in->channel));
	case ROUTE_ANSWER:
	case ROUTE_ACTION:
		break;
	}
	char *limit = over_limit(t);
	int rc = 0;
	if (limit != NULL) {
		silent_escalation(t, limit);
	} else if (route.kind == ROUTE_ACTION) {
		rc = turn_account_action(t, a, route.action);
	} else {
		turn_decide(t, TURN_ANSWERED, THREAD_ANSWERED, NULL, NULL);
		turn_reply(t, OUTBOX_REPLY, turn_answer_text(t, a));
	}
	free(limit);
	return rc;
}

/* Asks the engine about a message the bot speaks in and no step was waiting for. */
static int
engine_turn(struct turn *t, struct intent_scratch *scratch)
{
	const struct turn_input *in = t->in;
	const char *q = in->question ? in->question : in->text;
	char *err = NULL;
	int rc = in->context != NULL ? dialog_chat_turn(t->e, scratch, t->s->dialog, in->context, q, strlen(q),
							&t->analysis, &t->chat_reply, &err)
				     : dialog_analyze(t->e, scratch, t->s->dialog, q, strlen(q), &t->analysis, &err);
	if (rc < 0)
		rc = unreadable(t, err ? err : "unreadable message");
	else
		rc = routed(t, &t->analysis);
	/* The engine's own reply went out as it wrote it: so do the buttons it offers. */
	if (rc == 0 && in->context != NULL && t->reply != NULL && t->chat_reply != NULL &&
	    strcmp(t->reply, t->chat_reply) == 0) {
		free(t->offers);
		t->offers = dialog_chat_offers(t->e, in->context);
	}
	free(err);
	return rc;
}

/* The thread's subject when the message has none: its first line, cut on a UTF-8
 * boundary, scrubbed as the message is (a bare code as the first line is not kept). */
static char *
subject_of(const struct turn *t)
{
	const char *text = t->in->text;
	if (t->in->subject != NULL)
		return xstrdup(t->in->subject);
	char *line = text_first_line(text, SUBJECT_MAX);
	char *subject = field_scrub_secrets(t->e->templates, line, turn_is_bare_code(text));
	free(line);
	return subject;
}

/* The thread as the message finds it (created when there is none), and the message's own
 * row, first in the thread before anything it causes; finish() completes it. */
static int
begin(struct turn *t)
{
	const struct turn_input *in = t->in;
	if (in->thread_id != 0 && store_thread_get(t->st, in->thread_id, &t->thread) < 0)
		return -1;
	t->thread_id = t->thread.id;
	if (t->thread_id != 0) {
		int secret = store_thread_has_secret(t->st, t->thread_id);
		if (secret < 0)
			return -1;
		t->secret_thread = secret == 1;
	} else {
		char *subject = subject_of(t);
		const char *requester = in->requester.reply_to ? in->requester.reply_to : "";
		t->thread_id = store_thread_create(t->st, in->channel == CHANNEL_MAIL ? "mail" : "chat", requester,
						   subject, THREAD_OPEN, NULL, NULL);
		free(subject);
		if (t->thread_id < 0)
			return -1;
	}
	const char *sender = in->requester.from_address ? in->requester.from_address
			     : *in->requester.name      ? in->requester.name : NULL;
	struct message_row row = { .thread_id = t->thread_id, .direction = "in", .message_id = in->message_id,
				   .sender = sender, .recipient = in->recipient, .subject = in->subject, .body = "" };
	t->inbound_id = store_message_add(t->st, &row);
	t->r->thread_id = t->thread_id;
	return t->inbound_id < 0 ? -1 : 0;
}

/* The message's row and the thread's state, as decided. */
static int
record(struct turn *t)
{
	const struct turn_input *in = t->in;
	const char *intent = *t->r->intent ? t->r->intent : NULL;
	/* Tokens are gone from the text already; a holder answering a code's or a link's
	 * mail may quote the code too: what is kept (and shown to the correspondants) has it
	 * removed. */
	char *body = t->redact ? turn_render(t, "history_message_removed", NULL, 0)
			       : field_scrub_secrets(t->e->templates, in->text, t->secret_thread);
	struct message_row row = { .body = body, .intent = intent, .confidence = t->confidence,
				   .decision = t->decision, .note = t->kept_reason ? t->kept_reason : in->notes };
	int rc = store_message_complete(t->st, t->inbound_id, &row);
	free(body);
	if (rc < 0 || !(t->change_state || t->thread.id == 0))
		return rc < 0 ? -1 : 0;
	/* A thread waiting for a person stays so while the bot helps in it (the chat). */
	enum thread_state state = t->thread.state == THREAD_ESCALATED && t->thread.id != 0 ? THREAD_ESCALATED : t->state;
	return store_thread_update(t->st, t->thread_id, state, intent, t->kept_reason);
}

/* The reply as a mail in the writer's thread: In-Reply-To their mail, References their
 * chain then their mail (RFC 5322 §3.6.4). Anyone can write with a victim's address in
 * Reply-To or a forged From, a subject and words of their choosing: only a writer the
 * channel may quote (turn_mail.may_quote) sees their question quoted and their subject
 * after "Re: ", never with a link in it; anyone else gets a neutral subject and no
 * quote, so that OCAPIAT's address never carries a stranger's text to a victim. */
static int
reply_by_mail(struct turn *t)
{
	const struct turn_mail *m = t->in->mail;
	const struct templates *tpl = t->e->templates;
	char *quote = NULL, *subject;
	char *neutral = turn_render(t, "mail_reply_subject_neutral", NULL, 0);
	if (m->may_quote) {
		char *question = field_scrub_secrets(tpl, t->analysis.question ? t->analysis.question : "", t->secret_thread);
		quote = field_remove_links(tpl, question);
		free(question);
		char *original = field_remove_links(tpl, t->in->subject ? t->in->subject : "");
		subject = mail_reply_subject(original, neutral);
		free(original);
	} else {
		subject = mail_reply_subject("", neutral);
	}
	free(neutral);
	char *body = dialog_mail_envelope(t->e, t->reply, quote ? quote : "", OUTPUT_TEXT);
	const char **refs = xcalloc(m->reference_count + 1, sizeof(*refs));
	size_t nrefs = 0;
	for (size_t i = 0; i < m->reference_count; i++)
		refs[nrefs++] = m->references[i];
	if (m->message_id != NULL)
		refs[nrefs++] = m->message_id;
	struct outbound o = {
		.thread_id = t->thread_id, .kind = t->reply_kind, .to_name = t->in->requester.reply_name,
		.to = t->in->requester.reply_to, .subject = subject, .body = body, .in_reply_to = m->message_id,
		.references = refs, .reference_count = nrefs,
	};
	int rc = outbound_queue(&t->s->actions->notify.sender, t->st, &o);
	if (rc > 0)
		t->r->queued++;
	free(refs);
	free(body);
	free(subject);
	free(quote);
	return rc < 0 ? -1 : 0;
}

/* The reply as the chat's next line, kept in the thread and given to the caller. */
static int
reply_by_chat(struct turn *t)
{
	struct message_row out = { .thread_id = t->thread_id, .direction = "out", .recipient = t->in->requester.reply_to,
				   .body = t->reply, .decision = "chat", .choices = t->offers };
	if (store_message_add(t->st, &out) < 0)
		return -1;
	t->r->reply = xstrdup(t->reply);
	return 0;
}

/* What the correspondants are told. */
static int
notice(struct turn *t)
{
	const struct notify_settings *ns = &t->s->actions->notify;
	const struct reply_limits *l = t->s->limits;
	unsigned long window = l != NULL && l->burst_window ? l->burst_window : NOTICE_WINDOW_DEFAULT;
	int rc = 0;
	switch (t->notice) {
	case NOTICE_NONE:
		return 0;
	case NOTICE_HAND_OVER:
		if (t->thread.id != 0 && t->thread.state == THREAD_ESCALATED)
			return 0;  /* told already when it went to a person */
		rc = conversation_notify_hand_over(ns, t->st, t->e, t->thread_id, t->notice_reason, t->notice_over_limit);
		break;
	case NOTICE_QUIET_HAND_OVER: {
		int64_t last = store_last_notify_for(t->st, t->in->requester.reply_to ? t->in->requester.reply_to : "");
		if (last < 0)
			return -1;
		if (last > t->now - (int64_t)window)
			return 0;
		rc = conversation_notify_hand_over(ns, t->st, t->e, t->thread_id, REASON_NONE, true);
		break;
	}
	case NOTICE_FOLLOW_UP: {
		int64_t recent = store_notices_since(t->st, t->thread_id, t->now - (int64_t)window);
		if (recent < 0)
			return -1;
		if (recent >= NOTICES_PER_WINDOW)
			return 0;
		char *motive = turn_render(t, "notify_reason_follow_up", NULL, 0);
		rc = notify_correspondants(ns, t->st, t->e, t->thread_id, motive, 1);
		free(motive);
		break;
	}
	}
	if (rc > 0)
		t->r->queued++;
	return rc < 0 ? -1 : 0;
}

/* Writes what the turn decided. */
static int
finish(struct turn *t)
{
	if (record(t) < 0)
		return -1;
	if (t->reply != NULL && (t->in->channel == CHANNEL_MAIL ? reply_by_mail(t) : reply_by_chat(t)) < 0)
		return -1;
	return notice(t);
}

/* What the message is: refused, for a person, unreadable, the answer to a step, or a
 * question for the engine. */
static int
decide(struct turn *t, struct intent_scratch *scratch)
{
	const struct turn_input *in = t->in;
	if (in->refusal != NULL) {
		turn_decide(t, TURN_IGNORED, THREAD_IGNORED, NULL, in->refusal);
		t->change_state = false;
		return 0;
	}
	int rc = turn_address(t);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (!bot_speaks(t)) {
		pass_on(t);
		return 0;
	}
	if (in->quiet != NULL) {
		silent_escalation(t, in->quiet);
		return 0;
	}
	if (in->unreadable != NULL)
		return unreadable(t, in->unreadable);
	rc = turn_steps(t);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	return engine_turn(t, scratch);
}

int
conversation_turn(const struct turn_settings *s, struct store *st, struct directory *dir, const struct engine *e,
		  struct intent_scratch *scratch, const struct turn_input *in, struct turn_result *r)
{
	memset(r, 0, sizeof(*r));
	r->intent = xstrdup("");
	r->reason = xstrdup("");
	struct turn t = { .s = s, .st = st, .dir = dir, .e = e, .in = in, .r = r, .now = (int64_t)time(NULL) };
	int rc = begin(&t);
	if (rc == 0)
		rc = decide(&t, scratch);
	if (rc == 0)
		rc = finish(&t);
	thread_row_clear(&t.thread);
	analysis_clear(&t.analysis);
	free(t.chat_reply);
	free(t.reply);
	free(t.offers);
	free(t.kept_reason);
	return rc;
}
