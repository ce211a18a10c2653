/* `ccompose stack`: compose files deployed to a swarm, as `docker stack` does it.
 *
 *   stack deploy -c FILE [-c FILE...] [--prune] [--resolve-image always|changed|never]
 *                [--detach=false | --wait] [--wait-timeout SECONDS]
 *                [--with-registry-auth] STACK
 *   stack ls [--format F] | services [-q] [-f KEY=VALUE] [--format F] STACK
 *   stack ps [-q] [-f KEY=VALUE] [--format F] [--no-trunc] [--no-resolve] STACK | rm STACK
 *   stack config -c FILE [-c FILE...] [--skip-interpolation]
 *
 * The files are loaded with the stack's name as the project name (so resources are named
 * "<stack>_<key>"); the scheduler does the work (sched_stack_*) and reports through callbacks,
 * which the shared progress display renders (cli/render.c); tables go to stdout. */
#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/run.h"
#include "compose/compose.h"
#include "engine-client/engine.h"
#include "scheduler/scheduler.h"

static const char usage[] =
    "Usage:  ccompose stack COMMAND\n\n"
    "Manage stacks on a swarm.\n\n"
    "Commands:\n"
    "  deploy -c FILE [-c FILE...] [OPTIONS] STACK   deploy a new stack or update one\n"
    "      --prune                  remove services that are no longer in the files\n"
    "      --resolve-image MODE     always (default), changed or never: pin images\n"
    "                               to their registry digest\n"
    "      --detach=false, --wait   wait until every service runs what it wants\n"
    "      --wait-timeout SECONDS   give up waiting after this long\n"
    "      --with-registry-auth     send registry credentials (docker config) to the\n"
    "                               swarm (-c - reads the compose file from stdin)\n"
    "  config -c FILE [-c FILE...]  print the files merged and interpolated\n"
    "      --skip-interpolation     do not replace ${VARIABLES}\n"
    "  ls [--format F]              list stacks\n"
    "  services [OPTIONS] STACK     list the services of a stack\n"
    "  ps [OPTIONS] STACK           list the tasks of a stack\n"
    "      -f, --filter KEY=VALUE   services: id, label, mode, name; ps: id, label,\n"
    "                               name, node, desired-state\n"
    "      --format F               table, json, or a template: '{{.Name}}',\n"
    "                               'table {{.ID}}\\t{{.Name}}' (with headings)\n"
    "      --no-resolve             ps: show node IDs (always so)\n"
    "      --no-trunc               ps: whole IDs, image digests and errors\n"
    "      -q, --quiet              only IDs\n"
    "  rm STACK                     remove a stack (waits until its tasks are gone)\n";

/* A query's end: its rows. */
struct stack_rows {
    struct cli_wait w;
    json_t *rows;
};

static void on_rows(json_t *rows, const struct cc_error *err, void *data)
{
    struct stack_rows *r = data;
    cli_on_done(err, &r->w);
    if (rows)
        r->rows = json_incref(rows);
}

/* What a query prints: the fields docker shows (in its order), and how. */
struct listing {
    const char *const *keys;
    size_t n;
    const char *format; /* NULL or "table": the default table; "json"; else a template */
    bool quiet;         /* IDs only */
    bool no_trunc;      /* ps: IDs, images and errors in full */
    json_t *filters;    /* [[key, value], ...] */
};

/* What docker's task table shortens unless --no-trunc: the ID to 12 characters, the image to its
 * name and tag (no digest), the error to 30 characters ending in an ellipsis. */
static void truncate_task(json_t *row)
{
    const char *id = json_string_value(json_object_get(row, "ID"));
    if (id && strlen(id) > 12)
        json_object_set_new(row, "ID", json_stringn(id, 12));
    const char *image = json_string_value(json_object_get(row, "Image"));
    const char *at = image ? strchr(image, '@') : NULL;
    if (at)
        json_object_set_new(row, "Image", json_stringn(image, (size_t)(at - image)));
    const char *err = json_string_value(json_object_get(row, "Error"));
    if (err && strlen(err) > 30) {
        /* 29 characters, not cutting a UTF-8 sequence, then "…". */
        size_t n = 29;
        while (n && ((unsigned char)err[n] & 0xc0) == 0x80)
            n--;
        char *t = xasprintf("%.*s\xe2\x80\xa6", (int)n, err);
        json_object_set_new(row, "Error", json_string(t));
        free(t);
    }
}

/* A row's field as text: strings as they are, numbers in decimal, anything else empty. */
static char *cell_text(json_t *row, const char *key)
{
    json_t *v = json_object_get(row, key);
    if (json_is_string(v))
        return xstrdup(json_string_value(v));
    if (json_is_integer(v))
        return xasprintf("%lld", (long long)json_integer_value(v));
    return xstrdup("");
}

/* docker's heading of a field: "CurrentState" -> "CURRENT STATE". */
static char *heading(const char *key)
{
    struct buf b = BUF_INIT;
    for (const char *p = key; *p; p++) {
        if (p != key && isupper((unsigned char)*p) && islower((unsigned char)p[-1]))
            buf_addc(&b, ' ');
        buf_addc(&b, (char)toupper((unsigned char)*p));
    }
    return buf_detach(&b);
}

/* The row as docker's json format has it: the listing's fields, all strings. */
static json_t *row_json(json_t *row, const struct listing *l)
{
    json_t *o = json_object();
    for (size_t k = 0; k < l->n; k++) {
        char *t = cell_text(row, l->keys[k]);
        json_object_set_new(o, l->keys[k], json_string(t));
        free(t);
    }
    return o;
}

/* Expands a Go-template subset over row: {{.Field}}, {{json .}}, {{json .Field}}, {{upper
 * .Field}}, {{lower .Field}}; "\t" and "\n" written out become tab and newline, as docker's
 * formatter does. With heads, writes the heading of each field instead. Fails (NULL, message in
 * *why) on anything else: a misspelt field must not print empty columns silently. */
static char *expand(const char *tmpl, json_t *row, const struct listing *l, bool heads,
                    char **why)
{
    struct buf b = BUF_INIT;
    for (const char *p = tmpl; *p;) {
        if (p[0] == '\\' && (p[1] == 't' || p[1] == 'n')) {
            buf_addc(&b, p[1] == 't' ? '\t' : '\n');
            p += 2;
            continue;
        }
        if (strncmp(p, "{{", 2)) {
            buf_addc(&b, *p++);
            continue;
        }
        const char *end = strstr(p, "}}");
        if (!end) {
            *why = xasprintf("unclosed action in '%s'", tmpl);
            goto fail;
        }
        char *action = xstrndup(p + 2, (size_t)(end - p - 2));
        char *fn = strtok(action, " \t"), *arg = fn ? strtok(NULL, " \t") : NULL;
        if (fn && *fn == '.' && !arg) {
            arg = fn;
            fn = NULL;
        }
        bool known = arg && *arg == '.' && !strtok(NULL, " \t") &&
                     (!fn || !strcmp(fn, "json") || !strcmp(fn, "upper") || !strcmp(fn, "lower"));
        const char *field = known ? arg + 1 : NULL;
        bool whole = field && !*field;
        bool listed = false;
        for (size_t k = 0; field && k < l->n; k++)
            listed = listed || !strcmp(l->keys[k], field);
        if (!known || (whole ? !fn || strcmp(fn, "json") : !listed)) {
            *why = xasprintf("cannot expand '{{%s}}': the fields are .%s%s", action, l->keys[0],
                             l->n > 1 ? " ..." : "");
            free(action);
            goto fail;
        }
        if (heads) {
            char *h = whole ? xstrdup("") : heading(field);
            buf_printf(&b, "%s", h);
            free(h);
        } else if (fn && !strcmp(fn, "json")) {
            json_t *v = whole ? row_json(row, l) : json_string("");
            if (!whole) {
                char *t = cell_text(row, field);
                json_string_set(v, t);
                free(t);
            }
            char *t = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
            buf_printf(&b, "%s", t);
            free(t);
            json_decref(v);
        } else {
            char *t = cell_text(row, field);
            for (char *c = t; fn && *c; c++)
                *c = (char)(fn[0] == 'u' ? toupper((unsigned char)*c) : tolower((unsigned char)*c));
            buf_printf(&b, "%s", t);
            free(t);
        }
        free(action);
        p = end + 2;
    }
    return buf_detach(&b);
fail:
    buf_release(&b);
    return NULL;
}

/* Prints lines of tab-separated cells as columns three spaces apart (docker's tabwriter). */
static void print_columns(json_t *lines)
{
    size_t width[32] = {0}, i;
    json_t *line;
    json_array_foreach(lines, i, line)
    {
        const char *t = json_string_value(line);
        for (size_t k = 0; k < 32; k++) {
            const char *tab = strchr(t, '\t');
            size_t n = tab ? (size_t)(tab - t) : strlen(t);
            if (tab && n > width[k])
                width[k] = n;
            if (!tab)
                break;
            t = tab + 1;
        }
    }
    json_array_foreach(lines, i, line)
    {
        const char *t = json_string_value(line);
        for (size_t k = 0;; k++) {
            const char *tab = k < 31 ? strchr(t, '\t') : NULL;
            if (!tab) {
                printf("%s\n", t);
                break;
            }
            printf("%-*.*s   ", (int)width[k], (int)(tab - t), t);
            t = tab + 1;
        }
    }
}

/* A string field of row, "" when absent. */
static const char *field_str(json_t *row, const char *key)
{
    const char *v = json_string_value(json_object_get(row, key));
    return v ? v : "";
}

/* Whether row passes every --filter: id by prefix, name by prefix (with or without the
 * "<stack>_" part), label as key or key=value, the rest exactly. */
static bool row_passes(json_t *row, const struct listing *l, const char *stack)
{
    size_t i;
    json_t *f;
    json_array_foreach(l->filters, i, f)
    {
        const char *key = json_string_value(json_array_get(f, 0));
        const char *want = json_string_value(json_array_get(f, 1));
        bool ok;
        if (!strcmp(key, "label")) {
            const char *eq = strchr(want, '=');
            char *k = eq ? xstrndup(want, (size_t)(eq - want)) : xstrdup(want);
            json_t *v = json_object_get(json_object_get(row, "Labels"), k);
            ok = v && (!eq || !strcmp(json_string_value(v) ? json_string_value(v) : "", eq + 1));
            free(k);
        } else {
            const char *field = !strcmp(key, "id")              ? "ID"
                                : !strcmp(key, "name")          ? "Name"
                                : !strcmp(key, "node")          ? "Node"
                                : !strcmp(key, "desired-state") ? "DesiredState"
                                                                : "Mode";
            const char *have = field_str(row, field);
            size_t sl = strlen(stack);
            if (!strcmp(key, "id") || !strcmp(key, "node")) {
                ok = !strncmp(have, want, strlen(want));
            } else if (!strcmp(key, "name")) {
                ok = !strncmp(have, want, strlen(want)) ||
                     (!strncmp(have, stack, sl) && have[sl] == '_' &&
                      !strncmp(have + sl + 1, want, strlen(want)));
            } else {
                ok = !strcmp(have, want);
            }
        }
        if (!ok)
            return false;
    }
    return true;
}

/* Prints rows as l says; exit code. */
static int print_rows(json_t *rows, const struct listing *l, const char *stack)
{
    const char *fmt = l->format && *l->format ? l->format : "table";
    size_t i;
    json_t *row;
    if (l->quiet) {
        json_array_foreach(rows, i, row)
            if (row_passes(row, l, stack))
                printf("%s\n", field_str(row, "ID"));
        return CLI_EXIT_OK;
    }
    if (!strcmp(fmt, "json")) {
        json_array_foreach(rows, i, row)
        {
            if (!row_passes(row, l, stack))
                continue;
            json_t *o = row_json(row, l);
            char *t = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
            printf("%s\n", t);
            free(t);
            json_decref(o);
        }
        return CLI_EXIT_OK;
    }
    /* "table" alone is every field; "table TEMPLATE" those of the template, under headings. */
    bool table = !strncmp(fmt, "table", 5) && (!fmt[5] || isspace((unsigned char)fmt[5]));
    struct buf all = BUF_INIT;
    const char *tmpl = fmt;
    if (table && !fmt[5]) {
        for (size_t k = 0; k < l->n; k++)
            buf_printf(&all, "%s{{.%s}}", k ? "\t" : "", l->keys[k]);
        tmpl = buf_str(&all);
    } else if (table) {
        tmpl = fmt + 6;
    }
    json_t *lines = json_array();
    char *why = NULL, *t;
    if (table && (t = expand(tmpl, NULL, l, true, &why)))
        json_array_append_new(lines, json_string(t)), free(t);
    json_array_foreach(rows, i, row)
    {
        if (why || !row_passes(row, l, stack))
            continue;
        if (!(t = expand(tmpl, row, l, false, &why)))
            break;
        json_array_append_new(lines, json_string(t));
        free(t);
    }
    /* Only tables are aligned; a plain template's tabs stay tabs, as in docker. */
    size_t k;
    json_t *line;
    if (!why && table)
        print_columns(lines);
    else if (!why)
        json_array_foreach(lines, k, line)
            printf("%s\n", json_string_value(line));
    json_decref(lines);
    buf_release(&all);
    if (why) {
        fprintf(stderr, "error: --format: %s\n", why);
        free(why);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

static int query(struct cli_context *ctx, enum sched_stack_query what, const char *stack,
                 struct listing *l)
{
    struct engine_client *c = NULL;
    int code = cli_engine_open(ctx, &c);
    if (code)
        return code;
    struct stack_rows r = {.w = {.err = CC_ERROR_INIT}};
    if (sched_stack_query(ctx->loop, c, what, stack, on_rows, &r, &r.w.err))
        cli_wait_run(ctx->loop, &r.w);
    if (!(code = cli_wait_exit(&r.w))) {
        size_t i;
        json_t *row;
        if (what == SCHED_STACK_PS && !l->no_trunc)
            json_array_foreach(r.rows, i, row) truncate_task(row);
        if (what == SCHED_STACK_SERVICES) {
            json_array_foreach(r.rows, i, row)
            {
                char *rep = xasprintf(
                    "%lld/%lld", (long long)json_integer_value(json_object_get(row, "Running")),
                    (long long)json_integer_value(json_object_get(row, "Desired")));
                json_object_set_new(row, "Replicas", json_string(rep));
                free(rep);
            }
        }
        code = print_rows(r.rows, l, stack ? stack : "");
    }
    json_decref(r.rows);
    cc_error_release(&r.w.err);
    engine_client_free(c);
    return code;
}

/* Deploy (project set) or rm (project NULL) with the progress display. A deploy whose services do
 * not converge exits 5, as a service that failed to start. */
static int run_op(struct cli_context *ctx, const struct compose_project *project, const char *stack,
                  const struct sched_stack_options *o)
{
    struct engine_client *c = NULL;
    int code = cli_engine_open(ctx, &c);
    if (code)
        return code;
    struct cli_wait w = {.err = CC_ERROR_INIT, .progress = cli_progress_new(ctx)};
    struct sched_op *op =
        project ? sched_stack_deploy(ctx->loop, c, project, o, cli_on_event, cli_on_done, &w, &w.err)
                : sched_stack_rm(ctx->loop, c, stack, o, cli_on_event, cli_on_done, &w, &w.err);
    if (op)
        cli_wait_run(ctx->loop, &w);
    cli_progress_free(w.progress);
    code = cli_wait_exit(&w);
    if (op && w.err.kind == CC_ERR_FAILED)
        code = CLI_EXIT_SERVICE;
    cc_error_release(&w.err);
    engine_client_free(c);
    /* The client's cancelled requests and handles close on the loop before the model goes. */
    uv_run(ctx->loop, UV_RUN_DEFAULT);
    return code;
}

static int rm(struct cli_context *ctx, const char *stack)
{
    struct sched_stack_options o = {.parallel = ctx->g.parallel};
    return run_op(ctx, NULL, stack, &o);
}

enum { OPT_PRUNE = 256, OPT_RESOLVE, OPT_DETACH, OPT_WAIT, OPT_WAIT_TIMEOUT, OPT_AUTH };

static int deploy(struct cli_context *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"compose-file", required_argument, NULL, 'c'},
        {"prune", no_argument, NULL, OPT_PRUNE},
        {"resolve-image", required_argument, NULL, OPT_RESOLVE},
        {"detach", optional_argument, NULL, OPT_DETACH},
        {"wait", no_argument, NULL, OPT_WAIT},
        {"wait-timeout", required_argument, NULL, OPT_WAIT_TIMEOUT},
        {"with-registry-auth", no_argument, NULL, OPT_AUTH},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct sched_stack_options o = {.parallel = ctx->g.parallel};
    const char **files = xcalloc((size_t)argc + 1, sizeof(*files));
    int n_files = 0, opt, code = CLI_EXIT_USAGE;
    while ((opt = cli_getopt_as("stack deploy", argc, argv, "c:h", options, NULL)) != -1) {
        switch (opt) {
        case 'c':
            files[n_files++] = optarg;
            break;
        case OPT_PRUNE:
            o.prune = true;
            break;
        case OPT_RESOLVE:
            if (!strcmp(optarg, "always")) {
                o.resolve_image = SCHED_RESOLVE_ALWAYS;
            } else if (!strcmp(optarg, "changed")) {
                o.resolve_image = SCHED_RESOLVE_CHANGED;
            } else if (!strcmp(optarg, "never")) {
                o.resolve_image = SCHED_RESOLVE_NEVER;
            } else {
                fprintf(stderr, "error: --resolve-image takes always, changed or never, not "
                                "'%s'\n",
                        optarg);
                goto out;
            }
            break;
        case OPT_DETACH:
            if (optarg && strcmp(optarg, "true") && strcmp(optarg, "false")) {
                fprintf(stderr, "error: --detach takes true or false, not '%s'\n", optarg);
                goto out;
            }
            o.wait = optarg && !strcmp(optarg, "false");
            break;
        case OPT_WAIT:
            o.wait = true;
            break;
        case OPT_AUTH:
            o.with_registry_auth = true;
            break;
        case OPT_WAIT_TIMEOUT: {
            char *end;
            long s = strtol(optarg, &end, 10);
            if (*end || s < 0) {
                fprintf(stderr, "error: --wait-timeout takes whole seconds, not '%s'\n", optarg);
                goto out;
            }
            o.wait_timeout_ms = (int64_t)s * 1000;
            break;
        }
        case 'h':
            fputs(usage, stdout);
            code = CLI_EXIT_OK;
            goto out;
        default:
            goto out;
        }
    }
    if (optind + 1 != argc || !n_files) {
        fprintf(stderr, "error: stack deploy needs -c FILE and one STACK\n");
        goto out;
    }
    /* The stack is the project: its name names everything, as docker's namespace does. */
    struct cli_context sctx = *ctx;
    sctx.g.files = files;
    sctx.g.n_files = n_files;
    sctx.g.project_name = argv[optind];
    struct compose_project *p = NULL;
    if ((code = cli_project_load(&sctx, NULL, 0, &p)))
        goto out;
    code = run_op(ctx, p, NULL, &o);
    compose_project_free(p);
out:
    free(files);
    return code;
}

/* config: the files merged and interpolated, as `config` prints them (docker stack config). */
static int config(struct cli_context *ctx, int argc, char **argv)
{
    enum { OPT_SKIP = 256 };
    static const struct option options[] = {
        {"compose-file", required_argument, NULL, 'c'},
        {"skip-interpolation", no_argument, NULL, OPT_SKIP},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char **files = xcalloc((size_t)argc + 1, sizeof(*files));
    int n_files = 0, opt, code = CLI_EXIT_USAGE;
    bool skip = false;
    while ((opt = cli_getopt_as("stack config", argc, argv, "c:h", options, NULL)) != -1) {
        switch (opt) {
        case 'c':
            files[n_files++] = optarg;
            break;
        case OPT_SKIP:
            skip = true;
            break;
        case 'h':
            fputs(usage, stdout);
            code = CLI_EXIT_OK;
            goto out;
        default:
            goto out;
        }
    }
    if (optind != argc || !n_files) {
        fprintf(stderr, "error: stack config needs -c FILE and no other argument\n");
        goto out;
    }
    struct cli_context sctx = *ctx;
    sctx.g.files = files;
    sctx.g.n_files = n_files;
    char *cargv[] = {"config", skip ? "--no-interpolate" : NULL, NULL};
    optind = 0; /* config parses its own flags from the start */
    code = cli_cmd_config.run(&sctx, skip ? 2 : 1, cargv);
out:
    free(files);
    return code;
}

/* ls, services, ps: their options, then the query. */
static int list(struct cli_context *ctx, enum sched_stack_query what, int argc, char **argv)
{
    static const char *const ls_keys[] = {"Name", "Services"};
    static const char *const svc_keys[] = {"ID", "Name", "Mode", "Replicas", "Image", "Ports"};
    static const char *const ps_keys[] = {"ID",           "Name",         "Image", "Node",
                                          "DesiredState", "CurrentState", "Error", "Ports"};
    /* The filters the engine takes for each (a task's labels are its service's). */
    static const char *const svc_filters[] = {"id", "label", "mode", "name", NULL};
    static const char *const ps_filters[] = {"id", "label", "name", "node", "desired-state", NULL};
    enum { OPT_NO_TRUNC = 256, OPT_NO_RESOLVE };
    static const struct option options[] = {
        {"format", required_argument, NULL, 'F'},
        {"quiet", no_argument, NULL, 'q'},
        {"filter", required_argument, NULL, 'f'},
        {"no-trunc", no_argument, NULL, OPT_NO_TRUNC},
        {"no-resolve", no_argument, NULL, OPT_NO_RESOLVE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct listing l = {.filters = json_array()};
    const char *const *allowed = what == SCHED_STACK_PS ? ps_filters : svc_filters;
    l.keys = what == SCHED_STACK_LS ? ls_keys : what == SCHED_STACK_PS ? ps_keys : svc_keys;
    l.n = what == SCHED_STACK_LS ? 2 : what == SCHED_STACK_PS ? 8 : 6;
    int opt, code = CLI_EXIT_USAGE;
    while ((opt = cli_getopt_long(argc, argv, what == SCHED_STACK_LS ? "h" : "qf:h", options,
                              NULL)) != -1) {
        switch (opt) {
        case 'F':
            l.format = optarg;
            break;
        case OPT_NO_TRUNC:
        case OPT_NO_RESOLVE:
            if (what != SCHED_STACK_PS) {
                fprintf(stderr, "error: only stack ps takes --%s\n",
                        opt == OPT_NO_TRUNC ? "no-trunc" : "no-resolve");
                goto out;
            }
            /* Nodes are shown by ID already, which is what --no-resolve asks for. */
            l.no_trunc = l.no_trunc || opt == OPT_NO_TRUNC;
            break;
        case 'q':
        case 'f': {
            if (what == SCHED_STACK_LS) {
                fprintf(stderr, "error: stack ls takes only --format\n");
                goto out;
            }
            if (opt == 'q') {
                l.quiet = true;
                break;
            }
            const char *eq = strchr(optarg, '=');
            char *key = eq ? xstrndup(optarg, (size_t)(eq - optarg)) : NULL;
            bool ok = false;
            for (size_t k = 0; key && allowed[k]; k++)
                ok = ok || !strcmp(key, allowed[k]);
            if (ok) {
                json_array_append_new(l.filters, json_pack("[s, s]", key, eq + 1));
            } else {
                fprintf(stderr, "error: invalid filter '%s': give KEY=VALUE, KEY one of", optarg);
                for (size_t k = 0; allowed[k]; k++)
                    fprintf(stderr, "%s %s", k ? "," : "", allowed[k]);
                fputc('\n', stderr);
            }
            free(key);
            if (!ok)
                goto out;
            break;
        }
        case 'h':
            fputs(usage, stdout);
            code = CLI_EXIT_OK;
            goto out;
        default:
            fputs(usage, stderr);
            goto out;
        }
    }
    if (what == SCHED_STACK_LS ? optind != argc : optind + 1 != argc) {
        fprintf(stderr, what == SCHED_STACK_LS ? "error: stack ls takes no arguments\n"
                                               : "error: stack %s needs one STACK\n",
                argv[0]);
        goto out;
    }
    code = query(ctx, what, what == SCHED_STACK_LS ? NULL : argv[optind], &l);
out:
    json_decref(l.filters);
    return code;
}

static int stack_run(struct cli_context *ctx, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL;
    if (!sub || !strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        fputs(usage, sub ? stdout : stderr);
        return sub ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    }
    if (!strcmp(sub, "deploy") || !strcmp(sub, "up"))
        return deploy(ctx, argc - 1, argv + 1);
    if (!strcmp(sub, "config"))
        return config(ctx, argc - 1, argv + 1);
    bool ls = !strcmp(sub, "ls") || !strcmp(sub, "list");
    bool services = !strcmp(sub, "services"), ps = !strcmp(sub, "ps");
    bool remove = !strcmp(sub, "rm") || !strcmp(sub, "remove") || !strcmp(sub, "down");
    if (!ls && !services && !ps && !remove) {
        static const char *const subs[] = {"config", "deploy", "ls", "services", "ps", "rm"};
        static const char *const flags[] = {"help"};
        bool flag = !strncmp(sub, "--", 2);
        const char *best = flag ? cli_closest(sub + 2, flags, 1)
                                : cli_closest(sub, subs, CC_ARRAY_LEN(subs));
        fprintf(stderr, "error: unknown %s '%s'\n", flag ? "flag" : "stack command", sub);
        if (best)
            fprintf(stderr, "did you mean '%s%s'?\n", flag ? "--" : "", best);
        fprintf(stderr, "See 'ccompose stack --help'.\n");
        return CLI_EXIT_USAGE;
    }
    if (remove) {
        if (argc != 3) {
            fprintf(stderr, "error: stack %s needs one STACK\n", sub);
            return CLI_EXIT_USAGE;
        }
        return rm(ctx, argv[2]);
    }
    return list(ctx, ls ? SCHED_STACK_LS : services ? SCHED_STACK_SERVICES : SCHED_STACK_PS,
                argc - 1, argv + 1);
}

const struct cli_command cli_cmd_stack = {
    .name = "stack",
    .summary = "Deploy compose files to a swarm and manage the stacks there",
    .run = stack_run,
    .no_dry_run = true,
};
