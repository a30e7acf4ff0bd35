# Shared by the shell tests (sourced, POSIX sh): one "ok - …" or "not ok - …" line per
# check, counted in $passed and $failures, and a poller for what takes a moment.
passed=0
failures=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failures=$((failures + 1)); echo "not ok - $*"; }
check() { # check DESCRIPTION COMMAND...: passes when the command succeeds
	check_what=$1
	shift
	if "$@"; then ok "$check_what"; else not_ok "$check_what"; fi
}
# wait_until SECONDS COMMAND...: polls every 0.1 s until the command succeeds (0) or the
# seconds have passed on the wall clock (1), however long each try takes.
wait_until() {
	wait_end=$(($(date +%s) + $1))
	shift
	until "$@"; do
		[ "$(date +%s)" -ge "$wait_end" ] && return 1
		sleep 0.1
	done
}
