/* analyze.h — `attnbench analyze CSV`: summary.md and the figures' data
 * from a results CSV (the analysis layer's one command; app/main.c
 * dispatches to it). Returns the exit status (exit_status.h). */
#ifndef ANALYZE_H
#define ANALYZE_H

int cmd_analyze(int argc, char **argv);

#endif
