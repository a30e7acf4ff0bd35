/* route — see route.h. */
#include "autoconf.h"
#include "conversation/route.h"
#include "directory/directory.h"

static struct route
escalate_for(enum escalation_reason reason)
{
	return (struct route){ .kind = ROUTE_ESCALATE, .reason = reason };
}

struct route
route_decide(const struct analysis *a, const struct route_context *c)
{
	bool status_request = a->decision == DECISION_ESCALATE && a->reason == REASON_DOSSIER_STATUS;
	/* The number asked for in this thread: whatever the words, the request goes on,
	 * unless the writer now asks for a person. */
	bool status_action = status_request && c->directory != NULL && directory_has_dossiers(c->directory);
	if (status_action || (c->awaits_dossier_number && a->reason != REASON_HANDOFF))
		return (struct route){ .kind = ROUTE_ACTION, .action = ACCOUNT_DOSSIER_STATUS };
	switch (a->decision) {
	case DECISION_ESCALATE:
		return escalate_for(a->reason);
	case DECISION_SMALL_TALK:
		if (c->channel == CHANNEL_CHAT)
			return (struct route){ .kind = ROUTE_ANSWER };
		/* By mail: "Merci" in a thread already answered needs nothing back; alone, it is
		 * a message nobody understood. */
		return c->in_thread ? (struct route){ .kind = ROUTE_NOTHING } : escalate_for(REASON_UNKNOWN);
	case DECISION_ANSWER:
		if (a->first != NULL && a->first->action != ACCOUNT_ACTION_NONE)
			return (struct route){ .kind = ROUTE_ACTION, .action = a->first->action };
		return (struct route){ .kind = ROUTE_ANSWER };
	case DECISION_ANSWER_TWO:
	case DECISION_CLARIFY:
		break;
	}
	return (struct route){ .kind = ROUTE_ANSWER };
}

const char *
route_reason_text(enum escalation_reason reason, enum channel channel)
{
	switch (reason) {
	case REASON_HANDOFF:
		return channel == CHANNEL_CHAT ? "the visitor asks for a person" : "the writer asks for a person";
	case REASON_DOSSIER_STATUS: return "dossier status: the requester must be verified by a person";
	case REASON_UNREADABLE: return "the message could not be read";
	case REASON_UNAVAILABLE: return "an account action could not run: the directory did not answer";
	case REASON_NONE:
	case REASON_UNKNOWN:
		break;
	}
	return "no answer found with enough confidence";
}

const char *
route_notify_motive(enum escalation_reason reason, bool over_limit)
{
	if (over_limit)
		return "notify_reason_limit";
	switch (reason) {
	case REASON_HANDOFF: return "notify_reason_handoff";
	case REASON_DOSSIER_STATUS: return "notify_reason_dossier_status";
	case REASON_UNREADABLE: return "notify_reason_unreadable";
	case REASON_UNAVAILABLE: return "notify_reason_unavailable";
	case REASON_NONE:
	case REASON_UNKNOWN:
		break;
	}
	return "notify_reason_unknown";
}
