# lib.sh — helpers for the end-to-end tests (POSIX sh). Source it.
# $ATTNBENCH is the binary under test (tests/run.sh sets it).
: "${ATTNBENCH:=build/attnbench}"
fails=0
tmp=$(mktemp -d /tmp/attnbench-e2e-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
ok() { :; }

# col NAME FILE [ROW]: the value of column NAME in data row ROW (default 1)
# of a CSV file without quoted fields
col() {
  awk -F, -v name="$1" -v want="${3:-1}" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next }
    NR - 1 == want { if (c) print $c; exit }' "$2"
}

# a python3 with NumPy, or empty
numpy_python() {
  for p in /usr/bin/python3 python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import numpy' >/dev/null 2>&1; then echo "$p"; return; fi
  done
}

# a python3 with PyTorch and NumPy, or empty
torch_python() {
  for p in /usr/bin/python3 python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import torch, numpy' >/dev/null 2>&1; then echo "$p"; return; fi
  done
}

# refused NAME PATTERN SUBCOMMAND ARGS...: `$ATTNBENCH SUBCOMMAND ARGS` exits 2
# with one line on stderr matching PATTERN and nothing on stdout (no row)
refused() {
  name=$1 pat=$2; shift 2
  "$ATTNBENCH" "$@" > "$tmp/refused.out" 2> "$tmp/refused.err"; rc=$?
  [ $rc -eq 2 ] || fail "$name: exit $rc, want 2"
  [ ! -s "$tmp/refused.out" ] || fail "$name: wrote a row"
  [ "$(wc -l < "$tmp/refused.err")" -eq 1 ] || fail "$name: $(wc -l < "$tmp/refused.err") lines on stderr"
  grep -q -- "$pat" "$tmp/refused.err" || fail "$name: stderr lacks '$pat': $(cat "$tmp/refused.err")"
}

# float comparison: fle A B is true when A <= B
fle() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }

finish() {
  if [ "$fails" -ne 0 ]; then echo "$fails check(s) failed" >&2; exit 1; fi
  exit 0
}

# tiny_checkpoint FILE: the tiny llama2.c checkpoint test_eval writes (a
# missing test_eval is a failure of the build, not an optional dependency)
tiny_checkpoint() {
  "${TEST_BUILD:-build}/tests/test_eval" --write-ckpt "$1" ||
    { echo "FAIL: no ${TEST_BUILD:-build}/tests/test_eval to write the checkpoint (make tests)"; exit 1; }
}
