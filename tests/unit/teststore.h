/* A store in a fresh temporary folder, for the unit tests that need one (cmocka
 * setup/teardown pair included). Include after testutil.h. */
#ifndef DIALOGD_TESTSTORE_H
#define DIALOGD_TESTSTORE_H

#include "store/store.h"

struct temp_store {
	char *dir;              /* the temporary folder, removed at the end */
	char *db;               /* the SQLite file in it */
	struct store *store;
};

static inline int
temp_store_setup(void **state)
{
	struct temp_store *t = xcalloc(1, sizeof(*t));
	t->dir = make_temp_dir();
	t->db = xasprintf("%s/store.sqlite", t->dir);
	char *err = NULL;
	t->store = store_open(t->db, &err);
	assert_non_null(t->store);
	*state = t;
	return 0;
}

static inline int
temp_store_teardown(void **state)
{
	struct temp_store *t = *state;
	store_close(&t->store);
	rm_rf(t->dir);
	free(t->dir);
	free(t->db);
	free(t);
	return 0;
}

#endif
