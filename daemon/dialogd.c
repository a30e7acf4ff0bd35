/* dialogd — the support assistant daemon: loads the assistant's knowledge (intents/,
 * faq-data/, templates/), opens the store, and runs the e-mail channel: the IMAP reader
 * thread and the SMTP sender thread, and the web thread (the password reset page on
 * [web] listen, daemon/web.c). The main thread handles signals: SIGHUP reloads the
 * knowledge without dropping connections (a failed reload keeps the old one), SIGTERM and
 * SIGINT finish the message in hand and stop. Foreground, logs to stderr or syslog. */
#include "autoconf.h"
#include "config.h"
#include "directory.h"
#include "engine.h"
#include "faq.h"
#include "imap_reader.h"
#include "intent.h"
#include "log.h"
#include "mail_channel.h"
#include "mail_compose.h"
#include "setup.h"
#include "smtp_sender.h"
#include "store.h"
#include "util.h"
#include "web.h"

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

/* --check: the directory answers (the remote API is asked for an address nobody has),
 * or the embedded one says what it holds. Returns 0 or 1. */
static int
check_directory(const struct mail_setup *setup, const struct config *cfg, struct store *store)
{
	if (setup->mail.directory_http == NULL) {
		log_info("check: embedded directory: %lld account(s), %lld dossier(s) (dialogctl import fills it)",
			 (long long)store_directory_count(store, "accounts"), (long long)store_directory_count(store, "dossiers"));
		return 0;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	char *err = NULL;
	struct directory *dir = directory_open_http(setup->mail.directory_http, &err);
	int rc = 1;
	if (dir == NULL) {
		log_error("check: %s", err);
		free(err);
	} else {
		struct directory_accounts none;
		if (directory_accounts_by_email(dir, "dialogd-check@invalid.example", &none) < 0) {
			log_error("check: %s", directory_error(dir));
		} else {
			log_info("check: the directory API at %s answers", cfg->directory_url);
			rc = 0;
		}
		directory_accounts_clear(&none);
		directory_close(&dir);
	}
	curl_global_cleanup();
	return rc;
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
		status = check_directory(&setup, &cfg, store);
		if (status == 0)
			log_info("check: configuration, data, store and directory are usable");
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
	struct web *web = NULL;
	setup.smtp.mail = &setup.mail;
	setup.smtp.engine = &holder;
	/* The reset page first: an address that cannot be bound stops dialogd before any mail
	 * is read (the links it sends would lead nowhere). */
	struct web_settings web_settings = {
		.listen = cfg.web_listen, .store_path = cfg.store_path,
		.support_address = setup.from_address, .reset_ttl = cfg.reset_ttl,
	};
	if ((web = web_start(&web_settings, &err)) == NULL) {
		log_error("web: %s", err);
		free(err);
	} else if (cfg.smtp_url != NULL && (sender = smtp_sender_start(&setup.smtp, &err)) == NULL) {
		log_error("smtp: %s", err);
		free(err);
	} else if (cfg.imap_url != NULL &&
		   (reader = imap_reader_start(&setup.imap, &setup.mail, &holder, sender, &err)) == NULL) {
		log_error("imap: %s", err);
		free(err);
	} else {
		log_info("ready: store %s; mail %s; replies %s; directory %s; SIGHUP reloads the data, SIGTERM stops",
			 cfg.store_path, cfg.imap_url ? cfg.imap_url : "not read ([imap] url unset)",
			 cfg.smtp_url ? cfg.smtp_url : "kept in the outbox ([smtp] url unset)",
			 setup.mail.directory_http ? cfg.directory_url : "embedded (dialogctl import)");
		serve(&holder, dir, &old);
		log_info("stopping: finishing the message in hand");
		status = 0;
	}
	/* All threads are told at once: their last transactions finish side by side. */
	web_request_stop(web);
	imap_reader_request_stop(reader);
	smtp_sender_request_stop(sender);
	imap_reader_stop(&reader);
	smtp_sender_stop(&sender);
	web_stop(&web);
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
