/* Tests of route: what a turn does with the engine's analysis, for every channel — one
 * table of cases, each an analysis, what the conversation knows, and the route expected;
 * then the texts of a hand-over. */
#include "autoconf.h"
#include "testutil.h"
#include "teststore.h"
#include "conversation/route.h"
#include "directory/directory.h"

static const struct intent_def faq_intent = { .id = "find_deca_number", .kind = INTENT_FAQ };
static const struct intent_def reset_intent = { .id = "password_reset", .kind = INTENT_ACTION,
						.action = ACCOUNT_PASSWORD_RESET };
static const struct intent_def reminder_intent = { .id = "identifier_reminder", .kind = INTENT_ACTION,
						   .action = ACCOUNT_IDENTIFIER_REMINDER };

/* Which directory a case is routed with. */
enum case_directory { NO_DIRECTORY, WITHOUT_DOSSIERS, WITH_DOSSIERS };

struct route_case {
	const char *name;
	enum decision decision;
	enum escalation_reason reason;
	const struct intent_def *first;
	enum channel channel;
	bool in_thread, awaits_number;
	enum case_directory directory;
	enum route_kind kind;
	enum account_action action;
	enum escalation_reason route_reason;
};

static const struct route_case cases[] = {
	{ "a FAQ answer", DECISION_ANSWER, REASON_NONE, &faq_intent, CHANNEL_MAIL, false, false, WITH_DOSSIERS,
	  ROUTE_ANSWER, ACCOUNT_ACTION_NONE, REASON_NONE },
	{ "a reset request is the action", DECISION_ANSWER, REASON_NONE, &reset_intent, CHANNEL_CHAT, false, false,
	  NO_DIRECTORY, ROUTE_ACTION, ACCOUNT_PASSWORD_RESET, REASON_NONE },
	{ "a reminder request is the action", DECISION_ANSWER, REASON_NONE, &reminder_intent, CHANNEL_MAIL, true, false,
	  WITHOUT_DOSSIERS, ROUTE_ACTION, ACCOUNT_IDENTIFIER_REMINDER, REASON_NONE },
	{ "two close intents are answered, no action", DECISION_ANSWER_TWO, REASON_NONE, &reset_intent, CHANNEL_MAIL,
	  false, false, WITH_DOSSIERS, ROUTE_ANSWER, ACCOUNT_ACTION_NONE, REASON_NONE },
	{ "the chat's question back is its answer", DECISION_CLARIFY, REASON_NONE, NULL, CHANNEL_CHAT, true, false,
	  WITH_DOSSIERS, ROUTE_ANSWER, ACCOUNT_ACTION_NONE, REASON_NONE },
	{ "a status request with dossiers to read is the action", DECISION_ESCALATE, REASON_DOSSIER_STATUS, NULL,
	  CHANNEL_MAIL, false, false, WITH_DOSSIERS, ROUTE_ACTION, ACCOUNT_DOSSIER_STATUS, REASON_NONE },
	{ "... in the chat too", DECISION_ESCALATE, REASON_DOSSIER_STATUS, NULL, CHANNEL_CHAT, true, false,
	  WITH_DOSSIERS, ROUTE_ACTION, ACCOUNT_DOSSIER_STATUS, REASON_NONE },
	{ "a status request without dossiers goes to a person", DECISION_ESCALATE, REASON_DOSSIER_STATUS, NULL,
	  CHANNEL_MAIL, false, false, WITHOUT_DOSSIERS, ROUTE_ESCALATE, ACCOUNT_ACTION_NONE, REASON_DOSSIER_STATUS },
	{ "... and without a directory", DECISION_ESCALATE, REASON_DOSSIER_STATUS, NULL, CHANNEL_CHAT, false, false,
	  NO_DIRECTORY, ROUTE_ESCALATE, ACCOUNT_ACTION_NONE, REASON_DOSSIER_STATUS },
	{ "the number asked for continues the request", DECISION_ANSWER, REASON_NONE, &faq_intent, CHANNEL_MAIL, true,
	  true, WITHOUT_DOSSIERS, ROUTE_ACTION, ACCOUNT_DOSSIER_STATUS, REASON_NONE },
	{ "... even words nobody understood", DECISION_ESCALATE, REASON_UNKNOWN, NULL, CHANNEL_MAIL, true, true,
	  WITH_DOSSIERS, ROUTE_ACTION, ACCOUNT_DOSSIER_STATUS, REASON_NONE },
	{ "... but not a request for a person", DECISION_ESCALATE, REASON_HANDOFF, NULL, CHANNEL_MAIL, true, true,
	  WITH_DOSSIERS, ROUTE_ESCALATE, ACCOUNT_ACTION_NONE, REASON_HANDOFF },
	{ "a request for a person", DECISION_ESCALATE, REASON_HANDOFF, NULL, CHANNEL_CHAT, false, false, WITH_DOSSIERS,
	  ROUTE_ESCALATE, ACCOUNT_ACTION_NONE, REASON_HANDOFF },
	{ "nothing understood", DECISION_ESCALATE, REASON_UNKNOWN, NULL, CHANNEL_MAIL, false, false, WITH_DOSSIERS,
	  ROUTE_ESCALATE, ACCOUNT_ACTION_NONE, REASON_UNKNOWN },
	{ "thanks by mail in an answered thread: nothing back", DECISION_SMALL_TALK, REASON_NONE, NULL, CHANNEL_MAIL,
	  true, false, WITH_DOSSIERS, ROUTE_NOTHING, ACCOUNT_ACTION_NONE, REASON_NONE },
	{ "a lone greeting by mail: a person reads it", DECISION_SMALL_TALK, REASON_NONE, NULL, CHANNEL_MAIL, false,
	  false, WITH_DOSSIERS, ROUTE_ESCALATE, ACCOUNT_ACTION_NONE, REASON_UNKNOWN },
	{ "the chat answers small talk", DECISION_SMALL_TALK, REASON_NONE, NULL, CHANNEL_CHAT, true, false,
	  WITH_DOSSIERS, ROUTE_ANSWER, ACCOUNT_ACTION_NONE, REASON_NONE },
};

static void
test_routes(void **state)
{
	struct temp_store *t = *state;
	struct directory *empty = directory_open_sqlite(t->store);
	assert_false(directory_has_dossiers(empty));
	/* A second store with one dossier. */
	char *db = xasprintf("%s/dossiers.sqlite", t->dir);
	char *err = NULL;
	struct store *st = store_open(db, &err);
	assert_non_null(st);
	struct company_row company = { .siret = "73282932000074", .name = "Serres du Val", .kind = "entreprise" };
	assert_int_equal(store_company_put(st, &company), 0);
	struct dossier_row dossier = { .number = "DOS-2026-000123", .type = "action_formation", .state = "transmis",
				       .siret = "73282932000074", .amount_cents = -1 };
	assert_int_equal(store_dossier_put(st, &dossier), 0);
	struct directory *full = directory_open_sqlite(st);
	assert_true(directory_has_dossiers(full));
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		const struct route_case *c = &cases[i];
		struct analysis a = { .decision = c->decision, .reason = c->reason, .first = c->first };
		struct route_context context = {
			.channel = c->channel, .in_thread = c->in_thread, .awaits_dossier_number = c->awaits_number,
			.directory = c->directory == NO_DIRECTORY ? NULL : c->directory == WITH_DOSSIERS ? full : empty,
		};
		struct route r = route_decide(&a, &context);
		print_message("# %s\n", c->name);
		assert_int_equal(r.kind, c->kind);
		if (r.kind == ROUTE_ACTION)
			assert_int_equal(r.action, c->action);
		if (r.kind == ROUTE_ESCALATE)
			assert_int_equal(r.reason, c->route_reason);
	}
	directory_close(&full);
	directory_close(&empty);
	store_close(&st);
	free(db);
}

/* The operator's reason names the writer as the channel does; the correspondants'
 * motive is a template of the project for every reason, and the limit wins. */
static void
test_hand_over_texts(void **state)
{
	(void)state;
	assert_string_equal(route_reason_text(REASON_HANDOFF, CHANNEL_MAIL), "the writer asks for a person");
	assert_string_equal(route_reason_text(REASON_HANDOFF, CHANNEL_CHAT), "the visitor asks for a person");
	assert_string_equal(route_reason_text(REASON_NONE, CHANNEL_MAIL), route_reason_text(REASON_UNKNOWN, CHANNEL_CHAT));
	assert_string_equal(route_notify_motive(REASON_HANDOFF, true), "notify_reason_limit");
	const enum escalation_reason reasons[] = { REASON_NONE, REASON_UNKNOWN, REASON_HANDOFF, REASON_DOSSIER_STATUS,
						   REASON_UNREADABLE, REASON_UNAVAILABLE };
	for (size_t i = 0; i < sizeof(reasons) / sizeof(*reasons); i++) {
		char *path = xasprintf("%s/templates/%s.txt", source_data_dir(), route_notify_motive(reasons[i], false));
		assert_true(access(path, R_OK) == 0);
		free(path);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_routes, temp_store_setup, temp_store_teardown),
		cmocka_unit_test(test_hand_over_texts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
