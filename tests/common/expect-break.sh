#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A broken-protocol case: run a stress program on its deliberately broken
# variant and pass only if the break was detected.
#
#   expect-break.sh NAME REGEX PROGRAM [ARGS...]
#   expect-break.sh --unsupported NAME PROGRAM [ARGS...]
#
# PROGRAM runs with SIOMMU_STRESS_BREAK=1 (and ARGS, e.g. --broken-reclaim).
# The case passes when PROGRAM exits non-zero AND its output (stdout and
# stderr together) matches the extended REGEX (what the detector prints:
# "heap-use-after-free", "data race", the test's own violation count...).
# It fails when the program passes (the break went unseen), when it fails
# for another reason (output does not match), or when it says the switch
# cannot act in this build (it prints "BREAK-UNSUPPORTED" and exits 77):
# meson.build adds a case only for the builds where the break must be
# caught.  Prints one TAP case; the program's output is kept in the log.
#
# --unsupported is for the builds where the switch cannot act (its hook is
# compiled in -Dtesting=true builds only): the case is a skip when PROGRAM
# says so (BREAK-UNSUPPORTED, exit 77) and fails when it ignores the switch
# (runs the correct protocol and passes) or does anything else.
set -u
unsupported=false
if [ "${1:-}" = --unsupported ]; then
	unsupported=true
	shift
	name=$1 regex=BREAK-UNSUPPORTED
	shift
else
	name=$1 regex=$2
	shift 2
fi
out=$(SIOMMU_STRESS_BREAK=1 "$@" 2>&1)
status=$?
printf '%s\n' "$out" | sed 's/^/# | /' | tail -n 60
echo "1..1"
if $unsupported; then
	if [ $status -eq 77 ] && printf '%s\n' "$out" | grep -q 'BREAK-UNSUPPORTED'; then
		echo "ok 1 - $name # SKIP the break switch cannot act in this build (it says so)"
		exit 0
	fi
	echo "not ok 1 - $name: the break switch cannot act in this build but the program" \
	     "did not say so (status $status, no BREAK-UNSUPPORTED and exit 77)"
	exit 1
fi
if [ $status -eq 0 ]; then
	echo "not ok 1 - $name: the broken variant passed (break not detected)"
	exit 1
fi
if printf '%s\n' "$out" | grep -q 'BREAK-UNSUPPORTED'; then
	echo "not ok 1 - $name: the break switch cannot act in this build"
	exit 1
fi
line=$(printf '%s\n' "$out" | grep -Em1 -- "$regex")
if [ -z "$line" ]; then
	echo "not ok 1 - $name: failed (status $status) but not with /$regex/"
	exit 1
fi
echo "# first line that matched: $line"
echo "ok 1 - $name: break detected (status $status, matched /$regex/)"
exit 0
