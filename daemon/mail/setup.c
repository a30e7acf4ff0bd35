/* setup — see setup.h. */
#include "autoconf.h"
#include "mail/setup.h"
#include "formats/mail_compose.h"
#include "engine/engine.h"
#include "core/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The no-reply rules of [rules] (RFC 3834), with our own address and domain. */
static void
policy_from_config(struct mail_setup *m, const struct config *cfg)
{
	struct mail_settings *ms = &m->mail;
	mail_policy_default(&ms->policy);
	ms->policy.own_address = m->from_address;
	ms->policy.own_domain = m->domain;
	ms->policy.auto_submitted = cfg->rule_auto_submitted;
	ms->policy.precedence = cfg->rule_precedence;
	ms->policy.list_headers = cfg->rule_list_headers;
	ms->policy.autoreply_headers = cfg->rule_autoreply_headers;
	ms->policy.auto_response_suppress = cfg->rule_auto_response_suppress;
	ms->policy.empty_return_path = cfg->rule_empty_return_path;
	ms->policy.robot_senders = cfg->rule_robot_senders;
	ms->policy.reports = cfg->rule_reports;
	ms->policy.own_mail = cfg->rule_own_mail;
	ms->policy.list_senders = cfg->rule_list_senders;
	ms->policy.autoreply_markers = cfg->rule_autoreply_markers;
	ms->policy.spam_verdicts = cfg->rule_spam_verdicts;
	ms->policy.markers = m->markers;
}

/* The account actions' limits and who they speak as ([security], [mail], [web]). */
static void
actions_from_config(struct mail_setup *m, const struct config *cfg)
{
	struct action_settings *as = &m->mail.actions;
	as->notify.sender = (struct sender_identity){ .name = m->from_name, .address = m->from_address, .domain = m->domain };
	as->notify.correspondants = m->correspondants;
	as->notify.console_url = m->console_url;
	as->notify.notify_limit = cfg->notify_limit;
	as->notify.digest_interval = cfg->digest_interval;
	as->reminder_limit = cfg->reminder_limit;
	as->status_limit = cfg->status_limit;
	as->reset_limit = cfg->reset_limit;
	as->reset_ttl = cfg->reset_ttl;
	as->mail_delay = cfg->secret_mail_delay;
	as->code_attempts = cfg->code_attempts;
	as->code_ttl = cfg->code_ttl;
	as->public_url = cfg->web_public_url;
	as->chat_hours = cfg->chat_hours;
}

/* The IMAP reader's and the SMTP sender's servers. */
static void
servers_from_config(struct mail_setup *m, const struct config *cfg)
{
	m->imap = (struct imap_settings){
		.url = cfg->imap_url, .user = cfg->imap_user, .password = m->imap_password, .mailbox = cfg->imap_mailbox,
		.move_when_done = strcmp(cfg->imap_done_action, "move") == 0, .done_folder = cfg->imap_done_folder,
		.done_keyword = cfg->imap_done_keyword, .poll_interval = cfg->imap_poll_interval,
		.timeout = cfg->imap_timeout, .reconnect_max = cfg->imap_reconnect_max,
		.allow_plaintext = cfg->imap_allow_plaintext, .tls_verify = cfg->imap_tls_verify,
		.tls_ca_file = cfg->imap_tls_ca_file, .store_path = cfg->store_path,
	};
	m->smtp = (struct smtp_settings){
		.url = cfg->smtp_url, .user = cfg->smtp_user, .password = m->smtp_password, .helo = cfg->smtp_helo,
		.allow_plaintext = cfg->smtp_allow_plaintext, .tls_verify = cfg->smtp_tls_verify,
		.tls_ca_file = cfg->smtp_tls_ca_file, .timeout = cfg->smtp_timeout,
		.retry_max = cfg->smtp_retry_max, .max_permanent_failures = cfg->smtp_max_permanent_failures,
		.give_up_after = cfg->smtp_give_up_after,
		.store_path = cfg->store_path,
	};
}

/* Who we are: [smtp] from's address and its domain. */
static int
identity_from_config(struct mail_setup *m, const struct config *cfg, char **error_r)
{
	if (mail_address_split(cfg->smtp_from, &m->from_name, &m->from_address) < 0) {
		*error_r = xasprintf("[smtp] from: \"%s\" holds no address", cfg->smtp_from);
		return -1;
	}
	m->domain = mail_address_domain(m->from_address);
	return 0;
}

int
mail_setup_rules(struct mail_setup *m, const struct config *cfg, const char *data_dir, char **error_r)
{
	memset(m, 0, sizeof(*m));
	if (identity_from_config(m, cfg, error_r) < 0)
		return -1;
	policy_from_config(m, cfg);
	return mail_setup_load_markers(m, cfg, data_dir, error_r);
}

int
mail_setup_init(struct mail_setup *m, const struct config *cfg, char **error_r)
{
	memset(m, 0, sizeof(*m));
	/* The thread's page in the console (daemon/web/console.c serves /console/fil/ID). */
	if (cfg->console_url != NULL) {
		m->console_url = xstrdup(cfg->console_url);
	} else {
		size_t n = strlen(cfg->web_public_url);
		m->console_url = xasprintf("%.*s/console/fil/", (int)(n > 0 && cfg->web_public_url[n - 1] == '/' ? n - 1 : n),
					   cfg->web_public_url);
	}
	if (identity_from_config(m, cfg, error_r) < 0)
		return -1;
	char *name = NULL;
	int bad = cfg->correspondants != NULL && mail_address_split(cfg->correspondants, &name, &m->correspondants) < 0;
	free(name);
	if (bad) {
		*error_r = xasprintf("[mail] correspondants: \"%s\" is not an address", cfg->correspondants);
		return -1;
	}
	/* Each secret file is checked (mode 0600, owner) on the descriptor it is read from. */
	if (config_secret(cfg, "imap", "password", &m->imap_password, error_r) < 0 ||
	    config_secret(cfg, "smtp", "password", &m->smtp_password, error_r) < 0 ||
	    config_secret(cfg, "directory", "password", &m->directory_password, error_r) < 0 ||
	    config_secret(cfg, "directory", "api_key", &m->directory_api_key, error_r) < 0)
		return -1;
	struct mail_settings *ms = &m->mail;
	policy_from_config(m, cfg);
	actions_from_config(m, cfg);
	ms->mailbox = cfg->imap_mailbox;
	ms->max_message_size = cfg->max_message_size;
	ms->limits.burst_limit = cfg->burst_limit;
	ms->limits.burst_window = cfg->burst_window;
	ms->limits.daily_limit = cfg->daily_limit;
	ms->limits.bounce_pause = cfg->bounce_pause;
	ms->limits.domain_limit = cfg->domain_limit;
	ms->limits.global_limit = cfg->global_limit;
	m->directory_http = (struct directory_http_settings){
		.url = cfg->directory_url, .user = cfg->directory_user, .password = m->directory_password,
		.api_key = m->directory_api_key, .timeout = cfg->directory_timeout,
		.connect_timeout = cfg->directory_connect_timeout, .tls_verify = cfg->directory_tls_verify,
		.tls_ca_file = cfg->directory_tls_ca_file, .allow_plaintext = cfg->directory_allow_plaintext,
	};
	ms->directory_http = strcmp(cfg->directory_backend, "http") == 0 ? &m->directory_http : NULL;
	ms->require_authenticated_sender = cfg->require_authenticated_sender;
	ms->authserv_id = cfg->authserv_id;
	dialog_settings_default(&ms->dialog);
	ms->dialog.min_confidence = cfg->min_confidence;
	ms->dialog.min_margin = cfg->min_margin;
	ms->dialog.suggest_confidence = cfg->suggest_confidence;
	ms->dialog.suggest_max_words = cfg->suggest_max_words;
	servers_from_config(m, cfg);
	return 0;
}

int
mail_setup_load_markers(struct mail_setup *m, const struct config *cfg, const char *data_dir, char **error_r)
{
	if (!cfg->rule_autoreply_markers)
		return 0;
	char *path = cfg->markers_file != NULL ? xstrdup(cfg->markers_file)
		     : xasprintf("%s/intents/autoreply.tsv", data_dir);
	if (cfg->markers_file == NULL && access(path, F_OK) < 0 && errno == ENOENT) {
		/* A data folder of its own made before intents/autoreply.tsv existed: the installed markers, rather than none or a refusal. */
		free(path);
		path = xasprintf("%s/intents/autoreply.tsv", engine_default_data_dir());
	}
	char *err = NULL;
	struct mail_markers *markers = mail_markers_load(path, &err);
	if (markers == NULL) {
		*error_r = xasprintf("[rules] markers_file: %s", err);
		free(err);
		free(path);
		return -1;
	}
	free(path);
	mail_markers_free(&m->markers);
	m->markers = markers;
	m->mail.policy.markers = markers;
	return 0;
}

void
mail_setup_clear(struct mail_setup *m)
{
	mail_markers_free(&m->markers);
	free(m->imap_password);
	free(m->smtp_password);
	free(m->from_name);
	free(m->from_address);
	free(m->domain);
	free(m->correspondants);
	free(m->console_url);
	free(m->directory_password);
	free(m->directory_api_key);
}
