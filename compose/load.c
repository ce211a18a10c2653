/* compose_project_load(): assembly (compose/assemble.c and friends) then model building
 * (compose_model_build()), with every problem collected in the caller's diag. */
#include <stdlib.h>

#include "compose/assemble-internal.h"

int compose_project_load(const struct compose_load_options *opts,
                         struct compose_project **ret_project, struct compose_diag *diag,
                         struct cc_error *reterr)
{
    struct compose_diag local;
    struct compose_project *p = xcalloc(1, sizeof(*p));
    struct asm_vars vars = {0};
    struct cc_error err = CC_ERROR_INIT;
    struct cnode *root;
    int r = -1;

    compose_diag_init(&local);
    if (!diag)
        diag = &local;
    arena_init(&p->arena);
    struct compose_load_ctx ctx = {.project = p, .opts = opts, .diag = diag};
    size_t first_error = diag->n_errors;

    if (compose_assemble(&ctx, &vars, &root, &err) < 0) {
        compose_diag_add_error(diag, &err);
        goto out;
    }
    if (compose_model_build(&ctx, root) < 0)
        goto out;
    *ret_project = p;
    p = NULL;
    r = 0;
out:
    if (r < 0 && reterr) {
        if (diag->n_errors > first_error)
            cc_error_copy(reterr, &diag->errors[first_error]);
        else
            cc_error_set(reterr, CC_ERR_INVALID_CONFIG, "the compose files are not valid");
    }
    cc_error_release(&err);
    asm_vars_release(&vars);
    compose_project_free(p);
    compose_diag_release(&local);
    return r;
}
