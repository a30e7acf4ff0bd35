/* Tests of directory_import: the demo files load, every bad line is reported with its
 * number and reason, an import is all or nothing, hostile values are refused cleanly. */
#include "autoconf.h"
#include "testutil.h"
#include "teststore.h"
#include "directory/directory_import.h"
#include "formats/dossier_number.h"
#include "store/store.h"

static long
import_text(struct temp_store *f, enum directory_table t, const char *text, char **err)
{
	write_file(f->dir, "in.csv", text);
	char *path = xasprintf("%s/in.csv", f->dir);
	*err = NULL;
	long n = directory_import(f->store, t, path, err);
	free(path);
	return n;
}

static void
load_demo(struct temp_store *f)
{
	static const char *const names[] = { "companies", "accounts", "dossiers" };
	for (int t = 0; t < 3; t++) {
		char *path = xasprintf("%s/directory/%s.csv", TEST_DATA_DIR, names[t]);
		char *err = NULL;
		long n = directory_import(f->store, (enum directory_table)t, path, &err);
		if (n < 0)
			fail_msg("%s", err);
		assert_true(n > 0);
		free(path);
	}
}

static int
amount_of(const struct dossier_row *d, void *user)
{
	*(int64_t *)user = d->amount_cents;
	return 0;
}

static void
test_demo_data_loads(void **state)
{
	struct temp_store *f = *state;
	load_demo(f);
	assert_int_equal(store_directory_count(f->store, "companies"), 5);
	assert_int_equal(store_directory_count(f->store, "accounts"), 4);  /* one account acts for two OF */
	assert_int_equal(store_directory_count(f->store, "dossiers"), 4);
	/* An amount is read in cents; an empty one is unknown, not zero. */
	int64_t cents = 0;
	assert_int_equal(store_dossier_find(f->store, "AF-2023-018745", amount_of, &cents), 1);
	assert_int_equal(cents, 245000);
	assert_int_equal(store_dossier_find(f->store, "CA-2024-0100077", amount_of, &cents), 1);
	assert_int_equal(cents, -1);
	/* Importing again updates, it does not duplicate. */
	load_demo(f);
	assert_int_equal(store_directory_count(f->store, "dossiers"), 4);
}

static void
test_reimport_replaces_links(void **state)
{
	struct temp_store *f = *state;
	load_demo(f);
	assert_int_equal(store_dossier_linked(f->store, "AF-2023-018745", "j.moreau@scierie-des-combes.example"), 1);
	/* J. Moreau now acts for another company only: no access to the first one's dossiers. */
	char *err;
	assert_int_equal(import_text(f, DIRECTORY_ACCOUNTS,
				     "identifier,email,kind,siret,state\n"
				     "JMOREAU01,j.moreau@scierie-des-combes.example,entreprise,80354122600038,active\n",
				     &err), 1);
	assert_int_equal(store_dossier_linked(f->store, "AF-2023-018745", "j.moreau@scierie-des-combes.example"), 0);
	assert_int_equal(store_dossier_linked(f->store, "CA-2023-0098412", "j.moreau@scierie-des-combes.example"), 1);
}

static void
test_bad_lines_reported_and_nothing_imported(void **state)
{
	struct temp_store *f = *state;
	load_demo(f);
	char *err;
	long n = import_text(f, DIRECTORY_DOSSIERS,
			     "number,type,state,siret,training_org_siret,deca_number,start_date,amount\n"
			     "D-1,action de formation,transmis,41238765600025,,,2024-01-02,100\n"
			     "D-2,stage,perdu,41238765600025,,,2024-13-02,abc\n"
			     "D-3,contrat pro,accordé,52601815908308,12345678901234,,,\n"
			     "D-4,action de formation,clos,90937865797546,,,,\n",
			     &err);
	assert_int_equal(n, -1);
	assert_non_null(strstr(err, "in.csv:3: type: \"stage\" is not one of action_formation"));
	assert_non_null(strstr(err, "in.csv:3: state: \"perdu\" is not one of"));
	assert_non_null(strstr(err, "in.csv:3: start_date: \"2024-13-02\" is not a date"));
	assert_non_null(strstr(err, "in.csv:3: amount: \"abc\" is not an amount"));
	assert_non_null(strstr(err, "in.csv:4: training_org_siret: \"12345678901234\" is not a SIRET"));
	assert_non_null(strstr(err, "in.csv:5: siret: 90937865797546 is not in the companies"));
	assert_null(strstr(err, "in.csv:2:"));
	free(err);
	/* D-1 was fine, but the import is all or nothing. */
	assert_int_equal(store_directory_count(f->store, "dossiers"), 4);
}

static void
test_header_and_csv_errors(void **state)
{
	struct temp_store *f = *state;
	char *err;
	assert_int_equal(import_text(f, DIRECTORY_COMPANIES, "siret,name\n41238765600025,X\n", &err), -1);
	assert_non_null(strstr(err, "in.csv:1: the first line must name the columns; \"kind\" is missing"));
	free(err);
	assert_int_equal(import_text(f, DIRECTORY_COMPANIES, "", &err), -1);
	assert_non_null(strstr(err, "empty file"));
	free(err);
	assert_int_equal(import_text(f, DIRECTORY_COMPANIES,
				     "siret,name,kind,correspondant_email\n41238765600025,Ok,entreprise,\n\"open,x\n",
				     &err), -1);
	assert_non_null(strstr(err, "in.csv:3: not valid CSV"));
	free(err);
	assert_int_equal(store_directory_count(f->store, "companies"), 0);
}

static void
test_hostile_values(void **state)
{
	struct temp_store *f = *state;
	load_demo(f);
	char *big = xcalloc(10241, 1);
	memset(big, 'A', 10240);
	char *text = xasprintf("identifier,email,kind,siret,state\n"
			       "x'; DROP TABLE accounts; --,a@b.test,entreprise,41238765600025,active\n"
			       "%s,a@b.test,entreprise,41238765600025,active\n"
			       "\"CR\rLF\nX\",a@b.test,entreprise,41238765600025,active\n"
			       "BAD\xff\xfe,a@b.test,entreprise,41238765600025,active\n"
			       "OK1,\"a@b.test\r\nBcc: x@y\",entreprise,41238765600025,active\n",
			       big);
	char *err;
	assert_int_equal(import_text(f, DIRECTORY_ACCOUNTS, text, &err), -1);
	assert_non_null(strstr(err, "in.csv:2: identifier: \"x'; DROP TABLE accounts; --\" may hold only"));
	assert_non_null(strstr(err, "in.csv:3: identifier: longer than 200 bytes"));
	assert_non_null(strstr(err, "in.csv:4: identifier: holds a control character"));
	assert_non_null(strstr(err, "in.csv:6: identifier: invalid UTF-8"));
	assert_non_null(strstr(err, "in.csv:7: email: holds a control character"));
	free(err);
	assert_int_equal(store_directory_count(f->store, "accounts"), 4);
	assert_int_equal(store_directory_count(f->store, "companies"), 5);
	free(text);
	free(big);
}

static void
test_siret(void **state)
{
	(void)state;
	char out[15];
	assert_true(directory_siret_normalize("803 541 226 00038", out));
	assert_string_equal(out, "80354122600038");
	assert_false(directory_siret_normalize("80354122600039", out));  /* wrong key */
	assert_false(directory_siret_normalize("8035412260003", out));   /* 13 digits */
	assert_false(directory_siret_normalize("803541226000388", out)); /* 15 digits */
	assert_false(directory_siret_normalize("8035412260003X", out));
	assert_false(directory_siret_normalize("", out));
	/* La Poste: SIREN 356000000, digit sum a multiple of 5 (Luhn does not hold). */
	assert_true(directory_siret_normalize("35600000000001", out));
	assert_false(directory_siret_normalize("35600000000002", out));
}

static void
test_dossier_numbers(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *first;      /* NULL: no number */
	} cases[] = {
		{ "Où en est notre dossier n° AF-2023-018745 ? SIRET 41238765600025", "AF-2023-018745" },
		{ "dossier n° 2024-001234 svp", "2024-001234" },
		{ "ma demande 1234567", "1234567" },
		{ "Le numéro est ca-2023-0098412, merci.", "CA-2023-0098412" },
		{ "le contrat d'apprentissage de Léa Martin", NULL },
		{ "SIRET 803 541 226 00038, tél. 0612345678", NULL },
		{ "dossier 41238765600025", NULL },      /* a SIRET */
		{ "demande 0612345678", NULL },          /* a phone number */
		{ "notre demande du 12/03", NULL },
		{ "", NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *out[4];
		size_t n = dossier_numbers(cases[i].text, out, 4);
		if (cases[i].first == NULL) {
			assert_int_equal(n, 0);
		} else {
			assert_true(n >= 1);
			assert_string_equal(out[0], cases[i].first);
		}
		for (size_t k = 0; k < n; k++)
			free(out[k]);
	}
	/* Repeats are given once, in order. */
	char *out[4];
	assert_int_equal(dossier_numbers("AF-2023-018745 et af-2023-018745 puis CP-2024-000311", out, 4), 2);
	assert_string_equal(out[1], "CP-2024-000311");
	free(out[0]);
	free(out[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_demo_data_loads, temp_store_setup, temp_store_teardown),
		cmocka_unit_test_setup_teardown(test_reimport_replaces_links, temp_store_setup, temp_store_teardown),
		cmocka_unit_test_setup_teardown(test_bad_lines_reported_and_nothing_imported, temp_store_setup, temp_store_teardown),
		cmocka_unit_test_setup_teardown(test_header_and_csv_errors, temp_store_setup, temp_store_teardown),
		cmocka_unit_test_setup_teardown(test_hostile_values, temp_store_setup, temp_store_teardown),
		cmocka_unit_test(test_siret),
		cmocka_unit_test(test_dossier_numbers),
	};
	return cmocka_run_group_tests_name("directory", tests, NULL, NULL);
}
