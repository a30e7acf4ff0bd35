/* Tests of console_session: a session lives until its idle or absolute limit, its
 * account's disabling, its sign-out or a sign-out everywhere; only hashes are stored; the
 * CSRF token is the session's own; hostile tokens are refused. */
#include "autoconf.h"
#include "testutil.h"
#include "teststore.h"
#include "accounts/console_session.h"
#include "accounts/correspondant.h"
#include "store/store.h"

#include <sodium.h>

#define NOW 1800000000
static const struct console_lifetimes lifetimes = { .idle_ttl = 1800, .absolute_ttl = 43200 };

static int64_t
account(struct temp_store *f, const char *email)
{
	char *err = NULL;
	int64_t id = correspondant_create(f->store, email, "Claire Martin", ROLE_CORRESPONDANT, NOW, &err);
	assert_true(id > 0);
	return id;
}

static int
check(struct temp_store *f, const char *token, int64_t now)
{
	struct console_session_row row;
	int rc = console_session_check(f->store, token, &lifetimes, now, &row);
	console_session_row_clear(&row);
	return rc;
}

static void
test_lifetimes(void **state)
{
	struct temp_store *f = *state;
	int64_t id = account(f, "claire@ocapiat.test");
	char token[CONSOLE_TOKEN_SIZE], csrf[CONSOLE_TOKEN_SIZE];
	assert_int_equal(console_session_open(f->store, id, "192.0.2.1", NOW, token, csrf), 0);
	assert_string_not_equal(token, csrf);
	struct console_session_row row;
	assert_int_equal(console_session_check(f->store, token, &lifetimes, NOW + 60, &row), 1);
	assert_string_equal(row.account.email, "claire@ocapiat.test");
	assert_true(console_session_csrf_ok(&row, csrf));
	assert_false(console_session_csrf_ok(&row, token));
	assert_false(console_session_csrf_ok(&row, NULL));
	assert_false(console_session_csrf_ok(&row, ""));
	console_session_row_clear(&row);
	/* Each use moves the idle limit; the absolute one does not move. */
	for (int64_t t = NOW + 1700; t < NOW + 43200; t += 1700)
		assert_int_equal(check(f, token, t), 1);
	assert_int_equal(check(f, token, NOW + 43201), 0);
	assert_int_equal(check(f, token, NOW + 43202), 0);  /* removed, not only refused */

	char idle[CONSOLE_TOKEN_SIZE];
	assert_int_equal(console_session_open(f->store, id, "192.0.2.1", NOW, idle, csrf), 0);
	assert_int_equal(check(f, idle, NOW + 1801), 0);
}

static void
test_endings(void **state)
{
	struct temp_store *f = *state;
	int64_t id = account(f, "claire@ocapiat.test");
	int64_t other = account(f, "marc@ocapiat.test");
	char a[CONSOLE_TOKEN_SIZE], b[CONSOLE_TOKEN_SIZE], c[CONSOLE_TOKEN_SIZE], csrf[CONSOLE_TOKEN_SIZE];
	assert_int_equal(console_session_open(f->store, id, "192.0.2.1", NOW, a, csrf), 0);
	assert_int_equal(console_session_open(f->store, id, "192.0.2.2", NOW, b, csrf), 0);
	assert_int_equal(console_session_open(f->store, other, "192.0.2.3", NOW, c, csrf), 0);
	assert_int_equal(console_session_close(f->store, a), 1);
	assert_int_equal(check(f, a, NOW + 1), 0);
	assert_int_equal(check(f, b, NOW + 1), 1);
	assert_int_equal(console_session_close_all(f->store, id), 1);
	assert_int_equal(check(f, b, NOW + 2), 0);
	assert_int_equal(check(f, c, NOW + 2), 1);
	/* Disabling an account signs it out. */
	assert_int_equal(correspondant_set_disabled(f->store, "marc@ocapiat.test", true, NOW + 3), 1);
	assert_int_equal(check(f, c, NOW + 4), 0);
}

static void
test_hostile_tokens(void **state)
{
	struct temp_store *f = *state;
	int64_t id = account(f, "claire@ocapiat.test");
	char token[CONSOLE_TOKEN_SIZE], csrf[CONSOLE_TOKEN_SIZE];
	assert_int_equal(console_session_open(f->store, id, "192.0.2.1", NOW, token, csrf), 0);
	char shorter[CONSOLE_TOKEN_SIZE];
	memcpy(shorter, token, CONSOLE_TOKEN_SIZE);
	shorter[CONSOLE_TOKEN_SIZE - 2] = '\0';
	char quote[CONSOLE_TOKEN_SIZE];
	memcpy(quote, token, CONSOLE_TOKEN_SIZE);
	quote[0] = '\'';
	const char *bad[] = { NULL, "", shorter, quote, "' OR 1=1 --" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(check(f, bad[i], NOW + 1), 0);
	assert_int_equal(check(f, token, NOW + 1), 1);
	/* Only hashes: neither token is anywhere in the store's files. */
	store_close(&f->store);
	const char *suffixes[] = { "", "-wal" };
	for (size_t i = 0; i < 2; i++) {
		char *path = xasprintf("%s%s", f->db, suffixes[i]);
		FILE *in = fopen(path, "rb");
		free(path);
		if (in == NULL)
			continue;
		struct strbuf sb = {0};
		char chunk[4096];
		size_t n;
		while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0)
			strbuf_add(&sb, chunk, n);
		fclose(in);
		strbuf_addc(&sb, '\0');
		assert_null(memmem(sb.data, sb.len, token, strlen(token)));
		assert_null(memmem(sb.data, sb.len, csrf, strlen(csrf)));
		strbuf_free(&sb);
	}
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lifetimes, temp_store_setup, temp_store_teardown),
		cmocka_unit_test_setup_teardown(test_endings, temp_store_setup, temp_store_teardown),
		cmocka_unit_test_setup_teardown(test_hostile_tokens, temp_store_setup, temp_store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
