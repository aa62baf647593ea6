#!/bin/sh
# readme_update.sh DIR [README] — puts the tables `make sweep` and `make bench`
# wrote into DIR (summary.md, bench.md) into README (default README.md),
# between the lines
#   <!-- NAME:begin … -->   and   <!-- NAME:end -->
# so the README shows what the code measured, never a typed copy. The blocks
# and the sections of DIR/summary.md each takes (headings one level down):
#   summary-best      "Each method at its best setting"
#   summary           "Scaling with n", "Crossovers against vanilla",
#                     "Real attention beside its synthetic twins"
#   summary-families  "Projection schemes", "Top-k feed-forward"
#   summary-decode    "Decoding with a KV cache" (without its every-context tables)
#   summary-model     "The model level…"
#   summary-claims    "The claims of the seeds, measured"
#   summary-verdicts  "Verdicts" (which method for which regime, from the rows)
#   bench             DIR/bench.md from its second line on (its title dropped).
# A block whose source is missing, or a README without the block, is left as
# it is. Only the maintainer's `make readme` runs it: `make sweep` and `make
# bench` never write README.md.
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

# the sections of summary.md whose "## " heading matches the regex $2, into block $1
sections() {
  [ -f "$dir/summary.md" ] || return 0
  awk -v re="$2" '
    /^## / { keep = ($0 ~ ("^## (" re ")")); drop = 0 }
    /^### / { drop = 0 }
    keep && /^Every context:/ { drop = 1 }
    keep && !drop { if (/^#+ /) sub(/^#/, "###"); print }' "$dir/summary.md" > "$tmp.block"
  [ -s "$tmp.block" ] && { put "$1" || exit 1; }
  return 0
}

sections summary-best 'Each method at its best setting'
sections summary 'Scaling with n|Crossovers against vanilla|Real attention beside its synthetic twins'
sections summary-families 'Projection schemes|Top-k feed-forward'
sections summary-decode 'Decoding with a KV cache'
sections summary-model 'The model level'
sections summary-claims 'The claims of the seeds'
sections summary-verdicts 'Verdicts'
if [ -f "$dir/bench.md" ]; then
  tail -n +2 "$dir/bench.md" > "$tmp.block"
  [ -s "$tmp.block" ] && { put bench || exit 1; }
fi
exit 0
