/* tls_verify — checks a TLS server's certificate chain with GnuTLS: signed up to a
 * trusted authority (the system's, or a given CA file), valid now, issued for the host
 * we meant to reach (name or IP address), for TLS servers. libetpan does not verify
 * certificates itself: the IMAP reader calls this after the handshake and before
 * sending any password. Never logs.
 * Threads: any; the session is the caller's. */
#ifndef DIALOGD_TLS_VERIFY_H
#define DIALOGD_TLS_VERIFY_H

#include <stddef.h>

struct tls_certificate {
	const unsigned char *der;
	size_t len;
};

/* chain[0] is the server's certificate, then the intermediates it sent. ca_file: PEM
 * file of trusted authorities, NULL for the system's. Returns 0 when trusted, or -1 with
 * *error_r saying why (e.g. "signed by an unknown authority"). */
int tls_verify_chain(const struct tls_certificate *chain, size_t count, const char *host, const char *ca_file,
		     char **error_r);

#endif
