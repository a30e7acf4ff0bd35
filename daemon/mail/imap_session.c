/* imap_session — the IMAP reader's session with the server (see imap_reader.h): connect
 * (TLS for imaps://, STARTTLS whenever offered, RFC 3501 §6.2.1), check the certificate
 * before any password is sent (libetpan does not), LOGIN, CAPABILITY (MOVE, RFC 6851;
 * UIDPLUS, RFC 4315), SELECT, create the done folder; and LOGOUT. The thread that drives
 * it is imap_reader.c's (imap_reader_internal.h). Never logs: errors go to *error_r. */
#include "autoconf.h"
#include "mail/imap_reader_internal.h"
#include "core/tls_verify.h"
#include "core/util.h"

#include <libetpan/libetpan.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* What a failed command met, for the log (caller frees). The server's own words only
 * when it did answer: after a read error libetpan still holds an earlier answer's text. */
char *
imap_session_error(struct imap_reader *r, int rc)
{
	const char *text = r->imap != NULL && r->imap->imap_response != NULL && *r->imap->imap_response
				   ? r->imap->imap_response : "no reason given";
	switch (rc) {
	case MAILIMAP_ERROR_STREAM:
		return xstrdup("no answer from the server (connection broken, or no answer within [imap] timeout)");
	case MAILIMAP_ERROR_PARSE:  /* also what libetpan says when the server closed the connection */
		return xstrdup("no readable answer from the server (connection closed, or a malformed answer)");
	case MAILIMAP_ERROR_FATAL:
		return xasprintf("the server closed the session (BYE): %s", text);
	case MAILIMAP_ERROR_PROTOCOL:  /* libetpan's code for a BAD, and for an answer to another tag */
		return xasprintf("the server answered BAD, or out of turn: %s", text);
	default:
		return xstrdup(text);
	}
}

static bool
offers(mailimap *imap, const char *capability)
{
	struct mailimap_connection_info *ci = imap->imap_connection_info;
	if (ci == NULL || ci->imap_capability == NULL)
		return false;
	for (clistiter *it = clist_begin(ci->imap_capability->cap_list); it; it = clist_next(it)) {
		struct mailimap_capability *c = clist_content(it);
		if (c->cap_type == MAILIMAP_CAPABILITY_NAME && c->cap_data.cap_name != NULL &&
		    strcasecmp(c->cap_data.cap_name, capability) == 0)
			return true;
	}
	return false;
}

/* Names the server for TLS (SNI) when it is reached by name. */
static void
set_server_name(struct mailstream_ssl_context *ctx, void *host)
{
	struct in6_addr addr;
	if (inet_pton(AF_INET, host, &addr) != 1 && inet_pton(AF_INET6, host, &addr) != 1)
		mailstream_ssl_set_server_name(ctx, host);
}

/* libetpan does not check certificates: this does, before any password is sent. */
static int
check_certificate(struct imap_reader *r, char **error_r)
{
	if (!r->s->tls_verify)
		return 0;
	carray *chain = mailstream_get_certificate_chain(r->imap->imap_stream);
	size_t count = chain ? carray_count(chain) : 0;
	struct tls_certificate *certs = xcalloc(count + 1, sizeof(*certs));
	for (size_t i = 0; i < count; i++) {
		MMAPString *der = carray_get(chain, (unsigned)i);
		certs[i].der = (const unsigned char *)der->str;
		certs[i].len = der->len;
	}
	int rc = tls_verify_chain(certs, count, r->host, r->s->tls_ca_file, error_r);
	free(certs);
	if (chain != NULL)
		mailstream_certificate_chain_free(chain);
	return rc;
}

/* Connects, secures, logs in and selects. Returns 0 or -1 with *error_r. */
int
imap_session_open(struct imap_reader *r, char **error_r)
{
	const struct imap_settings *s = r->s;
	r->imap = mailimap_new(0, NULL);
	mailimap_set_timeout(r->imap, (time_t)s->timeout);
	bool tls = str_starts_with(s->url, "imaps://");
	int rc = tls ? mailimap_ssl_connect_with_callback(r->imap, r->host, (uint16_t)r->port, set_server_name, r->host)
		     : mailimap_socket_connect(r->imap, r->host, (uint16_t)r->port);
	if (rc != MAILIMAP_NO_ERROR && rc != MAILIMAP_NO_ERROR_AUTHENTICATED && rc != MAILIMAP_NO_ERROR_NON_AUTHENTICATED) {
		*error_r = xasprintf("cannot connect to %s:%d (libetpan error %d)", r->host, r->port, rc);
		return -1;
	}
	if (!tls) {
		struct mailimap_capability_data *caps = NULL;
		if (mailimap_capability(r->imap, &caps) == MAILIMAP_NO_ERROR)
			mailimap_capability_data_free(caps);
		if (offers(r->imap, "STARTTLS")) {
			if (mailimap_socket_starttls_with_callback(r->imap, set_server_name, r->host) != MAILIMAP_NO_ERROR) {
				*error_r = xasprintf("STARTTLS with %s failed", r->host);
				return -1;
			}
			tls = true;
		}
	}
	if (tls && check_certificate(r, error_r) < 0)
		return -1;
	r->tls_used = tls;
	if (!tls && !host_is_loopback(r->host) && !s->allow_plaintext) {
		*error_r = xasprintf("%s offers no TLS: the password is not sent in clear to a server off this machine "
				     "(use imaps://, or set [imap] allow_plaintext = yes)", r->host);
		return -1;
	}
	rc = mailimap_login(r->imap, s->user, s->password ? s->password : "");
	if (rc != MAILIMAP_NO_ERROR) {
		char *why = imap_session_error(r, rc);
		*error_r = xasprintf("login as %s refused: %s", s->user, why);
		free(why);
		return -1;
	}
	/* Capabilities are known after LOGIN (Dovecot sends the full list with its OK). */
	struct mailimap_capability_data *caps = NULL;
	if (mailimap_capability(r->imap, &caps) == MAILIMAP_NO_ERROR)
		mailimap_capability_data_free(caps);
	r->has_move = offers(r->imap, "MOVE");
	r->has_uidplus = offers(r->imap, "UIDPLUS");
	rc = mailimap_select(r->imap, s->mailbox);
	if (rc != MAILIMAP_NO_ERROR || r->imap->imap_selection_info == NULL) {
		char *why = imap_session_error(r, rc);
		*error_r = xasprintf("cannot select %s: %s", s->mailbox, why);
		free(why);
		return -1;
	}
	r->uidvalidity = r->imap->imap_selection_info->sel_uidvalidity;
	if (s->move_when_done) {
		/* Created if missing; "already exists" is the usual answer and no error. */
		rc = mailimap_create(r->imap, r->done_folder_utf7);
		if (rc != MAILIMAP_NO_ERROR && rc != MAILIMAP_ERROR_CREATE) {
			*error_r = xasprintf("cannot create the folder %s (libetpan error %d)", s->done_folder, rc);
			return -1;
		}
	}
	return 0;
}

void
imap_session_close(struct imap_reader *r)
{
	if (r->imap == NULL)
		return;
	if (r->imap->imap_stream != NULL)
		mailimap_logout(r->imap);
	mailimap_free(r->imap);
	r->imap = NULL;
}
