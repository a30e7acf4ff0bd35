/* mail_policy — may this inbound mail get an automatic reply?
 * Pipeline: imap → mail_parse → mail_policy → dialog. RFC 3834 (Auto-Submitted,
 * §2 "don't reply to lists, bounces, robots"), RFC 2369/2919 list headers, the de facto
 * Precedence, X-Autoreply, X-Loop and Exchange's X-Auto-Response-Suppress, RFC 3464
 * multipart/report. Reads the parsed headers only; never logs. */
#include "autoconf.h"
#include "formats/mail_policy.h"
#include "formats/mail_compose.h"
#include "core/util.h"

#include <ctype.h>
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
usable_address(const char *address)
{
	char *name, *addr;
	if (address == NULL || mail_address_split(address, &name, &addr) < 0)
		return false;
	bool ok = name == NULL;
	free(name);
	free(addr);
	return ok;
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

const char *
mail_policy_refusal(const struct mail_policy *policy, const struct parsed_mail *mail)
{
	const char *why;
	if (policy->own_mail && (why = own_mail_refusal(policy, mail)) != NULL)
		return why;
	if (policy->auto_submitted && (why = auto_submitted_refusal(mail)) != NULL)
		return why;
	if (policy->autoreply_headers && (why = autoreply_refusal(policy, mail)) != NULL)
		return why;
	if (policy->precedence && (why = precedence_refusal(mail)) != NULL)
		return why;
	if (policy->list_headers) {
		if (header(mail, "List-Id") != NULL)
			return "mailing list (List-Id)";
		if (header(mail, "List-Unsubscribe") != NULL)
			return "mailing list (List-Unsubscribe)";
	}
	if (policy->empty_return_path) {
		const char *rp = header(mail, "Return-Path");
		if ((mail->return_path != NULL && *mail->return_path == '\0') ||
		    (mail->return_path == NULL && rp != NULL && strspn(rp, " \t<>") == strlen(rp)))
			return "empty Return-Path (bounce)";
	}
	if (policy->reports && mail->is_report)
		return "delivery or read report (multipart/report)";
	if (policy->robot_senders) {
		if (is_robot_address(mail->from_address) || is_robot_address(mail->reply_to_address))
			return "sender is a no-reply address";
		if (is_robot_address(mail->sender_address))
			return "Sender is a no-reply address";
	}
	if (policy->auto_response_suppress) {
		static const char *const words[] = { "all", "autoreply", "oof", NULL };
		const char *v = header(mail, "X-Auto-Response-Suppress");
		if (v != NULL && list_has(v, words))
			return "X-Auto-Response-Suppress";
	}
	if (!usable_address(mail->reply_to_address) && !usable_address(mail->from_address))
		return "no sender address";
	return NULL;
}
