/* web_page — see web_page.h. */
#include "autoconf.h"
#include "web_page.h"
#include "util.h"

#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The only style of every page, inline: one request per page, and the CSP names its
 * SHA-256 so that no other style (injected or not) applies. */
static const char style[] =
	"body{margin:0;background:#f3f5f2;color:#1c2a1e;font:1rem/1.5 system-ui,\"Segoe UI\",Roboto,"
	"\"Liberation Sans\",Arial,sans-serif}"
	"main{max-width:34rem;margin:2rem auto;padding:1.5rem 2rem;background:#fff;border-radius:.5rem;"
	"box-shadow:0 1px 4px rgba(0,0,0,.15)}"
	"h1{margin-top:0;font-size:1.4rem;color:#2d6a33}"
	"label{display:block;margin-top:1rem;font-weight:600}"
	"input[type=password]{box-sizing:border-box;width:100%;margin-top:.25rem;padding:.5rem;font-size:1rem;"
	"border:1px solid #7d8f80;border-radius:.25rem}"
	"button{margin-top:1.5rem;padding:.6rem 1.2rem;font-size:1rem;color:#fff;background:#2d6a33;border:0;"
	"border-radius:.25rem;cursor:pointer}"
	".erreur{padding:.75rem 1rem;background:#fdecea;border-left:4px solid #b3261e;color:#6f1812}"
	".note{font-size:.9rem;color:#4a5a4c}";

static char csp[256];
static pthread_once_t csp_once = PTHREAD_ONCE_INIT;

static void
csp_init(void)
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	char b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES, sodium_base64_VARIANT_ORIGINAL)];
	crypto_hash_sha256(digest, (const unsigned char *)style, strlen(style));
	sodium_bin2base64(b64, sizeof(b64), digest, sizeof(digest), sodium_base64_VARIANT_ORIGINAL);
	/* img-src data: for the empty icon the pages name (no /favicon.ico request). */
	snprintf(csp, sizeof(csp),
		 "default-src 'none'; style-src 'sha256-%s'; img-src data:; form-action 'self'; "
		 "frame-ancestors 'none'; base-uri 'none'",
		 b64);
}

const char *
web_page_csp(void)
{
	pthread_once(&csp_once, csp_init);
	return csp;
}

void
web_page_clear(struct web_page *page)
{
	free(page->body);
	free(page->log_line);
	memset(page, 0, sizeof(*page));
}

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlong form, no surrogate,
 * nothing above U+10FFFF), 0 when there is none. */
static size_t
utf8_sequence(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	size_t n;
	uint32_t cp;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2, cp = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3, cp = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	/* C1 controls (U+0080–U+009F) are not allowed in HTML text either. */
	if (cp >= 0x80 && cp <= 0x9F)
		return 0;
	return n;
}

void
web_html_escape(struct strbuf *sb, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	while (*s) {
		size_t n = utf8_sequence(s);
		if (n == 0 || (*s < 0x20 && *s != '\t' && *s != '\n') || *s == 0x7F) {
			strbuf_adds(sb, "\xEF\xBF\xBD");
			s++;
			continue;
		}
		switch (*s) {
		case '&': strbuf_adds(sb, "&amp;"); break;
		case '<': strbuf_adds(sb, "&lt;"); break;
		case '>': strbuf_adds(sb, "&gt;"); break;
		case '"': strbuf_adds(sb, "&quot;"); break;
		case '\'': strbuf_adds(sb, "&#39;"); break;
		default: strbuf_add(sb, (const char *)s, n); break;
		}
		s += n;
	}
}

void
web_page_begin(struct strbuf *sb, const char *title)
{
	strbuf_adds(sb, "<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n"
			"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
			"<meta name=\"robots\" content=\"noindex, nofollow\">\n<title>");
	web_html_escape(sb, title);
	strbuf_adds(sb, " – OCAPIAT</title>\n<link rel=\"icon\" href=\"data:,\">\n<style>");
	strbuf_adds(sb, style);
	strbuf_adds(sb, "</style>\n</head>\n<body>\n<main>\n<h1>");
	web_html_escape(sb, title);
	strbuf_adds(sb, "</h1>\n");
}

void
web_page_end(struct strbuf *sb, int status, struct web_page *page)
{
	strbuf_adds(sb, "</main>\n</body>\n</html>\n");
	page->status = status;
	page->len = sb->len;
	page->body = strbuf_detach(sb);
}

void
web_page_home(const char *support_address, struct web_page *page)
{
	struct strbuf sb = { 0 };
	web_page_begin(&sb, "Dialoguer avec OCAPIAT");
	strbuf_adds(&sb, "<p>Ce service permet de choisir un nouveau mot de passe à partir du lien reçu par "
			 "courriel après une demande de réinitialisation.</p>\n<p>Pour toute question, écrivez-nous "
			 "à <a href=\"mailto:");
	web_html_escape(&sb, support_address);
	strbuf_adds(&sb, "\">");
	web_html_escape(&sb, support_address);
	strbuf_adds(&sb, "</a>.</p>\n");
	web_page_end(&sb, 200, page);
}

void
web_page_no_content(struct web_page *page)
{
	memset(page, 0, sizeof(*page));
	page->status = 204;
}

void
web_page_error(int status, const char *allow, struct web_page *page)
{
	static const struct {
		int status;
		const char *title, *text;
	} pages[] = {
		{ 400, "Demande illisible",
		  "La demande envoyée par votre navigateur n’a pas pu être lue. Revenez à la page précédente et "
		  "réessayez." },
		{ 404, "Page introuvable",
		  "L’adresse demandée ne correspond à aucune page. Si vous avez suivi un lien reçu par courriel, "
		  "vérifiez qu’il a été copié en entier." },
		{ 405, "Action impossible", "Cette page ne permet pas cette action." },
		{ 411, "Demande incomplète",
		  "La demande envoyée par votre navigateur n’indique pas sa taille. Réessayez avec un autre "
		  "navigateur." },
		{ 413, "Demande trop volumineuse",
		  "La demande envoyée dépasse la taille acceptée. Vérifiez les champs du formulaire et "
		  "réessayez." },
		{ 415, "Demande illisible", "Le formulaire n’a pas été envoyé sous une forme que ce service sait lire." },
		{ 500, "Service momentanément indisponible",
		  "Le service ne peut pas traiter votre demande pour le moment. Veuillez réessayer dans quelques "
		  "minutes." },
	};
	size_t i = 0;
	while (i < sizeof(pages) / sizeof(*pages) - 1 && pages[i].status != status)
		i++;
	struct strbuf sb = { 0 };
	memset(page, 0, sizeof(*page));
	web_page_begin(&sb, pages[i].title);
	strbuf_adds(&sb, "<p>");
	strbuf_adds(&sb, pages[i].text);
	strbuf_adds(&sb, "</p>\n");
	web_page_end(&sb, pages[i].status, page);
	page->allow = pages[i].status == 405 ? allow : NULL;
}

/* Decodes s[0..n) ('+' is a space, %XX a byte) into out (room for n + 1 bytes, always
 * NUL-terminated). Returns 0, or -1 on a bad escape or a NUL byte. */
static int
form_decode(const char *s, size_t n, char *out)
{
	size_t o = 0;
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi = i + 2 < n ? hex_digit_value((unsigned char)s[i + 1]) : -1;
			int lo = i + 2 < n ? hex_digit_value((unsigned char)s[i + 2]) : -1;
			if (hi < 0 || lo < 0) {
				rc = -1;
				break;
			}
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		if (c == '\0') {
			rc = -1;
			break;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return rc;
}

int
web_form_parse(const char *body, size_t len, const char *const *names, size_t count, char **values_r)
{
	for (size_t i = 0; i < count; i++)
		values_r[i] = NULL;
	/* One scratch buffer as large as the body: no field can decode to more. Wiped. */
	char *scratch = xmalloc(len + 1);
	size_t start = 0;
	int rc = 0;
	while (start <= len && rc == 0) {
		const char *amp = memchr(body + start, '&', len - start);
		size_t end = amp ? (size_t)(amp - body) : len;
		const char *eq = memchr(body + start, '=', end - start);
		size_t name_end = eq ? (size_t)(eq - body) : end;
		if (end > start) {
			if (form_decode(body + start, name_end - start, scratch) < 0) {
				rc = -1;
				break;
			}
			for (size_t i = 0; i < count; i++) {
				if (strcmp(scratch, names[i]) != 0)
					continue;
				if (values_r[i] != NULL) {
					rc = -1;  /* a field given twice: which one was meant? */
					break;
				}
				size_t vstart = eq ? name_end + 1 : end;
				values_r[i] = xmalloc(end - vstart + 1);
				if (form_decode(body + vstart, end - vstart, values_r[i]) < 0)
					rc = -1;
				break;
			}
		}
		start = end + 1;
	}
	sodium_memzero(scratch, len + 1);
	free(scratch);
	if (rc < 0)
		for (size_t i = 0; i < count; i++)
			web_secret_free(&values_r[i]);
	return rc;
}

void
web_secret_free(char **secret)
{
	if (*secret == NULL)
		return;
	sodium_memzero(*secret, strlen(*secret));
	free(*secret);
	*secret = NULL;
}
