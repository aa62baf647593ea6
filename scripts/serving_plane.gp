# serving_plane.gp — decoding: the KV cache (or state) one sequence holds
# against the error of the generated tokens' attention, at the largest
# context every family ran; a panel per study (head similarity of the
# synthetic weights, or a captured layer), a point per family and knob
# (shape: family, lighter: smaller knob), the Pareto front as grey steps.
# The headline's decode panel is one of these (DIR/data/serving_plane.dat).
# Drawn by scripts/figures.sh from DIR/data/serving_plane_fig.{dat,meta}
# (written by analysis/decode.c).
if (!exists("plotdir")) plotdir = "scripts/plot"
load plotdir.'/common.gp'
call plotdir.'/begin.gp' 'serving_plane_fig' 'Decoding: error against KV cache per sequence (lower left is better)'
do for [p=1:npanels] {
    set logscale x 2
    set logscale y
    set xlabel "KV cache or state per sequence (bytes, log)"
    set ylabel "rel. error vs float64 exact, full MHA cache (log)"
    @bytes_x
    set format y fmt_err
    # the axes span the data (panel.gp's offsets leave the margin), not whole decades
    set autoscale fix
    call plotdir.'/panel.gp' p
}
call plotdir.'/legend.gp'
call plotdir.'/end.gp'
