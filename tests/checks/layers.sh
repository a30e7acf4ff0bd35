#!/bin/sh
# The layers of daemon/ (tests/checks/layers.tsv): a file's layer is its folder, and every
# #include "layer/x.h" of a file of daemon/ names an existing header of its own layer or of
# a lower one; no channel includes another channel's headers; the programs in daemon/
# itself may include any layer. First shows on a copy of daemon/ that it catches an engine
# file including a mail header and a channel including another. Run by `make check` with
# DIALOGD_SRCDIR set (or from the source folder).
set -u
SRC=${DIALOGD_SRCDIR:-.}
MAP="$SRC/tests/checks/layers.tsv"
TMP=$(mktemp -d /tmp/dialogd-layers-XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# check DIR: prints one line per include that breaks the layers, per unplaced or too deep
# folder, and per include of a header that does not exist or goes through "..".
check() {
	root=$1
	find "$root" -name '*.[ch]' | sort | while read -r f; do
		rel=${f#"$root"/}
		case $rel in */*/*) echo "$rel - - deep" ;; esac
		case $rel in */*) from=${rel%%/*} ;; *) from=programs ;; esac
		# Every spelling the preprocessor accepts: "x" or <x>, spaces around the #.
		sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*\(["<][^">]*[">]\).*/\1/p' "$f" | while read -r spelled; do
			inc=${spelled#?}
			inc=${inc%?}
			case $spelled in
			\<*) # A system header, unless it resolves into daemon/ (the -I of the build).
				[ -f "$root/$inc" ] || continue ;;
			esac
			exists=yes
			[ "$inc" = autoconf.h ] || [ -f "$root/$inc" ] || [ -f "$(dirname "$f")/$inc" ] || exists=no
			case $inc in *..*) exists=dots ;; esac
			echo "$rel $from $inc $exists"
		done
		echo "$rel $from - yes"
	done | awk -v map="$MAP" '
	BEGIN {
		while ((getline line < map) > 0) {
			if (line ~ /^# layer order:/) {
				n = split(substr(line, length("# layer order: ") + 1), order, " ")
				for (i = 1; i <= n; i++)
					rank[order[i]] = i
			} else if (line ~ /^# channels:/) {
				n = split(substr(line, length("# channels: ") + 1), ch, " ")
				for (i = 1; i <= n; i++)
					channel[ch[i]] = 1
			}
		}
		rank["programs"] = 1000
	}
	{
		file = $1; from = $2; inc = $3
		if ($4 == "deep") { print file ": deeper than daemon/LAYER/: a layer is one folder"; next }
		if ($4 == "dots") { print file ": includes " inc ", a path through \"..\""; next }
		if (!(from in rank)) { if (!(from in told)) print "daemon/" from "/: a folder not placed in tests/checks/layers.tsv"; told[from] = 1; next }
		if (inc == "-" || inc == "autoconf.h") next
		if ($4 == "no") { print file ": includes " inc ", which does not exist"; next }
		if (inc !~ /\//) {
			if (from != "programs") print file ": includes " inc " without its layer (write \"" from "/" inc "\")"
			next
		}
		to = substr(inc, 1, index(inc, "/") - 1)
		if (!(to in rank)) { print file ": includes " inc ", in a folder not placed in tests/checks/layers.tsv"; next }
		if ((from in channel) && (to in channel) && from != to)
			print file " (" from ") includes " inc " (" to "): one channel includes another"
		else if (rank[to] > rank[from])
			print file " (" from ") includes " inc " (" to "), a higher layer"
	}' | sort -u
}

status=0
# 1. The check catches what it is for: an engine file that includes a mail header, and a
# chat file that includes the web channel's.
cp -r "$SRC/daemon" "$TMP/daemon"
printf '#include "mail/mail_channel.h"\n' >> "$TMP/daemon/engine/intent_match.c"
printf '#include "web/web.h"\n' >> "$TMP/daemon/chat/chat_session.c"
printf '#  include <mail/smtp_sender.h>\n' >> "$TMP/daemon/engine/faq.c"
printf '#include "engine/../mail/setup.h"\n' >> "$TMP/daemon/store/store.c"
printf '#include "lexicon.h"\n' >> "$TMP/daemon/engine/template.c"
printf '#include "engine/nowhere.h"\n' >> "$TMP/daemon/core/text.c"
mkdir "$TMP/daemon/extra" "$TMP/daemon/engine/sub"
printf '#include "core/util.h"\n' > "$TMP/daemon/extra/stray.c"
printf '#include "core/util.h"\n' > "$TMP/daemon/engine/sub/deep.c"
caught=$(check "$TMP/daemon")
missed=
for expected in \
	'engine/intent_match.c (engine) includes mail/mail_channel.h (mail), a higher layer' \
	'chat/chat_session.c (chat) includes web/web.h (web): one channel includes another' \
	'engine/faq.c (engine) includes mail/smtp_sender.h (mail), a higher layer' \
	'store/store.c: includes engine/../mail/setup.h, a path through ".."' \
	'engine/template.c: includes lexicon.h without its layer (write "engine/lexicon.h")' \
	'core/text.c: includes engine/nowhere.h, which does not exist' \
	'daemon/extra/: a folder not placed in tests/checks/layers.tsv' \
	'engine/sub/deep.c: deeper than daemon/LAYER/: a layer is one folder'; do
	echo "$caught" | grep -qxF "$expected" || missed="$missed
  $expected"
done
if [ -z "$missed" ]; then
	echo "ok - the check catches an engine file including a mail header (also as <...>), a channel including another, \"..\", an include without its layer, a missing header, an unplaced or too deep folder"
else
	echo "not ok - the check misses planted faults:$missed"
	echo "$caught" | sed 's/^/  got: /'
	status=1
fi
# 2. daemon/ as it is.
found=$(check "$SRC/daemon")
if [ -z "$found" ]; then
	echo "ok - every file of daemon/ includes only its layer and the layers below"
else
	echo "not ok - includes across layers (tests/checks/layers.tsv):"
	echo "$found" | sed 's/^/  /'
	status=1
fi
exit $status
