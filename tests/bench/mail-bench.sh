#!/bin/sh
# End-to-end throughput of the e-mail channel: N questions (default 1000) are put in the
# support mailbox of private Dovecot/Postfix servers while dialogd is stopped; dialogd
# is started and the time until every reply is in the writers' mailbox (the catch-all)
# is measured. Prints messages per second and where the time went (dialogd's own batch
# summary: IMAP fetch, understanding + store, flag/move; SMTP sending). Needs root.
#   tests/bench/mail-bench.sh [N]        (or: make bench-mail)
set -eu
srcdir=${DIALOGD_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${DIALOGD_BUILDDIR:-$srcdir}
count=${1:-1000}
. "$srcdir/tests/integration/mail-lib.sh"
D=$(mktemp -d /tmp/db.XXXXXX)
trap 'mail_teardown; rm -rf "$D"' EXIT
trap 'exit 1' INT TERM
# Every question from its own sender of one domain: the limits per sender and domain are
# not what is measured.
mail_setup "$D" "domain_limit = 0
global_limit = 0
notify_limit = 0"
echo "== $count questions into the support mailbox"
$tool --env "$D/env" generate --count "$count" --senders "$count" --from-pattern 'bench{i}@example.test' \
	--body-file "$srcdir/tests/data/mail-questions.txt" --subject-pattern 'Question {i}' > /dev/null
$tool --env "$D/env" wait-count $support --at-least "$count" --timeout 120 > /dev/null
echo "== dialogd started: waiting for $count replies"
t0=$(date +%s.%N)
start_dialogd
$tool --env "$D/env" wait-count $catchall --at-least "$count" --timeout 600 > /dev/null
t1=$(date +%s.%N)
stop_dialogd
python3 - "$t0" "$t1" "$count" <<'PY'
import sys
t0, t1, n = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
print(f"end to end: {n} questions answered in {t1 - t0:.2f} s = {n / (t1 - t0):.0f} messages/s "
      f"(from dialogd's start to the last reply in the writers' mailbox)")
PY
echo "== where the time went (dialogd's log):"
grep -E "imap: [0-9]+ message\(s\) in|smtp: [0-9]+ mail\(s\) sent in|engine: .* loaded" "$D/dialogd.log" | sed 's/^/   /'
