#!/bin/sh
# e2e_layering.sh — the one-way layering kernels <- bench <- analysis
# (docs/DESIGN.md, the layers; issue 14): a file of kernels/ includes no
# header of bench/ or analysis/, and a file of bench/ none of analysis/. Every quoted
# #include of a source or header is resolved the way the compiler resolves
# it (the file's own folder, then -Ikernels -Ibench -Ianalysis in that
# order) and the folder it lands in must not be above the includer's. Also
# checks that the check itself fails: a made-up bench file including an
# analysis header is reported.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1

rank() { case "$1" in kernels) echo 0 ;; bench) echo 1 ;; analysis) echo 2 ;; *) echo 9 ;; esac; }

# check DIR...: prints each include that points up; exit 1 if any
check() {
  bad=0
  for f in $(find "$@" -maxdepth 1 \( -name '*.c' -o -name '*.h' \) | sort); do
    dir=$(dirname "$f"); layer=$(basename "$dir"); mine=$(rank "$layer")
    for h in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
      found=""
      for cand in "$dir" kernels bench analysis; do
        if [ -f "$cand/$h" ]; then found=$cand; break; fi
      done
      [ -n "$found" ] || continue # a generated header (version.h) or a system one
      theirs=$(rank "$(basename "$found")")
      if [ "$theirs" -gt "$mine" ] && [ "$theirs" -ne 9 ]; then
        echo "layering: $f includes $found/$h ($(basename "$found") is above $layer)"
        bad=1
      fi
    done
  done
  return $bad
}

fail=0
check kernels bench analysis || fail=1

# the check must be able to fail: a bench file that includes an analysis header
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bench" "$tmp/analysis" "$tmp/kernels"
echo '#include "up.h"' > "$tmp/bench/x.c"
echo '/* up.h */' > "$tmp/analysis/up.h"
echo '#include "y.h"' > "$tmp/kernels/k.c"
echo '/* y.h */' > "$tmp/bench/y.h"
out=$(cd "$tmp" && check kernels bench analysis)
case "$out" in
  *"bench/x.c includes analysis/up.h"*"kernels/k.c includes bench/y.h"* | \
  *"kernels/k.c includes bench/y.h"*"bench/x.c includes analysis/up.h"*) ;;
  *) echo "layering: the check missed a planted include: [$out]"; fail=1 ;;
esac
[ $fail -eq 0 ] && echo "layering: kernels <- bench <- analysis holds"
exit $fail
