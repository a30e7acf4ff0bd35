#!/bin/sh
# Every sentence users read lives in templates/ (checked when the data loads): no string
# literal of daemon/ may look like French text (tests/checks/french_literals.py says how it
# judges, and lists the few exceptions with their reasons). The scanner is first shown to
# catch a sentence slipped into a copy of daemon/. Run by `make check` with
# DIALOGD_SRCDIR set.
set -u
SRC=${DIALOGD_SRCDIR:?}
TMP=$(mktemp -d /tmp/dialogd-french-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
. "$SRC/tests/check-lib.sh"

cp -r "$SRC/daemon" "$TMP/daemon"
printf '\nstatic const char *const slipped = "Votre demande a bien été reçue.";\n' >> "$TMP/daemon/mail/mail_channel.c"
printf 'static const char *const plain = "[message illisible : texte non valide]";\n' >> "$TMP/daemon/chat/chat_session.c"
python3 "$SRC/tests/checks/french_literals.py" "$TMP/daemon" > "$TMP/slipped.out" 2>&1
check "the scanner fails on French slipped into C" test $? -eq 1
n=$(wc -l < "$TMP/daemon/mail/mail_channel.c")
check "... naming the file and line of an accented sentence" \
	grep -q "daemon/mail/mail_channel.c:$n: French text in C: \"Votre demande a bien été reçue.\"" "$TMP/slipped.out"
n=$(wc -l < "$TMP/daemon/chat/chat_session.c")
check "... and of one without accents" grep -q "daemon/chat/chat_session.c:$n: French text in C" "$TMP/slipped.out"

python3 "$SRC/tests/checks/french_literals.py" "$SRC/daemon" > "$TMP/daemon.out" 2>&1
status=$?
check "no French text is built in daemon/" test $status -eq 0
[ $status -eq 0 ] || cat "$TMP/daemon.out"

echo "$passed passed, $failures failed"
[ "$failures" -eq 0 ]
