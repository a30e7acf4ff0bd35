/* Tests of store_chat: the website chat's sessions (found by their token's hash until
 * they expire or end), the events a widget replays (numbered per conversation, those
 * after N), the client ids (a message recorded twice is one input), and the copy of a
 * thread's messages and owner changes into events (a correspondant's reply included,
 * nothing copied twice), down to the purge. */
#include "testutil.h"
#include "teststore.h"

#define NOW 1700000000

struct seen {
	int64_t seqs[32];
	char kinds[32][16];
	char senders[32][16];
	char bodies[32][64];
	size_t n;
};

static int
collect(const struct chat_event_row *e, void *user)
{
	struct seen *s = user;
	assert_true(s->n < 32);
	s->seqs[s->n] = e->seq;
	snprintf(s->kinds[s->n], sizeof(s->kinds[0]), "%s", e->kind);
	snprintf(s->senders[s->n], sizeof(s->senders[0]), "%s", e->sender ? e->sender : "-");
	snprintf(s->bodies[s->n], sizeof(s->bodies[0]), "%s", e->body ? e->body : "-");
	s->n++;
	return 0;
}

static void
add_message(struct store *st, int64_t thread, const char *direction, const char *decision, const char *body)
{
	struct message_row m = { .thread_id = thread, .direction = direction, .body = body, .decision = decision,
				 .sender = "x" };
	assert_true(store_message_add(st, &m) > 0);
}

/* A conversation with a thread, as chat_ws makes it before the first turn. */
static int64_t
open_with_thread(struct store *st, int64_t *thread_r)
{
	int64_t c = store_chat_open(st, "hash-a", "203.0.113.7", NOW, NOW + 3600);
	assert_true(c > 0);
	*thread_r = store_thread_create(st, "chat", "203.0.113.7", "Bonjour", THREAD_OPEN, NULL, NULL);
	assert_true(*thread_r > 0);
	assert_int_equal(store_chat_set_thread(st, c, *thread_r), 0);
	return c;
}

static int
sync_now(struct store *st, int64_t c)
{
	assert_int_equal(store_begin(st), 0);
	int n = store_chat_sync(st, c, NOW);
	assert_int_equal(store_commit(st), 0);
	return n;
}

static void
test_a_session_is_found_by_its_hash_until_it_expires_or_ends(void **state)
{
	struct store *st = ((struct temp_store *)*state)->store;
	int64_t c = store_chat_open(st, "hash-a", "203.0.113.7", NOW, NOW + 100);
	struct chat_conversation_row row;
	assert_int_equal(store_chat_find(st, "hash-a", NOW, &row), 1);
	assert_int_equal(row.id, c);
	assert_int_equal(row.thread_id, 0);
	assert_int_equal(store_chat_find(st, "hash-b", NOW, &row), 0);
	assert_int_equal(store_chat_find(st, "hash-a", NOW + 100, &row), 0);  /* expired */
	assert_int_equal(store_chat_touch(st, c, NOW + 500), 0);
	assert_int_equal(store_chat_find(st, "hash-a", NOW + 100, &row), 1);
	assert_int_equal(store_chat_end(st, c, NOW), 0);
	assert_int_equal(store_chat_find(st, "hash-a", NOW, &row), 0);
	/* Its hash is forgotten: a new session may even get the same one. */
	assert_true(store_chat_open(st, "hash-a", "203.0.113.7", NOW, NOW + 100) > c);
}

static void
test_events_are_numbered_and_replayed_after_n(void **state)
{
	struct store *st = ((struct temp_store *)*state)->store;
	int64_t c = store_chat_open(st, "hash-a", "v", NOW, NOW + 100);
	int64_t other = store_chat_open(st, "hash-b", "v", NOW, NOW + 100);
	assert_int_equal(store_begin(st), 0);
	for (int i = 1; i <= 5; i++) {
		char body[16];
		snprintf(body, sizeof(body), "m%d", i);
		assert_int_equal(store_chat_event_add(st, c, "message", "bot", body, NULL, NOW), i);
	}
	assert_int_equal(store_chat_event_add(st, other, "message", "bot", "x", NULL, NOW), 1);  /* per conversation */
	assert_int_equal(store_commit(st), 0);
	struct seen s = {0};
	assert_int_equal(store_chat_events_after(st, c, 3, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.seqs[0], 4);
	assert_string_equal(s.bodies[0], "m4");
	assert_int_equal(s.seqs[1], 5);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_chat_events_after(st, c, 5, collect, &s), 0);
	assert_int_equal(s.n, 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_chat_events_after(st, c, 0, collect, &s), 0);
	assert_int_equal(s.n, 5);
	struct chat_conversation_row row;
	assert_int_equal(store_chat_find(st, "hash-a", NOW, &row), 1);
	assert_int_equal(row.last_seq, 5);
}

static void
test_a_client_id_is_recorded_once(void **state)
{
	struct store *st = ((struct temp_store *)*state)->store;
	int64_t c = store_chat_open(st, "hash-a", "v", NOW, NOW + 100);
	int64_t other = store_chat_open(st, "hash-b", "v", NOW, NOW + 100);
	bool done;
	int64_t mark;
	assert_int_equal(store_chat_input(st, c, "m-1", 7, NOW, &done, &mark), 1);
	assert_int_equal(store_chat_input(st, c, "m-1", 9, NOW, &done, &mark), 0);
	assert_false(done);
	assert_int_equal(mark, 7);  /* the first one's mark, not the second's */
	assert_int_equal(store_chat_input_done(st, c, "m-1"), 0);
	assert_int_equal(store_chat_input(st, c, "m-1", 9, NOW, &done, &mark), 0);
	assert_true(done);
	/* Unique per conversation only. */
	assert_int_equal(store_chat_input(st, other, "m-1", 0, NOW, &done, &mark), 1);
	assert_int_equal(store_chat_input(st, c, "m-2", 0, NOW, &done, &mark), 1);
}

static void
test_the_threads_messages_become_events_once(void **state)
{
	struct store *st = ((struct temp_store *)*state)->store;
	int64_t thread;
	int64_t c = open_with_thread(st, &thread);
	assert_int_equal(sync_now(st, c), 0);
	assert_int_equal(store_chat_changed(st, c), 0);
	int64_t mark = store_chat_thread_mark(st, thread);
	assert_int_equal(store_chat_turn_ran(st, thread, mark), 0);
	add_message(st, thread, "in", "answered", "mot de passe perdu");
	assert_int_equal(store_chat_turn_ran(st, thread, mark), 1);
	add_message(st, thread, "out", "chat", "Voici comment faire");
	add_message(st, thread, "out", "notify", "to the correspondants");  /* not the visitor's */
	assert_int_equal(store_chat_changed(st, c), 1);
	assert_int_equal(sync_now(st, c), 2);
	assert_int_equal(store_chat_changed(st, c), 0);
	assert_int_equal(sync_now(st, c), 0);  /* nothing twice */
	/* A correspondant takes the thread and answers (conversation_reply's row). */
	assert_int_equal(store_thread_take(st, thread, "agent", false), 1);
	add_message(st, thread, "out", "person", "Bonjour, je regarde votre dossier");
	assert_int_equal(store_chat_changed(st, c), 1);
	assert_int_equal(sync_now(st, c), 2);
	struct seen s = {0};
	assert_int_equal(store_chat_events_after(st, c, 0, collect, &s), 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.senders[0], "visitor");
	assert_string_equal(s.bodies[0], "mot de passe perdu");
	assert_string_equal(s.senders[1], "bot");
	assert_string_equal(s.senders[2], "person");
	assert_string_equal(s.kinds[3], "state");
	assert_string_equal(s.bodies[3], "person");
}

static void
test_an_escalation_is_a_handoff_event(void **state)
{
	struct store *st = ((struct temp_store *)*state)->store;
	int64_t thread;
	int64_t c = open_with_thread(st, &thread);
	assert_int_equal(store_thread_update(st, thread, THREAD_ESCALATED, NULL, "the visitor asks for a person"), 0);
	assert_int_equal(sync_now(st, c), 1);
	struct seen s = {0};
	assert_int_equal(store_chat_events_after(st, c, 0, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.kinds[0], "handoff");
	assert_string_equal(s.bodies[0], "queue");
}

static void
test_purging_the_thread_removes_the_conversation(void **state)
{
	struct store *st = ((struct temp_store *)*state)->store;
	int64_t thread;
	int64_t c = open_with_thread(st, &thread);
	add_message(st, thread, "in", "answered", "bonjour");
	assert_int_equal(sync_now(st, c), 1);
	/* One that never got a message, long expired. */
	assert_true(store_chat_open(st, "hash-old", "v", 10, 20) > 0);
	struct purge_counts counts;
	assert_int_equal(store_purge(st, (int64_t)time(NULL) + 10, &counts), 0);
	assert_int_equal(counts.threads, 1);
	struct chat_conversation_row row;
	assert_int_equal(store_chat_find(st, "hash-a", NOW, &row), 0);
	struct seen s = {0};
	assert_int_equal(store_chat_events_after(st, c, 0, collect, &s), 0);
	assert_int_equal(s.n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_session_is_found_by_its_hash_until_it_expires_or_ends,
						temp_store_setup, temp_store_teardown),
		cmocka_unit_test_setup_teardown(test_events_are_numbered_and_replayed_after_n, temp_store_setup,
						temp_store_teardown),
		cmocka_unit_test_setup_teardown(test_a_client_id_is_recorded_once, temp_store_setup, temp_store_teardown),
		cmocka_unit_test_setup_teardown(test_the_threads_messages_become_events_once, temp_store_setup,
						temp_store_teardown),
		cmocka_unit_test_setup_teardown(test_an_escalation_is_a_handoff_event, temp_store_setup, temp_store_teardown),
		cmocka_unit_test_setup_teardown(test_purging_the_thread_removes_the_conversation, temp_store_setup,
						temp_store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
