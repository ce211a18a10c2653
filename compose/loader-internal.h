/* Inside compose/: the two halves of compose_project_load().
 *
 * Assembly (compose/load.c and friends) finds the files and the project, reads .env and
 * --env-file, interpolates each file's tree, resolves relative paths (against the project
 * directory, or the directory of an included/extended file), applies extends and include, and
 * merges the files' trees with the Compose Specification's rules (!reset, !override). What it
 * hands on is ONE merged mapping with no `extends`/`include` left and every path absolute (unless
 * opts->no_normalize).
 *
 * Model building (compose/model-*.c) turns that tree into the typed struct compose_project:
 * checks every key and type (unknown keys outside x-, wrong types, out-of-range values),
 * normalises short forms to long ones, applies profiles, validates references (depends_on,
 * links, volumes_from, network_mode service:, networks/volumes/secrets/configs used but not
 * declared, duplicate container_name, scale with container_name, dependency cycles named as
 * `a -> b -> a`), and fills the project. */
#ifndef CC_COMPOSE_LOADER_INTERNAL_H
#define CC_COMPOSE_LOADER_INTERNAL_H

#include "compose/compose.h"
#include "compose/interpolate.h"
#include "compose/node.h"

struct compose_load_ctx {
    /* Set by assembly before model building: arena, name, working_dir, config_files, env_files
     * and profiles (the enabled ones: --profile, else COMPOSE_PROFILES). */
    struct compose_project *project;
    const struct compose_load_options *opts;
    /* The variables: the process environment over the env files. Model building uses it for
     * environment entries given as a bare KEY and for env_file interpolation. */
    struct interp_env env;
    /* Where problems go: model building appends every error it finds (and warnings) and goes on
     * where it can, so the user sees them all at once. */
    struct compose_diag *diag;
};

/* Appends a copy of err to diag's errors / warnings. */
void compose_diag_add_error(struct compose_diag *diag, const struct cc_error *err);
void compose_diag_add_warning(struct compose_diag *diag, const struct cc_error *warning);

/* Model building: root is the merged top-level mapping. Returns 0, or -1 when diag got at least
 * one error. Everything it makes lives in ctx->project->arena. */
int compose_model_build(struct compose_load_ctx *ctx, const struct cnode *root);

#endif
