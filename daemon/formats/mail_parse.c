/* mail_parse — one raw message fetched over IMAP → headers, addresses, thread ids, readable
 * text, attachments and bounce facts. Pipeline: imap → mime (this file) → text → intent.
 * Here: the header block, the top-level headers, the walk through the MIME tree that
 * libetpan builds (RFC 2045-2046), delivery status (RFC 3464) and the entry points. The
 * pieces it calls share mail_parse_internal.h: mail_guard (what libetpan must not see),
 * mail_decode (charsets, RFC 2047), mail_address and mail_msgid (RFC 5322 values),
 * mail_part (a part's headers, RFC 2231, transfer decoding), mail_body (format=flowed,
 * RFC 3676); HTML parts go through html_text. Every string handed out is valid UTF-8
 * without CR. */
#include "autoconf.h"
#include "formats/mail_parse.h"
#include "formats/mail_parse_internal.h"
#include "formats/html_text.h"
#include "core/util.h"

#include <libetpan/libetpan.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_MIME_DEPTH 20       /* parts nested deeper are ignored, with a note */
#define MAX_NOTES 32

/* ---- notes ---- */

void
mail_parse_note(struct parsed_mail *mail, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *note = xvasprintf(fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < mail->note_count; i++) {
		if (strcmp(mail->notes[i], note) == 0) {
			free(note);
			return;
		}
	}
	if (mail->note_count >= MAX_NOTES) {
		free(note);
		return;
	}
	str_push(&mail->notes, &mail->note_count, note);
}

/* ---- header block ---- */

static bool
header_name_valid(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7F || s[i] == ':')
			return false;
	return true;
}

/* Is the line at raw[i..e) a header ("Name: value")? Sets *colon_r. */
static bool
header_line(const char *raw, size_t i, size_t e, size_t *colon_r)
{
	const char *colon = memchr(raw + i, ':', e - i);
	if (colon == NULL)
		return false;
	size_t n = (size_t)(colon - (raw + i));
	while (n > 0 && (raw[i + n - 1] == ' ' || raw[i + n - 1] == '\t'))
		n--;
	*colon_r = (size_t)(colon - raw);
	return header_name_valid(raw + i, n);
}

static void
finish_header(struct parsed_mail *mail, const char *name, size_t name_len, struct strbuf *value)
{
	struct strbuf v = { 0 };
	size_t s = 0, e = value->len;
	const char *d = value->data ? value->data : "";
	while (s < e && (d[s] == ' ' || d[s] == '\t'))
		s++;
	while (e > s && (d[e - 1] == ' ' || d[e - 1] == '\t'))
		e--;
	mail_decode_add_header_bytes(&v, d + s, e - s);
	mail->headers = array_grow(mail->headers, mail->header_count, sizeof(*mail->headers));
	struct mail_header *h = &mail->headers[mail->header_count++];
	h->name = xstrndup(name, name_len);
	h->value = strbuf_detach(&v);
	strbuf_reset(value);
}

size_t
mail_parse_skip_spaces(const char *raw, size_t len, size_t i)
{
	size_t next;
	while (i < len) {
		size_t e = mail_parse_line_end(raw, len, i, &next);
		size_t content_end = e > i && raw[e - 1] == '\r' ? e - 1 : e;
		/* An empty line is the end of an empty header block, not a line of spaces; a
		 * last line of spaces is all there is. */
		if (content_end == i || next == len || strspn(raw + i, " \t") < content_end - i)
			break;
		i = next;
	}
	return i;
}

size_t
mail_parse_message_start(const char *raw, size_t len, bool *spaces_r)
{
	size_t i = 0;
	if (len >= 5 && memcmp(raw, "From ", 5) == 0)      /* mbox separator */
		mail_parse_line_end(raw, len, 0, &i);
	size_t start = mail_parse_skip_spaces(raw, len, i);
	if (spaces_r != NULL)
		*spaces_r = start > i;
	return start;
}

/* Reads the header block into mail->headers; returns the offset where the body starts
 * and sets *start_r to where the message starts (mail_parse_message_start). */
static size_t
parse_header_block(struct parse_ctx *ctx, const char *raw, size_t len, size_t *start_r)
{
	struct parsed_mail *mail = ctx->mail;
	size_t i, next, colon;
	bool spaces;
	i = mail_parse_message_start(raw, len, &spaces);
	if (spaces)
		mail_parse_note(mail, "line of spaces before the headers skipped");
	*start_r = i;
	if (i >= len)
		return len;
	size_t e = mail_parse_line_end(raw, len, i, &next);
	if (!header_line(raw, i, e, &colon)) {
		if (e == i || (e == i + 1 && raw[i] == '\r'))
			return next;
		mail_parse_note(mail, "no header block");
		return i;
	}
	struct strbuf value = { 0 };
	const char *name = NULL;
	size_t name_len = 0;
	for (;;) {
		if (i >= len)
			break;
		e = mail_parse_line_end(raw, len, i, &next);
		size_t content_end = (e > i && raw[e - 1] == '\r') ? e - 1 : e;
		if (content_end == i) {         /* the empty line */
			i = next;
			break;
		}
		if (raw[i] == ' ' || raw[i] == '\t') {
			if (name != NULL)
				strbuf_add(&value, raw + i, content_end - i);
			i = next;
			continue;
		}
		if (!header_line(raw, i, e, &colon)) {
			if (memchr(raw + i, ':', e - i) == NULL) {
				mail_parse_note(mail, "no empty line after the headers");
				break;
			}
			mail_parse_note(mail, "malformed header line skipped");
			i = next;
			continue;
		}
		if (name != NULL)
			finish_header(mail, name, name_len, &value);
		name = raw + i;
		name_len = colon - i;
		while (name_len > 0 && (name[name_len - 1] == ' ' || name[name_len - 1] == '\t'))
			name_len--;
		if (colon + 1 < content_end)
			strbuf_add(&value, raw + colon + 1, content_end - colon - 1);
		i = next;
	}
	if (name != NULL)
		finish_header(mail, name, name_len, &value);
	strbuf_free(&value);
	return i;
}

/* A message written with a line of spaces before its headers and then sent: the MTA saw
 * no header, put its own (Return-Path, Received) on top and the writer's after an empty
 * line, as body. When the header block has no From and the body starts with a line of
 * spaces followed by header lines naming a From, those are the message's headers: read
 * after the MTA's, and the MIME structure read from there. Returns where the body starts
 * and moves *start_r to the writer's header block; anything else leaves both alone. */
static size_t
headers_after_spaces(struct parse_ctx *ctx, const char *raw, size_t len, size_t body_start, size_t *start_r)
{
	struct parsed_mail *mail = ctx->mail;
	if (mail_header_get(mail, "From") != NULL || body_start >= len)
		return body_start;
	size_t s = mail_parse_skip_spaces(raw, len, body_start);
	if (s == body_start)
		return body_start;
	size_t before = mail->header_count, notes = mail->note_count, unused;
	size_t end = s + parse_header_block(ctx, raw + s, len - s, &unused);
	bool from = false;
	for (size_t i = before; i < mail->header_count; i++)
		from = from || strcasecmp(mail->headers[i].name, "From") == 0;
	if (from) {
		mail_parse_note(mail, "line of spaces before the headers: read after the MTA's");
		*start_r = s;
		return end;
	}
	for (size_t i = before; i < mail->header_count; i++) {
		free(mail->headers[i].name);
		free(mail->headers[i].value);
	}
	mail->header_count = before;
	while (mail->note_count > notes)
		free(mail->notes[--mail->note_count]);
	return body_start;
}

/* ---- the top-level headers ---- */

static void
read_headers(struct parse_ctx *ctx)
{
	struct parsed_mail *mail = ctx->mail;
	const char *v;
	if ((v = mail_header_get(mail, "From")) != NULL)
		mail->from_address = mail_address_first(ctx, v, &mail->from_name);
	if ((v = mail_header_get(mail, "Reply-To")) != NULL)
		mail->reply_to_address = mail_address_first(ctx, v, NULL);
	if ((v = mail_header_get(mail, "Sender")) != NULL)
		mail->sender_address = mail_address_first(ctx, v, NULL);
	if ((v = mail_header_get(mail, "Return-Path")) != NULL) {
		char *bare = mail_decode_one_line(v);
		if (strcmp(bare, "<>") == 0 || strcmp(bare, "< >") == 0)
			mail->return_path = xstrdup("");
		else
			mail->return_path = mail_address_first(ctx, v, NULL);
		free(bare);
	}
	v = mail_header_get(mail, "Subject");
	mail->subject = v != NULL ? mail_decode_header_line(ctx, v) : xstrdup("");
	if ((v = mail_header_get(mail, "Date")) != NULL)
		mail->date = mail_decode_one_line(v);
	if ((v = mail_header_get(mail, "Message-ID")) != NULL)
		mail->message_id = mail_msgid_first(v);
	if ((v = mail_header_get(mail, "In-Reply-To")) != NULL)
		mail->in_reply_to = mail_msgid_first(v);
	if ((v = mail_header_get(mail, "Content-Type")) != NULL) {
		while (*v == ' ' || *v == '\t')
			v++;
		mail->is_report = strncasecmp(v, "multipart/report", 16) == 0;
	}
	for (size_t i = 0; i < mail->header_count; i++) {
		const char *name = mail->headers[i].name, *value = mail->headers[i].value;
		if (strcasecmp(name, "To") == 0 || strcasecmp(name, "Cc") == 0) {
			mail_address_push_all(value, &mail->to_addresses, &mail->to_count);
		} else if (strcasecmp(name, "References") == 0) {
			mail_msgid_parse(value, &mail->references, &mail->reference_count, SIZE_MAX);
		}
	}
}

/* ---- the MIME tree ---- */

/* RFC 3464: per-recipient groups; Final-Recipient of each group whose Action is failed. */
static void
read_delivery_status(struct parse_ctx *ctx, const char *text)
{
	struct parsed_mail *mail = ctx->mail;
	char *recipient = NULL;
	bool failed = false;
	const char *s = text;
	for (;;) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		bool blank = true;
		for (size_t i = 0; i < n; i++)
			if (s[i] != ' ' && s[i] != '\t')
				blank = false;
		if (blank) {
			if (recipient != NULL && failed)
				str_push(&mail->bounced_recipients, &mail->bounced_count, recipient);
			else
				free(recipient);
			recipient = NULL;
			failed = false;
		} else if (n > 16 && strncasecmp(s, "Final-Recipient:", 16) == 0) {
			char *v = xstrndup(s + 16, n - 16);
			char *semi = strchr(v, ';');
			free(recipient);
			recipient = mail_address_normalise(semi ? semi + 1 : v);
			free(v);
		} else if (n > 7 && strncasecmp(s, "Action:", 7) == 0) {
			char *v = xstrndup(s + 7, n - 7);
			str_trim(v);
			failed = strncasecmp(v, "failed", 6) == 0;
			free(v);
		}
		if (nl == NULL)
			break;
		s = nl + 1;
	}
	if (recipient != NULL && failed)
		str_push(&mail->bounced_recipients, &mail->bounced_count, recipient);
	else
		free(recipient);
}

static void
add_attachment(struct parse_ctx *ctx, const struct part_info *info, char *filename, size_t size)
{
	struct parsed_mail *mail = ctx->mail;
	mail->attachments = array_grow(mail->attachments, mail->attachment_count, sizeof(*mail->attachments));
	struct mail_attachment *a = &mail->attachments[mail->attachment_count++];
	a->filename = filename != NULL ? filename : xstrdup("");
	struct strbuf t = { 0 };
	mail_decode_add_header_bytes(&t, info->type, strlen(info->type));
	a->content_type = strbuf_detach(&t);
	a->size = size;
}

static void
single_part(struct parse_ctx *ctx, struct mailmime *mime)
{
	struct part_info info;
	mail_part_info_read(mime, &info);
	char *filename = mail_part_filename(ctx, &info, "filename");
	if (filename == NULL)
		filename = mail_part_filename(ctx, &info, "name");
	bool is_plain = strcmp(info.type, "text/plain") == 0;
	if (strncmp(info.type, "multipart/", 10) == 0) {
		/* no usable boundary: libetpan left it whole; better its text than nothing */
		mail_parse_note(ctx->mail, "multipart without boundary: read as plain text");
		is_plain = true;
	}
	bool is_html = strcmp(info.type, "text/html") == 0;
	bool is_status = strcmp(info.type, "message/delivery-status") == 0 ||
			 strcmp(info.type, "message/global-delivery-status") == 0;
	char *data = NULL;
	size_t len = 0;
	if (mail_part_decode(ctx, mime->mm_data.mm_single, &data, &len) < 0)
		data = NULL;
	if ((is_plain || is_html) && !info.attachment && filename == NULL) {
		if (data == NULL)
			return;
		const char *where = is_plain ? "a text/plain part" : "a text/html part";
		struct strbuf sb = { 0 };
		mail_decode_add(ctx, &sb, data, len, info.charset, where);
		mmap_string_unref(data);
		char *text = mail_body_normalise_newlines(strbuf_detach(&sb));
		if (is_plain) {
			if (info.flowed) {
				char *u = mail_body_unflow(text, info.delsp);
				free(text);
				text = u;
			}
			mail_body_join(&ctx->plain, text);
		} else {
			bool flattened = false;
			char *t = html_text(text, strlen(text), &flattened);
			if (flattened)
				mail_parse_note(ctx->mail, "HTML nested deeper than 256 elements: the deeper tags ignored, their text kept");
			mail_body_join(&ctx->html, t);
			free(t);
		}
		free(text);
		return;
	}
	if (is_status && data != NULL) {
		struct strbuf sb = { 0 };
		mail_decode_add(ctx, &sb, data, len, info.charset, "a delivery status");
		char *text = mail_body_normalise_newlines(strbuf_detach(&sb));
		read_delivery_status(ctx, text);
		free(text);
		mmap_string_unref(data);
		free(filename);
		return;
	}
	add_attachment(ctx, &info, filename, data != NULL ? len : 0);
	if (data != NULL)
		mmap_string_unref(data);
}

static bool
closing_boundary_present(struct mailmime *mime)
{
	const char *boundary = mime->mm_content_type ?
			       mailmime_content_param_get(mime->mm_content_type, "boundary") : NULL;
	if (boundary == NULL || mime->mm_mime_start == NULL)
		return true;
	size_t bl = strlen(boundary);
	const char *p = mime->mm_mime_start, *end = p + mime->mm_length;
	while (p < end) {
		const char *hit = memmem(p, (size_t)(end - p), boundary, bl);
		if (hit == NULL)
			return false;
		if (hit - mime->mm_mime_start >= 2 && hit[-1] == '-' && hit[-2] == '-' &&
		    (size_t)(end - hit) >= bl + 2 && hit[bl] == '-' && hit[bl + 1] == '-')
			return true;
		p = hit + 1;
	}
	return false;
}

static void
walk(struct parse_ctx *ctx, struct mailmime *mime, int depth, bool top)
{
	if (depth > MAX_MIME_DEPTH) {
		if (!ctx->depth_noted)
			mail_parse_note(ctx->mail, "MIME parts nested deeper than %d levels ignored", MAX_MIME_DEPTH);
		ctx->depth_noted = true;
		return;
	}
	switch (mime->mm_type) {
	case MAILMIME_SINGLE:
		single_part(ctx, mime);
		break;
	case MAILMIME_MULTIPLE: {
		struct part_info info;
		mail_part_info_read(mime, &info);
		if (strcmp(info.type, "multipart/report") == 0)
			ctx->mail->is_report = true;
		clist *parts = mime->mm_data.mm_multipart.mm_mp_list;
		if (parts == NULL || clist_isempty(parts))
			mail_parse_note(ctx->mail, "multipart without parts");
		else if (!closing_boundary_present(mime))
			mail_parse_note(ctx->mail, "closing boundary missing");
		for (clistiter *it = parts ? clist_begin(parts) : NULL; it; it = clist_next(it))
			walk(ctx, clist_content(it), depth + 1, false);
		break;
	}
	case MAILMIME_MESSAGE:
		if (top) {
			if (mime->mm_data.mm_message.mm_msg_mime != NULL)
				walk(ctx, mime->mm_data.mm_message.mm_msg_mime, depth, false);
		} else {
			/* a returned or forwarded message: its text is not this mail's */
			struct part_info info;
			mail_part_info_read(mime, &info);
			char *filename = mail_part_filename(ctx, &info, "filename");
			if (filename == NULL)
				filename = mail_part_filename(ctx, &info, "name");
			size_t size = mime->mm_body && mime->mm_body->dt_type == MAILMIME_DATA_TEXT ?
				      mime->mm_body->dt_data.dt_text.dt_length : mime->mm_length;
			add_attachment(ctx, &info, filename, size);
		}
		break;
	default:
		break;
	}
}

/* ---- entry points ---- */

static void
parse_init(struct parse_ctx *ctx, struct parsed_mail *mail)
{
	memset(mail, 0, sizeof(*mail));
	memset(ctx, 0, sizeof(*ctx));
	ctx->mail = mail;
}

int
mail_parse_headers(const char *raw, size_t len, struct parsed_mail *mail, char **error_r)
{
	struct parse_ctx ctx;
	(void)error_r;
	parse_init(&ctx, mail);
	size_t start;
	size_t body_start = parse_header_block(&ctx, raw, len, &start);
	headers_after_spaces(&ctx, raw, len, body_start, &start);
	read_headers(&ctx);
	mail->body = xstrdup("");
	return 0;
}

/* The body when libetpan cannot read the structure: what follows the headers, as text. */
static void
fallback_body(struct parse_ctx *ctx, const char *raw, size_t len, size_t body_start)
{
	struct strbuf sb = { 0 };
	mail_decode_add(ctx, &sb, raw + body_start, len - body_start, NULL, "the body");
	char *text = mail_body_normalise_newlines(strbuf_detach(&sb));
	mail_body_join(&ctx->plain, text);
	free(text);
}

int
mail_parse(const char *raw, size_t len, struct parsed_mail *mail, char **error_r)
{
	struct parse_ctx ctx;
	parse_init(&ctx, mail);
	const char *unsafe = mail_guard_check(raw, len);
	if (unsafe != NULL) {
		*error_r = xasprintf("mail_parse: %s", unsafe);
		return -1;
	}
	size_t start;
	size_t body_start = parse_header_block(&ctx, raw, len, &start);
	body_start = headers_after_spaces(&ctx, raw, len, body_start, &start);
	read_headers(&ctx);
	raw += start;
	len -= start;
	body_start -= start;

	/* libetpan reads past the end of some inputs (QP ending in "=X"): it gets a copy with
	 * a NUL after it. A message without headers gets an empty header block first. */
	bool no_headers = mail->header_count == 0;
	size_t prefix = no_headers ? 1 : 0;
	char *copy = xmalloc(len + prefix + 1);
	if (no_headers)
		copy[0] = '\n';
	memcpy(copy + prefix, raw, len);
	copy[len + prefix] = '\0';
	size_t idx = 0;
	struct mailmime *mime = NULL;
	if (body_start >= len) {
		/* headers only: nothing for libetpan, which would read the last ones as a body */
	} else if (mailmime_parse(copy, len + prefix, &idx, &mime) == MAILIMF_NO_ERROR && mime != NULL) {
		walk(&ctx, mime, 0, true);
		mailmime_free(mime);
	} else {
		mail_parse_note(mail, "MIME structure unreadable: body read as plain text");
		fallback_body(&ctx, raw, len, body_start);
	}
	free(copy);

	if (ctx.plain.len > 0) {
		strbuf_free(&ctx.html);
		strbuf_addc(&ctx.plain, '\n');
		mail->body = strbuf_detach(&ctx.plain);
	} else if (ctx.html.len > 0) {
		strbuf_addc(&ctx.html, '\n');
		mail->body = strbuf_detach(&ctx.html);
		mail->body_from_html = true;
	} else {
		mail->body = xstrdup("");
	}
	strbuf_free(&ctx.plain);
	strbuf_free(&ctx.html);
	return 0;
}

char *
mail_parse_received(const char *raw, size_t len, size_t max_size, struct parsed_mail *mail)
{
	char *unreadable = NULL, *err = NULL;
	if (len > max_size) {
		memset(mail, 0, sizeof(*mail));
		unreadable = xasprintf("message of %zu bytes, over the %zu-byte limit: not read", len, max_size);
	} else if (mail_parse(raw, len, mail, &err) < 0) {
		unreadable = xasprintf("unreadable message: %s", err);
		free(err);
	}
	if (unreadable == NULL)
		return NULL;
	/* the headers, for the thread and the requester */
	parsed_mail_clear(mail);
	err = NULL;
	if (mail_parse_headers(raw, len, mail, &err) < 0) {
		free(err);
		parsed_mail_clear(mail);
		mail->subject = xstrdup("");
		mail->body = xstrdup("");
	}
	return unreadable;
}

void
parsed_mail_clear(struct parsed_mail *mail)
{
	for (size_t i = 0; i < mail->header_count; i++) {
		free(mail->headers[i].name);
		free(mail->headers[i].value);
	}
	free(mail->headers);
	free(mail->message_id);
	free(mail->in_reply_to);
	str_array_free(mail->references, mail->reference_count);
	free(mail->from_address);
	free(mail->from_name);
	free(mail->reply_to_address);
	free(mail->sender_address);
	str_array_free(mail->to_addresses, mail->to_count);
	free(mail->return_path);
	free(mail->subject);
	free(mail->date);
	free(mail->body);
	str_array_free(mail->bounced_recipients, mail->bounced_count);
	for (size_t i = 0; i < mail->attachment_count; i++) {
		free(mail->attachments[i].filename);
		free(mail->attachments[i].content_type);
	}
	free(mail->attachments);
	str_array_free(mail->notes, mail->note_count);
	memset(mail, 0, sizeof(*mail));
}

const char *
mail_header_get(const struct parsed_mail *mail, const char *name)
{
	for (size_t i = 0; i < mail->header_count; i++)
		if (strcasecmp(mail->headers[i].name, name) == 0)
			return mail->headers[i].value;
	return NULL;
}
