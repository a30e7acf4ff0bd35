/* audit — the outcomes an audit row records, as codes. The store keeps the code; what
 * dialogctl audit shows is its sentence. The hourly limits count rows by code, so a
 * sentence can be reworded without turning a limit off (they once counted sentences).
 * Pure data: no I/O.
 * Threads: any. */
#ifndef DIALOGD_AUDIT_H
#define DIALOGD_AUDIT_H

enum audit_outcome {
	/* Account actions. */
	AUDIT_IDENTIFIERS_SENT,         /* counted: reminders per account */
	AUDIT_RESET_SENT,               /* counted: resets per account */
	AUDIT_RESET_REQUESTED,          /* counted: resets per account (remote directory) */
	AUDIT_CODE_SENT,                /* counted: codes per address and per dossier */
	AUDIT_ADDRESS_UNUSABLE,
	AUDIT_DIRECTORY_UNAVAILABLE,
	AUDIT_REQUESTER_LIMIT,
	AUDIT_ACCOUNT_LIMIT,
	AUDIT_NO_ACCOUNT,
	AUDIT_EXTRANET_NO_ACCOUNT,
	AUDIT_CODE_NOT_SENT,
	AUDIT_CODE_CAP,                 /* the global cap of wrong codes tripped (subject: the count) */
	AUDIT_CODE_WRONG,
	AUDIT_CODE_UNCHECKED_GLOBAL,
	AUDIT_CODE_UNCHECKED_VISITOR,
	AUDIT_CODE_REFUSED_ADDRESS,
	AUDIT_CODE_ACCEPTED,
	AUDIT_CODE_ACCEPTED_UNAVAILABLE,
	/* Dossier status. */
	AUDIT_STATUS_LIMIT,
	AUDIT_STATUS_NOT_ON_FILE,
	AUDIT_NO_DOSSIER,
	AUDIT_NO_SENDER,
	AUDIT_NUMBER_ASKED,
	AUDIT_STATUS_GIVEN,             /* counted: statuses per dossier */
	AUDIT_STATUS_SENT_ON_FILE,      /* counted: status mails per dossier */
	AUDIT_STATUS_SENT_RECENTLY,
	AUDIT_STATUS_NO_ACTIVE_ACCOUNT,
	/* The reset page. */
	AUDIT_PASSWORD_CHANGED,
	AUDIT_LINK_INVALID,
	AUDIT_ACCOUNT_GONE,
	/* The console's operations on threads. */
	AUDIT_DONE,
	AUDIT_REFUSED,
	/* The console's sign-in, refused unread after too many failures. */
	AUDIT_THROTTLED,
	AUDIT_OUTCOME_COUNT
};

/* The code stored ("code_sent"). */
const char *audit_code(enum audit_outcome outcome);
/* The sentence of a stored code, for people ("one-time code sent to the address on
 * file"); a value that is no code (a row written before codes, or by a newer dialogd)
 * is shown as it is. */
const char *audit_text(const char *code);

#endif
