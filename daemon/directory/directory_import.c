/* directory_import — CSV files into the embedded directory (see directory_import.h). */
#include "autoconf.h"
#include "directory/directory_import.h"
#include "formats/mail_compose.h"
#include "store/store.h"
#include "core/strmap.h"
#include "core/text.h"
#include "core/util.h"

#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest value accepted in any column, and most problems listed before stopping. */
#define VALUE_MAX 200
#define PROBLEMS_MAX 50
#define COLUMNS_MAX 16

static const char *const table_names[] = { "companies", "accounts", "dossiers" };

static const char *const columns[][9] = {
	[DIRECTORY_COMPANIES] = { "siret", "name", "kind", "correspondant_email" },
	[DIRECTORY_ACCOUNTS] = { "identifier", "email", "kind", "siret", "state" },
	[DIRECTORY_DOSSIERS] = { "number", "type", "state", "siret", "training_org_siret", "deca_number", "start_date",
				 "amount" },
};

/* Closed lists: the canonical value, then what is accepted for it (folded: no accents,
 * no case, words joined by single spaces). */
struct choice {
	const char *value;
	const char *accepted[3];
};

static const struct choice kinds[] = {
	{ "entreprise", { "entreprise" } },
	{ "organisme", { "organisme", "organisme de formation", "of" } },
	{ NULL, { NULL } },
};
static const struct choice account_states[] = {
	{ "active", { "active", "actif" } },
	{ "pending", { "pending", "en attente d activation", "en attente" } },
	{ NULL, { NULL } },
};
static const struct choice dossier_types[] = {
	{ "action_formation", { "action formation", "action de formation" } },
	{ "contrat_pro", { "contrat pro", "contrat de professionnalisation" } },
	{ "contrat_apprentissage", { "contrat apprentissage", "contrat d apprentissage" } },
	{ NULL, { NULL } },
};
static const struct choice dossier_states[] = {
	{ "en_cours_de_saisie", { "en cours de saisie" } },
	{ "transmis", { "transmis" } },
	{ "en_attente_de_pieces", { "en attente de pieces" } },
	{ "accorde", { "accorde" } },
	{ "refuse", { "refuse" } },
	{ "paye", { "paye" } },
	{ "clos", { "clos" } },
	{ NULL, { NULL } },
};

int
directory_table_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(table_names) / sizeof(*table_names); i++)
		if (strcmp(name, table_names[i]) == 0)
			return (int)i;
	return -1;
}

bool
directory_siret_normalize(const char *text, char out[15])
{
	size_t n = 0;
	for (const char *p = text; *p; p++) {
		if (*p == ' ')
			continue;
		if (!isdigit((unsigned char)*p) || n == 14)
			return false;
		out[n++] = *p;
	}
	out[n] = '\0';
	if (n != 14)
		return false;
	/* Luhn: from the right, every second digit doubled. */
	unsigned sum = 0, plain = 0;
	for (size_t i = 0; i < 14; i++) {
		unsigned d = (unsigned)(out[13 - i] - '0');
		plain += d;
		if (i % 2 == 1)
			d = d * 2 > 9 ? d * 2 - 9 : d * 2;
		sum += d;
	}
	/* La Poste's establishments share SIREN 356000000 and use a digit sum instead. */
	if (strncmp(out, "356000000", 9) == 0)
		return plain % 5 == 0;
	return sum % 10 == 0;
}

/* One CSV file being read. */
struct reader {
	const char *path;
	enum directory_table table;
	struct store *store;
	char *fields[COLUMNS_MAX];
	size_t field_count;
	bool field_overflow;
	int index[9];           /* column of each expected name in the file, -1 when absent */
	bool header_done;
	unsigned line;          /* physical line being fed to libcsv */
	unsigned record_line;   /* line where the current record started */
	bool in_record;         /* a record begun, its end not yet seen */
	unsigned long records;  /* records ended so far */
	long imported;
	unsigned problems;
	struct strbuf errors;
	bool store_failed;
	struct strmap *seen;    /* accounts met in this import */
};

static void
problem(struct reader *r, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
problem(struct reader *r, unsigned line, const char *fmt, ...)
{
	if (++r->problems > PROBLEMS_MAX)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	strbuf_addf(&r->errors, "%s:%u: %s\n", r->path, line, msg);
	free(msg);
}

static void
on_field(void *data, size_t len, void *user)
{
	struct reader *r = user;
	r->in_record = true;
	if (r->field_count == COLUMNS_MAX) {
		r->field_overflow = true;
		return;
	}
	r->fields[r->field_count++] = xstrndup(data ? data : "", data ? len : 0);
}

static void
clear_fields(struct reader *r)
{
	for (size_t i = 0; i < r->field_count; i++)
		free(r->fields[i]);
	r->field_count = 0;
	r->field_overflow = false;
	r->in_record = false;
}

/* The value of expected column k in the current record, trimmed ("" when absent). */
static const char *
value(struct reader *r, size_t k)
{
	int i = r->index[k];
	if (i < 0 || (size_t)i >= r->field_count)
		return "";
	return str_trim(r->fields[i]);
}

/* Checks a value is printable UTF-8 of reasonable length; names the column otherwise. */
static bool
plain_text(struct reader *r, const char *column, const char *v)
{
	char *err = NULL;
	if (text_validate(v, strlen(v), &err) < 0) {
		problem(r, r->record_line, "%s: %s", column, err);
		free(err);
		return false;
	}
	if (strlen(v) > VALUE_MAX) {
		problem(r, r->record_line, "%s: longer than %d bytes", column, VALUE_MAX);
		return false;
	}
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7F) {
			problem(r, r->record_line, "%s: holds a control character", column);
			return false;
		}
	return true;
}

static const char *
choose(struct reader *r, const char *column, const char *v, const struct choice *choices)
{
	char *folded = text_fold(v, strlen(v), NULL);
	for (const struct choice *c = choices; c->value; c++)
		for (size_t i = 0; i < 3 && c->accepted[i]; i++)
			if (strcmp(folded, c->accepted[i]) == 0 || strcmp(v, c->value) == 0) {
				free(folded);
				return c->value;
			}
	free(folded);
	struct strbuf sb = {0};
	for (const struct choice *c = choices; c->value; c++)
		strbuf_addf(&sb, "%s%s", sb.len ? ", " : "", c->value);
	problem(r, r->record_line, "%s: \"%s\" is not one of %s", column, v, sb.data);
	strbuf_free(&sb);
	return NULL;
}

static bool
siret(struct reader *r, const char *column, const char *v, char out[15], bool must_exist)
{
	if (!directory_siret_normalize(v, out)) {
		problem(r, r->record_line, "%s: \"%s\" is not a SIRET (14 digits with a valid key)", column, v);
		return false;
	}
	if (!must_exist)
		return true;
	int known = store_company_exists(r->store, out);
	if (known < 0) {
		r->store_failed = true;
		return false;
	}
	if (known == 0)
		problem(r, r->record_line, "%s: %s is not in the companies (import companies.csv first)", column, out);
	return known > 0;
}

static bool
email(struct reader *r, const char *column, const char *v, bool optional)
{
	if (optional && *v == '\0')
		return true;
	char *name = NULL, *address = NULL;
	bool ok = mail_address_split(v, &name, &address) == 0 && name == NULL && strcmp(address, v) == 0;
	free(name);
	free(address);
	if (!ok)
		problem(r, r->record_line, "%s: \"%s\" is not an e-mail address", column, v);
	return ok;
}

/* Identifiers and dossier numbers: letters, digits and . _ - / only. */
static bool
code(struct reader *r, const char *column, const char *v, bool optional)
{
	if (*v == '\0') {
		if (!optional)
			problem(r, r->record_line, "%s: empty", column);
		return optional;
	}
	for (const char *p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && strchr("._-/", *p) == NULL) {
			problem(r, r->record_line, "%s: \"%s\" may hold only letters, digits and . _ - /", column, v);
			return false;
		}
	return true;
}

/* An amount in euros ("1234.56", "1 234,56", "1234") into cents. */
static bool
amount(struct reader *r, const char *v, int64_t *cents)
{
	char digits[32];
	size_t n = 0;
	for (const char *p = v; *p && n < sizeof(digits) - 1; p++)
		if (*p != ' ')
			digits[n++] = *p == ',' ? '.' : *p;
	digits[n] = '\0';
	char *end;
	errno = 0;
	double d = strtod(digits, &end);
	if (n == 0 || *end != '\0' || errno != 0 || d < 0 || d > 1e9 || strlen(v) > 20) {
		problem(r, r->record_line, "amount: \"%s\" is not an amount in euros", v);
		return false;
	}
	*cents = (int64_t)(d * 100 + 0.5);
	return true;
}

static bool
date(struct reader *r, const char *v)
{
	if (*v == '\0')
		return true;
	int y, m, d;
	char extra;
	if (strlen(v) != 10 || sscanf(v, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 || y < 1990 || y > 2100 || m < 1 ||
	    m > 12 || d < 1 || d > 31) {
		problem(r, r->record_line, "start_date: \"%s\" is not a date YYYY-MM-DD", v);
		return false;
	}
	return true;
}

static void
import_record(struct reader *r)
{
	for (size_t k = 0; columns[r->table][k]; k++)
		if (!plain_text(r, columns[r->table][k], value(r, k)))
			return;
	char s1[15], s2[15];
	int rc = 0;
	switch (r->table) {
	case DIRECTORY_COMPANIES: {
		/* Every check runs (no short circuit): every problem of the line is reported. */
		const char *kind = choose(r, "kind", value(r, 2), kinds);
		bool ok = siret(r, "siret", value(r, 0), s1, false);
		if (*value(r, 1) == '\0') {
			problem(r, r->record_line, "name: empty");
			ok = false;
		}
		ok &= email(r, "correspondant_email", value(r, 3), true);
		if (!ok || kind == NULL)
			return;
		struct company_row c = { s1, value(r, 1), kind, *value(r, 3) ? value(r, 3) : NULL };
		rc = store_company_put(r->store, &c);
		break;
	}
	case DIRECTORY_ACCOUNTS: {
		const char *kind = choose(r, "kind", value(r, 2), kinds);
		const char *state = choose(r, "state", value(r, 4), account_states);
		bool ok = code(r, "identifier", value(r, 0), false);
		ok &= email(r, "email", value(r, 1), false);
		ok &= siret(r, "siret", value(r, 3), s1, true);
		if (!ok || kind == NULL || state == NULL)
			return;
		struct account_row a = { value(r, 0), value(r, 1), kind, s1, state };
		/* The file says which structures an account acts for: its first line in this
		 * import drops the links of earlier imports (someone who left loses access). */
		const char *id = value(r, 0);
		if (strmap_get(r->seen, id, strlen(id)) == NULL) {
			strmap_put(r->seen, id, strlen(id), (void *)1);
			rc = store_account_unlink(r->store, id);
		}
		if (rc == 0)
			rc = store_account_put(r->store, &a);
		break;
	}
	case DIRECTORY_DOSSIERS: {
		const char *type = choose(r, "type", value(r, 1), dossier_types);
		const char *state = choose(r, "state", value(r, 2), dossier_states);
		int64_t cents = -1;  /* no amount in the file: unknown, not zero */
		bool org = *value(r, 4) != '\0';
		bool ok = code(r, "number", value(r, 0), false);
		ok &= siret(r, "siret", value(r, 3), s1, true);
		if (org)
			ok &= siret(r, "training_org_siret", value(r, 4), s2, true);
		ok &= code(r, "deca_number", value(r, 5), true);
		ok &= date(r, value(r, 6));
		if (*value(r, 7))
			ok &= amount(r, value(r, 7), &cents);
		if (!ok || type == NULL || state == NULL)
			return;
		struct dossier_row d = { value(r, 0), type, state, s1, org ? s2 : NULL,
					 *value(r, 5) ? value(r, 5) : NULL, *value(r, 6) ? value(r, 6) : NULL, cents };
		rc = store_dossier_put(r->store, &d);
		break;
	}
	}
	if (rc < 0)
		r->store_failed = true;
	else
		r->imported++;
}

static void
on_record(int end, void *user)
{
	(void)end;
	struct reader *r = user;
	r->records++;
	if (r->store_failed) {
		clear_fields(r);
		return;
	}
	if (r->field_overflow) {
		problem(r, r->record_line, "more than %d columns", COLUMNS_MAX);
	} else if (!r->header_done) {
		r->header_done = true;
		for (size_t k = 0; columns[r->table][k]; k++) {
			r->index[k] = -1;
			for (size_t i = 0; i < r->field_count; i++)
				if (strcmp(str_trim(r->fields[i]), columns[r->table][k]) == 0)
					r->index[k] = (int)i;
			/* Optional columns may be missing from the header; the others may not. */
			bool optional = r->table == DIRECTORY_DOSSIERS && k >= 4;
			if (r->index[k] < 0 && !optional)
				problem(r, r->record_line, "the first line must name the columns; \"%s\" is missing",
					columns[r->table][k]);
		}
	} else if (r->problems == 0 || r->problems <= PROBLEMS_MAX) {
		import_record(r);
	}
	clear_fields(r);
}

long
directory_import(struct store *st, enum directory_table table, const char *path, char **error_r)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		*error_r = xasprintf("%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	struct reader r = { .path = path, .table = table, .store = st, .seen = strmap_new() };
	struct csv_parser p;
	csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL);
	if (store_begin(st) < 0) {
		*error_r = xasprintf("store: %s", store_error(st));
		fclose(f);
		csv_free(&p);
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, f)) >= 0 && !r.store_failed) {
		r.line++;
		if (!r.in_record)  /* lines are fed one by one: a record starts with a line */
			r.record_line = r.line;
		unsigned long records = r.records;
		if (csv_parse(&p, line, (size_t)n, on_field, on_record, &r) != (size_t)n) {
			problem(&r, r.line, "not valid CSV: %s", csv_strerror(csv_error(&p)));
			break;
		}
		/* A line that ended no record leaves one open (a quoted line break). */
		if (r.records == records && strspn(line, "\r\n") != (size_t)n)
			r.in_record = true;
	}
	if (ferror(f))
		problem(&r, r.line, "cannot read: %s", strerror(errno));
	if (csv_fini(&p, on_field, on_record, &r) != 0)
		problem(&r, r.record_line, "not valid CSV (%s): a quote is not closed",
			csv_strerror(csv_error(&p)));
	clear_fields(&r);
	strmap_free(&r.seen);
	csv_free(&p);
	free(line);
	fclose(f);
	if (!r.header_done && r.problems == 0)
		problem(&r, 1, "empty file: the first line must name the columns");
	if (r.problems > PROBLEMS_MAX)
		strbuf_addf(&r.errors, "%s: … and %u more problems\n", path, r.problems - PROBLEMS_MAX);
	if (r.store_failed)
		strbuf_addf(&r.errors, "store: %s\n", store_error(st));
	if (r.problems > 0 || r.store_failed || store_commit(st) < 0) {
		store_rollback(st);
		if (r.errors.len == 0)
			strbuf_addf(&r.errors, "store: %s\n", store_error(st));
		r.errors.data[r.errors.len - 1] = '\0';
		*error_r = strbuf_detach(&r.errors);
		return -1;
	}
	strbuf_free(&r.errors);
	return r.imported;
}
