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
	assert_int_equal(cfg.secret_mail_delay, 3);
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
	/* 0 sends the mail to the address on file right behind the reply; over an hour the
	 * link would be near its end of life before it leaves. */
	config_init(&cfg);
	write_file(dir, "delay.conf", "[security]\nsecret_mail_delay = 0\n");
	path = xasprintf("%s/delay.conf", dir);
	assert_int_equal(config_load(&cfg, path, &err), 0);
	assert_int_equal(cfg.secret_mail_delay, 0);
	config_clear(&cfg);
	free(path);
	config_init(&cfg);
	write_file(dir, "late.conf", "[security]\nsecret_mail_delay = 3601\n");
	path = xasprintf("%s/late.conf", dir);
	assert_int_equal(config_load(&cfg, path, &err), -1);
	assert_non_null(strstr(err, "[security] secret_mail_delay must be at most 3600"));
	free(err);
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

static void
test_chat_keys(void **state)
{
	(void)state;
	struct config cfg;
	config_init(&cfg);
	assert_null(cfg.web_allowed_origins);
	assert_int_equal(cfg.chat_session_ttl, 86400);
	assert_int_equal(cfg.chat_max_errors, 3);
	char *dir = make_temp_dir();
	write_file(dir, "ok.conf", "[web]\nallowed_origins = https://www.ocapiat.fr  http://127.0.0.1:8081\n"
		   "[chat]\nmax_frame = 4096\nmax_text = 1000\nping_interval = 5\nidle_timeout = 12\n");
	char *path = xasprintf("%s/ok.conf", dir);
	char *err = NULL;
	assert_int_equal(config_load(&cfg, path, &err), 0);
	assert_string_equal(cfg.web_allowed_origins, "https://www.ocapiat.fr  http://127.0.0.1:8081");
	assert_int_equal(cfg.chat_max_frame, 4096);
	assert_int_equal(cfg.chat_idle_timeout, 12);
	free(path);
	write_file(dir, "bad.conf", "[web]\nallowed_origins = https://www.ocapiat.fr/ *.ocapiat.fr https://a@b\ntrusted_proxies = 127.0.0.1 proxy.local\n"
		   "[chat]\nmax_frame = 100\nping_interval = 60\nidle_timeout = 30\nsession_ttl = 5\n");
	path = xasprintf("%s/bad.conf", dir);
	assert_int_equal(config_load(&cfg, path, &err), -1);
	assert_non_null(strstr(err, "allowed_origins: \"https://www.ocapiat.fr/\" is not an origin"));
	assert_non_null(strstr(err, "allowed_origins: \"*.ocapiat.fr\" is not an origin"));
	assert_non_null(strstr(err, "allowed_origins: \"https://a@b\" is not an origin"));
	assert_non_null(strstr(err, "[web] trusted_proxies: \"proxy.local\" is not a numeric IPv4 or IPv6 address"));
	assert_null(strstr(err, "\"127.0.0.1\" is not"));
	assert_non_null(strstr(err, "[chat] max_frame must be from 256"));
	assert_non_null(strstr(err, "[chat] ping_interval must be at least 1 and below idle_timeout"));
	assert_non_null(strstr(err, "[chat] session_ttl must be at least 60"));
	free(err);
	free(path);
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
		cmocka_unit_test(test_chat_keys),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
