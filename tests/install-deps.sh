#!/bin/sh
# Installs every Debian 12 package dialogd needs to build, run and test (as root: through
# sudo when run by another user).
set -e
if [ "$(id -u)" -ne 0 ]; then
	exec sudo "$0" "$@"
fi
export DEBIAN_FRONTEND=noninteractive
# Postfix asks which kind of mail server to configure: none (the tests run private
# instances with their own configuration, see tests/mailservers.sh).
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
# Whether the mail servers are already installed: only services started by this
# installation are stopped below (an existing one is the machine owner's business).
had_mail_servers=$(dpkg-query -W -f='${Status}\n' dovecot-core postfix 2>/dev/null | grep -c '^install ok installed' || true)
apt-get update
# The last line: the private mail servers of the integration tests (tests/mailservers.sh,
# which also needs ps from procps and openssl for its certificates) and swaks, to send a
# question by hand to the demo.
apt-get install -y --no-install-recommends \
	build-essential autoconf automake pkg-config ca-certificates python3 \
	libpcre2-dev libutf8proc-dev libjson-c-dev libinih-dev libsqlite3-dev \
	libetpan-dev libcurl4-gnutls-dev libwebsockets-dev libcmocka-dev libgumbo-dev libsodium-dev libgnutls28-dev libcsv-dev \
	dovecot-imapd dovecot-lmtpd postfix procps swaks openssl
# The packages may have started the system's Dovecot and Postfix: the tests do not use
# them. Stopping may fail (no init system in a container, services never started).
if [ "$had_mail_servers" -lt 2 ]; then
	service dovecot stop > /dev/null 2>&1 || true
	service postfix stop > /dev/null 2>&1 || true
fi
