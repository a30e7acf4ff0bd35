/* store_syncer — see store.h. Group commit off the caller's thread: the caller commits
 * relaxed (synchronous = NORMAL: the write-ahead log's frames are written, not synced),
 * asks for a sync up to its write mark, and goes on serving others; this thread fsyncs
 * the log (its own descriptor on the same file: fsync is per file, not per descriptor)
 * and calls the caller's wake function. Every request made before a sync starts is
 * covered by it, so one fsync serves the turns of every connection that came meanwhile.
 * It also checkpoints the log (PASSIVE, its own connection) once the watched connection
 * saw it grow past SQLite's own threshold, so that this connection's commits leave
 * automatic checkpoints, and their fsyncs, to it. */
#include "autoconf.h"
#include "store/store.h"
#include "store/store_internal.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Pages of the log past which it is checkpointed: SQLite's own automatic threshold. */
#define CHECKPOINT_PAGES 1000

struct store_syncer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int64_t requested;      /* the highest mark asked for (under lock) */
	int64_t synced;         /* the highest mark on disk (under lock) */
	char *error;            /* the first sync that failed, NULL (under lock) */
	bool stop;              /* (under lock) */
	bool busy;              /* a sync is running, on either thread (under lock) */
	atomic_bool checkpoint_due;  /* the watched connection's log reached CHECKPOINT_PAGES */
	char *wal_path;
	int wal_fd;             /* this thread's: -1 until the log exists */
	struct store *checkpointer;  /* this thread's connection */
	void (*wake)(void *arg);
	void *wake_arg;
};

/* The log's descriptor, opened again if the file was replaced (every connection closed
 * and the log deleted, then a new one made). -1 with errno ENOENT: no log, nothing to
 * sync. */
static int
wal_fd(struct store_syncer *s)
{
	struct stat by_path, by_fd;
	if (s->wal_fd >= 0 && stat(s->wal_path, &by_path) == 0 && fstat(s->wal_fd, &by_fd) == 0 &&
	    by_path.st_ino == by_fd.st_ino && by_path.st_dev == by_fd.st_dev)
		return s->wal_fd;
	if (s->wal_fd >= 0)
		close(s->wal_fd);
	s->wal_fd = open(s->wal_path, O_RDONLY | O_CLOEXEC);
	return s->wal_fd;
}

/* One sync of the log; NULL, or why it failed (caller frees). */
static char *
sync_once(struct store_syncer *s)
{
	int fd = wal_fd(s);
	if (fd < 0)
		return errno == ENOENT ? NULL : xasprintf("%s: %s", s->wal_path, strerror(errno));
	if (fdatasync(fd) < 0)
		return xasprintf("fdatasync(%s): %s", s->wal_path, strerror(errno));
	if (atomic_exchange(&s->checkpoint_due, false))
		sqlite3_wal_checkpoint_v2(s->checkpointer->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return NULL;
}

/* Under lock: a sync up to mark ended (why: NULL, or its failure, taken). */
static void
sync_done(struct store_syncer *s, int64_t mark, char *why)
{
	s->busy = false;
	if (why != NULL && s->error == NULL)
		s->error = why;
	else
		free(why);
	if (s->error == NULL && mark > s->synced)
		s->synced = mark;
	pthread_cond_broadcast(&s->cond);
}

static void *
syncer_thread(void *arg)
{
	struct store_syncer *s = arg;
	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!s->stop && s->requested <= s->synced)
			pthread_cond_wait(&s->cond, &s->lock);
		if (s->stop)
			break;
		if (s->busy) {  /* the caller syncs itself (store_syncer_sync_now) */
			pthread_cond_wait(&s->cond, &s->lock);
			continue;
		}
		int64_t mark = s->requested;
		s->busy = true;
		pthread_mutex_unlock(&s->lock);
		char *why = sync_once(s);
		pthread_mutex_lock(&s->lock);
		sync_done(s, mark, why);
		pthread_mutex_unlock(&s->lock);
		s->wake(s->wake_arg);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

struct store_syncer *
store_syncer_start(const char *path, void (*wake)(void *arg), void *wake_arg, char **error_r)
{
	struct store_syncer *s = xcalloc(1, sizeof(*s));
	s->wal_fd = -1;
	atomic_init(&s->checkpoint_due, false);
	s->wal_path = xasprintf("%s-wal", path);
	s->wake = wake;
	s->wake_arg = wake_arg;
	if ((s->checkpointer = store_open(path, error_r)) == NULL) {
		free(s->wal_path);
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	int rc = pthread_create(&s->thread, NULL, syncer_thread, s);
	if (rc != 0) {
		*error_r = xasprintf("store: cannot start the sync thread: %s", strerror(rc));
		pthread_cond_destroy(&s->cond);
		pthread_mutex_destroy(&s->lock);
		store_close(&s->checkpointer);
		free(s->wal_path);
		free(s);
		return NULL;
	}
	return s;
}

int
store_syncer_request(struct store_syncer *s, int64_t mark)
{
	pthread_mutex_lock(&s->lock);
	int rc = s->error != NULL ? -1 : mark <= s->synced ? 1 : 0;
	if (rc == 0 && mark > s->requested) {
		s->requested = mark;
		pthread_cond_signal(&s->cond);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int
store_syncer_sync_now(struct store_syncer *s, int64_t mark)
{
	pthread_mutex_lock(&s->lock);
	if (s->error != NULL || s->busy || mark <= s->synced) {
		int rc = s->error != NULL ? -1 : mark <= s->synced ? 1 : 0;
		pthread_mutex_unlock(&s->lock);
		return rc;
	}
	s->busy = true;
	pthread_mutex_unlock(&s->lock);
	/* The descriptor and the checkpointer are the thread's, which waits while busy. */
	char *why = sync_once(s);
	pthread_mutex_lock(&s->lock);
	int rc = why == NULL ? 1 : -1;
	sync_done(s, mark, why);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int64_t
store_syncer_synced(struct store_syncer *s, char **error_r)
{
	pthread_mutex_lock(&s->lock);
	int64_t synced = s->error != NULL ? -1 : s->synced;
	if (s->error != NULL && error_r != NULL)
		*error_r = xstrdup(s->error);
	pthread_mutex_unlock(&s->lock);
	return synced;
}

void
store_syncer_stop(struct store_syncer **sp)
{
	struct store_syncer *s = *sp;
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	if (s->wal_fd >= 0)
		close(s->wal_fd);
	store_close(&s->checkpointer);
	free(s->error);
	free(s->wal_path);
	free(s);
	*sp = NULL;
}

/* SQLite's WAL hook, on the watched connection's thread after each of its commits: the
 * pages now in the log (what its automatic checkpoint looks at). */
static int
log_grew(void *arg, sqlite3 *db, const char *name, int pages)
{
	(void)db;
	(void)name;
	struct store_syncer *s = arg;
	if (pages >= CHECKPOINT_PAGES)
		atomic_store(&s->checkpoint_due, true);
	return SQLITE_OK;
}

void
store_syncer_watch(struct store_syncer *s, struct store *st)
{
	/* Replaces the automatic checkpoint, itself a WAL hook (sqlite3_wal_autocheckpoint). */
	sqlite3_wal_hook(st->db, log_grew, s);
}
