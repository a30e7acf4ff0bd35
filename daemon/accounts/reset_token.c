/* reset_token — see reset_token.h. */
#include "autoconf.h"
#include "accounts/reset_token.h"
#include "store/store.h"
#include "core/text.h"
#include "core/util.h"

#include <ctype.h>
#include <sodium.h>
#include <string.h>

#define TOKEN_BYTES 32

/* The stored form: hex BLAKE2b-256 of the token text. */
static void
token_digest(const char *token, char hex[2 * crypto_generichash_BYTES + 1])
{
	unsigned char digest[crypto_generichash_BYTES];
	crypto_generichash(digest, sizeof(digest), (const unsigned char *)token, strlen(token), NULL, 0);
	sodium_bin2hex(hex, 2 * crypto_generichash_BYTES + 1, digest, sizeof(digest));
}

int
reset_token_issue_for(struct store *st, const char *purpose, const char *identifier, int64_t now, int64_t ttl,
		      char token_out[RESET_TOKEN_SIZE])
{
	if (sodium_init() < 0)
		return -1;
	unsigned char raw[TOKEN_BYTES];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(token_out, RESET_TOKEN_SIZE, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	char hex[2 * crypto_generichash_BYTES + 1];
	token_digest(token_out, hex);
	return store_reset_token_put(st, purpose, identifier, hex, now, now + ttl);
}

int
reset_token_issue(struct store *st, const char *identifier, int64_t now, int64_t ttl, char token_out[RESET_TOKEN_SIZE])
{
	return reset_token_issue_for(st, RESET_PURPOSE_PASSWORD, identifier, now, ttl, token_out);
}

/* Anything but a token's shape is refused before touching the store. */
static bool
token_shape_ok(const char *token)
{
	if (token == NULL || strlen(token) != RESET_TOKEN_SIZE - 1)
		return false;
	for (const char *p = token; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return false;
	return true;
}

enum reset_check
reset_token_redeem_for(struct store *st, const char *purpose, const char *token, int64_t now, char **identifier_r)
{
	*identifier_r = NULL;
	if (!token_shape_ok(token))
		return RESET_INVALID;
	char hex[2 * crypto_generichash_BYTES + 1];
	token_digest(token, hex);
	int rc = store_reset_token_burn(st, purpose, hex, now, identifier_r);
	return rc < 0 ? RESET_STORE_ERROR : rc == 1 ? RESET_VALID : RESET_INVALID;
}

enum reset_check
reset_token_redeem(struct store *st, const char *token, int64_t now, char **identifier_r)
{
	return reset_token_redeem_for(st, RESET_PURPOSE_PASSWORD, token, now, identifier_r);
}

enum reset_check
reset_token_check_for(struct store *st, const char *purpose, const char *token, int64_t now, char **identifier_r)
{
	*identifier_r = NULL;
	if (!token_shape_ok(token))
		return RESET_INVALID;
	char hex[2 * crypto_generichash_BYTES + 1];
	token_digest(token, hex);
	int rc = store_reset_token_find(st, purpose, hex, now, identifier_r);
	return rc < 0 ? RESET_STORE_ERROR : rc == 1 ? RESET_VALID : RESET_INVALID;
}

enum reset_check
reset_token_check(struct store *st, const char *token, int64_t now, char **identifier_r)
{
	return reset_token_check_for(st, RESET_PURPOSE_PASSWORD, token, now, identifier_r);
}

const char *
reset_password_weakness(const char *password)
{
	char *err = NULL;
	size_t len = strlen(password);
	if (text_validate(password, len, &err) < 0) {
		free(err);
		return "web_password_unreadable";
	}
	size_t chars = 0;
	bool letter = false, other = false;
	for (const unsigned char *p = (const unsigned char *)password; *p; p++) {
		if ((*p & 0xC0) != 0x80)
			chars++;
		if (*p >= 0x80 || isalpha(*p))
			letter = true;
		else if (!isspace(*p))
			other = true;
	}
	if (chars < 12)
		return "web_password_short";
	if (len > 256)
		return "web_password_long";
	if (!letter || !other)
		return "web_password_mix";
	return NULL;
}

char *
reset_password_hash(const char *password)
{
	if (sodium_init() < 0)
		return NULL;
	char *out = xmalloc(crypto_pwhash_STRBYTES);
	if (crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
		free(out);
		return NULL;
	}
	return out;
}
