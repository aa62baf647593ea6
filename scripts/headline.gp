# headline.gp — the README's figure: error against memory in every regime
# the results hold, 900 px wide, text 11 pt and up. Panels (2 by 3, the legend
# in a column on the right):
#   prefill at n = 2048 for three score stds (DIR/data/headline.dat blocks 0-2,
#     shared x and y), the real layers pooled (block 3: real filled, their
#     synthetic twins hollow, memory = counted workspace on its own x range,
#     a colour per layer, the shape the family's),
#   decode: the serving plane, KV cache per sequence against rel_err
#     (DIR/data/serving_plane.dat, written by analyze_decode: points on one
#     spot, and the KV cache formats and policies, named beside them),
#   model: cache against ΔNLL ± its standard error (DIR/data/model_dnll.dat,
#     by analyze_model, with each point's marker as in the decode panel: the KV
#     cache formats and policies their own); a ΔNLL <= 1e-6 (the exact model) is a marker on the
#     bottom edge with its name, never a value.
# One marker shape per family, its colour lightened for a small knob value
# (families.gp, written by analyze from analysis/labels.c); the Pareto front
# as a grey staircase; a ring around a point whose measured peak was within
# 16 KiB of zero, drawn at its counted workspace. A panel without data says so.
# Drawn by scripts/figures.sh.
if (!exists("plotdir")) plotdir = "scripts/plot"
if (!exists("term")) term = "pngcairo"
if (!exists("datadir")) datadir = "results/data"
if (!exists("outbase")) outbase = "headline"
set encoding utf8
load datadir.'/headline.meta'
load datadir.'/families.gp'
hfile = datadir.'/headline.dat'
sfile = datadir.'/serving_plane.dat'
mfile = datadir.'/model_dnll.dat'
# points in a file of the regimes (lines that are not comments or blank)
npoints(f) = int(system("test -f '".f."' && grep -cv '^[[:space:]]*\\(#\\|$\\)' '".f."' || echo 0"))
s_count = npoints(sfile)
m_count = npoints(mfile)
# the model panel shows the first two checkpoints' blocks, the second hollow (the detailed figure,
# model_dnll_vs_cache, has every one with its error bars)
m_name = m_count > 0 ? system("grep -m1 -o 'model=[^ ]*' '".mfile."' | cut -d= -f2 || true") : ""
m_name2 = m_count > 0 ? system("grep -o 'model=[^ ]*' '".mfile."' | sed -n 2p | cut -d= -f2 || true") : ""
s_ctx = s_count > 0 ? system("grep -m1 -o 'L=[0-9]*' '".sfile."' || true") : ""

W = 900.0; H = 1120.0
legend_w = 236
top = 140.0; plot_h = 240.0; gap = 104.0; left_in = 70.0; right_in = 12.0
panel_w = (W - legend_w) / 2.0
if (term eq "svg") {
    set terminal svg size int(W), int(H) font "DejaVu Sans,11" background "white" dynamic noenhanced
} else {
    set terminal pngcairo size int(W), int(H) font "DejaVu Sans,11" background "white" noenhanced
}
set output outbase.(term eq "svg" ? ".svg" : ".png")
set termoption noenhanced
set multiplot title "Error against memory, by regime: lower left is better" font ",15"
set label 1 "shape and colour: method, lighter for a smaller knob (k, m, window, G); grey steps: Pareto front\nringed: measured peak below 16 KiB (the measurement's resolution), drawn at its counted workspace\nreal layers: x is the counted workspace (not a measured peak), colour the layer, shape the method" \
    at screen 0.5, screen 1 - 52.0 / H center font ",11" tc rgb "#444444"
unset key
set grid xtics ytics lc rgb "#dddddd" lw 1
byte_unit(e) = e >= 40 ? "TiB" : e >= 30 ? "GiB" : e >= 20 ? "MiB" : e >= 10 ? "KiB" : "B"
byte_label(e) = sprintf("%d %s", 2**(e - 10 * (e / 10)), byte_unit(e))
hollow(p) = (p == 5 || p == 7 || p == 9 || p == 11 || p == 13 || p == 15) ? p - 1 : p
floor_y(y) = y > 1e-6 ? y : 1e-6
# the front points of a file (column 5 = 1; not a twin, column 7), in increasing x, for `with steps`
front(f, block) = front_above(f, block, 0)
# the same, leaving out the points at or below y_min (the model panel's front ends at its bottom edge)
# (column 7 is the twin flag in headline.dat only; in the regimes' files it is the marker)
front_above(f, block, y_min) = "< awk -v b=".block." -v m=".sprintf("%g", y_min)." -v t=".(f eq hfile ? 7 : 0)." '/^#/ {next} /^$/ {e++; if (e == 2) {k++}; next} {e = 0} (b < 0 || k == b) && $5 == 1 && (t == 0 || $t != 1) && $2 > m' '".f."' | sort -g"

# the real-layer panel's colours, one per layer (Dark2)
array lay_rgb[8] = [0x1B9E77, 0xD95F02, 0x7570B3, 0xE7298A, 0x66A61E, 0xE6AB02, 0xA6761D, 0x666666]
layer_rgb(i) = i >= 0 ? lay_rgb[int(i) % 8 + 1] : 0x777777
if (!exists("h_nlayers")) h_nlayers = 0
# the model panel: its y range over the ΔNLL a log axis can show (> 1e-6)
if (m_count > 0) {
    stats mfile using ($2 > 1e-6 ? $2 : 1/0) nooutput
    m_ylo = STATS_records > 0 ? STATS_min / 4 : 1e-3
    m_yhi = STATS_records > 0 ? STATS_max * 3 : 1
}
# the decode panel: the names left of its middle go right of their point, the others left
if (s_count > 0) {
    stats sfile using 1 nooutput
    s_xmid = sqrt(STATS_min * STATS_max)
    s_xlo = STATS_min / 2; s_xhi = STATS_max * 2
}

# place(P): panel P of the 2 x 3 grid
place(p) = 0
do for [p=1:6] {
    col = (p - 1) % 2; row = (p - 1) / 2
    x0 = col * panel_w
    y0 = top + row * (plot_h + gap)
    set lmargin at screen (x0 + left_in) / W
    set rmargin at screen (x0 + panel_w - right_in) / W
    set tmargin at screen 1 - y0 / H
    set bmargin at screen 1 - (y0 + plot_h) / H
    unset label 2
    set logscale xy
    set xtics (); do for [e=0:48:4] { set xtics add (byte_label(e) 2.0**e) }
    set format y "1e%T"
    set ytics autofreq
    set mytics default
    set autoscale
    if (p <= 4) {
        set title h_title[p].(p == 4 ? ", colour: layer" : "") font ",12"
        set xlabel (p == 4 ? "counted workspace (bytes, not measured)" : "memory (bytes)")
        set ylabel (col == 0 ? "rel. error vs exact" : "")
        if (exists("h_xmin")) {
            set xrange [h_xmin / 1.6 : h_xmax * 1.6]
            set yrange [floor_y(h_ymin) / 3 : h_ymax * 3]
        }
        if (p == 4 && exists("h_rxmin")) {
            set xrange [h_rxmin / 1.4 : h_rxmax * 1.4]
            r_step = log(h_rxmax / h_rxmin) / log(2) > 12 ? 4 : log(h_rxmax / h_rxmin) / log(2) > 5 ? 2 : 1
            set xtics (); do for [e=0:48:r_step] { set xtics add (byte_label(e) 2.0**e) }
        }
        if (p == 4 && h_count[p] > 0) {
            plot hfile index 3 using 1:2:($7 == 1 ? hollow(family_pt(strcol(3))) : family_pt(strcol(3))):(layer_rgb($8)) \
                     with points pt variable lc rgb variable ps 1.3, \
                 front(hfile, 3) using 1:2 with steps lc rgb "#555555" lw 1.5 dt 2
        }
        if (p < 4 && h_count[p] > 0) {
            plot hfile index (p - 1) using 1:2:($7 == 1 ? hollow(family_pt(strcol(3))) : family_pt(strcol(3))):(ramp(family_rgb(strcol(3)), $4)) \
                     with points pt variable lc rgb variable ps 1.3, \
                 '' index (p - 1) using 1:($6 == 1 ? $2 : 1/0) with points pt 6 ps 2.6 lc rgb "#555555", \
                 front(hfile, p - 1) using 1:2 with steps lc rgb "#555555" lw 1.5 dt 2
        }
    }
    if (p == 5) {
        set title "decode: serving plane".(s_ctx ne "" ? ", ".s_ctx : "")."\nnamed: KV cache formats, policies, shared spots" font ",10"
        set xlabel "KV cache per sequence (bytes)"
        set ylabel "rel. error vs exact (≤1e-6 at 1e-6)"
        if (s_count > 0) {
            set xrange [s_xlo : s_xhi]
            plot sfile using 1:(floor_y($2)):7:8 with points pt variable lc rgb variable ps 1.3, \
                 sfile using 1:(floor_y($2) / 2.4**$9):($1 < s_xmid && strcol(6) ne "-" ? strcol(6) : "") \
                     with labels left offset 0.9, 0.45 font ",8" tc rgb "#333333", \
                 sfile using 1:(floor_y($2) / 2.4**$9):($1 >= s_xmid && strcol(6) ne "-" ? strcol(6) : "") \
                     with labels right offset -0.9, 0.45 font ",8" tc rgb "#333333", \
                 front(sfile, -1) using 1:(floor_y($2)) with steps lc rgb "#555555" lw 1.5 dt 2
        }
    }
    if (p == 6) {
        set title "model: ΔNLL vs cache; bottom edge: ΔNLL ≤ 0\n".m_name.(m_name2 ne "" ? " filled, ".m_name2." hollow" : "") font ",10"
        set xlabel "cache per sequence (bytes)"
        set ylabel "ΔNLL (nats/token) ± 1 s.e."
        if (m_count > 0) {
            # error bars (cut at 1/20 of the value), points, then ΔNLL <= 1e-6 on the bottom edge, named
            set yrange [m_ylo : m_yhi]
            plot for [b=0:(m_name2 ne "" ? 1 : 0)] mfile index b \
                     using 1:($2 > 1e-6 && $6 > 0 ? $2 : 1/0):($2 - $6 > $2 / 20 ? $2 - $6 : $2 / 20):($2 + $6):8 \
                     with yerrorbars pt 7 ps 0.3 lc rgb variable, \
                 for [b=0:(m_name2 ne "" ? 1 : 0)] mfile index b \
                     using 1:($2 > 1e-6 ? $2 : 1/0):(b ? hollow($7) : $7):8 \
                     with points pt variable lc rgb variable ps 1.3, \
                 for [b=0:(m_name2 ne "" ? 1 : 0)] mfile index b \
                     using 1:($2 <= 1e-6 ? m_ylo : 1/0):(b ? hollow($7) : $7):8 \
                     with points pt variable lc rgb variable ps 1.6, \
                 for [b=0:(m_name2 ne "" ? 1 : 0)] mfile index b \
                     using 1:($2 <= 1e-6 ? m_ylo : 1/0):(strcol(3)) with labels rotate by 90 left offset -1, 0.9 font ",8" tc rgb "#333333", \
                 front_above(mfile, 0, 1e-6) using 1:2 with steps lc rgb "#555555" lw 1.5 dt 2
        }
    }
    empty = (p <= 4 && h_count[p] == 0) || (p == 5 && s_count == 0) || (p == 6 && m_count == 0)
    if (empty) {
        unset logscale
        set xrange [0:1]; set yrange [0:1]
        unset xtics; unset ytics
        set label 2 "no data\n(no rows of this\nregime yet)" at graph 0.5, 0.5 center tc rgb "#777777"
        plot 2 notitle
        set xtics; set ytics
    }
    unset xrange; unset yrange
}
unset label 2

# the legend column: the families (shape and colour), the knob ramp, the marks
set lmargin at screen (2 * panel_w + 10) / W
set rmargin at screen 1 - 6.0 / W
set tmargin at screen 1 - top / H
set bmargin at screen 1 - (top + 3 * plot_h + 2 * gap) / H
unset border; unset tics; unset grid; unset logscale; unset title; unset xlabel; unset ylabel
set xrange [0:1]; set yrange [0:1]
set print $leg
fams = "vanilla chunked topk window performer mha mqa gqa mhe-add mhe-mul"
do for [i=1:words(fams)] { print sprintf("0.06 %g %s 0 %s", 1 - 0.052 * i, word(fams, i), word(fams, i)) }
do for [i=1:(h_nlayers < 8 ? h_nlayers : 8)] { print sprintf("%g %g chunked %d layer", 0.06 + 0.19 * ((i - 1) % 5), 1 - 0.052 * 19.0 - 0.04 * ((i - 1) / 5), i - 1) }
do for [i=0:4] { print sprintf("%g %g topk %d knob", 0.06 + 0.17 * i, 1 - 0.052 * 12.2, 4**(i + 1) / 2) }
unset print
set label 3 "method" at graph 0.02, 0.995 left font ",12"
set label 4 "knob value: lighter is smaller" at graph 0.02, 1 - 0.052 * 11.2 left font ",11"
do for [i=0:4] { set label 20 + i sprintf("%d", 4**(i + 1) / 2) at graph 0.06 + 0.17 * i, 1 - 0.052 * 13.0 center font ",10" tc rgb "#444444" }
set label 5 "(top-k's k; also m, window, G)" at graph 0.02, 1 - 0.052 * 13.7 left font ",10" tc rgb "#444444"
set label 6 "Pareto front" at graph 0.14, 1 - 0.052 * 14.6 left
set arrow 1 from graph 0.02, 1 - 0.052 * 14.6 to graph 0.11, 1 - 0.052 * 14.6 nohead lc rgb "#555555" lw 1.5 dt 2
set label 7 "ring: peak below 16 KiB," at graph 0.14, 1 - 0.052 * 15.6 left
set label 8 "at counted workspace" at graph 0.14, 1 - 0.052 * 16.4 left
set label 9 "hollow: synthetic twin" at graph 0.14, 1 - 0.052 * 17.5 left
if (h_nlayers > 0) { set label 10 "layer (real panel's colours)" at graph 0.02, 1 - 0.052 * 18.3 left font ",10" }
plot $leg using 1:2:(family_pt(strcol(3))):(strcol(5) eq "layer" ? layer_rgb($4) : ramp(family_rgb(strcol(3)), $4)) with points pt variable lc rgb variable ps 1.4, \
     $leg using ($1 + (strcol(5) eq "layer" ? 0.05 : 0.07)):2:(strcol(5) eq "knob" ? "" : strcol(5) eq "layer" ? sprintf("%d", $4) : strcol(5)) with labels left, \
     '+' using (0.06):(1 - 0.052 * 15.6) every ::0::0 with points pt 6 ps 2.6 lc rgb "#555555", \
     '+' using (0.06):(1 - 0.052 * 15.6) every ::0::0 with points pt 7 ps 1.3 lc rgb "#999999", \
     '+' using (0.06):(1 - 0.052 * 17.5) every ::0::0 with points pt 8 ps 1.4 lc rgb "#0072B2"
unset multiplot
set output
