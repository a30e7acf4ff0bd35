/* imap_reader — see imap_reader.h: the thread, its search, fetch, finish and wait; the
 * session itself (connect, TLS, login, select) is imap_session.c's, through
 * imap_reader_internal.h. libetpan facts this relies on are in
 * ../shared/notes/libraries.md (connect returns 2; capabilities after LOGIN; UID n:*
 * returns the highest UID even below n; buffered EXISTS during IDLE). */
#include "autoconf.h"
#include "mail/imap_reader_internal.h"
#include "conversation/deferred.h"
#include "directory/directory.h"
#include "engine/engine.h"
#include "engine/intent.h"
#include "core/log.h"
#include "formats/mail_compose.h"
#include "mail/smtp_sender.h"
#include "store/store.h"
#include "engine/template.h"
#include "core/util.h"

#include <libetpan/libetpan.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Processed messages are flagged and moved this many at a time. */
#define FINISH_BATCH 50
/* Re-IDLE at least this often: servers drop idle connections after 30 minutes. */
#define IDLE_RENEW 600

/* Outcome of a step: go on, the connection is gone (reconnect), the store failed or the
 * server refused a command (wait and retry without dropping the connection). */
enum step { STEP_OK, STEP_CONNECTION, STEP_STORE, STEP_REFUSED };

/* A UID the server keeps refusing to deliver is escalated unread, but only after this
 * many tries spread over at least REFUSED_SPAN seconds: a server-wide hiccup (storage
 * briefly away) must not turn every new mail into an unread escalation. */
#define FETCH_TRIES 3
#define REFUSED_SPAN 3600

/* The link itself is gone (as opposed to a NO answer to one command); when it is, the
 * reason is kept for the log. */
static bool
link_lost(struct imap_reader *r, int rc)
{
	/* FATAL: the server said BYE; PROTOCOL: a BAD, or the reply did not fit the command. */
	bool lost = rc == MAILIMAP_ERROR_STREAM || rc == MAILIMAP_ERROR_PARSE || rc == MAILIMAP_ERROR_FATAL ||
		    rc == MAILIMAP_ERROR_PROTOCOL || r->imap->imap_stream == NULL;
	if (lost) {
		free(r->lost_why);
		r->lost_why = imap_session_error(r, rc);
	}
	return lost;
}

static bool
stopping(struct imap_reader *r)
{
	pthread_mutex_lock(&r->lock);
	bool stop = r->stopping;
	pthread_mutex_unlock(&r->lock);
	return stop;
}

/* Sleeps up to seconds, returning early when the reader is stopped. */
static void
pause_for(struct imap_reader *r, unsigned long seconds)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)seconds;
	pthread_mutex_lock(&r->lock);
	while (!r->stopping && pthread_cond_timedwait(&r->wake, &r->lock, &until) == 0)
		;
	pthread_mutex_unlock(&r->lock);
}

static void
set_status(struct imap_reader *r, const char *state, const char *detail)
{
	if (store_status_set(r->store, "imap", state, detail) < 0)
		log_error("store: cannot record the IMAP status: %s", store_error(r->store));
}

/* The UIDs above last_uid, ascending. Returns the count (array in *uids_r) or -1. */
static ssize_t
search_new(struct imap_reader *r, uint32_t last_uid, uint32_t **uids_r)
{
	struct mailimap_search_key *key = mailimap_search_key_new_uid(mailimap_set_new_interval(last_uid + 1, 0));
	clist *found = NULL;
	int rc = mailimap_uid_search(r->imap, NULL, key, &found);
	mailimap_search_key_free(key);
	if (rc != MAILIMAP_NO_ERROR) {
		if (!link_lost(r, rc)) {  /* a NO: the connection is dropped all the same */
			free(r->lost_why);
			char *why = imap_session_error(r, rc);
			r->lost_why = xasprintf("UID SEARCH refused: %s", why);
			free(why);
		}
		return -1;
	}
	uint32_t *uids = xcalloc((size_t)clist_count(found) + 1, sizeof(*uids));
	size_t n = 0;
	for (clistiter *it = clist_begin(found); it; it = clist_next(it)) {
		uint32_t uid = *(uint32_t *)clist_content(it);
		if (uid > last_uid)  /* "n:*" also returns the highest UID when it is below n */
			uids[n++] = uid;
	}
	mailimap_search_result_free(found);
	/* Servers answer in ascending order in practice; make sure (insertion sort, short lists). */
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && uids[k - 1] > uids[k]; k--) {
			uint32_t t = uids[k];
			uids[k] = uids[k - 1];
			uids[k - 1] = t;
		}
	*uids_r = uids;
	return (ssize_t)n;
}

/* Fetches one attribute set of one UID; returns the first message's attribute list. */
static int
fetch(struct imap_reader *r, uint32_t uid, struct mailimap_fetch_type *type, clist **result_r)
{
	struct mailimap_set *set = mailimap_set_new_single(uid);
	int rc = mailimap_uid_fetch(r->imap, set, type, result_r);
	mailimap_set_free(set);
	mailimap_fetch_type_free(type);
	return rc;
}

/* The attribute of this type in the FETCH answer for uid, or NULL; *listed_r: the answer
 * holds uid at all. An answer about another message (unsolicited, or a server's mistake)
 * is never taken for this one. */
static struct mailimap_msg_att_static *
find_static(clist *result, uint32_t uid, int type, bool *listed_r)
{
	*listed_r = false;
	for (clistiter *m = clist_begin(result); m; m = clist_next(m)) {
		struct mailimap_msg_att *att = clist_content(m);
		struct mailimap_msg_att_static *found = NULL;
		bool ours = false;
		for (clistiter *it = clist_begin(att->att_list); it; it = clist_next(it)) {
			struct mailimap_msg_att_item *item = clist_content(it);
			if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
				continue;
			struct mailimap_msg_att_static *st = item->att_data.att_static;
			if (st->att_type == MAILIMAP_MSG_ATT_UID)
				ours = st->att_data.att_uid == uid;
			else if (st->att_type == type && found == NULL)
				found = st;
		}
		if (ours) {
			*listed_r = true;
			if (found != NULL)
				return found;
		}
	}
	return NULL;
}

/* Reads the size, then the whole message (or its header when too large), without
 * setting \Seen. Returns 0, 1 when the UID is gone, -1 on a connection error, -2 when
 * the server refuses to deliver it (NO, or an answer without the size or the body; the
 * reason in *why_r, valid until the next command). */
static int
fetch_message(struct imap_reader *r, uint32_t uid, char **raw_r, size_t *len_r, size_t *size_r, const char **why_r)
{
	bool listed;
	struct mailimap_fetch_type *type = mailimap_fetch_type_new_fetch_att_list_empty();
	mailimap_fetch_type_new_fetch_att_list_add(type, mailimap_fetch_att_new_rfc822_size());
	clist *result = NULL;
	int rc = fetch(r, uid, type, &result);
	if (rc != MAILIMAP_NO_ERROR) {
		*why_r = r->imap->imap_response ? r->imap->imap_response : "no reason given";
		return link_lost(r, rc) ? -1 : -2;
	}
	struct mailimap_msg_att_static *sz = find_static(result, uid, MAILIMAP_MSG_ATT_RFC822_SIZE, &listed);
	if (sz == NULL) {  /* not listed: expunged by someone else meanwhile */
		mailimap_fetch_list_free(result);
		*why_r = "no size in the answer";
		return listed ? -2 : 1;
	}
	*size_r = sz->att_data.att_rfc822_size;
	mailimap_fetch_list_free(result);

	bool too_large = *size_r > r->mail->max_message_size;
	type = mailimap_fetch_type_new_fetch_att_list_empty();
	struct mailimap_section *section = too_large ? mailimap_section_new_header() : mailimap_section_new(NULL);
	mailimap_fetch_type_new_fetch_att_list_add(type, mailimap_fetch_att_new_body_peek_section(section));
	rc = fetch(r, uid, type, &result);
	if (rc != MAILIMAP_NO_ERROR) {
		*why_r = r->imap->imap_response ? r->imap->imap_response : "no reason given";
		return link_lost(r, rc) ? -1 : -2;
	}
	struct mailimap_msg_att_static *body = find_static(result, uid, MAILIMAP_MSG_ATT_BODY_SECTION, &listed);
	if (body == NULL || body->att_data.att_body_section->sec_body_part == NULL) {
		mailimap_fetch_list_free(result);
		*why_r = "no body in the answer";
		return -2;  /* a size but no body: not "gone", never skipped silently */
	}
	*len_r = body->att_data.att_body_section->sec_length;
	*raw_r = xmalloc(*len_r + 1);
	memcpy(*raw_r, body->att_data.att_body_section->sec_body_part, *len_r);
	(*raw_r)[*len_r] = '\0';
	if (!too_large)
		*size_r = *len_r;
	mailimap_fetch_list_free(result);
	return 0;
}

/* Flags processed messages \Seen and moves them away or marks them with the keyword. */
static int
finish_messages(struct imap_reader *r, struct mailimap_set *set)
{
	const struct imap_settings *s = r->s;
	struct mailimap_flag_list *flags = mailimap_flag_list_new_empty();
	mailimap_flag_list_add(flags, mailimap_flag_new_seen());
	if (!s->move_when_done)
		mailimap_flag_list_add(flags, mailimap_flag_new_flag_keyword(xstrdup(s->done_keyword)));
	struct mailimap_store_att_flags *att = mailimap_store_att_flags_new_add_flags_silent(flags);
	int rc = mailimap_uid_store(r->imap, set, att);
	mailimap_store_att_flags_free(att);
	if (rc == MAILIMAP_NO_ERROR && s->move_when_done) {
		if (r->has_move) {
			rc = mailimap_uid_move(r->imap, set, r->done_folder_utf7);
		} else {
			/* COPY, then \Deleted and UID EXPUNGE of these UIDs only (never a plain
			 * EXPUNGE, which would remove what others marked). Without UIDPLUS the
			 * originals stay, flagged \Seen, and are skipped by their UID next time. */
			rc = mailimap_uid_copy(r->imap, set, r->done_folder_utf7);
			if (rc == MAILIMAP_NO_ERROR && r->has_uidplus) {
				struct mailimap_flag_list *del = mailimap_flag_list_new_empty();
				mailimap_flag_list_add(del, mailimap_flag_new_deleted());
				struct mailimap_store_att_flags *datt = mailimap_store_att_flags_new_add_flags_silent(del);
				rc = mailimap_uid_store(r->imap, set, datt);
				mailimap_store_att_flags_free(datt);
				if (rc == MAILIMAP_NO_ERROR)
					rc = mailimap_uid_expunge(r->imap, set);
			}
		}
	}
	if (rc != MAILIMAP_NO_ERROR && !link_lost(r, rc))
		return -2;
	return rc == MAILIMAP_NO_ERROR ? 0 : -1;
}

/* Processed messages waiting to be flagged and moved: one round trip for many (the
 * store already knows them, so a crash before the move only means a re-fetch that is
 * recognised as a duplicate). */
struct finish_batch {
	struct mailimap_set *set;
	unsigned count;
	uint32_t last_uid;
};

static enum step
flush_batch(struct imap_reader *r, struct finish_batch *b)
{
	if (b->count == 0)
		return STEP_OK;
	int rc = finish_messages(r, b->set);
	unsigned count = b->count;
	mailimap_set_free(b->set);
	b->set = NULL;
	b->count = 0;
	if (rc == -1)
		return STEP_CONNECTION;
	if (rc == -2)  /* e.g. the done folder is over quota: processed all the same */
		log_warning("imap: cannot flag or move %u processed message(s) (server said: %s); they stay in %s, "
			    "recorded as processed", count,
			    r->imap->imap_response ? r->imap->imap_response : "no reason", r->s->mailbox);
	if (store_mailbox_set(r->store, r->s->mailbox, r->uidvalidity, b->last_uid) < 0) {
		log_error("store: cannot record the mailbox state: %s", store_error(r->store));
		return STEP_STORE;
	}
	return STEP_OK;
}

static void
batch_add(struct finish_batch *b, uint32_t uid)
{
	if (b->set == NULL)
		b->set = mailimap_set_new_empty();
	mailimap_set_add_single(b->set, uid);
	b->count++;
	b->last_uid = uid;
}

static void
log_result(uint32_t uid, const struct mail_result *res)
{
	const char *what = mail_outcome_name(res->outcome);
	if (res->outcome == MAIL_DUPLICATE) {
		log_info("mail uid %u: already processed (%s): only moved away", uid, res->key);
		return;
	}
	log_info("mail uid %u from %s: %s, intent %s, thread #%lld%s%s, %u mail(s) queued%s%s", uid,
		 *res->requester ? res->requester : "(no address)", what, *res->intent ? res->intent : "-",
		 (long long)res->thread_id, *res->reason ? ": " : "", res->reason, res->queued,
		 *res->notes ? "; notes: " : "", res->notes);
}


/* A UID the server will not deliver: after FETCH_TRIES refusals in a row it is recorded
 * and escalated unread (a person looks at the mailbox), so it blocks nothing after it. */
static int
escalate_unfetchable(struct imap_reader *r, uint32_t uid, struct mail_result *res, char **err)
{
	pthread_rwlock_rdlock(&r->engine->lock);
	char *number = xasprintf("%u", uid);
	struct template_var var = { "uid", number, false };
	char *subject = template_render(r->engine->engine->templates, "unfetchable_subject", OUTPUT_TEXT, &var, 1);
	for (char *p = subject; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';  /* a header value on one line, whatever the template holds */
	char *raw = xasprintf("Message-ID: <uid-%u.%u.unfetchable@dialogd.invalid>\r\nSubject: %s\r\n\r\n", uid,
			      r->uidvalidity, subject);
	free(subject);
	free(number);
	int rc = mail_process(r->mail, r->store, r->directory, r->engine->engine, r->scratch, raw, strlen(raw),
			      MAIL_SIZE_UNFETCHABLE, res, err);
	pthread_rwlock_unlock(&r->engine->lock);
	free(raw);
	return rc;
}

/* Where this pass starts: the last UID processed, in *last_uid_r; 0 when UIDVALIDITY
 * changed (the mailbox is read again from the start). Returns STEP_OK or STEP_STORE. */
static enum step
resume_point(struct imap_reader *r, uint32_t *last_uid_r)
{
	uint32_t stored_validity;
	if (store_mailbox_get(r->store, r->s->mailbox, &stored_validity, last_uid_r) < 0) {
		log_error("store: cannot read the mailbox state: %s", store_error(r->store));
		return STEP_STORE;
	}
	if (stored_validity != r->uidvalidity) {
		if (stored_validity != 0)
			log_warning("imap: %s: UIDVALIDITY changed (%u → %u): re-scanning the whole mailbox; mail already "
				    "processed is recognised by its Message-ID and not answered twice",
				    r->s->mailbox, stored_validity, r->uidvalidity);
		*last_uid_r = 0;
		if (store_mailbox_set(r->store, r->s->mailbox, r->uidvalidity, 0) < 0) {
			log_error("store: cannot record the mailbox state: %s", store_error(r->store));
			return STEP_STORE;
		}
	}
	return STEP_OK;
}

/* Counts one more refusal to deliver uid (why: the server's reason; now: monotonic
 * seconds). Returns true while it is to be tried again later, false once it has been
 * refused FETCH_TRIES times over REFUSED_SPAN and is to be escalated unread. */
static bool
refused_again(struct imap_reader *r, uint32_t uid, const char *why, double now)
{
	if (r->refused_uid != uid) {
		r->refused_uid = uid;
		r->refused_count = 0;
		r->refused_since = now;
	}
	r->refused_count++;
	log_warning("imap: the server refuses to deliver uid %u (%s), attempt %u; escalated unread after "
		    "%u attempts over %d min", uid, why, r->refused_count,
		    FETCH_TRIES, REFUSED_SPAN / 60);
	return r->refused_count < FETCH_TRIES || now - r->refused_since < REFUSED_SPAN;
}

/* The account work the turns left for after their replies (conversation/deferred.h),
 * once the replies of the whole batch are queued and the sender woken: a request for an
 * existing account is answered as fast as one for none, and so is every other mail of
 * the batch (the work done for one writer's account never delays the next writer's
 * reply). Run at the start of each pass, before looking for new mail. A store error
 * leaves it for the next pass. */
/* How long the account work waits for the replies of its requests to leave. */
#define REPLY_WAIT_MS 1000

/* Until the replies of the pending account work have been handed to the MTA (or
 * REPLY_WAIT_MS): then neither that work's time nor its own mails (the link, through the
 * same MTA) weigh on them. The same wait for a request whose account exists and for one
 * whose does not: both have their work pending. */
static void
wait_for_replies(struct imap_reader *r)
{
	for (int waited = 0; waited < REPLY_WAIT_MS && !stopping(r); waited += 5) {
		int64_t pending = store_deferred_replies_pending(r->store);
		if (pending <= 0)
			return;  /* sent, or the store cannot tell: the work goes on */
		struct timespec pause = { 0, 5 * 1000 * 1000 };
		nanosleep(&pause, NULL);
	}
}

static void
run_deferred(struct imap_reader *r)
{
	unsigned queued = 0;
	char *err = NULL;
	/* Most mails leave no account work: one cheap count, no wait and no engine lock. */
	if (store_deferred_count(r->store) == 0)
		return;
	wait_for_replies(r);
	pthread_rwlock_rdlock(&r->engine->lock);
	int ran = conversation_run_deferred(&r->mail->actions, r->store, r->directory, r->engine->engine, &queued, &err);
	pthread_rwlock_unlock(&r->engine->lock);
	if (ran < 0) {
		log_error("account actions after the reply: %s; tried again after the next message", err);
		free(err);
	} else if (ran > 0) {
		log_info("account actions after the reply: %d done, %u mail(s) queued", ran, queued);
	}
	if (queued > 0)
		smtp_sender_wake(r->sender);
}

/* One message through mail_process: as fetched (got 0: raw[0..len), size bytes on the
 * server; raw is freed here) or escalated unread (got -2). Returns STEP_OK, or
 * STEP_STORE when it was not processed and is to be retried. */
static enum step
process_message(struct imap_reader *r, uint32_t uid, int got, char *raw, size_t len, size_t size)
{
	struct mail_result res;
	char *err = NULL;
	int rc;
	if (got == 0) {
		pthread_rwlock_rdlock(&r->engine->lock);
		rc = mail_process(r->mail, r->store, r->directory, r->engine->engine, r->scratch, raw, len, size, &res, &err);
		pthread_rwlock_unlock(&r->engine->lock);
	} else {
		rc = escalate_unfetchable(r, uid, &res, &err);
	}
	free(raw);
	if (rc < 0) {
		log_error("mail uid %u: not processed, will retry: %s", uid, err);
		free(err);
		mail_result_clear(&res);
		return STEP_STORE;
	}
	log_result(uid, &res);
	if (res.queued > 0)
		smtp_sender_wake(r->sender);
	mail_result_clear(&res);
	return STEP_OK;
}

/* Processes every new message; *found_r: how many there were. */
static enum step
process_new(struct imap_reader *r, ssize_t *found_r)
{
	*found_r = 0;
	uint32_t last_uid;
	run_deferred(r);  /* the previous batch's, or what a stop or a crash left pending */
	if (resume_point(r, &last_uid) != STEP_OK)
		return STEP_STORE;
	uint32_t *uids = NULL;
	ssize_t n = search_new(r, last_uid, &uids);
	if (n < 0)
		return STEP_CONNECTION;
	*found_r = n;
	if (n > 0)
		log_info("imap: %zd new message(s) in %s", n, r->s->mailbox);
	enum step step = STEP_OK;
	/* Where a batch's time goes, for the operator (and the benchmark). */
	double t_fetch = 0, t_process = 0, t_finish = 0, t_batch = monotonic_seconds();
	ssize_t done = 0;
	struct finish_batch batch = {0};
	for (ssize_t i = 0; i < n && !stopping(r); i++) {
		char *raw = NULL;
		size_t len = 0, size = 0;
		double t0 = monotonic_seconds();
		const char *why = NULL;
		int got = fetch_message(r, uids[i], &raw, &len, &size, &why);
		double t1 = monotonic_seconds();
		t_fetch += t1 - t0;
		if (got == -1) {
			step = STEP_CONNECTION;
			break;
		}
		if (got == -2 && refused_again(r, uids[i], why, t1)) {
			step = STEP_REFUSED;
			break;
		}
		if (got == 0 || got == -2) {
			step = process_message(r, uids[i], got, raw, len, size);
			if (step != STEP_OK)
				break;
			t_process += monotonic_seconds() - t1;
		}
		done++;
		batch_add(&batch, uids[i]);
		if (batch.count >= FINISH_BATCH || i + 1 == n) {
			double t2 = monotonic_seconds();
			step = flush_batch(r, &batch);
			t_finish += monotonic_seconds() - t2;
			if (step != STEP_OK)
				break;
		}
	}
	if (step != STEP_CONNECTION) {  /* what was processed before a stop or an error is finished */
		enum step flushed = flush_batch(r, &batch);
		if (step == STEP_OK)
			step = flushed;
	} else if (batch.set != NULL) {
		mailimap_set_free(batch.set);
	}
	if (done > 1)
		log_info("imap: %zd message(s) in %.2f s: fetching %.2f s, understanding and storing %.2f s, "
			 "flagging and moving %.2f s", done, monotonic_seconds() - t_batch, t_fetch, t_process, t_finish);
	free(uids);
	return step;
}

/* STEP_OK, or STEP_CONNECTION with the reason kept for the log (a NO drops the
 * connection too). */
static enum step
connection_step(struct imap_reader *r, int rc)
{
	if (rc == MAILIMAP_NO_ERROR)
		return STEP_OK;
	if (!link_lost(r, rc)) {
		free(r->lost_why);
		r->lost_why = imap_session_error(r, rc);
	}
	return STEP_CONNECTION;
}

/* Waits for news with IDLE (or a poll interval). STEP_CONNECTION when the link broke. */
static enum step
wait_for_news(struct imap_reader *r)
{
	if (!mailimap_has_idle(r->imap)) {
		pause_for(r, r->s->poll_interval);
		return connection_step(r, mailimap_noop(r->imap));
	}
	int rc = mailimap_idle(r->imap);
	if (rc != MAILIMAP_NO_ERROR)
		return connection_step(r, rc);
	long renew = mailimap_idle_get_done_delay(r->imap);
	if (renew <= 0 || renew > IDLE_RENEW)
		renew = IDLE_RENEW;
	double until = monotonic_seconds() + (double)renew;
	int fd = mailimap_idle_get_fd(r->imap);
	/* EXISTS sent in the same packet as "+ idling" is already in libetpan's buffer. */
	bool news = r->imap->imap_stream->read_buffer_len > 0;
	while (!news && !stopping(r) && monotonic_seconds() < until) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int p = poll(&pfd, 1, 1000);
		if (p < 0 && errno != EINTR)
			break;
		news = p > 0;
	}
	/* A wake-up is not always mail ("* OK Still here"): the UID search that follows tells. */
	return connection_step(r, mailimap_idle_done(r->imap));
}

static void *
run(void *arg)
{
	struct imap_reader *r = arg;
	unsigned long wait = 1;
	bool was_connected = false, outage_logged = false, reconnecting = false;
	while (!stopping(r)) {
		char *err = NULL;
		if (reconnecting) {
			/* Right after a lost connection: back off as after a failure. */
			reconnecting = false;
			pause_for(r, wait);
			wait = wait * 2 < r->s->reconnect_max ? wait * 2 : r->s->reconnect_max;
			if (stopping(r))
				break;
		}
		if (imap_session_open(r, &err) < 0) {
			imap_session_close(r);
			if (!outage_logged || wait >= r->s->reconnect_max)
				log_warning("imap: %s: %s; retrying in %lu s", r->s->url, err, wait);
			outage_logged = true;
			set_status(r, "disconnected", err);
			free(err);
			pause_for(r, wait);
			wait = wait * 2 < r->s->reconnect_max ? wait * 2 : r->s->reconnect_max;
			continue;
		}
		log_info("imap: %s %s as %s, mailbox %s (UIDVALIDITY %u), %s%s", was_connected ? "reconnected to" : "connected to",
			 r->s->url, r->s->user, r->s->mailbox, r->uidvalidity,
			 !r->tls_used ? "no TLS (loopback)" : r->s->tls_verify ? "TLS, certificate verified"
										    : "TLS, certificate NOT verified (tls_verify = no)",
			 r->has_move ? "" : ", no MOVE: COPY used");
		set_status(r, "connected", r->s->mailbox);
		was_connected = true;
		outage_logged = false;
		enum step step = STEP_OK;
		while (!stopping(r)) {
			ssize_t found = 0;
			step = process_new(r, &found);
			if (step == STEP_STORE || step == STEP_REFUSED) {
				/* 5 s, doubling up to 5 min while the same UID stays refused. */
				unsigned long pause = 5;
				for (unsigned k = 1; step == STEP_REFUSED && k < r->refused_count && pause < 300; k++)
					pause *= 2;
				pause_for(r, pause < 300 ? pause : 300);
				continue;
			}
			if (step != STEP_OK || stopping(r))
				break;
			/* A whole pass went through: a later failure starts its backoff afresh (an
			 * error right after each connection keeps growing it). */
			wait = 1;
			/* EXISTS announced during the pass were consumed by libetpan there: look
			 * again until a pass finds nothing before going idle. */
			if (found > 0)
				continue;
			if ((step = wait_for_news(r)) != STEP_OK)
				break;
		}
		if (step == STEP_CONNECTION) {
			const char *why = r->lost_why ? r->lost_why : "no reason known";
			log_warning("imap: connection to %s lost (%s); reconnecting", r->s->url, why);
			char *detail = xasprintf("connection lost: %s", why);
			set_status(r, "disconnected", detail);
			free(detail);
		}
		imap_session_close(r);
		reconnecting = true;
	}
	set_status(r, "stopped", NULL);
	return NULL;
}

struct imap_reader *
imap_reader_start(const struct imap_settings *s, const struct mail_settings *mail, struct engine_holder *engine,
		  struct smtp_sender *sender, char **error_r)
{
	struct imap_reader *r = xcalloc(1, sizeof(*r));
	r->s = s;
	r->mail = mail;
	r->engine = engine;
	r->sender = sender;
	r->host = url_host(s->url);
	r->port = url_port(s->url, str_starts_with(s->url, "imaps://") ? 993 : 143);
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);  /* a clock step does not stretch waits */
	pthread_cond_init(&r->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (r->host == NULL || r->port < 0) {
		*error_r = xasprintf("[imap] url: \"%s\" is not imap://host:port or imaps://host:port", s->url);
		imap_reader_stop(&r);
		return NULL;
	}
	r->done_folder_utf7 = imap_utf7_encode(s->done_folder);
	r->store = store_open(s->store_path, error_r);
	if (r->store == NULL) {
		imap_reader_stop(&r);
		return NULL;
	}
	r->directory = directory_open_for(mail->directory_http, r->store, error_r);
	if (r->directory == NULL) {
		imap_reader_stop(&r);
		return NULL;
	}
	r->scratch = intent_scratch_new();
	r->started = pthread_create(&r->thread, NULL, run, r) == 0;
	if (!r->started) {
		*error_r = xstrdup("cannot start the IMAP reader thread");
		imap_reader_stop(&r);
		return NULL;
	}
	return r;
}

void
imap_reader_request_stop(struct imap_reader *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->lock);
	r->stopping = true;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
}

void
imap_reader_stop(struct imap_reader **rp)
{
	struct imap_reader *r = *rp;
	if (r == NULL)
		return;
	if (r->started) {
		imap_reader_request_stop(r);
		pthread_join(r->thread, NULL);
	}
	imap_session_close(r);
	intent_scratch_free(&r->scratch);
	directory_close(&r->directory);
	store_close(&r->store);
	pthread_cond_destroy(&r->wake);
	pthread_mutex_destroy(&r->lock);
	free(r->host);
	free(r->lost_why);
	free(r->done_folder_utf7);
	free(r);
	*rp = NULL;
}
