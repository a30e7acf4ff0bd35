/* dialog — the engine's decisions: a message → what it asks (intent, confidence,
 * audience) → what to do (answer, answer two close intents, escalate, chat small talk)
 * → the reply text rendered from templates/. Channel-agnostic: mail and chat call it.
 * Pipeline: (imap → mime →) text → lexicon → intent → dialog → template. Never logs.
 * Threads: any, each with its own intent_scratch; the engine is shared read-only
 * (held under struct engine_holder's read lock by the daemon's threads). */
#ifndef DIALOGD_DIALOG_H
#define DIALOGD_DIALOG_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/intent.h"
#include "engine/template.h"

struct engine;

struct dialog_settings {
	double min_confidence;  /* the best intent must reach this to be answered */
	double min_margin;      /* ... and lead the second by this much, else both are answered */
	double suggest_confidence; /* chat: below min_confidence but above this, a short message */
	unsigned suggest_max_words; /* (at most this many words) gets the subject proposed */
};

/* Defaults chosen from `dialogctl eval` on the dev set (see README.md). */
#define DIALOG_DEFAULT_MIN_CONFIDENCE 0.60
#define DIALOG_DEFAULT_MIN_MARGIN 0.15
#define DIALOG_DEFAULT_SUGGEST_CONFIDENCE 0.25
#define DIALOG_DEFAULT_SUGGEST_MAX_WORDS 4

enum decision {
	DECISION_ANSWER,        /* one intent, answered */
	DECISION_ANSWER_TWO,    /* two close intents: the reply covers both (chat: asks which) */
	DECISION_SMALL_TALK,    /* greeting or thanks without a question */
	DECISION_ESCALATE,      /* to a correspondant: unknown, handoff, or an action needing a person */
	DECISION_CLARIFY,       /* chat: the assistant asks which subject is meant */
};

enum escalation_reason {
	REASON_NONE, REASON_UNKNOWN, REASON_HANDOFF, REASON_DOSSIER_STATUS,
	REASON_UNREADABLE,      /* mail: too large, or unsafe to parse: a person reads it */
	REASON_UNAVAILABLE,     /* an account action could not run (directory API down): a person answers */
};

enum channel { CHANNEL_MAIL, CHANNEL_CHAT };

struct analysis {
	struct intent_result match;
	enum decision decision;
	enum escalation_reason reason;
	const struct intent_def *first;   /* the intent answered; NULL when unknown */
	const struct intent_def *second;  /* with DECISION_ANSWER_TWO */
	char *question;         /* the writer's question as written (noise removed) */
	char *folded;           /* what the patterns saw: the question after folding and lexicon */
	char *full_folded;      /* the whole message after folding and lexicon */
	char *corrections;      /* lexicon rewrites and typo corrections, "" when none */
	char *denied;           /* words taken out because the writer denies them, "" when none */
	bool english;           /* the question is written in English: the answer says it is in French */
};

void dialog_settings_default(struct dialog_settings *settings);

/* Analyses text[0..len). Returns 0, or -1 with *error_r for input that cannot be read
 * (invalid UTF-8, NUL bytes) or a pattern that failed at run time. */
int dialog_analyze(const struct engine *engine, struct intent_scratch *scratch,
		   const struct dialog_settings *settings, const char *text, size_t len,
		   struct analysis *analysis, char **error_r);
void analysis_clear(struct analysis *analysis);

/* The intent id reported to tools: the first intent's id, or "unknown" when escalated
 * for lack of confidence. */
const char *analysis_intent_id(const struct analysis *analysis);
/* The confidence of that report: the first intent's confidence, or for "unknown" one
 * minus the best candidate's. */
double analysis_confidence(const struct analysis *analysis);

/* Renders the answer part (without envelope) for the analysis and audience. */
char *dialog_answer(const struct engine *engine, const struct analysis *analysis,
		    enum channel channel, enum output_format format);
/* Renders the whole reply: for mail, the envelope with greeting, answer, closing and the
 * note that this is an automatic answer; for chat, the chat envelope. */
char *dialog_reply(const struct engine *engine, const struct analysis *analysis,
		   enum channel channel, enum output_format format);

/* The e-mail envelope (greeting, closing, automatic-answer note, and the question quoted
 * unless it is "") around an answer already rendered in format. */
char *dialog_mail_envelope(const struct engine *engine, const char *answer, const char *question,
			   enum output_format format);

/* The answer of FAQ entry faq_id ("" when there is none) in the audience's variant. */
char *dialog_faq_answer(const struct engine *engine, const char *faq_id, enum audience audience,
			enum output_format format);

/* A chat conversation: remembers a pending choice between two intents, an answer that
 * waits for the writer to say who they are, and the writer's audience across turns. */
struct conversation {
	const struct intent_def *pending_first, *pending_second;
	const struct intent_def *pending_audience;  /* its FAQ answer differs by audience */
	enum audience audience;
};

/* One chat turn: analyses text in the context of conv, updates conv, returns the reply
 * (caller frees) and fills *analysis (caller clears). -1 with *error_r on unreadable input. */
int dialog_chat_turn(const struct engine *engine, struct intent_scratch *scratch,
		     const struct dialog_settings *settings, struct conversation *conv,
		     const char *text, size_t len, struct analysis *analysis, char **reply_r,
		     char **error_r);

/* The buttons the chat's last reply offers (quick replies): what the visitor may answer
 * in one click, each label sent back as their message and read as the choice it names
 * (a subject's title, « Oui », « Une entreprise »...). One label per line, caller frees;
 * NULL when the reply offers none. */
char *dialog_chat_offers(const struct engine *engine, const struct conversation *conv);

#endif
