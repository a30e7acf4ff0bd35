/* bench_console — what the correspondants' console asks of the store, on a store the size
 * issue 11 sets (100,000 threads and 500,000 messages by default, half mail and half chat,
 * a tenth escalated, some held by people): the counts of the four views, the first page
 * of each view, a thread's messages, and a search of one and of two words (FTS5). Prints
 * p50/p99 of each; the targets are the queue's first page and a thread under 50 ms at
 * p99, a search under 100 ms. The store is built once in one transaction (its time is
 * printed, not measured against anything). Then the same through the console's pages as
 * the web thread builds them (console_handle: a signed-in correspondant's queue, a thread,
 * a search), HTML included.
 * Usage: bench_console DATA_DIR WORK_DIR [THREADS] */
#include "autoconf.h"
#include "accounts/correspondant.h"
#include "core/util.h"
#include "engine/engine.h"
#include "outbox/outbound.h"
#include "store/store.h"
#include "web/console.h"
#include "web/web_page.h"
#include "web/web_request.h"

#include <pthread.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MESSAGES_PER_THREAD 5
#define ROUNDS 200

static double
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void
report(const char *what, double *ms, int n)
{
	qsort(ms, (size_t)n, sizeof(*ms), compare_doubles);
	printf("%-44s p50 %7.2f ms   p99 %7.2f ms   max %7.2f ms   (%d runs)\n", what, ms[n / 2], ms[n * 99 / 100],
	       ms[n - 1], n);
}

/* Words of the support's vocabulary, drawn at random to make texts FTS5 must search. */
static const char *const words[] = {
	"bonjour", "mot", "passe", "identifiant", "connexion", "facture", "dossier", "apprentissage", "contrat",
	"formation", "organisme", "entreprise", "numéro", "DECA", "CERFA", "RIB", "coordonnées", "bancaires",
	"cotisation", "versement", "stagiaire", "salarié", "rupture", "reporting", "tableau", "export", "merci",
	"cordialement", "demande", "réponse", "compte", "accès", "bloqué", "erreur", "page", "ajouter", "SIRET",
	"établissement", "justificatif", "frais", "annexes", "prise", "charge", "accord", "refus", "délai",
};
#define WORDS (sizeof(words) / sizeof(*words))

static char *
random_text(unsigned *seed, int n)
{
	struct strbuf sb = { 0 };
	for (int i = 0; i < n; i++)
		strbuf_addf(&sb, "%s%s", i ? " " : "", words[(unsigned)rand_r(seed) % WORDS]);
	return strbuf_detach(&sb);
}

static int
count_thread(const struct thread_row *row, void *user)
{
	(void)row;
	(*(int *)user)++;
	return 0;
}

static int
count_message(const struct message_row *m, int64_t at, void *user)
{
	(void)m;
	(void)at;
	(*(int *)user)++;
	return 0;
}

static int
fill(struct store *st, int threads)
{
	unsigned seed = 42;
	double t0 = now_ms();
	if (store_begin(st) < 0)
		return -1;
	for (int t = 0; t < threads; t++) {
		char *words4 = random_text(&seed, 4);
		/* Each thread names its dossier: what a correspondant searches most. */
		char *subject = xasprintf("%s dossier AF-2024-%06d", words4, t);
		free(words4);
		char requester[64];
		snprintf(requester, sizeof(requester), "demandeur%d@example.test", t % 20000);
		enum thread_state state = t % 10 == 0 ? THREAD_ESCALATED : t % 3 == 0 ? THREAD_OPEN : THREAD_ANSWERED;
		int64_t id = store_thread_create(st, t % 2 ? "chat" : "mail", requester, subject, state, "submit_invoice", NULL);
		if (id < 0)
			return -1;
		if (t % 10 == 0 && t % 20 == 0 && store_thread_take(st, id, t % 40 ? "claire" : "marc", false) < 0)
			return -1;
		for (int m = 0; m < MESSAGES_PER_THREAD; m++) {
			char *body = random_text(&seed, 40);
			struct message_row row = {
				.thread_id = id, .direction = m % 2 ? "out" : "in", .sender = requester, .subject = subject,
				.body = body, .intent = m % 2 ? NULL : "submit_invoice", .confidence = 0.9,
				.decision = m % 2 ? NULL : "answered",
			};
			int64_t mid = store_message_add(st, &row);
			free(body);
			if (mid < 0)
				return -1;
		}
		free(subject);
		if ((t + 1) % 20000 == 0) {
			fprintf(stderr, "bench_console: %d threads written\n", t + 1);
			if (store_commit(st) < 0 || store_begin(st) < 0)
				return -1;
		}
	}
	if (store_commit(st) < 0)
		return -1;
	printf("store: %d threads, %d messages written in %.1f s\n", threads, threads * MESSAGES_PER_THREAD,
	       (now_ms() - t0) / 1e3);
	return 0;
}

/* A correspondant signed in through the sign-in page: the Cookie header (caller frees). */
static char *
sign_in(struct console *c, struct store *st)
{
	char *err = NULL;
	const char *weak = NULL;
	int64_t now = (int64_t)time(NULL);
	if (correspondant_create(st, "claire@ocapiat.test", "Claire Martin", ROLE_CORRESPONDANT, now, &err) <= 0 ||
	    correspondant_set_password(st, "claire@ocapiat.test", "une phrase de passe 42 !", now, &weak) != 1)
		return NULL;
	const char *body = "email=claire@ocapiat.test&mot_de_passe=une+phrase+de+passe+42+%21&code=";
	struct web_request req = { .method = WEB_POST, .path = "/console/connexion", .cookie = "",
				   .origin = "https://assistance.ocapiat.test", .body = body, .body_len = strlen(body),
				   .client = "127.0.0.1", .store = st, .now = now };
	struct web_page page;
	console_handle(c, &req, &page);
	char *cookie = page.status == 303 && page.set_cookie != NULL
			       ? xstrndup(page.set_cookie, strcspn(page.set_cookie, ";")) : NULL;
	web_page_clear(&page);
	return cookie;
}

/* p50/p99 of ROUNDS pages built by console_handle for path (args: NULL or one "name=value"). */
static int
bench_page(struct console *c, struct store *st, const char *cookie, const char *what, const char *path,
	   const char *arg)
{
	static double ms[ROUNDS];
	const char *args[1] = { arg };
	size_t bytes = 0;
	for (int i = 0; i < ROUNDS; i++) {
		struct web_request req = { .method = WEB_GET, .path = path, .args = args, .arg_count = arg != NULL,
					   .cookie = cookie, .client = "127.0.0.1", .store = st,
					   .now = (int64_t)time(NULL) };
		struct web_page page;
		double t = now_ms();
		console_handle(c, &req, &page);
		ms[i] = now_ms() - t;
		if (page.status != 200) {
			fprintf(stderr, "bench_console: %s: status %d\n", path, page.status);
			web_page_clear(&page);
			return -1;
		}
		bytes = page.len;
		web_page_clear(&page);
	}
	char label[96];
	snprintf(label, sizeof(label), "%s (%zu KB)", what, bytes / 1024);
	report(label, ms, ROUNDS);
	return 0;
}

/* The console's pages, HTML included, as the web thread builds them. */
static int
bench_pages(const char *data_dir, struct store *st, int threads)
{
	char *err = NULL;
	struct engine_holder holder;
	pthread_rwlock_init(&holder.lock, NULL);
	if ((holder.engine = engine_load(data_dir, &err)) == NULL) {
		fprintf(stderr, "bench_console: %s\n", err);
		return -1;
	}
	const struct sender_identity sender = { "Dialoguer avec OCAPIAT", "dialoguer@ocapiat.test", "ocapiat.test" };
	const struct console_settings settings = {
		.public_url = "https://assistance.ocapiat.test", .idle_ttl = 1800, .absolute_ttl = 43200,
		.data_dir = data_dir, .engine = &holder, .sender = &sender,
	};
	struct console *c = console_new(&settings, &err);
	char *cookie = c != NULL ? sign_in(c, st) : NULL;
	int rc = -1;
	if (cookie != NULL) {
		char thread[64];
		snprintf(thread, sizeof(thread), "/console/fil/%d", threads / 2);
		rc = bench_page(c, st, cookie, "page: the queue « à traiter »", "/console/", NULL) < 0 ||
				     bench_page(c, st, cookie, "page: « toutes »", "/console/", "vue=toutes") < 0 ||
				     bench_page(c, st, cookie, "page: a thread", thread, NULL) < 0 ||
				     bench_page(c, st, cookie, "page: a search (a dossier number)", "/console/",
						"q=AF-2024-000123") < 0 ||
				     bench_page(c, st, cookie, "page: a search (a common word)", "/console/", "q=facture") < 0
			     ? -1 : 0;
	} else {
		fprintf(stderr, "bench_console: the console: %s\n", err != NULL ? err : "no session");
	}
	free(err);
	free(cookie);
	console_free(&c);
	engine_free(&holder.engine);
	pthread_rwlock_destroy(&holder.lock);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc < 3) {
		fputs("usage: bench_console DATA_DIR WORK_DIR [THREADS]\n", stderr);
		return 2;
	}
	int threads = argc > 3 ? atoi(argv[3]) : 100000;
	char *path = xasprintf("%s/bench-console-%d.sqlite", argv[2], (int)getpid());
	char *err = NULL;
	struct store *st = store_open(path, &err);
	if (st == NULL || fill(st, threads) < 0) {
		fprintf(stderr, "bench_console: %s\n", err != NULL ? err : store_error(st));
		return 1;
	}
	static double ms[ROUNDS];
	static const char *const view_names[] = { "à traiter", "mes conversations", "avec l'assistant", "toutes" };
	int seen = 0;

	for (int i = 0; i < ROUNDS; i++) {
		struct console_counts counts;
		double t = now_ms();
		if (store_console_counts(st, "claire", &counts) < 0)
			return 1;
		ms[i] = now_ms() - t;
	}
	report("counts of the four views", ms, ROUNDS);
	for (int v = 0; v < 4; v++) {
		for (int i = 0; i < ROUNDS; i++) {
			struct console_filter f = { .view = (enum console_view)v, .person = "claire", .limit = 50 };
			double t = now_ms();
			if (store_console_threads(st, &f, count_thread, &seen) < 0)
				return 1;
			ms[i] = now_ms() - t;
		}
		char what[64];
		snprintf(what, sizeof(what), "first page (50) of « %s »", view_names[v]);
		report(what, ms, ROUNDS);
	}
	for (int i = 0; i < ROUNDS; i++) {
		struct console_filter f = { .view = VIEW_ALL, .channel = "mail", .state = "escalated", .limit = 50 };
		double t = now_ms();
		if (store_console_threads(st, &f, count_thread, &seen) < 0)
			return 1;
		ms[i] = now_ms() - t;
	}
	report("first page, filtered (mail, escalated)", ms, ROUNDS);
	unsigned seed = 7;
	for (int i = 0; i < ROUNDS; i++) {
		int64_t id = 1 + (int64_t)((unsigned)rand_r(&seed) % (unsigned)threads);
		double t = now_ms();
		if (store_messages_each(st, id, count_message, &seen) < 0)
			return 1;
		ms[i] = now_ms() - t;
	}
	report("a thread's messages", ms, ROUNDS);
	static const struct {
		const char *what;
		enum console_view view;
		int words;      /* common words drawn at random; 0: a dossier number */
	} searches[] = {
		{ "search, a dossier number", VIEW_ALL, 0 },
		{ "search, one common word", VIEW_ALL, 1 },
		{ "search, two common words", VIEW_ALL, 2 },
		{ "search, one common word in « à traiter »", VIEW_TO_HANDLE, 1 },
		{ "search, one common word in « mes conversations »", VIEW_MINE, 1 },
	};
	for (size_t k = 0; k < sizeof(searches) / sizeof(*searches); k++) {
		for (int i = 0; i < ROUNDS; i++) {
			char *q = searches[k].words > 0 ? random_text(&seed, searches[k].words)
							: xasprintf("AF-2024-%06u", (unsigned)rand_r(&seed) % (unsigned)threads);
			struct console_filter f = { .view = searches[k].view, .person = "claire", .search = q, .limit = 50 };
			double t = now_ms();
			if (store_console_threads(st, &f, count_thread, &seen) < 0)
				return 1;
			ms[i] = now_ms() - t;
			free(q);
		}
		report(searches[k].what, ms, ROUNDS);
	}
	printf("(%d rows seen)\n", seen);
	if (bench_pages(argv[1], st, threads) < 0)
		return 1;
	store_close(&st);
	unlink(path);
	char *side = xasprintf("%s-wal", path);
	unlink(side);
	free(side);
	side = xasprintf("%s-shm", path);
	unlink(side);
	free(side);
	free(path);
	return 0;
}
