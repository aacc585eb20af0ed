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

. "$(dirname "$0")/run-lib.sh"
bench_find bench-restart "${1:-}" ksallocd
if [ $# -ge 1 ]; then
	shift
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

bench_header "Restarts under a service manager"
echo

start=$(date +%s)
# The table only once it is whole: a failure leaves no half of it behind.
"$bin" "$@" >"$tmp/table"
cat "$tmp/table"
echo "- run-restart.sh took $(($(date +%s) - start)) s in all."
