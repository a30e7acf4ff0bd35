#!/bin/sh
# dialogd's privileges and secrets, as root (skipped otherwise, exit 77):
#   - started as root with [daemon] user = nobody, dialogd binds [web] listen, then runs
#     as nobody on every thread (real, effective, saved and file-system ids, no
#     capability left) and still answers; its store was created by nobody;
#   - started as root without [daemon] user it refuses, unless [daemon] allow_root = yes;
#   - a configuration holding a password, or a password/API key file, that its group or
#     others can read, or that another user owns, is refused with the file and its mode,
#     by dialogd and by dialogctl check; 0600 is accepted;
#   - dialogd and dialogctl (with -c) are not dumpable (the kernel then gives /proc/PID
#     to root) and have a core size limit of 0, even when started as an ordinary user;
#   - the store, its -wal and -shm are 0600 under an umask of 022, whoever creates them.
# Run by make check with DIALOGD_SRCDIR and DIALOGD_BUILDDIR set.
set -u
srcdir=${DIALOGD_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${DIALOGD_BUILDDIR:-$srcdir}
dialogd="$builddir/daemon/dialogd"
dialogctl="$builddir/daemon/dialogctl"
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (dialogd is started as root and switches to the user nobody)"
	exit 77
fi
for tool in curl setpriv timeout; do
	command -v $tool > /dev/null || { echo "SKIP: needs $tool (tests/install-deps.sh)"; exit 77; }
done
id nobody > /dev/null 2>&1 || { echo "SKIP: needs the user nobody"; exit 77; }
NOBODY_UID=$(id -u nobody)
NOBODY_GID=$(id -g nobody)
NOBODY_GROUP=$(id -gn nobody)   # nogroup on Debian
AS_NOBODY="setpriv --reuid=$NOBODY_UID --regid=$NOBODY_GID --clear-groups"

D=$(mktemp -d /tmp/dialogd-priv-XXXXXX)
. "$srcdir/tests/check-lib.sh"
pids=
cleanup() {
	for p in $pids; do kill -9 "$p" 2> /dev/null; done
	if [ "$failures" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$D"; else echo "(test folder kept: $D)"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM


# The usual umask, and core dumps allowed: what dialogd and dialogctl create must be
# 0600 and their core limit 0 all the same, because they set both themselves.
umask 022
ulimit -c unlimited 2> /dev/null || ulimit -c 1024
# nobody reads the data and reaches its own state folder, where the stores live.
chmod 0755 "$D"
mkdir "$D/data" "$D/state"
cp -r "$srcdir/intents" "$srcdir/faq-data" "$srcdir/templates" "$D/data/"
chmod -R a+rX "$D/data"
chown "nobody:$NOBODY_GROUP" "$D/state"
chmod 0700 "$D/state"

# conf NAME MODE [LINE...]: writes $D/NAME.conf (its own store, a free port) with MODE.
conf() {
	name=$1 mode=$2
	shift 2
	{
		printf '[paths]\ndata = %s/data\n[store]\npath = %s/state/%s.sqlite\n[web]\nlisten = 127.0.0.1:0\n' \
			"$D" "$D" "$name"
		printf '%s\n' "$@"
	} > "$D/$name.conf"
	chmod "$mode" "$D/$name.conf"
}
# start NAME [PREFIX...]: dialogd -c $D/NAME.conf in the background (after PREFIX, e.g.
# setpriv), its log in $D/NAME.log; sets pid.
start() {
	name=$1
	shift
	"$@" "$dialogd" -c "$D/$name.conf" > "$D/$name.log" 2>&1 &
	pid=$!
	pids="$pids $pid"
}
ready() { wait_until 30 grep -q 'dialogd: ready' "$D/$1.log"; }
stop() { kill -TERM "$1" 2> /dev/null; wait "$1"; }
# refused NAME PATTERN [ARGS...]: dialogd -c $D/NAME.conf exits by itself, non-zero,
# having logged PATTERN (a dialogd that starts instead is stopped after 10 s: 124).
refused() {
	name=$1 pattern=$2
	shift 2
	timeout 10 "$dialogd" -c "$D/$name.conf" "$@" > "$D/$name.log" 2>&1
	rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q -- "$pattern" "$D/$name.log"
}
# ctl_refuses NAME PATTERN: dialogctl -c $D/NAME.conf check exits 1 and prints PATTERN.
ctl_refuses() {
	"$dialogctl" -c "$D/$1.conf" check > "$D/$1.ctl" 2>&1
	[ $? -eq 1 ] && grep -q -- "$2" "$D/$1.ctl"
}
ids() { awk -v f="$2:" '$1 == f { print $2, $3, $4, $5 }' "$1"; }  # ids STATUS-FILE Uid|Gid
all_threads_are() { # all_threads_are PID UID GID: every thread's four uids and gids
	for t in /proc/"$1"/task/*/status; do
		[ "$(ids "$t" Uid)" = "$2 $2 $2 $2" ] && [ "$(ids "$t" Gid)" = "$3 $3 $3 $3" ] || return 1
	done
}
threads_of() { ls /proc/"$1"/task | wc -l; }
no_capabilities() {
	grep -q '^CapPrm:[[:space:]]*0000000000000000$' "/proc/$1/status" &&
		grep -q '^CapEff:[[:space:]]*0000000000000000$' "/proc/$1/status"
}
# Not dumpable: the kernel gives a non-dumpable process's /proc/PID files to root
# (proc(5)); another process cannot ask prctl(PR_GET_DUMPABLE) directly.
not_dumpable() { [ "$(stat -c %u "/proc/$1/status")" = 0 ]; }
no_core() { grep -q '^Max core file size *0 *0 *bytes' "/proc/$1/limits"; }
modes() { # modes STORE: "mode owner" of the store, its -wal and its -shm
	for s in '' -wal -shm; do
		[ -e "$1$s" ] && stat -c '%a %U' "$1$s" || echo "missing"
	done | tr '\n' ' '
}
port_of() { sed -n 's/.*web: listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$D/$1.log"; }
answers() { # answers PORT: some HTTP status from the reset page
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$1/reinitialisation")
	case "$code" in [1-5][0-9][0-9]) return 0 ;; *) return 1 ;; esac
}

# ---- 1. root with [daemon] user: binds, then runs as nobody everywhere ----
conf drop 0600 '[daemon]' 'user = nobody' "group = $NOBODY_GROUP"
start drop
if check "as root with [daemon] user = nobody: dialogd starts" ready drop; then
	S="/proc/$pid/status"
	check "Uid: real, effective, saved and file-system uid are nobody's ($NOBODY_UID)" \
		test "$(ids "$S" Uid)" = "$NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID"
	check "Gid: real, effective, saved and file-system gid are $NOBODY_GROUP's ($NOBODY_GID)" \
		test "$(ids "$S" Gid)" = "$NOBODY_GID $NOBODY_GID $NOBODY_GID $NOBODY_GID"
	check "Groups: $NOBODY_GROUP only (root's supplementary groups are gone)" \
		test "$(awk '$1 == "Groups:" { $1 = ""; print }' "$S" | xargs)" = "$NOBODY_GID"
	check "every thread ($(threads_of $pid)), the web thread included, runs as nobody" \
		all_threads_are "$pid" "$NOBODY_UID" "$NOBODY_GID"
	check "no capability is left (CapPrm and CapEff are 0): root cannot be regained" no_capabilities "$pid"
	PORT=$(port_of drop)
	check "the web listener bound as root answers after the switch" answers "${PORT:-0}"
	check "the store, its -wal and -shm are 0600 and nobody's (created after the switch)" \
		test "$(modes "$D/state/drop.sqlite")" = "600 nobody 600 nobody 600 nobody "
	check "not dumpable after the switch" not_dumpable "$pid"
	check "core size limit 0" no_core "$pid"
	check "dialogd says whom it runs as" grep -q "running as nobody:$NOBODY_GROUP (uid $NOBODY_UID, gid $NOBODY_GID)" "$D/drop.log"
	kill -HUP "$pid"
	check "SIGHUP reloads the data as nobody" wait_until 10 grep -q 'reload: done' "$D/drop.log"
	stop "$pid"
	check "SIGTERM: dialogd (as nobody) stops with 0" test $? -eq 0
else
	cat "$D/drop.log"
fi
# --check as root with a user does what dialogd does before the web: as nobody.
"$dialogd" -c "$D/drop.conf" --check > "$D/drop-check.log" 2>&1
check "dialogd --check as root with [daemon] user passes" test $? -eq 0

# ---- 2. root without [daemon] user: refused, unless allow_root ----
conf root 0600
check "as root without [daemon] user: refused, exit non-zero, with what to set" \
	refused root "refusing to run as root: set \[daemon\] user"
check "the refusal names the configuration file" grep -q "$D/root.conf" "$D/root.log"
check "dialogd --check as root without [daemon] user: refused too" \
	refused root "refusing to run as root" --check
check "the refused dialogd created no store" test ! -e "$D/state/root.sqlite"
conf allowroot 0600 '[daemon]' 'allow_root = yes'
start allowroot
if check "with [daemon] allow_root = yes: dialogd runs as root" ready allowroot; then
	check "it stays root (Uid 0)" test "$(ids "/proc/$pid/status" Uid)" = "0 0 0 0"
	check "it warns that it runs as root" grep -q "running as root (\[daemon\] allow_root = yes)" "$D/allowroot.log"
	check "its store, -wal and -shm are 0600 (umask 022 outside)" \
		test "$(modes "$D/state/allowroot.sqlite")" = "600 root 600 root 600 root "
	check "core size limit 0 as root" no_core "$pid"
	stop "$pid"
else
	cat "$D/allowroot.log"
fi

# ---- 3. started as an ordinary user (systemd's User=): not dumpable, no core ----
conf asnobody 0600
chown nobody "$D/asnobody.conf"
start asnobody $AS_NOBODY
if check "started as nobody (no [daemon] user needed): dialogd starts" ready asnobody; then
	check "started as nobody: not dumpable (/proc/PID belongs to root)" not_dumpable "$pid"
	check "started as nobody: core size limit 0 (was unlimited)" no_core "$pid"
	check "started as nobody: its store, -wal and -shm are 0600" \
		test "$(modes "$D/state/asnobody.sqlite")" = "600 nobody 600 nobody 600 nobody "
	stop "$pid"
else
	cat "$D/asnobody.log"
fi
conf mismatch 0600 '[daemon]' 'user = root'
chown nobody "$D/mismatch.conf"
timeout 10 $AS_NOBODY "$dialogd" -c "$D/mismatch.conf" > "$D/mismatch.log" 2>&1
rc=$?
check "started as nobody with [daemon] user = root: refused (cannot switch)" \
	sh -c "[ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q 'cannot switch' '$D/mismatch.log'"
# dialogctl with -c reads the same secrets: not dumpable either, no core. Its chat waits
# on a FIFO; it is past the configuration once it has opened its store.
conf ctlchat 0600
chown nobody "$D/ctlchat.conf"
mkfifo "$D/chat.in"
$AS_NOBODY "$dialogctl" -c "$D/ctlchat.conf" chat < "$D/chat.in" > "$D/chat.out" 2>&1 &
ctl_pid=$!
pids="$pids $ctl_pid"
exec 3> "$D/chat.in"
if check "dialogctl -c FILE chat runs as nobody" wait_until 20 test -e "$D/state/ctlchat.sqlite"; then
	check "dialogctl -c: not dumpable" not_dumpable "$ctl_pid"
	check "dialogctl -c: core size limit 0" no_core "$ctl_pid"
fi
exec 3>&-
wait "$ctl_pid"

# ---- 4. a configuration holding a password: 0600 only ----
for mode in 0644 0640; do
	conf "pw$mode" "$mode" '[daemon]' 'allow_root = yes' '[smtp]' 'password = not-a-real-secret'
	check "a configuration with a password at mode $mode: dialogd refuses it, naming the file and the mode" \
		refused "pw$mode" "$D/pw$mode.conf: holds a password (\[smtp\] password) but is readable by .*(mode $mode): chmod 600 it"
	check "the same from dialogctl check (mode $mode)" \
		ctl_refuses "pw$mode" "$D/pw$mode.conf: holds a password (\[smtp\] password) but is readable by .*(mode $mode)"
done
conf pw0600 0600 '[daemon]' 'allow_root = yes' '[smtp]' 'password = not-a-real-secret'
start pw0600
check "the same configuration at 0600 is accepted" ready pw0600
stop "$pid"
check "dialogctl check accepts it at 0600" sh -c "'$dialogctl' -c '$D/pw0600.conf' check > /dev/null"
conf nopw 0644 '[daemon]' 'allow_root = yes'
start nopw
check "a configuration without a password may stay 0644" ready nopw
stop "$pid"
conf pwowner 0600 '[daemon]' 'allow_root = yes' '[smtp]' 'password = not-a-real-secret'
chown nobody "$D/pwowner.conf"
check "a configuration with a password owned by another user (nobody, dialogd runs as root): refused" \
	refused pwowner "$D/pwowner.conf: holds a password (\[smtp\] password) but is owned by nobody"

# ---- 5. password and key files: 0600, owned by root or by the user dialogd runs as ----
printf 'not-a-real-secret\n' > "$D/smtp.secret"
chmod 0644 "$D/smtp.secret"
conf pwfile 0600 '[daemon]' 'allow_root = yes' '[smtp]' "password_file = $D/smtp.secret"
check "a password_file at mode 0644: dialogd refuses it, naming the file and the mode" \
	refused pwfile "$D/smtp.secret: holds a password (\[smtp\] password_file) but is readable by .*(mode 0644): chmod 600 it"
check "the same from dialogctl check" \
	ctl_refuses pwfile "$D/smtp.secret: holds a password (\[smtp\] password_file) but is readable by .*(mode 0644)"
printf 'not-a-real-key\n' > "$D/api.key"
chmod 0640 "$D/api.key"
conf keyfile 0600 '[daemon]' 'allow_root = yes' '[directory]' "api_key_file = $D/api.key"
check "an api_key_file at mode 0640: refused, naming the file and the mode" \
	refused keyfile "$D/api.key: holds a secret (\[directory\] api_key_file) but is readable by its group (mode 0640)"
chmod 0600 "$D/smtp.secret"
start pwfile
check "the password_file at 0600 is accepted" ready pwfile
stop "$pid"
chown 12345 "$D/smtp.secret"
check "a password_file owned by another user (uid 12345): refused" \
	refused pwfile "$D/smtp.secret: holds a password (\[smtp\] password_file) but is owned by uid 12345"
chown nobody "$D/smtp.secret"
conf pwfilenobody 0600 '[daemon]' 'user = nobody' '[smtp]' "password_file = $D/smtp.secret"
start pwfilenobody
check "a password_file owned by the [daemon] user (nobody) is accepted" ready pwfilenobody
stop "$pid"

# ---- 6. the store must be the user's: said before anything is opened ----
conf rootstore 0600 '[daemon]' 'user = nobody'
"$dialogctl" -c "$D/rootstore.conf" import companies "$srcdir/tests/data/directory/companies.csv" > /dev/null 2>&1
check "dialogctl creates its store 0600 (umask 022 outside)" test "$(stat -c %a "$D/state/rootstore.sqlite")" = 600
check "a store owned by root with [daemon] user = nobody: refused, saying how to fix it" \
	refused rootstore "$D/state/rootstore.sqlite: belongs to root, but dialogd runs as nobody: chown nobody:$NOBODY_GROUP"
conf outside 0600 '[daemon]' 'user = nobody'
sed -i "s|^path = .*|path = $D/outside.sqlite|" "$D/outside.conf"
check "a store in a folder nobody cannot write to: refused, saying why" \
	refused outside "$D: nobody cannot create files in this folder"
check "and nothing was created there" test ! -e "$D/outside.sqlite"

echo "$passed passed, $failures failed"
test "$failures" -eq 0
