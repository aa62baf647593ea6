# families.gp: written by `attnbench analyze` (analysis/labels.c): one marker shape and
# colour per family; ramp(rgb, v) lightens a colour for a small knob value v
family_pt(s) = s eq "vanilla" ? 5 : s eq "mha" ? 7 : s eq "exact" ? 7 : s eq "chunked" ? 7 : s eq "topk" ? 9 : s eq "performer" ? 11 : s eq "window" ? 13 : s eq "mqa" ? 5 : s eq "gqa" ? 15 : s eq "mhe-add" ? 3 : s eq "mhe-mul" ? 2 : s eq "ffn-exact" ? 7 : s eq "ffn-topk" ? 9 : (strstrt(s, "+") > 0 ? family_pt(s[1:strstrt(s, "+") - 1]) : 1)
family_rgb(s) = s eq "vanilla" ? 0x000000 : s eq "mha" ? 0x000000 : s eq "exact" ? 0x000000 : s eq "chunked" ? 0xE69F00 : s eq "topk" ? 0x0072B2 : s eq "performer" ? 0x009E73 : s eq "window" ? 0xCC79A7 : s eq "mqa" ? 0xD55E00 : s eq "gqa" ? 0x56B4E9 : s eq "mhe-add" ? 0x882255 : s eq "mhe-mul" ? 0x999933 : s eq "ffn-exact" ? 0x000000 : s eq "ffn-topk" ? 0x0072B2 : (strstrt(s, "+") > 0 ? family_rgb(s[strstrt(s, "+") + 1:]) : 0x777777)
ramp_t(v) = v > 0 ? 0.75 * (1 - (log(v) / log(2) / 10 > 1 ? 1 : log(v) / log(2) / 10 < 0 ? 0 : log(v) / log(2) / 10)) : 0
tint1(c, t) = int(c + (255 - c) * t + 0.5)
ramp(rgb, v) = tint1(int(rgb / 65536) % 256, ramp_t(v)) * 65536 + tint1(int(rgb / 256) % 256, ramp_t(v)) * 256 + tint1(rgb % 256, ramp_t(v))
