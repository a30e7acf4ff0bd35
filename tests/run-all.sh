#!/bin/sh
# The whole test suite: a build with warnings as errors and `make check` (unit tests,
# command-line tests, the matcher's quality bar on the labelled sets, the e-mail channel
# against private Dovecot and Postfix servers), the same tests
# again under AddressSanitizer + UndefinedBehaviorSanitizer (LeakSanitizer included),
# and `make distcheck`. Ends with one "N passed, N failed" line.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
# The builds below are made in _build/ from this tree; automake refuses that while the
# tree itself is configured (README's first command builds in place): clean it first.
if [ -f config.status ]; then
	echo "== the source tree is configured in place: make distclean (builds go to _build/)"
	make distclean > /dev/null 2>&1 || true
fi
./autogen.sh > /dev/null 2>&1 || { echo "autogen.sh failed"; exit 1; }
passed=0
failed=0
status=0

# Adds the counts of a build folder's test-suite.log to the totals.
count() {
	p=$(sed -n 's/^# PASS: *//p' "$1/test-suite.log" | head -1)
	f=$(sed -n 's/^# FAIL: *//p' "$1/test-suite.log" | head -1)
	e=$(sed -n 's/^# ERROR: *//p' "$1/test-suite.log" | head -1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0} + ${e:-0}))
}

run_build() { # run_build NAME CONFIGURE-ARGS...
	name=$1; shift
	dir="$top/_build/$name"
	rm -rf "$dir" && mkdir -p "$dir" && cd "$dir" || exit 1
	echo "== $name: configure $*"
	if ! "$top/configure" --enable-werror "$@" > configure.out 2>&1; then
		cat configure.out; status=1; failed=$((failed + 1)); cd "$top"; return
	fi
	echo "== $name: make"
	if ! make -j2 > make.out 2>&1; then
		cat make.out; status=1; failed=$((failed + 1)); cd "$top"; return
	fi
	echo "== $name: make check"
	make -j2 check > check.out 2>&1 || status=1
	# No test-suite.log means a test program did not build: show why.
	[ -f test-suite.log ] || { tail -40 check.out; failed=$((failed + 1)); status=1; cd "$top"; return; }
	grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP):|^# ' check.out
	for log in tests/*.log tests/*/*.log; do
		case "$log" in *test-suite.log) continue ;; esac
		grep -qE '^(FAIL|ERROR)' "${log%.log}.trs" 2>/dev/null && { echo "--- $log"; cat "$log"; }
	done
	count "$dir"
	cd "$top"
}

run_build check
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
# The timing test measures time, not memory: the sanitizers' pass skips it (mail.sh runs
# the same code there).
DIALOGD_SKIP_TIMING=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	run_build sanitizers CFLAGS="-O1 -g $san" LDFLAGS="$san"

echo "== distcheck"
# The server tests already ran twice above; distcheck checks the tarball builds and passes.
if (cd "$top/_build/check" && make distcheck DIALOGD_SKIP_SERVER_TESTS=1 > distcheck.out 2>&1); then
	passed=$((passed + 1)); echo "PASS: make distcheck"
else
	tail -40 "$top/_build/check/distcheck.out"; failed=$((failed + 1)); status=1; echo "FAIL: make distcheck"
fi

echo "$passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
