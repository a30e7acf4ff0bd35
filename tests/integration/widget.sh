#!/bin/sh
# The website chat widget in Debian's Chromium (tests/browser/widget.mjs, playwright-core):
# a host page of another origin with the one tag and a strict CSP; sizes; the launcher,
# the field, the log and the status by their roles and names; keyboard only; a FAQ
# answer through quick replies; reload and another page; the dossier status with the
# code read from its mail; a hand-over and `dialogctl reply` arriving live; offline and
# back; kill -9 of dialogd and a restart; a message sent twice; the phone; « Terminer et
# effacer »; axe-core; two tabs sharing one socket ([chat] persistence = browser).
# Screenshots are kept in the test folder (KEEP=1 keeps it). Skipped with a message without
# chromium, node or `npm ci` in tests/browser, or when DIALOGD_SKIP_SERVER_TESTS is set.
# Run by make check; about 30 s.
set -u
srcdir=${DIALOGD_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${DIALOGD_BUILDDIR:-$srcdir}
browser_dir="$srcdir/tests/browser"
if [ -n "${DIALOGD_SKIP_SERVER_TESTS:-}" ]; then
	echo "SKIP: DIALOGD_SKIP_SERVER_TESTS is set"
	exit 77
fi
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ] || ! command -v node > /dev/null || ! command -v python3 > /dev/null ||
	[ ! -d "$browser_dir/node_modules/playwright-core" ] || [ ! -d "$browser_dir/node_modules/axe-core" ]; then
	echo "SKIP: needs ${CHROMIUM:-/usr/bin/chromium}, node, python3 and \`npm ci\` in tests/browser (tests/install-deps.sh)"
	exit 77
fi
D=$(mktemp -d /tmp/dialogd-widget-XXXXXX)
node "$browser_dir/widget.mjs" "$builddir/daemon/dialogd" "$builddir/daemon/dialogctl" "$srcdir" "$D"
rc=$?
if [ "$rc" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$D"; else echo "(test folder kept: $D)"; fi
exit $rc
