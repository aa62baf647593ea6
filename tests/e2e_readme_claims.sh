#!/bin/sh
# e2e_readme_claims.sh — the README says only what the rows say (issue 25):
# `attnbench analyze` re-run on the committed results/sweep.csv into a temp
# dir, scripts/readme_update.sh run on a copy of README.md from it, and the
# copy must equal README.md (every generated block: the verdicts, the
# tables). Then the test shows it can fail: one number planted in a copy of
# the CSV (a model row's dnll, a window row where there is one) must make the
# same check differ. No number of the data is written here, so the test
# holds on any sweep once `make readme` has copied its tables.
# Uses $ATTNBENCH; asserts no times (a hang is caught by `timeout`).
. "$(dirname "$0")/lib.sh"
repo=$(cd "$(dirname "$0")/.." && pwd)
bin=$ATTNBENCH
case "$bin" in /*) ;; *) bin="$(pwd)/$bin" ;; esac
[ -x "$bin" ] || { echo "FAIL: no $bin (build first)"; exit 1; }
res=$repo/results
[ -f "$res/sweep.csv" ] || { echo "FAIL: no $res/sweep.csv"; exit 1; }

# readme_from DIR CSV: analyze CSV into DIR, then README.md's copy DIR/README.md updated from it
readme_from() {
  mkdir -p "$1" || return 1
  timeout 120 "$bin" analyze "$2" --out "$1" 2> "$1/analyze.err" || { fail "analyze $2: $(cat "$1/analyze.err")"; return 1; }
  [ ! -f "$res/bench.md" ] || cp "$res/bench.md" "$1/bench.md"
  cp "$repo/README.md" "$1/README.md" && sh "$repo/scripts/readme_update.sh" "$1" "$1/README.md"
}

# 1. the committed rows give the committed README
if readme_from "$tmp/now" "$res/sweep.csv"; then
  grep -q '^#### Verdicts' "$tmp/now/README.md" || fail "README.md has no summary-verdicts block filled from the rows"
  cmp -s "$repo/README.md" "$tmp/now/README.md" ||
    fail "README.md differs from what results/ says (run make readme): $(diff "$repo/README.md" "$tmp/now/README.md" | head -n 8)"
fi

# 2. a planted number: the dnll of one model row (a window row if any), times 3 plus 0.5
mkdir -p "$tmp/plant" && cp "$res/sweep.csv" "$tmp/plant/sweep.csv"
[ ! -f "$res/sweep.env" ] || cp "$res/sweep.env" "$tmp/plant/sweep.env"
# two passes over the file: the first picks the row, the second changes it
awk -F, -v OFS=, 'FNR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; if (NR > 1) pass = 2 }
  pass != 2 && FNR > 1 && !/"/ && $c["regime"] == "model" && $c["status"] == "ok" && $c["dnll"] + 0 > 0 {
    if (!any) any = FNR; if (!win && $c["attention"] == "window") win = FNR }
  pass == 2 { if (FNR == (win ? win : any)) { $c["dnll"] = $c["dnll"] * 3 + 0.5
      print "planted: " $c["attention"] " " $c["input"] " line " FNR " dnll -> " $c["dnll"] > "/dev/stderr" }
    print }' "$tmp/plant/sweep.csv" "$tmp/plant/sweep.csv" > "$tmp/plant/a.csv" 2> "$tmp/plant/what.txt"
if [ -s "$tmp/plant/what.txt" ]; then
  mv "$tmp/plant/a.csv" "$tmp/plant/sweep.csv"
  if readme_from "$tmp/plant/out" "$tmp/plant/sweep.csv"; then
    cmp -s "$tmp/now/README.md" "$tmp/plant/out/README.md" &&
      fail "a planted dnll ($(cat "$tmp/plant/what.txt")) left the README as it was: the check cannot fail"
  fi
else
  fail "no ok model row with a dnll to plant a number in"
fi
finish
