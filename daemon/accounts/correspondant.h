/* correspondant — the accounts of the correspondants' console (issue 11): who may sign
 * in, with what. An account is created for an address (role correspondant or admin) and
 * gets a password either from a single-use invitation link mailed to it (the token
 * machinery of the password reset, its own purpose) or directly (dialogctl's
 * --password-stdin, for scripts and tests). Passwords are kept as argon2id hashes only
 * and follow the reset page's rule; a second factor is TOTP (RFC 6238, liboath from
 * oath-toolkit: 6 digits, 30 s steps, one step of drift either way). A sign-in answers
 * the same for an unknown address, a wrong password, a disabled account or a missing
 * second factor (one hash verified in every case), and is refused while the address or
 * the account has had too many failures in the window. Never logs; passwords and
 * secrets leave this module only to the caller who asked.
 * Threads: any thread, on its own store connection. */
#ifndef DIALOGD_CORRESPONDANT_H
#define DIALOGD_CORRESPONDANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct engine;
struct sender_identity;
struct store;

/* Failed sign-ins in LOGIN_WINDOW seconds after which further ones are refused unread:
 * from one address, and for one account (whatever the address). */
#define LOGIN_WINDOW 900
#define LOGIN_FAILURES_PER_ADDRESS 20
#define LOGIN_FAILURES_PER_ACCOUNT 5
/* Seconds an invitation link stays valid. */
#define INVITATION_TTL (3 * 86400)

enum correspondant_role { ROLE_CORRESPONDANT, ROLE_ADMIN };
const char *correspondant_role_name(enum correspondant_role role);

/* A new account. Returns its id, 0 when the address has one already, -1 with *error_r
 * (caller frees: an address or a name that cannot be one, or the store). */
int64_t correspondant_create(struct store *store, const char *email, const char *name, enum correspondant_role role,
			     int64_t now, char **error_r);

/* What an invitation needs: where the link points and who the mail is from. */
struct invitation_settings {
	const char *public_url;                 /* [web] public_url */
	const struct sender_identity *sender;
	const struct engine *engine;            /* its templates */
};
/* Mails email (an account) a single-use link to choose a password
 * (public_url/console/invitation?jeton=…, INVITATION_TTL), revoking earlier ones; queued
 * in the outbox for dialogd to send. Returns 1 queued, 0 no such account, -1. */
int correspondant_invite(const struct invitation_settings *settings, struct store *store, const char *email, int64_t now);

/* The account's password (NULL when set, else the template saying why not, as
 * reset_password_weakness). Returns 1 set, 0 no such account or a weak password (see
 * *weakness_r), -1. */
int correspondant_set_password(struct store *store, const char *email, const char *password, int64_t now,
			       const char **weakness_r);

/* A sign-in. */
enum login_verdict {
	LOGIN_STORE_ERROR = -1,
	LOGIN_ACCEPTED = 0,
	LOGIN_REFUSED,          /* whatever was wrong: one answer for all */
	LOGIN_THROTTLED,        /* too many failures: not even checked */
};
/* totp: the second factor's code (NULL or "" when none was typed); required when the
 * account has one, or when require_totp (then an account without one cannot sign in
 * until it enrols). address: the client's, for the limits. A refusal is counted. */
enum login_verdict correspondant_login(struct store *store, const char *email, const char *password, const char *totp,
				       bool require_totp, const char *address, int64_t now);

/* A new second factor for the account: its secret (base32, *secret_r, caller frees) and
 * the otpauth:// URI an authenticator app reads (*uri_r). Returns 1, 0 no such account, -1. */
int correspondant_totp_enrol(struct store *store, const char *email, int64_t now, char **secret_r, char **uri_r);
/* Whether code is the TOTP of secret (base32) at now, one step of drift either way. */
bool correspondant_totp_valid(const char *secret, const char *code, int64_t now);
/* Removes the account's second factor (a lost phone: `dialogctl correspondant reset-2fa`).
 * Returns 1, 0 no such account, -1. */
int correspondant_reset_totp(struct store *store, const char *email, int64_t now);
/* Disables (or enables again) the account: it cannot sign in. Returns 1, 0, -1. */
int correspondant_set_disabled(struct store *store, const char *email, bool disabled, int64_t now);

#endif
