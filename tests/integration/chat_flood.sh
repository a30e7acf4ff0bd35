#!/bin/sh
# A flood from one client leaves a well-behaved client's answer latency in its normal
# range (tests/integration/chat_flood.py, with the RFC 6455 client
# tests/integration/wsclient.py): dialogd on a temporary store, 127.0.0.1 and a free
# port; the well-behaved client's latency alone, then during a flood of frames from
# several connections of one address. Run by make check (about 10 s).
set -u
srcdir=${DIALOGD_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${DIALOGD_BUILDDIR:-$srcdir}
command -v python3 > /dev/null || { echo "SKIP: needs python3 (tests/install-deps.sh)"; exit 77; }
D=$(mktemp -d /tmp/dialogd-chatflood-XXXXXX)
python3 "$srcdir/tests/integration/chat_flood.py" "$builddir/daemon/dialogd" "$srcdir" "$D"
rc=$?
if [ "$rc" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$D"; else echo "(test folder kept: $D)"; fi
exit $rc
