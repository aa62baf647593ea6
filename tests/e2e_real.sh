#!/bin/sh
# e2e_real.sh — the real-attention study end to end on a tiny random llama2.c
# checkpoint written here: `attnbench capture` writes its layers, a spec
# with `input ${CAPTURE}/layer*` (and `needs`) runs every layer and the
# synthetic twins at the layers' logit stds, the rows carry their input path
# and the files' sizes, the groups are left out (with a note) without
# --capture, a resumed sweep adds nothing; bad captures and globs are one
# line with exit 2, a directory that is not a capture is an `invalid` row;
# `analyze` and the figures handle the real rows. Uses $ATTNBENCH; exit 0
# pass, 77 skip (no python3 to write the checkpoint), else fail (a sweep
# without --capture, no gnuplot).
. "$(dirname "$0")/lib.sh"
A=$ATTNBENCH
case "$A" in /*) ;; *) A="$(pwd)/$A" ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
"$A" sweep --help 2>/dev/null | grep -q -- '--capture' || { echo "FAIL: this attnbench sweep has no --capture"; exit 1; }
PY3=""
for p in /usr/bin/python3 python3; do command -v "$p" >/dev/null 2>&1 && { PY3=$p; break; }; done
[ -n "$PY3" ] || { echo "skip: no python3 to write the test checkpoint"; exit 77; }
cd "$tmp" || exit 1

# a llama2.c checkpoint (legacy float32 layout, the standard library only):
# dim 16, hidden 40, 3 layers, 4 heads (2 K/V heads), vocab 32 unshared, seq_len 48
"$PY3" - tiny.bin <<'PYEOF' || { echo "could not write the checkpoint"; exit 1; }
import math, random, struct, sys
dim, hid, L, H, KV, V, S = 16, 40, 3, 4, 2, -32, 48
random.seed(11)
hs = dim // H; kvd = hs * KV
def mat(n, fan_in, g=1.0): return [random.gauss(0, g / math.sqrt(fan_in)) for _ in range(n)]
def norm(n): return [1 + random.gauss(0, 0.1) for _ in range(n)]
w = [random.gauss(0, 1) for _ in range(abs(V) * dim)]
# larger q, k weights: peaked attention, as trained models have
w += norm(L * dim) + mat(L * dim * dim, dim, 3) + mat(L * kvd * dim, dim, 3) + mat(L * kvd * dim, dim) + mat(L * dim * dim, dim)
w += norm(L * dim) + mat(L * hid * dim, dim) + mat(L * dim * hid, hid) + mat(L * hid * dim, dim) + norm(dim)
w += [math.cos(p * 10000 ** (-2 * i / hs)) for p in range(S) for i in range(hs // 2)]
w += [math.sin(p * 10000 ** (-2 * i / hs)) for p in range(S) for i in range(hs // 2)]
w += mat(-V * dim, dim)
open(sys.argv[1], "wb").write(struct.pack("<7i", dim, hid, L, H, KV, V, S) + struct.pack("<%df" % len(w), *w))
PYEOF
"$A" capture --llama2c tiny.bin --out cap --seed 1 > /dev/null 2> err.txt || { fail "capture: $(cat err.txt)"; finish; }
for l in 0 1 2; do [ -s cap/layer$l/q.npy ] || fail "capture wrote no cap/layer$l"; done

cat > real.sweep <<'EOF'
# a synthetic group, the real layers and their twins
heads     2
d-head    16
n         64
score-std 4
warmup    0
reps      1
[syn]
attention topk
k         8
[real]
needs     CAPTURE
input     ${CAPTURE}/layer*
causal    1
attention vanilla topk performer
k         4 16
chunk     16
features  8
[twin]
needs     CAPTURE_N CAPTURE_HEADS CAPTURE_D_HEAD CAPTURE_LOGIT_STDS
n         ${CAPTURE_N}
heads     ${CAPTURE_HEADS}
d-head    ${CAPTURE_D_HEAD}
score-std ${CAPTURE_LOGIT_STDS}
causal    1
attention vanilla topk performer
k         4 16
chunk     16
features  8
EOF
# column NAME of every data row whose column WHERE is VALUE (no quoted fields here)
colwhere() { awk -F, -v want="$2" -v where="$3" -v value="$4" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
  where == "" || $c[where] == value { print $c[want] }' "$1"; }
rows() { tail -n +2 "$1" | wc -l | tr -d ' '; }

# ---- the sweep with the capture: every layer, and the twins ----------------
stds=$(awk '$1 == "layer" { printf "%.3g\n", $4 }' cap/capture.txt | sort -u | tr '\n' ' ')
ntwins=$(echo $stds | wc -w)
want=$((1 + 3 * 4 + ntwins * 4))
got=$("$A" sweep real.sweep --capture cap --dry-run --out none.csv 2>/dev/null | grep -c '^ *[0-9]')
[ "$got" = "$want" ] || fail "dry run: $got points, want $want (1 + 3 layers x 4 + $ntwins twins x 4)"
"$A" sweep real.sweep --capture cap --out a.csv 2> err.txt || fail "sweep --capture: exit $?: $(cat err.txt)"
[ "$(rows a.csv)" = "$want" ] || fail "a.csv has $(rows a.csv) rows, want $want"
[ -z "$(colwhere a.csv status | grep -v '^ok$')" ] || fail "rows not ok: $(colwhere a.csv status | sort | uniq -c | tr '\n' ' ')"
for l in 0 1 2; do
  [ "$(colwhere a.csv attention input cap/layer$l | wc -l)" = 4 ] || fail "layer $l: $(colwhere a.csv attention input cap/layer$l | wc -l) rows, want 4"
done
# the input path as the spec gave it; sizes from the files; no synthetic knobs
[ "$(colwhere a.csv input | grep -c '^cap/layer[012]$')" = 12 ] || fail "real rows' input: $(colwhere a.csv input | sort -u | tr '\n' ' ')"
[ "$(colwhere a.csv n input cap/layer1 | sort -u)" = 48 ] || fail "real n: $(colwhere a.csv n input cap/layer1 | sort -u)"
[ "$(colwhere a.csv heads input cap/layer1 | sort -u)" = 4 ] || fail "real heads: $(colwhere a.csv heads input cap/layer1 | sort -u)"
[ "$(colwhere a.csv d_head input cap/layer1 | sort -u)" = 4 ] || fail "real d_head: $(colwhere a.csv d_head input cap/layer1 | sort -u)"
[ -z "$(colwhere a.csv score_std input cap/layer1 | sort -u)" ] || fail "real rows carry a score_std"
[ "$(colwhere a.csv causal input cap/layer2 | sort -u)" = 1 ] || fail "real rows are not causal"
# the twins: synthetic, the capture's shape, the layers' logit stds
twin_stds=$(colwhere a.csv score_std n 48 | sort -u | tr '\n' ' ')
[ "$(echo $twin_stds | tr ' ' '\n' | sort -u | tr '\n' ' ')" = "$(echo $stds | tr ' ' '\n' | sort -u | tr '\n' ' ')" ] ||
  fail "twin score stds [$twin_stds], capture's [$stds]"
[ "$(colwhere a.csv heads n 48 | sort -u)" = 4 ] && [ "$(colwhere a.csv d_head n 48 | sort -u)" = 4 ] || fail "twins' shape"
[ "$(colwhere a.csv input n 48 | grep -c synthetic)" = $((ntwins * 4)) ] || fail "twin rows: $(colwhere a.csv input n 48 | sort | uniq -c)"
# the same command again adds nothing
"$A" sweep real.sweep --capture cap --out a.csv 2> err.txt || fail "rerun: exit $?"
[ "$(rows a.csv)" = "$want" ] || fail "the rerun added rows: $(rows a.csv)"

# ---- without the capture: the groups are left out, said in one line ---------
"$A" sweep real.sweep --out b.csv 2> err.txt || fail "sweep without --capture: exit $?: $(cat err.txt)"
[ "$(rows b.csv)" = 1 ] || fail "without --capture: $(rows b.csv) rows, want the synthetic one"
[ "$(grep -c 'left out' err.txt)" = 1 ] && grep -q 'left out real (needs CAPTURE), twin (needs CAPTURE_N)' err.txt ||
  fail "the left-out note: $(cat err.txt)"

# ---- bad captures and globs: one line, exit 2, nothing written ---------------
bad() { # bad WANT ARGS...
  want=$1; shift
  "$A" sweep "$@" --out bad.csv > out.txt 2> err.txt
  rc=$?
  [ $rc = 2 ] || fail "sweep $*: exit $rc, want 2"
  [ "$(wc -l < err.txt)" = 1 ] || fail "sweep $*: stderr is not one line: $(cat err.txt)"
  grep -qF -- "$want" err.txt || fail "sweep $*: '$(cat err.txt)' lacks '$want'"
  [ ! -e bad.csv ] || fail "sweep $*: wrote bad.csv"
}
mkdir -p empty notcap/layer0
bad "cannot read notacapture/capture.txt" real.sweep --capture notacapture
: > empty/capture.txt
bad "lacks the n, config or layer lines" real.sweep --capture empty
bad "real.sweep:13: input: 'empty/layer*' matches nothing" real.sweep --define CAPTURE=empty
bad "variable CAPTURE defined twice" real.sweep --capture cap --define CAPTURE=x
bad "expected NAME=VALUE" real.sweep --define CAPTURE
printf '[g]\nattention topk\ninput cap/layer0\nn 48\n' > fixed.sweep
bad "fixed.sweep:4: knob 'n' does not go with 'input' (line 3)" fixed.sweep

# ---- a directory that is not a capture: run's error, as an invalid row -------
printf 'warmup 0\nreps 1\nheads 2\n[g]\nneeds CAPTURE\nattention topk\nk 4\ninput ${CAPTURE}/layer*\n' > one.sweep
"$A" sweep one.sweep --define CAPTURE=notcap --out c.csv 2> err.txt || fail "sweep of notcap: exit $?: $(cat err.txt)"
[ "$(rows c.csv)" = 1 ] && [ "$(colwhere c.csv status)" = invalid ] || fail "notcap/layer0: $(cat c.csv)"
grep -q 'notcap/layer0: holds neither' c.csv || fail "the invalid row does not carry run's message: $(cat c.csv)"
[ "$(colwhere c.csv input)" = notcap/layer0 ] || fail "the invalid row's input: $(colwhere c.csv input)"
[ -z "$(colwhere c.csv n)" ] && [ -z "$(colwhere c.csv heads)" ] || fail "the invalid row claims sizes: n $(colwhere c.csv n), heads $(colwhere c.csv heads)"

# ---- analyze and figures with real rows (and an invalid one) -----------------
tail -n +2 c.csv >> a.csv
"$A" analyze a.csv --out an 2> err.txt || fail "analyze: exit $?: $(cat err.txt)"
sed -n '/^## Real attention/,/^## Rows/p' an/summary.md > real.md
grep -q '^## Real attention beside its synthetic twins' real.md || fail "summary has no real-attention section"
for l in 0 1 2; do
  grep -q "^| layer$l | \`cap/layer$l\` | [0-9.]* | [0-9.]* | [0-9.]* (" real.md ||
    fail "summary: no line for layer$l with logit std, entropy and twin: $(grep "layer$l" real.md)"
done
grep -q 'top-k at k = 16 and Performer at m = 8' real.md || fail "summary: the fixed k and m: $(sed -n 3p real.md)"
grep -q '^Geometric mean of real / twin over the layers: top-k (k = 16) [0-9.]* over 3 layer(s)' real.md ||
  fail "summary: no geometric mean over 3 layers: $(grep Geometric real.md)"
grep -q '^Top-k rel_err (kept mass) against k, real / twin:' real.md || fail "summary: no table of top-k against k"
for l in 0 1 2; do
  grep -q "^| layer$l ([0-9.]*) | [0-9.e-]* ([0-9.]*) / [0-9.e-]* ([0-9.]*) |" real.md ||
    fail "summary: no top-k-against-k line for layer$l: $(grep "^| layer$l (" real.md)"
done
grep -Eq '\| invalid \| prefill \| topk \| k=4( C=256)? \|  \| .*notcap/layer0: holds neither' an/summary.md || fail "summary does not list the invalid row"
grep -q 'layer0: real, logit std' an/data/error_vs_k.meta && grep -q 'layer2: synthetic twin, score std' an/data/error_vs_k.meta ||
  fail "error_vs_k has no real lines: $(grep s_label an/data/error_vs_k.meta | head -3)"
grep -q '^ncols = 2$' an/data/error_vs_k.meta && grep -q '^npanels = 4$' an/data/error_vs_k.meta ||
  fail "error_vs_k is not 2 rows of 2: $(grep -E '^(npanels|ncols)' an/data/error_vs_k.meta | tr '\n' ' ')"
grep -q 'p_title\[[0-9]*\] = "layer2: logit std' an/data/error_vs_memory.meta || fail "error_vs_memory has no panel for layer2"
grep -q 'layer1: synthetic twin' an/data/error_vs_features.meta || fail "error_vs_features has no twins"
if command -v gnuplot > /dev/null 2>&1; then
  sh "$root/scripts/figures.sh" an 2> err.txt || fail "figures.sh: $(cat err.txt)"
  for f in error_vs_k error_vs_memory error_vs_features; do
    [ -s an/figures/$f.svg ] && [ -s an/figures/$f.png ] || fail "no $f figure"
  done
else
  fail "no gnuplot (a dependency: scripts/deps.sh); the figures are not drawn"
fi
finish
