/* Tests of chat_identity: the extranet's signed identity tokens (HS256 JWTs), built here
 * as an extranet would; every way to get one wrong is refused, and only HS256 passes. */
#include "autoconf.h"
#include "chat/chat_identity.h"
#include "core/util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#define NOW 1800000000
#define TTL 900
static const char secret[] = "0123456789abcdef0123456789abcdef-extranet";

static char *
b64url(const void *data, size_t len)
{
	size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *out = xmalloc(cap);
	sodium_bin2base64(out, cap, data, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return out;
}

/* header.claims.signature, signed with key (the extranet's side). */
static char *
token(const char *header, const char *claims, const char *key)
{
	char *h = b64url(header, strlen(header)), *c = b64url(claims, strlen(claims));
	char *signed_part = xasprintf("%s.%s", h, c);
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, strlen(key));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)signed_part, strlen(signed_part));
	crypto_auth_hmacsha256_final(&st, mac);
	char *sig = b64url(mac, sizeof(mac));
	char *out = xasprintf("%s.%s", signed_part, sig);
	free(h);
	free(c);
	free(signed_part);
	free(sig);
	return out;
}

static enum chat_identity_verdict
verify(const char *text, struct chat_identity *id)
{
	return chat_identity_verify((const unsigned char *)secret, strlen(secret), text, NOW, TTL, id);
}

static const char hs256[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

static void
test_a_good_token(void **state)
{
	(void)state;
	char *claims = xasprintf("{\"sub\":\"JMOREAU01\",\"exp\":%d,\"jti\":\"a1b2c3\",\"iat\":%d}", NOW + 300, NOW);
	char *t = token(hs256, claims, secret);
	struct chat_identity id;
	assert_int_equal(verify(t, &id), CHAT_IDENTITY_OK);
	assert_string_equal(id.subject, "JMOREAU01");
	assert_string_equal(id.token_id, "a1b2c3");
	assert_int_equal(id.expires, NOW + 300);
	chat_identity_clear(&id);
	free(t);
	free(claims);
}

static void
test_time_limits(void **state)
{
	(void)state;
	const struct { int exp; enum chat_identity_verdict v; } cases[] = {
		{ NOW, CHAT_IDENTITY_EXPIRED }, { NOW - 1, CHAT_IDENTITY_EXPIRED },
		{ NOW + TTL, CHAT_IDENTITY_OK }, { NOW + TTL + 1, CHAT_IDENTITY_TOO_LONG },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *claims = xasprintf("{\"sub\":\"A\",\"exp\":%d,\"jti\":\"j\"}", cases[i].exp);
		char *t = token(hs256, claims, secret);
		struct chat_identity id;
		assert_int_equal(verify(t, &id), cases[i].v);
		if (cases[i].v != CHAT_IDENTITY_OK)
			assert_null(id.subject);
		chat_identity_clear(&id);
		free(t);
		free(claims);
	}
}

/* Another secret, a changed claim, a header asking for no signature or another
 * algorithm: refused before the claims are believed. */
static void
test_forged_tokens(void **state)
{
	(void)state;
	char *claims = xasprintf("{\"sub\":\"JMOREAU01\",\"exp\":%d,\"jti\":\"x\"}", NOW + 60);
	struct chat_identity id;
	char *other = token(hs256, claims, "another secret of the same length, 32+ bytes");
	assert_int_equal(verify(other, &id), CHAT_IDENTITY_SIGNATURE);
	free(other);

	char *good = token(hs256, claims, secret);
	char *forged_claims = xasprintf("{\"sub\":\"ALEMAIRE\",\"exp\":%d,\"jti\":\"x\"}", NOW + 60);
	char *fc = b64url(forged_claims, strlen(forged_claims));
	char *dot1 = strchr(good, '.'), *dot2 = strrchr(good, '.');
	char *swapped = xasprintf("%.*s.%s%s", (int)(dot1 - good), good, fc, dot2);
	assert_int_equal(verify(swapped, &id), CHAT_IDENTITY_SIGNATURE);
	free(swapped);
	free(fc);
	free(forged_claims);
	/* One bit of the signature changed. */
	good[strlen(good) - 2] = good[strlen(good) - 2] == 'A' ? 'B' : 'A';
	assert_int_equal(verify(good, &id), CHAT_IDENTITY_SIGNATURE);
	free(good);

	const char *headers[] = { "{\"alg\":\"none\"}", "{\"alg\":\"HS512\"}", "{\"alg\":\"RS256\"}", "{\"typ\":\"JWT\"}",
				  "{\"alg\":\"hs256\"}", "{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", "[]", "not json" };
	for (size_t i = 0; i < sizeof(headers) / sizeof(*headers); i++) {
		char *t = token(headers[i], claims, secret);
		assert_int_equal(verify(t, &id), CHAT_IDENTITY_ALGORITHM);
		free(t);
	}
	/* "none" with an empty signature, as attackers send it. */
	char *h = b64url("{\"alg\":\"none\"}", 14), *c = b64url(claims, strlen(claims));
	char *unsigned_token = xasprintf("%s.%s.", h, c);
	assert_int_equal(verify(unsigned_token, &id), CHAT_IDENTITY_ALGORITHM);
	free(unsigned_token);
	free(h);
	free(c);
	free(claims);
}

/* Well signed but not what the protocol needs, and not a JWT at all. */
static void
test_malformed_tokens(void **state)
{
	(void)state;
	const char *claims[] = {
		"{\"exp\":1800000060,\"jti\":\"x\"}", "{\"sub\":\"A\",\"jti\":\"x\"}", "{\"sub\":\"A\",\"exp\":1800000060}",
		"{\"sub\":\"\",\"exp\":1800000060,\"jti\":\"x\"}", "{\"sub\":\"A\",\"exp\":\"1800000060\",\"jti\":\"x\"}",
		"{\"sub\":\"A\\u0000B\",\"exp\":1800000060,\"jti\":\"x\"}", "{\"sub\":\"A\\nB\",\"exp\":1800000060,\"jti\":\"x\"}",
		"{\"sub\":12,\"exp\":1800000060,\"jti\":\"x\"}", "[1,2]", "{\"sub\":\"A\",\"exp\":1800000060.5,\"jti\":\"x\"}",
		"\xff\xfe", "",
	};
	struct chat_identity id;
	for (size_t i = 0; i < sizeof(claims) / sizeof(*claims); i++) {
		char *t = token(hs256, claims[i], secret);
		assert_int_equal(verify(t, &id), CHAT_IDENTITY_MALFORMED);
		assert_null(id.subject);
		free(t);
	}
	const char *junk[] = { "", ".", "..", "a.b", "a.b.c.d", "eyJ.eyJ.@@@", "abc" };
	for (size_t i = 0; i < sizeof(junk) / sizeof(*junk); i++)
		assert_int_not_equal(verify(junk[i], &id), CHAT_IDENTITY_OK);
	char *huge = xmalloc(CHAT_IDENTITY_MAX + 10);
	memset(huge, 'a', CHAT_IDENTITY_MAX + 9);
	huge[CHAT_IDENTITY_MAX + 9] = '\0';
	huge[10] = huge[20] = '.';
	assert_int_equal(verify(huge, &id), CHAT_IDENTITY_MALFORMED);
	free(huge);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_good_token),
		cmocka_unit_test(test_time_limits),
		cmocka_unit_test(test_forged_tokens),
		cmocka_unit_test(test_malformed_tokens),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
