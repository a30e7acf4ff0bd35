/* console_session — see console_session.h. The tokens have full entropy: a fast hash
 * (BLAKE2b) is what keeps a copy of the store from being a key, and a slow one would add
 * nothing. */
#include "autoconf.h"
#include "accounts/console_session.h"
#include "core/util.h"

#include <ctype.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_BYTES 32
#define HASH_HEX (2 * crypto_generichash_BYTES + 1)

static void
digest(const char *token, char hex[HASH_HEX])
{
	unsigned char d[crypto_generichash_BYTES];
	crypto_generichash(d, sizeof(d), (const unsigned char *)token, strlen(token), NULL, 0);
	sodium_bin2hex(hex, HASH_HEX, d, sizeof(d));
}

static void
fresh_token(char out[CONSOLE_TOKEN_SIZE])
{
	unsigned char raw[TOKEN_BYTES];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(out, CONSOLE_TOKEN_SIZE, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

static bool
token_shape_ok(const char *token)
{
	if (token == NULL || strlen(token) != CONSOLE_TOKEN_SIZE - 1)
		return false;
	for (const char *p = token; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return false;
	return true;
}

int
console_session_open(struct store *st, int64_t id, const char *address, int64_t now, char token_out[CONSOLE_TOKEN_SIZE],
		     char csrf_out[CONSOLE_TOKEN_SIZE])
{
	if (sodium_init() < 0)
		return -1;
	fresh_token(token_out);
	fresh_token(csrf_out);
	char token_hash[HASH_HEX], csrf_hash[HASH_HEX];
	digest(token_out, token_hash);
	digest(csrf_out, csrf_hash);
	return store_console_session_add(st, token_hash, id, csrf_hash, address ? address : "?", now);
}

int
console_session_check(struct store *st, const char *token, const struct console_lifetimes *l, int64_t now,
		      struct console_session_row *row)
{
	memset(row, 0, sizeof(*row));
	if (!token_shape_ok(token))
		return 0;
	char hash[HASH_HEX];
	digest(token, hash);
	return store_console_session_use(st, hash, now - l->idle_ttl, now - l->absolute_ttl, now, row);
}

bool
console_session_csrf_ok(const struct console_session_row *row, const char *presented)
{
	if (row->csrf_hash == NULL || !token_shape_ok(presented))
		return false;
	char hash[HASH_HEX];
	digest(presented, hash);
	return strlen(row->csrf_hash) == HASH_HEX - 1 && sodium_memcmp(hash, row->csrf_hash, HASH_HEX - 1) == 0;
}

int
console_session_close(struct store *st, const char *token)
{
	if (!token_shape_ok(token))
		return 0;
	char hash[HASH_HEX];
	digest(token, hash);
	return store_console_session_delete(st, hash);
}

int
console_session_close_all(struct store *st, int64_t id)
{
	return store_console_sessions_delete_all(st, id);
}
