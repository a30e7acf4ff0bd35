#!/bin/sh
# The e-mail channel's error paths against scripted fake servers (tests/fakes/): for each
# transcript of tests/fakes/transcripts/, the fake IMAP (and SMTP) server follows it on
# 127.0.0.1, dialogd runs against it with a configuration of its own in a temporary
# folder, and the test checks the fake's verdict (dialogd sent exactly what the
# transcript expects), dialogd's log line for the error, what dialogctl status, outbox
# and threads show, and that dialogd is still running and stops cleanly. No root needed;
# skipped (exit 77) without python3. About 45 s.
set -u
if ! command -v python3 > /dev/null; then
	echo "SKIP: python3 is missing (the fake servers are Python scripts)"
	exit 77
fi
srcdir=${DIALOGD_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${DIALOGD_BUILDDIR:-$srcdir}
. "$srcdir/tests/check-lib.sh"
dialogd="$builddir/daemon/dialogd"
dialogctl="$builddir/daemon/dialogctl"
fakes="$srcdir/tests/fakes"

D=$(mktemp -d /tmp/dtr.XXXXXX)
pid= imap_pid= smtp_pid=
cleanup() {
	for p in $pid $imap_pid $smtp_pid; do kill -9 "$p" 2> /dev/null; done
	if [ "$failures" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$D"; else echo "(test folder kept: $D)"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# start_fake imap|smtp TRANSCRIPT: the fake's pid in ${kind}_pid, its port in ${kind}_port,
# its record in $C/KIND.out.
start_fake() {
	python3 "$fakes/$1_server.py" "$fakes/transcripts/$2" --timeout 60 > "$C/$1.out" 2>&1 &
	eval "$1_pid=$!"
	if ! wait_until 30 sh -c "head -n 1 '$C/$1.out' | grep -q '^[0-9][0-9]*\$'"; then
		not_ok "$case_name: the fake $1 server starts"
		sed 's/^/# /' "$C/$1.out"
		return 1
	fi
	eval "$1_port=$(head -n 1 "$C/$1.out")"
}

# start_case NAME IMAP-TRANSCRIPT [SMTP-TRANSCRIPT [EXTRA-INI]]: starts the fakes and
# dialogd in $D/NAME ($C), and returns once dialogd is ready.
start_case() {
	case_name=$1
	C="$D/$1"
	mkdir -p "$C"
	imap_pid= smtp_pid= smtp_port=
	start_fake imap "$2" || return 1
	if [ -n "${3:-}" ]; then start_fake smtp "$3" || return 1; fi
	printf 'secret\n' > "$C/imap.secret"
	chmod 0600 "$C/imap.secret"
	{
		printf '[daemon]\nallow_root = yes\n[paths]\ndata = %s\n[store]\npath = %s/dialogd.sqlite\n' "$srcdir" "$C"
		printf '[imap]\nurl = imap://127.0.0.1:%s\nuser = dialoguer@ocapiat.test\npassword_file = %s/imap.secret\n' \
			"$imap_port" "$C"
		printf 'timeout = 2\nreconnect_max = 1\npoll_interval = 5\n'
		[ -n "$smtp_port" ] && printf '[smtp]\nurl = smtp://127.0.0.1:%s\ntimeout = 10\nretry_max = 2\n' "$smtp_port"
		printf '%s\n[web]\nlisten = 127.0.0.1:0\n' "${4:-}"
	} > "$C/dialogd.conf"
	"$dialogd" -c "$C/dialogd.conf" > "$C/dialogd.log" 2>&1 &
	pid=$!
	wait_until 20 grep -q 'dialogd: ready' "$C/dialogd.log" || { not_ok "$case_name: dialogd starts"; return 1; }
}

ctl() { "$dialogctl" -c "$C/dialogd.conf" "$@"; }
log_has() { grep -q -- "$1" "$C/dialogd.log"; }
# followed imap|smtp: the fake says its transcript was followed to its end.
followed() { wait_until 20 grep -q '^verdict: transcript followed' "$C/$1.out"; }
threads_count() { [ "$(ctl threads --json | wc -l)" -eq "$1" ]; }
outbox_has() { ctl outbox | grep -q -- "$1"; }
outbox_count() { [ "$(ctl outbox | grep -c '^#')" -eq "$1" ]; }
status_has() { ctl status | grep -q -- "$1"; }

# finish_case: dialogd still running, stopped cleanly, and the fakes' verdicts.
finish_case() {
	check "$case_name: dialogd still running" kill -0 "$pid"
	kill -TERM "$pid" 2> /dev/null
	wait "$pid"
	check "$case_name: dialogd stops cleanly (exit 0)" [ $? -eq 0 ]
	pid=
	check "$case_name: no sanitizer report" sh -c "! grep -q 'Sanitizer\|runtime error' '$C/dialogd.log'"
	for kind in imap smtp; do
		eval "p=\$${kind}_pid"
		[ -n "$p" ] || continue
		kill -TERM "$p" 2> /dev/null
		wait "$p"
		if [ $? -eq 0 ]; then
			ok "$case_name: dialogd followed the $kind transcript"
		else
			not_ok "$case_name: dialogd followed the $kind transcript"
			grep -v '^\[' "$C/$kind.out" | sed 's/^/# /'
		fi
	done
	imap_pid= smtp_pid=
	if [ "$failures" -gt 0 ]; then sed 's/^/# dialogd: /' "$C/dialogd.log" | tail -n 15; fi
}

IMAP="imap: connection to imap://127.0.0.1"
FROM="mail uid 1 from paul.martin@entreprise.example: answered, intent submit_invoice"

# ---- IMAP ----
case_imap_normal() {
	if start_case imap-normal imap-normal.txt; then
		check "imap-normal: transcript followed" followed imap
		check "imap-normal: connected in clear on loopback" log_has "imap: connected to imap://127.0.0.1:$imap_port as dialoguer@ocapiat.test, mailbox INBOX (UIDVALIDITY 1700000000), no TLS (loopback)"
		check "imap-normal: the message is answered" log_has "$FROM"
		check "imap-normal: status shows the mailbox connected" status_has "imap   connected"
		check "imap-normal: one thread, answered" sh -c "$dialogctl -c $C/dialogd.conf threads | grep -q '#1 .* answered  mail submit_invoice' && [ \$($dialogctl -c $C/dialogd.conf threads --json | wc -l) -eq 1 ]"
		check "imap-normal: one reply pending ([smtp] url unset)" sh -c "$dialogctl -c $C/dialogd.conf outbox | grep -q 'pending reply  thread #1 .*paul.martin@entreprise.example' && [ \$($dialogctl -c $C/dialogd.conf outbox | wc -l) -eq 1 ]"
		finish_case
	fi
}

case_imap_fetch_bad_literal() {
	if start_case imap-fetch-bad-literal imap-fetch-bad-literal.txt; then
		check "imap-fetch-bad-literal: transcript followed" followed imap
		check "imap-fetch-bad-literal: the log says the answer could not be read" log_has "$IMAP:$imap_port lost (no \\(readable \\)\\{0,1\\}answer from the server (connection"
		check "imap-fetch-bad-literal: reconnected" log_has "imap: reconnected to"
		check "imap-fetch-bad-literal: answered once after the reconnection" sh -c "[ \$(grep -c '$FROM' $C/dialogd.log) -eq 1 ]"
		check "imap-fetch-bad-literal: one thread" threads_count 1
		check "imap-fetch-bad-literal: one reply" outbox_count 1
		finish_case
	fi
}

case_imap_fetch_wrong_uid() {
	if start_case imap-fetch-wrong-uid imap-fetch-wrong-uid.txt; then
		check "imap-fetch-wrong-uid: transcript followed" followed imap
		check "imap-fetch-wrong-uid: the log says uid 1 was not delivered" \
			wait_until 5 log_has "imap: the server refuses to deliver uid 1 (no body in the answer), attempt 1"
		check "imap-fetch-wrong-uid: another message's body is not taken for uid 1" sh -c "! grep -q 'mail uid 1 from' $C/dialogd.log"
		check "imap-fetch-wrong-uid: no thread" threads_count 0
		check "imap-fetch-wrong-uid: nothing in the outbox" outbox_count 0
		check "imap-fetch-wrong-uid: status still connected" status_has "imap   connected"
		finish_case
	fi
}

case_imap_fetch_no_body() {
	if start_case imap-fetch-no-body imap-fetch-no-body.txt; then
		check "imap-fetch-no-body: the log says uid 1 was not delivered" \
			wait_until 10 log_has "imap: the server refuses to deliver uid 1 (no body in the answer), attempt 1"
		check "imap-fetch-no-body: nothing done with it yet" threads_count 0
		check "imap-fetch-no-body: transcript followed (read on the retry)" followed imap
		check "imap-fetch-no-body: answered once, on the retry" sh -c "[ \$(grep -c '$FROM' $C/dialogd.log) -eq 1 ]"
		check "imap-fetch-no-body: one thread" threads_count 1
		check "imap-fetch-no-body: one reply" outbox_count 1
		finish_case
	fi
}

case_imap_select_no() {
	if start_case imap-select-no imap-select-no.txt; then
		check "imap-select-no: the log gives the server's reason" \
			wait_until 10 log_has "imap: imap://127.0.0.1:$imap_port: cannot select INBOX: Internal error occurred. Refer to server log for more information.; retrying in 1 s"
		check "imap-select-no: status shows the outage and why" status_has "imap   disconnected .*cannot select INBOX"
		check "imap-select-no: transcript followed" followed imap
		check "imap-select-no: a silent SELECT is logged as no answer" \
			wait_until 10 log_has "cannot select INBOX: no answer from the server (connection broken, or no answer within \[imap\] timeout)"
		check "imap-select-no: no reason taken from an earlier answer" sh -c "! grep -q 'cannot select INBOX: Logged in' $C/dialogd.log"
		check "imap-select-no: no thread" threads_count 0
		finish_case
	fi
}

case_imap_bad() {
	if start_case imap-bad imap-bad.txt; then
		check "imap-bad: transcript followed" followed imap
		check "imap-bad: the log gives the BAD answer" log_has "$IMAP:$imap_port lost (the server answered BAD, or out of turn: Error in IMAP command UID STORE: Invalid arguments.); reconnecting"
		check "imap-bad: the message already processed is only moved away" log_has "mail uid 1: already processed (question-1@entreprise.example): only moved away"
		check "imap-bad: answered once" sh -c "[ \$(grep -c '$FROM' $C/dialogd.log) -eq 1 ]"
		check "imap-bad: one thread" threads_count 1
		check "imap-bad: one reply" outbox_count 1
		finish_case
	fi
}

case_imap_cut_after_login() {
	if start_case imap-cut-after-login imap-cut-after-login.txt; then
		check "imap-cut-after-login: transcript followed" followed imap
		check "imap-cut-after-login: the log says the connection closed" log_has "cannot select INBOX: no \\(readable \\)\\{0,1\\}answer from the server (connection"
		check "imap-cut-after-login: answered once" sh -c "[ \$(grep -c '$FROM' $C/dialogd.log) -eq 1 ]"
		check "imap-cut-after-login: one thread" threads_count 1
		check "imap-cut-after-login: one reply" outbox_count 1
		finish_case
	fi
}

case_imap_cut_after_fetch() {
	if start_case imap-cut-after-fetch imap-cut-after-fetch.txt; then
		check "imap-cut-after-fetch: transcript followed" followed imap
		check "imap-cut-after-fetch: the log says the connection was lost" log_has "$IMAP:$imap_port lost (no \\(readable \\)\\{0,1\\}answer from the server (connection"
		check "imap-cut-after-fetch: fetched again, only moved away" log_has "mail uid 1: already processed (question-1@entreprise.example): only moved away"
		check "imap-cut-after-fetch: answered once" sh -c "[ \$(grep -c '$FROM' $C/dialogd.log) -eq 1 ]"
		check "imap-cut-after-fetch: one thread" threads_count 1
		check "imap-cut-after-fetch: one reply" outbox_count 1
		finish_case
	fi
}

case_imap_timeout() {
	if start_case imap-timeout imap-timeout.txt; then
		check "imap-timeout: transcript followed" followed imap
		check "imap-timeout: the log says the server did not answer" log_has "$IMAP:$imap_port lost (no answer from the server (connection broken, or no answer within \[imap\] timeout)); reconnecting"
		check "imap-timeout: reconnected" log_has "imap: reconnected to"
		check "imap-timeout: answered once" sh -c "[ \$(grep -c '$FROM' $C/dialogd.log) -eq 1 ]"
		check "imap-timeout: one thread" threads_count 1
		check "imap-timeout: one reply" outbox_count 1
		finish_case
	fi
}

# ---- SMTP (the reply to the message of imap-normal.txt) ----
SENT="reply sent: outbox #1 (reply) to paul.martin@entreprise.example, thread #1"
case_smtp_normal() {
	if start_case smtp-normal imap-normal.txt smtp-normal.txt; then
		check "smtp-normal: IMAP transcript followed" followed imap
		check "smtp-normal: SMTP transcript followed" followed smtp
		check "smtp-normal: the log says the reply was sent" wait_until 5 log_has "$SENT"
		check "smtp-normal: outbox shows it sent, in one attempt" outbox_has "sent    reply  thread #1 .*1 attempt(s)"
		check "smtp-normal: status shows SMTP ok" status_has "smtp   ok"
		finish_case
	fi
}

case_smtp_4xx_data() {
	if start_case smtp-4xx-data imap-normal.txt smtp-4xx-data.txt; then
		check "smtp-4xx-data: the log says refused temporarily" \
			wait_until 10 log_has "smtp: outbox #1 to paul.martin@entreprise.example refused (Weird server reply, server said 451), temporarily; retrying in 2 s"
		check "smtp-4xx-data: while retrying, the reply is pending with the error" \
			sh -c "wait_end=\$((\$(date +%s) + 10)); until [ \$(grep -c '> MAIL FROM' $C/smtp.out) -ge 2 ]; do [ \$(date +%s) -ge \$wait_end ] && exit 1; sleep 0.1; done
			$dialogctl -c $C/dialogd.conf outbox | grep -q 'pending reply  thread #1 .*1 attempt(s); last error: .*451'"
		check "smtp-4xx-data: transcript followed" followed smtp
		check "smtp-4xx-data: sent on the second attempt" wait_until 5 outbox_has "sent    reply  thread #1 .*2 attempt(s)"
		check "smtp-4xx-data: the same mail both times (one Message-ID)" \
			sh -c "[ \$(grep '(message) Message-ID:' $C/smtp.out | wc -l) -eq 2 ] && [ \$(grep '(message) Message-ID:' $C/smtp.out | sort -u | wc -l) -eq 1 ]"
		check "smtp-4xx-data: thread still answered" sh -c "$dialogctl -c $C/dialogd.conf threads | grep -q '#1 .* answered '"
		finish_case
	fi
}

case_smtp_5xx_rcpt() {
	if start_case smtp-5xx-rcpt imap-normal.txt smtp-5xx-rcpt.txt "max_permanent_failures = 1"; then
		check "smtp-5xx-rcpt: the log says failed for good" \
			wait_until 10 log_has "smtp: outbox #1 to paul.martin@entreprise.example failed for good (Failed sending data to the peer, server said 550): thread #1 escalated, correspondants notified"
		check "smtp-5xx-rcpt: outbox shows the reply failed with the 550" outbox_has "failed  reply  thread #1 .*550"
		check "smtp-5xx-rcpt: the thread is escalated with the reason" \
			sh -c "$dialogctl -c $C/dialogd.conf threads --state escalated | grep -q '#1 .*could not be delivered'"
		check "smtp-5xx-rcpt: transcript followed (correspondants told)" followed smtp
		check "smtp-5xx-rcpt: the notification is sent" wait_until 5 outbox_has "sent    notify thread #1 .*correspondants@ocapiat.test"
		finish_case
	fi
}

case_smtp_cut_after_mail_from() {
	if start_case smtp-cut-after-mail-from imap-normal.txt smtp-cut-after-mail-from.txt; then
		check "smtp-cut-after-mail-from: the log says the server went away" \
			wait_until 10 log_has "smtp: smtp://127.0.0.1:$smtp_port: Failure when receiving data from the peer; retrying in 2 s"
		check "smtp-cut-after-mail-from: transcript followed" followed smtp
		check "smtp-cut-after-mail-from: sent after the reconnection" wait_until 5 log_has "$SENT"
		check "smtp-cut-after-mail-from: the log says the connection is back" log_has "smtp: connection restored after 1 failed attempts"
		check "smtp-cut-after-mail-from: the message body sent once" sh -c "[ \$(grep -c '(message of' $C/smtp.out) -eq 1 ]"
		check "smtp-cut-after-mail-from: outbox shows it sent" outbox_has "sent    reply  thread #1 "
		finish_case
	fi
}

# Four lanes side by side (each case waits on timeouts far more than it computes); each
# lane prints its ok/not ok lines to a file of its own, counted at the end.
lane() {
	trap 'for p in $pid $imap_pid $smtp_pid; do kill -9 "$p" 2> /dev/null; done' EXIT
	for c in "$@"; do "case_$c"; done
	echo "lane done"
}
lane imap_normal imap_fetch_bad_literal imap_fetch_no_body > "$D/lane1.out" 2>&1 &
lane1=$!
lane imap_fetch_wrong_uid imap_select_no imap_bad > "$D/lane2.out" 2>&1 &
lane2=$!
lane imap_cut_after_login imap_cut_after_fetch imap_timeout > "$D/lane3.out" 2>&1 &
lane3=$!
lane smtp_normal smtp_4xx_data smtp_5xx_rcpt smtp_cut_after_mail_from > "$D/lane4.out" 2>&1 &
lane4=$!
wait "$lane1" "$lane2" "$lane3" "$lane4"
cat "$D"/lane?.out | grep -v '^lane done'
passed=$(cat "$D"/lane?.out | grep -c '^ok ')
failures=$(cat "$D"/lane?.out | grep -c '^not ok ')
[ "$(cat "$D"/lane?.out | grep -c '^lane done')" -eq 4 ] || not_ok "every lane ran to its end"
echo "$passed passed, $failures failed"
[ "$failures" -eq 0 ]
