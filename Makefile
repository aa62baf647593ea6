# attnbench — see README.md. `make` builds build/attnbench; `make test` runs
# the suite twice (normal build, then ASan+UBSan); `make sweep` draws the figures.

BUILD ?= build
SAN   ?=
# make test, test-fast: builds and tests run JOBS at a time (default: the online CPUs)
JOBS  ?= $(shell nproc 2>/dev/null || echo 1)
CC    ?= cc

OPENBLAS_CFLAGS := $(shell pkg-config --cflags openblas 2>/dev/null)
OPENBLAS_LIBS   := $(shell pkg-config --libs openblas 2>/dev/null || echo -lopenblas)

OPT      ?= -O2 -march=native
WARN     := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CFLAGS   ?= $(OPT) -g
# the layers, lowest first: kernels <- bench (its folders of one idea) <- analysis <- app
BENCH_DIRS := $(sort $(patsubst %/,%,$(dir $(wildcard bench/*/*.c bench/*/*.h))))
BENCH_DIRS := $(filter-out bench/peers,$(BENCH_DIRS))
INCLUDES   := -Ikernels $(BENCH_DIRS:%=-I%) -Ianalysis -Iapp
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(OPENBLAS_CFLAGS) $(INCLUDES) -I$(BUILD)
LDLIBS   := $(OPENBLAS_LIBS) -lcsv -lm
ifeq ($(SAN),1)
  ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDFLAGS    += -fsanitize=address,undefined
endif

KERNEL_SRCS   := $(sort $(wildcard kernels/*.c))
BENCH_SRCS    := $(sort $(foreach d,$(BENCH_DIRS),$(wildcard $(d)/*.c)))
ANALYSIS_SRCS := $(sort $(wildcard analysis/*.c))
# EXTRA_SRCS: an operator's file kept outside the tree (kernels/methods.c:
# ATTN_EXTRA_METHOD), e.g. tests/extra_op.c in tests/e2e_extra_method.sh
EXTRA_SRCS    ?=
LIB_SRCS      := $(KERNEL_SRCS) $(BENCH_SRCS) $(ANALYSIS_SRCS) $(EXTRA_SRCS)
LIB_OBJS      := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
TEST_SRCS     := $(sort $(wildcard tests/test_*.c))
TEST_BINS     := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
HEADERS       := $(wildcard kernels/*.h $(BENCH_DIRS:%=%/*.h) analysis/*.h app/*.h tests/*.h)

.PHONY: all deps deps-test test test-fast test-slurm sweep bench clean FORCE
all: $(BUILD)/attnbench

# the commit, flags and source hash the program records in every .env
# sidecar; the source hash (SHA-256 of the sources that make the rows, and
# the flags) is what a sweep resumes by, clean tree or not
RESULT_SRCS := $(sort $(wildcard kernels/*.c kernels/*.h $(BENCH_DIRS:%=%/*.c) $(BENCH_DIRS:%=%/*.h)))
# every build checks the dependencies first (scripts/deps.sh: installs them as
# root, else prints the apt-get line), so a missing OpenBLAS is one clear line.
# The header is written to a file of this make's own (.tmp.PID) and moved
# only when it differs: makes running at once on one BUILD (make test runs
# `make sweep` and `make fuzz-replay` beside tests that use the program) must
# not see it half written, take it for changed and relink the program under
# the tests (a test once found build/attnbench not executable)
$(BUILD)/version.h: FORCE | deps
	@mkdir -p $(BUILD)
	@c=$$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown); \
	 git diff --quiet HEAD -- 2>/dev/null || c="$$c-dirty"; \
	 h=$$( { cat $(RESULT_SRCS); echo "$(strip $(ALL_CFLAGS))"; } | sha256sum | cut -c1-16); \
	 printf '#define ATTNBENCH_COMMIT "%s"\n#define ATTNBENCH_CFLAGS "%s"\n#define ATTNBENCH_SOURCE_HASH "%s"\n' \
	   "$$c" "$(strip $(ALL_CFLAGS))" "$$h" > $@.tmp.$$$$; \
	 cmp -s $@.tmp.$$$$ $@ && rm -f $@.tmp.$$$$ || mv $@.tmp.$$$$ $@

$(BUILD)/obj/%.o: %.c $(HEADERS) | $(BUILD)/version.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# the synthetic generator must give the same bytes on every machine
$(BUILD)/obj/bench/measure/rng.o $(BUILD)/obj/bench/measure/input.o: ALL_CFLAGS += -ffp-contract=off
$(BUILD)/obj/bench/measure/env.o $(BUILD)/obj/app/main.o: $(BUILD)/version.h

# the archive and the program are made under a name of their own and moved
# into place: a test running build/attnbench while a make beside it relinks
# (make test runs make sweep on the same BUILD) sees the old file or the new,
# never a missing or half-written one
$(BUILD)/libattn.a: $(LIB_OBJS)
	@rm -f $@.tmp.$$$$; ar rcs $@.tmp.$$$$ $^ && mv $@.tmp.$$$$ $@

$(BUILD)/attnbench: $(BUILD)/obj/app/main.o $(BUILD)/libattn.a
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@.tmp.$$$$ && mv $@.tmp.$$$$ $@

$(BUILD)/tests/%: tests/%.c $(BUILD)/libattn.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests $< $(BUILD)/libattn.a $(LDFLAGS) $(LDLIBS) -o $@

tests: $(BUILD)/attnbench $(TEST_BINS)

# Checks OpenBLAS, libcsv and gnuplot; installs Debian's packages as root,
# else prints the apt-get line and stops.
deps:
	@sh scripts/deps.sh
deps-test:
	@sh scripts/deps.sh --test

# The whole suite, once normal and once under AddressSanitizer + UBSan, then
# the unit tests once per OpenBLAS core choice (tests/cores.sh).
test: deps-test
	@$(MAKE) --no-print-directory -j$(JOBS) tests
	@$(MAKE) --no-print-directory -j$(JOBS) BUILD=$(BUILD)/asan SAN=1 tests
	@JOBS=$(JOBS) sh tests/run.sh $(BUILD) $(BUILD)/asan
	@JOBS=$(JOBS) sh tests/cores.sh $(BUILD)

# one build only, for quick iteration
# the Slurm end-to-end test alone, with the quick sweep as 3 shards through a
# private one-node Slurm checked against the same sweep run here (as root,
# Debian's slurm-wlm and munge; .ci/run)
test-slurm: all
	ATTNBENCH=$(BUILD)/attnbench SLURM_QUICK=1 sh tests/e2e_slurm.sh

test-fast:
	@$(MAKE) --no-print-directory -j$(JOBS) tests
	@JOBS=$(JOBS) sh tests/run.sh $(BUILD)

clean:
	rm -rf $(BUILD)

# =============================================================================
# Reliability: fuzzing, replay of the fuzz corpora, valgrind.
#   make fuzz [FUZZ_SECONDS=600]   build the libFuzzer targets with clang
#       (ASan + UBSan) into $(BUILD)/fuzz and run each for FUZZ_SECONDS on its
#       seeds (tests/fuzz/TARGET/, never written: new inputs go to
#       $(BUILD)/fuzz/corpus/TARGET/, crashes to $(BUILD)/fuzz/crash-TARGET-*)
#   make fuzz-replay               every seed file through its target once
#   make check-valgrind            the unit tests under valgrind, built without
#       AVX-512 (valgrind 3.19 cannot execute it) in $(BUILD)/valgrind
# Needs Debian's clang-14 and libclang-rt-14-dev (fuzz), valgrind.
# =============================================================================
.PHONY: fuzz fuzz-build fuzz-replay check-valgrind

FUZZ_CC      ?= $(firstword $(shell command -v clang clang-14 2>/dev/null) clang)
FUZZ_SECONDS ?= 600
FUZZ_DIR      = $(BUILD)/fuzz
FUZZ_TARGETS := npy spec csv
# all the project's code in one archive: each target links what it reaches
FUZZ_OBJS     = $(LIB_SRCS:%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_BINS     = $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_FLAGS   := -std=c11 -D_GNU_SOURCE $(WARN) -g -O1 -fno-omit-frame-pointer \
                -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                $(OPENBLAS_CFLAGS) $(INCLUDES)
# OpenBLAS's thread buffers live as long as the process (tests/lsan.supp)
FUZZ_ENV     := OPENBLAS_NUM_THREADS=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
                LSAN_OPTIONS=suppressions=tests/lsan.supp:print_suppressions=0 \
                UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# (clang's warnings on the project's files are the main build's business: no -Werror here)
$(FUZZ_DIR)/obj/%.o: %.c $(HEADERS) | $(BUILD)/version.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(filter-out -Werror,$(FUZZ_FLAGS)) -I$(BUILD) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/libattn-fuzz.a: $(FUZZ_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_DIR)/libattn-fuzz.a $(HEADERS)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer $< $(FUZZ_DIR)/libattn-fuzz.a $(LDLIBS) -o $@

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_DIR)/corpus/$$t; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  $(FUZZ_ENV) $(FUZZ_DIR)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=60 \
	    -rss_limit_mb=2048 -max_len=4096 -dict=tests/fuzz/$$t.dict -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_DIR)/crash-$$t- $(FUZZ_DIR)/corpus/$$t tests/fuzz/$$t \
	    2> $(FUZZ_DIR)/fuzz-$$t.log || { tail -n 60 $(FUZZ_DIR)/fuzz-$$t.log; exit 1; }; \
	  grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::peak_rss_mb)' $(FUZZ_DIR)/fuzz-$$t.log; \
	done

fuzz-replay: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  $(FUZZ_ENV) $(FUZZ_DIR)/fuzz_$$t -runs=1 tests/fuzz/$$t/* > $(FUZZ_DIR)/replay-$$t.log 2>&1 \
	    || { tail -n 60 $(FUZZ_DIR)/replay-$$t.log; exit 1; }; \
	  echo "fuzz-replay: $$t: $$(ls tests/fuzz/$$t | wc -l) file(s) ok"; \
	done

# Valgrind 3.19 cannot execute AVX-512, which -march=native and OpenBLAS's
# SkylakeX/Cooperlake kernels use on this class of machine: build for x86-64-v3
# (AVX2; -O2 as the main build, whose warnings -Werror must see the same way)
# and pin OpenBLAS to its Haswell kernels, one thread.
VALGRIND_BUILD = $(BUILD)/valgrind
VALGRIND      ?= valgrind
# (add --track-origins=yes to VALGRIND_OPTS to trace an uninitialised value; it doubles the time)
# No suppressions: with one OpenBLAS thread every block is freed by exit.
VALGRIND_OPTS ?= --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible \
                 --show-leak-kinds=definite,indirect,possible --quiet
check-valgrind:
	@$(MAKE) --no-print-directory BUILD=$(VALGRIND_BUILD) OPT="-O2 -march=x86-64-v3" tests
	@mkdir -p $(VALGRIND_BUILD)/logs
	@fails=0; for t in $(TEST_SRCS:tests/%.c=%); do \
	  start=$$(date +%s); log=$(VALGRIND_BUILD)/logs/$$t.log; \
	  if OPENBLAS_CORETYPE=Haswell OPENBLAS_NUM_THREADS=1 ATTNBENCH_NO_REEXEC=1 \
	     $(VALGRIND) $(VALGRIND_OPTS) $(VALGRIND_BUILD)/tests/$$t > $$log 2>&1; then \
	    echo "PASS valgrind $$t ($$(( $$(date +%s) - start ))s)"; \
	  else \
	    echo "FAIL valgrind $$t (exit $$?)"; sed -n '1,80p' $$log | sed 's/^/    /'; \
	    fails=$$((fails + 1)); \
	  fi; \
	done; [ $$fails -eq 0 ]

# =============================================================================
# Sweep: the default study, its summary and its figures.
#   make sweep [SWEEP=quick] [OUT=DIR] [MODEL=CKPT] [RESUME=1] [SWEEP_FLAGS="--jobs 2 ..."]
#       With a MODEL (a llama2.c checkpoint; default data/stories260K.bin
#       where it exists), first `attnbench capture` writes its q, k, v per
#       layer into a fresh $(OUT)/real (n = the checkpoint's seq_len, CAPTURE_FLAGS),
#       and the sweep gets `--capture $(OUT)/real`: the spec's real-attention
#       groups run every captured layer and its synthetic twins (same shape,
#       each layer's logit std). MODEL= (empty) leaves them out, with a note.
#       Then every point of bench/sweeps/$(SWEEP).sweep runs, each in its own
#       process, into $(OUT)/sweep.csv (+ sweep.env), `attnbench analyze`
#       writes $(OUT)/summary.md and $(OUT)/data/, and scripts/figures.sh draws
#       $(OUT)/figures/*.svg and *.png. The spec is checked first (a typo in
#       SWEEP exits 2 with OUT untouched). No row is ever deleted: an
#       interrupted sweep resumes (runs only the missing points) when the
#       .env beside the CSV records this build's source_hash (a hash of
#       kernels/ and bench/ and the flags, whatever the git tree's state),
#       the same spec points and the same capture; otherwise the old CSV and
#       its .env are moved aside to sweep.old-N.csv / .env, with one line
#       saying so. RESUME=1 always resumes, RESUME=0 always moves aside.
#       SWEEP_FLAGS go to `attnbench sweep` (--mem-limit, --timeout, --jobs:
#       timings are only comparable with --jobs 1). SPEC=path overrides
#       bench/sweeps/$(SWEEP).sweep. `make sweep` writes under OUT only;
#       `make readme` (maintainers) puts results/'s tables into README.md.
# =============================================================================
SWEEP         ?= default
OUT           ?= results
RESUME        ?= auto
SPEC          ?= bench/sweeps/$(SWEEP).sweep
SWEEP_FLAGS   ?=
MODEL         ?= $(wildcard data/stories260K.bin)
# the checkpoints of the model-level study (attnbench eval), each where it exists
MODELS        ?= $(wildcard data/stories260K.bin data/babyllama105.bin)
CAPTURE_FLAGS ?= --seed 1

# The real-attention capture both sweeps share: MODEL's q, k, v into
# $(OUT)/real (a clean clone holds only its capture.txt: the tensors are not
# in git); sets changed=1 when the new capture.txt (model, tokens, logit
# stds) differs from the one it replaced.
CAPTURE_REAL = \
	 if [ -n "$(MODEL)" ]; then \
	   rm -rf $(OUT)/real.new; \
	   $(BUILD)/attnbench capture --llama2c "$(MODEL)" --out $(OUT)/real.new $(CAPTURE_FLAGS); \
	   [ ! -f $(OUT)/real/capture.txt ] || cmp -s $(OUT)/real.new/capture.txt $(OUT)/real/capture.txt || changed=1; \
	   rm -rf $(OUT)/real; mv $(OUT)/real.new $(OUT)/real; \
	 else \
	   echo "make: no MODEL: synthetic inputs only; add real attention with MODEL=path/to/llama2c.bin"; \
	 fi;

SWEEP_RESUME = $(if $(filter 1,$(RESUME)),always,$(if $(filter 0,$(RESUME)),never,auto))

sweep: deps
	@$(MAKE) --no-print-directory all
	@$(BUILD)/attnbench sweep $(SPEC) --check $(if $(MODELS),--define "MODELS=$(MODELS)") > /dev/null
	@mkdir -p $(OUT)
	@set -e; changed=; $(CAPTURE_REAL) :
	$(BUILD)/attnbench sweep $(SPEC) --out $(OUT)/sweep.csv --resume $(SWEEP_RESUME) $(if $(MODEL),--capture $(OUT)/real) \
	  $(if $(MODELS),--define "MODELS=$(MODELS)") $(SWEEP_FLAGS)
	$(BUILD)/attnbench analyze $(OUT)/sweep.csv --out $(OUT)
	sh scripts/figures.sh $(OUT)

# Maintainers: results/'s summary (and bench) tables into README.md.
.PHONY: readme
readme:
	sh scripts/readme_update.sh results

# =============================================================================
# Bench: the suite's kernels and PyTorch side by side (scripts/bench.sh).
#   make bench [BENCH=quick] [OUT=DIR] [THREADS=2]
#       runs vanilla, chunked, topk, performer and their PyTorch peers
#       (bench/peers/torch_attention.py; python3-torch is optional: without
#       it the peer rows are left out) on the same inputs, and this machine's
#       sgemm rate as the limit, into $(OUT)/bench.csv and $(OUT)/bench.md.
#       It prints the timing context when it starts (BLAS core and how it was
#       chosen, threads, load average), runs every process on the core the
#       program would pick (a user's OPENBLAS_CORETYPE is honoured), and warns
#       when the sgemm rate or the bandwidth probe moved by more than 10%
#       during the run or the load average exceeds THREADS. It writes under
#       OUT only: `make readme` (maintainers) puts results/bench.md into README.md.
# =============================================================================
BENCH     ?= full
PEER_BINS := $(BUILD)/peers/sgemm_rate $(BUILD)/peers/performer_features

$(BUILD)/peers/%: bench/peers/%.c $(BUILD)/libattn.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $< $(BUILD)/libattn.a $(LDFLAGS) $(LDLIBS) -o $@

bench: $(BUILD)/attnbench $(PEER_BINS)
	@sh scripts/bench.sh $(BUILD) $(OUT) $(BENCH)

# =============================================================================
# Slurm: the sweep as a job array on a cluster (scripts/slurm/).
#   make sweep-slurm SHARDS=N [SWEEP=quick] [OUT=DIR] [INDICES=3,5] [PARTITION=P]
#                    [TIME=04:00:00] [CPUS=1] [MEM=16G] [RESUME=auto|0|1] [WAIT=1]
#                    [SWEEP_FLAGS="--timeout 1200 ..."]
#       submits one job array of N tasks, task I running `attnbench sweep SPEC
#       --shard I/N --out $(OUT)/shards/I-of-N.csv` (scripts/slurm/sweep.sbatch),
#       and one job after it (--dependency=afterany, scripts/slurm/finish.sbatch)
#       that merges the shards into $(OUT)/sweep.csv when all are complete, then
#       analyzes and draws as `make sweep` does. Prints the job ids and how to
#       watch them, and returns; WAIT=1 waits for the merge job and fails if the
#       sweep is incomplete. A failed task keeps its rows: INDICES=3,5 resubmits
#       only those tasks (sbatch --array=3,5), which run their missing points.
#       CPUS is both --cpus-per-task and the sweep's `threads`; PARTITION (empty:
#       the cluster's default), TIME and MEM (empty: the cluster's) go to sbatch,
#       and MEM also bounds each point (--mem-limit). RESUME as for `make sweep`.
#       On one machine: scripts/slurm/local-cluster.sh starts a private cluster.
# =============================================================================
SHARDS    ?=
INDICES   ?=
PARTITION ?=
TIME      ?= 04:00:00
CPUS      ?= 1
MEM       ?= 16G
WAIT      ?= 0

.PHONY: sweep-slurm
sweep-slurm: deps
	@$(MAKE) --no-print-directory all
	@mkdir -p $(OUT)
	@set -e; changed=; $(CAPTURE_REAL) \
	 sh scripts/slurm/submit.sh --bin $(BUILD)/attnbench --spec bench/sweeps/$(SWEEP).sweep --out $(OUT) \
	  --shards "$(SHARDS)" --indices "$(INDICES)" --partition "$(PARTITION)" --time "$(TIME)" \
	  --cpus "$(CPUS)" --mem "$(MEM)" --resume "$(RESUME)" $(if $(filter 1,$(WAIT)),--wait) -- \
	  $(if $(MODEL),--capture $(abspath $(OUT))/real) $(SWEEP_FLAGS)
