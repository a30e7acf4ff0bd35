/* ctl_store — the dialogctl commands that show what happened, read from the store the
 * daemon writes (same configuration file): threads, thread, outbox, status. */
#include "autoconf.h"
#include "ctl_store.h"
#include "store/audit.h"
#include "store/store.h"
#include "core/util.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *
stamp(int64_t at, char *buf, size_t size)
{
	if (at == 0)
		return "-";
	time_t t = (time_t)at;
	struct tm tm;
	strftime(buf, size, "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
	return buf;
}

/* Text from mail, made safe for a terminal: control characters (escape sequences
 * included, C1 too) become "?"; line breaks and tabs stay. Caller frees. */
static char *
terminal_safe(const char *s)
{
	if (s == NULL)
		return xstrdup("");
	struct strbuf sb = {0};
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) {  /* U+0080..U+009F */
			strbuf_addc(&sb, '?');
			p++;
		} else if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7F) {
			strbuf_addc(&sb, '?');
		} else {
			strbuf_addc(&sb, (char)*p);
		}
	}
	return strbuf_detach(&sb);
}

static json_object *
json_str(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static int
print_thread_json(const struct thread_row *t, void *user)
{
	(void)user;
	json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(t->id));
	json_object_object_add(o, "channel", json_str(t->channel));
	json_object_object_add(o, "requester", json_str(t->requester));
	json_object_object_add(o, "subject", json_str(t->subject));
	json_object_object_add(o, "state", json_object_new_string(thread_state_name(t->state)));
	json_object_object_add(o, "intent", json_str(t->intent));
	json_object_object_add(o, "reason", json_str(t->reason));
	json_object_object_add(o, "messages", json_object_new_int64(t->messages));
	json_object_object_add(o, "created", json_object_new_int64(t->created));
	json_object_object_add(o, "updated", json_object_new_int64(t->updated));
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return 0;
}

static int
print_thread_line(const struct thread_row *t, void *user)
{
	(void)user;
	char buf[32];
	char *requester = terminal_safe(t->requester), *subject = terminal_safe(t->subject);
	char *reason = t->reason ? terminal_safe(t->reason) : NULL;
	printf("#%-6lld %-19s %-9s %-4s %-28s %3lld  %s — %s%s%s%s\n", (long long)t->id, stamp(t->updated, buf, sizeof(buf)),
	       thread_state_name(t->state), t->channel, t->intent ? t->intent : "-", (long long)t->messages, requester,
	       subject, reason ? " [" : "", reason ? reason : "", reason ? "]" : "");
	free(requester);
	free(subject);
	free(reason);
	return 0;
}

static struct store *
open_store(const char *path)
{
	if (access(path, F_OK) != 0) {
		fprintf(stderr, "dialogctl: no store at %s: has dialogd run with this configuration ([store] path)?\n", path);
		return NULL;
	}
	char *err = NULL;
	struct store *st = store_open(path, &err);
	if (st == NULL) {
		fprintf(stderr, "dialogctl: %s\n", err);
		free(err);
	} else if (store_schema_upgraded_from(st) > 0) {
		/* Said here as dialogd logs it: whoever opens an older store first upgrades it. */
		fprintf(stderr, "dialogctl: %s: schema upgraded from version %d to %d\n", path,
			store_schema_upgraded_from(st), STORE_SCHEMA_VERSION);
	}
	return st;
}

int
ctl_threads(const char *store_path, int argc, char **argv)
{
	bool json = false;
	const char *state = NULL;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--state") == 0 && i + 1 < argc) {
			state = argv[++i];
			if (thread_state_from_name(state) < 0) {
				fprintf(stderr, "dialogctl threads: unknown state \"%s\" (answered, escalated, ignored, open)\n",
					state);
				return 2;
			}
		} else {
			fprintf(stderr, "dialogctl threads: unexpected \"%s\" (usage: threads [--json] [--state STATE])\n",
				argv[i]);
			return 2;
		}
	}
	struct store *st = open_store(store_path);
	if (st == NULL)
		return 1;
	if (!json)
		printf("%-7s %-19s %-9s %-4s %-28s %3s  %s\n", "thread", "last activity", "state", "via", "intent", "msg",
		       "requester — subject [reason]");
	int rc = store_threads_each(st, state, json ? print_thread_json : print_thread_line, NULL);
	if (rc < 0)
		fprintf(stderr, "dialogctl: %s\n", store_error(st));
	store_close(&st);
	return rc < 0 ? 1 : 0;
}

static int
print_message(const struct message_row *m, int64_t at, void *user)
{
	(void)user;
	char buf[32];
	bool in = strcmp(m->direction, "in") == 0;
	char *who = terminal_safe(in ? m->sender : m->recipient);
	char *subject = terminal_safe(m->subject), *note = m->note ? terminal_safe(m->note) : NULL;
	char *body = terminal_safe(m->body);
	printf("\n----- %s %s %s %s", stamp(at, buf, sizeof(buf)), in ? "from" : "to", *who ? who : "?",
	       m->decision ? m->decision : "");
	if (in && m->intent)
		printf(" (intent %s, confidence %.2f)", m->intent, m->confidence);
	printf("\nSubject: %s\n", subject);
	if (note)
		printf("Note: %s\n", note);
	printf("\n%s\n", body);
	free(who);
	free(subject);
	free(note);
	free(body);
	return 0;
}

int
ctl_thread(const char *store_path, int argc, char **argv)
{
	char *end = NULL;
	long long id = argc == 1 ? strtoll(argv[0], &end, 10) : 0;
	if (argc != 1 || end == argv[0] || *end != '\0' || id <= 0) {
		fputs("dialogctl thread: usage: thread ID (a number from dialogctl threads)\n", stderr);
		return 2;
	}
	struct store *st = open_store(store_path);
	if (st == NULL)
		return 1;
	struct thread_row t = {0};
	int found = store_thread_get(st, id, &t);
	int rc = 0;
	if (found == 0) {
		fprintf(stderr, "dialogctl thread: no thread #%lld\n", id);
		rc = 1;
	} else if (found > 0) {
		char a[32], b[32];
		char *requester = terminal_safe(t.requester), *subject = terminal_safe(t.subject);
		char *reason = t.reason ? terminal_safe(t.reason) : NULL;
		printf("Thread #%lld (%s) — %s\nRequester: %s\nSubject: %s\nIntent: %s\nOpened: %s, last activity: %s\n",
		       id, t.channel, thread_state_name(t.state), requester, subject, t.intent ? t.intent : "-",
		       stamp(t.created, a, sizeof(a)), stamp(t.updated, b, sizeof(b)));
		if (reason)
			printf("Reason: %s\n", reason);
		free(requester);
		free(subject);
		free(reason);
		rc = store_messages_each(st, id, print_message, NULL) < 0 ? -1 : 0;
	}
	if (found < 0 || rc < 0) {
		fprintf(stderr, "dialogctl: %s\n", store_error(st));
		rc = 1;
	}
	thread_row_clear(&t);
	store_close(&st);
	return rc;
}

static int
print_outbox(const struct outbox_row *o, void *user)
{
	(void)user;
	char a[32], b[32];
	bool sent = o->state == OUTBOX_SENT;
	printf("#%-6lld %-7s %-6s thread #%-5lld %-30s created %s, %s %s, %d attempt(s)%s%s\n", (long long)o->id,
	       outbox_state_name(o->state), outbox_kind_name(o->kind), (long long)o->thread_id, o->recipient,
	       stamp(o->created, a, sizeof(a)), sent ? "sent" : "next try",
	       stamp(sent ? o->sent_at : o->next_attempt, b, sizeof(b)),
	       o->attempts, o->last_error ? "; last error: " : "", o->last_error ? o->last_error : "");
	return 0;
}

int
ctl_outbox(const char *store_path, int argc, char **argv)
{
	enum outbox_state wanted;
	const enum outbox_state *state = NULL;
	if (argc == 2 && strcmp(argv[0], "--state") == 0) {
		int named = outbox_state_from_name(argv[1]);
		if (named < 0) {
			fprintf(stderr, "dialogctl outbox: no state \"%s\" (pending, sent or failed)\n", argv[1]);
			return 2;
		}
		wanted = (enum outbox_state)named;
		state = &wanted;
	} else if (argc != 0) {
		fputs("dialogctl outbox: usage: outbox [--state pending|sent|failed]\n", stderr);
		return 2;
	}
	struct store *st = open_store(store_path);
	if (st == NULL)
		return 1;
	int rc = store_outbox_each(st, state, print_outbox, NULL);
	if (rc < 0)
		fprintf(stderr, "dialogctl: %s\n", store_error(st));
	store_close(&st);
	return rc < 0 ? 1 : 0;
}

static int
print_component(const char *component, const char *state, const char *detail, int64_t since, int64_t updated,
		void *user)
{
	(void)user;
	char a[32], b[32];
	printf("%-6s %-12s since %s (checked %s)%s%s\n", component, state, stamp(since, a, sizeof(a)),
	       stamp(updated, b, sizeof(b)), detail ? ": " : "", detail ? detail : "");
	return 0;
}

static int
print_count(const char *state, int64_t count, void *user)
{
	(void)user;
	printf("  %-10s %lld\n", state, (long long)count);
	return 0;
}

int
ctl_status(const char *store_path)
{
	struct store *st = open_store(store_path);
	if (st == NULL)
		return 1;
	int version = store_schema_version(st);
	printf("Store: %s, schema version %d\n\nComponents:\n", store_path, version);
	int rc = version < 0 ? -1 : store_status_each(st, print_component, NULL);
	puts("\nThreads:");
	if (rc == 0)
		rc = store_thread_counts(st, print_count, NULL);
	if (rc == 0) {
		int64_t pending = store_outbox_count(st, OUTBOX_PENDING), failed = store_outbox_count(st, OUTBOX_FAILED),
			sent = store_outbox_count(st, OUTBOX_SENT);
		printf("\nOutbox: %lld pending, %lld sent, %lld failed\n", (long long)pending, (long long)sent,
		       (long long)failed);
		rc = pending < 0 || failed < 0 || sent < 0 ? -1 : 0;
	}
	if (rc < 0)
		fprintf(stderr, "dialogctl: %s\n", store_error(st));
	store_close(&st);
	return rc < 0 ? 1 : 0;
}

static int
print_audit(const struct audit_row *a, void *user)
{
	bool json = *(bool *)user;
	if (json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "at", json_object_new_int64(a->at));
		json_object_object_add(o, "channel", json_str(a->channel));
		json_object_object_add(o, "requester", json_str(a->requester));
		json_object_object_add(o, "action", json_str(a->action));
		json_object_object_add(o, "subject", json_str(a->subject));
		json_object_object_add(o, "outcome", json_str(audit_text(a->outcome)));
		json_object_object_add(o, "outcome_code", json_str(a->outcome));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		return 0;
	}
	char buf[32];
	char *requester = terminal_safe(a->requester), *subject = terminal_safe(a->subject);
	printf("%-19s %-4s %-20s %-32s %-24s %s\n", stamp(a->at, buf, sizeof(buf)), a->channel, a->action, requester,
	       *subject ? subject : "-", audit_text(a->outcome));
	free(requester);
	free(subject);
	return 0;
}

int
ctl_audit(const char *store_path, int argc, char **argv)
{
	bool json = argc == 1 && strcmp(argv[0], "--json") == 0;
	if (argc > 1 || (argc == 1 && !json)) {
		fputs("dialogctl audit: usage: audit [--json]\n", stderr);
		return 2;
	}
	struct store *st = open_store(store_path);
	if (st == NULL)
		return 1;
	if (!json)
		printf("%-19s %-4s %-20s %-32s %-24s %s\n", "when", "via", "action", "requester", "account or dossier",
		       "outcome");
	int rc = store_audit_each(st, print_audit, &json);
	if (rc < 0)
		fprintf(stderr, "dialogctl: %s\n", store_error(st));
	store_close(&st);
	return rc < 0 ? 1 : 0;
}

int
ctl_purge(const char *store_path, unsigned long default_days, int argc, char **argv)
{
	char *end = NULL, none[] = "";
	long days = argc == 0 ? (long)default_days : -1;
	if (argc == 0)
		end = none;
	else if (argc == 2 && strcmp(argv[0], "--older-than") == 0)
		days = strtol(argv[1], &end, 10);
	if (days < 1 || days > 36500 || end == NULL || *end != '\0') {
		fputs("dialogctl purge: usage: purge [--older-than DAYS] (1 or more; default: [store] retention_days)\n",
		      stderr);
		return 2;
	}
	struct store *st = open_store(store_path);
	if (st == NULL)
		return 1;
	struct purge_counts c;
	int rc = store_purge(st, (int64_t)time(NULL) - (int64_t)days * 86400, &c);
	if (rc < 0)
		fprintf(stderr, "dialogctl purge: nothing removed: %s\n", store_error(st));
	else
		printf("removed %lld thread(s), %lld message(s), %lld outbox entr%s, %lld audit row(s) older than %ld day(s)\n",
		       (long long)c.threads, (long long)c.messages, (long long)c.outbox, c.outbox == 1 ? "y" : "ies",
		       (long long)c.audit, days);
	store_close(&st);
	return rc < 0 ? 1 : 0;
}
