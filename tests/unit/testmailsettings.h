/* The mail settings the unit tests, the account-actions bench and the chat fuzzer run
 * with: our identity, the test correspondants, the default rules, limits as configured
 * by default; and reading a code back from its mail. Include after testutil.h (or util.h). */
#ifndef DIALOGD_TESTMAILSETTINGS_H
#define DIALOGD_TESTMAILSETTINGS_H

#include "mail/mail_channel.h"

#include <string.h>

static inline void
test_mail_settings(struct mail_settings *s)
{
	memset(s, 0, sizeof(*s));
	mail_policy_default(&s->policy);
	s->policy.own_address = "dialoguer@ocapiat.test";
	s->policy.own_domain = "ocapiat.test";
	s->mailbox = "INBOX";
	s->actions.notify.sender.name = "Dialoguer avec OCAPIAT";
	s->actions.notify.sender.address = "dialoguer@ocapiat.test";
	s->actions.notify.sender.domain = "ocapiat.test";
	s->actions.notify.correspondants = "correspondants@ocapiat.test";
	s->actions.notify.console_url = "http://127.0.0.1:8080/console/fil/";
	s->max_message_size = 10 * 1024 * 1024;
	s->limits.burst_window = 600;
	s->limits.bounce_pause = 86400;
	s->actions.reminder_limit = 3;
	s->actions.status_limit = 10;
	s->actions.reset_limit = 3;
	s->actions.reset_ttl = 1800;
	s->actions.code_attempts = 5;
	s->actions.code_ttl = 600;
	s->actions.public_url = "https://assistance.ocapiat.test";
	dialog_settings_default(&s->dialog);
}

/* The one-time code of a code mail's raw text: eight digits alone on their line (out gets
 * "" when there is none). */
static inline void
test_mail_code(const char *raw, char out[9])
{
	out[0] = '\0';
	for (const char *p = raw; p && *p; p++)
		if ((p == raw || p[-1] == '\n') && strspn(p, "0123456789") == 8 && (p[8] == '\r' || p[8] == '\n')) {
			memcpy(out, p, 8);
			out[8] = '\0';
			return;
		}
}

#endif
