#!/bin/bash
# The scenarios of scripts/test-system, run in its guest (Debian 12, systemd as
# PID 1) by ksalloc-system-test.service once multi-user.target is reached. It
# installs the packages of /ksalloc-test/debs with apt, then plays an
# administrator and users: socket activation, who may connect and open what,
# the sandbox, reload, restarts while a stream flows, an upgrade, a purge.
#
# Its output goes to the second serial port (the runner shows it): per scenario
# a "== N NAME" line, what it checks ("ok:" or "NOT OK:", with what it saw), and
# "PASS N NAME: ..." or "FAIL N NAME: ...". The console (ttyS0) gets the
# markers the runner reads: KSALLOC-SYSTEM-START, KSALLOC-SYSTEM-RESULT N
# PASS|FAIL, KSALLOC-SYSTEM-TIMING KEY VALUE and KSALLOC-SYSTEM-EXIT FAILED.
set -u

D=/ksalloc-test
export PATH=$D/bin:/usr/sbin:/usr/bin:/sbin:/bin
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
CONF=/etc/ksallocd/ksallocd.conf
SOCK=/run/ksallocd/ksallocd.sock
WORK=/tmp/ksalloc-test
# The stream scenarios' pace: the guest runs under TCG on one CPU.
FPS=20

mkdir -p "$WORK"
chmod 0755 "$WORK"
stty -F /dev/ttyS1 raw -echo 2>/dev/null

marker() {
	echo "$*" >/dev/ttyS0
}

failed=0
problems=()
scenario=
begin() {
	scenario="$1 $2"
	problems=()
	echo
	echo "== $scenario"
}
# ok WHAT and bad WHAT: a check's outcome, on one line.
ok() {
	echo "  ok: $(tr '\n' ' ' <<<"$*" | sed 's/ *$//')"
}
bad() {
	local what
	what=$(tr '\n' ' ' <<<"$*" | sed 's/ *$//')
	echo "  NOT OK: $what"
	problems+=("$what")
}
# end SUMMARY: the scenario's PASS or FAIL line (the first problem, and how many more).
end() {
	local more=
	if [ ${#problems[@]} -eq 0 ]; then
		echo "PASS $scenario: $1"
		marker "KSALLOC-SYSTEM-RESULT ${scenario%% *} PASS"
	else
		[ ${#problems[@]} -gt 1 ] && more=" (and $((${#problems[@]} - 1)) more above)"
		echo "FAIL $scenario: ${problems[0]}$more"
		marker "KSALLOC-SYSTEM-RESULT ${scenario%% *} FAIL"
		failed=$((failed + 1))
	fi
}
# Prints @2... indented, as what a check saw.
show() {
	sed 's/^/      /' <<<"$*"
}
# run_as USER CMD...: CMD as USER with USER's groups as /etc/group has them now.
run_as() {
	local user=$1
	shift
	setpriv --reuid="$user" --regid="$user" --init-groups -- "$@"
}
# The same as alice, for commands run in the background: a function would run in a
# subshell, whose PID $! would be, and setpriv execs CMD (runuser would fork), so $! of
# `"${AS_ALICE[@]}" CMD &` is CMD's own PID, for signals.
AS_ALICE=(setpriv --reuid=alice --regid=alice --init-groups --)
main_pid() {
	systemctl show -p MainPID --value ksallocd.service
}
# wait_for SECONDS CMD...: until CMD succeeds (checked every 0.2 s); fails after SECONDS.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}
# The frames a stream-consumer's output @1 counted in its "last second" lines so far.
received() {
	awk '/^last second:/ { n += $3 } END { print n + 0 }' "$1" 2>/dev/null || echo 0
}
# flowing SECONDS FILE...: until each consumer's count grew by 2 s of frames.
flowing() {
	local seconds=$1 f counts=() i=0 deadline
	shift
	for f in "$@"; do
		counts+=("$(received "$f")")
	done
	deadline=$((SECONDS + seconds))
	for f in "$@"; do
		until [ "$(received "$f")" -ge $((counts[i] + 2 * FPS)) ]; do
			[ "$SECONDS" -lt "$deadline" ] || return 1
			sleep 0.5
		done
		i=$((i + 1))
	done
}
# The PID of a new daemon that is active, other than @1, or nothing yet.
new_daemon() {
	local pid
	pid=$(main_pid)
	[ "$(systemctl is-active ksallocd.service)" = active ] && [ "$pid" != 0 ] &&
		[ "$pid" != "$1" ]
}
# reap PID SECONDS: sets rc to the exit status of child PID, or "hung" when it has not
# ended in SECONDS (it is killed then).
reap() {
	rc=0
	if wait_for "$2" sh -c "! kill -0 $1"; then
		wait "$1" || rc=$?
	else
		kill -9 "$1"
		wait "$1"
		rc=hung
	fi
}
# Every PID, UID and command line of a running ksallocd.
daemons() {
	ps -C ksallocd -o pid=,user=,args= 2>/dev/null
}

# The packages to install (their names from the .debs), and their upgrades.
debs=("$D"/debs/*.deb)
packages=()
for deb in "${debs[@]}"; do
	packages+=("$(dpkg-deb -f "$deb" Package)")
done

marker "KSALLOC-SYSTEM-START $(uname -r)"
echo "== guest: $(uname -r), $(systemctl --version | head -1), $(nproc) CPU," \
	"$(free -m | awk '/^Mem:/ { print $2 }') MiB"
# systemd-analyze cannot tell yet: this service is part of the boot.
up=$(systemctl show -p ActiveEnterTimestampMonotonic --value multi-user.target)
echo "   multi-user.target reached $((up / 1000)) ms after the kernel started"
marker "KSALLOC-SYSTEM-TIMING multi-user $up"

# -- 0 install: apt installs every package of the .debs, offline.
begin 0 install
before=$SECONDS
if out=$(apt-get install -y -q --no-install-recommends "${debs[@]}" 2>&1); then
	ok "apt-get install ${debs[*]##*/} ($((SECONDS - before)) s)"
else
	bad "apt-get install ${debs[*]##*/} failed:"
	show "$out"
fi
installed=1
for p in "${packages[@]}"; do
	s=$(dpkg-query -W -f='${Status} ${Version}' "$p" 2>&1)
	case $s in
	"install ok installed "*) ok "$p ${s##* } installed" ;;
	*) bad "$p is not installed: $s"; installed=0 ;;
	esac
done
# The GStreamer plugin, where a package has it, is found where GStreamer looks.
if dpkg -L "${packages[@]}" 2>/dev/null | grep -q '/gstreamer-1.0/libgstksalloc\.so$'; then
	if out=$(gst-inspect-1.0 ksallocsink 2>&1); then
		ok "gst-inspect-1.0 finds ksallocsink: $(grep -m1 'Filename' <<<"$out" | tr -s ' ')"
	else
		bad "gst-inspect-1.0 ksallocsink: $out"
	fi
fi
end "${packages[*]} installed"
if [ "$installed" -eq 0 ]; then
	echo "the packages are not installed: no scenario can run"
	marker "KSALLOC-SYSTEM-EXIT $((failed))"
	exit 1
fi

# The users and pools of the scenarios, before the first client starts the daemon,
# which resolves owner= and group= when it reads the file: alice is a member of
# group ksalloc, bob is not, other owns a pool only its owner may use.
useradd -m -s /bin/bash alice
usermod -aG ksalloc alice
useradd -m -s /bin/bash bob
useradd -m -s /bin/bash other
cp "$CONF" "$WORK/ksallocd.conf.orig"
cat >>"$CONF" <<'EOF'

# scripts/test-system's pools.
[pool test-shared]
frames = 4
frame_size = 64K

[pool test-private]
frames = 2
frame_size = 4K
owner = other
group = other
mode = 0600

[pool test-dmaheap]
frames = 4
frame_size = 64K
backend = dmaheap:system

[pool test-udmabuf]
frames = 4
frame_size = 64K
backend = udmabuf

[pool test-locked]
frames = 4
frame_size = 64K
lock = yes

[pool test-stream]
frames = 16
frame_size = 16K
EOF

# -- 1 boot: socket activation, status text, journal.
begin 1 boot
s=$(systemctl is-enabled ksallocd.socket 2>&1)
[ "$s" = enabled ] && ok "ksallocd.socket is enabled" || bad "ksallocd.socket is $s, not enabled"
s=$(systemctl is-active ksallocd.socket 2>&1)
[ "$s" = active ] && ok "ksallocd.socket is active" || bad "ksallocd.socket is $s, not active"
if [ -S "$SOCK" ]; then
	s=$(stat -c '%U:%G %a' "$SOCK")
	[ "$s" = "root:ksalloc 660" ] && ok "$SOCK is a socket, $s" ||
		bad "$SOCK is $s, not root:ksalloc 660"
else
	bad "no socket $SOCK"
fi
s=$(systemctl show -p Listen --value ksallocd.socket)
[ "$s" = "$SOCK (SequentialPacket)" ] && ok "ksallocd.socket listens on $s" ||
	bad "ksallocd.socket listens on '$s'"
s=$(systemctl is-active ksallocd.service 2>&1)
[ "$s" = inactive ] && ok "ksallocd.service is inactive before the first client" ||
	bad "ksallocd.service is $s before any client connected (not socket-activated?)"
[ -z "$(daemons)" ] && ok "no ksallocd process yet" || bad "ksallocd runs already: $(daemons)"
if out=$(ksallocctl list 2>&1); then
	ok "ksallocctl list (the first client):"
	show "$out"
	grep -q '^ *video-1080p\b\|video-1080p' <<<"$out" && ok "it lists the shipped pool video-1080p" ||
		bad "ksallocctl list has no video-1080p"
else
	bad "ksallocctl list failed:"
	show "$out"
fi
s=$(systemctl is-active ksallocd.service 2>&1)
[ "$s" = active ] && ok "ksallocd.service is active after it" ||
	bad "ksallocd.service is $s after the first client"
pid=$(main_pid)
ready=$(systemctl show -p ActiveEnterTimestampMonotonic --value ksallocd.service)
started=$(systemctl show -p InactiveExitTimestampMonotonic --value ksallocd.service)
marker "KSALLOC-SYSTEM-TIMING ready $ready"
marker "KSALLOC-SYSTEM-TIMING activation $((ready - started))"
ok "READY at $((ready / 1000)) ms after the kernel started, $(((ready - started) / 1000)) ms" \
	"after the first connection started it"
out=$(systemctl status --no-pager ksallocd.service 2>&1)
show "$out"
grep -q 'Active: active (running)' <<<"$out" && ok "systemctl status: active (running)" ||
	bad "systemctl status does not say active (running)"
grep -q 'Status: "' <<<"$out" && ok "systemctl status shows the daemon's status text" ||
	bad "systemctl status shows no Status: line"
s=$(systemctl show -p StatusText --value ksallocd.service)
[ -n "$s" ] && ok "StatusText=$s" || bad "StatusText is empty (no STATUS= from the daemon)"
out=$(journalctl -u ksallocd.service --no-pager -o short-monotonic 2>&1)
show "$out"
grep -q "ksallocd\[$pid\]: ksallocd .* serving [0-9]* pools on" <<<"$out" &&
	ok "the journal has the daemon's start-up line" ||
	bad "journalctl -u ksallocd has no 'ksallocd ... serving N pools on' line of PID $pid"
end "socket-activated on the first client, status and journal as documented"

# -- 2 access: group ksalloc, per-pool owner/group/mode.
begin 2 access
if out=$(run_as alice ksallocctl list 2>&1); then
	ok "alice (group ksalloc) ran ksallocctl list:"
	show "$out"
	grep -q test-shared <<<"$out" && ok "alice sees test-shared" || bad "alice does not see test-shared"
	grep -q test-private <<<"$out" && bad "alice sees test-private (mode 0600, other's)" ||
		ok "alice does not see test-private (mode 0600, other's)"
else
	bad "alice (group ksalloc) cannot run ksallocctl list:"
	show "$out"
fi
if out=$(run_as alice pool-client open test-shared 2>&1); then
	ok "alice opened test-shared and used a frame: $out"
else
	bad "alice cannot open test-shared: $out"
fi
out=$(run_as bob ksallocctl list 2>&1)
rc=$?
if [ $rc -ne 0 ] && grep -q "cannot connect to ksallocd at $SOCK: Permission denied" <<<"$out"; then
	ok "bob (not in group ksalloc) is refused (status $rc): $out"
else
	bad "bob (not in group ksalloc): status $rc, want 1 and 'cannot connect ... Permission denied':"
	show "$out"
fi
out=$(run_as bob pool-client open test-shared 2>&1)
rc=$?
[ $rc -ne 0 ] && grep -q 'Permission denied' <<<"$out" &&
	ok "bob cannot open test-shared either: $out" ||
	bad "bob opening test-shared: status $rc: $out"
out=$(run_as alice pool-client open test-private 2>&1)
rc=$?
if [ $rc -ne 0 ] && grep -q 'may not .*test-private' <<<"$out"; then
	ok "alice may not open test-private (other's, 0600): $out"
else
	bad "alice opening test-private (other's, 0600): status $rc, want a refusal saying 'may not':"
	show "$out"
fi
out=$(run_as alice ksallocctl status test-private 2>&1)
rc=$?
[ $rc -ne 0 ] && ok "alice may not see test-private's status: $out" ||
	bad "alice sees test-private's status: $out"
out=$(pool-client open test-private 2>&1) && ok "root may open test-private: $out" ||
	bad "root cannot open test-private: $out"
end "members connect and open their pools; others are refused, and say why"

# -- 3 sandbox: who the daemon is, what it may do, and that its backends work.
begin 3 sandbox
pid=$(main_pid)
if [ "$pid" = 0 ] || [ ! -d "/proc/$pid" ]; then
	bad "ksallocd is not running (MainPID $pid)"
else
	st=$(cat "/proc/$pid/status")
	show "$(grep -E '^(Uid|Gid|Groups|Cap[A-Za-z]*|Seccomp|NoNewPrivs):' <<<"$st")"
	uid=$(id -u ksalloc)
	s=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' <<<"$st")
	[ "$s" = "$uid $uid $uid $uid" ] && ok "runs as user ksalloc ($uid)" ||
		bad "Uid: $s, not ksalloc's $uid"
	for c in CapInh CapPrm CapEff CapBnd CapAmb; do
		s=$(awk -v c="$c:" '$1 == c { print $2 }' <<<"$st")
		[ "$s" = 0000000000000000 ] && ok "$c 0" || bad "$c is $s, not 0"
	done
	s=$(awk '$1 == "Seccomp:" { print $2 }' <<<"$st")
	[ "$s" = 2 ] && ok "Seccomp: 2 (a filter)" || bad "Seccomp: $s, not 2"
	s=$(awk '$1 == "NoNewPrivs:" { print $2 }' <<<"$st")
	[ "$s" = 1 ] && ok "NoNewPrivs: 1" || bad "NoNewPrivs: $s, not 1"
	s=$(awk '$5 == "/" { print $6 }' "/proc/$pid/mountinfo" | tail -1)
	[[ $s == ro* ]] && ok "its / is mounted $s" || bad "its / is mounted $s, not ro"
	for dir in /usr /etc /var; do
		if out=$(nsenter -t "$pid" -m -- touch "$dir/ksalloc-test" 2>&1); then
			bad "root in its mount namespace could create $dir/ksalloc-test"
			nsenter -t "$pid" -m -- rm -f "$dir/ksalloc-test"
		else
			ok "its $dir is read-only: $out"
		fi
	done
	s=$(awk '/^Max open files/ { print $4, $5 }' "/proc/$pid/limits")
	read -r soft hard <<<"$s"
	if [ "$soft" = "$hard" ] && { [ "$soft" = unlimited ] || [ "$soft" -ge 16384 ]; }; then
		ok "RLIMIT_NOFILE $soft (soft raised to the hard limit, room for FileDescriptorStoreMax=16384)"
	else
		bad "RLIMIT_NOFILE soft $soft, hard $hard: want soft = hard >= 16384"
	fi
fi
for dev in /dev/dma_heap/system /dev/udmabuf; do
	s=$(stat -c '%U %a' "$dev" 2>&1)
	[ "$s" = "ksalloc 600" ] && ok "$dev is ksalloc's, 0600 (70-ksalloc.rules)" ||
		bad "$dev is '$s', not 'ksalloc 600'"
done
show "$(ksallocctl backends 2>&1)"
for pool in test-shared test-dmaheap test-udmabuf test-locked; do
	if s=$(run_as alice pool-client open "$pool" 2>&1); then
		ok "alice used a frame of $pool: $s"
	else
		bad "alice cannot use $pool: $s"
	fi
done
s=$(run_as alice pool-client open test-dmaheap 2>&1)
grep -q 'backend dmaheap:system' <<<"$s" || bad "test-dmaheap is not on dmaheap:system: $s"
s=$(run_as alice pool-client open test-udmabuf 2>&1)
grep -q 'backend udmabuf' <<<"$s" || bad "test-udmabuf is not on udmabuf: $s"
s=$(run_as alice pool-client open test-shared 2>&1)
grep -q 'backend memfd' <<<"$s" || bad "test-shared is not on memfd: $s"
s=$(run_as alice pool-client open test-locked 2>&1)
grep -q ', locked;' <<<"$s" || bad "test-locked is not locked: $s"
s=$(awk '/^VmLck:/ { print $2 }' "/proc/$(main_pid)/status" 2>/dev/null)
[ "${s:-0}" -ge 256 ] && ok "the daemon has $s kB locked (test-locked: 4 frames of 64 KiB)" ||
	bad "the daemon has ${s:-no} kB locked, test-locked needs 256"
end "ksalloc, no capabilities, seccomp, no new privileges, read-only system; memfd, dmaheap:system, udmabuf and locked pools work"

# -- 4 reload: a new pool in the config appears.
begin 4 reload
pid=$(main_pid)
cat >>"$CONF" <<'EOF'

[pool test-reload]
frames = 2
frame_size = 4K
EOF
if out=$(systemctl reload ksallocd.service 2>&1); then
	ok "systemctl reload ksallocd"
else
	bad "systemctl reload ksallocd failed: $out"
fi
if wait_for 10 sh -c 'ksallocctl list | grep -q test-reload'; then
	ok "ksallocctl list shows test-reload"
else
	bad "ksallocctl list has no test-reload 10 s after the reload:"
	show "$(ksallocctl list 2>&1)"
fi
[ "$(main_pid)" = "$pid" ] && ok "the same daemon (PID $pid)" ||
	bad "the daemon changed: PID $pid then $(main_pid)"
s=$(journalctl -u ksallocd.service --no-pager -o cat _PID="$pid" | grep 'reloaded')
[ -n "$s" ] && ok "journal: $s" || bad "the journal has no 'reloaded' line"
run_as alice pool-client open test-reload >/dev/null 2>&1 && ok "alice used a frame of test-reload" ||
	bad "alice cannot use test-reload"
end "systemctl reload applies a new pool without a restart"

# stream_start NAME CONSUMERS: stream-producer (alice) publishes on stream NAME of
# test-stream, checked by CONSUMERS stream-consumers (alice and root), their output in
# $WORK/NAME.*; a holder (alice) keeps 2 frames of test-shared until its stdin closes.
stream_start() {
	local name=$1 n=$2 i
	rm -f "$WORK/$name".*
	# The producer creates the stream, then waits for its consumers.
	"${AS_ALICE[@]}" stream-producer --fps "$FPS" --wait-consumers "$n" test-stream "$name" \
		>"$WORK/$name.p" 2>"$WORK/$name.p.err" &
	producer=$!
	wait_for 20 grep -q "^stream $name on pool" "$WORK/$name.p" ||
		bad "stream-producer did not create stream $name in 20 s"
	for ((i = 1; i <= n; i++)); do
		if [ $((i % 2)) -eq 1 ]; then
			"${AS_ALICE[@]}" stream-consumer --max-held 4 "$name" >"$WORK/$name.c$i" \
				2>"$WORK/$name.c$i.err" &
		else
			stream-consumer "$name" >"$WORK/$name.c$i" 2>"$WORK/$name.c$i.err" &
		fi
		eval "consumer_$i=$!"
	done
	mkfifo "$WORK/$name.hold"
	"${AS_ALICE[@]}" pool-client hold test-shared 2 <"$WORK/$name.hold" >"$WORK/$name.h" \
		2>"$WORK/$name.h.err" &
	holder=$!
	exec {hold_fd}>"$WORK/$name.hold"
	if wait_for 30 grep -q '^last second: [1-9]' "$WORK/$name.c1" &&
		flowing 30 "$WORK/$name".c[0-9]; then
		ok "the stream flows: $(head -1 "$WORK/$name.p"), $n consumers"
	else
		bad "the stream does not flow:"
		stream_dump "$name"
	fi
	wait_for 20 grep -q holding "$WORK/$name.h" && ok "holder: $(cat "$WORK/$name.h")" ||
		{ bad "the holder holds no frames:"; show "$(cat "$WORK/$name.h" "$WORK/$name.h.err")"; }
}
# Shows what the stream's processes printed.
stream_dump() {
	local f
	for f in "$WORK/$1".*; do
		[ -f "$f" ] && show "-- ${f##*/}:" "$(tail -n 5 "$f")"
	done
}
# stream_stop NAME CONSUMERS: ends the stream (SIGINT to the producer) and the holder,
# then checks what each saw: every frame published received, none dropped, no error.
stream_stop() {
	local name=$1 n=$2 i pid rc published got dropped
	kill -INT "$producer"
	reap "$producer" 20
	published=$(sed -n 's/.*: \([0-9]*\) frames published, ended$/\1/p' "$WORK/$name.p")
	if [ "$rc" = 0 ] && [ -n "$published" ]; then
		ok "stream-producer: $(tail -1 "$WORK/$name.p")"
	else
		bad "stream-producer ended with status $rc:"
		show "$(cat "$WORK/$name.p" "$WORK/$name.p.err")"
	fi
	for ((i = 1; i <= n; i++)); do
		eval "pid=\$consumer_$i"
		reap "$pid" 20
		got=$(sed -n 's/^end of stream: \([0-9]*\) frames, \([0-9]*\) dropped.*/\1/p' \
			"$WORK/$name.c$i")
		dropped=$(sed -n 's/^end of stream: \([0-9]*\) frames, \([0-9]*\) dropped.*/\2/p' \
			"$WORK/$name.c$i")
		if [ "$rc" = 0 ] && [ -n "$got" ] && [ "$got" = "$published" ] && [ "$dropped" = 0 ] &&
			[ ! -s "$WORK/$name.c$i.err" ]; then
			ok "stream-consumer $i: $(grep '^end of stream' "$WORK/$name.c$i")," \
				"$(tail -1 "$WORK/$name.c$i")"
		else
			bad "stream-consumer $i: status $rc, $got of ${published:-?} frames, ${dropped:-?} dropped:"
			show "$(grep -v '^last second' "$WORK/$name.c$i"; cat "$WORK/$name.c$i.err")"
		fi
	done
	exec {hold_fd}>&-
	reap "$holder" 20
	if [ "$rc" = 0 ]; then
		ok "holder: $(tr '\n' ' ' <"$WORK/$name.h")"
	else
		bad "the holder of 2 frames of test-shared: status $rc:"
		show "$(cat "$WORK/$name.h" "$WORK/$name.h.err")"
	fi
}
# stream_flowing NAME CONSUMERS WHAT: checks that each consumer gets frames again
# after WHAT, and that the stream and the holder's frames are still known.
stream_flowing() {
	local name=$1 n=$2 what=$3 files=() i out
	for ((i = 1; i <= n; i++)); do
		files+=("$WORK/$name.c$i")
	done
	if flowing 30 "${files[@]}"; then
		ok "after $what the consumers get frames again ($(for f in "${files[@]}"; do
			printf '%s ' "$(received "$f")"
		done)so far)"
	else
		bad "after $what the consumers got fewer than $((2 * FPS)) more frames in 30 s"
		for f in "${files[@]}"; do
			show "$(tail -3 "$f"; cat "$f.err")"
		done
	fi
	out=$(ksallocctl streams "$name" 2>&1)
	grep -q "$name" <<<"$out" && ok "ksallocctl streams $name still knows it" ||
		bad "ksallocctl streams $name after $what: $out"
	out=$(ksallocctl status test-shared 2>&1)
	grep -q 'pool-client' <<<"$out" &&
		ok "ksallocctl status test-shared still names the holder" ||
		{ bad "after $what, ksallocctl status test-shared does not name the holder:"; show "$out"; }
}

# -- 5 restarts: restart, kill -9 and a watchdog timeout, while a stream flows.
begin 5 restarts
stream_start s5 2
pid=$(main_pid)
systemctl restart ksallocd.service && ok "systemctl restart ksallocd" ||
	bad "systemctl restart ksallocd failed"
if wait_for 20 new_daemon "$pid"; then
	ok "a new daemon runs: PID $pid then $(main_pid)"
else
	bad "no new daemon after systemctl restart: $(systemctl is-active ksallocd.service), PID $(main_pid)"
fi
stream_flowing s5 2 "systemctl restart"

pid=$(main_pid)
kill -9 "$pid"
if wait_for 20 new_daemon "$pid"; then
	ok "kill -9 $pid: systemd started PID $(main_pid)"
else
	bad "no new daemon 20 s after kill -9 $pid: $(systemctl is-active ksallocd.service)"
fi
stream_flowing s5 2 "kill -9"

pid=$(main_pid)
before=$SECONDS
kill -STOP "$pid"
if wait_for 40 new_daemon "$pid"; then
	ok "kill -STOP $pid: after $((SECONDS - before)) s systemd started PID $(main_pid)"
	s=$(journalctl -u ksallocd.service --no-pager -o cat | grep -i 'watchdog timeout' | tail -1)
	[ -n "$s" ] && ok "journal: $s" || bad "the journal does not say 'Watchdog timeout'"
else
	bad "no new daemon 40 s after kill -STOP $pid: $(systemctl is-active ksallocd.service)"
	kill -CONT "$pid" 2>/dev/null
fi
stream_flowing s5 2 "a watchdog timeout"
stream_stop s5 2
n=$(daemons | wc -l)
[ "$n" -eq 1 ] && ok "one ksallocd runs" || bad "$n ksallocd processes: $(daemons)"
end "restart, kill -9 and watchdog: no frame lost, no client error"

# -- 6 upgrade: apt installs newer packages while a stream flows.
begin 6 upgrade
stream_start s6 2
pid=$(main_pid)
before=$SECONDS
if out=$(apt-get install -y -q --no-install-recommends "$D"/upgrade/*.deb 2>&1); then
	ok "apt-get install of the upgrades ($((SECONDS - before)) s)"
	show "$(grep -E '^(Unpacking|Setting up|Preparing)' <<<"$out")"
else
	bad "apt-get install of the upgrades failed:"
	show "$out"
fi
for deb in "$D"/upgrade/*.deb; do
	p=$(dpkg-deb -f "$deb" Package)
	want=$(dpkg-deb -f "$deb" Version)
	s=$(dpkg-query -W -f='${Version}' "$p" 2>&1)
	[ "$s" = "$want" ] && ok "$p $s installed" || bad "$p is $s, not $want"
done
wait_for 20 new_daemon "$pid" && ok "a new daemon runs: PID $pid then $(main_pid)" ||
	bad "the daemon was not restarted by the upgrade: PID $(main_pid), $(systemctl is-active ksallocd.service)"
s=$(readlink "/proc/$(main_pid)/exe" 2>&1)
[ "$s" = /usr/sbin/ksallocd ] && ok "it runs the new /usr/sbin/ksallocd" ||
	bad "the daemon runs $s"
stream_flowing s6 2 "the upgrade"
stream_stop s6 2
end "the upgrade restarts the daemon; no frame lost, the consumers end cleanly"

# -- 7 purge: nothing of ksalloc stays.
begin 7 purge
if out=$(apt-get purge -y -q "${packages[@]}" 2>&1); then
	ok "apt-get purge ${packages[*]}"
else
	bad "apt-get purge ${packages[*]} failed:"
	show "$out"
fi
for p in "${packages[@]}"; do
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
	[ -z "$s" ] || [ "$s" = "unknown ok not-installed" ] && ok "$p is gone" ||
		bad "$p: $s"
done
s=$(systemctl list-unit-files --no-legend 'ksallocd*' 2>&1)
[ -z "$s" ] && ok "no ksallocd unit files" || bad "unit files left: $(tr '\n' ' ' <<<"$s")"
s=$(systemctl list-units --all --no-legend 'ksallocd*' 2>&1)
[ -z "$s" ] && ok "no ksallocd units loaded" || bad "units still loaded: $(tr '\n' ' ' <<<"$s")"
s=$(getent passwd ksalloc)
[ -z "$s" ] && ok "no user ksalloc" || bad "user ksalloc is still there: $s"
s=$(getent group ksalloc)
[ -z "$s" ] && ok "no group ksalloc" || bad "group ksalloc is still there: $s"
[ ! -e "$SOCK" ] && ok "no $SOCK" || bad "$SOCK is still there"
[ ! -e /etc/ksallocd ] && ok "no /etc/ksallocd" ||
	bad "/etc/ksallocd is still there: $(ls -A /etc/ksallocd | tr '\n' ' ')"
s=$(daemons)
[ -z "$s" ] && ok "no ksallocd process" || bad "ksallocd still runs: $s"
end "packages, units, user, socket, config and daemon gone"

echo
echo "== guest: $failed scenario(s) failed"
marker "KSALLOC-SYSTEM-EXIT $failed"
