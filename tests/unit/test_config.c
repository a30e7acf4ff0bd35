/* Tests of config: defaults, values, and every error reported with file and line. */
#include "autoconf.h"
#include "testutil.h"
#include "core/config.h"

static void
test_defaults_and_values(void **state)
{
	(void)state;
	struct config cfg;
	config_init(&cfg);
	assert_true(cfg.min_confidence == 0.60);
	assert_null(cfg.data_dir);
	char *dir = make_temp_dir();
	write_file(dir, "d.conf", "; comment\n[engine]\nmin_confidence = 0.7\nmin_margin=0.2\nsuggest_max_words = 6\n"
		   "[paths]\ndata = /srv/dialogd\n");
	char *path = xasprintf("%s/d.conf", dir);
	char *err = NULL;
	assert_int_equal(config_load(&cfg, path, &err), 0);
	assert_true(cfg.min_confidence == 0.7);
	assert_true(cfg.min_margin == 0.2);
	assert_int_equal(cfg.suggest_max_words, 6);
	assert_string_equal(cfg.data_dir, "/srv/dialogd");
	config_clear(&cfg);
	free(path);
	rm_rf(dir);
	free(dir);
}

static void
test_errors(void **state)
{
	(void)state;
	struct config cfg;
	config_init(&cfg);
	char *dir = make_temp_dir();
	write_file(dir, "bad.conf", "[engine]\nmin_confidence = 2\ncolour = blue\nmin_margin = abc\nsuggest_max_words = -3\n");
	char *path = xasprintf("%s/bad.conf", dir);
	char *err = NULL;
	assert_int_equal(config_load(&cfg, path, &err), -1);
	assert_non_null(strstr(err, "bad.conf:2: [engine] min_confidence: \"2\" is not a number from 0 to 1"));
	assert_non_null(strstr(err, "bad.conf:3: unknown key \"colour\" in [engine]"));
	assert_non_null(strstr(err, "bad.conf:4: [engine] min_margin"));
	assert_non_null(strstr(err, "bad.conf:5: [engine] suggest_max_words: \"-3\" is not a whole number"));
	free(err);
	free(path);
	write_file(dir, "syntax.conf", "[engine]\nthis line has no equals sign\n");
	path = xasprintf("%s/syntax.conf", dir);
	assert_int_equal(config_load(&cfg, path, &err), -1);
	assert_non_null(strstr(err, "syntax.conf:2: syntax error"));
	free(err);
	free(path);
	assert_int_equal(config_load(&cfg, "/nonexistent.conf", &err), -1);
	assert_non_null(strstr(err, "cannot open"));
	free(err);
	config_clear(&cfg);
	rm_rf(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_values),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
