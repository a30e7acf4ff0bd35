/* web_request — see web_request.h. */
#include "autoconf.h"
#include "web/web_request.h"
#include "core/util.h"

#include <string.h>

const char *
web_request_arg(const struct web_request *req, const char *name)
{
	size_t n = strlen(name);
	const char *found = NULL;
	for (size_t i = 0; i < req->arg_count; i++) {
		const char *a = req->args[i];
		if (strncmp(a, name, n) != 0 || a[n] != '=')
			continue;
		if (found != NULL)
			return NULL;  /* twice: which one was meant is unknown */
		found = a + n + 1;
	}
	return found;
}

char *
web_request_cookie(const struct web_request *req, const char *name)
{
	/* RFC 6265 §5.4: "name=value" pairs separated by "; " (tolerating spaces and tabs). */
	size_t n = strlen(name);
	for (const char *p = req->cookie != NULL ? req->cookie : ""; *p;) {
		p += strspn(p, " \t;");
		size_t len = strcspn(p, ";");
		if (len > n && strncmp(p, name, n) == 0 && p[n] == '=') {
			size_t value = len - n - 1;
			while (value > 0 && (p[n + 1 + value - 1] == ' ' || p[n + 1 + value - 1] == '\t'))
				value--;
			return xstrndup(p + n + 1, value);
		}
		p += len;
	}
	return NULL;
}
