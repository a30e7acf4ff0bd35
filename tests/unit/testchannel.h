/* The fixture of the tests that run mail through mail_process on a store of their own:
 * the engine loaded once for the group from the source tree's data, a fresh store and
 * the test mail settings (no per-sender limits: they are tested on their own) for each
 * test. Include after testutil.h and testmailsettings.h. */
#ifndef DIALOGD_TESTCHANNEL_H
#define DIALOGD_TESTCHANNEL_H

#include "engine/engine.h"
#include "mail/mail_channel.h"
#include "store/store.h"

#include <sqlite3.h>

struct fixture {
	char *dir;
	char *db;
	struct engine *engine;
	struct intent_scratch *scratch;
	struct store *store;
	struct mail_settings settings;
};

static struct engine *shared_engine;

static int
setup_group(void **state)
{
	(void)state;
	char *err = NULL;
	shared_engine = engine_load(source_data_dir(), &err);
	if (shared_engine == NULL)
		fprintf(stderr, "%s\n", err);
	free(err);
	return shared_engine == NULL ? -1 : 0;
}

static int
teardown_group(void **state)
{
	(void)state;
	engine_free(&shared_engine);
	return 0;
}

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	f->dir = make_temp_dir();
	f->db = xasprintf("%s/store.sqlite", f->dir);
	char *err = NULL;
	f->store = store_open(f->db, &err);
	assert_non_null(f->store);
	f->engine = shared_engine;
	f->scratch = intent_scratch_new();
	test_mail_settings(&f->settings);
	/* The per-sender limits are tested on their own; a trailing '/' in the link base is
	 * not doubled. */
	f->settings.limits.burst_limit = 0;
	f->settings.limits.daily_limit = 0;
	f->settings.actions.public_url = "https://assistance.ocapiat.test/";
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	store_close(&f->store);
	intent_scratch_free(&f->scratch);
	rm_rf(f->dir);
	free(f->dir);
	free(f->db);
	free(f);
	return 0;
}

/* The number a query of the store (on a connection of its own) gives. */
static unsigned
query_count(struct fixture *f, const char *sql)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	sqlite3_stmt *stmt;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	unsigned n = (unsigned)sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return n;
}

#endif
