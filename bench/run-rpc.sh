#!/usr/bin/env bash
# Runs bench-rpc from an existing build (it starts that build's ksallocd on a
# socket of its own), draws bench/clients.png with gnuplot, and prints the
# Markdown section, under the machine's facts.
# Builds nothing: scripts/bench builds, then calls this.
#
#   bench/run-rpc.sh [BUILD_DIR [bench-rpc options...]]
#
# BUILD_DIR defaults to build/bench in the source tree; the options (--reps,
# --calls, --duration-ms, ...) go to bench-rpc.
set -euo pipefail

. "$(dirname "$0")/run-lib.sh"
bench_find bench-rpc "${1:-}" ksallocd
if [ $# -ge 1 ]; then
	shift
fi
png="$root/bench/clients.png"

. "$root/scripts/lib.sh"
ensure_packages gnuplot-nox

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

bench_header "bench-rpc"
echo

"$bin" --daemon "$build/bin/ksallocd" --data "$tmp/clients.tsv" "$@" >"$tmp/tables"
cat "$tmp/tables"
echo

reps=$(sed -n 's/.*medians (min, max) over \([0-9]*\) repetitions.*/\1/p' "$tmp/clients.tsv")
has_free=$(grep -c '^unpinned' "$tmp/clients.tsv" || true)

# Left axis: queries/s (filled points, dark); right axis: p99 (open points,
# light, log scale). ksalloc blue, the epoll baseline orange; pinned solid
# lines, unpinned dashed. The key: a row per placement.
cat >"$tmp/plot.gp" <<EOT
set terminal pngcairo size 1100,700 font "DejaVu Sans,11"
set output "$png"
set title "GetStatus queries from N client processes: ksallocd against a raw epoll server\n(medians of $reps repetitions; solid: all on one CPU, judged; dashed: unpinned)"
set datafile separator "\t"
set logscale x 2
set xrange [0.8:80]
set xtics ("1" 1, "4" 4, "16" 16, "64" 64)
set xlabel "client processes"
set ylabel "aggregate queries/s"
set yrange [0:*]
set ytics nomirror
set format y "%.0f"
set y2label "p99 round trip (µs, log scale)"
set logscale y2 10
set y2tics
set grid xtics ytics
set key outside bottom center horizontal maxcols 4 Left reverse width 2
ks = "#1f5fa8"
ep = "#d9700f"
ks99 = "#7aa6dc"
ep99 = "#f0b070"
f = "$tmp/clients.tsv"
plot \
  f index 0 using 2:3 with linespoints lw 2.5 pt 7 ps 1.3 lc rgb ks title "ksalloc q/s", \
  f index 0 using 2:6 with linespoints lw 2.5 pt 5 ps 1.3 lc rgb ep title "epoll q/s", \
  f index 0 using 2:9 axes x1y2 with linespoints lw 2 pt 6 ps 1.3 lc rgb ks99 title "ksalloc p99", \
  f index 0 using 2:12 axes x1y2 with linespoints lw 2 pt 4 ps 1.3 lc rgb ep99 title "epoll p99"$(
	if [ "$has_free" -gt 0 ]; then
		cat <<'EOP'
, \
  f index 1 using 2:3 with linespoints dt 2 lw 2 pt 7 ps 0.9 lc rgb ks title "ksalloc q/s, unpinned", \
  f index 1 using 2:6 with linespoints dt 2 lw 2 pt 5 ps 0.9 lc rgb ep title "epoll q/s, unpinned", \
  f index 1 using 2:9 axes x1y2 with linespoints dt 2 lw 1.5 pt 6 ps 0.9 lc rgb ks99 title "ksalloc p99, unpinned", \
  f index 1 using 2:12 axes x1y2 with linespoints dt 2 lw 1.5 pt 4 ps 0.9 lc rgb ep99 title "epoll p99, unpinned"
EOP
	fi
)
EOT

if gnuplot "$tmp/plot.gp" 2>"$tmp/gnuplot.err"; then
	echo "![Aggregate queries/s (left axis) and p99 (right axis) against the number of client" \
		"processes, ksalloc and the epoll baseline](clients.png)"
	echo
	echo "- clients.png: the many-clients figures above (medians), drawn by gnuplot" \
		"$(gnuplot --version | awk '{ print $2 }'): left axis queries/s, right axis p99 (log" \
		"scale); solid lines with everything on one CPU (the judged placement), dashed" \
		"unpinned."
else
	echo "- clients.png: gnuplot failed, no plot: $(head -3 "$tmp/gnuplot.err" | tr '\n' ' ')"
	cat "$tmp/gnuplot.err" >&2
fi
