/* Tests of lexicon: synonym rewriting (longest phrase first), one-typo correction,
 * and load errors naming file and line. */
#include "autoconf.h"
#include "testutil.h"
#include "engine/lexicon.h"

static struct lexicon *
load_text(const char *content, char **error_r, char **dir_r)
{
	*dir_r = make_temp_dir();
	write_file(*dir_r, "lexicon.tsv", content);
	char *path = xasprintf("%s/lexicon.tsv", *dir_r);
	struct lexicon *lex = lexicon_load(path, error_r);
	free(path);
	return lex;
}

static void
test_rewrite(void **state)
{
	(void)state;
	char *err = NULL, *dir;
	struct lexicon *lex = load_text("# comment\n\nmdp\tmot de passe\nlogin\tidentifiant\n"
					"code d acces\tidentifiant\ncode\tcode\n"
					"Relevé d'identité bancaire\trib\n", &err, &dir);
	assert_non_null(lex);
	lexicon_add_known_words(lex, "identifiant connexion facture bancaire");
	lexicon_seal(lex);
	static const struct { const char *in; const char *out; } cases[] = {
		{ "j ai perdu mon mdp", "j ai perdu mon mot de passe" },
		{ "mon code d acces ne marche pas", "mon identifiant ne marche pas" },
		{ "un code promo", "un code promo" },
		{ "voici mon releve d identite bancaire", "voici mon rib" },
		{ "mdpx", "mdpx" },               /* whole words only */
		{ "identifinat oublie", "identifiant oublie" },  /* swapped letters */
		{ "probleme de conexion", "probleme de connexion" }, /* missing letter */
		{ "factture", "facture" },        /* extra letter */
		{ "facturw", "facture" },         /* wrong letter */
		{ "fact", "fact" },               /* too short to correct */
		{ "", "" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *out = lexicon_apply(lex, cases[i].in, NULL);
		assert_string_equal(out, cases[i].out);
		free(out);
	}
	struct strbuf explain = {0};
	char *out = lexicon_apply(lex, "mdp et identifinat", &explain);
	assert_string_equal(explain.data, "mdp \xE2\x86\x92 mot de passe, identifinat \xE2\x86\x92 identifiant");
	free(out);
	strbuf_free(&explain);
	lexicon_free(&lex);
	assert_null(lex);
	rm_rf(dir);
	free(dir);
}

static void
test_ambiguous_typo_is_left_alone(void **state)
{
	(void)state;
	struct lexicon *lex = lexicon_new();
	lexicon_add_known_words(lex, "contrat contras");
	lexicon_seal(lex);
	char *out = lexicon_apply(lex, "contrax", NULL);  /* one edit from both */
	assert_string_equal(out, "contrax");
	free(out);
	lexicon_free(&lex);
}

static void
test_load_errors(void **state)
{
	(void)state;
	char *err = NULL, *dir;
	struct lexicon *lex = load_text("ok\tfine\nno tab here\n\tfoo\nbad\xFFutf8\tx\n", &err, &dir);
	assert_null(lex);
	assert_non_null(strstr(err, "lexicon.tsv:2: expected \"from<TAB>to\""));
	assert_non_null(strstr(err, "lexicon.tsv:3: empty word"));
	assert_non_null(strstr(err, "lexicon.tsv:4: invalid UTF-8"));
	free(err);
	rm_rf(dir);
	free(dir);
	assert_null(lexicon_load("/nonexistent/lexicon.tsv", &err));
	assert_non_null(strstr(err, "cannot open"));
	free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rewrite),
		cmocka_unit_test(test_ambiguous_typo_is_left_alone),
		cmocka_unit_test(test_load_errors),
	};
	return cmocka_run_group_tests_name("lexicon", tests, NULL, NULL);
}
