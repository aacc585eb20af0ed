# shellcheck shell=bash
# What bench/run-*.sh share: finding the benchmark in a build, and the lines that open its
# section of RESULTS.md. Sourced, not run; sets root (the source tree).

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# bench_find NAME BUILD_DIR [ksallocd]: sets build and bin (BUILD_DIR/bin/NAME), or says
# how to build them and exits. With "ksallocd", the daemon must be there too.
bench_find() {
	local name=$1 prog
	build=$(realpath -m -- "${2:-$root/build/bench}")
	bin="$build/bin/$name"
	for prog in "$bin" ${3:+"$build/bin/ksallocd"}; do
		if [ ! -x "$prog" ]; then
			echo "run-${name#bench-}.sh: $prog not found; build it first:" >&2
			echo "  cmake -S $root -B $build -DCMAKE_BUILD_TYPE=Release" \
				"&& cmake --build $build --target $name" >&2
			exit 1
		fi
	done
}

# bench_header TITLE: the section's title, date, host, load and source; the caller adds any
# lines of its own, then the blank line that ends the header.
bench_header() {
	echo "# $1"
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo "- host: $(nproc) CPUs ($(grep -m1 '^model name' /proc/cpuinfo | sed 's/.*: //')), kernel $(uname -r)"
	echo "- load average before the run: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine shows up as noise)"
	echo "- source: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
		"$(git -C "$root" diff --quiet HEAD -- 2>/dev/null || echo '(with local changes)')"
}
