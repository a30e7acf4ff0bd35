#!/bin/sh
# The password reset page over HTTP, end to end: dialogd (no mail servers, no [imap] or
# [smtp]) listens on a free loopback port; tests/issue_token issues links as the e-mail
# channel does; curl checks the form, refusals that keep the link, the change, the spent
# and expired links, the security headers, 404/405/411/413/415, that the port is bound on
# 127.0.0.1 only, a second dialogd on the same port failing with the reason, [::1], that
# SIGHUP still reloads, and SIGTERM stopping with 0. Then Debian's Chromium fills the form
# (tests/browser/reset.mjs; skipped with a message without chromium or `npm ci` in
# tests/browser, or when DIALOGD_SKIP_SERVER_TESTS is set). Run by make check.
set -u
srcdir=${DIALOGD_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
builddir=${DIALOGD_BUILDDIR:-$srcdir}
dialogd="$builddir/daemon/dialogd"
dialogctl="$builddir/daemon/dialogctl"
issue="$builddir/tests/issue_token"
for tool in curl python3; do
	command -v $tool > /dev/null || { echo "SKIP: needs $tool (tests/install-deps.sh)"; exit 77; }
done
[ -x "$issue" ] || { echo "SKIP: $issue is not built (make check builds it)"; exit 77; }

D=$(mktemp -d /tmp/dialogd-web-XXXXXX)
failures=0
pid=
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2> /dev/null
	if [ "$failures" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$D"; else echo "(test folder kept: $D)"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ok() { echo "ok - $*"; }
not_ok() {
	echo "not ok - $*"
	failures=$((failures + 1))
}
check() { # check DESCRIPTION COMMAND...
	d=$1
	shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}
wait_until() { # wait_until SECONDS COMMAND...: polls every 0.1 s
	n=$(($1 * 10))
	shift
	until "$@"; do
		n=$((n - 1))
		[ "$n" -le 0 ] && return 1
		sleep 0.1
	done
}

cat > "$D/dialogd.conf" <<CONF
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
check "Content-Security-Policy: default-src 'none', inline style by hash only" header form \
	"content-security-policy: default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]*'; img-src data:; form-action 'self'; frame-ancestors 'none'"
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
check "a 10 KB URL is dropped by lws (headers over 8 KB), and dialogd goes on" \
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
