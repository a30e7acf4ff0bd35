/* Tests of faq: the project's faq-data/ loads whole; variants, steps and references are
 * kept; malformed files are refused with file and line. */
#include "autoconf.h"
#include "testutil.h"
#include "engine/faq.h"

static void
test_project_faq_data(void **state)
{
	(void)state;
	char *dir = xasprintf("%s/faq-data", source_data_dir());
	char *err = NULL;
	struct faq *faq = faq_load(dir, &err);
	if (faq == NULL)
		fail_msg("%s", err);
	assert_int_equal(faq_count(faq), 34);
	const struct faq_entry *f = faq_find(faq, "submit_invoice");
	assert_non_null(f);
	assert_string_equal(f->question, "Comment ins\xC3\xA9rer une facture ?");
	assert_non_null(f->entreprise);
	assert_non_null(f->organisme);
	assert_non_null(strstr(f->entreprise, "[D\xC3\xA9poser une nouvelle facture]"));
	assert_non_null(strstr(f->entreprise, "1. Rendez-vous dans le menu Dossiers de formation > Dossiers transmis"));
	assert_null(strstr(f->entreprise, "PartNet"));
	/* Cross-references are resolved to the other question's title. */
	f = faq_find(faq, "update_bank_details");
	assert_non_null(f);
	const char *all = f->entreprise ? f->entreprise : f->common;
	assert_null(strstr(all, "{{voir:"));
	assert_non_null(strstr(all, "\xC2\xAB Convention MAGESTIC : comment param\xC3\xA9trer les comptes utilisateurs ? \xC2\xBB"));
	assert_non_null(faq_find(faq, "contact"));
	assert_null(faq_find(faq, "nope"));
	faq_free(&faq);
	assert_null(faq);
	free(dir);
}

static void
expect_error(const char *name, const char *content, const char *expected)
{
	char *dir = make_temp_dir();
	write_file(dir, "ok.faq", "id: ok\nquestion: Q ?\n\nR\xC3\xA9ponse.\n");
	write_file(dir, name, content);
	char *err = NULL;
	struct faq *faq = faq_load(dir, &err);
	assert_null(faq);
	if (strstr(err, expected) == NULL)
		fail_msg("expected \"%s\" in:\n%s", expected, err);
	free(err);
	rm_rf(dir);
	free(dir);
}

static void
test_errors(void **state)
{
	(void)state;
	expect_error("a.faq", "id: a\nquestion: Q\n\n=== entreprises ===\ntext\n", "a.faq:4: unknown section");
	expect_error("a.faq", "id: a\nquestion: Q\n\ntext {{voir:missing}}\n", "a.faq:4: {{voir:missing}} names no faq entry");
	expect_error("a.faq", "id: b\nquestion: Q\n\ntext\n", "id \"b\" differs from the file name");
	expect_error("a.faq", "id: a\n\ntext\n", "missing \"question:\"");
	expect_error("a.faq", "id: a\nquestion: Q\ncolour: x\n\ntext\n", "a.faq:3: unknown key \"colour\"");
	expect_error("a.faq", "id: a\nquestion: Q\n\n=== entreprise ===\nx\n=== entreprise ===\ny\n", "a.faq:6: this section appears twice");
	expect_error("a.faq", "id: a\nquestion: Q\n\n", "no answer text");
	expect_error("a.faq", "id: a\nquestion: Q\n\nbad \xC3\n", "a.faq: invalid UTF-8");
	char *err = NULL;
	assert_null(faq_load("/nonexistent", &err));
	assert_non_null(strstr(err, "cannot open folder"));
	free(err);
}

static void
test_paragraphs_and_variants(void **state)
{
	(void)state;
	char *dir = make_temp_dir();
	write_file(dir, "x.faq", "# a comment\nid: x\nquestion: Q ?\n\n\nCommun.\n\n\n\nSuite.   \n"
		   "=== organisme ===\n\n1. Un\n2. Deux\n\n");
	char *err = NULL;
	struct faq *faq = faq_load(dir, &err);
	if (faq == NULL)
		fail_msg("%s", err);
	const struct faq_entry *f = faq_find(faq, "x");
	assert_string_equal(f->common, "Commun.\n\nSuite.");
	assert_null(f->entreprise);
	assert_string_equal(f->organisme, "1. Un\n2. Deux");
	faq_free(&faq);
	rm_rf(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_project_faq_data),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_paragraphs_and_variants),
	};
	return cmocka_run_group_tests_name("faq", tests, NULL, NULL);
}
