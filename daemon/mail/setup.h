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
	struct directory_http_settings directory_http;  /* used when [directory] backend = http */
	char *directory_password, *directory_api_key;
};

/* Fills m from cfg. Returns 0, or -1 with *error_r (an address or a secret file that
 * cannot be used); m is to be cleared either way. */
int mail_setup_init(struct mail_setup *m, const struct config *cfg, char **error_r);
void mail_setup_clear(struct mail_setup *m);

#endif
