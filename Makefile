# SPDX-License-Identifier: LGPL-2.1-or-later
# A thin wrapper over meson + ninja (as QEMU has).  The real build is in
# meson.build; this file only sets up, configures and calls it.
#
#   make          build everything; the CLI lands at build/softiommu
#   make demo     build and run the demo
#   make check    build plain, ASan+UBSan and TSan variants and run every test
#   make bench    run the benchmarks (JSON: make bench BENCH_ARGS=--json)
#   make asan | tsan   build and test one sanitizer variant only
#   make fuzz     fuzz every target with libFuzzer (FUZZ_SECONDS each; FUZZ_TARGETS="api
#                 fault_queue" picks some; FUZZ_JOBS=2 runs two at once)
#   make coverage line and branch coverage of the test suite, per module (gcovr)
#   make fuzz-coverage  what each fuzz target's corpus (the seeds and what make fuzz
#                 grew) covers, per module
#   make soak     random API traffic under ASan and TSan for SOAK_MINUTES (default 10)
#   make diff     differential test of the page tables for DIFF_SECONDS (ASan build;
#                 DIFF_SEED=N replays a run)

NINJA ?= ninja
MESON ?= meson
BENCH_ARGS ?=

.PHONY: all setup demo check bench asan tsan clean

all: build/build.ninja
	$(NINJA) -C build

setup:
	@scripts/setup

build/build.ninja: | setup
	$(MESON) setup build --buildtype=debugoptimized

build-asan/build.ninja: | setup
	$(MESON) setup build-asan --buildtype=debugoptimized -Dtesting=true \
		-Db_sanitize=address,undefined -Db_lundef=false

build-tsan/build.ninja: | setup
	$(MESON) setup build-tsan --buildtype=debugoptimized -Dtesting=true \
		-Db_sanitize=thread -Db_lundef=false

demo: all
	./build/softiommu demo

check: all build-asan/build.ninja build-tsan/build.ninja
	$(NINJA) -C build-asan
	$(NINJA) -C build-tsan
	scripts/check

bench: all
	./build/softiommu bench $(BENCH_ARGS)

asan: build-asan/build.ninja
	$(NINJA) -C build-asan
	$(MESON) test -C build-asan --num-processes 2 --print-errorlogs

tsan: build-tsan/build.ninja
	$(NINJA) -C build-tsan
	$(MESON) test -C build-tsan --num-processes 2 --print-errorlogs --timeout-multiplier 3

clean:
	rm -rf build build-asan build-tsan build-fuzz build-coverage

# Fuzzing with libFuzzer (clang): every target (or those in FUZZ_TARGETS:
# trace_parse run run_parse replay replay_line api fault_queue fault_queue_write)
# for FUZZ_SECONDS each, starting from its seed corpus (copied, so the tree is not modified); one
# FUZZ-SUMMARY line per target gives executions, exec/s and coverage.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
export FUZZ_JOBS
.PHONY: fuzz
fuzz: | setup
	test -f build-fuzz/build.ninja || CC=clang $(MESON) setup build-fuzz \
		--buildtype=debugoptimized -Dfuzzing=true -Dtesting=true \
		-Db_sanitize=address,undefined -Db_lundef=false
	$(NINJA) -C build-fuzz
	scripts/fuzz build-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Differential testing of the page tables (tests/pgtable/test_pgtable_diff.c):
# random operation sequences on every format and level count against one
# reference model, for DIFF_SECONDS, in the ASan+UBSan build.  A difference
# is printed as the shortest sequence showing it (a `softiommu run` script).
DIFF_SECONDS ?= 300
DIFF_SEED ?=
.PHONY: diff
diff: build-asan/build.ninja
	$(NINJA) -C build-asan tests/pgtable/test_pgtable_diff
	./build-asan/tests/pgtable/test_pgtable_diff --seconds $(DIFF_SECONDS) \
		$(if $(DIFF_SEED),--seed $(DIFF_SEED))

# Coverage (gcovr): the whole test suite in a coverage build (testing hooks
# on, no sanitizer), then line and branch coverage per module and the largest
# uncovered areas.  COVERAGE_ARGS are passed to meson test (e.g. --suite unit).
COVERAGE_ARGS ?=
.PHONY: coverage
coverage: | setup
	test -f build-coverage/build.ninja || $(MESON) setup build-coverage --buildtype=debug \
		-Db_coverage=true -Dtesting=true
	$(NINJA) -C build-coverage
	scripts/coverage build-coverage $(COVERAGE_ARGS)

# Coverage per fuzz target: each target's corpus (its seeds and what `make
# fuzz` grew in build-fuzz/fuzz-corpus) run alone through the coverage
# build's regression runner, line and branch coverage per module it reaches.
.PHONY: fuzz-coverage
fuzz-coverage: | setup
	test -f build-coverage/build.ninja || $(MESON) setup build-coverage --buildtype=debug \
		-Db_coverage=true -Dtesting=true
	$(NINJA) -C build-coverage
	scripts/fuzz-coverage build-coverage build-fuzz/fuzz-corpus $(FUZZ_TARGETS)

# Soak (tests/soak/): the demo's world under random API traffic over every
# module, with invariants, under ASan and TSan at once (one core each) for
# SOAK_MINUTES; each log ends with its invariants and a SOAK-SUMMARY line.
# make check runs a 60 s slice in the ASan and TSan builds, 10 s in the plain one.
SOAK_MINUTES ?= 10
SOAK_ARGS ?=
.PHONY: soak
soak: build-asan/build.ninja build-tsan/build.ninja
	$(NINJA) -C build-asan tests/soak/soak
	$(NINJA) -C build-tsan tests/soak/soak
	SIOMMU_SOURCE_DIR=$(CURDIR) ./build-asan/tests/soak/soak --seconds $$(($(SOAK_MINUTES) * 60)) \
		$(SOAK_ARGS) > build-asan/soak.log 2>&1 & asan=$$!; \
	SIOMMU_SOURCE_DIR=$(CURDIR) TSAN_OPTIONS=halt_on_error=1:suppressions=$(CURDIR)/tests/tsan.supp \
		./build-tsan/tests/soak/soak --seconds $$(($(SOAK_MINUTES) * 60)) $(SOAK_ARGS) \
		> build-tsan/soak.log 2>&1 & tsan=$$!; \
	wait $$asan; a=$$?; wait $$tsan; t=$$?; \
	for b in asan tsan; do \
		echo "== $$b soak (status $$([ $$b = asan ] && echo $$a || echo $$t)):"; \
		if grep -q SOAK-SUMMARY build-$$b/soak.log; then \
			grep -E '^# (VIOLATION|invariants|  |iopf|mm)|SOAK-SUMMARY' build-$$b/soak.log; \
		else tail -n 30 build-$$b/soak.log; fi; \
	done; \
	test $$a = 0 && test $$t = 0
