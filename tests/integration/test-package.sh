#!/usr/bin/env bash
# test-package: scripts/package builds the .deb in a scratch folder; the .deb
# holds every file at its Debian path, depends on the libraries the binaries
# link, marks the config as a conffile, and its binaries, extracted, run: the
# daemon serves the packaged default config and the packaged ksallocctl lists
# its pools.
# Usage: test-package.sh SOURCE_DIR SANITIZED(0|1). Exit 77 (skipped) in a
# sanitizer build: the package is a plain Release build of its own, and this
# configuration's sanitizer stage has nothing to add to it.
set -euo pipefail

src=$(cd "$1" && pwd)
if [ "${2:-0}" != 0 ]; then
	echo "skipped: the package test does not run in a sanitizer build"
	exit 77
fi
for tool in dpkg-deb dpkg-architecture dpkg-shlibdeps cpack; do
	if ! command -v $tool >/dev/null; then
		echo "skipped: $tool is not installed (apt-get install dpkg-dev cmake)"
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
deb=$("$src/scripts/package" "$tmp/build" | tail -n 1)
[ -f "$deb" ] || { echo "FAIL: scripts/package printed '$deb', which is not a file"; exit 1; }
echo "built $(basename "$deb")"

ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
libdir=usr/lib/$ma
expected=(
	usr/sbin/ksallocd
	usr/bin/ksallocctl
	"$libdir/libksalloc.so.1"
	"$libdir/libksalloc.so"
	usr/include/ksalloc/ksalloc.h
	usr/include/ksalloc/ksproxy.h
	usr/include/ksalloc/_ksalloc-common.h
	usr/include/ksalloc/winerror.h
	usr/include/ksalloc/windef.h
	usr/include/ksalloc/guiddef.h
	usr/include/ksalloc/unknwn.h
	usr/include/ksalloc/ks.h
	usr/include/ksalloc/strmif.h
	"$libdir/pkgconfig/ksalloc.pc"
	"$libdir/cmake/ksalloc/ksallocConfig.cmake"
	"$libdir/cmake/ksalloc/ksallocConfigVersion.cmake"
	"$libdir/cmake/ksalloc/ksallocTargets.cmake"
	usr/lib/systemd/system/ksallocd.service
	usr/lib/systemd/system/ksallocd.socket
	usr/lib/sysusers.d/ksalloc.conf
	usr/lib/tmpfiles.d/ksalloc.conf
	usr/lib/udev/rules.d/70-ksalloc.rules
	etc/ksallocd/ksallocd.conf
	usr/share/man/man8/ksallocd.8.gz
	usr/share/man/man1/ksallocctl.1.gz
	usr/share/man/man5/ksallocd.conf.5.gz
	usr/share/man/man3/ksalloc.3.gz
	"$libdir/gstreamer-1.0/libgstksalloc.so"
)
# "./usr/sbin/ksallocd" or "./usr/lib/.../libksalloc.so -> libksalloc.so.1".
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./||' >"$tmp/files"
echo "== files"
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print "  /" substr($6, 3) ($7 ? " " $7 " " $8 : "") }'
for f in "${expected[@]}"; do
	grep -qxF "$f" "$tmp/files" || fail "the .deb has no /$f"
done
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
dpkg-deb -f "$deb" Package Version Architecture Section Depends
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libuv1 libprotobuf-c1 libsystemd0 libinih1 libjson-c5 libc6 systemd; do
	grep -qE "(^|, )$lib( |,|$)" <<<"$depends" || fail "Depends lacks $lib: $depends"
done
dpkg-deb -e "$deb" "$tmp/control"
grep -qxF /etc/ksallocd/ksallocd.conf "$tmp/control/conffiles" ||
	fail "conffiles does not list /etc/ksallocd/ksallocd.conf: $(cat "$tmp/control/conffiles" 2>&1)"
for script in postinst prerm postrm; do
	[ -x "$tmp/control/$script" ] || fail "no executable $script in the .deb"
	sh -n "$tmp/control/$script" || fail "$script is not valid sh"
done
grep -q 'systemd-sysusers' "$tmp/control/postinst" || fail "postinst does not run systemd-sysusers"

echo "== extracted"
root=$tmp/root
dpkg-deb -x "$deb" "$root"
grep -qx 'ExecStart=/usr/sbin/ksallocd' "$root/usr/lib/systemd/system/ksallocd.service" ||
	fail "the packaged ksallocd.service does not start /usr/sbin/ksallocd"
export LD_LIBRARY_PATH=$root/$libdir
version=$(dpkg-deb -f "$deb" Version)
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
