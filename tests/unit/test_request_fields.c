/* Tests of request_fields: e-mail addresses, SIRETs, identifiers and one-time codes found
 * in free text, and hostile text that yields nothing. */
#include "autoconf.h"
#include "testutil.h"
#include "testtemplates.h"
#include "directory/request_fields.h"
#include "engine/template.h"


static void
expect_identifier(const char *text, bool alone, const char *want)
{
	char *got = field_identifier(text, alone);
	if (want == NULL) {
		if (got != NULL)
			fail_msg("\"%s\": found \"%s\", expected nothing", text, got);
	} else {
		if (got == NULL)
			fail_msg("\"%s\": nothing found, expected \"%s\"", text, want);
		assert_string_equal(got, want);
	}
	free(got);
}

static void
test_identifiers(void **state)
{
	(void)state;
	expect_identifier("Mot de passe perdu, mon identifiant est JMOREAU01.", false, "JMOREAU01");
	expect_identifier("mon identifiant : ALEMAIRE, merci", false, "ALEMAIRE");
	expect_identifier("Identifiant de connexion « dupont.j42 »", false, "dupont.j42");
	expect_identifier("j'ai oublié mon identifiant", false, NULL);
	expect_identifier("identifiant oublié depuis hier", false, NULL);
	expect_identifier("identifiant et mot de passe", false, NULL);
	expect_identifier("JMOREAU01", true, "JMOREAU01");
	expect_identifier("  jmoreau01 .", true, "jmoreau01");
	expect_identifier("JMOREAU01", false, NULL);
	expect_identifier("bonjour", true, NULL);
	expect_identifier("'; DROP TABLE accounts; --", true, NULL);
}

static void
test_emails(void **state)
{
	(void)state;
	char *e = field_email("c'est J.Moreau@Scierie-des-Combes.example, merci");
	assert_string_equal(e, "j.moreau@scierie-des-combes.example");
	free(e);
	assert_null(field_email("pas d'adresse ici @ rien"));
	assert_null(field_email("x@y"));
	e = field_email("<a@b.example>");
	assert_string_equal(e, "a@b.example");
	free(e);
}

static void
test_sirets(void **state)
{
	(void)state;
	char s[15];
	assert_true(field_siret("notre SIRET : 412 387 656 00025", s));
	assert_string_equal(s, "41238765600025");
	assert_true(field_siret("41238765600025", s));
	assert_false(field_siret("41238765600026", s));      /* wrong key */
	assert_false(field_siret("412387656000251", s));     /* 15 digits */
	assert_false(field_siret("06 12 34 56 78", s));
}

static void
test_codes(void **state)
{
	(void)state;
	/* A one-time code: eight digits standing alone, in the shapes people type them. */
	static const struct {
		const char *text, *code;  /* code NULL: none found */
	} cases[] = {
		{ "12345678", "12345678" },
		{ "le code est 8765 4321 !", "87654321" },
		{ "1234-5678", "12345678" },
		{ "mon code : 0000 0001.", "00000001" },
		{ "123456", NULL },             /* the former six-digit shape */
		{ "1234567", NULL },
		{ "123456789", NULL },
		{ "1234 56789", NULL },
		{ "12345 678", NULL },
		{ "1234  5678", NULL },         /* two spaces: two numbers */
		{ "AF-2023-018745", NULL },     /* a dossier number */
		{ "CA-2023-0098412", NULL },
		{ "-1234-5678", NULL },
		{ "41238765600025", NULL },     /* a SIRET */
		{ "06 12 34 56 78", NULL },     /* a phone number */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char c[9] = "";
		bool found = field_code(cases[i].text, c);
		if (found != (cases[i].code != NULL) || (found && strcmp(c, cases[i].code) != 0))
			fail_msg("\"%s\": found %d \"%s\", expected %s", cases[i].text, found, found ? c : "",
				 cases[i].code ? cases[i].code : "none");
	}
}

/* In a thread where a code was sent, a code quoted in any shape is removed: the eight
 * digits of today's codes, and the six of the codes sent before. */
static void
test_scrub_codes(void **state)
{
	(void)state;
	static const char *const quoted[] = {
		"> 12345678", "code 1234 5678 reçu", "1234-5678", "12 34 56 78", "1.2.3.4.5.6.7.8", "123456", "123 456",
	};
	for (size_t i = 0; i < sizeof(quoted) / sizeof(*quoted); i++) {
		char *out = field_scrub_secrets(templates, quoted[i], true);
		if (strstr(out, "[code retiré]") == NULL || strpbrk(out, "0123456789") != NULL)
			fail_msg("\"%s\" scrubbed as \"%s\"", quoted[i], out);
		free(out);
		out = field_scrub_secrets(templates, quoted[i], false);
		assert_string_equal(out, quoted[i]);  /* elsewhere, numbers stay */
		free(out);
	}
	char *out = field_scrub_secrets(templates, "SIRET 41238765600025, tél. 0612, 123456789", true);
	assert_string_equal(out, "SIRET 41238765600025, tél. 0612, 123456789");
	free(out);
}

static void
test_hostile_text(void **state)
{
	(void)state;
	char big[12000];
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	char s[15], c[9];
	char *got = field_identifier(big, true);
	assert_null(got);  /* longer than any identifier */
	assert_null(field_email(big));
	assert_false(field_siret(big, s));
	assert_false(field_code(big, c));
	const char invalid[] = "identifiant est \xff\xfe JMOREAU01 12345678 a@b.example";
	assert_null(field_identifier(invalid, false));
	assert_null(field_email(invalid));
	assert_false(field_code(invalid, c));
	got = field_identifier("identifiant est AB12\r\nBcc: x@y.example", false);
	assert_string_equal(got, "AB12");
	free(got);
}

static void
test_scrub(void **state)
{
	(void)state;
	const char *token = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE";
	char *text = xasprintf("> https://x.example/reinitialisation?jeton=%s\n> code 123-456 ou 654321, tél. 0612\n%s",
			       token, token);
	char *always = field_scrub_secrets(templates, text, false);
	assert_null(strstr(always, "jeton=AbCd"));
	assert_null(strstr(always, token));  /* a bare token too, in any thread */
	assert_non_null(strstr(always, "123-456"));  /* outside a secret thread, numbers stay */
	char *secret = field_scrub_secrets(templates, text, true);
	assert_null(strstr(secret, token));
	assert_null(strstr(secret, "123-456"));
	assert_null(strstr(secret, "654321"));
	assert_non_null(strstr(secret, "tél. 0612"));
	free(secret);
	free(always);
	free(text);
	char *plain = field_scrub_secrets(templates, "Bonjour, rien à retirer ici.", true);
	assert_string_equal(plain, "Bonjour, rien à retirer ici.");
	free(plain);
}

static void
test_remove_links(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "voir https://evil.example/login?x=1 vite", "voir [lien retiré] vite" },
		{ "HTTP://EVIL.EXAMPLE", "[lien retiré]" },
		{ "hxxps://evil.example/a", "[lien retiré]" },
		{ "sur www.ocapiat-verif.example/page.", "sur [lien retiré]" },
		{ "allez sur ocapiat-compte.com/connexion sous 24 h", "allez sur [lien retiré] sous 24 h" },
		{ "le site mon-espace.ocapiat.fr.", "le site [lien retiré]." },
		{ "«https://a.example/»", "«[lien retiré]»" },
		{ "<http://a.example/x>", "<[lien retiré]>" },
		/* What stays: e-mail addresses, file names, dossier numbers, ordinary dots. */
		{ "écrivez à jean.dupont@example.com", "écrivez à jean.dupont@example.com" },
		{ "la facture.pdf et le dossier AF-2023-018745.", "la facture.pdf et le dossier AF-2023-018745." },
		{ "Bonjour.Merci M. Dupont, etc.", "Bonjour.Merci M. Dupont, etc." },
		{ "", "" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *out = field_remove_links(templates, cases[i].in);
		if (strcmp(out, cases[i].out) != 0)
			fail_msg("\"%s\" gave \"%s\", expected \"%s\"", cases[i].in, out, cases[i].out);
		free(out);
	}
	/* Text PCRE2 cannot read (not UTF-8) comes back as it was: it never reaches a mail. */
	char *bad = field_remove_links(templates, "\xff\xfe http://a.example");
	assert_string_equal(bad, "\xff\xfe http://a.example");
	free(bad);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identifiers), cmocka_unit_test(test_emails), cmocka_unit_test(test_sirets),
		cmocka_unit_test(test_codes), cmocka_unit_test(test_hostile_text), cmocka_unit_test(test_scrub),
		cmocka_unit_test(test_scrub_codes),
		cmocka_unit_test(test_remove_links),
	};
	return cmocka_run_group_tests(tests, load_templates, free_templates);
}
