#!/bin/sh
# The correspondants' console in Debian's Chromium (tests/browser/console.mjs,
# playwright-core): sign-in by the fields' names with and without TOTP, the queue and its
# count in the title, a mail thread answered (one outbox row in the writer's thread), a
# note that never leaves, release, search, markup shown inert, a chat handed over in the
# widget answered live from the console, cross-origin and Origin-less POSTs refused, the
# sign-in's brute force stopped, axe-core, screenshots at 1280×800 and 375×667 (kept in
# the test folder with KEEP=1). Skipped with a message without chromium, node or `npm ci`
# in tests/browser, or when DIALOGD_SKIP_SERVER_TESTS is set. Run by make check; about 20 s.
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
D=$(mktemp -d /tmp/dialogd-console-XXXXXX)
node "$browser_dir/console.mjs" "$builddir/daemon/dialogd" "$builddir/daemon/dialogctl" "$srcdir" "$D"
rc=$?
if [ "$rc" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$D"; else echo "(test folder kept: $D)"; fi
exit $rc
