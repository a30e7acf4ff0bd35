/* Tests of audit: every outcome has one code and one sentence of its own, and a stored
 * value that is no code is shown as it is. */
#include "autoconf.h"
#include "testutil.h"
#include "store/audit.h"

static void
test_codes_and_sentences(void **state)
{
	(void)state;
	for (int i = 0; i < AUDIT_OUTCOME_COUNT; i++) {
		const char *code = audit_code((enum audit_outcome)i), *text = audit_text(code);
		assert_non_null(code);
		if (*code == '\0' || strcmp(code, "unknown") == 0)
			fail_msg("outcome %d has no code", i);
		/* Codes are stored and compared: lower case, digits and '_' only. */
		assert_int_equal(strspn(code, "abcdefghijklmnopqrstuvwxyz0123456789_"), strlen(code));
		assert_true(*text != '\0');
		for (int k = 0; k < i; k++) {
			const char *other = audit_code((enum audit_outcome)k);
			if (strcmp(code, other) == 0 || (i != AUDIT_DONE && i != AUDIT_REFUSED && strcmp(text, audit_text(other)) == 0))
				fail_msg("outcomes %d and %d share \"%s\" or its sentence", k, i, code);
		}
	}
	assert_string_equal(audit_text("code_sent"), "one-time code sent to the address on file");
	/* A row written before codes, or by a newer dialogd: shown as stored. */
	assert_string_equal(audit_text("wrong one-time code"), "wrong one-time code");
	assert_string_equal(audit_text(NULL), "");
	assert_string_equal(audit_code(AUDIT_OUTCOME_COUNT), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codes_and_sentences),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
