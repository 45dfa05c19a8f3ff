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
# Set SIOMMU_GOLDEN_UPDATE=1 to rewrite the expected files from the output.
# A .out file is the whole output, not only what the .cmd's `expect` lines
# check: an update takes every changed line with it, intended or not, so
# each one must be reviewed by hand before committing.  The script names the
# files it rewrote and prints a warning with the `git diff` to read (on
# standard error and as TAP comments).
set -u
cli=$(realpath "$1")
dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

update=false
[ "${SIOMMU_GOLDEN_UPDATE:-}" = 1 ] && update=true
updated=()

# Rewrite the expected files of $base from this run; note the test if any changed.
update_expected() {
	local changed=false
	if ! cmp -s "$tmp/out" "$base.out"; then
		cp "$tmp/out" "$base.out"
		changed=true
	fi
	if [ "$status" != 0 ]; then
		if [ "$(cat "$base.status" 2>/dev/null)" != "$status" ]; then
			echo "$status" >"$base.status"
			changed=true
		fi
	elif [ -f "$base.status" ]; then
		rm -f "$base.status"
		changed=true
	fi
	if [ -s "$tmp/err" ] || [ -f "$base.err" ]; then
		if ! cmp -s "$tmp/err" "$base.err"; then
			cp "$tmp/err" "$base.err"
			changed=true
		fi
	fi
	want_status=$status
	if $changed; then
		updated+=("$name")
	fi
}

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
	if $update; then
		update_expected
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

if $update; then
	if [ ${#updated[@]} -eq 0 ]; then
		msg="SIOMMU_GOLDEN_UPDATE: no expected file changed"
	else
		msg="WARNING: SIOMMU_GOLDEN_UPDATE rewrote the expected files of ${#updated[@]} golden test(s): ${updated[*]}.
WARNING: they hold whole outputs: lines that no 'expect' line checks changed with them, unchecked.
WARNING: review every changed line by hand before committing:
WARNING:   git -C '$dir' diff --stat -- . && git -C '$dir' diff -- ."
	fi
	printf '%s\n' "$msg" | sed 's/^/# /'
	printf '%s\n' "$msg" >&2
fi
