/* mail_policy — may this inbound mail get an automatic reply?
 * Pipeline: imap → mail_parse → mail_policy → dialog. RFC 3834 (Auto-Submitted,
 * §2 "don't reply to lists, bounces, robots"), RFC 2369/2919 list headers, the de facto
 * Precedence, X-Autoreply, X-Loop and Exchange's X-Auto-Response-Suppress, RFC 3464
 * multipart/report, the list headers of Mailman, ezmlm, fml and LISTSERV, the spam
 * verdicts of SpamAssassin and rspamd, and (mail_markers) the subjects of auto-replies
 * that carry no header. Reads the parsed mail only; never logs. */
#include "autoconf.h"
#include "formats/mail_policy.h"
#include "core/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void
mail_policy_default(struct mail_policy *policy)
{
	memset(policy, 0, sizeof(*policy));
	policy->auto_submitted = true;
	policy->precedence = true;
	policy->list_headers = true;
	policy->autoreply_headers = true;
	policy->auto_response_suppress = false;
	policy->empty_return_path = true;
	policy->robot_senders = true;
	policy->reports = true;
	policy->own_mail = true;
	policy->list_senders = true;
	policy->autoreply_markers = true;
	policy->spam_verdicts = true;
	policy->markers = NULL;
}

/* Own lookup rather than mail_header_get(), so that the rules depend on the struct only. */
static const char *
header(const struct parsed_mail *mail, const char *name)
{
	for (size_t i = 0; i < mail->header_count; i++)
		if (mail->headers[i].name != NULL && strcasecmp(mail->headers[i].name, name) == 0)
			return mail->headers[i].value != NULL ? mail->headers[i].value : "";
	return NULL;
}

/* The first token of a structured value, without comments "(…)", parameters ";…" or
 * surrounding spaces, lower-cased into buf: "Auto-Replied (vacation)" → "auto-replied". */
static const char *
first_token(const char *value, char *buf, size_t size)
{
	size_t n = 0;
	int depth = 0;
	for (const char *p = value; *p != '\0' && n + 1 < size; p++) {
		if (*p == '(') {
			depth++;
		} else if (*p == ')' && depth > 0) {
			depth--;
		} else if (depth == 0) {
			if (*p == ';' || *p == ',' || (isspace((unsigned char)*p) && n > 0))
				break;
			if (!isspace((unsigned char)*p))
				buf[n++] = (char)tolower((unsigned char)*p);
		}
	}
	buf[n] = '\0';
	return buf;
}

/* True when a comma or space separated list holds one of the words (case-insensitive). */
static bool
list_has(const char *value, const char *const *words)
{
	const char *p = value;
	while (*p != '\0') {
		p += strspn(p, " \t,;");
		size_t len = strcspn(p, " \t,;");
		for (size_t k = 0; words[k] != NULL; k++)
			if (len == strlen(words[k]) && strncasecmp(p, words[k], len) == 0)
				return true;
		p += len;
	}
	return false;
}

static bool
contains_ci(const char *hay, const char *needle)
{
	return strcasestr(hay, needle) != NULL;
}

/* The local part, lower case, without a "+tag" and without '-', '_' and '.', so that
 * "No_Reply", "ne-pas-repondre" and "noreply+x" compare alike. */
static char *
local_normalized(const char *address)
{
	const char *at = strrchr(address, '@');
	size_t len = at != NULL ? (size_t)(at - address) : strlen(address);
	size_t plus = strcspn(address, "+");
	if (plus < len)
		len = plus;
	char *out = xmalloc(len + 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (address[i] != '-' && address[i] != '_' && address[i] != '.')
			out[n++] = (char)tolower((unsigned char)address[i]);
	out[n] = '\0';
	return out;
}

static bool
is_robot_address(const char *address)
{
	static const char *const exact[] = { "mailerdaemon", "postmaster", "mailer", "bounce", "bounces", NULL };
	/* Also as a prefix or suffix: "noreply-factures", "alertes.noreply", "bounces-1234". */
	static const char *const parts[] = { "noreply", "donotreply", "nepasrepondre", "nerepondpas", NULL };
	if (address == NULL || *address == '\0')
		return false;
	char *l = local_normalized(address);
	bool robot = false;
	for (size_t k = 0; !robot && exact[k] != NULL; k++)
		robot = strcmp(l, exact[k]) == 0;
	for (size_t k = 0; !robot && parts[k] != NULL; k++)
		robot = str_starts_with(l, parts[k]) || str_ends_with(l, parts[k]);
	free(l);
	if (!robot) {
		/* VERP bounce addresses: "bounces-123-x@", "bounce.abc@". */
		size_t len = strlen("bounce");
		if (strncasecmp(address, "bounce", len) == 0) {
			const char *p = address + len;
			if (tolower((unsigned char)*p) == 's')
				p++;
			robot = *p != '\0' && strchr("-._+=", *p) != NULL;
		}
	}
	return robot;
}

static bool
same_address(const char *a, const char *b)
{
	return a != NULL && b != NULL && *a != '\0' && strcasecmp(a, b) == 0;
}

static const char *
own_mail_refusal(const struct mail_policy *policy, const struct parsed_mail *mail)
{
	if (same_address(mail->from_address, policy->own_address))
		return "mail from our own address";
	if (same_address(mail->reply_to_address, policy->own_address))
		return "Reply-To is our own address";
	if (mail->message_id != NULL && policy->own_domain != NULL && *policy->own_domain != '\0') {
		const char *at = strrchr(mail->message_id, '@');
		if (at != NULL && strcasecmp(at + 1, policy->own_domain) == 0)
			return "Message-ID of our own domain";
	}
	return NULL;
}

static const char *
auto_submitted_refusal(const struct parsed_mail *mail)
{
	const char *v = header(mail, "Auto-Submitted");
	if (v == NULL)
		return NULL;
	char buf[64];
	first_token(v, buf, sizeof(buf));
	if (strcmp(buf, "no") == 0)
		return NULL;
	if (strcmp(buf, "auto-replied") == 0)
		return "Auto-Submitted: auto-replied";
	if (strcmp(buf, "auto-generated") == 0)
		return "Auto-Submitted: auto-generated";
	if (strcmp(buf, "auto-notified") == 0)
		return "Auto-Submitted: auto-notified";
	return "Auto-Submitted header";
}

static const char *
precedence_refusal(const struct parsed_mail *mail)
{
	const char *v = header(mail, "Precedence");
	if (v == NULL)
		return NULL;
	char buf[32];
	first_token(v, buf, sizeof(buf));
	if (strcmp(buf, "bulk") == 0)
		return "Precedence: bulk";
	if (strcmp(buf, "list") == 0)
		return "Precedence: list";
	if (strcmp(buf, "junk") == 0)
		return "Precedence: junk";
	if (strcmp(buf, "auto_reply") == 0 || strcmp(buf, "auto-reply") == 0)
		return "Precedence: auto_reply";
	return NULL;
}

static bool
empty_return_path(const struct parsed_mail *mail)
{
	const char *rp = header(mail, "Return-Path");
	return (mail->return_path != NULL && *mail->return_path == '\0') ||
	       (mail->return_path == NULL && rp != NULL && strspn(rp, " \t<>") == strlen(rp));
}

static bool
suppress_refusal(const struct parsed_mail *mail)
{
	static const char *const words[] = { "all", "autoreply", "oof", NULL };
	const char *v = header(mail, "X-Auto-Response-Suppress");
	return v != NULL && list_has(v, words);
}

static const char *
autoreply_refusal(const struct mail_policy *policy, const struct parsed_mail *mail)
{
	const char *v = header(mail, "X-Autoreply");
	if (v != NULL) {
		char buf[16];
		if (strcmp(first_token(v, buf, sizeof(buf)), "no") != 0)
			return "X-Autoreply header";
	}
	if (header(mail, "X-Autorespond") != NULL)
		return "X-Autorespond header";
	if (policy->own_address != NULL && *policy->own_address != '\0') {
		for (size_t i = 0; i < mail->header_count; i++)
			if (mail->headers[i].name != NULL && strcasecmp(mail->headers[i].name, "X-Loop") == 0 &&
			    mail->headers[i].value != NULL && contains_ci(mail->headers[i].value, policy->own_address))
				return "X-Loop names our address";
	}
	return NULL;
}

/* A VERP or bulk-sender bounce address, as Return-Paths of newsletters and list
 * platforms have it: a "+bounce…" tag ("news+bounce-42-jean=x.fr@"), or a domain with a
 * label bounce, bounces, bounce-x or bounce42 ("@bounce.example.net", "@bounces.x.com"). */
static bool
is_verp_bounce(const char *address)
{
	const char *at = strrchr(address, '@');
	if (at == NULL)
		return false;
	const char *plus = memchr(address, '+', (size_t)(at - address));
	if (plus != NULL && strncasecmp(plus + 1, "bounce", 6) == 0)
		return true;
	for (const char *label = at + 1; *label != '\0';) {
		size_t len = strcspn(label, ".");
		if (len >= 6 && strncasecmp(label, "bounce", 6) == 0) {
			const char *rest = label + 6;
			size_t left = len - 6;
			if (left > 0 && (*rest == 's' || *rest == 'S'))
				rest++, left--;
			if (left == 0 || *rest == '-' || (*rest >= '0' && *rest <= '9'))
				return true;
		}
		label += len;
		if (*label == '.')
			label++;
	}
	return false;
}

/* The local part lower-cased, without its +tag. Caller frees. */
static char *
local_lower(const char *address)
{
	const char *at = strrchr(address, '@');
	size_t len = at != NULL ? (size_t)(at - address) : strlen(address);
	size_t plus = strcspn(address, "+");
	if (plus < len)
		len = plus;
	char *out = xstrndup(address, len);
	for (char *p = out; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return out;
}

/* The addresses of list software: its robots ("listserv@", "majordomo@"), its owner
 * alias ("owner-x@", "x-owner@") and, when wide, what only a list's envelope or Sender
 * carries (Mailman's "x-bounces@", "x-request@", fml's "x-admin@"). People write From
 * addresses such as "rh-admin@", so From is only checked narrowly. */
static bool
is_list_robot(const char *address, bool wide)
{
	static const char *const robots[] = { "listserv", "majordomo", "listproc", "mailman", "ecartis", "sympa", NULL };
	static const char *const suffixes[] = { "-owner", "-request", "-admin", "-bounces", NULL };
	if (address == NULL || *address == '\0')
		return false;
	char *l = local_lower(address);
	bool robot = str_starts_with(l, "owner-") && l[6] != '\0';
	for (size_t k = 0; !robot && robots[k] != NULL; k++)
		robot = strcmp(l, robots[k]) == 0;
	for (size_t k = 0; !robot && wide && suffixes[k] != NULL; k++)
		robot = str_ends_with(l, suffixes[k]) && strlen(l) > strlen(suffixes[k]);
	free(l);
	return robot;
}

static const char *
list_sender_refusal(const struct parsed_mail *mail)
{
	if (is_list_robot(mail->sender_address, true))
		return "list software address in Sender";
	if (mail->return_path != NULL && is_list_robot(mail->return_path, true))
		return "list software address in Return-Path";
	if (is_list_robot(mail->from_address, false))
		return "list software address in From";
	return NULL;
}

/* Headers only list software writes, beyond RFC 2369/2919: Mailman's X-BeenThere and
 * X-Mailman-Version, ezmlm's Mailing-List, fml's X-ML-Name, LISTSERV's X-Listserver,
 * and the X-Mailing-List of SmartList and others. */
static const char *
list_header_refusal(const struct parsed_mail *mail)
{
	static const char *const names[] = {
		"List-Id", "List-Unsubscribe", "List-Post", "List-Owner", "List-Help", "List-Subscribe", "List-Archive",
		"X-BeenThere", "X-Mailman-Version", "Mailing-List", "X-Mailing-List", "X-ML-Name", "X-Listserver",
		NULL,
	};
	static const char *const reasons[] = {
		"mailing list (List-Id)", "mailing list (List-Unsubscribe)", "mailing list (List-Post)",
		"mailing list (List-Owner)", "mailing list (List-Help)", "mailing list (List-Subscribe)",
		"mailing list (List-Archive)", "mailing list (X-BeenThere)", "mailing list (X-Mailman-Version)",
		"mailing list (Mailing-List)", "mailing list (X-Mailing-List)", "mailing list (X-ML-Name)",
		"mailing list (X-Listserver)",
	};
	for (size_t k = 0; names[k] != NULL; k++)
		if (header(mail, names[k]) != NULL)
			return reasons[k];
	return NULL;
}

/* The receiving MTA's spam verdict. The first header of each name is the one the last
 * hop (our MTA) added on top; a copy written by the sender lower down is not read. */
static const char *
spam_refusal(const struct parsed_mail *mail)
{
	char buf[32];
	const char *v;
	if ((v = header(mail, "X-Spam-Flag")) != NULL && strcmp(first_token(v, buf, sizeof(buf)), "yes") == 0)
		return "spam by the receiving MTA (X-Spam-Flag: YES, SpamAssassin)";
	if ((v = header(mail, "X-Spam-Status")) != NULL && strcmp(first_token(v, buf, sizeof(buf)), "yes") == 0)
		return "spam by the receiving MTA (X-Spam-Status: Yes, SpamAssassin)";
	if ((v = header(mail, "X-Spam")) != NULL && strcmp(first_token(v, buf, sizeof(buf)), "yes") == 0)
		return "spam by the receiving MTA (X-Spam: Yes, rspamd)";
	if ((v = header(mail, "X-Rspamd-Action")) != NULL) {
		/* "add header" and "rewrite subject" are rspamd's "probably spam"; "reject"
		 * reaches us only when the MTA delivers instead of refusing. Greylisting and
		 * soft rejects are temporary and say nothing of the mail. */
		char *a = mail_markers_normalise(v, strlen(v));
		bool spam = strcmp(a, "reject") == 0 || strcmp(a, "add header") == 0 || strcmp(a, "rewrite subject") == 0;
		free(a);
		if (spam)
			return "spam by the receiving MTA (X-Rspamd-Action)";
	}
	return NULL;
}

static const char *
return_path_robot_refusal(const struct parsed_mail *mail)
{
	const char *rp = mail->return_path;
	if (rp == NULL || *rp == '\0')
		return NULL;
	if (is_robot_address(rp))
		return "Return-Path is a robot address (MAILER-DAEMON, postmaster, bounces, no-reply)";
	if (is_verp_bounce(rp))
		return "Return-Path is a bulk sender's bounce address (VERP)";
	return NULL;
}

static void
verdict(struct mail_policy_verdict *v, enum mail_policy_action action, const char *rule, const char *reason)
{
	v->action = action;
	v->rule = rule;
	v->reason = reason;
}

/* The rules a program's own headers prove (RFC 3834 and its kin): no reply, nobody told. */
static bool
certain_rules(const struct mail_policy *policy, const struct parsed_mail *mail, struct mail_policy_verdict *v)
{
	const char *why;
	if (policy->own_mail && (why = own_mail_refusal(policy, mail)) != NULL)
		verdict(v, MAIL_POLICY_IGNORE, "own_mail", why);
	else if (policy->auto_submitted && (why = auto_submitted_refusal(mail)) != NULL)
		verdict(v, MAIL_POLICY_IGNORE, "auto_submitted", why);
	else if (policy->autoreply_headers && (why = autoreply_refusal(policy, mail)) != NULL)
		verdict(v, MAIL_POLICY_IGNORE, "autoreply_headers", why);
	else if (policy->precedence && (why = precedence_refusal(mail)) != NULL)
		verdict(v, MAIL_POLICY_IGNORE, "precedence", why);
	else if (policy->list_headers && (why = list_header_refusal(mail)) != NULL)
		verdict(v, MAIL_POLICY_IGNORE, "list_headers", why);
	else if (policy->empty_return_path && empty_return_path(mail))
		verdict(v, MAIL_POLICY_IGNORE, "empty_return_path", "empty Return-Path (bounce)");
	else if (policy->reports && mail->is_report)
		verdict(v, MAIL_POLICY_IGNORE, "reports", "delivery or read report (multipart/report)");
	else if (policy->robot_senders && (is_robot_address(mail->from_address) || is_robot_address(mail->reply_to_address)))
		verdict(v, MAIL_POLICY_IGNORE, "robot_senders", "sender is a no-reply address");
	else if (policy->robot_senders && is_robot_address(mail->sender_address))
		verdict(v, MAIL_POLICY_IGNORE, "robot_senders", "Sender is a no-reply address");
	else if (policy->auto_response_suppress && suppress_refusal(mail))
		verdict(v, MAIL_POLICY_IGNORE, "auto_response_suppress", "X-Auto-Response-Suppress");
	else
		return false;
	return true;
}

/* The rules that guess (a spam score, an address's shape, a subject): each can hit a
 * person, so a person sees what they stop. */
static bool
guessing_rules(const struct mail_policy *policy, const struct parsed_mail *mail, struct mail_policy_verdict *v)
{
	const char *why;
	if (policy->spam_verdicts && (why = spam_refusal(mail)) != NULL)
		verdict(v, MAIL_POLICY_ESCALATE, "spam_verdicts", why);
	else if (policy->robot_senders && (why = return_path_robot_refusal(mail)) != NULL)
		verdict(v, MAIL_POLICY_ESCALATE, "robot_senders", why);
	else if (policy->list_senders && (why = list_sender_refusal(mail)) != NULL)
		verdict(v, MAIL_POLICY_ESCALATE, "list_senders", why);
	else if (policy->autoreply_markers &&
		 (why = mail_markers_match(policy->markers, mail->subject, mail->body)) != NULL)
		verdict(v, MAIL_POLICY_ESCALATE, "autoreply_markers", why);
	else
		return false;
	return true;
}

void
mail_policy_check(const struct mail_policy *policy, const struct parsed_mail *mail, struct mail_policy_verdict *verdict_r)
{
	if (!certain_rules(policy, mail, verdict_r) && !guessing_rules(policy, mail, verdict_r))
		verdict(verdict_r, MAIL_POLICY_REPLY, NULL, NULL);
}

const char *
mail_policy_refusal(const struct mail_policy *policy, const struct parsed_mail *mail)
{
	/* One text per thread, valid until that thread's next call (the reason must name its
	 * rule, and the channel copies it at once). */
	static _Thread_local char text[1024];
	struct mail_policy_verdict v;
	mail_policy_check(policy, mail, &v);
	if (v.action == MAIL_POLICY_REPLY)
		return NULL;
	int n = snprintf(text, sizeof(text), "%s [rules] %s", v.reason, v.rule);
	if (n >= (int)sizeof(text)) {
		/* cut at a character boundary: the text goes to the log and the store */
		size_t cut = sizeof(text) - 1;
		while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80)
			cut--;
		text[cut] = '\0';
	}
	return text;
}
