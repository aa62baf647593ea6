# plot/legend.gp — the legend column at the right of the page (see common.gp):
# each label once, in the order the analysis gave (lines, then the series
# of separate points).
x0 = ncols * panel_px
set lmargin at screen (x0 + 4.0) / page_w
set rmargin at screen 1.0 - 4.0 / page_w
set tmargin at screen 1.0 - top_px * 1.0 / page_h
set bmargin at screen bottom_px * 1.0 / page_h
unset border
unset tics
unset grid
unset logscale
unset title
unset xlabel
unset ylabel
set xrange [0:1]
set yrange [0:1]
set key inside left top Left reverse samplen 2.5 spacing 1.15 width 2 noautotitle
if (nlegend > 0) {
    plot for [j=1:nlegend] 2 with linespoints lc rgb s_color[l_series[j]] pt s_pt[l_series[j]] \
             ps s_ps[l_series[j]] dt s_dt[l_series[j]] lw s_lw[l_series[j]] \
             title (s_lines[l_series[j]] ? s_label[l_series[j]] : ""), \
         for [j=1:nlegend] 2 with points lc rgb s_color[l_series[j]] pt s_pt[l_series[j]] \
             ps s_ps[l_series[j]] title (s_lines[l_series[j]] ? "" : s_label[l_series[j]])
} else {
    plot 2 notitle
}
