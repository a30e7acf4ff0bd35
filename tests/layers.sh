#!/bin/sh
# The layers of daemon/ (tests/layers.tsv): every #include "x.h" of a file of daemon/
# names a module of its own layer or of a lower one, and no channel includes another
# channel's headers; every module is placed. First shows on a copy of daemon/ that it
# catches an engine file including a mail header. Run by `make check` with
# DIALOGD_SRCDIR set (or from the source folder).
set -u
SRC=${DIALOGD_SRCDIR:-.}
MAP="$SRC/tests/layers.tsv"
TMP=$(mktemp -d /tmp/dialogd-layers-XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# check DIR: prints one line per include that breaks the layers, or module not placed.
check() {
	for f in "$1"/*.c "$1"/*.h; do
		base=$(basename "$f")
		sed -n 's/^#include "\([^"]*\)\.h".*/\1/p' "$f" | sed "s|^|${base%.*} |"
		# A file that includes nothing still has to be placed.
		echo "${base%.*} ${base%.*}"
	done | awk -v map="$MAP" '
	BEGIN {
		while ((getline line < map) > 0) {
			if (line ~ /^# layer order:/) {
				n = split(substr(line, length("# layer order: ") + 1), order, " ")
				for (i = 1; i <= n; i++)
					rank[order[i]] = i
			} else if (line !~ /^#/ && line != "") {
				split(line, f, "\t")
				layer[f[1]] = f[2]
			}
		}
	}
	$2 == "autoconf" { next }
	{
		from = $1; to = $2
		if (!(from in layer)) { if (!(from in told)) print from ": not placed in tests/layers.tsv"; told[from] = 1; next }
		if (!(to in layer)) { print from ": includes " to ".h, which is not placed in tests/layers.tsv"; next }
		a = layer[from]; b = layer[to]
		if (rank[b] > rank[a] && !(a ~ /^channel:/ && b ~ /^channel:/))
			print from " (" a ") includes " to ".h (" b "), a higher layer"
		else if (a ~ /^channel:/ && b ~ /^channel:/ && a != b)
			print from " (" a ") includes " to ".h (" b "): one channel includes another"
	}' | sort -u
}

status=0
# 1. The check catches what it is for: an engine file that includes a mail header.
mkdir "$TMP/daemon"
cp "$SRC"/daemon/*.c "$SRC"/daemon/*.h "$TMP/daemon/"
printf '#include "mail_channel.h"\n' >> "$TMP/daemon/intent_match.c"
printf '#include "web.h"\n' >> "$TMP/daemon/chat_session.c"
caught=$(check "$TMP/daemon")
if echo "$caught" | grep -q '^intent_match (engine) includes mail_channel.h (channel:mail), a higher layer$' &&
	echo "$caught" | grep -q '^chat_session (channel:chat) includes web.h (channel:web): one channel includes another$'; then
	echo "ok - the check catches an engine file including a mail header, and a channel including another"
else
	echo "not ok - the check misses planted includes:"
	echo "$caught"
	status=1
fi
# 2. daemon/ as it is.
found=$(check "$SRC/daemon")
if [ -z "$found" ]; then
	echo "ok - every module of daemon/ includes only its layer and the layers below"
else
	echo "not ok - includes across layers (tests/layers.tsv):"
	echo "$found" | sed 's/^/  /'
	status=1
fi
exit $status
