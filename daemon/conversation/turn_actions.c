/* turn_actions — the account actions of a turn (see turn.h for who they act for). By
 * mail the From address is the requester's own: a reminder or a reset acts for it at
 * once, a dossier's status is given to it when it is on file and proven. In the chat an
 * address typed proves nothing: the action runs for what the message names, or asks for
 * it (turn_steps.c), and a dossier's status waits for a one-time code. Every reply is the
 * same whether or not an account, an address or a dossier exists. */
#include "autoconf.h"
#include "conversation/turn_internal.h"
#include "accounts/account_actions.h"
#include "core/util.h"
#include "directory/request_fields.h"
#include "formats/dossier_number.h"
#include "store/store.h"
#include "store/audit.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Candidate dossier numbers read in one request: the first known one is asked about. */
#define NUMBERS_MAX 4

/* The templates of what an action says, by mail and in the chat. */
struct action_texts {
	const char *mail, *chat;
};
static const struct action_texts reminder_done = { "action_identifier_reply", "chat_reminder_done" };
static const struct action_texts reset_done = { "action_reset_reply", "chat_reset_done" };

/* "done" for the channel, with the reset link's lifetime in minutes. */
static char *
done_text(const struct turn *t, const struct action_texts *texts)
{
	char *minutes = xasprintf("%lu", t->s->actions->reset_ttl / 60);
	struct template_var var = { "minutes", minutes, false };
	char *text = turn_render(t, t->in->channel == CHANNEL_MAIL ? texts->mail : texts->chat, &var, 1);
	free(minutes);
	return text;
}

/* The reply of a reminder or a reset that ran. By mail the reminder adds the FAQ's
 * advice (the reply may be all the writer reads). */
static void
reply_done(struct turn *t, const struct analysis *a, enum account_action action)
{
	bool reset = action == ACCOUNT_PASSWORD_RESET;
	char *text = done_text(t, reset ? &reset_done : &reminder_done);
	if (!reset && a != NULL && t->in->channel == CHANNEL_MAIL) {
		char *faq = dialog_answer(t->e, a, CHANNEL_MAIL, OUTPUT_TEXT);
		char *both = xasprintf("%s\n%s", text, faq);
		free(faq);
		free(text);
		text = both;
	}
	turn_decide(t, TURN_ANSWERED, THREAD_ANSWERED, account_action_name(action), NULL);
	turn_reply(t, OUTBOX_REPLY, text);
}

int
turn_action_for_text(struct turn *t, enum account_action action, const char *text, bool alone)
{
	bool reset = action == ACCOUNT_PASSWORD_RESET;
	char siret[15];
	char *email = field_email(text);
	char *identifier = reset && email == NULL ? field_identifier(text, alone) : NULL;
	bool by_siret = !reset && email == NULL && field_siret(text, siret);
	if (email == NULL && identifier == NULL && !by_siret)
		return 0;
	const char *by = email ? "email" : identifier ? "identifier" : "siret";
	const char *value = email ? email : identifier ? identifier : siret;
	int rc = turn_defer(t, account_action_name(action), by, value);
	free(email);
	free(identifier);
	if (rc < 0 || store_chat_action_delete(t->st, t->thread_id) < 0)
		return -1;
	reply_done(t, NULL, action);
	return 1;
}

/* By mail: a reminder for the accounts whose address on file is the From address; a
 * reset for the account the mail names ("mon identifiant est …"), else for those of the
 * From address. The reply does not wait for them (deferred.h). */
static int
mail_action(struct turn *t, const struct analysis *a, enum account_action action)
{
	const char *from = t->in->requester.from_address;
	const char *name = account_action_name(action);
	char *identifier = action == ACCOUNT_PASSWORD_RESET ? field_identifier(a->question, false) : NULL;
	int rc = identifier    ? turn_defer(t, name, "identifier", identifier)
		 : from == NULL ? store_audit_add(t->st, "mail", "", name, NULL, audit_code(AUDIT_NO_SENDER))
				: turn_defer(t, name, "email", from);
	free(identifier);
	if (rc < 0)
		return -1;
	reply_done(t, a, action);
	return 0;
}

/* By mail, a dossier's status: the number from the mail (subject included); the status
 * itself only to a verified requester (action_dossier_status). Without a number the
 * assistant asks for it and the thread waits (a reply in the thread completes it). */
static int
mail_dossier_status(struct turn *t, const struct analysis *a, char **numbers, size_t n)
{
	const struct turn_requester *who = &t->in->requester;
	const char *status = account_action_name(ACCOUNT_DOSSIER_STATUS);
	if (n == 0) {
		turn_decide(t, TURN_ANSWERED, THREAD_OPEN, status, NULL);
		turn_log_reason(t, "dossier status: number asked for");
		turn_reply(t, OUTBOX_REPLY, turn_render(t, "action_dossier_ask", NULL, 0));
		return store_audit_add(t->st, "mail", who->from_address ? who->from_address : "", status, NULL,
				       audit_code(AUDIT_NUMBER_ASKED));
	}
	struct dossier_request req = {
		.numbers = numbers, .number_count = n, .from = who->from_address, .audience = a->match.audience,
		/* The reply goes to Reply-To when there is one: the status may only travel in it
		 * when that is the very address on file that was checked. */
		.answer_goes_to_from = who->reply_to != NULL && who->from_address != NULL &&
				       strcasecmp(who->reply_to, who->from_address) == 0,
		.sender_proven = who->from_proven,
	};
	struct actor actor = turn_actor(t);
	char *answer = NULL;
	int rc = turn_action_done(t, a, &actor, action_dossier_status(&actor, &req, &answer));
	if (rc == 0) {
		turn_decide(t, TURN_ANSWERED, THREAD_ANSWERED, status, NULL);
		turn_reply(t, OUTBOX_REPLY, answer);
		answer = NULL;
	}
	free(answer);
	return rc < 0 ? -1 : 0;
}

int
turn_account_action(struct turn *t, const struct analysis *a, enum account_action action)
{
	bool by_mail = t->in->channel == CHANNEL_MAIL;
	if (action == ACCOUNT_DOSSIER_STATUS) {
		/* The subject and the writer's new words only (the question the engine read,
		 * quoted history and signature already removed): our own question or an earlier
		 * message must not supply a number. */
		char *text = xasprintf("%s\n%s", t->in->subject ? t->in->subject : "", a->question);
		char *numbers[NUMBERS_MAX];
		size_t n = dossier_numbers(text, numbers, by_mail ? NUMBERS_MAX : 1);
		free(text);
		int rc = by_mail ? mail_dossier_status(t, a, numbers, n) : turn_ask(t, action, n ? numbers[0] : NULL);
		for (size_t i = 0; i < n; i++)
			free(numbers[i]);
		return rc;
	}
	if (by_mail)
		return mail_action(t, a, action);
	int rc = turn_action_for_text(t, action, t->in->text, false);
	return rc != 0 ? (rc < 0 ? -1 : 0) : turn_ask(t, action, NULL);
}
