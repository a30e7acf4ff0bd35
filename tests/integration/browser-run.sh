#!/bin/sh
# Runs one browser test, tests/browser/NAME.mjs, the way widget.sh and console.sh need it:
# skipped (77) with a message without Chromium, node, python3 or `npm ci` in tests/browser,
# or when DIALOGD_SKIP_SERVER_TESTS is set; a temporary folder given to the test, kept
# when it fails or KEEP is set (its screenshots are there).
# Usage: browser-run.sh NAME
set -u
name=$1
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
D=$(mktemp -d "/tmp/dialogd-$name-XXXXXX")
node "$browser_dir/$name.mjs" "$builddir/daemon/dialogd" "$builddir/daemon/dialogctl" "$srcdir" "$D"
rc=$?
if [ "$rc" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$D"; else echo "(test folder kept: $D)"; fi
exit $rc
