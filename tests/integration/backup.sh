#!/bin/sh
# dialogctl backup and restore: a backup taken while dialogd runs and while another
# process writes, whole (integrity check) and mode 0600; never over an existing file; a
# restore refused while dialogd holds the store, and of a file that is not a whole store
# (the store then unchanged); a restore after more work brings back exactly what the
# backup held (threads, messages, outbox, processed mail) and dialogd starts on it. Run by
# make check; no mail server needed.
set -u
SRC=${DIALOGD_SRCDIR:?}
BUILD=${DIALOGD_BUILDDIR:?}
TMP=$(mktemp -d /tmp/dialogd-backup-XXXXXX)
. "$SRC/tests/check-lib.sh"
pid=
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2> /dev/null
	if [ "$failures" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$TMP"; else echo "(test folder kept: $TMP)"; fi
}
trap cleanup EXIT
cat > "$TMP/dialogd.conf" <<CONF
[daemon]
allow_root = yes
[paths]
data = $SRC
[store]
path = $TMP/store.sqlite
[web]
listen = 127.0.0.1:0
CONF
chmod 600 "$TMP/dialogd.conf"
CTL="$BUILD/daemon/dialogctl -c $TMP/dialogd.conf"
sql() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])" "$1" "$2"; }
chat() { printf '%s\n' "$@" | $CTL chat > /dev/null 2>&1; }

for i in 1 2 3 4 5; do chat "Comment déposer une facture ?" "Une entreprise"; chat "je veux parler à un conseiller"; done
python3 -c "import sqlite3,sys; db = sqlite3.connect(sys.argv[1]); db.execute(\"INSERT INTO processed (mailbox, key, thread_id, at) VALUES ('INBOX', 'mid:<deja-lu@example.test>', 1, 0)\"); db.commit()" "$TMP/store.sqlite"
threads=$(sql "$TMP/store.sqlite" "SELECT count(*) FROM threads")
messages=$(sql "$TMP/store.sqlite" "SELECT count(*) FROM messages")
check "ten conversations written" test "$threads" -eq 10

"$BUILD/daemon/dialogd" -c "$TMP/dialogd.conf" > "$TMP/dialogd.log" 2>&1 &
pid=$!
wait_until 15 grep -q "dialogd: ready" "$TMP/dialogd.log"
check "dialogd runs on the store" grep -q "dialogd: ready" "$TMP/dialogd.log"

# A writer beside dialogd while the backup is taken.
( for i in 1 2 3 4 5 6; do chat "Où trouver le numéro DECA ? Je suis une entreprise."; done ) &
writer=$!
$CTL backup "$TMP/b1.sqlite" > "$TMP/backup.out" 2> "$TMP/backup.err"
check "backup exits 0 while dialogd runs and another process writes" test $? -eq 0
wait "$writer"
check "... says what it holds" grep -q "^backup: $TMP/b1.sqlite holds [0-9]* thread(s), [0-9]* message(s), .* 1 mail(s) recorded as processed; schema [0-9]*" "$TMP/backup.out"
check "... is a whole store (integrity check)" test "$(sql "$TMP/b1.sqlite" "PRAGMA integrity_check")" = ok
check "... of mode 0600" test "$(stat -c %a "$TMP/b1.sqlite")" = 600
check "... and leaves no partial file" sh -c "! ls '$TMP' | grep -q partial"
backed=$(sql "$TMP/b1.sqlite" "SELECT count(*) FROM threads")
backed_messages=$(sql "$TMP/b1.sqlite" "SELECT count(*) FROM messages")
check "... with at least the threads before it" test "$backed" -ge "$threads"
$CTL backup "$TMP/b1.sqlite" > /dev/null 2> "$TMP/err"
check "a backup never overwrites a file" sh -c "test $? -eq 1 && grep -q 'exists already' '$TMP/err'"

before=$(sql "$TMP/store.sqlite" "SELECT count(*) FROM threads")
$CTL restore "$TMP/b1.sqlite" > /dev/null 2> "$TMP/err"
check "restore is refused while dialogd runs" sh -c "test $? -eq 1 && grep -q 'in use by a running dialogd: stop it first' '$TMP/err'"
check "... and the store is unchanged" test "$(sql "$TMP/store.sqlite" "SELECT count(*) FROM threads")" -eq "$before"
kill "$pid"
wait "$pid"
pid=

chat "Comment modifier mes coordonnées bancaires ?"
chat "Comment modifier mes coordonnées bancaires ?"
check "more work after the backup" test "$(sql "$TMP/store.sqlite" "SELECT count(*) FROM threads")" -gt "$backed"
head -c 4096 /dev/urandom > "$TMP/junk"
$CTL restore "$TMP/junk" > /dev/null 2> "$TMP/err"
check "a file that is not a store is refused" sh -c "test $? -eq 1 && grep -q 'cannot be restored\|cannot open' '$TMP/err' && grep -q 'the store is unchanged' '$TMP/err'"
size=$(stat -c %s "$TMP/b1.sqlite")
head -c $((size / 2)) "$TMP/b1.sqlite" > "$TMP/half.sqlite"
$CTL restore "$TMP/half.sqlite" > /dev/null 2> "$TMP/err"
check "a backup cut in half is refused" test $? -eq 1
check "... and the store is still the one after the backup" test "$(sql "$TMP/store.sqlite" "SELECT count(*) FROM threads")" -gt "$backed"

$CTL restore "$TMP/b1.sqlite" > "$TMP/restore.out" 2> "$TMP/err"
check "restore exits 0 with dialogd stopped" test $? -eq 0
check "... says what the store holds now" grep -q "^restore: $TMP/store.sqlite holds $backed thread(s), $backed_messages message(s)" "$TMP/restore.out"
check "the threads are the backup's" test "$(sql "$TMP/store.sqlite" "SELECT count(*) FROM threads")" -eq "$backed"
check "... its messages" test "$(sql "$TMP/store.sqlite" "SELECT count(*) FROM messages")" -eq "$backed_messages"
check "... and the mail recorded as processed (not answered again)" \
	test "$(sql "$TMP/store.sqlite" "SELECT count(*) FROM processed WHERE key = 'mid:<deja-lu@example.test>'")" -eq 1
check "the restored store passes the integrity check" test "$(sql "$TMP/store.sqlite" "PRAGMA integrity_check")" = ok
"$BUILD/daemon/dialogd" -c "$TMP/dialogd.conf" > "$TMP/dialogd2.log" 2>&1 &
pid=$!
wait_until 15 grep -q "dialogd: ready" "$TMP/dialogd2.log"
check "dialogd starts on the restored store" grep -q "dialogd: ready" "$TMP/dialogd2.log"
kill "$pid"
wait "$pid"
check "... and stops with 0" test $? -eq 0
pid=
$CTL backup > /dev/null 2>&1
check "backup without a file is a usage error" test $? -eq 2
echo "# $passed passed, $failures failed"
[ "$failures" -eq 0 ]
