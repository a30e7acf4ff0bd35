/* Fuzz target: any bytes as a client frame of the website chat's WebSocket
 * (chat_frame_parse, then the server's frames built from what it read). Nothing may
 * crash, leak or read out of bounds; an accepted frame's fields keep their contract
 * (a message's text is valid UTF-8 within the limit, its id of the allowed shape).
 * Build: ./configure --enable-fuzzers CC=clang CFLAGS=-fsanitize=fuzzer-no-link,address,undefined
 *        && make tests/fuzz/fuzz_chat_frame
 * Run:   tests/fuzz/fuzz_chat_frame -max_total_time=60 */
#include "autoconf.h"
#include "chat/chat_protocol.h"
#include "core/text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TEXT 2000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chat_frame f;
	if (chat_frame_parse((const char *)data, size, MAX_TEXT, &f) != CHAT_ERROR_NONE) {
		if (f.id != NULL || f.text != NULL || f.session != NULL)
			abort();  /* a refused frame holds nothing */
		return 0;
	}
	if (f.type == CHAT_FRAME_MESSAGE) {
		char *err = NULL;
		size_t n = strlen(f.text);
		if (n == 0 || n > MAX_TEXT || text_validate(f.text, n, &err) < 0 || strlen(f.id) == 0 ||
		    strlen(f.id) > CHAT_CLIENT_ID_MAX)
			abort();
		free(chat_ack_json(f.id));
		struct chat_event ev = { .seq = 1, .kind = "message", .from = "visitor", .text = f.text };
		free(chat_event_json(&ev));
	}
	if (f.type == CHAT_FRAME_HELLO && f.session != NULL) {
		if (strlen(f.session) != CHAT_TOKEN_LEN)
			abort();
		free(chat_welcome_json(f.session, 1, f.last_seq, f.identity != NULL));
	}
	chat_frame_clear(&f);
	return 0;
}
