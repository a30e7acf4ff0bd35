/* Tests of reset_token: a token works once, not after use, expiry or a newer token; only
 * its hash is stored; hostile tokens are refused; the password rule and its hash. */
#include "autoconf.h"
#include "testutil.h"
#include "teststore.h"
#include "accounts/reset_token.h"
#include "store/store.h"

#include <sodium.h>
#include <sqlite3.h>

static enum reset_check
redeem(struct temp_store *f, const char *token, int64_t now, const char *expect_identifier)
{
	char *who = NULL;
	enum reset_check rc = reset_token_redeem(f->store, token, now, &who);
	if (expect_identifier != NULL) {
		assert_int_equal(rc, RESET_VALID);
		assert_string_equal(who, expect_identifier);
	} else {
		assert_null(who);
	}
	free(who);
	return rc;
}

static void
test_once_only(void **state)
{
	struct temp_store *f = *state;
	char token[RESET_TOKEN_SIZE];
	assert_int_equal(reset_token_issue(f->store, "JMOREAU01", 1000, 1800, token), 0);
	assert_int_equal(strlen(token), RESET_TOKEN_SIZE - 1);
	assert_int_equal(strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), strlen(token));
	redeem(f, token, 1001, "JMOREAU01");
	assert_int_equal(redeem(f, token, 1002, NULL), RESET_INVALID);  /* burnt */
}

static void
test_expiry_and_newer_token(void **state)
{
	struct temp_store *f = *state;
	char old[RESET_TOKEN_SIZE], newer[RESET_TOKEN_SIZE], late[RESET_TOKEN_SIZE];
	assert_int_equal(reset_token_issue(f->store, "ALEMAIRE", 1000, 1800, late), 0);
	assert_int_equal(redeem(f, late, 2800, NULL), RESET_INVALID);  /* 30 min are over */
	assert_int_equal(reset_token_issue(f->store, "SROUX", 5000, 1800, old), 0);
	assert_int_equal(reset_token_issue(f->store, "SROUX", 5010, 1800, newer), 0);
	assert_string_not_equal(old, newer);
	assert_int_equal(redeem(f, old, 5020, NULL), RESET_INVALID);  /* revoked by the newer one */
	redeem(f, newer, 5020, "SROUX");
}

static void
test_only_the_hash_is_stored(void **state)
{
	struct temp_store *f = *state;
	char token[RESET_TOKEN_SIZE];
	assert_int_equal(reset_token_issue(f->store, "JMOREAU01", 1000, 1800, token), 0);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	sqlite3_stmt *stmt;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT token_hash FROM reset_tokens", -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	const char *stored = (const char *)sqlite3_column_text(stmt, 0);
	assert_string_not_equal(stored, token);
	assert_null(strstr(stored, token));
	assert_int_equal(strlen(stored), 64);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
}

static void
test_hostile_tokens(void **state)
{
	struct temp_store *f = *state;
	char token[RESET_TOKEN_SIZE];
	assert_int_equal(reset_token_issue(f->store, "JMOREAU01", 1000, 1800, token), 0);
	char *big = xcalloc(10001, 1);
	memset(big, 'a', 10000);
	const char *hostile[] = { "", "' OR 1=1 --", big, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
				  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xff", NULL };
	for (size_t i = 0; hostile[i]; i++)
		assert_int_equal(redeem(f, hostile[i], 1001, NULL), RESET_INVALID);
	assert_int_equal(redeem(f, NULL, 1001, NULL), RESET_INVALID);
	redeem(f, token, 1001, "JMOREAU01");  /* still usable after all that */
	free(big);
}

static void
test_password_rule_and_hash(void **state)
{
	(void)state;
	assert_non_null(reset_password_weakness("court1!"));
	assert_non_null(reset_password_weakness("seulementdeslettres"));
	assert_non_null(reset_password_weakness("123456789012345"));
	assert_non_null(reset_password_weakness("mot de passe \xff\xfe 12"));
	assert_null(reset_password_weakness("Pépinière-2024-OK"));
	assert_null(reset_password_weakness("correct horse battery 7"));
	char *hash = reset_password_hash("correct horse battery 7");
	assert_non_null(hash);
	assert_true(str_starts_with(hash, "$argon2id$"));
	assert_null(strstr(hash, "correct horse"));
	assert_int_equal(crypto_pwhash_str_verify(hash, "correct horse battery 7", strlen("correct horse battery 7")), 0);
	assert_int_not_equal(crypto_pwhash_str_verify(hash, "correct horse battery 8", strlen("correct horse battery 8")), 0);
	free(hash);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_once_only, temp_store_setup, temp_store_teardown),
		cmocka_unit_test_setup_teardown(test_expiry_and_newer_token, temp_store_setup, temp_store_teardown),
		cmocka_unit_test_setup_teardown(test_only_the_hash_is_stored, temp_store_setup, temp_store_teardown),
		cmocka_unit_test_setup_teardown(test_hostile_tokens, temp_store_setup, temp_store_teardown),
		cmocka_unit_test(test_password_rule_and_hash),
	};
	return cmocka_run_group_tests_name("reset_token", tests, NULL, NULL);
}
