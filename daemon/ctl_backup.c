/* ctl_backup — see ctl_backup.h. */
#include "autoconf.h"
#include "ctl_backup.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* "backup: 45 % (1234 of 2700 pages)" on a terminal, redrawn in place; nothing otherwise
 * (a cron job's mail gets the last line only). */
static void
progress(int done, int total, void *user)
{
	const char *what = user;
	if (total > 0 && isatty(STDERR_FILENO))
		fprintf(stderr, "\r%s: %3d %% (%d of %d pages)", what, (int)(100LL * done / total), done, total);
}

static void
progress_end(void)
{
	if (isatty(STDERR_FILENO))
		fputc('\n', stderr);
}

/* What a store holds, for the line after a backup or a restore. */
static void
print_contents(const char *what, const char *path)
{
	char *err = NULL;
	struct store *st = store_open(path, &err);
	if (st == NULL) {
		fprintf(stderr, "dialogctl %s: %s\n", what, err);
		free(err);
		return;
	}
	struct store_totals totals;
	if (store_totals(st, &totals) == 0)
		printf("%s: %s holds %lld thread(s), %lld message(s), %lld outbox entr%s (%lld to send), %lld mail(s) "
		       "recorded as processed; schema %d\n",
		       what, path, (long long)totals.threads, (long long)totals.messages, (long long)totals.outbox,
		       totals.outbox == 1 ? "y" : "ies", (long long)totals.outbox_pending, (long long)totals.processed,
		       store_schema_version(st));
	store_close(&st);
}

int
ctl_backup(const char *store_path, int argc, char **argv)
{
	if (argc != 1) {
		fputs("dialogctl backup: usage: backup FILE   (a new file; dialogd may keep running)\n", stderr);
		return 2;
	}
	if (access(store_path, F_OK) != 0) {
		fprintf(stderr, "dialogctl backup: no store at %s ([store] path)\n", store_path);
		return 1;
	}
	char *err = NULL;
	struct store *st = store_open(store_path, &err);
	int rc = st != NULL ? store_backup(st, argv[0], progress, "backup", &err) : -1;
	progress_end();
	store_close(&st);
	if (rc < 0) {
		fprintf(stderr, "dialogctl backup: %s\n", err);
		free(err);
		return 1;
	}
	print_contents("backup", argv[0]);
	return 0;
}

int
ctl_restore(const char *store_path, int argc, char **argv)
{
	if (argc != 1) {
		fputs("dialogctl restore: usage: restore FILE   (stop dialogd first)\n", stderr);
		return 2;
	}
	char *err = NULL;
	int rc = store_restore(argv[0], store_path, progress, "restore", &err);
	progress_end();
	if (rc < 0) {
		fprintf(stderr, "dialogctl restore: %s; the store is unchanged\n", err);
		free(err);
		return 1;
	}
	/* Opening it runs the migrations an older backup needs, before dialogd starts. */
	print_contents("restore", store_path);
	return 0;
}
