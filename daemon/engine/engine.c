/* engine — loads and cross-checks the data folder (see engine.h). */
#include "autoconf.h"
#include "engine/engine.h"
#include "engine/faq.h"
#include "engine/intent.h"
#include "engine/lexicon.h"
#include "engine/template.h"
#include "core/text.h"
#include "core/util.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
append_error(struct strbuf *errors, char *err)
{
	if (err == NULL)
		return;
	strbuf_adds(errors, err);
	strbuf_addc(errors, '\n');
	free(err);
}

/* Checks what each intent leads to against faq-data/ and templates/. */
static void
cross_check(const struct engine *e, struct strbuf *errors)
{
	for (size_t i = 0; i < intent_set_count(e->intents); i++) {
		const struct intent_def *d = intent_set_get(e->intents, i);
		if (d->faq != NULL && faq_find(e->faq, d->faq) == NULL)
			strbuf_addf(errors, "%s: faq: \"%s\" names no file of faq-data/\n", d->file, d->faq);
		if (d->reply != NULL && strcmp(d->reply, "chat_greeting") != 0 && strcmp(d->reply, "chat_thanks") != 0)
			strbuf_addf(errors, "%s: reply: \"%s\" is not a chat template (chat_greeting or chat_thanks)\n",
				    d->file, d->reply);
	}
	for (size_t i = 0; i < faq_count(e->faq); i++) {
		const struct faq_entry *f = faq_get(e->faq, i);
		bool used = false;
		for (size_t k = 0; k < intent_set_count(e->intents) && !used; k++) {
			const struct intent_def *d = intent_set_get(e->intents, k);
			used = d->faq != NULL && strcmp(d->faq, f->id) == 0;
		}
		if (!used)
			strbuf_addf(errors, "%s: no intent leads to this entry (faq: %s)\n", f->file, f->id);
	}
}

static void
learn_faq_words(struct lexicon *lex, const struct faq *faq)
{
	for (size_t i = 0; i < faq_count(faq); i++) {
		const struct faq_entry *f = faq_get(faq, i);
		const char *parts[] = { f->question, f->common, f->entreprise, f->organisme };
		for (size_t k = 0; k < sizeof(parts) / sizeof(*parts); k++) {
			if (parts[k] == NULL)
				continue;
			char *folded = text_fold(parts[k], strlen(parts[k]), NULL);
			lexicon_add_known_words(lex, folded);
			free(folded);
		}
	}
}

struct engine *
engine_load(const char *data_dir, char **error_r)
{
	struct stat st;
	if (stat(data_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		*error_r = xasprintf("%s: not a readable data folder (expected intents/, faq-data/, templates/ in it)",
				     data_dir);
		return NULL;
	}
	struct engine *e = xcalloc(1, sizeof(*e));
	e->data_dir = xstrdup(data_dir);
	struct strbuf errors = {0};
	char *err = NULL;
	char *path;

	path = xasprintf("%s/templates", data_dir);
	e->templates = templates_load(path, &err);
	append_error(&errors, err);
	free(path);

	err = NULL;
	path = xasprintf("%s/faq-data", data_dir);
	e->faq = faq_load(path, &err);
	append_error(&errors, err);
	free(path);

	err = NULL;
	path = xasprintf("%s/intents/lexicon.tsv", data_dir);
	e->lexicon = lexicon_load(path, &err);
	append_error(&errors, err);
	free(path);
	if (e->lexicon == NULL)
		e->lexicon = lexicon_new();

	err = NULL;
	path = xasprintf("%s/intents", data_dir);
	e->intents = intent_set_load(path, e->lexicon, &err);
	append_error(&errors, err);
	free(path);

	if (e->faq != NULL)
		learn_faq_words(e->lexicon, e->faq);
	lexicon_seal(e->lexicon);
	if (errors.len == 0)
		cross_check(e, &errors);
	if (errors.len > 0) {
		errors.data[errors.len - 1] = '\0';
		*error_r = strbuf_detach(&errors);
		engine_free(&e);
		return NULL;
	}
	return e;
}

void
engine_free(struct engine **ep)
{
	struct engine *e = *ep;
	if (e == NULL)
		return;
	lexicon_free(&e->lexicon);
	intent_set_free(&e->intents);
	faq_free(&e->faq);
	templates_free(&e->templates);
	free(e->data_dir);
	free(e);
	*ep = NULL;
}

const char *
engine_default_data_dir(void)
{
	/* A binary built in this build tree lives in $(abs_top_builddir)/daemon: it uses the
	 * source tree's data so that edits to intents/ show at once, without make install. */
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash != NULL) {
			*slash = '\0';
			char built[PATH_MAX];
			if (realpath(DIALOGD_BUILD_DAEMON_DIR, built) != NULL && strcmp(built, exe) == 0)
				return DIALOGD_SOURCE_DIR;
		}
	}
	return DIALOGD_PKGDATADIR;
}
