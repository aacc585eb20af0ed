#!/usr/bin/env bash
# Runs bench-peers from an existing build and prints its Markdown section:
# crash reclaim, 1,000 sessions and pools, and the status query against D-Bus
# through a private dbus-daemon, on the real ksallocd (bin/ksallocd beside it).
# Builds nothing: scripts/bench builds, then calls this.
#
#   bench/run-peers.sh [BUILD_DIR [bench-peers options...]]
#
# BUILD_DIR defaults to build/bench in the source tree; the options (--reps,
# --calls, --sessions, --pools, --only) go to bench-peers.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -ge 1 ]; then
	build=$(realpath -m -- "$1")
	shift
else
	build="$root/build/bench"
fi
bin="$build/bin/bench-peers"
if [ ! -x "$bin" ] || [ ! -x "$build/bin/ksallocd" ]; then
	echo "run-peers.sh: $bin or $build/bin/ksallocd not found; build them first:" >&2
	echo "  cmake -S $root -B $build -DCMAKE_BUILD_TYPE=Release" \
		"&& cmake --build $build --target bench-peers" >&2
	exit 1
fi

# The peer: dbus-daemon, from Debian's dbus (the issue names it; not dbus-broker).
# scripts/lib.sh: ensure_packages, shared with scripts/run and scripts/test.
. "$root/scripts/lib.sh"
ensure_packages dbus

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "# Peers, scale and crash reclaim"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "- host: $(nproc) CPUs ($(grep -m1 '^model name' /proc/cpuinfo | sed 's/.*: //')), kernel $(uname -r)"
echo "- load average before the run: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine shows up as noise)"
echo "- source: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
	"$(git -C "$root" diff --quiet HEAD -- 2>/dev/null || echo '(with local changes)')"
echo "- peer: $(dbus-daemon --version | sed -n 1p), libsystemd $(pkg-config --modversion libsystemd 2>/dev/null || echo '(version unknown)') (sd-bus)"
echo

start=$(date +%s)
"$bin" "$@" >"$tmp/table"
cat "$tmp/table"
echo "- run-peers.sh took $(($(date +%s) - start)) s in all."
