/* dialogd — the support assistant daemon: loads the assistant's knowledge (intents/,
 * faq-data/, templates/), opens the store, and runs the e-mail channel: the IMAP reader
 * thread and the SMTP sender thread. The main thread handles signals: SIGHUP reloads the
 * knowledge without dropping connections (a failed reload keeps the old one), SIGTERM and
 * SIGINT finish the message in hand and stop. Foreground, logs to stderr or syslog. */
#include "autoconf.h"
#include "config.h"
#include "engine.h"
#include "faq.h"
#include "imap_reader.h"
#include "intent.h"
#include "log.h"
#include "mail_channel.h"
#include "mail_compose.h"
#include "smtp_sender.h"
#include "store.h"
#include "util.h"

#include <curl/curl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_requested = 1;
	else
		stop_requested = 1;
}

static struct engine *
load(const char *dir)
{
	char *err = NULL;
	struct engine *e = engine_load(dir, &err);
	if (e == NULL) {
		log_error("engine: %s: load failed:\n%s", dir, err);
		free(err);
		return NULL;
	}
	log_info("engine: %s: loaded %zu intents, %zu faq entries", dir, intent_set_count(e->intents), faq_count(e->faq));
	return e;
}

static void
usage(FILE *out)
{
	fputs("Usage: dialogd [-c FILE] [--data DIR] [--check]\n"
	      "  -c, --config FILE  configuration file (keys: dialogctl config; man dialogd.conf)\n"
	      "  --data DIR         folder holding intents/, faq-data/, templates/\n"
	      "  --check            load the configuration and the data, report, and exit\n", out);
}

/* Everything the e-mail channel runs with, built from the configuration. */
struct mail_setup {
	struct mail_settings mail;
	struct imap_settings imap;
	struct smtp_settings smtp;
	char *imap_password, *smtp_password;
	char *from_name, *from_address, *domain;
	char *correspondants;   /* the address of [mail] correspondants */
};

static int
mail_setup_init(struct mail_setup *m, const struct config *cfg, char **error_r)
{
	memset(m, 0, sizeof(*m));
	if (mail_address_split(cfg->smtp_from, &m->from_name, &m->from_address) < 0) {
		*error_r = xasprintf("[smtp] from: \"%s\" holds no address", cfg->smtp_from);
		return -1;
	}
	m->domain = mail_address_domain(m->from_address);
	char *name = NULL;
	int bad = cfg->correspondants != NULL && mail_address_split(cfg->correspondants, &name, &m->correspondants) < 0;
	free(name);
	if (bad) {
		*error_r = xasprintf("[mail] correspondants: \"%s\" is not an address", cfg->correspondants);
		return -1;
	}
	if (config_secret(cfg->imap_password, cfg->imap_password_file, &m->imap_password, error_r) < 0 ||
	    config_secret(cfg->smtp_password, cfg->smtp_password_file, &m->smtp_password, error_r) < 0)
		return -1;
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
	ms->mailbox = cfg->imap_mailbox;
	ms->from_name = m->from_name;
	ms->from_address = m->from_address;
	ms->domain = m->domain;
	ms->correspondants = m->correspondants;
	ms->console_url = cfg->console_url;
	ms->max_message_size = cfg->max_message_size;
	ms->burst_limit = cfg->burst_limit;
	ms->burst_window = cfg->burst_window;
	ms->daily_limit = cfg->daily_limit;
	ms->bounce_pause = cfg->bounce_pause;
	ms->reminder_limit = cfg->reminder_limit;
	ms->status_limit = cfg->status_limit;
	ms->require_authenticated_sender = cfg->require_authenticated_sender;
	ms->authserv_id = cfg->authserv_id;
	dialog_settings_default(&ms->dialog);
	ms->dialog.min_confidence = cfg->min_confidence;
	ms->dialog.min_margin = cfg->min_margin;
	ms->dialog.suggest_confidence = cfg->suggest_confidence;
	ms->dialog.suggest_max_words = cfg->suggest_max_words;

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
	return 0;
}

static void
mail_setup_clear(struct mail_setup *m)
{
	free(m->imap_password);
	free(m->smtp_password);
	free(m->from_name);
	free(m->from_address);
	free(m->domain);
	free(m->correspondants);
}

static void
install_signals(sigset_t *old)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* libetpan writes with send(..., 0): a server that closed would kill us with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	/* Only the main thread takes signals: the threads started after this inherit the mask. */
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, old);
}

static void
serve(struct engine_holder *holder, const char *dir, const sigset_t *old)
{
	while (!stop_requested) {
		if (!reload_requested)
			sigsuspend(old);
		if (reload_requested) {
			reload_requested = 0;
			struct engine *fresh = load(dir);
			if (fresh == NULL) {
				log_warning("reload: failed, keeping the data loaded before");
				continue;
			}
			pthread_rwlock_wrlock(&holder->lock);
			struct engine *previous = holder->engine;
			holder->engine = fresh;
			pthread_rwlock_unlock(&holder->lock);
			engine_free(&previous);
			log_info("reload: done");
		}
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' }, { "data", required_argument, NULL, 'd' },
		{ "check", no_argument, NULL, 'k' }, { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 },
	};
	const char *config_file = NULL, *data_dir = NULL;
	int check_only = 0, c;
	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': config_file = optarg; break;
		case 'd': data_dir = optarg; break;
		case 'k': check_only = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': puts(PACKAGE_STRING); return 0;
		default: usage(stderr); return 2;
		}
	}
	/* Signals first: a SIGHUP or SIGTERM while the data loads is kept for later (the
	 * default action would kill the daemon, and systemd would not restart it). */
	sigset_t old;
	install_signals(&old);
	struct config cfg;
	config_init(&cfg);
	char *err = NULL;
	if (config_file != NULL && config_load(&cfg, config_file, &err) < 0) {
		log_error("config: %s", err);
		free(err);
		config_clear(&cfg);
		return 1;
	}
	log_setup("dialogd", cfg.log_syslog);
	const char *dir = data_dir ? data_dir : cfg.data_dir ? cfg.data_dir : engine_default_data_dir();
	struct engine_holder holder = { .engine = load(dir) };
	struct mail_setup setup;
	int status = 1;
	if (holder.engine == NULL || mail_setup_init(&setup, &cfg, &err) < 0) {
		if (err != NULL)
			log_error("config: %s", err);
		free(err);
		if (holder.engine != NULL)
			mail_setup_clear(&setup);
		engine_free(&holder.engine);
		config_clear(&cfg);
		return 1;
	}
	struct store *store = store_open(cfg.store_path, &err);
	if (store == NULL) {
		log_error("%s", err);
		free(err);
		goto out;
	}
	if (check_only) {
		log_info("check: configuration, data and store are usable");
		status = 0;
		goto out;
	}
	/* Asked to stop while loading: stop before connecting anywhere. */
	sigset_t pending;
	if (sigpending(&pending) == 0 && (sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1)) {
		log_info("stopped before starting (signal received while loading)");
		status = 0;
		goto out;
	}
	pthread_rwlock_init(&holder.lock, NULL);
	curl_global_init(CURL_GLOBAL_DEFAULT);

	struct smtp_sender *sender = NULL;
	struct imap_reader *reader = NULL;
	setup.smtp.mail = &setup.mail;
	setup.smtp.engine = &holder;
	if (cfg.smtp_url != NULL && (sender = smtp_sender_start(&setup.smtp, &err)) == NULL) {
		log_error("smtp: %s", err);
		free(err);
	} else if (cfg.imap_url != NULL &&
		   (reader = imap_reader_start(&setup.imap, &setup.mail, &holder, sender, &err)) == NULL) {
		log_error("imap: %s", err);
		free(err);
	} else {
		log_info("ready: store %s; mail %s; replies %s; SIGHUP reloads the data, SIGTERM stops", cfg.store_path,
			 cfg.imap_url ? cfg.imap_url : "not read ([imap] url unset)",
			 cfg.smtp_url ? cfg.smtp_url : "kept in the outbox ([smtp] url unset)");
		serve(&holder, dir, &old);
		log_info("stopping: finishing the message in hand");
		status = 0;
	}
	/* Both threads are told at once: their last transactions finish side by side. */
	imap_reader_request_stop(reader);
	smtp_sender_request_stop(sender);
	imap_reader_stop(&reader);
	smtp_sender_stop(&sender);
	curl_global_cleanup();
	pthread_rwlock_destroy(&holder.lock);
	log_info("stopped");
out:
	store_close(&store);
	mail_setup_clear(&setup);
	engine_free(&holder.engine);
	config_clear(&cfg);
	return status;
}
