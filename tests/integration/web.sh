#!/bin/sh
# The password reset page over HTTP, end to end: dialogd (no mail servers, no [imap] or
# [smtp]) listens on a free loopback port; tests/issue_token issues links as the e-mail
# channel does; curl checks the form, refusals that keep the link, the change, the spent
# and expired links, the security headers, 404/405/411/413/415, what the front refuses
# before libwebsockets parses it (raw sockets: whitespace before a colon, obs-fold, bare
# LF, Host, 431/414 at 8 KB, h2c and the HTTP/2 preface, CONNECT; each answer closed and
# with the headers of every page, after the replies before it), that the port is bound on
# 127.0.0.1 only, a second dialogd on the same port failing with the reason, [::1], that
# SIGHUP still reloads, and SIGTERM stopping with 0. Then Debian's Chromium fills the form
# (tests/browser/reset.mjs; skipped with a message without chromium or `npm ci` in
# tests/browser, or when DIALOGD_SKIP_SERVER_TESTS is set). Run by make check.
set -u
srcdir=${DIALOGD_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${DIALOGD_BUILDDIR:-$srcdir}
dialogd="$builddir/daemon/dialogd"
dialogctl="$builddir/daemon/dialogctl"
issue="$builddir/tests/integration/issue_token"
for tool in curl python3; do
	command -v $tool > /dev/null || { echo "SKIP: needs $tool (tests/install-deps.sh)"; exit 77; }
done
[ -x "$issue" ] || { echo "SKIP: $issue is not built (make check builds it)"; exit 77; }

D=$(mktemp -d /tmp/dialogd-web-XXXXXX)
. "$srcdir/tests/check-lib.sh"
pid=
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2> /dev/null
	if [ "$failures" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$D"; else echo "(test folder kept: $D)"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM


# allow_root: CI runs the tests as root (tests/integration/privileges.sh tests [daemon] user).
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
CONF
for table in companies accounts dossiers; do
	"$dialogctl" -c "$D/dialogd.conf" import "$table" "$srcdir/tests/data/directory/$table.csv" > /dev/null ||
		{ echo "not ok - import $table"; exit 1; }
done

"$dialogd" -c "$D/dialogd.conf" > "$D/dialogd.log" 2>&1 &
pid=$!
check "dialogd starts with only [web] configured" wait_until 20 grep -q 'dialogd: ready' "$D/dialogd.log"
PORT=$(sed -n 's/.*web: listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$D/dialogd.log")
check "the real port of [web] listen = 127.0.0.1:0 is logged" test -n "$PORT" -a "${PORT:-0}" -gt 0
[ -n "$PORT" ] || { cat "$D/dialogd.log"; exit 1; }
U="http://127.0.0.1:$PORT"
R="$U/reinitialisation"

# ---- bound on loopback only (lws 4.1 listened everywhere for "127.0.0.1", #2290) ----
if command -v ss > /dev/null; then
	ss -Hltn "sport = :$PORT" > "$D/ss.out"
	check "one listener on port $PORT, on 127.0.0.1 only" sh -c \
		"[ \$(wc -l < '$D/ss.out') -eq 1 ] && awk '{print \$4}' '$D/ss.out' | grep -qx '127.0.0.1:$PORT'"
else
	echo "# ss not found (iproute2): the listening address is not checked"
fi

# fetch NAME [CURL-ARGS...]: the headers in $D/NAME.h, the body in $D/NAME.html; prints the status.
fetch() {
	name=$1
	shift
	curl -s -D "$D/$name.h" -o "$D/$name.html" -w '%{http_code}' "$@"
}
has() { grep -q -- "$2" "$D/$1.html"; }
header() { tr -d '\r' < "$D/$1.h" | grep -qi -- "^$2"; }
post() { # post NAME TOKEN PASSWORD CONFIRMATION
	fetch "$1" --data-urlencode "jeton=$2" --data-urlencode "mot_de_passe=$3" --data-urlencode "confirmation=$4" "$R"
}
PASSWORD='Tracteur-Vert-2024'

# ---- a valid link: the form, as often as it is opened ----
T=$("$issue" "$D/dialogd.sqlite" JMOREAU01)
check "a token is issued" test "${#T}" -eq 43
check "GET with a valid token: 200" test "$(fetch form "$R?jeton=$T")" = 200
check "the form is French, with both fields and the rule" sh -c "grep -q '<html lang=\"fr\">' '$D/form.html' &&
	grep -q 'name=\"mot_de_passe\"' '$D/form.html' && grep -q 'name=\"confirmation\"' '$D/form.html' &&
	grep -q 'au moins 12&nbsp;caractères' '$D/form.html'"
check "the token is in the hidden field" has form "name=\"jeton\" value=\"$T\""
check "content-type is HTML in UTF-8" header form 'content-type: text/html; charset=utf-8'
check "Content-Security-Policy: default-src 'none', inline style by hash only, dialogd's own scripts" header form \
	"content-security-policy: default-src 'none'; script-src 'self'; style-src 'sha256-[A-Za-z0-9+/=]*' 'self'; connect-src 'self'; img-src data:; form-action 'self'; frame-ancestors 'none'"
check "Cache-Control: no-store" header form 'cache-control: no-store'
check "Referrer-Policy: no-referrer (the token is in the URL)" header form 'referrer-policy: no-referrer'
check "X-Frame-Options: DENY" header form 'x-frame-options: DENY'
check "X-Content-Type-Options: nosniff" header form 'x-content-type-options: nosniff'
check "a second GET (a mail scanner came first) still shows the form" sh -c \
	"[ \"\$(curl -s '$R?jeton=$T' | grep -c 'name=\"mot_de_passe\"')\" -eq 1 ]"

# ---- refusals keep the link ----
check "POST a weak password: 200" test "$(post weak "$T" court court)" = 200
check "the weak password is refused in French" has weak 'au moins 12 caractères'
check "two different passwords are refused" sh -c "[ \"\$(curl -s --data-urlencode 'jeton=$T' \
	--data-urlencode 'mot_de_passe=$PASSWORD' --data-urlencode 'confirmation=Autre-Chose-2024' '$R' |
	grep -c 'ne sont pas identiques')\" -eq 1 ]"
check "the link still shows the form after the refusals" sh -c "curl -s '$R?jeton=$T' | grep -q 'name=\"mot_de_passe\"'"

# ---- the change ----
check "POST a good password: 200" test "$(post changed "$T" "$PASSWORD" "$PASSWORD")" = 200
check "the success page says so" has changed 'Votre mot de passe a été modifié'
check "the stored hash is argon2id and verifies" python3 - "$D/dialogd.sqlite" "$PASSWORD" <<'PY'
import sqlite3, sys
row = sqlite3.connect(sys.argv[1]).execute("SELECT hash FROM account_passwords WHERE identifier = 'JMOREAU01'").fetchone()
sys.exit(0 if row and row[0].startswith("$argon2id$v=19$") else 1)
PY
status=$(post again "$T" "$PASSWORD" "$PASSWORD")
check "the same form again: the link is spent" sh -c "[ $status = 200 ] && grep -q 'plus valable' '$D/again.html'"
status=$(fetch spent "$R?jeton=$T")
check "GET the spent link: \"plus valable\", no form" sh -c "[ $status = 200 ] &&
	grep -q 'Ce lien n’est plus valable' '$D/spent.html' && ! grep -q '<form' '$D/spent.html'"
check "the spent page says how to get a new link" has spent 'mailto:dialoguer@ocapiat.test'

# ---- expired, unknown, hostile ----
E=$("$issue" "$D/dialogd.sqlite" ALEMAIRE 1)
sleep 2
check "an expired link (ttl 1 s): \"plus valable\"" sh -c "curl -s '$R?jeton=$E' | grep -q 'plus valable'"
check "no token at all: \"plus valable\"" sh -c "curl -s '$R' | grep -q 'plus valable'"
check "a token given twice: \"plus valable\"" sh -c "T2=\$('$issue' '$D/dialogd.sqlite' ALEMAIRE) &&
	curl -s \"$R?jeton=\$T2&jeton=\$T2\" | grep -q 'plus valable' && curl -s \"$R?jeton=\$T2\" | grep -q '<form'"
check "a hostile token is not echoed" sh -c "curl -s '$R?jeton=%3Cscript%3Ealert(1)%3C/script%3E' |
	grep -q 'plus valable' && ! curl -s '$R?jeton=%3Cscript%3Ealert(1)%3C/script%3E' | grep -q '<script>'"
LONG=$(head -c 10240 /dev/zero | tr '\0' a)
curl -s -o /dev/null "$R?jeton=$LONG"
check "after a 10 KB URL (refused: 414, below), dialogd goes on" \
	test "$(curl -s -o /dev/null -w '%{http_code}' "$U/")" = 200

# ---- the other routes and the refusals of HTTP ----
check "GET /: 200" test "$(fetch home "$U/")" = 200
check "GET /favicon.ico: 204" test "$(fetch favicon "$U/favicon.ico")" = 204
check "unknown path: 404" test "$(fetch missing "$U/wp-login.php")" = 404
check "the 404 page is French, with the security headers" sh -c "grep -q 'Page introuvable' '$D/missing.html' &&
	tr -d '\r' < '$D/missing.h' | grep -qi '^content-security-policy: default-src' &&
	tr -d '\r' < '$D/missing.h' | grep -qi '^x-frame-options: DENY'"
status=$(fetch put -X PUT --data x "$R")
check "PUT on the form: 405 with Allow: GET, POST" sh -c "[ $status = 405 ] && tr -d '\r' < '$D/put.h' | grep -qi '^allow: GET, POST$'"
check "DELETE /: 405" test "$(fetch delete -X DELETE "$U/")" = 405
check "HEAD: 405 without a body" sh -c "curl -s -I '$R' | head -1 | grep -q ' 405 '"
check "chunked POST: 411" test "$(fetch chunked -H 'Transfer-Encoding: chunked' --data x "$R")" = 411
head -c 9000 /dev/zero | tr '\0' a > "$D/big"
check "9 KB body: 413" test "$(fetch big --data-binary @"$D/big" "$R")" = 413
check "a body that is not a form: 415" test "$(fetch text -H 'Content-Type: text/plain' --data x "$R")" = 415
check "a bad %-escape in the form: 400" test "$(fetch badpct --data 'jeton=x&mot_de_passe=%zz' "$R")" = 400
check "an empty form: the link page" sh -c "curl -s -X POST -H 'Content-Type: application/x-www-form-urlencoded' \
	-H 'Content-Length: 0' '$R' | grep -q 'plus valable'"

# raw REQUEST: sends it as is (\r\n written out) and prints the status line.
raw() {
	python3 - "$PORT" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(sys.argv[2].replace("\\r\\n", "\r\n").encode())
data = b""
try:
    while b"\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
except OSError:
    pass
print(data.split(b"\r\n")[0].decode(errors="replace"))
PY
}
status=$(raw 'POST /reinitialisation HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\njeton=x')
check "POST without Content-Length: 411 at once" test "$status" = "HTTP/1.1 411 Length Required"
status=$(raw 'POST /reinitialisation HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999\r\n\r\n')
check "an enormous Content-Length: 413 at once" test "$status" = "HTTP/1.1 413 Request Entity Too Large"
status=$(raw 'POST /reinitialisation HTTP/1.1\r\nHost: t\r\nContent-Length: 5x\r\n\r\nabcde')
check "a Content-Length that is not a number: 400" test "$status" = "HTTP/1.1 400 Bad Request"
check "two requests on one connection (keep-alive)" sh -c "[ \"\$(curl -s -o /dev/null -o /dev/null \
	-w '%{http_code}%{num_connects} ' '$U/' '$U/favicon.ico')\" = '2001 2040 ' ]"

# ---- what the server refuses before libwebsockets parses it (RFC 9112) ----
# exchange NAME REQUEST: sends REQUEST on one connection (\r, \n and \t written out, \xNN
# for byte NN, {N*c} for N times c), keeps all the server sends in $D/NAME.raw until it
# closes the connection (or stays silent for 3 s), and prints the status lines it sent,
# joined by " + ", then "| closed" or "| open".
exchange() {
	python3 - "$PORT" "$1" "$D/$1.raw" "$2" <<'PY'
import re, socket, sys, time
port, name, out, request = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
request = re.sub(r"\{(\d+)\*(.)\}", lambda m: m.group(2) * int(m.group(1)), request)
request = re.sub(r"\\x([0-9a-f]{2})", lambda m: chr(int(m.group(1), 16)), request)
request = request.replace("\\r", "\r").replace("\\n", "\n").replace("\\t", "\t")
s = socket.create_connection(("127.0.0.1", port), timeout=3)
try:
    s.sendall(request.encode("latin-1"))
except OSError:
    pass  # the server may answer and close before it has read everything
data, state, start = b"", "open", time.monotonic()
while time.monotonic() - start < 10:
    try:
        chunk = s.recv(65536)
    except socket.timeout:
        break
    except OSError:  # a reset after the answer: closed all the same
        state = "closed"
        break
    if not chunk:
        state = "closed"
        break
    data += chunk
open(out, "wb").write(data)
lines = re.findall(rb"(?:^|\n)(HTTP/\d\.\d [^\r\n]*)", data)
print(" + ".join(l.decode(errors="replace") for l in lines) or "(nothing)", "|", state)
PY
}
# refused NAME STATUS-LINE DESCRIPTION REQUEST: the answer is STATUS-LINE alone, French,
# with the security headers of every page, and the connection is closed after it.
refused() {
	result=$(exchange "$1" "$4")
	raw_h() { tr -d '\r' < "$D/$1.raw" | sed '/^$/q' | grep -qi -- "^$2"; }
	if [ "$result" = "$2 | closed" ] && raw_h "$1" "content-security-policy: default-src 'none'" &&
		raw_h "$1" 'x-frame-options: DENY' && raw_h "$1" 'x-content-type-options: nosniff' &&
		raw_h "$1" 'referrer-policy: no-referrer' && raw_h "$1" 'cache-control: no-store' &&
		raw_h "$1" 'connection: close' && grep -q '<html lang="fr">' "$D/$1.raw"; then
		ok "$3"
	else
		not_ok "$3 (got: $result)"
	fi
}
G='GET / HTTP/1.1\r\nHost: t\r\n'
refused te_space 'HTTP/1.1 400 Bad Request' "'Transfer-Encoding : chunked' (space before the colon): 400, closed" \
	"${G}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\nGET /wp-login.php HTTP/1.1\r\nHost: t\r\n\r\n"
refused cl_space 'HTTP/1.1 400 Bad Request' "'Content-Length : 5' (space before the colon): 400, closed" \
	'POST /reinitialisation HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length : 5\r\n\r\njeton'
refused tab_colon 'HTTP/1.1 400 Bad Request' "a tab before the colon: 400, closed" "${G}Content-Length\t: 0\r\n\r\n"
refused name_space 'HTTP/1.1 400 Bad Request' "a space inside a header name: 400, closed" "${G}X Forwarded: 1\r\n\r\n"
refused obs_fold 'HTTP/1.1 400 Bad Request' "a folded header line (obs-fold): 400, closed" "${G}X-A: 1\r\n b\r\n\r\n"
refused bare_lf 'HTTP/1.1 400 Bad Request' "lines ending in a bare LF: 400, closed" 'GET / HTTP/1.1\nHost: t\n\n'
refused no_host 'HTTP/1.1 400 Bad Request' "HTTP/1.1 without Host: 400, closed" 'GET / HTTP/1.1\r\n\r\n'
refused two_hosts 'HTTP/1.1 400 Bad Request' "two Host headers: 400, closed" "${G}Host: u\r\n\r\n"
refused ctl_value 'HTTP/1.1 400 Bad Request' "a control character in a header value: 400, closed" "${G}X-A: a\x01b\r\n\r\n"
refused big_header 'HTTP/1.1 431 Request Header Fields Too Large' "a 9 KB header: 431, closed" \
	"${G}X-Big: {9216*a}\r\n\r\n"
refused many_fields 'HTTP/1.1 431 Request Header Fields Too Large' "65 header fields: 431, closed" \
	"${G}$(i=0; while [ $i -lt 64 ]; do printf 'X-F%d: 1\\r\\n' $i; i=$((i + 1)); done)\r\n"
refused long_url 'HTTP/1.1 414 Request URI too Long' "a 10 KB URL: 414, closed" \
	'GET /reinitialisation?jeton={10240*a} HTTP/1.1\r\nHost: t\r\n\r\n'
check "a 7 KB header is still answered" test "$(exchange header_7k "${G}Connection: close\r\nX-Big: {7168*a}\r\n\r\n")" = \
	'HTTP/1.1 200 OK | closed'
# 8192 bytes and 64 fields, both at the limit: what the front lets through fits in lws'
# header buffer. 25 bytes for the request line and Host, 61 * 11 for the Accept lines, 19
# for Connection, 7 + 7466 + 2 for X-Pad, 2 for the empty line.
fill=$(i=0; while [ $i -lt 61 ]; do printf 'Accept: x\\r\\n'; i=$((i + 1)); done)
check "a head of exactly 8 KB with 64 fields is still answered" test \
	"$(exchange header_8k "${G}${fill}Connection: close\r\nX-Pad: {7466*a}\r\n\r\n")" = 'HTTP/1.1 200 OK | closed'
refused h2c 'HTTP/1.1 400 Bad Request' "Upgrade: h2c is refused (no 101), closed" \
	"${G}Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n"
check "... and nothing in that answer switches protocols" sh -c "! grep -q '101 Switching' '$D/h2c.raw'"
refused preface 'HTTP/1.1 400 Bad Request' "the HTTP/2 preface (PRI * HTTP/2.0): 400, closed" \
	'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'
check "curl --http2 (h2c upgrade): 400 in HTTP/1.1" \
	test "$(curl -s -o /dev/null -w '%{http_code} %{http_version}' --http2 "$U/")" = '400 1.1'
check "curl --http2-prior-knowledge: no HTTP/2 answer" \
	test "$(curl -s -o /dev/null -w '%{http_version}' --http2-prior-knowledge "$U/")" != 2
refused connect 'HTTP/1.1 501 Not Implemented' "CONNECT: 501, closed (lws would turn the connection raw)" \
	'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n'
check "a valid request, then a malformed one on the same connection: 200, then 400, closed" \
	test "$(exchange pipelined "${G}\r\n${G}Transfer-Encoding : chunked\r\n\r\n")" = \
	'HTTP/1.1 200 OK + HTTP/1.1 400 Bad Request | closed'
exchange bad_path 'GET /%zz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' > "$D/bad_path.out"
check "lws' own refusal (403, a bad %-escape in the path) carries the CSP too" sh -c "grep -q '^HTTP/1.[01] 403' \
	'$D/bad_path.out' && tr -d '\\r' < '$D/bad_path.raw' | grep -qi \"^content-security-policy: default-src 'none'\""
check "a form POST and a GET in one packet: both answered, in order (the front follows Content-Length)" \
	test "$(exchange post_get 'POST /reinitialisation HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\njeton=xGET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')" = \
	'HTTP/1.1 200 OK + HTTP/1.1 200 OK | closed'
check "a request that comes one byte at a time is answered" python3 - "$PORT" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for b in b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n":
    s.send(bytes([b]))
    time.sleep(0.002)
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
sys.exit(0 if data.startswith(b"HTTP/1.1 200 OK\r\n") else 1)
PY
check "a client that half-closes after its request still gets the answer" python3 - "$PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
s.shutdown(socket.SHUT_WR)
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
sys.exit(0 if data.startswith(b"HTTP/1.1 200 OK\r\n") and data.endswith(b"</html>\n") else 1)
PY
check "the refusals are logged with their reason" grep -q 'web: refused a request from 127.0.0.1: .*before the colon (400)' "$D/dialogd.log"
A=$("$issue" "$D/dialogd.sqlite" ALEMAIRE)
check "after the refusals, GET of the reset page: 200 with the form" sh -c \
	"[ \"\$(curl -s -o '$D/after.html' -w '%{http_code}' '$R?jeton=$A')\" = 200 ] && grep -q 'name=\"mot_de_passe\"' '$D/after.html'"

# ---- nothing secret in the log or the audit ----
check "the log names the change, without token or password" sh -c "grep -q 'web: password reset: JMOREAU01: password changed' \
	'$D/dialogd.log' && ! grep -qF '$T' '$D/dialogd.log' && ! grep -qF '$PASSWORD' '$D/dialogd.log'"
"$dialogctl" -c "$D/dialogd.conf" audit > "$D/audit.out" 2>&1
check "the audit has the change, without token or password" sh -c "grep -q 'password_reset' '$D/audit.out' &&
	grep -q 'password changed' '$D/audit.out' && ! grep -qF '$T' '$D/audit.out' && ! grep -qF '$PASSWORD' '$D/audit.out'"

# ---- a second dialogd cannot take the port; a bad address ----
sed "s/^listen = .*/listen = 127.0.0.1:$PORT/" "$D/dialogd.conf" > "$D/busy.conf"
"$dialogd" -c "$D/busy.conf" > "$D/busy.log" 2>&1
check "a port already taken: exit 1" test $? -eq 1
check "... with the reason in the log" grep -q "web: cannot listen on 127.0.0.1:$PORT: Address already in use" "$D/busy.log"
sed "s/^listen = .*/listen = localhost:8080/" "$D/dialogd.conf" > "$D/name.conf"
"$dialogd" -c "$D/name.conf" > "$D/name.log" 2>&1
status=$?
check "[web] listen with a host name: exit 1 and why" sh -c "[ $status -eq 1 ] && grep -q 'is not a numeric IPv4 address' '$D/name.log'"

# ---- the web thread leaves SIGHUP to the main thread ----
kill -HUP "$pid"
check "SIGHUP still reloads the data" wait_until 20 grep -q 'reload: done' "$D/dialogd.log"
check "and the page still answers" test "$(curl -s -o /dev/null -w '%{http_code}' "$U/")" = 200

# ---- a real browser ----
browser_dir="$srcdir/tests/browser"
if [ -n "${DIALOGD_SKIP_SERVER_TESTS:-}" ]; then
	echo "# browser test skipped: DIALOGD_SKIP_SERVER_TESTS is set"
elif [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ] || ! command -v node > /dev/null ||
	[ ! -d "$browser_dir/node_modules/playwright-core" ]; then
	echo "# browser test skipped: needs ${CHROMIUM:-/usr/bin/chromium}, node and \`npm ci\` in tests/browser (tests/install-deps.sh)"
else
	B=$("$issue" "$D/dialogd.sqlite" ALEMAIRE)
	if node "$browser_dir/reset.mjs" "$R?jeton=$B" 'Serre-Chaude-2024' > "$D/browser.out" 2>&1; then
		cat "$D/browser.out"
	else
		cat "$D/browser.out"
		not_ok "the browser test"
	fi
fi

# ---- SIGTERM ----
kill -TERM "$pid"
wait "$pid"
check "SIGTERM: dialogd exits with 0" test $? -eq 0
pid=
check "... and says it stopped" grep -q 'dialogd: stopped' "$D/dialogd.log"

# ---- [::1] (when the machine has IPv6 loopback) ----
if python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2> /dev/null; then
	sed "s/^listen = .*/listen = [::1]:0/" "$D/dialogd.conf" > "$D/v6.conf"
	"$dialogd" -c "$D/v6.conf" > "$D/v6.log" 2>&1 &
	pid=$!
	wait_until 20 grep -q 'dialogd: ready' "$D/v6.log"
	P6=$(sed -n 's/.*web: listening on \[::1\]:\([0-9]*\) .*/\1/p' "$D/v6.log")
	check "[web] listen = [::1]:0 listens (port ${P6:-none})" test -n "$P6"
	check "... and answers over IPv6" test "$(curl -s -g -o /dev/null -w '%{http_code}' "http://[::1]:${P6:-1}/")" = 200
	if command -v ss > /dev/null; then
		check "... on [::1] only" sh -c "[ \$(ss -Hltn 'sport = :${P6:-1}' | wc -l) -eq 1 ] &&
			ss -Hltn 'sport = :${P6:-1}' | awk '{print \$4}' | grep -qx '\[::1\]:${P6:-1}'"
	fi
	kill -TERM "$pid"
	wait "$pid"
	check "... and stops with 0" test $? -eq 0
	pid=
else
	echo "# no IPv6 loopback here: [::1] not tested"
fi

[ "$failures" -eq 0 ] || { echo "$failures failed; dialogd's log:"; cat "$D/dialogd.log"; }
[ "$failures" -eq 0 ]
