/* Tests of template: the project's templates load; an unknown placeholder is an error
 * naming file and line; rendering escapes per output. */
#include "autoconf.h"
#include "testutil.h"
#include "engine/template.h"

static char *
copy_project_templates(void)
{
	char *dir = make_temp_dir();
	char *cmd = xasprintf("cp '%s'/templates/*.txt '%s'/", source_data_dir(), dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	return dir;
}

static void
test_project_templates(void **state)
{
	(void)state;
	char *dir = xasprintf("%s/templates", source_data_dir());
	char *err = NULL;
	struct templates *t = templates_load(dir, &err);
	if (t == NULL)
		fail_msg("%s", err);
	struct template_var vars[] = { { "question", "Q <b> & \"x\"", false }, { "text", "T", false } };
	char *out = template_render(t, "answer_faq", OUTPUT_TEXT, vars, 2);
	assert_non_null(strstr(out, "Q <b> & \"x\""));
	free(out);
	out = template_render(t, "answer_faq", OUTPUT_HTML, vars, 2);
	assert_non_null(strstr(out, "Q &lt;b&gt; &amp; &quot;x&quot;"));
	assert_null(strstr(out, "<b>"));
	free(out);
	templates_free(&t);
	assert_null(t);
	free(dir);
}

static void
test_unknown_placeholder(void **state)
{
	(void)state;
	char *dir = copy_project_templates();
	write_file(dir, "answer_faq.txt", "Ligne un\n{{question}}\nLigne {{nom_client}} trois\n");
	char *err = NULL;
	assert_null(templates_load(dir, &err));
	char *expected = xasprintf("%s/answer_faq.txt:3: unknown placeholder {{nom_client}}", dir);
	if (strstr(err, expected) == NULL)
		fail_msg("expected \"%s\" in:\n%s", expected, err);
	free(expected);
	free(err);
	rm_rf(dir);
	free(dir);
}

static void
test_missing_unterminated_unknown(void **state)
{
	(void)state;
	char *dir = copy_project_templates();
	char *path = xasprintf("%s/chat_thanks.txt", dir);
	unlink(path);
	free(path);
	write_file(dir, "chat_greeting.txt", "Bonjour {{\n");
	write_file(dir, "chat_welcom.txt", "typo in the name\n");
	char *err = NULL;
	assert_null(templates_load(dir, &err));
	assert_non_null(strstr(err, "chat_thanks.txt: missing template"));
	assert_non_null(strstr(err, "chat_greeting.txt:1: unterminated placeholder"));
	assert_non_null(strstr(err, "chat_welcom.txt: not a template dialogd uses"));
	free(err);
	rm_rf(dir);
	free(dir);
	assert_null(templates_load("/nonexistent", &err));
	assert_non_null(strstr(err, "cannot open folder"));
	free(err);
}

/* Every template the project ships is required: without any one of them the load fails
 * and names that very file (the code's table and templates/ list the same names). */
static void
test_each_template_required(void **state)
{
	(void)state;
	char *src = xasprintf("%s/templates", source_data_dir());
	char **names = NULL;
	char *err = NULL;
	int n = dir_list(src, ".txt", &names, &err);
	assert_true(n > 0);
	assert_int_equal((size_t)n, templates_count(NULL));
	char *dir = copy_project_templates();
	for (int i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]);
		char *saved = xasprintf("%s/%s.saved", dir, names[i]);
		assert_int_equal(rename(path, saved), 0);
		assert_null(templates_load(dir, &err));
		char *expected = xasprintf("%s: missing template", path);
		if (strstr(err, expected) == NULL)
			fail_msg("expected \"%s\" in:\n%s", expected, err);
		free(expected);
		free(err);
		err = NULL;
		assert_int_equal(rename(saved, path), 0);
		free(saved);
		free(path);
	}
	struct templates *t = templates_load(dir, &err);
	if (t == NULL)
		fail_msg("%s", err);
	templates_free(&t);
	str_array_free(names, (size_t)n);
	rm_rf(dir);
	free(dir);
	free(src);
}

static void
test_escape(void **state)
{
	(void)state;
	char *s = template_escape("a\x1b[31mb\rc\n\td'<", OUTPUT_TEXT);
	assert_string_equal(s, "a[31mbc\n\td'<");
	free(s);
	s = template_escape("d'<>&\"", OUTPUT_HTML);
	assert_string_equal(s, "d&#39;&lt;&gt;&amp;&quot;");
	free(s);
	/* A no-break space is written &nbsp; in HTML (the web pages' source shows it), kept
	 * as is in text; other characters of two bytes are untouched. */
	s = template_escape("12\xc2\xa0" "caract\xc3\xa8" "res\xc2\xa0: \xc2\xab", OUTPUT_HTML);
	assert_string_equal(s, "12&nbsp;caract\xc3\xa8" "res&nbsp;: \xc2\xab");
	free(s);
	s = template_escape("12\xc2\xa0" "caract\xc3\xa8" "res", OUTPUT_TEXT);
	assert_string_equal(s, "12\xc2\xa0" "caract\xc3\xa8" "res");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_project_templates),
		cmocka_unit_test(test_each_template_required),
		cmocka_unit_test(test_unknown_placeholder),
		cmocka_unit_test(test_missing_unterminated_unknown),
		cmocka_unit_test(test_escape),
	};
	return cmocka_run_group_tests_name("template", tests, NULL, NULL);
}
