/* chat_identity — the extranet's word that a chat visitor is one of its logged-in users:
 * a JSON Web Token (RFC 7519) signed with HMAC-SHA256 ("HS256", RFC 7518 §3.2) under a
 * secret dialogd shares with the extranet ([chat] identity_secret_file). The extranet
 * puts it in the widget's script tag (data-identity); the widget sends it in its hello.
 * Claims: "sub" the account identifier, "exp" when it expires (seconds since the epoch,
 * at most [chat] identity_max_ttl ahead), "jti" a value never used twice (the caller
 * keeps the tokens it accepted until they expire, so that one is never accepted for a
 * second conversation). Only "HS256" is accepted: no "none", no other algorithm, no key
 * named by the token. Pure (libsodium, json-c; no I/O, no state): any thread. */
#ifndef DIALOGD_CHAT_IDENTITY_H
#define DIALOGD_CHAT_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

/* A token's longest text: a JWT this size is junk. */
#define CHAT_IDENTITY_MAX 2048
/* The shortest secret accepted: HS256 needs a key as long as its hash (RFC 7518 §3.2). */
#define CHAT_IDENTITY_SECRET_MIN 32

enum chat_identity_verdict {
	CHAT_IDENTITY_OK,
	CHAT_IDENTITY_MALFORMED,        /* not three base64url parts of JSON with the claims */
	CHAT_IDENTITY_ALGORITHM,        /* a header naming anything but HS256 */
	CHAT_IDENTITY_SIGNATURE,        /* signed with another secret, or changed since */
	CHAT_IDENTITY_EXPIRED,          /* exp passed */
	CHAT_IDENTITY_TOO_LONG,         /* exp further ahead than the maximum lifetime */
};
/* What the verdict means, for the operator's log (English). */
const char *chat_identity_verdict_text(enum chat_identity_verdict verdict);

struct chat_identity {
	char *subject;          /* the account identifier */
	char *token_id;         /* jti */
	int64_t expires;        /* exp */
};
void chat_identity_clear(struct chat_identity *identity);

/* Checks token (NUL-terminated) against secret at now. CHAT_IDENTITY_OK fills
 * *identity_r (clear it); any other verdict leaves it empty. */
enum chat_identity_verdict chat_identity_verify(const unsigned char *secret, size_t secret_len, const char *token,
						int64_t now, int64_t max_ttl, struct chat_identity *identity_r);

#endif
