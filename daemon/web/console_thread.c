/* console_thread — a thread's page (GET /console/fil/ID): who asked, on which channel,
 * who holds it and why it came to a person; every message of both channels in order
 * (the text dialogd extracted, always escaped; attachments by name and size from the
 * message's note; for what the engine read, its intent and confidence); the internal
 * notes; the audit rows about the thread and its writer. Its actions (POST
 * /console/fil/ID/ACTION, Origin and CSRF checked): prendre, reprendre (from another
 * correspondant), rendre, resoudre, note, repondre — through the conversation layer, which writes each one's audit row — then
 * 303 back to the thread. */
#include "autoconf.h"
#include "web/console_internal.h"
#include "conversation/conversation.h"
#include "core/text.h"
#include "core/util.h"
#include "store/audit.h"
#include "store/store.h"
#include "web/web_page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A reply or a note longer than this is refused rather than cut (as dialogctl reply). */
#define TEXT_MAX (64u * 1024)
/* Audit rows shown on a thread's page. */
#define JOURNAL_ROWS 50

/* The thread's id at the start of s, and where it ends; 0 when s does not start with one. */
static int64_t
thread_id_of(const char *s, const char **end_r)
{
	char *end;
	if (*s < '1' || *s > '9')
		return 0;
	long long id = strtoll(s, &end, 10);
	*end_r = end;
	return id > 0 ? id : 0;
}

/* A heading of a section: <section><h2 id=id>label</h2>. */
static void
section(struct console_call *k, struct strbuf *sb, const char *id, const char *label)
{
	strbuf_addf(sb, "<section aria-labelledby=\"%s\">\n<h2 id=\"%s\">", id, id);
	console_label(k, sb, label);
	strbuf_adds(sb, "</h2>\n");
}

/* "<dt>label</dt><dd>" (the caller writes the value and closes). */
static void
term(struct console_call *k, struct strbuf *sb, const char *label)
{
	strbuf_adds(sb, "<dt>");
	console_label(k, sb, label);
	strbuf_adds(sb, "</dt><dd>");
}

static void
detail(struct console_call *k, struct strbuf *sb, const char *label, const char *value)
{
	term(k, sb, label);
	web_html_escape(sb, value != NULL && *value ? value : "—");
	strbuf_adds(sb, "</dd>\n");
}

static void
details(struct console_call *k, struct strbuf *sb, const struct thread_row *t)
{
	section(k, sb, "details", "details");
	strbuf_adds(sb, "<dl class=\"details\">\n");
	detail(k, sb, "requester", t->requester);
	term(k, sb, "channel");
	console_add_channel(k, sb, t->channel);
	strbuf_adds(sb, "</dd>\n");
	term(k, sb, "state");
	console_add_state(k, sb, thread_state_name(t->state));
	strbuf_adds(sb, "</dd>\n");
	term(k, sb, "owner");
	console_add_owner(k, sb, (int)t->owner, t->owner_person);
	strbuf_adds(sb, "</dd>\n");
	detail(k, sb, "intent", t->intent);
	detail(k, sb, "reason", t->reason);
	strbuf_adds(sb, "</dl>\n</section>\n");
}

/* The message's note: "; "-separated items, "attachment: NAME (TYPE, N bytes)" shown as
 * an attachment, anything else as a remark (the parser's words). */
static void
message_note(struct console_call *k, struct strbuf *sb, const char *note)
{
	strbuf_adds(sb, "<ul class=\"remarques\">\n");
	for (const char *p = note; *p;) {
		size_t n = strlen(p);
		const char *sep = strstr(p, "; ");
		if (sep != NULL)
			n = (size_t)(sep - p);
		char *item = xstrndup(p, n);
		bool attachment = str_starts_with(item, "attachment: ");
		strbuf_adds(sb, attachment ? "<li class=\"piece\">" : "<li>");
		console_label(k, sb, attachment ? "attachment" : "remark");
		strbuf_adds(sb, " : ");
		/* The parser writes the size in English ("N bytes)"): shown in French. */
		size_t len = strlen(item);
		bool in_bytes = attachment && len > 19 && strcmp(item + len - 7, " bytes)") == 0;
		if (in_bytes)
			item[len - 7] = '\0';
		web_html_escape(sb, attachment ? item + 12 : item);
		if (in_bytes)
			strbuf_adds(sb, " octets)");
		strbuf_adds(sb, "</li>\n");
		free(item);
		p += n;
		if (*p)
			p += 2;
	}
	strbuf_adds(sb, "</ul>\n");
}

/* What a message is: its class and its heading's label. */
static const char *
message_kind(const struct message_row *m, const char **label_r)
{
	const char *decision = m->decision ? m->decision : "";
	if (strcmp(m->direction, "in") == 0)
		return *label_r = "in", "recu";
	if (strcmp(m->direction, CONVERSATION_NOTE) == 0)
		return *label_r = "note_by", "note-interne";
	if (strcmp(decision, outbox_kind_name(OUTBOX_PERSON)) == 0)
		return *label_r = "out_person", "correspondant";
	if (strcmp(decision, "chat") == 0 || strcmp(decision, outbox_kind_name(OUTBOX_REPLY)) == 0 ||
	    strcmp(decision, outbox_kind_name(OUTBOX_ACK)) == 0)
		return *label_r = "out_bot", "assistant";
	return *label_r = "out_other", "envoye";
}

/* The heading of a message: what it is and who wrote it (or to whom it went). */
static void
message_heading(struct console_call *k, struct strbuf *sb, const struct message_row *m, const char *label)
{
	bool to = strcmp(label, "out_bot") == 0 || strcmp(label, "out_other") == 0;
	const char *who = to ? m->recipient : m->sender;
	strbuf_adds(sb, "<h3>");
	console_label(k, sb, label);
	if (strcmp(label, "note_by") != 0) {
		strbuf_adds(sb, " — ");
		console_label(k, sb, to ? "to" : "from");
	}
	strbuf_adds(sb, " ");
	web_html_escape(sb, who && *who ? who : "?");
	strbuf_adds(sb, "</h3>\n");
}

/* The names the console has a label for (console_label_<kind>_<name>): a message's
 * decision (turn.c's and the outbox's) and an audit row's action. */
static const char *const decisions_known[] = { "answered", "escalated", "ignored", "attached", "chat", "reply",
					       "ack", "notify", "action", "secret", "person" };
static const char *const actions_known[] = { "thread_take", "thread_release", "thread_resolve", "thread_reply",
					     "thread_note", "password_reset", "identifier_reminder", "dossier_status",
					     "one_time_code" };

/* name as the console labels it, or as the store keeps it when it has no label. */
static void
add_known(struct console_call *k, struct strbuf *sb, const char *kind, const char *const *known, size_t count,
	  const char *name)
{
	if (name_index(known, count, name) < 0)
		return web_html_escape(sb, name != NULL ? name : "");
	char label[64];
	snprintf(label, sizeof(label), "%s_%s", kind, name);
	console_label(k, sb, label);
}

/* The line under the heading: date, decision, what the engine read. */
static void
message_meta(struct console_call *k, struct strbuf *sb, const struct message_row *m, int64_t at)
{
	strbuf_adds(sb, "<p class=\"meta\"><span>");
	console_add_date(sb, at);
	strbuf_adds(sb, "</span>");
	if (m->decision != NULL && strcmp(m->direction, CONVERSATION_NOTE) != 0) {
		strbuf_adds(sb, " <span>");
		console_label(k, sb, "decision");
		strbuf_adds(sb, " : ");
		add_known(k, sb, "decision", decisions_known, sizeof(decisions_known) / sizeof(*decisions_known), m->decision);
		strbuf_adds(sb, "</span>");
	}
	if (m->intent != NULL) {
		char confidence[16];
		snprintf(confidence, sizeof(confidence), "%.2f", m->confidence);
		char *dot = strchr(confidence, '.');
		if (dot != NULL)
			*dot = ',';  /* French decimals */
		strbuf_adds(sb, " <span>");
		console_label(k, sb, "intent");
		strbuf_adds(sb, " : ");
		web_html_escape(sb, m->intent);
		strbuf_adds(sb, " (");
		console_label(k, sb, "confidence");
		strbuf_addf(sb, " %s)</span>", confidence);
	}
	strbuf_adds(sb, "</p>\n");
}

struct page_part {
	struct console_call *k;
	struct strbuf sb;
};

static int
message_item(const struct message_row *m, int64_t at, void *user)
{
	struct page_part *part = user;
	struct console_call *k = part->k;
	struct strbuf *sb = &part->sb;
	const char *label;
	const char *cls = message_kind(m, &label);
	strbuf_addf(sb, "<li><article class=\"message %s\">\n", cls);
	message_heading(k, sb, m, label);
	message_meta(k, sb, m, at);
	if (m->subject != NULL && *m->subject) {
		strbuf_adds(sb, "<p class=\"objet\">");
		console_label(k, sb, "subject");
		strbuf_adds(sb, " : ");
		web_html_escape(sb, m->subject);
		strbuf_adds(sb, "</p>\n");
	}
	strbuf_adds(sb, "<div class=\"corps\">");
	web_html_escape(sb, m->body ? m->body : "");
	strbuf_adds(sb, "</div>\n");
	if (m->note != NULL && *m->note)
		message_note(k, sb, m->note);
	strbuf_adds(sb, "</article></li>\n");
	return 0;
}

static int
journal_row(const struct audit_row *a, void *user)
{
	struct console_call *k = ((struct page_part *)user)->k;
	struct strbuf *sb = &((struct page_part *)user)->sb;
	strbuf_adds(sb, "<tr><td>");
	console_add_date(sb, a->at);
	strbuf_adds(sb, "</td><td>");
	web_html_escape(sb, a->requester ? a->requester : "");
	strbuf_adds(sb, "</td><td>");
	add_known(k, sb, "action", actions_known, sizeof(actions_known) / sizeof(*actions_known), a->action);
	strbuf_adds(sb, "</td><td>");
	web_html_escape(sb, audit_text(a->outcome));
	strbuf_adds(sb, "</td><td>");
	web_html_escape(sb, a->address ? a->address : "");
	strbuf_adds(sb, "</td></tr>\n");
	return 0;
}

static int
journal(struct console_call *k, struct strbuf *sb, const struct thread_row *t)
{
	char subject[24];
	snprintf(subject, sizeof(subject), "%lld", (long long)t->id);
	struct page_part rows = { .k = k };
	const char *requester = t->requester && *t->requester ? t->requester : NULL;
	if (store_audit_each_about(k->req->store, subject, requester, JOURNAL_ROWS, journal_row, &rows) < 0) {
		strbuf_free(&rows.sb);
		return -1;
	}
	section(k, sb, "journal", "journal");
	if (rows.sb.len == 0) {
		console_paragraph(k, sb, "vide", "console_journal_empty", false);
	} else {
		static const char *const columns[] = { "when", "who", "what", "outcome", "address" };
		strbuf_adds(sb, "<div class=\"tableau\"><table>\n<thead><tr>");
		for (size_t i = 0; i < sizeof(columns) / sizeof(*columns); i++) {
			strbuf_adds(sb, "<th scope=\"col\">");
			console_label(k, sb, columns[i]);
			strbuf_adds(sb, "</th>");
		}
		strbuf_adds(sb, "</tr></thead>\n<tbody>\n");
		strbuf_add(sb, rows.sb.data, rows.sb.len);
		strbuf_adds(sb, "</tbody>\n</table></div>\n");
	}
	strbuf_free(&rows.sb);
	strbuf_adds(sb, "</section>\n");
	return 0;
}

/* A form posting a text (a reply, a note) to base + action. */
static void
text_form(struct console_call *k, struct strbuf *sb, const char *base, const char *action, const char *label,
	  const char *hint, const char *button)
{
	strbuf_addf(sb, "<form method=\"post\" action=\"%s%s\" class=\"formulaire\">\n", base, action);
	console_csrf_field(k, sb);
	strbuf_addf(sb, "<label for=\"%s\">", action);
	console_label(k, sb, label);
	strbuf_addf(sb, "</label>\n<textarea id=\"%s\" name=\"message\" rows=\"%d\" required aria-describedby=\"%s-aide\">"
			"</textarea>\n<p class=\"note\" id=\"%s-aide\">", action, strcmp(action, "note") == 0 ? 3 : 8, action, action);
	console_text(k, sb, hint, NULL, 0);
	strbuf_adds(sb, "</p>\n<button type=\"submit\">");
	console_label(k, sb, button);
	strbuf_adds(sb, "</button>\n</form>\n");
}

/* The actions the signed-in person may take on t. */
static void
actions(struct console_call *k, struct strbuf *sb, const struct thread_row *t)
{
	const char *me = k->session.account.email;
	bool mine = t->owner == OWNER_PERSON && t->owner_person != NULL && strcmp(t->owner_person, me) == 0;
	bool another = t->owner == OWNER_PERSON && !mine;
	char base[64], action[96];
	snprintf(base, sizeof(base), CONSOLE_ROOT "fil/%lld/", (long long)t->id);
	section(k, sb, "actions", "actions");
	if (another)
		console_paragraph(k, sb, "note", "console_thread_held", false);
	else if (t->owner == OWNER_BOT)
		console_paragraph(k, sb, "note", "console_thread_assistant", false);
	strbuf_adds(sb, "<div class=\"boutons\">\n");
	if (!mine) {
		/* From a colleague only on purpose (away, or the thread forgotten): its own button. */
		snprintf(action, sizeof(action), "%s%s", base, another ? "reprendre" : "prendre");
		console_button_form(k, sb, action, another ? "take_over" : "take", another ? "secondaire" : NULL);
	}
	if (mine || t->owner == OWNER_QUEUE) {
		snprintf(action, sizeof(action), "%srendre", base);
		console_button_form(k, sb, action, "release", "secondaire");
	}
	if (mine) {
		snprintf(action, sizeof(action), "%sresoudre", base);
		console_button_form(k, sb, action, "resolve", "secondaire");
	}
	strbuf_adds(sb, "</div>\n");
	if (!another)
		text_form(k, sb, base, "repondre", "reply",
			  strcmp(t->channel, "chat") == 0 ? "console_reply_hint_chat" : "console_reply_hint_mail", "send");
	text_form(k, sb, base, "note", "note", "console_note_hint", "add_note");
	strbuf_adds(sb, "</section>\n");
}

/* What the last action said (?refus=1, ?vide=1, ?fait=1), above the thread. */
static void
outcome_banner(struct console_call *k, struct strbuf *sb)
{
	if (web_request_arg(k->req, "refus") != NULL)
		console_paragraph(k, sb, "erreur", "console_action_refused", true);
	else if (web_request_arg(k->req, "vide") != NULL)
		console_paragraph(k, sb, "erreur", "console_text_refused", true);
	else if (web_request_arg(k->req, "fait") != NULL)
		console_paragraph(k, sb, "succes", "console_action_done", false);
}

static void
thread_page(struct console_call *k, const struct thread_row *t)
{
	struct strbuf sb = {0};
	struct page_part messages = { .k = k };
	struct store *st = k->req->store;
	struct console_counts n;
	if (store_console_counts(st, k->session.account.email, &n) < 0 ||
	    store_messages_each(st, t->id, message_item, &messages) < 0) {
		strbuf_free(&messages.sb);
		return console_store_error(k, "reading a thread");
	}
	char *untitled = console_plain(k, "console_label_no_subject");
	console_page_begin(k, &sb, t->subject && *t->subject ? t->subject : untitled, n.to_handle);
	free(untitled);
	strbuf_adds(&sb, "<p class=\"retour\"><a href=\"" CONSOLE_ROOT "\">");
	console_label(k, &sb, "queue_link");
	strbuf_adds(&sb, "</a></p>\n");
	outcome_banner(k, &sb);
	details(k, &sb, t);
	section(k, &sb, "messages", "messages");
	strbuf_adds(&sb, "<ol class=\"messages\">\n");
	if (messages.sb.len > 0)
		strbuf_add(&sb, messages.sb.data, messages.sb.len);
	strbuf_free(&messages.sb);
	strbuf_adds(&sb, "</ol>\n</section>\n");
	actions(k, &sb, t);
	if (journal(k, &sb, t) < 0) {
		strbuf_free(&sb);
		return console_store_error(k, "reading a thread's audit");
	}
	console_page_end(k, &sb, 200);
}

/* The text of a reply or a note: valid UTF-8, not only blanks, at most TEXT_MAX bytes;
 * line ends as LF (a browser posts a textarea's lines with CRLF, HTML §4.10.11), trailing
 * blanks removed. NULL when it cannot be one. */
static char *
typed_text(const char *v)
{
	char *err = NULL;
	if (v == NULL || strlen(v) > TEXT_MAX || text_validate(v, strlen(v), &err) < 0) {
		free(err);
		return NULL;
	}
	char *text = xstrdup(v);
	size_t len = 0;
	for (const char *p = v; *p; p++)
		if (*p != '\r')
			text[len++] = *p;
		else if (p[1] != '\n')
			text[len++] = '\n';
	text[len] = '\0';
	while (len > 0 && strchr(" \t\n", text[len - 1]) != NULL)
		text[--len] = '\0';
	if (text[strspn(text, " \t\n")] == '\0') {
		free(text);
		return NULL;
	}
	return text;
}

/* A reply: the person takes the thread first when they do not hold it (from the queue
 * or the assistant; never from another correspondant), then answers on its channel. */
static enum conversation_result
reply(struct console_call *k, int64_t id, const char *text)
{
	const char *me = k->session.account.email;
	enum conversation_result rc = conversation_take(k->req->store, id, me, false);
	if (rc == CONVERSATION_DONE)
		rc = conversation_reply(k->c->sender, k->e, k->req->store, id, me, text);
	return rc;
}

/* Runs action on thread id with the form's text; the page is the redirection back. */
static void
act(struct console_call *k, int64_t id, const char *action, const char *typed)
{
	struct store *st = k->req->store;
	const char *me = k->session.account.email;
	bool with_text = strcmp(action, "repondre") == 0 || strcmp(action, "note") == 0;
	char *text = with_text ? typed_text(typed) : NULL;
	bool unusable = with_text && text == NULL;
	enum conversation_result rc;
	if (unusable)
		rc = CONVERSATION_REFUSED;
	else if (strcmp(action, "prendre") == 0 || strcmp(action, "reprendre") == 0)
		rc = conversation_take(st, id, me, action[0] == 'r');
	else if (strcmp(action, "rendre") == 0)
		rc = conversation_release(st, id, me);
	else if (strcmp(action, "resoudre") == 0)
		rc = conversation_resolve(st, id, me);
	else if (strcmp(action, "note") == 0)
		rc = conversation_note(st, id, me, text);
	else
		rc = reply(k, id, text);
	free(text);
	if (rc == CONVERSATION_STORE_ERROR)
		return console_store_error(k, action);
	char *back = xasprintf(CONSOLE_ROOT "fil/%lld?%s=1", (long long)id,
			       rc == CONVERSATION_DONE ? "fait" : unusable ? "vide" : "refus");
	console_redirect(k, back);
	free(back);
	k->page->log_line = xasprintf("console: %s: %s thread #%lld: %s", me, action, (long long)id,
				      rc == CONVERSATION_DONE ? "done" : "refused");
}

static const char *const post_actions[] = { "prendre", "reprendre", "rendre", "resoudre", "note", "repondre" };

void
console_thread_route(struct console_call *k, const char *rest)
{
	const char *end = rest;
	int64_t id = thread_id_of(rest, &end);
	if (id == 0)
		return console_error(k, 404, NULL);
	if (*end == '\0') {
		if (k->req->method == WEB_POST)
			return console_error(k, 405, "GET, HEAD");
		struct thread_row t = {0};
		int got = store_thread_get(k->req->store, id, &t);
		if (got < 0)
			console_store_error(k, "reading a thread");
		else if (got == 0)
			console_error(k, 404, NULL);
		else
			thread_page(k, &t);
		thread_row_clear(&t);
		return;
	}
	const char *action = *end == '/' ? end + 1 : "";
	if (name_index(post_actions, sizeof(post_actions) / sizeof(*post_actions), action) < 0)
		return console_error(k, 404, NULL);
	if (k->req->method != WEB_POST)
		return console_error(k, 405, "POST");
	static const char *const names[] = { "csrf", "message" };
	char *v[2];
	if (web_form_parse(k->req->body ? k->req->body : "", k->req->body_len, names, 2, v) < 0)
		return console_error(k, 400, NULL);
	if (console_post_allowed(k, v[0]))
		act(k, id, action, v[1]);
	web_secret_free(&v[0]);
	free(v[1]);
}
