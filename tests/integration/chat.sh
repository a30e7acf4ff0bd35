#!/bin/sh
# The chat's account actions through `dialogctl chat` on a store holding the fictional
# directory (tests/data/directory): one-time code for a dossier's status, identical
# replies, attempts, reset and reminder, hostile input (tests/integration/chat_flow.py). No server
# needed: the mails wait in the outbox, where the test reads the code. Run by make check.
set -u
SRC=${DIALOGD_SRCDIR:?}
BUILD=${DIALOGD_BUILDDIR:?}
TMP=$(mktemp -d /tmp/dialogd-chat-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
cat > "$TMP/dialogd.conf" <<CONF
[store]
path = $TMP/store.sqlite
[web]
public_url = https://assistance.ocapiat.test
CONF
for table in companies accounts dossiers; do
	"$BUILD/daemon/dialogctl" -c "$TMP/dialogd.conf" import "$table" "$SRC/tests/data/directory/$table.csv" >/dev/null ||
		{ echo "not ok - import $table"; exit 1; }
done
exec python3 "$SRC/tests/integration/chat_flow.py" "$BUILD/daemon/dialogctl" "$SRC" "$TMP"
