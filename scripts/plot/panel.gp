# plot/panel.gp 'P' — draws panel P of the page with the axes the figure set
# (see common.gp): row (P-1)/ncols, column (P-1)%ncols. An empty panel says
# "no data"; one with neither title nor series (a hole in the grid) is left out.
# Marks (points that did not run) sit on the panel's top edge, their status in the legend;
# bottom marks (values a log axis cannot show) on the bottom edge. Series with
# a standard error get error bars (.dat columns 3, 4).
p = int(ARG1)
if (p <= npanels && (p_title[p] ne "" || (nseries > 0 && p_last[p] >= p_first[p]))) {
    x0 = ((p - 1) % ncols) * panel_px
    y0 = top_px + ((p - 1) / ncols) * (plot_px + row_gap_px)
    set lmargin at screen (x0 + (panel_px < 400 ? 72.0 : 84.0)) / page_w
    set rmargin at screen (x0 + panel_px - 14.0) / page_w
    set tmargin at screen 1.0 - y0 * 1.0 / page_h
    set bmargin at screen 1.0 - (y0 + plot_px) * 1.0 / page_h
    set title p_title[p]
    if (exists("p_xlabel") && p_xlabel[p] ne "") { set xlabel p_xlabel[p] }
    if (nseries > 0 && p_last[p] >= p_first[p]) {
        # room around the data, so no point sits on the frame
        set offsets graph 0.04, graph 0.04, graph 0.06, graph 0.06
        # points that did not run: a marker on the top edge at their x, its
        # status a line of the legend band (legend.gp; figure.h's marks; an
        # older .meta without mk_key: the status below the marker), never a
        # value on the y axis
        if (exists("nmarks")) {
            do for [k=1:nmarks] {
                if (mk_panel[k] == p && !(exists("mk_bottom") && mk_bottom[k])) {
                    mk_said = exists("mk_key") ? "" : mk_text[k]
                    set label 200 + k mk_said at first mk_x[k], graph 1 point pt mk_pt[k] ps 1.6 \
                        lc rgb mk_color[k] tc rgb mk_color[k] rotate by 90 right offset 0, -0.8 front
                }
                if (mk_panel[k] == p && exists("mk_bottom") && mk_bottom[k]) {
                    set label 200 + k mk_text[k] at first mk_x[k], graph 0 point pt mk_pt[k] ps 1.6 \
                        lc rgb mk_color[k] tc rgb mk_color[k] rotate by 90 left offset 0, 0.8 front
                }
            }
        }
        # the error bars first, the points over them
        plot for [i=p_first[p]:p_last[p]] datafile index (i - 1) \
                 using 1:((exists("s_err") && s_err[i] && $4 > 0) ? $2 : 1/0):3:4 with yerrorbars \
                 lc rgb s_color[i] pt 7 ps 0.3 lw 1 dt 1 notitle, \
             for [i=p_first[p]:p_last[p]] datafile index (i - 1) using 1:2 with linespoints \
                 lc rgb s_color[i] pt s_pt[i] ps s_ps[i] dt s_dt[i] lw s_lw[i] notitle
        if (exists("nmarks")) { do for [k=1:nmarks] { unset label 200 + k } }
    } else {
        # keep the frame and the axis labels, say why it is empty
        unset logscale
        set xrange [0:1]
        set yrange [0:1]
        set format x ""
        set format y ""
        set label 99 "no data\n(no rows of this study in the results yet)" at graph 0.5, 0.5 center tc rgb "#777777"
        plot 2 notitle
        unset label 99
    }
}
# the next panel starts from plain axes
set autoscale
set offsets 0, 0, 0, 0
unset logscale
set xtics autofreq
set ytics autofreq
set format x "% h"
set format y "% h"
