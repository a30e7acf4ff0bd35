/* template — the French texts of templates/ and their placeholders (see template.h).
 * The table below is the contract between the code and the files: which templates exist
 * and which placeholders each may use. dialogctl check and the loader both read it. */
#include "autoconf.h"
#include "engine/template.h"
#include "core/text.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

#define MAX_VARS 8

static const struct {
	const char *name;
	const char *vars[MAX_VARS];
} known[] = {
	/* E-mail reply envelope: greeting, the answer, closing, automatic-answer note. */
	{ "mail_reply", { "answer", "question_quote" } },
	/* The writer's question quoted under a reply (only for an authenticated writer). */
	{ "mail_reply_quote", { "quote" } },
	/* Chat reply envelope. */
	{ "chat_reply", { "answer" } },
	/* Before an answer to a question written in English: the answer is in French. */
	{ "note_english", { "answer" } },
	/* One FAQ answer: its title and its text (variants already assembled). */
	{ "answer_faq", { "question", "text" } },
	/* Headings of the variants when the writer's audience is unknown. */
	{ "variant_entreprise", { "text" } },
	{ "variant_organisme", { "text" } },
	/* Two close intents in a mail: the reply covers both. */
	{ "answer_two", { "first", "second" } },
	/* Two close intents in a chat: ask which one. */
	{ "chat_clarify", { "first", "second" } },
	/* The chat answer to a reply that picks neither choice. */
	{ "chat_clarify_again", { "first", "second" } },
	/* A short chat message hinting at one subject: is it this one? */
	{ "chat_confirm", { "first" } },
	/* The writer said no to the proposed subject(s). */
	{ "chat_rephrase", { "" } },
	/* Chat: asked when a FAQ answer differs for entreprises and organismes de formation. */
	{ "chat_ask_audience", { "" } },
	/* Chat: the labels of the quick replies (buttons) a reply offers. */
	{ "chat_offer_yes", { "" } },
	{ "chat_offer_no", { "" } },
	{ "chat_offer_person", { "" } },
	{ "chat_offer_entreprise", { "" } },
	{ "chat_offer_organisme", { "" } },
	/* Escalation to a correspondant: the acknowledgement to the writer. */
	{ "escalation_ack", { "reason" } },
	/* Escalation reasons, shown inside escalation_ack. */
	{ "reason_unknown", { "" } },
	{ "reason_handoff", { "" } },
	{ "reason_dossier_status", { "" } },
	{ "reason_unreadable", { "" } },
	{ "reason_directory_unavailable", { "" } },
	/* The same, said after a reply that promised a mail "if an account matches": the
	 * account work ran after it and the directory did not answer. */
	{ "reason_directory_unavailable_after", { "" } },
	/* Identifier reminder: the reply to the requester (the same whether or not an account
	 * matched), and the separate mail to the address on file. */
	{ "action_identifier_reply", { "" } },
	{ "action_identifier_mail", { "identifiers" } },
	{ "action_identifier_subject", { "" } },
	/* Dossier status: asking for the number, the status for a verified requester (and
	 * the mail to the addresses on file), the same reply for anyone else. */
	{ "action_dossier_ask", { "" } },
	{ "action_dossier_status", { "number", "type", "state", "deca" } },
	{ "action_dossier_redirect", { "" } },
	{ "action_dossier_subject", { "number" } },
	{ "dossier_state_en_cours_de_saisie", { "faq" } },
	{ "dossier_state_transmis", { "faq" } },
	{ "dossier_state_en_attente_de_pieces", { "faq" } },
	{ "dossier_state_accorde", { "faq" } },
	{ "dossier_state_refuse", { "faq" } },
	{ "dossier_state_paye", { "faq" } },
	{ "dossier_state_clos", { "faq" } },
	/* Password reset: the reply (the same whatever matched), the link's mail to the
	 * address on file. */
	{ "action_reset_reply", { "minutes" } },
	{ "action_reset_mail", { "identifier", "link", "minutes" } },
	{ "action_reset_subject", { "" } },
	/* Chat: the one-time code's mail to the address on file. */
	{ "action_code_mail", { "code", "minutes" } },
	{ "action_code_subject", { "" } },
	/* Chat account actions: what the assistant asks for, and says once done. */
	{ "chat_ask_contact", { "" } },
	{ "chat_reminder_done", { "minutes" } },
	{ "chat_ask_account", { "" } },
	{ "chat_reset_done", { "minutes" } },
	{ "chat_ask_number", { "" } },
	{ "chat_ask_email", { "" } },
	{ "chat_code_sent", { "minutes" } },
	{ "chat_code_wrong", { "remaining" } },
	{ "chat_code_exhausted", { "" } },
	{ "chat_with_person", { "" } },
	{ "chat_status", { "status" } },
	{ "chat_cancelled", { "" } },
	/* To the correspondants: a thread needs a person. */
	{ "mail_notify", { "thread", "link", "requester", "subject", "reason", "intent", "messages" } },
	{ "mail_notify_subject", { "thread", "subject" } },
	/* Beyond [mail] notify_limit an hour: one digest of the held notifications. */
	{ "mail_digest", { "count", "threads" } },
	{ "mail_digest_subject", { "count" } },
	{ "mail_digest_line", { "thread", "at", "requester", "subject", "reason", "link" } },
	/* Chat small talk. */
	{ "chat_welcome", { "" } },
	{ "chat_greeting", { "" } },
	{ "chat_thanks", { "" } },
	{ "chat_goodbye", { "" } },
	/* A message that cannot be read (invalid UTF-8, too long). */
	{ "invalid_message", { "" } },
	/* The chat's answer when the store failed and the message was not recorded. */
	{ "chat_store_failed", { "" } },
	/* The website chat's error frames (daemon/chat/chat_ws.c): a frame refused, by its
	 * code ("chat_error_" CODE). */
	{ "chat_error_invalid_json", { "" } },
	{ "chat_error_unknown_type", { "" } },
	{ "chat_error_invalid_field", { "" } },
	{ "chat_error_too_long", { "" } },
	{ "chat_error_hello_first", { "" } },
	{ "chat_error_unexpected", { "" } },
	{ "chat_error_rate_limited", { "" } },
	{ "chat_error_ended", { "" } },
	{ "chat_error_identity_refused", { "" } },
	/* The console: the invitation to choose a password (accounts/correspondant.c). */
	{ "console_invitation_mail", { "name", "link", "days" } },
	{ "console_invitation_subject", { "" } },
	/* Chat: an address the visitor proves with a code, for the transcript or a
	 * correspondant's answers by mail (conversation/turn_address.c), and those mails. */
	{ "chat_offer_answers_by_mail", { "" } },
	{ "chat_transcript_request", { "" } },
	{ "chat_ask_address_answers", { "" } },
	{ "chat_ask_address_transcript", { "" } },
	{ "chat_address_code_sent", { "address", "minutes" } },
	{ "chat_address_limit", { "" } },
	{ "chat_address_unusable", { "address" } },
	{ "chat_address_answers", { "address" } },
	{ "chat_transcript_sent", { "address" } },
	{ "action_address_code_mail", { "code", "minutes" } },
	{ "transcript_mail_subject", { "" } },
	{ "transcript_mail", { "lines" } },
	{ "transcript_line_visitor", { "text" } },
	{ "transcript_line_bot", { "text" } },
	{ "transcript_line_person", { "text" } },
	{ "chat_answer_mail_subject", { "" } },
	{ "chat_answer_mail", { "text" } },
	/* A correspondant's answer by mail: their own words, signed, never called automatic. */
	{ "mail_person_reply", { "text" } },
	/* Chat: after a hand-over, when the correspondants answer ([chat] hours, or
	 * chat_hours when it is unset). */
	{ "chat_handoff_hours", { "hours" } },
	{ "chat_hours", { "" } },
	/* Chat, a visitor the extranet vouches for: a dossier number not of their structures. */
	{ "chat_status_not_yours", { "number" } },
	/* The subject after "Re: " when the writer's own subject is not repeated or empty. */
	{ "mail_reply_subject_neutral", { "" } },
	/* The subject of the stand-in for a mail the IMAP server never delivered. */
	{ "unfetchable_subject", { "uid" } },
	/* Identifier reminder: one line per account in {{identifiers}} of action_identifier_mail,
	 * without or with the structures the account acts for (", " between them). */
	{ "action_identifier_line", { "identifier" } },
	{ "action_identifier_line_structures", { "identifier", "structures" } },
	/* Dossier status: the dossier's type, and its DECA number (apprenticeship only). */
	{ "dossier_type_action_formation", { "" } },
	{ "dossier_type_contrat_pro", { "" } },
	{ "dossier_type_contrat_apprentissage", { "" } },
	{ "action_dossier_deca", { "deca" } },
	{ "action_dossier_deca_pending", { "" } },
	/* What replaces, in a writer's text, a reset token, a one-time code (where one was
	 * sent) and, in what is quoted back to them, a link. */
	{ "scrub_token", { "" } },
	{ "scrub_code", { "" } },
	{ "scrub_link", { "" } },
	/* What a thread's history keeps instead of a secret (a link, a code, a chat message
	 * that may hold a code) or of a chat message that is not valid text. */
	{ "history_link_removed", { "" } },
	{ "history_code_removed", { "" } },
	{ "history_message_removed", { "" } },
	{ "history_message_unreadable", { "" } },
	/* To the correspondants: one message of a thread inside mail_notify's {{messages}},
	 * and the line saying that older ones were left out. */
	{ "notify_message_in", { "at", "sender" } },
	{ "notify_message_out", { "at", "recipient" } },
	{ "notify_messages_older", { "count" } },
	/* To the correspondants: why the thread needs a person ({{reason}} of mail_notify and
	 * mail_digest_line). */
	{ "notify_reason_unknown", { "" } },
	{ "notify_reason_handoff", { "" } },
	{ "notify_reason_dossier_status", { "" } },
	{ "notify_reason_unreadable", { "" } },
	{ "notify_reason_unavailable", { "" } },
	{ "notify_reason_limit", { "" } },
	{ "notify_reason_follow_up", { "" } },
	{ "notify_reason_undelivered", { "recipient", "error" } },
	{ "notify_reason_code_cap", { "" } },
	/* The thread opened for the correspondants when too many wrong one-time codes were
	 * typed in an hour: its subject and its message (until {{date}} at {{time}}). */
	{ "code_cap_subject", { "" } },
	{ "code_cap_message", { "count", "limit", "date", "time" } },
	/* The web pages ([web] listen), rendered as HTML: the markup is in the code, every
	 * text is here; a no-break space is written "&nbsp;". Titles, paragraphs, labels:
	 * {{address}} is the support address as a mail link, {{duration}} web_minutes_*,
	 * {{identifier}} the account in bold. */
	{ "web_home_title", { "" } },
	{ "web_home_text", { "" } },
	{ "web_home_contact", { "address" } },
	{ "web_home_chat", { "" } },
	{ "web_error_400_title", { "" } },
	{ "web_error_400_text", { "" } },
	{ "web_error_404_title", { "" } },
	{ "web_error_404_text", { "" } },
	{ "web_error_405_title", { "" } },
	{ "web_error_405_text", { "" } },
	{ "web_error_411_title", { "" } },
	{ "web_error_411_text", { "" } },
	{ "web_error_413_title", { "" } },
	{ "web_error_413_text", { "" } },
	{ "web_error_414_title", { "" } },
	{ "web_error_414_text", { "" } },
	{ "web_error_415_title", { "" } },
	{ "web_error_415_text", { "" } },
	{ "web_error_431_title", { "" } },
	{ "web_error_431_text", { "" } },
	{ "web_error_501_title", { "" } },
	{ "web_error_501_text", { "" } },
	{ "web_error_500_title", { "" } },
	{ "web_error_500_text", { "" } },
	{ "web_minutes_one", { "minutes" } },
	{ "web_minutes_many", { "minutes" } },
	{ "web_reset_mail_subject", { "" } },
	{ "web_reset_title", { "" } },
	{ "web_reset_account", { "identifier" } },
	{ "web_reset_rule", { "" } },
	{ "web_reset_label_password", { "" } },
	{ "web_reset_label_confirmation", { "" } },
	{ "web_reset_button", { "" } },
	{ "web_reset_validity", { "duration" } },
	{ "web_reset_both_fields", { "" } },
	{ "web_reset_mismatch", { "" } },
	{ "web_password_unreadable", { "" } },
	{ "web_password_short", { "" } },
	{ "web_password_long", { "" } },
	{ "web_password_mix", { "" } },
	{ "web_invalid_title", { "" } },
	{ "web_invalid_text", { "duration" } },
	{ "web_invalid_renew", { "address" } },
	{ "web_invalid_note", { "" } },
	{ "web_success_title", { "" } },
	{ "web_success_text", { "" } },
	{ "web_success_note", { "address" } },
	/* The correspondants' console's pages (web/console*.c), rendered as HTML like the
	 * web pages: titles, paragraphs, messages; {{email}} is the account in bold. */
	{ "console_action_done", { "" } },
	{ "console_action_refused", { "" } },
	{ "console_forbidden_text", { "" } },
	{ "console_forbidden_title", { "" } },
	{ "console_invitation_account", { "email" } },
	{ "console_invitation_done_text", { "" } },
	{ "console_invitation_done_title", { "" } },
	{ "console_invitation_invalid_text", { "" } },
	{ "console_invitation_invalid_title", { "" } },
	{ "console_invitation_title", { "" } },
	{ "console_journal_empty", { "" } },
	{ "console_login_intro", { "" } },
	{ "console_login_refused", { "" } },
	{ "console_login_throttled", { "" } },
	{ "console_login_title", { "" } },
	{ "console_login_totp_optional", { "" } },
	{ "console_login_totp_required", { "" } },
	{ "console_note_hint", { "" } },
	{ "console_queue_empty", { "" } },
	{ "console_queue_title", { "" } },
	{ "console_reply_hint_chat", { "" } },
	{ "console_reply_hint_mail", { "" } },
	{ "console_site_name", { "" } },
	{ "console_text_refused", { "" } },
	{ "console_thread_assistant", { "" } },
	{ "console_thread_held", { "" } },
	/* The console's labels (fields, buttons, views, headings): console_label_<name>. */
	{ "console_label_email", { "" } },
	{ "console_label_password", { "" } },
	{ "console_label_confirmation", { "" } },
	{ "console_label_totp", { "" } },
	{ "console_label_sign_in", { "" } },
	{ "console_label_save_password", { "" } },
	{ "console_label_sign_out", { "" } },
	{ "console_label_sign_out_all", { "" } },
	{ "console_label_views", { "" } },
	{ "console_label_view_to_handle", { "" } },
	{ "console_label_view_mine", { "" } },
	{ "console_label_view_assistant", { "" } },
	{ "console_label_view_all", { "" } },
	{ "console_label_filters", { "" } },
	{ "console_label_channel", { "" } },
	{ "console_label_state", { "" } },
	{ "console_label_intent", { "" } },
	{ "console_label_search", { "" } },
	{ "console_label_filter", { "" } },
	{ "console_label_any", { "" } },
	{ "console_label_mail", { "" } },
	{ "console_label_chat", { "" } },
	{ "console_label_previous", { "" } },
	{ "console_label_next", { "" } },
	{ "console_label_pages", { "" } },
	{ "console_label_queue_link", { "" } },
	{ "console_label_take", { "" } },
	{ "console_label_take_over", { "" } },
	{ "console_label_action_thread_take", { "" } },
	{ "console_label_action_thread_release", { "" } },
	{ "console_label_action_thread_resolve", { "" } },
	{ "console_label_action_thread_reply", { "" } },
	{ "console_label_action_thread_note", { "" } },
	{ "console_label_action_password_reset", { "" } },
	{ "console_label_action_identifier_reminder", { "" } },
	{ "console_label_action_dossier_status", { "" } },
	{ "console_label_action_one_time_code", { "" } },
	{ "console_label_decision_answered", { "" } },
	{ "console_label_decision_escalated", { "" } },
	{ "console_label_decision_ignored", { "" } },
	{ "console_label_decision_attached", { "" } },
	{ "console_label_decision_chat", { "" } },
	{ "console_label_decision_reply", { "" } },
	{ "console_label_decision_ack", { "" } },
	{ "console_label_decision_notify", { "" } },
	{ "console_label_decision_action", { "" } },
	{ "console_label_decision_secret", { "" } },
	{ "console_label_decision_person", { "" } },
	{ "console_label_release", { "" } },
	{ "console_label_resolve", { "" } },
	{ "console_label_reply", { "" } },
	{ "console_label_send", { "" } },
	{ "console_label_note", { "" } },
	{ "console_label_add_note", { "" } },
	{ "console_label_messages", { "" } },
	{ "console_label_journal", { "" } },
	{ "console_label_actions", { "" } },
	{ "console_label_details", { "" } },
	{ "console_label_requester", { "" } },
	{ "console_label_owner", { "" } },
	{ "console_label_reason", { "" } },
	{ "console_label_confidence", { "" } },
	{ "console_label_decision", { "" } },
	{ "console_label_attachment", { "" } },
	{ "console_label_remark", { "" } },
	{ "console_label_from", { "" } },
	{ "console_label_to", { "" } },
	{ "console_label_subject", { "" } },
	{ "console_label_no_subject", { "" } },
	{ "console_label_owner_bot", { "" } },
	{ "console_label_owner_queue", { "" } },
	{ "console_label_in", { "" } },
	{ "console_label_out_bot", { "" } },
	{ "console_label_out_person", { "" } },
	{ "console_label_out_other", { "" } },
	{ "console_label_note_by", { "" } },
	{ "console_label_when", { "" } },
	{ "console_label_who", { "" } },
	{ "console_label_what", { "" } },
	{ "console_label_outcome", { "" } },
	{ "console_label_address", { "" } },
	{ "console_label_number", { "number" } },
	{ "console_label_message_one", { "" } },
	{ "console_label_message_many", { "count" } },
	{ "console_label_state_answered", { "" } },
	{ "console_label_state_escalated", { "" } },
	{ "console_label_state_ignored", { "" } },
	{ "console_label_state_open", { "" } },
};

#define KNOWN_COUNT (sizeof(known) / sizeof(*known))

struct templates {
	char *text[KNOWN_COUNT];
};

static int
known_index(const char *name)
{
	for (size_t i = 0; i < KNOWN_COUNT; i++)
		if (strcmp(known[i].name, name) == 0)
			return (int)i;
	return -1;
}

static bool
var_allowed(size_t t, const char *name, size_t n)
{
	for (size_t i = 0; i < MAX_VARS && known[t].vars[i] != NULL; i++)
		if (known[t].vars[i][0] != '\0' && strlen(known[t].vars[i]) == n &&
		    strncmp(known[t].vars[i], name, n) == 0)
			return true;
	return false;
}

/* Checks every {{placeholder}} of text; appends "file:line: …" errors. */
static void
check_placeholders(size_t t, const char *path, const char *text, struct strbuf *errors)
{
	unsigned line = 1;
	for (const char *p = text; *p; p++) {
		if (*p == '\n') {
			line++;
			continue;
		}
		if (p[0] != '{' || p[1] != '{')
			continue;
		const char *name = p + 2;
		const char *close = strstr(name, "}}");
		const char *nl = strchr(name, '\n');
		if (close == NULL || (nl != NULL && nl < close)) {
			strbuf_addf(errors, "%s:%u: unterminated placeholder \"{{\"\n", path, line);
			continue;
		}
		size_t n = (size_t)(close - name);
		if (!var_allowed(t, name, n)) {
			strbuf_addf(errors, "%s:%u: unknown placeholder {{%.*s}} (allowed:", path, line, (int)n, name);
			bool any = false;
			for (size_t i = 0; i < MAX_VARS && known[t].vars[i] != NULL; i++) {
				if (known[t].vars[i][0] == '\0')
					continue;
				strbuf_addf(errors, " {{%s}}", known[t].vars[i]);
				any = true;
			}
			strbuf_adds(errors, any ? ")\n" : " none)\n");
		}
		p = close + 1;
	}
}

struct templates *
templates_load(const char *dir, char **error_r)
{
	char **names = NULL;
	int n = dir_list(dir, ".txt", &names, error_r);
	if (n < 0)
		return NULL;
	struct templates *t = xcalloc(1, sizeof(*t));
	struct strbuf errors = {0};
	for (int i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]);
		char *stem = xstrndup(names[i], strlen(names[i]) - strlen(".txt"));
		int k = known_index(stem);
		if (k < 0) {
			strbuf_addf(&errors, "%s: not a template dialogd uses (a misspelt name?)\n", path);
		} else {
			char *err = NULL;
			size_t len = 0;
			char *text = text_read_file(path, 256 * 1024, &len, &err);
			if (text == NULL) {
				strbuf_addf(&errors, "%s\n", err);
				free(err);
			} else {
				check_placeholders((size_t)k, path, text, &errors);
				/* One final line break belongs to the file, not to the text. */
				if (len > 0 && text[len - 1] == '\n')
					text[--len] = '\0';
				if (len > 0 && text[len - 1] == '\r')
					text[--len] = '\0';
				t->text[k] = text;
			}
		}
		free(stem);
		free(path);
	}
	str_array_free(names, (size_t)n);
	for (size_t k = 0; k < KNOWN_COUNT; k++)
		if (t->text[k] == NULL && known_index(known[k].name) >= 0) {
			bool reported = false;
			char *path = xasprintf("%s/%s.txt", dir, known[k].name);
			reported = errors.data != NULL && strstr(errors.data, path) != NULL;
			if (!reported)
				strbuf_addf(&errors, "%s: missing template\n", path);
			free(path);
		}
	if (errors.len > 0) {
		errors.data[errors.len - 1] = '\0';
		*error_r = strbuf_detach(&errors);
		templates_free(&t);
		return NULL;
	}
	return t;
}

void
templates_free(struct templates **tp)
{
	struct templates *t = *tp;
	if (t == NULL)
		return;
	for (size_t k = 0; k < KNOWN_COUNT; k++)
		free(t->text[k]);
	free(t);
	*tp = NULL;
}

size_t
templates_count(const struct templates *t)
{
	(void)t;
	return KNOWN_COUNT;
}

char *
template_escape(const char *text, enum output_format format)
{
	struct strbuf out = {0};
	for (const char *p = text; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 && c != '\n' && c != '\t')
			continue;  /* no terminal escapes, no bare CR in any output */
		if (c == 0x7F)
			continue;
		if (format == OUTPUT_HTML) {
			if (c == 0xC2 && (unsigned char)p[1] == 0xA0) {
				strbuf_adds(&out, "&nbsp;");  /* visible in the source, where it matters */
				p++;
				continue;
			}
			switch (c) {
			case '&': strbuf_adds(&out, "&amp;"); continue;
			case '<': strbuf_adds(&out, "&lt;"); continue;
			case '>': strbuf_adds(&out, "&gt;"); continue;
			case '"': strbuf_adds(&out, "&quot;"); continue;
			case '\'': strbuf_adds(&out, "&#39;"); continue;
			default: break;
			}
		}
		strbuf_addc(&out, (char)c);
	}
	if (out.data == NULL)
		return xstrdup("");
	return strbuf_detach(&out);
}

char *
template_render(const struct templates *t, const char *name, enum output_format format,
		const struct template_var *vars, size_t var_count)
{
	int k = known_index(name);
	if (k < 0 || t->text[k] == NULL)
		abort();  /* the code asked for a template that is not in the table */
	const char *src = t->text[k];
	struct strbuf out = {0};
	strbuf_adds(&out, "");
	const char *p = src;
	const char *open;
	while ((open = strstr(p, "{{")) != NULL) {
		const char *close = strstr(open + 2, "}}");
		if (close == NULL)
			break;
		/* The static part of a template is ours: only HTML needs escaping of it. */
		char *lit = xstrndup(p, (size_t)(open - p));
		char *esc = template_escape(lit, format);
		strbuf_adds(&out, esc);
		free(esc);
		free(lit);
		size_t n = (size_t)(close - open - 2);
		for (size_t i = 0; i < var_count; i++) {
			if (strlen(vars[i].name) != n || strncmp(vars[i].name, open + 2, n) != 0)
				continue;
			if (vars[i].value == NULL)
				break;
			if (vars[i].rendered) {
				strbuf_adds(&out, vars[i].value);
			} else {
				char *v = template_escape(vars[i].value, format);
				strbuf_adds(&out, v);
				free(v);
			}
			break;
		}
		p = close + 2;
	}
	char *esc = template_escape(p, format);
	strbuf_adds(&out, esc);
	free(esc);
	return strbuf_detach(&out);
}
