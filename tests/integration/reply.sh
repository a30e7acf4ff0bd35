#!/bin/sh
# `dialogctl reply THREAD`: a person's answer (standard input) sent in a thread through
# the conversation layer, as the console will: taken from the queue, written as the
# chat's next line, audited with the person's name; refused when another person holds
# the thread (unless --take-over), when the text is empty, not UTF-8 or too long, and for
# a thread that does not exist. Run by make check; no server needed.
set -u
SRC=${DIALOGD_SRCDIR:?}
BUILD=${DIALOGD_BUILDDIR:?}
TMP=$(mktemp -d /tmp/dialogd-reply-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
. "$SRC/tests/check-lib.sh"
cat > "$TMP/dialogd.conf" <<CONF
[store]
path = $TMP/store.sqlite
[web]
public_url = https://assistance.ocapiat.test
CONF
CTL="$BUILD/daemon/dialogctl -c $TMP/dialogd.conf --data $SRC"
sql() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])" "$TMP/store.sqlite" "$1"; }

printf 'je veux parler à un conseiller\n' | $CTL chat > /dev/null 2> "$TMP/chat.err"
check "the chat hands the thread to the queue" test "$(sql "SELECT owner FROM threads WHERE id = 1")" = queue

echo "Bonjour, je regarde votre dossier et vous réponds dans l'heure." | $CTL reply 1 --as claire > "$TMP/out" 2> "$TMP/err"
check "reply exits 0" test $? -eq 0
check "reply says where the answer went" grep -q "thread #1: answer from claire written in the chat of" "$TMP/out"
check "the answer is the chat's next line" test "$(sql "SELECT body FROM messages WHERE thread_id = 1 ORDER BY id DESC LIMIT 1")" = \
	"Bonjour, je regarde votre dossier et vous réponds dans l'heure."
check "claire holds the thread" test "$(sql "SELECT owner || ':' || owner_person FROM threads WHERE id = 1")" = person:claire
check "the take and the reply are audited with her name" test \
	"$(sql "SELECT count(*) FROM audit WHERE requester = 'claire' AND action IN ('thread_take', 'thread_reply')")" -eq 2

count_before=$(sql "SELECT count(*) FROM messages WHERE thread_id = 1")
echo "Je prends la suite." | $CTL reply 1 --as paul > /dev/null 2> "$TMP/err"
check "another person is refused" test $? -eq 1
check "... and told who holds it" grep -q "thread #1 is held by claire: nothing sent (--take-over" "$TMP/err"
printf '' | $CTL reply 1 --as claire 2> "$TMP/err"
check "an empty answer is refused" sh -c "test $? -eq 1 && grep -q 'empty: nothing sent' '$TMP/err'"
printf 'r\351ponse en Latin-1\n' | $CTL reply 1 --as claire 2> "$TMP/err"
check "an answer that is not UTF-8 is refused" sh -c "test $? -eq 1 && grep -q 'not UTF-8 text' '$TMP/err'"
head -c 70000 /dev/zero | tr '\0' 'a' | $CTL reply 1 --as claire 2> "$TMP/err"
check "an answer over 64 KiB is refused, not cut" sh -c "test $? -eq 1 && grep -q 'over 65536 bytes' '$TMP/err'"
echo x | $CTL reply 99 --as claire 2> "$TMP/err"
check "a thread that does not exist is refused" sh -c "test $? -eq 1 && grep -q 'no thread #99' '$TMP/err'"
echo x | $CTL reply 1x 2> /dev/null
check "a thread that is not a number is a usage error" test $? -eq 2
check "nothing refused reached the thread" test "$(sql "SELECT count(*) FROM messages WHERE thread_id = 1")" -eq "$count_before"

echo "Je prends la suite de ma collègue." | $CTL reply 1 --as paul --take-over > /dev/null
check "--take-over answers in another's thread" test $? -eq 0
check "paul holds it now" test "$(sql "SELECT owner_person FROM threads WHERE id = 1")" = paul

# Teaching: a correspondant marks what a message meant; the export is a dev.tsv.
printf 'comment on fait pour la facture du stage ?\n' | $CTL chat > /dev/null 2>&1
thread=$(sql "SELECT max(id) FROM threads")
# A mail's text has line breaks and may have tabs: one more message, as the mail channel keeps it.
python3 -c "import sqlite3,sys; db = sqlite3.connect(sys.argv[1]); db.execute(\"INSERT INTO messages (thread_id, direction, sender, subject, body, at) VALUES (?, 'in', 'x@example.test', 'Facture', 'Bonjour,\\r\\ncomment on fait\\tpour la facture du stage ?', 0)\", (int(sys.argv[2]),)); db.commit()" "$TMP/store.sqlite" "$thread"
$CTL examples mark "$thread" submit_invoice organisme --as claire > "$TMP/out" 2> "$TMP/err"
check "examples mark: the writer's last message marked" sh -c "test $? -eq 0 && grep -q 'message marked submit_invoice for organisme' '$TMP/out'"
$CTL examples mark 1:1 human_handoff --as claire > /dev/null 2>&1
check "examples mark THREAD:N: the Nth message, no audience" test $? -eq 0
$CTL examples mark "$thread" not_an_intent --as claire 2> "$TMP/err"
check "an intent that is not in spec/intents.tsv is refused" sh -c "test $? -eq 1 && grep -q 'nothing marked' '$TMP/err'"
$CTL examples mark "$thread" submit_invoice employeur --as claire 2> /dev/null
check "an audience other than entreprise or organisme is refused" test $? -eq 1
$CTL examples mark 99 submit_invoice --as claire 2> "$TMP/err"
check "a thread without such a message is refused" sh -c "test $? -eq 1 && grep -q 'no such message' '$TMP/err'"
$CTL examples mark "$thread" submit_invoice 2> /dev/null
check "examples mark without --as is a usage error" test $? -eq 2
check "marks are audited with the person" test "$(sql "SELECT count(*) FROM audit WHERE action = 'message_label' AND requester = 'claire' AND outcome = 'done'")" -eq 2
$CTL examples export "$TMP/examples.tsv"
check "examples export writes the dev set's header" test "$(head -1 "$TMP/examples.tsv")" = "$(printf 'text\tintent\taudience')"
printf 'Bonjour,\\ncomment on fait pour la facture du stage ?\tsubmit_invoice\torganisme\n' > "$TMP/expected.tsv"
check "... one line a message: breaks written as a backslash and n, tabs as spaces" grep -qxF -f "$TMP/expected.tsv" "$TMP/examples.tsv"
check "... no audience written as -" grep -q "$(printf '\thuman_handoff\t-$')" "$TMP/examples.tsv"
check "... the header and the two marked messages only" test "$(wc -l < "$TMP/examples.tsv")" -eq 3
$CTL --data "$SRC" eval "$TMP/examples.tsv" > "$TMP/eval.out" 2>&1
check "... which dialogctl eval reads" grep -q "messages" "$TMP/eval.out"
$CTL examples mark "$thread" submit_expense_receipts --as paul > /dev/null
check "a second mark replaces the first" sh -c "[ \$($CTL examples export | grep -c 'submit_') -eq 1 ] && $CTL examples export | grep -q submit_expense_receipts"

echo "$passed passed, $failures failed"
test "$failures" -eq 0
