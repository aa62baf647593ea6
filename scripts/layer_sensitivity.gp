# layer_sensitivity.gp — the model level, one layer at a time: ΔNLL with
# only that layer's attention replaced (the others exact) against the
# method's knob (top-k's k, ...), a line per layer, a panel per checkpoint
# and method. A layer whose line sits high needs a larger budget. ΔNLL at or
# below 1e-6 is drawn at 1e-6 (log axis).
# Drawn by scripts/figures.sh from DIR/data/layer_sensitivity.{dat,meta}
# (written by analysis/model.c).
if (!exists("plotdir")) plotdir = "scripts/plot"
load plotdir.'/common.gp'
call plotdir.'/begin.gp' 'layer_sensitivity' 'The model level: ΔNLL of one replaced layer'
do for [p=1:npanels] {
    set logscale x 2
    set logscale y
    set xlabel "knob"
    set ylabel "ΔNLL vs exact model (nats/token, log)"
    @pow2_x
    set format y fmt_err
    call plotdir.'/panel.gp' p
}
call plotdir.'/legend.gp'
call plotdir.'/end.gp'
