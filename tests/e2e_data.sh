#!/bin/sh
# The checkpoints ship with the repository (data/): every file of data/SHA256SUMS
# is there with its checksum, each with its licence, and the Makefile's MODEL and
# MODELS default to them (a clone has nothing beside it).
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
(cd "$root/data" && sha256sum --quiet -c SHA256SUMS) || fail "data/SHA256SUMS does not match data/"
for f in stories260K.bin babyllama105.bin tok105.bin tok105.vocab; do
  grep -q " $f\$" "$root/data/SHA256SUMS" || fail "data/SHA256SUMS does not list $f"
done
for l in LICENSE.llama2c LICENSE.BabyLlama; do
  grep -q "MIT" "$root/data/$l" || fail "data/$l: no MIT licence text"
done
m=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MODEL -u MODELS make -s -C "$root" -f Makefile -f - print-models <<'MK' 2>/dev/null
print-models: ; @echo "$(MODEL)|$(MODELS)"
MK
)
[ "$m" = "data/stories260K.bin|data/stories260K.bin data/babyllama105.bin" ] ||
  fail "MODEL|MODELS default to '$m', not the shipped checkpoints"
[ "$fails" -eq 0 ] || exit 1
