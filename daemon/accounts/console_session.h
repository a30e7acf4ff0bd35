/* console_session — a correspondant signed in to the console: a session kept in the
 * store, known to the browser by a random token (its HttpOnly, SameSite=Strict cookie)
 * and carrying a CSRF token the console's pages put in every state-changing request.
 * Both are 256 bits from libsodium's CSPRNG, given out once and stored only as BLAKE2b
 * hashes. A session ends after idle_ttl seconds without use or absolute_ttl after it
 * began, when its account is disabled, at sign-out, or at "sign out everywhere".
 * Never logs. Threads: any thread, on its own store connection. */
#ifndef DIALOGD_CONSOLE_SESSION_H
#define DIALOGD_CONSOLE_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/* Characters of a token (cookie or CSRF), with its NUL: URL-safe base64 of 32 bytes. */
#define CONSOLE_TOKEN_SIZE 44

/* A new session for account id from address at now: its cookie token and its CSRF token
 * written to the buffers. Returns 0 or -1. */
int console_session_open(struct store *store, int64_t correspondant_id, const char *address, int64_t now,
			 char token_out[CONSOLE_TOKEN_SIZE], char csrf_out[CONSOLE_TOKEN_SIZE]);

struct console_lifetimes {
	int64_t idle_ttl;       /* seconds without use */
	int64_t absolute_ttl;   /* seconds since the sign-in */
};
/* The session of a cookie token presented at now: 1 with *row (clear it; its last use is
 * now), 0 when there is none or it ended (then removed), -1. A token of the wrong shape
 * is refused before the store is asked. */
int console_session_check(struct store *store, const char *token, const struct console_lifetimes *lifetimes,
			  int64_t now, struct console_session_row *row);
/* Whether presented is the session's CSRF token (constant time; false for NULL). */
bool console_session_csrf_ok(const struct console_session_row *row, const char *presented);
/* Sign-out: the session of token ends. Sign-out everywhere: every session of the account.
 * Return how many sessions ended, or -1. */
int console_session_close(struct store *store, const char *token);
int console_session_close_all(struct store *store, int64_t correspondant_id);

#endif
