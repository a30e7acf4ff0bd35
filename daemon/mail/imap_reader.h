/* imap_reader — the thread that reads the support mailbox with libetpan: connect (TLS
 * for imaps://, STARTTLS whenever offered), log in, select, process every message whose
 * UID is above the last one processed (never relying on \Seen or on dates), then wait
 * with IDLE (or poll). Each message goes through mail_process; only once it is committed
 * is it flagged \Seen and moved to the done folder (or given the done keyword). Any
 * error means reconnecting with capped backoff; the outage shows in `dialogctl status`.
 * Logs one line per event. */
#ifndef DIALOGD_IMAP_READER_H
#define DIALOGD_IMAP_READER_H

#include <stdbool.h>

#include "mail/mail_channel.h"

struct engine_holder;
struct smtp_sender;

struct imap_settings {
	const char *url;                /* imap://host:port or imaps://host:port */
	const char *user, *password;
	const char *mailbox;
	bool move_when_done;            /* else: keyword */
	const char *done_folder;        /* UTF-8 name */
	const char *done_keyword;
	unsigned long poll_interval, timeout, reconnect_max;
	bool allow_plaintext;
	bool tls_verify;
	const char *tls_ca_file;        /* NULL: the system's authorities */
	const char *store_path;
};

struct imap_reader;

/* Starts the reader thread. Settings (and mail settings) must outlive the reader; the
 * sender (may be NULL) is woken when replies are queued. NULL with *error_r. */
struct imap_reader *imap_reader_start(const struct imap_settings *settings, const struct mail_settings *mail,
				      struct engine_holder *engine, struct smtp_sender *sender, char **error_r);
/* Asks the thread to stop after the message in hand, without waiting. */
void imap_reader_request_stop(struct imap_reader *reader);
/* Finishes the message in hand, logs out, stops the thread, frees. */
void imap_reader_stop(struct imap_reader **reader);

#endif
