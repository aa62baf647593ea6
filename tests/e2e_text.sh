#!/bin/sh
# e2e_text.sh — `attnbench eval --text` on 100 kB of text without a space
# (the issue's tokenizer: merges a aa aaaa b ab) finishes, bounded by a
# generous timeout (the quadratic encoder took about a minute): random a and
# b, of which only the first sequences' worth is read, and all a, which is
# encoded whole (every pair of its bytes is in a token: no cut is safe) into
# BOS, the dummy prefix and 25000 "aaaa".
. "$(dirname "$0")/lib.sh"
A=$ATTNBENCH
TB=${TEST_BUILD:-build}
ck="$tmp/tiny.bin"
tiny_checkpoint "$ck"
"$TB/tests/test_tokenizer" --write-ab "$tmp/ab.tok" || { echo "skip: no $TB/tests/test_tokenizer to write the tokenizer"; exit 77; }
awk 'BEGIN { srand(7); for (i = 0; i < 100000; i++) printf "%s", (rand() < 0.5 ? "a" : "b") }' > "$tmp/ab.txt"
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "a" }' > "$tmp/aa.txt"

# text NAME ARGS...: eval on $tmp/NAME.txt within 60 s: one row
text() {
  name=$1; shift
  timeout 60 "$A" eval --llama2c "$ck" --attention chunked --text "$tmp/$name.txt" --tokenizer "$tmp/ab.tok" "$@" \
    > "$tmp/$name.csv" 2> "$tmp/err"
  rc=$?
  [ $rc -eq 0 ] || fail "$name: exit $rc (124: still encoding after 60 s): $(cat "$tmp/err")"
  [ "$(wc -l < "$tmp/$name.csv")" -eq 2 ] || fail "$name: $(wc -l < "$tmp/$name.csv") lines, want a header and one row"
}

# the defaults: 8 sequences of 32 tokens (the checkpoint's seq_len), read from the start of the text only
text ab
[ "$(col sequences "$tmp/ab.csv")" = 8 ] && [ "$(col n "$tmp/ab.csv")" = 32 ] ||
  fail "ab: $(col sequences "$tmp/ab.csv") sequences of $(col n "$tmp/ab.csv"), want 8 of 32"
grep -q "tokens of its first [0-9]* bytes" "$tmp/ab.csv" || fail "ab: the note does not say the text was read in part"
text aa --n 32 --sequences 1
grep -q "aa.txt (25002 tokens)" "$tmp/aa.csv" || fail "aa: not 25002 tokens: $(grep -o 'aa.txt ([^)]*)' "$tmp/aa.csv")"
finish
