/* Loading the project for a command: the global flags to compose_load_options, the load, and
 * every warning and error printed for people. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "compose/compose.h"

static void print_warning(const struct cc_error *w)
{
    const char *msg = w->message ? w->message : "";
    if (w->file && w->line > 0)
        fprintf(stderr, "%s:%d:%d: warning: %s\n", w->file, w->line, w->col, msg);
    else
        fprintf(stderr, "WARN[0000] %s\n", msg);
    if (w->hint)
        fprintf(stderr, "hint: %s\n", w->hint);
}

void cli_project_options(const struct cli_context *ctx, const char *const *services,
                         size_t n_services, struct compose_load_options *o)
{
    const struct cli_globals *g = &ctx->g;
    o->files = (const char *const *)g->files;
    o->n_files = (size_t)g->n_files;
    o->project_directory = g->project_directory;
    o->project_name = g->project_name;
    o->env_files = (const char *const *)g->env_files;
    o->n_env_files = (size_t)g->n_env_files;
    o->profiles = (const char *const *)g->profiles;
    o->n_profiles = (size_t)g->n_profiles;
    o->services = services;
    o->n_services = n_services;
}

int cli_load_report(int r, const struct compose_diag *diag, const struct cc_error *err)
{
    for (size_t i = 0; i < diag->n_warnings; i++)
        print_warning(&diag->warnings[i]);
    if (r == 0)
        return CLI_EXIT_OK;
    if (diag->n_errors)
        for (size_t i = 0; i < diag->n_errors; i++)
            cli_error_print(&diag->errors[i]);
    else
        cli_error_print(err);
    /* A missing or unreadable compose or env file is a configuration problem too. */
    switch (err->kind) {
    case CC_ERR_NONE:
    case CC_ERR_INVALID_CONFIG:
    case CC_ERR_NOT_FOUND:
    case CC_ERR_IO:
        return CLI_EXIT_CONFIG;
    default:
        return cli_exit_for_error(err);
    }
}

int cli_project_load(struct cli_context *ctx, const char *const *services, size_t n_services,
                     struct compose_project **ret)
{
    return cli_project_load_with(ctx, services, n_services, NULL, ret);
}

int cli_project_load_with(struct cli_context *ctx, const char *const *services, size_t n_services,
                          const struct compose_load_options *base, struct compose_project **ret)
{
    struct compose_load_options o = {0};
    if (base)
        o = *base;
    cli_project_options(ctx, services, n_services, &o);

    struct compose_diag diag;
    struct cc_error err = CC_ERROR_INIT;
    struct compose_project *p = NULL;
    compose_diag_init(&diag);
    int r = compose_project_load(&o, &p, &diag, &err);
    int code = cli_load_report(r, &diag, &err);
    if (code == CLI_EXIT_OK)
        *ret = p;
    cc_error_release(&err);
    compose_diag_release(&diag);
    return code;
}

void cli_env_file_apply(struct cli_context *ctx)
{
    struct compose_load_options o = {0};
    cli_project_options(ctx, NULL, 0, &o);
    char **vars = NULL;
    size_t n = 0;
    struct cc_error err = CC_ERROR_INIT;
    /* A missing or malformed --env-file is reported when the project loads. */
    if (compose_env_compose_vars(&o, &vars, &n, &err) == 0) {
        for (size_t i = 0; i < n; i++) {
            char *eq = strchr(vars[i], '=');
            *eq = '\0';
            setenv(vars[i], eq + 1, 0); /* the environment wins */
            free(vars[i]);
        }
        free(vars);
    }
    cc_error_release(&err);
    const char *limit = getenv("COMPOSE_PARALLEL_LIMIT");
    if (!ctx->g.parallel && limit && *limit) {
        char *end;
        long v = strtol(limit, &end, 10);
        if (!*end && v >= 1 && v <= 1024)
            ctx->g.parallel = (int)v;
        else
            fprintf(stderr,
                    "WARN[0000] COMPOSE_PARALLEL_LIMIT '%s' is not a number from 1 to "
                    "1024, ignoring\n",
                    limit);
    }
}
