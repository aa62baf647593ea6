# begin.gp 'NAME' 'TITLE' — loads DATA/NAME.meta and opens the page (see common.gp)
fig_name = ARG1
fig_title = ARG2
load datadir.'/'.fig_name.'.meta'
datafile = datadir.'/'.fig_name.'.dat'
page_w = npanels * panel_px + legend_px
page_h = top_px + bottom_px + 360
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
