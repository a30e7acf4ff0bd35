/* Tests of store: what the files on disk keep of a secret mail once it is sent. The
 * store is read as an attacker with read access to the state folder would: every byte of
 * the database, its write-ahead log and its shared-memory index. */
#include "testutil.h"
#include "teststore.h"

#include <sqlite3.h>

/* A reset link's token: 43 URL-safe base64 characters, as reset_token issues them. */
#define TOKEN "Qm9uam91ci1jZWNpLWVzdC11bi1qZXRvbi1kZS10ZXN0"
#define RAW_SECRET "Subject: Votre lien\r\n\r\nhttps://example.test/reinitialisation?jeton=" TOKEN "\r\n"

/* Whether needle is anywhere in the file (a missing file holds nothing). */
static bool
file_holds(const char *path, const char *needle)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return false;
	struct strbuf sb = {0};
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(f);
	bool found = false;
	size_t len = strlen(needle);
	for (size_t i = 0; !found && sb.len >= len && i <= sb.len - len; i++)
		found = memcmp(sb.data + i, needle, len) == 0;
	strbuf_free(&sb);
	return found;
}

/* Whether the database, its WAL or its -shm holds a part of the token long enough to
 * rebuild it (a line break of the mail's encoding could split the whole). */
static bool
store_files_hold_token(const struct temp_store *t)
{
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	char head[17], tail[17];
	memcpy(head, TOKEN, 16);
	head[16] = '\0';
	memcpy(tail, TOKEN + strlen(TOKEN) - 16, 17);
	bool found = false;
	for (size_t i = 0; i < 3 && !found; i++) {
		char *path = xasprintf("%s%s", t->db, suffixes[i]);
		found = file_holds(path, head) || file_holds(path, tail);
		free(path);
	}
	return found;
}

/* Some ordinary traffic around the secret, so that its page is shared, split and
 * checkpointed as in a running daemon. */
static void
add_replies(struct store *st, int first, int count)
{
	for (int i = first; i < first + count; i++) {
		char *id = xasprintf("<reply-%d@example.test>", i);
		char *raw = xasprintf("Subject: Re: question %d\r\n\r\n%0400d\r\n", i, i);
		assert_true(store_outbox_add(st, 0, OUTBOX_REPLY, id, "support@example.test", "a@example.test", raw) > 0);
		free(raw);
		free(id);
	}
}

static int64_t
add_secret(struct store *st)
{
	int64_t id = store_outbox_add(st, 0, OUTBOX_SECRET, "<secret@example.test>", "support@example.test",
				      "holder@example.test", RAW_SECRET);
	assert_true(id > 0);
	return id;
}

static void
test_sent_secret_leaves_no_copy_in_the_files(void **state)
{
	struct temp_store *t = *state;
	add_replies(t->store, 0, 20);
	int64_t id = add_secret(t->store);
	add_replies(t->store, 20, 20);
	/* What the sender's connection sees before sending: the secret is there, on disk. */
	assert_true(store_files_hold_token(t));
	assert_int_equal(store_outbox_sent(t->store, id, 1000), 0);
	assert_int_equal(store_forget_wal(t->store), 1);
	assert_false(store_files_hold_token(t));
	/* The other mail is intact. */
	assert_int_equal(store_outbox_count(t->store, "pending"), 40);
}

/* The secret already copied into the database file by an earlier checkpoint: emptying it
 * must overwrite the bytes there too (secure_delete), not only drop the log. */
static void
test_checkpointed_secret_leaves_no_copy(void **state)
{
	struct temp_store *t = *state;
	add_replies(t->store, 0, 3);
	int64_t id = add_secret(t->store);
	add_replies(t->store, 3, 3);
	assert_int_equal(store_forget_wal(t->store), 1);
	assert_true(store_files_hold_token(t));
	assert_int_equal(store_outbox_sent(t->store, id, 1000), 0);
	assert_int_equal(store_forget_wal(t->store), 1);
	assert_false(store_files_hold_token(t));
}

static void
test_failed_secret_leaves_no_copy_in_the_files(void **state)
{
	struct temp_store *t = *state;
	int64_t id = add_secret(t->store);
	add_replies(t->store, 0, 5);
	assert_int_equal(store_outbox_failed(t->store, id, "550 no such user"), 0);
	assert_int_equal(store_forget_wal(t->store), 1);
	assert_false(store_files_hold_token(t));
}

/* A reader keeping an old snapshot open (the web thread, dialogctl) keeps the log from
 * being emptied: the call says so, and succeeds once the reader is done. */
static void
test_a_long_reader_delays_the_wipe(void **state)
{
	struct temp_store *t = *state;
	int64_t id = add_secret(t->store);
	sqlite3 *reader = NULL;
	assert_int_equal(sqlite3_open_v2(t->db, &reader, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_busy_timeout(reader, 100);
	assert_int_equal(sqlite3_exec(reader, "BEGIN; SELECT count(*) FROM outbox;", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_outbox_sent(t->store, id, 1000), 0);
	/* The store waits up to 10 s for readers: shortened, the test does not wait that long. */
	store_set_busy_timeout(t->store, 200);
	assert_int_equal(store_forget_wal(t->store), 0);
	assert_true(store_files_hold_token(t));
	assert_int_equal(sqlite3_exec(reader, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(reader);
	assert_int_equal(store_forget_wal(t->store), 1);
	assert_false(store_files_hold_token(t));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sent_secret_leaves_no_copy_in_the_files, temp_store_setup,
						temp_store_teardown),
		cmocka_unit_test_setup_teardown(test_checkpointed_secret_leaves_no_copy, temp_store_setup,
						temp_store_teardown),
		cmocka_unit_test_setup_teardown(test_failed_secret_leaves_no_copy_in_the_files, temp_store_setup,
						temp_store_teardown),
		cmocka_unit_test_setup_teardown(test_a_long_reader_delays_the_wipe, temp_store_setup,
						temp_store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
