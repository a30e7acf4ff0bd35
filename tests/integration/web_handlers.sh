#!/bin/sh
# The web server's handlers (web_settings.handlers: how the console's pages are served),
# over HTTP with curl against tests/integration/web_handler (a handler on /essai/ that
# writes back what it was given): GET with decoded arguments, an argument given twice,
# the Cookie and Origin headers, HEAD, a form POST read whole (also one byte over the
# reset page's limit), 415 for a POST that is not a form, 411 without a length, 413 past
# WEB_FORM_MAX, 405 for PUT, a 303 with Location and Set-Cookie, "/essai" without its
# slash, and a path beside the prefix staying a 404. Run by make check.
set -u
srcdir=${DIALOGD_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${DIALOGD_BUILDDIR:-$srcdir}
helper="$builddir/tests/integration/web_handler"
command -v curl > /dev/null || { echo "SKIP: needs curl (tests/install-deps.sh)"; exit 77; }
[ -x "$helper" ] || { echo "SKIP: $helper is not built (make check builds it)"; exit 77; }
D=$(mktemp -d /tmp/dialogd-handlers-XXXXXX)
. "$srcdir/tests/check-lib.sh"
"$helper" "$srcdir" "$D/store.sqlite" 2> "$D/log" &
pid=$!
i=0
while ! grep -q "listening on" "$D/log" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$D/log")
[ -n "$port" ] || { cat "$D/log"; kill "$pid"; exit 1; }
U="http://127.0.0.1:$port"

get() { curl -s -o "$D/body" -D "$D/head" "$@"; tr -d '\r' < "$D/head" > "$D/h"; }
has() { grep -qxF -- "$1" "$D/body"; }
head_has() { grep -qi -- "$1" "$D/h"; }

get "$U/essai/fil/12?q=caf%C3%A9%20cr%C3%A8me&vue=toutes" -H 'Cookie: autre=1; jeton=s3cr3t; x=y' -H 'Origin: https://console.test'
check "GET: the handler gets the path without the query" has "path=/essai/fil/12"
check "... the arguments decoded" has "q=café crème"
check "... each of them" has "arg=vue=toutes"
check "... the cookie named among others" has "cookie jeton=s3cr3t"
check "... Origin" has "origin=https://console.test"
check "... the client's address and the web thread's store" sh -c "grep -qx 'client=127.0.0.1' '$D/body' && grep -qx 'store=yes' '$D/body'"
check "... the handler's content type, and the headers of every reply" sh -c "grep -qi '^content-type: text/plain; charset=utf-8' '$D/h' && grep -qi '^x-content-type-options: nosniff' '$D/h' && grep -qi '^cache-control: no-store' '$D/h'"
get "$U/essai/?q=1&q=2"
check "an argument given twice is no argument" has "q=(none)"
get "$U/essai/"
check "no Cookie, no Origin" sh -c "grep -qx 'cookie jeton=(none)' '$D/body' && grep -qx 'origin=(none)' '$D/body'"
get -I "$U/essai/"
check "HEAD: 200, no body" sh -c "head -1 '$D/h' | grep -q ' 200' && ! grep -q 'method=' '$D/body'"
big=$(head -c 9000 /dev/zero | tr '\0' 'a')
get -X POST "$U/essai/action" --data-urlencode "reponse=Bonjour & merci" --data "suite=$big"
check "POST: the form is read whole (over the reset page's 8 KB)" sh -c "grep -q '^body=reponse=Bonjour+%26+merci&suite=aaaa' '$D/body' && grep -qx 'body_len=9032' '$D/body'"
check "... as a POST" has "method=POST"
get -X POST "$U/essai/action" -H 'Content-Type: application/json' --data '{"a":1}'
check "POST of something else than a form: 415" sh -c "head -1 '$D/h' | grep -q ' 415'"
get -X POST "$U/essai/action" -H 'Content-Type: application/x-www-form-urlencoded' -H 'Transfer-Encoding: chunked' --data 'a=1'
check "POST without a length: refused (411)" sh -c "head -1 '$D/h' | grep -q ' 411'"
head -c 300000 /dev/zero | tr '\0' 'a' > "$D/huge"
get -X POST "$U/essai/action" -H 'Content-Type: application/x-www-form-urlencoded' --data-binary "@$D/huge"
check "POST past WEB_FORM_MAX (256 KiB): 413" sh -c "head -1 '$D/h' | grep -q ' 413'"
get -X PUT "$U/essai/action" --data 'a=1'
check "PUT: 405, Allow: GET, POST" sh -c "head -1 '$D/h' | grep -q ' 405' && grep -qi '^allow: GET, POST' '$D/h'"
get "$U/essai/redirection"
check "303 with Location and Set-Cookie" sh -c "head -1 '$D/h' | grep -q ' 303' && grep -qi '^location: /essai/\$' '$D/h' && grep -qi '^set-cookie: jeton=abc; Path=/essai/; HttpOnly; SameSite=Strict\$' '$D/h'"
get "$U/essai"
check "the prefix without its slash is the handler's" has "path=/essai"
get "$U/essais"
check "a path beside the prefix is not the handler's (404)" sh -c "head -1 '$D/h' | grep -q ' 404'"
get "$U/widget.js"
check "the widget's files are still served" sh -c "head -1 '$D/h' | grep -q ' 200' && grep -q 'persistence' '$D/body'"

kill "$pid"
wait "$pid"
check "stops on SIGTERM with 0" test $? -eq 0
echo "# $passed passed, $failures failed"
if [ "$failures" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$D"; else echo "(test folder kept: $D)"; fi
[ "$failures" -eq 0 ]
