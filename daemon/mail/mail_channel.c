/* mail_channel — one inbound e-mail to the store (see mail_channel.h). */
#include "autoconf.h"
#include "mail/mail_channel.h"
#include "engine/engine.h"
#include "directory/request_fields.h"
#include "formats/mail_authres.h"
#include "formats/mail_compose.h"
#include "store/store.h"
#include "core/util.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

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
	struct parsed_mail *mail;
	const char *raw;                /* the message as received */
	size_t raw_len;
	const char *requester;          /* where replies go, NULL: no usable address */
	const char *requester_name;
	bool may_quote;                 /* replies go to the From address, which our MTA
					 * authenticated: the writer's words may be quoted back */
	struct directory *dir;          /* who is who, for the account actions */
	struct mail_result *r;
};

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

/* The sender proven by our receiving MTA (see mail_authres.h). */
static bool
authenticated_sender(const struct mail_settings *s, const struct parsed_mail *m)
{
	return mail_authres_sender_passes(mail_header_get(m, "Authentication-Results"), s->authserv_id,
					  m->from_address);
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

/* The no-reply rule that applies to the mail, NULL when none; *guess_r: the rule only
 * guesses (a subject, a robot-looking envelope, a spam verdict) and may be wrong about a
 * person, who must then see the mail. A message that could not be read and has no sender
 * either is not an auto-reply to drop: a person must see it (notified, nobody to
 * acknowledge to). */
static const char *
refusal_of(const struct job *j, const char *unreadable, bool *guess_r)
{
	const struct parsed_mail *m = j->mail;
	*guess_r = false;
	if (unreadable != NULL && m->from_address == NULL && m->reply_to_address == NULL)
		return NULL;
	struct mail_policy_verdict verdict;
	mail_policy_check(&j->s->policy, m, &verdict);
	if (verdict.action == MAIL_POLICY_REPLY)
		return NULL;
	*guess_r = verdict.action == MAIL_POLICY_ESCALATE;
	return mail_policy_refusal(&j->s->policy, m);  /* the reason with its [rules] key */
}

static enum mail_outcome
mail_outcome_of(enum turn_outcome outcome)
{
	switch (outcome) {
	case TURN_ANSWERED: return MAIL_ANSWERED;
	case TURN_ESCALATED: return MAIL_ESCALATED;
	case TURN_IGNORED: return MAIL_IGNORED;
	case TURN_ATTACHED: break;
	}
	return MAIL_ATTACHED;
}

/* The mail as one turn of its thread's conversation (conversation/turn.h). */
static int
mail_turn(struct job *j, int64_t thread_id, const char *unreadable, struct intent_scratch *scratch)
{
	const struct parsed_mail *m = j->mail;
	bool guess;
	const char *refusal = refusal_of(j, unreadable, &guess);
	if (refusal != NULL && !guess && record_bounces(j) < 0)
		return -1;
	const struct mail_settings *s = j->s;
	struct turn_settings ts = { .actions = &s->actions, .dialog = &s->dialog, .limits = &s->limits };
	struct turn_mail envelope = { .message_id = m->message_id, .references = (const char *const *)m->references,
				      .reference_count = m->reference_count, .may_quote = j->may_quote };
	char *question = unreadable == NULL && refusal == NULL ? mail_question_text(m) : NULL;  /* no reply: not read */
	struct turn_input in = {
		.channel = CHANNEL_MAIL, .thread_id = thread_id, .subject = m->subject, .text = m->body,
		.question = question, .notes = *j->r->notes ? j->r->notes : NULL, .message_id = m->message_id,
		.recipient = s->actions.notify.sender.address, .refusal = guess ? NULL : refusal,
		.quiet = guess ? refusal : NULL, .unreadable = unreadable,
		.mail = &envelope,
		.requester = {
			.name = m->from_address ? m->from_address : "", .reply_to = j->requester,
			.reply_name = j->requester_name, .from_address = m->from_address,
			.from_proven = !s->require_authenticated_sender || authenticated_sender(s, m),
		},
	};
	struct turn_result tr;
	int rc = conversation_turn(&ts, j->st, j->dir, j->e, scratch, &in, &tr);
	free(question);
	if (rc == 0) {
		struct mail_result *r = j->r;
		r->outcome = mail_outcome_of(tr.outcome);
		r->thread_id = tr.thread_id;
		r->queued = tr.queued;
		free(r->intent);
		free(r->reason);
		r->intent = tr.intent;
		r->reason = tr.reason;
		tr.intent = tr.reason = NULL;
	}
	turn_result_clear(&tr);
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
	int rc = tid < 0 ? -1 : mail_turn(j, tid, unreadable, scratch);
	if (rc == 0)
		rc = store_processed_add(st, j->s->mailbox, j->r->key, j->r->thread_id);
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
	directory_close(&own);
	parsed_mail_clear(&mail);
	free(unreadable);
	return rc;
}
