/* dialog — decisions and replies (see dialog.h). The decision rule: answer when the best
 * intent is confident and clearly ahead; answer both when two confident intents are
 * close; otherwise escalate to a correspondant. Actions that need a person to verify the
 * requester (dossier status) escalate until the account actions are available. */
#include "autoconf.h"
#include "engine/dialog.h"
#include "engine/negation.h"
#include "engine/engine.h"
#include "engine/faq.h"
#include "engine/lexicon.h"
#include "core/text.h"
#include "core/util.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define QUOTE_MAX_LINES 6
#define QUOTE_MAX_BYTES 400

void
dialog_settings_default(struct dialog_settings *s)
{
	s->min_confidence = DIALOG_DEFAULT_MIN_CONFIDENCE;
	s->min_margin = DIALOG_DEFAULT_MIN_MARGIN;
	s->suggest_confidence = DIALOG_DEFAULT_SUGGEST_CONFIDENCE;
	s->suggest_max_words = DIALOG_DEFAULT_SUGGEST_MAX_WORDS;
}

void
analysis_clear(struct analysis *a)
{
	free(a->question);
	free(a->folded);
	free(a->full_folded);
	free(a->corrections);
	free(a->denied);
	memset(a, 0, sizeof(*a));
}

/* What answering intent d means: an answer, small talk, or an escalation. */
static void
settle(struct analysis *a, const struct intent_def *d)
{
	a->first = d;
	a->second = NULL;
	a->reason = REASON_NONE;
	if (d->kind == INTENT_CHAT) {
		a->decision = DECISION_SMALL_TALK;
	} else if (d->kind == INTENT_HANDOFF) {
		a->decision = DECISION_ESCALATE;
		a->reason = REASON_HANDOFF;
	} else if (d->action == ACCOUNT_DOSSIER_STATUS) {
		/* A dossier's state is personal data: only a correspondant who can verify the
		 * requester answers it until the verified self-service action exists. */
		a->decision = DECISION_ESCALATE;
		a->reason = REASON_DOSSIER_STATUS;
	} else {
		a->decision = DECISION_ANSWER;
	}
}

static void
decide(const struct dialog_settings *s, struct analysis *a)
{
	const struct intent_result *m = &a->match;
	a->first = a->second = NULL;
	a->reason = REASON_NONE;
	if (m->candidate_count == 0 || m->candidates[0].confidence < s->min_confidence) {
		a->decision = DECISION_ESCALATE;
		a->reason = REASON_UNKNOWN;
		return;
	}
	/* A question about an amount, a delay, a rule, a complaint or spam goes to a person
	 * even when it shares an FAQ entry's words (out_of_scope.cues); a request for a
	 * person or small talk stays what it is. */
	const struct intent_def *best = m->candidates[0].intent;
	if (m->out_of_scope >= INTENT_OUT_OF_SCOPE_MIN && (best->kind == INTENT_FAQ || best->kind == INTENT_ACTION)) {
		a->decision = DECISION_ESCALATE;
		a->reason = REASON_UNKNOWN;
		return;
	}
	settle(a, best);
	if (a->decision == DECISION_ANSWER && m->candidate_count > 1) {
		const struct intent_candidate *second = &m->candidates[1];
		if (second->confidence >= s->min_confidence &&
		    m->candidates[0].confidence - second->confidence < s->min_margin &&
		    (second->intent->kind == INTENT_FAQ || second->intent->kind == INTENT_ACTION) &&
		    second->intent->faq != NULL &&
		    (a->first->faq == NULL || strcmp(second->intent->faq, a->first->faq) != 0)) {
			a->second = second->intent;
			a->decision = DECISION_ANSWER_TWO;
		}
	}
}

/* English function words: a question mostly made of them is written in English (or
 * franglais). Words that are also French ("on", "a", "in" in names) are left out. */
static const char *const english_words[] = {
	"the", "my", "our", "your", "i", "we", "you", "how", "what", "where", "when", "why", "which", "can",
	"cant", "cannot", "could", "do", "does", "don", "is", "are", "was", "have", "has", "to", "of", "for",
	"with", "from", "please", "hello", "hi", "thanks", "thank", "need", "want", "it", "this", "not", "get",
	"find", "change", "add", "missing", "account", "company", "employee", "invoice", "and",
};

/* The list bucketed by first letter once, so that a word is compared with a few entries. */
#define ENGLISH_BUCKET_MAX 16
static unsigned char english_count[256];
static unsigned char english_items[256][ENGLISH_BUCKET_MAX];
static unsigned char english_len[sizeof(english_words) / sizeof(*english_words)];
static pthread_once_t english_once = PTHREAD_ONCE_INIT;

static void
index_english_words(void)
{
	for (size_t i = 0; i < sizeof(english_words) / sizeof(*english_words); i++) {
		unsigned char c = (unsigned char)english_words[i][0];
		english_len[i] = (unsigned char)strlen(english_words[i]);
		if (english_count[c] < ENGLISH_BUCKET_MAX)
			english_items[c][english_count[c]++] = (unsigned char)i;
	}
}

/* Returns true when at least two words, and a third of all, of the folded question (before
 * lexicon.tsv rewrites English into French) are English function words. */
static bool
looks_english(const char *folded)
{
	pthread_once(&english_once, index_english_words);
	size_t words = 0, english = 0;
	const char *p = folded;
	while (*p) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		const char *end = strchr(p, ' ');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		words++;
		unsigned char c = (unsigned char)*p;
		for (size_t k = 0; k < english_count[c]; k++) {
			size_t i = english_items[c][k];
			if (english_len[i] == n && memcmp(english_words[i], p, n) == 0) {
				english++;
				break;
			}
		}
		p += n;
	}
	return english >= 2 && english * 3 >= words;
}

int
dialog_analyze(const struct engine *e, struct intent_scratch *scratch, const struct dialog_settings *s,
	       const char *text, size_t len, struct analysis *a, char **error_r)
{
	memset(a, 0, sizeof(*a));
	if (text_validate(text, len, error_r) < 0)
		return -1;
	char *full, *question;
	a->question = text_strip_noise_folded(text, &full, &question);
	struct strbuf explain = {0};
	a->english = looks_english(question);
	a->folded = lexicon_apply(e->lexicon, question, &explain);
	/* A chat line is usually all question: rewrite it once. */
	a->full_folded = strcmp(full, question) == 0 ? xstrdup(a->folded) : lexicon_apply(e->lexicon, full, NULL);
	a->corrections = explain.data ? strbuf_detach(&explain) : xstrdup("");
	free(full);
	free(question);
	/* What the writer denies does not count (« ce n'est pas X, c'est Y »). */
	a->denied = negation_mask(a->folded);
	size_t words = text_strip_politeness(a->folded);
	if (intent_match(e->intents, scratch, a->full_folded, a->folded, words, &a->match, error_r) < 0) {
		analysis_clear(a);
		return -1;
	}
	decide(s, a);
	return 0;
}

const char *
analysis_intent_id(const struct analysis *a)
{
	return a->first != NULL ? a->first->id : "unknown";
}

double
analysis_confidence(const struct analysis *a)
{
	double best = a->match.candidate_count > 0 ? a->match.candidates[0].confidence : 0.0;
	return a->first != NULL ? best : 1.0 - best;
}

/* Common text, then the writer's variant, or every variant under its heading when the
 * writer's audience is unknown or the FAQ has no variant for it. */
static char *
faq_text(const struct engine *e, const struct faq_entry *f, enum audience audience, enum output_format format)
{
	struct strbuf sb = {0};
	char *common = template_escape(f->common, format);
	strbuf_adds(&sb, common);
	free(common);
	const char *mine = audience == AUDIENCE_ENTREPRISE ? f->entreprise :
			   audience == AUDIENCE_ORGANISME ? f->organisme : NULL;
	if (mine != NULL) {
		char *v = template_escape(mine, format);
		if (sb.len > 0)
			strbuf_adds(&sb, "\n\n");
		strbuf_adds(&sb, v);
		free(v);
		return strbuf_detach(&sb);
	}
	const struct { const char *text; const char *tmpl; } variants[] = {
		{ f->entreprise, "variant_entreprise" }, { f->organisme, "variant_organisme" },
	};
	for (size_t i = 0; i < 2; i++) {
		if (variants[i].text == NULL)
			continue;
		struct template_var var = { "text", variants[i].text, false };
		char *v = template_render(e->templates, variants[i].tmpl, format, &var, 1);
		if (sb.len > 0)
			strbuf_adds(&sb, "\n\n");
		strbuf_adds(&sb, v);
		free(v);
	}
	return strbuf_detach(&sb);
}

static char *
intent_answer(const struct engine *e, const struct intent_def *d, enum audience audience, enum output_format format)
{
	const struct faq_entry *f = d->faq != NULL ? faq_find(e->faq, d->faq) : NULL;
	if (f == NULL)  /* engine_load checked every faq: reference; only chat intents get here */
		return template_render(e->templates, d->reply ? d->reply : "chat_greeting", format, NULL, 0);
	char *text = faq_text(e, f, audience, format);
	struct template_var vars[] = { { "question", f->question, false }, { "text", text, true } };
	char *out = template_render(e->templates, "answer_faq", format, vars, 2);
	free(text);
	return out;
}

char *
dialog_faq_answer(const struct engine *e, const char *faq_id, enum audience audience, enum output_format format)
{
	const struct faq_entry *f = faq_find(e->faq, faq_id);
	if (f == NULL)
		return xstrdup("");
	char *text = faq_text(e, f, audience, format);
	struct template_var vars[] = { { "question", f->question, false }, { "text", text, true } };
	char *out = template_render(e->templates, "answer_faq", format, vars, 2);
	free(text);
	return out;
}

static const char *
faq_title(const struct engine *e, const struct intent_def *d)
{
	const struct faq_entry *f = d->faq != NULL ? faq_find(e->faq, d->faq) : NULL;
	return f != NULL ? f->question : d->id;
}

static char *
escalation(const struct engine *e, enum escalation_reason reason, enum output_format format)
{
	const char *name = reason == REASON_HANDOFF ? "reason_handoff" :
			   reason == REASON_DOSSIER_STATUS ? "reason_dossier_status" :
			   reason == REASON_UNREADABLE ? "reason_unreadable" :
			   reason == REASON_UNAVAILABLE ? "reason_directory_unavailable" : "reason_unknown";
	char *why = template_render(e->templates, name, format, NULL, 0);
	struct template_var var = { "reason", why, true };
	char *out = template_render(e->templates, "escalation_ack", format, &var, 1);
	free(why);
	return out;
}

static char *
answer_body(const struct engine *e, const struct analysis *a, enum channel channel, enum output_format format)
{
	switch (a->decision) {
	case DECISION_ESCALATE:
		return escalation(e, a->reason, format);
	case DECISION_SMALL_TALK:
		return template_render(e->templates, a->first->reply, format, NULL, 0);
	case DECISION_ANSWER_TWO:
		if (channel == CHANNEL_CHAT) {
			struct template_var vars[] = {
				{ "first", faq_title(e, a->first), false },
				{ "second", faq_title(e, a->second), false },
			};
			return template_render(e->templates, "chat_clarify", format, vars, 2);
		} else {
			char *one = intent_answer(e, a->first, a->match.audience, format);
			char *two = intent_answer(e, a->second, a->match.audience, format);
			struct template_var vars[] = { { "first", one, true }, { "second", two, true } };
			char *out = template_render(e->templates, "answer_two", format, vars, 2);
			free(one);
			free(two);
			return out;
		}
	case DECISION_ANSWER:
	default:
		return intent_answer(e, a->first, a->match.audience, format);
	}
}

char *
dialog_answer(const struct engine *e, const struct analysis *a, enum channel channel, enum output_format format)
{
	char *body = answer_body(e, a, channel, format);
	if (!a->english || a->decision == DECISION_SMALL_TALK)
		return body;
	/* Answers are in French: the writer who asked in English is told so first. */
	struct template_var var = { "answer", body, true };
	char *out = template_render(e->templates, "note_english", format, &var, 1);
	free(body);
	return out;
}

/* The writer's question, briefly, as mail clients quote it. */
static char *
quote_question(const char *question)
{
	struct strbuf sb = {0};
	const char *p = question;
	unsigned lines = 0;
	while (*p && lines < QUOTE_MAX_LINES && sb.len < QUOTE_MAX_BYTES) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (n > 0 || lines > 0) {
			strbuf_adds(&sb, n > 0 ? "> " : ">");
			strbuf_add(&sb, p, n);
			strbuf_addc(&sb, '\n');
			lines++;
		}
		p += n;
		if (*p == '\n')
			p++;
	}
	while (sb.len > 0 && (sb.data[sb.len - 1] == '\n' || sb.data[sb.len - 1] == '>'))
		sb.data[--sb.len] = '\0';
	if (*p != '\0' && sb.len > 0)
		strbuf_adds(&sb, "\n> [\xE2\x80\xA6]");
	return strbuf_detach(&sb);
}

char *
dialog_mail_envelope(const struct engine *e, const char *answer, const char *question, enum output_format format)
{
	char *quote = quote_question(question);
	struct template_var quote_var = { "quote", quote, false };
	char *quoted = *quote ? template_render(e->templates, "mail_reply_quote", format, &quote_var, 1) : xstrdup("");
	struct template_var vars[] = { { "answer", answer, true }, { "question_quote", quoted, true } };
	char *out = template_render(e->templates, "mail_reply", format, vars, 2);
	free(quoted);
	free(quote);
	return out;
}

char *
dialog_reply(const struct engine *e, const struct analysis *a, enum channel channel, enum output_format format)
{
	char *answer = dialog_answer(e, a, channel, format);
	char *out;
	if (channel == CHANNEL_MAIL) {
		out = dialog_mail_envelope(e, answer, a->question, format);
	} else {
		struct template_var var = { "answer", answer, true };
		out = template_render(e->templates, "chat_reply", format, &var, 1);
	}
	free(answer);
	return out;
}

/* The writer's answer to a proposal: 1 or 2 for one of two intents, "oui" for the only
 * one proposed, -1 for "non", 0 for anything else. raw is the message folded without
 * the lexicon, compared with the subjects' titles (the quick replies' labels). */
static int
pick_choice(const struct engine *e, const struct conversation *conv, const char *folded, const char *raw)
{
	static const char *const first[] = { "1", "le 1", "premier", "le premier", "la premiere", "premiere", "un", "le un" };
	static const char *const second[] = { "2", "le 2", "deuxieme", "le deuxieme", "la deuxieme", "second",
					      "le second", "la seconde", "seconde", "deux", "le deux" };
	static const char *const yes[] = { "oui", "yes", "ok", "d accord", "exactement", "c est ca", "c est bien ca",
					   "tout a fait", "oui c est ca", "oui tout a fait", "ouais", "oui exactement" };
	static const char *const no[] = { "non", "no", "pas du tout", "non pas du tout", "non ce n est pas ca" };
	bool two = conv->pending_second != NULL;
	const struct intent_def *pending[] = { conv->pending_first, conv->pending_second };
	for (size_t i = 0; i < (two ? 2u : 1u); i++) {
		const char *title = faq_title(e, pending[i]);
		char *t = text_fold(title, strlen(title), NULL);
		bool same = strcmp(raw, t) == 0;
		free(t);
		if (same)
			return (int)i + 1;
	}
	for (size_t i = 0; i < sizeof(first) / sizeof(*first); i++)
		if (strcmp(folded, first[i]) == 0)
			return 1;
	for (size_t i = 0; two && i < sizeof(second) / sizeof(*second); i++)
		if (strcmp(folded, second[i]) == 0)
			return 2;
	for (size_t i = 0; !two && i < sizeof(yes) / sizeof(*yes); i++)
		if (strcmp(folded, yes[i]) == 0)
			return 1;
	for (size_t i = 0; i < sizeof(no) / sizeof(*no); i++)
		if (strcmp(folded, no[i]) == 0)
			return -1;
	return 0;
}

/* Whether a word of folded text is word. */
static bool
has_word(const char *folded, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = strstr(folded, word); p != NULL; p = strstr(p + 1, word))
		if ((p == folded || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
			return true;
	return false;
}

/* The writer's answer to « Vous êtes une entreprise ou un organisme de formation ? »:
 * an audience cue the engine reads anywhere, or, in so short an answer, the plain words
 * of the two quick replies ("une entreprise", "un organisme"). */
static enum audience
answered_audience(const struct analysis *a)
{
	if (a->match.audience != AUDIENCE_UNKNOWN)
		return a->match.audience;
	if (a->match.question_words > 4)
		return AUDIENCE_UNKNOWN;
	static const char *const entreprise[] = { "entreprise", "employeur", "societe", "exploitation" };
	static const char *const organisme[] = { "organisme", "of", "cfa", "formateur", "formatrice" };
	for (size_t i = 0; i < sizeof(organisme) / sizeof(*organisme); i++)
		if (has_word(a->folded, organisme[i]))
			return AUDIENCE_ORGANISME;
	for (size_t i = 0; i < sizeof(entreprise) / sizeof(*entreprise); i++)
		if (has_word(a->folded, entreprise[i]))
			return AUDIENCE_ENTREPRISE;
	return AUDIENCE_UNKNOWN;
}

/* Whether the answer of d depends on who asks: its FAQ entry has both variants. */
static bool
answer_depends_on_audience(const struct engine *e, const struct intent_def *d)
{
	const struct faq_entry *f = d != NULL && d->faq != NULL ? faq_find(e->faq, d->faq) : NULL;
	return f != NULL && f->entreprise != NULL && f->organisme != NULL;
}

/* A short chat message that only hints at a subject ("mdp", "facture ?") is not sent to a
 * person at once: the assistant proposes the subject(s) it hints at. */
static bool
worth_proposing(const struct dialog_settings *s, const struct intent_candidate *c)
{
	return c->confidence >= s->suggest_confidence && c->intent->kind != INTENT_CHAT;
}

static char *
propose(const struct engine *e, const struct dialog_settings *s, struct conversation *conv, struct analysis *a)
{
	const struct intent_result *m = &a->match;
	const struct intent_def *one = m->candidates[0].intent, *two = NULL;
	if (m->candidate_count > 1 && worth_proposing(s, &m->candidates[1]) &&
	    !(one->faq != NULL && m->candidates[1].intent->faq != NULL &&
	      strcmp(one->faq, m->candidates[1].intent->faq) == 0))
		two = m->candidates[1].intent;
	conv->pending_first = one;
	conv->pending_second = two;
	a->decision = DECISION_CLARIFY;
	a->reason = REASON_NONE;
	struct template_var vars[] = {
		{ "first", faq_title(e, one), false },
		{ "second", two ? faq_title(e, two) : NULL, false },
	};
	return template_render(e->templates, two ? "chat_clarify" : "chat_confirm", OUTPUT_TEXT, vars, two ? 2 : 1);
}

/* The pending choice read against the message: 1 when that decided the reply (*reply_r
 * set), 0 when the message is read as a question of its own (the choice forgotten). */
static int
read_choice(const struct engine *e, struct conversation *conv, struct analysis *a, const char *text, size_t len,
	    char **reply_r)
{
	bool two = conv->pending_second != NULL;
	bool unknown = a->decision == DECISION_ESCALATE && a->reason == REASON_UNKNOWN;
	char *raw = text_fold(text, len, NULL);
	int choice = pick_choice(e, conv, a->folded, raw);
	free(raw);
	const struct intent_def *picked = choice == 1 ? conv->pending_first : choice == 2 ? conv->pending_second : NULL;
	if (picked == NULL && a->first != NULL && (a->first == conv->pending_first || a->first == conv->pending_second) &&
	    a->decision == DECISION_ANSWER_TWO)
		picked = a->first;
	if (picked != NULL) {
		settle(a, picked);
	} else if (choice < 0 || (!two && unknown && a->match.question_words <= 2)) {
		conv->pending_first = conv->pending_second = NULL;
		a->decision = DECISION_CLARIFY;
		*reply_r = template_render(e->templates, "chat_rephrase", OUTPUT_TEXT, NULL, 0);
		return 1;
	} else if (two && unknown && a->match.question_words <= 2) {
		struct template_var vars[] = {
			{ "first", faq_title(e, conv->pending_first), false },
			{ "second", faq_title(e, conv->pending_second), false },
		};
		a->decision = DECISION_CLARIFY;
		*reply_r = template_render(e->templates, "chat_clarify_again", OUTPUT_TEXT, vars, 2);
		return 1;
	}
	conv->pending_first = conv->pending_second = NULL;
	return 0;
}

int
dialog_chat_turn(const struct engine *e, struct intent_scratch *scratch, const struct dialog_settings *s,
		 struct conversation *conv, const char *text, size_t len, struct analysis *a, char **reply_r,
		 char **error_r)
{
	if (dialog_analyze(e, scratch, s, text, len, a, error_r) < 0) {
		*reply_r = template_render(e->templates, "invalid_message", OUTPUT_TEXT, NULL, 0);
		return -1;
	}
	/* An answer waiting for who the writer is: a short reply saying it gets that answer;
	 * anything else is a new question. */
	const struct intent_def *waiting = conv->pending_audience;
	conv->pending_audience = NULL;
	enum audience said = waiting != NULL ? answered_audience(a) : AUDIENCE_UNKNOWN;
	if (said != AUDIENCE_UNKNOWN && (a->first == NULL || a->first == waiting || a->match.question_words <= 4)) {
		settle(a, waiting);
		a->match.audience = said;
	}
	if (a->match.audience != AUDIENCE_UNKNOWN)
		conv->audience = a->match.audience;
	else
		a->match.audience = conv->audience;

	bool unknown = a->decision == DECISION_ESCALATE && a->reason == REASON_UNKNOWN;
	if (conv->pending_first != NULL && read_choice(e, conv, a, text, len, reply_r))
		return 0;
	if (a->decision == DECISION_ANSWER_TWO) {
		conv->pending_first = a->first;
		conv->pending_second = a->second;
	} else if (unknown && a->match.question_words <= s->suggest_max_words && a->match.candidate_count > 0 &&
		   worth_proposing(s, &a->match.candidates[0])) {
		*reply_r = propose(e, s, conv, a);
		return 0;
	} else if (a->decision == DECISION_ANSWER && a->match.audience == AUDIENCE_UNKNOWN &&
		   answer_depends_on_audience(e, a->first)) {
		/* One answer in the writer's space rather than both: ask first. */
		conv->pending_audience = a->first;
		a->decision = DECISION_CLARIFY;
		*reply_r = template_render(e->templates, "chat_ask_audience", OUTPUT_TEXT, NULL, 0);
		return 0;
	}
	*reply_r = dialog_reply(e, a, CHANNEL_CHAT, OUTPUT_TEXT);
	return 0;
}

/* Appends the rendered template name as one label (its line breaks and trailing blanks
 * dropped). */
static void
add_offer(struct strbuf *sb, const struct engine *e, const char *name, const char *label)
{
	char *text = label != NULL ? xstrdup(label) : template_render(e->templates, name, OUTPUT_TEXT, NULL, 0);
	for (char *p = text; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	size_t n = strlen(text);
	while (n > 0 && text[n - 1] == ' ')
		text[--n] = '\0';
	if (n > 0) {
		if (sb->len > 0)
			strbuf_addc(sb, '\n');
		strbuf_adds(sb, text);
	}
	free(text);
}

char *
dialog_chat_offers(const struct engine *e, const struct conversation *conv)
{
	struct strbuf sb = {0};
	if (conv->pending_audience != NULL) {
		add_offer(&sb, e, "chat_offer_entreprise", NULL);
		add_offer(&sb, e, "chat_offer_organisme", NULL);
	} else if (conv->pending_second != NULL) {
		add_offer(&sb, e, NULL, faq_title(e, conv->pending_first));
		add_offer(&sb, e, NULL, faq_title(e, conv->pending_second));
		add_offer(&sb, e, "chat_offer_person", NULL);
	} else if (conv->pending_first != NULL) {
		add_offer(&sb, e, "chat_offer_yes", NULL);
		add_offer(&sb, e, "chat_offer_no", NULL);
		add_offer(&sb, e, "chat_offer_person", NULL);
	}
	return sb.len > 0 ? strbuf_detach(&sb) : NULL;
}
