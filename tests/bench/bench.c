/* bench — classification speed of the engine, the whole path a message takes
 * (UTF-8 check, noise removal, folding, lexicon, every intent, audience, decision).
 * Prints classifications per second and p50/p99 latency for chat-size messages (one
 * line) and e-mail-size messages (2–5 KB with signature, disclaimer and quoted history),
 * and the process's peak RSS with everything loaded. Runs pinned to one core.
 * Usage: bench DATA_DIR [MESSAGES.tsv] */
#include "autoconf.h"
#include "engine/dialog.h"
#include "engine/engine.h"
#include "core/text.h"
#include "core/util.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHAT_ROUNDS 300000
#define MAIL_ROUNDS 20000

static double
now_us(void)
{
	return monotonic_seconds() * 1e6;
}

static int
compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static long
peak_rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "VmHWM:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kb;
}

static void
run(const char *label, const struct engine *e, char **texts, size_t count, size_t rounds)
{
	struct intent_scratch *s = intent_scratch_new();
	struct dialog_settings settings;
	dialog_settings_default(&settings);
	double *lat = xmalloc(rounds * sizeof(*lat));
	size_t bytes = 0;
	double start = now_us();
	for (size_t i = 0; i < rounds; i++) {
		const char *t = texts[i % count];
		size_t len = strlen(t);
		struct analysis a;
		char *err = NULL;
		double t0 = now_us();
		if (dialog_analyze(e, s, &settings, t, len, &a, &err) < 0) {
			fprintf(stderr, "bench: %s\n", err);
			exit(1);
		}
		lat[i] = now_us() - t0;
		analysis_clear(&a);
		bytes += len;
	}
	double total = now_us() - start;
	qsort(lat, rounds, sizeof(*lat), compare_doubles);
	printf("%-10s %7zu msgs (avg %5zu B): %9.0f classifications/s   p50 %7.1f us   p99 %7.1f us   max %8.1f us\n",
	       label, rounds, bytes / rounds, rounds / (total / 1e6), lat[rounds / 2], lat[rounds * 99 / 100],
	       lat[rounds - 1]);
	free(lat);
	intent_scratch_free(&s);
}

/* An e-mail as French offices write them: greeting, the question, a closing, a long
 * signature with a legal disclaimer, then the quoted history of earlier exchanges. */
static char *
make_mail(const char *question, size_t seed)
{
	struct strbuf sb = {0};
	strbuf_adds(&sb, "Bonjour Madame, Monsieur,\n\n");
	strbuf_adds(&sb, question);
	strbuf_adds(&sb, "\n\nJe vous remercie par avance pour votre retour rapide.\n\nCordialement,\n\n"
		    "Claire Lefebvre\nResponsable administrative et formation\nSARL Les Vergers du Lot\n"
		    "12 route de Cahors - 46000 Cahors\nT\xC3\xA9l. : 05 65 00 00 00 - Port. : 06 00 00 00 00\n"
		    "Ce message et toutes les pi\xC3\xA8" "ces jointes sont confidentiels et \xC3\xA9tablis \xC3\xA0 "
		    "l'intention exclusive de ses destinataires. Toute utilisation ou diffusion non autoris\xC3\xA9" "e "
		    "est interdite. Si vous avez re\xC3\xA7u ce message par erreur, merci de le d\xC3\xA9truire et "
		    "d'avertir imm\xC3\xA9" "diatement l'exp\xC3\xA9" "diteur.\n\n");
	size_t quotes = 2 + seed % 4;
	for (size_t q = 0; q < quotes; q++) {
		strbuf_adds(&sb, "________________________________\nDe : Dialoguer avec OCAPIAT <dialoguer@ocapiat.test>\n"
			    "Envoy\xC3\xA9 : lundi 6 mars 2023 10:12\n\xC3\x80 : Claire Lefebvre\nObjet : RE: demande\n\n");
		strbuf_adds(&sb, "> Bonjour,\n> Voici la r\xC3\xA9ponse \xC3\xA0 votre question concernant la saisie de "
			    "votre demande de prise en charge dans MonCompte, rubrique Dossiers de formation.\n"
			    "> Nous restons \xC3\xA0 votre disposition pour tout compl\xC3\xA9ment d'information.\n"
			    "> Bien cordialement,\n> L'assistant OCAPIAT\n\n");
	}
	return strbuf_detach(&sb);
}

static size_t
load_messages(const char *path, char ***texts_r)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "bench: %s: cannot open\n", path);
		exit(1);
	}
	char **texts = NULL;
	size_t count = 0, cap = 0;
	char *line = NULL;
	size_t lcap = 0;
	ssize_t n;
	while ((n = getline(&line, &lcap, f)) > 0) {
		char *tab = strchr(line, '\t');
		if (tab == NULL || strncmp(line, "text\t", 5) == 0)
			continue;
		*tab = '\0';
		text_unescape_newlines(line);
		if (count == cap) {
			cap = cap ? cap * 2 : 256;
			texts = xrealloc(texts, cap * sizeof(*texts));
		}
		texts[count++] = xstrdup(line);
	}
	free(line);
	fclose(f);
	*texts_r = texts;
	return count;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fputs("usage: bench DATA_DIR [MESSAGES.tsv]\n", stderr);
		return 2;
	}
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	sched_setaffinity(0, sizeof(one), &one);

	double t0 = now_us();
	char *err = NULL;
	struct engine *e = engine_load(argv[1], &err);
	if (e == NULL) {
		fprintf(stderr, "bench: %s\n", err);
		return 1;
	}
	printf("engine loaded in %.1f ms\n", (now_us() - t0) / 1000);
	char *path = argc > 2 ? xstrdup(argv[2]) : xasprintf("%s/tests/data/dev.tsv", argv[1]);
	char **all;
	size_t n = load_messages(path, &all);
	free(path);

	char **chat = xmalloc(n * sizeof(*chat));
	size_t nchat = 0;
	for (size_t i = 0; i < n; i++)
		if (strchr(all[i], '\n') == NULL)
			chat[nchat++] = all[i];
	char **mails = xmalloc(n * sizeof(*mails));
	size_t mail_bytes_min = (size_t)-1, mail_bytes_max = 0;
	for (size_t i = 0; i < n; i++) {
		mails[i] = make_mail(all[i], i);
		size_t len = strlen(mails[i]);
		mail_bytes_min = len < mail_bytes_min ? len : mail_bytes_min;
		mail_bytes_max = len > mail_bytes_max ? len : mail_bytes_max;
	}
	printf("corpus: %zu chat-size messages, %zu e-mails of %zu to %zu bytes\n", nchat, n, mail_bytes_min,
	       mail_bytes_max);
	run("chat", e, chat, nchat, CHAT_ROUNDS);
	run("e-mail", e, mails, n, MAIL_ROUNDS);
	printf("peak RSS: %.1f MB\n", peak_rss_kb() / 1024.0);

	for (size_t i = 0; i < n; i++) {
		free(all[i]);
		free(mails[i]);
	}
	free(all);
	free(chat);
	free(mails);
	engine_free(&e);
	return 0;
}
