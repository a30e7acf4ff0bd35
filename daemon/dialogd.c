/* dialogd — the support assistant daemon. This version loads and validates the
 * assistant's knowledge (intents/, faq-data/, templates/), reloads it on SIGHUP without
 * stopping, and stops cleanly on SIGTERM/SIGINT. The e-mail (IMAP/SMTP) and chat
 * channels plug into the same engine; until they are configured, it only holds the engine. */
#include "autoconf.h"
#include "config.h"
#include "engine.h"
#include "faq.h"
#include "intent.h"
#include "util.h"

#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

static void __attribute__((format(printf, 1, 2)))
log_line(const char *fmt, ...)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", localtime_r(&now, &tm));
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s dialogd: ", stamp);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static struct engine *
load(const char *dir)
{
	char *err = NULL;
	struct engine *e = engine_load(dir, &err);
	if (e == NULL) {
		log_line("engine: %s: load failed:\n%s", dir, err);
		free(err);
		return NULL;
	}
	log_line("engine: %s: loaded %zu intents, %zu faq entries", dir, intent_set_count(e->intents),
		 faq_count(e->faq));
	return e;
}

static void
usage(FILE *out)
{
	fputs("Usage: dialogd [-c FILE] [--data DIR] [--check]\n"
	      "  -c, --config FILE  configuration file (see dialogctl config)\n"
	      "  --data DIR         folder holding intents/, faq-data/, templates/\n"
	      "  --check            load everything, report, and exit\n", out);
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
	struct config cfg;
	config_init(&cfg);
	if (config_file != NULL) {
		char *err = NULL;
		if (config_load(&cfg, config_file, &err) < 0) {
			log_line("config: %s", err);
			free(err);
			config_clear(&cfg);
			return 1;
		}
	}
	const char *dir = data_dir ? data_dir : cfg.data_dir ? cfg.data_dir : engine_default_data_dir();
	struct engine *engine = load(dir);
	if (engine == NULL || check_only) {
		engine_free(&engine);
		config_clear(&cfg);
		return engine == NULL && !check_only ? 1 : (check_only && engine == NULL) ? 1 : 0;
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	log_line("ready: no channel is configured in this version (e-mail and chat come next); "
		 "SIGHUP reloads the data, SIGTERM stops");
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	while (!stop_requested) {
		if (!reload_requested)
			sigsuspend(&old);
		if (reload_requested) {
			reload_requested = 0;
			struct engine *fresh = load(dir);
			if (fresh == NULL) {
				log_line("reload: failed, keeping the data loaded before");
			} else {
				engine_free(&engine);
				engine = fresh;
				log_line("reload: done");
			}
		}
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	log_line("stopping");
	engine_free(&engine);
	config_clear(&cfg);
	return 0;
}
