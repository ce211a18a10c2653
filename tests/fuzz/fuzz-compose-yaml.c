/* libFuzzer target: bytes -> YAML node tree -> interpolation of every document with a fixed
 * environment. Anything but a clean success or a cc_error is a bug (crash, leak, sanitizer
 * report, or a tree that breaks the loader's limits). */
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/arena.h"
#include "common/error.h"
#include "compose/interpolate.h"
#include "compose/node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool lookup(void *ud, const char *name, const char **ret)
{
    (void)ud;
    static const char *const vars[][2] = {
        {"TAG", "1.27"}, {"EMPTY", ""}, {"PORT", "8080"}, {"NESTED", "${TAG}"}};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        if (strcmp(vars[i][0], name) == 0) {
            *ret = vars[i][1];
            return true;
        }
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct interp_env env = {lookup, NULL};
    struct arena a = ARENA_INIT;
    struct cc_error err = CC_ERROR_INIT;
    struct interp_warnings warns = INTERP_WARNINGS_INIT;
    struct cnode_file *f = NULL;

    if (cnode_load_buffer(&a, "fuzz.yaml", (const char *)data, size, &f, &err) == 0) {
        for (size_t i = 0; i < f->ndocs; i++) {
            struct cnode *out = NULL;
            assert(f->docs[i]->height <= CNODE_MAX_DEPTH);
            assert(f->docs[i]->weight <= CNODE_MAX_NODES);
            if (interp_tree(&a, &env, f->docs[i], &warns, &out, &err) < 0) {
                assert(err.message && err.kind == CC_ERR_INVALID_CONFIG);
                break;
            }
        }
    } else {
        /* Every failure says what and where. */
        assert(err.message && err.file);
    }
    interp_warnings_release(&warns);
    cc_error_release(&err);
    arena_release(&a);
    return 0;
}
