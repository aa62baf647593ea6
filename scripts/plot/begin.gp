# begin.gp 'NAME' 'TITLE' — loads DATA/NAME.meta and opens the page (see common.gp)
fig_name = ARG1
fig_title = ARG2
load datadir.'/'.fig_name.'.meta'
datafile = datadir.'/'.fig_name.'.dat'
if (!exists("ncols") || ncols < 1 || ncols > npanels) { ncols = npanels }
nrows = (npanels + ncols - 1) / ncols
# a subtitle of several lines pushes the panels down; its longest line
# widens the page (about 10 px a character at the title's size)
rest = subtitle
longest = strlen(fig_title)
while (strstrt(rest, "\n") > 0) {
    top_px = top_px + 16
    if (strstrt(rest, "\n") - 1 > longest) { longest = strstrt(rest, "\n") - 1 }
    rest = rest[strstrt(rest, "\n") + 1:]
}
if (strlen(rest) > longest) { longest = strlen(rest) }
page_w = ncols * panel_px + legend_px
if (page_w < 10 * longest + 40) { legend_px = legend_px + 10 * longest + 40 - page_w; page_w = 10 * longest + 40 }
page_h = top_px + bottom_px + nrows * plot_px + (nrows - 1) * row_gap_px
if (page_h < top_px + 40 + 19 * nlegend) { page_h = top_px + 40 + 19 * nlegend }
if (term eq "svg") {
    set terminal svg size page_w, page_h font "DejaVu Sans,12" background "white" dynamic noenhanced
} else {
    if (term eq "pngcairo") {
        set terminal pngcairo size page_w, page_h font "DejaVu Sans,10" background "white" noenhanced
    } else {
        set terminal png size page_w, page_h font "DejaVu Sans,10" background "#ffffff" noenhanced
    }
}
set output outbase.(term eq "svg" ? ".svg" : ".png")
set multiplot title fig_title."\n".subtitle font ",13"
unset key
set grid xtics ytics mxtics mytics lc rgb "#dddddd" lw 1 dt 1
set border lw 1
