# memory_vs_n.gp — kernel peak memory against the sequence length, log-log,
# one line per method (its n-scaling configuration, slope in the legend);
# points that did not run (oom, skipped, timeout) are crosses above the lines,
# and a dotted rule marks the first n where vanilla does not run.
# Drawn by scripts/figures.sh from DIR/data/memory_vs_n.{dat,meta}.
if (!exists("plotdir")) plotdir = "scripts/plot"
load plotdir.'/common.gp'
call plotdir.'/begin.gp' 'memory_vs_n' 'Kernel peak memory against sequence length'
set logscale x 2
set logscale y 2
set xlabel "sequence length n (log)"
set ylabel "kernel peak memory (bytes, log)"
@pow2_x
@bytes_y
# the axes span the data (panel.gp's offsets leave the margin), not whole decades
set autoscale fix
call plotdir.'/panel.gp' 1
call plotdir.'/legend.gp'
call plotdir.'/end.gp'
