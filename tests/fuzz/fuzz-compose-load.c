/* libFuzzer target: bytes -> compose_project_load() (the whole loader: parse, interpolate, merge,
 * model) -> compose_project_dump(). A load either succeeds or fails with at least one positioned
 * error; a loaded project, printed and loaded again, prints the same (the output of `config`
 * means what the input meant). Anything else (crash, leak, sanitizer report) is a bug. */
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "compose/compose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const env[] = {"TAG=1.27", "EMPTY=", "PORT=8080", "HOME=/home/fuzz", NULL};
static const char *const files[] = {"-"};

static int load(const char *text, struct compose_project **ret, struct compose_diag *diag)
{
    struct compose_load_options o = {
        .files = files,
        .n_files = 1,
        .working_dir = "/nonexistent-fuzz",
        .project_name = "fuzz",
        .environ = env,
        .stdin_text = text,
    };
    struct cc_error err = CC_ERROR_INIT;
    int r = compose_project_load(&o, ret, diag, &err);
    if (r < 0)
        assert(err.message && err.kind != CC_ERR_NONE);
    cc_error_release(&err);
    return r;
}

static char *dump(const struct compose_project *p)
{
    char *text = NULL;
    struct cc_error err = CC_ERROR_INIT;
    if (compose_project_dump(p, COMPOSE_DUMP_YAML, 0, &text, &err) < 0)
        abort();
    cc_error_release(&err);
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = xstrndup((const char *)data, size);
    struct compose_project *p = NULL, *again = NULL;
    struct compose_diag diag, diag2;
    compose_diag_init(&diag);
    compose_diag_init(&diag2);
    if (load(text, &p, &diag) == 0) {
        char *first = dump(p);
        if (load(first, &again, &diag2) != 0) {
            for (size_t i = 0; i < diag2.n_errors; i++)
                fprintf(stderr, "reload: %d:%d: %s\n", diag2.errors[i].line, diag2.errors[i].col,
                        diag2.errors[i].message);
            fprintf(stderr, "%s", first);
            abort();
        }
        char *second = dump(again);
        if (strcmp(first, second) != 0) {
            fprintf(stderr, "first:\n%s\nsecond:\n%s", first, second);
            abort();
        }
        free(first);
        free(second);
    }
    compose_project_free(p);
    compose_project_free(again);
    compose_diag_release(&diag);
    compose_diag_release(&diag2);
    free(text);
    return 0;
}
