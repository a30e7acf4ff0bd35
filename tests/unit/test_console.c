/* Tests of the console's pages (daemon/web/console*.c), called as web.c calls them: a
 * hand-built web_request in, a web_page out, over a temporary store. The sign-in (its
 * cookie's flags, one answer for every refusal, the throttle, TOTP), no session → the
 * sign-in page, a POST without the public origin or the session's CSRF token → 403 and
 * nothing changed, the queue's views, filters, search, pages and the count in the title,
 * a thread whose every field carries markup shown inert, take / release / resolve, a
 * reply by mail (one outbox row of kind person in the writer's thread), a note that
 * never reaches the outbox, the audit rows with the client's address, the sign-outs and
 * the invitation page. */
#include "autoconf.h"
#include "testutil.h"
#include "teststore.h"
#include "accounts/console_session.h"
#include "accounts/correspondant.h"
#include "accounts/reset_token.h"
#include "engine/engine.h"
#include "outbox/outbound.h"
#include "store/store.h"
#include "web/console.h"
#include "web/web_page.h"

#include <liboath/oath.h>
#include <pthread.h>
#include <sqlite3.h>

#define NOW 1800000000
#define ORIGIN "https://assistance.ocapiat.test"
#define CLIENT "192.0.2.7"
static const char strong[] = "une phrase de passe 42 !";
static const char xss_script[] = "<script>alert(1)</script>";
static const char xss_attr[] = "\"><img src=x onerror=alert(1)>";

static struct engine_holder holder;
static struct sender_identity sender = { "Dialoguer avec OCAPIAT", "dialoguer@ocapiat.test", "ocapiat.test" };

struct fixture {
	struct temp_store ts;
	struct console *console;
};

static struct console *
new_console(const char *public_url, bool require_totp)
{
	struct console_settings s = { .public_url = public_url, .require_totp = require_totp, .idle_ttl = 1800,
				      .absolute_ttl = 43200, .data_dir = source_data_dir(), .engine = &holder,
				      .sender = &sender };
	char *err = NULL;
	struct console *c = console_new(&s, &err);
	if (c == NULL)
		fail_msg("console_new: %s", err);
	return c;
}

static int
group_setup(void **state)
{
	(void)state;
	char *err = NULL;
	holder.engine = engine_load(source_data_dir(), &err);
	if (holder.engine == NULL)
		fail_msg("engine: %s", err);
	pthread_rwlock_init(&holder.lock, NULL);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	engine_free(&holder.engine);
	pthread_rwlock_destroy(&holder.lock);
	return 0;
}

static int
setup(void **state)
{
	void *ts;
	temp_store_setup(&ts);
	struct fixture *f = xcalloc(1, sizeof(*f));
	f->ts = *(struct temp_store *)ts;
	free(ts);
	f->console = new_console(ORIGIN "/", false);
	char *err = NULL;
	const char *weak = NULL;
	assert_true(correspondant_create(f->ts.store, "claire@ocapiat.test", "Claire Martin", ROLE_CORRESPONDANT, NOW, &err) > 0);
	assert_int_equal(correspondant_set_password(f->ts.store, "claire@ocapiat.test", strong, NOW, &weak), 1);
	assert_true(correspondant_create(f->ts.store, "marc@ocapiat.test", "Marc Petit", ROLE_CORRESPONDANT, NOW, &err) > 0);
	assert_int_equal(correspondant_set_password(f->ts.store, "marc@ocapiat.test", strong, NOW, &weak), 1);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	console_free(&f->console);
	void *ts = xcalloc(1, sizeof(struct temp_store));
	*(struct temp_store *)ts = f->ts;
	free(f);
	return temp_store_teardown(&ts);
}

/* One request: args are "name=value" strings ending with NULL. */
static void
request(struct fixture *f, struct console *c, enum web_method method, const char *path, const char *const *args,
	const char *cookie, const char *origin, const char *body, struct web_page *page)
{
	size_t n = 0;
	while (args != NULL && args[n] != NULL)
		n++;
	struct web_request req = { .method = method, .path = path, .args = args, .arg_count = n,
				   .cookie = cookie ? cookie : "", .origin = origin, .body = body,
				   .body_len = body ? strlen(body) : 0, .client = CLIENT, .store = f->ts.store, .now = NOW };
	console_handle(c, &req, page);
}

static void
get(struct fixture *f, const char *path, const char *const *args, const char *cookie, struct web_page *page)
{
	request(f, f->console, WEB_GET, path, args, cookie, NULL, NULL, page);
}

static void
post(struct fixture *f, const char *path, const char *cookie, const char *body, struct web_page *page)
{
	request(f, f->console, WEB_POST, path, NULL, cookie, ORIGIN, body, page);
}

/* Signs in; returns the Cookie header to send back (caller frees). */
static char *
sign_in(struct fixture *f, const char *email)
{
	struct web_page page;
	char *body = xasprintf("email=%s&mot_de_passe=une+phrase+de+passe+42+%%21&code=", email);
	post(f, "/console/connexion", NULL, body, &page);
	free(body);
	assert_int_equal(page.status, 303);
	assert_non_null(page.set_cookie);
	char *cookie = xstrndup(page.set_cookie, strcspn(page.set_cookie, ";"));
	web_page_clear(&page);
	return cookie;
}

/* "csrf=TOKEN" of a cookie (caller frees). */
static char *
csrf_field(const char *cookie)
{
	const char *dot = strchr(cookie, '.');
	assert_non_null(dot);
	return xasprintf("csrf=%s", dot + 1);
}

static int64_t
count_rows(struct fixture *f, const char *sql)
{
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(f->ts.db, &db), SQLITE_OK);
	sqlite3_stmt *stmt = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	int64_t n = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return n;
}

/* A page must not bring its own script or style (the CSP allows 'self' files only). */
static void
assert_csp_clean(const struct web_page *page)
{
	assert_lacks(page->body, "<script");
	assert_lacks(page->body, "<style");
	assert_lacks(page->body, "style=");
	assert_lacks(page->body, "<img");
}

static void
test_sign_in_page_and_cookie(void **state)
{
	struct fixture *f = *state;
	struct web_page page;
	get(f, "/console/connexion", NULL, NULL, &page);
	assert_int_equal(page.status, 200);
	assert_contains(page.body, "<label for=\"email\">Adresse mail</label>");
	assert_contains(page.body, "<label for=\"mot_de_passe\">Mot de passe</label>");
	assert_contains(page.body, "<label for=\"code\">Code de vérification</label>");
	assert_contains(page.body, ">Se connecter</button>");
	assert_contains(page.body, "<link rel=\"stylesheet\" href=\"/console/console.css\">");
	assert_csp_clean(&page);
	web_page_clear(&page);

	post(f, "/console/connexion", NULL, "email=claire%40ocapiat.test&mot_de_passe=une+phrase+de+passe+42+%21&code=",
	     &page);
	assert_int_equal(page.status, 303);
	assert_string_equal(page.location, "/console/");
	assert_true(str_starts_with(page.set_cookie, "dialogd_console="));
	assert_contains(page.set_cookie, "; Path=/console/; HttpOnly; SameSite=Strict; Secure");
	assert_lacks(page.log_line, "phrase");
	web_page_clear(&page);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM audit WHERE action = 'console_sign_in' AND outcome = 'done'"
				       " AND requester = 'claire@ocapiat.test' AND address = '" CLIENT "'"), 1);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM console_sessions"), 1);

	/* Over plain http (a test set-up) the cookie is not Secure. */
	struct console *plain = new_console("http://127.0.0.1:8080", false);
	request(f, plain, WEB_POST, "/console/connexion", NULL, NULL, "http://127.0.0.1:8080",
		"email=claire%40ocapiat.test&mot_de_passe=une+phrase+de+passe+42+%21", &page);
	assert_int_equal(page.status, 303);
	assert_contains(page.set_cookie, "; HttpOnly; SameSite=Strict");
	assert_lacks(page.set_cookie, "Secure");
	web_page_clear(&page);
	console_free(&plain);
}

static void
test_sign_in_refused_and_throttled(void **state)
{
	struct fixture *f = *state;
	struct web_page page;
	const char *wrong[] = {
		"email=claire%40ocapiat.test&mot_de_passe=mauvais+mot+de+passe+1",
		"email=nobody%40ocapiat.test&mot_de_passe=une+phrase+de+passe+42+%21",
		"email=claire%40ocapiat.test.evil&mot_de_passe=une+phrase+de+passe+42+%21",
		"email=&mot_de_passe=",
	};
	for (size_t i = 0; i < sizeof(wrong) / sizeof(*wrong); i++) {
		post(f, "/console/connexion", NULL, wrong[i], &page);
		assert_int_equal(page.status, 403);
		assert_contains(page.body, "Adresse mail, mot de passe ou code incorrect.");
		assert_null(page.set_cookie);
		web_page_clear(&page);
	}
	/* Claire's account had 1 failure; 4 more, then even the right password is not read. */
	for (int i = 0; i < 4; i++) {
		post(f, "/console/connexion", NULL, wrong[0], &page);
		web_page_clear(&page);
	}
	post(f, "/console/connexion", NULL, "email=claire%40ocapiat.test&mot_de_passe=une+phrase+de+passe+42+%21", &page);
	assert_int_equal(page.status, 429);
	assert_contains(page.body, "Trop de tentatives");
	assert_lacks(page.body, "Adresse mail, mot de passe ou code incorrect.");
	assert_null(page.set_cookie);
	web_page_clear(&page);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM audit WHERE action = 'console_sign_in' AND outcome = 'refused'"), 8);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM audit WHERE action = 'console_sign_in_throttled'"), 1);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM console_sessions"), 0);
	/* A sign-in POST from elsewhere is refused before anything is checked. */
	request(f, f->console, WEB_POST, "/console/connexion", NULL, NULL, "https://evil.test",
		"email=marc%40ocapiat.test&mot_de_passe=une+phrase+de+passe+42+%21", &page);
	assert_int_equal(page.status, 403);
	assert_null(page.set_cookie);
	web_page_clear(&page);
}

/* The TOTP code of a base32 secret at now. */
static void
totp_code(const char *secret, char code[7])
{
	char *raw = NULL;
	size_t len = 0;
	assert_int_equal(oath_init(), OATH_OK);
	assert_int_equal(oath_base32_decode(secret, strlen(secret), &raw, &len), OATH_OK);
	assert_int_equal(oath_totp_generate(raw, len, NOW, 30, 0, 6, code), OATH_OK);
	free(raw);
	oath_done();
}

static void
test_sign_in_with_totp(void **state)
{
	struct fixture *f = *state;
	struct web_page page;
	/* An account without a second factor cannot sign in where the console requires one. */
	struct console *strict = new_console(ORIGIN, true);
	request(f, strict, WEB_GET, "/console/connexion", NULL, NULL, NULL, NULL, &page);
	assert_contains(page.body, "aria-describedby=\"code-aide\" required>");
	web_page_clear(&page);
	request(f, strict, WEB_POST, "/console/connexion", NULL, NULL, ORIGIN,
		"email=marc%40ocapiat.test&mot_de_passe=une+phrase+de+passe+42+%21", &page);
	assert_int_equal(page.status, 403);
	web_page_clear(&page);
	char *secret = NULL, *uri = NULL;
	assert_int_equal(correspondant_totp_enrol(f->ts.store, "claire@ocapiat.test", NOW, &secret, &uri), 1);
	char code[7];
	totp_code(secret, code);
	post(f, "/console/connexion", NULL, "email=claire%40ocapiat.test&mot_de_passe=une+phrase+de+passe+42+%21", &page);
	assert_int_equal(page.status, 403);
	web_page_clear(&page);
	char *body = xasprintf("email=claire%%40ocapiat.test&mot_de_passe=une+phrase+de+passe+42+%%21&code=%s", code);
	request(f, strict, WEB_POST, "/console/connexion", NULL, NULL, ORIGIN, body, &page);
	assert_int_equal(page.status, 303);
	assert_non_null(page.set_cookie);
	web_page_clear(&page);
	free(body);
	free(secret);
	free(uri);
	console_free(&strict);
}

static int64_t
thread_with(struct fixture *f, const char *channel, enum thread_state state, const char *subject, const char *body)
{
	int64_t id = store_thread_create(f->ts.store, channel, "ecrivain@example.test", subject, state, NULL, NULL);
	assert_true(id > 0);
	struct message_row m = { .thread_id = id, .direction = "in", .message_id = "q1@example.test",
				 .sender = "ecrivain@example.test", .subject = subject, .body = body,
				 .decision = "escalated", .intent = "submit_invoice", .confidence = 0.42 };
	assert_true(store_message_add(f->ts.store, &m) > 0);
	return id;
}

static void
test_no_session_goes_to_sign_in(void **state)
{
	struct fixture *f = *state;
	int64_t id = thread_with(f, "mail", THREAD_ESCALATED, "Facture", "Où déposer ma facture ?");
	char path[64];
	snprintf(path, sizeof(path), "/console/fil/%lld", (long long)id);
	char action[80];
	snprintf(action, sizeof(action), "/console/fil/%lld/prendre", (long long)id);
	const char *cookies[] = { NULL, "dialogd_console=nope", "dialogd_console=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.x",
				  "other=1" };
	for (size_t i = 0; i < sizeof(cookies) / sizeof(*cookies); i++) {
		struct web_page page;
		get(f, "/console/", NULL, cookies[i], &page);
		assert_int_equal(page.status, 303);
		assert_string_equal(page.location, "/console/connexion");
		web_page_clear(&page);
		get(f, path, NULL, cookies[i], &page);
		assert_int_equal(page.status, 303);
		web_page_clear(&page);
		post(f, action, cookies[i], "csrf=x", &page);
		assert_int_equal(page.status, 303);
		assert_string_equal(page.location, "/console/connexion");
		web_page_clear(&page);
	}
	struct thread_row t;
	assert_int_equal(store_thread_get(f->ts.store, id, &t), 1);
	assert_int_equal(t.owner, OWNER_QUEUE);
	thread_row_clear(&t);
	/* The stylesheet needs no session. */
	struct web_page page;
	get(f, "/console/console.css", NULL, NULL, &page);
	assert_int_equal(page.status, 200);
	assert_string_equal(page.content_type, "text/css; charset=utf-8");
	assert_contains(page.body, ".fils");
	web_page_clear(&page);
}

static void
test_post_needs_origin_and_csrf(void **state)
{
	struct fixture *f = *state;
	int64_t id = thread_with(f, "mail", THREAD_ESCALATED, "Facture", "Où déposer ma facture ?");
	char *cookie = sign_in(f, "claire%40ocapiat.test");
	char *marc = sign_in(f, "marc%40ocapiat.test");
	char *good = csrf_field(cookie), *other = csrf_field(marc);
	char action[80];
	snprintf(action, sizeof(action), "/console/fil/%lld/prendre", (long long)id);
	struct {
		const char *origin, *body;
	} refused[] = {
		{ ORIGIN, "" }, { ORIGIN, "csrf=" }, { ORIGIN, "csrf=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
		{ ORIGIN, other }, { NULL, good }, { "null", good }, { "https://evil.test", good },
		{ "https://assistance.ocapiat.test.evil.test", good }, { "http://assistance.ocapiat.test", good },
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++) {
		struct web_page page;
		request(f, f->console, WEB_POST, action, NULL, cookie, refused[i].origin, refused[i].body, &page);
		assert_int_equal(page.status, 403);
		assert_null(page.location);
		web_page_clear(&page);
	}
	struct thread_row t;
	assert_int_equal(store_thread_get(f->ts.store, id, &t), 1);
	assert_int_equal(t.owner, OWNER_QUEUE);
	thread_row_clear(&t);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM audit WHERE action = 'thread_take'"), 0);
	/* The same with both: done. */
	struct web_page page;
	post(f, action, cookie, good, &page);
	assert_int_equal(page.status, 303);
	web_page_clear(&page);
	assert_int_equal(store_thread_get(f->ts.store, id, &t), 1);
	assert_int_equal(t.owner, OWNER_PERSON);
	thread_row_clear(&t);
	free(good);
	free(other);
	free(cookie);
	free(marc);
}

static void
test_queue_views_filters_search_pages(void **state)
{
	struct fixture *f = *state;
	int64_t a = thread_with(f, "mail", THREAD_ESCALATED, "Facture de décembre", "Où déposer la facture ?");
	int64_t b = thread_with(f, "chat", THREAD_ESCALATED, "Parler à quelqu'un", "Je veux un conseiller");
	int64_t c = thread_with(f, "mail", THREAD_ANSWERED, "Mot de passe égaré", "mot de passe perdu");
	assert_int_equal(store_thread_take(f->ts.store, b, "claire@ocapiat.test", false), 1);
	char *cookie = sign_in(f, "claire%40ocapiat.test");
	struct web_page page;
	get(f, "/console/", NULL, cookie, &page);
	assert_int_equal(page.status, 200);
	assert_contains(page.body, "<title>(1) File des conversations — Console OCAPIAT</title>");
	char *link = xasprintf("<a href=\"/console/fil/%lld\" class=\"sujet\">Facture de décembre</a>", (long long)a);
	assert_contains(page.body, link);
	free(link);
	assert_lacks(page.body, "Mot de passe égaré");
	assert_contains(page.body, "À traiter <span class=\"compte\">(1)</span>");
	assert_contains(page.body, "Mes conversations <span class=\"compte\">(1)</span>");
	assert_contains(page.body, "Avec l&#39;assistant <span class=\"compte\">(1)</span>");
	assert_contains(page.body, "Toutes <span class=\"compte\">(3)</span>");
	assert_contains(page.body, "<label for=\"q\">Rechercher</label>");
	assert_csp_clean(&page);
	web_page_clear(&page);

	const char *mine[] = { "vue=miennes", NULL };
	get(f, "/console/", mine, cookie, &page);
	assert_contains(page.body, "Parler à quelqu&#39;un");
	assert_lacks(page.body, "Facture de décembre");
	web_page_clear(&page);
	const char *assistant[] = { "vue=assistant", NULL };
	get(f, "/console/", assistant, cookie, &page);
	assert_contains(page.body, "Mot de passe égaré");
	assert_lacks(page.body, "Facture de décembre");
	web_page_clear(&page);
	const char *chat[] = { "vue=toutes", "canal=chat", NULL };
	get(f, "/console/", chat, cookie, &page);
	assert_contains(page.body, "Parler à quelqu&#39;un");
	assert_lacks(page.body, "Facture de décembre");
	assert_contains(page.body, "<option value=\"chat\" selected>");
	web_page_clear(&page);
	const char *answered[] = { "vue=toutes", "etat=answered", NULL };
	get(f, "/console/", answered, cookie, &page);
	assert_contains(page.body, "Mot de passe égaré");
	assert_lacks(page.body, "Parler à quelqu&#39;un");
	web_page_clear(&page);
	const char *search[] = { "vue=toutes", "q=FACTURE", NULL };
	get(f, "/console/", search, cookie, &page);
	assert_contains(page.body, "Facture de décembre");
	assert_lacks(page.body, "Mot de passe égaré");
	web_page_clear(&page);
	const char *nothing[] = { "vue=toutes", "q=\"><b>", NULL };
	get(f, "/console/", nothing, cookie, &page);
	assert_contains(page.body, "Aucune conversation ne correspond");
	assert_contains(page.body, "value=\"&quot;&gt;&lt;b&gt;\"");
	web_page_clear(&page);
	(void)c;

	/* 55 more in the queue: two pages, the second reached from the first. */
	for (int i = 0; i < 55; i++)
		thread_with(f, "mail", THREAD_ESCALATED, "Encore une question", "bonjour");
	get(f, "/console/", NULL, cookie, &page);
	assert_contains(page.body, "<title>(56) File");
	assert_contains(page.body, "<a rel=\"next\" href=\"/console/?vue=a-traiter&amp;page=2\">Page suivante</a>");
	assert_lacks(page.body, "rel=\"prev\"");
	web_page_clear(&page);
	const char *second[] = { "page=2", NULL };
	get(f, "/console/", second, cookie, &page);
	assert_contains(page.body, "rel=\"prev\"");
	assert_lacks(page.body, "rel=\"next\"");
	assert_contains(page.body, "Facture de décembre");  /* the oldest: last */
	web_page_clear(&page);
	free(cookie);
}

static void
test_thread_shows_markup_inert(void **state)
{
	struct fixture *f = *state;
	char *subject = xasprintf("%s %s", xss_script, xss_attr);
	int64_t id = store_thread_create(f->ts.store, "mail", xss_attr, subject, THREAD_ESCALATED, "submit_invoice", xss_script);
	char *note = xasprintf("attachment: %s.pdf (application/pdf, 1234 bytes); attachment: %s (image/png, 99 bytes)",
			       xss_script, xss_attr);
	struct message_row m = { .thread_id = id, .direction = "in", .message_id = "x@example.test", .sender = xss_attr,
				 .subject = subject, .body = subject, .intent = "submit_invoice", .confidence = 0.31,
				 .decision = "escalated", .note = note };
	assert_true(store_message_add(f->ts.store, &m) > 0);
	char *cookie = sign_in(f, "claire%40ocapiat.test");
	char path[64];
	snprintf(path, sizeof(path), "/console/fil/%lld", (long long)id);
	struct web_page page;
	get(f, path, NULL, cookie, &page);
	assert_int_equal(page.status, 200);
	assert_csp_clean(&page);
	assert_lacks(page.body, "<img");
	assert_lacks(page.body, "<script>alert");
	assert_contains(page.body, "<title>(1) &lt;script&gt;alert(1)&lt;/script&gt; &quot;&gt;&lt;img src=x onerror=alert(1)&gt;");
	assert_contains(page.body, "Pièce jointe : &lt;script&gt;alert(1)&lt;/script&gt;.pdf (application/pdf, 1234 octets)");
	assert_contains(page.body, "Message reçu — De &quot;&gt;&lt;img src=x onerror=alert(1)&gt;");
	assert_contains(page.body, "Intention : submit_invoice (confiance 0,31)");
	assert_contains(page.body, "Décision : transmis aux correspondants");
	assert_contains(page.body, "<dt>Motif de la transmission</dt><dd>&lt;script&gt;");
	assert_contains(page.body, "<label for=\"repondre\">Réponse</label>");
	assert_contains(page.body, ">Envoyer</button>");
	web_page_clear(&page);
	get(f, "/console/", NULL, cookie, &page);
	assert_csp_clean(&page);
	assert_lacks(page.body, "<img");
	assert_contains(page.body, "class=\"sujet\">&lt;script&gt;alert(1)&lt;/script&gt;");
	web_page_clear(&page);
	free(cookie);
	free(note);
	free(subject);
}

/* POSTs action on thread id as cookie; returns the redirection's target (caller frees). */
static char *
act(struct fixture *f, const char *cookie, int64_t id, const char *action, const char *text)
{
	char path[80];
	snprintf(path, sizeof(path), "/console/fil/%lld/%s", (long long)id, action);
	char *csrf = csrf_field(cookie);
	char *body = text ? xasprintf("%s&message=%s", csrf, text) : xstrdup(csrf);
	struct web_page page;
	post(f, path, cookie, body, &page);
	assert_int_equal(page.status, 303);
	char *location = xstrdup(page.location);
	web_page_clear(&page);
	free(body);
	free(csrf);
	return location;
}

static void
assert_owner(struct fixture *f, int64_t id, enum thread_owner owner, const char *person, enum thread_state state)
{
	struct thread_row t;
	assert_int_equal(store_thread_get(f->ts.store, id, &t), 1);
	assert_int_equal(t.owner, owner);
	if (person != NULL)
		assert_string_equal(t.owner_person, person);
	assert_int_equal(t.state, state);
	thread_row_clear(&t);
}

static void
test_take_release_resolve(void **state)
{
	struct fixture *f = *state;
	int64_t id = thread_with(f, "mail", THREAD_ESCALATED, "Facture", "Où déposer ma facture ?");
	char *claire = sign_in(f, "claire%40ocapiat.test"), *marc = sign_in(f, "marc%40ocapiat.test");
	char *to = act(f, claire, id, "prendre", NULL);
	char *expected = xasprintf("/console/fil/%lld?fait=1", (long long)id);
	assert_string_equal(to, expected);
	free(to);
	assert_owner(f, id, OWNER_PERSON, "claire@ocapiat.test", THREAD_ESCALATED);
	/* Marc cannot take it from her, release or resolve it. */
	const char *actions[] = { "prendre", "rendre", "resoudre" };
	for (size_t i = 0; i < 3; i++) {
		to = act(f, marc, id, actions[i], NULL);
		assert_contains(to, "?refus=1");
		free(to);
	}
	assert_owner(f, id, OWNER_PERSON, "claire@ocapiat.test", THREAD_ESCALATED);
	struct web_page page;
	char path[64];
	snprintf(path, sizeof(path), "/console/fil/%lld", (long long)id);
	const char *refused[] = { "refus=1", NULL };
	get(f, path, refused, marc, &page);
	assert_contains(page.body, "role=\"alert\">Cette conversation a changé de mains");
	assert_lacks(page.body, "<label for=\"repondre\">");  /* she holds it: no reply box for him */
	assert_contains(page.body, "<label for=\"note\">Note interne</label>");
	assert_contains(page.body, ">Reprendre la conversation</button>");
	web_page_clear(&page);
	/* Taking it over is its own action: then it is his. */
	to = act(f, marc, id, "reprendre", NULL);
	assert_contains(to, "?fait=1");
	free(to);
	assert_owner(f, id, OWNER_PERSON, "marc@ocapiat.test", THREAD_ESCALATED);
	to = act(f, claire, id, "reprendre", NULL);
	free(to);
	to = act(f, claire, id, "rendre", NULL);
	free(to);
	assert_owner(f, id, OWNER_BOT, NULL, THREAD_OPEN);
	to = act(f, claire, id, "prendre", NULL);
	free(to);
	to = act(f, claire, id, "resoudre", NULL);
	assert_string_equal(to, expected);
	free(to);
	assert_owner(f, id, OWNER_BOT, NULL, THREAD_ANSWERED);
	/* Each action audited with who, the thread and the client's address. */
	assert_int_equal(count_rows(f, "SELECT count(*) FROM audit WHERE channel = 'console' AND requester = 'claire@ocapiat.test'"
				       " AND action IN ('thread_take', 'thread_release', 'thread_resolve') AND outcome = 'done'"
				       " AND address = '" CLIENT "'"), 5);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM audit WHERE requester = 'marc@ocapiat.test' AND outcome = 'refused'"), 3);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM audit WHERE requester = 'marc@ocapiat.test' AND action = 'thread_take'"
				       " AND outcome = 'done'"), 1);
	get(f, path, NULL, claire, &page);
	assert_contains(page.body, "<td>l&#39;a résolue</td><td>done</td><td>" CLIENT "</td>");
	web_page_clear(&page);
	/* No such thread, no such action, a GET on an action. */
	get(f, "/console/fil/999999", NULL, claire, &page);
	assert_int_equal(page.status, 404);
	web_page_clear(&page);
	get(f, "/console/fil/1/prendre", NULL, claire, &page);
	assert_int_equal(page.status, 405);
	web_page_clear(&page);
	post(f, "/console/fil/1/effacer", claire, "csrf=x", &page);
	assert_int_equal(page.status, 404);
	web_page_clear(&page);
	free(expected);
	free(claire);
	free(marc);
}

/* The outbox rows of thread id: count of all, and the raw of the one of kind person. */
static char *
person_mail(struct fixture *f, int64_t id, int64_t *count_r)
{
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(f->ts.db, &db), SQLITE_OK);
	sqlite3_stmt *stmt = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT kind, raw FROM outbox WHERE thread_id = ?", -1, &stmt, NULL), SQLITE_OK);
	sqlite3_bind_int64(stmt, 1, id);
	char *raw = NULL;
	*count_r = 0;
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		(*count_r)++;
		if (strcmp((const char *)sqlite3_column_text(stmt, 0), "person") == 0)
			raw = xstrdup((const char *)sqlite3_column_text(stmt, 1));
	}
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return raw;
}

static void
test_reply_by_mail_and_note(void **state)
{
	struct fixture *f = *state;
	int64_t id = thread_with(f, "mail", THREAD_ESCALATED, "Facture", "Où déposer ma facture ?");
	char *claire = sign_in(f, "claire%40ocapiat.test");
	/* A note: kept in the thread, never in the outbox. */
	char *to = act(f, claire, id, "note", "Client+connu%2C+voir+le+dossier+D-1");
	assert_contains(to, "?fait=1");
	free(to);
	int64_t n;
	char *raw = person_mail(f, id, &n);
	assert_int_equal(n, 0);
	assert_null(raw);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM messages WHERE direction = 'note' AND sender = 'claire@ocapiat.test'"
				       " AND body = 'Client connu, voir le dossier D-1'"), 1);
	assert_owner(f, id, OWNER_QUEUE, NULL, THREAD_ESCALATED);  /* a note takes nothing */
	/* An empty reply is refused and sends nothing. */
	to = act(f, claire, id, "repondre", "+%0D%0A+");
	assert_contains(to, "?vide=1");
	free(to);
	raw = person_mail(f, id, &n);
	assert_int_equal(n, 0);
	/* The reply takes the thread and goes out once, in the writer's thread. */
	to = act(f, claire, id, "repondre", "Bonjour%2C+d%C3%A9posez-la%0D%0Adans+Mon+Espace.%0D%0A");
	assert_contains(to, "?fait=1");
	free(to);
	raw = person_mail(f, id, &n);
	assert_int_equal(n, 1);
	assert_non_null(raw);
	assert_contains(raw, "In-Reply-To: <q1@example.test>");
	assert_contains(raw, "References: <q1@example.test>");
	assert_contains(raw, "To: <ecrivain@example.test>");
	assert_lacks(raw, "Client connu");
	assert_lacks(raw, "automatique");  /* a person's answer, not the assistant's envelope */
	assert_contains(raw, "Votre conseiller OCAPIAT");
	free(raw);
	assert_owner(f, id, OWNER_PERSON, "claire@ocapiat.test", THREAD_ANSWERED);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM audit WHERE action = 'thread_reply' AND outcome = 'done'"
				       " AND address = '" CLIENT "'"), 1);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM audit WHERE action = 'thread_note' AND outcome = 'done'"), 1);
	/* The page shows the note as a note, the reply as a correspondant's. */
	struct web_page page;
	char path[64];
	snprintf(path, sizeof(path), "/console/fil/%lld", (long long)id);
	get(f, path, NULL, claire, &page);
	assert_contains(page.body, "<article class=\"message note-interne\">\n<h3>Note interne de claire@ocapiat.test</h3>");
	assert_contains(page.body, "Bonjour, déposez-la\ndans Mon Espace.");  /* the textarea's CRLF as LF */
	assert_contains(page.body, "<article class=\"message correspondant\">");
	web_page_clear(&page);
	free(claire);
}

static void
test_sign_out_and_everywhere(void **state)
{
	struct fixture *f = *state;
	char *one = sign_in(f, "claire%40ocapiat.test"), *two = sign_in(f, "claire%40ocapiat.test");
	struct web_page page;
	/* Sign-out is a POST with the CSRF token, like any change. */
	request(f, f->console, WEB_POST, "/console/deconnexion", NULL, one, "https://evil.test", "", &page);
	assert_int_equal(page.status, 403);
	web_page_clear(&page);
	char *csrf = csrf_field(one);
	post(f, "/console/deconnexion", one, csrf, &page);
	free(csrf);
	assert_int_equal(page.status, 303);
	assert_string_equal(page.location, "/console/connexion");
	assert_contains(page.set_cookie, "dialogd_console=; Path=/console/; Max-Age=0");
	web_page_clear(&page);
	get(f, "/console/", NULL, one, &page);
	assert_int_equal(page.status, 303);
	web_page_clear(&page);
	get(f, "/console/", NULL, two, &page);
	assert_int_equal(page.status, 200);
	assert_contains(page.body, ">Se déconnecter partout</button>");
	web_page_clear(&page);
	char *three = sign_in(f, "claire%40ocapiat.test");
	csrf = csrf_field(two);
	post(f, "/console/deconnexion-partout", two, csrf, &page);
	free(csrf);
	assert_int_equal(page.status, 303);
	web_page_clear(&page);
	get(f, "/console/", NULL, three, &page);
	assert_int_equal(page.status, 303);
	web_page_clear(&page);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM console_sessions"), 0);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM audit WHERE action IN ('console_sign_out', 'console_sign_out_all')"
				       " AND address = '" CLIENT "'"), 2);
	free(one);
	free(two);
	free(three);
}

static void
test_invitation(void **state)
{
	struct fixture *f = *state;
	char *err = NULL;
	int64_t id = correspondant_create(f->ts.store, "lea@ocapiat.test", "Léa", ROLE_CORRESPONDANT, NOW, &err);
	assert_true(id > 0);
	char token[RESET_TOKEN_SIZE];
	char *key = xasprintf("%lld", (long long)id);
	assert_int_equal(reset_token_issue_for(f->ts.store, RESET_PURPOSE_CONSOLE_INVITATION, key, NOW, INVITATION_TTL, token), 0);
	free(key);
	char *arg = xasprintf("jeton=%s", token);
	const char *args[] = { arg, NULL };
	struct web_page page;
	get(f, "/console/invitation", args, NULL, &page);
	assert_int_equal(page.status, 200);
	assert_contains(page.body, "<strong>lea@ocapiat.test</strong>");
	assert_contains(page.body, "<label for=\"confirmation\">Confirmation du mot de passe</label>");
	assert_csp_clean(&page);
	web_page_clear(&page);
	char *mismatch = xasprintf("jeton=%s&mot_de_passe=une+phrase+de+passe+42+%%21&confirmation=autre", token);
	post(f, "/console/invitation", NULL, mismatch, &page);
	assert_int_equal(page.status, 200);
	assert_contains(page.body, "role=\"alert\"");
	web_page_clear(&page);
	free(mismatch);
	char *good = xasprintf("jeton=%s&mot_de_passe=une+phrase+de+passe+42+%%21&confirmation=une+phrase+de+passe+42+%%21",
			       token);
	request(f, f->console, WEB_POST, "/console/invitation", NULL, NULL, "https://evil.test", good, &page);
	assert_int_equal(page.status, 403);
	web_page_clear(&page);
	post(f, "/console/invitation", NULL, good, &page);
	assert_int_equal(page.status, 200);
	assert_contains(page.body, "Mot de passe enregistré");
	web_page_clear(&page);
	/* Single use; and the password works. */
	post(f, "/console/invitation", NULL, good, &page);
	assert_contains(page.body, "n&#39;est plus valable");
	web_page_clear(&page);
	free(good);
	char *cookie = sign_in(f, "lea%40ocapiat.test");
	free(cookie);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM audit WHERE action = 'console_invitation' AND address = '" CLIENT "'"), 1);
	const char *bad[] = { "jeton=AAAA", NULL };
	get(f, "/console/invitation", bad, NULL, &page);
	assert_contains(page.body, "n&#39;est plus valable");
	web_page_clear(&page);
	free(arg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sign_in_page_and_cookie, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_in_refused_and_throttled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_in_with_totp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_session_goes_to_sign_in, setup, teardown),
		cmocka_unit_test_setup_teardown(test_post_needs_origin_and_csrf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_views_filters_search_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thread_shows_markup_inert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_take_release_resolve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_by_mail_and_note, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_out_and_everywhere, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invitation, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
