# model_dnll_vs_cache.gp — the model level: a checkpoint with every layer's
# attention replaced, against the exact model on the same tokens. A row per
# checkpoint: ΔNLL (nats/token; the 1% of the exact NLL as a grey dotted
# rule, the Pareto front as grey steps) and KL(exact || approximate) against
# the cache a sequence would hold when decoding. Both y axes are log: values
# at or below 1e-6 (the exact model, ΔNLL <= 0) are drawn at 1e-6.
# Drawn by scripts/figures.sh from DIR/data/model_dnll_vs_cache.{dat,meta}
# (written by analysis/model.c).
if (!exists("plotdir")) plotdir = "scripts/plot"
load plotdir.'/common.gp'
call plotdir.'/begin.gp' 'model_dnll_vs_cache' 'The model level: prediction loss against cache'
do for [p=1:npanels] {
    set logscale x 2
    set logscale y
    set xlabel "cache per sequence when decoding (bytes, log)"
    set ylabel (p % 2 == 1 ? "ΔNLL vs exact model (nats/token, log)" : "KL(exact || approx) (nats/token, log)")
    @bytes_x
    set format y fmt_err
    call plotdir.'/panel.gp' p
}
call plotdir.'/legend.gp'
call plotdir.'/end.gp'
