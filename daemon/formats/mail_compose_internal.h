/* mail_compose_internal — what the two files of mail_compose share: mail_encode.c
 * (header values, RFC 2047 words, folding, addresses) offers mail_compose.c (whole
 * messages, reply subjects, Message-IDs) its header writer. Included only by those two
 * files; everyone else uses mail_compose.h. Never logs.
 * Threads: any. */
#ifndef DIALOGD_MAIL_COMPOSE_INTERNAL_H
#define DIALOGD_MAIL_COMPOSE_INTERNAL_H

#include "formats/mail_compose.h"
#include "core/util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <utf8proc.h>

/* RFC 5322 §2.1.1: a line SHOULD fit in 78 characters. */
#define LINE_MAX_COLS 78

static const char hex_upper[] = "0123456789ABCDEF";

/* Decodes one character at s (NUL-terminated). Returns its length in bytes (≥ 1) and the
 * code point in *cp_r; an invalid sequence counts one byte and reads as U+FFFD. Inline:
 * the body and header loops call it for every character. */
static inline size_t
mail_compose_utf8_next(const char *s, int32_t *cp_r)
{
	const unsigned char *p = (const unsigned char *)s;
	if (p[0] < 0x80) {
		*cp_r = p[0];
		return 1;
	}
	size_t avail = 1;
	while (avail < 4 && p[avail] != 0)
		avail++;
	utf8proc_int32_t cp;
	utf8proc_ssize_t n = utf8proc_iterate(p, (utf8proc_ssize_t)avail, &cp);
	if (n <= 0) {
		*cp_r = 0xFFFD;
		return 1;
	}
	*cp_r = cp;
	return (size_t)n;
}

/* ---- header writer (mail_encode.c): tracks the column to fold before RFC 5322's 78 ---- */

struct hdr {
	struct strbuf *sb;
	size_t col;
};

/* Starts the header line "name:" in sb. */
void mail_encode_hdr_start(struct hdr *h, struct strbuf *sb, const char *name);
/* Ends it with CRLF. */
void mail_encode_hdr_end(struct hdr *h);
/* Appends " token", folding before it when the line would grow past max_cols. */
void mail_encode_hdr_token(struct hdr *h, const char *token, size_t len, size_t max_cols);
/* Appends an unstructured value (Subject), on one line, folded, encoded when needed. */
void mail_encode_hdr_text(struct hdr *h, const char *raw);
/* The whole "header: Name <address>" line, the display name encoded when needed. */
void mail_encode_hdr_mailbox(struct strbuf *sb, const char *header, const char *name, const char *address);

/* The value on one line: valid UTF-8, controls (CR, LF, TAB included) as spaces, runs of
 * spaces as one, no leading or trailing space. Caller frees. */
char *mail_encode_sanitize(const char *s);
/* An addr-spec we are willing to put on the wire. */
bool mail_encode_address_valid(const char *a, size_t len);

#endif
