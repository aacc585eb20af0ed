#!/usr/bin/env bash
# test-symver: a program linked against libksalloc.so.1 before struct
# ksalloc_event grew (its ksalloc_subscription_read is LIBKSALLOC_1's) runs
# with the library of today bound to ksalloc_subscription_read@LIBKSALLOC_1,
# the one that fills the old struct; a program linked today gets the default,
# @@LIBKSALLOC_1.1. The old library is stood in for by a stub with that node
# alone: linking against it records what an old link recorded.
# (test-events checks what each version does; this, that the dynamic linker
# picks the right one.)
#
# Usage: test-symver.sh LIBRARY C_COMPILER SANITIZED(0|1)
set -euo pipefail
export LC_ALL=C

lib=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
cc=$2
if [ "$3" = 1 ]; then
	echo "skipped: a sanitizer build's library needs its runtime in the program"
	exit 77
fi

tmp=$(mktemp -d /tmp/ksalloc-symver-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/old" "$tmp/new"

# The old library: the name in LIBKSALLOC_1, as the first release had it.
echo 'int ksalloc_subscription_read(void *s, void *e) { return s == e; }' >"$tmp/stub.c"
echo 'LIBKSALLOC_1 { global: ksalloc_subscription_read; local: *; };' >"$tmp/stub.sym"
"$cc" -shared -fPIC -o "$tmp/old/libksalloc.so.1" -Wl,-soname,libksalloc.so.1 \
	-Wl,--version-script="$tmp/stub.sym" "$tmp/stub.c"
ln -s libksalloc.so.1 "$tmp/old/libksalloc.so"
ln -s "$lib" "$tmp/new/libksalloc.so.1"
ln -s libksalloc.so.1 "$tmp/new/libksalloc.so"

cat >"$tmp/prog.c" <<'PROG'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int ksalloc_subscription_read(void *s, void *e);

/* Prints the version of ksalloc_subscription_read this program is bound to. */
int main(void)
{
	void *bound = (void *)ksalloc_subscription_read;
	void *v1 = dlvsym(RTLD_DEFAULT, "ksalloc_subscription_read", "LIBKSALLOC_1");
	void *v1_1 = dlvsym(RTLD_DEFAULT, "ksalloc_subscription_read", "LIBKSALLOC_1.1");

	if (!v1 || !v1_1 || v1 == v1_1) {
		printf("the library does not have both versions\n");
		return 1;
	}
	printf("%s\n", bound == v1 ? "LIBKSALLOC_1" : bound == v1_1 ? "LIBKSALLOC_1.1" : "?");
	return 0;
}
PROG

failures=0
# run NAME LINKED_AGAINST EXPECTED
run() {
	local got
	"$cc" -o "$tmp/$1" "$tmp/prog.c" -L"$tmp/$2" -lksalloc
	got=$(LD_LIBRARY_PATH="$tmp/new" "$tmp/$1")
	if [ "$got" = "$3" ]; then
		echo "$1: bound to ksalloc_subscription_read@$got"
	else
		echo "FAIL: $1 is bound to ksalloc_subscription_read@$got, not @$3"
		failures=$((failures + 1))
	fi
}
run built-before old LIBKSALLOC_1
run built-now new LIBKSALLOC_1.1
[ $failures -eq 0 ]
