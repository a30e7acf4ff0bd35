/* tls_verify — see tls_verify.h. */
#include "autoconf.h"
#include "core/tls_verify.h"
#include "core/util.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdlib.h>

/* A server sending more certificates than this is not worth reading. */
#define CHAIN_MAX 16

int
tls_verify_chain(const struct tls_certificate *chain, size_t count, const char *host, const char *ca_file,
		 char **error_r)
{
	if (count == 0) {
		*error_r = xstrdup("the server sent no certificate");
		return -1;
	}
	if (count > CHAIN_MAX)
		count = CHAIN_MAX;
	gnutls_x509_trust_list_t trust;
	if (gnutls_x509_trust_list_init(&trust, 0) < 0) {
		*error_r = xstrdup("cannot set up certificate verification");
		return -1;
	}
	int added = ca_file ? gnutls_x509_trust_list_add_trust_file(trust, ca_file, NULL, GNUTLS_X509_FMT_PEM, 0, 0)
			    : gnutls_x509_trust_list_add_system_trust(trust, 0, 0);
	if (added <= 0) {
		*error_r = ca_file ? xasprintf("no certificate authority could be read from %s", ca_file)
				   : xstrdup("no system certificate authorities (install ca-certificates)");
		gnutls_x509_trust_list_deinit(trust, 1);
		return -1;
	}
	gnutls_x509_crt_t crts[CHAIN_MAX];
	size_t imported = 0;
	int rc = 0;
	for (; imported < count; imported++) {
		gnutls_datum_t datum = { (unsigned char *)chain[imported].der, (unsigned)chain[imported].len };
		if (gnutls_x509_crt_init(&crts[imported]) < 0)
			break;
		if (gnutls_x509_crt_import(crts[imported], &datum, GNUTLS_X509_FMT_DER) < 0) {
			gnutls_x509_crt_deinit(crts[imported]);
			break;
		}
	}
	if (imported < count) {
		*error_r = xasprintf("certificate %zu of the server's chain cannot be read", imported + 1);
		rc = -1;
	} else {
		gnutls_typed_vdata_st data[] = {
			{ GNUTLS_DT_DNS_HOSTNAME, (unsigned char *)host, 0 },
			{ GNUTLS_DT_KEY_PURPOSE_OID, (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER, 0 },
		};
		unsigned status = 0;
		if (gnutls_x509_trust_list_verify_crt2(trust, crts, (unsigned)count, data, 2, 0, &status, NULL) < 0) {
			*error_r = xstrdup("the certificate chain could not be verified");
			rc = -1;
		} else if (status != 0) {
			gnutls_datum_t why = { NULL, 0 };
			gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &why, 0);
			*error_r = xasprintf("the certificate of %s is not trusted: %s", host,
					     why.data ? (const char *)why.data : "unknown reason");
			gnutls_free(why.data);
			rc = -1;
		}
	}
	for (size_t i = 0; i < imported; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_x509_trust_list_deinit(trust, 1);
	return rc;
}
