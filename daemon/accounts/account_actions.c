/* account_actions — see account_actions.h. */
#include "autoconf.h"
#include "accounts/account_actions.h"
#include "core/limit_window.h"
#include "engine/dialog.h"
#include "engine/engine.h"
#include "outbox/outbound.h"
#include "accounts/reset_token.h"
#include "store/store.h"
#include "core/util.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* At most this many accounts are acted on for one request (an address shared by many). */
#define ACCOUNTS_PER_REQUEST 10
#define CODE_SALT_BYTES 16

static int
audit(struct actor *a, const char *action, const char *subject, const char *outcome)
{
	return store_audit_add(a->st, a->channel, a->requester ? a->requester : "", action, subject, outcome);
}

/* Whether the requester already asked `limit` times this hour. */
static int
requester_over(struct actor *a, const char *action, unsigned long limit)
{
	if (a->requester == NULL || *a->requester == '\0')
		return 0;
	int64_t n = store_audit_count(a->st, a->requester, action, limit_window_start((int64_t)time(NULL)));
	return n < 0 ? -1 : n >= (int64_t)limit;
}

/* Whether the account already got `limit` mails of this action this hour (whoever asked:
 * many requesters must not flood one holder). */
static int
account_over(struct actor *a, const char *action, const char *identifier, const char *outcome, unsigned long limit)
{
	int64_t n = store_audit_count_subject(a->st, action, identifier, outcome, limit_window_start((int64_t)time(NULL)));
	return n < 0 ? -1 : n >= (int64_t)limit;
}

/* The thread an action mail belongs to: the request's own when it goes to the requester,
 * else a thread of its own with the holder as requester (if the holder answers, a person
 * answers the holder, not whoever asked). Returns the id or -1. */
static int64_t
thread_for(struct actor *a, const char *to, const char *subject, const char *intent)
{
	/* Only a mail's From is the requester's own address (the chat's typed address is
	 * anybody's claim: the holder's mail never joins an anonymous conversation). */
	if (strcmp(a->channel, "mail") == 0 && a->requester != NULL && strcasecmp(a->requester, to) == 0 &&
	    a->thread_id > 0)
		return a->thread_id;
	return store_thread_create(a->st, "mail", to, subject, THREAD_ANSWERED, intent,
				   "sent to the address on file at another requester's request");
}

/* When a mail to an address on file may leave: mail_delay after now, so that the
 * requester's reply, queued before, is relayed by the MTA first and alone; the same MTA
 * busy with a second mail only when an account exists would delay it by a few ms. */
static int64_t
on_file_not_before(const struct actor *a)
{
	return a->s->mail_delay > 0 ? (int64_t)time(NULL) + (int64_t)a->s->mail_delay : 0;
}

static int
send_to_file(struct actor *a, const char *intent, enum outbox_kind kind, const char *to, const char *subject,
	     const char *body, const char *history)
{
	int64_t thread = thread_for(a, to, subject, intent);
	if (thread < 0)
		return -1;
	struct outbound o = { .thread_id = thread, .kind = kind, .to = to, .subject = subject, .body = body,
			      .history_body = history, .not_before = on_file_not_before(a) };
	int rc = outbound_queue(&a->s->notify.sender, a->st, &o);
	if (rc > 0)
		a->queued++;
	return rc;
}

static char *
render(const struct actor *a, const char *name, const struct template_var *vars, size_t n)
{
	return template_render(a->e->templates, name, OUTPUT_TEXT, vars, n);
}

static char *
subject_of(const struct actor *a, const char *name)
{
	char *s = render(a, name, NULL, 0);
	str_trim(s);
	return s;
}

/* Accounts by email, SIRET or identifier: count, or a negative code. */
static int
find_accounts(struct actor *a, const char *by, const char *value, struct directory_accounts *out)
{
	if (strcmp(by, "identifier") != 0)
		return strcmp(by, "email") == 0 ? directory_accounts_by_email(a->dir, value, out)
						: directory_accounts_by_siret(a->dir, value, out);
	memset(out, 0, sizeof(*out));
	struct directory_account one;
	int rc = directory_account_get(a->dir, value, &one);
	if (rc == 1) {
		out->items = xmalloc(sizeof(*out->items));
		out->items[0] = one;
		out->count = 1;
	}
	return rc;
}

/* The outcome of a lookup that failed, for the audit: the operator's log says why. */
static int
lookup_failed(struct actor *a, const char *action, const char *value, int rc)
{
	if (rc == DIRECTORY_UNAVAILABLE && audit(a, action, value, audit_code(AUDIT_DIRECTORY_UNAVAILABLE)) < 0)
		return -1;
	return rc;
}

/* The start every request shares: the requester's hourly limit, then the accounts by
 * email, SIRET or identifier. Returns how many accounts to act on (at most
 * ACCOUNTS_PER_REQUEST, *as filled), 0 when the request ends here (limit reached, nothing
 * matched: audited), or -1 / DIRECTORY_UNAVAILABLE. */
static int
begin_request(struct actor *a, const char *action, unsigned long limit, const char *by, const char *value,
	      struct directory_accounts *as)
{
	int over = requester_over(a, action, limit);
	if (over != 0)
		return over < 0 ? -1 : audit(a, action, NULL, audit_code(AUDIT_REQUESTER_LIMIT));
	int n = find_accounts(a, by, value, as);
	if (n < 0)
		return lookup_failed(a, action, NULL, n);
	if (n == 0)
		return audit(a, action, NULL, audit_code(AUDIT_NO_ACCOUNT));
	return n > ACCOUNTS_PER_REQUEST ? ACCOUNTS_PER_REQUEST : n;
}

/* One action_identifier_line per account among the first n (those acted on) whose
 * address is email, with the structures it acts for. */
static char *
identifier_lines(const struct actor *a, const struct directory_accounts *as, size_t n, const char *email,
		 const bool *skip)
{
	struct strbuf sb = {0};
	for (size_t i = 0; i < n; i++) {
		const struct directory_account *acc = &as->items[i];
		if (skip[i] || strcasecmp(acc->email, email) != 0)
			continue;
		struct strbuf names = {0};
		for (size_t k = 0; k < acc->structure_count; k++) {
			const struct directory_structure *st = &acc->structures[k];
			strbuf_addf(&names, "%s%s", k ? ", " : "", st->name ? st->name : st->siret);
		}
		struct template_var vars[] = {
			{ "identifier", acc->identifier, false }, { "structures", names.data, false },
		};
		char *line = render(a, acc->structure_count ? "action_identifier_line_structures" : "action_identifier_line",
				    vars, 2);
		strbuf_addf(&sb, "%s\n", line);
		free(line);
		strbuf_free(&names);
	}
	return strbuf_detach(&sb);
}

int
action_identifier_reminder(struct actor *a, const char *by, const char *value)
{
	const char *action = "identifier_reminder";
	struct directory_accounts as = {0};
	int n = begin_request(a, action, a->s->reminder_limit, by, value, &as);
	if (n <= 0)
		return n;
	int rc = 0;
	bool *skip = xcalloc((size_t)n + 1, sizeof(*skip));
	for (int i = 0; rc == 0 && i < n; i++) {
		int full = account_over(a, action, as.items[i].identifier, audit_code(AUDIT_IDENTIFIERS_SENT), a->s->reminder_limit);
		skip[i] = full != 0;
		if (full != 0)
			rc = full < 0 ? -1 : audit(a, action, as.items[i].identifier, audit_code(AUDIT_ACCOUNT_LIMIT));
	}
	char *subject = subject_of(a, "action_identifier_subject");
	/* One mail per address on file, listing its accounts. */
	for (int i = 0; rc == 0 && i < n; i++) {
		bool first = !skip[i];
		for (int k = 0; first && k < i; k++)
			first = skip[k] || strcasecmp(as.items[k].email, as.items[i].email) != 0;
		if (!first)
			continue;
		char *lines = identifier_lines(a, &as, (size_t)n, as.items[i].email, skip);
		struct template_var var = { "identifiers", lines, false };
		char *body = render(a, "action_identifier_mail", &var, 1);
		int q = send_to_file(a, action, OUTBOX_ACTION, as.items[i].email, subject, body, NULL);
		for (int k = i; q >= 0 && k < n; k++)
			if (!skip[k] && strcasecmp(as.items[k].email, as.items[i].email) == 0 &&
			    audit(a, action, as.items[k].identifier,
				  q > 0 ? audit_code(AUDIT_IDENTIFIERS_SENT) : audit_code(AUDIT_ADDRESS_UNUSABLE)) < 0)
				q = -1;
		rc = q < 0 ? -1 : 0;
		free(body);
		free(lines);
	}
	free(subject);
	free(skip);
	directory_accounts_clear(&as);
	return rc;
}

/* The embedded directory's reset: a token, its link in a secret mail to the address on file. */
static int
mail_reset_link(struct actor *a, const struct directory_account *acc, const char *subject)
{
	char token[RESET_TOKEN_SIZE];
	int64_t ttl = (int64_t)a->s->reset_ttl;
	if (reset_token_issue(a->st, acc->identifier, (int64_t)time(NULL), ttl, token) < 0)
		return -1;
	const char *base = a->s->public_url ? a->s->public_url : "";
	size_t blen = strlen(base);
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	char *link = xasprintf("%.*s/reinitialisation?jeton=%s", (int)blen, base, token);
	char *minutes = xasprintf("%lld", (long long)(ttl / 60));
	struct template_var vars[] = {
		{ "identifier", acc->identifier, false }, { "link", link, false }, { "minutes", minutes, false },
	};
	char *body = render(a, "action_reset_mail", vars, 3);
	char *removed = render(a, "history_link_removed", NULL, 0);
	vars[1].value = removed;
	char *history = render(a, "action_reset_mail", vars, 3);
	free(removed);
	int q = send_to_file(a, "password_reset", OUTBOX_SECRET, acc->email, subject, body, history);
	sodium_memzero(token, sizeof(token));
	sodium_memzero(link, strlen(link));
	sodium_memzero(body, strlen(body));
	free(link);
	free(body);
	free(history);
	free(minutes);
	if (q < 0)
		return -1;
	return audit(a, "password_reset", acc->identifier,
		     q > 0 ? audit_code(AUDIT_RESET_SENT) : audit_code(AUDIT_ADDRESS_UNUSABLE));
}

int
action_password_reset(struct actor *a, const char *by, const char *value)
{
	const char *action = "password_reset";
	struct directory_accounts as = {0};
	int n = begin_request(a, action, a->s->reset_limit, by, value, &as);
	if (n <= 0)
		return n;
	int rc = 0;
	bool remote = directory_is_remote(a->dir);
	char *subject = subject_of(a, "action_reset_subject");
	for (int i = 0; rc == 0 && i < n; i++) {
		const struct directory_account *acc = &as.items[i];
		const char *sent = remote ? audit_code(AUDIT_RESET_REQUESTED) : audit_code(AUDIT_RESET_SENT);
		int full = account_over(a, action, acc->identifier, sent, a->s->reset_limit);
		if (full != 0) {
			rc = full < 0 ? -1 : audit(a, action, acc->identifier, audit_code(AUDIT_ACCOUNT_LIMIT));
		} else if (remote) {
			int r = directory_request_password_reset(a->dir, acc->identifier);
			if (r < 0)
				rc = lookup_failed(a, action, acc->identifier, r);
			else
				rc = audit(a, action, acc->identifier, r == 1 ? sent : audit_code(AUDIT_EXTRANET_NO_ACCOUNT));
		} else {
			rc = mail_reset_link(a, acc, subject);
		}
	}
	free(subject);
	directory_accounts_clear(&as);
	return rc;
}

/* The stored form of a code: hex salt '$' hex BLAKE2b(code, key = salt). Whoever reads
 * the store can try the 10^8 codes offline in seconds: what protects a code is that it
 * lives 10 minutes and a few attempts, and that the store is not readable. */
static char *
code_hash(const char *code, const unsigned char salt[CODE_SALT_BYTES])
{
	unsigned char digest[crypto_generichash_BYTES];
	crypto_generichash(digest, sizeof(digest), (const unsigned char *)code, strlen(code), salt, CODE_SALT_BYTES);
	char salt_hex[2 * CODE_SALT_BYTES + 1], digest_hex[2 * sizeof(digest) + 1];
	sodium_bin2hex(salt_hex, sizeof(salt_hex), salt, CODE_SALT_BYTES);
	sodium_bin2hex(digest_hex, sizeof(digest_hex), digest, sizeof(digest));
	return xasprintf("%s$%s", salt_hex, digest_hex);
}

/* A code mailed to email with template mail (its subject: action_code_subject), in the
 * thread of intent, audited as action. */
static int
code_send(struct actor *a, const char *action, const char *intent, const char *mail, const char *email, char **hash_r)
{
	uint32_t space = 1;
	for (int i = 0; i < ACTION_CODE_DIGITS; i++)
		space *= 10;
	char code[ACTION_CODE_SIZE];
	snprintf(code, sizeof(code), "%0*u", ACTION_CODE_DIGITS, (unsigned)randombytes_uniform(space));
	unsigned char salt[CODE_SALT_BYTES];
	randombytes_buf(salt, sizeof(salt));
	char *minutes = xasprintf("%lu", a->s->code_ttl / 60);
	struct template_var vars[] = { { "code", code, false }, { "minutes", minutes, false } };
	char *body = render(a, mail, vars, 2);
	char *removed = render(a, "history_code_removed", NULL, 0);
	vars[0].value = removed;
	char *history = render(a, mail, vars, 2);
	free(removed);
	char *subject = subject_of(a, "action_code_subject");
	int q = send_to_file(a, intent, OUTBOX_SECRET, email, subject, body, history);
	if (q > 0)
		*hash_r = code_hash(code, salt);
	sodium_memzero(code, sizeof(code));
	sodium_memzero(body, strlen(body));
	free(body);
	free(history);
	free(subject);
	free(minutes);
	if (q < 0) {
		free(*hash_r);
		*hash_r = NULL;
		return -1;
	}
	return audit(a, action, email, q > 0 ? audit_code(AUDIT_CODE_SENT) : audit_code(AUDIT_ADDRESS_UNUSABLE));
}

int
action_code_send(struct actor *a, const char *email, bool send, char **hash_r)
{
	*hash_r = NULL;
	if (sodium_init() < 0)
		return -1;
	if (!send)
		return audit(a, "one_time_code", email, audit_code(AUDIT_CODE_NOT_SENT));
	return code_send(a, "one_time_code", "dossier_status", "action_code_mail", email, hash_r);
}

int
action_address_code_send(struct actor *a, const char *email, char **hash_r)
{
	*hash_r = NULL;
	if (sodium_init() < 0)
		return -1;
	return code_send(a, ACTION_ADDRESS_CODE, "address_check", "action_address_code_mail", email, hash_r);
}

bool
action_code_matches(const char *hash, const char *code)
{
	unsigned char salt[CODE_SALT_BYTES] = {0};
	size_t salt_len = 0;
	const char *dollar = hash ? strchr(hash, '$') : NULL;
	bool usable = dollar != NULL &&
		      sodium_hex2bin(salt, sizeof(salt), hash, (size_t)(dollar - hash), NULL, &salt_len, NULL) == 0 &&
		      salt_len == sizeof(salt);
	/* Hashed even when nothing can match: a flow without a code takes as long. */
	char *again = code_hash(code, salt);
	bool same = usable && strlen(again) == strlen(hash) && sodium_memcmp(again, hash, strlen(hash)) == 0;
	free(again);
	return same;
}

/* The correspondants' alert when the global cap trips: an audit row (the window's
 * marker), and a thread of its own, escalated, whose notification says what happens. */
static int
code_cap_trip(struct actor *a, int64_t wrong, int64_t now)
{
	char *outcome = xasprintf("%lld wrong one-time codes in an hour from all visitors (cap %d): no code is checked "
				  "for an hour (a thread escalated to the correspondants)",
				  (long long)wrong, CODE_WRONG_GLOBAL);
	char *tally = xasprintf("%lld wrong codes (cap %d)", (long long)wrong, CODE_WRONG_GLOBAL);
	int rc = audit(a, CODE_CAP_ACTION, tally, audit_code(AUDIT_CODE_CAP));
	free(tally);
	char *subject = subject_of(a, "code_cap_subject");
	int64_t thread = rc < 0 ? -1
				: store_thread_create(a->st, "chat", "dialogd", subject, THREAD_ESCALATED, "dossier_status",
						      outcome);
	free(subject);
	char date[16], hour[8];
	time_t end = (time_t)(now + CODE_WINDOW);
	struct tm tm;
	localtime_r(&end, &tm);
	strftime(date, sizeof(date), "%d/%m/%Y", &tm);
	strftime(hour, sizeof(hour), "%H:%M", &tm);
	char *count = xasprintf("%lld", (long long)wrong);
	char *limit = xasprintf("%d", CODE_WRONG_GLOBAL);
	struct template_var vars[] = {
		{ "count", count, false }, { "limit", limit, false }, { "date", date, false }, { "time", hour, false },
	};
	char *body = render(a, "code_cap_message", vars, 4);
	free(limit);
	free(count);
	struct message_row m = { .thread_id = thread, .direction = "in", .sender = "dialogd", .body = body,
				 .intent = "dossier_status", .decision = "escalated", .note = outcome };
	if (thread < 0 || store_message_add(a->st, &m) < 0)
		rc = -1;
	char *motive = render(a, "notify_reason_code_cap", NULL, 0);
	int q = rc < 0 ? -1 : notify_correspondants(&a->s->notify, a->st, a->e, thread, motive, 0);
	if (q > 0)
		a->queued++;
	free(motive);
	free(body);
	free(outcome);
	return q < 0 ? -1 : 0;
}

int
action_code_check(struct actor *a, const struct code_flow *f, const char *code, int *remaining_r)
{
	*remaining_r = 0;
	const char *action = "one_time_code_check";
	int64_t now = (int64_t)time(NULL), since = now - CODE_WINDOW;
	struct wrong_code_counts n;
	if (store_wrong_codes_count(a->st, a->requester, f->email, since, &n) < 0)
		return -1;
	int64_t tripped = store_audit_latest(a->st, CODE_CAP_ACTION, since);
	if (tripped < 0)
		return -1;
	if (tripped == 0 && n.everyone >= CODE_WRONG_GLOBAL && code_cap_trip(a, n.everyone, now) < 0)
		return -1;
	if (tripped > 0 || n.everyone >= CODE_WRONG_GLOBAL)
		return audit(a, action, f->email, audit_code(AUDIT_CODE_UNCHECKED_GLOBAL)) < 0
			       ? -1
			       : CODE_SUSPENDED;
	int attempt = f->attempts + 1;
	if ((int64_t)attempt > (int64_t)a->s->code_attempts || n.by_visitor >= CODE_WRONG_PER_VISITOR)
		return audit(a, action, f->email, audit_code(AUDIT_CODE_UNCHECKED_VISITOR)) < 0
			       ? -1
			       : CODE_VOID;
	if (action_code_matches(f->hash, code)) {
		if (n.for_address < CODE_WRONG_PER_ADDRESS)
			return CODE_ACCEPTED;
		/* Only the holder of the right code meets this limit: the answer to a wrong
		 * code, all anybody else can see, does not depend on it. */
		return audit(a, action, f->email, audit_code(AUDIT_CODE_REFUSED_ADDRESS)) < 0
			       ? -1
			       : CODE_VOID;
	}
	if (store_wrong_code_add(a->st, a->requester, f->email, f->hash != NULL, now) < 0 ||
	    audit(a, action, f->email, audit_code(AUDIT_CODE_WRONG)) < 0)
		return -1;
	if (n.everyone + 1 >= CODE_WRONG_GLOBAL)
		return code_cap_trip(a, n.everyone + 1, now) < 0 ? -1 : CODE_SUSPENDED;
	int64_t left = (int64_t)a->s->code_attempts - attempt;
	if (CODE_WRONG_PER_VISITOR - (n.by_visitor + 1) < left)
		left = CODE_WRONG_PER_VISITOR - (n.by_visitor + 1);
	if (left <= 0)
		return CODE_VOID;
	*remaining_r = (int)left;
	return CODE_WRONG;
}

/* The template naming the dossier's type (any other type reads as an apprenticeship). */
static const char *
dossier_type_template(const char *type)
{
	return strcmp(type, "action_formation") == 0 ? "dossier_type_action_formation"
	       : strcmp(type, "contrat_pro") == 0    ? "dossier_type_contrat_pro"
						     : "dossier_type_contrat_apprentissage";
}

char *
action_dossier_status_text(const struct engine *e, const struct directory_dossier *d, enum audience audience)
{
	const char *faq = strcmp(d->state, "en_attente_de_pieces") == 0 ? "send_supporting_documents"
			  : strcmp(d->state, "accorde") == 0              ? "submit_invoice"
			  : strcmp(d->state, "paye") == 0                 ? "payment_details"
									  : NULL;
	char *faq_text = faq ? dialog_faq_answer(e, faq, audience, OUTPUT_TEXT) : xstrdup("");
	char *name = xasprintf("dossier_state_%s", d->state);
	struct template_var fv = { "faq", faq_text, true };
	char *state = template_render(e->templates, name, OUTPUT_TEXT, &fv, 1);
	str_trim(state);
	char *deca = xstrdup("");
	if (strcmp(d->type, "contrat_apprentissage") == 0) {
		struct template_var dv = { "deca", d->deca_number, false };
		char *sentence = template_render(e->templates, d->deca_number ? "action_dossier_deca"
										: "action_dossier_deca_pending",
						 OUTPUT_TEXT, &dv, 1);
		free(deca);
		deca = xasprintf("\n\n%s", sentence);
		free(sentence);
	}
	char *type = template_render(e->templates, dossier_type_template(d->type), OUTPUT_TEXT, NULL, 0);
	struct template_var vars[] = {
		{ "number", d->number, false }, { "type", type, false },
		{ "state", state, true }, { "deca", deca, true },
	};
	char *out = template_render(e->templates, "action_dossier_status", OUTPUT_TEXT, vars, 4);
	free(type);
	free(deca);
	free(state);
	free(name);
	free(faq_text);
	return out;
}

/* Status mails to a dossier's addresses on file, at others' request, per hour. */
#define DOSSIER_MAILS_PER_HOUR 3

/* Each address on file of d gets the status in a thread of its own, the holder as
 * requester: if the holder answers it, a correspondant answers the holder, not whoever
 * asked. Returns the audit outcome, or NULL (store). */
static const char *
mail_status_to_file(struct actor *a, const struct directory_dossier *d)
{
	struct template_var var = { "number", d->number, false };
	char *status = d->email_count > 0 ? action_dossier_status_text(a->e, d, AUDIENCE_UNKNOWN) : NULL;
	char *subject = render(a, "action_dossier_subject", &var, 1);
	str_trim(subject);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < d->email_count; i++) {
		char *body = dialog_mail_envelope(a->e, status, "", OUTPUT_TEXT);
		struct outbound o = { .kind = OUTBOX_ACTION, .to = d->emails[i], .subject = subject, .body = body,
				      .not_before = on_file_not_before(a) };
		o.thread_id = store_thread_create(a->st, "mail", d->emails[i], subject, THREAD_ANSWERED, "dossier_status",
						  "status sent at another address's request");
		int q = o.thread_id < 0 ? -1 : outbound_queue(&a->s->notify.sender, a->st, &o);
		rc = q < 0 ? -1 : 0;
		if (q > 0)
			a->queued++;
		free(body);
	}
	free(subject);
	free(status);
	if (rc < 0)
		return NULL;
	return d->email_count == 0 ? audit_code(AUDIT_STATUS_NO_ACTIVE_ACCOUNT) : audit_code(AUDIT_STATUS_SENT_ON_FILE);
}

/* Not verified: the same redirect whatever exists, and for a known dossier, a few status
 * mails per hour to its addresses on file, whoever asks (else anyone could flood the
 * holders by asking from many addresses). Returns the audit outcome, or NULL (store). */
static const char *
redirect(struct actor *a, const struct directory_dossier *d, int found, bool over, int64_t since)
{
	if (over)
		return audit_code(AUDIT_STATUS_LIMIT);
	if (found != 1)
		return audit_code(AUDIT_NO_DOSSIER);
	int64_t sent_lately = store_audit_count_subject(a->st, "dossier_status", d->number,
							audit_code(AUDIT_STATUS_SENT_ON_FILE), since);
	if (sent_lately < 0)
		return NULL;
	if (sent_lately >= DOSSIER_MAILS_PER_HOUR)
		return audit_code(AUDIT_STATUS_SENT_RECENTLY);
	return mail_status_to_file(a, d);
}

int
action_dossier_status(struct actor *a, const struct dossier_request *req, char **answer_r)
{
	*answer_r = NULL;
	/* The first candidate that is a known dossier, else the first one. */
	struct directory_dossier d = {0};
	size_t pick = 0;
	int found = 0;
	for (size_t i = 0; i < req->number_count && found == 0; i++)
		if ((found = directory_dossier_get(a->dir, req->numbers[i], &d)) == 1)
			pick = i;
	const char *number = req->numbers[pick];
	int64_t since = limit_window_start((int64_t)time(NULL));
	const char *from = req->from;
	int64_t recent = from ? store_audit_count(a->st, from, "dossier_status", since) : 0;
	/* Statuses given for one dossier this hour (the per-account limit: its holders). Only
	 * what was given counts: look-ups by others must not lock the holders out. */
	int64_t dossier_recent = store_audit_count_subject(a->st, "dossier_status", number,
							   audit_code(AUDIT_STATUS_GIVEN), since);
	int rc = 0;
	if (found == DIRECTORY_UNAVAILABLE) {
		rc = audit(a, "dossier_status", number, audit_code(AUDIT_DIRECTORY_UNAVAILABLE));
		directory_dossier_clear(&d);
		return rc < 0 ? -1 : DIRECTORY_UNAVAILABLE;
	}
	if (found < 0 || recent < 0 || dossier_recent < 0) {
		directory_dossier_clear(&d);
		return -1;
	}
	bool over = recent >= (int64_t)a->s->status_limit || dossier_recent >= (int64_t)a->s->status_limit;
	bool verified = found == 1 && !over && req->answer_goes_to_from && req->sender_proven &&
			directory_dossier_has_email(&d, from);
	const char *outcome;
	if (verified) {
		*answer_r = action_dossier_status_text(a->e, &d, req->audience);
		outcome = audit_code(AUDIT_STATUS_GIVEN);
	} else {
		*answer_r = render(a, "action_dossier_redirect", NULL, 0);
		outcome = redirect(a, &d, found, over, since);
	}
	rc = outcome == NULL ? -1 : audit(a, "dossier_status", number, outcome);
	directory_dossier_clear(&d);
	if (rc < 0) {
		free(*answer_r);
		*answer_r = NULL;
	}
	return rc;
}
