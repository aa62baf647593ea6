#!/bin/sh
# Checks what attnbench needs; installs Debian's packages when run as root,
# else prints the exact apt-get line and stops.
#   scripts/deps.sh          build + sweep: OpenBLAS, libcsv, gnuplot
#   scripts/deps.sh --test   also NumPy, for the tests that read files NumPy wrote
set -u
missing=""
pkg-config --exists openblas 2>/dev/null || missing="$missing libopenblas-dev"
{ [ -f /usr/include/csv.h ] || echo '#include <csv.h>' | cc -E -x c - >/dev/null 2>&1; } || missing="$missing libcsv-dev"
command -v gnuplot >/dev/null 2>&1 || missing="$missing gnuplot-nox"
command -v pkg-config >/dev/null 2>&1 || missing="$missing pkg-config"
if [ "${1:-}" = "--test" ]; then
  /usr/bin/python3 -c 'import numpy' >/dev/null 2>&1 || missing="$missing python3-numpy"
fi
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "deps: installing$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >&2 && exit 0
  echo "deps: apt-get failed; run: apt-get update && apt-get install -y$missing" >&2
  exit 1
fi
echo "deps: missing$missing; run: sudo apt-get update && sudo apt-get install -y$missing" >&2
exit 1
