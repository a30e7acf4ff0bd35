/* Tests of intent: loading (every error names file and line), scoring with weights and
 * negative patterns, max-words, audience cues, ranking, hostile input. */
#include "autoconf.h"
#include "testutil.h"
#include "engine/lexicon.h"

static struct intent_set *
load_dir(const char *dir, char **err)
{
	struct lexicon *lex = lexicon_new();
	struct intent_set *set = intent_set_load(dir, lex, err);
	lexicon_free(&lex);
	return set;
}

static void
test_minimal_set_loads(void **state)
{
	(void)state;
	char *dir = make_temp_dir();
	write_minimal_intents(dir);
	char *err = NULL;
	struct intent_set *set = load_dir(dir, &err);
	if (set == NULL)
		fail_msg("%s", err);
	assert_int_equal(intent_set_count(set), intent_spec_count());
	assert_non_null(intent_set_find(set, "password_reset"));
	assert_null(intent_set_find(set, "unknown"));
	/* Actions are resolved at load: channels compare values, not names. */
	assert_int_equal(intent_set_find(set, "password_reset")->action, ACCOUNT_PASSWORD_RESET);
	assert_int_equal(intent_set_find(set, "identifier_reminder")->action, ACCOUNT_IDENTIFIER_REMINDER);
	assert_int_equal(intent_set_find(set, "dossier_status")->action, ACCOUNT_DOSSIER_STATUS);
	assert_int_equal(intent_set_find(set, "submit_invoice")->action, ACCOUNT_ACTION_NONE);
	assert_string_equal(account_action_name(ACCOUNT_DOSSIER_STATUS), "dossier_status");
	assert_null(account_action_name(ACCOUNT_ACTION_NONE));
	assert_int_equal(account_action_from_name("identifier_reminder"), ACCOUNT_IDENTIFIER_REMINDER);
	assert_int_equal(account_action_from_name("reminder"), ACCOUNT_ACTION_NONE);
	intent_set_free(&set);
	assert_null(set);
	rm_rf(dir);
	free(dir);
}

static void
expect_error(const char *file, const char *content, const char *expected)
{
	char *dir = make_temp_dir();
	write_minimal_intents(dir);
	write_file(dir, file, content);
	char *err = NULL;
	struct intent_set *set = load_dir(dir, &err);
	assert_null(set);
	if (strstr(err, expected) == NULL)
		fail_msg("expected \"%s\" in:\n%s", expected, err);
	free(err);
	rm_rf(dir);
	free(dir);
}

static void
test_load_errors(void **state)
{
	(void)state;
	expect_error("submit_invoice.intent", "id: submit_invoice\nkind: faq\nfaq: submit_invoice\n+3 \\bfacture\n+2 (unclosed\n",
		     "submit_invoice.intent:5: pattern does not compile at offset 9: missing closing parenthesis");
	expect_error("submit_invoice.intent", "id: submit_invoice\nkind: faq\nfaq: x\n+abc facture\n",
		     "submit_invoice.intent:4: expected a signed weight");
	expect_error("submit_invoice.intent", "id: other\nkind: faq\nfaq: x\n+3 facture\n",
		     "differs from the file name");
	expect_error("submit_invoice.intent", "id: submit_invoice\nkind: action\naction: x\n+3 facture\n",
		     "kind \"action\" differs from the spec's \"faq\"");
	expect_error("password_reset.intent", "id: password_reset\nkind: action\naction: password_rest\n+3 mot de passe\n",
		     "password_reset.intent: action: \"password_rest\" is not an action of dialogd");
	expect_error("password_reset.intent", "id: password_reset\nkind: action\n+3 mot de passe\n",
		     "password_reset.intent: an action intent needs \"action:\"");
	expect_error("submit_invoice.intent", "id: submit_invoice\nkind: faq\nfaq: x\ncolour: blue\n+3 facture\n",
		     "submit_invoice.intent:4: unknown key \"colour\"");
	expect_error("submit_invoice.intent", "id: submit_invoice\nkind: faq\nfaq: x\n-3 facture\n",
		     "no positive pattern");
	expect_error("made_up.intent", "id: made_up\nkind: faq\nfaq: x\n+3 x\n",
		     "\"made_up\" is not an intent id of the spec");
	expect_error("submit_invoice.intent", "id: submit_invoice\nkind: faq\nfaq: x\n+3 \xFF\n",
		     "invalid UTF-8");
	expect_error("audience.cues", "entreprise +3 (\nsomeone +3 x\n",
		     "audience.cues:1: pattern does not compile");
	expect_error("audience.cues", "entreprise +3 ok\nsomeone +3 x\n",
		     "audience.cues:2: expected \"entreprise +W PATTERN\"");
}

static void
test_missing_folder_and_file(void **state)
{
	(void)state;
	char *err = NULL;
	assert_null(load_dir("/nonexistent/intents", &err));
	assert_non_null(strstr(err, "/nonexistent/intents: cannot open folder"));
	free(err);

	char *dir = make_temp_dir();
	write_minimal_intents(dir);
	char *path = xasprintf("%s/thanks.intent", dir);
	unlink(path);
	free(path);
	assert_null(load_dir(dir, &err));
	assert_non_null(strstr(err, "no file for intent \"thanks\""));
	free(err);

	path = xasprintf("%s/greeting.intent", dir);
	chmod(path, 0);
	if (access(path, R_OK) != 0) {  /* root reads anything: then this case cannot be made */
		assert_null(load_dir(dir, &err));
		assert_non_null(strstr(err, "greeting.intent: cannot open"));
		free(err);
	}
	free(path);
	rm_rf(dir);
	free(dir);
}

static void
test_scoring(void **state)
{
	(void)state;
	char *dir = make_temp_dir();
	write_minimal_intents(dir);
	write_file(dir, "password_reset.intent",
		   "id: password_reset\nkind: action\naction: password_reset\n"
		   "+3 \\bmot de passe\\b\n+2 \\boublie\\b\n-4 \\bexpire\\b\n");
	write_file(dir, "greeting.intent",
		   "id: greeting\nkind: chat\nreply: chat_greeting\nscope: full\nmax-words: 2\n+3 \\bbonjour\\b\n");
	char *err = NULL;
	struct intent_set *set = load_dir(dir, &err);
	if (set == NULL)
		fail_msg("%s", err);
	struct intent_scratch *s = intent_scratch_new();
	struct intent_result r;

	assert_int_equal(intent_match(set, s, "j ai oublie mon mot de passe", "j ai oublie mon mot de passe", 6, &r, &err), 0);
	assert_int_equal(r.candidate_count, 1);
	assert_string_equal(r.candidates[0].intent->id, "password_reset");
	assert_true(r.candidates[0].score == 5.0);
	assert_true(r.candidates[0].confidence > 0.81 && r.candidates[0].confidence < 0.82);
	assert_int_equal(r.audience, AUDIENCE_UNKNOWN);

	/* A negative pattern takes its weight off; a score of 0 or less is no candidate. */
	assert_int_equal(intent_match(set, s, "mot de passe expire", "mot de passe expire", 3, &r, &err), 0);
	assert_int_equal(r.candidate_count, 0);

	/* max-words: a greeting with a question in it is not a greeting. */
	assert_int_equal(intent_match(set, s, "bonjour", "", 0, &r, &err), 0);
	assert_string_equal(r.candidates[0].intent->id, "greeting");
	assert_int_equal(intent_match(set, s, "bonjour submit invoice", "submit invoice", 2, &r, &err), 0);
	assert_int_equal(r.candidate_count, 2);
	assert_int_equal(intent_match(set, s, "bonjour ma facture submit invoice", "ma facture submit invoice", 4, &r, &err), 0);
	assert_int_equal(r.candidate_count, 1);
	assert_string_equal(r.candidates[0].intent->id, "submit_invoice");

	/* Audience cue, with the words that decided it. */
	assert_int_equal(intent_match(set, s, "nous sommes un cfa", "nous sommes un cfa", 4, &r, &err), 0);
	assert_int_equal(r.audience, AUDIENCE_ORGANISME);
	assert_string_equal(r.audience_cue, "cfa");
	assert_int_equal(intent_match(set, s, "notre entreprise et un cfa", "x", 1, &r, &err), 0);
	assert_int_equal(r.audience, AUDIENCE_UNKNOWN);  /* tie: nobody wins */

	/* Ranking: best first, at most INTENT_MAX_CANDIDATES. */
	const char *many = "login trouble password reset submit invoice pay contributions find deca number "
			   "payment details thanks greeting";
	assert_int_equal(intent_match(set, s, many, many, 20, &r, &err), 0);
	assert_int_equal(r.candidate_count, INTENT_MAX_CANDIDATES);
	for (size_t i = 1; i < r.candidate_count; i++)
		assert_true(r.candidates[i - 1].score >= r.candidates[i].score);

	/* Empty input. */
	assert_int_equal(intent_match(set, s, "", "", 0, &r, &err), 0);
	assert_int_equal(r.candidate_count, 0);

	intent_scratch_free(&s);
	intent_set_free(&set);
	rm_rf(dir);
	free(dir);
}

/* Who writes: the strongest single cue wins over a sum of weaker ones, a denial takes an
 * audience out, a full tie or too little is unknown. */
static void
test_audience_strongest_cue_wins(void **state)
{
	(void)state;
	char *dir = make_temp_dir();
	write_minimal_intents(dir);
	write_file(dir, "audience.cues",
		   "entreprise +2 \\bcomptabilite\\b\n"
		   "entreprise +2 \\bdirection financiere\\b\n"
		   "entreprise +2 \\bservice paie\\b\n"
		   "entreprise +5 \\bnotre sarl\\b\n"
		   "organisme +4 \\bcfa\\b\n"
		   "organisme -8 \\bpas un cfa\\b\n");
	char *err = NULL;
	struct intent_set *set = load_dir(dir, &err);
	if (set == NULL)
		fail_msg("%s", err);
	struct intent_scratch *s = intent_scratch_new();
	struct intent_result r;
	const struct { const char *text; enum audience want; const char *cue; } cases[] = {
		/* three weak cues (total 6) against one strong (4): the strong one wins */
		{ "comptabilite direction financiere service paie cfa du morvan", AUDIENCE_ORGANISME, "cfa" },
		{ "comptabilite direction financiere", AUDIENCE_ENTREPRISE, "comptabilite" },
		{ "notre sarl travaille avec un cfa", AUDIENCE_ENTREPRISE, "notre sarl" },
		/* denied: "pas un cfa" leaves the organisme out, the company form decides */
		{ "nous ne sommes pas un cfa mais notre sarl", AUDIENCE_ENTREPRISE, "notre sarl" },
		{ "nous ne sommes pas un cfa", AUDIENCE_UNKNOWN, "" },
		/* equal totals (4 and 4): the stronger cue, not a tie */
		{ "cfa comptabilite direction financiere", AUDIENCE_ORGANISME, "cfa" },
		{ "pas un cfa comptabilite", AUDIENCE_ENTREPRISE, "comptabilite" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		assert_int_equal(intent_match(set, s, cases[i].text, "x", 1, &r, &err), 0);
		if (r.audience != cases[i].want || strcmp(r.audience_cue, cases[i].cue) != 0)
			fail_msg("\"%s\": audience %d cue \"%s\", want %d \"%s\"", cases[i].text, (int)r.audience,
				 r.audience_cue, (int)cases[i].want, cases[i].cue);
	}
	intent_scratch_free(&s);
	intent_set_free(&set);
	rm_rf(dir);
	free(dir);
}

/* out_of_scope.cues: optional; its weights add up on the question only (not on the whole
 * message), the strongest cue's words are reported from the threshold on, and an error in
 * it names the file and line. */
static void
test_out_of_scope_cues(void **state)
{
	(void)state;
	char *dir = make_temp_dir();
	write_minimal_intents(dir);
	write_file(dir, "out_of_scope.cues", "+4 \\bdeux fois\\b\n+2 \\burgent\\b\n+1 \\bhttps?\\b\n");
	char *err = NULL;
	struct intent_set *set = load_dir(dir, &err);
	if (set == NULL)
		fail_msg("%s", err);
	struct intent_scratch *s = intent_scratch_new();
	struct intent_result r;
	assert_int_equal(intent_match(set, s, "paye deux fois", "paye deux fois", 3, &r, &err), 0);
	assert_true(r.out_of_scope == 4.0);
	assert_string_equal(r.out_of_scope_cue, "deux fois");
	/* below the threshold: counted, not reported */
	assert_int_equal(intent_match(set, s, "urgent", "urgent", 1, &r, &err), 0);
	assert_true(r.out_of_scope == 2.0);
	assert_string_equal(r.out_of_scope_cue, "");
	assert_int_equal(intent_match(set, s, "urgent http", "urgent http", 2, &r, &err), 0);
	assert_true(r.out_of_scope == 3.0);
	assert_string_equal(r.out_of_scope_cue, "urgent");
	/* the quoted history or signature (full text only) does not count */
	assert_int_equal(intent_match(set, s, "facture deux fois", "facture", 1, &r, &err), 0);
	assert_true(r.out_of_scope == 0.0);
	/* the slow path agrees */
	intent_set_use_dispatch(set, false);
	assert_int_equal(intent_match(set, s, "facture deux fois", "paye deux fois", 3, &r, &err), 0);
	assert_true(r.out_of_scope == 4.0);
	intent_scratch_free(&s);
	intent_set_free(&set);

	write_file(dir, "out_of_scope.cues", "+4 ok\n+x (\n");
	assert_null(load_dir(dir, &err));
	assert_non_null(strstr(err, "out_of_scope.cues:2:"));
	free(err);
	rm_rf(dir);
	free(dir);
}

static void
test_catastrophic_pattern_fails_cleanly(void **state)
{
	(void)state;
	char *dir = make_temp_dir();
	write_minimal_intents(dir);
	write_file(dir, "thanks.intent", "id: thanks\nkind: chat\nreply: chat_thanks\n+1 ^(a+)+$\n");
	char *err = NULL;
	struct intent_set *set = load_dir(dir, &err);
	if (set == NULL)
		fail_msg("%s", err);
	struct intent_scratch *s = intent_scratch_new();
	struct intent_result r;
	char text[64];
	memset(text, 'a', 40);
	strcpy(text + 40, "b");
	int rc = intent_match(set, s, text, text, 1, &r, &err);
	if (rc < 0) {
		assert_non_null(strstr(err, "thanks.intent"));
		assert_non_null(strstr(err, "match limit"));
		free(err);
	}
	intent_scratch_free(&s);
	intent_set_free(&set);
	rm_rf(dir);
	free(dir);
}

/* Patterns of every shape the fast path handles (literal prefixes, groups, optional
 * groups, classes, digits, anchors, gaps before a required word) must match exactly
 * where a plain scan does. */
static void
test_dispatch_equals_full_scan(void **state)
{
	(void)state;
	static const char *const patterns[] = {
		"\\bmot de passe\\b",
		"\\b(?:oubli\\w*|perdu) (?:\\w+ ){0,3}mot de passe\\b",
		"\\b(?:le |mon )?identifiants?\\b",
		"\\bx(?:le )?mot\\b",
		"\\b(?:l|les) (?:ajouter|rattacher) (?:a|dans) (?:mon|notre) compte\\b",
		"\\b(?:af|ca) ?\\d{4,}\\b|\\b[a-z]{2}\\d{6,}\\b",
		"^(?:bonjour|salut)\\b(?: \\w+)?$",
		"\\bcontrat (?:\\w+ ){0,8}(?:rupture|fin anticipee)\\b",
		"\\bdossiers? (?:\\w+ ){0,2}(?:en cours|transmis)\\b",
		"\\b(?:n )?(?:arrive|peux) (?:pas |plus )+(?:me )?connecter\\b",
		"facture",
		"\\b(?=mot)mot\\b",
		"\\bsuivi volontaire|reporting\\b",
		"\\b(?:annee|Selectionner<x|criteres?)\\b",          /* found by fuzz_pattern: crashed */
		"\\bmot (?i)DE PASSE\\b",
		/* found by fuzz_pattern: a ')' inside a class, a '{' that is no quantifier */
		"\\b(?:dossier|demande d{4,}[|a-{z}\\]2d{6,})\\bblie mon mot de pas]2d{)\\b",
		"\\bx{ }mot\\b",
	};
	static const char *const texts[] = {
		"j ai oublie mon mot de passe", "perdu le mot de passe", "mon identifiant", "identifiants",
		"xlemot", "xmot", "x mot", "les ajouter dans notre compte", "l ajouter a mon compte",
		"dossier af 123456", "ref ca123456", "ab1234567", "bonjour", "bonjour madame", "salut a tous",
		"le contrat a ete signe puis une rupture", "contrat rupture", "contrat de pro fin anticipee",
		"dossiers transmis", "dossier bien en cours", "je n arrive pas me connecter",
		"peux plus pas connecter", "une facture", "refacturer", "mot", "motif", "mon reporting",
		"suivi volontaire", "", "a", "mot de", "j ai le dossier 2024 001", "x{ }mot",
	};
	char *dir = make_temp_dir();
	write_minimal_intents(dir);
	struct strbuf body = {0};
	strbuf_adds(&body, "id: submit_invoice\nkind: faq\nfaq: submit_invoice\n");
	for (size_t i = 0; i < sizeof(patterns) / sizeof(*patterns); i++)
		strbuf_addf(&body, "+%zu %s\n", i + 1, patterns[i]);
	write_file(dir, "submit_invoice.intent", body.data);
	strbuf_free(&body);
	char *err = NULL;
	struct intent_set *set = load_dir(dir, &err);
	if (set == NULL)
		fail_msg("%s", err);
	struct intent_scratch *s = intent_scratch_new();
	for (size_t t = 0; t < sizeof(texts) / sizeof(*texts); t++) {
		struct intent_result fast, slow;
		intent_set_use_dispatch(set, true);
		assert_int_equal(intent_match(set, s, texts[t], texts[t], 3, &fast, &err), 0);
		intent_set_use_dispatch(set, false);
		assert_int_equal(intent_match(set, s, texts[t], texts[t], 3, &slow, &err), 0);
		assert_int_equal(fast.candidate_count, slow.candidate_count);
		for (size_t i = 0; i < fast.candidate_count; i++) {
			if (fast.candidates[i].score != slow.candidates[i].score)
				fail_msg("\"%s\": fast score %.0f, full scan %.0f", texts[t],
					 fast.candidates[i].score, slow.candidates[i].score);
		}
	}
	intent_scratch_free(&s);
	intent_set_free(&set);
	rm_rf(dir);
	free(dir);
}

static void
test_spec_ids(void **state)
{
	(void)state;
	assert_int_equal(intent_spec_count(), 38);
	assert_true(intent_id_is_valid("unknown"));
	assert_true(intent_id_is_valid("cse_stats_by_trainee_or_individual"));
	assert_false(intent_id_is_valid("Unknown"));
	/* The spec shipped beside the project, when present, is the contract. */
	const char *src = source_data_dir();
	char *path = xasprintf("%s/../shared/spec/intents.tsv", src);
	FILE *f = fopen(path, "r");
	free(path);
	if (f == NULL)
		return;
	char line[4096];
	size_t i = 0;
	assert_non_null(fgets(line, sizeof(line), f));  /* header */
	while (fgets(line, sizeof(line), f)) {
		char *tab = strchr(line, '\t');
		assert_non_null(tab);
		*tab = '\0';
		if (strcmp(line, "unknown") == 0)
			continue;
		assert_true(i < intent_spec_count());
		assert_string_equal(intent_spec_id(i), line);
		char *kind = tab + 1;
		*strchr(kind, '\t') = '\0';
		assert_string_equal(intent_kind_name(intent_spec_kind(i)), kind);
		i++;
	}
	fclose(f);
	assert_int_equal(i, intent_spec_count());
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_set_loads),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_missing_folder_and_file),
		cmocka_unit_test(test_scoring),
		cmocka_unit_test(test_audience_strongest_cue_wins),
		cmocka_unit_test(test_out_of_scope_cues),
		cmocka_unit_test(test_catastrophic_pattern_fails_cleanly),
		cmocka_unit_test(test_dispatch_equals_full_scan),
		cmocka_unit_test(test_spec_ids),
	};
	return cmocka_run_group_tests_name("intent", tests, NULL, NULL);
}
