# error_vs_k.gp — top-k attention: relative error against k (left) and the
# exact attention's probability mass on the k kept keys (right), one line per
# score std (light: flat attention, dark: peaked), at one n.
# Drawn by scripts/figures.sh from DIR/data/error_vs_k.{dat,meta}.
if (!exists("plotdir")) plotdir = "scripts/plot"
load plotdir.'/common.gp'
call plotdir.'/begin.gp' 'error_vs_k' 'Top-k attention: error and kept mass against k'
set logscale x 2
set logscale y
set xlabel "k, keys kept per query (log)"
set ylabel "relative error vs exact float64 (log)"
@pow2_x
set format y fmt_err
call plotdir.'/panel.gp' 1
set logscale x 2
set xlabel "k, keys kept per query (log)"
set ylabel "exact attention mass on the k kept keys"
@pow2_x
set format y "%.1f"
set yrange [0:1.05]
call plotdir.'/panel.gp' 2
call plotdir.'/legend.gp'
call plotdir.'/end.gp'
