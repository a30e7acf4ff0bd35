/* Tests of reset_page and web_page, without HTTP: GET shows the form only for a valid
 * token and never burns it, whatever the token holds; POST refuses a mismatch or a weak
 * password (token kept), and otherwise burns the token, stores a verifiable argon2id
 * hash and an audit row holding neither token nor password; hostile form bodies; every
 * page is valid UTF-8, French, escaped, and its style is the one the CSP allows; request
 * heads as web.c's front reads them (RFC 9112), whole and one byte at a time, and their
 * limits byte for byte. */
#include "autoconf.h"
#include "testutil.h"
#include "testtemplates.h"
#include "teststore.h"
#include "web/reset_page.h"
#include "accounts/reset_token.h"
#include "store/store.h"
#include "engine/template.h"
#include "core/text.h"
#include "web/web_page.h"

#include <sodium.h>

static const struct reset_page_settings settings = { "dialoguer@ocapiat.test", 30 };

#define NOW 100000
#define GOOD_PASSWORD "Tracteur-Vert-2024"

static int
setup(void **state)
{
	temp_store_setup(state);
	struct temp_store *t = *state;
	const struct company_row c = { "41238765600025", "Scierie des Combes", "entreprise", "correspondant@ocapiat.test" };
	assert_int_equal(store_company_put(t->store, &c), 0);
	const char *ids[] = { "JMOREAU01", "<b>Mo&re\"au'</b>" };
	for (size_t i = 0; i < 2; i++) {
		const struct account_row a = { ids[i], "j.moreau@example.test", "entreprise", "41238765600025", "active" };
		assert_int_equal(store_account_put(t->store, &a), 0);
	}
	return 0;
}

#define WIDGET_TAG "<script src=\"/widget.js\" defer></script>"

/* Checks what every page must be, then returns its body. */
static const char *
checked(const struct web_page *page, int status)
{
	assert_int_equal(page->status, status);
	assert_non_null(page->body);
	assert_int_equal(strlen(page->body), page->len);
	assert_non_null(strstr(page->body, "<!DOCTYPE html>\n<html lang=\"fr\">"));
	assert_non_null(strstr(page->body, "<meta charset=\"utf-8\">"));
	assert_non_null(strstr(page->body, "</html>\n"));
	/* No script but the chat widget's own, served by dialogd (the home page's). */
	const char *script = strstr(page->body, "<script");
	if (script != NULL) {
		assert_true(strncmp(script, WIDGET_TAG, strlen(WIDGET_TAG)) == 0);
		assert_null(strstr(script + 1, "<script"));
	}
	/* Valid UTF-8, no control character but newlines. */
	char *err = NULL;
	for (const unsigned char *p = (const unsigned char *)page->body; *p; p++)
		assert_true(*p >= 0x20 || *p == '\n');
	assert_int_equal(text_validate(page->body, page->len, &err), 0);
	free(err);
	return page->body;
}

static char *
issue(struct temp_store *t, const char *identifier, int64_t at, int64_t ttl)
{
	char *token = xcalloc(RESET_TOKEN_SIZE, 1);
	assert_int_equal(reset_token_issue(t->store, identifier, at, ttl, token), 0);
	return token;
}

static int
get(struct temp_store *t, const char *token, int64_t now, struct web_page *page)
{
	char *err = NULL;
	int rc = reset_page_get(&settings, templates, t->store, token, now, page, &err);
	assert_null(err);
	return rc;
}

static void
post(struct temp_store *t, const char *body, int64_t now, struct web_page *page)
{
	char *err = NULL;
	assert_int_equal(reset_page_post(&settings, templates, t->store, body, strlen(body), now, page, &err), 0);
	assert_null(err);
}

static char *
form_body(const char *token, const char *password, const char *confirmation)
{
	return xasprintf("jeton=%s&mot_de_passe=%s&confirmation=%s", token, password, confirmation);
}

static bool
still_valid(struct temp_store *t, const char *token, int64_t now)
{
	char *who = NULL;
	enum reset_check rc = reset_token_check(t->store, token, now, &who);
	assert_true(rc != RESET_STORE_ERROR);
	free(who);
	return rc == RESET_VALID;
}

static void
assert_invalid_page(const struct web_page *page)
{
	const char *html = checked(page, 200);
	assert_non_null(strstr(html, "<h1>Ce lien n’est plus valable</h1>"));
	assert_non_null(strstr(html, "30&nbsp;minutes"));
	assert_non_null(strstr(html, "mailto:dialoguer@ocapiat.test"));
	assert_null(strstr(html, "<form"));
}

/* ---- GET ---- */

static void
test_get_valid_shows_the_form_without_burning(void **state)
{
	struct temp_store *t = *state;
	char *token = issue(t, "JMOREAU01", NOW, 1800);
	for (int i = 0; i < 3; i++) {  /* a mail scanner, then the user, then a reload */
		struct web_page page;
		assert_int_equal(get(t, token, NOW + 10 + i, &page), 0);
		const char *html = checked(&page, 200);
		assert_non_null(strstr(html, "<h1>Choisir un nouveau mot de passe</h1>"));
		assert_non_null(strstr(html, "<strong>JMOREAU01</strong>"));
		char *hidden = xasprintf("<input type=\"hidden\" name=\"jeton\" value=\"%s\">", token);
		assert_non_null(strstr(html, hidden));
		free(hidden);
		assert_non_null(strstr(html, "name=\"mot_de_passe\""));
		assert_non_null(strstr(html, "name=\"confirmation\""));
		assert_non_null(strstr(html, "au moins 12&nbsp;caractères"));
		assert_non_null(strstr(html, "<form method=\"post\" action=\"reinitialisation\">"));
		assert_null(page.log_line);
		web_page_clear(&page);
	}
	assert_true(still_valid(t, token, NOW + 20));
	free(token);
}

static void
test_get_invalid_tokens(void **state)
{
	struct temp_store *t = *state;
	char *expired = issue(t, "JMOREAU01", NOW - 4000, 1800);
	char *revoked = issue(t, "JMOREAU01", NOW - 100, 1800);
	char *current = issue(t, "JMOREAU01", NOW - 50, 1800);  /* revokes the one before */
	char *used = issue(t, "<b>Mo&re\"au'</b>", NOW - 10, 1800);
	char *who = NULL;
	assert_int_equal(reset_token_redeem(t->store, used, NOW - 5, &who), RESET_VALID);
	free(who);
	char unknown[RESET_TOKEN_SIZE];
	memset(unknown, 'A', RESET_TOKEN_SIZE - 1);
	unknown[RESET_TOKEN_SIZE - 1] = '\0';
	char *big = xcalloc(10241, 1);
	memset(big, 'a', 10240);
	char *crlf = xasprintf("%.*s\r\nSet-Cookie: x=1", RESET_TOKEN_SIZE - 1, current);
	char *almost = xstrndup(current, RESET_TOKEN_SIZE - 2);  /* one character short */
	const char *cases[] = {
		expired, revoked, used, unknown, big, crlf, almost, "", "' OR 1=1 --",
		"\"><script>alert(1)</script>", "\xff\xfe\xfd", "%00", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\xc3\xa9",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA*", NULL,
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct web_page page;
		assert_int_equal(get(t, cases[i], NOW, &page), 0);
		assert_invalid_page(&page);
		if (cases[i] != NULL && *cases[i] != '\0')
			assert_null(strstr(page.body, cases[i]));  /* never echoed */
		web_page_clear(&page);
	}
	assert_true(still_valid(t, current, NOW));  /* none of it touched the valid one */
	free(expired), free(revoked), free(current), free(used), free(big), free(crlf), free(almost);
}

static void
test_get_escapes_the_identifier(void **state)
{
	struct temp_store *t = *state;
	char *token = issue(t, "<b>Mo&re\"au'</b>", NOW, 1800);
	struct web_page page;
	assert_int_equal(get(t, token, NOW, &page), 0);
	const char *html = checked(&page, 200);
	assert_non_null(strstr(html, "<strong>&lt;b&gt;Mo&amp;re&quot;au&#39;&lt;/b&gt;</strong>"));
	assert_null(strstr(html, "<b>"));
	web_page_clear(&page);
	free(token);
}

/* ---- POST ---- */

static void
assert_form_again(const struct web_page *page, const char *token, const char *reason)
{
	const char *html = checked(page, 200);
	assert_non_null(strstr(html, "<p class=\"erreur\" role=\"alert\">"));
	assert_non_null(strstr(html, reason));
	char *hidden = xasprintf("name=\"jeton\" value=\"%s\"", token);
	assert_non_null(strstr(html, hidden));
	free(hidden);
	assert_null(strstr(page->log_line, token));
}

static void
test_post_refusals_keep_the_token(void **state)
{
	struct temp_store *t = *state;
	char *token = issue(t, "JMOREAU01", NOW, 1800);
	const struct {
		const char *password, *confirmation, *reason;
	} cases[] = {
		{ GOOD_PASSWORD, "Tracteur-Vert-2025", "Les deux mots de passe saisis ne sont pas identiques." },
		{ "court-1", "court-1", "au moins 12 caractères" },
		{ "aaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaa", "mêler des lettres" },
		{ "123456789012345", "123456789012345", "mêler des lettres" },
		{ "", "", "dans les deux champs" },
		{ GOOD_PASSWORD, "", "dans les deux champs" },
		{ "%FF%FEaaaaaaaaaaaaaa1", "%FF%FEaaaaaaaaaaaaaa1", "ne peuvent pas être lus" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *body = form_body(token, cases[i].password, cases[i].confirmation);
		struct web_page page;
		post(t, body, NOW + 1, &page);
		assert_form_again(&page, token, cases[i].reason);
		if (*cases[i].password != '\0')
			assert_null(strstr(page.body, cases[i].password));  /* a password is never shown back */
		web_page_clear(&page);
		free(body);
		assert_true(still_valid(t, token, NOW + 2));
	}
	/* A form without its confirmation field at all. */
	char *body = xasprintf("jeton=%s&mot_de_passe=" GOOD_PASSWORD, token);
	struct web_page page;
	post(t, body, NOW + 1, &page);
	assert_form_again(&page, token, "dans les deux champs");
	web_page_clear(&page);
	free(body);
	char *hash = store_password_get(t->store, "JMOREAU01");
	assert_null(hash);
	free(token);
}

struct audit_scan {
	const char *token, *password;
	int changed, invalid, rows;
};

static int
audit_row(const struct audit_row *row, void *user)
{
	struct audit_scan *scan = user;
	const char *fields[] = { row->channel, row->requester, row->action, row->subject, row->outcome };
	for (size_t i = 0; i < 5; i++) {
		if (fields[i] == NULL)
			continue;
		assert_null(strstr(fields[i], scan->token));
		assert_null(strstr(fields[i], scan->password));
	}
	assert_string_equal(row->channel, "web");
	assert_string_equal(row->action, "password_reset");
	if (strcmp(row->outcome, "password_changed") == 0) {
		assert_string_equal(row->subject, "JMOREAU01");
		assert_string_equal(row->requester, "JMOREAU01");
		scan->changed++;
	} else if (strcmp(row->outcome, "link_invalid") == 0) {
		assert_string_equal(row->requester, "");
		scan->invalid++;
	}
	scan->rows++;
	return 0;
}

static void
test_post_valid_changes_once(void **state)
{
	struct temp_store *t = *state;
	char *token = issue(t, "JMOREAU01", NOW, 1800);
	char *body = form_body(token, GOOD_PASSWORD, GOOD_PASSWORD);
	struct web_page page;
	post(t, body, NOW + 60, &page);
	const char *html = checked(&page, 200);
	assert_non_null(strstr(html, "<h1>Mot de passe modifié</h1>"));
	assert_non_null(strstr(html, "Votre mot de passe a été modifié."));
	assert_null(strstr(html, token));
	assert_string_equal(page.log_line, "password reset: JMOREAU01: password changed");
	web_page_clear(&page);

	char *hash = store_password_get(t->store, "JMOREAU01");
	assert_non_null(hash);
	assert_true(strncmp(hash, "$argon2id$", 10) == 0);
	assert_int_equal(crypto_pwhash_str_verify(hash, GOOD_PASSWORD, strlen(GOOD_PASSWORD)), 0);
	assert_int_not_equal(crypto_pwhash_str_verify(hash, "Tracteur-Vert-2025", 18), 0);
	free(hash);
	assert_false(still_valid(t, token, NOW + 61));

	/* The same form again (a double click, the back button): the link is spent. */
	post(t, body, NOW + 62, &page);
	assert_invalid_page(&page);
	assert_string_equal(page.log_line, "password reset: invalid or expired link");
	web_page_clear(&page);
	assert_int_equal(get(t, token, NOW + 63, &page), 0);
	assert_invalid_page(&page);
	web_page_clear(&page);

	struct audit_scan scan = { token, GOOD_PASSWORD, 0, 0, 0 };
	assert_int_equal(store_audit_each(t->store, audit_row, &scan), 0);
	assert_int_equal(scan.changed, 1);
	assert_int_equal(scan.invalid, 1);
	assert_int_equal(scan.rows, 2);
	free(body);
	free(token);
}

static void
test_post_expired_between_get_and_post(void **state)
{
	struct temp_store *t = *state;
	char *token = issue(t, "JMOREAU01", NOW, 1800);
	struct web_page page;
	assert_int_equal(get(t, token, NOW + 1790, &page), 0);
	checked(&page, 200);
	web_page_clear(&page);
	char *body = form_body(token, GOOD_PASSWORD, GOOD_PASSWORD);
	post(t, body, NOW + 1800, &page);  /* expires at NOW + 1800: too late */
	assert_invalid_page(&page);
	web_page_clear(&page);
	char *hash = store_password_get(t->store, "JMOREAU01");
	assert_null(hash);
	free(body);
	free(token);
}

static void
test_post_odd_encodings(void **state)
{
	struct temp_store *t = *state;
	char *token = issue(t, "JMOREAU01", NOW, 1800);
	const char *bad[] = {  /* TOKEN: the token */
		"jeton=TOKEN&mot_de_passe=Tracteur%00Vert-2024&confirmation=Tracteur%00Vert-2024",
		"jeton=TOKEN&mot_de_passe=Tracteur%zzVert-2024&confirmation=Tracteur%zzVert-2024",
		"jeton=TOKEN&mot_de_passe=Tracteur-Vert-2024%4&confirmation=Tracteur-Vert-2024%4",
		"jeton=TOKEN&mot_de_passe=Tracteur-Vert-2024%&confirmation=Tracteur-Vert-2024%",
		"jeton=TOKEN&jeton=AAAA&mot_de_passe=" GOOD_PASSWORD "&confirmation=" GOOD_PASSWORD,
		"jeton=TOKEN&mot_de_passe=" GOOD_PASSWORD "&mot_de_passe=x&confirmation=" GOOD_PASSWORD,
		"jet%6Fn=TOKEN&jeton=AAAA&mot_de_passe=" GOOD_PASSWORD "&confirmation=" GOOD_PASSWORD,
		"jeton%00=TOKEN&mot_de_passe=" GOOD_PASSWORD "&confirmation=" GOOD_PASSWORD,
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		const char *at = strstr(bad[i], "TOKEN");
		char *body = xasprintf("%.*s%s%s", (int)(at - bad[i]), bad[i], token, at + 5);
		struct web_page page;
		post(t, body, NOW + 1, &page);
		const char *html = checked(&page, 400);
		assert_non_null(strstr(html, "<h1>Demande illisible</h1>"));
		assert_null(strstr(html, token));
		web_page_clear(&page);
		free(body);
		assert_true(still_valid(t, token, NOW + 1));
	}
	/* Too big: refused before it is read. */
	char *huge = xcalloc(RESET_PAGE_MAX_BODY + 2, 1);
	memset(huge, 'a', RESET_PAGE_MAX_BODY + 1);
	struct web_page page;
	post(t, huge, NOW + 1, &page);
	assert_non_null(strstr(checked(&page, 413), "Demande trop volumineuse"));
	web_page_clear(&page);
	free(huge);
	/* Empty, and fields without '=': no token, so the link page. */
	const char *empty[] = { "", "&&&", "jeton&mot_de_passe&confirmation", "=&=" };
	for (size_t i = 0; i < sizeof(empty) / sizeof(*empty); i++) {
		post(t, empty[i], NOW + 1, &page);
		assert_invalid_page(&page);
		web_page_clear(&page);
	}
	assert_true(still_valid(t, token, NOW + 1));
	/* '+' is a space, %XX a byte (here é), unknown fields and a trailing '&' ignored,
	 * the token itself %-encoded in part. */
	char *body = xasprintf("identifiant=JMOREAU01&jeton=%%%02X%s&mot_de_passe=R%%C3%%A9colte+de+bl%%C3%%A9+2024"
			       "&confirmation=R%%C3%%A9colte%%20de+bl%%c3%%a9%%202024&",
			       (unsigned char)token[0], token + 1);
	post(t, body, NOW + 2, &page);
	assert_non_null(strstr(checked(&page, 200), "Votre mot de passe a été modifié."));
	web_page_clear(&page);
	char *hash = store_password_get(t->store, "JMOREAU01");
	assert_non_null(hash);
	const char *expected = "Récolte de blé 2024";
	assert_int_equal(crypto_pwhash_str_verify(hash, expected, strlen(expected)), 0);
	free(hash);
	free(body);
	free(token);
}

/* ---- web_page ---- */

static void
test_invalid_posts_do_not_fill_the_audit(void **state)
{
	struct temp_store *t = *state;
	int64_t now = (int64_t)time(NULL);
	for (int i = 0; i < 40; i++) {
		struct web_page page = {0};
		char *body = form_body("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", GOOD_PASSWORD, GOOD_PASSWORD);
		post(t, body, now, &page);
		assert_int_equal(page.status, 200);
		assert_non_null(strstr(page.body, "plus valable"));
		web_page_clear(&page);
		free(body);
	}
	/* Answered every time, audited (and logged) only the first twenty in the minute. */
	assert_int_equal(store_audit_count(t->store, "", "password_reset", now - 60), 20);
}

static void
test_escape(void **state)
{
	(void)state;
	const struct {
		const char *in, *out;
	} cases[] = {
		{ "a&b<c>d\"e'f", "a&amp;b&lt;c&gt;d&quot;e&#39;f" },
		{ "déjà vu €", "déjà vu €" },
		{ "\xff", "\xEF\xBF\xBD" },
		{ "\xc3", "\xEF\xBF\xBD" },                      /* truncated */
		{ "\xc0\xaf", "\xEF\xBF\xBD\xEF\xBF\xBD" },      /* overlong '/' */
		{ "\xed\xa0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" },  /* surrogate */
		{ "\xf4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" },  /* > U+10FFFF */
		{ "a\r\nb\x01\x7f", "a\xEF\xBF\xBD\nb\xEF\xBF\xBD\xEF\xBF\xBD" },
		{ "\xc2\x85", "\xEF\xBF\xBD\xEF\xBF\xBD" },      /* C1 control */
		{ "\xf0\x9f\x8c\xbe", "\xf0\x9f\x8c\xbe" },      /* 🌾 */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct strbuf sb = { 0 };
		web_html_escape(&sb, cases[i].in);
		assert_string_equal(sb.data ? sb.data : "", cases[i].out);
		strbuf_free(&sb);
	}
}

static void
test_generic_pages_and_csp(void **state)
{
	(void)state;
	const int statuses[] = { 400, 404, 405, 411, 413, 414, 415, 431, 501, 500 };
	for (size_t i = 0; i < sizeof(statuses) / sizeof(*statuses); i++) {
		struct web_page page;
		web_page_error(templates, statuses[i], "GET, POST", &page);
		assert_null(strstr(checked(&page, statuses[i]), "<script"));
		if (statuses[i] == 405)
			assert_string_equal(page.allow, "GET, POST");
		else
			assert_null(page.allow);
		web_page_clear(&page);
	}
	struct web_page page;
	web_page_error(templates, 418, NULL, &page);
	checked(&page, 500);
	web_page_clear(&page);
	web_page_home(templates, "dialoguer@ocapiat.test", &page);
	const char *html = checked(&page, 200);
	assert_non_null(strstr(html, "<link rel=\"icon\" href=\"data:,\">"));
	assert_non_null(strstr(html, WIDGET_TAG));      /* the home page carries the chat */
	assert_non_null(strstr(html, "Dialoguer avec OCAPIAT"));

	/* The CSP allows exactly the page's style, by its SHA-256. */
	const char *from = strstr(html, "<style>") + strlen("<style>");
	const char *to = strstr(from, "</style>");
	unsigned char digest[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(digest, (const unsigned char *)from, (unsigned long long)(to - from));
	char b64[64];
	sodium_bin2base64(b64, sizeof(b64), digest, sizeof(digest), sodium_base64_VARIANT_ORIGINAL);
	char *source = xasprintf("style-src 'sha256-%s'", b64);
	const char *csp = web_page_csp();
	assert_non_null(strstr(csp, source));
	assert_non_null(strstr(csp, "default-src 'none'"));
	assert_non_null(strstr(csp, "form-action 'self'"));
	assert_non_null(strstr(csp, "frame-ancestors 'none'"));
	assert_non_null(strstr(csp, "script-src 'self';"));
	assert_non_null(strstr(csp, "connect-src 'self';"));
	assert_null(strstr(csp, "unsafe"));
	free(source);
	web_page_clear(&page);
	web_page_no_content(&page);
	assert_int_equal(page.status, 204);
	assert_null(page.body);
}

static void
test_form_parse(void **state)
{
	(void)state;
	const char *names[] = { "a", "b" };
	char *v[2];
	const char *ok = "a=1+2%203&c=zz&b=%C3%A9&";
	assert_int_equal(web_form_parse(ok, strlen(ok), names, 2, v), 0);
	assert_string_equal(v[0], "1 2 3");
	assert_string_equal(v[1], "é");
	web_secret_free(&v[0]);
	web_secret_free(&v[1]);
	assert_null(v[0]);
	/* Only len bytes are read: what follows is not part of the body. */
	assert_int_equal(web_form_parse("a=12&b=3", 4, names, 2, v), 0);
	assert_string_equal(v[0], "12");
	assert_null(v[1]);
	web_secret_free(&v[0]);
	const char *bad[] = { "a=%", "a=%4", "a=%G1", "a=1&a=2", "%zz=1", "a=%00", "b=1&b" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_int_equal(web_form_parse(bad[i], strlen(bad[i]), names, 2, v), -1);
		assert_null(v[0]);
		assert_null(v[1]);
	}
}

/* ---- request heads ---- */

struct head_case {
	const char *text;
	int rc;                         /* web_head_parse on the whole text */
	int status;                     /* when rc is -1 */
	enum web_head_next next;        /* when rc is 1 */
	uint64_t content_length;
	size_t skip, len;               /* when rc is 1; len 0: all of the text after skip */
};

#define H "GET / HTTP/1.1\r\nHost: a\r\n"

static const struct head_case head_cases[] = {
	{ H "\r\n", 1, 0, WEB_HEAD_NEXT_REQUEST, 0, 0, 0 },
	{ H "\r\nGET /x HTTP/1.1\r\n", 1, 0, WEB_HEAD_NEXT_REQUEST, 0, 0, sizeof(H "\r\n") - 1 },  /* the next one is not read */
	{ "\r\n\r\n" H "\r\n", 1, 0, WEB_HEAD_NEXT_REQUEST, 0, 4, 0 },  /* empty lines first (RFC 9112 §2.2) */
	{ "POST /r HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n", 1, 0, WEB_HEAD_NEXT_REQUEST, 12, 0, 0 },
	{ "POST /r HTTP/1.1\r\nHost: a\r\ncontent-length: \t 7 \t\r\n\r\n", 1, 0, WEB_HEAD_NEXT_REQUEST, 7, 0, 0 },
	{ "POST /r HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", 1, 0, WEB_HEAD_NEXT_REQUEST, 0, 0, 0 },
	{ "GET / HTTP/1.0\r\n\r\n", 1, 0, WEB_HEAD_NEXT_REQUEST, 0, 0, 0 },  /* Host is optional in 1.0 */
	{ "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 1, 0, WEB_HEAD_NEXT_REQUEST, 0, 0, 0 },
	{ H "X-A:\tcaf\xc3\xa9 \t\r\nX-B:\r\n\r\n", 1, 0, WEB_HEAD_NEXT_REQUEST, 0, 0, 0 },  /* obs-text, empty value */
	{ H "Transfer-Encoding: chunked\r\n\r\n", 1, 0, WEB_HEAD_NEXT_UNKNOWN, 0, 0, 0 },
	{ H "Content-Length: 5\r\nContent-Length: 5\r\n\r\n", 1, 0, WEB_HEAD_NEXT_UNKNOWN, 0, 0, 0 },
	{ H "Content-Length: 5x\r\n\r\n", 1, 0, WEB_HEAD_NEXT_UNKNOWN, 0, 0, 0 },
	{ H "Content-Length: -1\r\n\r\n", 1, 0, WEB_HEAD_NEXT_UNKNOWN, 0, 0, 0 },
	{ H "Content-Length: 1234567890123456789\r\n\r\n", 1, 0, WEB_HEAD_NEXT_UNKNOWN, 0, 0, 0 },
	{ H "Content-Length: 123456789012345678\r\n\r\n", 1, 0, WEB_HEAD_NEXT_REQUEST, 123456789012345678u, 0, 0 },
	{ H "Upgrade: WebSocket\r\nConnection: Upgrade\r\n\r\n", 1, 0, WEB_HEAD_NEXT_OTHER, 0, 0, 0 },
	{ "GET /r?a&b&c&d&e&f&g&h&i&j&k&l&m&n&o&p&q&r&s&t&u&v&w&x HTTP/1.1\r\nHost: a\r\n\r\n", 1, 0,
	  WEB_HEAD_NEXT_REQUEST, 0, 0, 0 },  /* 24 arguments */
	{ "GET /r?a&b&c&d&e&f&g&h&i&j&k&l&m&n&o&p&q&r&s&t&u&v&w&x&y HTTP/1.1\r\nHost: a\r\n\r\n", -1, 414, 0, 0, 0, 0 },
	/* RFC 9112 §5.1: no whitespace between the name and the colon, whatever the name. */
	{ H "Transfer-Encoding : chunked\r\n\r\n", -1, 400, 0, 0, 0, 0 },
	{ H "Content-Length\t: 5\r\n\r\n", -1, 400, 0, 0, 0, 0 },
	{ H "X-Anything  : 1\r\n\r\n", -1, 400, 0, 0, 0, 0 },
	{ H "X Y: 1\r\n\r\n", -1, 400, 0, 0, 0, 0 },
	{ H "X-A: 1\r\n folded\r\n\r\n", -1, 400, 0, 0, 0, 0 },  /* obs-fold (§5.2) */
	{ H "\tX-A: 1\r\n\r\n", -1, 400, 0, 0, 0, 0 },
	{ H ": 1\r\n\r\n", -1, 400, 0, 0, 0, 0 },
	{ H "X-A 1\r\n\r\n", -1, 400, 0, 0, 0, 0 },
	{ H "X\"A: 1\r\n\r\n", -1, 400, 0, 0, 0, 0 },
	{ H "X-A: a\x01" "b\r\n\r\n", -1, 400, 0, 0, 0, 0 },
	{ H "X-A: a\x7f\r\n\r\n", -1, 400, 0, 0, 0, 0 },
	{ "GET / HTTP/1.1\r\nHost: a\nX-A: 1\r\n\r\n", -1, 400, 0, 0, 0, 0 },  /* a bare LF */
	{ "GET / HTTP/1.1\r\nHost: a\r\n\n", -1, 400, 0, 0, 0, 0 },
	{ "GET / HTTP/1.1\nHost: a\n\n", -1, 400, 0, 0, 0, 0 },
	{ "\n", -1, 400, 0, 0, 0, 0 },
	{ "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", -1, 400, 0, 0, 0, 0 },  /* a bare CR */
	{ "GET / HTTP/1.1\r\r\n", -1, 400, 0, 0, 0, 0 },
	{ "GET / HTTP/1.1\r\n\r\n", -1, 400, 0, 0, 0, 0 },  /* no Host (§3.2) */
	{ H "Host: b\r\n\r\n", -1, 400, 0, 0, 0, 0 },
	{ "GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", -1, 400, 0, 0, 0, 0 },
	{ H "Upgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n", -1,
	  400, 0, 0, 0, 0 },
	{ H "Upgrade: websocket, h2c\r\n\r\n", -1, 400, 0, 0, 0, 0 },
	{ "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", -1, 400, 0, 0, 0, 0 },  /* the HTTP/2 preface */
	{ "GET / HTTP/1.2\r\nHost: a\r\n\r\n", -1, 400, 0, 0, 0, 0 },
	{ "GET / HTTP/2\r\nHost: a\r\n\r\n", -1, 400, 0, 0, 0, 0 },
	{ "GET / http/1.1\r\nHost: a\r\n\r\n", -1, 400, 0, 0, 0, 0 },
	{ "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", -1, 400, 0, 0, 0, 0 },
	{ "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", -1, 400, 0, 0, 0, 0 },
	{ "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", -1, 400, 0, 0, 0, 0 },
	{ "GET /\x80 HTTP/1.1\r\nHost: a\r\n\r\n", -1, 400, 0, 0, 0, 0 },
	{ "GET\r\n", -1, 400, 0, 0, 0, 0 },
	{ " GET / HTTP/1.1\r\n", -1, 400, 0, 0, 0, 0 },
	{ "get / HTTP/1.1\r\nHost: a\r\n\r\n", -1, 501, 0, 0, 0, 0 },  /* methods are case-sensitive */
	{ "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", -1, 501, 0, 0, 0, 0 },
	{ "BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n", -1, 501, 0, 0, 0, 0 },
	/* Not complete yet. */
	{ "", 0, 0, 0, 0, 0, 0 },
	{ "GET / HTT", 0, 0, 0, 0, 0, 0 },
	{ "GET / HTTP/1.1\r", 0, 0, 0, 0, 0, 0 },
	{ H, 0, 0, 0, 0, 0, 0 },
	{ H "\r", 0, 0, 0, 0, 0, 0 },
	{ "\r\n\r\n", 0, 0, 0, 0, 0, 0 },
};

/* Reads text as a whole, then as it would come one byte at a time: the same answer. */
static void
check_head(const char *text, size_t n, const struct head_case *want)
{
	struct web_head head;
	int status = 0;
	memset(&head, 0, sizeof(head));
	int rc = web_head_parse(&head, text, n, &status);
	if (rc != want->rc || (rc < 0 && status != want->status))
		fail_msg("%.60s...: rc %d status %d (%s), want %d %d", text, rc, status, head.why ? head.why : "",
			 want->rc, want->status);
	if (rc < 0)
		assert_non_null(head.why);
	if (rc == 1) {
		assert_int_equal(head.next, want->next);
		assert_true(head.content_length == want->content_length);
		assert_int_equal(head.skip, want->skip);
		assert_int_equal(head.len, want->len ? want->len : n - want->skip);
	}
	struct web_head step;
	memset(&step, 0, sizeof(step));
	int step_rc = 0, step_status = 0;
	size_t i = 0;
	while (i < n && step_rc == 0)
		step_rc = web_head_parse(&step, text, ++i, &step_status);
	assert_int_equal(step_rc, rc);
	assert_int_equal(step_status, status);
	if (rc == 1) {
		assert_int_equal(step.len, head.len);
		assert_int_equal(step.next, head.next);
	}
}

static void
test_head_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(head_cases) / sizeof(*head_cases); i++)
		check_head(head_cases[i].text, strlen(head_cases[i].text), &head_cases[i]);
	/* A NUL is a control character like any other (strlen would stop at it). */
	static const char nul[] = H "X-A: a\0b\r\n\r\n";
	const struct head_case refused_400 = { nul, -1, 400, 0, 0, 0, 0 };
	check_head(nul, sizeof(nul) - 1, &refused_400);
}

/* The limits, byte for byte: WEB_HEAD_MAX bytes and WEB_HEAD_MAX_FIELDS fields pass, one
 * more does not. */
static void
test_head_limits(void **state)
{
	(void)state;
	struct strbuf sb = { 0 };
	for (int extra = 0; extra <= 1; extra++) {
		/* One big field: H, "X-Pad: ", the padding, CRLF, CRLF. */
		strbuf_reset(&sb);
		strbuf_adds(&sb, H "X-Pad: ");
		size_t pad = WEB_HEAD_MAX - sb.len - 4 + (size_t)extra;
		for (size_t i = 0; i < pad; i++)
			strbuf_addc(&sb, 'a');
		strbuf_adds(&sb, "\r\n\r\n");
		assert_int_equal(sb.len, WEB_HEAD_MAX + (size_t)extra);
		const struct head_case big = { sb.data, extra ? -1 : 1, extra ? 431 : 0, WEB_HEAD_NEXT_REQUEST, 0, 0, 0 };
		check_head(sb.data, sb.len, &big);

		/* Host and WEB_HEAD_MAX_FIELDS - 1 more fields (+ extra). */
		strbuf_reset(&sb);
		strbuf_adds(&sb, H);
		for (int i = 1; i < WEB_HEAD_MAX_FIELDS + extra; i++)
			strbuf_addf(&sb, "X-%d: 1\r\n", i);
		strbuf_adds(&sb, "\r\n");
		const struct head_case many = { sb.data, extra ? -1 : 1, extra ? 431 : 0, WEB_HEAD_NEXT_REQUEST, 0, 0, 0 };
		check_head(sb.data, sb.len, &many);

		/* A request line alone too long: 414, not 431. */
		strbuf_reset(&sb);
		strbuf_adds(&sb, "GET /");
		while (sb.len < WEB_HEAD_MAX - 2 - strlen(" HTTP/1.1") + (size_t)extra)
			strbuf_addc(&sb, 'a');
		strbuf_adds(&sb, " HTTP/1.1\r\n");
		assert_int_equal(sb.len, WEB_HEAD_MAX + (size_t)extra);
		const struct head_case line = { sb.data, extra ? -1 : 0, extra ? 414 : 0, 0, 0, 0, 0 };
		check_head(sb.data, sb.len, &line);
	}
	/* Still no end after WEB_HEAD_MAX bytes: refused without waiting for the rest. */
	strbuf_reset(&sb);
	strbuf_adds(&sb, H "X-Pad: ");
	while (sb.len <= WEB_HEAD_MAX)
		strbuf_addc(&sb, 'a');
	const struct head_case unfinished = { sb.data, -1, 431, 0, 0, 0, 0 };
	check_head(sb.data, sb.len, &unfinished);
	strbuf_free(&sb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_get_valid_shows_the_form_without_burning, setup, temp_store_teardown),
		cmocka_unit_test_setup_teardown(test_get_invalid_tokens, setup, temp_store_teardown),
		cmocka_unit_test_setup_teardown(test_invalid_posts_do_not_fill_the_audit, setup, temp_store_teardown),
		cmocka_unit_test_setup_teardown(test_get_escapes_the_identifier, setup, temp_store_teardown),
		cmocka_unit_test_setup_teardown(test_post_refusals_keep_the_token, setup, temp_store_teardown),
		cmocka_unit_test_setup_teardown(test_post_valid_changes_once, setup, temp_store_teardown),
		cmocka_unit_test_setup_teardown(test_post_expired_between_get_and_post, setup, temp_store_teardown),
		cmocka_unit_test_setup_teardown(test_post_odd_encodings, setup, temp_store_teardown),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_generic_pages_and_csp),
		cmocka_unit_test(test_form_parse),
		cmocka_unit_test(test_head_parse),
		cmocka_unit_test(test_head_limits),
	};
	return cmocka_run_group_tests(tests, load_templates, free_templates);
}
