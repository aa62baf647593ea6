# end.gp — closes the page (see common.gp)
unset multiplot
set output
