#!/bin/sh
# e2e_roofline.sh — decode's roofline (bench/measure/roofline.h): `decode --probe`
# prints the bandwidth curve (8 sizes, 256 KiB .. 1 GiB, ascending) and the
# sgemm rate per thread count; a row run with --probe-file gets roofline_s =
# max(read_bytes_per_step / GB/s at that size, log-linear between the
# sizes; flops / sgemm rate), roofline_frac = roofline_s / step_time_s and
# roofline_bound (memory or compute: the larger of the two terms),
# and its .env the curve it used; without --probe-file the two are empty;
# a file without the run's thread count, or not a probe's output, is bad
# input (exit 2, no row).
. "$(dirname "$0")/lib.sh"
A=$ATTNBENCH
small="--heads 2 --d-head 16 --context 200 --steps 4"

# ---- the probe: 8 ascending sizes per thread count, positive rates ------------
timeout 120 "$A" decode --probe --threads 2 > "$tmp/p.csv" 2> "$tmp/err" || fail "--probe: exit $?: $(cat "$tmp/err")"
head -n 1 "$tmp/p.csv" | grep -qx 'threads,read_gbps,bytes,sgemm_gflops' || fail "--probe header: $(head -n 1 "$tmp/p.csv")"
for t in 1 2; do
  awk -F, -v t=$t 'NR > 1 && $1 == t { n++; if (!($2 > 0) || !($4 > 0) || $3 + 0 <= last) bad = 1; last = $3 + 0; if (n == 1) first = $3 }
    END { exit !(n == 8 && !bad && first == 262144 && last == 1073741824) }' "$tmp/p.csv" ||
    fail "--probe, $t thread(s): want 8 ascending sizes 256 KiB .. 1 GiB with positive rates: $(grep "^$t," "$tmp/p.csv" | tr '\n' ' ')"
done

# ---- the row against a curve made up here: known interpolation ---------------
# 1 thread: 1 GB/s at 1000 bytes, 10 GB/s at 10^9 bytes, sgemm 10^6 GFLOP/s (the
# bytes decide): at B bytes, 1 + 9 (log B - log 1000) / (log 1e9 - log 1000) GB/s
printf 'threads,read_gbps,bytes,sgemm_gflops\n1,1,1000,1e+06\n1,10,1000000000,1e+06\n2,5,1000,7\n' > "$tmp/mine.csv"
"$A" decode $small --probe-file "$tmp/mine.csv" --csv "$tmp/r.csv" 2> "$tmp/err" || fail "--probe-file: exit $?: $(cat "$tmp/err")"
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
  { b = $c["read_bytes_per_step"]; g = 1 + 9 * (log(b) - log(1000)) / (log(1e9) - log(1000)); want = b / (g * 1e9)
    r = $c["roofline_s"]; f = $c["roofline_frac"]; t = $c["step_time_s"]
    if (r < want * (1 - 1e-4) || r > want * (1 + 1e-4)) { print "roofline_s " r ", want " want; exit 1 }
    if (f < r / t * (1 - 1e-3) || f > r / t * (1 + 1e-3)) { print "roofline_frac " f ", want " r / t; exit 1 }
    if ($c["roofline_bound"] != "memory") { print "roofline_bound " $c["roofline_bound"] ", want memory"; exit 1 } }' "$tmp/r.csv" > "$tmp/msg" ||
  fail "the row's roofline: $(cat "$tmp/msg")"
grep -q '^roofline_curve=1000:1 1000000000:10$' "$tmp/r.env" && grep -q '^roofline_sgemm_gflops=1e+06$' "$tmp/r.env" ||
  fail "the .env's curve: $(grep '^roofline' "$tmp/r.env" | tr '\n' ' ')"
# 2 threads: one size (5 GB/s everywhere) and 7 GFLOP/s: the larger of the two terms
"$A" decode $small --threads 2 --probe-file "$tmp/mine.csv" > "$tmp/r2.csv" 2> "$tmp/err" || fail "--threads 2 --probe-file: exit $?"
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
  { m = $c["read_bytes_per_step"] / 5e9; a = 4 * 2 * ($c["context"] + 2.5) * 16 / 7e9; want = m > a ? m : a
    r = $c["roofline_s"]; exit !(r > want * (1 - 1e-4) && r < want * (1 + 1e-4) && $c["roofline_bound"] == (m > a ? "memory" : "compute")) }' "$tmp/r2.csv" ||
  fail "2 threads: roofline_s $(col roofline_s "$tmp/r2.csv"), bound $(col roofline_bound "$tmp/r2.csv")"
# the flops decide where the sgemm rate is tiny: bound compute
printf 'threads,read_gbps,bytes,sgemm_gflops\n1,100,1000,1e-06\n' > "$tmp/slow.csv"
"$A" decode $small --probe-file "$tmp/slow.csv" > "$tmp/r3.csv" 2> "$tmp/err" || fail "a slow sgemm's probe: exit $?"
[ "$(col roofline_bound "$tmp/r3.csv")" = compute ] || fail "roofline_bound at 1e-6 GFLOP/s: $(col roofline_bound "$tmp/r3.csv"), want compute"

# ---- without a probe file: empty; a bad one: exit 2, no row --------------------
"$A" decode $small > "$tmp/n.csv" 2> /dev/null || fail "decode without --probe-file: exit $?"
[ -z "$(col roofline_s "$tmp/n.csv")$(col roofline_frac "$tmp/n.csv")$(col roofline_bound "$tmp/n.csv")" ] ||
  fail "roofline columns without --probe-file"
for bad in "--threads 3 --probe-file $tmp/mine.csv" "--probe-file $tmp/n.csv" "--probe-file $tmp/none.csv"; do
  "$A" decode $small $bad --csv "$tmp/bad.csv" > /dev/null 2> "$tmp/err"; rc=$?
  [ $rc -eq 2 ] && [ ! -e "$tmp/bad.csv" ] && [ "$(grep -c 'probe-file' "$tmp/err")" -eq 1 ] ||
    fail "$bad: exit $rc (want 2, one line, no row): $(cat "$tmp/err")"
done
finish
