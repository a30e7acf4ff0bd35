/* mail_authres — what our receiving MTA's Authentication-Results header (RFC 8601) says
 * about a mail's sender. Pure: no I/O, no allocation kept. Used by mail_channel to decide
 * whether a writer is who their From says (quotes in replies, dossier status by mail).
 * Threads: any. */
#ifndef DIALOGD_MAIL_AUTHRES_H
#define DIALOGD_MAIL_AUTHRES_H

#include <stdbool.h>

/* Whether header_value, the topmost Authentication-Results header of a mail, was written
 * by our MTA (its authserv-id, case-insensitive, a version number after it allowed) and
 * says dkim=pass for exactly the domain of from_address (header.d) or spf=pass for it
 * (smtp.mailfrom's domain). Comments are ignored and quoted strings are taken whole, so
 * neither can smuggle a result in. The topmost header is the one the MTA added last: a
 * header the sender wrote is below it, and when ours is missing the topmost is theirs,
 * whose authserv-id does not match. false when any argument is NULL. */
bool mail_authres_sender_passes(const char *header_value, const char *authserv_id, const char *from_address);

#endif
