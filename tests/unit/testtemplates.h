/* The project's templates (the source tree's templates/), loaded once for a test group:
 * cmocka group setup and teardown. Include after testutil.h. */
#ifndef DIALOGD_TESTTEMPLATES_H
#define DIALOGD_TESTTEMPLATES_H

#include "engine/template.h"

static struct templates *templates;

static int
load_templates(void **state)
{
	(void)state;
	char *dir = xasprintf("%s/templates", source_data_dir());
	char *err = NULL;
	templates = templates_load(dir, &err);
	if (templates == NULL)
		fprintf(stderr, "%s\n", err);
	free(err);
	free(dir);
	return templates == NULL ? -1 : 0;
}

static int
free_templates(void **state)
{
	(void)state;
	templates_free(&templates);
	return 0;
}

#endif
