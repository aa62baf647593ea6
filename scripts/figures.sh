#!/bin/sh
# figures.sh DIR — draws every figure (scripts/NAME.gp) from the data that
# `attnbench analyze` wrote into DIR/data/, as DIR/figures/NAME.svg and
# NAME.png (pngcairo where gnuplot has it, else png). A figure whose study
# has no rows yet is drawn with a "no data" note. Exit status: 0, or 1 if a
# figure could not be drawn (its gnuplot messages are shown).
set -u
dir=${1:-}
if [ -z "$dir" ] || [ ! -d "$dir/data" ]; then
  echo "usage: scripts/figures.sh DIR   (DIR/data from 'attnbench analyze CSV --out DIR')" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v gnuplot >/dev/null 2>&1; then
  echo "figures: gnuplot not found (scripts/deps.sh installs it)" >&2
  exit 1
fi
png=png
gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1 && png=pngcairo
mkdir -p "$dir/figures"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0 drawn=0
for gp in "$here"/*.gp; do
  name=$(basename "$gp" .gp)
  if [ ! -f "$dir/data/$name.meta" ] && [ ! -f "$dir/data/$name.dat" ]; then
    echo "figures: $dir/data/$name.meta (or .dat) missing: run 'attnbench analyze' first" >&2
    status=1
    continue
  fi
  for term in svg "$png"; do
    if gnuplot -e "datadir='$dir/data'; outbase='$dir/figures/$name'; term='$term'; plotdir='$here/plot'" "$gp" >"$log" 2>&1; then
      drawn=$((drawn + 1))
    else
      echo "figures: $name ($term) failed:" >&2
      sed 's/^/    /' "$log" >&2
      status=1
    fi
  done
done
echo "figures: $drawn file(s) in $dir/figures/ (svg and $png)" >&2
exit $status
