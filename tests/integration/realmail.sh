#!/bin/sh
# The real-mail regression set (tests/data/realmail: bounces, auto-replies, list robots,
# abuse reports, read receipts and spam gathered from the test fixtures of public mail
# projects, and mail written by people; MANIFEST.tsv names each file's source and
# licence) through the real stack, as mail.sh runs its samples: a private Dovecot and
# Postfix on loopback, dialogd reading the support mailbox and replying through Postfix.
# Expected: no mail at all to an automated message, exactly one to each person's, and
# every message recorded with its decision (none dropped silently).
# Needs root (Postfix and Dovecot) and their packages; skipped (exit 77) otherwise, or
# when DIALOGD_SKIP_SERVER_TESTS is set (make distcheck).
set -u
srcdir=${DIALOGD_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${DIALOGD_BUILDDIR:-$srcdir}
if [ -n "${DIALOGD_SKIP_SERVER_TESTS:-}" ]; then
	echo "SKIP: DIALOGD_SKIP_SERVER_TESTS is set"
	exit 77
fi
if [ "$(id -u)" -ne 0 ] || ! command -v dovecot > /dev/null || ! command -v postfix > /dev/null; then
	echo "SKIP: needs root, dovecot and postfix (tests/install-deps.sh)"
	exit 77
fi
. "$srcdir/tests/integration/mail-lib.sh"
real="$srcdir/tests/data/realmail"
helper="python3 $srcdir/tests/integration/realmail.py"

D=$(mktemp -d /tmp/drm.XXXXXX)
failures=0
cleanup() {
	mail_teardown
	if [ "$failures" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$D"; else echo "(test folder kept: $D)"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Many files share a sender (example.com): the per-sender and per-domain limits would
# make people's mails silent escalations, which test_mail_channel covers.
mail_setup "$D" "burst_limit = 0
daily_limit = 0
domain_limit = 0
global_limit = 0
notify_limit = 0" || exit 1
start_dialogd
check "dialogd connects to the mailbox" wait_until 10 grep -q "imap: connected" "$D/dialogd.log"
n=$(($(wc -l < "$real/MANIFEST.tsv") - 1))
check "the $n files of the set are submitted to Postfix" $helper send "$D/env" "$real/MANIFEST.tsv" "$real"
check "all $n processed, outbox empty" wait_until 40 settled "$n"
sleep 1.5  # the last replies travel from Postfix to Dovecot
$tool --env "$D/env" dump $catchall > "$D/dump.jsonl"
check "no mail to automated mail, one to each person's, none dropped silently" \
	$helper check "$real/MANIFEST.tsv" "$real" "$D/dump.jsonl" "$D/dialogd.sqlite" "$CORRESPONDANTS_ADDRESS"
check "every decision not to reply is logged with its rule" sh -c \
	"[ \$(grep -c ': ignored, intent -, thread #' $D/dialogd.log) -ge 40 ] &&
	 ! grep ': ignored, intent -, thread #' $D/dialogd.log | grep -v ' \[rules\] [a-z_]*, 0 mail(s) queued'"
check "dialogctl threads shows the rule of each silence" sh -c \
	"! $dialogctl -c $D/dialogd.conf threads --json | grep '\"state\":\"ignored\"' | grep -v '\[rules\] [a-z_]*\",\"messages\"'"
check "dialogd still running" kill -0 "$pid"
stop_dialogd
check "no error in the log" sh -c "! grep -E 'error:|Sanitizer|runtime error' $D/dialogd.log"
echo "# $failures failure(s); log: $D/dialogd.log"
[ "$failures" -eq 0 ]
