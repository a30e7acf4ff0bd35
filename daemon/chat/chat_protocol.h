/* chat_protocol — the website chat's WebSocket protocol "dialogd.chat.v1" (RFC 6455 text
 * frames, one JSON object each, RFC 8259): a client frame's text → a typed frame, and the
 * server's frames → JSON text. Pure (json-c, no I/O, no state): any thread may call it.
 * The protocol is described in README ("Chat protocol"); chat_ws.c runs it. */
#ifndef DIALOGD_CHAT_PROTOCOL_H
#define DIALOGD_CHAT_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chat/chat_identity.h"

#define CHAT_PROTOCOL_NAME "dialogd.chat.v1"
/* A session token: 32 random bytes, URL-safe base64 without padding. */
#define CHAT_TOKEN_LEN 43
/* A client id: 1 to 64 characters of [A-Za-z0-9._:-] (a UUID fits). */
#define CHAT_CLIENT_ID_MAX 64
/* How deep a frame's JSON may nest: the protocol needs 1; junk is refused early. */
#define CHAT_JSON_DEPTH 4

enum chat_frame_type {
	CHAT_FRAME_HELLO,       /* session (NULL: none), last_seq, identity (NULL: none) */
	CHAT_FRAME_MESSAGE,     /* id, text */
	CHAT_FRAME_TRANSCRIPT,  /* id: « Recevoir cette conversation par mail » */
	CHAT_FRAME_ACK,         /* seq */
	CHAT_FRAME_END,
};

/* Why a frame is refused: the error code sent back ("invalid_json"...). */
enum chat_frame_error {
	CHAT_ERROR_NONE,
	CHAT_ERROR_INVALID_JSON,        /* not one JSON object (or nested too deep) */
	CHAT_ERROR_UNKNOWN_TYPE,        /* "type" missing, not a string, or unknown */
	CHAT_ERROR_INVALID_FIELD,       /* a field missing, of the wrong type or shape */
	CHAT_ERROR_TOO_LONG,            /* a message's text over the limit */
};
/* The code as the client reads it ("invalid_json", "unknown_type", "invalid_field",
 * "too_long"); "" for CHAT_ERROR_NONE. */
const char *chat_frame_error_code(enum chat_frame_error error);

struct chat_frame {
	enum chat_frame_type type;
	char *session;          /* hello: a token's shape (CHAT_TOKEN_LEN URL-safe characters), or NULL */
	int64_t last_seq;       /* hello: the last event the client has (0: none) */
	char *identity;         /* hello: a signed identity token's text (JWT characters), or NULL */
	char *id;               /* message, transcript: the client id */
	char *text;             /* message: valid UTF-8, no NUL, 1 to max_text bytes, not blank */
	int64_t seq;            /* ack */
};
/* Frees what frame holds and zeroes it. */
void chat_frame_clear(struct chat_frame *frame);

/* Reads one client frame (len bytes, not NUL-terminated). Fields the protocol does not
 * name are ignored (a newer widget may send more). Returns CHAT_ERROR_NONE and fills
 * *frame_r (clear it), or the reason with *frame_r empty. */
enum chat_frame_error chat_frame_parse(const char *text, size_t len, size_t max_text, struct chat_frame *frame_r);

/* A server event: a message ("bot", "person", "visitor" in from, its text), a change of
 * who answers ("handoff" to the correspondants' queue, "state": "bot", "person",
 * "ended"), or "typing". */
struct chat_event {
	int64_t seq;
	const char *kind;       /* "message", "handoff", "state", "typing" */
	const char *from;       /* message */
	const char *text;       /* message */
	const char *state;      /* handoff, state */
	const char *quick_replies; /* message: the buttons' labels, one per line, or NULL */
};

/* The server's frames, as JSON text (caller frees). */
char *chat_welcome_json(const char *session, int resumed, int64_t last_seq, bool identified);
char *chat_ack_json(const char *client_id);
char *chat_event_json(const struct chat_event *event);
/* message: the visitor's sentence (French, vouvoiement) from templates/. */
char *chat_error_json(const char *code, const char *message);

#endif
