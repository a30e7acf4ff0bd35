#!/bin/sh
# Installs every Debian 12 package dialogd needs to build, run and test (as root: through
# sudo when run by another user).
set -e
if [ "$(id -u)" -ne 0 ]; then
	exec sudo "$0" "$@"
fi
export DEBIAN_FRONTEND=noninteractive
# Postfix asks which kind of mail server to configure: none (the tests run private
# instances with their own configuration, see tests/integration/mailservers.sh).
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
# Whether the mail servers are already installed: only services started by this
# installation are stopped below (an existing one is the machine owner's business).
had_mail_servers=$(dpkg-query -W -f='${Status}\n' dovecot-core postfix 2>/dev/null | grep -c '^install ok installed' || true)
apt-get update
# The last lines: the private mail servers of the integration tests (tests/integration/mailservers.sh,
# which also needs ps from procps and openssl for its certificates) and swaks, to send a
# question by hand to the demo; curl and Chromium for the reset page's test (tests/integration/web.sh).
apt-get install -y --no-install-recommends \
	build-essential autoconf automake pkg-config ca-certificates python3 \
	libpcre2-dev libutf8proc-dev libjson-c-dev libinih-dev libsqlite3-dev \
	libetpan-dev libcurl4-gnutls-dev libwebsockets-dev libcmocka-dev libgumbo-dev libsodium-dev libgnutls28-dev libcsv-dev liboath-dev zlib1g-dev libev-dev libwebsockets-evlib-ev \
	dovecot-imapd dovecot-lmtpd postfix procps swaks openssl \
	curl chromium
# The browser test of the reset page (tests/integration/web.sh) drives that Chromium with playwright-core
# from npm, pinned by tests/browser/package-lock.json: Debian's Node and npm unless a Node
# with npm is already installed. npm runs as the user who called this script (not root),
# so that tests/browser/node_modules stays theirs.
command -v npm > /dev/null || apt-get install -y --no-install-recommends nodejs npm
# Without the npm registry the browser test is skipped (tests/integration/web.sh says so), nothing fails.
browser_dir="$(cd "$(dirname "$0")" && pwd)/browser"
as_caller=
[ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ] && as_caller="runuser -u $SUDO_USER --"
$as_caller npm ci --prefix "$browser_dir" --no-audit --no-fund ||
	echo "install-deps: npm ci failed in $browser_dir: tests/integration/web.sh will skip its browser test" >&2
# The packages may have started the system's Dovecot and Postfix: the tests do not use
# them. Stopping may fail (no init system in a container, services never started).
if [ "$had_mail_servers" -lt 2 ]; then
	service dovecot stop > /dev/null 2>&1 || true
	service postfix stop > /dev/null 2>&1 || true
fi
