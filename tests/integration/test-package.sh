#!/usr/bin/env bash
# test-package: scripts/package builds the Debian packages (dpkg-buildpackage,
# debian/) in a scratch folder: the five packages Debian would split this
# software into, lintian finds nothing in them, each holds its files at their
# Debian paths and depends on what its binaries link, the config is a conffile,
# the maintainer scripts go through debhelper's systemd and sysusers helpers,
# the library has a symbols file; and their binaries, extracted, run: the
# daemon serves the packaged default config and the packaged ksallocctl lists
# its pools.
# Usage: test-package.sh SOURCE_DIR SANITIZED(0|1). Exit 77 (skipped) in a
# sanitizer build: the packages are a build of their own, and this
# configuration's sanitizer stage has nothing to add to them.
set -euo pipefail

src=$(cd "$1" && pwd)
if [ "${2:-0}" != 0 ]; then
	echo "skipped: the package test does not run in a sanitizer build"
	exit 77
fi
for tool in dpkg-deb dpkg-architecture dpkg-buildpackage lintian; do
	if ! command -v $tool >/dev/null; then
		echo "skipped: $tool is not installed (apt-get install dpkg-dev lintian)"
		exit 77
	fi
done

tmp=$(mktemp -d /tmp/ksalloc-package-XXXXXX)
daemon=
cleanup() {
	if [ -n "$daemon" ]; then
		kill "$daemon" 2>/dev/null || true
		wait "$daemon" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
failed=0
fail() {
	echo "FAIL: $*"
	failed=1
}

echo "== scripts/package $tmp/build"
dir=$("$src/scripts/package" "$tmp/build" | tail -n 1)
[ -d "$dir" ] || { echo "FAIL: scripts/package printed '$dir', which is not a folder"; exit 1; }
packages=(ksallocd libksalloc1 libksalloc-dev ksalloc-tools gstreamer1.0-ksalloc)
declare -A deb
for f in "$dir"/*.deb; do
	deb[$(dpkg-deb -f "$f" Package)]=$f
done
echo "built: ${!deb[*]}"
[ ${#deb[@]} -eq ${#packages[@]} ] || fail "scripts/package built ${!deb[*]}, not ${packages[*]}"
for p in "${packages[@]}"; do
	[ -n "${deb[$p]:-}" ] || { echo "FAIL: no package $p"; exit 1; }
done

echo "== lintian"
# Errors and warnings; info and pedantic notes are not asked for.
lintian --fail-on error,warning "${deb[@]}" >"$tmp/lintian" 2>&1 || true
grep -v 'running with root privileges' "$tmp/lintian" | sed 's/^/  /' || true
if grep -qE '^(E|W): ' "$tmp/lintian"; then
	fail "lintian reports errors or warnings (above)"
fi

ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
libdir=usr/lib/$ma
declare -A expected=(
	[ksallocd]="usr/sbin/ksallocd lib/systemd/system/ksallocd.service
		lib/systemd/system/ksallocd.socket usr/lib/sysusers.d/ksalloc.conf
		usr/lib/tmpfiles.d/ksalloc.conf lib/udev/rules.d/70-ksalloc.rules
		etc/ksallocd/ksallocd.conf usr/share/man/man8/ksallocd.8.gz
		usr/share/man/man5/ksallocd.conf.5.gz usr/share/doc/ksallocd/copyright"
	[libksalloc1]="$libdir/libksalloc.so.1 usr/share/doc/libksalloc1/copyright"
	[libksalloc-dev]="$libdir/libksalloc.so usr/include/ksalloc/ksalloc.h
		usr/include/ksalloc/ksproxy.h $libdir/pkgconfig/ksalloc.pc
		$libdir/cmake/ksalloc/ksallocConfig.cmake
		$libdir/cmake/ksalloc/ksallocConfigVersion.cmake
		$libdir/cmake/ksalloc/ksallocTargets.cmake usr/share/man/man3/ksalloc.3.gz"
	[ksalloc-tools]="usr/bin/ksallocctl usr/share/man/man1/ksallocctl.1.gz"
	[gstreamer1.0-ksalloc]="$libdir/gstreamer-1.0/libgstksalloc.so"
)
echo "== files"
for p in "${packages[@]}"; do
	# "./usr/sbin/ksallocd" or "./usr/lib/.../libksalloc.so -> libksalloc.so.1".
	dpkg-deb -c "${deb[$p]}" | awk '{ print $6 }' | sed 's|^\./||' >"$tmp/files.$p"
	dpkg-deb -c "${deb[$p]}" |
		awk -v p="$p" '$1 !~ /^d/ { print "  " p ": /" substr($6, 3) ($7 ? " " $7 " " $8 : "") }'
	for f in ${expected[$p]}; do
		grep -qxF "$f" "$tmp/files.$p" || fail "$p has no /$f"
	done
done
cat "$tmp"/files.* >"$tmp/files"
# The public headers are the source tree's, all of them and nothing else: a
# part of ksproxy.h left out would break every client that includes it.
(cd "$src/include" && ls ksalloc/*.h) | sed 's|^|usr/include/|' | sort >"$tmp/headers.source"
grep -E '^usr/include/.+\.h$' "$tmp/files" | sort >"$tmp/headers.packaged"
if ! diff "$tmp/headers.source" "$tmp/headers.packaged" >"$tmp/headers.diff"; then
	fail "the .deb's headers are not include/ksalloc/*.h (<: only in the source, >: only in the .deb):
$(cat "$tmp/headers.diff")"
fi
# Nothing at a path a build for another prefix would give.
if grep -E '^(usr/local|usr/etc)/' "$tmp/files"; then
	fail "the .deb has files outside Debian's layout (above)"
fi

echo "== control"
for p in "${packages[@]}"; do
	echo "  $p: $(dpkg-deb -f "${deb[$p]}" Version Architecture Section Depends | tr '\n' ' ')"
done
depends_of() {
	dpkg-deb -f "${deb[$1]}" Depends
}
for lib in libuv1 libprotobuf-c1 libsystemd0 libinih1 libc6 systemd; do
	grep -qE "(^|, )$lib( |,|$)" <<<"$(depends_of ksallocd)" ||
		fail "ksallocd's Depends lacks $lib: $(depends_of ksallocd)"
done
version=$(dpkg-deb -f "${deb[ksallocd]}" Version)
for p in ksalloc-tools gstreamer1.0-ksalloc; do
	grep -qE "(^|, )libksalloc1 \(>= " <<<"$(depends_of $p)" ||
		fail "$p does not depend on libksalloc1: $(depends_of $p)"
done
grep -qF "libksalloc1 (= $version)" <<<"$(depends_of libksalloc-dev)" ||
	fail "libksalloc-dev does not depend on libksalloc1 (= $version): $(depends_of libksalloc-dev)"

dpkg-deb -e "${deb[ksallocd]}" "$tmp/control"
grep -qxF /etc/ksallocd/ksallocd.conf "$tmp/control/conffiles" ||
	fail "conffiles does not list /etc/ksallocd/ksallocd.conf: $(cat "$tmp/control/conffiles" 2>&1)"
for script in postinst prerm postrm; do
	[ -x "$tmp/control/$script" ] || fail "no executable $script in ksallocd"
	sh -n "$tmp/control/$script" || fail "ksallocd's $script is not valid sh"
done
# debhelper's helpers, not systemctl: the user, the socket enabled and started on install, a
# running daemon restarted on upgrade (try-restart), the service stopped on removal.
grep -q 'systemd-sysusers.*ksalloc.conf' "$tmp/control/postinst" ||
	fail "postinst does not run systemd-sysusers ksalloc.conf"
grep -q "deb-systemd-helper enable 'ksallocd.socket'" "$tmp/control/postinst" ||
	fail "postinst does not enable ksallocd.socket"
grep -q "deb-systemd-invoke start 'ksallocd.socket'" "$tmp/control/postinst" ||
	fail "postinst does not start ksallocd.socket"
grep -q "deb-systemd-invoke try-restart 'ksallocd.service'" "$tmp/control/postinst" ||
	fail "postinst does not restart a running ksallocd.service on upgrade"
if grep -q "deb-systemd-helper enable 'ksallocd.service'" "$tmp/control/postinst" &&
	! grep -q "was-enabled 'ksallocd.service'" "$tmp/control/postinst"; then
	fail "postinst enables ksallocd.service: the socket starts it"
fi
grep -q 'deb-systemd-invoke stop ksallocd.service' "$tmp/control/prerm" ||
	fail "prerm does not stop ksallocd.service on removal"
if grep -nE '^[^#]*systemctl (start|stop|restart|try-restart|enable|disable)' \
	"$tmp/control/postinst" "$tmp/control/prerm" "$tmp/control/postrm"; then
	fail "a maintainer script calls systemctl directly (above)"
fi
grep -q 'userdel ksalloc' "$tmp/control/postrm" || fail "postrm does not remove user ksalloc on purge"
dpkg-deb -e "${deb[libksalloc1]}" "$tmp/control-lib"
grep -qF 'ksalloc_client_open@LIBKSALLOC_1 ' "$tmp/control-lib/symbols" ||
	fail "libksalloc1 has no symbols file naming ksalloc_client_open@LIBKSALLOC_1"

echo "== extracted"
root=$tmp/root
for p in "${packages[@]}"; do
	dpkg-deb -x "${deb[$p]}" "$root"
done
grep -qx 'ExecStart=/usr/sbin/ksallocd' "$root/lib/systemd/system/ksallocd.service" ||
	fail "the packaged ksallocd.service does not start /usr/sbin/ksallocd"
export LD_LIBRARY_PATH=$root/$libdir
out=$("$root/usr/sbin/ksallocd" --version) || fail "ksallocd --version failed"
echo "  $out"
[ "$out" = "ksallocd ${version%-*}" ] || fail "ksallocd --version says '$out', the package ${version}"
# The daemon reads by default the file the package installs.
out=$("$root/usr/sbin/ksallocd" --help) || fail "ksallocd --help failed"
grep -qF '(default /etc/ksallocd/ksallocd.conf)' <<<"$out" ||
	fail "the packaged ksallocd does not read /etc/ksallocd/ksallocd.conf by default: $out"
out=$("$root/usr/bin/ksallocctl" --help) || fail "ksallocctl --help failed"
echo "  ksallocctl --help: $(head -n 1 <<<"$out")"
# The packaged ksallocctl must load the packaged library.
# (Not `ldd | grep -q`: grep's early exit would fail the pipeline with SIGPIPE.)
libs=$(ldd "$root/usr/bin/ksallocctl")
grep -qF "$root/$libdir/libksalloc.so.1" <<<"$libs" ||
	fail "ksallocctl does not load the packaged libksalloc.so.1: $libs"

# GStreamer finds the packaged plugin where it looks for system plugins.
out=$(GST_PLUGIN_SYSTEM_PATH=$root/$libdir/gstreamer-1.0 GST_REGISTRY=$tmp/registry.bin \
	gst-inspect-1.0 ksallocsink 2>&1) || fail "gst-inspect-1.0 ksallocsink fails on the packaged plugin: $out"
grep -qF "$root/$libdir/gstreamer-1.0/libgstksalloc.so" <<<"$out" ||
	fail "gst-inspect-1.0 does not load the packaged plugin: $out"

# The packaged daemon on the packaged config, with a socket of its own.
socket=$tmp/ksallocd.sock
"$root/usr/sbin/ksallocd" --config "$root/etc/ksallocd/ksallocd.conf" --socket "$socket" \
	2>"$tmp/daemon.log" &
daemon=$!
# It listens once every pool is mapped: ask until it answers or exits, 10 s at most.
for _ in $(seq 100); do
	if out=$("$root/usr/bin/ksallocctl" --socket "$socket" list 2>&1) ||
		! kill -0 "$daemon" 2>/dev/null; then
		break
	fi
	sleep 0.1
done
if out=$("$root/usr/bin/ksallocctl" --socket "$socket" list 2>&1); then
	echo "$out" | sed 's/^/  /'
	for pool in video-1080p video-2160p audio-period; do
		grep -q "^$pool " <<<"$out" || fail "ksallocctl list does not show $pool"
	done
else
	fail "the packaged ksallocctl could not list the packaged daemon's pools: $out"
	cat "$tmp/daemon.log"
fi
kill -TERM "$daemon"
status=0
wait "$daemon" || status=$?
daemon=
[ $status -eq 0 ] || { fail "ksallocd exited with $status on SIGTERM"; cat "$tmp/daemon.log"; }

[ $failed -eq 0 ] || exit 1
echo "test-package: all checks passed"
