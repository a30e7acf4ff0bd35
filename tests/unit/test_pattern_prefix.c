/* Tests of pattern_prefix: which literal words a pattern's matches start with, and which
 * word they need further on. Every answer must be a necessary condition; -1 when unsure. */
#include "autoconf.h"
#include "testutil.h"
#include "engine/pattern_prefix.h"

/* Joins a prefix list as "a|b|c" (caller frees). */
static char *
joined(const struct prefix_list *l)
{
	struct strbuf sb = {0};
	strbuf_adds(&sb, "");
	for (size_t i = 0; i < l->count; i++) {
		if (i > 0)
			strbuf_addc(&sb, '|');
		strbuf_adds(&sb, l->items[i]);
	}
	return strbuf_detach(&sb);
}

/* A pattern and the prefixes expected, joined by '|'; NULL when the reader must give up. */
struct prefix_case {
	const char *pattern;
	const char *expected;
};

static void
check_cases(int (*read)(const char *, struct prefix_list *), const struct prefix_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct prefix_list l = {0};
		int rc = read(cases[i].pattern, &l);
		char *got = joined(&l);
		if (cases[i].expected == NULL) {
			if (rc != -1)
				fail_msg("%s: expected -1, got \"%s\"", cases[i].pattern, got);
			assert_int_equal(l.count, 0);
		} else if (rc != 0) {
			fail_msg("%s: expected prefixes", cases[i].pattern);
		} else if (strcmp(got, cases[i].expected) != 0) {
			fail_msg("%s: got \"%s\", expected \"%s\"", cases[i].pattern, got, cases[i].expected);
		}
		free(got);
		prefix_list_clear(&l);
	}
}

static void
test_start_prefixes(void **state)
{
	(void)state;
	static const struct prefix_case cases[] = {
		{ "\\bmot de passe\\b", "mot de passe" },
		{ "\\b(?:oubli\\w*|perdu) mot", "oubli|perdu" },  /* "oubli…" is open-ended: stop there */
		{ "\\bdossiers? transmis", "dossier" },
		{ "\\b(?:le |mon )?identifiant", "le |mon |identifiant" },
		{ "\\b(?:l|les) (?:ajouter|mettre)\\b", "l ajouter|l mettre|les ajouter|les mettre" },
		{ "\\b[a-b]\\d{6}", "a0|a1|a2|a3|a4|a5|a6|a7|a8|a9|b0|b1|b2|b3|b4|b5|b6|b7|b8|b9" },
		{ "\\b\\d+ fois", "0|1|2|3|4|5|6|7|8|9" },
		{ "^(?:bonjour|salut)\\b", "bonjour|salut" },
		{ "\\bfoo|\\bbar", "foo|bar" },
		{ "\\b(?:a|b)+c", "a|b" },
		/* unreadable or unsafe: -1 */
		{ "\\bsuivi volontaire|reporting\\b", NULL },     /* second alternative not at a word start */
		{ "facture", NULL },                                /* no \b: may start inside a word */
		{ "\\b\\w+ facture", NULL },
		{ "\\b(?i)Facture", NULL },
		{ "\\b(?=mot)mot", NULL },
		{ "\\bFacture", NULL },                             /* folded text has no capitals */
		{ "\\b(?:a|(?:b", NULL },                           /* unbalanced */
		{ "\\b(?:x)?", NULL },
	};
	check_cases(pattern_start_prefixes, cases, sizeof(cases) / sizeof(*cases));
}

/* An alternation at the start is not a product: however many alternatives, all count. */
static void
test_many_alternatives(void **state)
{
	(void)state;
	struct prefix_list l = {0};
	assert_int_equal(pattern_start_prefixes("\\b(?:[a-z]{2}\\d{6}|\\d{2}[a-z]{2}|(?:af|ca) \\d{4})\\b", &l), 0);
	assert_int_equal(l.count, 26 + 10 + 20);  /* "af 0" … "ca 9": a digit follows */
	prefix_list_clear(&l);
}

static void
test_required_prefixes(void **state)
{
	(void)state;
	static const struct prefix_case cases[] = {
		{ "\\bcontrat (?:\\w+ ){0,8}(?:rupture|fin anticipee)\\b", "rupture|fin anticipee" },
		{ "\\bmot de passe (?:\\w+ ){0,2}oubli\\w*", "oubli" },
		{ "\\bdossier (?:\\w+ )?(?:en cours|transmis)", "en cours|transmis" },
		/* after an optional element that does not end with a space, no word start is sure */
		{ "\\bx(?:le )?mot\\b", NULL },
		{ "\\bmot\\b", NULL },                               /* nothing after the start */
		{ "\\ba (?:b|c)?", NULL },                           /* optional */
		{ "\\ba|\\bb c", NULL },                             /* top-level alternation */
		{ "\\ba (?i)B", NULL },
	};
	check_cases(pattern_required_prefixes, cases, sizeof(cases) / sizeof(*cases));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_prefixes),
		cmocka_unit_test(test_many_alternatives),
		cmocka_unit_test(test_required_prefixes),
	};
	return cmocka_run_group_tests_name("pattern_prefix", tests, NULL, NULL);
}
