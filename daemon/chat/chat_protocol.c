/* chat_protocol — see chat_protocol.h. Client frames are read strictly (json-c's strict
 * mode, UTF-8 checked, shallow nesting, one value and nothing after it) and every field
 * is checked for type and shape before it is used: a frame is either entirely valid or
 * refused with the reason the client is told. */
#include "autoconf.h"
#include "chat/chat_protocol.h"
#include "core/text.h"
#include "core/util.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Numbers the widget reads back exactly (JavaScript's safe integers). */
#define SAFE_INTEGER_MAX 9007199254740991LL

static const char *const error_codes[] = { "", "invalid_json", "unknown_type", "invalid_field", "too_long" };

const char *
chat_frame_error_code(enum chat_frame_error error)
{
	return (size_t)error < sizeof(error_codes) / sizeof(*error_codes) ? error_codes[error] : "invalid_field";
}

void
chat_frame_clear(struct chat_frame *f)
{
	free(f->session);
	free(f->identity);
	free(f->id);
	free(f->text);
	memset(f, 0, sizeof(*f));
}

static bool
url_safe(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return true;
}

static bool
client_id_shape(const char *s, size_t n)
{
	if (n == 0 || n > CHAT_CLIENT_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.' || c == ':'))
			return false;
	}
	return true;
}

/* A whole number from 0 to SAFE_INTEGER_MAX (not 1.0, not "1", not true). */
static bool
get_count(json_object *obj, int64_t *out)
{
	if (obj == NULL || !json_object_is_type(obj, json_type_int))
		return false;
	int64_t v = json_object_get_int64(obj);
	if (v < 0 || v > SAFE_INTEGER_MAX)
		return false;
	*out = v;
	return true;
}

/* A string field without NUL (json-c decodes \u0000 into one): its text and length. */
static const char *
get_string(json_object *obj, size_t *len_r)
{
	if (obj == NULL || !json_object_is_type(obj, json_type_string))
		return NULL;
	const char *s = json_object_get_string(obj);
	size_t n = (size_t)json_object_get_string_len(obj);
	if (memchr(s, '\0', n) != NULL)
		return NULL;
	*len_r = n;
	return s;
}

static enum chat_frame_error
parse_hello(json_object *root, struct chat_frame *f)
{
	json_object *session = NULL, *last = NULL;
	json_object_object_get_ex(root, "session", &session);
	if (session != NULL && !json_object_is_type(session, json_type_null)) {
		size_t n;
		const char *s = get_string(session, &n);
		if (s == NULL || n != CHAT_TOKEN_LEN || !url_safe(s, n))
			return CHAT_ERROR_INVALID_FIELD;
		f->session = xstrndup(s, n);
	}
	/* Optional: the extranet's signed token of a logged-in user (a JWT's characters). */
	json_object *identity = NULL;
	if (json_object_object_get_ex(root, "identity", &identity) && !json_object_is_type(identity, json_type_null)) {
		size_t n;
		const char *s = get_string(identity, &n);
		if (s == NULL || n == 0 || n > CHAT_IDENTITY_MAX)
			return CHAT_ERROR_INVALID_FIELD;
		for (size_t i = 0; i < n; i++)
			if (s[i] != '.' && !url_safe(s + i, 1))
				return CHAT_ERROR_INVALID_FIELD;
		f->identity = xstrndup(s, n);
	}
	/* Optional: a first hello has nothing yet. */
	if (json_object_object_get_ex(root, "last_seq", &last) && !json_object_is_type(last, json_type_null) &&
	    !get_count(last, &f->last_seq))
		return CHAT_ERROR_INVALID_FIELD;
	return CHAT_ERROR_NONE;
}

static enum chat_frame_error
parse_message(json_object *root, size_t max_text, struct chat_frame *f)
{
	json_object *id = NULL, *text = NULL;
	json_object_object_get_ex(root, "id", &id);
	json_object_object_get_ex(root, "text", &text);
	size_t id_len, text_len;
	const char *id_s = get_string(id, &id_len), *text_s = get_string(text, &text_len);
	if (id_s == NULL || !client_id_shape(id_s, id_len) || text_s == NULL)
		return CHAT_ERROR_INVALID_FIELD;
	if (text_len > max_text)
		return CHAT_ERROR_TOO_LONG;
	/* json-c checked the frame's bytes and puts U+FFFD for a lone surrogate escape; what
	 * the escapes decode to is checked again as the engine will read it. */
	char *err = NULL;
	bool valid = text_validate(text_s, text_len, &err) == 0;
	free(err);
	if (!valid || text_s[strspn(text_s, " \t\r\n")] == '\0')
		return CHAT_ERROR_INVALID_FIELD;
	f->id = xstrndup(id_s, id_len);
	f->text = xstrndup(text_s, text_len);
	return CHAT_ERROR_NONE;
}

/* One JSON value, the whole of text, no deeper than CHAT_JSON_DEPTH: NULL otherwise. */
static json_object *
parse_json(const char *text, size_t len)
{
	if (len == 0 || len > (size_t)INT32_MAX)
		return NULL;
	json_tokener *tok = json_tokener_new_ex(CHAT_JSON_DEPTH);
	if (tok == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	json_object *root = json_tokener_parse_ex(tok, text, (int)len);
	bool whole = root != NULL && json_tokener_get_error(tok) == json_tokener_success;
	/* Only white space may follow the value (json-c stops after it). */
	size_t end = json_tokener_get_parse_end(tok);
	for (size_t i = end; whole && i < len; i++)
		whole = text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n';
	json_tokener_free(tok);
	if (!whole) {
		json_object_put(root);
		return NULL;
	}
	return root;
}

enum chat_frame_error
chat_frame_parse(const char *text, size_t len, size_t max_text, struct chat_frame *f)
{
	memset(f, 0, sizeof(*f));
	json_object *root = parse_json(text, len);
	if (root == NULL || !json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return CHAT_ERROR_INVALID_JSON;
	}
	json_object *type = NULL;
	size_t n = 0;
	json_object_object_get_ex(root, "type", &type);
	const char *t = get_string(type, &n);
	enum chat_frame_error e = CHAT_ERROR_NONE;
	if (t == NULL) {
		e = CHAT_ERROR_UNKNOWN_TYPE;
	} else if (strcmp(t, "hello") == 0) {
		f->type = CHAT_FRAME_HELLO;
		e = parse_hello(root, f);
	} else if (strcmp(t, "message") == 0) {
		f->type = CHAT_FRAME_MESSAGE;
		e = parse_message(root, max_text, f);
	} else if (strcmp(t, "ack") == 0) {
		json_object *seq = NULL;
		json_object_object_get_ex(root, "seq", &seq);
		f->type = CHAT_FRAME_ACK;
		if (!get_count(seq, &f->seq))
			e = CHAT_ERROR_INVALID_FIELD;
	} else if (strcmp(t, "transcript") == 0) {
		json_object *id = NULL;
		size_t id_len = 0;
		json_object_object_get_ex(root, "id", &id);
		const char *id_s = get_string(id, &id_len);
		f->type = CHAT_FRAME_TRANSCRIPT;
		if (id_s == NULL || !client_id_shape(id_s, id_len))
			e = CHAT_ERROR_INVALID_FIELD;
		else
			f->id = xstrndup(id_s, id_len);
	} else if (strcmp(t, "end") == 0) {
		f->type = CHAT_FRAME_END;
	} else {
		e = CHAT_ERROR_UNKNOWN_TYPE;
	}
	json_object_put(root);
	if (e != CHAT_ERROR_NONE)
		chat_frame_clear(f);
	return e;
}

/* ---- the server's frames ---- */

/* Takes obj: its text (caller frees). Slashes stay as they are ("/" needs no escape). */
static char *
to_text(json_object *obj)
{
	char *s = xstrdup(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
	return s;
}

static json_object *
typed(const char *type)
{
	json_object *obj = json_object_new_object();
	json_object_object_add(obj, "type", json_object_new_string(type));
	return obj;
}

char *
chat_welcome_json(const char *session, int resumed, int64_t last_seq, bool identified)
{
	json_object *obj = typed("welcome");
	json_object_object_add(obj, "session", json_object_new_string(session));
	json_object_object_add(obj, "resumed", json_object_new_boolean(resumed != 0));
	json_object_object_add(obj, "last_seq", json_object_new_int64(last_seq));
	json_object_object_add(obj, "identified", json_object_new_boolean(identified));
	return to_text(obj);
}

char *
chat_ack_json(const char *client_id)
{
	json_object *obj = typed("ack");
	json_object_object_add(obj, "id", json_object_new_string(client_id));
	return to_text(obj);
}

char *
chat_event_json(const struct chat_event *ev)
{
	json_object *obj = typed("event");
	json_object_object_add(obj, "seq", json_object_new_int64(ev->seq));
	json_object_object_add(obj, "kind", json_object_new_string(ev->kind));
	if (strcmp(ev->kind, "message") == 0) {
		json_object_object_add(obj, "from", json_object_new_string(ev->from ? ev->from : "bot"));
		json_object_object_add(obj, "text", json_object_new_string(ev->text ? ev->text : ""));
		/* Always present (maybe empty), so that the widget needs no test. */
		json_object *offers = json_object_new_array();
		for (const char *p = ev->quick_replies; p != NULL && *p;) {
			const char *end = strchr(p, '\n');
			size_t n = end ? (size_t)(end - p) : strlen(p);
			if (n > 0)
				json_object_array_add(offers, json_object_new_string_len(p, (int)n));
			p = end ? end + 1 : p + n;
		}
		json_object_object_add(obj, "quick_replies", offers);
	} else if (ev->state != NULL) {
		json_object_object_add(obj, "state", json_object_new_string(ev->state));
	}
	return to_text(obj);
}

char *
chat_error_json(const char *code, const char *message)
{
	json_object *obj = typed("error");
	json_object_object_add(obj, "code", json_object_new_string(code));
	json_object_object_add(obj, "message", json_object_new_string(message ? message : ""));
	return to_text(obj);
}
