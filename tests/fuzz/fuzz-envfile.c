/* libFuzzer target for the env-file parser: any bytes must either parse or fail with a located
 * error, never crash, leak or read past len. Each value found is checked against the list's own
 * invariants (keys unique, non-empty, values non-NULL). */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "compose/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *fuzz_env(const char *name, void *unused)
{
    (void)unused;
    return name[0] && name[0] < 'M' ? "env-value" : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena a = ARENA_INIT;
    struct cc_error err = CC_ERROR_INIT;
    struct parse_env_opts opts = {fuzz_env, NULL, NULL};
    struct parse_env_list list;
    if (parse_env_file(&a, "fuzz.env", (const char *)data, size, &opts, &list, &err) == 0) {
        for (size_t i = 0; i < list.n; i++) {
            assert(list.vars[i].key[0] != '\0');
            assert(list.vars[i].value != NULL);
            for (size_t k = 0; k < i; k++)
                assert(strcmp(list.vars[i].key, list.vars[k].key) != 0);
        }
    } else {
        assert(err.kind == CC_ERR_INVALID_CONFIG && err.message && err.hint);
        assert(err.line >= 1 && err.col >= 1);
    }
    cc_error_release(&err);
    arena_release(&a);
    return 0;
}
