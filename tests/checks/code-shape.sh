#!/bin/sh
# The shape of daemon/: no .c file over 800 lines, no function over 80, counted from the
# line of its name to its closing brace; every header of a layer says which threads may
# call it. The files and functions that broke the rule when
# it came are listed in tests/checks/code-shape.allow; any other offender fails, and so does an
# entry of that list that no longer offends, so that the list can only shrink.
# Run by `make check` with DIALOGD_SRCDIR set (or from the source folder).
set -u
SRC=${DIALOGD_SRCDIR:-.}
ALLOW="$SRC/tests/checks/code-shape.allow"
MAX_FILE_LINES=800
MAX_FUNCTION_LINES=80
TMP=$(mktemp -d /tmp/dialogd-shape-XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# One "FILE LINES" or "FILE:FUNCTION LINES" line per offender, FILE relative to $SRC.
# A function body opens with "{" alone at column 0 and closes with "}" at column 0 (the
# house style); its name line is the last line at column 0 holding "(" since the
# declaration before it ended.
(cd "$SRC" && awk -v max_file="$MAX_FILE_LINES" -v max_function="$MAX_FUNCTION_LINES" '
function end_file() {
	if (file != "" && last_line > max_file)
		print file " " last_line
}
FNR == 1 { end_file(); file = FILENAME; name_line = 0; in_body = 0 }
{ last_line = FNR }
in_body {
	if ($0 ~ /^[}]/) {
		if (FNR - name_line + 1 > max_function)
			print FILENAME ":" name " " (FNR - name_line + 1)
		in_body = 0
		name_line = 0
	}
	next
}
/^[{]/ {
	if (name_line)
		in_body = 1
	next
}
/^[ \t]*$/ || /;[ \t]*$/ || /[}][ \t]*$/ || /\*\/[ \t]*$/ || /^#/ { name_line = 0; next }
/^[A-Za-z_].*\(/ {
	head = $0
	sub(/\(.*/, "", head)
	n = split(head, words, /[ \t*]+/)
	if (n > 0 && words[n] != "") {
		name = words[n]
		name_line = FNR
	}
}
END { end_file() }
' daemon/*.c daemon/*/*.c) > "$TMP/offenders" || { echo "not ok - cannot read $SRC/daemon"; exit 1; }

# The allowlist without its comments and blank lines.
sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$ALLOW" > "$TMP/allowed" ||
	{ echo "not ok - cannot read $ALLOW"; exit 1; }

awk -v max_file="$MAX_FILE_LINES" -v max_function="$MAX_FUNCTION_LINES" '
FILENAME == ARGV[1] { allowed[$1] = 1; next }
{
	offends[$1] = 1
	if ($1 in allowed)
		print "ok - " $1 ": " $2 " lines (allowlisted)"
	else if (index($1, ":"))
		print "not ok - " $1 ": " $2 " lines, more than " max_function
	else
		print "not ok - " $1 ": " $2 " lines, more than " max_file
}
END {
	for (entry in allowed)
		if (!(entry in offends))
			print "not ok - " entry " is allowlisted but no longer breaks the rule: remove it from tests/checks/code-shape.allow"
}' "$TMP/allowed" "$TMP/offenders" > "$TMP/report"
# Every header of a layer says, in its first comment, which threads may call it (issue 9:
# what it borrows, for how long, from which thread).
for h in "$SRC"/daemon/*/*.h; do
	awk 'NR == 1, /\*\//' "$h" | grep -qi 'thread' ||
		echo "not ok - ${h#"$SRC"/}: its first comment does not say which threads may call it" >> "$TMP/report"
done
cat "$TMP/report"
failures=$(grep -c '^not ok' "$TMP/report")
echo "$(grep -c '^ok' "$TMP/report") allowlisted, $failures failed"
test "$failures" -eq 0
