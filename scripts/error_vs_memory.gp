# error_vs_memory.gp — the headline figure: relative error against kernel
# peak memory at one n, a panel per score std, one point set per method and
# knob value, and the Pareto front (what no other point beats on both axes).
# When the results hold real layers, a second row: a panel per layer, its
# points filled and its synthetic twin's (same logit std) hollow and lighter,
# each with its own front (the twin's dotted).
# Drawn by scripts/figures.sh from DIR/data/error_vs_memory.{dat,meta}.
if (!exists("plotdir")) plotdir = "scripts/plot"
load plotdir.'/common.gp'
call plotdir.'/begin.gp' 'error_vs_memory' 'Error against memory (lower left is better)'
do for [p=1:npanels] {
    set logscale x 2
    set logscale y
    set xlabel "kernel peak memory (bytes, log)"
    set ylabel "relative error vs exact float64 (log)"
    @bytes_x
    set format y fmt_err
    call plotdir.'/panel.gp' p
}
call plotdir.'/legend.gp'
call plotdir.'/end.gp'
