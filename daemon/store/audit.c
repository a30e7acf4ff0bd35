/* audit — see audit.h. */
#include "autoconf.h"
#include "store/audit.h"

#include <stddef.h>
#include <string.h>

static const struct {
	const char *code, *text;
} outcomes[AUDIT_OUTCOME_COUNT] = {
	[AUDIT_IDENTIFIERS_SENT] = { "identifiers_sent", "identifiers sent to the address on file" },
	[AUDIT_RESET_SENT] = { "reset_sent", "reset link sent to the address on file" },
	[AUDIT_RESET_REQUESTED] = { "reset_requested", "reset requested from the extranet (it mails the address on file)" },
	[AUDIT_CODE_SENT] = { "code_sent", "one-time code sent to the address on file" },
	[AUDIT_ADDRESS_UNUSABLE] = { "address_unusable", "the address on file cannot be written to: nothing sent" },
	[AUDIT_DIRECTORY_UNAVAILABLE] = { "directory_unavailable", "directory unavailable: escalated to a person" },
	[AUDIT_REQUESTER_LIMIT] = { "requester_limit", "hourly limit reached for this requester: nothing sent" },
	[AUDIT_ACCOUNT_LIMIT] = { "account_limit", "hourly limit reached for this account: nothing sent" },
	[AUDIT_NO_ACCOUNT] = { "no_account", "no account matched: nothing sent" },
	[AUDIT_EXTRANET_NO_ACCOUNT] = { "extranet_no_account", "the extranet knows no such account: nothing sent" },
	[AUDIT_CODE_NOT_SENT] = { "code_not_sent", "address not on file for this request, or a limit: nothing sent" },
	[AUDIT_CODE_CAP] = { "code_cap", "too many wrong one-time codes in an hour from all visitors: no code is checked "
					"for an hour (a thread escalated to the correspondants)" },
	[AUDIT_CODE_WRONG] = { "code_wrong", "wrong one-time code" },
	[AUDIT_CODE_UNCHECKED_GLOBAL] = { "code_unchecked_global",
					  "code not checked: too many wrong codes from all visitors this hour" },
	[AUDIT_CODE_UNCHECKED_VISITOR] = { "code_unchecked_visitor",
					   "code not checked: hourly limit of wrong codes reached for this visitor" },
	[AUDIT_CODE_REFUSED_ADDRESS] = { "code_refused_address",
					 "right code not accepted: hourly limit of wrong codes reached for this address" },
	[AUDIT_CODE_ACCEPTED] = { "code_accepted", "code accepted: status given" },
	[AUDIT_CODE_ACCEPTED_UNAVAILABLE] = { "code_accepted_unavailable", "code accepted: directory unavailable" },
	[AUDIT_STATUS_LIMIT] = { "status_limit", "hourly limit reached: nothing sent" },
	[AUDIT_STATUS_NOT_ON_FILE] = { "status_not_on_file", "address not on file for this dossier: nothing sent" },
	[AUDIT_NO_DOSSIER] = { "no_dossier", "no such dossier: nothing sent" },
	[AUDIT_NO_SENDER] = { "no_sender", "no sender address: nothing sent" },
	[AUDIT_NUMBER_ASKED] = { "number_asked", "number asked for" },
	[AUDIT_STATUS_GIVEN] = { "status_given", "status given to a verified requester" },
	[AUDIT_STATUS_SENT_ON_FILE] = { "status_sent_on_file",
					"requester not verified: status sent to the addresses on file" },
	[AUDIT_STATUS_SENT_RECENTLY] = { "status_sent_recently",
					 "status mailed to the addresses on file recently: nothing sent" },
	[AUDIT_STATUS_NO_ACTIVE_ACCOUNT] = { "status_no_active_account",
					     "requester not verified, no active account on file: nothing sent" },
	[AUDIT_PASSWORD_CHANGED] = { "password_changed", "password changed" },
	[AUDIT_LINK_INVALID] = { "link_invalid", "invalid or expired link" },
	[AUDIT_ACCOUNT_GONE] = { "account_gone", "account no longer in the directory" },
	[AUDIT_DONE] = { "done", "done" },
	[AUDIT_REFUSED] = { "refused", "refused" },
	[AUDIT_THROTTLED] = { "throttled", "refused unread: too many failures lately" },
};

const char *
audit_code(enum audit_outcome outcome)
{
	return (size_t)outcome < AUDIT_OUTCOME_COUNT ? outcomes[outcome].code : "unknown";
}

const char *
audit_text(const char *code)
{
	for (size_t i = 0; code != NULL && i < AUDIT_OUTCOME_COUNT; i++)
		if (strcmp(outcomes[i].code, code) == 0)
			return outcomes[i].text;
	return code != NULL ? code : "";
}
