#!/bin/sh
# End-to-end tests of the e-mail channel against real servers: a private Dovecot and
# Postfix on loopback (tests/integration/mailservers.sh), dialogd reading the support mailbox and
# replying through Postfix, replies read back from the catch-all mailbox over IMAP.
#   1. every sample of tests/data/mail as its manifest expects (reply, escalation, nothing);
#   2. malformed and hostile mail: each answered or escalated, nothing lost, no crash;
#   3. SIGHUP reloads without dropping the connection; Dovecot restarted: reconnects;
#   4. the MTA stopped for a while: replies wait in the outbox and all arrive after;
#   5. kill -9 in the middle of a 300-message backlog: every question answered once.
# Needs root (Postfix and Dovecot) and their packages (tests/install-deps.sh); skipped
# (exit 77) otherwise, or when DIALOGD_SKIP_SERVER_TESTS is set (make distcheck).
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
expect="python3 $srcdir/tests/integration/mail_expect.py"
. "$srcdir/tests/integration/mail-lib.sh"

D=$(mktemp -d /tmp/dm.XXXXXX)
failures=0
cleanup() {
	mail_teardown
	if [ "$failures" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$D"; else echo "(test folder kept: $D)"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM


# The samples come from a handful of senders and domains: limits are tested in
# test_mail_channel.
mail_setup "$D" "burst_limit = 0
daily_limit = 0
domain_limit = 0
global_limit = 0
notify_limit = 0" || exit 1

# ---- 0. TLS: STARTTLS when offered, imaps://, and a certificate that is not trusted ----
start_dialogd
check "dialogd connects with STARTTLS and checks the certificate" \
	wait_until 10 grep -q "imap: connected to imap://127.0.0.1:$IMAP_PORT .*TLS, certificate verified" "$D/dialogd.log"
stop_dialogd
# A second configuration, its own store: the support INBOX is still empty here.
sed -e "s|^url = imap://127.0.0.1:$IMAP_PORT|url = imaps://127.0.0.1:$IMAPS_PORT|" \
	-e "s|^path = .*sqlite|path = $D/other.sqlite|" -e "s|^listen = .*|listen = 127.0.0.1:0|" \
	"$D/dialogd.conf" > "$D/imaps.conf"
"$dialogd" -c "$D/imaps.conf" > "$D/imaps.log" 2>&1 &
other=$!
check "imaps:// connects with a verified certificate" \
	wait_until 10 grep -q "imap: connected to imaps://127.0.0.1:$IMAPS_PORT .*TLS, certificate verified" "$D/imaps.log"
kill -TERM "$other"; wait "$other"
grep -v '^tls_ca_file' "$D/imaps.conf" > "$D/untrusted.conf"
"$dialogd" -c "$D/untrusted.conf" > "$D/untrusted.log" 2>&1 &
other=$!
check "a certificate from an unknown authority is refused before any password is sent" \
	wait_until 10 grep -q "imap: imaps://127.0.0.1:$IMAPS_PORT: the certificate of 127.0.0.1 is not trusted" "$D/untrusted.log"
check "dialogctl status shows why the mailbox is not read" \
	sh -c "$dialogctl -c $D/untrusted.conf status | grep -q 'imap   disconnected.*not trusted'"
kill -TERM "$other"; wait "$other"
# Two logins so far: the STARTTLS session and the imaps:// one.
check "Dovecot saw no login from the refused connection" \
	sh -c "[ \$(grep -c 'imap-login: Info: Login:' $DOVECOT_LOG) -eq 2 ]"

# ---- 1. the samples, as the manifest expects ----
start_dialogd
check "dialogd connects to the mailbox" wait_until 10 grep -q "imap: connected" "$D/dialogd.log"
samples="$srcdir/tests/data/mail"
$tool --env "$D/env" send "$samples"/a*.eml > "$D/send.out" 2>&1 || { cat "$D/send.out"; not_ok "samples sent"; }
n=$(ls "$samples"/a*.eml | wc -l)
check "all $n samples processed, outbox empty" wait_until 60 settled "$n"
sleep 1  # the last replies travel from Postfix to Dovecot
$tool --env "$D/env" dump $catchall > "$D/dump1.jsonl"
ctl threads --json > "$D/threads1.jsonl"
check "replies, escalations and silences as the manifest says" \
	$expect manifest "$samples/manifest.tsv" "$samples" "$srcdir" "$D/dump1.jsonl" "$D/threads1.jsonl"
check "processed mail is moved to Traités, flagged \\Seen" \
	sh -c "[ \"\$($tool --env $D/env count $support)\" -eq 0 ] &&
	       [ \"\$($tool --env $D/env count $support --mailbox Traités)\" -eq $n ] &&
	       ! $tool --env $D/env flags $support --mailbox Traités | grep -v Seen | grep -q ."
check "dialogctl status shows the mailbox connected" sh -c "$dialogctl -c $D/dialogd.conf status | grep -q 'imap   connected'"
tid=$(ctl threads --json --state escalated | head -1 | sed 's/.*"id":\([0-9]*\).*/\1/')
check "dialogctl thread shows an escalated thread" sh -c "$dialogctl -c $D/dialogd.conf thread $tid | grep -q 'escalated'"

# A follow-up in an escalated thread is attached for the correspondant, never answered.
esc_id=$(grep -il '^Message-ID:' "$samples/a07.eml" > /dev/null && sed -n 's/^[Mm]essage-[Ii][Dd]: *<\(.*\)>.*/\1/p' "$samples/a07.eml" | head -1)
before=$(catchall_count)
cat > "$D/followup.eml" <<EOF
From: Jeune Candidat <candidat.a07@example.test>
To: $SUPPORT_ADDRESS
Subject: Re: suite
Message-ID: <followup-a07@example.test>
In-Reply-To: <$esc_id>
References: <$esc_id>
Date: Mon, 6 Mar 2023 10:00:00 +0100
Content-Type: text/plain; charset=utf-8

Je n'arrive pas à me connecter, pouvez-vous m'aider ?
EOF
$tool --env "$D/env" send "$D/followup.eml" > /dev/null
wait_until 20 settled $((n)) && sleep 1.5
after=$(catchall_count)
check "a follow-up in an escalated thread gets no automatic reply (only the correspondants are told)" \
	sh -c "[ $after -eq $((before + 1)) ] && ! $tool --env $D/env dump $catchall | grep -q '\"in_reply_to\": \"<followup-a07'"

# ---- identifier reminder: the identifiers go to the address on file, the reply says nothing ----
for t in companies accounts dossiers; do ctl import $t "$srcdir/tests/data/directory/$t.csv" > /dev/null; done
before=$(catchall_count)
for who in j.moreau@scierie-des-combes.example nobody.known@example.test; do
	printf 'From: %s\nTo: %s\nSubject: Identifiant\nMessage-ID: <reminder-%s>\nContent-Type: text/plain; charset=utf-8\n\nBonjour, j%sai oublié mon identifiant de connexion.\n' \
		"$who" "$SUPPORT_ADDRESS" "$who" "'" > "$D/reminder.eml"
	$tool --env "$D/env" send "$D/reminder.eml" > /dev/null
done
check "identifier reminder: two replies and one reminder arrive" wait_until 20 at_least $((before + 3))
$tool --env "$D/env" dump $catchall > "$D/dump-reminder.jsonl"
check "the reminder goes to the address on file with the identifier" \
	sh -c "grep 'Rappel de votre identifiant' $D/dump-reminder.jsonl | grep -q 'JMOREAU01'"
check "the replies to a known and an unknown address are the same text" python3 -c "
import json
rows = [json.loads(l) for l in open('$D/dump-reminder.jsonl', encoding='utf-8')]
bodies = [r['body'] for r in rows if 'reminder-' in (r.get('in_reply_to') or '')]
assert len(bodies) == 2 and bodies[0] == bodies[1] and 'JMOREAU01' not in bodies[0], bodies
"
check "dialogctl audit shows both requests, and which one found an account" sh -c \
	"$dialogctl -c $D/dialogd.conf audit --json > $D/audit.jsonl &&
	 grep -q '\"requester\":\"j.moreau@scierie-des-combes.example\",\"action\":\"identifier_reminder\",\"subject\":\"JMOREAU01\",\"outcome\":\"identifiers sent' $D/audit.jsonl &&
	 grep -q '\"requester\":\"nobody.known@example.test\",.*\"outcome\":\"no account' $D/audit.jsonl"

# ---- dossier status: in the reply only for an account of the dossier's structures ----
before=$(catchall_count)
for who in j.moreau@scierie-des-combes.example stranger@example.test; do
	printf 'From: %s\nTo: %s\nSubject: Dossier\nMessage-ID: <status-%s>\nContent-Type: text/plain; charset=utf-8\n\nBonjour, où en est notre dossier n° AF-2023-018745 ?\n' \
		"$who" "$SUPPORT_ADDRESS" "$who" > "$D/status.eml"
	$tool --env "$D/env" send "$D/status.eml" > /dev/null
done
# Two replies, and the stranger's request sends the status to the two addresses on file.
check "dossier status: two replies and two mails to the addresses on file" wait_until 20 at_least $((before + 4))
$tool --env "$D/env" dump $catchall > "$D/dump-status.jsonl"
check "the account holder gets the state and the next step" python3 -c "
import json
rows = [json.loads(l) for l in open('$D/dump-status.jsonl', encoding='utf-8')]
mine = [r['body'] for r in rows if (r.get('in_reply_to') or '').startswith('<status-j.moreau')]
other = [r['body'] for r in rows if (r.get('in_reply_to') or '').startswith('<status-stranger')]
sent = [r for r in rows if 'tat de votre dossier OCAPIAT' in (r.get('subject') or '')]
assert len(mine) == 1 and 'est en attente de pi\u00e8ces' in mine[0], mine
assert len(other) == 1 and 'attente de pi' not in other[0] and 'adresse mail enregistr' in other[0], other
assert sorted(r['to'].lower() for r in sent)[-1].endswith('j.moreau@scierie-des-combes.example>') or len(sent) == 2, sent
"

# ---- password reset: the link goes to the address on file only, the reply says nothing ----
before=$(catchall_count)
for who in j.moreau@scierie-des-combes.example nobody.known@example.test; do
	printf 'From: %s\nTo: %s\nSubject: Mot de passe\nMessage-ID: <reset-%s>\nContent-Type: text/plain; charset=utf-8\n\nBonjour, j%sai égaré mon mot de passe, pouvez-vous m%saider ?\n' \
		"$who" "$SUPPORT_ADDRESS" "$who" "'" "'" > "$D/reset.eml"
	$tool --env "$D/env" send "$D/reset.eml" > /dev/null
done
check "password reset: two replies and one link arrive" wait_until 20 at_least $((before + 3))
$tool --env "$D/env" dump $catchall > "$D/dump-reset.jsonl"
check "the replies to a known and an unknown address are the same text; the link only to the address on file" python3 -c "
import json, re
rows = [json.loads(l) for l in open('$D/dump-reset.jsonl', encoding='utf-8')]
bodies = [r['body'] for r in rows if 'reset-' in (r.get('in_reply_to') or '')]
assert len(bodies) == 2 and bodies[0] == bodies[1] and 'jeton' not in bodies[0], bodies
assert 'toute premi\u00e8re connexion' in bodies[0]
links = [r for r in rows if 'nouveau mot de passe' in (r.get('subject') or '')]
assert len(links) == 1 and links[0]['to'].lower().endswith('j.moreau@scierie-des-combes.example>'), links
token = re.search(r'/reinitialisation\?jeton=([A-Za-z0-9_-]{43})', links[0]['body']).group(1)
open('$D/reset-token', 'w').write(token)
"
token=$(cat "$D/reset-token" 2>/dev/null || echo none)
check "the token is in no thread, no audit row, and the sent mail's text is gone from the outbox" python3 -c "
import sqlite3
db = sqlite3.connect('$D/dialogd.sqlite')
t = '$token'
assert len(t) == 43
assert db.execute('SELECT count(*) FROM messages WHERE instr(body, ?) > 0', (t,)).fetchone()[0] == 0
assert db.execute('SELECT count(*) FROM audit WHERE instr(coalesce(subject, \'\') || outcome, ?) > 0', (t,)).fetchone()[0] == 0
assert db.execute('SELECT count(*) FROM reset_tokens WHERE instr(token_hash, ?) > 0', (t,)).fetchone()[0] == 0
assert db.execute(\"SELECT count(*) FROM outbox WHERE kind = 'secret' AND (state <> 'sent' OR raw <> '')\").fetchone()[0] == 0
"
check "the token is not in dialogd's log" sh -c "! grep -q -- '$token' $D/dialogd.log"
# Whoever can read the state folder reads every byte of the store: the database, its
# write-ahead log and its index (half the token is enough to look for: a line break of
# the mail's encoding could split it).
check "once the link is sent, no store file (db, -wal, -shm) holds the token" python3 -c "
import os
t = '$token'
for suffix in ('', '-wal', '-shm'):
    path = '$D/dialogd.sqlite' + suffix
    data = open(path, 'rb').read() if os.path.exists(path) else b''
    assert t[:20].encode() not in data and t[-20:].encode() not in data, path
"
# The holder pastes the live link into a new mail asking for a person: the acknowledgement,
# the correspondants' notification, `dialogctl thread` and the store files have no trace.
before=$(catchall_count)
printf 'From: j.moreau@scierie-des-combes.example\nTo: %s\nSubject: Lien %s\nMessage-ID: <paste-link@example.test>\nContent-Type: text/plain; charset=utf-8\n\nBonjour, je voudrais parler à un conseiller : le lien http://127.0.0.1:%s/reinitialisation?jeton=%s ne s%souvre pas.\n' \
	"$SUPPORT_ADDRESS" "$token" "$WEB_PORT" "$token" "'" > "$D/paste.eml"
$tool --env "$D/env" send "$D/paste.eml" > /dev/null
check "a pasted link: the acknowledgement and the correspondants' notification arrive" \
	wait_until 20 at_least $((before + 2))
$tool --env "$D/env" dump $catchall > "$D/dump-paste.jsonl"
check "... neither carries the token; dialogctl thread and the store files do not either" python3 - \
	"$D/dump-paste.jsonl" "$token" "$D/dialogd.sqlite" "$dialogctl" "$D/dialogd.conf" <<'PY'
import json, os, subprocess, sys
dump, token, db, ctl, conf = sys.argv[1:6]
rows = [json.loads(l) for l in open(dump, encoding='utf-8')]
ack = [r for r in rows if (r.get('in_reply_to') or '').startswith('<paste-link')]
notice = [r for r in rows if 'correspondants' in r['to'] and 'ne s' in r['body'] and 'ouvre pas' in r['body']]
assert len(ack) == 1 and len(notice) == 1, (len(ack), len(notice))
for r in ack + notice:
    assert token[:20] not in r['body'] + (r.get('subject') or ''), r
threads = [json.loads(l) for l in subprocess.run([ctl, '-c', conf, 'threads', '--json'], capture_output=True,
                                                 text=True, check=True).stdout.splitlines()]
mine = [t for t in threads if t['requester'] == 'j.moreau@scierie-des-combes.example' and t['subject'].startswith('Lien')]
assert len(mine) == 1, mine
shown = subprocess.run([ctl, '-c', conf, 'thread', str(mine[0]['id'])], capture_output=True, text=True, check=True).stdout
assert 'ouvre pas' in shown and token[:20] not in shown and token[-20:] not in shown, shown
for suffix in ('', '-wal', '-shm'):
    path = db + suffix
    data = open(path, 'rb').read() if os.path.exists(path) else b''
    assert token[:20].encode() not in data and token[-20:].encode() not in data, path
PY
# The link, as the holder clicks it: the form, then the new password, then the link is spent.
link="http://127.0.0.1:$WEB_PORT/reinitialisation"
check "the mailed link opens the reset form on [web] listen" sh -c \
	"curl -s --max-time 10 '$link?jeton=$token' | grep -q 'name=\"mot_de_passe\"'"
check "a new password set through the link is accepted" sh -c \
	"curl -s --max-time 30 --data-urlencode 'jeton=$token' --data-urlencode 'mot_de_passe=Nouveau-secret-2026' \
	   --data-urlencode 'confirmation=Nouveau-secret-2026' '$link' | grep -q 'Votre mot de passe a été modifié'"
check "... and stored as an argon2id hash" python3 - "$D/dialogd.sqlite" <<'PY'
import sqlite3, sys
row = sqlite3.connect(sys.argv[1]).execute("SELECT hash FROM account_passwords WHERE identifier = 'JMOREAU01'").fetchone()
sys.exit(0 if row and row[0].startswith("$argon2id$") else 1)
PY
check "the link works once" sh -c "curl -s --max-time 10 '$link?jeton=$token' | grep -q 'plus valable'"
check "the password is in no log line" sh -c "! grep -q 'Nouveau-secret-2026' $D/dialogd.log"

# ---- 2. malformed and hostile mail ----
H="$D/hostile"
mkdir -p "$H"
cat > "$H/boundary.eml" <<'EOF'
From: Boundary <boundary@example.test>
To: dialoguer@ocapiat.test
Subject: mot de passe perdu
Message-ID: <hostile-boundary@example.test>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="\""

--"
Content-Type: text/plain

J'ai perdu mon mot de passe.
--"--
EOF
printf 'From: Charset <charset@example.test>\nTo: dialoguer@ocapiat.test\nSubject: =?x-unknown-42?q?mot_de_passe_oubli=E9?=\nMessage-ID: <hostile-charset@example.test>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=x-unknown-42\nContent-Transfer-Encoding: 8bit\n\nBonjour, j'"'"'ai oubli\351 mon mot de passe, comment le r\351initialiser ?\n' > "$H/charset.eml"
printf 'From: =?utf-8?q?Inval=FF=FEide?= <invalid@example.test>\nTo: dialoguer@ocapiat.test\nSubject: Facture \377\376 comment d\303\251poser une facture ?\nMessage-ID: <hostile-utf8@example.test>\nContent-Type: text/plain; charset=utf-8\n\nBonjour, comment d\303\251poser une facture \377 sur mon dossier ?\n' > "$H/utf8.eml"
cat > "$H/injection.eml" <<'EOF'
From: Injection <injection@example.test>
To: dialoguer@ocapiat.test
Subject: =?utf-8?q?mot_de_passe=0D=0ABcc:_victim@example.test=0D=0AX-Evil:_1?=
Message-ID: <hostile-injection@example.test>
Content-Type: text/plain; charset=utf-8

J'ai égaré mon mot de passe, comment faire ?
EOF
printf 'From: Escape <escape@example.test>\nTo: dialoguer@ocapiat.test\nSubject: RIB \033[31mrouge\nMessage-ID: <hostile-escape@example.test>\nContent-Type: text/plain; charset=utf-8\n\nComment modifier mon RIB ? \033]0;pwned\007 \302\233 fin\n' > "$H/escape.eml"
cat > "$H/broken.eml" <<'EOF'
From: Broken <broken@example.test>
To: dialoguer@ocapiat.test
Subject: RIB
Message-ID: <hostile-broken@example.test>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="abc"

--zzz
Content-Type: text/plain; charset=utf-8

Comment modifier mon RIB ?
EOF
python3 - "$H/huge.eml" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("From: Huge <huge@example.test>\nTo: dialoguer@ocapiat.test\nSubject: Pieces jointes\n"
            "Message-ID: <hostile-huge@example.test>\nMIME-Version: 1.0\n"
            "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nVoici mes pieces.\n"
            "--b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n")
    line = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\n"
    f.write(line * (20 * 1024 * 1024 // len(line)))
    f.write("--b--\n")
EOF
# 400 KB of unclosed tags: gumbo alone once took minutes and gigabytes on it.
python3 - "$H/nested.eml" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("From: Nested <nested@example.test>\nTo: dialoguer@ocapiat.test\nSubject: Connexion\n"
            "Message-ID: <hostile-nested@example.test>\nMIME-Version: 1.0\n"
            "Content-Type: text/html; charset=utf-8\n\n")
    for _ in range(400 * 1024 // 71):
        f.write("<div>" * 14 + "\n")
    f.write("Je n'arrive pas a me connecter a mon espace.\n")
EOF
before_threads=$(ctl threads --json | wc -l)
$tool --env "$D/env" send "$H"/*.eml > "$D/send2.out" 2>&1 || { cat "$D/send2.out"; not_ok "hostile mail sent"; }
nh=$(ls "$H"/*.eml | wc -l)
check "$nh malformed or hostile mails each processed" wait_until 60 settled $((before_threads + nh))
check "dialogd still running after hostile mail" kill -0 "$pid"
sleep 1.5
$tool --env "$D/env" dump $catchall > "$D/dump2.jsonl"
for h in boundary charset utf8 injection broken huge escape nested; do
	check "hostile $h: answered or escalated" grep -q "\"in_reply_to\": \"<\?hostile-$h@example.test>\?\"" "$D/dump2.jsonl"
done
check "header injection: the reply has no Bcc and no X-Evil header" \
	$expect headers "$D/dump2.jsonl" hostile-injection@example.test Bcc X-Evil
esc_thread=$(ctl threads --json | grep '"requester":"escape@example.test"' | sed 's/.*"id":\([0-9]*\).*/\1/')
check "dialogctl prints no terminal escape sequence from a mail" \
	sh -c "ctl_out=\$($dialogctl -c $D/dialogd.conf thread $esc_thread; $dialogctl -c $D/dialogd.conf threads);
	       echo \"\$ctl_out\" | grep -q 'Comment modifier mon RIB' && ! echo \"\$ctl_out\" | grep -q \"\$(printf '\\033')\""
check "the 20 MB message is escalated unread" sh -c "grep -q 'over the 10485760-byte limit' $D/dialogd.log"
check "the crashing MIME boundary is refused before parsing" sh -c "grep -q 'unsafe MIME boundary' $D/dialogd.log"

# ---- 3. SIGHUP reload, Dovecot restart ----
kill -HUP "$pid"
check "SIGHUP reloads the data" wait_until 10 grep -q "reload: done" "$D/dialogd.log"
check "the reload kept the IMAP connection" sh -c "! grep -q 'connection to .* lost' $D/dialogd.log"
"$servers" restart-imap "$S" > /dev/null 2>&1
check "dialogd reconnects after a Dovecot restart" wait_until 20 grep -q "imap: reconnected" "$D/dialogd.log"
base=$(ctl threads --json | wc -l)
$tool --env "$D/env" generate --count 3 --from-pattern 'after.restart{i}@example.test' \
	--body-file "$srcdir/tests/data/mail-questions.txt" --subject-pattern 'Après redémarrage {i}' > /dev/null
check "mail sent after the restart is answered" wait_until 30 settled $((base + 3))

# ---- 4. the MTA away for a while ----
"$servers" stop-mta "$S" > /dev/null 2>&1
stop_dialogd
# With the MTA down mail cannot come in by SMTP: it is put in the mailbox over IMAP.
for i in 1 2 3 4 5; do
	printf 'From: mta.down%s@example.test\nTo: %s\nSubject: RIB %s\nMessage-ID: <mta-down-%s@example.test>\nContent-Type: text/plain; charset=utf-8\n\nComment modifier mon RIB ?\n' \
		"$i" "$SUPPORT_ADDRESS" "$i" "$i" > "$D/down$i.eml"
done
$tool --env "$D/env" append $support "$D"/down*.eml > /dev/null
before=$(catchall_count)
start_dialogd
base=$(ctl threads --json | wc -l)
check "with the MTA down the mail is processed and the replies wait" \
	wait_until 30 sh -c "[ \$($dialogctl -c $D/dialogd.conf outbox --state pending | wc -l) -ge 5 ]"
check "dialogctl status shows SMTP unreachable" wait_until 10 sh -c "$dialogctl -c $D/dialogd.conf status | grep -q 'smtp   unreachable'"
sleep 2
"$servers" start-mta "$S" > /dev/null 2>&1
check "once the MTA is back every waiting reply arrives" wait_until 30 at_least $((before + 5))
check "nothing left pending" wait_until 10 outbox_empty

# ---- 5. kill -9 in the middle of a 300-message backlog ----
stop_dialogd
base=$(ctl threads --json | wc -l)
before=$(catchall_count)
$tool --env "$D/env" generate --count 300 --senders 300 --from-pattern 'backlog{i}@example.test' \
	--body-file "$srcdir/tests/data/mail-questions.txt" --subject-pattern 'Question {i}' --print-ids > "$D/ids.txt"
$tool --env "$D/env" wait-count $support --at-least 300 --timeout 60 > /dev/null
start_dialogd
wait_until 60 threads_at_least $((base + 100)) || true
kill -9 "$pid"
wait "$pid" 2> /dev/null
pid=
killed_at=$(ctl threads --json | wc -l)
echo "# killed with $((killed_at - base)) of 300 processed"
start_dialogd
check "after kill -9 and a restart all 300 are processed" wait_until 120 settled $((base + 300))
check "no thread twice" sh -c "[ \$($dialogctl -c $D/dialogd.conf threads --json | wc -l) -eq $((base + 300)) ]"
$tool --env "$D/env" wait-count $catchall --at-least $((before + 300)) --timeout 30 > /dev/null
sleep 1
$tool --env "$D/env" dump $catchall > "$D/dump5.jsonl"
check "every question of the backlog answered exactly once" $expect once "$D/ids.txt" "$D/dump5.jsonl" --allow-duplicates 1

# ---- replies refused for good: marked failed, the thread escalated, the correspondants told ----
stop_dialogd
cp "$D/dialogd.conf" "$D/dialogd.conf.saved"
python3 "$srcdir/tests/fakes/fake_smtp.py" "$D/fake.port" "$CORRESPONDANTS_ADDRESS" > "$D/fake.log" 2>&1 &
fake=$!
wait_until 5 test -s "$D/fake.port"
printf '[smtp]\nurl = smtp://127.0.0.1:%s\nmax_permanent_failures = 2\nretry_max = 1\n' "$(cat "$D/fake.port")" >> "$D/dialogd.conf"
printf 'From: nobody.here@example.test\nTo: %s\nSubject: RIB\nMessage-ID: <refused-1@example.test>\nContent-Type: text/plain; charset=utf-8\n\nComment modifier mon RIB ?\n' \
	"$SUPPORT_ADDRESS" > "$D/refused.eml"
$tool --env "$D/env" append $support "$D/refused.eml" > /dev/null
start_dialogd
check "a reply refused twice (5xx) is marked failed" \
	wait_until 30 sh -c "$dialogctl -c $D/dialogd.conf outbox --state failed | grep -q 'nobody.here@example.test.*550'"
check "its thread is escalated with the reason" \
	sh -c "$dialogctl -c $D/dialogd.conf threads --state escalated | grep -q 'could not be delivered'"
check "the correspondants are told (the notification is accepted)" \
	wait_until 10 grep -qi "accepted: $CORRESPONDANTS_ADDRESS: Subject: =?utf-8?q?\[Dialoguer_#" "$D/fake.log"
check "the mail goes out with CRLF line endings only (no CR doubled by curl)" \
	grep -q "line endings: [1-9][0-9]* lines, 0 not ending in a single CRLF" "$D/fake.log"
stop_dialogd
kill "$fake" 2> /dev/null
wait "$fake" 2> /dev/null
cp "$D/dialogd.conf.saved" "$D/dialogd.conf"
start_dialogd

# ---- done_action = keyword: processed mail stays in the mailbox, flagged ----
stop_dialogd
printf '[imap]\ndone_action = keyword\ndone_keyword = DialogdDone\n' >> "$D/dialogd.conf"
base=$(ctl threads --json | wc -l)
before=$(catchall_count)
$tool --env "$D/env" generate --count 2 --from-pattern 'keyword{i}@example.test' \
	--body-file "$srcdir/tests/data/mail-questions.txt" --subject-pattern 'Mot-clé {i}' > /dev/null
start_dialogd
check "keyword mode: both answered" wait_until 30 settled $((base + 2))
check "keyword mode: the messages stay in INBOX with \\Seen and the keyword" sh -c \
	"[ \$($tool --env $D/env flags $support | grep -c 'Seen.*DialogdDone\|DialogdDone.*Seen') -eq 2 ]"
stop_dialogd
lines=$(wc -l < "$D/dialogd.log")
start_dialogd
check "keyword mode: dialogd restarted on the same mailbox" \
	wait_until 10 sh -c "tail -n +$((lines + 1)) $D/dialogd.log | grep -q 'imap: connected'"
sleep 2  # time enough to answer anything it would wrongly take for new
check "keyword mode: two replies in all" sh -c "[ \$($tool --env $D/env count $catchall) -eq $((before + 2)) ]"

# ---- the remote directory: the same requests asked of the extranet's API ----
python3 "$srcdir/tests/fakes/fake_extranet.py" "$srcdir/tests/data/directory" --api-key extranet-test-key \
	> "$D/extranet.port" 2> "$D/extranet.log" &
extranet=$!
wait_until 10 sh -c "[ -s $D/extranet.port ]"
printf 'extranet-test-key\n' > "$D/api.key"
chmod 0600 "$D/api.key"  # dialogd refuses a key file others can read
stop_dialogd
printf '[directory]\nbackend = http\nurl = http://127.0.0.1:%s\napi_key_file = %s\ntimeout = 2\n' \
	"$(head -1 "$D/extranet.port")" "$D/api.key" >> "$D/dialogd.conf"
start_dialogd
check "dialogd names the remote directory when ready" grep -q "directory http://127.0.0.1:" "$D/dialogd.log"
before=$(catchall_count)
for who in audrey.lemaire@serres-lemaire.example someone.else@example.test; do
	printf 'From: %s\nTo: %s\nSubject: Mot de passe\nMessage-ID: <remote-reset-%s>\nContent-Type: text/plain; charset=utf-8\n\nBonjour, mot de passe perdu, merci de m%saider.\n' \
		"$who" "$SUPPORT_ADDRESS" "$who" "'" > "$D/remote.eml"
	$tool --env "$D/env" send "$D/remote.eml" > /dev/null
done
check "remote directory: both requesters answered" wait_until 20 at_least $((before + 2))
check "remote directory: the extranet was asked to send the holder's link, once" sh -c \
	"curl -s http://127.0.0.1:$(head -1 "$D/extranet.port")/_log | grep -o '/accounts/ALEMAIRE/password-reset' | wc -l | grep -qx 1"
$tool --env "$D/env" dump $catchall > "$D/dump-remote.jsonl"
check "remote directory: the two replies are the same text" python3 -c "
import json
rows = [json.loads(l) for l in open('$D/dump-remote.jsonl', encoding='utf-8')]
bodies = [r['body'] for r in rows if 'remote-reset-' in (r.get('in_reply_to') or '')]
assert len(bodies) == 2 and bodies[0] == bodies[1], bodies
"
# The API too slow: the writer is told a person will answer, nothing about the dossier.
curl -s -X POST "http://127.0.0.1:$(head -1 "$D/extranet.port")/_mode?name=slow&count=5&seconds=4" > /dev/null
before=$(catchall_count)
printf 'From: %s\nTo: %s\nSubject: Dossier\nMessage-ID: <remote-slow@example.test>\nContent-Type: text/plain; charset=utf-8\n\nBonjour, où en est notre dossier n° AF-2023-018745 ?\n' \
	j.moreau@scierie-des-combes.example "$SUPPORT_ADDRESS" > "$D/slow.eml"
$tool --env "$D/env" send "$D/slow.eml" > /dev/null
check "a slow directory API: acknowledgement and correspondants' notice, no status" wait_until 30 at_least $((before + 2))
$tool --env "$D/env" dump $catchall > "$D/dump-slow.jsonl"
check "... the acknowledgement says a person will answer, and nothing of the dossier" python3 -c "
import json
rows = [json.loads(l) for l in open('$D/dump-slow.jsonl', encoding='utf-8')]
ack = [r['body'] for r in rows if (r.get('in_reply_to') or '') == '<remote-slow@example.test>']
assert len(ack) == 1 and 'Nous ne pouvons pas traiter votre demande automatiquement' in ack[0], ack
assert 'attente de pi' not in ack[0]
"
check "... the thread is escalated with the reason (timed out)" sh -c \
	"$dialogctl -c $D/dialogd.conf threads --json | grep 'escalated' | grep -q 'timed out'"
curl -s -X POST "http://127.0.0.1:$(head -1 "$D/extranet.port")/_clear" > /dev/null  # the slow answers left over
check "dialogd --check: the directory API answers" sh -c \
	"$dialogd -c $D/dialogd.conf --check 2>&1 | grep -q 'check: the directory API at http://127.0.0.1:.* answers'"
kill "$extranet" 2> /dev/null
wait "$extranet" 2> /dev/null
check "dialogd --check: an API that is down is reported, exit 1" sh -c \
	"! $dialogd -c $D/dialogd.conf --check > $D/check.out 2>&1 && grep -q 'check: directory API: GET' $D/check.out"

# ---- SIGTERM: clean stop ----
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
check "SIGTERM stops dialogd cleanly (exit 0)" [ "$rc" -eq 0 ]
check "no error in the log" sh -c "! grep -E 'error:|Sanitizer|runtime error' $D/dialogd.log"

# ---- README's first command: the demonstration answers a question by mail ----
check "tests/demo.sh --once: a question sent by mail is answered" sh -c \
	"DIALOGD_DEMO_DIR=$D/demo DIALOGD_BUILDDIR=$builddir sh $srcdir/tests/demo.sh --once > $D/demo.out 2>&1 &&
	 grep -q 'Il contient un lien pour choisir un nouveau mot de passe' $D/demo.out"

echo "# $failures failure(s); log: $D/dialogd.log"
[ "$failures" -eq 0 ]
