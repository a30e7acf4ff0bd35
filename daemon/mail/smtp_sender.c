/* smtp_sender — see smtp_sender.h. */
#include "autoconf.h"
#include "mail/smtp_sender.h"
#include "engine/engine.h"
#include "core/log.h"
#include "outbox/notify.h"
#include "store/store.h"
#include "engine/template.h"
#include "core/util.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* First retry after this many seconds, doubling up to retry_max. */
#define RETRY_FIRST 2
/* The thread looks at the outbox at least this often, even when nobody wakes it. */
#define IDLE_WAKE 30

struct smtp_sender {
	struct smtp_settings s;         /* strings owned */
	char *url_with_helo;
	bool must_use_tls;
	struct store *store;
	CURL *curl;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool woken, stopping;
	unsigned server_failures;       /* consecutive failures to reach the server */
	bool secret_in_wal;             /* a secret mail's text was emptied: the write-ahead
					 * log still holds it until store_forget_wal succeeds */
	double secret_since;            /* monotonic seconds when it was first owed */
	bool secret_warned;             /* the log said the WAL could not be cleared */
};

struct upload {
	const char *data;
	size_t len, pos;
};

static size_t
read_upload(char *buf, size_t size, size_t nitems, void *user)
{
	struct upload *u = user;
	size_t n = size * nitems;
	if (n > u->len - u->pos)
		n = u->len - u->pos;
	memcpy(buf, u->data + u->pos, n);
	u->pos += n;
	return n;
}

static unsigned long
backoff(unsigned failures, unsigned long cap)
{
	unsigned long wait = RETRY_FIRST;
	for (unsigned i = 1; i < failures && wait < cap; i++)
		wait *= 2;
	return wait < cap ? wait : cap;
}

enum send_result { SENT, SERVER_DOWN, TRANSIENT, PERMANENT };

static enum send_result
send_one(struct smtp_sender *sd, const struct outbox_row *row, char **error_r)
{
	CURL *c = sd->curl;
	struct upload up = { row->raw, strlen(row->raw), 0 };
	struct curl_slist *rcpt = curl_slist_append(NULL, row->recipient);
	char *from = xasprintf("<%s>", row->mail_from);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_upload);
	curl_easy_setopt(c, CURLOPT_READDATA, &up);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)up.len);
	CURLcode rc = curl_easy_perform(c);
	long code = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(rcpt);
	free(from);
	if (rc == CURLE_OK)
		return SENT;
	if (code < 400)  /* the last answer was a success (e.g. 250 to EHLO): it explains nothing */
		code = 0;
	*error_r = xasprintf("%s%s%ld", curl_easy_strerror(rc), code ? ", server said " : "", code);
	if (code == 0)
		(*error_r)[strlen(*error_r) - 1] = '\0';  /* no code: drop the "0" */
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_LOGIN_DENIED:
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_GOT_NOTHING:
		return SERVER_DOWN;
	default:
		break;
	}
	if (code >= 500 && code < 600)
		return PERMANENT;
	return code >= 400 ? TRANSIENT : SERVER_DOWN;
}

static void
configure_handle(struct smtp_sender *sd)
{
	CURL *c = sd->curl;
	curl_easy_setopt(c, CURLOPT_URL, sd->url_with_helo);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)sd->s.timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	/* No CURLOPT_CRLF: messages are composed with CRLF already, and curl 7.88 would turn
	 * each of their LF into CRLF again ("\r\r\n"). */
	curl_easy_setopt(c, CURLOPT_USE_SSL, sd->must_use_tls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, sd->s.tls_verify ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, sd->s.tls_verify ? 2L : 0L);
	if (sd->s.tls_ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, sd->s.tls_ca_file);
	if (sd->s.user != NULL) {
		curl_easy_setopt(c, CURLOPT_USERNAME, sd->s.user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, sd->s.password ? sd->s.password : "");
	}
}

/* Tells the correspondants that the reply to recipient was not delivered (error). */
static int
notify(struct smtp_sender *sd, int64_t thread_id, const char *recipient, const char *error)
{
	pthread_rwlock_rdlock(&sd->s.engine->lock);
	const struct engine *e = sd->s.engine->engine;
	struct template_var vars[] = { { "recipient", recipient, false }, { "error", error, false } };
	char *motive = template_render(e->templates, "notify_reason_undelivered", OUTPUT_TEXT, vars, 2);
	int rc = notify_correspondants(sd->s.notify, sd->store, e, thread_id, motive, 0);
	pthread_rwlock_unlock(&sd->s.engine->lock);
	free(motive);
	return rc;
}

/* The reply will never arrive: the thread goes to a person, who is told. Returns -1
 * (rolled back) when the store failed. */
static int
give_up(struct smtp_sender *sd, const struct outbox_row *row, const char *error, bool refused)
{
	char *reason = xasprintf("the %s to %s could not be delivered: %s", outbox_kind_name(row->kind), row->recipient,
				 error);
	bool to_writer = row->kind != OUTBOX_NOTIFY;
	int notified = 0;
	int rc = 0;
	/* Only a refusal (5xx) marks the address as bouncing; an outage says nothing of it. */
	if (store_begin(sd->store) < 0 || store_outbox_failed(sd->store, row->id, error) < 0 ||
	    (refused && store_bounce_add(sd->store, row->recipient, (int64_t)time(NULL)) < 0) ||
	    (to_writer && store_thread_update(sd->store, row->thread_id, THREAD_ESCALATED, NULL, reason) < 0) ||
	    (to_writer && sd->s.notify != NULL && sd->s.engine != NULL &&
	     (notified = notify(sd, row->thread_id, row->recipient, error)) < 0) ||
	    store_commit(sd->store) < 0) {
		store_rollback(sd->store);
		rc = -1;
	} else {
		log_warning("smtp: outbox #%lld to %s failed for good (%s): thread #%lld escalated%s", (long long)row->id,
			    row->recipient, error, (long long)row->thread_id,
			    notified > 0 ? ", correspondants notified" : "");
	}
	free(reason);
	return rc;
}


static bool
is_stopping(struct smtp_sender *sd)
{
	pthread_mutex_lock(&sd->lock);
	bool stop = sd->stopping;
	pthread_mutex_unlock(&sd->lock);
	return stop;
}

/* Sleeps up to seconds on the monotonic clock, returning early when stopped or woken
 * (a wake-up is ignored while the server is away: it does not cut a backoff short). */
static void
pause_for(struct smtp_sender *sd, unsigned long seconds)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)seconds;
	pthread_mutex_lock(&sd->lock);
	while (!sd->stopping && (!sd->woken || sd->server_failures > 0))
		if (pthread_cond_timedwait(&sd->wake, &sd->lock, &until) == ETIMEDOUT)
			break;
	sd->woken = false;
	pthread_mutex_unlock(&sd->lock);
}

/* Records what happened to a mail. A mail is never sent again because its outcome could
 * not be written: the update is retried (every 5 s, the log says so) before anything
 * else is sent. Stopped meanwhile, the entry stays pending: sent again after a restart. */
static void
record(struct smtp_sender *sd, const struct outbox_row *row, int (*update)(struct smtp_sender *, const struct outbox_row *,
									   const void *), const void *arg)
{
	while (update(sd, row, arg) < 0) {
		log_error("smtp: outbox #%lld: cannot record the attempt (%s); retrying in 5 s before sending anything else",
			  (long long)row->id, store_error(sd->store));
		store_rollback(sd->store);
		if (is_stopping(sd))
			return;
		pause_for(sd, 5);
	}
}

static int
update_sent(struct smtp_sender *sd, const struct outbox_row *row, const void *arg)
{
	(void)arg;
	return store_outbox_sent(sd->store, row->id, (int64_t)time(NULL));
}

struct retry {
	bool permanent;
	int64_t next_attempt;
	const char *error;
};

static int
update_retry(struct smtp_sender *sd, const struct outbox_row *row, const void *arg)
{
	const struct retry *r = arg;
	return store_outbox_retry(sd->store, row->id, r->permanent, r->next_attempt, r->error);
}

static int
update_refused(struct smtp_sender *sd, const struct outbox_row *row, const void *arg)
{
	return give_up(sd, row, arg, true);
}

static int
update_too_old(struct smtp_sender *sd, const struct outbox_row *row, const void *arg)
{
	return give_up(sd, row, arg, false);
}

/* A secret mail (reset link, one-time code) sent or given up: its text is emptied in
 * the same update, but the earlier frames of the write-ahead log still hold it, and
 * whoever reads the store files could use the link until it expires. */
static void
secret_emptied(struct smtp_sender *sd, const struct outbox_row *row)
{
	if (row->kind != OUTBOX_SECRET || sd->secret_in_wal)
		return;
	sd->secret_in_wal = true;
	sd->secret_since = monotonic_seconds();
}

/* Clears the write-ahead log of emptied secrets; retried before every look at the
 * outbox while other connections keep it from finishing. */
static void
forget_secrets(struct smtp_sender *sd)
{
	if (!sd->secret_in_wal)
		return;
	int rc = store_forget_wal(sd->store);
	if (rc == 1) {
		if (sd->secret_warned)
			log_info("smtp: the store's write-ahead log no longer holds the secrets of sent mail");
		sd->secret_in_wal = sd->secret_warned = false;
		return;
	}
	/* Another connection reading for a long time: the link is still in the log file
	 * (which only dialogd's user can read); said once, after a minute. */
	if (!sd->secret_warned && monotonic_seconds() - sd->secret_since > 60) {
		log_warning("smtp: the store's write-ahead log still holds the text of sent secret mail: %s; retrying",
			    rc < 0 ? store_error(sd->store) : "other connections kept the checkpoint from finishing");
		sd->secret_warned = true;
	}
}

/* The correspondants' notifications held beyond their hourly rate go out together, on
 * the sender's rounds (at least every IDLE_WAKE s): one digest per digest_interval. */
static void
queue_digest(struct smtp_sender *sd)
{
	if (sd->s.notify == NULL || sd->s.engine == NULL)
		return;
	pthread_rwlock_rdlock(&sd->s.engine->lock);
	int rc = store_begin(sd->store);
	if (rc == 0)
		rc = notify_digest(sd->s.notify, sd->store, sd->s.engine->engine, (int64_t)time(NULL));
	if (rc >= 0 && store_commit(sd->store) < 0)
		rc = -1;
	pthread_rwlock_unlock(&sd->s.engine->lock);
	if (rc < 0) {
		log_error("smtp: cannot queue the correspondants' digest: %s; retrying on the next round",
			  store_error(sd->store));
		store_rollback(sd->store);
	} else if (rc > 0) {
		log_info("smtp: correspondants' digest queued (notifications over [mail] notify_limit an hour)");
	}
}

/* Sends what is due. Returns the number of seconds to wait before looking again. */
static unsigned long
send_due(struct smtp_sender *sd)
{
	unsigned sent = 0;
	double started = monotonic_seconds();
	queue_digest(sd);
	for (;;) {
		forget_secrets(sd);
		int64_t now = (int64_t)time(NULL), next_due = 0;
		struct outbox_row row = {0};
		int found = store_outbox_next(sd->store, now, &row, &next_due);
		if (found < 0) {
			log_error("smtp: cannot read the outbox: %s", store_error(sd->store));
			return 5;
		}
		if (found == 0) {
			if (sent >= 20)  /* a backlog: tell how fast it went */
				log_info("smtp: %u mail(s) sent in %.2f s", sent, monotonic_seconds() - started);
			return next_due > now ? (unsigned long)(next_due - now) : IDLE_WAKE;
		}
		char *error = NULL;
		/* A mail the server kept refusing or timing out on for too long: given up,
		 * whatever the error, so that a person is told. */
		if (now - row.created > (int64_t)sd->s.give_up_after && row.attempts > 0) {
			char *why = xasprintf("not delivered after %lu hours (last error: %s)", sd->s.give_up_after / 3600,
					      row.last_error ? row.last_error : "none");
			record(sd, &row, update_too_old, why);
			secret_emptied(sd, &row);
			free(why);
			outbox_row_clear(&row);
			if (is_stopping(sd))  /* record() gives up when stopping: do not pick the row again */
				return 0;
			continue;
		}
		enum send_result res = send_one(sd, &row, &error);
		switch (res) {
		case SENT:
			sent++;
			record(sd, &row, update_sent, NULL);
			secret_emptied(sd, &row);
			log_info("reply sent: outbox #%lld (%s) to %s, thread #%lld", (long long)row.id, outbox_kind_name(row.kind),
				 row.recipient, (long long)row.thread_id);
			if (sd->server_failures > 0) {
				log_info("smtp: connection restored after %u failed attempts", sd->server_failures);
				sd->server_failures = 0;
			}
			store_status_set(sd->store, "smtp", "ok", "sending");
			break;
		case SERVER_DOWN: {
			/* Not this mail's fault: the whole outbox waits; the entry's age still counts. */
			unsigned long wait = backoff(++sd->server_failures, sd->s.retry_max);
			log_warning("smtp: %s: %s; retrying in %lu s", sd->s.url, error, wait);
			char *detail = xasprintf("%s (%u attempts in a row)", error, sd->server_failures);
			store_status_set(sd->store, "smtp", "unreachable", detail);
			free(detail);
			free(error);
			outbox_row_clear(&row);
			return wait;
		}
		case TRANSIENT:
		case PERMANENT: {
			bool permanent = res == PERMANENT;
			if (permanent && (unsigned long)row.permanent_failures + 1 >= sd->s.max_permanent_failures) {
				record(sd, &row, update_refused, error);
				secret_emptied(sd, &row);
				break;
			}
			unsigned long wait = backoff((unsigned)row.attempts + 1, sd->s.retry_max);
			struct retry r = { permanent, now + (int64_t)wait, error };
			record(sd, &row, update_retry, &r);
			log_warning("smtp: outbox #%lld to %s refused (%s), %s; retrying in %lu s", (long long)row.id,
				    row.recipient, error, permanent ? "permanently" : "temporarily", wait);
			break;
		}
		}
		free(error);
		outbox_row_clear(&row);
		if (is_stopping(sd))
			return 0;
	}
}

static void *
run(void *arg)
{
	struct smtp_sender *sd = arg;
	while (!is_stopping(sd)) {
		unsigned long wait = send_due(sd);
		/* Look at least every IDLE_WAKE s (new entries also wake the thread), but never
		 * before a server backoff is over. */
		if (wait > IDLE_WAKE && sd->server_failures == 0)
			wait = IDLE_WAKE;
		pause_for(sd, wait);
	}
	forget_secrets(sd);
	return NULL;
}

static char *
dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

struct smtp_sender *
smtp_sender_start(const struct smtp_settings *s, char **error_r)
{
	char *host = url_host(s->url);
	if (host == NULL || url_port(s->url, 25) < 0) {
		*error_r = xasprintf("[smtp] url: \"%s\" is not smtp://host:port", s->url);
		free(host);
		return NULL;
	}
	struct smtp_sender *sd = xcalloc(1, sizeof(*sd));
	sd->s = *s;
	sd->s.url = xstrdup(s->url);
	sd->s.user = dup_or_null(s->user);
	sd->s.password = dup_or_null(s->password);
	sd->s.helo = xstrdup(s->helo ? s->helo : "dialogd.localhost");
	sd->s.store_path = xstrdup(s->store_path);
	sd->s.tls_ca_file = dup_or_null(s->tls_ca_file);
	/* A password never travels in clear to a server off this machine unless allowed. */
	sd->must_use_tls = str_starts_with(s->url, "smtp://") && s->user != NULL && !host_is_loopback(host) &&
			   !s->allow_plaintext;
	free(host);
	const char *path = strchr(strstr(s->url, "://") + 3, '/');
	sd->url_with_helo = path ? xstrdup(s->url) : xasprintf("%s/%s", s->url, sd->s.helo);
	pthread_mutex_init(&sd->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);  /* a clock step does not stretch waits */
	pthread_cond_init(&sd->wake, &attr);
	pthread_condattr_destroy(&attr);
	sd->store = store_open(s->store_path, error_r);
	sd->curl = curl_easy_init();
	if (sd->store == NULL || sd->curl == NULL) {
		if (sd->curl == NULL && sd->store != NULL)
			*error_r = xstrdup("cannot start libcurl");
		smtp_sender_stop(&sd);
		return NULL;
	}
	configure_handle(sd);
	sd->started = pthread_create(&sd->thread, NULL, run, sd) == 0;
	if (!sd->started) {
		*error_r = xstrdup("cannot start the SMTP sender thread");
		smtp_sender_stop(&sd);
		return NULL;
	}
	return sd;
}

void
smtp_sender_wake(struct smtp_sender *sd)
{
	if (sd == NULL)
		return;
	pthread_mutex_lock(&sd->lock);
	sd->woken = true;
	pthread_cond_signal(&sd->wake);
	pthread_mutex_unlock(&sd->lock);
}

void
smtp_sender_request_stop(struct smtp_sender *sd)
{
	if (sd == NULL)
		return;
	pthread_mutex_lock(&sd->lock);
	sd->stopping = true;
	pthread_cond_signal(&sd->wake);
	pthread_mutex_unlock(&sd->lock);
}

void
smtp_sender_stop(struct smtp_sender **sdp)
{
	struct smtp_sender *sd = *sdp;
	if (sd == NULL)
		return;
	if (sd->started) {
		smtp_sender_request_stop(sd);
		pthread_join(sd->thread, NULL);
	}
	if (sd->curl)
		curl_easy_cleanup(sd->curl);
	store_close(&sd->store);
	pthread_cond_destroy(&sd->wake);
	pthread_mutex_destroy(&sd->lock);
	free((char *)sd->s.url);
	free((char *)sd->s.user);
	free((char *)sd->s.password);
	free((char *)sd->s.helo);
	free((char *)sd->s.store_path);
	free((char *)sd->s.tls_ca_file);
	free(sd->url_with_helo);
	free(sd);
	*sdp = NULL;
}
