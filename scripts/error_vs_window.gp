# error_vs_window.gp — attention sinks + sliding window: relative error against
# the window (left) and the exact attention mass on the kept keys (right), one line per
# score std (light: flat attention, dark: peaked), at one n. When the results
# hold real layers, a second row: each layer (solid) beside its synthetic twin
# of the same logit std (dashed, the same colour).
# Drawn by scripts/figures.sh from DIR/data/error_vs_window.{dat,meta}.
if (!exists("plotdir")) plotdir = "scripts/plot"
load plotdir.'/common.gp'
call plotdir.'/begin.gp' 'error_vs_window' 'Sinks + sliding window: error and kept mass against the window'
do for [p=1:npanels] {
    set logscale x 2
    set xlabel "window, nearest keys kept per query (log)"
    @pow2_x
    if ((p - 1) % ncols == 0) {
        set logscale y
        set ylabel "relative error vs exact float64 (log)"
        set format y fmt_err
    } else {
        set ylabel "exact attention mass on the kept keys"
        # the synthetic row spans flat to peaked attention; the real row zooms in
        if (p <= ncols) { set yrange [0:1.05]; set format y "%.1f" } else { set yrange [*:1.02]; set format y "%.2f" }
    }
    call plotdir.'/panel.gp' p
}
call plotdir.'/legend.gp'
call plotdir.'/end.gp'
