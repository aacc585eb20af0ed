#!/usr/bin/env bash
# The layering is enforced by the build, not by review: a copy of this source
# tree gets one forbidden include at a time, in a file new to its layer's
# folder (so the rule covers files nobody listed), and building the copy's
# "layering" target must fail, naming the file and the rule. The tree as it is
# must pass, so the check is known to tell the two apart.
#
# Usage: test-layering.sh SOURCE_DIR. Exit 77 (skipped) without git.
set -euo pipefail
src=$1

command -v git >/dev/null || { echo "SKIP: git is needed to copy the tree"; exit 77; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
tree=$scratch/src

# The tracked files as they are in the work tree, edits included.
mkdir "$tree"
git -C "$src" ls-files -z --cached --others --exclude-standard |
	(cd "$src" && xargs -0 cp --parents -t "$tree" 2>/dev/null) || true
cmake -S "$tree" -B "$scratch/build" -DKSALLOC_TESTS=OFF -DKSALLOC_BENCH=OFF >"$scratch/configure.log" 2>&1 ||
	{ cat "$scratch/configure.log"; echo "FAIL: the copy does not configure"; exit 1; }

build_layering() {
	cmake --build "$scratch/build" --target layering >"$scratch/build.log" 2>&1
}

build_layering || { cat "$scratch/build.log"; echo "FAIL: the tree as it is fails its layering check"; exit 1; }
echo "ok: the tree as it is passes"

failures=0
# expect_refused FILE CONTENT PATTERN: adding FILE must fail the build with PATTERN in its output.
expect_refused() {
	local file=$1 content=$2 pattern=$3
	mkdir -p "$(dirname "$tree/$file")"
	printf '%s\n' "$content" >"$tree/$file"
	if build_layering; then
		echo "FAIL: $file (${content//$'\n'/ }) built"
		failures=$((failures + 1))
	elif ! grep -qF -- "$pattern" "$scratch/build.log"; then
		echo "FAIL: $file was refused, but the build did not say: $pattern"
		cat "$scratch/build.log"
		failures=$((failures + 1))
	else
		echo "ok: refused $file: $(grep -F -- "$pattern" "$scratch/build.log" | head -1 | sed 's/^ *//')"
	fi
	rm -f "$tree/$file"
}

expect_refused daemon/storage/backend-new.c '#include <uv.h>' \
	'daemon/storage/backend-new.c:1: #include <uv.h>: daemon/storage may not use uv.h'
expect_refused daemon/storage/backend-new.c '#include "daemon/rpc/rpc.h"' \
	'daemon/storage/backend-new.c:1: #include "daemon/rpc/rpc.h": daemon/storage may not use daemon/rpc'
expect_refused daemon/rpc/new.c '#include <sys/socket.h>' \
	'daemon/rpc/new.c:1: #include <sys/socket.h>: daemon/rpc makes no socket calls'
expect_refused shm/new.c '#include "proto/wire.h"' \
	'shm/new.c:1: #include "proto/wire.h": shm may not use proto'
expect_refused client/new.c '#include "daemon/storage/pool.h"' \
	'client/new.c:1: #include "daemon/storage/pool.h": client may not use daemon/storage'
expect_refused client/ks/new.c '#include "shm/frame.h"' \
	'client/ks/new.c:1: #include "shm/frame.h": client/ks may not use shm'
expect_refused tools/ksallocctl/new.c '#include "proto/wire.h"' \
	'tools/ksallocctl/new.c:1: #include "proto/wire.h": tools may not use proto'
expect_refused include/ksalloc/new.h '#include <protobuf-c/protobuf-c.h>' \
	'include/ksalloc/new.h:1: #include <protobuf-c/protobuf-c.h>: include/ksalloc may not use protobuf-c/'
expect_refused daemon/storage/new.c '#include "pool.h"' \
	'daemon/storage/new.c:1: #include "pool.h": not a path from the project root'
# Two modules that include each other: a cycle, wherever it is.
mkdir -p "$tree/shm"
printf '#include "shm/cycle-b.h"\n' >"$tree/shm/cycle-a.h"
expect_refused shm/cycle-b.h '#include "shm/cycle-a.h"' \
	'include cycle: shm/cycle-a -> shm/cycle-b -> shm/cycle-a'
rm -f "$tree/shm/cycle-a.h"

[ "$failures" -eq 0 ] || { echo "FAIL: $failures forbidden includes built"; exit 1; }
echo "every forbidden include failed the build"
