/* web_server — see web.h: the listening socket (bound by dialogd itself, handed to lws),
 * the lws context and its vhost, the service thread, and stopping. The routes, replies
 * and the HTTP callback are web.c's; the front that reads every request head first is
 * web_front.c's. */
#include "autoconf.h"
#include "web/web.h"
#include "web/web_internal.h"
#include "core/log.h"
#include "core/util.h"
#include "store/store.h"
#include "web/reset_page.h"
#include "web/web_page.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const struct lws_http_mount mount_favicon = {
	.mountpoint = "/favicon.ico",
	.mountpoint_len = sizeof("/favicon.ico") - 1,
	.origin = "dialogd-pages",
	.origin_protocol = LWSMPRO_CALLBACK,
};
static const struct lws_http_mount mounts = {
	.mount_next = &mount_favicon,
	.mountpoint = RESET_PAGE_PATH,
	.mountpoint_len = sizeof(RESET_PAGE_PATH) - 1,
	.origin = "dialogd-pages",
	.origin_protocol = LWSMPRO_CALLBACK,
};

/* ---- start and stop ---- */

/* lws' own errors, as log lines: the main thread's at start, then the web thread's.
 * Some may be a client's doing (the front refuses what lws would complain about, but
 * lws' own checks remain), so at most 10 a minute reach the log. */
static void
lws_log_line(int level, const char *line)
{
	static time_t window;
	static unsigned count;
	(void)level;
	time_t now = time(NULL);
	if (now - window >= 60) {
		if (count > 10)
			log_warning("web: libwebsockets: %u more messages were not logged", count - 10);
		window = now;
		count = 0;
	}
	if (++count > 10)
		return;
	size_t n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	log_warning("web: libwebsockets: %.*s", (int)n, line);
}

/* Splits [web] listen (util's listen_parse: numeric addresses only). */
static int
parse_listen(struct web *w, const char *listen, char **error_r)
{
	char *why = NULL;
	if (listen_parse(listen, &w->host, &w->port, &w->ipv6, &why) < 0) {
		*error_r = xasprintf("[web] listen: %s", why);
		free(why);
		return -1;
	}
	return 0;
}

/* Binds [web] listen with dialogd's own socket (the front accepts, see above). Doing it
 * here also sidesteps lws 4.1 listening on every interface for "127.0.0.1" with IPv6 on
 * (#2290). Sets w->listen_fd and w->port (the real one for port 0). */
static int
listen_open(struct web *w, const char *listen_text, char **error_r)
{
	struct sockaddr_storage sa;
	socklen_t sa_len;
	memset(&sa, 0, sizeof(sa));
	if (w->ipv6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&sa;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)w->port);
		inet_pton(AF_INET6, w->host, &a->sin6_addr);
		sa_len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&sa;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)w->port);
		inet_pton(AF_INET, w->host, &a->sin_addr);
		sa_len = sizeof(*a);
	}
	int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sa_len) < 0 || listen(fd, SOMAXCONN) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sa_len) < 0) {
		*error_r = xasprintf("cannot listen on %s: %s", listen_text, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	w->listen_fd = fd;
	w->port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
						 : ((struct sockaddr_in *)&sa)->sin_port);
	return 0;
}

/* Descriptors for lws (each one's number must be below it), from the soft limit; the
 * store, the mail threads and the logs keep 128 of them. */
static unsigned
fd_limit(void)
{
	struct rlimit rl;
	rlim_t nofile = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 1024;
	if (nofile == RLIM_INFINITY || nofile > 16384)
		nofile = 16384;
	return (unsigned)nofile;
}

/* The web thread runs the libev loop lws was given: epoll, whose cost follows the
 * descriptors that are ready, where lws' own poll() walks every descriptor at each turn
 * (85 % of the CPU with 10,000 idle chat connections, bench-chat). */
static void *
web_thread(void *arg)
{
	struct web *w = arg;
	if (!atomic_load(&w->stop))
		ev_run(w->loop, 0);
	return NULL;
}

/* web_request_stop's wake-up, in the web thread: the loop ends. */
static void
wake(struct ev_loop *loop, ev_async *watcher, int revents)
{
	(void)revents;
	struct web *w = watcher->data;
	if (atomic_load(&w->stop))
		ev_break(loop, EVBREAK_ALL);
}

static void
web_free(struct web *w)
{
	/* Once adopted, the listening socket is lws' to close. */
	if (w->listen_fd >= 0 && w->listener == NULL)
		close(w->listen_fd);
	if (w->context != NULL)
		lws_context_destroy(w->context);
	/* lws sends LWS_CALLBACK_WSI_DESTROY for each connection it closes; whatever is left. */
	web_front_free_all(w);
	if (w->loop != NULL) {
		ev_async_stop(w->loop, &w->wake);
		ev_loop_destroy(w->loop);
	}
	store_close(&w->store);
	web_widget_free(&w->widget);
	free(w->support_address);
	free(w->store_path);
	free(w->host);
	free(w->address);
	free(w->protocols);
	free(w);
}

struct web *
web_bind(const struct web_settings *settings, char **error_r)
{
	struct web *w = xcalloc(1, sizeof(*w));
	atomic_init(&w->stop, false);
	w->listen_fd = -1;
	w->engine = settings->engine;
	w->support_address = xstrdup(settings->support_address);
	w->store_path = xstrdup(settings->store_path);
	w->reset.support_address = w->support_address;
	w->reset.ttl_minutes = (settings->reset_ttl + 59) / 60;
	w->header_timeout = settings->header_timeout ? (int)settings->header_timeout : WEB_HEADER_TIMEOUT;
	w->body_timeout = settings->body_timeout ? (int)settings->body_timeout : WEB_BODY_TIMEOUT;
	w->per_address = settings->connections_per_address ? (unsigned)settings->connections_per_address
							   : WEB_CONNECTIONS_PER_ADDRESS;
	w->protocols = web_protocols_join(settings->extra_protocols);
	w->handlers = settings->handlers;
	if (web_widget_load(&w->widget, settings->data_dir, &settings->widget, error_r) < 0 ||
	    parse_listen(w, settings->listen, error_r) < 0 || listen_open(w, settings->listen, error_r) < 0) {
		web_free(w);
		return NULL;
	}
	w->address = w->ipv6 ? xasprintf("[%s]:%d", w->host, w->port) : xasprintf("%s:%d", w->host, w->port);
	return w;
}

/* Headers on every reply, lws' own error replies included. */
static void
common_headers(struct web *w)
{
	static const char *const header_pairs[][2] = {
		{ "x-content-type-options:", "nosniff" },
		{ "referrer-policy:", "no-referrer" },
		{ "x-frame-options:", "DENY" },
		{ "content-security-policy:", NULL },
	};
	for (size_t i = 0; i < 4; i++) {
		w->headers[i].next = i + 1 < 4 ? &w->headers[i + 1] : NULL;
		w->headers[i].name = header_pairs[i][0];
		w->headers[i].value = header_pairs[i][1] != NULL ? header_pairs[i][1] : web_page_csp();
	}
}

/* The lws context and its one vhost, with no listener of its own (the front accepts),
 * and the listening socket handed to it. Returns 0, or -1 with *error_r. */
static int
lws_setup(struct web *w, char **error_r)
{
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_LIBEV;
	/* Our own loop (not one lws makes and runs inside lws_service): the thread runs it
	 * and web_request_stop breaks it. */
	if ((w->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK)) == NULL) {
		*error_r = xstrdup("cannot create the libev event loop");
		return -1;
	}
	ev_async_init(&w->wake, wake);
	w->wake.data = w;
	ev_async_start(w->loop, &w->wake);
	void *foreign_loops[1] = { w->loop };
	info.foreign_loops = foreign_loops;
	info.user = w;
	info.gid = -1;
	info.uid = -1;
	/* Three descriptors a client (its socket, the socketpair), one for the listener. */
	info.fd_limit_per_thread = fd_limit();
	w->max_connections = info.fd_limit_per_thread > 256 ? (info.fd_limit_per_thread - 128) / 3
							    : info.fd_limit_per_thread / 6;
	/* The front lets heads up to WEB_HEAD_MAX bytes and WEB_HEAD_MAX_FIELDS fields through;
	 * lws stores them with up to 10 bytes more a field (its unknown-header records, the
	 * NULs) and would drop the connection without a word past its buffer: 1 KB spare. At
	 * most 256 requests parse their headers at once, each for 10 s at most. */
	info.max_http_header_data = WEB_HEAD_MAX + 1024;
	info.max_http_header_pool = 256;
	info.timeout_secs = 10;
	info.keepalive_timeout = 5;
	if ((w->context = lws_create_context(&info)) == NULL) {
		*error_r = xstrdup("cannot create the libwebsockets context");
		return -1;
	}
	info.vhost_name = "dialogd";
	info.server_string = "dialogd";
	info.port = CONTEXT_PORT_NO_LISTEN_SERVER;  /* the front accepts */
	info.protocols = w->protocols;
	info.mounts = &mounts;
	info.headers = &w->headers[0];
	if ((w->vhost = lws_create_vhost(w->context, &info)) == NULL) {
		*error_r = xstrdup("cannot create the libwebsockets vhost");
		return -1;
	}
	if ((w->listener = web_adopt(w, LWS_ADOPT_RAW_FILE_DESC, w->listen_fd, "dialogd-listen", NULL)) == NULL) {
		*error_r = xstrdup("libwebsockets cannot poll the listening socket");
		close(w->listen_fd);
		w->listen_fd = -1;
		return -1;
	}
	return 0;
}

int
web_start(struct web *w, char **error_r)
{
	if ((w->store = store_open(w->store_path, error_r)) == NULL)
		return -1;
	lws_set_log_level(LLL_ERR, lws_log_line);
	common_headers(w);
	if (lws_setup(w, error_r) < 0)
		return -1;
	int rc = pthread_create(&w->thread, NULL, web_thread, w);
	if (rc != 0) {
		*error_r = xasprintf("cannot start the thread: %s", strerror(rc));
		return -1;
	}
	w->thread_started = true;
	log_info("web: listening on %s (reset page %s, chat widget /widget.js version %s, at most %u connections)",
		 w->address, RESET_PAGE_PATH, w->widget.version, w->max_connections);
	return 0;
}

const char *
web_client_address(struct lws *wsi)
{
	return web_front_peer(wsi);
}

void
web_request_stop(struct web *w)
{
	if (w == NULL)
		return;
	atomic_store(&w->stop, true);
	if (w->loop != NULL)
		ev_async_send(w->loop, &w->wake);
}

void
web_stop(struct web **wp)
{
	struct web *w = *wp;
	if (w == NULL)
		return;
	web_request_stop(w);
	if (w->thread_started)
		pthread_join(w->thread, NULL);
	web_free(w);
	*wp = NULL;
}
