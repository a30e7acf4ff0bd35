/* directory_backend — what a directory backend provides (directory.c dispatches to it).
 * Internal to directory.c, directory_http.c and their tests.
 * Threads: a backend object belongs to the thread that opened it. */
#ifndef DIALOGD_DIRECTORY_BACKEND_H
#define DIALOGD_DIRECTORY_BACKEND_H

#include "directory/directory.h"

struct directory_ops {
	int (*accounts_by_email)(struct directory *d, const char *email, struct directory_accounts *out);
	int (*accounts_by_siret)(struct directory *d, const char *siret, struct directory_accounts *out);
	int (*account_get)(struct directory *d, const char *identifier, struct directory_account *out);
	int (*dossier_get)(struct directory *d, const char *number, struct directory_dossier *out);
	int (*request_password_reset)(struct directory *d, const char *identifier);  /* NULL: not offered */
	void (*close)(struct directory *d);
};

struct directory {
	const struct directory_ops *ops;
	bool remote;
	char *error;            /* the last failure, "" when none */
	void *backend;          /* the backend's own state */
};

/* Records why the last call failed (printf-style); returns code, for `return directory_fail(...)`. */
int directory_fail(struct directory *d, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A new directory object around ops and backend state. */
struct directory *directory_new(const struct directory_ops *ops, bool remote, void *backend);

#endif
