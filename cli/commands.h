/* Every command ccompose has, one per cli/cmd-NAME.c. main.c lists them in this order. */
#ifndef CC_CLI_COMMANDS_H
#define CC_CLI_COMMANDS_H

#include "cli/cli.h"

extern const struct cli_command cli_cmd_build;
extern const struct cli_command cli_cmd_config;
extern const struct cli_command cli_cmd_cp;
extern const struct cli_command cli_cmd_convert;
extern const struct cli_command cli_cmd_create;
extern const struct cli_command cli_cmd_down;
extern const struct cli_command cli_cmd_events;
extern const struct cli_command cli_cmd_exec;
extern const struct cli_command cli_cmd_graph;
extern const struct cli_command cli_cmd_help;
extern const struct cli_command cli_cmd_images;
extern const struct cli_command cli_cmd_kill;
extern const struct cli_command cli_cmd_logs;
extern const struct cli_command cli_cmd_ls;
extern const struct cli_command cli_cmd_pause;
extern const struct cli_command cli_cmd_port;
extern const struct cli_command cli_cmd_ps;
extern const struct cli_command cli_cmd_pull;
extern const struct cli_command cli_cmd_push;
extern const struct cli_command cli_cmd_restart;
extern const struct cli_command cli_cmd_rm;
extern const struct cli_command cli_cmd_run;
extern const struct cli_command cli_cmd_scale;
extern const struct cli_command cli_cmd_stack;
extern const struct cli_command cli_cmd_start;
extern const struct cli_command cli_cmd_stop;
extern const struct cli_command cli_cmd_top;
extern const struct cli_command cli_cmd_unpause;
extern const struct cli_command cli_cmd_up;
extern const struct cli_command cli_cmd_version;
extern const struct cli_command cli_cmd_wait;

#endif
