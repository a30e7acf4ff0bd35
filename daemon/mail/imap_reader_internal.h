/* imap_reader_internal — what the two files of the IMAP reader share: the reader's state
 * and the session (imap_session.c: connect, secure, log in, select, log out) that the
 * thread of imap_reader.c drives. Included only by those two files; everyone else uses
 * imap_reader.h. */
#ifndef DIALOGD_IMAP_READER_INTERNAL_H
#define DIALOGD_IMAP_READER_INTERNAL_H

#include "mail/imap_reader.h"

#include <libetpan/libetpan.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct imap_reader {
	const struct imap_settings *s;
	const struct mail_settings *mail;
	struct engine_holder *engine;
	struct smtp_sender *sender;
	struct store *store;
	struct directory *directory;     /* this thread's: the account actions ask it */
	struct intent_scratch *scratch;
	char *host;
	int port;
	char *done_folder_utf7;
	mailimap *imap;
	uint32_t uidvalidity;
	bool has_move, has_uidplus;
	bool tls_used;
	char *lost_why;                 /* why the connection was last given up, for the log */
	uint32_t refused_uid;           /* the last UID the server refused to deliver */
	unsigned refused_count;         /* ... how many times in a row */
	double refused_since;           /* ... since when (monotonic seconds) */
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
};

/* ---- the session (imap_session.c); all run on the reader's thread ---- */

/* What a failed command met, for the log (caller frees). The server's own words only
 * when it did answer: after a read error libetpan still holds an earlier answer's text. */
char *imap_session_error(struct imap_reader *r, int rc);
/* Connects, secures, logs in and selects into r->imap. Returns 0 or -1 with *error_r. */
int imap_session_open(struct imap_reader *r, char **error_r);
/* Logs out (when the link is still up) and frees r->imap; nothing when there is none. */
void imap_session_close(struct imap_reader *r);

#endif
