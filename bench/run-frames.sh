#!/usr/bin/env bash
# Runs bench-frames from an existing build and prints its table, with rows for
# the system calls on the fast path counted by strace, under the machine's facts.
# Builds nothing: scripts/bench builds, then calls this.
#
#   bench/run-frames.sh [BUILD_DIR [bench-frames options...]]
#
# BUILD_DIR defaults to build/bench in the source tree; the options (--reps,
# --pairs, --rounds) go to bench-frames for the timed part.
set -euo pipefail

. "$(dirname "$0")/run-lib.sh"
bench_find bench-frames "${1:-}"
if [ $# -ge 1 ]; then
	shift
fi

. "$root/scripts/lib.sh"
ensure_packages strace

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Pairs and hand-offs for the counted runs: strace stops the tracee at every
# system call, so a loop that makes none runs at full speed, and one that makes
# many is slowed, not miscounted.
count_pairs=1000000
count_rounds=1000

# syscalls WHAT PLACE PAIRS: "futex all" calls made by bench-frames --only WHAT.
syscalls() {
	strace -f -c -o "$tmp/c" "$bin" --only "$1" --place "$2" --pairs "$3" >/dev/null
	awk '$NF == "futex" { f = $4 } $NF == "total" { t = $4 }
		END { printf "%d %d\n", f, t }' "$tmp/c"
}

# per_million WHAT PLACE PROCESSES: "futex all" per 1M pairs, the set-up (a run
# of 0 pairs) taken away.
per_million() {
	local with without
	with=$(syscalls "$1" "$2" "$count_pairs")
	without=$(syscalls "$1" "$2" 0)
	awk -v a="$with" -v b="$without" -v n="$((count_pairs * $3))" 'BEGIN {
		split(a, w, " "); split(b, z, " ")
		printf "%.1f %.1f\n", (w[1] - z[1]) * 1e6 / n, (w[2] - z[2]) * 1e6 / n
	}'
}

# futex_ops WHAT: "wakes waits" per hand-off, from strace's log of every futex call.
futex_ops() {
	strace -f -e trace=futex -o "$tmp/h" "$bin" --only "$1" --place one-cpu \
		--rounds "$count_rounds" >/dev/null
	awk -v n="$count_rounds" '/FUTEX_WAKE,/ { wake++ } /FUTEX_WAIT(_BITSET)?,/ { wait++ }
		END { printf "%.2f %.2f\n", wake / n, wait / n }' "$tmp/h"
}

bench_header "bench-frames"
echo

"$bin" "$@" >"$tmp/table"

# Placements the counted runs use, named as bench-frames names them.
cpus=$(taskset -pc $$ | sed 's/.*: //')
first=$(echo "$cpus" | tr ',-' '  ' | awk '{ print $1 }')
rows=""
row() {
	rows+="$*"$'\n'
}
verdict() {
	awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { print (v >= lo && v <= hi) ? "pass" : "FAIL" }'
}

read -r kf ka <<<"$(per_million uncontended-ksalloc one-cpu 1)"
read -r mf ma <<<"$(per_million uncontended-mutex one-cpu 1)"
row "| futex calls per 1M pairs, 1 process (strace) | CPU $first | $kf | - | - | $mf | - | 0 | $(verdict "$kf" 0 0) |"
row "| system calls of any kind per 1M pairs, 1 process (strace) | CPU $first | $ka | - | - | $ma | - | 0 | $(verdict "$ka" 0 0) |"
read -r lf la <<<"$(per_million uncontended-live one-cpu 1)"
row "| system calls of any kind per 1M pairs with the liveness check, 1 process (strace) | CPU $first | $la | - | - | $ka | - | 0 | $(verdict "$la" 0 0.5) |"
read -r kf ka <<<"$(per_million contended-ksalloc one-cpu 2)"
read -r mf ma <<<"$(per_million contended-mutex one-cpu 2)"
row "| futex calls per 1M pairs, 2 processes contending (strace) | both on CPU $first | $kf | - | - | $mf | - | 0 | $(verdict "$kf" 0 0) |"
if [ "$(nproc)" -ge 2 ]; then
	split_place=$(grep -o 'CPUs [0-9]* and [0-9]*' "$tmp/table" | head -1)
	read -r kf ka <<<"$(per_million contended-ksalloc split 2)"
	read -r mf ma <<<"$(per_million contended-mutex split 2)"
	row "| futex calls per 1M pairs, 2 processes contending (strace) | ${split_place:-2 CPUs} | $kf | - | - | $mf | - | 0 | $(verdict "$kf" 0 0) |"
fi
read -r kw kx <<<"$(futex_ops handoff-ksalloc)"
read -r bw bx <<<"$(futex_ops handoff-futex)"
row "| FUTEX_WAKE calls per hand-off to a sleeping waiter (strace) | both on CPU $first | $kw | - | - | $bw | - | about 1 | $(verdict "$kw" 0.9 1.1) |"
row "| FUTEX_WAIT calls per hand-off, by the waiter (strace) | both on CPU $first | $kx | - | - | $bx | - | - | - |"

# The counted rows go at the end of bench-frames' table, before its notes.
awk -v extra="$rows" '{ line[NR] = $0 } /^\|/ { last = NR }
	END { for (i = 1; i <= NR; i++) { print line[i]; if (i == last) printf "%s", extra } }' \
	"$tmp/table"
cat <<EOT
- strace rows: \`strace -f -c\` around \`bench-frames --only ...\` with $count_pairs pairs
  per process, less the same run with none (the set-up's calls); hand-offs: every futex
  call of $count_rounds hand-offs logged by \`strace -f -e trace=futex\`. Baseline: the
  mutex free list for pairs, the raw futex word for hand-offs.
EOT
