#!/bin/sh
# e2e_faults.sh — bad input and faults that tests/e2e_run.sh and test_npy.c do
# not already cover, end to end through the program:
#   - a results file on a full disk (/dev/full, and a file that fills up
#     mid-row under RLIMIT_FSIZE): an error naming the file, non-zero exit,
#     no partial row;
#   - hostile --input files written here byte by byte (no NumPy needed): Inf,
#     NaN in the layer form, a 100 MB header claim, data shorter than the
#     header says, layer-form and operator-form shapes that disagree, a FIFO;
#   - sizes that overflow or exceed the machine refused before any allocation,
#     shown under a tiny RLIMIT_AS (the message is the size message);
#   - the sweep (beyond tests/e2e_sweep.sh, which kills it once, tears its
#     last line, and covers --timeout, a tiny --mem-limit and a crash):
#     SIGKILLed at random moments many times and resumed (header once, every
#     point exactly once, every line strict CSV, no child left behind), a
#     disk that fills mid-sweep, --out on a device, a point that really runs
#     out of --mem-limit (oom) among ok, invalid and skipped ones, a crashed
#     point followed by one that runs, and a hung point killed at --timeout.
. "$(dirname "$0")/lib.sh"
A=$ATTNBENCH
export OPENBLAS_NUM_THREADS=1

[ -x "$A" ] || { echo "FAIL: no $A (build first)"; exit 1; }
t0=$(date +%s)
section() { echo "[$(( $(date +%s) - t0 ))s] $1" >&2; }

asan=0
grep -q __asan_init "$A" 2>/dev/null && asan=1

# the strict-CSV checker (libcsv in strict mode), if a compiler and libcsv are here
here=$(cd "$(dirname "$0")" && pwd)
strict=""
if ${CC:-cc} -std=c11 -D_GNU_SOURCE -o "$tmp/csv_strict" "$here/fuzz/csv_strict.c" -lcsv 2>"$tmp/cc.err"; then
  strict="$tmp/csv_strict"
else
  echo "note: cannot build the strict-CSV checker ($(head -n 1 "$tmp/cc.err")); CSV files are checked with awk only" >&2
fi
# csv_ok FILE WHAT: the file parses as strict CSV, header once, no torn line
csv_ok() {
  if [ -n "$strict" ]; then
    "$strict" "$1" > /dev/null 2> "$tmp/strict.err" || fail "$2: $(cat "$tmp/strict.err")"
  else
    [ "$(grep -c '^layer,' "$1")" -eq 1 ] || fail "$2: header not exactly once"
    [ -z "$(tail -c 1 "$1")" ] || fail "$2: torn last line"
  fi
}
rows() { echo $(( $(wc -l < "$1") - 1 )); }

# one-line error, exit WANT_RC, nothing on stdout: expect_error WANT_RC WANT_TEXT CMD...
expect_error() {
  want_rc=$1 want=$2; shift 2
  "$@" > "$tmp/out" 2> "$tmp/err"
  rc=$?
  [ "$rc" -eq "$want_rc" ] || fail "$*: exit $rc, want $want_rc ($(head -c 300 "$tmp/err"))"
  [ -s "$tmp/out" ] && fail "$*: wrote to stdout"
  # (the timing-context line a timed command prints when it starts does not count)
  [ "$(grep -vc '^attnbench [a-z]*: OpenBLAS core ' "$tmp/err")" -eq 1 ] || fail "$*: stderr is not one line: $(head -c 300 "$tmp/err")"
  grep -q -- "$want" "$tmp/err" || fail "$*: message '$(head -c 300 "$tmp/err")' lacks '$want'"
}

small="--n 32 --heads 2 --d-head 8 --reps 1 --warmup 0"

section 'full disk'
# ---- results file on a full disk ---------------------------------------------
expect_error 1 "/dev/full" "$A" run $small --csv /dev/full
"$A" ffn --n 32 --d-model 8 --d-ff 16 --reps 1 --warmup 0 --csv /dev/full > /dev/null 2> "$tmp/err"
rc=$?
[ $rc -ne 0 ] && grep -q /dev/full "$tmp/err" || fail "ffn --csv /dev/full: exit $rc, $(cat "$tmp/err")"

# A file that fills up in the middle of a row (RLIMIT_FSIZE; SIGXFSZ ignored so
# write(2) comes back short, as on a full disk): the row must not be left half
# written, or the next append glues a row onto it.
"$A" run $small --csv "$tmp/full.csv" || fail "run --csv"
while [ "$(wc -c < "$tmp/full.csv")" -lt 850 ]; do "$A" run $small --csv "$tmp/full.csv" || { fail "run --csv"; break; }; done
if [ "$(wc -c < "$tmp/full.csv")" -lt 1024 ]; then # the next row crosses the 1024-byte limit
  cp "$tmp/full.csv" "$tmp/full.before"
  (trap '' XFSZ; ulimit -f 2 && exec "$A" run $small --csv "$tmp/full.csv") > "$tmp/out" 2> "$tmp/err"
  rc=$?
  [ $rc -ne 0 ] || fail "run --csv on a full file: exit 0"
  grep -q "$tmp/full.csv" "$tmp/err" || fail "run --csv on a full file: message does not name it: $(cat "$tmp/err")"
  cmp -s "$tmp/full.csv" "$tmp/full.before" ||
    fail "run --csv on a full disk left a partial row ($(( $(wc -c < "$tmp/full.csv") - $(wc -c < "$tmp/full.before") )) bytes) in the file"
fi

section 'input files'
# ---- hostile --input files ---------------------------------------------------
# npy FILE DESCR SHAPE NBYTES [TAIL]: a format 1.0 .npy holding NBYTES zero
# bytes of data and then TAIL (printf escapes)
npy() {
  dict="{'descr': '$2', 'fortran_order': False, 'shape': ($3), }"
  pad=$(( (64 - (10 + ${#dict} + 1) % 64) % 64 ))
  hl=$(( ${#dict} + pad + 1 ))
  {
    printf '\223NUMPY\001\000'
    printf "$(printf '\\%03o\\%03o' $((hl % 256)) $((hl / 256)))"
    printf '%s%*s\n' "$dict" "$pad" ""
    head -c "$4" /dev/zero
    [ -n "${5:-}" ] && printf "$5"
  } > "$1"
}
# operator form: q (2, 64, 8), k and v likewise; layer form: x (64, 16), w* (2, 16, 8)
opform() { mkdir -p "$1"; for t in q k v; do npy "$1/$t.npy" '<f4' '2, 64, 8' 4096; done; }
layerform() { mkdir -p "$1"; npy "$1/x.npy" '<f4' '64, 16' 4096; for t in wq wk wv; do npy "$1/$t.npy" '<f4' '2, 16, 8' 1024; done; }

opform "$tmp/ok-op"; layerform "$tmp/ok-layer"
"$A" run --input "$tmp/ok-op" --reps 1 --warmup 0 > "$tmp/out" 2> "$tmp/err" || fail "hand-written operator-form input: $(cat "$tmp/err")"
"$A" run --input "$tmp/ok-layer" --projection mqa --reps 1 --warmup 0 > "$tmp/out" 2> "$tmp/err" || fail "hand-written layer-form input: $(cat "$tmp/err")"

bad_input() { # bad_input WANT DIR [run options...]
  want=$1 dir=$2; shift 2
  expect_error 2 "$want" "$A" run --input "$dir" --reps 1 --warmup 0 "$@"
}
opform "$tmp/inf"; npy "$tmp/inf/q.npy" '<f4' '2, 64, 8' 4092 '\000\000\200\177'            # +Inf last
bad_input "Inf" "$tmp/inf"
opform "$tmp/ninf"; npy "$tmp/ninf/v.npy" '<f8' '2, 64, 8' 8184 '\000\000\000\000\000\000\360\377' # -Inf, float64
bad_input "Inf" "$tmp/ninf"
layerform "$tmp/lnan"; npy "$tmp/lnan/x.npy" '<f4' '64, 16' 4092 '\000\000\300\177'         # NaN in x
bad_input "NaN" "$tmp/lnan"
layerform "$tmp/wnan"; npy "$tmp/wnan/wk.npy" '<f4' '2, 16, 8' 1020 '\000\000\300\377'        # NaN in a weight
bad_input "NaN" "$tmp/wnan" --projection gqa --kv-heads 1
# a header claiming 100 MB (the file really is that long, sparsely): refused by its length
opform "$tmp/hdr"
{ printf '\223NUMPY\002\000\000\000\100\006'; printf "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 64, 8), }\n"; } > "$tmp/hdr/k.npy"
truncate -s 104857612 "$tmp/hdr/k.npy" 2>/dev/null || dd if=/dev/zero of="$tmp/hdr/k.npy" bs=1 count=0 seek=104857612 2>/dev/null
bad_input "limit" "$tmp/hdr"
# a header that claims more data than the file holds
opform "$tmp/short"; npy "$tmp/short/v.npy" '<f4' '2, 64, 8' 2048
bad_input "truncated" "$tmp/short"
opform "$tmp/short2"; npy "$tmp/short2/q.npy" '<f4' '2, 64, 8' 4096; head -c 50 "$tmp/short2/q.npy" > "$tmp/short2/q.tmp"; mv "$tmp/short2/q.tmp" "$tmp/short2/q.npy"
bad_input "truncated" "$tmp/short2"
# a shape whose element count overflows size_t, in a tiny file
opform "$tmp/ovf"; npy "$tmp/ovf/q.npy" '<f4' '4294967296, 4294967296, 16' 16
bad_input "overflow" "$tmp/ovf"
# layer form: disagreeing shapes
layerform "$tmp/dm"; npy "$tmp/dm/wq.npy" '<f4' '2, 12, 8' 768        # d_model 12 vs x's 16
bad_input "disagrees" "$tmp/dm"
layerform "$tmp/hd"; npy "$tmp/hd/wv.npy" '<f4' '4, 16, 8' 2048       # 4 heads vs wq's 2
bad_input "disagrees" "$tmp/hd"
layerform "$tmp/dh"; npy "$tmp/dh/wk.npy" '<f4' '2, 16, 4' 512        # d_head 4 vs wq's 8
bad_input "disagrees" "$tmp/dh"
layerform "$tmp/x3"; npy "$tmp/x3/x.npy" '<f4' '1, 64, 16' 4096
bad_input "expected \[n, d_model\]" "$tmp/x3"
layerform "$tmp/miss"; rm "$tmp/miss/wv.npy"
bad_input "wv.npy" "$tmp/miss"
# operator form: n, d_head, or K/V heads that do not divide the query heads
opform "$tmp/vn"; npy "$tmp/vn/v.npy" '<f4' '2, 63, 8' 4032
bad_input "disagrees" "$tmp/vn"
opform "$tmp/kvh"; npy "$tmp/q3" '<f4' '3, 64, 8' 6144; mv "$tmp/q3" "$tmp/kvh/q.npy"
bad_input "disagrees" "$tmp/kvh"
opform "$tmp/op2"; npy "$tmp/op2/q.npy" '<f4' '128, 8' 4096
bad_input "expected \[heads, n, d_head\]" "$tmp/op2"
# an empty file, and a directory where a file should be
opform "$tmp/empty"; : > "$tmp/empty/k.npy"
bad_input "bad magic" "$tmp/empty"
opform "$tmp/isdir"; rm "$tmp/isdir/v.npy"; mkdir "$tmp/isdir/v.npy"
bad_input "v.npy" "$tmp/isdir"
# a FIFO: must be refused, not waited on forever
if command -v mkfifo > /dev/null && command -v timeout > /dev/null; then
  opform "$tmp/fifo"; rm "$tmp/fifo/q.npy"; mkfifo "$tmp/fifo/q.npy"
  timeout 3 "$A" run --input "$tmp/fifo" --reps 1 --warmup 0 > "$tmp/out" 2> "$tmp/err"
  rc=$?
  if [ $rc -eq 124 ]; then fail "--input with a FIFO for q.npy waits forever in open()"
  else [ $rc -eq 2 ] && grep -q "q.npy" "$tmp/err" || fail "--input with a FIFO: exit $rc, $(cat "$tmp/err")"
  fi
fi
# a header key holding a newline: the message must still be one line
opform "$tmp/nlkey"
{ printf '\223NUMPY\001\000\100\000'; printf "{'descr': '<f4', 'a\nb': 1, }%*s\n" 35 ""; } > "$tmp/nlkey/q.npy"
"$A" run --input "$tmp/nlkey" --reps 1 --warmup 0 > "$tmp/out" 2> "$tmp/err"
rc=$?
[ $rc -eq 2 ] || fail "--input with a newline in a header key: exit $rc"
[ "$(wc -l < "$tmp/err")" -eq 1 ] || fail "a header key holding a newline gives a $(wc -l < "$tmp/err")-line message"
# the feed-forward layer's input
mkdir -p "$tmp/ffn"; npy "$tmp/ffn/x.npy" '<f4' '32, 8' 1024; npy "$tmp/ffn/w1.npy" '<f4' '8, 16' 512; npy "$tmp/ffn/w2.npy" '<f4' '16, 8' 512
"$A" ffn --input "$tmp/ffn" --reps 1 --warmup 0 > /dev/null 2> "$tmp/err" || fail "ffn --input: $(cat "$tmp/err")"
npy "$tmp/ffn/w2.npy" '<f4' '16, 9' 576
expect_error 2 "disagree" "$A" ffn --input "$tmp/ffn" --reps 1 --warmup 0
npy "$tmp/ffn/w2.npy" '<f4' '16, 8' 508 '\000\000\200\177'
expect_error 2 "Inf" "$A" ffn --input "$tmp/ffn" --reps 1 --warmup 0

section 'sizes'
# ---- sizes refused before any allocation -------------------------------------
# Under a 100 MB address-space limit an attempt to allocate would fail with an
# out-of-memory message; the size check must come first. (Not under ASan: its
# shadow memory needs terabytes of address space.)
if [ $asan -eq 1 ]; then
  echo "note: an ASan build cannot run under a small RLIMIT_AS; the size checks run in the normal build" >&2
elif ! (ulimit -v 100000) 2> /dev/null; then
  echo "note: this sh has no ulimit -v; the size checks are skipped" >&2
else
  lim() { (ulimit -v 100000 && exec "$@"); }
  expect_error 2 "must be 1..2147483647" lim "$A" run --n 4294967296 --heads 4294967296 --d-head 4294967296
  expect_error 2 "must be 1..2147483647" lim "$A" run --n 18446744073709551615 --heads 2 --d-head 2
  expect_error 2 "more than this machine" lim "$A" run --n 2000000000 --heads 64 --d-head 64
  expect_error 2 "more than this machine" lim "$A" run --attention chunked --n 100000000 --heads 16 --d-head 128
  expect_error 2 "must be 1..2147483647" lim "$A" ffn --n 4294967296 --d-model 4294967296
  expect_error 2 "more than this machine" lim "$A" ffn --n 2000000000 --d-model 4096
  expect_error 2 "overflow" lim "$A" run --input "$tmp/ovf"
  # a size that fits the machine but not the limit: an oom row at once
  # (the limit is checked before allocating), not a crash or a hang
  timeout 20 sh -c 'ulimit -v 100000 && exec "$@"' sh "$A" run --n 100000 --heads 8 --d-head 64 --reps 1 --row-only > "$tmp/out" 2> "$tmp/err"
  rc=$?
  { [ $rc -eq 3 ] || [ $rc -eq 2 ]; } && grep -q "more than this machine\|address-space limit" "$tmp/out" "$tmp/err" ||
    fail "run over RLIMIT_AS: exit $rc (want 3 and an oom row naming the limit, or 2 on a small machine): $(head -c 300 "$tmp/out" "$tmp/err")"
fi

section 'sweep'
# ---- the sweep -----------------------------------------------------------------
"$A" sweep --help > /dev/null 2>&1 || fail "sweep --help: exit $? (the sweep's fault checks below need the command)"

# --out on a device: /dev/full must be refused, not read forever into memory
printf '[g]\nattention vanilla\nn 16\nheads 1\nd-head 8\nreps 1\nwarmup 0\n' > "$tmp/one.sweep"
if command -v timeout > /dev/null; then
  # (bounded, should it come back: 600 MB of address space, or ASan's allocator capped)
  ( [ $asan -eq 0 ] && ulimit -v 600000
    ASAN_OPTIONS="$ASAN_OPTIONS:max_allocation_size_mb=512:allocator_may_return_null=1" exec timeout 20 "$A" sweep "$tmp/one.sweep" --out /dev/full ) > "$tmp/out" 2> "$tmp/err"
  rc=$?
  if [ $rc -eq 0 ]; then fail "sweep --out /dev/full: exit 0"
  elif [ $rc -eq 124 ] || grep -qi "out of memory" "$tmp/err"; then
    fail "sweep --out /dev/full reads the device until memory runs out (exit $rc: $(tail -n 1 "$tmp/err"))"
  else
    grep -q "/dev/full" "$tmp/err" || fail "sweep --out /dev/full: message does not name it: $(cat "$tmp/err")"
  fi
fi

# a spec line that is empty once its variables are replaced: one line, exit 2 (or accepted)
printf '${EMPTY}\n[g]\nattention vanilla\nn 16\n' > "$tmp/empty.sweep"
"$A" sweep "$tmp/empty.sweep" --define EMPTY= --out "$tmp/none.csv" --dry-run > /dev/null 2> "$tmp/err"
rc=$?
if [ $rc -gt 2 ]; then fail "a spec line that expands to nothing: exit $rc (crash)"
else [ $rc -eq 0 ] || [ "$(wc -l < "$tmp/err")" -eq 1 ] || fail "a spec line that expands to nothing: $(cat "$tmp/err")"
fi

# a spec whose cross products run past 100,000 points: a typo, bad input
printf '[g]\nattention vanilla\nn 1 2 3 4 5 6 7 8 9 10\nk 1 2 3 4 5 6 7 8 9 10\nchunk 1 2 3 4 5 6 7 8 9 10\nfeatures 1 2 3 4 5 6 7 8 9 10\nseed 1 2 3 4 5 6 7 8 9 10 11\n' > "$tmp/huge.sweep"
expect_error 2 "past 100000 points" "$A" sweep "$tmp/huge.sweep" --out "$tmp/none.csv" --dry-run

# 12 small points, run and ffn
cat > "$tmp/many.sweep" <<'EOF'
heads 1
d-head 8
reps 1
warmup 0
[attn]
attention vanilla chunked
n 8 12 16 20 24
chunk 8
[ffn]
command ffn
attention exact
n 8 16
d-model 8
d-ff 16
EOF
points=$("$A" sweep "$tmp/many.sweep" --out "$tmp/none.csv" --dry-run | awk '$2 == "run"' | wc -l)
[ "$points" -eq 12 ] || fail "many.sweep: $points points, want 12"
# every_point_once FILE WHAT: each point's row exactly once (layer, attention, n identify it)
every_point_once() {
  csv_ok "$1" "$2"
  [ "$(rows "$1")" -eq "$points" ] || fail "$2: $(rows "$1") rows, want $points"
  dup=$(awk -F, 'NR > 1 { print $1, $2, $4 }' "$1" | sort | uniq -d | head -n 3)
  [ -z "$dup" ] || fail "$2: points recorded twice: $dup"
  notok=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "status") s = i; next } $s != "ok" { print $1, $2, $4, $s }' "$1" | head -n 3)
  [ -z "$notok" ] || fail "$2: rows not ok: $notok"
}
# no process of this test's sweeps outlives them (children die with the sweep)
mark="ATTNBENCH_E2E_FAULTS=$$"
export ATTNBENCH_E2E_FAULTS=$$
leftovers() {
  command -v pgrep > /dev/null || return 0
  for p in $(pgrep -x attnbench); do
    grep -qa "$mark" "/proc/$p/environ" 2>/dev/null && echo "$p"
  done
}

section 'sweep: SIGKILL and resume'
# SIGKILL at random moments, then resume
kills=8
i=0
while [ $i -lt $kills ]; do
  i=$((i + 1))
  delay=$(awk -v s=$i 'BEGIN { srand(s * 7919); printf "%.2f", 0.02 + rand() * 0.4 }')
  "$A" sweep "$tmp/many.sweep" --out "$tmp/killed.csv" > /dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -KILL $pid 2>/dev/null
  wait $pid 2>/dev/null
  sleep 0.2
  left=$(leftovers)
  [ -z "$left" ] || { fail "kill $i: processes left behind by the killed sweep: $left"; kill -KILL $left 2>/dev/null; }
  [ -f "$tmp/killed.csv" ] && csv_ok "$tmp/killed.csv" "after kill $i" # rows go out whole, one write(2) each
done
"$A" sweep "$tmp/many.sweep" --out "$tmp/killed.csv" > /dev/null 2> "$tmp/err" || fail "resume after $kills kills: $(cat "$tmp/err")"
every_point_once "$tmp/killed.csv" "resumed after $kills SIGKILLs"
"$A" sweep "$tmp/many.sweep" --out "$tmp/killed.csv" > /dev/null 2> "$tmp/err" || fail "rerun: $(cat "$tmp/err")"
every_point_once "$tmp/killed.csv" "a rerun of a finished sweep"

section 'sweep: disk fills'
# the disk fills mid-sweep: an error naming the file, then a resume completes it
(trap '' XFSZ; ulimit -f 3 && exec "$A" sweep "$tmp/many.sweep" --out "$tmp/fill.csv") > /dev/null 2> "$tmp/err"
rc=$?
[ $rc -ne 0 ] || fail "sweep on a full disk: exit 0"
grep -q "$tmp/fill.csv" "$tmp/err" || fail "sweep on a full disk: no message naming the file: $(tail -n 2 "$tmp/err")"
"$A" sweep "$tmp/many.sweep" --out "$tmp/fill.csv" > /dev/null 2> "$tmp/err" || fail "resume after a full disk: $(cat "$tmp/err")"
every_point_once "$tmp/fill.csv" "resumed after a full disk"

section 'sweep: every status'
# status of every kind; the sweep goes on past each
col_of() { awk -F, -v name="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) print i; exit }' "$2"; }
status_of() { # status_of FILE ATTENTION N
  awk -F, -v a="$2" -v n="$3" -v s="$(col_of status "$1")" 'NR > 1 && $2 == a && $4 == n { print $s }' "$1"
}
# operator-form input big enough that vanilla's n x n scores (4 GiB) cannot fit a 1 GiB limit
mkdir -p "$tmp/big"; for t in q k v; do npy "$tmp/big/$t.npy" '<f4' '1, 32768, 8' 1048576; done
cat > "$tmp/mixed.sweep" <<EOF
heads 1
d-head 8
reps 1
warmup 0
[ok]
attention chunked
n 16
chunk 8
[invalid]
attention topk
n 16
k 32
chunk 8
[skipped]
attention vanilla
n 1000000
heads 64
d-head 64
EOF
if [ $asan -eq 0 ]; then printf '[oom]\nattention vanilla\ninput %s\nreps 1\n' "$tmp/big" >> "$tmp/mixed.sweep"; fi
"$A" sweep "$tmp/mixed.sweep" --out "$tmp/mixed.csv" --mem-limit 1G > /dev/null 2> "$tmp/err" ||
  fail "mixed sweep: exit $? ($(tail -n 1 "$tmp/err"))"
csv_ok "$tmp/mixed.csv" "mixed sweep"
[ "$(status_of "$tmp/mixed.csv" chunked 16)" = ok ] || fail "mixed: the ok point is '$(status_of "$tmp/mixed.csv" chunked 16)'"
[ "$(status_of "$tmp/mixed.csv" topk 16)" = invalid ] || fail "mixed: k > n is '$(status_of "$tmp/mixed.csv" topk 16)', want invalid"
[ "$(status_of "$tmp/mixed.csv" vanilla 1000000)" = skipped ] || fail "mixed: the point over --mem-limit is '$(status_of "$tmp/mixed.csv" vanilla 1000000)', want skipped"
if [ $asan -eq 0 ]; then
  [ "$(status_of "$tmp/mixed.csv" vanilla 32768)" = oom ] || fail "mixed: the point that outgrows --mem-limit is '$(status_of "$tmp/mixed.csv" vanilla 32768)', want oom"
fi
left=$(leftovers)
[ -z "$left" ] || fail "mixed: processes left behind: $left"

section 'sweep: crashed'
# a point that dies on a signal (test-only hook in attnbench run: ATTNBENCH_FAULT=crash
# aborts after the timed calls; ffn has no hook, so its point still runs)
printf 'heads 1\nd-head 8\nreps 1\nwarmup 0\n[crash]\nattention vanilla\nn 16\n[after]\ncommand ffn\nattention exact\nn 16\nd-model 8\nd-ff 16\n' > "$tmp/crash.sweep"
ATTNBENCH_FAULT=crash "$A" run $small > /dev/null 2>&1 && fail "ATTNBENCH_FAULT=crash: attnbench run did not crash (the hook the crashed-point check needs)"
ATTNBENCH_FAULT=crash "$A" sweep "$tmp/crash.sweep" --out "$tmp/crash.csv" > /dev/null 2> "$tmp/err" || fail "crash sweep: exit $? ($(tail -n 1 "$tmp/err"))"
csv_ok "$tmp/crash.csv" "crash sweep"
[ "$(status_of "$tmp/crash.csv" vanilla 16)" = crashed ] || fail "crash: '$(status_of "$tmp/crash.csv" vanilla 16)', want crashed"
[ "$(status_of "$tmp/crash.csv" exact 16)" = ok ] || fail "crash: the point after the crashes is '$(status_of "$tmp/crash.csv" exact 16)', want ok"
# a point that hangs is killed at --timeout
ATTNBENCH_FAULT=hang "$A" sweep "$tmp/one.sweep" --out "$tmp/hang.csv" --timeout 1 > /dev/null 2> "$tmp/err" || fail "hang sweep: exit $?"
[ "$(status_of "$tmp/hang.csv" vanilla 16)" = timeout ] || fail "hang: '$(status_of "$tmp/hang.csv" vanilla 16)', want timeout"
section 'done'
finish
