/* cli/: what users type and see. main.c parses the global flags (docker compose's) and dispatches
 * to a command; each command lives in its own cmd-NAME.c as one `const struct cli_command`. */
#ifndef CC_CLI_H
#define CC_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <uv.h>

#include "common/error.h"

/* Exit codes, documented in README ("Exit codes"). Commands return one of these, or, for
 * exec/run/--exit-code-from, the code of the process they ran. */
enum cli_exit {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILURE = 1,     /* the engine refused, a resource failed */
    CLI_EXIT_USAGE = 2,       /* bad flags or arguments */
    CLI_EXIT_CONFIG = 3,      /* the compose files are invalid */
    CLI_EXIT_UNREACHABLE = 4, /* no engine answers */
    CLI_EXIT_SERVICE = 5,     /* a service failed to start or become healthy */
    CLI_EXIT_TIMEOUT = 6,     /* a wait ran out of time */
    CLI_EXIT_INTERRUPTED = 130,
};

/* Engine calls in flight at most when neither --parallel nor COMPOSE_PARALLEL_LIMIT says (the
 * scheduler's own default too). */
#define CLI_DEFAULT_PARALLEL 16

/* Global options, from flags and COMPOSE_* variables. Strings are borrowed from argv or environ. */
struct cli_globals {
    const char **files; /* -f, in order; n_files of them */
    int n_files;
    const char *project_name;
    const char *project_directory;
    const char **env_files;
    int n_env_files;
    const char **profiles;
    int n_profiles;
    const char *host;     /* -H */
    const char *ansi;     /* never|always|auto */
    const char *progress; /* auto|tty|plain|json|quiet */
    int parallel;         /* --parallel, else COMPOSE_PARALLEL_LIMIT; 0: CLI_DEFAULT_PARALLEL */
    bool dry_run;
    bool verbose;
};

struct cli_context {
    uv_loop_t *loop;
    struct cli_globals g;
};

struct cli_command {
    const char *name;
    const char *summary; /* one line for `ccompose --help` */
    /* argv[0] is the command's name. Returns an enum cli_exit value (or a process's exit code). */
    int (*run)(struct cli_context *ctx, int argc, char **argv);
    /* It changes the engine and has no --dry-run of its own: --dry-run is refused rather than
     * ignored. */
    bool no_dry_run;
};

struct option;
/* getopt_long() for a command (argv[0] its name) that reports a bad flag on stderr in docker
 * compose's words ("unknown flag: --tiemout"), with "did you mean --timeout?" when a flag is
 * close, and "See 'ccompose CMD --help'."; returns '?' then, like getopt_long(). Every command
 * parses its flags with it. */
int cli_getopt_long(int argc, char *const argv[], const char *shorts, const struct option *longopts,
                    int *longindex);
/* The same where argv[0] is not what the user typed: cmd is ("stack deploy"), or NULL for the
 * global flags. */
int cli_getopt_as(const char *cmd, int argc, char *const argv[], const char *shorts,
                  const struct option *longopts, int *longindex);
/* The flags of a command whose one flag besides --help is the boolean --name: sets *ret when
 * given, prints usage on stdout for --help. Returns -1 to go on (optind at the first operand),
 * else the exit code: CLI_EXIT_OK after --help, CLI_EXIT_USAGE after a bad flag (reported). */
int cli_bool_flag_parse(int argc, char *const argv[], const char *name, bool *ret,
                        void (*usage)(FILE *out));
/* The end of a command's flag loop, for opt 'h' (--help: usage on stdout, returns CLI_EXIT_OK) or
 * a flag cli_getopt_long() refused ('?', already reported: usage on stderr, returns
 * CLI_EXIT_USAGE). */
int cli_usage_exit(int opt, void (*usage)(FILE *out));
/* Edits (insert, delete, replace, swap two neighbours) from a to b. */
size_t cli_edit_distance(const char *a, const char *b);
/* The candidate closest to a mistyped word, when close enough to suggest (two edits, or the
 * start of the name); NULL otherwise. Borrowed from candidates. */
const char *cli_closest(const char *word, const char *const *candidates, size_t n);

/* The command table of cli/main.c, by name; NULL when there is none. Borrowed. */
const struct cli_command *cli_command_find(const char *name);
/* Prints "did you mean 'NAME'?" on stderr for the command closest to a mistyped one, if any. */
void cli_suggest_command(const char *word);

/* The top-level usage text: global flags and the command list. */
void cli_usage(FILE *out);

/* Prints err for a person on stderr: "file:line:col: error: message", the source line with a
 * caret when the file can be read, the engine's words, then "hint: ...". */
void cli_error_print(const struct cc_error *err);
/* --dry-run given to WHAT (a command, or a command with a flag), which has no dry run of its own
 * and would change the engine: says so; returns CLI_EXIT_USAGE. */
int cli_dry_run_refused(const char *what);
/* The exit code that fits an error's kind. */
int cli_exit_for_error(const struct cc_error *err);

struct compose_project;
struct compose_load_options;

/* Loads the project the global flags name (-f, -p, --project-directory, --env-file, --profile,
 * with COMPOSE_* variables and .env as docker compose reads them). services are the services
 * named on the command line (enabled even when their profiles are not). Warnings are printed on
 * stderr ("file:line:col: warning: ..." or "WARN[0000] ..."), and so is every error
 * ("file:line:col: error: ..." with the line and a hint). Returns CLI_EXIT_OK with *ret new
 * (compose_project_free() it), else CLI_EXIT_CONFIG (invalid or missing files) or another
 * enum cli_exit, with *ret untouched. */
int cli_project_load(struct cli_context *ctx, const char *const *services, size_t n_services,
                     struct compose_project **ret);
/* The same with load options of the command's own (no_interpolate, no_normalize...) taken from
 * base (may be NULL); the global flags and services override base's fields for them. */
int cli_project_load_with(struct cli_context *ctx, const char *const *services, size_t n_services,
                          const struct compose_load_options *base, struct compose_project **ret);

/* The global flags (and services) as load options; other fields of o are left alone. */
void cli_project_options(const struct cli_context *ctx, const char *const *services,
                         size_t n_services, struct compose_load_options *o);
struct compose_diag;
/* Prints a load's warnings and (when r < 0) its errors; returns the exit code for r. */
int cli_load_report(int r, const struct compose_diag *diag, const struct cc_error *err);

/* As docker compose does before any command: the COMPOSE_* variables set in the env file (the
 * --env-file files, else the project directory's .env) go into the process environment where it
 * does not set them already, so COMPOSE_ANSI, COMPOSE_PROGRESS, COMPOSE_REMOVE_ORPHANS,
 * COMPOSE_IGNORE_ORPHANS and COMPOSE_PARALLEL_LIMIT (which sets --parallel when not given) apply
 * from there too. */
void cli_env_file_apply(struct cli_context *ctx);

/* Runs the loop until it has nothing left, then closes it; returns uv_loop_close()'s result. */
int cli_loop_finish(uv_loop_t *loop);

#endif
