/* Inside compose/: the assembly half of compose_project_load(), split by stage.
 *
 * load.c finds the files, the project directory, the variables and the name; each file then goes
 * through asm_load_file(): parse, interpolate, extends (extends.c), include (include.c), relative
 * paths made absolute (paths.c); the files' trees are merged with the Compose Specification's
 * rules (merge.c) into one mapping for compose_model_build().
 *
 * Every tree and string made here lives in the project's arena and is *borrowed* from it. Nodes
 * are never changed in place: passes return new nodes and share what they leave alone. */
#ifndef CC_COMPOSE_ASSEMBLE_INTERNAL_H
#define CC_COMPOSE_ASSEMBLE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "compose/loader-internal.h"
#include "compose/parse.h"

/* ---- Variables ------------------------------------------------------------------------------ */

/* Ordered NAME=VALUE pairs; strings live in the arena given to asm_vars_set(), the array on the
 * heap (asm_vars_release()). */
struct asm_vars {
    struct asm_var {
        const char *name;
        const char *value;
    } * v;
    size_t n, cap;
};

void asm_vars_release(struct asm_vars *vars);
/* Sets name to value (both copied into a). With overwrite false an existing name is kept. */
void asm_vars_set(struct asm_vars *vars, struct arena *a, const char *name, const char *value,
                  bool overwrite);
/* The value of name, *borrowed*, or NULL when unset. */
const char *asm_vars_get(const struct asm_vars *vars, const char *name);
/* Adds "K=V" strings (environ's form); entries without '=' are skipped. */
void asm_vars_add_environ(struct asm_vars *vars, struct arena *a, const char *const *envp);
/* Reads env files in order into vars: a later file wins over an earlier one, and neither wins
 * over what vars already held (the process environment). Interpolation in the files sees vars,
 * then the values read so far. A missing file is CC_ERR_NOT_FOUND. */
int asm_vars_read_env_files(struct asm_vars *vars, struct arena *a, const char *const *paths,
                            size_t n, struct cc_error *reterr);
/* The compose interpolation grammar as a parse_interpolate_fn, for env files (.env, env_file:). */
int asm_env_interpolate(struct arena *a, const char *text, parse_lookup_cb lookup,
                        void *lookup_data, const char **ret, struct cc_error *reterr);
/* An interp_env looking names up in vars. */
struct interp_env asm_vars_env(const struct asm_vars *vars);

/* ---- One project's scope: the main project or an included one ------------------------------- */

struct asm_state {
    struct arena *a;
    const struct compose_load_options *opts;
    struct interp_warnings *warns;
};

struct asm_scope {
    struct asm_state *st;
    const char *dir;             /* absolute: relative paths in the scope's files resolve here */
    const struct asm_vars *vars; /* interpolation, and HOME for `~` */
    const char *const *includes; /* absolute paths of the files including this scope, outermost
                                    first, for include cycles */
    size_t n_includes;
};

/* Loads one compose file of scope sc (path absolute or as given; "-" reads opts->stdin_text or
 * standard input) and returns in *ret its documents merged in order, interpolated, with extends
 * and include applied and relative paths resolved against sc->dir (all unless the options say
 * not to). display names the file in positions. */
int asm_load_file(struct asm_scope *sc, const char *path, const char *display, bool do_include,
                  struct cnode **ret, struct cc_error *reterr);

/* Reads one file ("-": opts->stdin_text, else standard input) and returns its documents
 * interpolated with sc's variables (unless opts->no_interpolate) and merged in order, without
 * extends, include or path resolution. An empty file is an error. */
int asm_read_file(struct asm_scope *sc, const char *path, const char *display, struct cnode **ret,
                  struct cc_error *reterr);

/* ---- Merging (merge.c) ---------------------------------------------------------------------- */

/* Merges layer over into base (top-level mappings; base may be NULL) with the Compose
 * Specification's rules and compose-go's special cases; !reset removes, !override replaces. */
int asm_merge_root(struct arena *a, const struct cnode *base, const struct cnode *over,
                   struct cnode **ret, struct cc_error *reterr);
/* The same rules for one service (extends: the base service under the extending one). */
int asm_merge_service(struct arena *a, const struct cnode *base, const struct cnode *over,
                      struct cnode **ret, struct cc_error *reterr);
/* A layer used on its own: !reset entries dropped, !override tags removed. */
struct cnode *asm_clean(struct arena *a, struct cnode *n);
/* Drops repeated entries of the sequences compose-go keeps unique (ports, volumes, secrets,
 * environment lists, ...): the first position keeps the last value. */
struct cnode *asm_unique(struct arena *a, struct cnode *root);
/* Structural equality: same kinds, keys, values; positions and styles ignored. */
bool asm_node_equal(const struct cnode *x, const struct cnode *y);

/* Node building, in a. New nodes take their position from `at`. */
struct cnode *asm_scalar_new(struct arena *a, const struct cnode *at, const char *value,
                             enum cnode_style style);
struct cnode *asm_mapping_new(struct arena *a, const struct cnode *at,
                              const struct cnode_pair *pairs, size_t n);
/* A copy of mapping m without key (m itself when it lacks the key). */
struct cnode *asm_mapping_without(struct arena *a, struct cnode *m, const char *key);
/* Copy on write of m's values: asm_pairs_set() puts v as the value of m's pair i in *pairs,
 * copying m's pairs (new, heap) on the first change only; asm_pairs_finish() returns a new
 * mapping with them, or m itself when nothing changed, and frees *pairs. */
void asm_pairs_set(struct cnode_pair **pairs, const struct cnode *m, size_t i, struct cnode *v);
struct cnode *asm_pairs_finish(struct arena *a, struct cnode *m, struct cnode_pair *pairs);
/* Mapping m with key set to value: m itself when it already holds exactly that value, else a
 * copy with the value replaced in place or appended (the key node made at m's position). */
struct cnode *asm_mapping_with(struct arena *a, struct cnode *m, const char *key,
                               struct cnode *value);

/* ---- Stages on one document (extends.c, include.c, paths.c) --------------------------------- */

/* Resolves every services.*.extends of doc (from file `display`). */
int asm_extends(struct asm_scope *sc, const char *display, struct cnode *doc, struct cnode **ret,
                struct cc_error *reterr);
/* Loads doc's `include:` entries (doc comes from the file at absolute path) as projects of their
 * own and adds their resources to doc. */
int asm_include(struct asm_scope *sc, const char *path, struct cnode *doc, struct cnode **ret,
                struct cc_error *reterr);
/* Makes relative paths of doc absolute against dir; `~` expands to home (may be NULL). */
int asm_resolve_paths(struct arena *a, struct cnode *doc, const char *dir, const char *home,
                      struct cnode **ret, struct cc_error *reterr);

/* The same for one service (extends: a service taken from another file). */
struct cnode *asm_resolve_service_paths(struct arena *a, struct cnode *service, const char *dir,
                                        const char *home);

/* Everything before model building: files, project (ctx->project's name, working_dir,
 * config_files, env_files, profiles), variables (*vars, which ctx->env looks up) and the merged
 * tree in *ret_root. ctx->project must be allocated; warnings go to ctx->diag. */
int compose_assemble(struct compose_load_ctx *ctx, struct asm_vars *vars, struct cnode **ret_root,
                     struct cc_error *reterr);

#endif
