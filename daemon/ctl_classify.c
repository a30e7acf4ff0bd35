/* ctl_classify — `dialogctl classify`: one message per standard input line (\n = line
 * break) → one JSON object per line, as fast as the engine allows: lines are cut in place
 * from large reads, the JSON is written into one reused buffer, and standard output is
 * flushed only when no more input is waiting. */
#include "autoconf.h"
#include "ctl_classify.h"
#include "engine/dialog.h"
#include "engine/engine.h"
#include "engine/intent.h"
#include "core/text.h"
#include "core/util.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Lines longer than this are refused (one error line), not analysed. */
#define CLASSIFY_MAX_LINE (4u * 1024 * 1024)

const char *
ctl_decision_name(enum decision d)
{
	switch (d) {
	case DECISION_ANSWER: return "answer";
	case DECISION_ANSWER_TWO: return "answer-two";
	case DECISION_SMALL_TALK: return "small-talk";
	case DECISION_CLARIFY: return "clarify";
	default: return "escalate";
	}
}

double
ctl_rounded(double x)
{
	return round(x * 10000) / 10000;
}

/* cmd_classify's input: stdin read in large blocks and cut into lines in place, so that a
 * line costs no allocation and the command can tell whether more input is already
 * waiting (then its answer need not be flushed yet). */
struct line_reader {
	int fd;
	char *buf;
	size_t start, end, cap;     /* unread bytes are buf[start, end); one byte is kept spare */
	bool eof;
};

/* Returns the next line without its "\n", NUL-terminated, its length in *len_r (NUL bytes
 * inside are kept, for text_validate to refuse), or NULL at the end of input. The line
 * lives in the reader's buffer until the next call. */
static char *
line_reader_next(struct line_reader *r, size_t *len_r)
{
	for (;;) {
		/* Nothing unread (buf may still be NULL): memchr must not see it. */
		char *nl = r->end > r->start ? memchr(r->buf + r->start, '\n', r->end - r->start) : NULL;
		if (nl != NULL || (r->eof && r->start < r->end)) {
			char *line = r->buf + r->start;
			char *stop = nl != NULL ? nl : r->buf + r->end;
			*stop = '\0';
			*len_r = (size_t)(stop - line);
			r->start = (size_t)(stop - r->buf) + (nl != NULL);
			return line;
		}
		if (r->eof)
			return NULL;
		if (r->start > 0) {
			memmove(r->buf, r->buf + r->start, r->end - r->start);
			r->end -= r->start;
			r->start = 0;
		}
		if (r->end + 1 >= r->cap) {
			r->cap = r->cap ? r->cap * 2 : 256 * 1024;
			r->buf = xrealloc(r->buf, r->cap);
		}
		ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			r->eof = true;
		else
			r->end += (size_t)n;
	}
}

/* Whether another line can be read without waiting: in the buffer, or on the descriptor. */
static bool
line_reader_pending(const struct line_reader *r)
{
	if (r->start < r->end)
		return true;
	if (r->eof)
		return false;
	struct pollfd pfd = { r->fd, POLLIN, 0 };
	return poll(&pfd, 1, 0) > 0;
}

static void
json_add_string(struct strbuf *sb, const char *s)
{
	strbuf_addc(sb, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': strbuf_adds(sb, "\\\""); break;
		case '\\': strbuf_adds(sb, "\\\\"); break;
		case '\b': strbuf_adds(sb, "\\b"); break;
		case '\f': strbuf_adds(sb, "\\f"); break;
		case '\n': strbuf_adds(sb, "\\n"); break;
		case '\r': strbuf_adds(sb, "\\r"); break;
		case '\t': strbuf_adds(sb, "\\t"); break;
		default:
			if (*p < 0x20)
				strbuf_addf(sb, "\\u%04x", *p);
			else
				strbuf_addc(sb, (char)*p);
		}
	}
	strbuf_addc(sb, '"');
}

/* {"line":N,"error":"…"}, as json-c wrote it. */
static void
error_line(unsigned lineno, const char *message)
{
	struct strbuf sb = {0};
	strbuf_addf(&sb, "{\"line\":%u,\"error\":", lineno);
	json_add_string(&sb, message);
	strbuf_adds(&sb, "}\n");
	fwrite(sb.data, 1, sb.len, stdout);
	strbuf_free(&sb);
}

/* A double as json-c writes it ("%.17g", ".0" added to an integral value), so that the
 * output is byte for byte the one classify_json() gives. */
static void
json_add_double(struct strbuf *sb, double d)
{
	char num[40];
	int n = snprintf(num, sizeof(num), "%.17g", d);
	strbuf_add(sb, num, (size_t)n);
	if (strpbrk(num, ".e") == NULL && isfinite(d))
		strbuf_adds(sb, ".0");
}

/* The object of classify_json(), written straight into sb (no json-c tree per line). */
static void
classify_line(struct strbuf *sb, const struct analysis *a)
{
	strbuf_adds(sb, "{\"intent\":");
	json_add_string(sb, analysis_intent_id(a));
	strbuf_adds(sb, ",\"confidence\":");
	json_add_double(sb, ctl_rounded(analysis_confidence(a)));
	strbuf_adds(sb, ",\"audience\":");
	json_add_string(sb, audience_name(a->match.audience));
	strbuf_adds(sb, ",\"audience_cue\":");
	json_add_string(sb, a->match.audience_cue);
	strbuf_adds(sb, ",\"decision\":");
	json_add_string(sb, ctl_decision_name(a->decision));
	strbuf_adds(sb, ",\"candidates\":[");
	for (size_t i = 0; i < a->match.candidate_count && i < 3; i++) {
		const struct intent_candidate *c = &a->match.candidates[i];
		strbuf_adds(sb, i > 0 ? ",{\"intent\":" : "{\"intent\":");
		json_add_string(sb, c->intent->id);
		strbuf_adds(sb, ",\"score\":");
		json_add_double(sb, ctl_rounded(c->score));
		strbuf_adds(sb, ",\"confidence\":");
		json_add_double(sb, ctl_rounded(c->confidence));
		strbuf_addc(sb, '}');
	}
	strbuf_addc(sb, ']');
	if (a->second != NULL) {
		strbuf_adds(sb, ",\"also\":");
		json_add_string(sb, a->second->id);
	}
	strbuf_adds(sb, "}\n");
}

/* One JSON line per input line. Speed matters (batch classification, the comparison with
 * the nlp.js peer): lines are cut in place, the JSON is written into one reused buffer, and
 * stdout is flushed only when no more input is waiting, so an interactive user still gets
 * each answer at once. */
int
ctl_classify(const struct engine *e, const struct dialog_settings *settings)
{
	/* Set before any output: a larger buffer than a pipe's default, fewer write calls. */
	static char outbuf[64 * 1024];
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	struct intent_scratch *scratch = intent_scratch_new();
	struct line_reader in = { STDIN_FILENO, NULL, 0, 0, 0, false };
	struct strbuf out = {0};
	char *line;
	size_t len;
	unsigned lineno = 0;
	while ((line = line_reader_next(&in, &len)) != NULL) {
		lineno++;
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		char *err = NULL;
		if (len > CLASSIFY_MAX_LINE) {
			char *msg = xasprintf("message too long (%zu bytes, limit %u)", len, CLASSIFY_MAX_LINE);
			error_line(lineno, msg);
			free(msg);
		} else if (text_validate(line, len, &err) < 0) {
			error_line(lineno, err);
			free(err);
		} else {
			len = text_unescape_newlines(line);
			struct analysis a;
			if (dialog_analyze(e, scratch, settings, line, len, &a, &err) < 0) {
				error_line(lineno, err);
				free(err);
			} else {
				strbuf_reset(&out);
				classify_line(&out, &a);
				fwrite(out.data, 1, out.len, stdout);
				analysis_clear(&a);
			}
		}
		if (!line_reader_pending(&in))
			fflush(stdout);
	}
	fflush(stdout);
	strbuf_free(&out);
	free(in.buf);
	intent_scratch_free(&scratch);
	return 0;
}
