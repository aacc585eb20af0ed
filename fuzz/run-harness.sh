#!/bin/sh
# Runs a libFuzzer harness the two ways ctest does (fuzz/CMakeLists.txt):
#
#   run-harness.sh short HARNESS CORPUS WORKDIR SECONDS
#       fuzzes for SECONDS over a copy of CORPUS in WORKDIR/corpus (the checked-in
#       corpus is never written); a crash leaves its input in WORKDIR/artifacts/.
#   run-harness.sh regressions HARNESS DIR
#       runs every file of DIR (but README*) through HARNESS once; passes when none
#       crashes, and when DIR holds none.
#
# -close_fd_mask=2: what the code under test logs goes to /dev/null; libFuzzer's
# and the sanitizers' reports still come out. -timeout: an input that takes
# longer counts as a hang, which is a failure.
set -eu

mode=$1 harness=$2
case $mode in
short)
	corpus=$3 work=$4 seconds=$5
	rm -rf "$work"
	mkdir -p "$work/corpus" "$work/artifacts"
	cp "$corpus"/* "$work/corpus/"
	exec "$harness" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
		-close_fd_mask=2 -artifact_prefix="$work/artifacts/" "$work/corpus"
	;;
regressions)
	dir=$3
	set --
	for f in "$dir"/*; do
		[ -f "$f" ] || continue
		case ${f##*/} in README*) continue ;; esac
		set -- "$@" "$f"
	done
	if [ $# -eq 0 ]; then
		echo "no regression inputs in $dir"
		exit 0
	fi
	exec "$harness" -timeout=10 -close_fd_mask=2 "$@"
	;;
*)
	echo "usage: $0 short HARNESS CORPUS WORKDIR SECONDS | regressions HARNESS DIR" >&2
	exit 2
	;;
esac
