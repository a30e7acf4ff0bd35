/* Tests of text: UTF-8 validation, folding for matching, removal of greetings,
 * signatures, disclaimers and quoted history. Table-driven, after Dovecot's tests. */
#include "autoconf.h"
#include "testutil.h"
#include "core/text.h"

static void
test_validate(void **state)
{
	(void)state;
	static const struct { const char *s; size_t len; int ok; const char *why; } cases[] = {
		{ "plain ascii", 11, 0, NULL },
		{ "accentu\xC3\xA9 \xE2\x80\x99 \xF0\x9F\x98\x80", 0, 0, NULL },
		{ "bad \xC3", 5, -1, "invalid UTF-8 at offset 4" },
		{ "bad \xFF here", 10, -1, "invalid UTF-8 at offset 4" },
		{ "overlong \xC0\xAF", 11, -1, "invalid UTF-8 at offset 9" },
		{ "surrogate \xED\xA0\x80", 13, -1, "invalid UTF-8 at offset 10" },
		{ "nul\0inside", 10, -1, "NUL byte at offset 3" },
		{ "", 0, 0, NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *err = NULL;
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].s);
		int rc = text_validate(cases[i].s, len, &err);
		assert_int_equal(rc, cases[i].ok);
		if (rc < 0) {
			assert_string_equal(err, cases[i].why);
			free(err);
		}
	}
}

static void
test_fold(void **state)
{
	(void)state;
	static const struct { const char *in; const char *out; size_t words; } cases[] = {
		{ "J\xE2\x80\x99" "ai oubli\xC3\xA9 mon MOT-DE-PASSE !!", "j ai oublie mon mot de passe", 7 },
		{ "  \xC5\x92uvre   \xC3\xA9l\xC3\xA8ve  ", "oeuvre eleve", 2 },
		{ "N\xC2\xB0 DECA ?", "n deca", 2 },
		{ "\xC2\xAB Tableau de bord \xC2\xBB", "tableau de bord", 3 },
		{ "\xEF\xAC\x81" "chier", "fichier", 1 },                     /* ligature ﬁ */
		{ "CA-2023-0098412", "ca 2023 0098412", 3 },
		{ "\xF0\x9F\x98\x80 merci", "merci", 1 },                     /* emoji dropped */
		{ "STRASSE Stra\xC3\x9F" "e", "strasse strasse", 2 },
		{ "", "", 0 },
		{ "...!?", "", 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		size_t words = 99;
		char *out = text_fold(cases[i].in, strlen(cases[i].in), &words);
		assert_string_equal(out, cases[i].out);
		assert_int_equal(words, cases[i].words);
		free(out);
	}
}

static void
test_fold_huge_line(void **state)
{
	(void)state;
	size_t n = 1024 * 1024;
	char *big = xmalloc(n + 1);
	for (size_t i = 0; i < n; i++)
		big[i] = (i % 7 == 6) ? ' ' : (char)('a' + i % 26);
	big[n] = '\0';
	char *err = NULL;
	assert_int_equal(text_validate(big, n, &err), 0);
	size_t words;
	char *out = text_fold(big, n, &words);
	assert_true(words > 100000);
	free(out);
	char *stripped = text_strip_noise(big);
	assert_int_equal(strlen(stripped), n + 1);  /* one line, kept whole, with its line break */
	free(stripped);
	free(big);
}

static void
test_strip_noise(void **state)
{
	(void)state;
	static const struct { const char *name; const char *in; const char *out; } cases[] = {
		{ "greeting and closing",
		  "Bonjour,\nJe n'arrive pas à me connecter.\nCordialement,\nMarie Dupont\nSARL Vergers",
		  "Je n'arrive pas à me connecter.\n" },
		{ "greeting with a name",
		  "Bonjour Madame Durand,\n\nOù trouver le n° DECA ?\nBien à vous",
		  "\nOù trouver le n° DECA ?\n" },
		{ "inline greeting is kept for word-level stripping",
		  "Bonjour, rappel identifiant svp",
		  "Bonjour, rappel identifiant svp\n" },
		{ "signature separator",
		  "Comment insérer une facture ?\n-- \nJean\n01 02 03 04 05",
		  "Comment insérer une facture ?\n" },
		{ "french quote header",
		  "Merci, et pour la facture ?\n\nLe lun. 6 mars 2023 à 10:12, Dialoguer avec OCAPIAT <d@o.test> a écrit :\n> Bonjour\n> ancien texte",
		  "Merci, et pour la facture ?\n\n" },
		{ "french quote header wrapped",
		  "Ma question\nLe 6 mars 2023 à 10:12, Dialoguer avec OCAPIAT <\nd@o.test> a écrit :\n> old",
		  "Ma question\n" },
		{ "answer below the quote (bottom-posting): the quote goes, the answer stays",
		  "Bonjour,\n\nLe 3 mars, Support OCAPIAT a \xC3\xA9""crit :\n> Avez-vous essay\xC3\xA9 ?\n\nOui, et \xC3\xA7""a bloque encore.\nCordialement,\nPaul",
		  "\n\nOui, et \xC3\xA7""a bloque encore.\n" },
		{ "answer below a wrapped attribution",
		  "Le 3 mars 2026 \xC3\xA0 9:00, Support <\ns@o.test> a \xC3\xA9""crit :\n> ancien\nNouveau texte",
		  "Nouveau texte\n" },
		{ "an attribution after the answer still ends it",
		  "R\xC3\xA9ponse\nLe 3 mars, X a \xC3\xA9""crit :\n> ancien\nsuite de l'historique",
		  "R\xC3\xA9ponse\n" },
		{ "outlook header block",
		  "Voir ci-dessous.\n________________________________\nDe : Jean\nEnvoyé : lundi\nÀ : support\nObjet : dossier",
		  "Voir ci-dessous.\n" },
		{ "outlook header block without rule",
		  "Pouvez-vous ajouter l'entreprise ?\n\nDe : Jean Martin\nEnvoyé : lundi 6 mars 2023\nObjet : TR: dossier",
		  "Pouvez-vous ajouter l'entreprise ?\n\n" },
		{ "message d'origine",
		  "Nouvelle question\n-----Message d'origine-----\nDe: x\nancienne question",
		  "Nouvelle question\n" },
		{ "disclaimer",
		  "Où est le CERFA ?\n\nCe message et toutes les pièces jointes sont confidentiels.",
		  "Où est le CERFA ?\n\n" },
		{ "quoted lines are dropped, interleaved text kept",
		  "> ancienne\nNouvelle\n> ancienne 2\nSuite",
		  "Nouvelle\nSuite\n" },
		{ "closing formula with a question after it is content",
		  "Merci de m'indiquer comment déposer une facture sur le dossier",
		  "Merci de m'indiquer comment déposer une facture sur le dossier\n" },
		{ "politeness alone is no question",
		  "Merci beaucoup, bonne journée",
		  "" },
		{ "empty", "", "" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *out = text_strip_noise(cases[i].in);
		if (strcmp(out, cases[i].out) != 0)
			fail_msg("%s: got \"%s\", expected \"%s\"", cases[i].name, out, cases[i].out);
		free(out);
	}
}

static void
test_strip_politeness(void **state)
{
	(void)state;
	static const struct { const char *in; const char *out; size_t words; } cases[] = {
		{ "bonjour rappel identifiant svp", "rappel identifiant", 2 },
		{ "merci d avance pour votre aide", "", 0 },
		{ "bonsoir", "", 0 },
		{ "bonjour madame je voudrais mon mot de passe merci", "je voudrais mon mot de passe", 6 },
		{ "remerciement", "remerciement", 1 },      /* whole words only */
		{ "", "", 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *s = xstrdup(cases[i].in);
		size_t words = text_strip_politeness(s);
		assert_string_equal(s, cases[i].out);
		assert_int_equal(words, cases[i].words);
		assert_int_equal(text_count_words(s), cases[i].words);
		free(s);
	}
}

static void
test_unescape_newlines(void **state)
{
	(void)state;
	char s[] = "Bonjour,\\nQuestion\\n\\\\x";
	size_t n = text_unescape_newlines(s);
	assert_string_equal(s, "Bonjour,\nQuestion\n\\\\x");
	assert_int_equal(n, strlen(s));
}

/* A subject from a message: its first line, never cut inside a character. */
static void
test_first_line(void **state)
{
	(void)state;
	char *line = text_first_line("Bonjour\r\nle reste", 80);
	assert_string_equal(line, "Bonjour");
	free(line);
	line = text_first_line("abcé", 4);  /* "é" is 2 bytes: bytes 3-4 */
	assert_string_equal(line, "abc");
	free(line);
	line = text_first_line("abcé", 5);
	assert_string_equal(line, "abcé");
	free(line);
	line = text_first_line("", 10);
	assert_string_equal(line, "");
	free(line);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_first_line),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_fold_huge_line),
		cmocka_unit_test(test_strip_noise),
		cmocka_unit_test(test_strip_politeness),
		cmocka_unit_test(test_unescape_newlines),
	};
	return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
