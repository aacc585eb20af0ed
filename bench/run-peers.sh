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

. "$(dirname "$0")/run-lib.sh"
bench_find bench-peers "${1:-}" ksallocd
if [ $# -ge 1 ]; then
	shift
fi

# The peer: dbus-daemon, from Debian's dbus (the issue names it; not dbus-broker).
# scripts/lib.sh: ensure_packages, shared with scripts/run and scripts/test.
. "$root/scripts/lib.sh"
ensure_packages dbus

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

bench_header "Peers, scale and crash reclaim"
echo "- peer: $(dbus-daemon --version | sed -n 1p), libsystemd $(pkg-config --modversion libsystemd 2>/dev/null || echo '(version unknown)') (sd-bus)"
echo

start=$(date +%s)
"$bin" "$@" >"$tmp/table"
cat "$tmp/table"
echo "- run-peers.sh took $(($(date +%s) - start)) s in all."
