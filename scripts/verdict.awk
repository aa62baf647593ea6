# verdict.awk — a target's verdict and the number shown beside it, always in
# agreement (scripts/bench.sh prepends this file to its awk programs; tested
# by tests/e2e_timing_context.sh). The verdict is taken on the unrounded
# ratio; the number is printed with the given decimals, more where the
# rounded number would read as the other verdict: 0.6015 against "at most
# 0.6" is shown as 0.602x (no), never 0.60x.
#
# target_met(x, op, t): 1 when x meets the target: op ">=" (at least t),
#   "<=" (at most t), "within" (-t <= x <= t)
function target_met(x, op, t) {
  if (op == ">=") return x >= t
  if (op == "<=") return x <= t
  return x >= -t && x <= t
}
# target_text(x, op, t, scale, dec, flags, suffix): x * scale printed as
#   %<flags>.<dec>f (or with more decimals, see above), then suffix;
#   e.g. target_text(0.4996, ">=", 0.5, 100, 0, "", "%") is "49.96%"
function target_text(x, op, t, scale, dec, flags, suffix,    d, s, want) {
  want = target_met(x, op, t)
  for (d = dec; d <= 12; d++) {
    s = sprintf("%" flags "." d "f", x * scale)
    if (target_met((s + 0) / scale, op, t) == want) return s suffix
  }
  return sprintf("%.17g", x * scale) suffix
}
# target_verdict(x, op, t, have): "**yes**", "**no**" or "not measured"
function target_verdict(x, op, t, have) {
  return !have ? "not measured" : target_met(x, op, t) ? "**yes**" : "**no**"
}
# target_cells(x, op, t, have, scale, dec, flags, suffix): "measured | met"
function target_cells(x, op, t, have, scale, dec, flags, suffix) {
  return (have ? target_text(x, op, t, scale, dec, flags, suffix) : "-") " | " target_verdict(x, op, t, have)
}
