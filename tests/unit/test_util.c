/* Tests of util: growable strings, file reading limits, folder listing. */
#include "autoconf.h"
#include "testutil.h"

static void
test_strbuf(void **state)
{
	(void)state;
	struct strbuf sb = {0};
	strbuf_adds(&sb, "abc");
	strbuf_addc(&sb, '-');
	strbuf_addf(&sb, "%d", 42);
	assert_string_equal(sb.data, "abc-42");
	assert_int_equal(sb.len, 6);
	for (int i = 0; i < 10000; i++)
		strbuf_addc(&sb, 'x');
	assert_int_equal(sb.len, 10006);
	char *s = strbuf_detach(&sb);
	assert_null(sb.data);
	free(s);
	s = strbuf_detach(&sb);  /* empty buffer detaches as "" */
	assert_string_equal(s, "");
	free(s);
}

static void
test_file_read_limits(void **state)
{
	(void)state;
	char *dir = make_temp_dir();
	write_file(dir, "small.txt", "hello\n");
	char *path = xasprintf("%s/small.txt", dir);
	char *err = NULL;
	size_t len;
	char *data = file_read_all(path, 100, &len, &err);
	assert_non_null(data);
	assert_int_equal(len, 6);
	free(data);
	assert_null(file_read_all(path, 3, &len, &err));
	assert_non_null(strstr(err, "larger than 3 bytes"));
	free(err);
	free(path);

	path = xasprintf("%s/nul.txt", dir);
	FILE *f = fopen(path, "w");
	fwrite("a\0b", 1, 3, f);
	fclose(f);
	assert_null(file_read_all(path, 100, &len, &err));
	assert_non_null(strstr(err, "NUL byte"));
	free(err);
	free(path);

	path = xasprintf("%s/missing.txt", dir);
	assert_null(file_read_all(path, 100, &len, &err));
	assert_non_null(strstr(err, "cannot open"));
	free(err);
	free(path);
	rm_rf(dir);
	free(dir);
}

static void
test_dir_list(void **state)
{
	(void)state;
	char *dir = make_temp_dir();
	write_file(dir, "b.faq", "x");
	write_file(dir, "a.faq", "x");
	write_file(dir, "c.txt", "x");
	write_file(dir, ".hidden.faq", "x");
	char **names;
	char *err = NULL;
	int n = dir_list(dir, ".faq", &names, &err);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "a.faq");
	assert_string_equal(names[1], "b.faq");
	str_array_free(names, (size_t)n);
	char *missing = xasprintf("%s/nope", dir);
	assert_int_equal(dir_list(missing, ".faq", &names, &err), -1);
	assert_non_null(strstr(err, "cannot open folder"));
	free(err);
	free(missing);
	rm_rf(dir);
	free(dir);
}

static void
test_str_helpers(void **state)
{
	(void)state;
	char s[] = "  \t hello world \r\n";
	assert_string_equal(str_trim(s), "hello world");
	char e[] = "   ";
	assert_string_equal(str_trim(e), "");
	assert_true(str_ends_with("file.intent", ".intent"));
	assert_false(str_ends_with("x", ".intent"));
	assert_true(str_starts_with("entreprise +3", "entreprise "));
}

static void
test_url_parts(void **state)
{
	(void)state;
	static const struct {
		const char *url;
		const char *host;       /* NULL: not a URL */
		int port;               /* with default 143 */
		bool loopback;
	} cases[] = {
		{ "imap://127.0.0.1:1143", "127.0.0.1", 1143, true },
		{ "imaps://imap.ocapiat.test", "imap.ocapiat.test", 143, false },
		{ "smtp://[::1]:2525/helo.example", "::1", 2525, true },
		{ "smtp://user@localhost:25", "localhost", 25, true },
		{ "imap://127.evil.example:143", "127.evil.example", 143, false },  /* a name, not 127/8 */
		{ "imap://10.0.0.1:99999", "10.0.0.1", -1, false },
		{ "imap://host:12ab", "host", -1, false },
		{ "no scheme", NULL, -1, false },
		{ "imap://", NULL, -1, false },
		{ "imap://[::1", NULL, -1, false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *host = url_host(cases[i].url);
		if (cases[i].host == NULL) {
			assert_null(host);
			continue;
		}
		assert_non_null(host);
		assert_string_equal(host, cases[i].host);
		assert_int_equal(url_port(cases[i].url, 143), cases[i].port);
		assert_int_equal(host_is_loopback(host), cases[i].loopback);
		free(host);
	}
	assert_true(host_is_loopback("127.0.0.53"));
	assert_false(host_is_loopback("128.0.0.1"));
	assert_false(host_is_loopback(NULL));
}

/* An enum's names: the index of a name, -1 for an unknown one, NULL or a hole. */
static void
test_name_index(void **state)
{
	(void)state;
	static const char *const names[] = { NULL, "pending", "sent" };
	assert_int_equal(NAME_INDEX(names, "sent"), 2);
	assert_int_equal(NAME_INDEX(names, "pending"), 1);
	assert_int_equal(NAME_INDEX(names, "Sent"), -1);
	assert_int_equal(NAME_INDEX(names, ""), -1);
	assert_int_equal(NAME_INDEX(names, NULL), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strbuf),
		cmocka_unit_test(test_name_index),
		cmocka_unit_test(test_file_read_limits),
		cmocka_unit_test(test_dir_list),
		cmocka_unit_test(test_str_helpers),
		cmocka_unit_test(test_url_parts),
	};
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
