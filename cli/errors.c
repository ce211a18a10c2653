/* Rendering struct cc_error for people: where, what, the engine's words, and what to do. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

/* Prints line `line` of file with a caret under column `col`, as compilers do. */
static void print_source_line(const char *file, int line, int col)
{
    FILE *f = fopen(file, "r");
    if (!f)
        return;
    char *text = NULL;
    size_t cap = 0;
    ssize_t n;
    int at = 0;
    while ((n = getline(&text, &cap, f)) >= 0) {
        if (++at < line)
            continue;
        while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
            text[--n] = '\0';
        fprintf(stderr, "%5d | %s\n", line, text);
        if (col > 0) {
            fprintf(stderr, "      | ");
            for (int i = 1; i < col && i <= n; i++)
                fputc(text[i - 1] == '\t' ? '\t' : ' ', stderr);
            fputs("^\n", stderr);
        }
        break;
    }
    free(text);
    fclose(f);
}

void cli_error_print(const struct cc_error *err)
{
    const char *msg = err->message ? err->message : cc_error_kind_name(err->kind);
    if (err->file && err->line > 0)
        fprintf(stderr, "%s:%d:%d: error: %s\n", err->file, err->line, err->col, msg);
    else if (err->file)
        fprintf(stderr, "%s: error: %s\n", err->file, msg);
    else
        fprintf(stderr, "error: %s\n", msg);
    if (err->file && err->line > 0 && strcmp(err->file, "-") != 0)
        print_source_line(err->file, err->line, err->col);
    if (err->engine_message && (!err->message || !strstr(err->message, err->engine_message)))
        fprintf(stderr, "engine said: %s\n", err->engine_message);
    if (err->hint)
        fprintf(stderr, "hint: %s\n", err->hint);
}

int cli_dry_run_refused(const char *what)
{
    fprintf(stderr,
            "error: '%s' has no --dry-run yet, and would change the engine: run it without "
            "--dry-run, or not at all\n",
            what);
    return CLI_EXIT_USAGE;
}

int cli_exit_for_error(const struct cc_error *err)
{
    switch (err->kind) {
    case CC_ERR_USAGE:
        return CLI_EXIT_USAGE;
    case CC_ERR_INVALID_CONFIG:
        return CLI_EXIT_CONFIG;
    case CC_ERR_UNREACHABLE:
        return CLI_EXIT_UNREACHABLE;
    case CC_ERR_TIMEOUT:
        return CLI_EXIT_TIMEOUT;
    case CC_ERR_CANCELLED:
        return CLI_EXIT_INTERRUPTED;
    default:
        return CLI_EXIT_FAILURE;
    }
}

int cli_loop_finish(uv_loop_t *loop)
{
    uv_run(loop, UV_RUN_DEFAULT);
    return uv_loop_close(loop);
}
