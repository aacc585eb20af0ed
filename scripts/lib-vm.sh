# shellcheck shell=bash
# Shared by scripts/test-hw and scripts/test-system: getting bookworm-backports'
# generic kernel (it has DMA-BUF heaps and udmabuf) from the Debian mirror this
# machine's apt uses, and booting it under qemu. Sourced, not run; the sourcing
# script sets VM_NAME (its name, for messages) and defines skip and fail
# (print why and exit 77, or exit 1), and keeps its scratch files in $tmp.

# The kernel's cache: later runs download nothing.
KERNEL_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/ksalloc/hw-kernel
# The modules of two test devices, kept beside the kernel, and what they need, in load
# order (modprobe --show-depends vivid vgem on the 6.12 image): V4L2's vivid, then DRM's vgem.
KERNEL_MODULES=(rc-core cec mc videobuf2-common videodev videobuf2-v4l2 videobuf2-memops
	videobuf2-vmalloc videobuf2-dma-contig v4l2-dv-timings v4l2-tpg vivid
	drm drm_kms_helper drm_shmem_helper vgem)

# The Debian mirror this machine's apt uses: the first enabled "deb" source for a
# bookworm suite (not the security archive), deb822 files first, then one-line lists.
debian_mirror() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v RS= '
		{
			types = uris = suites = ""; enabled = "yes"
			n = split($0, line, "\n")
			for (i = 1; i <= n; i++) {
				if (line[i] ~ /^#/) continue
				if (match(line[i], /^[A-Za-z-]+:/)) {
					key = tolower(substr(line[i], 1, RLENGTH - 1))
					val = substr(line[i], RLENGTH + 1)
				} else {
					val = line[i] # a continuation line
				}
				if (key == "types") types = types " " val
				else if (key == "uris") uris = uris " " val
				else if (key == "suites") suites = suites " " val
				else if (key == "enabled") enabled = val
			}
			gsub(/[ \t]/, "", enabled)
			if (tolower(enabled) == "no" || types !~ /(^|[ \t])deb([ \t]|$)/) next
			if (suites !~ /(^|[ \t])bookworm(-updates|-backports)?([ \t]|$)/) next
			n = split(uris, uri, /[ \t]+/)
			for (i = 1; i <= n; i++) if (uri[i] != "") { print uri[i]; exit }
		}' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk '
		$1 == "deb" {
			i = 2
			if ($i ~ /^\[/) while ($i !~ /\]$/ && i < NF) i++
			if ($i ~ /^\[|\]$/) i++
			if ($(i + 1) ~ /^bookworm(-updates|-backports)?$/) { print $i; exit }
		}' "$f"
	done
}

# apt-get or apt-cache (@1) on the state in $tmp/apt, whose only sources are bookworm and
# bookworm-backports of $mirror: the system's sources, lists and cache stay untouched.
private_apt() {
	local tool=$1 apt=$tmp/apt
	shift
	"$tool" -q -o Dir::State="$apt/state" -o Dir::State::status=/var/lib/dpkg/status \
		-o Dir::Cache="$apt/cache" -o Dir::Etc::sourcelist="$apt/sources.list" \
		-o Dir::Etc::sourceparts="$apt/sources.list.d" \
		-o Dir::Etc::preferencesparts="$apt/preferences.d" \
		-o Debug::NoLocking=1 -o APT::Sandbox::User="$(id -un)" "$@"
}

# The first "E:" or "W:" line of apt's log @1, to say in one line why it failed.
apt_error() {
	tr -s ' ' <"$1" | grep -m1 -E '^(E|W): ' | cut -c4- || true
}

# Sets kernel to a folder of $KERNEL_CACHE holding vmlinux, an uncompressed ELF of the current
# bookworm-backports generic kernel, and modules/: KERNEL_MODULES unpacked, and their order. It
# downloads them unless a kernel is cached already (or KSALLOC_HW_REFRESH is set and the
# mirror has a newer one). On failure sets why.
get_kernel() {
	local apt=$tmp/apt work=$tmp/kernel mirror depends image version key vmlinuz offset m ko
	kernel=$(find "$KERNEL_CACHE" -mindepth 3 -maxdepth 3 -path '*/modules/order' \
		-printf '%T@ %h\n' 2>/dev/null | sort -rn | head -1 | cut -d' ' -f2-)
	kernel=${kernel%/modules}
	[ -n "$kernel" ] && [ -f "$kernel/vmlinux" ] && [ -z "${KSALLOC_HW_REFRESH:-}" ] && return 0

	mirror=$(debian_mirror | head -1)
	[ -n "$mirror" ] || { why="no bookworm source in /etc/apt to take the mirror from"; return 1; }
	mkdir -p "$apt"/state/lists/partial "$apt"/cache/archives/partial \
		"$apt"/sources.list.d "$apt"/preferences.d "$work"
	printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
		"$mirror" bookworm "$mirror" bookworm-backports >"$apt/sources.list"
	echo "$VM_NAME: getting bookworm-backports' generic kernel from $mirror"
	# A fetch that fails is only a warning to apt-get update unless told otherwise.
	private_apt apt-get update --error-on=any >"$apt/log" 2>&1 ||
		{ why="cannot read $mirror: $(apt_error "$apt/log")"; return 1; }

	# The meta package names the current image (old ones leave the mirror) and its version.
	depends=$(private_apt apt-cache show --no-all-versions \
		linux-image-amd64/bookworm-backports 2>>"$apt/log" | sed -n 's/^Depends: //p')
	image=$(tr ',' '\n' <<<"$depends" | sed -n 's/^ *\(linux-image-[^ ]*\) *(= *\([^)]*\)).*/\1/p' |
		head -1)
	version=$(tr ',' '\n' <<<"$depends" | sed -n 's/^ *linux-image-[^ ]* *(= *\([^)]*\)).*/\1/p' |
		head -1)
	if [ -z "$image" ] || [ -z "$version" ]; then
		why="no linux-image-amd64 naming an image in bookworm-backports on $mirror"
		return 1
	fi
	key=$KERNEL_CACHE/${image}_$version
	if [ -f "$key/modules/order" ] && [ -f "$key/vmlinux" ]; then
		kernel=$key
		return 0
	fi
	(cd "$work" && private_apt apt-get download "$image=$version") >>"$apt/log" 2>&1 ||
		{ why="cannot download $image $version: $(apt_error "$apt/log")"; return 1; }
	dpkg -x "$work"/"$image"_*.deb "$work/root" ||
		{ why="cannot unpack $image $version"; return 1; }
	vmlinuz=$(find "$work/root/boot" -maxdepth 1 -name 'vmlinuz-*' 2>/dev/null | head -1)
	[ -n "$vmlinuz" ] || { why="$image $version holds no /boot/vmlinuz-*"; return 1; }

	# The ELF inside the bzImage boots through its PVH entry, 2.4 s faster under TCG. It is
	# the zstd frame that starts at the first magic that unpacks to an ELF whose section
	# table fits (the relocations follow it). zstd complains about the data after the
	# frame: expected, hence the status and messages ignored.
	mkdir -p "$work/cached/modules"
	for offset in $(LC_ALL=C grep -obUaP '\x28\xb5\x2f\xfd' "$vmlinuz" | cut -d: -f1 | head -4); do
		tail -c +$((offset + 1)) "$vmlinuz" | zstd -dcq 2>/dev/null >"$work/cached/vmlinux" ||
			true
		elf_is_whole "$work/cached/vmlinux" && break
		rm -f "$work/cached/vmlinux"
	done
	[ -f "$work/cached/vmlinux" ] || { why="no zstd-compressed ELF kernel in $vmlinuz"; return 1; }
	for m in "${KERNEL_MODULES[@]}"; do
		ko=$(find "$work/root/lib/modules" -name "$m.ko.xz" | head -1)
		[ -n "$ko" ] || { why="$image $version has no module $m"; return 1; }
		xz -dc "$ko" >"$work/cached/modules/$m.ko" || { why="cannot unpack $ko"; return 1; }
		echo "$m" >>"$work/cached/modules/order"
	done
	mkdir -p "$KERNEL_CACHE"
	rm -rf "$KERNEL_CACHE/.part"
	mv "$work/cached" "$KERNEL_CACHE/.part"
	mv "$KERNEL_CACHE/.part" "$key"
	# Only the current kernel is kept: each is some 60 MB. (vmlinux-*: older scripts' cache.)
	find "$KERNEL_CACHE" -mindepth 1 -maxdepth 1 ! -path "$key" ! -name .lock -exec rm -rf {} +
	rm -rf "$work" "$apt" # some 200 MB of lists, package and unpacked tree
	kernel=$key
}

# Whether @1 is a 64-bit ELF that holds its whole section header table.
elf_is_whole() {
	local size shoff shentsize shnum
	[ -s "$1" ] && [ "$(head -c 5 "$1" | od -An -tx1 | tr -d ' \n')" = 7f454c4602 ] ||
		return 1
	size=$(stat -c %s "$1")
	shoff=$(od -An -tu8 -j 40 -N 8 "$1" | tr -d ' ')
	read -r shentsize shnum < <(od -An -tu2 -j 58 -N 4 "$1")
	[ "$shnum" -gt 0 ] && [ $((shoff + shentsize * shnum)) -le "$size" ]
}

# vm_boot MARKER BOOT_TIMEOUT TIMEOUT QEMU_ARGS...: runs qemu with QEMU_ARGS (the
# kernel, initrd, command line, memory, CPUs) under `timeout TIMEOUT`, the console
# (ttyS0) in $tmp/console.log, the second serial port (ttyS1) in $tmp/tests.log, shown
# as it comes through vm_show (cat unless the caller defines its own). A guest that
# does not print MARKER on its console within BOOT_TIMEOUT seconds is booted again, at
# most 3 times; once it printed MARKER, never: a second run would hide a failure that
# kills the VM. Sets rc to qemu's exit status; skips when qemu cannot run here, fails
# when the guest never got to MARKER. qemu_pid and tail_pid name what is running, for
# the caller's cleanup.
vm_boot() {
	local marker=$1 boot_timeout=$2 timeout=$3 attempt started hung deadline
	shift 3
	declare -F vm_show >/dev/null || vm_show() { cat; }
	for attempt in 1 2 3; do
		: >"$tmp/console.log"
		: >"$tmp/tests.log"
		# TCG: this machine's /dev/kvm cannot run a stock kernel. -cx16: with cmpxchg16b,
		# qemu 7.2's TCG crashed this kernel during boot. panic=-1 (on the command line)
		# and -no-reboot: a guest that panics or reboots ends qemu.
		timeout -k 10 "$timeout" qemu-system-x86_64 -accel tcg -cpu qemu64,-cx16 \
			-nodefaults -display none -no-reboot "$@" \
			-serial "file:$tmp/console.log" -serial "file:$tmp/tests.log" \
			</dev/null >"$tmp/qemu.log" 2>&1 &
		qemu_pid=$!
		# The tests' output as it comes, until the VM is gone.
		tail -n +1 -s 0.2 -f --pid="$qemu_pid" "$tmp/tests.log" | sed -u 's/\r//g' | vm_show &
		tail_pid=$!
		started=0
		hung=0
		deadline=$((SECONDS + boot_timeout))
		while kill -0 "$qemu_pid" 2>/dev/null; do
			if [ "$started" -eq 0 ]; then
				if grep -q "$marker" "$tmp/console.log"; then
					started=1
				elif [ "$SECONDS" -ge "$deadline" ]; then
					hung=1
					kill "$qemu_pid" 2>/dev/null || true
				fi
			fi
			sleep 0.2
		done
		rc=0
		wait "$qemu_pid" || rc=$?
		qemu_pid=
		wait "$tail_pid" || true
		tail_pid=
		grep -q "$marker" "$tmp/console.log" && started=1
		[ "$started" -eq 1 ] && return 0

		# qemu that fails by itself (status 1, or timeout's own 125 to 127) says why on
		# stderr: it cannot run here, and trying again would not help.
		if [ "$hung" -eq 0 ] && { [ "$rc" -eq 1 ] || { [ "$rc" -ge 125 ] && [ "$rc" -le 127 ]; }; }; then
			skip "qemu cannot run here: $(grep -m1 . "$tmp/qemu.log" || echo "status $rc")"
		fi
		# The guest died or hung before the tests started (rare): boot again.
		if [ "$hung" -eq 1 ]; then
			echo "$VM_NAME: the guest did not reach the tests in $boot_timeout s; its console:"
		else
			echo "$VM_NAME: the guest stopped before the tests started (qemu status $rc); its console:"
		fi
		tr -d '\r' <"$tmp/console.log" | tail -n 20
		cat "$tmp/qemu.log"
		[ "$attempt" -lt 3 ] || fail "the guest never got to run the tests (3 boots)"
	done
}
