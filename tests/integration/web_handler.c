/* web_handler — test helper for tests/integration/web_handlers.sh (built by `make check`,
 * never installed, not a test itself): dialogd's web server with one handler on
 * "/essai/", as the console's is served, which writes back what it was given (method,
 * path, arguments, the cookie named "jeton", Origin, client, the form) as text, and
 * answers /essai/redirection with a 303 and a Set-Cookie. Logs "web: listening on
 * 127.0.0.1:PORT" on standard error once listening; stops on SIGTERM or SIGINT.
 * Usage: web_handler DATA_DIR STORE */
#include "autoconf.h"
#include "core/util.h"
#include "engine/engine.h"
#include "web/web.h"
#include "web/web_page.h"
#include "web/web_request.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
echo(void *ctx, const struct web_request *req, struct web_page *page)
{
	(void)ctx;
	static const char *const methods[] = { "GET", "HEAD", "POST" };
	struct strbuf sb = { 0 };
	strbuf_addf(&sb, "method=%s\npath=%s\n", methods[req->method], req->path);
	for (size_t i = 0; i < req->arg_count; i++)
		strbuf_addf(&sb, "arg=%s\n", req->args[i]);
	const char *q = web_request_arg(req, "q");
	strbuf_addf(&sb, "q=%s\n", q != NULL ? q : "(none)");
	char *token = web_request_cookie(req, "jeton");
	strbuf_addf(&sb, "cookie jeton=%s\n", token != NULL ? token : "(none)");
	free(token);
	strbuf_addf(&sb, "origin=%s\nclient=%s\nstore=%s\n", req->origin != NULL ? req->origin : "(none)", req->client,
		    req->store != NULL ? "yes" : "no");
	if (req->body != NULL)
		strbuf_addf(&sb, "body=%s\nbody_len=%zu\n", req->body, req->body_len);
	memset(page, 0, sizeof(*page));
	page->status = 200;
	if (strcmp(req->path, "/essai/redirection") == 0) {
		page->status = 303;
		page->location = xstrdup("/essai/");
		page->set_cookie = xstrdup("jeton=abc; Path=/essai/; HttpOnly; SameSite=Strict");
	}
	page->len = sb.len;
	page->body = strbuf_detach(&sb);
	page->content_type = "text/plain; charset=utf-8";
}

int
main(int argc, char **argv)
{
	if (argc != 3) {
		fputs("usage: web_handler DATA_DIR STORE\n", stderr);
		return 2;
	}
	char *err = NULL;
	struct engine_holder holder;
	pthread_rwlock_init(&holder.lock, NULL);
	if ((holder.engine = engine_load(argv[1], &err)) == NULL) {
		fprintf(stderr, "web_handler: %s\n", err);
		return 1;
	}
	const struct web_handler handlers[] = { { "/essai/", echo, NULL, true }, { NULL, NULL, NULL, false } };
	struct web_settings settings = {
		.listen = "127.0.0.1:0", .store_path = argv[2], .support_address = "dialoguer@ocapiat.test",
		.reset_ttl = 1800, .engine = &holder, .data_dir = argv[1],
		.widget = { .persistence = "tab", .retention_days = 365, .max_text = 2000 }, .handlers = handlers,
	};
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	struct web *web = web_bind(&settings, &err);
	if (web == NULL || web_start(web, &err) < 0) {
		fprintf(stderr, "web_handler: %s\n", err);
		return 1;
	}
	int sig;
	sigwait(&stop, &sig);
	web_stop(&web);
	engine_free(&holder.engine);
	pthread_rwlock_destroy(&holder.lock);
	return 0;
}
