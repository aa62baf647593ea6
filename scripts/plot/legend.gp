# plot/legend.gp — the legend band under the panels (see common.gp): each
# label once, in the order the analysis gave, leg_cols to a row, then the
# top-edge marks' texts (points that did not run), each once.
set lmargin at screen 6.0 / page_w
set rmargin at screen 1.0 - 6.0 / page_w
set tmargin at screen legend_px * 1.0 / page_h
set bmargin at screen 2.0 / page_h
unset border
unset tics
unset grid
unset logscale
unset title
unset xlabel
unset ylabel
unset label
set xrange [0:1]
set yrange [0:1]
set key inside left top Left reverse vertical maxrows leg_rows samplen 2.5 spacing 1.0 width 1 noautotitle
# (an empty loop still evaluates its options once: they test mk_n first)
mk_n = nkeymarks > 0 ? nmarks : 0
if (nlegend + nkeymarks > 0) {
    plot for [j=1:nlegend] 2 with linespoints lc rgb s_color[l_series[j]] pt s_pt[l_series[j]] \
             ps s_ps[l_series[j]] dt s_dt[l_series[j]] lw s_lw[l_series[j]] \
             title (s_lines[l_series[j]] ? s_label[l_series[j]] : ""), \
         for [j=1:nlegend] 2 with points lc rgb s_color[l_series[j]] pt s_pt[l_series[j]] \
             ps s_ps[l_series[j]] title (s_lines[l_series[j]] ? "" : s_label[l_series[j]]), \
         for [k=1:mk_n] 2 with points lc rgb (mk_n ? mk_color[k] : "#000000") pt (mk_n ? mk_pt[k] : 1) ps 1.6 \
             title (mk_n && mk_key[k] == 1 ? mk_text[k] : "")
} else {
    plot 2 notitle
}
