#!/bin/sh
# A complete local demonstration (README's first command): private mail servers on
# loopback (Dovecot + Postfix, tests/integration/mailservers.sh), dialogd reading their support
# mailbox and answering through them, one question sent and its answer shown, how to
# send your own, and the chat engine in the terminal. Runs until Ctrl-C; everything
# lives in /tmp/dialogd-demo and is stopped on exit.
#   tests/demo.sh          the demonstration (needs root for the mail servers: uses sudo)
#   tests/demo.sh --once   start, check one question is answered by mail, stop (for tests)
set -eu
if [ "$(id -u)" -ne 0 ]; then
	exec sudo DIALOGD_BUILDDIR="${DIALOGD_BUILDDIR:-}" "$0" "$@"
fi
srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=${DIALOGD_BUILDDIR:-$srcdir}
[ -n "$builddir" ] || builddir=$srcdir
once=no
[ "${1:-}" = "--once" ] && once=yes
. "$srcdir/tests/integration/mail-lib.sh"
[ -x "$dialogd" ] || { echo "demo: $dialogd is not built: ./autogen.sh && ./configure && make" >&2; exit 1; }

D=${DIALOGD_DEMO_DIR:-/tmp/dialogd-demo}
# A previous demonstration left running is stopped first.
[ -d "$D/s" ] && "$servers" stop "$D/s" > /dev/null 2>&1 || true
rm -rf "$D"
mkdir -p "$D"
stop_all() {
	mail_teardown
	echo "demo: stopped (its files stay in $D until the next run)"
}
trap stop_all EXIT
trap 'exit 0' INT TERM

echo "demo: starting private Dovecot and Postfix on 127.0.0.1 (in $D)…"
mail_setup "$D"
echo "demo: loading the fictional directory (tests/data/directory: companies, accounts, dossiers)…"
for table in companies accounts dossiers; do
	"$dialogctl" -c "$D/dialogd.conf" import "$table" "$srcdir/tests/data/directory/$table.csv" | sed 's/^/demo:   /'
done
start_dialogd
wait_until 15 grep -q "imap: connected" "$D/dialogd.log" || { cat "$D/dialogd.log"; exit 1; }
echo "demo: dialogd is reading $SUPPORT_ADDRESS (IMAP 127.0.0.1:$IMAP_PORT) and answering through SMTP 127.0.0.1:$SMTP_PORT"

cat > "$D/question.eml" <<EOF
From: Marie Durand <marie.durand@example.test>
To: $SUPPORT_ADDRESS
Subject: Mot de passe
Message-ID: <demo-question@example.test>
Content-Type: text/plain; charset=utf-8

Bonjour,

J'ai égaré mon mot de passe, comment faire pour me connecter ?

Cordialement,
Marie Durand
EOF
echo "demo: sending a first question as marie.durand@example.test…"
$tool --env "$D/env" send "$D/question.eml" > /dev/null
if ! $tool --env "$D/env" wait-count $catchall --at-least 1 --timeout 30 > /dev/null; then
	echo "demo: no answer arrived; dialogd's log:" >&2
	cat "$D/dialogd.log" >&2
	exit 1
fi
echo "demo: the answer, as read from Marie's mailbox over IMAP:"
echo "------------------------------------------------------------------------"
$tool --env "$D/env" dump $catchall | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    print("From: %s\nTo: %s\nSubject: %s\n\n%s" % (m["from"], m["to"], m["subject"], m["body"]))'
echo "------------------------------------------------------------------------"
[ "$once" = yes ] && exit 0

cat <<EOF

Send your own question (any sender address; every address but the support one lands
in the "catch-all" mailbox):
  swaks --server 127.0.0.1:$SMTP_PORT --from vous@example.test --to $SUPPORT_ADDRESS \\
        --header 'Subject: Numéro DECA' --body 'Où trouver le numéro DECA de mon contrat ?'
Read the answers (JSON, one mail per line):
  python3 $srcdir/tests/integration/mailtool.py --env $D/env dump $catchall
See what dialogd did:
  $dialogctl -c $D/dialogd.conf threads      (then: thread N, outbox, status, audit)
  tail -f $D/dialogd.log
The website chat widget: open http://127.0.0.1:$WEB_PORT/ in a browser (dialogd's home page
carries it; a site embeds it with <script src="http://127.0.0.1:$WEB_PORT/widget.js" defer></script>
once its origin is in [web] allowed_origins).
Account actions on the fictional directory (tests/data/directory), by mail or in the chat:
  "j'ai égaré mon mot de passe" from j.moreau@scierie-des-combes.example: the reset link
  arrives in the catch-all mailbox and opens the page dialogd serves on 127.0.0.1:$WEB_PORT;
  in the chat, "où en est le dossier AF-2023-018745 ?" then j.moreau@scierie-des-combes.example:
  the one-time code arrives in the catch-all mailbox (dump command above).
EOF
if [ -t 0 ]; then
	echo
	echo "The chat engine, in this terminal (Ctrl-D to leave the conversation):"
	"$dialogctl" -c "$D/dialogd.conf" chat || true
	echo
fi
echo "demo: the mail servers and dialogd keep running; Ctrl-C stops the demonstration."
while kill -0 "$pid" 2> /dev/null; do sleep 1; done
echo "demo: dialogd stopped; its log:" >&2
tail -20 "$D/dialogd.log" >&2
exit 1
