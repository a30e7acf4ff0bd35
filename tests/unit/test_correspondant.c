/* Tests of correspondant: the console's accounts — created once per address, invited
 * with a single-use link of its own kind (a reset link does not open it, nor it the reset
 * page), passwords under the reset page's rule and kept as argon2id, sign-ins that answer
 * one way for every failure and stop being checked past the limits, and TOTP on the RFC
 * 6238 test vectors. */
#include "autoconf.h"
#include "testutil.h"
#include "teststore.h"
#include "accounts/correspondant.h"
#include "accounts/reset_token.h"
#include "engine/engine.h"
#include "outbox/outbound.h"
#include "store/store.h"

#include <liboath/oath.h>
#include <sodium.h>
#include <sqlite3.h>

#define NOW 1800000000
static const char strong[] = "une phrase de passe 42 !";

static int64_t
create(struct temp_store *f, const char *email, enum correspondant_role role)
{
	char *err = NULL;
	int64_t id = correspondant_create(f->store, email, "Claire Martin", role, NOW, &err);
	assert_null(err);
	return id;
}

static void
test_one_account_per_address(void **state)
{
	struct temp_store *f = *state;
	assert_true(create(f, "claire@ocapiat.test", ROLE_CORRESPONDANT) > 0);
	assert_int_equal(create(f, "CLAIRE@ocapiat.test", ROLE_ADMIN), 0);
	char *err = NULL;
	const char *bad_addresses[] = { "claire", "claire@", "a b@ocapiat.test", "" };
	for (size_t i = 0; i < sizeof(bad_addresses) / sizeof(*bad_addresses); i++) {
		assert_int_equal(correspondant_create(f->store, bad_addresses[i], "X", ROLE_CORRESPONDANT, NOW, &err), -1);
		assert_non_null(strstr(err, "is not an e-mail address"));
		free(err);
		err = NULL;
	}
	const char *bad_names[] = { "", "   ", "Claire\nBcc: x@y", "\xc3" };
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(*bad_names); i++) {
		assert_int_equal(correspondant_create(f->store, "x@ocapiat.test", bad_names[i], ROLE_CORRESPONDANT, NOW, &err),
				 -1);
		free(err);
		err = NULL;
	}
	struct correspondant_row row;
	assert_int_equal(store_correspondant_get(f->store, "Claire@OCAPIAT.test", &row), 1);
	assert_string_equal(row.role, "correspondant");
	assert_null(row.password_hash);
	correspondant_row_clear(&row);
}

static void
test_invitation_is_its_own_kind_of_link(void **state)
{
	struct temp_store *f = *state;
	char *err = NULL;
	struct engine *e = engine_load(source_data_dir(), &err);
	assert_non_null(e);
	struct sender_identity sender = { "Dialoguer avec OCAPIAT", "dialoguer@ocapiat.test", "ocapiat.test" };
	struct invitation_settings s = { .public_url = "https://assistance.ocapiat.test/", .sender = &sender, .engine = e };
	int64_t id = create(f, "claire@ocapiat.test", ROLE_CORRESPONDANT);
	assert_int_equal(correspondant_invite(&s, f->store, "nobody@ocapiat.test", NOW), 0);
	assert_int_equal(correspondant_invite(&s, f->store, "claire@ocapiat.test", NOW), 1);
	/* The mail holds the link; the outbox row is a secret one (emptied once sent). */
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	sqlite3_stmt *stmt = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT kind, recipient, raw FROM outbox", -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "secret");
	assert_string_equal((const char *)sqlite3_column_text(stmt, 1), "claire@ocapiat.test");
	/* The body as a reader sees it: quoted-printable's soft breaks and "=3D" undone. */
	struct strbuf body = {0};
	for (const char *p = (const char *)sqlite3_column_text(stmt, 2); *p; p++) {
		if (p[0] == '=' && p[1] == '\r' && p[2] == '\n')
			p += 2;
		else if (p[0] == '=' && p[1] == '3' && p[2] == 'D')
			strbuf_addc(&body, '='), p += 2;
		else
			strbuf_addc(&body, *p);
	}
	const char *at = strstr(body.data, "https://assistance.ocapiat.test/console/invitation?jeton=");
	assert_non_null(at);
	char token[RESET_TOKEN_SIZE];
	memcpy(token, at + strlen("https://assistance.ocapiat.test/console/invitation?jeton="), RESET_TOKEN_SIZE - 1);
	token[RESET_TOKEN_SIZE - 1] = '\0';
	strbuf_free(&body);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	/* Not a password reset link; an invitation for that account. */
	char *who = NULL;
	assert_int_equal(reset_token_check(f->store, token, NOW + 1, &who), RESET_INVALID);
	assert_int_equal(reset_token_check_for(f->store, RESET_PURPOSE_CONSOLE_INVITATION, token, NOW + 1, &who), RESET_VALID);
	char *expected = xasprintf("%lld", (long long)id);
	assert_string_equal(who, expected);
	free(who);
	free(expected);
	assert_int_equal(reset_token_check_for(f->store, RESET_PURPOSE_CONSOLE_INVITATION, token, NOW + INVITATION_TTL, &who),
			 RESET_INVALID);
	/* A reset link of an account is not an invitation either. */
	char reset[RESET_TOKEN_SIZE];
	assert_int_equal(reset_token_issue(f->store, "1", NOW, 1800, reset), 0);
	assert_int_equal(reset_token_check_for(f->store, RESET_PURPOSE_CONSOLE_INVITATION, reset, NOW + 1, &who),
			 RESET_INVALID);
	/* A second invitation revokes the first. */
	assert_int_equal(correspondant_invite(&s, f->store, "claire@ocapiat.test", NOW + 2), 1);
	assert_int_equal(reset_token_check_for(f->store, RESET_PURPOSE_CONSOLE_INVITATION, token, NOW + 3, &who), RESET_INVALID);
	engine_free(&e);
}

static void
test_sign_in(void **state)
{
	struct temp_store *f = *state;
	create(f, "claire@ocapiat.test", ROLE_CORRESPONDANT);
	create(f, "invited@ocapiat.test", ROLE_CORRESPONDANT);
	const char *weak = NULL;
	assert_int_equal(correspondant_set_password(f->store, "claire@ocapiat.test", "court1", NOW, &weak), 0);
	assert_string_equal(weak, "web_password_short");
	assert_int_equal(correspondant_set_password(f->store, "nobody@ocapiat.test", strong, NOW, &weak), 0);
	assert_null(weak);
	assert_int_equal(correspondant_set_password(f->store, "claire@ocapiat.test", strong, NOW, &weak), 1);
	struct correspondant_row row;
	assert_int_equal(store_correspondant_get(f->store, "claire@ocapiat.test", &row), 1);
	assert_true(strncmp(row.password_hash, "$argon2id$", 10) == 0);
	assert_null(strstr(row.password_hash, "phrase"));
	correspondant_row_clear(&row);

	assert_int_equal(correspondant_login(f->store, "Claire@ocapiat.test", strong, NULL, false, "192.0.2.1", NOW),
			 LOGIN_ACCEPTED);
	/* Every failure reads the same. */
	assert_int_equal(correspondant_login(f->store, "claire@ocapiat.test", "une autre phrase 42", NULL, false, "192.0.2.1", NOW),
			 LOGIN_REFUSED);
	assert_int_equal(correspondant_login(f->store, "nobody@ocapiat.test", strong, NULL, false, "192.0.2.1", NOW),
			 LOGIN_REFUSED);
	assert_int_equal(correspondant_login(f->store, "invited@ocapiat.test", "", NULL, false, "192.0.2.1", NOW),
			 LOGIN_REFUSED);
	/* [console] require_totp: an account without a second factor cannot sign in. */
	assert_int_equal(correspondant_login(f->store, "claire@ocapiat.test", strong, NULL, true, "192.0.2.1", NOW),
			 LOGIN_REFUSED);
	assert_int_equal(correspondant_set_disabled(f->store, "claire@ocapiat.test", true, NOW), 1);
	assert_int_equal(correspondant_login(f->store, "claire@ocapiat.test", strong, NULL, false, "192.0.2.1", NOW),
			 LOGIN_REFUSED);
	assert_int_equal(correspondant_set_disabled(f->store, "claire@ocapiat.test", false, NOW), 1);
	/* That is 3 failures for claire: the 4th and 5th are still checked, then nothing is,
	 * even the right password, from any address, until the window is over. */
	for (int i = 0; i < 2; i++)
		assert_int_equal(correspondant_login(f->store, "claire@ocapiat.test", "faux mot de passe 1", NULL, false,
						     "192.0.2.2", NOW), LOGIN_REFUSED);
	assert_int_equal(correspondant_login(f->store, "claire@ocapiat.test", strong, NULL, false, "192.0.2.3", NOW),
			 LOGIN_THROTTLED);
	assert_int_equal(correspondant_login(f->store, "claire@ocapiat.test", strong, NULL, false, "192.0.2.3",
					     NOW + LOGIN_WINDOW + 1), LOGIN_ACCEPTED);
	/* One address guessing many accounts is stopped too. */
	for (int i = 0; i < LOGIN_FAILURES_PER_ADDRESS; i++) {
		char *email = xasprintf("guess%d@ocapiat.test", i);
		assert_int_equal(correspondant_login(f->store, email, strong, NULL, false, "198.51.100.7", NOW), LOGIN_REFUSED);
		free(email);
	}
	assert_int_equal(correspondant_login(f->store, "invited@ocapiat.test", strong, NULL, false, "198.51.100.7", NOW),
			 LOGIN_THROTTLED);
	assert_int_equal(correspondant_login(f->store, "invited@ocapiat.test", strong, NULL, false, "192.0.2.9", NOW),
			 LOGIN_REFUSED);  /* checked: another address, an account under its limit */
}

/* RFC 6238 appendix B (SHA-1, the 20-byte ASCII secret), the last 6 of its 8 digits. */
static void
test_totp_vectors(void **state)
{
	(void)state;
	const char *secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";  /* base32 of "12345678901234567890" */
	assert_true(correspondant_totp_valid(secret, "287082", 59));
	assert_true(correspondant_totp_valid(secret, "081804", 1111111109));
	assert_true(correspondant_totp_valid(secret, "050471", 1111111111));
	assert_true(correspondant_totp_valid(secret, "005924", 1234567890));
	assert_true(correspondant_totp_valid(secret, "279037", 2000000000));
	assert_true(correspondant_totp_valid(secret, "287082", 59 + 30));   /* one step of drift */
	assert_false(correspondant_totp_valid(secret, "287082", 59 + 90));
	assert_false(correspondant_totp_valid(secret, "287083", 59));
	assert_false(correspondant_totp_valid(secret, "28708", 59));
	assert_false(correspondant_totp_valid(secret, "2870822", 59));
	assert_false(correspondant_totp_valid(secret, "28708a", 59));
	assert_false(correspondant_totp_valid(secret, NULL, 59));
	assert_false(correspondant_totp_valid("not base32!", "287082", 59));
}

static void
test_second_factor(void **state)
{
	struct temp_store *f = *state;
	create(f, "claire@ocapiat.test", ROLE_CORRESPONDANT);
	const char *weak = NULL;
	assert_int_equal(correspondant_set_password(f->store, "claire@ocapiat.test", strong, NOW, &weak), 1);
	char *secret = NULL, *uri = NULL;
	assert_int_equal(correspondant_totp_enrol(f->store, "claire@ocapiat.test", NOW, &secret, &uri), 1);
	assert_non_null(strstr(uri, secret));
	assert_true(strncmp(uri, "otpauth://totp/", 15) == 0);
	char *raw = NULL;
	size_t raw_len = 0;
	assert_int_equal(oath_init(), OATH_OK);
	assert_int_equal(oath_base32_decode(secret, strlen(secret), &raw, &raw_len), OATH_OK);
	assert_int_equal(raw_len, 20);
	char code[7];
	assert_int_equal(oath_totp_generate(raw, raw_len, NOW, 30, 0, 6, code), OATH_OK);
	oath_done();
	free(raw);
	assert_int_equal(correspondant_login(f->store, "claire@ocapiat.test", strong, NULL, false, "192.0.2.1", NOW),
			 LOGIN_REFUSED);
	assert_int_equal(correspondant_login(f->store, "claire@ocapiat.test", strong, code, false, "192.0.2.1", NOW),
			 LOGIN_ACCEPTED);
	assert_int_equal(correspondant_reset_totp(f->store, "claire@ocapiat.test", NOW), 1);
	assert_int_equal(correspondant_login(f->store, "claire@ocapiat.test", strong, NULL, false, "192.0.2.1", NOW),
			 LOGIN_ACCEPTED);
	free(secret);
	free(uri);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_account_per_address, temp_store_setup, temp_store_teardown),
		cmocka_unit_test_setup_teardown(test_invitation_is_its_own_kind_of_link, temp_store_setup, temp_store_teardown),
		cmocka_unit_test_setup_teardown(test_sign_in, temp_store_setup, temp_store_teardown),
		cmocka_unit_test(test_totp_vectors),
		cmocka_unit_test_setup_teardown(test_second_factor, temp_store_setup, temp_store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
