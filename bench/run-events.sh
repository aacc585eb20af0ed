#!/usr/bin/env bash
# Runs bench-events from an existing build and prints its Markdown section: what
# subscriptions cost the daemon and its clients, and how soon a subscriber hears
# that a pool ran dry, on the real ksallocd (bin/ksallocd beside it). Builds
# nothing: scripts/bench builds, then calls this.
#
#   bench/run-events.sh [BUILD_DIR]
set -euo pipefail

. "$(dirname "$0")/run-lib.sh"
bench_find bench-events "${1:-}" ksallocd

bench_header "Subscriptions"
echo
start=$(date +%s)
"$bin"
echo
echo "- run-events.sh took $(($(date +%s) - start)) s in all."
