#!/bin/sh
# How store-5-c03b9ab.sqlite was made (not run by the tests): a real store of schema
# version 5 written by dialogctl built from commit c03b9ab (main before the schema had
# migration steps). The directory through `dialogctl import`, a chat conversation (threads,
# messages, outbox, audit, chat_actions, wrong_codes) through `dialogctl chat`, then
# rows.sql for the tables nothing in dialogctl fills. Needs the sqlite3 shell.
# Usage: make-store-5.sh DIALOGCTL-OF-c03b9ab SOURCE-TREE OUTPUT
set -e
ctl=$1 src=$2 out=$3
dir=$(mktemp -d)
printf '[store]\npath = %s/store.sqlite\n[smtp]\nfrom = Dialoguer <dialoguer@ocapiat.test>\n' "$dir" > "$dir/d.conf"
for t in companies accounts dossiers; do
	"$ctl" -c "$dir/d.conf" import $t "$src/tests/data/directory/$t.csv"
done
printf 'Bonjour, où en est mon dossier AF-2023-018745 ?\nj.moreau@scierie-des-combes.example\n1234 5678\n' |
	"$ctl" -c "$dir/d.conf" --data "$src" chat > /dev/null
sqlite3 "$dir/store.sqlite" < "$src/tests/data/store/rows.sql"
sqlite3 "$dir/store.sqlite" 'PRAGMA wal_checkpoint(TRUNCATE);'
cp "$dir/store.sqlite" "$out"
rm -rf "$dir"
