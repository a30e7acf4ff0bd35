/* mail_guard — the checks a raw message passes before libetpan may parse it: no MIME
 * boundary of the kind that crashes libetpan 1.9.4, no more multipart declarations than
 * its recursion can take. A message that fails is refused whole (mail_parse returns -1):
 * one such mail would otherwise kill the daemon. Part of mail_parse. */
#include "autoconf.h"
#include "formats/mail_parse_internal.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define MAX_MULTIPART_DECLARED 1000 /* libetpan recurses once per nested multipart */

/* libetpan 1.9.4's mailmime_extract_boundary() overflows the heap when a boundary value
 * starts with a quote once unquoted (boundary="\""). Refuses any boundary parameter with a
 * backslash or a stray quote, in every Content-Type line of the message. Also counts the
 * multipart declarations (libetpan recurses once per nesting level). */
const char *
mail_guard_check(const char *raw, size_t len)
{
	size_t multiparts = 0;
	for (size_t i = 0; i < len; ) {
		size_t next;
		size_t e = mail_parse_line_end(raw, len, i, &next);
		if (e - i < 13 || strncasecmp(raw + i, "content-type", 12) != 0) {
			i = next;
			continue;
		}
		size_t j = i + 12;
		while (j < e && (raw[j] == ' ' || raw[j] == '\t'))
			j++;
		if (j >= e || raw[j] != ':') {
			i = next;
			continue;
		}
		/* the value, with its continuation lines */
		size_t vs = j + 1, ve = e;
		while (next < len && (raw[next] == ' ' || raw[next] == '\t'))
			ve = mail_parse_line_end(raw, len, next, &next);
		const char *v = raw + vs;
		size_t vn = ve - vs;
		for (size_t k = 0; k + 9 <= vn; k++) {
			if (strncasecmp(v + k, "multipart", 9) == 0 && k < 8)
				multiparts++;
			if (k + 8 > vn || strncasecmp(v + k, "boundary", 8) != 0)
				continue;
			if (k > 0 && v[k - 1] != ';' && v[k - 1] != ' ' && v[k - 1] != '\t' && v[k - 1] != '\r' && v[k - 1] != '\n')
				continue;
			size_t m = k + 8;
			while (m < vn && isspace((unsigned char)v[m]))
				m++;
			if (m >= vn || v[m] != '=')
				continue;
			m++;
			while (m < vn && isspace((unsigned char)v[m]))
				m++;
			if (m < vn && v[m] == '"') {
				m++;
				while (m < vn && v[m] != '"') {
					if (v[m] == '\\')
						return "unsafe MIME boundary, message not parsed";
					m++;
				}
				if (m >= vn)
					return "unsafe MIME boundary, message not parsed";
				m++;
				while (m < vn && isspace((unsigned char)v[m]))
					m++;
				if (m < vn && v[m] != ';')
					return "unsafe MIME boundary, message not parsed";
			} else {
				while (m < vn && v[m] != ';' && !isspace((unsigned char)v[m])) {
					if (v[m] == '\\' || v[m] == '"')
						return "unsafe MIME boundary, message not parsed";
					m++;
				}
			}
		}
		i = next;
	}
	if (multiparts > MAX_MULTIPART_DECLARED)
		return "too many multipart parts, message not parsed";
	return NULL;
}
