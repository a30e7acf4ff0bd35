#!/bin/sh
# The correspondants' console in Debian's Chromium (tests/browser/console.mjs,
# playwright-core): sign-in by the fields' names with and without TOTP, the queue and its
# count in the title, a mail thread answered (one outbox row in the writer's thread), a
# note that never leaves, release, search, markup shown inert, a chat handed over in the
# widget answered live from the console, cross-origin and Origin-less POSTs refused, the
# sign-in's brute force stopped, axe-core, screenshots at 1280×800 and 375×667 (kept in
# the test folder with KEEP=1). Skipped with a message without chromium, node or `npm ci`
# in tests/browser, or when DIALOGD_SKIP_SERVER_TESTS is set. Run by make check; about 20 s.
exec sh "$(dirname "$0")/browser-run.sh" console
