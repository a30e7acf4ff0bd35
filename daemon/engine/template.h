/* template — loads templates/ (every French text the assistant writes) and renders them.
 * Pipeline: dialog → template → mail_out / chat. Lower layer: never logs.
 * A template is a UTF-8 text file with {{placeholders}}; each template has a fixed list
 * of placeholders, checked at load time (an unknown one is an error naming file and line).
 * Values are escaped for the output: plain text (control characters removed) or HTML
 * (a no-break space written &nbsp;).
 * Threads: loaded by one thread; read-only afterwards, rendered from any. */
#ifndef DIALOGD_TEMPLATE_H
#define DIALOGD_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

struct templates;

enum output_format { OUTPUT_TEXT, OUTPUT_HTML };

struct template_var {
	const char *name;
	const char *value;   /* NULL renders as "" */
	bool rendered;       /* already in the output format (a rendered fragment): not escaped */
};

/* Loads every template of dir; every template the code knows must be there. */
struct templates *templates_load(const char *dir, char **error_r);
void templates_free(struct templates **t);
size_t templates_count(const struct templates *t);

/* Renders template name with vars. Returns the text (caller frees); a name that is not a
 * known template is a programming error and aborts. */
char *template_render(const struct templates *t, const char *name, enum output_format format,
		      const struct template_var *vars, size_t var_count);

/* Escapes text for format (caller frees). */
char *template_escape(const char *text, enum output_format format);

#endif
