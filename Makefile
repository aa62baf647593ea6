# attnbench — see README.md. `make` builds build/attnbench; `make test` runs
# the suite twice (normal build, then ASan+UBSan); `make sweep` draws the figures.

BUILD ?= build
SAN   ?=
CC    ?= cc

OPENBLAS_CFLAGS := $(shell pkg-config --cflags openblas 2>/dev/null)
OPENBLAS_LIBS   := $(shell pkg-config --libs openblas 2>/dev/null || echo -lopenblas)

OPT      ?= -O2 -march=native
WARN     := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CFLAGS   ?= $(OPT) -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(OPENBLAS_CFLAGS) -Ikernels -Ibench -Ianalysis -I$(BUILD)
LDLIBS   := $(OPENBLAS_LIBS) -lcsv -lm
ifeq ($(SAN),1)
  ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDFLAGS    += -fsanitize=address,undefined
endif

KERNEL_SRCS   := $(sort $(wildcard kernels/*.c))
BENCH_SRCS    := $(filter-out bench/main.c,$(sort $(wildcard bench/*.c)))
ANALYSIS_SRCS := $(sort $(wildcard analysis/*.c))
LIB_SRCS      := $(KERNEL_SRCS) $(BENCH_SRCS) $(ANALYSIS_SRCS)
LIB_OBJS      := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
TEST_SRCS     := $(sort $(wildcard tests/test_*.c))
TEST_BINS     := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
HEADERS       := $(wildcard kernels/*.h bench/*.h analysis/*.h tests/*.h)

.PHONY: all deps deps-test test test-fast sweep bench clean FORCE
all: $(BUILD)/attnbench

# the commit and flags the program records in every .env sidecar
$(BUILD)/version.h: FORCE
	@mkdir -p $(BUILD)
	@c=$$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown); \
	 git diff --quiet HEAD -- 2>/dev/null || c="$$c-dirty"; \
	 printf '#define ATTNBENCH_COMMIT "%s"\n#define ATTNBENCH_CFLAGS "%s"\n' "$$c" "$(strip $(ALL_CFLAGS))" > $@.tmp; \
	 cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(BUILD)/obj/%.o: %.c $(HEADERS) | $(BUILD)/version.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# the synthetic generator must give the same bytes on every machine
$(BUILD)/obj/bench/rng.o $(BUILD)/obj/bench/input.o: ALL_CFLAGS += -ffp-contract=off
$(BUILD)/obj/bench/env.o $(BUILD)/obj/bench/main.o: $(BUILD)/version.h

$(BUILD)/libattn.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/attnbench: $(BUILD)/obj/bench/main.o $(BUILD)/libattn.a
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

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

# The whole suite, once normal and once under AddressSanitizer + UBSan.
test: deps-test
	@$(MAKE) --no-print-directory tests
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/asan SAN=1 tests
	@sh tests/run.sh $(BUILD) $(BUILD)/asan

# one build only, for quick iteration
test-fast:
	@$(MAKE) --no-print-directory tests
	@sh tests/run.sh $(BUILD)

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

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 600
FUZZ_DIR      = $(BUILD)/fuzz
FUZZ_TARGETS := npy spec csv
# the project code each target reaches (spec.c asks the method tables, so all kernels)
FUZZ_SRCS    := $(KERNEL_SRCS) bench/npy.c bench/spec.c bench/options.c bench/results.c analysis/table.c
FUZZ_OBJS     = $(FUZZ_SRCS:%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_BINS     = $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_FLAGS   := -std=c11 -D_GNU_SOURCE $(WARN) -g -O1 -fno-omit-frame-pointer \
                -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                $(OPENBLAS_CFLAGS) -Ikernels -Ibench -Ianalysis
# OpenBLAS's thread buffers live as long as the process (tests/lsan.supp)
FUZZ_ENV     := OPENBLAS_NUM_THREADS=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
                LSAN_OPTIONS=suppressions=tests/lsan.supp:print_suppressions=0 \
                UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

$(FUZZ_DIR)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

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
# (AVX2) and pin OpenBLAS to its Haswell kernels, one thread.
VALGRIND_BUILD = $(BUILD)/valgrind
VALGRIND      ?= valgrind
VALGRIND_OPTS := --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
                 --show-leak-kinds=definite,indirect --track-origins=yes --quiet
check-valgrind:
	@$(MAKE) --no-print-directory BUILD=$(VALGRIND_BUILD) OPT="-O1 -march=x86-64-v3" tests
	@fails=0; for t in $(VALGRIND_BUILD)/tests/test_*; do \
	  start=$$(date +%s); \
	  if OPENBLAS_CORETYPE=Haswell OPENBLAS_NUM_THREADS=1 ATTNBENCH_NO_REEXEC=1 \
	     $(VALGRIND) $(VALGRIND_OPTS) $$t > $$t.valgrind.log 2>&1; then \
	    echo "PASS valgrind $$(basename $$t) ($$(( $$(date +%s) - start ))s)"; \
	  else \
	    echo "FAIL valgrind $$(basename $$t) (exit $$?)"; sed -n '1,80p' $$t.valgrind.log | sed 's/^/    /'; \
	    fails=$$((fails + 1)); \
	  fi; \
	done; [ $$fails -eq 0 ]

# =============================================================================
# Sweep: the default study, its summary and its figures.
#   make sweep [SWEEP=quick] [OUT=DIR] [RESUME=1] [SWEEP_FLAGS="--jobs 2 ..."]
#       runs every point of bench/sweeps/$(SWEEP).sweep, each in its own process,
#       into $(OUT)/sweep.csv (+ sweep.env), then `attnbench analyze` writes
#       $(OUT)/summary.md and $(OUT)/data/, and scripts/figures.sh draws
#       $(OUT)/figures/*.svg and *.png. An interrupted sweep resumes (runs only
#       the missing points) when its .env records the commit of this build and
#       the tree is clean; otherwise it starts from an empty CSV, so rows of
#       different code never mix. RESUME=1 always resumes, RESUME=0 never. SWEEP_FLAGS go to `attnbench sweep` (--mem-limit,
#       --timeout, --jobs: timings are only comparable with --jobs 1).
# =============================================================================
SWEEP       ?= default
OUT         ?= results
RESUME      ?= auto
SWEEP_FLAGS ?=

sweep: deps
	@$(MAKE) --no-print-directory all
	@mkdir -p $(OUT)
	@c=$$($(BUILD)/attnbench --version | sed -n 's/.*(commit \(.*\))/\1/p'); \
	 if [ "$(RESUME)" = 1 ] || { [ "$(RESUME)" = auto ] && [ -f $(OUT)/sweep.csv ] && \
	      case "$$c" in *-dirty|unknown) false;; esac && grep -qx "commit=$$c" $(OUT)/sweep.env 2>/dev/null; }; then \
	   [ -f $(OUT)/sweep.csv ] && echo "make sweep: resuming $(OUT)/sweep.csv (same commit $$c); RESUME=0 starts afresh"; \
	 else rm -f $(OUT)/sweep.csv $(OUT)/sweep.env; fi; true
	$(BUILD)/attnbench sweep bench/sweeps/$(SWEEP).sweep --out $(OUT)/sweep.csv $(SWEEP_FLAGS)
	$(BUILD)/attnbench analyze $(OUT)/sweep.csv --out $(OUT)
	sh scripts/figures.sh $(OUT)

# =============================================================================
# Bench: the suite's kernels and PyTorch side by side (scripts/bench.sh).
#   make bench [BENCH=quick] [OUT=DIR] [THREADS=2]
#       runs vanilla, chunked, topk, performer and their PyTorch peers
#       (bench/peers/torch_attention.py; python3-torch is optional: without
#       it the peer rows are left out) on the same inputs, and this machine's
#       sgemm rate as the limit, into $(OUT)/bench.csv and $(OUT)/bench.md.
# =============================================================================
BENCH     ?= full
PEER_BINS := $(BUILD)/peers/sgemm_rate $(BUILD)/peers/performer_features

$(BUILD)/peers/%: bench/peers/%.c $(BUILD)/libattn.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $< $(BUILD)/libattn.a $(LDFLAGS) $(LDLIBS) -o $@

bench: $(BUILD)/attnbench $(PEER_BINS)
	@sh scripts/bench.sh $(BUILD) $(OUT) $(BENCH)
