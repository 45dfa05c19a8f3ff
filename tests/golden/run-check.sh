#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# `softiommu run --check` over every golden command file: a file the check
# refuses must be refused by the run with the same message and no output
# (the run checks every line before it runs any); a file whose run gets
# past pass 1 (prints any output) must pass the check.  Two fixed cases pin
# both answers.  Prints TAP.
#   run-check.sh SOFTIOMMU GOLDEN_DIR
set -u
cli=$(realpath "$1") dir=$2
n=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { n=$((n + 1)); echo "ok $n - $*"; }
bad() { n=$((n + 1)); fail=1; echo "not ok $n - $*"; }
cd "$dir" || exit 1
for f in *.cmd; do
	"$cli" run --check "$f" >"$tmp/cout" 2>"$tmp/cerr"
	cs=$?
	"$cli" run "$f" >"$tmp/rout" 2>"$tmp/rerr"
	if [ -s "$tmp/cout" ]; then
		bad "$f: --check printed to standard output"
	elif [ $cs = 0 ]; then
		ok "$f: accepted"
	elif [ $cs != 1 ]; then
		bad "$f: --check exit status $cs"
	elif [ -s "$tmp/rout" ]; then
		bad "$f: --check refuses it, but the run ran commands"
	elif ! cmp -s "$tmp/cerr" "$tmp/rerr"; then
		bad "$f: --check and the run give different errors"
		sed 's/^/# check: /' "$tmp/cerr"
		sed 's/^/# run:   /' "$tmp/rerr"
	else
		ok "$f: refused as the run refuses it ($(head -c 60 "$tmp/cerr" | head -n 1))"
	fi
done
"$cli" run --check mm_basic.cmd >/dev/null 2>&1 && ok "mm_basic.cmd passes the check" ||
	bad "mm_basic.cmd must pass the check"
if "$cli" run --check base_bad_syntax.cmd >/dev/null 2>"$tmp/e"; then
	bad "base_bad_syntax.cmd must fail the check"
elif grep -q 'unterminated quoted value' "$tmp/e"; then
	ok "base_bad_syntax.cmd fails the check with the parser's message"
else
	bad "base_bad_syntax.cmd: unexpected message: $(cat "$tmp/e")"
fi
echo "1..$n"
exit $fail
