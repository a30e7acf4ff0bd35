/* route — what a turn does with the engine's analysis, decided once for every channel:
 * answer, run an account action, hand the thread to a person, or say nothing. The engine
 * reads words and knows no directory; the route adds what the conversation knows: the
 * thread (a dossier number asked for in it), whether the directory can look dossiers up
 * (then a status request is an account action, not an escalation), and which channel
 * (the chat answers small talk; a mail of thanks in an answered thread gets no reply).
 * Also the two texts of a hand-over: the operator's reason (English, for the log and the
 * thread) and the correspondants' motive (a template). Pure functions; any thread. */
#ifndef DIALOGD_ROUTE_H
#define DIALOGD_ROUTE_H

#include <stdbool.h>

#include "engine/dialog.h"

struct directory;

enum route_kind {
	ROUTE_ANSWER,           /* the engine's reply (FAQ, two answers, chat small talk, a question back) */
	ROUTE_ACTION,           /* the account action of .action */
	ROUTE_ESCALATE,         /* a person answers, for .reason */
	ROUTE_NOTHING,          /* nothing to say back (thanks or greeting in an answered mail thread) */
};

struct route {
	enum route_kind kind;
	enum account_action action;     /* with ROUTE_ACTION */
	enum escalation_reason reason;  /* with ROUTE_ESCALATE */
};

/* What the conversation knows beyond the words. */
struct route_context {
	enum channel channel;
	bool in_thread;                 /* the message continues a thread */
	bool awaits_dossier_number;     /* the thread waits for the number of a dossier */
	struct directory *directory;    /* asked (only for a status request) whether it can
					 * give a dossier's status; NULL: it cannot */
};

struct route route_decide(const struct analysis *analysis, const struct route_context *context);

/* Why a thread goes to a person, as the operator reads it (log, thread, audit). */
const char *route_reason_text(enum escalation_reason reason, enum channel channel);
/* The template of that reason as the correspondants read it in their notification;
 * over_limit: the writer got no acknowledgement because of a reply limit. */
const char *route_notify_motive(enum escalation_reason reason, bool over_limit);

#endif
