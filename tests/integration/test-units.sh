#!/usr/bin/env bash
# test-units: the systemd files the build installs, checked with systemd's own
# tools on a machine where nothing is installed.
#   - systemd-analyze verify accepts ksallocd.service and ksallocd.socket, with
#     no warning at all, and their Documentation= man pages exist (the build's);
#   - systemd-analyze security --offline=true rates ksallocd.service 2.0 or less;
#   - as root: systemd-sysusers and systemd-tmpfiles, run into a scratch root,
#     create the user, the group and /run/ksallocd as the units expect.
# Usage: test-units.sh BUILD_DIR. Exit 77 (skipped) without systemd-analyze.
set -euo pipefail

build=$(cd "$1" && pwd)
units=$build/systemd
max_exposure=2.0

if ! command -v systemd-analyze >/dev/null; then
	echo "skipped: systemd-analyze is not installed (apt-get install systemd)"
	exit 77
fi

tmp=$(mktemp -d /tmp/ksalloc-units-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() {
	echo "FAIL: $*"
	failed=1
}

# verify loads ExecStart's binary, which is not installed here: check a copy
# of the unit whose ExecStart is the build's daemon, everything else as shipped.
sed "s|^ExecStart=.*/ksallocd\$|ExecStart=$build/bin/ksallocd|" "$units/ksallocd.service" \
	>"$tmp/ksallocd.service"
cp "$units/ksallocd.socket" "$tmp/ksallocd.socket"
grep -q "^ExecStart=$build/bin/ksallocd\$" "$tmp/ksallocd.service" ||
	fail "ksallocd.service has no ExecStart= line naming ksallocd"

man_check=()
if command -v man >/dev/null; then
	# The Documentation= pages must be the ones this build makes.
	export MANPATH=$build/docs
else
	echo "note: man is not installed; Documentation= links are not checked"
	man_check=(--man=no)
fi
if ! out=$(cd "$tmp" && systemd-analyze verify "${man_check[@]}" \
	./ksallocd.socket ./ksallocd.service 2>&1); then
	fail "systemd-analyze verify failed:"
	echo "$out"
elif [ -n "$out" ]; then
	fail "systemd-analyze verify warned:"
	echo "$out"
else
	echo "ok: systemd-analyze verify ksallocd.socket ksallocd.service"
fi

# The shipped unit itself: the rating reads the file and runs nothing.
out=$(systemd-analyze security --offline=true "$units/ksallocd.service" 2>&1) || true
line=$(grep 'Overall exposure level' <<<"$out" || true)
exposure=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$line")
if [ -z "$exposure" ]; then
	fail "no exposure level in the output of systemd-analyze security:"
	echo "$out"
elif awk -v e="$exposure" -v m="$max_exposure" 'BEGIN { exit !(e > m) }'; then
	fail "ksallocd.service exposure $exposure is above $max_exposure:"
	grep '✗' <<<"$out" || true
else
	echo "ok: $line"
fi

# The units name user and group ksalloc and the folder /run/ksallocd, which
# sysusers.d and tmpfiles.d create; making them takes root (chown).
if [ "$(id -u)" -eq 0 ]; then
	mkdir -p "$tmp/root/etc"
	# An absolute path: a bare name would be looked up in sysusers.d folders.
	out=$(systemd-sysusers --root="$tmp/root" "$units/sysusers.d/ksalloc.conf" 2>&1) ||
		fail "systemd-sysusers: $out"
	touch "$tmp/root/etc/passwd" "$tmp/root/etc/group"
	user=$(grep '^ksalloc:' "$tmp/root/etc/passwd" || true)
	group=$(grep '^ksalloc:' "$tmp/root/etc/group" || true)
	# A system user without a login shell, whose primary group is ksalloc.
	grep -q '^ksalloc:x:[0-9]*:[0-9]*:.*:/usr/sbin/nologin$' <<<"$user" ||
		fail "sysusers.d did not create user ksalloc: '$user'"
	grep -q '^ksalloc:x:[0-9]*:$' <<<"$group" ||
		fail "sysusers.d did not create group ksalloc: '$group'"
	[ -n "$user" ] && [ "$(cut -d: -f4 <<<"$user")" = "$(cut -d: -f3 <<<"$group")" ] ||
		fail "user ksalloc's primary group is not ksalloc: '$user', '$group'"

	out=$(systemd-tmpfiles --create --root="$tmp/root" "$units/tmpfiles.d/ksalloc.conf" 2>&1) ||
		fail "systemd-tmpfiles: $out"
	perms=$(stat -c '%a %U %G' "$tmp/root/run/ksallocd" 2>/dev/null || true)
	# The socket unit's DirectoryMode=0755 for the same folder, owned by root.
	[ "$perms" = "755 root root" ] ||
		fail "tmpfiles.d made /run/ksallocd '$perms', not '755 root root'"
	grep -q '^DirectoryMode=0755$' "$units/ksallocd.socket" ||
		fail "ksallocd.socket's DirectoryMode= differs from tmpfiles.d's 0755"
	[ $failed -eq 0 ] && echo "ok: sysusers.d and tmpfiles.d entries"
else
	echo "note: not root: sysusers.d and tmpfiles.d entries are not applied"
fi

[ $failed -eq 0 ] || exit 1
echo "test-units: all checks passed"
