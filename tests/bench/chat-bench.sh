#!/bin/sh
# The website chat under load, dialogd against its peer (a benchmark, not a test: it
# asserts nothing). Phase A: CLIENTS (1,000) WebSocket clients each ask a question a
# second for DURATION (60) s. Phase B: IDLE (10,000) connections that only said hello,
# and one client asking B_RATE (10) questions a second. Each phase against a fresh
# dialogd (temporary store and config, log in the folder), then against the peer that a
# small team would otherwise write (tests/bench/peer: Node ws + nlp.js), the same
# questions (the first column of tests/eval/setD.tsv). The server runs on CPU 0, the load
# generator (tests/bench/bench_chat) on CPU 1, for both. Prints a table with the ratios.
#   make bench-chat        (or DURATION=10 CLIENTS=200 IDLE=2000 PHASES=A PEER= make bench-chat)
set -eu
srcdir=${DIALOGD_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${DIALOGD_BUILDDIR:-$srcdir}
DURATION=${DURATION:-60}
CLIENTS=${CLIENTS:-1000}
IDLE=${IDLE:-10000}
B_RATE=${B_RATE:-10}
PHASES=${PHASES:-A B}   # for quick runs: PHASES=A
PEER=${PEER-yes}        # PEER= : dialogd alone
ORIGIN=http://127.0.0.1:8081
bench="$builddir/tests/bench/bench_chat"
questions="$srcdir/tests/eval/setD.tsv"
[ -x "$bench" ] || { echo "chat-bench: $bench is not built (make bench-chat builds it)"; exit 1; }
D=$(mktemp -d /tmp/dialogd-chatbench-XXXXXX)
server_pid=
cleanup() {
	if [ -n "$server_pid" ]; then kill "$server_pid" 2> /dev/null || true; fi
	if [ -z "${KEEP:-}" ]; then rm -rf "$D"; else echo "(folder kept: $D)"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Every connection is a descriptor here and three in dialogd (README "The reset page"):
# the limit raised for this shell, so for both servers and the generator. Raising the
# hard limit needs CAP_SYS_RESOURCE, which a container may not give even to root.
want=$(( (CLIENTS + IDLE) * 3 + 1024 ))
[ "$(ulimit -H -n)" = unlimited ] || [ "$(ulimit -H -n)" -ge "$want" ] || ulimit -H -n "$want" 2> /dev/null || true
ulimit -n "$(ulimit -H -n)" 2> /dev/null || true
echo "== open files allowed: $(ulimit -n) (dialogd needs $want for $((CLIENTS + IDLE)) connections)"
pin_server="" pin_bench=""
if command -v taskset > /dev/null && [ "$(nproc)" -ge 2 ]; then
	pin_server="taskset -c 0" pin_bench="taskset -c 1"
else
	echo "(not pinned: needs taskset and two CPUs)"
fi

cat > "$D/dialogd.conf" <<EOF
[daemon]
allow_root = yes
[paths]
data = $srcdir
[store]
path = $D/dialogd.sqlite
[web]
listen = 127.0.0.1:0
public_url = $ORIGIN
allowed_origins = $ORIGIN
connections_per_address = 1000000
[chat]
messages_per_minute = 0
address_messages_per_minute = 0
connections_per_address = 0
EOF

# Sets server_pid and port; $1: what, $2: log file, then the command.
start_server() {
	what=$1 log=$2
	shift 2
	"$@" > "$log" 2>&1 &
	server_pid=$!
	port=
	for _ in $(seq 1 300); do
		port=$(sed -n 's/.*\(listening on\) 127\.0\.0\.1:\([0-9]*\).*/\2/p' "$log" | head -1)
		if [ -n "$port" ] && { [ "$what" != dialogd ] || grep -q "dialogd: ready" "$log"; }; then
			return 0
		fi
		kill -0 "$server_pid" 2> /dev/null || break
		sleep 0.1
	done
	echo "chat-bench: $what did not start:"
	cat "$log"
	exit 1
}

stop_server() {
	kill "$server_pid" 2> /dev/null || true
	wait "$server_pid" 2> /dev/null || true
	server_pid=
}

# $1: server name, $2: phase, then bench_chat's options; output in $D/$1-$2.txt.
run_phase() {
	name=$1 phase=$2
	shift 2
	echo "== $name, phase $phase: $*"
	$pin_bench "$bench" "$@" --pid "$server_pid" 127.0.0.1 "$port" "$ORIGIN" "$questions" > "$D/$name-$phase.txt"
	sed 's/^/   /' "$D/$name-$phase.txt"
}

phase_a="--clients $CLIENTS --rate 1 --duration $DURATION"
phase_b="--clients 1 --rate $B_RATE --idle $IDLE --duration $DURATION"

for phase in $PHASES; do
	if [ "$phase" = A ]; then opts=$phase_a; else opts=$phase_b; fi
	rm -f "$D/dialogd.sqlite"*
	start_server dialogd "$D/dialogd-$phase.log" $pin_server "$builddir/daemon/dialogd" -c "$D/dialogd.conf"
	# shellcheck disable=SC2086
	run_phase dialogd "$phase" $opts
	stop_server
done

# The peer: a copy of tests/bench/peer with its locked packages, trained as
# shared/peer/nlpjs does when the shared folder is there, else on the repo's sets.
peer=yes
if [ -z "$PEER" ]; then
	peer=
elif ! command -v node > /dev/null || ! command -v npm > /dev/null; then
	echo "(no peer: needs node and npm)"
	peer=
else
	mkdir "$D/peer"
	cp "$srcdir/tests/bench/peer/package.json" "$srcdir/tests/bench/peer/package-lock.json" \
		"$srcdir/tests/bench/peer/server.js" "$D/peer/"
	echo "== npm ci (the peer)"
	if ! (cd "$D/peer" && npm ci --no-audit --no-fund --loglevel=error > "$D/npm.log" 2>&1); then
		cat "$D/npm.log"
		echo "(no peer: npm ci failed)"
		peer=
	fi
fi
if [ -n "$peer" ]; then
	shared="$srcdir/../shared"
	if [ -f "$shared/spec/intents.tsv" ] && [ -f "$shared/eval/dev.tsv" ]; then
		training="--intents $shared/spec/intents.tsv --train $shared/eval/dev.tsv"
	else
		training="--train $srcdir/tests/eval/setC.tsv --train $srcdir/tests/eval/setD.tsv"
	fi
	for phase in $PHASES; do
		if [ "$phase" = A ]; then opts=$phase_a; else opts=$phase_b; fi
		start_server peer "$D/peer-$phase.log" $pin_server node "$D/peer/server.js" --port 0 --origin "$ORIGIN" \
			--faq "$srcdir/faq-data" $training
		# shellcheck disable=SC2086
		run_phase peer "$phase" $opts
		stop_server
	done
fi

echo "== dialogd's warnings and refusals (its log)"
cat "$D"/dialogd-*.log | grep -E "warning|error|refused|failed" | grep -v "allow_root" | \
	sed 's/^[^ ]* //' | sort | uniq -c | sort -rn | head -10 | sed 's/^/   /' || true

# The table: each figure of both, the ratio, and who is ahead (lower is better for
# latencies, memory and errors; higher for answers and connections held).
awk -v dir="$D" -v peer="$peer" -v clients="$CLIENTS" -v idle="$IDLE" '
function load(file, tag,    line, n, i, kv) {
	while ((getline line < file) > 0) {
		if (line ~ /^#/) continue
		n = split(line, kv, " ")
		for (i = 1; i <= n; i++) { split(kv[i], p, "="); v[tag, p[1]] = p[2] }
	}
	close(file)
}
function row(label, tag, key, better,    a, b, ratio, ahead) {
	a = v["dialogd" tag, key]; b = (peer != "") ? v["peer" tag, key] : ""
	ratio = "-"; ahead = "-"
	if (b != "" && a != "") {
		if (a + 0 != 0) ratio = sprintf("%.2f", b / a)
		if (a + 0 == b + 0 || (key == "answers_per_s" && (a - b) * (a - b) < (0.01 * b) * (0.01 * b))) ahead = "even"
		else if ((better == "low") == (a + 0 < b + 0)) ahead = "dialogd"
		else ahead = "peer"
	}
	printf "%-44s %12s %12s %10s %9s\n", label, a, (b == "" ? "-" : b), ratio, ahead
}
BEGIN {
	load(dir "/dialogd-A.txt", "dialogdA"); load(dir "/dialogd-B.txt", "dialogdB")
	if (peer != "") { load(dir "/peer-A.txt", "peerA"); load(dir "/peer-B.txt", "peerB") }
	printf "\n%-44s %12s %12s %10s %9s\n", "figure", "dialogd", "peer", "peer/ours", "ahead"
	t = "A: " clients " clients x 1 q/s"
	row(t ", answers/s", "A", "answers_per_s", "high")
	row(t ", p50 ms", "A", "p50_ms", "low")
	row(t ", p99 ms", "A", "p99_ms", "low")
	row(t ", max ms", "A", "max_ms", "low")
	row(t ", errors", "A", "errors", "low")
	row(t ", server RSS peak MB", "A", "rss_max_mb", "low")
	row(t ", server CPU %", "A", "server_cpu_pct", "low")
	t = "B: " idle " idle + 1 active"
	row(t ", connections held", "B", "held", "high")
	row(t ", errors", "B", "errors", "low")
	row(t ", server RSS MB", "B", "rss_mb", "low")
	row(t ", active p50 ms", "B", "p50_ms", "low")
	row(t ", active p99 ms", "B", "p99_ms", "low")
}' < /dev/null
