#!/bin/sh
# What an attacker measures by mail (issue 14), through private Postfix and Dovecot
# servers on loopback: the reply to a password reset and to an identifier reminder
# arrives after the same time whether the address is on file or not
# (tests/integration/mail_timing.py: 200 samples each, in groups sent together, AUC under
# 0.6 raw and paired), and the mail to the address on file leaves [security]
# secret_mail_delay seconds after its request, not sooner and hardly later (the chat is
# measured in-process by test_timing). Needs root (the mail servers); skipped otherwise,
# in make distcheck (DIALOGD_SKIP_SERVER_TESTS), and in the sanitizers' pass of run-all.sh
# (DIALOGD_SKIP_TIMING: a measure of time, not of memory; mail.sh runs the same code
# there). About 2 minutes, mostly waiting for Dovecot's IDLE notices.
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
delay=3
# Every request does its whole work: no limit cuts it short.
mail_setup "$D" "burst_limit = 0
daily_limit = 0
domain_limit = 0
global_limit = 0
notify_limit = 0
[security]
reminder_limit = 100000
reset_limit = 100000
secret_mail_delay = $delay" || exit 1
for t in companies accounts dossiers; do ctl import $t "$srcdir/tests/data/directory/$t.csv" > /dev/null; done
start_dialogd || { not_ok "dialogd starts"; exit 1; }
for kind in reset reminder; do
	if python3 "$srcdir/tests/integration/mail_timing.py" "$D/env" $kind j.moreau@scierie-des-combes.example \
		stranger.timing@example.test; then
		passed=$((passed + 1))
	else
		failures=$((failures + 1))
	fi
done
sent=$(ctl audit | grep -c 'password_reset.*JMOREAU01')
check "each reset on file made its link ($sent audited for the account on file)" test "$sent" -ge 200
check "every mail to the address on file is sent" wait_until $((delay + 10)) outbox_empty
# Each one waited its delay after its request — never less: that is what keeps the
# reply's timing from telling an account — and hardly more: the sender wakes for it when
# it is due (smtp_sender.c), not at the next reply. A loaded machine may make one late
# (seen once in 402 with distcheck beside it): at most 1 % past delay + 2 s.
timing=$(python3 -c '
import sqlite3, sys
delay = int(sys.argv[2])
rows = sqlite3.connect(sys.argv[1]).execute(
    "SELECT sent_at - created FROM outbox WHERE kind IN (\"secret\", \"action\") AND state = \"sent\"").fetchall()
print(len(rows), sum(1 for (w,) in rows if w < delay), sum(1 for (w,) in rows if w > delay + 2))' "$D/dialogd.sqlite" "$delay")
set -- $timing
check "links and reminders sent: $1, none before $delay s ($2 early)" test "$1" -ge 400 -a "$2" -eq 0
check "... and at most 1 % of them later than $((delay + 2)) s ($3 late)" test $(($3 * 100)) -le "$1"
stop_dialogd
echo "$passed passed, $failures failed"
test "$failures" -eq 0
