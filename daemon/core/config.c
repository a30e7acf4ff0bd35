/* config — INI keys table and inih glue (see config.h). */
#include "autoconf.h"
#include "core/config.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <ini.h>
#include <math.h>
#include <pwd.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

enum key_type { KEY_STRING, KEY_FRACTION, KEY_COUNT, KEY_NUMBER, KEY_BOOL };

/* What a string key holds, for the secrecy checks. */
enum key_secret {
	SECRET_NONE,
	SECRET_VALUE,           /* the value is a password: the configuration file must be private */
	SECRET_FILE,            /* the value names a file holding one: that file must be private */
};

static const struct config_key {
	const char *section;
	const char *name;
	enum key_type type;
	size_t offset;
	const char *default_value;   /* NULL: no default */
	const char *doc;
	enum key_secret secret;
} keys[] = {
	{ "paths", "data", KEY_STRING, offsetof(struct config, data_dir), NULL,
	  "folder holding intents/, faq-data/ and templates/ (default: the installed data)", SECRET_NONE },
	{ "daemon", "user", KEY_STRING, offsetof(struct config, daemon_user), NULL,
	  "user dialogd runs as when started as root: it binds [web] listen as root, then switches for good "
	  "(the store and its folder must be this user's; unset and started as root: dialogd refuses to start unless allow_root)",
	  SECRET_NONE },
	{ "daemon", "group", KEY_STRING, offsetof(struct config, daemon_group), NULL,
	  "group dialogd runs as with user (default: the user's login group; no other group is kept)", SECRET_NONE },
	{ "daemon", "allow_root", KEY_BOOL, offsetof(struct config, allow_root), "no",
	  "yes: run as root when started as root without user (not recommended: only for tests and demonstrations)",
	  SECRET_NONE },
	{ "engine", "min_confidence", KEY_FRACTION, offsetof(struct config, min_confidence), "0.60",
	  "confidence (0 to 1) the best intent needs to be answered automatically", SECRET_NONE },
	{ "engine", "min_margin", KEY_FRACTION, offsetof(struct config, min_margin), "0.15",
	  "lead over the second intent below which the reply covers both", SECRET_NONE },
	{ "engine", "suggest_confidence", KEY_FRACTION, offsetof(struct config, suggest_confidence), "0.25",
	  "chat: a short message whose best intent reaches this (but not min_confidence) gets the subject proposed instead of a handoff", SECRET_NONE },
	{ "engine", "suggest_max_words", KEY_COUNT, offsetof(struct config, suggest_max_words), "4",
	  "chat: longest message (in words) for which subjects are proposed", SECRET_NONE },
#define S(sec, name, field, def, doc) { sec, name, KEY_STRING, offsetof(struct config, field), def, doc, SECRET_NONE }
/* A password given in the file, and a file holding a secret. */
#define P(sec, name, field, doc) { sec, name, KEY_STRING, offsetof(struct config, field), NULL, doc, SECRET_VALUE }
#define F(sec, name, field, doc) { sec, name, KEY_STRING, offsetof(struct config, field), NULL, doc, SECRET_FILE }
#define N(sec, name, field, def, doc) { sec, name, KEY_NUMBER, offsetof(struct config, field), def, doc, SECRET_NONE }
#define B(sec, name, field, def, doc) { sec, name, KEY_BOOL, offsetof(struct config, field), def, doc, SECRET_NONE }
	N("store", "retention_days", store_retention_days, "365",
	  "days a conversation (mail or chat) is kept after its last message, as the widget's privacy line tells visitors: "
	  "what dialogctl purge removes when run without --older-than (run it daily: a cron job or systemd timer)"),
	S("store", "path", store_path, "dialogd.sqlite",
	  "SQLite file holding threads, messages, outbox and mailbox state (relative to the working folder)"),
	S("imap", "url", imap_url, NULL, "support mailbox server, imap://host:port or imaps://host:port (unset: no mail is read)"),
	S("imap", "user", imap_user, NULL, "IMAP login"),
	P("imap", "password", imap_password, "IMAP password (prefer password_file; this file must then be mode 0600)"),
	F("imap", "password_file", imap_password_file, "file whose first line is the IMAP password (mode 0600)"),
	S("imap", "mailbox", imap_mailbox, "INBOX", "folder read for new questions"),
	S("imap", "done_action", imap_done_action, "move",
	  "what happens to a processed message: move (to done_folder) or keyword (flag it with done_keyword); never deleted"),
	S("imap", "done_folder", imap_done_folder, "Trait\xC3\xA9s", "folder processed messages are moved to (created if missing)"),
	S("imap", "done_keyword", imap_done_keyword, "DialogdDone", "IMAP keyword set on processed messages with done_action = keyword"),
	N("imap", "poll_interval", imap_poll_interval, "60", "seconds between two checks when the server has no IDLE"),
	N("imap", "timeout", imap_timeout, "60", "seconds a server may stay silent before the connection is dropped and reopened"),
	N("imap", "reconnect_max", imap_reconnect_max, "300", "longest wait (seconds) between two reconnection attempts"),
	B("imap", "allow_plaintext", imap_allow_plaintext, "no",
	  "allow a password without TLS to a server that is not on a loopback address"),
	B("imap", "tls_verify", imap_tls_verify, "yes",
	  "check the server's certificate (trusted authority, host name) before sending the password; no only for tests"),
	S("imap", "tls_ca_file", imap_tls_ca_file, NULL, "PEM file of the authorities to trust instead of the system's"),
	N("imap", "max_message_size", max_message_size, "10485760",
	  "messages larger than this (bytes) are escalated without their body being read"),
	S("smtp", "url", smtp_url, NULL, "server replies are sent through, smtp://host:port or smtps://host:port (unset: replies wait in the outbox)"),
	S("smtp", "user", smtp_user, NULL, "SMTP login (unset: no authentication)"),
	P("smtp", "password", smtp_password, "SMTP password (prefer password_file; this file must then be mode 0600)"),
	F("smtp", "password_file", smtp_password_file, "file whose first line is the SMTP password (mode 0600)"),
	S("smtp", "from", smtp_from, "Dialoguer avec OCAPIAT <dialoguer@ocapiat.test>",
	  "sender of every reply; its domain is the domain of our Message-IDs"),
	S("smtp", "helo", smtp_helo, "dialogd.localhost", "name given in EHLO"),
	B("smtp", "allow_plaintext", smtp_allow_plaintext, "no",
	  "allow a password without TLS to a server that is not on a loopback address"),
	B("smtp", "tls_verify", smtp_tls_verify, "yes", "check the server's certificate when TLS is used"),
	S("smtp", "tls_ca_file", smtp_tls_ca_file, NULL, "PEM file of the authorities to trust instead of the system's"),
	N("smtp", "timeout", smtp_timeout, "60", "seconds one SMTP transaction may take"),
	N("smtp", "retry_max", smtp_retry_max, "1800", "longest wait (seconds) between two attempts to send a reply"),
	N("smtp", "max_permanent_failures", smtp_max_permanent_failures, "3",
	  "permanent refusals (5xx) after which a reply is marked failed and its thread escalated"),
	N("smtp", "give_up_after", smtp_give_up_after, "172800",
	  "seconds after which a mail still not sent (server away, temporary refusals) is marked failed and its thread escalated"),
	S("mail", "correspondants", correspondants, "correspondants@ocapiat.test",
	  "address notified of every escalated thread"),
	S("mail", "console_url", console_url, NULL,
	  "link to a thread in the console, the thread number is appended (unset: public_url followed by /console/fil/)"),
	N("mail", "burst_limit", burst_limit, "3", "automatic replies to one address within burst_window before it goes to a person"),
	N("mail", "burst_window", burst_window, "600", "seconds of the burst limit"),
	N("mail", "daily_limit", daily_limit, "5", "automatic replies to one address in 24 hours before it goes to a person"),
	N("mail", "bounce_pause", bounce_pause, "86400", "seconds during which an address whose replies bounced gets no automatic reply"),
	N("mail", "domain_limit", domain_limit, "60",
	  "automatic replies to the addresses of one domain in an hour before its mail goes to a person silently (0: none)"),
	N("mail", "global_limit", global_limit, "300",
	  "automatic replies to anyone in an hour before mail goes to a person silently (0: none)"),
	N("mail", "notify_limit", notify_limit, "30",
	  "notifications to the correspondants in an hour sent one by one; beyond, a digest (0: no limit)"),
	N("mail", "digest_interval", digest_interval, "900", "seconds between two digests of notifications"),
	B("rules", "auto_submitted", rule_auto_submitted, "yes", "no reply to mail with Auto-Submitted other than no (RFC 3834)"),
	B("rules", "precedence", rule_precedence, "yes", "no reply to Precedence: bulk, list, junk or auto_reply"),
	B("rules", "list_headers", rule_list_headers, "yes",
	  "no reply to mailing-list mail (List-Id, List-Unsubscribe and the other List-* headers, X-BeenThere, X-Mailman-Version, Mailing-List, X-Mailing-List, X-ML-Name, X-Listserver)"),
	B("rules", "autoreply_headers", rule_autoreply_headers, "yes", "no reply to X-Autoreply, X-Autorespond, or X-Loop naming us"),
	B("rules", "auto_response_suppress", rule_auto_response_suppress, "no",
	  "no reply to Outlook's X-Auto-Response-Suppress (off: Outlook stamps it on mail people write)"),
	B("rules", "empty_return_path", rule_empty_return_path, "yes", "no reply to mail with an empty Return-Path (bounces)"),
	B("rules", "robot_senders", rule_robot_senders, "yes",
	  "no reply to MAILER-DAEMON, postmaster, no-reply and similar senders; a Return-Path of that kind or a bulk sender's bounce address (+bounce-..., @bounce.example.net) sends the mail to a person silently"),
	B("rules", "reports", rule_reports, "yes", "no reply to delivery and read reports (multipart/report)"),
	B("rules", "own_mail", rule_own_mail, "yes", "no reply to mail from the support address itself or with a Message-ID of our domain"),
	B("rules", "list_senders", rule_list_senders, "yes",
	  "mail from list software without List-* headers (Sender or Return-Path owner-x, x-owner, x-request, x-admin, x-bounces, LISTSERV, Majordomo) goes to a person silently"),
	B("rules", "autoreply_markers", rule_autoreply_markers, "yes",
	  "mail whose subject or first lines match markers_file (out-of-office replies, read receipts, challenge-response) goes to a person silently"),
	S("rules", "markers_file", markers_file, NULL,
	  "the markers of autoreply_markers, one per line (unset: intents/autoreply.tsv of the data folder)"),
	B("rules", "spam_verdicts", rule_spam_verdicts, "yes",
	  "mail the receiving MTA marked as spam (X-Spam-Flag: YES, X-Spam-Status: Yes, X-Spam: Yes, X-Rspamd-Action: reject, add header or rewrite subject) goes to a person silently"),
	N("security", "reminder_limit", reminder_limit, "3",
	  "identifier reminders per requester address and hour; beyond, the same reply and nothing sent"),
	N("security", "status_limit", status_limit, "10",
	  "dossier status look-ups per requester address and hour; beyond, the same reply and nothing sent"),
	B("security", "require_authenticated_sender", require_authenticated_sender, "no",
	  "give a dossier's status by mail only when the receiving MTA's Authentication-Results shows dkim=pass or spf=pass for the sender's domain"),
	S("security", "authserv_id", authserv_id, NULL,
	  "the name our receiving MTA writes first in its Authentication-Results header (required with require_authenticated_sender: a header the sender wrote is not trusted)"),
	N("security", "reset_limit", reset_limit, "3",
	  "password resets per requester address and per account and hour; beyond, the same reply and nothing sent"),
	N("security", "reset_ttl", reset_ttl, "1800", "seconds a password reset link stays valid"),
	N("security", "secret_mail_delay", secret_mail_delay, "3",
	  "seconds a mail to an address on file (reset link, identifier reminder, one-time code, dossier status) waits after the requester's reply, so that it never delays that reply at the mail server (0: none, at most 3600)"),
	N("security", "code_attempts", code_attempts, "5",
	  "chat: wrong one-time codes accepted before the code is void (per code)"),
	N("security", "code_ttl", code_ttl, "600", "chat: seconds a one-time code stays valid"),
	S("directory", "backend", directory_backend, "sqlite",
	  "where accounts and dossiers are looked up: sqlite (the store, filled by dialogctl import) or http (the extranet's API at url)"),
	S("directory", "url", directory_url, NULL, "base URL of the extranet's directory API, e.g. https://extranet.example/api/v1 (backend = http)"),
	S("directory", "user", directory_user, NULL, "HTTP Basic user name for the directory API (unset: no Basic authentication)"),
	P("directory", "password", directory_password,
	  "HTTP Basic password for the directory API (prefer password_file; this file must then be mode 0600)"),
	F("directory", "password_file", directory_password_file, "file whose first line is the directory API password (mode 0600)"),
	F("directory", "api_key_file", directory_api_key_file,
	  "file whose first line is a bearer token sent as Authorization: Bearer (instead of Basic; mode 0600)"),
	N("directory", "timeout", directory_timeout, "5",
	  "seconds a directory API call may take in all; a slower API means the request is escalated"),
	N("directory", "connect_timeout", directory_connect_timeout, "2", "seconds to connect to the directory API"),
	B("directory", "tls_verify", directory_tls_verify, "yes", "check the directory API's certificate; no only for tests"),
	S("directory", "tls_ca_file", directory_tls_ca_file, NULL, "PEM file of the authorities to trust instead of the system's"),
	B("directory", "allow_plaintext", directory_allow_plaintext, "no",
	  "allow http:// (no TLS) to a directory API that is not on a loopback address"),
	S("web", "listen", web_listen, "127.0.0.1:8080", "address and port of the chat, the console and the password reset page (loopback by default)"),
	S("web", "public_url", web_public_url, "http://127.0.0.1:8080",
	  "address of this server as users reach it (through the reverse proxy): the base of the reset links sent by mail"),
	N("web", "header_timeout", web_header_timeout, "10",
	  "seconds a client has to send a whole request head (and, on a kept-alive connection, the next one) before it is closed"),
	N("web", "body_timeout", web_body_timeout, "30", "seconds a client has to send a whole request body before it is closed"),
	N("web", "connections_per_address", web_connections_per_address, "32",
	  "connections one client address may hold at once (a reverse proxy on the same host counts as one address)"),
	S("web", "allowed_origins", web_allowed_origins, NULL,
	  "origins of the sites allowed to open the chat WebSocket (the pages embedding the widget), separated by spaces, "
	  "e.g. https://www.ocapiat.fr https://extranet.ocapiat.fr; any other Origin gets 403 (the origin of public_url, whose home page carries the widget, is always allowed)"),
	S("web", "trusted_proxies", web_trusted_proxies, NULL,
	  "numeric addresses of the reverse proxies in front of dialogd, separated by spaces (e.g. 127.0.0.1 ::1): for a chat "
	  "connection from one of them, the client's address is the last one of its X-Forwarded-For header (per-address limits, "
	  "the audit's requester); unset: every connection's own address"),
	N("chat", "session_ttl", chat_session_ttl, "86400",
	  "seconds a chat session (its token, kept by the visitor's browser) stays valid after its last use"),
	N("chat", "max_frame", chat_max_frame, "16384",
	  "bytes a WebSocket message may have, fragments together; a larger one closes the connection (1009)"),
	N("chat", "max_text", chat_max_text, "2000", "bytes of a visitor's message text; a longer one is refused (too_long)"),
	N("chat", "max_errors", chat_max_errors, "3",
	  "frames refused (not JSON, unknown type, a wrong field) after which the connection is closed (1008)"),
	N("chat", "messages_per_minute", chat_messages_per_minute, "20",
	  "visitor messages one connection may send in a minute; beyond, refused (rate_limited) until the minute is over (0: no limit)"),
	N("chat", "address_messages_per_minute", chat_address_messages_per_minute, "60",
	  "visitor messages all connections from one address may send in a minute (0: no limit)"),
	N("chat", "connections_per_address", chat_connections_per_address, "20",
	  "chat connections open at once from one address; beyond, the upgrade gets 403 (0: no limit)"),
	N("chat", "ping_interval", chat_ping_interval, "30", "seconds without traffic after which a chat connection is pinged"),
	N("chat", "idle_timeout", chat_idle_timeout, "90",
	  "seconds without any frame from the client (a pong counts) after which a chat connection is closed"),
	S("chat", "hours", chat_hours, NULL,
	  "when the correspondants answer, as the chat tells a visitor handed over to them (French text, completing "
	  "templates/chat_handoff_hours.txt); unset: the text of templates/chat_hours.txt"),
	P("chat", "identity_secret", chat_identity_secret,
	  "secret shared with the extranet that signs the identity tokens of its logged-in users (HS256; at least 32 bytes; "
	  "prefer identity_secret_file; this file must then be mode 0600); unset: no visitor is identified"),
	F("chat", "identity_secret_file", chat_identity_secret_file,
	  "file whose first line is the identity token secret (mode 0600)"),
	N("chat", "identity_max_ttl", chat_identity_max_ttl, "900",
	  "seconds ahead an identity token may expire at most; a token valid longer is refused"),
	S("chat", "persistence", chat_persistence, "tab",
	  "where the widget keeps a conversation on the visitor's device: tab (sessionStorage: it survives reloads and page "
	  "changes in that tab, and ends with it) or browser (localStorage: shared by the site's tabs, which use one socket "
	  "between them, until the visitor ends it)"),
	B("console", "require_totp", console_require_totp, "no",
	  "the correspondants' console: an account signs in only with its second factor (TOTP); an account without one "
	  "cannot sign in until dialogctl correspondant gives it one"),
	N("console", "idle_ttl", console_idle_ttl, "1800", "seconds a console session lives without being used (at least 60)"),
	N("console", "absolute_ttl", console_absolute_ttl, "43200",
	  "seconds a console session lives after its sign-in, used or not (at least idle_ttl)"),
	B("log", "syslog", log_syslog, "no", "log to syslog (daemon facility) instead of standard error"),
#undef S
#undef P
#undef F
#undef N
#undef B
};

#define KEYS (sizeof(keys) / sizeof(*keys))

static int
set_value(struct config *cfg, const struct config_key *k, const char *value, char **why_r)
{
	void *field = (char *)cfg + k->offset;
	switch (k->type) {
	case KEY_STRING:
		if (*value == '\0') {
			*why_r = xasprintf("%s: empty value", k->name);
			return -1;
		}
		free(*(char **)field);
		*(char **)field = xstrdup(value);
		return 0;
	case KEY_COUNT: {
		char *end;
		errno = 0;
		unsigned long n = strtoul(value, &end, 10);
		if (end == value || *end != '\0' || errno != 0 || n > 1000 || value[0] == '-') {
			*why_r = xasprintf("%s: \"%s\" is not a whole number from 0 to 1000", k->name, value);
			return -1;
		}
		*(unsigned *)field = (unsigned)n;
		return 0;
	}
	case KEY_NUMBER: {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(value, &end, 10);
		if (end == value || *end != '\0' || errno != 0 || value[0] == '-' || n > 1000000000000ULL) {
			*why_r = xasprintf("%s: \"%s\" is not a whole number", k->name, value);
			return -1;
		}
		*(unsigned long *)field = (unsigned long)n;
		return 0;
	}
	case KEY_BOOL: {
		static const char *const yes[] = { "yes", "true", "on", "1" }, *const no[] = { "no", "false", "off", "0" };
		for (size_t i = 0; i < 4; i++) {
			if (strcasecmp(value, yes[i]) == 0 || strcasecmp(value, no[i]) == 0) {
				*(bool *)field = strcasecmp(value, yes[i]) == 0;
				return 0;
			}
		}
		*why_r = xasprintf("%s: \"%s\" is not yes or no", k->name, value);
		return -1;
	}
	case KEY_FRACTION: {
		char *end;
		errno = 0;
		double d = strtod(value, &end);
		if (end == value || *end != '\0' || errno != 0 || !isfinite(d) || d < 0 || d > 1) {
			*why_r = xasprintf("%s: \"%s\" is not a number from 0 to 1", k->name, value);
			return -1;
		}
		*(double *)field = d;
		return 0;
	}
	}
	return -1;
}

void
config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->daemon_uid = (uid_t)-1;
	cfg->daemon_gid = (gid_t)-1;
	for (size_t i = 0; i < KEYS; i++) {
		char *why = NULL;
		if (keys[i].default_value != NULL && set_value(cfg, &keys[i], keys[i].default_value, &why) < 0)
			abort();  /* a default that does not parse is a bug of this table */
	}
}

void
config_clear(struct config *cfg)
{
	for (size_t i = 0; i < KEYS; i++) {
		if (keys[i].type == KEY_STRING) {
			char **field = (char **)((char *)cfg + keys[i].offset);
			free(*field);
			*field = NULL;
		}
	}
}

struct parse_state {
	struct config *cfg;
	const char *path;
	FILE *file;
	unsigned line;          /* line inih is handling, counted by our reader */
	struct strbuf errors;
};

/* inih reads through this so that errors can carry line numbers. */
static char *
read_line(char *buf, int size, void *stream)
{
	struct parse_state *st = stream;
	char *r = fgets(buf, size, st->file);
	if (r != NULL)
		st->line++;
	return r;
}

static int
on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *st = user;
	for (size_t i = 0; i < KEYS; i++) {
		if (strcmp(keys[i].section, section) != 0 || strcmp(keys[i].name, name) != 0)
			continue;
		char *why = NULL;
		if (set_value(st->cfg, &keys[i], value, &why) < 0) {
			strbuf_addf(&st->errors, "%s:%u: [%s] %s\n", st->path, st->line, section, why);
			free(why);
		}
		return 1;
	}
	strbuf_addf(&st->errors, "%s:%u: unknown key \"%s\" in [%s]\n", st->path, st->line, name, section);
	return 1;
}

static bool
has_scheme(const char *url, const char *a, const char *b)
{
	return url == NULL || str_starts_with(url, a) || str_starts_with(url, b);
}

/* Finds [daemon] user and group in the system's databases (cfg->daemon_uid, _gid). */
static void
resolve_daemon_ids(struct config *cfg, const char *path, struct strbuf *errors)
{
	cfg->daemon_uid = (uid_t)-1;
	cfg->daemon_gid = (gid_t)-1;
	if (cfg->daemon_user != NULL) {
		/* Not found and a failed look-up both give NULL (errno is not reliable here). */
		const struct passwd *pw = getpwnam(cfg->daemon_user);
		if (pw == NULL) {
			strbuf_addf(errors, "%s: [daemon] user: no user \"%s\" on this system (useradd --system %s)\n", path,
				    cfg->daemon_user, cfg->daemon_user);
		} else {
			cfg->daemon_uid = pw->pw_uid;
			cfg->daemon_gid = pw->pw_gid;
		}
	}
	if (cfg->daemon_group != NULL) {
		const struct group *gr = getgrnam(cfg->daemon_group);
		if (cfg->daemon_user == NULL)
			strbuf_addf(errors, "%s: [daemon] group is set but user is not\n", path);
		else if (gr == NULL)
			strbuf_addf(errors, "%s: [daemon] group: no group \"%s\" on this system\n", path, cfg->daemon_group);
		else
			cfg->daemon_gid = gr->gr_gid;
	}
}

/* Checks that need several keys or a closed set of values. */
static void
check_values(const struct config *cfg, const char *path, struct strbuf *errors)
{
	if (!has_scheme(cfg->imap_url, "imap://", "imaps://"))
		strbuf_addf(errors, "%s: [imap] url: \"%s\" must start with imap:// or imaps://\n", path, cfg->imap_url);
	if (!has_scheme(cfg->smtp_url, "smtp://", "smtps://"))
		strbuf_addf(errors, "%s: [smtp] url: \"%s\" must start with smtp:// or smtps://\n", path, cfg->smtp_url);
	if (strcmp(cfg->imap_done_action, "move") != 0 && strcmp(cfg->imap_done_action, "keyword") != 0)
		strbuf_addf(errors, "%s: [imap] done_action: \"%s\" must be move or keyword\n", path, cfg->imap_done_action);
	if (cfg->require_authenticated_sender && cfg->authserv_id == NULL)
		strbuf_addf(errors, "%s: [security] require_authenticated_sender needs authserv_id (the name your MTA "
			    "writes in Authentication-Results)\n", path);
	/* Zero would mean retrying in a tight loop, or giving up at once. */
	if (cfg->smtp_retry_max < 1)
		strbuf_addf(errors, "%s: [smtp] retry_max must be at least 1 (second)\n", path);
	if (cfg->smtp_give_up_after < 60)
		strbuf_addf(errors, "%s: [smtp] give_up_after must be at least 60 (seconds)\n", path);
	if (cfg->imap_reconnect_max < 1 || cfg->imap_poll_interval < 1)
		strbuf_addf(errors, "%s: [imap] reconnect_max and poll_interval must be at least 1 (second)\n", path);
	if (cfg->imap_url != NULL && cfg->imap_user == NULL)
		strbuf_addf(errors, "%s: [imap] url is set but user is not\n", path);
	if (cfg->imap_url != NULL && cfg->imap_password == NULL && cfg->imap_password_file == NULL)
		strbuf_addf(errors, "%s: [imap] url is set but neither password nor password_file\n", path);
	if (strcmp(cfg->directory_backend, "sqlite") != 0 && strcmp(cfg->directory_backend, "http") != 0)
		strbuf_addf(errors, "%s: [directory] backend: \"%s\" must be sqlite or http\n", path, cfg->directory_backend);
	else if (strcmp(cfg->directory_backend, "http") == 0 && cfg->directory_url == NULL)
		strbuf_addf(errors, "%s: [directory] backend = http needs url\n", path);
	if (!has_scheme(cfg->directory_url, "http://", "https://"))
		strbuf_addf(errors, "%s: [directory] url: \"%s\" must start with http:// or https://\n", path, cfg->directory_url);
	if (cfg->web_header_timeout == 0 || cfg->web_body_timeout == 0 || cfg->web_connections_per_address == 0)
		strbuf_addf(errors, "%s: [web] header_timeout, body_timeout and connections_per_address must be at least 1\n",
			    path);
	if (!has_scheme(cfg->web_public_url, "http://", "https://"))
		strbuf_addf(errors, "%s: [web] public_url: \"%s\" must start with http:// or https://\n", path, cfg->web_public_url);
	char *host = NULL, *why = NULL;
	int port;
	bool ipv6;
	if (listen_parse(cfg->web_listen, &host, &port, &ipv6, &why) < 0)
		strbuf_addf(errors, "%s: [web] listen: %s\n", path, why);
	free(host);
	free(why);
	if (cfg->directory_timeout < 1 || cfg->directory_connect_timeout < 1)
		strbuf_addf(errors, "%s: [directory] timeout and connect_timeout must be at least 1 (second)\n", path);
	if (cfg->reset_ttl < 60 || cfg->code_ttl < 60)
		strbuf_addf(errors, "%s: [security] reset_ttl and code_ttl must be at least 60 (seconds)\n", path);
	if (cfg->secret_mail_delay > 3600)
		strbuf_addf(errors, "%s: [security] secret_mail_delay must be at most 3600 (seconds)\n", path);
	if (cfg->code_attempts < 1)
		strbuf_addf(errors, "%s: [security] code_attempts must be at least 1\n", path);
	for (const char *k = cfg->imap_done_keyword; *k; k++)
		if (strchr("(){ %*\"\\]", *k) != NULL || (unsigned char)*k < 0x21 || (unsigned char)*k > 0x7e) {
			strbuf_addf(errors, "%s: [imap] done_keyword: \"%s\" is not an IMAP keyword (letters, digits, $ - _)\n",
				    path, cfg->imap_done_keyword);
			break;
		}
}

/* An origin as a browser sends it: scheme, host, optional port; no path, no user. */
static bool
origin_shape(const char *o, size_t n)
{
	size_t scheme = n >= 7 && strncmp(o, "http://", 7) == 0 ? 7 : n >= 8 && strncmp(o, "https://", 8) == 0 ? 8 : 0;
	if (scheme == 0 || scheme == n)
		return false;
	for (size_t i = scheme; i < n; i++)
		if (strchr("/?#@\\", o[i]) != NULL || (unsigned char)o[i] <= 0x20 || (unsigned char)o[i] >= 0x7f)
			return false;
	return true;
}

/* [web] allowed_origins and [chat]. */
static void
check_chat_values(const struct config *cfg, const char *path, struct strbuf *errors)
{
	for (const char *p = cfg->web_allowed_origins; p != NULL && *p;) {
		size_t n = strcspn(p, " \t");
		if (n > 0 && !origin_shape(p, n))
			strbuf_addf(errors, "%s: [web] allowed_origins: \"%.*s\" is not an origin (https://host or https://host:port, "
				    "no path, no trailing /)\n", path, (int)n, p);
		p += n;
		p += strspn(p, " \t");
	}
	for (const char *p = cfg->web_trusted_proxies; p != NULL && *p;) {
		size_t n = strcspn(p, " \t");
		char *one = xstrndup(p, n);
		unsigned char addr[16];
		if (n > 0 && inet_pton(AF_INET, one, addr) != 1 && inet_pton(AF_INET6, one, addr) != 1)
			strbuf_addf(errors, "%s: [web] trusted_proxies: \"%s\" is not a numeric IPv4 or IPv6 address\n", path, one);
		free(one);
		p += n;
		p += strspn(p, " \t");
	}
	if (strcmp(cfg->chat_persistence, "tab") != 0 && strcmp(cfg->chat_persistence, "browser") != 0)
		strbuf_addf(errors, "%s: [chat] persistence: \"%s\" must be tab or browser\n", path, cfg->chat_persistence);
	if (cfg->store_retention_days < 1 || cfg->store_retention_days > 36500)
		strbuf_addf(errors, "%s: [store] retention_days must be from 1 to 36500 (days)\n", path);
	if (cfg->chat_session_ttl < 60)
		strbuf_addf(errors, "%s: [chat] session_ttl must be at least 60 (seconds)\n", path);
	if (cfg->chat_max_frame < 256 || cfg->chat_max_frame > 1048576)
		strbuf_addf(errors, "%s: [chat] max_frame must be from 256 to 1048576 (bytes)\n", path);
	if (cfg->chat_max_text < 1 || cfg->chat_max_text + 256 > cfg->chat_max_frame)
		strbuf_addf(errors, "%s: [chat] max_text must be at least 1 and leave 256 bytes of max_frame for the rest of the frame\n",
			    path);
	if (cfg->chat_max_errors < 1)
		strbuf_addf(errors, "%s: [chat] max_errors must be at least 1\n", path);
	if (cfg->chat_identity_max_ttl < 10 || cfg->chat_identity_max_ttl > 86400)
		strbuf_addf(errors, "%s: [chat] identity_max_ttl: %lu must be between 10 and 86400 seconds\n", path,
			    cfg->chat_identity_max_ttl);
	if (cfg->console_idle_ttl < 60 || cfg->console_absolute_ttl < cfg->console_idle_ttl)
		strbuf_addf(errors, "%s: [console] idle_ttl must be at least 60 and absolute_ttl at least idle_ttl (seconds)\n",
			    path);
	if (cfg->chat_ping_interval < 1 || cfg->chat_idle_timeout <= cfg->chat_ping_interval || cfg->chat_idle_timeout > 65535)
		strbuf_addf(errors, "%s: [chat] ping_interval must be at least 1 and below idle_timeout, at most 65535 (seconds)\n",
			    path);
}

/* "readable by its group and others": who gets what from the group and other bits of
 * mode (reading named first, as the worst; 0604 names others only). */
static void
describe_exposure(struct strbuf *sb, mode_t mode)
{
	static const struct {
		mode_t group, others;
		const char *what;
	} kinds[] = {
		{ S_IRGRP, S_IROTH, "readable by" }, { S_IWGRP, S_IWOTH, "writable by" }, { S_IXGRP, S_IXOTH, "open to" },
	};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds); i++) {
		bool g = (mode & kinds[i].group) != 0, o = (mode & kinds[i].others) != 0;
		if (g || o) {
			strbuf_addf(sb, "%s %s", kinds[i].what, g && o ? "its group and others" : g ? "its group" : "others");
			return;
		}
	}
}

/* OpenSMTPD's check_file_secrecy: path (opened, st from fstat) holds what ("a password
 * ([smtp] password)"); its group and others get no permission bit, and it belongs to
 * root, to the user running this or to [daemon] user, since its owner can change it.
 * Appends one line per problem to errors; returns 0 or -1. */
static int
check_secrecy(const struct config *cfg, const char *path, const struct stat *st, const char *what,
	      struct strbuf *errors)
{
	int rc = 0;
	if ((st->st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		strbuf_addf(errors, "%s: holds %s but is ", path, what);
		describe_exposure(errors, st->st_mode);
		strbuf_addf(errors, " (mode %04o): chmod 600 it\n", (unsigned)(st->st_mode & 07777));
		rc = -1;
	}
	uid_t self = geteuid();
	bool daemon_set = cfg->daemon_uid != (uid_t)-1;
	if (st->st_uid != 0 && st->st_uid != self && !(daemon_set && st->st_uid == cfg->daemon_uid)) {
		char *owner = user_name(st->st_uid);
		uid_t runs_as = daemon_set ? cfg->daemon_uid : self;
		char *runner = user_name(runs_as);
		if (runs_as == 0)
			strbuf_addf(errors, "%s: holds %s but is owned by %s, who could change it: chown root it\n", path, what,
				    owner);
		else
			strbuf_addf(errors, "%s: holds %s but is owned by %s, who could change it: chown it to root or to %s\n",
				    path, what, owner, runner);
		free(owner);
		free(runner);
		rc = -1;
	}
	return rc;
}

/* What a secret file holds, for messages: "a password ([imap] password_file)". */
static char *
secret_what(const struct config_key *k)
{
	return xasprintf("%s ([%s] %s)", strstr(k->name, "password") != NULL ? "a password" : "a secret", k->section,
			 k->name);
}

/* Opens the secret file named by k and checks it. Returns the descriptor, or -1 with
 * the reasons appended to errors. */
static int
secret_file_open(const struct config *cfg, const struct config_key *k, struct strbuf *errors)
{
	const char *path = *(char *const *)((const char *)cfg + k->offset);
	/* O_NONBLOCK: a FIFO in its place must not hang the start-up (refused below). */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		strbuf_addf(errors, "%s: cannot open ([%s] %s): %s\n", path, k->section, k->name, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	char *what = secret_what(k);
	int rc = 0;
	if (!S_ISREG(st.st_mode)) {
		strbuf_addf(errors, "%s: holds %s but is not a regular file\n", path, what);
		rc = -1;
	} else {
		rc = check_secrecy(cfg, path, &st, what, errors);
	}
	free(what);
	if (rc < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
config_check_secret_files(const struct config *cfg, char **error_r)
{
	struct strbuf errors = {0};
	for (size_t i = 0; i < KEYS; i++) {
		if (keys[i].secret != SECRET_FILE || *(char *const *)((const char *)cfg + keys[i].offset) == NULL)
			continue;
		int fd = secret_file_open(cfg, &keys[i], &errors);
		if (fd >= 0)
			close(fd);
	}
	if (errors.len == 0)
		return 0;
	errors.data[errors.len - 1] = '\0';
	*error_r = strbuf_detach(&errors);
	return -1;
}

static const struct config_key *
key_find(const char *section, const char *name)
{
	for (size_t i = 0; i < KEYS; i++)
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* The first line of the secret file k names (at most 4096 bytes, no NUL byte). */
static char *
secret_file_read(const struct config *cfg, const struct config_key *k, char **error_r)
{
	struct strbuf errors = {0};
	int fd = secret_file_open(cfg, k, &errors);
	if (fd < 0) {
		errors.data[errors.len - 1] = '\0';
		*error_r = strbuf_detach(&errors);
		return NULL;
	}
	const char *path = *(char *const *)((const char *)cfg + k->offset);
	enum { MAX = 4096 };
	char *text = xmalloc(MAX + 2);
	size_t len = 0;
	ssize_t n = 0;
	while (len <= MAX && (n = read(fd, text + len, MAX + 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += (size_t)n;
	}
	int saved = errno;
	close(fd);
	const char *why = n < 0 ? strerror(saved) : len > MAX ? "larger than 4096 bytes" :
			  memchr(text, '\0', len) != NULL ? "holds a NUL byte" : NULL;
	if (why != NULL) {
		*error_r = xasprintf("%s: cannot read ([%s] %s): %s", path, k->section, k->name, why);
		free(text);
		return NULL;
	}
	text[len] = '\0';
	text[strcspn(text, "\r\n")] = '\0';
	return text;
}

int
config_secret(const struct config *cfg, const char *section, const char *name, char **secret_r, char **error_r)
{
	*secret_r = NULL;
	char *file_name = xasprintf("%s_file", name);
	const struct config_key *value_key = key_find(section, name), *file_key = key_find(section, file_name);
	free(file_name);
	if (value_key == NULL && file_key == NULL)
		abort();  /* a secret this table does not have: a bug of the caller */
	if (file_key != NULL && *(char *const *)((const char *)cfg + file_key->offset) != NULL) {
		*secret_r = secret_file_read(cfg, file_key, error_r);
		return *secret_r != NULL ? 0 : -1;
	}
	const char *value = value_key != NULL ? *(char *const *)((const char *)cfg + value_key->offset) : NULL;
	*secret_r = value != NULL ? xstrdup(value) : NULL;
	return 0;
}

/* The configuration file itself, when one of its keys is a password. */
static void
check_file_secrecy(const struct config *cfg, const char *path, const struct stat *st, struct strbuf *errors)
{
	struct strbuf names = {0};
	for (size_t i = 0; i < KEYS; i++)
		if (keys[i].secret == SECRET_VALUE && *(char *const *)((const char *)cfg + keys[i].offset) != NULL)
			strbuf_addf(&names, "%s[%s] %s", names.len > 0 ? ", " : "", keys[i].section, keys[i].name);
	if (names.len > 0) {
		char *what = xasprintf("a password (%s)", names.data);
		check_secrecy(cfg, path, st, what, errors);
		free(what);
	}
	strbuf_free(&names);
}

int
config_load(struct config *cfg, const char *path, char **error_r)
{
	struct parse_state st = { cfg, path, fopen(path, "re"), 0, {0} };
	struct stat file_st;
	if (st.file == NULL || fstat(fileno(st.file), &file_st) < 0) {
		*error_r = xasprintf("%s: cannot open: %s", path, strerror(errno));
		if (st.file != NULL)
			fclose(st.file);
		return -1;
	}
	int rc = ini_parse_stream(read_line, &st, on_key, &st);
	fclose(st.file);
	if (rc > 0)  /* on_key never fails, so rc is a line inih could not parse */
		strbuf_addf(&st.errors, "%s:%d: syntax error (expected [section] or key = value)\n", path, rc);
	else if (rc < 0)
		strbuf_addf(&st.errors, "%s: cannot read\n", path);
	resolve_daemon_ids(cfg, path, &st.errors);
	check_values(cfg, path, &st.errors);
	check_chat_values(cfg, path, &st.errors);
	/* Checked on the file just read (fstat), whatever the path now leads to. */
	check_file_secrecy(cfg, path, &file_st, &st.errors);
	if (st.errors.len > 0) {
		st.errors.data[st.errors.len - 1] = '\0';
		*error_r = strbuf_detach(&st.errors);
		return -1;
	}
	return 0;
}

void
config_describe(FILE *out)
{
	const char *section = "";
	for (size_t i = 0; i < KEYS; i++) {
		if (strcmp(section, keys[i].section) != 0) {
			section = keys[i].section;
			fprintf(out, "[%s]\n", section);
		}
		fprintf(out, "# %s\n%s%s = %s\n", keys[i].doc, keys[i].default_value ? "" : "# ",
			keys[i].name, keys[i].default_value ? keys[i].default_value : "");
	}
}

/* Writes s for roff: backslashes doubled, a leading dot or quote protected. */
static void
roff_text(FILE *out, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", out);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", out);
		else if (*s == '-')
			fputs("\\-", out);
		else
			fputc(*s, out);
	}
}

void
config_describe_man(FILE *out)
{
	fputs(".TH DIALOGD.CONF 5 \"\" \"" PACKAGE_STRING "\" \"File formats\"\n"
	      ".SH NAME\ndialogd.conf \\- configuration of dialogd and dialogctl\n"
	      ".SH SYNOPSIS\n\\fBdialogd \\-c\\fR \\fIFILE\\fR, \\fBdialogctl \\-c\\fR \\fIFILE\\fR \\fICOMMAND\\fR\n"
	      ".SH DESCRIPTION\n"
	      "An INI file: \\fB[section]\\fR lines, then \\fIkey\\fR \\fB=\\fR \\fIvalue\\fR lines; "
	      "lines starting with ; or # are comments. Every key is optional; an unknown key, a value "
	      "out of range or a missing companion key is reported with the file and line, and the "
	      "program does not start. dialogctl reads the same file as dialogd, so that "
	      "\\fBdialogctl threads\\fR, \\fBoutbox\\fR and \\fBstatus\\fR read the daemon's store.\n"
	      ".PP\nPlain-text passwords travel only to loopback addresses unless allowed; "
	      "STARTTLS is used whenever the server offers it.\n"
	      ".SH KEYS\n", out);
	const char *section = "";
	for (size_t i = 0; i < KEYS; i++) {
		if (strcmp(section, keys[i].section) != 0) {
			section = keys[i].section;
			fprintf(out, ".SS [%s]\n", section);
		}
		fputs(".TP\n\\fB", out);
		roff_text(out, keys[i].name);
		fputs("\\fR = ", out);
		roff_text(out, keys[i].default_value ? keys[i].default_value : "(unset)");
		fputc('\n', out);
		roff_text(out, keys[i].doc);
		fputc('\n', out);
	}
	fputs(".SH EXAMPLE\n.nf\n[store]\npath = /var/lib/dialogd/dialogd.sqlite\n[imap]\n"
	      "url = imaps://imap.ocapiat.test:993\nuser = dialoguer@ocapiat.test\npassword_file = /etc/dialogd/imap.secret\n"
	      "[smtp]\nurl = smtp://smtp.ocapiat.test:587\nuser = dialoguer@ocapiat.test\n"
	      "password_file = /etc/dialogd/smtp.secret\nfrom = Dialoguer avec OCAPIAT <dialoguer@ocapiat.test>\n"
	      "[mail]\ncorrespondants = correspondants@ocapiat.test\n.fi\n"
	      ".SH SEE ALSO\n\\fBdialogctl config\\fR prints every key with its default.\n", out);
}
