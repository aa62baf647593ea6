# chunk_tradeoff.gp — the methods with a chunk knob (top-k, chunked): kernel
# peak memory (solid; the counted workspace dashed) and time against the
# chunk size C, at one n.
# Drawn by scripts/figures.sh from DIR/data/chunk_tradeoff.{dat,meta}.
if (!exists("plotdir")) plotdir = "scripts/plot"
load plotdir.'/common.gp'
call plotdir.'/begin.gp' 'chunk_tradeoff' 'Chunk size: memory against time'
set logscale x 2
set logscale y 2
set xlabel "chunk size C (queries per block, log)"
set ylabel "memory (bytes, log)"
@pow2_x
@bytes_y
call plotdir.'/panel.gp' 1
# time varies by tens of percent with C: a linear axis spanning the data (panel.gp's offsets
# leave room around it), not the decades a log axis would round out to
set logscale x 2
set xlabel "chunk size C (queries per block, log)"
set ylabel "median time per call (seconds)"
@pow2_x
set autoscale yfix
set format y fmt_seconds
call plotdir.'/panel.gp' 2
call plotdir.'/legend.gp'
call plotdir.'/end.gp'
