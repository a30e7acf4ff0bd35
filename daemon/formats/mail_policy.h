/* mail_policy — RFC 3834 and common sense: which inbound mail must get no automatic
 * reply (auto-replies, lists, bounces, no-reply senders, spam by the receiving MTA's
 * verdict, our own mail coming back). Each rule can be switched off for systems that
 * stamp these headers on mail written by people. Pure function of the parsed mail and the
 * settings: never logs.
 * Threads: any; the settings (and the markers they point to) are borrowed for the call. */
#ifndef DIALOGD_MAIL_POLICY_H
#define DIALOGD_MAIL_POLICY_H

#include <stdbool.h>

#include "formats/mail_markers.h"
#include "formats/mail_parse.h"

struct mail_policy {
	const char *own_address;        /* the support address, e.g. dialoguer@ocapiat.test */
	const char *own_domain;         /* the domain of our Message-IDs, e.g. ocapiat.test */
	bool auto_submitted;            /* Auto-Submitted other than "no" (default on) */
	bool precedence;                /* Precedence: bulk, list, junk, auto_reply (default on) */
	bool list_headers;              /* List-Id, List-Unsubscribe (default on) */
	bool autoreply_headers;         /* X-Autoreply, X-Autorespond, X-Loop naming us (default on) */
	bool auto_response_suppress;    /* Outlook's X-Auto-Response-Suppress: All/AutoReply (default off:
					 * Outlook stamps it on mail people write) */
	bool empty_return_path;         /* Return-Path: <> (default on) */
	bool robot_senders;             /* MAILER-DAEMON, postmaster, no-reply, noreply, ne-pas-repondre... (default on) */
	bool reports;                   /* multipart/report (default on) */
	bool own_mail;                  /* From the support address, or a Message-ID of our domain (default on) */
	bool list_senders;              /* list robots without List-* headers: Sender or Return-Path owner-x,
					 * x-owner, x-request, x-admin, x-bounces, LISTSERV, Majordomo (default on) */
	bool autoreply_markers;         /* subjects and sentences of auto-replies, receipts, challenges (default on) */
	bool spam_verdicts;             /* X-Spam-Flag / X-Spam-Status / X-Spam: yes, X-Rspamd-Action (default on) */
	const struct mail_markers *markers; /* for autoreply_markers; NULL: none (borrowed) */
};

/* What the rules say of a mail. */
enum mail_policy_action {
	MAIL_POLICY_REPLY,              /* an automatic reply is allowed */
	MAIL_POLICY_IGNORE,             /* written by a program, and says so (RFC 3834 headers, a report,
					 * a list header, a no-reply From, our own mail): recorded, no reply */
	MAIL_POLICY_ESCALATE,           /* most likely a program or spam, by a heuristic that can be wrong
					 * (a subject, a robot-looking envelope, a spam verdict): no automatic
					 * reply, but a person sees it, silently (no acknowledgement) */
};

struct mail_policy_verdict {
	enum mail_policy_action action;
	const char *rule;               /* the [rules] key that decided, e.g. "spam_verdicts"; NULL for REPLY */
	const char *reason;             /* short English reason for the log and `dialogctl threads`, static
					 * or borrowed from the markers; NULL for REPLY */
};

/* Fills the defaults above (addresses left NULL). */
void mail_policy_default(struct mail_policy *policy);

/* Fills *verdict_r: the first rule that applies, in a fixed order (the certain ones
 * first), or MAIL_POLICY_REPLY. A mail without a usable sender address is not the
 * policy's business: the channel hands it to a person (nobody to answer). */
void mail_policy_check(const struct mail_policy *policy, const struct parsed_mail *mail,
		       struct mail_policy_verdict *verdict_r);

/* NULL when the verdict is MAIL_POLICY_REPLY, else its reason followed by the rule that
 * decided, for the log and `dialogctl threads` (the operator sees which key to switch off):
 * e.g. "Auto-Submitted: auto-replied [rules] auto_submitted". Borrowed: valid until the
 * calling thread's next call. */
const char *mail_policy_refusal(const struct mail_policy *policy, const struct parsed_mail *mail);

#endif
