/* commands.h — the program's subcommands that bench/ defines; each returns
 * the exit status of exit_status.h (0 a row, 1 internal, 2 bad input, 3 out
 * of memory). The command table is the program's entry (app/main.c), which
 * also dispatches to the analysis (analysis/analyze.h: cmd_analyze). */
#ifndef COMMANDS_H
#define COMMANDS_H

int cmd_run(int argc, char **argv);       /* bench/prefill/run.c */
int cmd_ffn(int argc, char **argv);       /* bench/prefill/run_ffn.c */
int cmd_sweep(int argc, char **argv);     /* bench/sweep/sweep.c */
int cmd_merge(int argc, char **argv);     /* bench/sweep/merge.c */
int cmd_capture(int argc, char **argv);   /* bench/model/capture.c */
int cmd_decode(int argc, char **argv);    /* bench/decode/decode.c */
int cmd_eval(int argc, char **argv);      /* bench/model/eval.c */
int cmd_train(int argc, char **argv);     /* bench/train/train.c */
int cmd_env_get(int argc, char **argv);   /* bench/sweep/sidecar.c */
int cmd_point_key(int argc, char **argv); /* bench/sweep/point_id.c */

#endif
