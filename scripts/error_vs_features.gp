# error_vs_features.gp — Performer (FAVOR+): relative error against the
# number of random features m, one line per score std, at one n. When the
# results hold real layers, below: each layer (solid) beside its synthetic
# twin of the same logit std (dashed, the same colour).
# Drawn by scripts/figures.sh from DIR/data/error_vs_features.{dat,meta}.
if (!exists("plotdir")) plotdir = "scripts/plot"
load plotdir.'/common.gp'
call plotdir.'/begin.gp' 'error_vs_features' 'Performer: error against the number of random features'
do for [p=1:npanels] {
    set logscale x 2
    set logscale y
    set xlabel "random features m (log)"
    set ylabel "relative error vs exact float64 (log)"
    @pow2_x
    set format y fmt_err
    call plotdir.'/panel.gp' p
}
call plotdir.'/legend.gp'
call plotdir.'/end.gp'
