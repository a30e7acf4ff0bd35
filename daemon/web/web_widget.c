/* web_widget — see web_widget.h. */
#include "autoconf.h"
#include "web/web_widget.h"
#include "core/util.h"
#include "web/web_page.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

/* The loader holds this string literal, quotes included, where its settings go: the file
 * as written is valid JavaScript on its own (the settings are then the string). */
#define CONFIG_PLACEHOLDER "\"@DIALOGD_CONFIG@\""
/* Far above what the files weigh (tens of KB): a file this big is not ours. */
#define ASSET_MAX (1024 * 1024)

enum { ASSET_LOADER, ASSET_CHAT, ASSET_STYLE };

static const struct {
	const char *path, *file, *content_type, *cache_control;
} asset_files[WEB_WIDGET_ASSETS] = {
	/* The loader's own URL never changes (it is in the host pages): a short cache, so
	 * that a new version reaches visitors within minutes. The other two are named with
	 * the version by the loader: a day. */
	[ASSET_LOADER] = { "/widget.js", "widget.js", "text/javascript; charset=utf-8", "public, max-age=300" },
	[ASSET_CHAT] = { "/widget-chat.js", "chat.js", "text/javascript; charset=utf-8", "public, max-age=86400" },
	[ASSET_STYLE] = { "/widget.css", "widget.css", "text/css; charset=utf-8", "public, max-age=86400" },
};

/* gzip (RFC 1952) of data at the best level; aborts on a zlib failure (memory). */
static char *
gzip_bytes(const char *data, size_t len, size_t *len_r)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	uLong cap = deflateBound(&z, (uLong)len) + 32;
	char *out = xmalloc(cap);
	z.next_in = (Bytef *)data;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		abort();
	*len_r = z.total_out;
	deflateEnd(&z);
	return out;
}

/* The loader with its settings in place of the placeholder. */
static int
loader_configure(struct web_asset *loader, const char *version, const struct web_widget_settings *s, char **error_r)
{
	char *at = strstr(loader->body, CONFIG_PLACEHOLDER);
	if (at == NULL) {
		*error_r = xstrdup("templates/widget/widget.js: the settings' place (" CONFIG_PLACEHOLDER ") is missing");
		return -1;
	}
	/* The values are checked by the configuration (a word of two, a number, hex): no
	 * escaping is needed. */
	struct strbuf sb = { 0 };
	strbuf_add(&sb, loader->body, (size_t)(at - loader->body));
	strbuf_addf(&sb, "{\"persistence\":\"%s\",\"retentionDays\":%lu,\"maxText\":%lu,\"version\":\"%s\"}",
		    s->persistence, s->retention_days, s->max_text, version);
	strbuf_adds(&sb, at + sizeof(CONFIG_PLACEHOLDER) - 1);
	loader->len = sb.len;
	free(loader->body);
	loader->body = strbuf_detach(&sb);
	return 0;
}

int
web_widget_load(struct web_widget *ww, const char *data_dir, const struct web_widget_settings *settings,
		char **error_r)
{
	memset(ww, 0, sizeof(*ww));
	for (size_t i = 0; i < WEB_WIDGET_ASSETS; i++) {
		struct web_asset *a = &ww->assets[i];
		char *path = xasprintf("%s/templates/widget/%s", data_dir, asset_files[i].file);
		char *err = NULL;
		a->path = asset_files[i].path;
		a->content_type = asset_files[i].content_type;
		a->cache_control = asset_files[i].cache_control;
		a->body = file_read_all(path, ASSET_MAX, &a->len, &err);
		free(path);
		if (a->body == NULL) {
			*error_r = xasprintf("the chat widget: %s", err);
			free(err);
			web_widget_free(ww);
			return -1;
		}
	}
	unsigned char digest[8];
	crypto_generichash_state state;
	crypto_generichash_init(&state, NULL, 0, sizeof(digest));
	crypto_generichash_update(&state, (const unsigned char *)ww->assets[ASSET_CHAT].body, ww->assets[ASSET_CHAT].len);
	crypto_generichash_update(&state, (const unsigned char *)ww->assets[ASSET_STYLE].body,
				  ww->assets[ASSET_STYLE].len);
	crypto_generichash_final(&state, digest, sizeof(digest));
	sodium_bin2hex(ww->version, sizeof(ww->version), digest, sizeof(digest));
	if (loader_configure(&ww->assets[ASSET_LOADER], ww->version, settings, error_r) < 0) {
		web_widget_free(ww);
		return -1;
	}
	for (size_t i = 0; i < WEB_WIDGET_ASSETS; i++)
		ww->assets[i].gzipped = gzip_bytes(ww->assets[i].body, ww->assets[i].len, &ww->assets[i].gzipped_len);
	return 0;
}

void
web_widget_free(struct web_widget *ww)
{
	for (size_t i = 0; i < WEB_WIDGET_ASSETS; i++) {
		free(ww->assets[i].body);
		free(ww->assets[i].gzipped);
	}
	memset(ww, 0, sizeof(*ww));
}

const struct web_asset *
web_widget_find(const struct web_widget *ww, const char *path, size_t len)
{
	for (size_t i = 0; i < WEB_WIDGET_ASSETS; i++) {
		const struct web_asset *a = &ww->assets[i];
		if (a->body != NULL && strlen(a->path) == len && memcmp(a->path, path, len) == 0)
			return a;
	}
	return NULL;
}

void
web_widget_page(const struct web_asset *asset, bool accept_gzip, struct web_page *page)
{
	const char *body = accept_gzip ? asset->gzipped : asset->body;
	size_t len = accept_gzip ? asset->gzipped_len : asset->len;
	memset(page, 0, sizeof(*page));
	page->status = 200;
	page->body = xmalloc(len + 1);
	memcpy(page->body, body, len);
	page->body[len] = '\0';
	page->len = len;
	page->content_type = asset->content_type;
	page->cache_control = asset->cache_control;
	page->content_encoding = accept_gzip ? "gzip" : NULL;
	page->vary = "Accept-Encoding";
}

/* The q value of one coding's parameters (";q=0.5"): 0 only when it is zero. */
static bool
q_is_zero(const char *params, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (params[i] != 'q' && params[i] != 'Q')
			continue;
		size_t j = i + 1;
		while (j < n && params[j] == ' ')
			j++;
		if (j >= n || params[j] != '=')
			continue;
		for (j++; j < n && params[j] == ' '; j++)
			;
		bool zero = j < n && params[j] == '0';
		for (j++; zero && j < n && params[j] != ';' && params[j] != ' '; j++)
			if (params[j] != '0' && params[j] != '.')
				zero = false;
		return zero;
	}
	return false;
}

bool
web_accepts_gzip(const char *accept_encoding)
{
	/* "gzip" named decides; otherwise "*" does. */
	int star = -1;
	for (const char *p = accept_encoding; p != NULL && *p;) {
		p += strspn(p, " \t,");
		size_t item = strcspn(p, ",");
		size_t name = strcspn(p, " \t;,");
		if (name > item)
			name = item;
		if (name == 4 && strncasecmp(p, "gzip", 4) == 0)
			return !q_is_zero(p + name, item - name);
		if (name == 1 && *p == '*')
			star = !q_is_zero(p + name, item - name);
		p += item;
	}
	return star == 1;
}
