/* Tests of dialog on the project's own data: decisions, variants by audience, the reply
 * envelope, escalation, small talk, the chat's clarifying question, unreadable input. */
#include "autoconf.h"
#include "testutil.h"
#include "engine/dialog.h"
#include "engine/engine.h"
#include "core/text.h"

static struct engine *engine;
static struct intent_scratch *scratch;
static struct dialog_settings settings;

static int
setup(void **state)
{
	(void)state;
	char *err = NULL;
	engine = engine_load(source_data_dir(), &err);
	if (engine == NULL) {
		fprintf(stderr, "%s\n", err);
		free(err);
		return -1;
	}
	scratch = intent_scratch_new();
	dialog_settings_default(&settings);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	intent_scratch_free(&scratch);
	engine_free(&engine);
	return 0;
}

static char *
reply_for(const char *text, enum channel channel, struct analysis *a)
{
	char *err = NULL;
	if (dialog_analyze(engine, scratch, &settings, text, strlen(text), a, &err) < 0)
		fail_msg("%s", err);
	return dialog_reply(engine, a, channel, OUTPUT_TEXT);
}

static void
test_answer_with_both_variants(void **state)
{
	(void)state;
	struct analysis a;
	char *r = reply_for("Comment ins\xC3\xA9rer une facture ?", CHANNEL_MAIL, &a);
	assert_string_equal(analysis_intent_id(&a), "submit_invoice");
	assert_int_equal(a.decision, DECISION_ANSWER);
	assert_int_equal(a.match.audience, AUDIENCE_UNKNOWN);
	assert_non_null(strstr(r, "Vous \xC3\xAAtes une entreprise (MonCompte)"));
	assert_non_null(strstr(r, "Vous \xC3\xAAtes un organisme de formation (PartNet)"));
	assert_non_null(strstr(r, "[D\xC3\xA9poser une nouvelle facture]"));
	assert_true(str_starts_with(r, "Bonjour,"));
	assert_non_null(strstr(r, "r\xC3\xA9ponse automatique"));
	assert_non_null(strstr(r, "> Comment ins\xC3\xA9rer une facture ?"));
	free(r);
	analysis_clear(&a);
}

static void
test_answer_in_the_writers_variant(void **state)
{
	(void)state;
	struct analysis a;
	char *r = reply_for("Bonjour, nous sommes un CFA : comment d\xC3\xA9poser une facture sur un dossier ?",
			    CHANNEL_MAIL, &a);
	assert_string_equal(analysis_intent_id(&a), "submit_invoice");
	assert_int_equal(a.match.audience, AUDIENCE_ORGANISME);
	assert_null(strstr(r, "Vous \xC3\xAAtes une entreprise"));
	assert_non_null(strstr(r, "Dossiers & factures"));
	free(r);
	analysis_clear(&a);
}

static void
test_unknown_is_escalated(void **state)
{
	(void)state;
	struct analysis a;
	char *r = reply_for("Quel temps fera-t-il demain \xC3\xA0 Bordeaux ?", CHANNEL_MAIL, &a);
	assert_string_equal(analysis_intent_id(&a), "unknown");
	assert_int_equal(a.decision, DECISION_ESCALATE);
	assert_int_equal(a.reason, REASON_UNKNOWN);
	assert_non_null(strstr(r, "transmise \xC3\xA0 un conseiller"));
	assert_true(analysis_confidence(&a) > 0.0);
	free(r);
	analysis_clear(&a);
}

static void
test_handoff_and_small_talk(void **state)
{
	(void)state;
	struct analysis a;
	char *r = reply_for("Je voudrais parler \xC3\xA0 un conseiller", CHANNEL_MAIL, &a);
	assert_string_equal(analysis_intent_id(&a), "human_handoff");
	assert_int_equal(a.decision, DECISION_ESCALATE);
	assert_int_equal(a.reason, REASON_HANDOFF);
	free(r);
	analysis_clear(&a);

	r = reply_for("Bonjour !", CHANNEL_CHAT, &a);
	assert_string_equal(analysis_intent_id(&a), "greeting");
	assert_int_equal(a.decision, DECISION_SMALL_TALK);
	free(r);
	analysis_clear(&a);

	r = reply_for("Merci beaucoup, bonne journ\xC3\xA9" "e", CHANNEL_CHAT, &a);
	assert_string_equal(analysis_intent_id(&a), "thanks");
	free(r);
	analysis_clear(&a);
}

static void
test_dossier_status_is_never_answered_automatically(void **state)
{
	(void)state;
	struct analysis a;
	char *r = reply_for("O\xC3\xB9 en est mon dossier 2024-001234 ?", CHANNEL_MAIL, &a);
	assert_string_equal(analysis_intent_id(&a), "dossier_status");
	assert_int_equal(a.decision, DECISION_ESCALATE);
	assert_int_equal(a.reason, REASON_DOSSIER_STATUS);
	assert_non_null(strstr(r, "confidentielle"));
	free(r);
	analysis_clear(&a);
}

static void
test_unreadable_input(void **state)
{
	(void)state;
	struct analysis a;
	char *err = NULL;
	assert_int_equal(dialog_analyze(engine, scratch, &settings, "mot de passe \xFF", 14, &a, &err), -1);
	assert_non_null(strstr(err, "invalid UTF-8 at offset 13"));
	free(err);
	assert_int_equal(dialog_analyze(engine, scratch, &settings, "a\0b", 3, &a, &err), -1);
	assert_non_null(strstr(err, "NUL byte"));
	free(err);
	/* Empty text is readable: it asks nothing, so it goes to a person. */
	assert_int_equal(dialog_analyze(engine, scratch, &settings, "", 0, &a, &err), 0);
	assert_string_equal(analysis_intent_id(&a), "unknown");
	analysis_clear(&a);
}

static void
test_chat_clarifies_two_close_intents(void **state)
{
	(void)state;
	/* A margin of 1 makes any two confident intents "close". */
	struct dialog_settings wide = settings;
	wide.min_margin = 1.0;
	struct conversation conv = {0};
	struct analysis a;
	char *reply = NULL, *err = NULL;
	const char *q = "Je ne sais plus quel est mon identifiant ni mon mot de passe";
	assert_int_equal(dialog_chat_turn(engine, scratch, &wide, &conv, q, strlen(q), &a, &reply, &err), 0);
	assert_int_equal(a.decision, DECISION_ANSWER_TWO);
	assert_non_null(strstr(reply, "1. "));
	assert_non_null(strstr(reply, "2. "));
	assert_non_null(conv.pending_first);
	const struct intent_def *second = conv.pending_second;
	free(reply);
	analysis_clear(&a);

	/* The buttons: both titles and a person; a click sends a title, which picks it. */
	char *offers = dialog_chat_offers(engine, &conv);
	assert_non_null(offers);
	char *first_title = xstrdup(offers);
	*strchr(first_title, '\n') = '\0';
	assert_non_null(strstr(offers, "\nParler \xC3\xA0 un conseiller"));
	free(offers);
	struct conversation clicked = conv;
	assert_int_equal(dialog_chat_turn(engine, scratch, &wide, &clicked, first_title, strlen(first_title), &a, &reply,
					  &err), 0);
	assert_ptr_equal(a.first, conv.pending_first);
	assert_int_not_equal(a.decision, DECISION_CLARIFY);
	free(first_title);
	free(reply);
	analysis_clear(&a);

	assert_int_equal(dialog_chat_turn(engine, scratch, &wide, &conv, "2", 1, &a, &reply, &err), 0);
	assert_int_equal(a.decision, DECISION_ANSWER);
	assert_ptr_equal(a.first, second);
	assert_null(conv.pending_first);
	assert_null(dialog_chat_offers(engine, &conv));
	free(reply);
	analysis_clear(&a);

	/* The audience stated once is remembered for the rest of the conversation. */
	const char *who = "Nous sommes un organisme de formation";
	assert_int_equal(dialog_chat_turn(engine, scratch, &settings, &conv, who, strlen(who), &a, &reply, &err), 0);
	free(reply);
	analysis_clear(&a);
	const char *inv = "Comment ins\xC3\xA9rer une facture ?";
	assert_int_equal(dialog_chat_turn(engine, scratch, &settings, &conv, inv, strlen(inv), &a, &reply, &err), 0);
	assert_int_equal(a.match.audience, AUDIENCE_ORGANISME);
	assert_null(strstr(reply, "Vous \xC3\xAAtes une entreprise"));
	free(reply);
	analysis_clear(&a);

	/* Unreadable input gets a polite reply, not a crash. */
	assert_int_equal(dialog_chat_turn(engine, scratch, &settings, &conv, "\xC3", 1, &a, &reply, &err), -1);
	assert_non_null(strstr(reply, "n\xE2\x80\x99" "a pas pu \xC3\xAAtre lu"));
	free(reply);
	free(err);
}

/* The fast path (patterns tried only where their prefix starts a word) must find exactly
 * what running every pattern on the whole text finds. */
static void
test_dispatch_matches_full_scan(void **state)
{
	(void)state;
	const char *sets[] = { "dev.tsv", "extra.tsv" };
	size_t compared = 0;
	for (size_t k = 0; k < 2; k++) {
		char *path = xasprintf("%s/%s", TEST_DATA_DIR, sets[k]);
		FILE *f = fopen(path, "r");
		assert_non_null(f);
		char line[65536];
		while (fgets(line, sizeof(line), f)) {
			char *tab = strchr(line, '\t');
			if (tab == NULL)
				continue;
			*tab = '\0';
			size_t len = text_unescape_newlines(line);
			struct analysis fast, slow;
			char *err = NULL;
			intent_set_use_dispatch(engine->intents, true);
			assert_int_equal(dialog_analyze(engine, scratch, &settings, line, len, &fast, &err), 0);
			intent_set_use_dispatch(engine->intents, false);
			assert_int_equal(dialog_analyze(engine, scratch, &settings, line, len, &slow, &err), 0);
			intent_set_use_dispatch(engine->intents, true);
			assert_int_equal(fast.match.candidate_count, slow.match.candidate_count);
			for (size_t i = 0; i < fast.match.candidate_count; i++) {
				assert_ptr_equal(fast.match.candidates[i].intent, slow.match.candidates[i].intent);
				assert_true(fast.match.candidates[i].score == slow.match.candidates[i].score);
			}
			assert_int_equal(fast.match.audience, slow.match.audience);
			assert_string_equal(fast.match.audience_cue, slow.match.audience_cue);
			analysis_clear(&fast);
			analysis_clear(&slow);
			compared++;
		}
		fclose(f);
		free(path);
	}
	assert_true(compared > 500);
}

/* A short chat message that only hints at a subject gets that subject proposed; "oui"
 * answers it, "non" asks to rephrase; a mail with the same words is escalated. */
static void
test_chat_proposes_a_subject_for_short_hints(void **state)
{
	(void)state;
	struct conversation conv = {0};
	struct analysis a;
	char *reply = NULL, *err = NULL;
	assert_int_equal(dialog_chat_turn(engine, scratch, &settings, &conv, "mdp", 3, &a, &reply, &err), 0);
	assert_int_equal(a.decision, DECISION_CLARIFY);
	assert_non_null(strstr(reply, "Répondez « oui »"));
	assert_non_null(strstr(reply, "mot de passe"));
	assert_string_equal(conv.pending_first->id, "password_reset");
	free(reply);
	analysis_clear(&a);
	assert_int_equal(dialog_chat_turn(engine, scratch, &settings, &conv, "Oui !", 5, &a, &reply, &err), 0);
	assert_int_equal(a.decision, DECISION_ANSWER);
	assert_string_equal(a.first->id, "password_reset");
	assert_null(conv.pending_first);
	free(reply);
	analysis_clear(&a);

	assert_int_equal(dialog_chat_turn(engine, scratch, &settings, &conv, "facture ?", 9, &a, &reply, &err), 0);
	assert_int_equal(a.decision, DECISION_CLARIFY);
	free(reply);
	analysis_clear(&a);
	assert_int_equal(dialog_chat_turn(engine, scratch, &settings, &conv, "non", 3, &a, &reply, &err), 0);
	assert_non_null(strstr(reply, "reformuler"));
	assert_null(conv.pending_first);
	free(reply);
	analysis_clear(&a);

	/* The mail channel never guesses: the same words go to a person. */
	reply = reply_for("mdp", CHANNEL_MAIL, &a);
	assert_int_equal(a.decision, DECISION_ESCALATE);
	free(reply);
	analysis_clear(&a);

	/* A dossier status picked from a proposal is still escalated, never answered. */
	struct conversation c2 = { .pending_first = intent_set_find(engine->intents, "dossier_status") };
	assert_int_equal(dialog_chat_turn(engine, scratch, &settings, &c2, "oui", 3, &a, &reply, &err), 0);
	assert_int_equal(a.decision, DECISION_ESCALATE);
	assert_int_equal(a.reason, REASON_DOSSIER_STATUS);
	free(reply);
	analysis_clear(&a);
}

/* Audience from everything the text says, on the project's cues: company forms and trades
 * in the signature or anywhere, roles, self-description in parentheses, English, a
 * denied audience, and a mention of a CFA that is not the writer. */
static void
test_audience_from_the_whole_text(void **state)
{
	(void)state;
	const struct { const char *text; enum audience want; } cases[] = {
		{ "Bonjour, comment d\xC3\xA9poser une facture ?\nCordialement,\nService comptabilit\xC3\xA9\nCFA des Vall\xC3\xA9""es", AUDIENCE_ORGANISME },
		{ "Bonjour, o\xC3\xB9 trouver le num\xC3\xA9ro DECA ?\nMerci\nPaul, g\xC3\xA9rant", AUDIENCE_ENTREPRISE },
		{ "Notre deuxi\xC3\xA8me SAS doit \xC3\xAAtre ajout\xC3\xA9""e \xC3\xA0 mon compte", AUDIENCE_ENTREPRISE },
		{ "je suis formatrice, o\xC3\xB9 d\xC3\xA9poser la facture de la session ?", AUDIENCE_ORGANISME },
		{ "ici le cfa, on cherche le cerfa", AUDIENCE_ORGANISME },
		{ "c la fromagerie, le virement c pour quoi", AUDIENCE_ENTREPRISE },
		{ "We are a training provider, how do we upload an invoice?", AUDIENCE_ORGANISME },
		{ "I run a small vineyard (SCEA), how do I add an employee?", AUDIENCE_ENTREPRISE },
		{ "nos 3 salari\xC3\xA9s sont-ils pris en charge ?", AUDIENCE_ENTREPRISE },
		{ "Nous ne sommes pas un organisme de formation mais une EARL : o\xC3\xB9 est le CERFA ?", AUDIENCE_ENTREPRISE },
		{ "Notre apprenti a eu un accident, que dire au CFA ?\nCordialement\nEARL des Pr\xC3\xA9s", AUDIENCE_ENTREPRISE },
		{ "We are a small vineyard, how do we add a new employee?", AUDIENCE_ENTREPRISE },
		{ "I'm the HR manager, how do I change our bank details?", AUDIENCE_ENTREPRISE },
		{ "Nous ne sommes pas une entreprise mais un CFA : o\xC3\xB9 d\xC3\xA9poser les factures ?", AUDIENCE_ORGANISME },
		{ "Nos stagiaires de la session de mars n'apparaissent pas sur la facture", AUDIENCE_ORGANISME },
		{ "o\xC3\xB9 d\xC3\xA9poser une facture ?", AUDIENCE_UNKNOWN },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct analysis a;
		char *err = NULL;
		if (dialog_analyze(engine, scratch, &settings, cases[i].text, strlen(cases[i].text), &a, &err) < 0)
			fail_msg("%s", err);
		if (a.match.audience != cases[i].want)
			fail_msg("\"%s\": audience %s (cue \"%s\"), want %s", cases[i].text, audience_name(a.match.audience),
				 a.match.audience_cue, audience_name(cases[i].want));
		analysis_clear(&a);
	}
}

/* The out-of-scope detector on the project's data: questions sharing an FAQ entry's words
 * but asking what it does not answer go to a person; the plain requests next to them are
 * still answered. */
static void
test_out_of_scope_goes_to_a_person(void **state)
{
	(void)state;
	const struct { const char *text; const char *want; } cases[] = {
		{ "Le virement de la session de mars nous est arriv\xC3\xA9 en double, comment vous le rendre ?", "unknown" },
		{ "Notre facture d\xC3\xA9pos\xC3\xA9""e en juin n'a toujours pas \xC3\xA9t\xC3\xA9 r\xC3\xA9gl\xC3\xA9""e, quand allez-vous payer ?", "unknown" },
		{ "Les appels volontaires, c'est obligatoire ou pas pour une petite structure ?", "unknown" },
		{ "Nous contestons votre refus de prise en charge des frais de repas.", "unknown" },
		{ "Votre RIB doit \xC3\xAAtre v\xC3\xA9rifi\xC3\xA9 : cliquez sur le lien https://exemple.invalid sous 24 h", "unknown" },
		/* a report that it worked is not a question */
		{ "Bonjour, merci pour votre r\xC3\xA9ponse, nous avons pu d\xC3\xA9poser toutes les factures de la "
		  "session sans difficult\xC3\xA9 gr\xC3\xA2""ce \xC3\xA0 vos explications.", "unknown" },
		{ "Comment modifier le RIB de notre entreprise ?", "update_bank_details" },
		{ "\xC3\x80 quoi correspond le virement re\xC3\xA7u d'OCAPIAT ?", "payment_details" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct analysis a;
		char *err = NULL;
		if (dialog_analyze(engine, scratch, &settings, cases[i].text, strlen(cases[i].text), &a, &err) < 0)
			fail_msg("%s", err);
		if (strcmp(analysis_intent_id(&a), cases[i].want) != 0)
			fail_msg("\"%s\": %s (out of scope %.1f), want %s", cases[i].text, analysis_intent_id(&a),
				 a.match.out_of_scope, cases[i].want);
		analysis_clear(&a);
	}
}

/* Plain requests in other words: SMS style, slang, English (lexicon.tsv and the intents'
 * patterns for « ne me revient pas », « ko », « mail de bienvenue »…). */
static void
test_plain_requests_in_other_words(void **state)
{
	(void)state;
	const struct { const char *text; const char *want; } cases[] = {
		{ "acces hs depuis lundi", "login_trouble" },
		{ "le portail veut plus me laisser entrer", "login_trouble" },
		{ "cant get into my account", "login_trouble" },
		{ "mon mot de passe ne me revient pas", "password_reset" },
		{ "j'ai effac\xC3\xA9 le message de bienvenue o\xC3\xB9 il y avait mon identifiant", "identifier_reminder" },
		{ "nom d'utilisateur oubli\xC3\xA9", "identifier_reminder" },
		{ "g paum\xC3\xA9 mon id", "identifier_reminder" },
		{ "le paiement de mars couvre quoi ?", "payment_details" },
		{ "il y a quoi dans le reporting ?", "dashboard_reporting_contents" },
		{ "rappelez-nous au 0102030405", "human_handoff" },
		{ "the company I want to add doesn't show up", "company_not_found_when_adding" },
		{ "je dois payer notre AV", "pay_voluntary_calls" },
		{ "mon acc\xC3\xA8s est verrouill\xC3\xA9 depuis ce matin", "login_trouble" },
		{ "l'entreprise que je veux ajouter n'existe pas dans la recherche", "company_not_found_when_adding" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct analysis a;
		char *err = NULL;
		if (dialog_analyze(engine, scratch, &settings, cases[i].text, strlen(cases[i].text), &a, &err) < 0)
			fail_msg("%s", err);
		if (strcmp(analysis_intent_id(&a), cases[i].want) != 0)
			fail_msg("\"%s\": %s, want %s", cases[i].text, analysis_intent_id(&a), cases[i].want);
		analysis_clear(&a);
	}
}

/* Contrast and negation on the project's data: the denied subject does not count, the one
 * after « mais », « c'est », « juste » leads; ask shows what was denied. */
static void
test_denied_subject_does_not_count(void **state)
{
	(void)state;
	const struct { const char *text; const char *want; const char *denied; } cases[] = {
		{ "Ce n'est pas mon mot de passe que j'ai perdu, c'est mon identifiant.", "identifier_reminder",
		  "ce n est pas mon mot de passe" },
		{ "Ce n'est pas le mot de passe qui coince mais l'adresse mail qui n'est pas reconnue",
		  "email_not_referenced", "ce n est pas le mot de passe" },
		{ "Il ne s'agit pas d'ajouter une entreprise : la n\xC3\xB4tre n'appara\xC3\xAEt pas quand on tape le SIRET",
		  "company_not_found_when_adding", "il ne s agit pas d ajouter une entreprise" },
		{ "je ne cherche pas \xC3\xA0 exporter, juste \xC3\xA0 savoir ce que contient le tableau de bord",
		  "dashboard_reporting_contents", "je ne cherche pas a exporter" },
		/* a negation that denies nothing stays */
		{ "ce n'est pas possible de me connecter au portail", "login_trouble", "" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct analysis a;
		char *err = NULL;
		if (dialog_analyze(engine, scratch, &settings, cases[i].text, strlen(cases[i].text), &a, &err) < 0)
			fail_msg("%s", err);
		if (strcmp(analysis_intent_id(&a), cases[i].want) != 0 || strcmp(a.denied, cases[i].denied) != 0)
			fail_msg("\"%s\": %s (denied \"%s\"), want %s", cases[i].text, analysis_intent_id(&a), a.denied,
				 cases[i].want);
		analysis_clear(&a);
	}
}

/* Structures that are easily confused, and requests that name their subject far from the
 * verb: adding a company vs a company not found, the dashboard's contents, a participant
 * replaced on a sent request, the account's address vs the company's, an employee not
 * proposed. */
static void
test_confusable_requests(void **state)
{
	(void)state;
	const struct { const char *text; const char *want; } cases[] = {
		{ "Nous avons repris la SCEA voisine, je veux la rattacher \xC3\xA0 notre espace mais elle demeure "
		  "introuvable quand je tape son nom", "company_not_found_when_adding" },
		{ "Dans le tableau de bord, trouve-t-on aussi la liste des factures r\xC3\xA9gl\xC3\xA9""es ?",
		  "dashboard_reporting_contents" },
		{ "Je ne parviens plus \xC3\xA0 retenir mon mot de passe, pouvez-vous m'aider ?", "password_reset" },
		{ "Une stagiaire est malade : peut-on mettre sa coll\xC3\xA8gue \xC3\xA0 sa place sur la demande "
		  "d\xC3\xA9j\xC3\xA0 envoy\xC3\xA9""e ?", "modify_submitted_request" },
		{ "Je voudrais que mon compte utilise d\xC3\xA9sormais ma nouvelle adresse", "change_account_email" },
		{ "Le salari\xC3\xA9 que je veux inscrire n'est pas propos\xC3\xA9 dans l'\xC3\xA9tape des stagiaires",
		  "add_employee_trainee" },
		{ "Our new seasonal worker is not in our employee list, how do we enrol him?", "add_employee_trainee" },
		{ "Comment configurer les comptes des utilisateurs sous MAGESTIC ? je ne trouve pas l'option",
		  "magestic_user_admin" },
		{ "how do I link another company to my login", "add_company_to_account" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct analysis a;
		char *err = NULL;
		if (dialog_analyze(engine, scratch, &settings, cases[i].text, strlen(cases[i].text), &a, &err) < 0)
			fail_msg("%s", err);
		if (strcmp(analysis_intent_id(&a), cases[i].want) != 0)
			fail_msg("\"%s\": %s, want %s", cases[i].text, analysis_intent_id(&a), cases[i].want);
		analysis_clear(&a);
	}
}

/* A question in English or franglais is understood and answered in French, the answer
 * saying so first; a French question, or small talk, gets no such note. */
static void
test_english_is_answered_in_french(void **state)
{
	(void)state;
	const char *note = "Vous nous avez \xC3\xA9""crit en anglais : nous vous r\xC3\xA9pondons en fran\xC3\xA7""ais";
	const struct { const char *text; const char *want; bool noted; } cases[] = {
		{ "where can I find the DECA number of my apprentice?", "find_deca_number", true },
		{ "I need to change the email of my account", "change_account_email", true },
		{ "o\xC3\xB9 trouver le num\xC3\xA9ro DECA ?", "find_deca_number", false },
		{ "login ko", "login_trouble", false },
		{ "thank you!", "thanks", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct analysis a;
		char *r = reply_for(cases[i].text, CHANNEL_CHAT, &a);
		if (strcmp(analysis_intent_id(&a), cases[i].want) != 0)
			fail_msg("\"%s\": %s, want %s", cases[i].text, analysis_intent_id(&a), cases[i].want);
		if (cases[i].noted != str_starts_with(r, note))
			fail_msg("\"%s\": reply \"%.60s\"", cases[i].text, r);
		free(r);
		analysis_clear(&a);
	}
}

/* A FAQ answer that differs for entreprises and organismes de formation: the chat asks
 * who writes (with the two buttons) rather than giving both; the answer to that gets the
 * one variant, a new question is read as one; the mail gives both variants at once. */
static void
test_chat_asks_the_audience_when_it_matters(void **state)
{
	(void)state;
	const char *q = "Comment ins\xC3\xA9rer une facture ?";
	const char *answers[] = { "Un organisme de formation", "Nous sommes une entreprise", "une entreprise", "CFA" };
	const enum audience expected[] = { AUDIENCE_ORGANISME, AUDIENCE_ENTREPRISE, AUDIENCE_ENTREPRISE, AUDIENCE_ORGANISME };
	for (size_t i = 0; i < sizeof(answers) / sizeof(*answers); i++) {
		struct conversation conv = {0};
		struct analysis a;
		char *reply = NULL, *err = NULL;
		assert_int_equal(dialog_chat_turn(engine, scratch, &settings, &conv, q, strlen(q), &a, &reply, &err), 0);
		assert_int_equal(a.decision, DECISION_CLARIFY);
		assert_non_null(strstr(reply, "MonCompte"));
		assert_null(strstr(reply, "Vous \xC3\xAAtes une entreprise (MonCompte)"));
		char *offers = dialog_chat_offers(engine, &conv);
		assert_string_equal(offers, "Une entreprise\nUn organisme de formation");
		free(offers);
		free(reply);
		analysis_clear(&a);
		assert_int_equal(dialog_chat_turn(engine, scratch, &settings, &conv, answers[i], strlen(answers[i]), &a,
						  &reply, &err), 0);
		assert_int_equal(a.decision, DECISION_ANSWER);
		assert_string_equal(a.first->id, "submit_invoice");
		assert_int_equal(a.match.audience, expected[i]);
		assert_int_equal(conv.audience, expected[i]);
		assert_null(conv.pending_audience);
		assert_null(strstr(reply, "Vous \xC3\xAAtes"));
		free(reply);
		analysis_clear(&a);
	}
	/* Another question instead of an answer is read as a question. */
	struct conversation conv = {0};
	struct analysis a;
	char *reply = NULL, *err = NULL;
	assert_int_equal(dialog_chat_turn(engine, scratch, &settings, &conv, q, strlen(q), &a, &reply, &err), 0);
	free(reply);
	analysis_clear(&a);
	const char *other = "J'ai oubli\xC3\xA9 mon mot de passe";
	assert_int_equal(dialog_chat_turn(engine, scratch, &settings, &conv, other, strlen(other), &a, &reply, &err), 0);
	assert_string_equal(a.first->id, "password_reset");
	free(reply);
	analysis_clear(&a);
	/* The mail never asks. */
	reply = reply_for(q, CHANNEL_MAIL, &a);
	assert_non_null(strstr(reply, "Vous \xC3\xAAtes une entreprise (MonCompte)"));
	free(reply);
	analysis_clear(&a);
}

static void
test_missing_data_folder(void **state)
{
	(void)state;
	char *err = NULL;
	assert_null(engine_load("/nonexistent/data", &err));
	assert_non_null(strstr(err, "/nonexistent/data: not a readable data folder"));
	free(err);
	char *dir = make_temp_dir();
	assert_null(engine_load(dir, &err));
	assert_non_null(strstr(err, "templates: cannot open folder"));
	assert_non_null(strstr(err, "faq-data: cannot open folder"));
	assert_non_null(strstr(err, "intents: cannot open folder"));
	free(err);
	/* A folder that cannot be read (here: a file where a folder should be, which even root
	 * cannot list) gives the same clear error. */
	write_file(dir, "templates", "not a folder\n");
	assert_null(engine_load(dir, &err));
	assert_non_null(strstr(err, "templates: cannot open folder: Not a directory"));
	free(err);
	rm_rf(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answer_with_both_variants),
		cmocka_unit_test(test_answer_in_the_writers_variant),
		cmocka_unit_test(test_unknown_is_escalated),
		cmocka_unit_test(test_handoff_and_small_talk),
		cmocka_unit_test(test_dossier_status_is_never_answered_automatically),
		cmocka_unit_test(test_unreadable_input),
		cmocka_unit_test(test_chat_clarifies_two_close_intents),
		cmocka_unit_test(test_chat_proposes_a_subject_for_short_hints),
		cmocka_unit_test(test_chat_asks_the_audience_when_it_matters),
		cmocka_unit_test(test_audience_from_the_whole_text),
		cmocka_unit_test(test_out_of_scope_goes_to_a_person),
		cmocka_unit_test(test_plain_requests_in_other_words),
		cmocka_unit_test(test_denied_subject_does_not_count),
		cmocka_unit_test(test_confusable_requests),
		cmocka_unit_test(test_english_is_answered_in_french),
		cmocka_unit_test(test_dispatch_matches_full_scan),
		cmocka_unit_test(test_missing_data_folder),
	};
	return cmocka_run_group_tests_name("dialog", tests, setup, teardown);
}
