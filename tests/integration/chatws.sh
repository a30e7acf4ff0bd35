#!/bin/sh
# The website chat's WebSocket end to end (tests/integration/chatws_flow.py, with the RFC 6455
# client tests/integration/wsclient.py): dialogd on a temporary store, 127.0.0.1 and a free
# port; a FAQ question, a client id sent twice, a reconnection with last_seq, a
# correspondant's reply live (tests/integration/person_reply), kill -9 and a restart, the
# refused upgrades, the hostile frames and the limits. Run by make check.
set -u
srcdir=${DIALOGD_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${DIALOGD_BUILDDIR:-$srcdir}
command -v python3 > /dev/null || { echo "SKIP: needs python3 (tests/install-deps.sh)"; exit 77; }
person="$builddir/tests/integration/person_reply"
[ -x "$person" ] || { echo "SKIP: $person is not built (make check builds it)"; exit 77; }
D=$(mktemp -d /tmp/dialogd-chatws-XXXXXX)
python3 "$srcdir/tests/integration/chatws_flow.py" "$builddir/daemon/dialogd" "$person" "$srcdir" "$D"
rc=$?
if [ "$rc" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$D"; else echo "(test folder kept: $D)"; fi
exit $rc
