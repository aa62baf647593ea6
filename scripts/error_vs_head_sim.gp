# error_vs_head_sim.gp — the projection schemes that share parameters across
# heads (mqa, gqa, mhe-add, mhe-mul): relative error against MHA with exact
# attention, as the heads' synthetic weights go from independent (0) to
# identical (1). One line per scheme (gqa per group count G).
# Drawn by scripts/figures.sh from DIR/data/error_vs_head_sim.{dat,meta}.
if (!exists("plotdir")) plotdir = "scripts/plot"
load plotdir.'/common.gp'
call plotdir.'/begin.gp' 'error_vs_head_sim' 'Shared projections: error against head similarity'
set xlabel "head similarity of the synthetic weights (0 independent, 1 identical)"
set ylabel "relative error vs MHA, exact float64"
set format x "%.2g"
set xrange [-0.05:1.05]
set format y "%.1f"
set yrange [0:*]
call plotdir.'/panel.gp' 1
call plotdir.'/legend.gp'
call plotdir.'/end.gp'
