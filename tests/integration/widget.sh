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
exec sh "$(dirname "$0")/browser-run.sh" widget
