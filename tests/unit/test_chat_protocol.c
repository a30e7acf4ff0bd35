/* Tests of chat_protocol: every client frame the website chat accepts, and a table of
 * hostile ones (not JSON, not an object, wrong types, missing fields, huge or misshapen
 * ids and tokens, NUL and lone surrogates through escapes, nested junk, trailing bytes),
 * each refused with the code the client is told; then the server's frames as JSON,
 * read back with json-c. */
#include "testutil.h"
#include "chat/chat_protocol.h"

#include <json-c/json.h>

#define MAX_TEXT 100
#define TOKEN "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123-_x"

static enum chat_frame_error
parse(const char *text, struct chat_frame *f)
{
	return chat_frame_parse(text, strlen(text), MAX_TEXT, f);
}

static void
test_valid_frames(void **state)
{
	(void)state;
	struct chat_frame f;
	assert_int_equal(strlen(TOKEN), CHAT_TOKEN_LEN);
	assert_int_equal(parse("{\"type\":\"hello\",\"session\":null,\"last_seq\":0}", &f), CHAT_ERROR_NONE);
	assert_int_equal(f.type, CHAT_FRAME_HELLO);
	assert_null(f.session);
	assert_int_equal(f.last_seq, 0);
	chat_frame_clear(&f);
	assert_int_equal(parse("{\"type\":\"hello\"}", &f), CHAT_ERROR_NONE);  /* both optional */
	chat_frame_clear(&f);
	assert_int_equal(parse(" {\"last_seq\":42,\"type\":\"hello\",\"session\":\"" TOKEN "\",\"extra\":[1,2]}\r\n", &f),
			 CHAT_ERROR_NONE);
	assert_string_equal(f.session, TOKEN);
	assert_int_equal(f.last_seq, 42);
	assert_null(f.identity);
	chat_frame_clear(&f);
	assert_int_equal(parse("{\"type\":\"hello\",\"identity\":\"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJBIn0.c2ln-_\"}", &f),
			 CHAT_ERROR_NONE);
	assert_string_equal(f.identity, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJBIn0.c2ln-_");
	chat_frame_clear(&f);
	assert_int_equal(parse("{\"type\":\"transcript\",\"id\":\"t-1\"}", &f), CHAT_ERROR_NONE);
	assert_int_equal(f.type, CHAT_FRAME_TRANSCRIPT);
	assert_string_equal(f.id, "t-1");
	chat_frame_clear(&f);
	assert_int_equal(parse("{\"type\":\"message\",\"id\":\"c-1.a:b_Z\",\"text\":\"mot de passe \\u00e9gar\\u00e9 / \\\"x\\\"\"}", &f),
			 CHAT_ERROR_NONE);
	assert_int_equal(f.type, CHAT_FRAME_MESSAGE);
	assert_string_equal(f.id, "c-1.a:b_Z");
	assert_string_equal(f.text, "mot de passe égaré / \"x\"");
	chat_frame_clear(&f);
	assert_int_equal(parse("{\"type\":\"ack\",\"seq\":9007199254740991}", &f), CHAT_ERROR_NONE);
	assert_int_equal(f.seq, 9007199254740991LL);
	chat_frame_clear(&f);
	assert_int_equal(parse("{\"type\":\"end\"}", &f), CHAT_ERROR_NONE);
	assert_int_equal(f.type, CHAT_FRAME_END);
	chat_frame_clear(&f);
	/* A lone surrogate escape: json-c puts U+FFFD in its place, so the text stays UTF-8. */
	assert_int_equal(parse("{\"type\":\"message\",\"id\":\"s\",\"text\":\"a\\ud800b\"}", &f), CHAT_ERROR_NONE);
	assert_string_equal(f.text, "a\xef\xbf\xbd" "b");
	chat_frame_clear(&f);
	/* Exactly the limit is allowed. */
	char text[MAX_TEXT + 1];
	memset(text, 'a', MAX_TEXT);
	text[MAX_TEXT] = '\0';
	char *frame = xasprintf("{\"type\":\"message\",\"id\":\"x\",\"text\":\"%s\"}", text);
	assert_int_equal(parse(frame, &f), CHAT_ERROR_NONE);
	chat_frame_clear(&f);
	free(frame);
}

static const struct hostile {
	const char *frame;
	enum chat_frame_error error;
} hostile[] = {
	{ "", CHAT_ERROR_INVALID_JSON },
	{ "bonjour", CHAT_ERROR_INVALID_JSON },
	{ "{", CHAT_ERROR_INVALID_JSON },
	{ "{\"type\":\"hello\"", CHAT_ERROR_INVALID_JSON },
	{ "{'type':'hello'}", CHAT_ERROR_INVALID_JSON },
	{ "{\"type\":\"hello\",}", CHAT_ERROR_INVALID_JSON },
	{ "{\"type\":\"hello\"}{\"type\":\"end\"}", CHAT_ERROR_INVALID_JSON },
	{ "{\"type\":\"hello\"} x", CHAT_ERROR_INVALID_JSON },
	{ "[\"hello\"]", CHAT_ERROR_INVALID_JSON },
	{ "\"hello\"", CHAT_ERROR_INVALID_JSON },
	{ "42", CHAT_ERROR_INVALID_JSON },
	{ "null", CHAT_ERROR_INVALID_JSON },
	{ "{\"type\":\"hello\",\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", CHAT_ERROR_INVALID_JSON },
	{ "{\"type\":\"message\",\"id\":{\"a\":{\"b\":{\"c\":{}}}},\"text\":\"x\"}", CHAT_ERROR_INVALID_JSON },
	{ "{}", CHAT_ERROR_UNKNOWN_TYPE },
	{ "{\"type\":null}", CHAT_ERROR_UNKNOWN_TYPE },
	{ "{\"type\":1}", CHAT_ERROR_UNKNOWN_TYPE },
	{ "{\"type\":[\"hello\"]}", CHAT_ERROR_UNKNOWN_TYPE },
	{ "{\"type\":\"HELLO\"}", CHAT_ERROR_UNKNOWN_TYPE },
	{ "{\"type\":\"welcome\"}", CHAT_ERROR_UNKNOWN_TYPE },
	{ "{\"type\":\"hello\\u0000\"}", CHAT_ERROR_UNKNOWN_TYPE },
	{ "{\"type\":\"hello\",\"session\":\"short\"}", CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"hello\",\"session\":\"" TOKEN "x\"}", CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"hello\",\"session\":\"abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123-_/\"}", CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"hello\",\"session\":42}", CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"hello\",\"session\":{}}", CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"hello\",\"last_seq\":-1}", CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"hello\",\"last_seq\":1.5}", CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"hello\",\"last_seq\":\"3\"}", CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"hello\",\"last_seq\":true}", CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"hello\",\"last_seq\":99999999999999999999999}", CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"hello\",\"last_seq\":9007199254740992}", CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"message\",\"text\":\"bonjour\"}", CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"message\",\"id\":\"a\"}", CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"message\",\"id\":\"\",\"text\":\"bonjour\"}", CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"message\",\"id\":7,\"text\":\"bonjour\"}", CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"message\",\"id\":\"a b\",\"text\":\"bonjour\"}", CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"message\",\"id\":\"a\\u0000b\",\"text\":\"bonjour\"}", CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"message\",\"id\":\"\\u00e9\",\"text\":\"bonjour\"}", CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"message\",\"id\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"text\":\"x\"}",
	  CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"message\",\"id\":\"a\",\"text\":42}", CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"message\",\"id\":\"a\",\"text\":[\"x\"]}", CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"message\",\"id\":\"a\",\"text\":null}", CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"message\",\"id\":\"a\",\"text\":\"\"}", CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"message\",\"id\":\"a\",\"text\":\" \\n\\t \"}", CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"message\",\"id\":\"a\",\"text\":\"a\\u0000b\"}", CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"message\",\"id\":\"a\",\"text\":\"\xff\xfe\"}", CHAT_ERROR_INVALID_JSON },
	{ "{\"type\":\"message\",\"id\":\"a\",\"text\":\"\xc3\"}", CHAT_ERROR_INVALID_JSON },
	{ "{\"type\":\"hello\",\"identity\":\"\"}", CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"hello\",\"identity\":\"a.b c\"}", CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"hello\",\"identity\":\"a.b+c/d=\"}", CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"hello\",\"identity\":42}", CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"transcript\"}", CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"transcript\",\"id\":\"a b\"}", CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"ack\"}", CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"ack\",\"seq\":\"1\"}", CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"ack\",\"seq\":-3}", CHAT_ERROR_INVALID_FIELD },
	{ "{\"type\":\"ack\",\"seq\":null}", CHAT_ERROR_INVALID_FIELD },
};

static void
test_hostile_frames_are_refused(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(hostile) / sizeof(*hostile); i++) {
		struct chat_frame f;
		enum chat_frame_error e = parse(hostile[i].frame, &f);
		if (e != hostile[i].error)
			fail_msg("case %zu: %s: got %s, expected %s", i, hostile[i].frame, chat_frame_error_code(e),
				 chat_frame_error_code(hostile[i].error));
		/* A refused frame leaves nothing to free. */
		assert_null(f.session);
		assert_null(f.id);
		assert_null(f.text);
	}
}

static void
test_a_text_over_the_limit_is_too_long(void **state)
{
	(void)state;
	char text[MAX_TEXT + 2];
	memset(text, 'a', MAX_TEXT + 1);
	text[MAX_TEXT + 1] = '\0';
	char *frame = xasprintf("{\"type\":\"message\",\"id\":\"x\",\"text\":\"%s\"}", text);
	struct chat_frame f;
	assert_int_equal(parse(frame, &f), CHAT_ERROR_TOO_LONG);
	free(frame);
	/* The limit counts bytes: 51 "é" are 102 of them. */
	struct strbuf sb = {0};
	strbuf_adds(&sb, "{\"type\":\"message\",\"id\":\"x\",\"text\":\"");
	for (int i = 0; i < 51; i++)
		strbuf_adds(&sb, "é");
	strbuf_adds(&sb, "\"}");
	assert_int_equal(chat_frame_parse(sb.data, sb.len, MAX_TEXT, &f), CHAT_ERROR_TOO_LONG);
	strbuf_free(&sb);
	/* Not NUL-terminated: only len bytes are read. */
	const char *two = "{\"type\":\"end\"}{\"type\":\"end\"}";
	assert_int_equal(chat_frame_parse(two, 14, MAX_TEXT, &f), CHAT_ERROR_NONE);
	chat_frame_clear(&f);
}

static void
test_error_codes(void **state)
{
	(void)state;
	assert_string_equal(chat_frame_error_code(CHAT_ERROR_INVALID_JSON), "invalid_json");
	assert_string_equal(chat_frame_error_code(CHAT_ERROR_UNKNOWN_TYPE), "unknown_type");
	assert_string_equal(chat_frame_error_code(CHAT_ERROR_INVALID_FIELD), "invalid_field");
	assert_string_equal(chat_frame_error_code(CHAT_ERROR_TOO_LONG), "too_long");
	assert_string_equal(chat_frame_error_code(CHAT_ERROR_NONE), "");
}

/* The server's frame text, parsed back. */
static json_object *
reread(char *text)
{
	json_object *obj = json_tokener_parse(text);
	assert_non_null(obj);
	free(text);
	return obj;
}

static const char *
field(json_object *obj, const char *name)
{
	json_object *v;
	assert_true(json_object_object_get_ex(obj, name, &v));
	return json_object_get_string(v);
}

static void
test_server_frames(void **state)
{
	(void)state;
	json_object *o = reread(chat_welcome_json(TOKEN, 1, 12, true));
	assert_string_equal(field(o, "type"), "welcome");
	assert_string_equal(field(o, "session"), TOKEN);
	assert_string_equal(field(o, "resumed"), "true");
	assert_string_equal(field(o, "last_seq"), "12");
	assert_string_equal(field(o, "identified"), "true");
	json_object_put(o);
	o = reread(chat_ack_json("c-1"));
	assert_string_equal(field(o, "type"), "ack");
	assert_string_equal(field(o, "id"), "c-1");
	json_object_put(o);
	struct chat_event ev = { .seq = 3, .kind = "message", .from = "bot", .text = "Voici « le lien » : https://x/y\n\"ok\"" };
	char *text = chat_event_json(&ev);
	assert_non_null(strstr(text, "https://x/y"));  /* no "\/" for the widget to undo */
	o = reread(text);
	assert_string_equal(field(o, "type"), "event");
	assert_string_equal(field(o, "seq"), "3");
	assert_string_equal(field(o, "kind"), "message");
	assert_string_equal(field(o, "from"), "bot");
	assert_string_equal(field(o, "text"), ev.text);
	json_object *qr;
	assert_true(json_object_object_get_ex(o, "quick_replies", &qr));
	assert_true(json_object_is_type(qr, json_type_array));
	assert_int_equal(json_object_array_length(qr), 0);
	json_object_put(o);
	/* Quick replies: one button per line, an empty line skipped, quotes kept. */
	ev.quick_replies = "Une entreprise\n\nUn \"organisme\" de formation";
	o = reread(chat_event_json(&ev));
	assert_true(json_object_object_get_ex(o, "quick_replies", &qr));
	assert_int_equal(json_object_array_length(qr), 2);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(qr, 0)), "Une entreprise");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(qr, 1)), "Un \"organisme\" de formation");
	json_object_put(o);
	struct chat_event handoff = { .seq = 4, .kind = "handoff", .state = "queue" };
	o = reread(chat_event_json(&handoff));
	assert_string_equal(field(o, "kind"), "handoff");
	assert_string_equal(field(o, "state"), "queue");
	assert_false(json_object_object_get_ex(o, "text", NULL));
	json_object_put(o);
	o = reread(chat_error_json("invalid_json", "Votre message n’a pas pu être lu."));
	assert_string_equal(field(o, "type"), "error");
	assert_string_equal(field(o, "code"), "invalid_json");
	assert_string_equal(field(o, "message"), "Votre message n’a pas pu être lu.");
	json_object_put(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_frames),
		cmocka_unit_test(test_hostile_frames_are_refused),
		cmocka_unit_test(test_a_text_over_the_limit_is_too_long),
		cmocka_unit_test(test_error_codes),
		cmocka_unit_test(test_server_frames),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
