#!/bin/sh
# Slow HTTP clients on [web] listen (issue 14): dialogd (only [web] configured) with short
# head and body timeouts and a cap per address, against tests/integration/slow_clients.py
# (heads and bodies that never end are cut, the cap holds, 1,000 slow connections from 100
# loopback addresses leave a visitor's request its usual time). Run by make check.
set -u
srcdir=${DIALOGD_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${DIALOGD_BUILDDIR:-$srcdir}
D=$(mktemp -d /tmp/dialogd-slow-XXXXXX)
. "$srcdir/tests/check-lib.sh"
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2> /dev/null; rm -rf "$D"' EXIT
trap 'exit 1' INT TERM
cat > "$D/dialogd.conf" <<CONF
[daemon]
allow_root = yes
[paths]
data = $srcdir
[store]
path = $D/dialogd.sqlite
[smtp]
from = Dialoguer avec OCAPIAT <dialoguer@ocapiat.test>
[web]
listen = 127.0.0.1:0
header_timeout = 3
body_timeout = 3
connections_per_address = 20
CONF
# 1,000 slow connections and their three descriptors each: more than a default limit of
# 1024 open files allows (dialogd raises its own soft limit; the client needs the same).
ulimit -n 8192 2> /dev/null || ulimit -n "$(ulimit -Hn)"
"$builddir/daemon/dialogd" -c "$D/dialogd.conf" > "$D/dialogd.log" 2>&1 &
pid=$!
check "dialogd starts" wait_until 20 grep -q 'dialogd: ready' "$D/dialogd.log"
PORT=$(sed -n 's/.*web: listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$D/dialogd.log")
[ -n "$PORT" ] || { cat "$D/dialogd.log"; exit 1; }
if python3 "$srcdir/tests/integration/slow_clients.py" "$PORT"; then passed=$((passed + 1)); else failures=$((failures + 1)); fi
check "the refusals per address are logged, at most 20 a minute" sh -c \
	"n=\$(grep -c 'refused a connection from .* connections_per_address' '$D/dialogd.log'); [ \"\$n\" -ge 1 ] && [ \"\$n\" -le 21 ]"
check "dialogd is still serving" sh -c "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$PORT/ | grep -qx 200"
kill -TERM "$pid"
wait "$pid"
check "SIGTERM stops dialogd cleanly" test $? -eq 0
pid=
echo "$passed passed, $failures failed"
test "$failures" -eq 0
