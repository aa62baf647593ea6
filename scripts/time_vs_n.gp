# time_vs_n.gp — median time of one call against the sequence length,
# log-log, one line per method (slope in the legend); points that did not run
# are crosses above the lines, a dotted rule marks where vanilla stops.
# Drawn by scripts/figures.sh from DIR/data/time_vs_n.{dat,meta}.
if (!exists("plotdir")) plotdir = "scripts/plot"
load plotdir.'/common.gp'
call plotdir.'/begin.gp' 'time_vs_n' 'Time per call against sequence length'
set logscale x 2
set logscale y
set xlabel "sequence length n (log)"
set ylabel "median time per call (seconds, log)"
@pow2_x
set format y fmt_seconds
# the axes span the data (panel.gp's offsets leave the margin), not whole decades
set autoscale fix
call plotdir.'/panel.gp' 1
call plotdir.'/legend.gp'
call plotdir.'/end.gp'
