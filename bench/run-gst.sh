#!/usr/bin/env bash
# Runs bench-gst from an existing build and prints its Markdown section: raw video
# (1920x1080 I420) from one GStreamer process to another through ksallocsink/ksallocsrc
# (gst/, this build's plugin, on this build's ksallocd), shmsink/shmsrc zero-copy and with
# a copy, and PipeWire 0.3 (its daemon started here), against the floor: the same source
# into a fakesink in one process. The peers and their pipelines are those measured before
# the plugin was written (the media survey's sections 2 and 3).
# Builds nothing: scripts/bench builds, then calls this.
#
#   bench/run-gst.sh [BUILD_DIR [ROUNDS]]
#
# Each round runs every variant once, pattern by pattern; ratios to the floor are taken
# within a round, then the median over the rounds (ROUNDS, from the environment or the
# second argument; 5 unless set). A run that stalls is counted, not fatal.
set -euo pipefail

. "$(dirname "$0")/run-lib.sh"
bench_find bench-gst "${1:-}" ksallocd
rounds=${2:-${ROUNDS:-5}}

. "$root/scripts/lib.sh"
ensure_packages gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-bad \
	pipewire pipewire-bin gstreamer1.0-pipewire

caps=video/x-raw,format=I420,width=1920,height=1080
patterns=("black 3000" "smpte 2000")
variants=(floor ksalloc ksalloc-new shm shm-copy pipewire)
stall_ms=1500      # no buffer for this long after the first: stalled
first_ms=10000     # no buffer at all this long after PLAYING: stalled
timeout_ms=60000   # a whole run, in bench-gst; timeout(1) kills it 15 s later still
min_cpu_frames=200 # CPU per frame is taken from runs whose consumer got at least this many
plugin="$build/gst/libgstksalloc.so"

tmp=$(mktemp -d)
procs=() # every process started here that may still run
ksallocd=""
pipewire=""
stop_all() {
	local p
	for p in "${procs[@]}" $ksallocd $pipewire; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${procs[@]}" $ksallocd $pipewire; do
		# A process that ignores SIGTERM gets SIGKILL after 5 s.
		timeout 5 tail --pid="$p" -f /dev/null 2>/dev/null || kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	procs=()
	ksallocd=""
	pipewire=""
}
trap 'stop_all; rm -rf "$tmp"' EXIT

# Every GStreamer process of this run: a registry of its own (so nothing cached elsewhere
# is trusted or touched), this build's plugin, and the PipeWire daemon started below.
export GST_REGISTRY="$tmp/registry.bin"
export XDG_RUNTIME_DIR="$tmp/xdg"
unset PIPEWIRE_REMOTE PIPEWIRE_RUNTIME_DIR NOTIFY_SOCKET
mkdir -m 700 "$XDG_RUNTIME_DIR"
have_plugin=0
if [ -f "$plugin" ]; then
	export GST_PLUGIN_PATH="$build/gst"
	have_plugin=1
fi
gst-inspect-1.0 fakesink >/dev/null # fills the registry once, before anything is timed
if [ "$have_plugin" = 1 ] && ! gst-inspect-1.0 ksallocsink >/dev/null 2>&1; then
	echo "run-gst.sh: $plugin is there, but GStreamer does not load ksallocsink from it:" >&2
	GST_DEBUG=2 gst-inspect-1.0 "$plugin" >&2 || true
	have_plugin=0
	plugin_broken=1
fi
cons_buffers=""
if [ "$have_plugin" = 1 ] && gst-inspect-1.0 ksallocsrc 2>/dev/null | grep -q 'num-buffers'; then
	cons_buffers=1 # ksallocsrc is a GstBaseSrc: it can stop itself after N buffers
fi

# cpu_ticks PID: user + system clock ticks of PID so far (/proc/PID/stat, fields 14 and 15;
# the command name, which may hold spaces, cut off first).
cpu_ticks() {
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}
hz=$(getconf CLK_TCK)

# wait_for WHAT TRIES COMMAND...: runs COMMAND every 50 ms until it succeeds, at most TRIES
# times.
wait_for() {
	local what=$1 tries=$2 i
	shift 2
	for ((i = 0; i < tries; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	echo "run-gst.sh: gave up waiting for $what" >&2
	return 1
}

# ksallocd of this build on a socket of its own. The config declares one stream per run of
# the ksalloc variant, ks-ROUND-PATTERN, on a pool of 12 frames of 1080p I420 (what
# ksallocsink would make for these caps, 12 frames being its default), so that the
# consumer is subscribed before the producer's first frame. ksalloc-new's streams are not
# declared: ksallocsink creates them, and a pool for the caps.
start_ksallocd() {
	local round p pattern n
	{
		printf '[daemon]\nlog_level = warning\n'
		printf '[pool gst-1080p]\nframes = 12\nframe_size = 3110400\nalignment = 64\n'
		for round in $(seq "$rounds"); do
			for p in "${patterns[@]}"; do
				read -r pattern n <<<"$p"
				printf '[stream ks-%s-%s]\npool = gst-1080p\n' "$round" "$pattern"
			done
		done
	} >"$tmp/ksallocd.conf"
	"$build/bin/ksallocd" --config "$tmp/ksallocd.conf" --socket "$tmp/ksallocd.sock" \
		>"$tmp/ksallocd.log" 2>&1 &
	ksallocd=$!
	wait_for ksallocd 200 "$build/bin/ksallocctl" --socket "$tmp/ksallocd.sock" list \
		>/dev/null 2>&1 || { cat "$tmp/ksallocd.log" >&2; return 1; }
}

# pipewire on the default /usr/share/pipewire/pipewire.conf, without D-Bus (it says it cannot
# reach a session bus, which is harmless) and without a session manager: run() links the
# nodes itself with pw-link.
start_pipewire() {
	pipewire >"$tmp/pipewire.log" 2>&1 &
	pipewire=$!
	wait_for pipewire 200 test -S "$XDG_RUNTIME_DIR/pipewire-0" ||
		{ cat "$tmp/pipewire.log" >&2; return 1; }
}

# port DIRECTION NODE: NODE's first port as pw-link lists it (-o outputs, -i inputs).
port() {
	pw-link "$1" 2>/dev/null | grep -m1 "^$2:"
}

# subscribed STREAM: whether a consumer has joined ksallocd's STREAM.
subscribed() {
	"$build/bin/ksallocctl" --socket "$tmp/ksallocd.sock" --json streams "$1" 2>/dev/null |
		grep -q '"slot":'
}

# start ROLE DESCRIPTION...: bench-gst in the background; its pid in pid[ROLE].
declare -A pid
start() {
	local role=$1
	shift
	timeout -k 5 $((timeout_ms / 1000 + 15)) "$bin" --stall-ms "$stall_ms" \
		--first-ms "$first_ms" --timeout-ms "$timeout_ms" "$@" \
		>"$tmp/$role.out" 2>"$tmp/$role.err" &
	pid[$role]=$!
	procs+=($!)
}

# finish TAG ROLE: waits for ROLE's bench-gst (in this shell: a subshell cannot wait for
# it) and adds its result line, tagged, to $tmp/results, or a line saying how it ended.
finish() {
	local rc=0 line
	wait "${pid[$2]}" || rc=$?
	unset "pid[$2]"
	line=$(grep -m1 '^result ' "$tmp/$2.out" || true)
	if [ -z "$line" ]; then
		line="result status=killed frames=0 seconds=0 fps=0 cpu_s=0 cpu_ms_per_frame=0"
		line+=" first_ns=0 last_ns=0 error=exit status $rc, no result line"
	fi
	echo "$1 role=$2 ${line#result }" >>"$tmp/results"
}

alive() {
	kill -0 "$1" 2>/dev/null
}

# run ROUND PATTERN N VARIANT: one run of VARIANT, its result lines into $tmp/results:
# "role=prod|cons|one" and, for a daemon, "role=daemon cpu_s=...".
failed=()
run() {
	local round=$1 pattern=$2 n=$3 variant=$4 tag src d0="" d1 daemon="" name p_port c_port
	local f p_bench role shm_before
	shm_before=$(ls /dev/shm)
	tag="round=$round pattern=$pattern n=$n variant=$variant"
	src=(videotestsrc "pattern=$pattern" "num-buffers=$n" ! "$caps")
	name="gst-$round-$pattern-$$"
	rm -f "$tmp"/{one,prod,cons}.{out,err}
	case $variant in
	floor)
		start one "${src[@]}" ! fakesink name=m sync=false
		finish "$tag" one
		procs=()
		return
		;;
	ksalloc | ksalloc-new)
		daemon=$ksallocd
		d0=$(cpu_ticks "$daemon")
		if [ "$variant" = ksalloc ]; then
			name="ks-$round-$pattern" # declared in the config: the consumer joins it now
		else
			name="ksnew-$round-$pattern" # made by the sink: the consumer polls for it
		fi
		# The consumer first. On a declared stream it is subscribed once it has started
		# (its port in ksallocctl streams), before the producer starts; ksallocsrc
		# looks for a stream not created yet every 100 ms, so on ksalloc-new it joins
		# up to that late and misses what was published before.
		start cons ksallocsrc "stream=$name" "socket=$tmp/ksallocd.sock" policy=block \
			${cons_buffers:+"num-buffers=$n"} ! "$caps" ! fakesink name=m sync=false
		if [ "$variant" = ksalloc ]; then
			wait_for "ksallocsrc's subscription" 200 subscribed "$name" || true
		fi
		start prod --property copies --property published "${src[@]}" ! ksallocsink name=m \
			"stream=$name" "socket=$tmp/ksallocd.sock" sync=false
		;;
	shm | shm-copy)
		# The producer first: shmsrc fails unless shmsink's socket is there, and shmsink
		# (wait-for-connection) holds the first buffer until a reader connects.
		local copy=()
		[ "$variant" = shm-copy ] && copy=(identity drop-allocation=true !)
		start prod "${src[@]}" ! "${copy[@]}" shmsink name=m "socket-path=$tmp/$name.shm" \
			shm-size=40000000 wait-for-connection=true sync=false
		if wait_for "shmsink's socket" 200 test -S "$tmp/$name.shm"; then
			start cons shmsrc "socket-path=$tmp/$name.shm" "num-buffers=$n" ! "$caps" ! \
				fakesink name=m sync=false
		fi
		;;
	pipewire)
		if ! alive "$pipewire"; then
			failed+=("pipewire died before round $round ($pattern); started again")
			if ! start_pipewire; then
				failed+=("pipewire would not start again: round $round ($pattern) left out")
				return
			fi
		fi
		daemon=$pipewire
		d0=$(cpu_ticks "$daemon")
		# The consumer first, then the producer (the driver: it sends once linked), then
		# the link between their ports, as no session manager runs.
		start cons pipewiresrc "target-object=$name-p" "num-buffers=$n" \
			"stream-properties=props,node.name=$name-c" ! "$caps" ! fakesink name=m sync=false
		wait_for "pipewiresrc's port" 200 port -i "$name-c" >/dev/null || true
		start prod "${src[@]}" ! pipewiresink name=m mode=provide \
			"stream-properties=props,node.name=$name-p,media.class=Video/Source" sync=false
		if wait_for "pipewiresink's port" 200 port -o "$name-p" >/dev/null; then
			p_port=$(port -o "$name-p")
			c_port=$(port -i "$name-c" || true)
			if [ -z "$c_port" ] || ! pw-link "$p_port" "$c_port" 2>"$tmp/link.err"; then
				failed+=("pipewire round $round ($pattern): pw-link ${p_port:-?} ${c_port:-?}: $(cat "$tmp/link.err")")
			fi
		fi
		;;
	esac
	for role in prod cons; do
		[ -n "${pid[$role]:-}" ] || continue
		finish "$tag" "$role"
	done
	procs=()
	if [ -n "$daemon" ]; then
		d1=$(cpu_ticks "$daemon")
		echo "$tag role=daemon cpu_s=$(awk -v a="$d0" -v b="$d1" -v hz="$hz" \
			'BEGIN { print (b - a) / hz }')" >>"$tmp/results"
	fi
	# shmsink unlinks its area when it stops; one killed halfway leaves /dev/shm/shmpipe.PID.*:
	# those that appeared during this run and whose process is gone go.
	for f in /dev/shm/shmpipe.*; do
		[ -e "$f" ] || continue
		grep -qxF "${f#/dev/shm/}" <<<"$shm_before" && continue
		p_bench=${f#/dev/shm/shmpipe.}
		p_bench=${p_bench%%.*}
		alive "$p_bench" || rm -f "$f"
	done
}

bench_header "GStreamer between processes: ksallocsink/ksallocsrc, shmsink/shmsrc, PipeWire"
echo "- $caps (3110400 B a frame); $rounds rounds, each running every variant once per pattern"
echo "- GStreamer $(dpkg-query -W -f='${Version}' libgstreamer1.0-0 2>/dev/null || echo '?')," \
	"plugins-bad $(dpkg-query -W -f='${Version}' gstreamer1.0-plugins-bad 2>/dev/null || echo '?')," \
	"PipeWire $(dpkg-query -W -f='${Version}' pipewire 2>/dev/null || echo '?')"
echo
start=$(date +%s)
: >"$tmp/results"
if [ "$have_plugin" = 1 ]; then
	start_ksallocd
else
	variants=(floor shm shm-copy pipewire)
fi
start_pipewire
for round in $(seq "$rounds"); do
	for p in "${patterns[@]}"; do
		read -r pattern n <<<"$p"
		for v in "${variants[@]}"; do
			run "$round" "$pattern" "$n" "$v"
		done
	done
done
stop_all

if [ "$have_plugin" = 1 ]; then
	ksalloc_note=""
elif [ -n "${plugin_broken:-}" ]; then
	ksalloc_note="skipped: $plugin does not load (see stderr)"
else
	ksalloc_note="skipped: plugin not built ($plugin)"
fi

python3 - "$tmp/results" "$stall_ms" "$min_cpu_frames" "$ksalloc_note" <<'EOF'
import statistics, sys

path, stall_ms, min_frames, ksalloc_note = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]


def parse(line):
    line, _, error = line.rstrip("\n").partition(" error=")
    kv = dict(f.split("=", 1) for f in line.split() if "=" in f)
    if error:
        kv["error"] = error
    return kv


runs = {}  # (pattern, variant, round) -> {role: kv}
for line in open(path):
    kv = parse(line)
    runs.setdefault((kv["pattern"], kv["variant"], int(kv["round"])), {})[kv["role"]] = kv

patterns = []
for p, _, _ in runs:
    if p not in patterns:
        patterns.append(p)


def num(kv, key):
    return float(kv.get(key, 0) or 0)


def summary(pattern, variant, rnd):
    """One run: complete?, frames at the consumer, its fps, CPU ms/frame parts, why not complete."""
    r = runs[(pattern, variant, rnd)]
    if "one" in r:
        one = r["one"]
        ok = one["status"] == "eos"
        return dict(ok=ok, frames=num(one, "frames"), fps=num(one, "fps"),
                    cpu=[num(one, "cpu_ms_per_frame")], why="" if ok else one["status"])
    prod, cons = r.get("prod"), r.get("cons")
    if not prod or not cons:
        return dict(ok=False, frames=0, fps=0, cpu=[], why="consumer not started")
    # Complete: the producer reached EOS and the consumer either did too, or (a peer that
    # carries no EOS: PipeWire) it went idle having got frames up to within the stall
    # window of the producer's last, i.e. it never went stall_ms without a frame while the
    # producer still sent.
    idle_end = (cons["status"] == "stalled" and num(cons, "frames") > 0
                and num(prod, "last_ns") - num(cons, "last_ns") < stall_ms * 1e6)
    ok = prod["status"] == "eos" and (cons["status"] == "eos" or idle_end)
    frames = num(cons, "frames")
    cpu = [num(prod, "cpu_ms_per_frame"), num(cons, "cpu_ms_per_frame")]
    if "daemon" in r:
        cpu.append(num(r["daemon"], "cpu_s") * 1000 / frames if frames else 0)
    why = "" if ok else f"producer {prod['status']}, consumer {cons['status']}"
    return dict(ok=ok, frames=frames, fps=num(cons, "fps"), cpu=cpu, why=why)


def med(v):
    return statistics.median(v) if v else None


def fmt(v, digits=3):
    if v is None:
        return "-"
    return f"{v:.{digits}g}" if v < 10 ** digits else f"{v:.0f}"


def paired(a, b):
    r = [a[k] / b[k] for k in a if k in b and b[k] > 0]
    if not r:
        return "-"
    r.sort()
    s = f"{statistics.median(r):.2f}"
    if len(r) > 1:
        s += f" ({r[0]:.2f}-{r[-1]:.2f})"
    return s


names = {
    "floor": "floor, 1 process",
    "ksalloc": "ksallocsink → ksallocsrc, declared stream",
    "ksalloc-new": "ksallocsink → ksallocsrc, stream made by the sink",
    "shm": "shmsink → shmsrc, zero-copy",
    "shm-copy": "shm + copy (identity drop-allocation)",
    "pipewire": "pipewiresink → pipewiresrc",
}
order = ["floor", "ksalloc", "ksalloc-new", "shm", "shm-copy", "pipewire"]
problems = []
print("| pattern (N) | variant | fps | CPU ms/frame: producer + consumer (+ daemon) = total "
      "| CPU ×floor | fps ×floor | frames lost (complete runs) | complete runs |")
print("|---|---|---|---|---|---|---|---|")
for pattern in patterns:
    n = next(int(next(iter(v.values()))["n"]) for k, v in runs.items() if k[0] == pattern)
    floor = {k[2]: summary(pattern, "floor", k[2]) for k in runs if k[:2] == (pattern, "floor")}
    floor_cpu = {r: sum(s["cpu"]) for r, s in floor.items() if s["frames"] >= min_frames}
    floor_fps = {r: s["fps"] for r, s in floor.items() if s["ok"]}
    for variant in order:
        rounds = sorted(k[2] for k in runs if k[:2] == (pattern, variant))
        label = names[variant]
        if not rounds:
            if variant.startswith("ksalloc") and ksalloc_note:
                print(f"| {pattern} ({n}) | {label} | {ksalloc_note} | | | | | |")
            continue
        s = {r: summary(pattern, variant, r) for r in rounds}
        fps = med([x["fps"] for x in s.values() if x["ok"]])
        with_cpu = {r: x for r, x in s.items() if x["frames"] >= min_frames}
        parts = list(zip(*[x["cpu"] for x in with_cpu.values()]))
        if parts:
            meds = [statistics.median(p) for p in parts]
            total = statistics.median([sum(x["cpu"]) for x in with_cpu.values()])
            cpu = " + ".join(fmt(m) for m in meds)
            if len(meds) > 1:
                cpu += f" = {fmt(total)}"
            if len(with_cpu) < len(s):
                cpu += f" ({len(with_cpu)} run{'' if len(with_cpu) == 1 else 's'})"
        else:
            cpu = "-"
        if variant == "floor":
            cpu_ratio = fps_ratio = "1"
        else:
            cpu_ratio = paired({r: sum(x["cpu"]) for r, x in with_cpu.items()}, floor_cpu)
            fps_ratio = paired({r: x["fps"] for r, x in s.items() if x["ok"]}, floor_fps)
        done = [x for x in s.values() if x["ok"]]
        lost = "-"
        if done and variant != "floor":
            lost = ", ".join(str(int(n - x["frames"])) for x in done)
        ok = len(done)
        status = f"{ok}/{len(s)}" if ok == len(s) else f"**{ok}/{len(s)}**"
        print(f"| {pattern} ({n}) | {label} | {fmt(fps)} | {cpu} | {cpu_ratio} | {fps_ratio} | {lost} | {status} |")
        for r, x in sorted(s.items()):
            if not x["ok"]:
                errs = [kv.get("error") for kv in runs[(pattern, variant, r)].values() if kv.get("error")]
                problems.append(f"{pattern} {variant}, round {r}: {x['why']}, {int(x['frames'])} frames"
                                + (f" ({'; '.join(errs)})" if errs else ""))
print()
for variant in ("ksalloc", "ksalloc-new"):
    sinks = [r["prod"] for (p, v, _), r in runs.items() if v == variant and "prod" in r]
    if sinks:
        copies = sum(int(k.get("m.copies", "0")) for k in sinks if k.get("m.copies", "?") != "?")
        published = sum(int(k.get("m.published", "0")) for k in sinks if k.get("m.published", "?") != "?")
        print(f"- {names[variant]}: ksallocsink published {published} buffers over {len(sinks)} runs "
              f"and copied {copies} of them into a frame (its \"copies\"; 0: upstream wrote into the frames).")
if any(v.startswith("ksalloc") for (_, v, _) in runs):
    print()
if problems:
    print("Runs that did not complete:")
    print()
    for p in problems:
        print(f"- {p}")
    print()
EOF

cat <<EOT
- each variant: \`videotestsrc pattern=P num-buffers=N ! $caps ! X\` into the element named
  m, and for two processes a consumer \`Y ! $caps ! fakesink name=m sync=false\`; every
  sink has sync=false. bench-gst counts the buffers reaching m's sink pad in each process.
  - floor: X = \`fakesink name=m\`, 1 process.
  - ksalloc, declared stream: X = \`ksallocsink name=m stream=S socket=...\`,
    Y = \`ksallocsrc stream=S socket=... policy=block${cons_buffers:+ num-buffers=N}\`, on
    this build's ksallocd (a socket and config of its own, started here), whose config
    declares S on a pool of 12 frames of 3110400 B (alignment 64), the size and count
    ksallocsink picks when it makes a pool itself. The consumer starts first and the
    producer once \`ksallocctl streams S\` lists the consumer, so no frame is published
    before it is subscribed.
  - ksalloc, stream made by the sink: the same pipelines on a stream the config does not
    declare: ksallocsink creates it with a pool for the caps (12 frames). The consumer
    starts first, but ksallocsrc looks for a stream that does not exist yet every 100 ms,
    so it joins up to that long after the producer's first frame and misses those
    published before (the "frames lost").
  - shm: X = \`shmsink name=m socket-path=S shm-size=40000000 wait-for-connection=true\`,
    Y = \`shmsrc socket-path=S num-buffers=N\` (no caps cross: the consumer restates
    them). The producer starts first (shmsrc fails without the socket; shmsink waits for
    its reader); the consumer once the socket is there.
  - shm + copy: the same with \`identity drop-allocation=true !\` before shmsink, which
    then copies every buffer into its area.
  - pipewire: X = \`pipewiresink name=m mode=provide stream-properties=props,node.name=P,media.class=Video/Source\`,
    Y = \`pipewiresrc target-object=P num-buffers=N\`, on a \`pipewire\` daemon started
    here (XDG_RUNTIME_DIR a temporary folder, the default pipewire.conf, no session
    manager). The consumer starts first, then the producer, then \`pw-link\` joins
    their ports once both are listed. PipeWire carries no EOS: a consumer that lost
    frames ends idle.
- fps: the consumer's buffers from its first to its last (the floor's own), over
  complete runs; median over rounds.
- CPU: getrusage(RUSAGE_SELF), user + system of all threads, from each process's first
  buffer to its last, per buffer; the daemon's (ksallocd's or pipewire's) is
  /proc/PID/stat's utime + stime (10 ms ticks) from before the run's first process
  starts to after its last one exits, so its set-up counts, divided by the frames
  the consumer got. Medians over runs whose consumer got at least $min_cpu_frames frames
  (stalled ones too; the count is given when some were left out).
- ×floor: the variant's figure over the floor's in the same round and pattern; the median
  (min-max) of those ratios.
- complete: the producer reached EOS and the consumer either did too or got frames up to
  within ${stall_ms} ms of the producer's last one. A run is stalled when no buffer came for
  $stall_ms ms after the first (or none in $((first_ms / 1000)) s); each process is bounded
  by $((timeout_ms / 1000)) s and its teardown by 5 s. "frames lost": N less the frames the
  consumer got, per complete run.
- processes are not pinned; other work on this machine shows up as noise.
EOT
if [ ${#failed[@]} -gt 0 ]; then
	echo "- **problems in the harness:**"
	for f in "${failed[@]}"; do
		echo "  - $f"
	done
fi
echo "- run-gst.sh took $(($(date +%s) - start)) s in all."
