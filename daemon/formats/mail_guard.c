/* mail_guard — the checks a raw message passes before libetpan may parse it: no MIME
 * boundary of the kind that crashes libetpan 1.9.4, no more multipart declarations than
 * its recursion can take. A message that fails is refused whole (mail_parse returns -1):
 * one such mail would otherwise kill the daemon. Part of mail_parse.
 * Only the header blocks libetpan reads are looked at: the message's, each part's (after
 * a delimiter line of a boundary declared above it, RFC 2046 §5.1.1), an encapsulated
 * message's (RFC 2046 §5.2.1), and one after the first and a line of spaces (a writer's
 * headers behind the MTA's, which mail_parse reads). A body that merely talks about a boundary — a forwarded
 * header quoted as text, quoted-printable "boundary=3D"..."" — is text, not MIME. */
#include "autoconf.h"
#include "formats/mail_parse_internal.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define MAX_MULTIPART_DECLARED 1000 /* libetpan recurses once per nested multipart */
/* Boundaries followed; past them every Content-Type line of the message is checked, as
 * if all were headers (slower to pass, never less safe). */
#define MAX_BOUNDARIES 64

#define UNSAFE_BOUNDARY "unsafe MIME boundary, message not parsed"

struct guard {
	const char *boundary[MAX_BOUNDARIES];  /* borrowed from the raw message */
	size_t boundary_len[MAX_BOUNDARIES];
	size_t count;
	bool every_line;        /* too many boundaries: every Content-Type line counts */
	size_t multiparts;
};

/* libetpan 1.9.4's mailmime_extract_boundary() overflows the heap when a boundary value
 * starts with a quote once unquoted (boundary="\""). Refuses any boundary parameter with
 * a backslash or a stray quote. Sets *b_r, *bn_r to the boundary's value (unquoted). */
static const char *
boundary_check(const char *v, size_t vn, size_t k, const char **b_r, size_t *bn_r)
{
	size_t m = k + 8;
	while (m < vn && isspace((unsigned char)v[m]))
		m++;
	if (m >= vn || v[m] != '=')
		return NULL;
	m++;
	while (m < vn && isspace((unsigned char)v[m]))
		m++;
	size_t start = m;
	if (m < vn && v[m] == '"') {
		start = ++m;
		while (m < vn && v[m] != '"') {
			if (v[m] == '\\')
				return UNSAFE_BOUNDARY;
			m++;
		}
		if (m >= vn)
			return UNSAFE_BOUNDARY;
		*b_r = v + start;
		*bn_r = m - start;
		m++;
		while (m < vn && isspace((unsigned char)v[m]))
			m++;
		if (m < vn && v[m] != ';')
			return UNSAFE_BOUNDARY;
		return NULL;
	}
	while (m < vn && v[m] != ';' && !isspace((unsigned char)v[m])) {
		if (v[m] == '\\' || v[m] == '"')
			return UNSAFE_BOUNDARY;
		m++;
	}
	*b_r = v + start;
	*bn_r = m - start;
	return NULL;
}

/* One Content-Type value: its boundary parameters checked, a multipart's boundary kept
 * for the delimiter lines to come. Sets *encapsulates_r for message/rfc822 and
 * message/global, whose body starts with a header block of its own. */
static const char *
content_type_check(struct guard *g, const char *v, size_t vn, bool *encapsulates_r)
{
	size_t t = 0;
	while (t < vn && isspace((unsigned char)v[t]))
		t++;
	bool multipart = vn - t >= 9 && strncasecmp(v + t, "multipart", 9) == 0;
	if (multipart)
		g->multiparts++;
	*encapsulates_r = (vn - t >= 14 && strncasecmp(v + t, "message/rfc822", 14) == 0) ||
			  (vn - t >= 14 && strncasecmp(v + t, "message/global", 14) == 0);
	for (size_t k = 0; k + 8 <= vn; k++) {
		if (strncasecmp(v + k, "boundary", 8) != 0)
			continue;
		if (k > 0 && v[k - 1] != ';' && v[k - 1] != ' ' && v[k - 1] != '\t' && v[k - 1] != '\r' && v[k - 1] != '\n')
			continue;
		const char *b = NULL;
		size_t bn = 0;
		const char *unsafe = boundary_check(v, vn, k, &b, &bn);
		if (unsafe != NULL)
			return unsafe;
		if (b == NULL || bn == 0 || !multipart)
			continue;
		if (g->count < MAX_BOUNDARIES) {
			g->boundary[g->count] = b;
			g->boundary_len[g->count++] = bn;
		} else {
			g->every_line = true;
		}
	}
	return NULL;
}

/* Is the line at raw[i..e) a delimiter of a boundary declared so far ("--b", "--b--")?
 * A prefix is enough: libetpan accepts what follows (transport padding), and a wider
 * match only means one more header block looked at. Sets *closing_r for "--b--". */
static bool
is_delimiter(const struct guard *g, const char *raw, size_t i, size_t e, bool *closing_r)
{
	if (e - i < 3 || raw[i] != '-' || raw[i + 1] != '-')
		return false;
	for (size_t k = 0; k < g->count; k++) {
		size_t bn = g->boundary_len[k];
		if (e - i - 2 >= bn && memcmp(raw + i + 2, g->boundary[k], bn) == 0) {
			*closing_r = e - i - 2 >= bn + 2 && raw[i + 2 + bn] == '-' && raw[i + 3 + bn] == '-';
			return true;
		}
	}
	return false;
}

/* The length of "Content-Type" and its colon at raw[i..e), or 0 when the line is another. */
static size_t
content_type_name(const char *raw, size_t i, size_t e)
{
	if (e - i < 13 || strncasecmp(raw + i, "content-type", 12) != 0)
		return 0;
	size_t j = i + 12;
	while (j < e && (raw[j] == ' ' || raw[j] == '\t'))
		j++;
	return j < e && raw[j] == ':' ? j + 1 - i : 0;
}

/* Is the line at raw[i..e) a From header? (With one, the message's headers are its own:
 * mail_parse reads no second block.) */
static bool
is_from_header(const char *raw, size_t i, size_t e)
{
	if (e - i < 5 || strncasecmp(raw + i, "from", 4) != 0)
		return false;
	size_t j = i + 4;
	while (j < e && (raw[j] == ' ' || raw[j] == '\t'))
		j++;
	return j < e && raw[j] == ':';
}

const char *
mail_guard_check(const char *raw, size_t len)
{
	struct guard g = { 0 };
	bool in_headers = true, encapsulated = false, top = true, top_from = false;
	for (size_t i = mail_parse_message_start(raw, len, NULL); i < len;) {
		size_t next;
		size_t e = mail_parse_line_end(raw, len, i, &next);
		size_t content_end = e > i && raw[e - 1] == '\r' ? e - 1 : e;
		if (!in_headers && !g.every_line) {
			bool closing = false;
			if (is_delimiter(&g, raw, i, content_end, &closing))
				in_headers = !closing;
			i = next;
			continue;
		}
		if (content_end == i && !g.every_line) {  /* the end of a header block */
			in_headers = encapsulated;
			encapsulated = false;
			/* The writer's headers after the MTA's and a line of spaces, which
			 * mail_parse reads as the message's (headers_after_spaces). */
			size_t after = mail_parse_skip_spaces(raw, len, next);
			if (top && !top_from && after > next) {
				in_headers = true;
				next = after;
			}
			top = false;
			i = next;
			continue;
		}
		size_t name = content_type_name(raw, i, e);
		if (name == 0) {
			top_from = top_from || (top && is_from_header(raw, i, e));
			i = next;
			continue;
		}
		/* the value, with its continuation lines */
		size_t vs = i + name, ve = e;
		while (next < len && (raw[next] == ' ' || raw[next] == '\t'))
			ve = mail_parse_line_end(raw, len, next, &next);
		bool encapsulates = false;
		const char *unsafe = content_type_check(&g, raw + vs, ve - vs, &encapsulates);
		if (unsafe != NULL)
			return unsafe;
		encapsulated = encapsulated || encapsulates;
		i = next;
	}
	if (g.multiparts > MAX_MULTIPART_DECLARED)
		return "too many multipart parts, message not parsed";
	return NULL;
}
