/* `ccompose top [SERVICE...]`: the processes of the project's running containers, one table as
 * docker compose v2 prints it: SERVICE and # (the container number) first, then the engine's ps
 * columns, CMD last; containers in name order. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/run.h"

static int by_name(const void *a, const void *b)
{
    const struct sched_observed_container *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

/* Index of title in the header (appended when new). */
static size_t column(json_t *header, const char *title)
{
    size_t i;
    json_t *h;
    json_array_foreach(header, i, h) if (!strcmp(json_string_value(h), title)) return i;
    json_array_append_new(header, json_string(title));
    return json_array_size(header) - 1;
}

/* One table for every container: columns as they first appear, CMD moved last. */
static void print_top(json_t *tops, json_t *header)
{
    size_t cmd = SIZE_MAX, n = json_array_size(header);
    for (size_t k = 0; k < n; k++)
        if (!strcmp(json_string_value(json_array_get(header, k)), "CMD"))
            cmd = k;
    size_t *order = xcalloc(n + 1, sizeof(*order));
    size_t at = 0;
    for (size_t k = 0; k < n; k++)
        if (k != cmd)
            order[at++] = k;
    if (cmd != SIZE_MAX)
        order[at++] = cmd;
    struct cli_table t;
    cli_table_init(&t, n);
    const char **cells = xcalloc(n + 1, sizeof(*cells));
    for (size_t k = 0; k < n; k++)
        cells[k] = json_string_value(json_array_get(header, order[k]));
    cli_table_add_row(&t, cells);
    size_t i;
    json_t *top;
    json_array_foreach(tops, i, top)
    {
        json_t *cols = json_object_get(top, "cols");
        size_t p;
        json_t *proc;
        json_array_foreach(json_object_get(top, "Processes"), p, proc)
        {
            for (size_t k = 0; k < n; k++) {
                /* cols maps a header column to the process's field; "-" where it has none. */
                json_t *idx = json_array_get(cols, order[k]);
                const char *v =
                    idx && json_is_integer(idx)
                        ? json_string_value(json_array_get(proc, (size_t)json_integer_value(idx)))
                        : json_string_value(idx);
                cells[k] = v ? v : "-";
            }
            cli_table_add_row(&t, cells);
        }
    }
    if (t.n_rows > 1)
        cli_table_print(&t, stdout, 4, 2);
    cli_table_release(&t);
    free(cells);
    free(order);
}

static void usage(FILE *out)
{
    fprintf(out, "Usage:  ccompose top [SERVICES...]\n\nDisplay the running processes\n");
}

static int top_run(struct cli_context *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char *const running[] = {"running", "paused", NULL};
    int c;
    while ((c = cli_getopt_long(argc, argv, "h", options, NULL)) != -1) {
        usage(c == 'h' ? stdout : stderr);
        return c == 'h' ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    }
    struct cli_view v;
    struct sched_observed_container **cts = NULL;
    json_t *tops = json_array(), *header = json_pack("[s, s]", "SERVICE", "#");
    int code = cli_view_open(ctx, argv + optind, argc - optind, &v);
    if (code)
        goto out;
    size_t n = 0;
    cts = cli_select_containers(&v, v.services, v.n_services, true, true, running, &n);
    qsort(cts, n, sizeof(*cts), by_name);
    for (size_t i = 0; i < n && !code; i++) {
        struct cli_call w = {0};
        code = cli_call_run(
            ctx->loop, engine_container_top(v.c, cts[i]->id, NULL, cli_call_done, &w, &w.err), &w);
        if (!code) {
            /* cols[k]: for header column k, the index of the field in each process row, or the
             * text itself for SERVICE and #. */
            char number[16];
            snprintf(number, sizeof(number), "%d", cts[i]->number);
            json_t *cols = json_array();
            json_array_append_new(cols, json_string(cts[i]->service ? cts[i]->service : ""));
            json_array_append_new(cols, json_string(number));
            size_t k;
            json_t *title;
            json_array_foreach(json_object_get(w.result, "Titles"), k, title)
            {
                size_t col = column(header, json_string_value(title));
                while (json_array_size(cols) <= col)
                    json_array_append_new(cols, json_null());
                json_array_set_new(cols, col, json_integer((json_int_t)k));
            }
            json_array_append_new(tops, json_pack("{s:o, s:O?}", "cols", cols, "Processes",
                                                  json_object_get(w.result, "Processes")));
        }
        cli_call_release(&w);
    }
    if (!code)
        print_top(tops, header);
out:
    json_decref(tops);
    json_decref(header);
    free(cts);
    cli_view_release(ctx, &v);
    return code;
}

const struct cli_command cli_cmd_top = {
    .name = "top",
    .summary = "Display the running processes",
    .run = top_run,
};
