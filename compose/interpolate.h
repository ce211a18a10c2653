/* Variable interpolation in compose values (internal to compose/), with compose-go's rules:
 *
 *   $VAR ${VAR}           the value; unset gives "" and a warning
 *   ${VAR:-def} ${VAR-def} def when VAR is unset or empty / unset
 *   ${VAR:+alt} ${VAR+alt} alt when VAR is set and non-empty / set, else ""
 *   ${VAR:?msg} ${VAR?msg} fail with msg when VAR is unset or empty / unset
 *   $$                     a literal $
 *
 * def, alt and msg may themselves hold interpolations (`${A:-${B:-c}}`). A `$` that starts none of
 * these (`$1`, `a $ b`, a final `$`) is kept as it is; a `${` that is not a valid form (`${`,
 * `${}`, `${ A}`, `${A:}`, `${A!}`) is an error. Unlike compose-go, a default or alternative that
 * is not used is checked for syntax but not evaluated: it warns about nothing and fails on no
 * `?`, as a shell does. */
#ifndef CC_COMPOSE_INTERPOLATE_H
#define CC_COMPOSE_INTERPOLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/arena.h"
#include "common/error.h"
#include "compose/node.h"

/* Deepest nesting of `${` inside defaults, alternatives and messages. Real files nest two or
 * three; the bound keeps the recursive evaluation's stack use small on hostile input. */
#define INTERP_MAX_DEPTH 16

/* Looks a variable up: returns true and sets *ret_value (borrowed, valid until the next call)
 * when it is set, even to "". Called synchronously, any number of times. */
typedef bool (*interp_lookup_cb)(void *data, const char *name, const char **ret_value);

struct interp_env {
    interp_lookup_cb lookup;
    void *data;
};

/* A variable used without a default while unset. Strings are *borrowed* from the arena given to
 * the interpolation; the cli prints them as compose does ("The \"X\" variable is not set..."). */
struct interp_warning {
    const char *name;
    const char *file; /* NULL when interpolating a bare string without a position */
    int line, col;
    const char *key_path; /* or NULL */
};

/* Caller-owned list, in the order the variables appear: interp_warnings_release() frees it. */
struct interp_warnings {
    struct interp_warning *items;
    size_t len, cap;
};

#define INTERP_WARNINGS_INIT                                                                       \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void interp_warnings_release(struct interp_warnings *w);

/* Where a string comes from, for messages. With `exact` (a plain scalar on one line) the
 * position of each `$` is col plus the characters before it; otherwise it is line:col. */
struct interp_where {
    const char *file;
    int line, col;
    bool exact;
    const char *key_path; /* or NULL */
};

/* Interpolates s[0..len). On success *ret (NUL-terminated, allocated in a) and *ret_len are set
 * and warnings for unset variables are appended to warns (may be NULL). On failure returns -1
 * with reterr (CC_ERR_INVALID_CONFIG) at the offending `$`: a `?` form's message, an invalid
 * format, or nesting beyond INTERP_MAX_DEPTH. where may be NULL. */
int interp_string(struct arena *a, const struct interp_env *env, const char *s, size_t len,
                  const struct interp_where *where, struct interp_warnings *warns, const char **ret,
                  size_t *ret_len, struct cc_error *reterr);

/* Returns in *ret a tree like root where every scalar value (not mapping keys, as compose-go)
 * is interpolated, with positions, tags and styles kept and `interpolated` set on changed
 * scalars. Unchanged subtrees are shared with root, which is not modified; new nodes live in a.
 * Errors as interp_string(), with the key path of the scalar. */
int interp_tree(struct arena *a, const struct interp_env *env, struct cnode *root,
                struct interp_warnings *warns, struct cnode **ret, struct cc_error *reterr);

#endif
