/* directory — the questions of directory.h, and the embedded backend (the store's
 * tables). The remote backend is directory_http.c. */
#include "autoconf.h"
#include "directory/directory.h"
#include "directory/directory_backend.h"
#include "store/store.h"
#include "core/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void
directory_account_clear(struct directory_account *a)
{
	free(a->identifier);
	free(a->email);
	free(a->kind);
	free(a->state);
	for (size_t i = 0; i < a->structure_count; i++) {
		free(a->structures[i].siret);
		free(a->structures[i].name);
	}
	free(a->structures);
	memset(a, 0, sizeof(*a));
}

void
directory_accounts_clear(struct directory_accounts *as)
{
	for (size_t i = 0; i < as->count; i++)
		directory_account_clear(&as->items[i]);
	free(as->items);
	memset(as, 0, sizeof(*as));
}

void
directory_dossier_clear(struct directory_dossier *d)
{
	free(d->number);
	free(d->type);
	free(d->state);
	free(d->siret);
	free(d->training_org_siret);
	free(d->deca_number);
	free(d->start_date);
	str_array_free(d->emails, d->email_count);
	memset(d, 0, sizeof(*d));
}

bool
directory_dossier_has_email(const struct directory_dossier *d, const char *email)
{
	for (size_t i = 0; email != NULL && i < d->email_count; i++)
		if (strcasecmp(d->emails[i], email) == 0)
			return true;
	return false;
}

int
directory_fail(struct directory *d, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	free(d->error);
	d->error = xvasprintf(fmt, ap);
	va_end(ap);
	return code;
}

struct directory *
directory_new(const struct directory_ops *ops, bool remote, void *backend)
{
	struct directory *d = xcalloc(1, sizeof(*d));
	d->ops = ops;
	d->remote = remote;
	d->backend = backend;
	d->error = xstrdup("");
	return d;
}

void
directory_close(struct directory **dp)
{
	struct directory *d = *dp;
	if (d == NULL)
		return;
	if (d->ops->close != NULL)
		d->ops->close(d);
	free(d->error);
	free(d);
	*dp = NULL;
}

bool
directory_is_remote(const struct directory *d)
{
	return d->remote;
}

bool
directory_has_dossiers(struct directory *d)
{
	return d->remote || store_directory_count(d->backend, "dossiers") > 0;
}

const char *
directory_error(const struct directory *d)
{
	return d->error;
}

/* Every entry point starts with a clean error and refuses what no backend should see. */
static bool
usable(struct directory *d, const char *value)
{
	free(d->error);
	d->error = xstrdup("");
	return value != NULL && *value != '\0';
}

int
directory_accounts_by_email(struct directory *d, const char *email, struct directory_accounts *out)
{
	memset(out, 0, sizeof(*out));
	return usable(d, email) ? d->ops->accounts_by_email(d, email, out) : 0;
}

int
directory_accounts_by_siret(struct directory *d, const char *siret, struct directory_accounts *out)
{
	memset(out, 0, sizeof(*out));
	return usable(d, siret) ? d->ops->accounts_by_siret(d, siret, out) : 0;
}

int
directory_account_get(struct directory *d, const char *identifier, struct directory_account *out)
{
	memset(out, 0, sizeof(*out));
	return usable(d, identifier) ? d->ops->account_get(d, identifier, out) : 0;
}

int
directory_dossier_get(struct directory *d, const char *number, struct directory_dossier *out)
{
	memset(out, 0, sizeof(*out));
	return usable(d, number) ? d->ops->dossier_get(d, number, out) : 0;
}

int
directory_request_password_reset(struct directory *d, const char *identifier)
{
	if (!usable(d, identifier))
		return 0;
	if (d->ops->request_password_reset == NULL)
		return directory_fail(d, DIRECTORY_ERROR, "this directory backend does not send reset links");
	return d->ops->request_password_reset(d, identifier);
}

/* ---- embedded backend: the store's tables ---- */

static struct store *
sqlite_store(struct directory *d)
{
	return d->backend;
}

/* "SIRET\tname" lines to structures. */
static void
parse_structures(const char *lines, struct directory_account *a)
{
	char *copy = xstrdup(lines), *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t');
		if (tab != NULL)
			*tab = '\0';
		a->structures = xrealloc(a->structures, (a->structure_count + 1) * sizeof(*a->structures));
		a->structures[a->structure_count++] = (struct directory_structure){
			.siret = xstrdup(line), .name = tab && tab[1] ? xstrdup(tab + 1) : NULL,
		};
	}
	free(copy);
}

static int
collect_account(const struct account_row *row, const char *structures, void *user)
{
	struct directory_accounts *out = user;
	out->items = xrealloc(out->items, (out->count + 1) * sizeof(*out->items));
	struct directory_account *a = &out->items[out->count++];
	*a = (struct directory_account){
		.identifier = xstrdup(row->identifier), .email = xstrdup(row->email), .kind = xstrdup(row->kind),
		.state = xstrdup(row->state),
	};
	parse_structures(structures, a);
	return 0;
}

static int
sqlite_find(struct directory *d, const char *by, const char *value, struct directory_accounts *out)
{
	if (store_accounts_find(sqlite_store(d), by, value, collect_account, out) < 0) {
		directory_accounts_clear(out);
		return directory_fail(d, DIRECTORY_ERROR, "store: %s", store_error(sqlite_store(d)));
	}
	return (int)out->count;
}

static int
sqlite_accounts_by_email(struct directory *d, const char *email, struct directory_accounts *out)
{
	return sqlite_find(d, "email", email, out);
}

static int
sqlite_accounts_by_siret(struct directory *d, const char *siret, struct directory_accounts *out)
{
	return sqlite_find(d, "siret", siret, out);
}

static int
sqlite_account_get(struct directory *d, const char *identifier, struct directory_account *out)
{
	struct directory_accounts found = {0};
	int n = sqlite_find(d, "identifier", identifier, &found);
	if (n > 0) {
		*out = found.items[0];
		memset(&found.items[0], 0, sizeof(found.items[0]));
	}
	directory_accounts_clear(&found);
	return n < 0 ? n : n > 0;
}

static int
copy_dossier(const struct dossier_row *row, void *user)
{
	struct directory_dossier *d = user;
	*d = (struct directory_dossier){
		.number = xstrdup(row->number), .type = xstrdup(row->type), .state = xstrdup(row->state),
		.siret = xstrdup(row->siret),
		.training_org_siret = row->training_org_siret ? xstrdup(row->training_org_siret) : NULL,
		.deca_number = row->deca_number ? xstrdup(row->deca_number) : NULL,
		.start_date = row->start_date ? xstrdup(row->start_date) : NULL, .amount_cents = row->amount_cents,
	};
	return 0;
}

static int
sqlite_dossier_get(struct directory *d, const char *number, struct directory_dossier *out)
{
	struct store *st = sqlite_store(d);
	int found = store_dossier_find(st, number, copy_dossier, out);
	if (found == 1 && store_dossier_emails(st, number, &out->emails, &out->email_count) < 0)
		found = -1;
	if (found < 0) {
		directory_dossier_clear(out);
		return directory_fail(d, DIRECTORY_ERROR, "store: %s", store_error(st));
	}
	return found;
}

static const struct directory_ops sqlite_ops = {
	.accounts_by_email = sqlite_accounts_by_email,
	.accounts_by_siret = sqlite_accounts_by_siret,
	.account_get = sqlite_account_get,
	.dossier_get = sqlite_dossier_get,
};

struct directory *
directory_open_sqlite(struct store *st)
{
	return directory_new(&sqlite_ops, false, st);
}

struct directory *
directory_open_for(const struct directory_http_settings *http, struct store *st, char **error_r)
{
	return http != NULL ? directory_open_http(http, error_r) : directory_open_sqlite(st);
}
