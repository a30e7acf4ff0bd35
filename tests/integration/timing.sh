#!/bin/sh
# What an attacker measures by mail (issue 14), through private Postfix and Dovecot
# servers on loopback: the reply to a password reset arrives after the same time whether
# the address is on file or not (tests/integration/mail_timing.py: 200 samples each, AUC
# under 0.6; the reminder and the chat are measured in-process by test_timing). Needs root
# (the mail servers); skipped otherwise, in make distcheck (DIALOGD_SKIP_SERVER_TESTS),
# and in the sanitizers' pass of run-all.sh (DIALOGD_SKIP_TIMING: a measure of time, not
# of memory; mail.sh runs the same code there). About 4 minutes, mostly waiting.
set -u
srcdir=${DIALOGD_SRCDIR:?}
builddir=${DIALOGD_BUILDDIR:?}
if [ "$(id -u)" -ne 0 ] || [ -n "${DIALOGD_SKIP_SERVER_TESTS:-}${DIALOGD_SKIP_TIMING:-}" ] || ! command -v postfix > /dev/null ||
	! command -v dovecot > /dev/null; then
	echo "SKIP: needs root, Postfix and Dovecot"
	exit 77
fi
. "$srcdir/tests/integration/mail-lib.sh"
D=$(mktemp -d /tmp/dt.XXXXXX)
trap 'mail_teardown; rm -rf "$D"' EXIT
trap 'exit 1' INT TERM
# Every request does its whole work: no limit cuts it short.
mail_setup "$D" "burst_limit = 0
daily_limit = 0
domain_limit = 0
global_limit = 0
notify_limit = 0
[security]
reminder_limit = 100000
reset_limit = 100000" || exit 1
for t in companies accounts dossiers; do ctl import $t "$srcdir/tests/data/directory/$t.csv" > /dev/null; done
start_dialogd || { not_ok "dialogd starts"; exit 1; }
for kind in reset; do
	if python3 "$srcdir/tests/integration/mail_timing.py" "$D/env" $kind j.moreau@scierie-des-combes.example \
		stranger.timing@example.test; then
		passed=$((passed + 1))
	else
		failures=$((failures + 1))
	fi
done
sent=$(ctl audit | grep -c 'password_reset.*JMOREAU01')
check "each request on file made its link ($sent audited for the account on file)" test "$sent" -ge 200
stop_dialogd
echo "$passed passed, $failures failed"
test "$failures" -eq 0
