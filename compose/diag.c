/* struct compose_diag: the errors and warnings of one load, in the order they were found. */
#include <stdlib.h>

#include "compose/loader-internal.h"

void compose_diag_init(struct compose_diag *d)
{
    d->errors = NULL;
    d->n_errors = 0;
    d->warnings = NULL;
    d->n_warnings = 0;
}

static void release_all(struct cc_error *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cc_error_release(&v[i]);
    free(v);
}

void compose_diag_release(struct compose_diag *d)
{
    if (!d)
        return;
    release_all(d->errors, d->n_errors);
    release_all(d->warnings, d->n_warnings);
    compose_diag_init(d);
}

/* Lists grow one at a time: a load reports a handful of problems, not thousands. */
static void append(struct cc_error **v, size_t *n, const struct cc_error *e)
{
    *v = xrealloc(*v, (*n + 1) * sizeof(**v));
    cc_error_init(&(*v)[*n]);
    cc_error_copy(&(*v)[*n], e);
    (*n)++;
}

void compose_diag_add_error(struct compose_diag *diag, const struct cc_error *err)
{
    if (diag)
        append(&diag->errors, &diag->n_errors, err);
}

void compose_diag_add_warning(struct compose_diag *diag, const struct cc_error *warning)
{
    if (diag)
        append(&diag->warnings, &diag->n_warnings, warning);
}
