/* Tests of negation: the denied subject or wish is taken out of the folded question, the
 * contrast that follows stays; negations that deny nothing (« je n'arrive pas », « ce
 * n'est pas possible », a worry without a contrast) are left alone. */
#include "autoconf.h"
#include "testutil.h"
#include "engine/negation.h"

static void
test_denials(void **state)
{
	(void)state;
	static const struct { const char *in; const char *out; const char *denied; } cases[] = {
		/* a denied subject, up to the contrast */
		{ "ce n est pas mon mot de passe c est mon identifiant", "mon identifiant", "ce n est pas mon mot de passe" },
		{ "il ne s agit pas d une facture mais de frais de repas", "de frais de repas", "il ne s agit pas d une facture" },
		{ "c est pas le rib juste le detail du virement", "juste le detail du virement", "c est pas le rib" },
		{ "it s not my password it s my username", "my username", "it s not my password" },
		/* a relative clause before the contrast is the shared predicate: it stays */
		{ "ce n est pas mon mot de passe que j ai perdu c est mon identifiant", "que j ai perdu mon identifiant",
		  "ce n est pas mon mot de passe" },
		/* without a contrast: the noun group only */
		{ "ma question ne porte pas sur le cerfa qui est imprime", "qui est imprime", "ma question ne porte pas sur le cerfa" },
		{ "ce n est pas le mot de passe je n arrive pas a me connecter", "je n arrive pas a me connecter",
		  "ce n est pas le mot de passe" },
		/* a denied wish needs a contrast */
		{ "je ne veux pas modifier la demande mais savoir ou elle en est", "savoir ou elle en est",
		  "je ne veux pas modifier la demande" },
		{ "pas besoin du numero deca juste du cerfa", "juste du cerfa", "pas besoin du numero deca" },
		{ "i don t want to change my email i want my username", "i want my username", "i don t want to change my email" },
		/* two denials */
		{ "ce n est pas le rib c est pas la facture mais le virement", "le virement",
		  "ce n est pas le rib / c est pas la facture" },
		/* nothing denied */
		{ "je n arrive pas a me connecter", "je n arrive pas a me connecter", "" },
		{ "ce n est pas possible de me connecter", "ce n est pas possible de me connecter", "" },
		{ "je ne veux pas perdre mon dossier", "je ne veux pas perdre mon dossier", "" },
		{ "pas besoin", "pas besoin", "" },
		{ "ce n est pas", "ce n est pas", "" },
		{ "", "", "" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *text = xstrdup(cases[i].in);
		char *denied = negation_mask(text);
		if (strcmp(text, cases[i].out) != 0 || strcmp(denied, cases[i].denied) != 0)
			fail_msg("\"%s\": kept \"%s\" denied \"%s\", want \"%s\" / \"%s\"", cases[i].in, text, denied,
				 cases[i].out, cases[i].denied);
		free(denied);
		free(text);
	}
}

/* A long message: every word is read (no cap), nothing is lost after a denial. */
static void
test_long_text(void **state)
{
	(void)state;
	struct strbuf sb = {0};
	for (int i = 0; i < 5000; i++)
		strbuf_adds(&sb, "mot ");
	strbuf_adds(&sb, "ce n est pas le rib mais la facture fin");
	char *text = strbuf_detach(&sb);
	char *denied = negation_mask(text);
	assert_string_equal(denied, "ce n est pas le rib");
	assert_true(str_ends_with(text, "mot la facture fin"));
	assert_int_equal(strlen(text), 5000 * 4 + strlen("la facture fin"));
	free(denied);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_denials),
		cmocka_unit_test(test_long_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
