/* reset_token — password reset tokens (issue 4): 256 bits from libsodium's CSPRNG, given
 * out once as URL-safe base64 and stored only as a BLAKE2b hash (a token has full
 * entropy: a slow hash adds nothing); valid for a configurable time, single use, and
 * issuing one revokes the account's earlier tokens. Also the new password's strength
 * rule and its argon2id hash. Never logs; tokens and passwords never leave this module
 * except to the caller who asked.
 * Threads: any thread, on its own store connection; nothing shared. */
#ifndef DIALOGD_RESET_TOKEN_H
#define DIALOGD_RESET_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

/* Characters of a token, with its NUL. */
#define RESET_TOKEN_SIZE 44

/* What a token opens (the store keeps the name): the functions below are the password
 * reset's; the _for ones take the purpose. */
#define RESET_PURPOSE_PASSWORD "password_reset"
#define RESET_PURPOSE_CONSOLE_INVITATION "console_invitation"

/* Issues a token for the account (revoking its earlier ones) valid ttl seconds from
 * now, atomically (a savepoint: inside the caller's transaction when there is one).
 * Writes it to token_out. Returns 0, or -1 (store error). */
int reset_token_issue(struct store *store, const char *identifier, int64_t now, int64_t ttl,
		      char token_out[RESET_TOKEN_SIZE]);

/* What a presented token is. Compare with the names, never by truth value: only
 * RESET_VALID lets anything happen, and a store error is neither valid nor invalid (the
 * page then says the service is unavailable, not that the link is wrong). */
enum reset_check {
	RESET_STORE_ERROR = -1,
	RESET_INVALID = 0,      /* unknown, used, expired or revoked: the page says the same for each */
	RESET_VALID = 1,
};

/* Checks a token presented at now and, when valid, burns it (single use) and sets
 * *identifier_r (caller frees). */
enum reset_check reset_token_redeem(struct store *store, const char *token, int64_t now, char **identifier_r);
/* The same test without burning the token: for the page that shows the form (a GET,
 * which mail scanners fetch before the user clicks). RESET_VALID sets *identifier_r
 * (caller frees). */
enum reset_check reset_token_check(struct store *store, const char *token, int64_t now, char **identifier_r);

/* The same for the tokens of purpose (one RESET_PURPOSE_* name). */
int reset_token_issue_for(struct store *store, const char *purpose, const char *identifier, int64_t now, int64_t ttl,
			  char token_out[RESET_TOKEN_SIZE]);
enum reset_check reset_token_redeem_for(struct store *store, const char *purpose, const char *token, int64_t now,
					char **identifier_r);
enum reset_check reset_token_check_for(struct store *store, const char *purpose, const char *token, int64_t now,
				       char **identifier_r);

/* NULL when password is acceptable, else the name of the template saying why (static,
 * web_password_*). At least 12 characters, with letters and at least a digit or another
 * sign, valid UTF-8. */
const char *reset_password_weakness(const char *password);

/* The argon2id hash (libsodium's string form, caller frees) of password, or NULL when
 * memory is short. */
char *reset_password_hash(const char *password);

#endif
