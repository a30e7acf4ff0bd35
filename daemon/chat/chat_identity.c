/* chat_identity — see chat_identity.h. The signature is checked (in constant time)
 * before any JSON is read: an unsigned token costs a hash and nothing else. */
#include "autoconf.h"
#include "chat/chat_identity.h"
#include "core/text.h"
#include "core/util.h"

#include <json-c/json.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The longest claim value kept (an identifier, a jti). */
#define CLAIM_MAX 256

const char *
chat_identity_verdict_text(enum chat_identity_verdict v)
{
	switch (v) {
	case CHAT_IDENTITY_OK: return "valid";
	case CHAT_IDENTITY_MALFORMED: return "not a JWT with sub, exp and jti";
	case CHAT_IDENTITY_ALGORITHM: return "not signed HS256";
	case CHAT_IDENTITY_SIGNATURE: return "bad signature";
	case CHAT_IDENTITY_EXPIRED: return "expired";
	case CHAT_IDENTITY_TOO_LONG: return "expires further ahead than [chat] identity_max_ttl";
	}
	return "?";
}

void
chat_identity_clear(struct chat_identity *id)
{
	free(id->subject);
	free(id->token_id);
	memset(id, 0, sizeof(*id));
}

/* One base64url part (no padding) decoded into a new NUL-terminated buffer; NULL when
 * it is not base64url. */
static unsigned char *
part_decode(const char *part, size_t len, size_t *out_len)
{
	size_t cap = len * 3 / 4 + 1;
	unsigned char *out = xmalloc(cap + 1);
	const char *end = NULL;
	if (sodium_base642bin(out, cap, part, len, NULL, out_len, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    end != part + len) {
		free(out);
		return NULL;
	}
	out[*out_len] = '\0';
	return out;
}

/* The JSON object of a decoded part, NULL when it is not one. */
static json_object *
part_json(const char *part, size_t len)
{
	size_t n = 0;
	unsigned char *text = part_decode(part, len, &n);
	if (text == NULL)
		return NULL;
	json_object *obj = NULL;
	char *invalid = NULL;
	if (text_validate((char *)text, n, &invalid) == 0)
		obj = json_tokener_parse((char *)text);
	free(invalid);
	free(text);
	if (obj != NULL && !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		obj = NULL;
	}
	return obj;
}

/* A claim that is a non-empty string of printable characters, at most CLAIM_MAX bytes. */
static char *
claim_string(json_object *claims, const char *name)
{
	json_object *v;
	if (!json_object_object_get_ex(claims, name, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	const char *s = json_object_get_string(v);
	size_t n = strlen(s);
	if (n == 0 || n > CLAIM_MAX || (size_t)json_object_get_string_len(v) != n)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return NULL;
	return xstrdup(s);
}

static bool
header_is_hs256(const char *part, size_t len)
{
	json_object *header = part_json(part, len), *alg;
	bool ok = header != NULL && json_object_object_get_ex(header, "alg", &alg) &&
		  json_object_is_type(alg, json_type_string) && strcmp(json_object_get_string(alg), "HS256") == 0 &&
		  !json_object_object_get_ex(header, "crit", NULL);
	json_object_put(header);
	return ok;
}

static bool
signature_valid(const unsigned char *secret, size_t secret_len, const char *token, size_t signed_len,
		const char *sig, size_t sig_len)
{
	size_t n = 0;
	unsigned char *mac = part_decode(sig, sig_len, &n);
	bool ok = false;
	if (mac != NULL && n == crypto_auth_hmacsha256_BYTES) {
		crypto_auth_hmacsha256_state st;
		unsigned char expected[crypto_auth_hmacsha256_BYTES];
		crypto_auth_hmacsha256_init(&st, secret, secret_len);
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)token, signed_len);
		crypto_auth_hmacsha256_final(&st, expected);
		ok = sodium_memcmp(mac, expected, sizeof(expected)) == 0;
		sodium_memzero(&st, sizeof(st));
	}
	free(mac);
	return ok;
}

enum chat_identity_verdict
chat_identity_verify(const unsigned char *secret, size_t secret_len, const char *token, int64_t now, int64_t max_ttl,
		     struct chat_identity *out)
{
	memset(out, 0, sizeof(*out));
	size_t len = strnlen(token, CHAT_IDENTITY_MAX + 1);
	const char *dot1 = memchr(token, '.', len);
	const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
	if (len > CHAT_IDENTITY_MAX || dot2 == NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL)
		return CHAT_IDENTITY_MALFORMED;
	if (!header_is_hs256(token, (size_t)(dot1 - token)))
		return CHAT_IDENTITY_ALGORITHM;
	if (!signature_valid(secret, secret_len, token, (size_t)(dot2 - token), dot2 + 1, len - (size_t)(dot2 + 1 - token)))
		return CHAT_IDENTITY_SIGNATURE;
	json_object *claims = part_json(dot1 + 1, (size_t)(dot2 - dot1 - 1)), *exp;
	enum chat_identity_verdict v = CHAT_IDENTITY_MALFORMED;
	if (claims != NULL && json_object_object_get_ex(claims, "exp", &exp) && json_object_is_type(exp, json_type_int)) {
		out->expires = json_object_get_int64(exp);
		out->subject = claim_string(claims, "sub");
		out->token_id = claim_string(claims, "jti");
		if (out->subject != NULL && out->token_id != NULL)
			v = out->expires <= now ? CHAT_IDENTITY_EXPIRED :
			    out->expires - now > max_ttl ? CHAT_IDENTITY_TOO_LONG : CHAT_IDENTITY_OK;
	}
	json_object_put(claims);
	if (v != CHAT_IDENTITY_OK)
		chat_identity_clear(out);
	return v;
}
