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
