#!/bin/sh
# e2e_layering.sh — the one-way layering kernels <- bench <- analysis <- app
# (docs/DESIGN.md, the layers), for includes and for symbols:
#   1. every quoted #include of a source or header, resolved the way the
#      compiler resolves it (the file's own folder, then kernels, bench's
#      folders, analysis, app), lands in the includer's layer or a lower one;
#   2. every symbol an object file of the build uses (nm -u) is defined in its
#      own layer or a lower one (nm of the build's objects, so a call through
#      a declaration the include check cannot see is caught too);
#   3. no two object files use each other's symbols (no circles).
# Then each check is shown to fail on a planted fault: an upward include, an
# upward call, a circle.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
build=${TEST_BUILD:-build}
fail=0

rank() {
  case "$1" in kernels | kernels/*) echo 0 ;; bench | bench/*) echo 1 ;; analysis | analysis/*) echo 2 ;;
    app | app/*) echo 3 ;; *) echo 9 ;; esac
}

# includes ROOT: prints each include that points up; exit 1 if any
includes() (
  cd "$1" || exit 1
  dirs="kernels $(ls -d bench/*/ 2> /dev/null | sed 's#/$##') analysis app"
  bad=0
  for f in $(find kernels bench analysis app -name '*.[ch]' 2> /dev/null | sort); do
    dir=$(dirname "$f"); mine=$(rank "$dir")
    for h in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
      found=""
      for cand in "$dir" $dirs; do
        if [ -f "$cand/$h" ]; then found=$cand; break; fi
      done
      [ -n "$found" ] || continue # a generated header (version.h) or a system one
      theirs=$(rank "$found")
      if [ "$theirs" -gt "$mine" ] && [ "$theirs" -ne 9 ]; then
        echo "layering: $f includes $found/$h ($found is above $dir)"
        bad=1
      fi
    done
  done
  exit $bad
)

# symbols OBJDIR: upward symbol uses and circles among OBJDIR/**/*.o (paths
# relative to OBJDIR name the layer); exit 1 if any
symbols() (
  cd "$1" || exit 1
  for o in $(find . -name '*.o' | sed 's#^\./##' | sort); do
    nm -g "$o" 2> /dev/null | awk -v o="$o" 'NF == 2 && $1 == "U" { print "U", o, $2 } NF == 3 && $2 ~ /^[TDBRC]$/ { print "D", o, $3 }'
  done | awk '
    function rank(p) { return p ~ /^kernels\// ? 0 : p ~ /^bench\// ? 1 : p ~ /^analysis\// ? 2 : p ~ /^app\// ? 3 : 9 }
    $1 == "D" { def[$3] = $2; next }
    { use[++n] = $2; sym[n] = $3 }
    END {
      bad = 0
      for (i = 1; i <= n; i++) {
        d = def[sym[i]]; u = use[i]
        if (d == "" || d == u) continue
        if (rank(d) > rank(u) && rank(d) != 9) { printf "layering: %s calls %s of %s (above it)\n", u, sym[i], d; bad = 1 }
        edge[u SUBSEP d] = sym[i]
      }
      for (k in edge) {
        split(k, p, SUBSEP)
        if ((p[2] SUBSEP p[1]) in edge && p[1] < p[2]) {
          printf "layering: a circle: %s uses %s of %s, which uses %s of it\n", p[1], edge[k], p[2], edge[p[2] SUBSEP p[1]]
          bad = 1
        }
      }
      exit bad
    }'
)

includes . || fail=1
if [ -d "$build/obj" ]; then
  symbols "$build/obj" || fail=1
else
  echo "layering: FAIL: no $build/obj to read the symbols of (build first)"
  fail=1
fi

# ---- each check must be able to fail ----------------------------------------
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src/bench/x" "$tmp/src/analysis" "$tmp/src/kernels" "$tmp/src/app"
echo '#include "up.h"' > "$tmp/src/bench/x/x.c"
echo '/* up.h */' > "$tmp/src/analysis/up.h"
echo '#include "y.h"' > "$tmp/src/kernels/k.c"
echo '/* y.h */' > "$tmp/src/bench/x/y.h"
out=$(includes "$tmp/src")
case "$out" in
  *"bench/x/x.c includes analysis/up.h"*) ;;
  *) echo "layering: the include check missed a planted include: [$out]"; fail=1 ;;
esac
case "$out" in
  *"kernels/k.c includes bench/x/y.h"*) ;;
  *) echo "layering: the include check missed a planted include: [$out]"; fail=1 ;;
esac
# objects: bench/b.o calls analysis/a.o's up_fn (upward); kernels/p.o and kernels/q.o call each other
mkdir -p "$tmp/obj/bench" "$tmp/obj/analysis" "$tmp/obj/kernels"
printf 'int up_fn(void);\nint b_fn(void) { return up_fn(); }\n' > "$tmp/b.c"
printf 'int up_fn(void) { return 1; }\n' > "$tmp/a.c"
printf 'int q_fn(void);\nint p_fn(void) { return q_fn(); }\n' > "$tmp/p.c"
printf 'int p_fn(void);\nint q_fn(void) { return p_fn(); }\n' > "$tmp/q.c"
cc=${CC:-cc}
$cc -c "$tmp/b.c" -o "$tmp/obj/bench/b.o" && $cc -c "$tmp/a.c" -o "$tmp/obj/analysis/a.o" &&
  $cc -c "$tmp/p.c" -o "$tmp/obj/kernels/p.o" && $cc -c "$tmp/q.c" -o "$tmp/obj/kernels/q.o" ||
  { echo "layering: FAIL: cannot compile the planted objects"; fail=1; }
out=$(symbols "$tmp/obj")
case "$out" in
  *"bench/b.o calls up_fn of analysis/a.o"*) ;;
  *) echo "layering: the symbol check missed a planted upward call: [$out]"; fail=1 ;;
esac
case "$out" in
  *"a circle: kernels/p.o"*"kernels/q.o"*) ;;
  *) echo "layering: the symbol check missed a planted circle: [$out]"; fail=1 ;;
esac
[ $fail -eq 0 ] && echo "layering: kernels <- bench <- analysis <- app holds for includes and symbols, no circles"
exit $fail
