#!/bin/sh
# e2e_fuzz_replay.sh — every seed of the fuzz corpora (tests/fuzz/TARGET/)
# through its libFuzzer target once (`make fuzz-replay`): the .npy reader, the
# sweep-spec parser and the results-CSV reader, under ASan and UBSan, with the
# targets' own checks. Builds the targets with clang into the normal build's
# fuzz/ folder (once for both passes of `make test`); skips without clang and
# libFuzzer (Debian: clang-14 libclang-rt-14-dev).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TEST_BUILD:-build}
build=${build%/asan}
cc=${FUZZ_CC:-}
[ -n "$cc" ] || cc=$(command -v clang || command -v clang-14)
[ -n "$cc" ] || { echo "no clang: the fuzz corpora are not replayed (apt-get install clang-14 libclang-rt-14-dev)"; exit 77; }
probe=$(mktemp -d /tmp/attnbench-fuzzprobe-XXXXXX)
trap 'rm -rf "$probe"' EXIT
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' > "$probe/p.c"
"$cc" -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" > /dev/null 2>&1 ||
  { echo "$cc cannot link libFuzzer: the fuzz corpora are not replayed (apt-get install libclang-rt-14-dev)"; exit 77; }
cd "$root" && MAKEFLAGS='' MAKELEVEL='' make -j2 --no-print-directory -s BUILD="$build" FUZZ_CC="$cc" fuzz-replay
