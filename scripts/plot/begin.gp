# begin.gp 'NAME' 'TITLE' — loads DATA/NAME.meta and opens the page (see common.gp)
fig_name = ARG1
fig_title = ARG2
load datadir.'/'.fig_name.'.meta'
datafile = datadir.'/'.fig_name.'.dat'
if (!exists("ncols") || ncols < 1 || ncols > npanels) { ncols = npanels }
# a row wider than max_cols panels folds (6 -> 3, 4 -> 2): the rows of the
# analysis stay rows of the page when ncols divides evenly
while (ncols > max_cols) { ncols = (ncols % 2 == 0) ? ncols / 2 : max_cols }
nrows = (npanels + ncols - 1) / ncols
page_w = page_px
panel_px = page_w / ncols
plot_px = ncols == 1 ? 400 : ncols == 2 ? 330 : 260
# a subtitle of several lines (analyze wraps it to fit the page) pushes the panels down
rest = subtitle
while (strstrt(rest, "\n") > 0) {
    top_px = top_px + 17
    rest = rest[strstrt(rest, "\n") + 1:]
}
# the legend band: columns as wide as the longest label (gnuplot sets them about 8.4 px a character apart)
longest = 4
do for [j=1:nlegend] { if (strlen(s_label[l_series[j]]) > longest) { longest = strlen(s_label[l_series[j]]) } }
# the top-edge marks' lines (mk_key 1: each text once) follow the series'
nkeymarks = 0
if (exists("mk_key")) {
    do for [k=1:nmarks] {
        if (mk_key[k] == 1) {
            nkeymarks = nkeymarks + 1
            if (strlen(mk_text[k]) > longest) { longest = strlen(mk_text[k]) }
        }
    }
}
leg_cols = int((page_w - 20) / (8.4 * longest + 60))
if (leg_cols < 1) { leg_cols = 1 }
if (leg_cols > 4) { leg_cols = 4 }
leg_rows = (nlegend + nkeymarks + leg_cols - 1) / leg_cols
legend_px = nlegend + nkeymarks > 0 ? 18 * leg_rows + 14 : 0
page_h = top_px + bottom_px + nrows * plot_px + (nrows - 1) * row_gap_px + legend_px
if (term eq "svg") {
    set terminal svg size page_w, page_h font "DejaVu Sans,11" background "white" dynamic noenhanced
} else {
    if (term eq "pngcairo") {
        set terminal pngcairo size page_w, page_h font "DejaVu Sans,10" background "white" noenhanced
    } else {
        set terminal png size page_w, page_h font "DejaVu Sans,10" background "#ffffff" noenhanced
    }
}
set output outbase.(term eq "svg" ? ".svg" : ".png")
set multiplot title fig_title."\n".subtitle font ",11"
unset key
set grid xtics ytics mxtics mytics lc rgb "#dddddd" lw 1 dt 1
set border lw 1
