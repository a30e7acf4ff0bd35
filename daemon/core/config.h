/* config — the INI file shared by dialogd and dialogctl (-c FILE), parsed with inih.
 * Keys live in one table (section, name, type, default, bounds, documentation), read by
 * the parser, by the defaults and by `dialogctl check`. Errors read "file:line: message";
 * every error is reported, then loading fails once. Lower layer: never logs.
 * Threads: loaded by the main thread before any other starts (a SIGHUP reloads the
 * knowledge, not this file); the other threads only read what setup built from it. */
#ifndef DIALOGD_CONFIG_H
#define DIALOGD_CONFIG_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

struct config {
	char *data_dir;         /* [paths] data: folder with intents/, faq-data/, templates/; NULL = default */
	char *daemon_user;      /* [daemon] user: who dialogd runs as once started as root; NULL = unset */
	char *daemon_group;     /* [daemon] group: NULL = the user's login group */
	bool allow_root;        /* [daemon] allow_root: run as root when no user is set */
	uid_t daemon_uid;       /* daemon_user as config_load found it on this system; (uid_t)-1 when unset */
	gid_t daemon_gid;       /* daemon_group, or the user's login group; (gid_t)-1 when unset */
	double min_confidence;  /* [engine] min_confidence */
	double min_margin;      /* [engine] min_margin */
	double suggest_confidence;      /* [engine] suggest_confidence */
	unsigned suggest_max_words;     /* [engine] suggest_max_words */

	char *store_path;       /* [store] path */

	char *imap_url;         /* [imap] url: imap://host:port or imaps://host:port; NULL = no mail reading */
	char *imap_user, *imap_password, *imap_password_file;
	char *imap_mailbox;     /* [imap] mailbox */
	char *imap_done_action; /* [imap] done_action: move or keyword */
	char *imap_done_folder; /* [imap] done_folder (UTF-8) */
	char *imap_done_keyword;
	unsigned long imap_poll_interval, imap_timeout, imap_reconnect_max;
	bool imap_allow_plaintext;
	bool imap_tls_verify;   /* [imap] tls_verify */
	char *imap_tls_ca_file; /* [imap] tls_ca_file: NULL = the system's authorities */
	unsigned long max_message_size;

	char *smtp_url;         /* [smtp] url: smtp://host:port or smtps://host:port; NULL = nothing is sent */
	char *smtp_user, *smtp_password, *smtp_password_file;
	char *smtp_from;        /* [smtp] from: "Name <address>" */
	char *smtp_helo;        /* [smtp] helo: the EHLO name */
	bool smtp_allow_plaintext;
	bool smtp_tls_verify;
	char *smtp_tls_ca_file;
	unsigned long smtp_timeout, smtp_retry_max, smtp_max_permanent_failures, smtp_give_up_after;

	char *correspondants;   /* [mail] correspondants: address notified of escalations */
	char *console_url;      /* [mail] console_url: link to a thread, the id is appended */
	unsigned long burst_limit, burst_window, daily_limit, bounce_pause;
	unsigned long domain_limit, global_limit;      /* [mail]: per domain and overall, an hour */
	unsigned long notify_limit, digest_interval;   /* [mail]: notifications an hour, then digests */

	/* [rules]: RFC 3834 rules, each can be switched off */
	bool rule_auto_submitted, rule_precedence, rule_list_headers, rule_autoreply_headers,
		rule_auto_response_suppress, rule_empty_return_path, rule_robot_senders, rule_reports, rule_own_mail,
		rule_list_senders, rule_autoreply_markers, rule_spam_verdicts;
	char *markers_file;     /* [rules] markers_file: NULL = DATA/intents/autoreply.tsv */

	char *web_listen;       /* [web] listen: host:port for the chat, the console, the reset page */
	char *web_public_url;   /* [web] public_url: base of the links in mails */
	unsigned long web_header_timeout, web_body_timeout;     /* [web]: seconds for a head, a body */
	unsigned long web_connections_per_address;              /* [web] */
	char *web_allowed_origins;      /* [web] allowed_origins: space-separated; NULL = public_url's origin */
	char *web_trusted_proxies;      /* [web] trusted_proxies: space-separated addresses; NULL = none */
	unsigned long chat_session_ttl, chat_max_frame, chat_max_text, chat_max_errors;        /* [chat] */
	unsigned long chat_messages_per_minute, chat_address_messages_per_minute, chat_connections_per_address;
	unsigned long chat_ping_interval, chat_idle_timeout;
	char *chat_hours;               /* [chat] hours: when the correspondants answer (French) */
	char *chat_identity_secret, *chat_identity_secret_file; /* [chat]: the extranet's HS256 secret */
	unsigned long chat_identity_max_ttl;
	char *chat_persistence;         /* [chat] persistence: tab or browser (the widget's storage) */
	unsigned long store_retention_days;     /* [store] retention_days: what purge removes, as the widget says */
	bool console_require_totp;      /* [console] require_totp: every account needs a second factor */
	unsigned long console_idle_ttl, console_absolute_ttl;   /* [console]: seconds a session lives */
	unsigned long reset_limit, reset_ttl;   /* [security] */
	unsigned long secret_mail_delay;        /* [security]: seconds an account mail waits after the reply */
	unsigned long code_attempts, code_ttl;  /* [security] */
	char *directory_backend;        /* [directory] backend: sqlite or http */
	char *directory_url, *directory_user, *directory_password, *directory_password_file, *directory_api_key_file;
	unsigned long directory_timeout, directory_connect_timeout;
	bool directory_tls_verify, directory_allow_plaintext;
	char *directory_tls_ca_file;
	unsigned long reminder_limit;   /* [security] reminder_limit */
	unsigned long status_limit;     /* [security] status_limit */
	bool require_authenticated_sender;      /* [security] require_authenticated_sender */
	char *authserv_id;      /* [security] authserv_id */
	bool log_syslog;        /* [log] syslog */
};

/* Fills cfg with the defaults. */
void config_init(struct config *cfg);
/* Reads path over the values already in cfg and finds [daemon] user and group on this
 * system. A file that holds a password must be its owner's alone (no group or other
 * permission bits) and owned by root, by the user running this, or by [daemon] user
 * (OpenSMTPD's check_file_secrecy): anyone else could read or change the password.
 * Returns 0, or -1 with every error in *error_r. */
int config_load(struct config *cfg, const char *path, char **error_r);
void config_clear(struct config *cfg);
/* Checks every secret file the configuration names (password_file, api_key_file) as
 * config_load checks the configuration file: it opens, is a regular file, mode 0600
 * or stricter, and belongs to root, to the user running this or to [daemon] user.
 * Returns 0, or -1 with one line per problem in *error_r (caller frees). */
int config_check_secret_files(const struct config *cfg, char **error_r);
/* The secret called name in [section] ("password", "api_key"): the first line of
 * name_file when that key is set (checked as config_check_secret_files does, on the
 * very file it reads), else the value of the key name. Sets *secret_r (caller frees,
 * NULL when neither is set), or returns -1 with *error_r. */
int config_secret(const struct config *cfg, const char *section, const char *name, char **secret_r,
		  char **error_r);
/* Prints every key with its default and documentation (for dialogctl and the README). */
void config_describe(FILE *out);
/* The same as a dialogd.conf(5) manual page (roff). */
void config_describe_man(FILE *out);

#endif
