# shellcheck shell=bash
# Shared by scripts/run and scripts/test: what ksalloc needs from Debian 12, and
# installing whatever of it is missing. Sourced, not run.

KSALLOC_PACKAGES=(
	gcc clang cmake make pkg-config binutils
	# cmake/check-layering.py, which every build runs; clang-format, which scripts/test runs
	python3 clang-format
	# the sanitizer and libFuzzer runtimes (clang only recommends them)
	libclang-rt-14-dev
	# memcheck, for the daemon in one stage of scripts/test
	valgrind
	libuv1-dev libprotobuf-c-dev protobuf-c-compiler check
	libsystemd-dev libinih-dev libjson-c-dev
	# man pages; systemd-analyze for the unit tests; the Debian packages (scripts/package,
	# which installs their build dependencies itself) and lintian, which test-package runs
	scdoc systemd dpkg-dev lintian
	# a terminal for ksallocctl top's test (tmux), promtool for ksallocctl metrics' (prometheus)
	tmux prometheus
	# the GStreamer plugin (gst/) and its tests: GstHarness, appsink, videotestsrc, gst-inspect,
	# v4l2src (in the hardware suite's guest)
	libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-plugins-base
	gstreamer1.0-tools gstreamer1.0-plugins-good
)

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	else
		sudo "$@"
	fi
}

# Installs the packages of KSALLOC_PACKAGES (and any given as arguments) that
# are not installed yet; a machine that has them all is not touched.
ensure_packages() {
	local missing=() p
	for p in "${KSALLOC_PACKAGES[@]}" "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "Installing missing packages: ${missing[*]}"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null
}

# Installs what scripts/test-hw needs that is missing, and only that: qemu, a static
# busybox (the guest's userland), zstd and xz (to unpack the kernel and its modules)
# and cpio (the initramfs).
# ensure_packages sees this empty KSALLOC_PACKAGES (bash scopes locals dynamically), so
# a machine that only runs an existing build does not get the whole toolchain.
ensure_hw_packages() {
	local KSALLOC_PACKAGES=()
	ensure_packages qemu-system-x86 busybox-static zstd xz-utils cpio
}

# Installs what scripts/test-system needs that is missing, and only that: qemu, mmdebstrap
# (the guest's root filesystem), zstd and xz (to unpack the kernel) and cpio (the initramfs).
ensure_system_packages() {
	local KSALLOC_PACKAGES=()
	ensure_packages qemu-system-x86 mmdebstrap zstd xz-utils cpio
}

jobs() {
	nproc 2>/dev/null || echo 2
}
