#!/bin/sh
# readme_update.sh DIR [README] — puts the tables `make sweep` and `make bench`
# wrote into DIR (summary.md, bench.md) into README (default README.md),
# between the lines
#   <!-- NAME:begin … -->   and   <!-- NAME:end -->
# so the README shows what the code measured, never a typed copy:
#   summary: from DIR/summary.md, its sections "Scaling with n", "Crossovers
#            against vanilla" and "Real attention beside its synthetic twins"
#            (headings one level down);
#   bench:   DIR/bench.md from its second line on (its title dropped).
# A block whose file is missing, or a README without the block, is left as it
# is. `make sweep` and `make bench` run it when OUT is results/ (and the
# sweep is the default one, the bench the full one).
set -u
dir=${1:?usage: readme_update.sh DIR [README]} readme=${2:-README.md}
[ -f "$readme" ] || exit 0
tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp" "$tmp.block"' EXIT

# replace NAME's block with the file $tmp.block
put() {
  grep -q "^<!-- $1:begin" "$readme" && grep -q "^<!-- $1:end -->" "$readme" || return 0
  awk -v name="$1" -v file="$tmp.block" '
    $0 ~ "^<!-- " name ":begin" { print; while ((getline line < file) > 0) print line; skip = 1; next }
    $0 ~ "^<!-- " name ":end -->" { skip = 0 }
    !skip { print }
  ' "$readme" > "$tmp" || return 1
  cmp -s "$tmp" "$readme" || cp "$tmp" "$readme"
}

if [ -f "$dir/summary.md" ]; then
  awk '/^## / { keep = ($0 ~ /^## (Scaling with n|Crossovers against vanilla|Real attention beside its synthetic twins)/) }
       keep { if (/^## /) sub(/^## /, "#### "); print }' "$dir/summary.md" > "$tmp.block"
  [ -s "$tmp.block" ] && { put summary || exit 1; }
fi
if [ -f "$dir/bench.md" ]; then
  tail -n +2 "$dir/bench.md" > "$tmp.block"
  [ -s "$tmp.block" ] && { put bench || exit 1; }
fi
exit 0
