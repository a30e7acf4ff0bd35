/* dialogd — the support assistant daemon: loads the assistant's knowledge (intents/,
 * faq-data/, templates/), opens the store, and runs the e-mail channel: the IMAP reader
 * thread and the SMTP sender thread, and the web thread (the password reset page and the
 * website chat's WebSocket on [web] listen, daemon/web/web.c and daemon/chat/chat_ws.c). The main thread handles signals: SIGHUP reloads the
 * knowledge without dropping connections (a failed reload keeps the old one), SIGTERM and
 * SIGINT finish the message in hand and stop. Foreground, logs to stderr or syslog.
 * Started as root it binds [web] listen and then runs as [daemon] user for good (see
 * "who dialogd runs as" below); it refuses to stay root unless [daemon] allow_root. */
#include "autoconf.h"
#include "chat/chat_ws.h"
#include "core/config.h"
#include "directory/directory.h"
#include "engine/engine.h"
#include "engine/faq.h"
#include "mail/imap_reader.h"
#include "engine/intent.h"
#include "core/log.h"
#include "mail/mail_channel.h"
#include "formats/mail_compose.h"
#include "mail/setup.h"
#include "mail/smtp_sender.h"
#include "store/store.h"
#include "core/util.h"
#include "web/console.h"
#include "web/web.h"

#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sodium.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* ---- who dialogd runs as ----
 * Started as root with [daemon] user, dialogd reads the configuration and the secret
 * files as root (they may be root's alone), takes the user's effective ids to load the
 * data and to open the store (so that the store, its -wal and -shm are created by the
 * user who will use them), takes root back only for web_bind, which binds [web] listen
 * (a port below 1024 needs root), then switches its real, effective and saved ids for
 * good (setgroups, setresgid, setresuid) before any other thread exists: the web, SMTP
 * and IMAP threads all start as the user. */
struct identity {
	bool switch_user;       /* started as root with [daemon] user (not root): switch to it */
	uid_t uid;
	gid_t gid;
	char *user, *group;     /* names of the ids dialogd runs as (or will), for messages */
};

/* Whether and to whom to switch. Returns 0, or -1 after logging why dialogd refuses. */
static int
identity_decide(const struct config *cfg, const char *config_file, struct identity *id)
{
	const char *conf = config_file != NULL ? config_file : "(no -c FILE)";
	uid_t euid = geteuid();
	bool root_wanted = cfg->daemon_user == NULL || cfg->daemon_uid == 0;
	id->switch_user = euid == 0 && !root_wanted;
	id->uid = cfg->daemon_user != NULL ? cfg->daemon_uid : euid;
	id->gid = cfg->daemon_user != NULL ? cfg->daemon_gid : getegid();
	id->user = user_name(id->uid);
	id->group = group_name(id->gid);
	if (euid == 0 && root_wanted) {
		if (!cfg->allow_root) {
			log_error("%s: started as root with %s: refusing to run as root: set [daemon] user (a user of dialogd's own, "
				  "e.g. dialogd), or [daemon] allow_root = yes for a test", conf,
				  cfg->daemon_user == NULL ? "no [daemon] user" : "[daemon] user = root");
			return -1;
		}
		log_warning("running as root ([daemon] allow_root = yes): set [daemon] user outside tests");
		return 0;
	}
	if (euid != 0 && cfg->daemon_user != NULL && (euid != id->uid || getegid() != id->gid)) {
		char *user = user_name(euid), *group = group_name(getegid());
		log_error("%s: [daemon] user and group are %s:%s, but dialogd was started as %s:%s, not as root: it cannot "
			  "switch: start it as root, or as %s:%s (systemd: User= and Group=)", conf, id->user, id->group, user,
			  group, id->user, id->group);
		free(user);
		free(group);
		return -1;
	}
	return 0;
}

/* Takes the user's effective ids; the saved ones stay root for identity_resume_root. */
static int
identity_assume(const struct identity *id)
{
	char *err = NULL;
	if (setgroups(1, &id->gid) < 0 || setegid(id->gid) < 0 || seteuid(id->uid) < 0) {
		log_error("daemon: cannot take the ids of %s:%s: %s", id->user, id->group, strerror(errno));
		return -1;
	}
	/* The kernel made the process dumpable again when its effective ids changed. */
	if (process_protect(&err) < 0) {
		log_error("daemon: %s", err);
		free(err);
		return -1;
	}
	log_info("daemon: reading the data and the store as %s:%s; root is kept only to bind [web] listen",
		 id->user, id->group);
	return 0;
}

static int
identity_resume_root(void)
{
	if (seteuid(0) < 0) {
		log_error("daemon: cannot take root back to bind [web] listen: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Switches every id of every thread to the user's, for good, and checks that it holds. */
static int
identity_drop(const struct identity *id)
{
	if (geteuid() != 0 && seteuid(0) < 0) {
		log_error("daemon: cannot take root back to switch to %s: %s", id->user, strerror(errno));
		return -1;
	}
	/* Groups first: once the uid is not root any more, they can no longer be changed. */
	if (setgroups(1, &id->gid) < 0 || setresgid(id->gid, id->gid, id->gid) < 0 ||
	    setresuid(id->uid, id->uid, id->uid) < 0) {
		log_error("daemon: cannot switch to %s:%s: %s", id->user, id->group, strerror(errno));
		return -1;
	}
	uid_t ru, eu, su;
	gid_t rg, eg, sg, groups[2];
	int ngroups = getgroups(2, groups);
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 || ru != id->uid || eu != id->uid ||
	    su != id->uid || rg != id->gid || eg != id->gid || sg != id->gid || ngroups != 1 || groups[0] != id->gid ||
	    setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0) {
		/* A kernel or libc that did not switch every id: stop rather than run half root. */
		log_error("daemon: switched to %s:%s, but an id is still root or can be taken back: stopping", id->user,
			  id->group);
		return -1;
	}
	char *err = NULL;
	if (process_protect(&err) < 0) {
		log_error("daemon: %s", err);
		free(err);
		return -1;
	}
	log_info("daemon: running as %s:%s (uid %lu, gid %lu): real, effective and saved ids on every thread; root "
		 "cannot be taken back", id->user, id->group, (unsigned long)id->uid, (unsigned long)id->gid);
	return 0;
}

/* Whether the store can be used as the user dialogd runs as: said here, with what to do,
 * rather than SQLite's "unable to open database file" or a store root can write and the
 * user cannot. Returns 0, or -1 after logging. */
static int
store_check_access(const char *path, const struct identity *id)
{
	uid_t euid = geteuid();
	if (strcmp(path, ":memory:") == 0 || euid == 0)
		return 0;
	const char *slash = strrchr(path, '/');
	char *dir = slash == NULL ? xstrdup(".") : slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
	int rc = 0;
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	for (size_t i = 0; i < 3; i++) {
		char *file = xasprintf("%s%s", path, suffixes[i]);
		struct stat st;
		int found = stat(file, &st);
		if (found == 0 && st.st_uid != euid) {
			char *owner = user_name(st.st_uid);
			log_error("store: %s: belongs to %s, but dialogd runs as %s: chown %s:%s %s%s", file, owner, id->user,
				  id->user, id->group, path, i == 0 ? " (and its -wal and -shm, if any)" : "");
			free(owner);
			rc = -1;
		} else if (found == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
			log_warning("store: %s: its group or others can read it (mode %04o), and it holds mail and accounts: "
				    "chmod 600 it", file, (unsigned)(st.st_mode & 07777));
		} else if (found < 0 && errno != ENOENT) {
			log_error("store: %s: %s cannot reach it: %s", file, id->user, strerror(errno));
			rc = -1;
		}
		free(file);
	}
	/* SQLite creates the -wal and -shm beside the store, whenever they are missing. */
	if (rc == 0 && euidaccess(dir, W_OK | X_OK) < 0) {
		log_error("store: %s: %s cannot create files in this folder (%s), and SQLite keeps the store's -wal and -shm "
			  "beside it: chown %s:%s %s, or set [store] path in a folder of %s's", dir, id->user, strerror(errno),
			  id->user, id->group, dir, id->user);
		rc = -1;
	}
	free(dir);
	return rc;
}

/* Says once, when store_open ran a migration step, what it did to the file: an operator
 * upgrading dialogd sees that the store changed, and which version a backup has. */
static void
log_schema_upgrade(const char *path, int upgraded_from)
{
	if (upgraded_from == 0)
		log_info("store: %s: new store, schema version %d", path, STORE_SCHEMA_VERSION);
	else if (upgraded_from > 0)
		log_info("store: %s: schema upgraded from version %d to %d", path, upgraded_from, STORE_SCHEMA_VERSION);
}

/* The secrets, as root when started as root (their files may be root's alone). All
 * secret files are checked first, so that every problem is reported at once. */
static int
read_secrets(const struct config *cfg, struct mail_setup *setup)
{
	char *err = NULL;
	if (config_check_secret_files(cfg, &err) < 0 || mail_setup_init(setup, cfg, &err) < 0) {
		log_error("config: %s", err);
		free(err);
		return -1;
	}
	return 0;
}

/* The website chat's WebSocket (served by the web thread): its store connection and
 * directory, opened as the user dialogd runs as. NULL when it cannot start (logged). */
static struct chat_ws *
chat_start(const struct config *cfg, struct mail_setup *setup, struct engine_holder *holder)
{
	struct chat_ws_settings s = {
		.store_path = cfg->store_path, .actions = &setup->mail.actions, .dialog = &setup->mail.dialog,
		.directory_http = setup->mail.directory_http, .engine = holder, .public_url = cfg->web_public_url,
		.allowed_origins = cfg->web_allowed_origins, .trusted_proxies = cfg->web_trusted_proxies,
		.session_ttl = cfg->chat_session_ttl,
		.max_frame = cfg->chat_max_frame, .max_text = cfg->chat_max_text, .max_errors = cfg->chat_max_errors,
		.messages_per_minute = cfg->chat_messages_per_minute,
		.address_messages_per_minute = cfg->chat_address_messages_per_minute,
		.connections_per_address = cfg->chat_connections_per_address, .ping_interval = cfg->chat_ping_interval,
		.idle_timeout = cfg->chat_idle_timeout, .client_address = web_client_address,
		.identity_max_ttl = cfg->chat_identity_max_ttl,
	};
	char *err = NULL, *secret = NULL;
	struct chat_ws *chat = NULL;
	if (config_secret(cfg, "chat", "identity_secret", &secret, &err) == 0) {
		s.identity_secret = secret;
		chat = chat_ws_new(&s, &err);
	}
	if (secret != NULL) {
		sodium_memzero(secret, strlen(secret));
		free(secret);
	}
	if (chat == NULL) {
		log_error("chat: %s", err);
		free(err);
	}
	return chat;
}

/* The threads, from the web listener to the stop. Returns the exit status. */
/* The auto-reply markers, read once (a SIGHUP does not reread them: the IMAP thread
 * reads them without a lock). */
static int
load_markers(struct mail_setup *setup, const struct config *cfg, const char *dir)
{
	char *err = NULL;
	if (mail_setup_load_markers(setup, cfg, dir, &err) < 0) {
		log_error("config: %s", err);
		free(err);
		return -1;
	}
	return 0;
}

/* The correspondants' console, served under /console/ by the web thread; NULL (logged)
 * when its files cannot be read. */
static struct console *
console_start(const struct config *cfg, struct mail_setup *setup, struct engine_holder *holder, const char *dir)
{
	const struct console_settings settings = {
		.public_url = cfg->web_public_url, .require_totp = cfg->console_require_totp,
		.idle_ttl = (int64_t)cfg->console_idle_ttl, .absolute_ttl = (int64_t)cfg->console_absolute_ttl,
		.data_dir = dir, .engine = holder, .sender = &setup->mail.actions.notify.sender,
	};
	char *err = NULL;
	struct console *console = console_new(&settings, &err);
	if (console == NULL) {
		log_error("console: %s", err);
		free(err);
	}
	return console;
}

static int
run(const struct config *cfg, struct mail_setup *setup, struct engine_holder *holder, const struct identity *id,
    const char *dir, const sigset_t *old)
{
	char *err = NULL;
	int status = 1;
	pthread_rwlock_init(&holder->lock, NULL);
	curl_global_init(CURL_GLOBAL_DEFAULT);

	struct smtp_sender *sender = NULL;
	struct imap_reader *reader = NULL;
	struct web *web = NULL;
	struct chat_ws *chat = chat_start(cfg, setup, holder);
	struct console *console = console_start(cfg, setup, holder, dir);
	const struct web_handler handlers[] = {
		{ "/console/", console_handle, console, true },
		{ NULL, NULL, NULL, false },
	};
	setup->smtp.notify = &setup->mail.actions.notify;
	setup->smtp.engine = holder;
	/* The reset page first: an address that cannot be bound stops dialogd before any mail
	 * is read (the links it sends would lead nowhere). Root, if any, only for the bind. */
	struct web_settings web_settings = {
		.listen = cfg->web_listen, .store_path = cfg->store_path,
		.support_address = setup->from_address, .reset_ttl = cfg->reset_ttl, .engine = holder,
		.header_timeout = cfg->web_header_timeout, .body_timeout = cfg->web_body_timeout,
		.connections_per_address = cfg->web_connections_per_address,
		.data_dir = dir,
		.widget = { .persistence = cfg->chat_persistence, .retention_days = cfg->store_retention_days,
			    .max_text = cfg->chat_max_text },
		.extra_protocols = chat != NULL ? chat_ws_protocols(chat) : NULL,
		.handlers = handlers,
	};
	if (chat == NULL || console == NULL) {
		/* logged */
	} else if (id->switch_user && identity_resume_root() < 0) {
		/* logged */
	} else if ((web = web_bind(&web_settings, &err)) == NULL) {
		log_error("web: %s", err);
		free(err);
	} else if (id->switch_user && identity_drop(id) < 0) {
		/* logged */
	} else if (web_start(web, &err) < 0) {
		log_error("web: %s", err);
		free(err);
	} else if (cfg->smtp_url != NULL && (sender = smtp_sender_start(&setup->smtp, &err)) == NULL) {
		log_error("smtp: %s", err);
		free(err);
	} else if (cfg->imap_url != NULL &&
		   (reader = imap_reader_start(&setup->imap, &setup->mail, holder, sender, &err)) == NULL) {
		log_error("imap: %s", err);
		free(err);
	} else {
		log_info("ready: store %s; mail %s; replies %s; directory %s; SIGHUP reloads the data, SIGTERM stops",
			 cfg->store_path, cfg->imap_url ? cfg->imap_url : "not read ([imap] url unset)",
			 cfg->smtp_url ? cfg->smtp_url : "kept in the outbox ([smtp] url unset)",
			 setup->mail.directory_http ? cfg->directory_url : "embedded (dialogctl import)");
		serve(holder, dir, old);
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
	chat_ws_free(&chat);  /* after the lws context, whose last callbacks use it */
	console_free(&console);
	curl_global_cleanup();
	pthread_rwlock_destroy(&holder->lock);
	log_info("stopped");
	return status;
}

/* What the command line asks for. */
struct options {
	const char *config_file;        /* -c FILE, or NULL */
	const char *data_dir;           /* --data DIR, or NULL: the configuration's */
	bool check_only;                /* --check: load, check, stop */
};

/* Returns true when dialogd should go on; false when it must exit with *status_r
 * (--help, --version, a bad option). */
static bool
parse_options(int argc, char **argv, struct options *o, int *status_r)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' }, { "data", required_argument, NULL, 'd' },
		{ "check", no_argument, NULL, 'k' }, { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config_file = optarg; break;
		case 'd': o->data_dir = optarg; break;
		case 'k': o->check_only = true; break;
		case 'h': usage(stdout); *status_r = 0; return false;
		case 'V': puts(PACKAGE_STRING); *status_r = 0; return false;
		default: usage(stderr); *status_r = 2; return false;
		}
	}
	return true;
}

/* Reads config_file, when given, into cfg (initialised). Returns 0, or -1 logged. */
static int
load_configuration(struct config *cfg, const char *config_file)
{
	char *err = NULL;
	if (config_file != NULL && config_load(cfg, config_file, &err) < 0) {
		log_error("config: %s", err);
		free(err);
		return -1;
	}
	return 0;
}

/* The store, or NULL logged. */
static struct store *
open_store(const char *path)
{
	char *err = NULL;
	struct store *store = store_open(path, &err);
	if (store == NULL) {
		log_error("%s", err);
		free(err);
	}
	return store;
}

/* Whether a SIGTERM or SIGINT came while loading (install_signals kept it pending). */
static bool
stop_pending(void)
{
	sigset_t pending;
	return sigpending(&pending) == 0 && (sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1);
}

/* Every web client holds three descriptors (web_front.c), and the web server keeps its
 * connections below the soft limit, often 1024: raised to the hard limit (at most 65536)
 * so that slow or idle clients do not crowd out the others that early. */
#define DESCRIPTORS_WANTED 65536

static void
raise_descriptor_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > DESCRIPTORS_WANTED ? DESCRIPTORS_WANTED : rl.rlim_max;
	if (rl.rlim_cur >= want)
		return;
	rlim_t was = rl.rlim_cur;
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		log_warning("cannot raise the open files limit from %llu to %llu: %s", (unsigned long long)was,
			    (unsigned long long)want, strerror(errno));
}

int
main(int argc, char **argv)
{
	/* First of all, before any secret is read: what dialogd creates (the store, its -wal
	 * and -shm) is its user's alone, and no core dump or ptrace shows the passwords. */
	umask(077);
	char *err = NULL;
	if (process_protect(&err) < 0) {
		log_error("%s", err);
		free(err);
		return 1;
	}
	struct options o = {0};
	int status = 1;
	if (!parse_options(argc, argv, &o, &status))
		return status;
	/* Signals first: a SIGHUP or SIGTERM while the data loads is kept for later (the
	 * default action would kill the daemon, and systemd would not restart it). */
	sigset_t old;
	install_signals(&old);
	struct config cfg;
	config_init(&cfg);
	if (load_configuration(&cfg, o.config_file) < 0) {
		config_clear(&cfg);
		return 1;
	}
	log_setup("dialogd", cfg.log_syslog);
	raise_descriptor_limit();
	struct identity id = {0};
	struct mail_setup setup = {0};
	struct engine_holder holder = {0};
	struct store *store = NULL;
	int hold = -1;          /* the lock on the store while dialogd runs (store_hold) */
	const char *dir = o.data_dir ? o.data_dir : cfg.data_dir ? cfg.data_dir : engine_default_data_dir();
	/* As root (if started so) up to here; then as the user: for good with --check, which
	 * binds nothing, else with root kept for the bind (see identity_assume). */
	if (identity_decide(&cfg, o.config_file, &id) < 0 || read_secrets(&cfg, &setup) < 0 ||
	    (id.switch_user && (o.check_only ? identity_drop(&id) : identity_assume(&id)) < 0) ||
	    (holder.engine = load(dir)) == NULL || load_markers(&setup, &cfg, dir) < 0 ||
	    store_check_access(cfg.store_path, &id) < 0 ||
	    (store = open_store(cfg.store_path)) == NULL)
		goto out;
	log_schema_upgrade(cfg.store_path, store_schema_upgraded_from(store));
	/* Held while dialogd runs: `dialogctl restore` cannot replace the store under it. */
	char *hold_err = NULL;
	if (!o.check_only && (hold = store_hold(cfg.store_path, false, &hold_err)) < 0) {
		log_error("store: %s", hold_err);
		free(hold_err);
		goto out;
	}
	if (o.check_only) {
		status = check_directory(&setup, &cfg, store);
		if (status == 0)
			log_info("check: configuration, data, store and directory are usable");
	} else if (stop_pending()) {
		/* Asked to stop while loading: stop before connecting anywhere. */
		log_info("stopped before starting (signal received while loading)");
		status = 0;
	} else {
		status = run(&cfg, &setup, &holder, &id, dir, &old);
	}
out:
	if (hold >= 0)
		close(hold);
	store_close(&store);
	mail_setup_clear(&setup);
	engine_free(&holder.engine);
	config_clear(&cfg);
	free(id.user);
	free(id.group);
	return status;
}
