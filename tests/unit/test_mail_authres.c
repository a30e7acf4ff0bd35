/* Tests of mail_authres: one table of Authentication-Results headers, each with the
 * verdict for the sender scierie@scierie-des-combes.example and our MTA mx.ocapiat.test.
 * Every line that must not pass is an attack or a mistake seen in the wild. */
#include "autoconf.h"
#include "testutil.h"
#include "formats/mail_authres.h"

#define OURS "mx.ocapiat.test"
#define FROM "scierie@scierie-des-combes.example"

static const struct {
	const char *header;
	bool passes;
	const char *why;
} cases[] = {
	{ OURS "; dkim=pass header.d=scierie-des-combes.example", true, "dkim for the From domain" },
	{ OURS "; spf=pass smtp.mailfrom=bounce@scierie-des-combes.example", true, "spf for the From domain" },
	{ OURS "; spf=pass smtp.mailfrom=scierie-des-combes.example", true, "spf, a bare domain" },
	{ OURS " 1; dkim=pass header.d=scierie-des-combes.example", true, "a version number after the authserv-id" },
	{ "MX.OCAPIAT.TEST; DKIM=Pass Header.D=Scierie-Des-Combes.Example", true, "case does not matter" },
	{ OURS "; dkim=pass (2048-bit key; unprotected) header.d=scierie-des-combes.example header.s=sel", true,
	  "a comment holding a ';' between the result and its properties" },
	{ OURS ";\r\n\tspf=fail smtp.mailfrom=scierie-des-combes.example;\r\n\tdkim=pass header.d=scierie-des-combes.example",
	  true, "folded, the second result passes" },
	{ OURS "; dkim=none", false, "no signature" },
	{ OURS "; dkim=fail header.d=scierie-des-combes.example", false, "a failed signature" },
	{ OURS "; dkim=neutral header.d=scierie-des-combes.example", false, "neutral is not pass" },
	{ "mx.evil.test; dkim=pass header.d=scierie-des-combes.example", false, "another authserv-id: the sender wrote it" },
	{ "mx.ocapiat.test.evil.test; dkim=pass header.d=scierie-des-combes.example", false,
	  "our name as a prefix of theirs" },
	{ OURS "; dkim=pass header.d=scierie-des-combes.example.evil.test", false, "our sender's domain as a prefix" },
	{ OURS "; dkim=pass header.d=sub.scierie-des-combes.example", false, "a subdomain is another domain" },
	{ OURS "; dkim=pass header.d=attacker.test", false, "a pass for another domain" },
	{ OURS "; dkim=fail header.d=scierie-des-combes.example (dkim=pass)", false, "a pass inside a comment" },
	{ OURS "; spf=fail (x; dkim=pass header.d=scierie-des-combes.example)", false, "a resinfo inside a comment" },
	{ OURS "; dkim=pass header.d=attacker.test (header.d=scierie-des-combes.example)", false,
	  "the property inside a comment" },
	{ OURS "; spf=pass smtp.mailfrom=\"a;dkim=pass header.d=scierie-des-combes.example b\"@attacker.test", false,
	  "a resinfo inside a quoted local part" },
	{ OURS "; spf=pass smtp.mailfrom=x@evil-scierie-des-combes.example", false, "a domain ending like ours" },
	{ OURS "; dkim=pass policy.header.d=scierie-des-combes.example", false, "another property ending in header.d" },
	{ OURS "; dkim=pass header.d=evil@scierie-des-combes.example", false, "header.d is a domain, not an address" },
	{ OURS "; dkimx=pass header.d=scierie-des-combes.example", false, "another method" },
	{ OURS "; header.d=scierie-des-combes.example dkim=pass", false, "the result must come first" },
	{ OURS, false, "no result at all" },
	{ "", false, "empty" },
	{ "; dkim=pass header.d=scierie-des-combes.example", false, "no authserv-id" },
	{ OURS "; dkim=pass header.d=scierie-des-combes.example\xFF", false, "a byte after the domain" },
	{ "(" OURS ") mx.evil.test; dkim=pass header.d=scierie-des-combes.example", false,
	  "our name in a comment before theirs" },
};

static void
test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		bool got = mail_authres_sender_passes(cases[i].header, OURS, FROM);
		if (got != cases[i].passes)
			fail_msg("case %zu (%s): \"%s\" %s", i, cases[i].why, cases[i].header,
				 got ? "passed" : "did not pass");
	}
}

/* Nothing passes without a header, an authserv-id configured or a sender address. */
static void
test_missing_arguments(void **state)
{
	(void)state;
	const char *good = OURS "; dkim=pass header.d=scierie-des-combes.example";
	assert_true(mail_authres_sender_passes(good, OURS, FROM));
	assert_false(mail_authres_sender_passes(NULL, OURS, FROM));
	assert_false(mail_authres_sender_passes(good, NULL, FROM));
	assert_false(mail_authres_sender_passes(good, OURS, NULL));
	assert_false(mail_authres_sender_passes(good, OURS, "not an address"));
	assert_false(mail_authres_sender_passes(good, OURS, "scierie@other.example"));
}

/* A long hostile value: comments nested deep and unbalanced quotes end cleanly. */
static void
test_hostile_value(void **state)
{
	(void)state;
	struct strbuf sb = {0};
	strbuf_adds(&sb, OURS "; ");
	for (int i = 0; i < 10000; i++)
		strbuf_adds(&sb, "((\"");
	strbuf_adds(&sb, "dkim=pass header.d=scierie-des-combes.example");
	assert_false(mail_authres_sender_passes(sb.data, OURS, FROM));
	strbuf_free(&sb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_missing_arguments),
		cmocka_unit_test(test_hostile_value),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
