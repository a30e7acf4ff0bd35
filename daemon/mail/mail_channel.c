/* mail_channel — one inbound e-mail to the store (see mail_channel.h). */
#include "autoconf.h"
#include "mail/mail_channel.h"
#include "engine/engine.h"
#include "accounts/account_actions.h"
#include "directory/directory.h"
#include "formats/dossier_number.h"
#include "directory/request_fields.h"
#include "core/limit_window.h"
#include "formats/mail_authres.h"
#include "outbox/notify.h"
#include "conversation/conversation.h"
#include "conversation/route.h"
#include "formats/mail_compose.h"
#include "outbox/outbound.h"
#include "store/store.h"
#include "engine/template.h"
#include "core/util.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Follow-ups in a thread a person handles: at most this many notices per burst window. */
#define NOTICES_PER_WINDOW 3

/* The key of a mail whose "in progress" marker a store error kept this thread from
 * clearing (one reader thread processes mail; the chat will not need it). */
static _Thread_local char *uncleared_key;

static const char *const outcome_names[] = { "answered", "escalated", "ignored", "attached", "duplicate" };

const char *
mail_outcome_name(enum mail_outcome outcome)
{
	return outcome_names[outcome];
}

void
mail_result_clear(struct mail_result *r)
{
	free(r->key);
	free(r->requester);
	free(r->intent);
	free(r->reason);
	free(r->notes);
	memset(r, 0, sizeof(*r));
}

char *
mail_key(const char *raw, size_t len)
{
	struct parsed_mail head = {0};
	char *err = NULL;
	char *key = NULL;
	if (mail_parse_headers(raw, len, &head, &err) == 0 && head.message_id != NULL && *head.message_id != '\0')
		key = xstrdup(head.message_id);
	free(err);
	parsed_mail_clear(&head);
	if (key != NULL)
		return key;
	unsigned char digest[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(digest, (const unsigned char *)raw, len);
	char hex[2 * sizeof(digest) + 1];
	sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
	return xasprintf("sha256:%s", hex);
}

int
mail_analyze(const struct engine *engine, struct intent_scratch *scratch, const struct dialog_settings *settings,
	     const struct parsed_mail *mail, struct analysis *analysis, char **error_r)
{
	char *question = mail_question_text(mail);
	int rc = dialog_analyze(engine, scratch, settings, question, strlen(question), analysis, error_r);
	free(question);
	return rc;
}

/* Everything one message's processing needs, passed around inside the transaction. */
struct job {
	const struct mail_settings *s;
	struct store *st;
	const struct engine *e;
	const struct parsed_mail *mail;
	const char *raw;                /* the message as received */
	size_t raw_len;
	const char *requester;          /* where replies go */
	const char *requester_name;
	struct thread_row thread;       /* id 0 while the mail has no thread */
	struct directory *dir;          /* who is who, for the account actions */
	int64_t inbound_id;             /* the mail's row in the thread, once recorded */
	bool secret_thread;             /* a reset link or a code was sent in this thread */
	bool may_quote;                 /* replies go to the From address, which our MTA
					 * authenticated: the writer's words may be quoted back */
	struct mail_result *r;
};

static int
set_reason(struct job *j, const char *reason)
{
	free(j->r->reason);
	j->r->reason = xstrdup(reason ? reason : "");
	return 0;
}

static char *
attachments_note(const struct parsed_mail *m)
{
	struct strbuf sb = {0};
	for (size_t i = 0; i < m->note_count; i++)
		strbuf_addf(&sb, "%s%s", sb.len ? "; " : "", m->notes[i]);
	for (size_t i = 0; i < m->attachment_count; i++)
		strbuf_addf(&sb, "%sattachment: %s (%s, %zu bytes)", sb.len ? "; " : "",
			    *m->attachments[i].filename ? m->attachments[i].filename : "(no name)",
			    m->attachments[i].content_type, m->attachments[i].size);
	return sb.len ? strbuf_detach(&sb) : NULL;
}

/* Creates the thread (when the mail has none) or moves it to state, then records the
 * inbound message with its decision. */
static int
record_inbound(struct job *j, enum thread_state state, bool change_state, const char *intent, double confidence,
	       const char *decision, const char *reason)
{
	const struct parsed_mail *m = j->mail;
	if (j->thread.id == 0) {
		int64_t id = store_thread_create(j->st, "mail", j->requester ? j->requester : "", m->subject, state, intent,
						 reason);
		if (id < 0)
			return -1;
		j->thread.id = id;
		j->thread.state = state;
	} else if (change_state) {
		if (store_thread_update(j->st, j->thread.id, state, intent, reason) < 0)
			return -1;
		j->thread.state = state;
	}
	if (j->inbound_id != 0)  /* recorded already: a later step changed the decision */
		return store_message_set_decision(j->st, j->inbound_id, decision, reason);
	/* Tokens are gone from the mail already; a holder answering a code's or a link's
	 * mail may quote the code too: what is kept (and shown to the correspondants) has
	 * it removed. */
	char *body = field_scrub_secrets(j->e->templates, m->body, j->secret_thread);
	char *note = attachments_note(m);
	struct message_row row = {
		.thread_id = j->thread.id, .direction = "in", .message_id = m->message_id,
		.sender = m->from_address, .recipient = j->s->actions.notify.sender.address, .subject = m->subject, .body = body,
		.intent = intent, .confidence = confidence, .decision = decision, .note = reason ? reason : note,
	};
	int64_t rc = store_message_add(j->st, &row);
	free(note);
	free(body);
	j->r->thread_id = j->thread.id;
	if (rc > 0)
		j->inbound_id = rc;
	return rc < 0 ? -1 : 0;
}

/* A reply in the writer's thread: In-Reply-To their mail, References their chain then
 * their mail (RFC 5322 §3.6.4). */
static int
queue_mail(struct job *j, enum outbox_kind kind, const char *subject, const char *body)
{
	const struct parsed_mail *m = j->mail;
	const char **refs = xcalloc(m->reference_count + 1, sizeof(*refs));
	size_t nrefs = 0;
	for (size_t i = 0; i < m->reference_count; i++)
		refs[nrefs++] = m->references[i];
	if (m->message_id != NULL)
		refs[nrefs++] = m->message_id;
	struct outbound o = {
		.thread_id = j->thread.id, .kind = kind, .to_name = j->requester_name, .to = j->requester,
		.subject = subject, .body = body, .in_reply_to = m->message_id, .references = refs,
		.reference_count = nrefs,
	};
	int rc = outbound_queue(&j->s->actions.notify.sender, j->st, &o);
	if (rc > 0)
		j->r->queued++;
	free(refs);
	return rc < 0 ? -1 : 0;
}

/* NULL when the requester may get one more automatic reply, else why not. */
static char *
over_limit(struct job *j)
{
	const struct mail_settings *s = j->s;
	if (j->requester == NULL)
		return xstrdup("no usable reply address");
	int64_t now = (int64_t)time(NULL);
	int64_t bounced = store_last_bounce(j->st, j->requester);
	if (bounced > 0 && s->bounce_pause > 0 && bounced > now - (int64_t)s->bounce_pause)
		return xstrdup("replies to this address bounced recently");
	if (s->burst_limit > 0 &&
	    store_auto_replies_since(j->st, j->requester, now - (int64_t)s->burst_window) >= (int64_t)s->burst_limit)
		return xasprintf("burst limit: %lu automatic replies in %lu s already", s->burst_limit, s->burst_window);
	if (s->daily_limit > 0 &&
	    store_auto_replies_since(j->st, j->requester, now - 86400) >= (int64_t)s->daily_limit)
		return xasprintf("daily limit: %lu automatic replies in 24 h already", s->daily_limit);
	/* Rotating addresses (a+1@, a+2@, b@, c@ …) is not a new sender each time. */
	char *domain = mail_address_domain(j->requester);
	int64_t to_domain = s->domain_limit > 0 && domain != NULL
				    ? store_auto_replies_to_domain_since(j->st, domain, limit_window_start(now)) : 0;
	char *limit = to_domain >= (int64_t)s->domain_limit && s->domain_limit > 0
			      ? xasprintf("domain limit: %lu automatic replies to %s in an hour already", s->domain_limit,
					  domain)
			      : NULL;
	free(domain);
	if (limit != NULL)
		return limit;
	if (s->global_limit > 0 && store_outbox_kind_since(j->st, OUTBOX_REPLY, limit_window_start(now)) +
					   store_outbox_kind_since(j->st, OUTBOX_ACK, limit_window_start(now)) >=
				   (int64_t)s->global_limit)
		return xasprintf("global limit: %lu automatic replies in an hour already", s->global_limit);
	return NULL;
}

/* A reply to the writer, in the thread: answer (already rendered) in the mail envelope.
 * Anyone can write with a victim's address in Reply-To or a forged From, a subject and
 * words of their choosing: only a writer our MTA authenticated, who gets the reply at
 * that very address, sees their question quoted and their subject after "Re: ", and
 * never with a link in it; anyone else gets a neutral subject and no quote, so that
 * OCAPIAT's address never carries a stranger's text to a victim. */
static int
reply_with(struct job *j, const struct analysis *a, enum outbox_kind kind, const char *answer)
{
	char *quote = NULL, *subject;
	char *neutral = template_render(j->e->templates, "mail_reply_subject_neutral", OUTPUT_TEXT, NULL, 0);
	if (j->may_quote) {
		char *question = field_scrub_secrets(j->e->templates, a->question, j->secret_thread);
		quote = field_remove_links(j->e->templates, question);
		free(question);
		char *original = field_remove_links(j->e->templates, j->mail->subject);
		subject = mail_reply_subject(original, neutral);
		free(original);
	} else {
		subject = mail_reply_subject("", neutral);
	}
	free(neutral);
	char *body = dialog_mail_envelope(j->e, answer, quote ? quote : "", OUTPUT_TEXT);
	int rc = queue_mail(j, kind, subject, body);
	free(subject);
	free(body);
	free(quote);
	return rc;
}

/* The engine's own answer to the analysis, as a reply. */
static int
queue_reply(struct job *j, const struct analysis *a, enum outbox_kind kind)
{
	char *answer = dialog_answer(j->e, a, CHANNEL_MAIL, OUTPUT_TEXT);
	int rc = reply_with(j, a, kind, answer);
	free(answer);
	return rc;
}

/* The account actions act for the mail's From address: the one compared with the
 * addresses on file. */
static struct actor
actor_for(struct job *j)
{
	return (struct actor){
		.s = &j->s->actions, .st = j->st, .dir = j->dir, .e = j->e, .channel = "mail",
		.requester = j->mail->from_address ? j->mail->from_address : "", .thread_id = j->thread.id,
	};
}

static int escalate_unavailable(struct job *j, const struct analysis *a, double confidence);

/* After an action: its mails counted, and a directory that could not answer turns the
 * request into an escalation (a person answers; nothing about an account was said). */
static int
action_done(struct job *j, const struct analysis *a, const struct actor *actor, int rc)
{
	j->r->queued += actor->queued;
	if (rc == DIRECTORY_UNAVAILABLE)
		return escalate_unavailable(j, a, analysis_confidence(a)) < 0 ? -1 : 1;
	return rc < 0 ? -1 : 0;
}

/* Identifier reminder: the identifiers of the accounts whose e-mail on file is the
 * sender's address go to that address, in a separate mail; the reply says the same
 * thing whether or not an account matched (nothing about an account is revealed to
 * whoever wrote), with the FAQ's advice. Audited; limited per address and account. */
static int
identifier_reminder(struct job *j, const struct analysis *a)
{
	struct actor actor = actor_for(j);
	int rc = j->mail->from_address == NULL
			 ? store_audit_add(j->st, "mail", "", "identifier_reminder", NULL, audit_code(AUDIT_NO_SENDER))
			 : action_identifier_reminder(&actor, "email", j->mail->from_address);
	if ((rc = action_done(j, a, &actor, rc)) != 0)
		return rc < 0 ? -1 : 0;
	char *action = template_render(j->e->templates, "action_identifier_reply", OUTPUT_TEXT, NULL, 0);
	char *faq = dialog_answer(j->e, a, CHANNEL_MAIL, OUTPUT_TEXT);
	char *answer = xasprintf("%s\n%s", action, faq);
	rc = reply_with(j, a, OUTBOX_REPLY, answer);
	free(answer);
	free(faq);
	free(action);
	return rc;
}

/* Password reset: for the account named in the mail ("mon identifiant est …"), else the
 * accounts whose address on file is the sender's, a link to the address on file; the
 * same reply whatever matched. */
static int
password_reset(struct job *j, const struct analysis *a)
{
	struct actor actor = actor_for(j);
	char *identifier = field_identifier(a->question, false);
	int rc = identifier ? action_password_reset(&actor, "identifier", identifier)
		 : j->mail->from_address
			 ? action_password_reset(&actor, "email", j->mail->from_address)
			 : store_audit_add(j->st, "mail", "", "password_reset", NULL, audit_code(AUDIT_NO_SENDER));
	free(identifier);
	if ((rc = action_done(j, a, &actor, rc)) != 0)
		return rc < 0 ? -1 : 0;
	char *minutes = xasprintf("%lu", j->s->actions.reset_ttl / 60);
	struct template_var var = { "minutes", minutes, false };
	char *answer = template_render(j->e->templates, "action_reset_reply", OUTPUT_TEXT, &var, 1);
	rc = reply_with(j, a, OUTBOX_REPLY, answer);
	free(answer);
	free(minutes);
	return rc;
}

/* The sender proven by our receiving MTA (see mail_authres.h). */
static bool
authenticated_sender(const struct mail_settings *s, const struct parsed_mail *m)
{
	return mail_authres_sender_passes(mail_header_get(m, "Authentication-Results"), s->authserv_id,
					  m->from_address);
}

/* Dossier status: the number from the mail (subject included); the status goes in the
 * reply only to a verified requester (action_dossier_status): the From address, answered
 * at that address, and when required an Authentication-Results pass for its domain.
 * Without a number, the assistant asks for it and the thread waits (a reply in the
 * thread completes the request). */
static int
dossier_status(struct job *j, const struct analysis *a, double confidence)
{
	const struct parsed_mail *m = j->mail;
	/* The subject and the writer's new words only (the question the engine read, quoted
	 * history and signature already removed): our own question or an earlier message
	 * must not supply a number. */
	char *text = xasprintf("%s\n%s", m->subject, a->question);
	char *numbers[4];
	size_t n = dossier_numbers(text, numbers, 4);
	free(text);
	const char *from = m->from_address;
	j->r->outcome = MAIL_ANSWERED;
	if (n == 0) {
		set_reason(j, "dossier status: number asked for");
		int rc = record_inbound(j, THREAD_OPEN, true, "dossier_status", confidence, "answered", NULL);
		char *ask = rc == 0 ? template_render(j->e->templates, "action_dossier_ask", OUTPUT_TEXT, NULL, 0) : NULL;
		if (rc == 0)
			rc = reply_with(j, a, OUTBOX_REPLY, ask);
		if (rc == 0)
			rc = store_audit_add(j->st, "mail", from ? from : "", "dossier_status", NULL, audit_code(AUDIT_NUMBER_ASKED));
		free(ask);
		return rc;
	}
	struct dossier_request req = {
		.numbers = numbers, .number_count = n, .from = from, .audience = a->match.audience,
		/* The reply goes to Reply-To when there is one: the status may only travel in it
		 * when that is the very address on file that was checked. */
		.answer_goes_to_from = j->requester != NULL && from != NULL && strcasecmp(j->requester, from) == 0,
		.sender_proven = !j->s->require_authenticated_sender || authenticated_sender(j->s, m),
	};
	struct actor actor = actor_for(j);
	char *answer = NULL;
	int rc = action_done(j, a, &actor, action_dossier_status(&actor, &req, &answer));
	if (rc == 0)
		rc = record_inbound(j, THREAD_ANSWERED, true, "dossier_status", confidence, "answered", NULL);
	if (rc == 0)
		rc = reply_with(j, a, OUTBOX_REPLY, answer);
	free(answer);
	for (size_t i = 0; i < n; i++)
		free(numbers[i]);
	return rc < 0 ? -1 : 0;
}

/* Tells the correspondants that the job's thread goes to a person. */
static int
notify_hand_over(struct job *j, enum escalation_reason reason, bool over_limit)
{
	int rc = conversation_notify_hand_over(&j->s->actions.notify, j->st, j->e, j->thread.id, reason, over_limit);
	if (rc > 0)
		j->r->queued++;
	return rc < 0 ? -1 : 0;
}

/* The thread goes to a person: acknowledgement to the writer (unless a limit says to stay
 * silent) and notification to the correspondants. */
static int
escalate(struct job *j, const struct analysis *a, const char *reason, double confidence)
{
	j->r->outcome = MAIL_ESCALATED;
	char *limit = over_limit(j);
	char *why = limit ? xasprintf("%s; %s: no acknowledgement", reason, limit) : xstrdup(reason);
	set_reason(j, why);
	int rc = record_inbound(j, THREAD_ESCALATED, true, *j->r->intent ? j->r->intent : NULL, confidence,
				"escalated", why);
	if (rc == 0 && limit == NULL)
		rc = queue_reply(j, a, OUTBOX_ACK);
	if (rc == 0)
		rc = notify_hand_over(j, a->reason, limit != NULL);
	free(why);
	free(limit);
	return rc;
}

/* An account action the directory could not serve: the thread goes to a person and the
 * writer is told a person will answer; nothing about an account was said. */
static int
escalate_unavailable(struct job *j, const struct analysis *a, double confidence)
{
	struct analysis unavailable = *a;  /* borrowed fields: not cleared here */
	unavailable.decision = DECISION_ESCALATE;
	unavailable.reason = REASON_UNAVAILABLE;
	char *why = xasprintf("%s: %s", route_reason_text(REASON_UNAVAILABLE, CHANNEL_MAIL), directory_error(j->dir));
	int rc = escalate(j, &unavailable, why, confidence);
	free(why);
	return rc;
}

/* Beyond a limit the thread goes to a person silently (a flooding sender: one notice
 * per burst window, not one per mail). */
static int
silent_escalation(struct job *j, const char *limit, double confidence)
{
	j->r->outcome = MAIL_ESCALATED;
	set_reason(j, limit);
	if (record_inbound(j, THREAD_ESCALATED, true, *j->r->intent ? j->r->intent : NULL, confidence, "escalated", limit) < 0)
		return -1;
	int64_t last = store_last_notify_for(j->st, j->requester ? j->requester : "");
	if (last < 0)
		return -1;
	if (last > (int64_t)time(NULL) - (int64_t)j->s->burst_window)
		return 0;
	return notify_hand_over(j, REASON_NONE, true);
}

/* Our own mails a delivery report can be about: at most this many Message-IDs read. */
#define BOUNCE_IDS_MAX 16

/* A delivery report silences the replies to an address (bounce_pause) only when it
 * returns one of our own mails, to that very address: anyone can send a "bounce" naming
 * any address, and our Message-IDs are random, so only the mail's real path knows the
 * one sent to a given address. */
static int
record_bounces(struct job *j)
{
	const struct parsed_mail *m = j->mail;
	if (m->bounced_count == 0)
		return 0;
	char *ids[BOUNCE_IDS_MAX];
	size_t n = mail_own_message_ids(j->raw, j->raw_len, j->s->actions.notify.sender.domain, ids, BOUNCE_IDS_MAX);
	int rc = 0;
	for (size_t i = 0; i < m->bounced_count && rc == 0; i++) {
		int ours = 0;
		for (size_t k = 0; k < n && ours == 0; k++)
			ours = store_outbox_sent_as(j->st, ids[k], m->bounced_recipients[i]);
		if (ours < 0 || (ours > 0 && store_bounce_add(j->st, m->bounced_recipients[i], (int64_t)time(NULL)) < 0))
			rc = -1;
	}
	for (size_t k = 0; k < n; k++)
		free(ids[k]);
	return rc;
}

/* A follow-up in a thread the bot does not own (in the correspondants' queue, or a
 * correspondant holds it): the assistant keeps quiet and passes it on. A writer sending
 * follow-up after follow-up does not flood the correspondants: a few notices per thread
 * and window, each with the new message only; the rest is in the thread. */
static int
pass_on(struct job *j)
{
	j->r->outcome = MAIL_ATTACHED;
	set_reason(j, "follow-up in a thread a correspondant handles");
	if (record_inbound(j, THREAD_ESCALATED, false, NULL, 0, "attached", NULL) < 0)
		return -1;
	unsigned long window = j->s->burst_window ? j->s->burst_window : 600;
	int64_t recent = store_notices_since(j->st, j->thread.id, (int64_t)time(NULL) - (int64_t)window);
	if (recent < 0)
		return -1;
	if (recent >= NOTICES_PER_WINDOW)
		return 0;
	char *motive = template_render(j->e->templates, "notify_reason_follow_up", OUTPUT_TEXT, NULL, 0);
	int rc = notify_correspondants(&j->s->actions.notify, j->st, j->e, j->thread.id, motive, 1);
	free(motive);
	if (rc > 0)
		j->r->queued++;
	return rc < 0 ? -1 : 0;
}

/* An automatic answer, or a silent hand-over when a reply limit is reached. */
static int
answer(struct job *j, const struct analysis *a, const struct route *route, double confidence)
{
	char *limit = over_limit(j);
	int rc;
	if (limit != NULL) {
		rc = silent_escalation(j, limit, confidence);
	} else if (route->kind == ROUTE_ACTION && route->action == ACCOUNT_DOSSIER_STATUS) {
		rc = dossier_status(j, a, confidence);
	} else {
		j->r->outcome = MAIL_ANSWERED;
		rc = record_inbound(j, THREAD_ANSWERED, true, j->r->intent, confidence, "answered", NULL);
		enum account_action action = route->kind == ROUTE_ACTION ? route->action : ACCOUNT_ACTION_NONE;
		if (rc == 0 && action == ACCOUNT_IDENTIFIER_REMINDER)
			rc = identifier_reminder(j, a);
		else if (rc == 0 && action == ACCOUNT_PASSWORD_RESET)
			rc = password_reset(j, a);
		else if (rc == 0)
			rc = queue_reply(j, a, OUTBOX_REPLY);
	}
	free(limit);
	return rc;
}

/* The engine's reading of the mail, routed (route.h). */
static int
analysed(struct job *j, struct analysis *a)
{
	free(j->r->intent);
	j->r->intent = xstrdup(analysis_intent_id(a));
	double confidence = analysis_confidence(a);
	const struct thread_row *t = &j->thread;
	struct route_context context = {
		.channel = CHANNEL_MAIL, .in_thread = t->id != 0, .directory = j->dir,
		.awaits_dossier_number = t->id != 0 && t->state == THREAD_OPEN && t->intent != NULL &&
					 strcmp(t->intent, "dossier_status") == 0,
	};
	struct route route = route_decide(a, &context);
	if (route.kind == ROUTE_ACTION && route.action == ACCOUNT_DOSSIER_STATUS) {
		free(j->r->intent);
		j->r->intent = xstrdup("dossier_status");
	}
	switch (route.kind) {
	case ROUTE_NOTHING:
		j->r->outcome = MAIL_ATTACHED;
		set_reason(j, "nothing to answer (thanks or greeting)");
		return record_inbound(j, j->thread.state, false, j->r->intent, confidence, "attached", NULL);
	case ROUTE_ESCALATE:
		a->decision = DECISION_ESCALATE;
		a->reason = route.reason;
		return escalate(j, a, route_reason_text(route.reason, CHANNEL_MAIL), confidence);
	case ROUTE_ANSWER:
	case ROUTE_ACTION:
		break;
	}
	return answer(j, a, &route, confidence);
}

/* Decides and records, inside the transaction. */
static int
decide(struct job *j, const char *unreadable, struct intent_scratch *scratch)
{
	const struct parsed_mail *m = j->mail;
	const char *refusal = mail_policy_refusal(&j->s->policy, m);
	/* A message that could not be read and has no sender either is not an auto-reply
	 * to drop: a person must see it (notified, nobody to acknowledge to). */
	bool senderless_unreadable = unreadable != NULL && m->from_address == NULL && m->reply_to_address == NULL;
	if (refusal != NULL && !senderless_unreadable) {
		j->r->outcome = MAIL_IGNORED;
		set_reason(j, refusal);
		if (record_bounces(j) < 0)
			return -1;
		return record_inbound(j, THREAD_IGNORED, false, NULL, 0, "ignored", refusal);
	}
	/* The bot answers only the threads it owns. */
	if (j->thread.id != 0 && j->thread.owner != OWNER_BOT)
		return pass_on(j);
	struct analysis a = {0};
	char *err = NULL;
	int rc;
	if (unreadable != NULL || mail_analyze(j->e, scratch, &j->s->dialog, m, &a, &err) < 0) {
		analysis_clear(&a);
		a.decision = DECISION_ESCALATE;
		a.reason = REASON_UNREADABLE;
		a.question = xstrdup("");
		rc = escalate(j, &a, unreadable ? unreadable : err, 0);
	} else {
		rc = analysed(j, &a);
	}
	free(err);
	analysis_clear(&a);
	return rc;
}

/* Replaces *text by its scrubbed copy. */
static void
scrub_text(const struct engine *e, char **text, bool codes_too)
{
	if (*text == NULL)
		return;
	char *clean = field_scrub_secrets(e->templates, *text, codes_too);
	free(*text);
	*text = clean;
}

/* Whether the mail was processed already (MAIL_DUPLICATE: returns 1), and otherwise its
 * "in progress" marker, recorded (committed) before parsing: if anything kills the
 * process while this mail is in hand, the next start knows. Returns 0 with *attempts_r
 * (earlier interrupted tries), 1, or -1 with *error_r. */
static int
begin_attempt(const struct mail_settings *s, struct store *st, struct mail_result *r, int *attempts_r, char **error_r)
{
	int done = store_processed_has(st, s->mailbox, r->key);
	if (done != 0) {
		r->outcome = MAIL_DUPLICATE;
		if (done < 0)
			*error_r = xasprintf("store: %s", store_error(st));
		return done < 0 ? -1 : 1;
	}
	/* A marker a store error left behind (this thread could not clear it then) is no
	 * crash: cleared before counting. */
	if (uncleared_key != NULL && strcmp(uncleared_key, r->key) == 0 && store_attempt_end(st, s->mailbox, r->key) == 0) {
		free(uncleared_key);
		uncleared_key = NULL;
	}
	*attempts_r = store_attempt_begin(st, s->mailbox, r->key);
	if (*attempts_r < 0) {
		*error_r = xasprintf("store: %s", store_error(st));
		return -1;
	}
	return 0;
}

/* Parses the mail into *mail; returns why it is not read (caller frees), or NULL. An
 * unread mail still gets its headers, when they can be read, for its thread and its
 * requester. */
static char *
read_mail(const struct mail_settings *s, const char *raw, size_t len, size_t full_size, int attempts,
	  struct parsed_mail *mail)
{
	char *unreadable = NULL, *err = NULL;
	if (full_size == MAIL_SIZE_UNFETCHABLE) {
		unreadable = xstrdup("the IMAP server refused to deliver this message several times: not read");
	} else if (full_size > s->max_message_size) {
		unreadable = xasprintf("message of %zu bytes, over the %zu-byte limit: not read", full_size,
				       s->max_message_size);
	} else if (attempts > 0) {
		unreadable = xstrdup("its processing was interrupted before (crash or kill): quarantined, not read again");
	} else if (mail_parse(raw, len, mail, &err) < 0) {
		unreadable = xasprintf("unreadable message: %s", err);
		free(err);
	}
	if (unreadable == NULL)
		return NULL;
	parsed_mail_clear(mail);
	err = NULL;
	/* Twice interrupted: not even the headers are read again (they may be what kills
	 * it); a person gets the thread with nobody to acknowledge to. */
	if (attempts >= 2 || mail_parse_headers(raw, len, mail, &err) < 0) {
		free(err);
		parsed_mail_clear(mail);
		memset(mail, 0, sizeof(*mail));
		mail->subject = xstrdup("");
		mail->body = xstrdup("");
	}
	return unreadable;
}

/* Who the mail is from and where replies go; whether the writer's words may be quoted. */
static void
set_requester(struct job *j, struct parsed_mail *mail)
{
	j->requester = mail->reply_to_address ? mail->reply_to_address : mail->from_address;
	j->requester_name = mail->reply_to_address ? NULL : mail->from_name;
	char *check_name = NULL, *check_address = NULL;
	if (j->requester != NULL && mail_address_split(j->requester, &check_name, &check_address) < 0)
		j->requester = NULL;  /* not an address a reply can go to: a person looks at it */
	free(check_name);
	free(check_address);
	free(j->r->requester);
	j->r->requester = xstrdup(j->requester ? j->requester : "");
	j->r->notes = attachments_note(mail);
	if (j->r->notes == NULL)
		j->r->notes = xstrdup("");
	/* A reset link or token the writer pasted (the holder answering the link's mail, or
	 * anyone) goes no further: not analysed, kept, quoted, nor shown to a person. */
	scrub_text(j->e, &mail->body, false);
	scrub_text(j->e, &mail->subject, false);
	j->may_quote = j->requester != NULL && mail->from_address != NULL &&
		       strcasecmp(j->requester, mail->from_address) == 0 && authenticated_sender(j->s, mail);
}

/* The mail's thread (by In-Reply-To, then References, the nearest ancestor first), the
 * decision, and the mail marked processed, committed together. */
static int
process_in_transaction(struct job *j, const char *unreadable, struct intent_scratch *scratch)
{
	const struct parsed_mail *mail = j->mail;
	struct store *st = j->st;
	if (store_begin(st) < 0)
		return -1;
	const char **ids = xcalloc(mail->reference_count + 1, sizeof(*ids));
	size_t n = 0;
	if (mail->in_reply_to != NULL)
		ids[n++] = mail->in_reply_to;
	for (size_t i = mail->reference_count; i-- > 0;)
		ids[n++] = mail->references[i];
	int64_t tid = store_thread_by_message_ids(st, ids, n);
	free(ids);
	int rc = tid < 0 ? -1 : tid > 0 && store_thread_get(st, tid, &j->thread) < 0 ? -1 : 0;
	int secret = rc == 0 && j->thread.id != 0 ? store_thread_has_secret(st, j->thread.id) : 0;
	if (secret < 0)
		rc = -1;
	j->secret_thread = secret == 1;
	if (rc == 0)
		rc = decide(j, unreadable, scratch);
	if (rc == 0)
		rc = store_processed_add(st, j->s->mailbox, j->r->key, j->thread.id);
	/* The "in progress" marker goes with the commit: a crash anywhere before (parser,
	 * engine, composer, kill -9) leaves it, and the restart escalates this mail unread
	 * instead of crashing again. */
	if (rc == 0)
		rc = store_attempt_end(st, j->s->mailbox, j->r->key);
	if (rc == 0)
		rc = store_commit(st);
	return rc;
}

/* After a failed transaction: a conflict with another process that recorded the mail
 * first is no failure; a store error is no crash either (the next try must read the
 * mail, not quarantine it). */
static int
failed_transaction(const struct mail_settings *s, struct store *st, struct mail_result *r, char **error_r)
{
	if (store_error_is_conflict(st) && store_processed_has(st, s->mailbox, r->key) == 1) {
		/* Two daemons on one store: the other answered, this one does nothing. */
		store_rollback(st);
		store_attempt_end(st, s->mailbox, r->key);
		r->outcome = MAIL_DUPLICATE;
		return 0;
	}
	*error_r = xasprintf("store: %s", store_error(st));
	store_rollback(st);
	/* With the store failing this may fail too: then the next call clears it first. */
	if (store_attempt_end(st, s->mailbox, r->key) < 0) {
		free(uncleared_key);
		uncleared_key = xstrdup(r->key);
	}
	return -1;
}

int
mail_process(const struct mail_settings *s, struct store *st, struct directory *dir, const struct engine *e,
	     struct intent_scratch *scratch, const char *raw, size_t len, size_t full_size, struct mail_result *r,
	     char **error_r)
{
	memset(r, 0, sizeof(*r));
	r->key = mail_key(raw, len);
	r->requester = xstrdup("");
	r->intent = xstrdup("");
	r->reason = xstrdup("");
	int attempts = 0;
	int begun = begin_attempt(s, st, r, &attempts, error_r);
	if (begun != 0)
		return begun < 0 ? -1 : 0;
	struct parsed_mail mail = {0};
	char *unreadable = read_mail(s, raw, len, full_size, attempts, &mail);
	/* No directory given: the store's own tables. */
	struct directory *own = dir == NULL ? directory_open_sqlite(st) : NULL;
	struct job j = { .s = s, .st = st, .e = e, .mail = &mail, .raw = raw, .raw_len = len, .r = r,
			 .dir = dir ? dir : own };
	set_requester(&j, &mail);
	int rc = process_in_transaction(&j, unreadable, scratch);
	if (rc < 0)
		rc = failed_transaction(s, st, r, error_r);
	thread_row_clear(&j.thread);
	directory_close(&own);
	parsed_mail_clear(&mail);
	free(unreadable);
	return rc;
}
