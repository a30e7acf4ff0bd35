/* mail_parse_internal — what the pieces of the mail parser share: the parse in progress,
 * its notes, and the helpers each piece offers the others (mail_decode: bytes to UTF-8,
 * mail_body: a part's text, mail_address and mail_msgid: header values, mail_part: a MIME
 * part's headers and data, mail_guard: the raw message). Included only by mail_parse.c
 * and those files; everyone else uses mail_parse.h. Lower layer: nothing here logs.
 * Threads: a parse in progress belongs to one thread. */
#ifndef DIALOGD_MAIL_PARSE_INTERNAL_H
#define DIALOGD_MAIL_PARSE_INTERNAL_H

#include "formats/mail_parse.h"
#include "core/util.h"

#include <libetpan/libetpan.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* One parse in progress (mail_parse.c). */
struct parse_ctx {
	struct parsed_mail *mail;
	struct strbuf plain;    /* text/plain parts joined */
	struct strbuf html;     /* text of the text/html parts joined */
	bool depth_noted;
};

/* ---- small arrays and notes (mail_parse.c) ---- */

/* Grows an array whose capacity is the next power of two of its count, so a push is
 * amortised O(1) without a capacity field in the public struct. */
static inline void *
array_grow(void *array, size_t count, size_t elem)
{
	if (count == 0)
		return xrealloc(array, 4 * elem);
	if (count >= 4 && (count & (count - 1)) == 0)
		return xrealloc(array, 2 * count * elem);
	return array;
}

/* Appends s (takes ownership) to a string array grown by array_grow. */
static inline void
str_push(char ***array, size_t *count, char *s)
{
	*array = array_grow(*array, *count, sizeof(**array));
	(*array)[(*count)++] = s;
}

/* Adds a note to mail->notes, unless the same note is there already or there are too
 * many. */
void mail_parse_note(struct parsed_mail *mail, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Where the line at raw[i] ends (its '\n', or len) and where the next one starts. */
static inline size_t
mail_parse_line_end(const char *raw, size_t len, size_t i, size_t *next_r)
{
	const char *nl = memchr(raw + i, '\n', len - i);
	size_t e = nl != NULL ? (size_t)(nl - raw) : len;
	*next_r = nl != NULL ? e + 1 : len;
	return e;
}

/* Where the message's header block starts: after an mbox "From " line and after lines
 * made only of spaces or tabs (some gateways write one before the headers; Python's
 * email parser and Dovecot read the headers after it). *spaces_r, when not NULL, tells
 * whether such lines were skipped. */
size_t mail_parse_message_start(const char *raw, size_t len, bool *spaces_r);
/* The offset after the lines made only of spaces or tabs that start at raw[i] (i itself
 * when there are none). */
size_t mail_parse_skip_spaces(const char *raw, size_t len, size_t i);

/* ---- bytes to UTF-8 (mail_decode.c) ---- */

/* Appends data[0..len), written in charset cs (NULL when none was declared), to sb as
 * valid UTF-8 (NUL → U+FFFD; line endings untouched). where names the part for notes
 * ("a text/plain part", "a header"). */
void mail_decode_add(struct parse_ctx *ctx, struct strbuf *sb, const char *data, size_t len,
		     const char *cs, const char *where);
/* Appends header bytes to sb: valid UTF-8 sequences kept, any other byte read as
 * windows-1252. */
void mail_decode_add_header_bytes(struct strbuf *sb, const char *s, size_t len);
/* s (valid UTF-8) on one line: control characters and runs of spaces become one space,
 * trimmed. Caller frees. */
char *mail_decode_one_line(const char *s);
/* A header value as stored in headers[] with its RFC 2047 words decoded, on one line.
 * Caller frees. */
char *mail_decode_header_line(struct parse_ctx *ctx, const char *value);

/* ---- a part's text (mail_body.c) ---- */

/* CRLF and lone CR → LF, in place; returns s. */
char *mail_body_normalise_newlines(char *s);
/* RFC 3676 format=flowed text unflowed. Caller frees. */
char *mail_body_unflow(const char *s, bool delsp);
/* Appends one part's text to a joined body. */
void mail_body_join(struct strbuf *body, const char *text);

/* ---- addresses (mail_address.c) and message ids (mail_msgid.c) ---- */

/* The first readable address of a header value (caller frees), or NULL; when name_r is
 * not NULL and that address has a display name, *name_r gets it decoded (caller frees). */
char *mail_address_first(struct parse_ctx *ctx, const char *value, char **name_r);
/* Appends every readable address of a header value to a string array. */
void mail_address_push_all(const char *value, char ***array, size_t *count);
/* A bare or <bracketed> address as addr-spec (caller frees), or NULL. */
char *mail_address_normalise(const char *s);

/* Appends at most max ids of a Message-ID, In-Reply-To or References value to ids[]. */
void mail_msgid_parse(const char *value, char ***ids, size_t *count, size_t max);
/* The first id of such a value (caller frees), or NULL. */
char *mail_msgid_first(const char *value);

/* ---- the raw message (mail_guard.c) ---- */

/* Why raw[0..len) must not reach libetpan (a static string), or NULL when it may. */
const char *mail_guard_check(const char *raw, size_t len);

/* ---- MIME parts (mail_part.c) ---- */

struct param {
	const char *name;
	const char *value;
};

/* What a part's Content-Type and Content-Disposition say; the strings are borrowed from
 * libetpan's tree. */
struct part_info {
	char type[128];         /* "text/plain", lower case */
	const char *charset;    /* borrowed from libetpan, or NULL */
	bool attachment;        /* Content-Disposition: attachment */
	bool flowed, delsp;
	struct param params[64];
	size_t param_count;
};

void mail_part_info_read(struct mailmime *mime, struct part_info *info);
/* The part's name from base ("filename" or "name"), decoded to UTF-8 NFC (caller frees),
 * or NULL when it has none. */
char *mail_part_filename(struct parse_ctx *ctx, const struct part_info *info, const char *base);
/* Transfer-decodes a single part. Returns 0 and the bytes (free with mmap_string_unref)
 * or -1, with a note. */
int mail_part_decode(struct parse_ctx *ctx, struct mailmime_data *data, char **out_r, size_t *len_r);

#endif
