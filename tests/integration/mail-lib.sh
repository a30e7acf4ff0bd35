# Shared by tests/integration/mail.sh, tests/bench/mail-bench.sh and tests/demo.sh (sourced, POSIX sh):
# private mail servers in a folder, a dialogd configuration pointing at them, and
# helpers to run dialogd and read the mailboxes. Expects srcdir and builddir to be set.
servers="$srcdir/tests/integration/mailservers.sh"
tool="python3 $srcdir/tests/integration/mailtool.py"
dialogd="$builddir/daemon/dialogd"
dialogctl="$builddir/daemon/dialogctl"
pid=
. "$srcdir/tests/check-lib.sh"  # check, wait_until

# mail_setup DIR [EXTRA-CONFIG]: starts the servers in DIR/s, writes DIR/dialogd.conf
# (EXTRA-CONFIG, INI lines, is appended) and DIR/env, and sources it.
mail_setup() {
	D=$1
	S="$D/s"  # the servers' own folder (must start empty)
	mkdir -p "$S"
	chmod 0755 "$D"
	"$servers" start "$S" > "$D/servers.out" 2>&1 || { cat "$D/servers.out"; return 1; }
	cp "$S/env" "$D/env"
	. "$D/env"
	catchall="--user $CATCHALL_USER --password $CATCHALL_PASSWORD"
	support="--user $SUPPORT_USER --password $SUPPORT_PASSWORD"
	printf '%s\n' "$SUPPORT_PASSWORD" > "$D/imap.secret"
	chmod 0600 "$D/imap.secret"
	# A free port for the web pages (reset links point at it).
	WEB_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	# Tests run as root (the mail servers need it): dialogd is told it may stay root
	# (tests/integration/privileges.sh tests [daemon] user).
	cat > "$D/dialogd.conf" <<CONF
[daemon]
allow_root = yes
[paths]
data = $srcdir
[store]
path = $D/dialogd.sqlite
[imap]
url = imap://127.0.0.1:$IMAP_PORT
user = $SUPPORT_USER
password_file = $D/imap.secret
tls_ca_file = $TLS_CA
timeout = 10
reconnect_max = 2
poll_interval = 1
[smtp]
url = smtp://127.0.0.1:$SMTP_PORT
from = Dialoguer avec OCAPIAT <$SUPPORT_ADDRESS>
retry_max = 2
[web]
listen = 127.0.0.1:$WEB_PORT
public_url = http://127.0.0.1:$WEB_PORT
[mail]
correspondants = $CORRESPONDANTS_ADDRESS
${2:-}
CONF
}

mail_teardown() {
	[ -n "$pid" ] && kill -9 "$pid" 2> /dev/null
	pid=
	"$servers" stop "$S" > /dev/null 2>&1
}

ctl() { "$dialogctl" -c "$D/dialogd.conf" "$@"; }
# Starts dialogd and returns once it is ready (a signal sent earlier could reach the
# shell's fork before the exec and be lost).
start_dialogd() {
	started_lines=$(cat "$D/dialogd.log" 2> /dev/null | wc -l)
	"$dialogd" -c "$D/dialogd.conf" >> "$D/dialogd.log" 2>&1 &
	pid=$!
	wait_until 20 sh -c "tail -n +$((started_lines + 1)) '$D/dialogd.log' | grep -q 'dialogd: ready'"
}
stop_dialogd() {
	kill -TERM "$pid" 2> /dev/null
	wait "$pid" 2> /dev/null
	pid=
}
catchall_count() { $tool --env "$D/env" count $catchall; }
at_least() { [ "$(catchall_count)" -ge "$1" ]; }
outbox_empty() { ctl outbox --state pending | grep -q . && return 1; return 0; }
threads_at_least() { [ "$(ctl threads --json | wc -l)" -ge "$1" ]; }
settled() { # settled THREADS: that many threads and nothing pending
	threads_at_least "$1" && outbox_empty
}
