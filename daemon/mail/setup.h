/* setup — everything the channels run with, built from the configuration: the mail
 * settings (identity, limits, rules), the IMAP reader's and the SMTP sender's, the remote
 * directory's, with the secrets read from their files. Shared by dialogd and dialogctl
 * (whose chat acts like the daemon).
 * Threads: built by the main thread before any other starts; every thread then reads
 * its part for as long as it runs (the struct outlives them all). */
#ifndef DIALOGD_SETUP_H
#define DIALOGD_SETUP_H

#include "core/config.h"
#include "directory/directory.h"
#include "mail/imap_reader.h"
#include "mail/mail_channel.h"
#include "mail/smtp_sender.h"

struct mail_setup {
	struct mail_settings mail;
	struct imap_settings imap;
	struct smtp_settings smtp;
	char *imap_password, *smtp_password;
	char *from_name, *from_address, *domain;
	char *correspondants;   /* the address of [mail] correspondants */
	char *console_url;      /* [mail] console_url, or public_url + /console/fil/ */
	struct directory_http_settings directory_http;  /* used when [directory] backend = http */
	char *directory_password, *directory_api_key;
	struct mail_markers *markers;   /* [rules] markers_file, once loaded; mail.policy points to it */
};

/* Fills m from cfg. Returns 0, or -1 with *error_r (an address or a secret file that
 * cannot be used); m is to be cleared either way. */
int mail_setup_init(struct mail_setup *m, const struct config *cfg, char **error_r);
/* Loads the markers of [rules] autoreply_markers: cfg's markers_file, else
 * data_dir/intents/autoreply.tsv (nothing when the rule is off). Returns 0, or -1 with
 * *error_r (every bad line, "file:line: message"). Read once, at start. */
int mail_setup_load_markers(struct mail_setup *m, const struct config *cfg, const char *data_dir, char **error_r);
/* Only what the no-reply rules need, no secret read (dialogctl classify --eml and check):
 * our address and domain, mail.policy from [rules], and the markers from data_dir. Returns
 * 0, or -1 with *error_r; m is to be cleared either way. */
int mail_setup_rules(struct mail_setup *m, const struct config *cfg, const char *data_dir, char **error_r);
void mail_setup_clear(struct mail_setup *m);

#endif
