/* mail_parse — one raw RFC 5322 message (as fetched over IMAP) → what the assistant needs:
 * decoded headers, the addresses, the threading ids, the readable text (text/plain
 * preferred, else HTML turned into text), the attachments by name and size, and the facts
 * the auto-reply rules look at. MIME through libetpan; charsets into UTF-8 (ISO-8859-1 and
 * us-ascii read as windows-1252, as they are in practice); HTML through gumbo.
 * Lower layer: never logs; problems met on the way are listed in notes[]. */
#ifndef DIALOGD_MAIL_PARSE_H
#define DIALOGD_MAIL_PARSE_H

#include <stdbool.h>
#include <stddef.h>

/* One header as found at the top level, name as written, value unfolded (CR/LF removed)
 * and not decoded. */
struct mail_header {
	char *name;
	char *value;
};

struct mail_attachment {
	char *filename;         /* UTF-8, "" when the part has none */
	char *content_type;     /* lower case, e.g. "application/pdf" */
	size_t size;            /* decoded size in bytes */
};

struct parsed_mail {
	struct mail_header *headers;
	size_t header_count;

	/* Ids without angle brackets; NULL when absent. */
	char *message_id;
	char *in_reply_to;
	char **references;      /* in header order */
	size_t reference_count;

	/* Addresses as addr-spec (local@domain, domain lower-cased), display names decoded
	 * to UTF-8; NULL when absent or unreadable. */
	char *from_address;
	char *from_name;
	char *reply_to_address;
	char *sender_address;
	char **to_addresses;    /* To and Cc */
	size_t to_count;
	char *return_path;      /* the address inside Return-Path, "" for <>, NULL when absent */

	char *subject;          /* RFC 2047 decoded UTF-8 on one line, control characters removed; "" when absent */
	char *date;             /* raw Date header or NULL */

	char *body;             /* UTF-8 text, LF line endings, never NULL ("" when no text) */
	bool body_from_html;    /* no text/plain part: the text comes from text/html */
	bool is_report;         /* multipart/report (delivery or read reports) */
	char **bounced_recipients; /* from message/delivery-status: Final-Recipient with Action: failed */
	size_t bounced_count;

	struct mail_attachment *attachments;
	size_t attachment_count;

	char **notes;           /* what was odd, in English, for the log: "unknown charset x-foo, read as windows-1252" */
	size_t note_count;
};

/* Parses raw[0..len) (need not be NUL-terminated). Returns 0, or -1 with *error_r when the
 * message cannot be read safely at all (e.g. a MIME boundary known to crash libetpan);
 * mail that is merely malformed is parsed as well as possible, with notes. */
int mail_parse(const char *raw, size_t len, struct parsed_mail *mail, char **error_r);

/* Parses only the header block (for messages too large to read): body stays "". */
int mail_parse_headers(const char *raw, size_t len, struct parsed_mail *mail, char **error_r);

/* A message as received (from IMAP, or a file for dialogctl classify --eml: the one path
 * both take): over max_size bytes it is not parsed, else mail_parse. Returns NULL when it
 * was read whole; else why not ("message of N bytes, over the M-byte limit: not read",
 * "unreadable message: ...", caller frees), with *mail holding its headers when they can
 * be read (subject and body "" at least). *mail is to be cleared either way. */
char *mail_parse_received(const char *raw, size_t len, size_t max_size, struct parsed_mail *mail);

void parsed_mail_clear(struct parsed_mail *mail);

/* The first top-level header of that name (case-insensitive), or NULL. */
const char *mail_header_get(const struct parsed_mail *mail, const char *name);

/* The question to classify: the body, or the subject when the body is empty or only says
 * "cf objet" (or "voir objet", "cf. sujet"...). Caller frees. Quoted history, signatures
 * and disclaimers are removed later, by the engine. */
char *mail_question_text(const struct parsed_mail *mail);

#endif
