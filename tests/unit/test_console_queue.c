/* Tests of the console's views of the threads (store_console_threads, _counts): who
 * holds a thread decides its view, the filters combine, and the search finds words
 * without their accents or case, never an FTS5 query (hostile input is only words), and
 * never what a thread no longer keeps. */
#include "autoconf.h"
#include "testutil.h"
#include "teststore.h"
#include "store/store.h"

struct found {
	int64_t ids[16];
	size_t n;
};

static int
collect(const struct thread_row *row, void *user)
{
	struct found *f = user;
	if (f->n < 16)
		f->ids[f->n++] = row->id;
	return 0;
}

static size_t
find(struct temp_store *t, struct console_filter filter, struct found *out)
{
	memset(out, 0, sizeof(*out));
	assert_int_equal(store_console_threads(t->store, &filter, collect, out), 0);
	return out->n;
}

static int64_t
thread_with(struct temp_store *t, const char *channel, enum thread_state state, const char *intent, const char *body)
{
	int64_t id = store_thread_create(t->store, channel, "x@example.test", "Question", state, intent, NULL);
	assert_true(id > 0);
	struct message_row m = { .thread_id = id, .direction = "in", .subject = "Question", .body = "" };
	int64_t msg = store_message_add(t->store, &m);
	assert_true(msg > 0);
	/* As the turn does: written empty, completed once its secrets are removed. */
	struct message_row done = { .body = body, .decision = "answered" };
	assert_int_equal(store_message_complete(t->store, msg, &done), 0);
	return id;
}

static void
test_views_filters_and_search(void **state)
{
	struct temp_store *t = *state;
	int64_t a = thread_with(t, "mail", THREAD_ESCALATED, "submit_invoice", "Où déposer la FACTURE de décembre ?");
	int64_t b = thread_with(t, "chat", THREAD_ANSWERED, "password_reset", "mot de passe égaré");
	int64_t c = thread_with(t, "chat", THREAD_ESCALATED, NULL, "Je veux parler à quelqu'un, facture refusée");
	assert_int_equal(store_thread_take(t->store, c, "claire", false), 1);
	struct found f;
	assert_int_equal(find(t, (struct console_filter){ .view = VIEW_TO_HANDLE }, &f), 1);
	assert_int_equal(f.ids[0], a);
	assert_int_equal(find(t, (struct console_filter){ .view = VIEW_MINE, .person = "claire" }, &f), 1);
	assert_int_equal(f.ids[0], c);
	assert_int_equal(find(t, (struct console_filter){ .view = VIEW_MINE, .person = "marc" }, &f), 0);
	assert_int_equal(find(t, (struct console_filter){ .view = VIEW_ASSISTANT }, &f), 1);
	assert_int_equal(f.ids[0], b);
	assert_int_equal(find(t, (struct console_filter){ .view = VIEW_ALL }, &f), 3);
	assert_int_equal(find(t, (struct console_filter){ .view = VIEW_ALL, .channel = "chat" }, &f), 2);
	assert_int_equal(find(t, (struct console_filter){ .view = VIEW_ALL, .intent = "submit_invoice" }, &f), 1);
	assert_int_equal(find(t, (struct console_filter){ .view = VIEW_ALL, .state = "answered" }, &f), 1);
	assert_int_equal(find(t, (struct console_filter){ .view = VIEW_ALL, .limit = 2 }, &f), 2);
	assert_int_equal(find(t, (struct console_filter){ .view = VIEW_ALL, .limit = 2, .offset = 2 }, &f), 1);
	/* Words, without accents or case, all of them. */
	assert_int_equal(find(t, (struct console_filter){ .view = VIEW_ALL, .search = "facture" }, &f), 2);
	assert_int_equal(find(t, (struct console_filter){ .view = VIEW_ALL, .search = "Decembre facture" }, &f), 1);
	assert_int_equal(f.ids[0], a);
	assert_int_equal(find(t, (struct console_filter){ .view = VIEW_ALL, .search = "EGARE" }, &f), 1);
	assert_int_equal(find(t, (struct console_filter){ .view = VIEW_TO_HANDLE, .search = "facture" }, &f), 1);
	/* What would be FTS5 syntax is only words (no error, no operator), and blanks or
	 * punctuation alone find nothing. */
	const char *hostile[] = { "\"", "facture OR passe", "NEAR(facture passe)", "body:facture", "*", "'; DROP TABLE threads; --",
				  "\"facture\"\"", "   " };
	const size_t expected[] = { 0, 0, 0, 0, 0, 0, 2, 0 };
	for (size_t i = 0; i < sizeof(hostile) / sizeof(*hostile); i++)
		assert_int_equal(find(t, (struct console_filter){ .view = VIEW_ALL, .search = hostile[i] }, &f), expected[i]);
	assert_int_equal(find(t, (struct console_filter){ .view = VIEW_ALL, .search = "facture OR passe" }, &f), 0);
	assert_int_equal(find(t, (struct console_filter){ .view = VIEW_ALL }, &f), 3);  /* nothing dropped */

	struct console_counts counts;
	assert_int_equal(store_console_counts(t->store, "claire", &counts), 0);
	assert_int_equal(counts.to_handle, 1);
	assert_int_equal(counts.mine, 1);
	assert_int_equal(counts.assistant, 1);
	assert_int_equal(counts.all, 3);

	/* The counts kept by triggers follow every change of owner. */
	assert_int_equal(store_thread_release(t->store, c, "claire"), 1);
	assert_int_equal(store_console_counts(t->store, "claire", &counts), 0);
	assert_int_equal(counts.mine, 0);
	assert_int_equal(counts.assistant, 2);
	assert_int_equal(store_thread_take(t->store, a, "claire", false), 1);
	assert_int_equal(store_console_counts(t->store, "claire", &counts), 0);
	assert_int_equal(counts.to_handle, 0);
	assert_int_equal(counts.mine, 1);
	assert_int_equal(store_thread_resolve(t->store, a, "claire"), 1);
	assert_int_equal(store_console_counts(t->store, "claire", &counts), 0);
	assert_int_equal(counts.mine, 0);
	assert_int_equal(counts.assistant, 3);
	assert_int_equal(counts.all, 3);
	int64_t d = thread_with(t, "mail", THREAD_ESCALATED, NULL, "une autre facture");
	assert_int_equal(store_console_counts(t->store, "claire", &counts), 0);
	assert_int_equal(counts.to_handle, 1);
	assert_int_equal(counts.all, 4);
	/* A search lists the thread of the newest matching message first, one page at a time. */
	assert_int_equal(find(t, (struct console_filter){ .view = VIEW_ALL, .search = "facture" }, &f), 3);
	assert_int_equal(f.ids[0], d);
	assert_int_equal(f.ids[1], c);
	assert_int_equal(f.ids[2], a);
	assert_int_equal(find(t, (struct console_filter){ .view = VIEW_ALL, .search = "facture", .limit = 1, .offset = 1 }, &f), 1);
	assert_int_equal(f.ids[0], c);

	/* A purged thread is found no more. */
	struct purge_counts purged;
	assert_int_equal(store_purge(t->store, INT64_MAX, &purged), 0);
	assert_int_equal(find(t, (struct console_filter){ .view = VIEW_ALL, .search = "facture" }, &f), 0);
	assert_int_equal(store_console_counts(t->store, "claire", &counts), 0);
	assert_int_equal(counts.all, 0);
	assert_int_equal(counts.to_handle + counts.assistant + counts.mine, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_views_filters_and_search, temp_store_setup, temp_store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
