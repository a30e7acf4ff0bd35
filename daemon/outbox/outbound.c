/* outbound — see outbound.h. */
#include "autoconf.h"
#include "outbox/outbound.h"
#include "formats/mail_compose.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int
outbound_queue(const struct sender_identity *s, struct store *st, const struct outbound *o)
{
	char *message_id = mail_new_message_id(s->domain);
	struct outgoing_mail out = {
		.from_name = s->name, .from_address = s->address, .to_name = o->to_name, .to_address = o->to,
		.subject = o->subject, .message_id = message_id, .in_reply_to = o->in_reply_to,
		.references = o->references, .reference_count = o->reference_count, .body = o->body, .date = time(NULL),
		/* RFC 3834: what the assistant writes is automatic; a correspondant's answer is not. */
		.auto_replied = o->kind != OUTBOX_NOTIFY && o->kind != OUTBOX_PERSON,
		.auto_generated = o->kind == OUTBOX_NOTIFY,
	};
	char *raw = mail_compose(&out);
	if (raw == NULL) {
		/* Addresses are checked before (requester, configuration, directory): nothing to send to. */
		free(message_id);
		return 0;
	}
	struct message_row row = {
		.thread_id = o->thread_id, .direction = "out", .message_id = message_id,
		.sender = o->author ? o->author : s->address,
		.recipient = o->to, .subject = o->subject, .body = o->history_body ? o->history_body : o->body,
		.decision = outbox_kind_name(o->kind),
	};
	int rc = (!o->no_history && store_message_add(st, &row) < 0) ||
			 store_outbox_add_at(st, o->thread_id, o->kind, message_id, s->address, o->to, raw, o->not_before) < 0
		 ? -1 : 1;
	/* The raw text of a secret mail is in the outbox until sent; no other copy stays in memory. */
	if (o->kind == OUTBOX_SECRET)
		explicit_bzero(raw, strlen(raw));
	free(raw);
	free(message_id);
	return rc;
}
