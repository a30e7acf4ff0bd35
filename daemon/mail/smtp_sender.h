/* smtp_sender — the thread that empties the outbox over SMTP with libcurl: one
 * connection reused across messages, STARTTLS whenever offered (required with a password
 * to a server that is not on loopback, unless allowed), AUTH when configured. A server
 * that cannot be reached is retried with capped exponential backoff; a reply refused
 * for good (5xx) max_permanent_failures times is marked failed, its address recorded as
 * bouncing, and its thread escalated. Logs one line per event. */
#ifndef DIALOGD_SMTP_SENDER_H
#define DIALOGD_SMTP_SENDER_H

#include <stdbool.h>

struct notify_settings;
struct engine_holder;

struct smtp_settings {
	const char *url;                /* smtp://host:port or smtps://host:port */
	const char *user, *password;    /* NULL: no AUTH */
	const char *helo;
	bool allow_plaintext;
	bool tls_verify;
	const char *tls_ca_file;        /* NULL: the system's authorities */
	unsigned long timeout;          /* seconds per transaction */
	unsigned long retry_max;        /* cap of the backoff, seconds */
	unsigned long max_permanent_failures;
	unsigned long give_up_after;    /* seconds after which a mail still not sent is given up */
	const char *store_path;
	/* To notify the correspondants when a reply fails for good, and to send the digest
	 * (both may be NULL). */
	const struct notify_settings *notify;
	struct engine_holder *engine;
};

struct smtp_sender;

/* Starts the thread (it opens its own store connection). NULL with *error_r. */
struct smtp_sender *smtp_sender_start(const struct smtp_settings *settings, char **error_r);
/* New entries are in the outbox: look now rather than at the next timer. */
void smtp_sender_wake(struct smtp_sender *sender);
/* Asks the thread to stop after the transaction in hand, without waiting. */
void smtp_sender_request_stop(struct smtp_sender *sender);
/* Finishes the transaction in hand, stops the thread, frees. */
void smtp_sender_stop(struct smtp_sender **sender);

#endif
