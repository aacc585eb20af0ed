#!/usr/bin/env bash
# Runs bench-events from an existing build and prints its Markdown section: what
# subscriptions cost the daemon and its clients, and how soon a subscriber hears
# that a pool ran dry, on the real ksallocd (bin/ksallocd beside it). Builds
# nothing: scripts/bench builds, then calls this.
#
#   bench/run-events.sh [BUILD_DIR]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath -m -- "${1:-$root/build/bench}")
bin="$build/bin/bench-events"
if [ ! -x "$bin" ] || [ ! -x "$build/bin/ksallocd" ]; then
	echo "run-events.sh: $bin or $build/bin/ksallocd not found; build them first:" >&2
	echo "  cmake -S $root -B $build -DCMAKE_BUILD_TYPE=Release" \
		"&& cmake --build $build --target bench-events" >&2
	exit 1
fi

echo "# Subscriptions"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "- host: $(nproc) CPUs, kernel $(uname -r); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- source: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo
start=$(date +%s)
"$bin"
echo
echo "- run-events.sh took $(($(date +%s) - start)) s in all."
