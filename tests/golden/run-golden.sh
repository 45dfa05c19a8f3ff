#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Golden tests of the CLI: for every NAME.cmd in DIR, run
#   softiommu run NAME.cmd
# and for every NAME.args, `softiommu ARGS` (its words, split on blanks; a
# word "<FILE" feeds FILE to standard input),
# and compare its standard output with NAME.out.  If NAME.status exists, the
# exit status must equal its content (default 0); if NAME.err exists, the
# standard error must equal it.  Prints TAP.
#
# Usage: run-golden.sh SOFTIOMMU DIR
# Set SIOMMU_GOLDEN_UPDATE=1 to rewrite the expected files from the output
# (then review the diff before committing).
set -u
cli=$(realpath "$1")
dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

shopt -s nullglob
cmds=("$dir"/*.cmd "$dir"/*.args)
echo "1..${#cmds[@]}"
n=0
for cmd in "${cmds[@]}"; do
	n=$((n + 1))
	base=${cmd%.*}
	name=$(basename "$base")
	want_status=0
	[ -f "$base.status" ] && want_status=$(cat "$base.status")
	if [ "${cmd##*.}" = args ]; then
		read -ra words <"$cmd"
		input=/dev/null
		args=()
		for w in "${words[@]}"; do
			if [ "${w:0:1}" = "<" ]; then input=${w:1}; else args+=("$w"); fi
		done
		(cd "$dir" && "$cli" "${args[@]}" <"$input") >"$tmp/out" 2>"$tmp/err"
	else
		(cd "$dir" && "$cli" run "$(basename "$cmd")") >"$tmp/out" 2>"$tmp/err"
	fi
	status=$?
	if [ "${SIOMMU_GOLDEN_UPDATE:-}" = 1 ]; then
		cp "$tmp/out" "$base.out"
		[ "$status" != 0 ] && echo "$status" >"$base.status"
		[ -s "$tmp/err" ] && cp "$tmp/err" "$base.err"
	fi
	why=""
	if [ "$status" != "$want_status" ]; then
		why="exit status $status, expected $want_status"
	elif ! diff -u "$base.out" "$tmp/out" >"$tmp/diff" 2>&1; then
		why="standard output differs"
	elif [ -f "$base.err" ] && ! diff -u "$base.err" "$tmp/err" >"$tmp/diff" 2>&1; then
		why="standard error differs"
	fi
	if [ -z "$why" ]; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name: $why"
		sed 's/^/# /' "$tmp/err" | head -20
		[ -f "$tmp/diff" ] && sed 's/^/# /' "$tmp/diff" | head -40
	fi
	rm -f "$tmp/diff"
done
