/* Text tables as docker's commands print them through Go's text/tabwriter: each column as wide as
 * its widest cell plus padding (and at least minwidth), the last column unpadded. Widths count
 * characters, not bytes. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/run.h"

void cli_table_init(struct cli_table *t, size_t n_cols)
{
    memset(t, 0, sizeof(*t));
    t->n_cols = n_cols;
}

void cli_table_add(struct cli_table *t, ...)
{
    t->cells = xrealloc(t->cells, (t->n_rows + 1) * t->n_cols * sizeof(*t->cells));
    va_list ap;
    va_start(ap, t);
    for (size_t k = 0; k < t->n_cols; k++) {
        const char *s = va_arg(ap, const char *);
        t->cells[t->n_rows * t->n_cols + k] = xstrdup(s ? s : "");
    }
    va_end(ap);
    t->n_rows++;
}

void cli_table_add_row(struct cli_table *t, const char *const *cells)
{
    t->cells = xrealloc(t->cells, (t->n_rows + 1) * t->n_cols * sizeof(*t->cells));
    for (size_t k = 0; k < t->n_cols; k++)
        t->cells[t->n_rows * t->n_cols + k] = xstrdup(cells[k] ? cells[k] : "");
    t->n_rows++;
}

size_t cli_text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xc0) != 0x80;
    return w;
}

void cli_table_print(const struct cli_table *t, FILE *out, size_t minwidth, size_t padding)
{
    size_t *width = xcalloc(t->n_cols + 1, sizeof(*width));
    for (size_t k = 0; k < t->n_cols; k++) {
        width[k] = minwidth;
        for (size_t r = 0; r < t->n_rows; r++) {
            size_t w = cli_text_width(t->cells[r * t->n_cols + k]) + padding;
            if (w > width[k])
                width[k] = w;
        }
    }
    for (size_t r = 0; r < t->n_rows; r++) {
        for (size_t k = 0; k < t->n_cols; k++) {
            const char *cell = t->cells[r * t->n_cols + k];
            fputs(cell, out);
            if (k + 1 < t->n_cols)
                fprintf(out, "%*s", (int)(width[k] - cli_text_width(cell)), "");
        }
        fputc('\n', out);
    }
    free(width);
}

void cli_table_release(struct cli_table *t)
{
    for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof(*t));
}
