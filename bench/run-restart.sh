#!/usr/bin/env bash
# Runs bench-restart from an existing build and prints its Markdown section:
# ksallocd restarted by SIGKILL and SIGTERM under the tests' fake service
# manager with its file descriptor store, while a client holds a frame, against
# a cold start without a store, on the real ksallocd (bin/ksallocd beside it).
# Builds nothing: scripts/bench builds, then calls this.
#
#   bench/run-restart.sh [BUILD_DIR [bench-restart options...]]
#
# BUILD_DIR defaults to build/bench in the source tree; the options (--reps)
# go to bench-restart.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -ge 1 ]; then
	build=$(realpath -m -- "$1")
	shift
else
	build="$root/build/bench"
fi
bin="$build/bin/bench-restart"
if [ ! -x "$bin" ] || [ ! -x "$build/bin/ksallocd" ]; then
	echo "run-restart.sh: $bin or $build/bin/ksallocd not found; build them first:" >&2
	echo "  cmake -S $root -B $build -DCMAKE_BUILD_TYPE=Release" \
		"&& cmake --build $build --target bench-restart" >&2
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "# Restarts under a service manager"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "- host: $(nproc) CPUs ($(grep -m1 '^model name' /proc/cpuinfo | sed 's/.*: //')), kernel $(uname -r)"
echo "- load average before the run: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine shows up as noise)"
echo "- source: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
	"$(git -C "$root" diff --quiet HEAD -- 2>/dev/null || echo '(with local changes)')"
echo

start=$(date +%s)
# The table only once it is whole: a failure leaves no half of it behind.
"$bin" "$@" >"$tmp/table"
cat "$tmp/table"
echo "- run-restart.sh took $(($(date +%s) - start)) s in all."
