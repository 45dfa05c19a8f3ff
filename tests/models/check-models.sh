#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Model-checks the Promela models of the concurrency protocols (seeds 000,
# 001, 002, 003, 004, the translation hint and IOTLB run entries; docs/modules/models.md) with spin.  Every model must verify
# with no error, exhaustively, and every broken variant of it (a -D macro
# that removes one step of the protocol) must be refuted with an assertion
# violation, so that no model passes vacuously.  Each run happens in a
# temporary directory of its own.  Prints TAP, one case per run.
#
# Usage: check-models.sh [MODEL_DIR [MODEL.pml...]]
# (default: the script's directory, every case; with models named, only
# their cases, so that meson can run one test per model in parallel)
set -u
dir=${1:-$(dirname "$0")}
dir=$(cd "$dir" && pwd)
[ $# -gt 0 ] && shift
only=("$@")

# model|defines|expect (verify or refute)
cases=(
	"seed000.pml||verify"
	"seed000.pml|-DNO_GRACE|refute"
	"seed000.pml|-DNO_GEN|refute"
	"seed001.pml||verify"
	"seed001.pml|-DZAP_EARLY|verify"
	"seed001.pml|-DNO_RETRY|refute"
	"seed001.pml|-DZAP_EARLY -DNO_INPROGRESS|refute"
	"seed001_mm.pml||verify"
	"seed001_mm.pml|-DREVERSED|refute"
	"seed001_mm.pml|-DNO_UNION|refute"
	"seed003.pml||verify"
	"seed003.pml|-DFLAG_OUTSIDE|refute"
	"seed003.pml|-DNO_GRACE|refute"
	"seed004.pml||verify"
	"seed004.pml|-DFIRST_PATCH|refute"
	"hint.pml|-DONLY_UNMAP|verify"
	"hint.pml|-DONLY_REPLACE|verify"
	"hint.pml|-DONLY_UNMAP -DNO_SEQ|refute"
	"hint.pml|-DONLY_REPLACE -DNO_DOM|refute"
	"runs.pml||verify"
	"runs.pml|-DNO_RUN_INV|refute"
	"runs.pml|-DNO_GEN|refute"
	"runs.pml|-DNO_SEQ|refute"
	"seed004.pml|-DCOUNT_FIRST|refute"
	"seed002.pml||verify"
	"seed002.pml|-DNAIVE -DANSWERS|refute"
	"seed002.pml|-DDRAIN_FIRST -DANSWERS|refute"
)

if [ ${#only[@]} -gt 0 ]; then
	picked=()
	for c in "${cases[@]}"; do
		for m in "${only[@]}"; do
			[ "${c%%|*}" = "$m" ] && picked+=("$c")
		done
	done
	if [ ${#picked[@]} -eq 0 ]; then
		echo "check-models.sh: no case for: ${only[*]}" >&2
		exit 2
	fi
	cases=("${picked[@]}")
fi

missing=
command -v spin >/dev/null 2>&1 || missing="$missing spin"
command -v gcc >/dev/null 2>&1 || missing="$missing gcc"
if [ -n "$missing" ]; then
	echo "1..1"
	echo "not ok 1 - model checker tools present"
	echo "# missing:$missing (spin 6.5 and gcc are needed; scripts/setup installs spin)"
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0

# run WORKDIR MODEL DEFINES PAN_CFLAGS: spin -a, gcc, pan; output in WORKDIR/log.
run() {
	local w=$1 model=$2 defs=$3 cflags=$4
	mkdir -p "$w"
	cp "$dir/$model" "$w/"
	(
		cd "$w" || exit 1
		# shellcheck disable=SC2086
		spin $defs -a "$model" >log 2>&1 || { echo "spin -a failed" >>log; exit 1; }
		# shellcheck disable=SC2086
		gcc -O2 -DSAFETY $cflags -o pan pan.c >>log 2>&1 || { echo "gcc failed" >>log; exit 1; }
		./pan -m100000 >>log 2>&1
		exit 0
	)
}

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
errors_of() { sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' "$1" | tail -1; }
states_of() { sed -n 's/^ *\([0-9][0-9]*\) states, stored.*/\1/p' "$1" | tail -1; }

echo "1..${#cases[@]}"
for c in "${cases[@]}"; do
	IFS='|' read -r model defs expect <<<"$c"
	n=$((n + 1))
	name="${model%.pml}${defs:+ $defs}"
	w="$tmp/$n"
	t0=$(date +%s.%N)
	if [ "$expect" = verify ]; then
		# With and without partial-order reduction: both must be clean.
		ok=1
		detail=
		for cflags in "" "-DNOREDUCE"; do
			run "$w${cflags:+-nr}" "$model" "$defs" "$cflags" || ok=0
			log="$w${cflags:+-nr}/log"
			e=$(errors_of "$log")
			if [ "$ok" = 1 ] && [ "$e" = 0 ] &&
				! grep -q 'max search depth too small' "$log"; then
				detail="$detail${detail:+, }$(states_of "$log") states${cflags:+ without reduction}"
			else
				ok=0
				sed 's/^/# /' "$log" | tail -25
				break
			fi
		done
		t1=$(date +%s.%N)
		if [ "$ok" = 1 ]; then
			echo "ok $n - $name verifies: 0 errors ($detail, $(elapsed "$t0" "$t1") s)"
		else
			fails=$((fails + 1))
			echo "not ok $n - $name verifies"
		fi
	else
		run "$w" "$model" "$defs" ""
		log="$w/log"
		e=$(errors_of "$log")
		t1=$(date +%s.%N)
		if [ -n "$e" ] && [ "$e" -gt 0 ] && grep -q 'assertion violated' "$log"; then
			what=$(grep -m1 'assertion violated' "$log" | sed 's/^pan:[0-9]*: //')
			echo "ok $n - $name is refuted: $what ($(elapsed "$t0" "$t1") s)"
		else
			fails=$((fails + 1))
			echo "not ok $n - $name is refuted (spin found no assertion violation: the model passes vacuously)"
			sed 's/^/# /' "$log" | tail -25
		fi
	fi
done
[ "$fails" = 0 ]
