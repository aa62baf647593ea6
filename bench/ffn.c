/* ffn.c — placeholder while the ffn command is being written */
#include "commands.h"
#include <stdio.h>
int cmd_ffn(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "ffn: not yet\n"); return 1; }
