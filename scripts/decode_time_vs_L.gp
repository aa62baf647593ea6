# decode_time_vs_L.gp — decoding: median time per generated token against
# the context L, log-log, a line per family and knob (shape: family, lighter:
# smaller knob), a panel per study. Exact MHA reads its whole cache every
# step (slope about 1); window and Performer hold a fixed state (flat).
# Points that did not run sit on the top edge with their status.
# Drawn by scripts/figures.sh from DIR/data/decode_time_vs_L.{dat,meta}
# (written by analysis/decode.c).
if (!exists("plotdir")) plotdir = "scripts/plot"
load plotdir.'/common.gp'
call plotdir.'/begin.gp' 'decode_time_vs_L' 'Decoding: time per generated token against the context'
do for [p=1:npanels] {
    set logscale x 2
    set logscale y
    set xlabel "context L (tokens in the cache, log)"
    set ylabel "median time per step (seconds, log)"
    @pow2_x
    set format y fmt_seconds
    call plotdir.'/panel.gp' p
}
call plotdir.'/legend.gp'
call plotdir.'/end.gp'
