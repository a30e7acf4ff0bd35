/* issue_token — test helper for tests/integration/web.sh (built by `make check`, never installed, not
 * a test itself): issues a password reset token for an account on a store, as the e-mail
 * channel does, and prints it on standard output.
 * Usage: issue_token STORE IDENTIFIER [TTL-SECONDS] */
#include "autoconf.h"
#include "accounts/reset_token.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int
main(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		fputs("usage: issue_token STORE IDENTIFIER [TTL-SECONDS]\n", stderr);
		return 2;
	}
	long ttl = argc == 4 ? strtol(argv[3], NULL, 10) : 1800;
	char *err = NULL;
	struct store *st = store_open(argv[1], &err);
	if (st == NULL) {
		fprintf(stderr, "issue_token: %s\n", err);
		free(err);
		return 1;
	}
	char token[RESET_TOKEN_SIZE];
	int rc = reset_token_issue(st, argv[2], (int64_t)time(NULL), ttl, token);
	if (rc < 0)
		fprintf(stderr, "issue_token: %s\n", store_error(st));
	else
		puts(token);
	store_close(&st);
	return rc < 0 ? 1 : 0;
}
