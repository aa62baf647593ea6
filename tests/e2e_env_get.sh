#!/bin/sh
# e2e_env_get.sh — `attnbench env-get KEY FILE`, the one sidecar reader the
# scripts call: a key of FILE.env (or of a results CSV's sidecar) on stdout,
# exit 1 and nothing for a missing key, exit 2 and one line for no file.
. "$(dirname "$0")/lib.sh"
A=$ATTNBENCH
"$A" run --n 64 --heads 2 --d-head 8 --reps 1 --warmup 0 --csv "$tmp/r.csv" 2> /dev/null || fail "run --csv"
h=$("$A" env-get source_hash "$tmp/r.env") || fail "env-get source_hash: exit $?"
[ -n "$h" ] && [ "$h" = "$(sed -n 's/^source_hash=//p' "$tmp/r.env" | head -n 1)" ] || fail "source_hash '$h'"
[ "$("$A" env-get source_hash "$tmp/r.csv")" = "$h" ] || fail "env-get of the CSV's sidecar"
printf 'a=1\nab=2\nb==x=y\n' > "$tmp/s.env"
[ "$("$A" env-get a "$tmp/s.env")" = 1 ] && [ "$("$A" env-get ab "$tmp/s.env")" = 2 ] &&
  [ "$("$A" env-get b "$tmp/s.env")" = "=x=y" ] || fail "key matching (a vs ab, values with =)"
out=$("$A" env-get nope "$tmp/s.env"); rc=$?
[ "$rc" -eq 1 ] && [ -z "$out" ] || fail "missing key: exit $rc, '$out'"
"$A" env-get a "$tmp/none.env" > "$tmp/o" 2> "$tmp/e"; rc=$?
[ "$rc" -eq 2 ] && [ "$(wc -l < "$tmp/e")" -eq 1 ] && [ ! -s "$tmp/o" ] || fail "no file: exit $rc"
"$A" env-get a /dev/zero > /dev/null 2>&1; [ $? -eq 2 ] || fail "/dev/zero not refused"
finish
