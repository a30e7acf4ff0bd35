/* console_queue — the queue page (GET /console/): one view of the threads (« À traiter »,
 * « Mes conversations », « Avec l'assistant », « Toutes », counted in the header and the
 * first in the title), filtered by channel, state and intent, searched by words
 * (store_console_threads: FTS5, never a query language), a page of QUEUE_PAGE threads at
 * a time, each a link named by its subject. */
#include "autoconf.h"
#include "web/console_internal.h"
#include "core/util.h"
#include "engine/template.h"
#include "engine/intent.h"
#include "store/store.h"
#include "web/web_page.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE_PAGE 50
/* The last page one may ask for (an OFFSET beyond is only work for SQLite). */
#define QUEUE_PAGES_MAX 2000

static const struct {
	const char *arg;        /* ?vue= */
	enum console_view view;
	const char *label;      /* console_label_<label> */
} views[] = {
	{ "a-traiter", VIEW_TO_HANDLE, "view_to_handle" },
	{ "miennes", VIEW_MINE, "view_mine" },
	{ "assistant", VIEW_ASSISTANT, "view_assistant" },
	{ "toutes", VIEW_ALL, "view_all" },
};
#define VIEW_COUNT (sizeof(views) / sizeof(*views))

static const char *const states[] = { "escalated", "open", "answered", "ignored" };

/* What the query asks for, each value checked (anything else reads as absent). */
struct queue_query {
	size_t view;            /* index in views */
	const char *channel, *state, *intent, *search;
	int64_t page;           /* from 1 */
};

static bool
known_intent(const char *id)
{
	for (size_t i = 0; id != NULL && i < intent_spec_count(); i++)
		if (strcmp(intent_spec_id(i), id) == 0)
			return true;
	return false;
}

static void
read_query(const struct web_request *req, struct queue_query *q)
{
	memset(q, 0, sizeof(*q));
	const char *v = web_request_arg(req, "vue");
	for (size_t i = 0; v != NULL && i < VIEW_COUNT; i++)
		if (strcmp(views[i].arg, v) == 0)
			q->view = i;
	v = web_request_arg(req, "canal");
	q->channel = v != NULL && (strcmp(v, "mail") == 0 || strcmp(v, "chat") == 0) ? v : NULL;
	v = web_request_arg(req, "etat");
	for (size_t i = 0; v != NULL && i < sizeof(states) / sizeof(*states); i++)
		if (strcmp(states[i], v) == 0)
			q->state = v;
	v = web_request_arg(req, "intention");
	q->intent = known_intent(v) ? v : NULL;
	v = web_request_arg(req, "q");
	q->search = v != NULL && v[strspn(v, " \t")] != '\0' ? v : NULL;
	v = web_request_arg(req, "page");
	char *end = NULL;
	long long p = v != NULL ? strtoll(v, &end, 10) : 1;
	q->page = v != NULL && (*v == '\0' || *end != '\0' || p < 1 || p > QUEUE_PAGES_MAX) ? 1 : p;
}

/* Appends "&name=value", value percent-encoded (RFC 3986 unreserved kept). */
static void
add_arg(struct strbuf *sb, const char *name, const char *value)
{
	if (value == NULL)
		return;
	strbuf_addf(sb, "&%s=", name);
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (isalnum(*p) || strchr("-._~", *p) != NULL)
			strbuf_addc(sb, (char)*p);
		else
			strbuf_addf(sb, "%%%02X", *p);
	}
}

/* The queue's address for q at page (HTML-escaped into sb). */
static void
add_queue_href(struct strbuf *sb, const struct queue_query *q, int64_t page)
{
	struct strbuf url = {0};
	strbuf_addf(&url, CONSOLE_ROOT "?vue=%s", views[q->view].arg);
	add_arg(&url, "canal", q->channel);
	add_arg(&url, "etat", q->state);
	add_arg(&url, "intention", q->intent);
	add_arg(&url, "q", q->search);
	if (page > 1)
		strbuf_addf(&url, "&page=%lld", (long long)page);
	web_html_escape(sb, url.data);
	strbuf_free(&url);
}

/* An option of a select: value, its label (console_label_<label>, or the value itself
 * when label is NULL), selected when it is the current one. */
static void
add_option(struct console_call *k, struct strbuf *sb, const char *value, const char *label, const char *current)
{
	strbuf_adds(sb, "<option value=\"");
	web_html_escape(sb, value);
	strbuf_adds(sb, "\"");
	if (strcmp(current != NULL ? current : "", value) == 0)
		strbuf_adds(sb, " selected");
	strbuf_adds(sb, ">");
	if (label != NULL)
		console_label(k, sb, label);
	else
		web_html_escape(sb, value);
	strbuf_adds(sb, "</option>\n");
}

/* A labelled field of the filters' form: the label, then the opening of the control. */
static void
field(struct console_call *k, struct strbuf *sb, const char *id, const char *label)
{
	strbuf_addf(sb, "<div class=\"champ\"><label for=\"%s\">", id);
	console_label(k, sb, label);
	strbuf_adds(sb, "</label>\n");
}

/* The filters and the search: a GET form that keeps the view. */
static void
filters(struct console_call *k, struct strbuf *sb, const struct queue_query *q)
{
	strbuf_adds(sb, "<form method=\"get\" action=\"" CONSOLE_ROOT "\" class=\"filtres\" role=\"search\" aria-label=\"");
	console_label(k, sb, "filters");
	strbuf_addf(sb, "\">\n<input type=\"hidden\" name=\"vue\" value=\"%s\">\n", views[q->view].arg);
	field(k, sb, "q", "search");
	strbuf_adds(sb, "<input type=\"search\" id=\"q\" name=\"q\" value=\"");
	web_html_escape(sb, q->search ? q->search : "");
	strbuf_adds(sb, "\"></div>\n");
	field(k, sb, "canal", "channel");
	strbuf_adds(sb, "<select id=\"canal\" name=\"canal\">\n");
	add_option(k, sb, "", "any", q->channel);
	add_option(k, sb, "mail", "mail", q->channel);
	add_option(k, sb, "chat", "chat", q->channel);
	strbuf_adds(sb, "</select></div>\n");
	field(k, sb, "etat", "state");
	strbuf_adds(sb, "<select id=\"etat\" name=\"etat\">\n");
	add_option(k, sb, "", "any", q->state);
	for (size_t i = 0; i < sizeof(states) / sizeof(*states); i++) {
		char label[32];
		snprintf(label, sizeof(label), "state_%s", states[i]);
		add_option(k, sb, states[i], label, q->state);
	}
	strbuf_adds(sb, "</select></div>\n");
	field(k, sb, "intention", "intent");
	strbuf_adds(sb, "<select id=\"intention\" name=\"intention\">\n");
	add_option(k, sb, "", "any", q->intent);
	for (size_t i = 0; i < intent_spec_count(); i++)
		add_option(k, sb, intent_spec_id(i), NULL, q->intent);
	strbuf_adds(sb, "</select></div>\n<button type=\"submit\">");
	console_label(k, sb, "filter");
	strbuf_adds(sb, "</button>\n</form>\n");
}

struct listing {
	struct console_call *k;
	struct strbuf *sb;
	int64_t shown, limit;
	bool more;              /* a thread beyond the page exists */
};

/* "n° 12" and "3 messages" (the labels' placeholders). */
static void
add_count(struct console_call *k, struct strbuf *sb, const char *name, const char *var, int64_t n)
{
	char value[24];
	snprintf(value, sizeof(value), "%lld", (long long)n);
	struct template_var v = { var, value, false };
	char full[64];
	snprintf(full, sizeof(full), "console_label_%s", name);
	console_text(k, sb, full, &v, 1);
}

static int
thread_item(const struct thread_row *t, void *user)
{
	struct listing *l = user;
	struct console_call *k = l->k;
	if (l->shown == l->limit) {
		l->more = true;
		return 1;
	}
	l->shown++;
	struct strbuf *sb = l->sb;
	strbuf_addf(sb, "<li class=\"%s\">\n<a href=\"" CONSOLE_ROOT "fil/%lld\" class=\"sujet\">", thread_owner_name(t->owner),
		    (long long)t->id);
	if (t->subject != NULL && *t->subject)
		web_html_escape(sb, t->subject);
	else
		console_label(k, sb, "no_subject");
	strbuf_adds(sb, "</a>\n<p class=\"meta\"><span>");
	add_count(k, sb, "number", "number", t->id);
	strbuf_adds(sb, "</span> <span>");
	console_add_channel(k, sb, t->channel);
	strbuf_adds(sb, "</span> <span>");
	console_add_state(k, sb, thread_state_name(t->state));
	strbuf_adds(sb, "</span> <span>");
	web_html_escape(sb, t->requester && *t->requester ? t->requester : "?");
	strbuf_adds(sb, "</span> <span>");
	console_label(k, sb, "owner");
	strbuf_adds(sb, " : ");
	console_add_owner(k, sb, (int)t->owner, t->owner_person);
	strbuf_adds(sb, "</span> <span>");
	console_add_date(sb, t->updated);
	strbuf_adds(sb, "</span> <span>");
	if (t->messages == 1)
		console_label(k, sb, "message_one");
	else
		add_count(k, sb, "message_many", "count", t->messages);
	strbuf_adds(sb, "</span></p>\n</li>\n");
	return 0;
}

static void
pagination(struct console_call *k, struct strbuf *sb, const struct queue_query *q, bool more)
{
	if (q->page == 1 && !more)
		return;
	strbuf_adds(sb, "<nav class=\"pages\" aria-label=\"");
	console_label(k, sb, "pages");
	strbuf_adds(sb, "\">\n");
	if (q->page > 1) {
		strbuf_adds(sb, "<a rel=\"prev\" href=\"");
		add_queue_href(sb, q, q->page - 1);
		strbuf_adds(sb, "\">");
		console_label(k, sb, "previous");
		strbuf_adds(sb, "</a>\n");
	}
	if (more) {
		strbuf_adds(sb, "<a rel=\"next\" href=\"");
		add_queue_href(sb, q, q->page + 1);
		strbuf_adds(sb, "\">");
		console_label(k, sb, "next");
		strbuf_adds(sb, "</a>\n");
	}
	strbuf_adds(sb, "</nav>\n");
}

void
console_queue_get(struct console_call *k)
{
	struct queue_query q;
	read_query(k->req, &q);
	struct console_counts n;
	struct store *st = k->req->store;
	if (store_console_counts(st, k->session.account.email, &n) < 0)
		return console_store_error(k, "counting the queue");
	struct strbuf sb = {0}, list = {0};
	struct listing l = { .k = k, .sb = &list, .limit = QUEUE_PAGE };
	struct console_filter f = {
		.view = views[q.view].view, .person = k->session.account.email, .channel = q.channel, .state = q.state,
		.intent = q.intent, .search = q.search, .limit = QUEUE_PAGE + 1, .offset = (q.page - 1) * QUEUE_PAGE,
	};
	if (store_console_threads(st, &f, thread_item, &l) < 0) {
		strbuf_free(&list);
		return console_store_error(k, "reading the queue");
	}
	char *title = console_plain(k, "console_queue_title");
	console_page_begin(k, &sb, title, n.to_handle);
	free(title);
	strbuf_adds(&sb, "<h2>");
	console_label(k, &sb, views[q.view].label);
	strbuf_adds(&sb, "</h2>\n");
	filters(k, &sb, &q);
	if (l.shown == 0) {
		console_paragraph(k, &sb, "vide", "console_queue_empty", false);
	} else {
		strbuf_adds(&sb, "<ol class=\"fils\">\n");
		strbuf_add(&sb, list.data, list.len);
		strbuf_adds(&sb, "</ol>\n");
	}
	strbuf_free(&list);
	pagination(k, &sb, &q, l.more);
	console_page_end(k, &sb, 200);
}
