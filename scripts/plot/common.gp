# plot/common.gp — what every figure (scripts/NAME.gp) shares: the terminal, the page layout (panels
# in rows of ncols, the legend in a column on the right) and the helpers the figure
# scripts call:
#   call plotdir.'/begin.gp' 'NAME' 'TITLE'   load DATA/NAME.meta, open the page
#   call plotdir.'/panel.gp' 'P'              draw panel P with the axes set now
#   call plotdir.'/legend.gp'                 the legend column
#   call plotdir.'/end.gp'                    close the page
# scripts/figures.sh sets datadir, outbase, term (svg, pngcairo or png) and
# plotdir (this folder) with gnuplot -e. Colours, point and dash types come from the data
# (.meta): one colour per method, the same in every figure.
if (!exists("term")) term = "pngcairo"
if (!exists("datadir")) datadir = "results/data"
if (!exists("outbase")) outbase = "figure"
set encoding utf8
set termoption noenhanced

# the page: page_px wide (900: the width the figures are read at), panels
# in rows of ncols (at most 3 a row; begin.gp folds wider rows), each
# panel_px = page_px / ncols wide and plot_px high, row_gap_px between rows
# (the upper row's x axis, the lower row's title), the legend in a band
# under the panels, in as many columns as its longest label allows; pixels
# for PNG, the same numbers as points for SVG. top_px holds the title (and
# grows 17 per extra subtitle line), bottom_px the last x axis.
page_px = 900
max_cols = 3
row_gap_px = 92
top_px = 84
bottom_px = 60

# axis formats: seconds in SI prefixes, errors as 1e-N; bytes on a log axis
# get a tic at every 16th power of two (4 KiB, 64 KiB, 1 MiB, ...; on x every 4th where panels are
# two to a row or one): @bytes_x, @bytes_y
fmt_seconds = "%.0s %cs"
fmt_err = "1e%T"
byte_unit(e) = e >= 40 ? "TiB" : e >= 30 ? "GiB" : e >= 20 ? "MiB" : e >= 10 ? "KiB" : "B"
byte_label(e) = sprintf("%d %s", 2**(e - 10 * (e / 10)), byte_unit(e))
bytes_x = "set xtics (); do for [e=0:48:(ncols <= 2 ? 2 : 4)] { set xtics add (byte_label(e) 2.0**e) }"
bytes_y = "set ytics (); do for [e=0:48:4] { set ytics add (byte_label(e) 2.0**e) }"
# powers of two on a log x axis, 1024 and up as 1k, 2k, ...: @pow2_x
pow2_label(e) = e >= 10 ? sprintf("%dk", 2**(e - 10)) : sprintf("%d", 2**e)
pow2_x = "set xtics (); do for [e=0:30] { set xtics add (pow2_label(e) 2.0**e) }"
