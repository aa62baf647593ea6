# ffn_error_vs_k.gp — the feed-forward layer with top-k over its d_ff hidden
# units: relative error against k (left) and the share of the ReLU mass the
# k kept units carry (right), one line per d_ff.
# Drawn by scripts/figures.sh from DIR/data/ffn_error_vs_k.{dat,meta}.
if (!exists("plotdir")) plotdir = "scripts/plot"
load plotdir.'/common.gp'
call plotdir.'/begin.gp' 'ffn_error_vs_k' 'Top-k feed-forward: error and kept mass against k'
set logscale x 2
set logscale y
set xlabel "k, hidden units kept per token (log)"
set ylabel "relative error vs exact float64 (log)"
@pow2_x
set format y fmt_err
call plotdir.'/panel.gp' 1
set logscale x 2
set xlabel "k, hidden units kept per token (log)"
set ylabel "share of the ReLU mass in the k kept units"
@pow2_x
set format y "%.1f"
set yrange [0:1.05]
call plotdir.'/panel.gp' 2
call plotdir.'/legend.gp'
call plotdir.'/end.gp'
