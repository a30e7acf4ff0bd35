/* directory_http — the remote directory backend: directory.h's questions asked of the extranet's
 * HTTP/JSON API (README.md, "Directory API") with libcurl and json-c, beside directory.c's sqlite one:
 * GET /accounts?email=E | ?siret=S, GET /accounts/{id}, GET /dossiers/{number}, POST /accounts/{id}/password-reset.
 * 200 (2xx for the POST) answers, 404 {"error":"not_found"} is "not found"; anything else (timeout, other
 * status, redirect, over 1 MiB, JSON off the contract) is DIRECTORY_UNAVAILABLE, never a guess. Never logs.
 * RFC 9110 (HTTP), RFC 8259 (JSON), RFC 3986 (percent-encoding), RFC 7617 (Basic), RFC 6750 (Bearer). */
#include "autoconf.h"
#include "directory/directory.h"
#include "directory/directory_backend.h"
#include "core/text.h"
#include "core/util.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A bigger answer is not a directory answer: refused before it fills memory. */
#define RESPONSE_MAX (1024 * 1024)
/* Longest value sent in a URL or accepted in a JSON string (an e-mail address is at most
 * 254 bytes; nothing the extranet holds is longer). */
#define VALUE_MAX 320
/* JSON nesting: our documents are three levels deep; json-c's default (32) is not needed. */
#define JSON_DEPTH 8
/* Quoted back in an error at most this many bytes of a value the API sent. */
#define QUOTE_MAX 60
/* Used when the settings say 0, which libcurl would read as "wait for ever". */
#define DEFAULT_TIMEOUT 5
#define DEFAULT_CONNECT_TIMEOUT 2

struct http_dir {
	CURL *curl;                     /* one handle for the object's life: connections are kept alive */
	char *base;                     /* the API URL without trailing '/' (is malloc'd) */
	unsigned long timeout;          /* seconds, also for the error messages */
	unsigned long connect_timeout;
	struct curl_slist *headers;     /* Accept: application/json */
	struct strbuf body;             /* the answer being received */
	bool too_big;                   /* the answer passed RESPONSE_MAX */
	char *call;                     /* "GET /dossiers/X" during a call: the start of every error */
	char errbuf[CURL_ERROR_SIZE];   /* libcurl's detail of a failed transfer (lives as the handle) */
};

static const char *const account_kinds[] = { "entreprise", "organisme", NULL };
static const char *const account_states[] = { "active", "pending", NULL };
static const char *const dossier_types[] = { "action_formation", "contrat_pro", "contrat_apprentissage", NULL };
static const char *const dossier_states[] = { "en_cours_de_saisie", "transmis", "en_attente_de_pieces", "accorde",
					      "refuse", "paye", "clos", NULL };

static struct http_dir *
backend(struct directory *d)
{
	return d->backend;
}

/* "directory API: GET /path: why" — every failure names the call, so that the operator
 * can replay it with curl. Returns DIRECTORY_UNAVAILABLE. */
static int
api_fail(struct directory *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
api_fail(struct directory *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *why = xvasprintf(fmt, ap);
	va_end(ap);
	directory_fail(d, DIRECTORY_UNAVAILABLE, "directory API: %s: %s", backend(d)->call, why);
	free(why);
	return DIRECTORY_UNAVAILABLE;
}

static bool
has_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F)
			return true;
	return false;
}

/* Printable UTF-8 without NUL: what may be quoted in a log line or put in a URL. */
static bool
clean_text(const char *s, size_t len)
{
	char *err = NULL;
	if (text_validate(s, len, &err) < 0) {
		free(err);
		return false;
	}
	return !has_control(s, len);
}

/* ---- the request ---- */

static size_t
receive(char *data, size_t size, size_t count, void *user)
{
	struct http_dir *h = user;
	size_t len = size * count;
	/* Content-Length is capped by CURLOPT_MAXFILESIZE_LARGE; this catches chunked and
	 * close-delimited answers. Returning less than len aborts the transfer. */
	if (len > RESPONSE_MAX - h->body.len) {
		h->too_big = true;
		return 0;
	}
	strbuf_add(&h->body, data, len);
	return len;
}

/* Parses the answer as one JSON object (nothing before or after it). NULL with the
 * error set otherwise. */
static json_object *
parse_object(struct directory *d)
{
	struct http_dir *h = backend(d);
	json_tokener *tok = json_tokener_new_ex(JSON_DEPTH);
	if (tok == NULL)
		abort();  /* out of memory, as x*() */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	json_object *obj = json_tokener_parse_ex(tok, h->body.data ? h->body.data : "", (int)h->body.len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (obj == NULL) {
		api_fail(d, "malformed JSON: %s",
			 jerr == json_tokener_continue ? "empty or cut short" : json_tokener_error_desc(jerr));
		return NULL;
	}
	for (size_t i = end; i < h->body.len; i++)
		if (strchr(" \t\r\n", h->body.data[i]) == NULL) {
			json_object_put(obj);
			api_fail(d, "malformed JSON: text after the value at byte %zu", i);
			return NULL;
		}
	if (!json_object_is_type(obj, json_type_object)) {
		api_fail(d, "malformed JSON: expected an object, got %s", json_type_to_name(json_object_get_type(obj)));
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

/* A JSON media type: "application/json" with or without parameters. */
static bool
is_json(const char *content_type)
{
	static const char json[] = "application/json";
	if (content_type == NULL || strncasecmp(content_type, json, sizeof(json) - 1) != 0)
		return false;
	char next = content_type[sizeof(json) - 1];
	return next == '\0' || next == ';' || next == ' ';
}

/* Whether a 404 is the API saying "no such thing", not a wrong url or a proxy's page:
 * without this check a mistyped url would tell every requester that they do not exist. */
static bool
is_not_found(struct directory *d, const char *content_type)
{
	if (!is_json(content_type))
		return false;
	json_object *obj = parse_object(d), *error;
	bool yes = obj != NULL && json_object_object_get_ex(obj, "error", &error) &&
		   json_object_is_type(error, json_type_string) && strcmp(json_object_get_string(error), "not_found") == 0;
	json_object_put(obj);
	return yes;
}

/* One call of the API: method on base + path (path already percent-encoded). A GET
 * succeeds with 200 and a JSON object (in *json_r, caller puts); a POST with any 2xx
 * (202 is documented; a body, if any, is ignored). Returns 1, 0 for a 404
 * {"error":"not_found"}, or DIRECTORY_UNAVAILABLE. */
static int
call(struct directory *d, const char *method, const char *path, json_object **json_r)
{
	struct http_dir *h = backend(d);
	CURL *c = h->curl;
	bool post = strcmp(method, "POST") == 0;
	if (json_r != NULL)
		*json_r = NULL;
	free(h->call);
	h->call = xasprintf("%s %s", method, path);
	char *url = xasprintf("%s%s", h->base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	if (post) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
	} else {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
	strbuf_reset(&h->body);
	h->too_big = false;
	h->errbuf[0] = '\0';
	CURLcode rc = curl_easy_perform(c);
	free(url);

	if (rc != CURLE_OK) {
		if (h->too_big || rc == CURLE_FILESIZE_EXCEEDED)
			return api_fail(d, "answer larger than %d KiB", RESPONSE_MAX / 1024);
		if (rc == CURLE_OPERATION_TIMEDOUT) {
			/* libcurl says the same for both limits; the time spent tells them apart. */
			curl_off_t spent = 0;
			curl_easy_getinfo(c, CURLINFO_TOTAL_TIME_T, &spent);
			if (spent < (curl_off_t)h->timeout * 1000000 - 500000)
				return api_fail(d, "could not connect within %lu s (connect_timeout)", h->connect_timeout);
			return api_fail(d, "timed out after %lu s", h->timeout);
		}
		return api_fail(d, "%s", h->errbuf[0] && clean_text(h->errbuf, strlen(h->errbuf)) ? h->errbuf
												   : curl_easy_strerror(rc));
	}
	long status = 0;
	char *content_type = NULL;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &content_type);
	if (post && status >= 200 && status < 300)
		return 1;
	if (!post && status == 200) {
		if (!is_json(content_type))
			return api_fail(d, "HTTP %ld but the answer is not application/json", status);
		*json_r = parse_object(d);
		return *json_r != NULL ? 1 : DIRECTORY_UNAVAILABLE;
	}
	if (status == 404)
		return is_not_found(d, content_type)
			       ? 0
			       : api_fail(d, "HTTP 404 without {\"error\":\"not_found\"}: is [directory] url right?");
	if (status >= 300 && status < 400)
		return api_fail(d, "HTTP %ld: redirects are not followed: is [directory] url right?", status);
	if (status == 401 || status == 403)
		return api_fail(d, "HTTP %ld: the API refused our credentials: check [directory] user, "
				   "password_file or api_key_file", status);
	return api_fail(d, "HTTP %ld", status);
}

/* Values no directory holds are refused before any request, as "not found": hostile
 * input then never reaches the extranet's router or logs. "." and ".." would be path
 * segments of their own, whatever the encoding. */
static bool
acceptable(const char *value)
{
	size_t len = strlen(value);
	return len <= VALUE_MAX && strcmp(value, ".") != 0 && strcmp(value, "..") != 0 && clean_text(value, len);
}

/* value percent-encoded for a path segment or a query value (caller frees). */
static char *
encode(struct directory *d, const char *value)
{
	char *e = curl_easy_escape(backend(d)->curl, value, (int)strlen(value));
	if (e == NULL)
		abort();  /* out of memory, as x*() */
	char *copy = xstrdup(e);
	curl_free(e);
	return copy;
}

/* ---- reading the answers: every field checked before anything is used ---- */

enum {
	F_OPTIONAL = 1 << 0,    /* absent, null or "" give NULL */
	F_SIRET = 1 << 1,       /* 14 digits */
	F_EMAIL = 1 << 2,       /* local@domain, no space */
	F_DATE = 1 << 3,        /* YYYY-MM-DD */
};

/* where + "." + key, for the messages ("accounts[1].structures[0].siret"). */
static char *
field_name(const char *where, const char *key)
{
	return *where ? xasprintf("%s.%s", where, key) : xstrdup(key);
}

/* A value the API sent, quoted for the log: cut at QUOTE_MAX bytes on a character
 * boundary (the value is valid UTF-8 already). Caller frees. */
static char *
quote(const char *s)
{
	size_t len = strlen(s);
	if (len <= QUOTE_MAX)
		return xstrdup(s);
	len = QUOTE_MAX;
	while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
		len--;
	char *cut = xstrndup(s, len);
	char *q = xasprintf("%s…", cut);
	free(cut);
	return q;
}

static bool
is_siret(const char *s)
{
	if (strlen(s) != 14)
		return false;
	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

static bool
is_email(const char *s)
{
	const char *at = strchr(s, '@');
	return at != NULL && at != s && at[1] != '\0' && strchr(at + 1, '@') == NULL && strchr(s, ' ') == NULL;
}

static bool
is_date(const char *s)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	int month = (s[5] - '0') * 10 + (s[6] - '0'), day = (s[8] - '0') * 10 + (s[9] - '0');
	return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

/* Checks one string value (name for the messages). Returns true when it fits. */
static bool
check_string(struct directory *d, const char *name, const char *s, size_t len, unsigned flags,
	     const char *const *choices)
{
	if (!clean_text(s, len)) {
		api_fail(d, "field \"%s\": invalid UTF-8 or a control character", name);
		return false;
	}
	if (len > VALUE_MAX) {
		api_fail(d, "field \"%s\": longer than %d bytes", name, VALUE_MAX);
		return false;
	}
	if (len == 0) {
		api_fail(d, "field \"%s\" is empty", name);
		return false;
	}
	const char *what = NULL;
	if ((flags & F_SIRET) && !is_siret(s))
		what = "is not a SIRET (14 digits)";
	else if ((flags & F_EMAIL) && !is_email(s))
		what = "is not an e-mail address";
	else if ((flags & F_DATE) && !is_date(s))
		what = "is not a date YYYY-MM-DD";
	bool known = choices == NULL;
	for (size_t i = 0; !known && choices[i]; i++)
		known = strcmp(s, choices[i]) == 0;
	if (what == NULL && known)
		return true;
	char *q = quote(s);
	if (what != NULL)
		api_fail(d, "field \"%s\": \"%s\" %s", name, q, what);
	else
		api_fail(d, "field \"%s\": unknown value \"%s\"", name, q);
	free(q);
	return false;
}

/* Reads obj[key] into *out (a copy; NULL when optional and absent, null or ""). */
static bool
read_string(struct directory *d, json_object *obj, const char *where, const char *key, unsigned flags,
	    const char *const *choices, char **out)
{
	*out = NULL;
	json_object *v = NULL;
	/* json-c gives NULL for a JSON null as for an absent key; present tells them apart. */
	bool present = json_object_object_get_ex(obj, key, &v);
	if ((v == NULL || (json_object_is_type(v, json_type_string) && json_object_get_string_len(v) == 0)) &&
	    (flags & F_OPTIONAL))
		return true;
	char *name = field_name(where, key);
	bool ok = false;
	if (v == NULL)
		api_fail(d, "field \"%s\" is %s", name, present ? "null" : "missing");
	else if (!json_object_is_type(v, json_type_string))
		api_fail(d, "field \"%s\": expected a string, got %s", name, json_type_to_name(json_object_get_type(v)));
	else if ((ok = check_string(d, name, json_object_get_string(v), (size_t)json_object_get_string_len(v), flags,
				    choices)))
		*out = xstrdup(json_object_get_string(v));
	free(name);
	return ok;
}

/* obj[key] as an array (required; it may be empty). NULL with the error set otherwise. */
static json_object *
read_array(struct directory *d, json_object *obj, const char *where, const char *key)
{
	json_object *v = NULL;
	bool present = json_object_object_get_ex(obj, key, &v);
	if (v != NULL && json_object_is_type(v, json_type_array))
		return v;
	char *name = field_name(where, key);
	if (v == NULL)
		api_fail(d, "field \"%s\" is %s", name, present ? "null" : "missing");
	else
		api_fail(d, "field \"%s\": expected an array, got %s", name, json_type_to_name(json_object_get_type(v)));
	free(name);
	return NULL;
}

static bool
expect_object(struct directory *d, json_object *v, const char *where)
{
	if (json_object_is_type(v, json_type_object))
		return true;
	api_fail(d, "field \"%s\": expected an object, got %s", *where ? where : "(top)",
		 json_type_to_name(json_object_get_type(v)));
	return false;
}

static bool
read_account(struct directory *d, json_object *obj, const char *where, struct directory_account *a)
{
	memset(a, 0, sizeof(*a));
	if (!expect_object(d, obj, where) || !read_string(d, obj, where, "identifier", 0, NULL, &a->identifier) ||
	    !read_string(d, obj, where, "email", F_EMAIL, NULL, &a->email) ||
	    !read_string(d, obj, where, "kind", 0, account_kinds, &a->kind) ||
	    !read_string(d, obj, where, "state", 0, account_states, &a->state))
		goto fail;
	json_object *list = read_array(d, obj, where, "structures");
	if (list == NULL)
		goto fail;
	size_t n = json_object_array_length(list);
	a->structures = n ? xcalloc(n, sizeof(*a->structures)) : NULL;
	for (size_t i = 0; i < n; i++) {
		char *at = xasprintf("%s%sstructures[%zu]", where, *where ? "." : "", i);
		json_object *item = json_object_array_get_idx(list, i);
		struct directory_structure *st = &a->structures[a->structure_count];
		bool ok = expect_object(d, item, at) && read_string(d, item, at, "siret", F_SIRET, NULL, &st->siret) &&
			  read_string(d, item, at, "name", F_OPTIONAL, NULL, &st->name);
		free(at);
		/* Counted once its siret is set, so that a clear frees what was copied. */
		if (st->siret != NULL)
			a->structure_count++;
		if (!ok)
			goto fail;
	}
	return true;
fail:
	directory_account_clear(a);
	return false;
}

static bool
read_dossier(struct directory *d, json_object *obj, struct directory_dossier *out)
{
	memset(out, 0, sizeof(*out));
	out->amount_cents = -1;
	if (!read_string(d, obj, "", "number", 0, NULL, &out->number) ||
	    !read_string(d, obj, "", "type", 0, dossier_types, &out->type) ||
	    !read_string(d, obj, "", "state", 0, dossier_states, &out->state) ||
	    !read_string(d, obj, "", "siret", F_SIRET, NULL, &out->siret) ||
	    !read_string(d, obj, "", "training_org_siret", F_OPTIONAL | F_SIRET, NULL, &out->training_org_siret) ||
	    !read_string(d, obj, "", "deca_number", F_OPTIONAL, NULL, &out->deca_number) ||
	    !read_string(d, obj, "", "start_date", F_OPTIONAL | F_DATE, NULL, &out->start_date))
		goto fail;
	json_object *amount = NULL;
	if (json_object_object_get_ex(obj, "amount_cents", &amount) && amount != NULL) {
		if (!json_object_is_type(amount, json_type_int)) {
			api_fail(d, "field \"amount_cents\": expected an integer, got %s",
				 json_type_to_name(json_object_get_type(amount)));
			goto fail;
		}
		/* json-c saturates what int64 cannot hold; a billion euros is no training grant. */
		int64_t cents = json_object_get_int64(amount);
		if (cents < 0 || cents > INT64_C(100000000000)) {
			api_fail(d, "field \"amount_cents\": %lld is out of range", (long long)cents);
			goto fail;
		}
		out->amount_cents = cents;
	}
	json_object *list = read_array(d, obj, "", "contacts");
	if (list == NULL)
		goto fail;
	size_t n = json_object_array_length(list);
	out->emails = n ? xcalloc(n, sizeof(*out->emails)) : NULL;
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(list, i);
		char *name = xasprintf("contacts[%zu]", i);
		bool ok = false;
		if (v == NULL || !json_object_is_type(v, json_type_string))
			api_fail(d, "field \"%s\": expected a string, got %s", name,
				 json_type_to_name(json_object_get_type(v)));
		else if ((ok = check_string(d, name, json_object_get_string(v), (size_t)json_object_get_string_len(v),
					    F_EMAIL, NULL)))
			out->emails[out->email_count++] = xstrdup(json_object_get_string(v));
		free(name);
		if (!ok)
			goto fail;
	}
	return true;
fail:
	directory_dossier_clear(out);
	return false;
}

/* ---- the questions ---- */

static bool
acts_for(const struct directory_account *a, const char *siret)
{
	for (size_t i = 0; i < a->structure_count; i++)
		if (strcmp(a->structures[i].siret, siret) == 0)
			return true;
	return false;
}

/* METHOD prefix + encoded value + suffix, when value is one a directory could hold (else
 * 0: "not found" without asking). Same return as call(). */
static int
call_with(struct directory *d, const char *method, const char *prefix, const char *value, const char *suffix,
	  json_object **root)
{
	if (!acceptable(value))
		return 0;
	char *v = encode(d, value);
	char *path = xasprintf("%s%s%s", prefix, v, suffix);
	free(v);
	int rc = call(d, method, path, root);
	free(path);
	return rc;
}

/* GET /accounts?by=value. Accounts that do not answer the question (another address,
 * a structure they do not act for) are dropped: a buggy API must not hand one
 * requester's identifier to another. */
static int
find_accounts(struct directory *d, const char *by, const char *value, struct directory_accounts *out)
{
	char *prefix = xasprintf("/accounts?%s=", by);
	json_object *root = NULL;
	int rc = call_with(d, "GET", prefix, value, "", &root);
	free(prefix);
	if (rc <= 0)
		return rc;
	json_object *list = read_array(d, root, "", "accounts");
	size_t n = list ? json_object_array_length(list) : 0;
	out->items = n ? xcalloc(n, sizeof(*out->items)) : NULL;
	for (size_t i = 0; list != NULL && i < n; i++) {
		char *where = xasprintf("accounts[%zu]", i);
		struct directory_account a;
		bool ok = read_account(d, json_object_array_get_idx(list, i), where, &a);
		free(where);
		if (!ok) {
			list = NULL;  /* the whole answer is refused */
			break;
		}
		bool answers = strcmp(by, "email") == 0 ? strcasecmp(a.email, value) == 0 : acts_for(&a, value);
		if (answers)
			out->items[out->count++] = a;
		else
			directory_account_clear(&a);
	}
	json_object_put(root);
	if (list == NULL) {
		directory_accounts_clear(out);
		return DIRECTORY_UNAVAILABLE;
	}
	if (out->count == 0) {
		free(out->items);
		out->items = NULL;
	}
	return (int)out->count;
}

static int
http_accounts_by_email(struct directory *d, const char *email, struct directory_accounts *out)
{
	return find_accounts(d, "email", email, out);
}

static int
http_accounts_by_siret(struct directory *d, const char *siret, struct directory_accounts *out)
{
	return find_accounts(d, "siret", siret, out);
}

static int
http_account_get(struct directory *d, const char *identifier, struct directory_account *out)
{
	json_object *root = NULL;
	int rc = call_with(d, "GET", "/accounts/", identifier, "", &root);
	if (rc <= 0)
		return rc;
	if (!read_account(d, root, "", out)) {
		rc = DIRECTORY_UNAVAILABLE;
	} else if (strcasecmp(out->identifier, identifier) != 0) {
		char *q = quote(out->identifier);
		rc = api_fail(d, "answered for another account (\"%s\")", q);
		free(q);
		directory_account_clear(out);
	}
	json_object_put(root);
	return rc;
}

static int
http_dossier_get(struct directory *d, const char *number, struct directory_dossier *out)
{
	json_object *root = NULL;
	int rc = call_with(d, "GET", "/dossiers/", number, "", &root);
	if (rc <= 0)
		return rc;
	if (!read_dossier(d, root, out)) {
		rc = DIRECTORY_UNAVAILABLE;
	} else if (strcasecmp(out->number, number) != 0) {
		char *q = quote(out->number);
		rc = api_fail(d, "answered for another dossier (\"%s\")", q);
		free(q);
		directory_dossier_clear(out);
	}
	json_object_put(root);
	return rc;
}

static int
http_request_password_reset(struct directory *d, const char *identifier)
{
	return call_with(d, "POST", "/accounts/", identifier, "/password-reset", NULL);
}

static void
http_close(struct directory *d)
{
	struct http_dir *h = backend(d);
	curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->headers);
	strbuf_free(&h->body);
	free(h->base);
	free(h->call);
	free(h);
}

static const struct directory_ops http_ops = {
	.accounts_by_email = http_accounts_by_email,
	.accounts_by_siret = http_accounts_by_siret,
	.account_get = http_account_get,
	.dossier_get = http_dossier_get,
	.request_password_reset = http_request_password_reset,
	.close = http_close,
};

/* ---- opening ---- */

/* Why the settings cannot work (caller frees), or NULL. Never quotes a credential, nor
 * the url when it may hold one. */
static char *
settings_problem(const struct directory_http_settings *s, bool *https_r)
{
	const char *url = s->url;
	if (url == NULL || *url == '\0')
		return xstrdup("directory API: [directory] url is not set");
	if (!clean_text(url, strlen(url)) || strpbrk(url, " \"<>\\^`{|}") != NULL)
		return xstrdup("directory API: [directory] url holds a space, a control character or invalid UTF-8");
	*https_r = strncasecmp(url, "https://", 8) == 0;
	if (!*https_r && strncasecmp(url, "http://", 7) != 0)
		return xstrdup("directory API: [directory] url must start with https:// (or http:// on a loopback address)");
	const char *authority = strstr(url, "://") + 3;
	if (memchr(authority, '@', strcspn(authority, "/?#")) != NULL)
		return xstrdup("directory API: [directory] url must not hold a user or password: "
			       "use user and password_file, or api_key_file");
	if (strpbrk(url, "?#") != NULL)
		return xstrdup("directory API: [directory] url must not hold a query (?) or fragment (#)");
	char *host = url_host(url);
	char *problem = NULL;
	if (host == NULL || *host == '\0')
		problem = xasprintf("directory API: [directory] url %s has no host", url);
	else if (url_port(url, *https_r ? 443 : 80) < 0)
		problem = xasprintf("directory API: [directory] url %s has an invalid port", url);
	else if (!*https_r && !s->allow_plaintext && !host_is_loopback(host))
		problem = xasprintf("directory API: [directory] url: http:// to %s would carry the directory's answers "
				    "and credentials unencrypted: use https://, or set allow_plaintext = yes", host);
	free(host);
	if (problem != NULL)
		return problem;
	/* A line break in a credential would end the Authorization header early. */
	if (s->user != NULL && has_control(s->user, strlen(s->user)))
		return xstrdup("directory API: [directory] user holds a control character");
	if (s->password != NULL && has_control(s->password, strlen(s->password)))
		return xstrdup("directory API: [directory] password holds a control character");
	if (s->api_key != NULL && has_control(s->api_key, strlen(s->api_key)))
		return xstrdup("directory API: [directory] api_key holds a control character");
	return NULL;
}

static void
configure_handle(struct http_dir *h, const struct directory_http_settings *s, bool https)
{
	CURL *c = h->curl;
	/* Several threads each have a handle: libcurl must not use signals for its timeouts. */
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)h->timeout * 1000L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)h->connect_timeout * 1000L);
	/* Only the url's own scheme: never a downgrade to http://, never file:// or others. */
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, https ? "https" : "http");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, https ? (long)CURLPROTO_HTTPS : (long)CURLPROTO_HTTP);
#endif
	/* A redirect is a misconfiguration to report, not to follow with our credentials. */
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)RESPONSE_MAX);
	/* The encoded path is sent as built: libcurl would otherwise squash dot segments. */
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "dialogd/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, receive);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, s->tls_verify ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, s->tls_verify ? 2L : 0L);
	if (s->tls_ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, s->tls_ca_file);
	/* libcurl copies the strings: the settings need not outlive the directory. */
	if (s->api_key != NULL) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
		curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, s->api_key);
	} else if (s->user != NULL) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, s->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, s->password ? s->password : "");
	}
}

struct directory *
directory_open_http(const struct directory_http_settings *s, char **error_r)
{
	*error_r = NULL;
	bool https = false;
	char *problem = settings_problem(s, &https);
	if (problem != NULL) {
		*error_r = problem;
		return NULL;
	}
	struct http_dir *h = xcalloc(1, sizeof(*h));
	h->curl = curl_easy_init();
	if (h->curl == NULL) {
		free(h);
		*error_r = xstrdup("directory API: cannot initialise libcurl");
		return NULL;
	}
	h->base = xstrdup(s->url);
	for (size_t n = strlen(h->base); n > 0 && h->base[n - 1] == '/'; n--)
		h->base[n - 1] = '\0';
	h->timeout = s->timeout ? s->timeout : DEFAULT_TIMEOUT;
	h->connect_timeout = s->connect_timeout ? s->connect_timeout : DEFAULT_CONNECT_TIMEOUT;
	h->headers = curl_slist_append(NULL, "Accept: application/json");
	if (h->headers == NULL)
		abort();  /* out of memory, as x*() */
	h->call = xstrdup("");
	configure_handle(h, s, https);
	return directory_new(&http_ops, true, h);
}
