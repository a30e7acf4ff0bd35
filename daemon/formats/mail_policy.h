/* mail_policy — RFC 3834 and common sense: which inbound mail must get no automatic
 * reply (auto-replies, lists, bounces, no-reply senders, our own mail coming back).
 * Each rule can be switched off for systems that stamp these headers on mail written by
 * people. Pure function of the parsed mail and the settings: never logs.
 * Threads: any; the settings are borrowed for the call. */
#ifndef DIALOGD_MAIL_POLICY_H
#define DIALOGD_MAIL_POLICY_H

#include <stdbool.h>

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
};

/* Fills the defaults above (addresses left NULL). */
void mail_policy_default(struct mail_policy *policy);

/* NULL when an automatic reply is allowed, else a short English reason for the log and
 * for `dialogctl threads`, e.g. "Auto-Submitted: auto-replied" or "sender is a no-reply address". */
const char *mail_policy_refusal(const struct mail_policy *policy, const struct parsed_mail *mail);

#endif
