/* directory — who is who (issue 4): accounts, the structures they act for, dossiers.
 * The same questions are asked of one of two backends, chosen by [directory] backend:
 *   sqlite — the store's own tables, filled by `dialogctl import` (the default);
 *   http   — the extranet's HTTP/JSON API (directory_http.c; the API is in README.md).
 * One struct directory per thread, like a store connection (the http backend keeps one
 * curl handle). Lookups return 1 (found), 0 (not found), or one of the negative codes
 * below; directory_error() then says why, for the operator's log line. A caller that
 * gets DIRECTORY_UNAVAILABLE answers nothing about the account: it escalates, politely. */
#ifndef DIALOGD_DIRECTORY_H
#define DIALOGD_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

enum {
	DIRECTORY_ERROR = -1,           /* the store failed (the caller's transaction is void) */
	DIRECTORY_UNAVAILABLE = -2,     /* the remote API is slow, down, or answered nonsense */
};

struct directory_structure {
	char *siret;
	char *name;             /* may be NULL when the directory does not know it */
};

struct directory_account {
	char *identifier;
	char *email;            /* the address on file */
	char *kind;             /* "entreprise" or "organisme" */
	char *state;            /* "active" or "pending" (activation pending) */
	struct directory_structure *structures;  /* the structures it acts for */
	size_t structure_count;
};

struct directory_accounts {
	struct directory_account *items;
	size_t count;
};

struct directory_dossier {
	char *number;
	char *type;             /* action_formation, contrat_pro, contrat_apprentissage */
	char *state;            /* en_cours_de_saisie, transmis, en_attente_de_pieces, accorde, refuse, paye, clos */
	char *siret;            /* the company */
	char *training_org_siret;       /* may be NULL */
	char *deca_number;      /* may be NULL */
	char *start_date;       /* YYYY-MM-DD, may be NULL */
	int64_t amount_cents;   /* -1 when unknown */
	/* The addresses on file of the ACTIVE accounts acting for the company or the
	 * training organisation: who may learn the status, and where it is sent. */
	char **emails;
	size_t email_count;
};

void directory_account_clear(struct directory_account *account);
void directory_accounts_clear(struct directory_accounts *accounts);
void directory_dossier_clear(struct directory_dossier *dossier);

/* What the http backend needs (from [directory]); unused by sqlite. */
struct directory_http_settings {
	const char *url;                /* base URL, without a trailing slash needed */
	const char *user, *password;    /* HTTP Basic when user is set */
	const char *api_key;            /* Authorization: Bearer when set (wins over Basic) */
	unsigned long timeout;          /* seconds for a whole call */
	unsigned long connect_timeout;  /* seconds to connect */
	bool tls_verify;
	const char *tls_ca_file;
	bool allow_plaintext;           /* http:// off loopback */
};

struct directory;

/* The embedded backend over store (borrowed: it must outlive the directory). */
struct directory *directory_open_sqlite(struct store *store);
/* The remote backend. NULL with *error_r when the settings cannot work (bad URL,
 * plaintext off loopback without allow_plaintext). */
struct directory *directory_open_http(const struct directory_http_settings *settings, char **error_r);
/* The remote backend when http is set, else the embedded one over store. */
struct directory *directory_open_for(const struct directory_http_settings *http, struct store *store, char **error_r);
void directory_close(struct directory **directory);

/* Whether this is the remote backend (password resets are then the extranet's job). */
bool directory_is_remote(const struct directory *directory);
/* Whether dossiers can be looked up: always with the remote backend, with the embedded
 * one once dossiers were imported (else the status action is a correspondant's job). */
bool directory_has_dossiers(struct directory *directory);
/* Why the last call failed, for the log ("" when it did not). */
const char *directory_error(const struct directory *directory);

/* Every account whose address on file is email (case-insensitive), with its structures.
 * Returns how many (0 when none), or a negative code. */
int directory_accounts_by_email(struct directory *directory, const char *email, struct directory_accounts *out);
/* Every account acting for the structure with this SIRET. */
int directory_accounts_by_siret(struct directory *directory, const char *siret, struct directory_accounts *out);
/* The account with this identifier (case-insensitive): 1 with *out, 0, or negative. */
int directory_account_get(struct directory *directory, const char *identifier, struct directory_account *out);
/* The dossier with this number: 1 with *out, 0, or negative. */
int directory_dossier_get(struct directory *directory, const char *number, struct directory_dossier *out);

/* Remote backend only: asks the extranet to send its own reset link to the account's
 * address on file. 1 when accepted, 0 when the extranet knows no such account, or a
 * negative code. The embedded backend returns DIRECTORY_ERROR (dialogd issues its own
 * tokens: reset_token.h). */
int directory_request_password_reset(struct directory *directory, const char *identifier);

/* Whether email is among the dossier's addresses on file (case-insensitive). */
bool directory_dossier_has_email(const struct directory_dossier *dossier, const char *email);

#endif
