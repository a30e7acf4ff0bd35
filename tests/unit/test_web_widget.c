/* Tests of web_widget: the project's own widget files load, the loader gets its settings
 * in place of the placeholder (and only there), the version follows the chat's code, each
 * file is served as itself or gzipped (what gunzips is the file), a data folder without
 * the files or a loader without its placeholder is an error naming the file, and the
 * reading of Accept-Encoding (RFC 9110 §12.5.3). The sizes the issue sets (loader 4 KB,
 * everything 20 KB, gzipped) are checked on the real files here and again in the browser
 * test. */
#include "autoconf.h"
#include "testutil.h"
#include "web/web_widget.h"
#include "web/web_page.h"

#include <zlib.h>

static const struct web_widget_settings settings = { "browser", 90, 2000 };

/* The gunzipped bytes of a page (caller frees). */
static char *
gunzip(const struct web_page *page, size_t *len_r)
{
	size_t cap = 1024 * 1024;
	char *out = xmalloc(cap);
	z_stream z;
	memset(&z, 0, sizeof(z));
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (Bytef *)page->body;
	z.avail_in = (uInt)page->len;
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)cap;
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	*len_r = z.total_out;
	inflateEnd(&z);
	return out;
}

static void
test_real_files(void **state)
{
	(void)state;
	struct web_widget ww;
	char *err = NULL;
	assert_int_equal(web_widget_load(&ww, source_data_dir(), &settings, &err), 0);
	assert_int_equal(strlen(ww.version), 16);
	const struct web_asset *loader = web_widget_find(&ww, "/widget.js", 10);
	assert_non_null(loader);
	assert_contains(loader->body, "})({\"persistence\":\"browser\",\"retentionDays\":90,\"maxText\":2000,\"version\":\"");
	assert_contains(loader->body, ww.version);
	assert_lacks(loader->body, "@DIALOGD_CONFIG@");
	assert_string_equal(loader->content_type, "text/javascript; charset=utf-8");
	assert_non_null(web_widget_find(&ww, "/widget-chat.js", 15));
	const struct web_asset *style = web_widget_find(&ww, "/widget.css", 11);
	assert_non_null(style);
	assert_string_equal(style->content_type, "text/css; charset=utf-8");
	assert_null(web_widget_find(&ww, "/widget.jsx", 11));
	assert_null(web_widget_find(&ww, "/widget", 7));
	assert_null(web_widget_find(&ww, "/chat.js", 8));

	/* What a browser downloads, gzipped: the issue's budget. */
	size_t total = 0;
	for (size_t i = 0; i < WEB_WIDGET_ASSETS; i++)
		total += ww.assets[i].gzipped_len;
	assert_true(loader->gzipped_len <= 4096);
	assert_true(total <= 20480);

	/* Served plain and gzipped: the same bytes once gunzipped. */
	struct web_page plain, gz;
	web_widget_page(loader, false, &plain);
	web_widget_page(loader, true, &gz);
	assert_int_equal(plain.status, 200);
	assert_null(plain.content_encoding);
	assert_string_equal(gz.content_encoding, "gzip");
	assert_string_equal(gz.vary, "Accept-Encoding");
	assert_string_equal(plain.cache_control, "public, max-age=300");
	assert_true(gz.len < plain.len);
	size_t n;
	char *back = gunzip(&gz, &n);
	assert_int_equal(n, plain.len);
	assert_memory_equal(back, plain.body, n);
	free(back);
	web_page_clear(&plain);
	web_page_clear(&gz);
	web_widget_free(&ww);
}

static void
test_version_follows_chat_code(void **state)
{
	(void)state;
	char *dir = make_temp_dir();
	char *sub = xasprintf("%s/templates", dir);
	char *widget = xasprintf("%s/templates/widget", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(mkdir(widget, 0700), 0);
	write_file(widget, "widget.js", "(function (c) {})(\"@DIALOGD_CONFIG@\"); // \"@DIALOGD_CONFIG@\" once only\n");
	write_file(widget, "chat.js", "one();\n");
	write_file(widget, "widget.css", "p{}\n");
	struct web_widget a, b;
	char *err = NULL;
	assert_int_equal(web_widget_load(&a, dir, &settings, &err), 0);
	/* Only the first placeholder is replaced: a second is left as the author wrote it. */
	assert_contains(a.assets[0].body, "(function (c) {})({\"persistence\":\"browser\"");
	assert_contains(a.assets[0].body, "// \"@DIALOGD_CONFIG@\" once only");
	write_file(widget, "chat.js", "two();\n");
	assert_int_equal(web_widget_load(&b, dir, &settings, &err), 0);
	assert_string_not_equal(a.version, b.version);
	web_widget_free(&a);
	web_widget_free(&b);

	/* A loader without the placeholder: refused, naming it. */
	write_file(widget, "widget.js", "(function () {})();\n");
	assert_int_equal(web_widget_load(&a, dir, &settings, &err), -1);
	assert_contains(err, "templates/widget/widget.js");
	assert_null(a.assets[0].body);
	free(err);
	err = NULL;

	/* A file missing: refused, naming it. */
	char *css = xasprintf("%s/widget.css", widget);
	assert_int_equal(unlink(css), 0);
	write_file(widget, "widget.js", "(\"@DIALOGD_CONFIG@\");\n");
	assert_int_equal(web_widget_load(&a, dir, &settings, &err), -1);
	assert_contains(err, "widget.css");
	free(err);
	free(css);
	rm_rf(dir);
	free(widget);
	free(sub);
	free(dir);
}

static void
test_accept_encoding(void **state)
{
	(void)state;
	assert_true(web_accepts_gzip("gzip"));
	assert_true(web_accepts_gzip("gzip, deflate, br, zstd"));
	assert_true(web_accepts_gzip("deflate, GZIP;q=0.5"));
	assert_true(web_accepts_gzip("*"));
	assert_true(web_accepts_gzip("br;q=1.0, gzip ; q=0.8"));
	assert_false(web_accepts_gzip(NULL));
	assert_false(web_accepts_gzip(""));
	assert_false(web_accepts_gzip("identity"));
	assert_false(web_accepts_gzip("deflate, br"));
	assert_false(web_accepts_gzip("gzip;q=0"));
	assert_false(web_accepts_gzip("gzip;q=0.000"));
	assert_false(web_accepts_gzip("*;q=0"));
	assert_false(web_accepts_gzip("x-gzip2, gzipped"));
	/* gzip named decides over "*". */
	assert_false(web_accepts_gzip("*, gzip;q=0"));
	assert_true(web_accepts_gzip("*;q=0, gzip"));
	assert_true(web_accepts_gzip("gzip;q=0.001"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_files),
		cmocka_unit_test(test_version_follows_chat_code),
		cmocka_unit_test(test_accept_encoding),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
