#!/bin/sh
# Private, real mail servers on loopback for the integration tests: a Dovecot (IMAP +
# LMTP) and a Postfix (SMTP, relaying every recipient to that Dovecot over LMTP), both
# bound to 127.0.0.1 only, on ports picked here, with everything they write (config,
# maildirs, sockets, state, queue, logs, pid files) inside one folder. Several instances
# can run at once in different folders. Must be run as root (Postfix's master refuses
# anything else; Dovecot needs it to switch to the mail user).
#
#   mailservers.sh start DIR        start both; DIR: an existing, empty folder with a
#                                   short path (UNIX socket paths are limited to 107
#                                   bytes), e.g. from mktemp -d /tmp/dm.XXXXXX.
#                                   Writes DIR/env (sourceable, see write_env below).
#   mailservers.sh stop DIR         stop both (by pid file), wait until gone; idempotent
#   mailservers.sh stop-mta DIR     stop Postfix only (mail sent meanwhile is refused)
#   mailservers.sh start-mta DIR    start Postfix again, on the same SMTP port
#   mailservers.sh restart-imap DIR stop and start Dovecot again, on the same ports;
#                                   delivered mail persists (it is in DIR/mail)
#   mailservers.sh stop-imap DIR    stop Dovecot only (Postfix keeps mail for it queued
#                                   and retries every second or two)
#   mailservers.sh start-imap DIR   start Dovecot again, on the same ports
#   mailservers.sh status DIR       print which servers are running (exit 1 if none)
#   mailservers.sh selftest         smoke test of all the above (uses tests/integration/mailtool.py)
#
# Mailboxes: dialoguer@ocapiat.test (the support address, IMAP login = the address) and
# a catch-all (IMAP login "catchall") that receives mail for every other recipient,
# whatever the address or domain.
set -eu

SUPPORT_ADDRESS=dialoguer@ocapiat.test
SUPPORT_PASSWORD=support-secret
CATCHALL_USER=catchall
CATCHALL_PASSWORD=catchall-secret
CORRESPONDANTS_ADDRESS=correspondants@ocapiat.test
# Seconds to wait for a server to accept connections, or to be gone.
TIMEOUT=10

here=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-python3}

die() {
	echo "mailservers.sh: $*" >&2
	exit 1
}

# ---------------------------------------------------------------------------------------
# Processes

# alive PID: the process exists and is not a zombie. Killed daemons are reparented to
# PID 1, and in a container PID 1 may never reap them: a zombie counts as gone.
alive() {
	[ -n "$1" ] || return 1
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	case $st in Z*) return 1 ;; esac
	return 0
}

# read_pid FILE: the pid in a pid file, empty if there is none.
read_pid() {
	tr -dc 0-9 2> /dev/null < "$1" || true
}

# session_pids SID: the live processes of a session. Both masters call setsid() when they
# daemonize, so their session holds exactly the server's processes (master + children).
session_pids() {
	ps -e -o pid= -o sid= -o stat= | awk -v s="$1" '$2 == s && $3 !~ /^Z/ { print $1 }'
}

# stop_pidfile NAME PIDFILE: SIGTERM the master, wait for the whole session to be gone
# (masters exit before all their children), SIGKILL what is left after TIMEOUT.
stop_pidfile() {
	[ -f "$2" ] || return 0
	pid=$(read_pid "$2")
	[ -n "$pid" ] || { rm -f "$2"; return 0; }
	if alive "$pid"; then
		# A pid file left by a dead master may name an unrelated process by now: only
		# signal it if it is still that server (its command line names it).
		if ! ps -o args= -p "$pid" | grep -q "$1"; then
			rm -f "$2"
			return 0
		fi
		kill -TERM "$pid" 2>/dev/null || true
	else
		for p in $(session_pids "$pid"); do kill -TERM "$p" 2>/dev/null || true; done
	fi
	# The master is its session's leader: wait for the whole session. (If the master
	# died alone, its children are still in the session: Linux does not reuse a pid
	# while a session of that id exists, so they are ours to kill.)
	i=0
	while [ -n "$(session_pids "$pid")" ]; do
		i=$((i + 1))
		if [ "$i" -gt $((TIMEOUT * 10)) ]; then
			echo "mailservers.sh: $1 still running after ${TIMEOUT}s: SIGKILL" >&2
			for p in $(session_pids "$pid"); do kill -KILL "$p" 2>/dev/null || true; done
			sleep 0.2
			break
		fi
		sleep 0.1
	done
	rm -f "$2"
}

# ---------------------------------------------------------------------------------------
# Ports

# pick_ports N: N distinct free TCP ports on 127.0.0.1, one per line. Picked at random
# below the kernel's ephemeral range (32768-60999 on Linux) so that client sockets do not
# take them between the check and the server's bind; a parallel instance picking the same
# port is detected by the banner check (wait_banner) and start retries with other ports.
pick_ports() {
	"$PYTHON" - "$1" <<'EOF'
import random, socket, sys
n, found = int(sys.argv[1]), []
while len(found) < n:
    p = random.randrange(20000, 32000)
    if p in found:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
        found.append(p)
    except OSError:
        pass
    finally:
        s.close()
print("\n".join(map(str, found)))
EOF
}

# wait_banner PORT TEXT: waits until 127.0.0.1:PORT answers with a greeting containing
# TEXT (this instance's tag: a listener of another instance on the same port does not
# count). Returns 1 after TIMEOUT seconds, 2 at once if the port is taken by someone else.
wait_banner() {
	"$PYTHON" - "$1" "$2" "$TIMEOUT" <<'EOF'
import socket, sys, time
port, tag, timeout = int(sys.argv[1]), sys.argv[2].encode(), float(sys.argv[3])
end = time.monotonic() + timeout
while time.monotonic() < end:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            banner = s.recv(512)
        if tag in banner:
            sys.exit(0)
        if banner:
            sys.exit(2)
    except OSError:
        pass
    time.sleep(0.05)
sys.exit(1)
EOF
}

# ---------------------------------------------------------------------------------------
# Configuration

# load DIR: the absolute folder and the settings saved by start.
load() {
	[ -d "$1" ] || die "$1: no such folder"
	D=$(cd "$1" && pwd)
	if [ -f "$D/ports" ]; then
		. "$D/ports"
	fi
}

# make_tls: a CA of this instance and a certificate for 127.0.0.1 / localhost signed by it
# (ECDSA: fast to make), and Diffie-Hellman parameters (RFC 7919 ffdhe2048, a published
# group: generating one would take seconds).
make_tls() {
	mkdir -p "$D/tls"
	(
		cd "$D/tls" &&
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
			-subj "/CN=dialogd test CA $$" -keyout ca.key -out ca.pem &&
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-subj "/CN=localhost" -keyout server.key -out server.csr &&
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > server.ext &&
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
			-extfile server.ext -out server.pem
	) > "$D/logs/tls.log" 2>&1 || { cat "$D/logs/tls.log" >&2; die "cannot make the test certificates"; }
	cat > "$D/tls/dh.pem" <<'DH'
-----BEGIN DH PARAMETERS-----
MIIBCAKCAQEA//////////+t+FRYortKmq/cViAnPTzx2LnFg84tNpWp4TZBFGQz
+8yTnc4kmz75fS/jY2MMddj2gbICrsRhetPfHtXV/WVhJDP1H18GbtCFY2VVPe0a
87VXE15/V8k1mE8McODmi3fipona8+/och3xWKE2rec1MKzKT0g6eXq8CrGCsyT7
YdEIqUuyyOP7uWrat2DX9GgdT0Kj3jlN9K5W7edjcrsZCwenyO4KbXCeAvzhzffi
7MA0BM0oNC9hkXL+nOmFg/+OTxIy7vKBg8P+OxtMb61zO7X8vC7CIAXFjvGDfRaD
ssbzSibBsu/6iGtCOGEoXJf//////////wIBAg==
-----END DH PARAMETERS-----
DH
	chmod 0644 "$D/tls/"*.pem
}

write_dovecot_conf() {
	if ! mail_uid=$(id -u mail) || ! mail_gid=$(id -g mail); then
		die "no 'mail' user"
	fi
	# passwd-file: user:password:uid:gid:(gecos):home:(shell):extra fields
	cat > "$D/dovecot/users" <<EOF
$SUPPORT_ADDRESS:{PLAIN}$SUPPORT_PASSWORD:$mail_uid:$mail_gid::$D/mail/support::
$CATCHALL_USER:{PLAIN}$CATCHALL_PASSWORD:$mail_uid:$mail_gid::$D/mail/catchall::
EOF
	# Read by the auth process, which runs as the unprivileged 'dovecot' user.
	chmod 0644 "$D/dovecot/users"
	cat > "$D/dovecot/dovecot.conf" <<EOF
# Private Dovecot of the dialogd tests (written by tests/integration/mailservers.sh).
protocols = imap lmtp
listen = 127.0.0.1
# The tag in the greetings lets mailservers.sh tell this instance from another one.
hostname = $TAG
login_greeting = Dovecot $TAG ready.
# Nothing outside this folder: sockets and pid file, state, logs.
base_dir = $D/dovecot/run
state_dir = $D/dovecot/state
log_path = $D/logs/dovecot.log
info_log_path = $D/logs/dovecot.log
# TLS with a certificate of this instance's own CA (DIR/tls/ca.pem, in the env file as
# TLS_CA): STARTTLS on the IMAP port, implicit TLS on the IMAPS port. Plain-text logins
# stay allowed without TLS (test clients), on loopback only.
ssl = yes
ssl_cert = <$D/tls/server.pem
ssl_key = <$D/tls/server.key
ssl_dh = <$D/tls/dh.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
# Dovecot refuses to access mail as root: mail belongs to the 'mail' user.
mail_uid = $mail_uid
mail_gid = $mail_gid
first_valid_uid = $mail_uid
first_valid_gid = $mail_gid
mail_location = maildir:~/Maildir
# Test mail is disposable: no fsync, fast deliveries.
mail_fsync = never
# A test may hold several connections (daemon + IDLE + mailtool) at once.
mail_max_userip_connections = 100
# Exact addresses only: dialoguer+x@ocapiat.test goes to the catch-all.
recipient_delimiter =
# Any character in a recipient (the default set refuses "+", "=", "/"...): whatever the
# address, the catch-all takes it.
auth_username_chars =
lmtp_rcpt_check_quota = no

# The two users that can log in over IMAP.
passdb {
  driver = passwd-file
  args = scheme=PLAIN $D/dovecot/users
}
userdb {
  driver = passwd-file
  args = $D/dovecot/users
}
# Every other recipient known to LMTP is the catch-all mailbox: a lookup that the
# passwd-file userdb does not find falls through to this one, which accepts anyone.
userdb {
  driver = static
  args = uid=$mail_uid gid=$mail_gid home=$D/mail/catchall allow_all_users=yes
}

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS_PORT
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $LMTP_PORT
  }
}
EOF
}

write_postfix_conf() {
	cat > "$D/postfix/main.cf" <<EOF
# Private Postfix of the dialogd tests (written by tests/integration/mailservers.sh).
compatibility_level = 3.6
queue_directory = $D/spool
data_directory = $D/postfix-data
# The tag in the banner lets mailservers.sh tell this instance from another one.
myhostname = $TAG
smtpd_banner = \$myhostname ESMTP
# No syslog in a container: postlogd writes this file (see master.cf).
maillog_file = $D/logs/postfix.log
maillog_file_prefixes = $D/logs
# Loopback only, IPv4 only.
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
# Nothing is local: every recipient, whatever its domain, is relayed to the private
# Dovecot's LMTP, one recipient per transaction so that each copy has its own
# Delivered-To. Dovecot decides between the support mailbox and the catch-all.
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
relay_domains =
default_transport = lmtp:inet:127.0.0.1:$LMTP_PORT
relay_transport = lmtp:inet:127.0.0.1:$LMTP_PORT
lmtp_destination_recipient_limit = 1
# Relay anything submitted from loopback.
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = permit_mynetworks, reject
# No DNS anywhere.
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
smtp_host_lookup = native
lmtp_host_lookup = native
smtpd_peername_lookup = no
# Leave submitted messages as they are: loopback clients are treated as remote ones, so
# cleanup adds no Message-ID/Date/From and rewrites no address; no MIME conversion.
local_header_rewrite_clients =
disable_mime_output_conversion = yes
biff = no
# Room for a 25 MB message (plus base64 growth).
message_size_limit = 52428800
mailbox_size_limit = 0
# Fast: no throttling of clients, quick retries when Dovecot was down.
in_flow_delay = 0
smtpd_error_sleep_time = 0
smtpd_client_connection_count_limit = 0
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
EOF
	# Every service unchrooted (the chroot would need copies of system files), and the
	# only listener is the smtpd on SMTP_PORT (no port 25).
	cat > "$D/postfix/master.cf" <<EOF
# service   type  private unpriv chroot wakeup maxproc command
127.0.0.1:$SMTP_PORT inet n - n - - smtpd
pickup      unix  n       -      n      60     1       pickup
cleanup     unix  n       -      n      -      0       cleanup
qmgr        unix  n       -      n      300    1       qmgr
rewrite     unix  -       -      n      -      -       trivial-rewrite
bounce      unix  -       -      n      -      0       bounce
defer       unix  -       -      n      -      0       bounce
trace       unix  -       -      n      -      0       bounce
verify      unix  -       -      n      -      1       verify
flush       unix  n       -      n      1000?  0       flush
proxymap    unix  -       -      n      -      -       proxymap
smtp        unix  -       -      n      -      -       smtp
relay       unix  -       -      n      -      -       smtp
showq       unix  n       -      n      -      -       showq
error       unix  -       -      n      -      -       error
retry       unix  -       -      n      -      -       error
discard     unix  -       -      n      -      -       discard
lmtp        unix  -       -      n      -      -       lmtp
anvil       unix  -       -      n      -      1       anvil
scache      unix  -       -      n      -      1       scache
postlog     unix-dgram n  -      n      -      1       postlogd
EOF
	# Postfix waits a while before using a main.cf modified less than a second ago.
	touch -d '-1 minute' "$D/postfix/main.cf" "$D/postfix/master.cf"
}

# ---------------------------------------------------------------------------------------
# Starting and stopping each server

dovecot_pidfile() { echo "$D/dovecot/run/master.pid"; }
postfix_pidfile() { echo "$D/spool/pid/master.pid"; }

# start_dovecot: returns 0 when it answers, 2 when one of its ports was taken.
start_dovecot() {
	# The launcher's descriptors must not be kept by the daemon (a test that captures
	# this script's output would wait forever): everything goes to files.
	if ! dovecot -c "$D/dovecot/dovecot.conf" < /dev/null > "$D/logs/dovecot.out" 2>&1; then
		if grep -q 'Address already in use' "$D/logs/dovecot.out" "$D/logs/dovecot.log" 2>/dev/null; then
			return 2
		fi
		fail dovecot "dovecot did not start"
	fi
	for port in "$IMAP_PORT" "$LMTP_PORT"; do
		rc=0
		wait_banner "$port" "$TAG" || rc=$?
		[ "$rc" -eq 0 ] && continue
		[ "$rc" -eq 2 ] && return 2
		fail dovecot "dovecot does not answer on 127.0.0.1:$port after ${TIMEOUT}s"
	done
}

start_postfix() {
	if ! postfix -c "$D/postfix" start < /dev/null > "$D/logs/postfix.out" 2>&1; then
		fail postfix "postfix did not start"
	fi
	rc=0
	wait_banner "$SMTP_PORT" "$TAG" || rc=$?
	[ "$rc" -eq 0 ] && return 0
	if [ "$rc" -eq 2 ] || grep -q 'Address already in use' "$D/logs/postfix.log" 2>/dev/null; then
		return 2
	fi
	fail postfix "postfix does not answer on 127.0.0.1:$SMTP_PORT after ${TIMEOUT}s"
}

stop_dovecot() { stop_pidfile dovecot "$(dovecot_pidfile)"; }
stop_postfix() { stop_pidfile master "$(postfix_pidfile)"; }

# fail SERVER MESSAGE: prints the message and the end of the server's logs, stops what
# was started, exits 1.
fail() {
	echo "mailservers.sh: $2" >&2
	for f in "$D/logs/$1.out" "$D/logs/$1.log"; do
		if [ -s "$f" ]; then
			echo "--- last lines of $f:" >&2
			tail -n 20 "$f" >&2
		fi
	done
	stop_postfix
	stop_dovecot
	exit 1
}

write_env() {
	cat > "$D/env.tmp" <<EOF
# Written by tests/integration/mailservers.sh start: the private mail servers of $D.
export MAILSERVERS_DIR='$D'
export MAIL_HOST='127.0.0.1'
export IMAP_PORT='$IMAP_PORT'
export IMAPS_PORT='$IMAPS_PORT'
export TLS_CA='$D/tls/ca.pem'
export SMTP_PORT='$SMTP_PORT'
export LMTP_PORT='$LMTP_PORT'
export SUPPORT_ADDRESS='$SUPPORT_ADDRESS'
export SUPPORT_USER='$SUPPORT_ADDRESS'
export SUPPORT_PASSWORD='$SUPPORT_PASSWORD'
export SUPPORT_MAILDIR='$D/mail/support/Maildir'
export CATCHALL_USER='$CATCHALL_USER'
export CATCHALL_PASSWORD='$CATCHALL_PASSWORD'
export CATCHALL_MAILDIR='$D/mail/catchall/Maildir'
export CORRESPONDANTS_ADDRESS='$CORRESPONDANTS_ADDRESS'
export DOVECOT_LOG='$D/logs/dovecot.log'
export POSTFIX_LOG='$D/logs/postfix.log'
EOF
	mv "$D/env.tmp" "$D/env"
}

# ---------------------------------------------------------------------------------------
# Subcommands

cmd_start() {
	[ "$(id -u)" -eq 0 ] || die "must run as root (Postfix and Dovecot need it)"
	[ -d "$1" ] || die "$1: no such folder"
	load "$1"
	[ -z "$(ls -A "$D")" ] || die "$D is not empty"
	# The longest socket path must fit in sun_path (107 bytes + NUL).
	[ ${#D} -le 60 ] || die "$D: path too long for UNIX sockets (keep it under 60 bytes)"
	# mktemp -d gives 0700; the mail and postfix users must go through it.
	chmod 0755 "$D"
	mkdir -p "$D/dovecot" "$D/postfix" "$D/spool" "$D/logs" \
		"$D/mail/support/Maildir/cur" "$D/mail/support/Maildir/new" \
		"$D/mail/support/Maildir/tmp" "$D/mail/catchall/Maildir/cur" \
		"$D/mail/catchall/Maildir/new" "$D/mail/catchall/Maildir/tmp"
	chown -R mail:mail "$D/mail"
	make_tls
	# A tag unique to this instance, in the servers' greetings.
	TAG="dm-$(basename "$D" | tr -cd 'A-Za-z0-9' | tr '[:upper:]' '[:lower:]')-$$.test"
	attempt=0
	while :; do
		attempt=$((attempt + 1))
		[ "$attempt" -le 5 ] || fail dovecot "no free ports found after 5 attempts"
		# MAILSERVERS_PORTS="IMAP LMTP SMTP" asks for given ports (to debug; they are
		# only tried once, then random ones).
		if [ "$attempt" -eq 1 ] && [ -n "${MAILSERVERS_PORTS:-}" ]; then
			# shellcheck disable=SC2086 # three words
			set -- $MAILSERVERS_PORTS
		else
			# shellcheck disable=SC2046 # three words
			set -- $(pick_ports 4)
		fi
		IMAP_PORT=$1 LMTP_PORT=$2 SMTP_PORT=$3 IMAPS_PORT=${4:-$(pick_ports 1)}
		printf 'TAG=%s\nIMAP_PORT=%s\nLMTP_PORT=%s\nSMTP_PORT=%s\nIMAPS_PORT=%s\n' \
			"$TAG" "$IMAP_PORT" "$LMTP_PORT" "$SMTP_PORT" "$IMAPS_PORT" > "$D/ports"
		write_dovecot_conf
		write_postfix_conf
		rc=0
		start_dovecot || rc=$?
		if [ "$rc" -eq 2 ]; then
			stop_dovecot
			continue
		fi
		start_postfix || rc=$?
		if [ "$rc" -eq 2 ]; then
			stop_postfix
			stop_dovecot
			continue
		fi
		break
	done
	write_env
}

cmd_stop() {
	# Nothing to stop in a folder already removed.
	[ -d "$1" ] || return 0
	load "$1"
	stop_postfix
	stop_dovecot
}

cmd_stop_mta() {
	load "$1"
	stop_postfix
}

cmd_start_mta() {
	load "$1"
	[ -n "${SMTP_PORT:-}" ] || die "$D: not started (no $D/ports)"
	if alive "$(read_pid "$(postfix_pidfile)")"; then
		return 0
	fi
	rc=0
	start_postfix || rc=$?
	[ "$rc" -eq 0 ] || fail postfix "127.0.0.1:$SMTP_PORT is taken by another program"
}

cmd_restart_imap() {
	load "$1"
	[ -n "${IMAP_PORT:-}" ] || die "$D: not started (no $D/ports)"
	stop_dovecot
	rc=0
	start_dovecot || rc=$?
	[ "$rc" -eq 0 ] || fail dovecot "127.0.0.1:$IMAP_PORT or $LMTP_PORT is taken by another program"
}

cmd_stop_imap() {
	load "$1"
	stop_dovecot
}

cmd_start_imap() {
	load "$1"
	[ -n "${IMAP_PORT:-}" ] || die "$D: not started (no $D/ports)"
	if alive "$(read_pid "$(dovecot_pidfile)")"; then
		return 0
	fi
	rc=0
	start_dovecot || rc=$?
	[ "$rc" -eq 0 ] || fail dovecot "127.0.0.1:$IMAP_PORT or $LMTP_PORT is taken by another program"
}

cmd_status() {
	load "$1"
	n=0
	for s in dovecot postfix; do
		pid=$(read_pid "$("${s}_pidfile")")
		if alive "$pid"; then
			echo "$s: running (pid $pid)"
			n=$((n + 1))
		else
			echo "$s: stopped"
		fi
	done
	[ "$n" -gt 0 ]
}

# selftest: the smoke test of the harness. Prints timings; exits 1 on the first failure.
cmd_selftest() {
	# The env file is sourced (exported values): mailtool reads them from the environment.
	tool() { "$PYTHON" "$here/mailtool.py" "$@"; }
	dir=$(mktemp -d /tmp/dm.XXXXXX)
	trap '"$0" stop "$dir"; rm -rf "$dir"' EXIT
	ok() { echo "selftest: ok: $*"; }
	now() { "$PYTHON" -c 'import time; print("%.3f" % time.time())'; }
	# elapsed T0 [T1]: seconds from T0 to T1 (default: now).
	elapsed() { "$PYTHON" -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "${2:-$(now)}"; }

	t0=$(now)
	"$0" start "$dir"
	echo "selftest: start took $(elapsed "$t0") s"
	. "$dir/env"
	msgs="$dir/selftest-msgs"
	mkdir "$msgs"
	for i in 1 2 3; do
		printf 'From: Asker %s <asker%s@example.test>\nTo: %s\nSubject: question %s\nMessage-ID: <q%s.%s@example.test>\n\nWhen are you open?\n' \
			"$i" "$i" "$SUPPORT_ADDRESS" "$i" "$i" "$$" > "$msgs/q$i.eml"
	done
	printf 'From: a@example.test\nSubject: other\n\nto someone else\n' > "$msgs/other.eml"
	tool send "$msgs/q1.eml" "$msgs/q2.eml" "$msgs/q3.eml"
	tool send --to "someone-$$@ocapiat.test" "$msgs/other.eml"
	tool send --to "$CORRESPONDANTS_ADDRESS" --to "x@elsewhere.example" "$msgs/other.eml"
	tool wait-count --user "$SUPPORT_USER" --password "$SUPPORT_PASSWORD" --at-least 3 --timeout 10
	tool wait-count --user "$CATCHALL_USER" --password "$CATCHALL_PASSWORD" --at-least 3 --timeout 10
	n=$(tool count --user "$SUPPORT_USER" --password "$SUPPORT_PASSWORD")
	[ "$n" -eq 3 ] || die "selftest: support mailbox holds $n messages, not 3"
	n=$(tool count --user "$CATCHALL_USER" --password "$CATCHALL_PASSWORD")
	[ "$n" -eq 3 ] || die "selftest: catch-all holds $n messages, not 3"
	tool dump --user "$CATCHALL_USER" --password "$CATCHALL_PASSWORD" | grep -q '"delivered_to": "x@elsewhere.example"' ||
		die "selftest: no copy for x@elsewhere.example in the catch-all"
	ok "3 messages in the support mailbox, 3 in the catch-all"

	# A folder named with a non-ASCII letter, as the daemon will create.
	tool create-mailbox --user "$SUPPORT_USER" --password "$SUPPORT_PASSWORD" --mailbox "Traités"
	tool list-mailboxes --user "$SUPPORT_USER" --password "$SUPPORT_PASSWORD" | grep -qx "Traités" ||
		die "selftest: no Traités folder"
	ok "CREATE Trait&AOk-s"

	printf 'line %s\n' 1 2 3 > "$msgs/lines.txt"
	t0=$(now)
	tool generate --count 200 --to "$SUPPORT_ADDRESS" --body-file "$msgs/lines.txt" > /dev/null
	t1=$(now)
	tool wait-count --user "$SUPPORT_USER" --password "$SUPPORT_PASSWORD" --at-least 203 --timeout 30
	echo "selftest: 200 messages: sent in $(elapsed "$t0" "$t1") s (SMTP), all in the mailbox after $(elapsed "$t0") s"

	"$0" stop-mta "$dir"
	if tool send "$msgs/q1.eml" 2> /dev/null; then
		die "selftest: SMTP still accepts mail after stop-mta"
	fi
	t0=$(now)
	"$0" start-mta "$dir"
	echo "selftest: start-mta took $(elapsed "$t0") s"
	tool send "$msgs/q1.eml"
	tool wait-count --user "$SUPPORT_USER" --password "$SUPPORT_PASSWORD" --at-least 204 --timeout 10
	ok "stop-mta / start-mta"

	t0=$(now)
	"$0" restart-imap "$dir"
	echo "selftest: restart-imap took $(elapsed "$t0") s"
	n=$(tool count --user "$SUPPORT_USER" --password "$SUPPORT_PASSWORD")
	[ "$n" -eq 204 ] || die "selftest: $n messages after restart-imap, not 204"
	tool list-mailboxes --user "$SUPPORT_USER" --password "$SUPPORT_PASSWORD" | grep -qx "Traités" ||
		die "selftest: Traités lost by restart-imap"
	ok "restart-imap"

	# Mail sent while Dovecot is down waits in Postfix's queue, delivered once it is back.
	"$0" stop-imap "$dir"
	tool send "$msgs/q2.eml"
	sleep 1
	t0=$(now)
	"$0" start-imap "$dir"
	tool wait-count --user "$SUPPORT_USER" --password "$SUPPORT_PASSWORD" --at-least 205 --timeout 10
	echo "selftest: mail queued while Dovecot was down delivered $(elapsed "$t0") s after start-imap"
	ok "stop-imap / start-imap"

	sids="$(read_pid "$dir/dovecot/run/master.pid") $(read_pid "$dir/spool/pid/master.pid")"
	"$0" stop "$dir"
	"$0" stop "$dir"
	for s in $sids; do
		[ -z "$(session_pids "$s")" ] || die "selftest: processes left after stop: $(session_pids "$s")"
	done
	! "$0" status "$dir" > /dev/null || die "selftest: status says running after stop"
	ok "stop (twice), no process left"
}

[ $# -ge 1 ] || die "usage: mailservers.sh start|stop|stop-mta|start-mta|restart-imap|stop-imap|start-imap|status DIR | selftest"
cmd=$1
shift
case $cmd in
start | stop | stop-mta | start-mta | restart-imap | stop-imap | start-imap | status)
	[ $# -eq 1 ] || die "usage: mailservers.sh $cmd DIR"
	"cmd_$(echo "$cmd" | tr - _)" "$1"
	;;
selftest) cmd_selftest ;;
*) die "unknown subcommand: $cmd" ;;
esac
