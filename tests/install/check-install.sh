#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Install the library into a scratch directory and build every example in
# examples/ against it with pkg-config, as a user outside the tree would;
# run them; and check what the shared library exports.  Prints TAP.
#
# Usage: check-install.sh BUILD_DIR SOURCE_DIR
set -u
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; [ -f "$tmp/log" ] && sed 's/^/# /' "$tmp/log" | tail -20; }

examples=("$src"/examples/*.c)
echo "1..$((5 + 2 * ${#examples[@]}))"

if meson install -C "$build" --no-rebuild --destdir "$tmp/root" >"$tmp/log" 2>&1; then
	ok "meson install"
else
	notok "meson install"
	exit 1
fi
prefix=$(meson introspect "$build" --buildoptions | python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')
libdir=$(meson introspect "$build" --buildoptions | python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="libdir"][0])')
root="$tmp/root$prefix"
lib="$root/$libdir/libsoftiommu.so"

# Only the public API leaves the shared library, under a versioned soname.
if nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRW]$/ {print $3}' | sed 's/@.*//' |
	grep -v '^siommu_' >"$tmp/log"; then
	notok "shared library exports only siommu_* (found others)"
else
	: >"$tmp/log"
	ok "shared library exports only siommu_*"
fi
if readelf -d "$lib" | grep -q 'SONAME.*libsoftiommu\.so\.0'; then
	ok "versioned soname libsoftiommu.so.0"
else
	readelf -d "$lib" >"$tmp/log"
	notok "versioned soname libsoftiommu.so.0"
fi

export PKG_CONFIG_PATH="$root/$libdir/pkgconfig"
flags=$(pkg-config --define-variable=prefix="$root" --cflags --libs softiommu 2>"$tmp/log")
for ex in "${examples[@]}"; do
	name=$(basename "$ex" .c)
	if cc -Wall -Wextra -Werror "$ex" $flags -o "$tmp/$name" >"$tmp/log" 2>&1; then
		ok "build examples/$name.c against the installed library"
	else
		notok "build examples/$name.c against the installed library"
		n=$((n + 1)); echo "not ok $n - run examples/$name # not built"
		continue
	fi
	if LD_LIBRARY_PATH="$root/$libdir" "$tmp/$name" >"$tmp/log" 2>&1; then
		ok "run examples/$name"
	else
		notok "run examples/$name"
	fi
done

# Loaded after start-up: the initial-exec TLS of the library (and of liburcu,
# which it reaches with that model: src/base/rcu.h) must fit glibc's surplus.
if cc -Wall -Wextra -Werror "$src/tests/install/dlopen.c" -o "$tmp/dlopen" -ldl -pthread >"$tmp/log" 2>&1; then
	ok "build tests/install/dlopen.c (not linked with the library)"
	if "$tmp/dlopen" "$(readlink -f "$lib")" >"$tmp/log" 2>&1; then
		ok "dlopen the installed library, read-side sections and a grace period"
	else
		notok "dlopen the installed library, read-side sections and a grace period"
	fi
else
	notok "build tests/install/dlopen.c (not linked with the library)"
	n=$((n + 1)); echo "not ok $n - dlopen # not built"
fi
exit 0
