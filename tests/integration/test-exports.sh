#!/usr/bin/env bash
# test-exports: what the public headers promise, what libksalloc.so.1 exports
# and what client/libksalloc.sym names are one and the same list.
#
# - headers: every function and object that include/ksalloc/*.h declare at file
#   scope (what a client may link against), read from the C preprocessor's
#   output, so that macros are expanded as a client's compiler expands them.
#   Each must carry default visibility (KSALLOC_EXPORT): the library is built
#   with -fvisibility=hidden, so one without it could never be exported.
# - library: `nm -D --defined-only`, each symbol with its version node.
# - version script: the names in each node of libksalloc.sym, which must be
#   names, not patterns. A name may be in several nodes (a function versioned
#   with .symver, as glibc does, when a struct it fills grew): the library
#   must then export it in each of them, as the default (@@) in the last
#   node that names it only, and once in any one node.
# Every difference is printed, naming the symbol and where it is missing; the
# test fails if there is one. Before that, it checks itself: the same lists
# with a name taken out of the version script must fail.
#
# Usage: test-exports.sh SOURCE_DIR LIBRARY C_COMPILER NM
set -euo pipefail
export LC_ALL=C

src=$(cd "$1" && pwd)
lib=$2
cc=$3
nm=$4
sym=$src/client/libksalloc.sym

tmp=$(mktemp -d /tmp/ksalloc-exports-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# 1. The headers: "name header visibility" for each file-scope function or
# object. The awk program splits the preprocessed text into declarations at
# the semicolons outside braces, skips function bodies (static inline),
# typedefs, static asserts and tag declarations, and reads the declared name:
# the identifier before the first parenthesis for a function, the last one
# for an object.
(cd "$src/include" && for h in ksalloc/*.h; do echo "#include <$h>"; done) >"$tmp/all.c"
"$cc" -E -std=c11 -I"$src/include" "$tmp/all.c" >"$tmp/all.i"
awk '
function strip_attributes(d,    p, i, n, depth, c) {
	while ((p = index(d, "__attribute__")) > 0) {
		n = length(d)
		depth = 0
		for (i = p + 13; i <= n; i++) {
			c = substr(d, i, 1)
			if (c == "(")
				depth++
			else if (c == ")" && --depth == 0)
				break
		}
		d = substr(d, 1, p - 1) " " substr(d, i + 1)
	}
	return d
}
function last_identifier(s) {
	sub(/[^A-Za-z0-9_]+$/, "", s)
	if (!match(s, /[A-Za-z_][A-Za-z0-9_]*$/))
		return ""
	return substr(s, RSTART)
}
function declaration(d, header,    exported, names, n, i, name) {
	gsub(/[ \t\n]+/, " ", d)
	sub(/^ /, "", d)
	while (gsub(/\{[^{}]*\}/, "", d) > 0)
		;
	if (d == "" || d ~ /^(typedef|_Static_assert|static)[ (]/ ||
	    d ~ /^(struct|union|enum) ?[A-Za-z0-9_]* ?$/)
		return
	exported = d ~ /visibility ?\( ?"default" ?\)/ ? "default" : "hidden"
	d = strip_attributes(d)
	if (index(d, "(") > 0) {
		names[1] = substr(d, 1, index(d, "(") - 1)
		n = 1
	} else {
		sub(/=.*/, "", d)
		gsub(/\[[^]]*\]/, "", d)
		n = split(d, names, ",")
	}
	for (i = 1; i <= n; i++) {
		name = last_identifier(names[i])
		if (name == "" || name ~ /^(void|char|short|int|long|float|double|signed|unsigned|const|volatile|extern|struct|union|enum)$/)
			name = "?(" d ")"
		print name, header, exported
	}
}
/^# [0-9]+ "/ {
	file = $3
	gsub(/"/, "", file)
	next
}
/^#/ { next }
{
	line = $0 "\n"
	n = length(line)
	for (i = 1; i <= n; i++) {
		c = substr(line, i, 1)
		if (quote != "") {
			text = text c
			if (c == "\\") {
				text = text substr(line, ++i, 1)
			} else if (c == quote) {
				quote = ""
			}
			continue
		}
		if (c == "\"" || c == "\047") {
			quote = c
			text = text c
		} else if (c == "{") {
			if (depth == 0 && text ~ /\)[ \t\n]*$/)
				body = 1
			depth++
			text = text c
		} else if (c == "}") {
			depth--
			text = text c
			if (depth == 0 && body) {
				body = 0
				text = ""
			}
		} else if (c == ";" && depth == 0) {
			if (file ~ /\/include\/ksalloc\/[^\/]+\.h$/) {
				header = file
				sub(/.*\/include\//, "", header)
				declaration(text, header)
			}
			text = ""
		} else {
			text = text c
		}
	}
}
' "$tmp/all.i" | sort -u >"$tmp/declared"

# 2. The library: "name node" for each defined dynamic symbol. Each version
# node is also an absolute symbol of its own name ("LIBKSALLOC_1" in GNU nm,
# "LIBKSALLOC_1@@LIBKSALLOC_1" in llvm-nm): those are the library's nodes.
# The default version of each name ("name@@node") goes to lib-defaults.
"$nm" -D --defined-only "$lib" | awk -v nodes="$tmp/lib-nodes" -v defaults="$tmp/lib-defaults" '
	NF != 3 { next }
	{ split($3, v, "@+") }
	$2 == "A" && (v[2] == "" || v[2] == v[1]) { print v[1] >nodes; next }
	index($3, "@@") { print v[1], v[2] >defaults }
	{ print v[1], (v[2] == "" ? "(none)" : v[2]) }
' | sort >"$tmp/exported"
touch "$tmp/lib-defaults"
sort -o "$tmp/lib-defaults" "$tmp/lib-defaults"
touch "$tmp/lib-nodes"
sort -u -o "$tmp/lib-nodes" "$tmp/lib-nodes"

# 3. The version script: "global name node" and "node name parent".
awk '
{ s = s " " $0 }
END {
	while ((i = index(s, "/*")) > 0) {
		j = index(substr(s, i + 2), "*/")
		s = substr(s, 1, i - 1) " " (j ? substr(s, i + 2 + j + 1) : "")
	}
	gsub(/[{};:]/, " & ", s)
	n = split(s, t, /[ \t]+/)
	state = "node"
	for (k = 1; k <= n; k++) {
		w = t[k]
		if (w == "")
			continue
		if (state == "node") {
			node = w; parent = ""; state = "open"
		} else if (state == "open") {
			if (w != "{") { print "error expected { after " node; exit }
			state = "body"; scope = "global"
		} else if (state == "body") {
			if ((w == "global" || w == "local") && t[k + 1] == ":") {
				scope = w; k++
			} else if (w == "}") {
				state = "close"
			} else if (w != ";") {
				print scope, w, node
			}
		} else if (state == "close") {
			if (w == ";") { print "node", node, parent; state = "node" }
			else parent = w
		}
	}
}
' "$sym" >"$tmp/script"
grep '^global ' "$tmp/script" | awk '{ print $2, $3 }' | sort >"$tmp/listed"
grep '^node ' "$tmp/script" | awk '{ print $2 }' | sort >"$tmp/nodes"
# The default node of each name: the last node that names it, in the script's order.
grep '^global ' "$tmp/script" | awk '{ last[$2] = $3 } END { for (n in last) print n, last[n] }' |
	sort >"$tmp/defaults"

failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# compare DECLARED EXPORTED LISTED: prints each difference; fails if there is one.
compare() {
	local declared=$1 exported=$2 listed=$3 n=0 name rest
	while read -r name rest; do
		echo "  $name ($rest) is not a symbol name: libksalloc.sym must name each export"
		n=$((n + 1))
	done < <(grep -v '^[A-Za-z_][A-Za-z0-9_]* ' "$listed" || true)
	while read -r name node; do
		echo "  libksalloc.sym names $name more than once in $node"
		n=$((n + 1))
	done < <(sort "$listed" | uniq -d)
	while read -r name header visibility; do
		if [ "$visibility" != default ]; then
			echo "  $header declares $name without KSALLOC_EXPORT: the library would hide it"
			n=$((n + 1))
		fi
	done <"$declared"
	while read -r name; do
		echo "  $(awk -v n="$name" '$1 == n { print $2 }' "$declared") declares $name," \
			"which libksalloc.sym does not name: the library does not export it"
		n=$((n + 1))
	done < <(comm -23 <(awk '{ print $1 }' "$declared" | sort -u) \
		<(awk '{ print $1 }' "$listed" | sort -u))
	while read -r name; do
		echo "  libksalloc.sym names $name, which no public header declares"
		n=$((n + 1))
	done < <(comm -13 <(awk '{ print $1 }' "$declared" | sort -u) \
		<(awk '{ print $1 }' "$listed" | sort -u))
	while read -r name node; do
		echo "  libksalloc.so.1 exports $name@$node, which libksalloc.sym does not list" \
			"in $node"
		n=$((n + 1))
	done < <(comm -23 "$exported" <(sort "$listed"))
	while read -r name node; do
		echo "  libksalloc.sym lists $name in $node, but libksalloc.so.1 does not export" \
			"$name@$node"
		n=$((n + 1))
	done < <(comm -13 "$exported" <(sort "$listed"))
	# Not "return $n": a status wraps at 256.
	[ $n -eq 0 ]
}

echo "== public headers: $(wc -l <"$tmp/declared") declarations" \
	"($(cd "$src/include" && echo ksalloc/*.h))"
echo "== $(basename "$lib"): $(wc -l <"$tmp/exported") symbols," \
	"nodes $(tr '\n' ' ' <"$tmp/lib-nodes")"
echo "== libksalloc.sym: $(wc -l <"$tmp/listed") names, nodes $(tr '\n' ' ' <"$tmp/nodes")"

if grep -q '^error' "$tmp/script"; then
	fail "libksalloc.sym could not be read: $(grep '^error' "$tmp/script")"
fi
if grep -q '^?' "$tmp/declared"; then
	fail "declarations whose name this test cannot read:"
	grep '^?' "$tmp/declared"
fi
for f in declared exported listed; do
	[ -s "$tmp/$f" ] || fail "no $f symbols at all: the test itself is broken"
done
grep -qx LIBKSALLOC_1 "$tmp/nodes" ||
	fail "libksalloc.sym has no node LIBKSALLOC_1, the ABI applications were linked against"
cmp -s "$tmp/nodes" "$tmp/lib-nodes" ||
	fail "the library's version nodes ($(tr '\n' ' ' <"$tmp/lib-nodes")) are not" \
		"libksalloc.sym's ($(tr '\n' ' ' <"$tmp/nodes"))"

# A name in several nodes: the library's default version of it is the last node's.
while read -r name node; do
	fail "libksalloc.so.1 exports $name@@$node as the default, but the last node" \
		"libksalloc.sym names it in is $(awk -v n="$name" '$1 == n { print $2 }' \
			"$tmp/defaults")"
done < <(comm -13 "$tmp/defaults" "$tmp/lib-defaults")
while read -r name node; do
	fail "libksalloc.sym names $name last in $node, but libksalloc.so.1 has no" \
		"$name@@$node: programs built now would not get that version"
done < <(comm -23 "$tmp/defaults" "$tmp/lib-defaults")

# The test tests itself: a version script without one of its names must fail.
first=$(head -n 1 "$tmp/listed" | awk '{ print $1 }')
tail -n +2 "$tmp/listed" >"$tmp/listed-without-one"
if compare "$tmp/declared" "$tmp/exported" "$tmp/listed-without-one" >"$tmp/self-check"; then
	fail "self-check: a libksalloc.sym without $first passed"
elif ! grep -q "$first" "$tmp/self-check"; then
	fail "self-check: a libksalloc.sym without $first failed without naming it:" \
		"$(cat "$tmp/self-check")"
fi

# ... and so must one that names a name twice in one node.
{ cat "$tmp/listed"; head -n 1 "$tmp/listed"; } >"$tmp/listed-twice"
if compare "$tmp/declared" "$tmp/exported" "$tmp/listed-twice" >"$tmp/self-check"; then
	fail "self-check: a libksalloc.sym naming $first twice in one node passed"
fi

if ! compare "$tmp/declared" "$tmp/exported" "$tmp/listed" >"$tmp/differences"; then
	fail "the public headers, libksalloc.so.1 and libksalloc.sym disagree:"
	cat "$tmp/differences"
fi

[ $failures -eq 0 ] || exit 1
echo "test-exports: the headers, the library and the version script agree"
