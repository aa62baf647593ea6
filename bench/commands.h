/* commands.h — the subcommands of build/attnbench; each returns the exit status
 * of exit_status.h (0 a row, 1 internal, 2 bad input, 3 out of memory). */
#ifndef COMMANDS_H
#define COMMANDS_H

int cmd_run(int argc, char **argv);      /* bench/run.c */
int cmd_ffn(int argc, char **argv);      /* bench/run_ffn.c */
int cmd_sweep(int argc, char **argv);    /* bench/sweep.c */
int cmd_merge(int argc, char **argv);    /* bench/merge.c */
int cmd_analyze(int argc, char **argv);  /* analysis/analyze.c */
int cmd_capture(int argc, char **argv);  /* bench/capture.c */
int cmd_decode(int argc, char **argv);   /* bench/decode.c */
int cmd_eval(int argc, char **argv);     /* bench/eval.c */
int cmd_train(int argc, char **argv);    /* bench/train.c */
int cmd_env_get(int argc, char **argv);  /* bench/sidecar.c */
int cmd_point_key(int argc, char **argv); /* bench/point_id.c */

#endif
