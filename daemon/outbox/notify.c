/* notify — see notify.h. */
#include "autoconf.h"
#include "outbox/notify.h"
#include "engine/engine.h"
#include "core/limit_window.h"
#include "outbox/outbound.h"
#include "store/store.h"
#include "engine/template.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A thread's content in a notification: enough for a correspondant to decide, not a dump. */
#define NOTIFY_MESSAGE_MAX 8000
#define NOTIFY_MESSAGES_MAX 20

struct messages_text {
	const struct engine *e;
	struct strbuf sb;
	int64_t skip;           /* the oldest messages left out: the latest ones matter */
};

static int
add_message_text(const struct message_row *m, int64_t at, void *user)
{
	struct messages_text *t = user;
	/* A correspondant's internal note (conversation_note) never leaves dialogd, not even
	 * to the correspondants' mailbox. */
	if (strcmp(m->direction, "note") == 0)
		return 0;
	if (t->skip > 0) {
		t->skip--;
		return 0;
	}
	char stamp[32];
	time_t when = (time_t)at;
	struct tm tm;
	strftime(stamp, sizeof(stamp), "%d/%m/%Y %H:%M", localtime_r(&when, &tm));
	bool in = strcmp(m->direction, "in") == 0;
	struct template_var vars[] = {
		{ "at", stamp, false }, { "sender", m->sender ? m->sender : "?", false },
		{ "recipient", m->recipient ? m->recipient : "?", false },
	};
	char *heading = template_render(t->e->templates, in ? "notify_message_in" : "notify_message_out", OUTPUT_TEXT,
					vars, 3);
	strbuf_addf(&t->sb, "%s\n", heading);
	free(heading);
	const char *body = m->body ? m->body : "";
	size_t n = strlen(body);
	if (n > NOTIFY_MESSAGE_MAX) {
		/* Cut on a UTF-8 boundary. */
		n = NOTIFY_MESSAGE_MAX;
		while (n > 0 && ((unsigned char)body[n] & 0xC0) == 0x80)
			n--;
	}
	strbuf_add(&t->sb, body, n);
	strbuf_adds(&t->sb, n < strlen(body) ? "\n[…]\n\n" : "\n\n");
	return 0;
}

/* Whether the correspondants got notify_limit notifications in the last hour already:
 * then a new one waits for the digest (a flood from rotating addresses makes one mail
 * every digest_interval, not one per message). */
static int
notices_over_rate(const struct notify_settings *s, struct store *st)
{
	if (s->notify_limit == 0)
		return 0;
	int64_t n = store_outbox_kind_since(st, OUTBOX_NOTIFY, limit_window_start((int64_t)time(NULL)));
	return n < 0 ? -1 : n >= (int64_t)s->notify_limit;
}

int
notify_correspondants(const struct notify_settings *s, struct store *st, const struct engine *e, int64_t thread_id,
			   const char *reason, unsigned max_messages)
{
	if (s->correspondants == NULL || *s->correspondants == '\0')
		return 0;
	int over = notices_over_rate(s, st);
	if (over != 0)
		return over < 0 ? -1 : store_notice_defer(st, thread_id, reason, (int64_t)time(NULL));
	struct thread_row t = {0};
	int found = store_thread_get(st, thread_id, &t);
	if (found <= 0)
		return found;  /* a thread purged meanwhile: nothing to tell */
	if (max_messages == 0 || max_messages > NOTIFY_MESSAGES_MAX)
		max_messages = NOTIFY_MESSAGES_MAX;
	struct messages_text text = { .e = e, .skip = t.messages > max_messages ? t.messages - max_messages : 0 };
	if (text.skip > 0) {
		char *count = xasprintf("%lld", (long long)text.skip);
		struct template_var var = { "count", count, false };
		char *older = template_render(e->templates, "notify_messages_older", OUTPUT_TEXT, &var, 1);
		strbuf_addf(&text.sb, "%s\n\n", older);
		free(older);
		free(count);
	}
	if (store_messages_each(st, thread_id, add_message_text, &text) < 0) {
		strbuf_free(&text.sb);
		thread_row_clear(&t);
		return -1;
	}
	char *thread = xasprintf("%lld", (long long)thread_id);
	char *link = xasprintf("%s%lld", s->console_url ? s->console_url : "", (long long)thread_id);
	char *messages = strbuf_detach(&text.sb);
	struct template_var vars[] = {
		{ "thread", thread, false }, { "link", link, false },
		{ "requester", *t.requester ? t.requester : "?", false }, { "subject", t.subject, false },
		{ "reason", reason, false }, { "intent", t.intent ? t.intent : "unknown", false },
		{ "messages", messages, false },
	};
	char *body = template_render(e->templates, "mail_notify", OUTPUT_TEXT, vars, 7);
	char *subject = template_render(e->templates, "mail_notify_subject", OUTPUT_TEXT, vars, 7);
	str_trim(subject);
	struct outbound o = {
		.thread_id = thread_id, .kind = OUTBOX_NOTIFY, .to = s->correspondants, .subject = subject, .body = body,
	};
	int rc = outbound_queue(&s->sender, st, &o);
	free(subject);
	free(body);
	free(messages);
	free(link);
	free(thread);
	thread_row_clear(&t);
	return rc;
}

struct digest_text {
	const struct notify_settings *s;
	const struct engine *e;
	struct strbuf sb;
	int64_t last_id;
	unsigned count;
};

static int
add_digest_line(const struct deferred_notice *n, void *user)
{
	struct digest_text *d = user;
	char *thread = xasprintf("%lld", (long long)n->thread_id);
	char *link = xasprintf("%s%lld", d->s->console_url ? d->s->console_url : "", (long long)n->thread_id);
	char stamp[32];
	time_t when = (time_t)n->at;
	struct tm tm;
	strftime(stamp, sizeof(stamp), "%d/%m/%Y %H:%M", localtime_r(&when, &tm));
	struct template_var vars[] = {
		{ "thread", thread, false }, { "link", link, false }, { "at", stamp, false },
		{ "requester", *n->requester ? n->requester : "?", false }, { "subject", n->subject, false },
		{ "reason", n->reason, false },
	};
	char *line = template_render(d->e->templates, "mail_digest_line", OUTPUT_TEXT, vars, 6);
	strbuf_adds(&d->sb, line);
	free(line);
	free(link);
	free(thread);
	d->last_id = n->id;
	d->count++;
	return 0;
}

int
notify_digest(const struct notify_settings *s, struct store *st, const struct engine *e, int64_t now)
{
	int64_t oldest = store_notices_deferred_oldest(st);
	int64_t last = oldest > 0 ? store_last_digest(st) : 0;
	if (oldest <= 0 || last < 0)
		return oldest < 0 || last < 0 ? -1 : 0;
	if (last > now - (int64_t)s->digest_interval)
		return 0;
	struct digest_text d = { .s = s, .e = e };
	if (store_notices_deferred_each(st, add_digest_line, &d) < 0) {
		strbuf_free(&d.sb);
		return -1;
	}
	char *count = xasprintf("%u", d.count);
	char *lines = strbuf_detach(&d.sb);
	struct template_var vars[] = { { "count", count, false }, { "threads", lines, false } };
	char *body = template_render(e->templates, "mail_digest", OUTPUT_TEXT, vars, 2);
	char *subject = template_render(e->templates, "mail_digest_subject", OUTPUT_TEXT, vars, 2);
	str_trim(subject);
	/* A digest is about no single thread (thread 0): nothing of it goes to a thread's
	 * history. */
	struct outbound o = { .kind = OUTBOX_NOTIFY, .to = s->correspondants, .subject = subject, .body = body,
			      .no_history = true };
	int rc = outbound_queue(&s->sender, st, &o);
	if (rc >= 0 && store_notices_deferred_clear(st, d.last_id) < 0)
		rc = -1;
	free(subject);
	free(body);
	free(lines);
	free(count);
	return rc;
}
