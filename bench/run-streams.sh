#!/usr/bin/env bash
# Runs bench-streams and bench-iceoryx from an existing build and prints their
# Markdown section: ksalloc streams against the raw futex ring the streams
# design was measured against (the baseline of every ratio) and iceoryx 2.0.3
# publish/subscribe (Debian's, installed here; its iox-roudi is started and stopped here), with
# system calls per frame counted by strace and a dead consumer's frames back.
# Builds nothing: scripts/bench builds, then calls this.
#
#   bench/run-streams.sh [BUILD_DIR [ROUNDS]]
#
# Each round runs ring, ksalloc and iceoryx back to back, same placement, for
# every measurement; ratios are taken within a round, then the median over the
# rounds (5 unless ROUNDS says otherwise) is shown with its range.
set -euo pipefail

. "$(dirname "$0")/run-lib.sh"
bench_find bench-streams "${1:-}" ksallocd
rounds=${2:-5}
iox_bin="$build/bin/bench-iceoryx"

. "$root/scripts/lib.sh"
ensure_packages strace iceoryx libiceoryx-binding-c-dev libiceoryx-posh-dev libiceoryx-hoofs-dev

tmp=$(mktemp -d)
roudi=""
stop_roudi() {
	if [ -n "$roudi" ]; then
		kill "$roudi" 2>/dev/null || true
		wait "$roudi" 2>/dev/null || true
		roudi=""
	fi
}
trap 'stop_roudi; rm -rf "$tmp"' EXIT

# Placement: the first two CPUs we may use (on a 1-CPU machine both are the first).
cpus=$(taskset -pc $$ | sed 's/.*: //')
read -r cpu0 cpu1 <<<"$(python3 -c '
import sys
cpus = []
for part in sys.argv[1].split(","):
    a, _, b = part.partition("-")
    cpus += range(int(a), int(b or a) + 1)
print(cpus[0], cpus[1] if len(cpus) > 1 else cpus[0])' "$cpus")"

lat_frames=10000
tput_frames=300000
tput4_frames=50000
spin_us=1000
count_frames=100000
gap_ns=5000
kills=50

# The measurements: ID, then the options of every system's run.
tests=(
	"lat-one latency --cpu-producer $cpu0 --cpu-consumer $cpu0 --frames $lat_frames"
	"lat-two latency --cpu-producer $cpu0 --cpu-consumer $cpu1 --frames $lat_frames"
	"lat-spin latency --cpu-producer $cpu0 --cpu-consumer $cpu1 --spin-us $spin_us --frames $lat_frames"
	"tput-one tput --cpu-producer $cpu0 --cpu-consumer $cpu0 --frames $tput_frames"
	"tput-two tput --cpu-producer $cpu0 --cpu-consumer $cpu1 --frames $tput_frames"
	"tput-four tput --consumers 4 --cpu-producer $cpu0 --cpu-consumer $cpu0 --frames $tput4_frames"
)

start_roudi() {
	if [ ! -x "$iox_bin" ]; then
		echo "run-streams.sh: $iox_bin not built (no iceoryx C binding at configure time):" \
			"iceoryx left out" >&2
		return 1
	fi
	iox-roudi >"$tmp/roudi.log" 2>&1 &
	roudi=$!
	for _ in $(seq 100); do
		grep -q 'RouDi is ready for clients' "$tmp/roudi.log" && return 0
		kill -0 "$roudi" 2>/dev/null || break
		sleep 0.1
	done
	echo "run-streams.sh: iox-roudi did not start (another RouDi running?):" >&2
	cat "$tmp/roudi.log" >&2
	stop_roudi
	return 1
}
have_iox=1
start_roudi || have_iox=0

# run ROUND ID SYSTEM OPTIONS...: one run's result line, tagged, into $tmp/results.
failed=()
run() {
	local round=$1 id=$2 system=$3 prog line
	shift 3
	if [ "$system" = iceoryx ]; then
		prog=("$iox_bin" "$1")
	else
		prog=("$bin" "$system-$1")
	fi
	shift
	if line=$("${prog[@]}" "$@" 2>"$tmp/err" | grep '^result '); then
		echo "round=$round id=$id ${line#result }" >>"$tmp/results"
	else
		failed+=("$system $id (round $round): $(tail -1 "$tmp/err")")
		cat "$tmp/err" >&2
	fi
}

bench_header "Streams: ksalloc streams, the raw futex ring, iceoryx 2.0.3"
echo "- placement: CPU $cpu0 and CPU $cpu1; $rounds rounds, each running ring, ksalloc and" \
	"iceoryx back to back for every measurement"
echo
start=$(date +%s)
: >"$tmp/results"
for round in $(seq "$rounds"); do
	for t in "${tests[@]}"; do
		read -r -a a <<<"$t"
		run "$round" "${a[0]}" ring "${a[@]:1}"
		run "$round" "${a[0]}" ksalloc "${a[@]:1}"
		if [ "$have_iox" = 1 ]; then
			run "$round" "${a[0]}" iceoryx "${a[@]:1}"
		fi
	done
done
stop_roudi

# syscalls SYSTEM FRAMES OPTIONS...: "futex all" system calls of the producer and consumers
# (strace -ff, one log per thread; the daemon's threads left out: bench-streams prints its pid).
syscalls() {
	local system=$1 frames=$2 out
	shift 2
	rm -rf "$tmp/st"
	mkdir "$tmp/st"
	out=$(strace -f -ff -o "$tmp/st/t" "$bin" "$system-tput" --frames "$frames" "$@" 2>/dev/null) ||
		return 1
	python3 - "$tmp/st" "$(echo "$out" | sed -n 's/^daemon_pid=//p')" <<'EOF'
import os, re, sys
folder, daemon = sys.argv[1], sys.argv[2]
logs = {int(f.split(".")[-1]): os.path.join(folder, f) for f in os.listdir(folder)}
skip = set()
if daemon:
    todo = [int(daemon)]
    while todo:  # the daemon and every thread or process it started
        pid = todo.pop()
        skip.add(pid)
        for line in open(logs.get(pid, os.devnull), errors="replace"):
            m = re.match(r"(clone3?|fork|vfork)\(.*\) = (\d+)", line)
            if m:
                todo.append(int(m.group(2)))
futex = total = 0
for pid, path in logs.items():
    if pid in skip:
        continue
    for line in open(path, errors="replace"):
        m = re.match(r"([a-z0-9_]+)\(", line)
        if m:
            total += 1
            futex += m.group(1) == "futex"
print(futex, total)
EOF
}

# per_frame SYSTEM OPTIONS...: "futex all" system calls per frame, the set-up (a run of no
# frames) taken away; "- -" when a run fails.
per_frame() {
	local with without
	if ! with=$(syscalls "$1" "$count_frames" "${@:2}") ||
		! without=$(syscalls "$1" 0 "${@:2}"); then
		echo "- -"
		return
	fi
	awk -v a="$with" -v b="$without" -v n="$count_frames" 'BEGIN {
		split(a, w, " "); split(b, z, " ")
		printf "%.4f %.4f\n", (w[1] - z[1]) / n, (w[2] - z[2]) / n
	}'
}

# The consumer keeps up: it spins (up to 1 s) on CPU 1 while the producer, on CPU 0, busy-waits
# gap_ns between frames; then the same consumer against a producer at full speed (which fills
# the queue and sleeps now and then), and both on one CPU (where the consumer sleeps).
keep_up=(--cpu-producer "$cpu0" --cpu-consumer "$cpu1" --spin-us 1000000 --gap-ns "$gap_ns")
spin=(--cpu-producer "$cpu0" --cpu-consumer "$cpu1" --spin-us 1000000)
one_cpu=(--cpu-producer "$cpu0" --cpu-consumer "$cpu0")
read -r rf_up ra_up <<<"$(per_frame ring "${keep_up[@]}")"
read -r kf_up ka_up <<<"$(per_frame ksalloc "${keep_up[@]}")"
read -r rf_spin ra_spin <<<"$(per_frame ring "${spin[@]}")"
read -r kf_spin ka_spin <<<"$(per_frame ksalloc "${spin[@]}")"
read -r rf_one ra_one <<<"$(per_frame ring "${one_cpu[@]}")"
read -r kf_one ka_one <<<"$(per_frame ksalloc "${one_cpu[@]}")"

# A dead consumer's frames back.
reclaim=""
if out=$("$bin" ksalloc-reclaim --kills "$kills" --cpu-producer "$cpu0" --cpu-consumer "$cpu1" \
	2>"$tmp/err"); then
	reclaim=$(echo "$out" | grep '^result ' || true)
else
	failed+=("ksalloc reclaim: $(tail -1 "$tmp/err")")
	cat "$tmp/err" >&2
fi

python3 - "$tmp/results" "$cpu0" "$cpu1" "$spin_us" "$rounds" "$rf_up $ra_up $kf_up $ka_up" \
	"$rf_one $ra_one $kf_one $ka_one" "$reclaim" "$rf_spin $ra_spin $kf_spin $ka_spin" "$gap_ns" <<'EOF'
import statistics, sys

path, cpu0, cpu1, spin_us, rounds = sys.argv[1:6]
up, one, reclaim = sys.argv[6].split(), sys.argv[7].split(), sys.argv[8]
spin, gap_ns = sys.argv[9].split(), sys.argv[10]
runs = {}  # (id, system, round) -> {key: value}
for line in open(path):
    kv = dict(f.split("=", 1) for f in line.split())
    runs[(kv["id"], kv["system"], int(kv["round"]))] = kv


def values(id, system, key):
    return {r: float(kv[key]) for (i, s, r), kv in runs.items() if i == id and s == system}


def fmt(v, unit):
    if unit == "us":
        v /= 1000
        return f"{v:.3g}" if v < 100 else f"{v:.0f}"
    if unit == "M":
        return f"{v / 1e6:.3g} M"
    return f"{v:.3g}"


def cell(vals, unit):
    if not vals:
        return "-"
    v = sorted(vals.values())
    s = fmt(statistics.median(v), unit)
    if len(v) > 1:
        s += f" ({fmt(v[0], unit)}-{fmt(v[-1], unit)})"
    return s


def ratio(a, b):
    r = sorted(a[k] / b[k] for k in a if k in b and b[k] > 0)
    if not r:
        return None, "-"
    m = statistics.median(r)
    s = f"{m:.2f}"
    if len(r) > 1:
        s += f" ({r[0]:.2f}-{r[-1]:.2f})"
    return m, s


one_place = f"both on CPU {cpu0}"
two_place = f"CPU {cpu0} -> CPU {cpu1}"
rows = [
    # measurement, id, key, unit, bar (ksalloc/ring), test
    (f"one-way p50, µs ({one_place}; consumer asleep)", "lat-one", "p50_ns", "us", "<= 1.15", lambda r: r <= 1.15),
    (f"one-way p99, µs ({one_place}; consumer asleep)", "lat-one", "p99_ns", "us", "<= 1.5", lambda r: r <= 1.5),
    (f"one-way p50, µs ({two_place}; consumer asleep)", "lat-two", "p50_ns", "us", "-", None),
    (f"one-way p99, µs ({two_place}; consumer asleep)", "lat-two", "p99_ns", "us", "-", None),
    (f"one-way p50, µs ({two_place}; spins <= {spin_us} µs)", "lat-spin", "p50_ns", "us", "<= 2", lambda r: r <= 2),
    (f"one-way p99, µs ({two_place}; spins <= {spin_us} µs)", "lat-spin", "p99_ns", "us", "-", None),
    (f"throughput, frames/s, 1 consumer ({one_place})", "tput-one", "fps", "M", ">= 0.5", lambda r: r >= 0.5),
    (f"throughput, frames/s, 1 consumer ({two_place}; asleep when empty)", "tput-two", "fps", "M", ">= 0.5", lambda r: r >= 0.5),
    (f"throughput, frames/s, 4 consumers (all on CPU {cpu0})", "tput-four", "fps", "M", ">= 0.3", lambda r: r >= 0.3),
]
print("| measurement | ring | ksalloc | ksalloc/ring | iceoryx | iceoryx/ring | bar (ksalloc/ring) |")
print("|---|---|---|---|---|---|---|")
for name, id, key, unit, bar, test in rows:
    ring, ks, iox = (values(id, s, key) for s in ("ring", "ksalloc", "iceoryx"))
    km, ks_ratio = ratio(ks, ring)
    _, iox_ratio = ratio(iox, ring)
    verdict = "-" if test is None else ("-" if km is None else ("pass" if test(km) else "FAIL"))
    bar_cell = "-" if test is None else f"{bar}: {verdict}"
    print(f"| {name} | {cell(ring, unit)} | {cell(ks, unit)} | {ks_ratio} | {cell(iox, unit)} | {iox_ratio} | {bar_cell} |")

def verdict0(v):
    return "-" if v == "-" else ("pass" if float(v) == 0 else "FAIL")


print(f"| system calls per frame, consumer keeps up ({two_place}; it spins, frames {gap_ns} ns apart; strace) | {up[1]} | {up[3]} | - | - | - | 0: {verdict0(up[3])} |")
print(f"| futex calls per frame, same run | {up[0]} | {up[2]} | - | - | - | - |")
print(f"| system calls per frame, producer at full speed ({two_place}; consumer spins; strace) | {spin[1]} | {spin[3]} | - | - | - | - |")
print(f"| system calls per frame, producer at full speed ({one_place}; consumer sleeps when empty; strace) | {one[1]} | {one[3]} | - | - | - | - |")
req = values("tput-one", "ksalloc", "daemon_requests")
frames = values("tput-one", "ksalloc", "frames")
if req:
    per = sorted(req[r] / frames[r] for r in req if frames.get(r))
    m = statistics.median(per)
    print(f"| daemon requests per frame ({one_place}; ksalloc_client_daemon_stats around the run) | - | {m:.4f} | - | - | - | 0: {'pass' if m == 0 else 'FAIL'} |")
else:
    print("| daemon requests per frame | - | - | - | - | - | 0: - |")
if reclaim:
    kv = dict(f.split("=", 1) for f in reclaim.split()[1:])
    med, mx = float(kv["median_ns"]) / 1e6, float(kv["max_ns"]) / 1e6
    reaped = float(kv["reaped_median_ns"]) / 1e6
    reaped_max = float(kv["reaped_max_ns"]) / 1e6
    print(f"| a dead consumer's frames back, ms, median (min-max) of {kv['kills']} SIGKILLs (for scale, SIGKILL to the victim reaped by its parent: {reaped:.3f} median, {reaped_max:.3f} max) | - | {med:.3f} ({float(kv['min_ns']) / 1e6:.3f}-{mx:.3f}) | - | ~1500, not measured here (RouDi's keep-alive timeout) | - | max < 10: {'pass' if mx < 10 else 'FAIL'} |")
else:
    print("| a dead consumer's frames back, ms | - | - | - | ~1500, not measured here (RouDi's keep-alive timeout) | - | max < 10: - |")
print()
print("Sleeps per 1000 frames, counted by the processes (median over rounds; ring: FUTEX_WAITs "
      "of consumer / producer and FUTEX_WAKEs; ksalloc: blocking receives a spin ended in, "
      "not counted without a spin; iceoryx: WaitSet waits / refused "
      "loans):")
print()
print("| run | ring | ksalloc | iceoryx |")
print("|---|---|---|---|")
for id in ("lat-one", "lat-spin", "tput-one", "tput-two", "tput-four"):
    cells = []
    for s in ("ring", "ksalloc", "iceoryx"):
        c = values(id, s, "consumer_sleeps_per_1k")
        p = values(id, s, "producer_sleeps_per_1k")
        w = values(id, s, "wakes_per_1k")
        if not c or (s == "ksalloc" and id != "lat-spin"):
            cells.append("-")  # ksalloc's own sleeps are the library's, not counted here
            continue
        med = lambda d: statistics.median(d.values()) if d else 0
        cells.append(f"{med(c):.1f} / {med(p):.1f}" + (f" / {med(w):.1f}" if s == "ring" else ""))
    print(f"| {id} | " + " | ".join(cells) + " |")
EOF

cat <<EOT

- one-way: CLOCK_MONOTONIC written into the frame by the producer just before it publishes
  (ring: pushes), read by the consumer when its receive returns; $lat_frames frames a run,
  paced 100 µs apart, the producer waiting for each frame's acknowledgement (so a
  consumer that sleeps is asleep at every frame). p50/p99 of each run, then the median
  (min-max) over rounds.
- throughput: lossless (ring: blocks when full; ksalloc: policy BLOCK, depth 64, a pool of
  128 frames of 64 bytes, acquire(INFINITE) -> publish(INFINITE) -> receive -> release;
  iceoryx: queue 64, BLOCK_PRODUCER + WAIT_FOR_CONSUMER); $tput_frames frames a run
  ($tput4_frames with 4 consumers), from the producer's start to the last consumer's end.
- strace rows: \`strace -f -ff\` around a throughput run of $count_frames frames less the same
  run of none (the set-up), every thread of the producer and consumers counted, the
  daemon's left out. "Keeps up": the consumer spins up to 1 s before it sleeps and the
  producer busy-waits $gap_ns ns between frames (no system call); a consumer that the
  scheduler preempts still lets its queue fill, so a loaded machine shows a few calls.
- a dead consumer: it holds 16 frames of a 64-frame pool (max_held 16) and has 16 more
  queued (depth 16) when the producer SIGKILLs it; then the producer asks the daemon for
  the pool's extended status in a loop until no frame is allocated. Victims on CPU $cpu1,
  the producer on CPU $cpu0.
- ratios are taken within each round, then the median (min-max) over the rounds.
EOT
if [ ${#failed[@]} -gt 0 ]; then
	echo "- **runs that failed:**"
	for f in "${failed[@]}"; do
		echo "  - $f"
	done
fi
echo "- run-streams.sh took $(($(date +%s) - start)) s in all."
[ ${#failed[@]} -eq 0 ]
