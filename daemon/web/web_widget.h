/* web_widget — the website chat widget's files, as [web] listen serves them: the loader
 * /widget.js (the one tag a host page carries: it draws the launcher only), the chat's
 * code /widget-chat.js (loaded on the first click) and its style /widget.css, read from
 * the data folder's templates/widget/ once at start. The loader gets the settings the
 * browser needs written into it (the storage, the retention the privacy line states, the
 * version that names the other two files, so that a cached copy is never mixed with a
 * new one). Each file is also kept gzipped, for a client that accepts it.
 * Threads: loaded by the main thread before the web thread starts, then read-only. */
#ifndef DIALOGD_WEB_WIDGET_H
#define DIALOGD_WEB_WIDGET_H

#include <stdbool.h>
#include <stddef.h>

struct web_page;

struct web_widget_settings {
	const char *persistence;        /* [chat] persistence: "tab" or "browser" */
	unsigned long retention_days;   /* [chat] retention_days */
	unsigned long max_text;         /* [chat] max_text: bytes of a message, checked before it is sent */
};

/* One file as it is served. */
struct web_asset {
	const char *path;               /* "/widget.js" */
	const char *content_type;
	const char *cache_control;
	char *body, *gzipped;
	size_t len, gzipped_len;
};

#define WEB_WIDGET_ASSETS 3
struct web_widget {
	struct web_asset assets[WEB_WIDGET_ASSETS];
	char version[17];               /* 16 hex digits: a digest of the chat's code and style */
};

/* Reads the files of data_dir/templates/widget/. Returns 0, or -1 with *error_r naming
 * the file (ww is then empty). */
int web_widget_load(struct web_widget *ww, const char *data_dir, const struct web_widget_settings *settings,
		    char **error_r);
void web_widget_free(struct web_widget *ww);

/* The asset served at path (len bytes, no query), or NULL. */
const struct web_asset *web_widget_find(const struct web_widget *ww, const char *path, size_t len);
/* Fills page (status 200) with a copy of the asset, gzipped when accept_gzip. */
void web_widget_page(const struct web_asset *asset, bool accept_gzip, struct web_page *page);
/* Whether an Accept-Encoding value accepts gzip (RFC 9110 §12.5.3: a "gzip" or "*"
 * coding whose q is not 0). */
bool web_accepts_gzip(const char *accept_encoding);

#endif
